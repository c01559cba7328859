"""Write frames and the original audio to an MP4 (H.264 yuv420p + AAC) with PyAV.

The file is written to a temporary name next to the target and renamed at the end
(:mod:`spa2v.io.atomic`), so a failure never leaves a partial MP4 behind.

Example
-------
>>> import numpy as np
>>> frames = (np.zeros((320, 512, 3), np.uint8) for _ in range(24))
>>> write_mp4(frames, 24, "blank.mp4")  # doctest: +SKIP
PosixPath('blank.mp4')
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from spa2v.errors import OutputError
from spa2v.io import DEFAULT_MAX_DURATION_S
from spa2v.io.atomic import atomic_path
from spa2v.io.audio import read_audio

#: x264 settings: "veryfast" keeps encoding well above 100 frames/s at 512x320 on one
#: core; CRF 23 is x264's default quality.
X264_OPTIONS = {"preset": "veryfast", "crf": "23"}
AAC_BIT_RATE = 160_000
#: FFmpeg's AAC encoder as it comes (the "twoloop" coder, intensity stereo on): its
#: quicker "fast" coder moved the heard direction of the sound track too much, and
#: turning intensity stereo off changed nothing that mattered (docs/rendering.md).
AAC_OPTIONS: dict[str, str] = {}
_AUDIO_CHUNK = 4096  # samples per AudioFrame handed to the encoder
_RESAMPLE_CHUNK = 1 << 16  # samples per AudioFrame handed to the resampler
#: Sample rates the AAC encoder takes (MPEG-4 sampling frequency index).
AAC_RATES_HZ = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)


def read_audio_for_mux(
    audio_path: str | os.PathLike[str], max_duration_s: float | None = DEFAULT_MAX_DURATION_S
) -> tuple[np.ndarray, int]:
    """Decode a recording with the loader every command uses (same rules, same errors)
    and prepare it for the AAC encoder (:func:`mux_audio`)."""
    samples, sr, _ = read_audio(audio_path, max_duration_s)
    return mux_audio(samples, sr)


def mux_audio(samples: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
    """Float32 ``(1 or 2, n)`` samples at a rate AAC encodes, from loaded samples.

    Non-finite samples become 0 and the rest is clipped to [-1, 1], as the AAC encoder
    needs. Four channels (first-order ambisonics, AmbiX W, Y, Z, X) are decoded to stereo
    for listening: two virtual cardioids pointing left and right, ``L = (W + Y) / 2``,
    ``R = (W - Y) / 2``. A rate AAC cannot encode (e.g. 192 kHz, 37.8 kHz) is resampled
    to the nearest one above it (48 kHz at most) by FFmpeg's resampler.
    """
    samples = np.clip(np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
    if samples.shape[0] > 2:
        w, y = samples[0], samples[1]
        samples = np.stack([(w + y) / 2, (w - y) / 2])
    samples = samples.astype(np.float32, copy=False)
    if sr in AAC_RATES_HZ:
        return samples, sr
    rate = min([r for r in AAC_RATES_HZ if sr <= r <= 48_000], default=48_000)
    return _resample(samples, sr, rate), rate


def _resample(samples: np.ndarray, sr: int, rate: int) -> np.ndarray:
    """``samples`` at ``rate`` through libswresample (any ratio, band-limited)."""
    layout = "mono" if samples.shape[0] == 1 else "stereo"
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
    chunks = []
    for start in range(0, samples.shape[1], _RESAMPLE_CHUNK):
        chunk = np.ascontiguousarray(samples[:, start : start + _RESAMPLE_CHUNK])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        frame.sample_rate = sr
        chunks += [out.to_ndarray() for out in resampler.resample(frame)]
    chunks += [out.to_ndarray() for out in resampler.resample(None)]
    if not chunks:  # too few samples for the resampler to give any back
        return np.zeros((samples.shape[0], 0), np.float32)
    return np.concatenate(chunks, axis=1).astype(np.float32, copy=False)


def write_mp4(
    frames: Iterable[np.ndarray],
    fps: float,
    out_path: str | os.PathLike[str],
    audio_path: str | os.PathLike[str] | None = None,
    n_frames: int | None = None,
    threads: int = 1,
    on_frame: object | None = None,
    audio: tuple[np.ndarray, int] | None = None,
) -> Path:
    """Encode RGB frames (and optionally an audio file) into an MP4, atomically.

    Parameters
    ----------
    frames : iterable of np.ndarray
        ``(height, width, 3)`` uint8 RGB frames, all the same size (even width/height).
    fps : float
        Frame rate of the video.
    out_path : path
        Target ``.mp4``; missing folders are made (and removed again on failure).
    audio_path : path, optional
        Audio to mux, re-encoded as AAC at its own rate. The video is not cut to it:
        pass as many frames as cover the audio (``n_video_frames``).
    n_frames : int, optional
        Stop after this many frames (the iterable may be longer or endless).
    threads : int
        Encoder threads; 0 lets x264 choose. One by default: x264's frame threads cost
        more than they gain at these sizes (on 2 cores, 10 s at 512x320 took 0.61 s of
        wall time with one thread against 0.91 s with x264's choice; at 1024x640 the
        same wall time for 15 % less CPU), and a batch runs one encoder per CPU anyway.
    on_frame : callable, optional
        Called with no argument after each frame is encoded (progress bars).
    audio : (np.ndarray, int), optional
        Audio already decoded, as :func:`mux_audio` returns it (instead of ``audio_path``).

    Returns
    -------
    Path
        ``out_path``.
    """
    out_path = Path(out_path)
    if audio is None and audio_path is not None:
        audio = read_audio_for_mux(audio_path)
    iterator = iter(frames)
    first = next(iterator, None)
    if first is None or n_frames == 0:
        raise OutputError(f"no frames to write to {out_path}")
    rate = Fraction(fps).limit_denominator(1001)
    with atomic_path(out_path) as tmp:
        try:
            container = av.open(str(tmp), mode="w", format="mp4")
        except av.error.FFmpegError as exc:
            raise OutputError(f"cannot write {out_path}: {exc}") from None
        with container:
            # Every stream must exist before the first packet is muxed (header).
            video = _add_video_stream(container, rate, first.shape, threads)
            audio_writer = _AudioWriter(container, *audio) if audio is not None else None
            if audio_writer is not None:
                audio_writer.start()
            try:
                for count, frame in enumerate(itertools.chain([first], iterator), start=1):
                    image = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                    container.mux(video.encode(image))
                    if audio_writer is not None:
                        audio_writer.mux_ready()
                    if callable(on_frame):
                        on_frame()
                    if n_frames is not None and count >= n_frames:
                        break
                container.mux(video.encode(None))
                if audio_writer is not None:
                    audio_writer.finish()
            finally:
                if audio_writer is not None:
                    audio_writer.stop()
    return out_path


def _add_video_stream(
    container: av.container.OutputContainer,
    rate: Fraction,
    shape: tuple[int, ...],
    threads: int,
) -> av.video.stream.VideoStream:
    height, width = int(shape[0]), int(shape[1])
    if len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"frames must be (height, width, 3) RGB, got shape {shape}")
    if width % 2 or height % 2:
        raise OutputError(f"video size must be even for H.264 yuv420p, got {width}x{height}")
    stream = container.add_stream("libx264", rate=rate, options=dict(X264_OPTIONS))
    stream.width, stream.height = width, height
    stream.pix_fmt = "yuv420p"
    if threads:
        stream.codec_context.thread_count = threads
        stream.codec_context.options = {**X264_OPTIONS, "threads": str(threads)}
    return stream


class _AudioWriter:
    """Encodes ``(channels, n)`` float32 samples as AAC in a thread of its own while the
    caller encodes the video; the caller muxes the packets (:meth:`mux_ready`,
    :meth:`finish`), so the container is only ever touched from its thread.

    PyAV lets go of the GIL while FFmpeg encodes, so FFmpeg's AAC encoder, about a
    third of the cost of the 512x320 video, runs on another core when there is one (a
    10 s MP4 took 0.84 s of wall time instead of 1.15 s on 2 cores, for the same CPU
    time). The packets are the same as when encoded in turn with the video, and the
    muxer interleaves them by time either way.
    """

    def __init__(self, container: av.container.OutputContainer, samples: np.ndarray, sr: int):
        self.layout = "mono" if samples.shape[0] == 1 else "stereo"
        self.container = container
        self.stream = container.add_stream("aac", rate=sr)
        self.stream.layout = self.layout
        self.stream.bit_rate = AAC_BIT_RATE
        self.stream.codec_context.options = dict(AAC_OPTIONS)
        self.samples = np.clip(samples, -1.0, 1.0)
        self.sr = sr
        self._packets: queue.SimpleQueue[list[av.Packet] | BaseException] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._encode, name="spa2v-aac", daemon=True)

    def start(self) -> None:
        """Write the container's header (which opens every stream's codec), then start
        encoding: the two threads never open a codec at the same time. Call once every
        stream is added."""
        self.container.start_encoding()
        self._thread.start()

    def _encode(self) -> None:
        try:
            for done in range(0, self.samples.shape[1], _AUDIO_CHUNK):
                if self._stop.is_set():
                    return
                chunk = np.ascontiguousarray(self.samples[:, done : done + _AUDIO_CHUNK])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=self.layout)
                frame.sample_rate = self.sr
                frame.pts = done
                self._packets.put(self.stream.encode(frame))
            self._packets.put(self.stream.encode(None))
        except BaseException as exc:  # handed to the caller's thread, raised there
            self._packets.put(exc)

    def mux_ready(self) -> None:
        """Mux the packets encoded so far."""
        while True:
            try:
                item = self._packets.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, BaseException):
                raise item
            self.container.mux(item)

    def finish(self) -> None:
        """Wait for the last packets and mux them."""
        self._thread.join()
        self.mux_ready()

    def stop(self) -> None:
        """Stop encoding (after a failure) and wait, before the container is closed."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
