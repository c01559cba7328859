"""Read a video's picture with PyAV: its size, rate and frames as RGB arrays.

Every problem a user's file can have (missing, empty, not a video, no picture stream,
corrupt from the start) raises :class:`~spa2v.errors.VideoInputError` with a one-line
message naming the file. A file that decodes for a while and then breaks yields the
frames before the damage and notes it in :attr:`VideoReader.warnings`.

Example
-------
>>> reader = open_video("street.mp4")  # doctest: +SKIP
>>> reader.width, reader.height, reader.fps, reader.has_audio  # doctest: +SKIP
(512, 320, 24.0, True)
>>> frames = list(reader.frames())  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from spa2v.errors import VideoInputError

#: Frames smaller than this (either side, pixels) carry no usable picture.
MIN_SIDE_PX = 16


@dataclass
class VideoReader:
    """One video file's picture stream: properties read from the header, frames on demand.

    ``duration_s`` and ``n_frames`` are the header's figures (estimates for some
    containers); :meth:`frames` yields what is really there.
    """

    path: Path
    width: int
    height: int
    fps: float
    duration_s: float
    has_audio: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        """Frames the header promises (at least 1)."""
        return max(1, round(self.duration_s * self.fps))

    def frames(self) -> Iterator[np.ndarray]:
        """Decode the picture as ``(height, width, 3)`` uint8 RGB frames, in order.

        A frame whose size differs from the first one's (a stream that changes size)
        is scaled to it, so every frame has the same shape.
        """
        count = 0
        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                for frame in container.decode(stream):
                    if (frame.width, frame.height) != (self.width, self.height):
                        frame = frame.reformat(width=self.width, height=self.height)
                    count += 1
                    yield frame.to_ndarray(format="rgb24")
        except (av.error.FFmpegError, ValueError) as exc:
            if count == 0:
                raise VideoInputError(f"cannot decode {self.path}: {_reason(exc)}") from None
            self.warnings.append(
                f"{self.path} is damaged after frame {count} ({_reason(exc)}): "
                "only the frames before it are evaluated"
            )
        if count == 0:
            raise VideoInputError(f"{self.path} contains no video frames")


def open_video(path: str | os.PathLike[str]) -> VideoReader:
    """Open a video file and read its header.

    Raises
    ------
    VideoInputError
        When the file is missing, empty, not a video, has no picture stream, or has
        frames smaller than :data:`MIN_SIDE_PX`.
    """
    path = Path(path)
    if not path.exists():
        raise VideoInputError(f"{path} does not exist: check the path")
    if path.is_dir():
        raise VideoInputError(f"{path} is a folder, not a video file")
    if path.stat().st_size == 0:
        raise VideoInputError(f"{path} is empty (0 bytes): render or export it again")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoInputError(f"{path} has no picture (no video stream)")
            stream = container.streams.video[0]
            width, height = int(stream.codec_context.width), int(stream.codec_context.height)
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fps = float(rate) if rate else 0.0
            duration_s = _duration_s(container, stream)
            has_audio = bool(container.streams.audio)
    except (av.error.FFmpegError, ValueError) as exc:
        raise VideoInputError(f"{path} is not a readable video: {_reason(exc)}") from None
    if min(width, height) < MIN_SIDE_PX:
        raise VideoInputError(
            f"{path} has {width}x{height} frames; at least {MIN_SIDE_PX} px a side is needed"
        )
    if not np.isfinite(fps) or fps <= 0 or fps > 1000:
        raise VideoInputError(f"{path} has no usable frame rate ({fps:g} frames/s)")
    return VideoReader(
        path=path, width=width, height=height, fps=fps, duration_s=duration_s, has_audio=has_audio
    )


def _duration_s(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / av.time_base
    return 0.0


def _reason(exc: Exception) -> str:
    """FFmpeg's own words, without the file name it repeats."""
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(": '")[0].strip() or type(exc).__name__
