"""Lossy codec round trips: what an upload pipeline does to a recording.

A clip is encoded and decoded in memory, resampled back to its rate and re-aligned
with the original (the encoders' priming delay removed), so the ground truth's times
still hold. MP3 and AAC go through PyAV: the FFmpeg bundled with its wheel has
``libmp3lame`` (MP3, joint stereo) and FFmpeg's own ``aac`` encoder (AAC-LC, mid/side
stereo), but no ``libfdk_aac`` and no ``libvorbis``; its own ``vorbis`` encoder is
experimental, has no bit-rate control and does not go below ~130 kb/s on a noisy
clip. Vorbis therefore goes through soundfile (libsndfile with the reference
``libvorbis``, whose low-bit-rate modes couple the channels as real files do); its only
control is a quality level, so the level that gives the asked bit rate is found by
bisection on one second from the middle of the clip.

MP3 carries at most two channels, so :data:`CODECS` are applied to stereo clips only.

>>> import numpy as np
>>> x = np.random.default_rng(0).standard_normal((2, 48000)).astype(np.float32) * 0.1
>>> y, info = round_trip(x, 48000, "aac", 128)
>>> y.shape, info["codec"], 100 < info["bitrate_kbps"] < 160
((2, 48000), 'aac', True)
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

__all__ = ["CODECS", "round_trip"]

#: codec name -> (encoder, container); Vorbis is encoded by libsndfile, not FFmpeg
CODECS: dict[str, tuple[str, str]] = {
    "mp3": ("libmp3lame", "mp3"),
    "aac": ("aac", "adts"),
    "vorbis": ("libvorbis (libsndfile)", "ogg"),
}
_MAX_ALIGN_S = 0.1


def _encode(x: np.ndarray, sr: int, codec: str, bitrate_kbps: float) -> bytes:
    import av

    encoder, container = CODECS[codec]
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(encoder, rate=sr)
        assert isinstance(stream, av.AudioStream)  # an audio encoder gives an audio stream
        stream.codec_context.layout = "stereo"
        stream.bit_rate = int(bitrate_kbps * 1000)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(x, dtype=np.float32), format="fltp", layout="stereo"
        )
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def _decode(data: bytes) -> tuple[np.ndarray, int]:
    import av

    chunks, rate = [], 0
    with av.open(io.BytesIO(data), "r") as inp:
        for frame in inp.decode(audio=0):
            rate = frame.sample_rate
            chunks.append(frame.to_ndarray().astype(np.float32).reshape(2, -1))
    return np.concatenate(chunks, axis=1), rate


def _vorbis(x: np.ndarray, sr: int, level: float) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, x.T, sr, format="OGG", subtype="VORBIS", compression_level=float(level))
    return buf.getvalue()


def _vorbis_level(x: np.ndarray, sr: int, bitrate_kbps: float) -> float:
    """libsndfile's Vorbis compression level (0 = best quality, 1 = smallest) whose
    bit rate on a second from the middle of ``x`` is closest to ``bitrate_kbps``."""
    mid = x.shape[1] // 2
    probe = x[:, max(0, mid - sr // 2) : mid + sr // 2]
    seconds = probe.shape[1] / sr
    lo, hi = 0.0, 1.0
    for _ in range(6):
        level = 0.5 * (lo + hi)
        kbps = len(_vorbis(probe, sr, level)) * 8 / 1000 / seconds
        lo, hi = (lo, level) if kbps < bitrate_kbps else (level, hi)
    return 0.5 * (lo + hi)


def _align(y: np.ndarray, x: np.ndarray, sr: int) -> np.ndarray:
    """``y`` shifted so that it lines up with ``x`` (the codec's priming delay removed),
    cut or zero-padded to ``x``'s length."""
    n = x.shape[1]
    ref, got = x.mean(axis=0), y.mean(axis=0)
    max_lag = int(_MAX_ALIGN_S * sr)
    m = 1 << int(np.ceil(np.log2(n + got.size)))
    cc = np.fft.irfft(np.fft.rfft(got, m) * np.conj(np.fft.rfft(ref, m)), m)
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]
    lag = int(lags[np.argmax(cc[lags])])
    out = np.zeros_like(x)
    src = y[:, max(lag, 0) :]
    dst0 = max(-lag, 0)
    k = min(n - dst0, src.shape[1])
    out[:, dst0 : dst0 + k] = src[:, :k]
    return out


def round_trip(
    samples: np.ndarray, sr: int, codec: str, bitrate_kbps: float
) -> tuple[np.ndarray, dict[str, Any]]:
    """Encode the stereo ``samples`` ``(2, n)`` with ``codec`` (:data:`CODECS`) at about
    ``bitrate_kbps`` and decode them again; returns the decoded ``(2, n)`` float32 at
    ``sr``, aligned with the input, and ``{"codec", "bitrate_kbps"}`` (the bit rate
    reached)."""
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; use one of {tuple(CODECS)}")
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] != 2:
        raise ValueError("codec round trips take stereo (2, n) samples")
    if codec == "vorbis":
        import soundfile as sf

        data = _vorbis(x, sr, _vorbis_level(x, sr, bitrate_kbps))
        y, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
        y = y.T
    else:
        data = _encode(x, sr, codec, bitrate_kbps)
        y, rate = _decode(data)
    if rate != sr:
        from spa2v.sim._util import resample

        y = resample(y, rate, sr, axis=-1).astype(np.float32)
    reached = len(data) * 8 / 1000 / (x.shape[1] / sr)
    return _align(y, x, sr), {"codec": codec, "bitrate_kbps": round(reached, 1)}
