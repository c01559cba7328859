"""Load any recording (audio file or the sound track of a video) into a :class:`Signal`.

libsndfile (through ``soundfile``) reads the uncompressed and FLAC containers; PyAV
(FFmpeg) reads everything else: Ogg Vorbis/Opus, MP3, AAC/M4A and the audio track of
video files (mp4, mov, mkv, webm). The native sample rate is kept: every later stage
works in seconds, and resampling would blur inter-channel time differences.

Problems with the file itself (missing, empty, not audio, too long, unsupported channel
count or rate) raise :class:`~spa2v.errors.AudioInputError` with a one-line message
that names the file. Problems that still leave usable audio (silence, clipping, a few
NaN samples, a truncated file) are repaired where possible and reported in
:attr:`Signal.warnings`.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

from spa2v.errors import AudioInputError
from spa2v.io import (
    DEFAULT_MAX_DURATION_S,
    MAX_DURATION_FLAG,
    MEMORY_REFERENCE,
    MEMORY_REFERENCE_SAMPLES_PER_S,
)
from spa2v.io.signal import STEREO_LAYOUTS, ChannelLayout, Signal

if TYPE_CHECKING:  # PyAV is imported when a file needs FFmpeg (soundfile reads WAV/FLAC)
    import av

#: Lowest and highest sample rate accepted, in Hz.
MIN_SR_HZ = 8_000
MAX_SR_HZ = 192_000

#: A file whose peak is below this level is treated as silent.
SILENCE_PEAK_DBFS = -80.0
#: More than this fraction of non-finite samples is an error; fewer are set to 0.
MAX_NON_FINITE_FRACTION = 0.5
#: Warn about clipping when at least this fraction of samples sit on a flat top.
CLIPPED_WARN_FRACTION = 1e-4

#: Leading bytes of the containers that libsndfile reads well (WAV/RF64/BW64, Wave64,
#: FLAC, AIFF, CAF, AU); everything else goes through FFmpeg. Sniffed here rather than
#: asking libsndfile, because libsndfile's MP3 reader prints mpg123 warnings on stderr
#: and reports 0 frames for a truncated Ogg file.
_SOUNDFILE_MAGIC = (b"RIFF", b"RIFX", b"RF64", b"BW64", b"riff", b"fLaC", b"FORM", b"caff", b".snd")
#: A WAV data size at least this large is a streaming writer's placeholder.
_STREAMING_DATA_SIZE = 0x7FFF0000
_READABLE = "wav, flac, ogg/opus, mp3, m4a/aac, or a video with sound (mp4, mov, mkv, webm)"
_LAYOUTS_BY_CHANNELS: dict[int, tuple[ChannelLayout, ...]] = {
    1: ("mono",),
    2: ("stereo", *STEREO_LAYOUTS),
    4: ("foa",),
}


def load_audio(
    path: str | os.PathLike[str],
    layout: ChannelLayout | str | None = None,
    max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
) -> Signal:
    """Read an audio or video file into a float32 :class:`Signal` at its native rate.

    Parameters
    ----------
    path : str or PathLike
        wav, flac, ogg/oga/opus, mp3, m4a/aac, or a video (mp4, mov, mkv, webm) whose
        first audio track is used.
    layout : ChannelLayout or None
        What the channels mean. ``None`` (or ``"auto"``) decides from the channel count:
        1 -> ``"mono"``, 4 -> ``"foa"`` (AmbiX W, Y, Z, X), 2 -> ``"stereo"``, whose kind
        (``"spaced"``, ``"panned"`` or ``"binaural"``) hearing detects from the signal.
        A given layout must fit the channel count.
    max_duration_s : float or None
        Refuse longer inputs (checked from the header before decoding, and again while
        decoding, so memory stays bounded). ``None`` disables the limit.

    Returns
    -------
    Signal
        ``samples`` of shape ``(n_channels, n_samples)``; ``warnings`` lists what was
        repaired or looks wrong (silence, clipping, NaN samples, truncation).

    Raises
    ------
    AudioInputError
        When the file is missing, empty, not audio, unreadable, too long, or has an
        unsupported channel count or sample rate.

    Example
    -------
    >>> sig = load_audio("street.wav")  # doctest: +SKIP
    >>> sig.layout, sig.sr, sig.duration_s  # doctest: +SKIP
    ('spaced', 48000, 4.0)
    """
    given = _check_layout_name(layout)
    samples, sr, warnings = read_audio(path, max_duration_s)
    chosen, note = _choose_layout(samples, sr, given, str(path))
    if note:
        warnings.append(note)
    return Signal(samples=samples, sr=sr, layout=chosen, source=str(path), warnings=warnings)


def with_layout(signal: Signal, layout: ChannelLayout | str | None) -> Signal:
    """``signal`` with the channel layout ``layout`` (``None`` or ``"auto"``: as it is),
    checked as :func:`load_audio` checks a given layout (AudioInputError if it does not
    fit the channel count).

    >>> sig = Signal(np.zeros((2, 160), np.float32), 16000, "stereo")
    >>> with_layout(sig, "binaural").layout
    'binaural'
    """
    given = _check_layout_name(layout)
    if given is None:
        return signal
    chosen, _ = _choose_layout(signal.samples, signal.sr, given, signal.source)
    return replace(signal, layout=chosen)


def read_audio(
    path: str | os.PathLike[str], max_duration_s: float | None = DEFAULT_MAX_DURATION_S
) -> tuple[np.ndarray, int, list[str]]:
    """Decode, check and repair a recording: the input rules every command shares.

    :func:`load_audio` adds the channel layout; the video writer muxes the result. One
    decoder for both, so ``render`` refuses exactly what ``run`` refuses.

    Returns
    -------
    samples, sr, warnings : np.ndarray, int, list of str
        float32 ``(n_channels, n_samples)`` at the native rate, and what was repaired
        or looks wrong.

    Raises
    ------
    AudioInputError
        As :func:`load_audio`.
    """
    path = Path(path)
    name = str(path)
    _check_path(path)

    decoded = _decode_soundfile(path, max_duration_s)
    if decoded is None:  # not a libsndfile container, or libsndfile gave up part-way
        decoded = _decode_av(path, max_duration_s)
    samples, sr, warnings = decoded

    samples, n_bad = repair_non_finite(samples)
    if n_bad:
        if n_bad > MAX_NON_FINITE_FRACTION * samples.size:
            raise AudioInputError(
                f"{name}: {n_bad / samples.size:.0%} of the samples are NaN or infinite; "
                "the file is corrupt, export it again"
            )
        warnings.append(f"{name}: {n_bad} NaN/infinite samples were set to 0")

    peak_db = peak_dbfs(samples)
    if peak_db < SILENCE_PEAK_DBFS:
        warnings.append(f"{name} is silent (peak {peak_db:.0f} dBFS): no sources can be heard")
    clipped = clipped_fraction(samples)
    if clipped >= CLIPPED_WARN_FRACTION:
        warnings.append(
            f"{name} is clipped ({clipped:.2%} of samples at full scale): "
            "loudness and direction cues may be off"
        )
    return samples, sr, warnings


# --- small pure helpers -------------------------------------------------------------


def repair_non_finite(samples: np.ndarray) -> tuple[np.ndarray, int]:
    """Set NaN and +-inf samples to 0; return the repaired array and how many there were.

    >>> repair_non_finite(np.array([[0.5, np.nan, np.inf]], dtype=np.float32))
    (array([[0.5, 0. , 0. ]], dtype=float32), 2)
    """
    bad = ~np.isfinite(samples)
    n_bad = int(bad.sum())
    if n_bad:
        samples = np.where(bad, np.float32(0.0), samples)
    return samples, n_bad


def peak_dbfs(samples: np.ndarray) -> float:
    """Peak absolute level in dB relative to full scale (1.0); ``-inf`` for all zeros.

    >>> round(peak_dbfs(np.array([[0.5, -0.25]])), 2)
    -6.02
    """
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return float(20.0 * np.log10(peak)) if peak > 0 else float("-inf")


def clipped_fraction(samples: np.ndarray, full_scale: float = 0.999) -> float:
    """Fraction of samples on a flat top at full scale: the signature of clipping.

    A sample counts when it is at least ``full_scale`` in magnitude and equals the two
    samples before it; a loud but clean waveform does not repeat values at its peaks.

    >>> x = np.clip(1.5 * np.sin(np.linspace(0, 20, 1000)), -1, 1)[None, :]
    >>> 0.2 < clipped_fraction(x) < 0.6
    True
    """
    x = np.atleast_2d(samples)
    n_flat = 0
    for channel in x:  # only the few full-scale samples are compared, to spare memory
        idx = np.flatnonzero(np.abs(channel) >= full_scale)
        idx = idx[idx >= 2]
        flat = (channel[idx] == channel[idx - 1]) & (channel[idx] == channel[idx - 2])
        n_flat += int(np.count_nonzero(flat))
    return n_flat / x.size if x.size else 0.0


# --- checks ---------------------------------------------------------------------------


def _check_layout_name(layout: str | None) -> ChannelLayout | None:
    if layout is None or layout == "auto":
        return None
    known = ("mono", *STEREO_LAYOUTS, "foa")
    if layout not in known:
        raise AudioInputError(f"unknown layout {layout!r}: use auto, {', '.join(known)}")
    return layout


def _check_path(path: Path) -> None:
    if not path.exists():
        raise AudioInputError(f"{path} does not exist: check the path")
    if path.is_dir():
        raise AudioInputError(f"{path} is a folder, not an audio file: give a file inside it")
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as exc:
        raise AudioInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if size == 0:
        raise AudioInputError(f"{path} is empty (0 bytes): record or export it again")


def _check_header(
    name: str, sr: int, n_channels: int, duration_s: float | None, max_duration_s: float | None
) -> None:
    """Refuse what cannot be used before any sample is decoded."""
    if n_channels not in _LAYOUTS_BY_CHANNELS:
        raise AudioInputError(
            f"{name} has {n_channels} channels; spa2v reads 1 (mono), 2 (stereo) "
            "or 4 (first-order ambisonics, AmbiX): export one of those"
        )
    if not MIN_SR_HZ <= sr <= MAX_SR_HZ:
        raise AudioInputError(
            f"{name} has a sample rate of {sr} Hz; spa2v reads {MIN_SR_HZ}-{MAX_SR_HZ} Hz: "
            "resample it (e.g. ffmpeg -i IN -ar 48000 OUT.wav)"
        )
    limit = _max_frames(sr, n_channels, max_duration_s)
    if duration_s is not None and limit is not None and duration_s * sr > limit:
        raise _too_long(name, duration_s, max_duration_s or 0.0, sr, n_channels)


def _too_long(
    name: str, duration_s: float | None, max_duration_s: float, sr: int, n_channels: int
) -> AudioInputError:
    """The error for an input over the limit (``duration_s`` None: unknown)."""
    allowed_s = (_max_frames(sr, n_channels, max_duration_s) or 0) / sr
    length = "longer" if duration_s is None else f"{duration_s:.0f} s long"
    if allowed_s >= max_duration_s:
        over = " than" if duration_s is None else ", over"
        what = f"{name} is {length}{over} the {max_duration_s:g} s limit"
        fix = "cut it"
    else:  # more samples per second than 48 kHz stereo: the memory bound is reached sooner
        what = (
            f"{name} is {length} at {sr} Hz, {n_channels} channels; the {max_duration_s:g} s "
            f"limit counts seconds of {MEMORY_REFERENCE}, so it allows {allowed_s:.3g} s here"
        )
        fix = "cut it or resample it (e.g. ffmpeg -i IN -ar 48000 OUT.wav)"
    return AudioInputError(
        f"{what}: {fix}, or raise the limit with {MAX_DURATION_FLAG} SECONDS (0 = no limit)"
    )


def _max_frames(sr: int, n_channels: int, max_duration_s: float | None) -> int | None:
    """Frames allowed: ``max_duration_s`` at ``sr``, and no more samples than that many
    seconds of 48 kHz stereo hold, so that memory is bounded whatever the rate and
    channel count (``None``: no limit)."""
    if max_duration_s is None:
        return None
    by_samples = max_duration_s * MEMORY_REFERENCE_SAMPLES_PER_S / max(1, n_channels)
    return int(np.ceil(min(max_duration_s * sr, by_samples)))


def _choose_layout(
    samples: np.ndarray, sr: int, layout: ChannelLayout | None, name: str
) -> tuple[ChannelLayout, str | None]:
    """The layout to use and an optional note for the warnings list."""
    n_channels = samples.shape[0]
    allowed = _LAYOUTS_BY_CHANNELS[n_channels]
    if layout is not None:
        if layout not in allowed:
            raise AudioInputError(
                f"{name} has {n_channels} channel{'s' if n_channels > 1 else ''} but layout "
                f"{layout!r} needs {_channels_for(layout)}: use "
                f"{' or '.join(a for a in allowed if a != 'stereo')} or auto"
            )
        return layout, None
    return allowed[0], None  # two channels: "stereo", their kind is hearing's to tell


def _channels_for(layout: ChannelLayout) -> str:
    return {"mono": "1", "foa": "4"}.get(layout, "2")


# --- decoders -------------------------------------------------------------------------


def _decode_soundfile(
    path: Path, max_duration_s: float | None
) -> tuple[np.ndarray, int, list[str]] | None:
    """Decode with libsndfile; ``None`` hands the file over to FFmpeg."""
    name = str(path)
    with path.open("rb") as f:
        if not f.read(4).startswith(_SOUNDFILE_MAGIC):
            return None  # FFmpeg probes it next
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError):
        return None  # e.g. a damaged header: FFmpeg may still read it
    duration_s = info.frames / info.samplerate if info.frames > 0 else None
    _check_header(name, int(info.samplerate), int(info.channels), duration_s, max_duration_s)
    limit = _max_frames(int(info.samplerate), int(info.channels), max_duration_s)
    try:
        with sf.SoundFile(str(path)) as f:
            data = f.read(
                frames=-1 if limit is None else limit + 1, dtype="float32", always_2d=True
            )
    except (sf.LibsndfileError, RuntimeError):
        return None  # e.g. a truncated FLAC: FFmpeg salvages what it can
    if limit is not None and data.shape[0] > limit:
        raise _too_long(name, None, max_duration_s or 0.0, int(info.samplerate), data.shape[1])
    if data.shape[0] == 0:
        raise AudioInputError(f"{name} contains no audio samples: record or export it again")
    warnings = []
    declared_s = _wav_declared_duration_s(info.extra_info, data.shape[0] / info.samplerate)
    if declared_s is not None:
        warnings.append(
            f"{name} is truncated: its header declares {declared_s:.2f} s, "
            f"only {data.shape[0] / info.samplerate:.2f} s are there (using those)"
        )
    return np.ascontiguousarray(data.T), int(info.samplerate), warnings


def _wav_declared_duration_s(extra_info: str, actual_s: float) -> float | None:
    """The duration a truncated RIFF header declares, or ``None`` if it is not truncated.

    libsndfile silently shortens a truncated WAV to the bytes present; its header log
    keeps the declared size as ``data : DECLARED (should be ACTUAL)``. Streaming writers
    (espeak-ng, ffmpeg to a pipe) cannot know the size and leave a placeholder of about
    2 or 4 GiB (0x7FFFF000, 0xFFFFFFFF): that is not truncation.
    """
    match = re.search(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", extra_info, re.MULTILINE)
    if match is None:
        return None
    declared, actual = int(match.group(1)), int(match.group(2))
    if declared <= actual or declared >= _STREAMING_DATA_SIZE or actual <= 0:
        return None
    return actual_s * declared / actual


def _decode_av(path: Path, max_duration_s: float | None) -> tuple[np.ndarray, int, list[str]]:
    """Decode the first audio stream with FFmpeg into planar float32 at the native rate."""
    import av

    name = str(path)
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        if isinstance(exc, EOFError) or _looks_like_media(path):
            raise AudioInputError(
                f"{name} is truncated or corrupt ({reason}): record or export it again"
            ) from None
        raise AudioInputError(
            f"{name} is not an audio or video file spa2v can read ({reason}); give {_READABLE}"
        ) from None
    with container:
        if not container.streams.audio:
            kind = "a video without sound" if container.streams.video else "no audio stream"
            raise AudioInputError(f"{name} has no audio track ({kind}): give {_READABLE}")
        stream = container.streams.audio[0]
        if stream.codec_context is None:  # a header naming no codec FFmpeg has
            raise AudioInputError(
                f"{name} is truncated or corrupt: its audio codec is unknown; "
                "record or export it again"
            )
        sr = int(stream.codec_context.sample_rate or 0)
        n_channels = int(stream.codec_context.channels or 0)
        declared_s = _av_duration_s(stream, container)
        if sr > 0 and n_channels > 0:
            _check_header(name, sr, n_channels, declared_s, max_duration_s)
        chunks, error = _decode_stream(container, stream, name, max_duration_s)

    if not chunks:
        reason = f" ({error})" if error else ""
        raise AudioInputError(
            f"{name} is truncated or corrupt: no audio could be decoded{reason}; "
            "record or export it again"
        )
    samples = np.concatenate(chunks, axis=1)
    sr = sr or int(getattr(stream.codec_context, "sample_rate", 0))
    warnings = []
    decoded_s = samples.shape[1] / sr
    if error is not None or (declared_s is not None and decoded_s < 0.9 * declared_s):
        of_what = f" of the {declared_s:.2f} s declared" if declared_s else ""
        warnings.append(
            f"{name} is truncated or damaged: decoded {decoded_s:.2f} s{of_what} (using those)"
        )
    return samples, sr, warnings


def _decode_stream(
    container: av.container.InputContainer,
    stream: av.AudioStream,
    name: str,
    max_duration_s: float | None,
) -> tuple[list[np.ndarray], str | None]:
    """Decoded (channels, n) float32 chunks, and the decoder error that stopped it early."""
    import av

    resampler = av.AudioResampler(format="fltp")  # keeps rate and layout, converts format
    chunks: list[np.ndarray] = []
    n_frames, limit = 0, None
    try:
        for frame in container.decode(stream):
            if limit is None:  # the first frame tells the true rate and channel count
                sr_frame, n_channels = frame.sample_rate, frame.layout.nb_channels
                _check_header(name, sr_frame, n_channels, None, None)
                limit = _max_frames(sr_frame, n_channels, max_duration_s) or -1
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
                n_frames += out.samples
            if 0 <= limit < n_frames:  # a header can lie or be missing: stop, bounded
                raise _too_long(name, None, max_duration_s or 0.0, sr_frame, n_channels)
        for out in resampler.resample(None):  # flush
            chunks.append(out.to_ndarray())
    except (av.FFmpegError, ValueError) as exc:
        return chunks, getattr(exc, "strerror", None) or str(exc)
    return chunks, None


def _looks_like_media(path: Path) -> bool:
    """Whether the first bytes are those of a media container FFmpeg knows.

    Tells "a damaged recording" from "not a recording at all" (e.g. a text file renamed
    .wav) when FFmpeg refuses a file.
    """
    with path.open("rb") as f:
        head = f.read(12)
    return (
        head.startswith((b"OggS", b"fLaC", b"ID3", b"\x1aE\xdf\xa3", *_SOUNDFILE_MAGIC))
        or head[4:8] == b"ftyp"  # ISO media: mp4, m4a, mov
        or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)  # MPEG/ADTS sync
    )


def _av_duration_s(stream: av.AudioStream, container: av.container.InputContainer) -> float | None:
    """Duration from the stream or container header, ``None`` when neither says."""
    import av

    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None
