"""Shared test helpers: make test signals and write them as audio/video files.

Fixtures return plain functions so that a test reads as ``path = write_audio(...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

#: FFmpeg channel layout names for the channel counts the tests write.
_AV_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1"}


def make_tone(
    sr: int,
    duration_s: float,
    gains: tuple[float, ...] = (0.5, 0.25),
    freq_hz: float = 440.0,
) -> np.ndarray:
    """A sine of ``freq_hz`` with one gain per channel, shape ``(len(gains), n)`` float32.

    Distinct gains make channel order checkable after a round trip through a file.
    """
    t_s = np.arange(round(sr * duration_s)) / sr
    tone = np.sin(2.0 * np.pi * freq_hz * t_s)
    return np.stack([g * tone for g in gains]).astype(np.float32)


def encode_with_av(
    path: Path,
    samples: np.ndarray | None,
    sr: int,
    codec: str | None,
    container_format: str | None = None,
    video_codec: str | None = None,
    duration_s: float = 1.0,
) -> Path:
    """Write ``samples`` (C, N) with PyAV using ``codec``; optionally add a video track.

    ``samples=None`` writes a video without sound (``duration_s`` long).
    """
    with av.open(str(path), "w", format=container_format) as out:
        # Every stream must exist before the first packet is muxed (the header is written then).
        audio = video = None
        if samples is not None:
            layout = _AV_LAYOUTS[samples.shape[0]]
            audio = out.add_stream(codec, rate=sr, layout=layout)
            duration_s = samples.shape[1] / sr
        if video_codec is not None:
            video = out.add_stream(video_codec, rate=10)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        if video is not None:
            for i in range(max(1, round(10 * duration_s))):
                image = np.full((48, 64, 3), (25 * i) % 256, np.uint8)
                out.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            out.mux(video.encode(None))
        if audio is not None and samples is not None:
            hop = 4096
            for start in range(0, samples.shape[1], hop):
                chunk = np.ascontiguousarray(samples[:, start : start + hop], dtype=np.float32)
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
                frame.sample_rate, frame.pts, frame.time_base = sr, start, Fraction(1, sr)
                out.mux(audio.encode(frame))  # PyAV re-frames to the codec's frame size
            out.mux(audio.encode(None))
    return path


@pytest.fixture
def tone() -> Callable[..., np.ndarray]:
    """``tone(sr, duration_s, gains=(0.5, 0.25), freq_hz=440.0)``: see ``make_tone``."""
    return make_tone


@pytest.fixture
def write_audio(tmp_path: Path) -> Callable[..., Path]:
    """``write_audio(name, samples (C, N), sr, **soundfile_kwargs) -> path`` in tmp_path."""

    def write(name: str, samples: np.ndarray, sr: int, **kwargs: object) -> Path:
        path = tmp_path / name
        sf.write(str(path), np.asarray(samples).T, sr, **kwargs)
        return path

    return write


@pytest.fixture
def write_av(tmp_path: Path) -> Callable[..., Path]:
    """``write_av(name, samples, sr, codec, **kwargs) -> path``: see ``encode_with_av``."""

    def write(name: str, samples: np.ndarray | None, sr: int, codec: str | None, **kwargs) -> Path:
        return encode_with_av(tmp_path / name, samples, sr, codec, **kwargs)

    return write
