"""The animatic generator: a VSL drawn as sprites over a simple background.

It is the embedded default of stage 2 (``docs/design.md``): a preview a person can
judge in seconds. Each frame is the background (drawn once) with every object of the
layout pasted as a sprite at its interpolated box, nearer objects (lower box bottom,
then bigger) in front. Compositing is Pillow's ``paste`` with the sprite's alpha as
mask (C code, handles clipping at the frame edges); sprites are resized per frame from
a cached glyph.

Example
-------
>>> from spa2v.planning.vsl import parse_vsl
>>> vsl = parse_vsl({"schema": "spa2v.vsl/1", "duration": 1.0, "fps": 1.0,
...     "objects": [{"id": 0, "name": "car", "motion": "right-to-left"}],
...     "frames": [{"t": 0.0, "boxes": [{"id": 0, "box": [0.6, 0.5, 0.9, 0.6]}]},
...                {"t": 1.0, "boxes": [{"id": 0, "box": [0.1, 0.5, 0.4, 0.6]}]}]})
>>> renderer = AnimaticRenderer(vsl, size=(256, 160))
>>> renderer.render_frame(0.5).shape
(160, 256, 3)
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from spa2v.nouns import noun_info
from spa2v.planning.vsl import VSL
from spa2v.rendering import DEFAULT_FPS, DEFAULT_SIZE
from spa2v.rendering.background import render_background
from spa2v.rendering.sprites import SpriteInfo, label_font, sprite_for

#: How far a glyph may be stretched along one axis to fill its box. A car box from the
#: camera model is 3:1 (4.5 m x 1.5 m) while the car emoji is 1.6:1; a pure aspect-kept
#: fit would leave half the box empty, a full stretch would look like a limousine.
MAX_STRETCH = 1.6

_OVERLAY_COLOURS = ((255, 64, 64), (64, 160, 255), (255, 200, 0), (0, 200, 120), (200, 90, 255))


def n_video_frames(duration_s: float, fps: float) -> int:
    """Number of video frames that cover ``duration_s`` at ``fps`` (at least 1).

    >>> n_video_frames(4.0, 24)
    96
    """
    return max(1, round(duration_s * fps))


@dataclass
class _ObjectStyle:
    sprite: Image.Image  # RGBA, cropped, already mirrored to face its motion
    aspect: float  # natural width / height in pixels, to extend boxes clipped at an edge
    label: str


class AnimaticRenderer:
    """Draw the frames of a VSL.

    Parameters
    ----------
    vsl : VSL
        The layout to draw.
    size : (int, int)
        Output width and height in pixels (boxes are normalized, so any size works).
    overlay : bool
        Draw each box outline with its object's name and id.
    subtitles : bool
        Draw the current keyframe's caption at the bottom.
    """

    def __init__(
        self,
        vsl: VSL,
        size: tuple[int, int] = DEFAULT_SIZE,
        overlay: bool = False,
        subtitles: bool = False,
    ) -> None:
        self.vsl = vsl
        self.width, self.height = int(size[0]), int(size[1])
        self.overlay = overlay
        self.subtitles = subtitles
        nouns = [obj.name for obj in vsl.objects]
        self.background = render_background(self.width, self.height, vsl.background, nouns)
        self._background_image = Image.fromarray(self.background)
        self._styles = {obj.id: self._style(obj.id) for obj in vsl.objects}
        self._resized: dict[tuple[int, int, int], Image.Image] = {}
        self._text_tags: dict[tuple, Image.Image] = {}
        self._caption_times = [f.t for f in vsl.frames]
        self._font = label_font(max(10, self.height // 24))

    # -- per object, once -------------------------------------------------------------

    def _style(self, object_id: int) -> _ObjectStyle:
        obj = self.vsl.object(object_id)
        sprite, info = sprite_for(obj.name)
        if _faces_wrong_way(info, self._direction(object_id, obj.motion)):
            sprite = sprite.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return _ObjectStyle(
            sprite=sprite, aspect=self._natural_aspect(object_id, obj.name), label=obj.name
        )

    def _direction(self, object_id: int, motion: str) -> int:
        """-1 when the object goes left, +1 right, 0 when it has no lateral motion."""
        if motion == "left-to-right":
            return 1
        if motion == "right-to-left":
            return -1
        _, boxes = self.vsl.keyframe_track(object_id)
        if len(boxes) < 2:
            return 0
        shift_x = 0.5 * ((boxes[-1, 0] + boxes[-1, 2]) - (boxes[0, 0] + boxes[0, 2]))
        return 0 if abs(shift_x) < 0.1 else int(np.sign(shift_x))

    def _natural_aspect(self, object_id: int, noun: str) -> float:
        """Width/height in pixels of the object's box where no frame edge clips it;
        the class table's physical aspect when every box touches an edge."""
        _, boxes = self.vsl.keyframe_track(object_id)
        inside = (boxes[:, 0] > 0.001) & (boxes[:, 2] < 0.999) & (boxes[:, 3] < 0.999)
        if inside.any():
            b = boxes[inside]
            aspects = (b[:, 2] - b[:, 0]) * self.width / ((b[:, 3] - b[:, 1]) * self.height)
            return float(np.median(aspects))
        info = noun_info(noun)
        return info.width_m / info.height_m  # square pixels: metres keep their ratio

    def sprite(self, object_id: int) -> Image.Image:
        """The RGBA sprite drawn for ``object_id`` (cropped, facing its motion)."""
        return self._styles[object_id].sprite

    # -- per frame --------------------------------------------------------------------

    def render_frame(self, t: float) -> np.ndarray:
        """The frame at time ``t`` (seconds) as an ``(height, width, 3)`` uint8 array."""
        frame = self._background_image.copy()
        boxes = self.vsl.boxes_at(t)
        for object_id in _back_to_front(boxes):
            self._paste(frame, object_id, boxes[object_id])
        if self.overlay:
            self._draw_overlay(frame, boxes)
        if self.subtitles:
            self._draw_subtitle(frame, self._caption_at(t))
        return np.asarray(frame)

    def frames(self, fps: float = DEFAULT_FPS, n_frames: int | None = None) -> Iterator[np.ndarray]:
        """Frames at ``fps``; frame ``i`` shows time ``i / fps``. ``n_frames`` defaults
        to enough frames to cover the layout's duration."""
        count = n_video_frames(self.vsl.duration, fps) if n_frames is None else n_frames
        for i in range(count):
            yield self.render_frame(i / fps)

    def overlay_footprint(self, t: float, overlay: bool, subtitles: bool) -> np.ndarray:
        """The pixels that the labelled boxes (``overlay``) and the subtitle cover at
        ``t``, as an ``(height, width)`` bool array: what a video evaluation must not
        take for a sprite."""
        drawn = []
        for shade in (0, 255):  # black ink on black, or white on white, would not show
            frame = Image.new("RGB", (self.width, self.height), (shade, shade, shade))
            if overlay:
                self._draw_overlay(frame, self.vsl.boxes_at(t))
            if subtitles:
                self._draw_subtitle(frame, self._caption_at(t))
            drawn.append(np.asarray(frame) != shade)
        return np.asarray(drawn[0].any(axis=2) | drawn[1].any(axis=2))

    def _pixel_box(self, object_id: int, box: tuple[float, ...]) -> tuple[float, ...]:
        """The box in pixels, extended beyond a frame edge that clips it to the object's
        natural width, so that the sprite slides out of view instead of being squeezed
        into the visible part."""
        x0, y0 = box[0] * self.width, box[1] * self.height
        x1, y1 = box[2] * self.width, box[3] * self.height
        w, h = x1 - x0, y1 - y0
        natural_w = self._styles[object_id].aspect * h
        if natural_w > w * 1.02:
            if box[0] <= 0.001 and box[2] < 0.999:
                x0 = x1 - natural_w  # clipped on the left: extend to the left
            elif box[2] >= 0.999 and box[0] > 0.001:
                x1 = x0 + natural_w
        elif box[3] >= 0.999 and natural_w < w / 1.02:
            y1 = y0 + w / self._styles[object_id].aspect  # clipped at the bottom
        return x0, y0, x1, y1

    def sprite_rect(
        self, object_id: int, box: tuple[float, ...]
    ) -> tuple[int, int, int, int] | None:
        """Where the sprite of ``object_id`` is drawn for the normalized ``box``: ``(left,
        top, width, height)`` in pixels (may reach past the frame edges), or None when
        the box is under a pixel."""
        x0, y0, x1, y1 = self._pixel_box(object_id, box)
        box_w, box_h = x1 - x0, y1 - y0
        if box_w < 1 or box_h < 1:
            return None
        sprite = self._styles[object_id].sprite
        sprite_aspect = sprite.width / sprite.height
        box_aspect = box_w / box_h
        # Stretch towards the box's aspect by at most MAX_STRETCH, then fit inside it.
        drawn_aspect = min(
            max(box_aspect, sprite_aspect / MAX_STRETCH), sprite_aspect * MAX_STRETCH
        )
        draw_w = min(box_w, box_h * drawn_aspect)
        draw_h = draw_w / drawn_aspect
        width, height = max(1, round(draw_w)), max(1, round(draw_h))
        # Standing on the box's bottom edge (the ground contact), centred horizontally
        # on the (extended) box: where the object is, and where its sound comes from.
        # A sprite narrower than a box that runs off the frame (an orchestra's emoji)
        # drawn against the box's visible edge instead sat up to 25 deg from its sound.
        # It still covers as much of the box's visible part as it can (never drawn out
        # of view while the layout shows part of the object).
        seen_x0, seen_x1 = box[0] * self.width, box[2] * self.width
        overlap = min(width, seen_x1 - seen_x0)
        left = round(
            np.clip(x0 + (box_w - width) / 2, seen_x0 - width + overlap, seen_x1 - overlap)
        )
        top = round(y1 - height)
        return left, top, width, height

    def drawn_boxes(self, t: float) -> dict[int, tuple[float, float, float, float]]:
        """The normalized boxes of the sprites as :meth:`render_frame` draws them at
        ``t``, clipped to the frame (objects drawn entirely outside are left out): what
        a video evaluation sees of a faithful animatic."""
        out: dict[int, tuple[float, float, float, float]] = {}
        for object_id, box in self.vsl.boxes_at(t).items():
            rect = self.sprite_rect(object_id, box)
            if rect is None:
                continue
            left, top, width, height = rect
            x0, y0 = max(0, left), max(0, top)
            x1, y1 = min(self.width, left + width), min(self.height, top + height)
            if x1 > x0 and y1 > y0:
                out[object_id] = (
                    x0 / self.width,
                    y0 / self.height,
                    x1 / self.width,
                    y1 / self.height,
                )
        return out

    def _paste(self, frame: Image.Image, object_id: int, box: tuple[float, ...]) -> None:
        rect = self.sprite_rect(object_id, box)
        if rect is None:
            return
        left, top, width, height = rect
        key = (object_id, width, height)
        resized = self._resized.get(key)
        if resized is None:
            resized = self._styles[object_id].sprite.resize(
                (width, height), Image.Resampling.BILINEAR
            )
            if len(self._resized) > 512:  # moving objects change size every frame
                self._resized.clear()
            self._resized[key] = resized
        frame.paste(resized, (left, top), resized)

    def _text_tag(
        self, text: str, fill: tuple[int, int, int], ink: tuple[int, int, int]
    ) -> Image.Image:
        """``text`` on a filled rectangle, drawn once per string and colour: FreeType
        text rendering would otherwise cost more than all the sprites of a frame."""
        key = (text, fill, ink)
        tag = self._text_tags.get(key)
        if tag is None:
            # The font's full line height, so that tags do not jump with descenders.
            ascent, descent = self._font.getmetrics()
            left, _, right, _ = (round(v) for v in self._font.getbbox(text))
            pad = 3
            tag = Image.new("RGB", (right - left + 2 * pad, ascent + descent + 2 * pad), fill)
            ImageDraw.Draw(tag).text((pad - left, pad), text, font=self._font, fill=ink)
            self._text_tags[key] = tag
        return tag

    def _draw_overlay(self, frame: Image.Image, boxes: dict[int, tuple]) -> None:
        draw = ImageDraw.Draw(frame)
        for object_id, box in boxes.items():
            colour = _OVERLAY_COLOURS[object_id % len(_OVERLAY_COLOURS)]
            x0, y0 = box[0] * (self.width - 1), box[1] * (self.height - 1)
            x1, y1 = box[2] * (self.width - 1), box[3] * (self.height - 1)
            draw.rectangle((x0, y0, x1, y1), outline=colour, width=2)
            tag = self._text_tag(f"{self._styles[object_id].label} #{object_id}", colour, (0, 0, 0))
            # Above the box (so it hides nothing of a small sprite), else inside its top.
            top = y0 - tag.height if y0 >= tag.height else y0 + 2
            frame.paste(tag, (round(max(0.0, x0)), round(top)))

    def _caption_at(self, t: float) -> str:
        """Caption of the latest keyframe at or before ``t`` (the layout's caption if
        that keyframe has none)."""
        i = max(0, bisect.bisect_right(self._caption_times, t) - 1)
        return self.vsl.frames[i].caption or self.vsl.caption

    def _draw_subtitle(self, frame: Image.Image, text: str) -> None:
        if not text:
            return
        tag = self._text_tag(text, (0, 0, 0), (255, 255, 255))
        left = (self.width - tag.width) // 2
        frame.paste(tag, (left, self.height - self.height // 20 - tag.height))


def _faces_wrong_way(info: SpriteInfo, direction: int) -> bool:
    """Mirror a glyph that has a side when it moves the other way than it faces."""
    if not info.has_side or direction == 0:
        return False
    return (direction > 0) == info.faces_left


def _back_to_front(boxes: dict[int, tuple]) -> list[int]:
    """Object ids in drawing order: farther first. Lower box bottom = nearer (objects
    stand on the ground below the horizon); ties go to the bigger box."""

    def nearness(object_id: int) -> tuple[float, float]:
        x0, y0, x1, y1 = boxes[object_id]
        return (y1, (x1 - x0) * (y1 - y0))

    return sorted(boxes, key=nearness)
