"""A contact sheet (storyboard) PNG: a few evenly spaced frames with their timestamps.

Two ways to get the frames: :class:`PanelFrames` keeps them while a video is written
(the animatic: no second pass over the video), and :func:`write_storyboard_from_video`
decodes any MP4 (the diffusion generator's) with PyAV.

Example
-------
>>> write_storyboard_from_video("street.mp4", "street.storyboard.png")  # doctest: +SKIP
PosixPath('street.storyboard.png')
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw

from spa2v.errors import OutputError
from spa2v.io.atomic import atomic_path
from spa2v.rendering.sprites import label_font

DEFAULT_PANELS = 6
_GAP_PX = 6
_TITLE_BG = (24, 24, 24)


def panel_times(duration_s: float, n_panels: int = DEFAULT_PANELS) -> list[float]:
    """Evenly spaced times from the start towards the end of the clip; the last panel
    stops a fifth of a step short of the end so that it shows a real frame.

    >>> panel_times(6.0, 3)
    [0.0, 2.727, 5.455]
    """
    if n_panels == 1:
        return [0.0]
    step = duration_s / (n_panels - 1 + 0.2)
    return [round(i * step, 3) for i in range(n_panels)]


def panel_frame_indices(n_frames: int, fps: float, n_panels: int = DEFAULT_PANELS) -> list[int]:
    """Which frames of a video of ``n_frames`` at ``fps`` the panels show: the frame on
    screen at each of :func:`panel_times` (the last one starting at or before it).

    >>> panel_frame_indices(240, 24.0)
    [0, 46, 92, 138, 184, 230]
    """
    times = panel_times(n_frames / fps, n_panels)
    return [min(n_frames - 1, math.floor(t * fps + 1e-6)) for t in times]


class PanelFrames:
    """Keeps the storyboard's frames of a video while the video is written.

    Decoding the finished 10 s animatic again only to pick six frames cost about a
    fifth of a second per clip; the frames kept are the rendered ones, before the
    video's lossy compression.

    >>> panels = PanelFrames(n_frames=48, fps=24.0, n_panels=2)
    >>> frames = (np.full((4, 4, 3), i, np.uint8) for i in range(48))
    >>> sum(1 for _ in panels.keep(frames)), [int(f[0, 0, 0]) for f in panels.frames]
    (48, [0, 40])
    """

    def __init__(self, n_frames: int, fps: float, n_panels: int = DEFAULT_PANELS) -> None:
        self.times_s = panel_times(n_frames / fps, n_panels)
        self._indices = panel_frame_indices(n_frames, fps, n_panels)
        self._kept: dict[int, np.ndarray] = {}

    def keep(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Pass ``frames`` through, keeping a copy of each panel's frame."""
        wanted = set(self._indices)
        for index, frame in enumerate(frames):
            if index in wanted:
                self._kept[index] = np.array(frame, copy=True)
            yield frame

    @property
    def frames(self) -> list[np.ndarray]:
        """The panels' frames seen so far, in panel order."""
        return [self._kept[i] for i in self._indices if i in self._kept]

    def write(self, out_path: str | os.PathLike[str], columns: int = 3, title: str = "") -> Path:
        """Write the storyboard PNG of the frames kept (atomically)."""
        frames = self.frames
        if len(frames) < len(self._indices):
            raise OutputError(f"cannot make the storyboard {out_path}: the video ended early")
        sheet = make_contact_sheet(frames, self.times_s, columns=columns, title=title)
        return write_png(sheet, out_path)


def make_contact_sheet(
    frames: Sequence[np.ndarray],
    times_s: Sequence[float],
    columns: int = 3,
    title: str = "",
) -> Image.Image:
    """Tile frames into one image, each labelled with its timestamp, under a title."""
    if not frames:
        raise ValueError("no frames for the storyboard")
    height, width = frames[0].shape[:2]
    rows = math.ceil(len(frames) / columns)
    font = label_font(max(12, height // 16))
    title_h = (font.size + 2 * _GAP_PX) if title else 0
    sheet = Image.new(
        "RGB",
        (columns * width + (columns + 1) * _GAP_PX, title_h + rows * height + (rows + 1) * _GAP_PX),
        _TITLE_BG,
    )
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((_GAP_PX, _GAP_PX), title, font=font, fill=(240, 240, 240))
    for i, (frame, t) in enumerate(zip(frames, times_s, strict=True)):
        row, col = divmod(i, columns)
        x = _GAP_PX + col * (width + _GAP_PX)
        y = title_h + _GAP_PX + row * (height + _GAP_PX)
        sheet.paste(Image.fromarray(frame), (x, y))
        label = f"t = {t:.1f} s"
        box = draw.textbbox((x + 6, y + 6), label, font=font)
        draw.rectangle((box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3), fill=(0, 0, 0))
        draw.text((x + 6, y + 6), label, font=font, fill=(255, 255, 255))
    return sheet


def decode_frames_at(
    video_path: str | os.PathLike[str], times_s: Sequence[float]
) -> list[np.ndarray]:
    """The decoded RGB frames shown at ``times_s`` (the last frame starting at or before
    each time). Decodes the video once from the start: a short clip, simpler than seeking."""
    wanted = sorted(times_s)
    found: list[np.ndarray] = []
    last: np.ndarray | None = None
    with av.open(str(video_path)) as container:
        for frame in container.decode(video=0):
            t = float(frame.time or 0.0)
            while wanted and t > wanted[0] + 1e-6 and last is not None:
                found.append(last)
                wanted.pop(0)
            if not wanted:
                break
            last = frame.to_ndarray(format="rgb24")
    while wanted and last is not None:  # times at or past the last frame
        found.append(last)
        wanted.pop(0)
    return found


def write_storyboard_from_video(
    video_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    n_panels: int = DEFAULT_PANELS,
    columns: int = 3,
    title: str = "",
) -> Path:
    """Write a PNG contact sheet of ``n_panels`` evenly spaced frames of a video."""
    with av.open(str(video_path)) as container:
        stream = container.streams.video[0]
        duration_s = (
            float(stream.duration * stream.time_base)
            if stream.duration and stream.time_base
            else 0.0
        )
    times = panel_times(duration_s, n_panels)
    frames = decode_frames_at(video_path, times)
    if not frames:
        raise OutputError(f"cannot make a storyboard: {video_path} has no video frames")
    sheet = make_contact_sheet(frames, times[: len(frames)], columns=columns, title=title)
    return write_png(sheet, out_path)


def write_png(image: Image.Image, out_path: str | os.PathLike[str]) -> Path:
    """Save a Pillow image as PNG, atomically.

    zlib's default level: Pillow's ``optimize`` made a storyboard 2 % smaller for three
    times the time (0.09 against 0.03 s).
    """
    with atomic_path(out_path) as tmp:
        image.save(tmp, format="PNG")
    return Path(out_path)
