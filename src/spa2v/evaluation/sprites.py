"""The detector-free path for spa2v's own animatics: find each sprite in the pixels.

The animatic renderer knows what it draws (:mod:`spa2v.rendering.animatic`): the
background of the layout, and one emoji sprite per object. So an animatic can be
scored without a detector, and exactly: pixels that differ from the known background
(with hysteresis: weak differences connected to strong ones) are the sprites (compared
with the background and its mirror image, so a mirrored video is seen as mirrored, not
as noise), their connected regions are told apart by
their colours and shapes (each region goes to the object whose sprite it matches best:
hue-saturation histograms, plus the sprite drawn over the region's box against the
pixels there; one region per object, smaller pieces to the nearest found sprite),
and each object's box is the bounding box of its pixels. What a faithful animatic shows
is :meth:`~spa2v.rendering.animatic.AnimaticRenderer.drawn_boxes`.

Objects drawn with the same sprite (two organs; colours alike also when one faces the
other way) cannot be told apart by their pixels: they share one class, as two cars do
for a detector, so the tracker follows each and adherence gives each object the track
that overlaps its planned boxes (instead of the finder naming them at random, which
swapped them from frame to frame).
"""

from __future__ import annotations

from types import ModuleType

import av
import numpy as np
from PIL import Image
from scipy.optimize import linear_sum_assignment

from spa2v.evaluation.detector import Detection
from spa2v.planning.vsl import VSL
from spa2v.rendering.animatic import AnimaticRenderer

#: A pixel whose largest channel differs from the background by more than this is
#: surely a sprite pixel (H.264 at CRF 23 stays well within it on the smooth backgrounds)
#: ...
FOREGROUND_DIFF = 40
#: ... and one by more than this is one too when it connects to such pixels.
EDGE_DIFF = 25
#: Regions with fewer sure pixels than this are compression noise (a far flute is drawn
#: 13x8 px at 512x320).
MIN_REGION_PX = 6
#: A region left over after one region per object joins the nearest object's sprite
#: when it is at most this far from it (a detached part); farther ones are ignored.
MAX_PIECE_GAP_PX = 4
#: A video is taken for the animatic of a layout when at least this share of its first
#: frame's pixels away from the layout's sprites (and their mirror images) matches the
#: layout's background.
ANIMATIC_MATCH_SHARE = 0.9
#: The renderer's labelled boxes (or subtitle) are taken to be drawn in a video when at
#: least this share of the pixels they would cover in its first frame differ from the
#: background: about all of them when drawn, few when not (only where a sprite is).
OVERLAY_SHARE = 0.5
#: Histogram bins (hue, saturation) of the colour signature of a sprite or region.
HIST_BINS = (18, 8)


class SpriteFinder:
    """Find the sprites of a layout's animatic in video frames.

    Parameters
    ----------
    vsl : VSL
        The layout the video was (supposedly) rendered from.
    size : (int, int)
        The video's width and height.
    cv2 : module
        OpenCV.
    """

    def __init__(self, vsl: VSL, size: tuple[int, int], cv2: ModuleType) -> None:
        self.cv2 = cv2
        self.renderer = AnimaticRenderer(vsl, size=size)
        background = _as_encoded(self.renderer.background).astype(np.int16)
        self.backgrounds = (background, background[:, ::-1])
        self.names = {obj.id: obj.name for obj in vsl.objects}
        self.ids = sorted(self.names)
        self.sprites = {i: self.renderer.sprite(i).convert("RGBA") for i in self.ids}
        self.signatures = {i: self._signature(self.sprites[i]) for i in self.ids}
        self.class_names = self._shared_classes()
        #: Whether the video shows the labelled boxes / the subtitles, and mirrored
        #: (:meth:`detect_overlays`); their pixels are then not taken for sprites.
        self.overlay = self.subtitles = self.overlay_mirrored = False

    def _shared_classes(self) -> dict[int, str]:
        """Each object's class name: one per object, shared by objects whose sprites
        have the same colour signature (:func:`object_class`)."""
        groups: list[list[int]] = []
        for i in self.ids:
            group = next(
                (g for g in groups if np.allclose(self.signatures[g[0]], self.signatures[i])),
                None,
            )
            if group is None:
                groups.append([i])
            else:
                group.append(i)
        return {i: object_class(self.names[g[0]], *g) for g in groups for i in g}

    def _signature(self, sprite: Image.Image) -> np.ndarray:
        """Colour histogram of an RGBA sprite's opaque pixels."""
        rgba = np.asarray(sprite)
        mask = (rgba[..., 3] > 128).astype(np.uint8)
        hsv = self.cv2.cvtColor(np.ascontiguousarray(rgba[..., :3]), self.cv2.COLOR_RGB2HSV)
        return self._histogram(hsv, mask)

    def _histogram(self, hsv: np.ndarray, mask: np.ndarray) -> np.ndarray:
        cv2 = self.cv2
        hist = cv2.calcHist([hsv], [0, 1], mask, list(HIST_BINS), [0, 180, 0, 256])
        return cv2.normalize(hist, None, alpha=1.0, norm_type=cv2.NORM_L1)

    def _pixel_distance(self, frame: np.ndarray, box: tuple[int, int, int, int], i: int) -> float:
        """Mean difference (0-1) between the frame in ``box`` and object ``i``'s sprite
        drawn over it (or its mirror image, for a mirrored video), where the sprite is
        opaque."""
        x0, y0, x1, y1 = box
        if x1 - x0 < 2 or y1 - y0 < 2:
            return 0.0  # too small to show a shape: the colours decide
        drawn = np.asarray(self.sprites[i].resize((x1 - x0, y1 - y0), Image.Resampling.BILINEAR))
        opaque = drawn[..., 3] > 128
        if not opaque.any():
            return 1.0
        seen = frame[y0:y1, x0:x1].astype(np.int16)
        return min(
            float(np.abs(seen - sprite[..., :3]).mean(axis=2)[shape].mean()) / 255.0
            for sprite, shape in ((drawn, opaque), (drawn[:, ::-1], opaque[:, ::-1]))
        )

    def detect_overlays(self, frame: np.ndarray) -> None:
        """Tell from ``frame`` (the video's first) whether it was rendered with the
        labelled boxes (``spa2v render --overlay``) and with subtitles, as drawn or
        mirrored; :meth:`find` then leaves their pixels out (a box outline around a
        sprite, or a label above it, would otherwise widen the sprite's box)."""
        foreground = self._foreground(frame)
        found = {}
        for kind in ("overlay", "subtitles"):
            footprint = self.renderer.overlay_footprint(
                0.0, overlay=kind == "overlay", subtitles=kind == "subtitles"
            )
            if footprint.any():
                shares = [float(foreground[f].mean()) for f in (footprint, footprint[:, ::-1])]
                found[kind] = (max(shares) >= OVERLAY_SHARE, shares[1] > shares[0])
        self.overlay = found.get("overlay", (False, False))[0]
        self.subtitles = found.get("subtitles", (False, False))[0]
        # Mirrored when the drawn overlays say so (subtitles centred tell little).
        drawn = [mirrored for present, mirrored in found.values() if present]
        self.overlay_mirrored = bool(drawn) and drawn[0]

    def _overlay_mask(self, t: float) -> np.ndarray | None:
        """The pixels the video's overlays cover at ``t`` (one pixel wider, for the
        colour bleed of 4:2:0 video), or None without overlays."""
        if not (self.overlay or self.subtitles):
            return None
        footprint = self.renderer.overlay_footprint(t, self.overlay, self.subtitles)
        if self.overlay_mirrored:
            footprint = footprint[:, ::-1]
        return self.cv2.dilate(footprint.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0

    def looks_like_animatic(self, frame: np.ndarray) -> bool:
        """Whether ``frame`` (the video's first) is this layout's animatic, as drawn or
        mirrored: the pixels where no sprite would be at t = 0 (in either picture) show
        the layout's background."""
        height, width = frame.shape[:2]
        free = np.ones((height, width), bool)
        for x0, y0, x1, y1 in self.renderer.drawn_boxes(0.0).values():
            rows = slice(int(y0 * height), int(np.ceil(y1 * height)))
            for a, b in ((x0, x1), (1.0 - x1, 1.0 - x0)):
                free[rows, int(a * width) : int(np.ceil(b * width))] = False
        overlays = self._overlay_mask(0.0)
        if overlays is not None:
            free &= ~overlays
        background = ~self._foreground(frame)
        if free.mean() < 0.1:  # sprites everywhere: the whole frame decides
            return bool(background.mean() >= 0.5)
        return bool(background[free].mean() >= ANIMATIC_MATCH_SHARE)

    def _difference(self, frame: np.ndarray) -> np.ndarray:
        """Per pixel, the largest channel difference from the background (or its mirror
        image, whichever is nearer)."""
        pixels = frame.astype(np.int16)
        return np.minimum(
            *(np.abs(pixels - background).max(axis=2) for background in self.backgrounds)
        )

    def _foreground(self, frame: np.ndarray) -> np.ndarray:
        return self._difference(frame) > FOREGROUND_DIFF

    def find(self, frame: np.ndarray, t: float | None = None) -> list[Detection]:
        """The objects' sprites in one RGB frame, as detections named after the objects
        (``class_name`` is ``"<name>#<id>"``, or ``"<name>#<id>+<id>"`` for objects
        drawn with one sprite; score 1). ``t``, the frame's time in seconds, places the
        overlays :meth:`detect_overlays` found, to leave them out."""
        cv2 = self.cv2
        difference = self._difference(frame)
        overlays = None if t is None else self._overlay_mask(t)
        if overlays is not None:
            difference[overlays] = 0
        sure = (difference > FOREGROUND_DIFF).astype(np.uint8)
        # Hysteresis (as Canny's): weaker differences count where they connect to sure
        # ones: soft edges, and parts drawn in colours near the background's (a drum's
        # brown sticks over a wooden floor).
        n_weak, weak = cv2.connectedComponents((difference > EDGE_DIFF).astype(np.uint8))
        keep = np.zeros(n_weak, bool)
        keep[np.unique(weak[sure > 0])] = True
        keep[0] = False
        mask = keep[weak].astype(np.uint8)
        joined = cv2.dilate(mask, np.ones((5, 5), np.uint8))  # one region per sprite
        count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
        regions = [r for r in range(1, count) if int((sure[labels == r]).sum()) >= MIN_REGION_PX]
        if not regions or not self.ids:
            return []
        # A region's box: its pixels, without the margin the dilation added.
        boxes = {
            r: _extent(labels[y0:y1, x0:x1] == r, mask[y0:y1, x0:x1] > 0, x0, y0)
            for r in regions
            for x0, y0, x1, y1 in [_rect(stats[r])]
        }
        hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)
        # How far each region is from each sprite: in colours (hue-saturation
        # histograms) plus in pixels (the sprite drawn over the region's box), which
        # tells sprites of one colour apart by their shape (a golden trumpet and a
        # golden saxophone).
        distance = np.array(
            [
                [
                    cv2.compareHist(
                        self._histogram(hsv, (mask * (labels == r)).astype(np.uint8)),
                        self.signatures[i],
                        cv2.HISTCMP_BHATTACHARYYA,
                    )
                    + self._pixel_distance(frame, boxes[r], i)
                    for i in self.ids
                ]
                for r in regions
            ]
        )
        rows, cols = linear_sum_assignment(distance)
        owner = {regions[r]: self.ids[c] for r, c in zip(rows, cols, strict=True)}
        rects = {owner[r]: boxes[r] for r in owner}
        for r in regions:  # pieces left over next to a sprite found join it
            if r not in owner:
                piece = boxes[r]
                nearest = min(rects, key=lambda i: _gap(rects[i], piece))
                if _gap(rects[nearest], piece) <= MAX_PIECE_GAP_PX:
                    rects[nearest] = _union(rects[nearest], piece)
        self._split_touching(rects, {i: r for r, i in owner.items()}, labels, mask, sure)
        if overlays is not None:  # a box outline hides the sprite's edge under it
            rects = {i: _through_overlays(rect, overlays) for i, rect in rects.items()}
        height, width = mask.shape
        return [
            Detection(
                box=(x0 / width, y0 / height, x1 / width, y1 / height),
                class_name=self.class_names[i],
                score=1.0,
            )
            for i, (x0, y0, x1, y1) in sorted(rects.items())
        ]

    def _split_touching(
        self,
        rects: dict[int, tuple[int, int, int, int]],
        region_of: dict[int, int],
        labels: np.ndarray,
        mask: np.ndarray,
        sure: np.ndarray,
    ) -> None:
        """Objects drawn with one sprite side by side, closer than the dilation that
        joins a sprite's parts, are one region: when such an object has no region of
        its own, the region of its class is split where none of its pixels is (columns
        apart), each part with at least :data:`MIN_REGION_PX` sure pixels a sprite.
        ``rects`` (object id -> pixel box) gets the parts."""
        for i in [i for i in self.ids if i not in rects]:
            for j in [j for j in self.ids if self.class_names[j] == self.class_names[i]]:
                if j not in region_of or j not in rects:
                    continue
                x0, y0, x1, y1 = rects[j]
                own = (labels[y0:y1, x0:x1] == region_of[j]) & (mask[y0:y1, x0:x1] > 0)
                parts = []
                filled = np.flatnonzero(own.any(axis=0))
                for run in np.split(filled, np.flatnonzero(np.diff(filled) > 1) + 1):
                    part = own[:, run[0] : run[-1] + 1]
                    n_sure = int(sure[y0:y1, x0 + run[0] : x0 + run[-1] + 1][part].sum())
                    if n_sure >= MIN_REGION_PX:
                        ys = np.flatnonzero(part.any(axis=1))
                        box = (x0 + run[0], y0 + ys[0], x0 + run[-1] + 1, y0 + ys[-1] + 1)
                        parts.append((n_sure, box))
                if len(parts) < 2:
                    continue
                parts.sort(reverse=True)
                rects[j], rects[i] = parts[0][1], parts[1][1]
                region_of[i] = region_of[j]
                break


def _as_encoded(image: np.ndarray) -> np.ndarray:
    """The image as a yuv420p video shows it once decoded to RGB (H.264 as spa2v writes
    it): thin coloured lines (road markings) bleed, and would otherwise differ from the
    drawn background like a sprite does. The colours go through FFmpeg's converter
    (libswscale, through PyAV), which writes and reads spa2v's videos: it filters each
    2x2 block's chroma over its pixels and their neighbours, where OpenCV's I420
    conversion takes the top-left pixel's (a 2 px dash across two chroma rows then
    differed from the video by ~50, a sprite's difference). Odd sizes (no 4:2:0) are
    returned as they are.

    >>> dash = np.full((8, 8, 3), 137, np.uint8); dash[3:5] = (235, 225, 120)  # yellow
    >>> blue = _as_encoded(dash)[:, 0, 2]
    >>> bool(blue[2] < 137 and blue[5] < 137)  # the dash's colour bleeds a row up and down
    True
    """
    height, width = image.shape[:2]
    if height % 2 or width % 2:
        return image
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
    return np.asarray(frame.reformat(format="yuv420p").to_ndarray(format="rgb24"))


def object_class(name: str, *object_ids: int) -> str:
    """The class name the sprite finder gives layout objects drawn alike.

    >>> object_class("car", 2), object_class("organ", 0, 1)
    ('car#2', 'organ#0+1')
    """
    return f"{name}#{'+'.join(str(i) for i in object_ids)}"


def _rect(stat: np.ndarray) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` pixel edges of a region from OpenCV's component stats."""
    x, y, w, h = (int(v) for v in stat[:4])
    return x, y, x + w, y + h


def _extent(region: np.ndarray, edge: np.ndarray, x0: int, y0: int) -> tuple[int, int, int, int]:
    """Pixel edges of the region's pixels that differ from the background (the region
    itself when none does: the dilation made it, so it is never empty of sure pixels)."""
    ys, xs = np.nonzero(region & edge)
    if ys.size == 0:
        ys, xs = np.nonzero(region)
    return x0 + int(xs.min()), y0 + int(ys.min()), x0 + int(xs.max()) + 1, y0 + int(ys.max()) + 1


def _through_overlays(
    rect: tuple[int, int, int, int], overlays: np.ndarray
) -> tuple[int, int, int, int]:
    """``rect`` with each edge moved out across the overlay pixels right outside it (a
    box outline drawn over the sprite's border, 2-3 px): the sprite goes on under them.

    >>> band = np.zeros((10, 10), bool); band[7:9, :] = True
    >>> _through_overlays((2, 2, 6, 7), band)
    (2, 2, 6, 9)
    """
    height, width = overlays.shape
    x0, y0, x1, y1 = rect

    def covered(rows: slice, cols: slice) -> bool:
        part = overlays[rows, cols]
        return part.size > 0 and float(part.mean()) >= 0.5

    for _ in range(MAX_PIECE_GAP_PX):  # a band a few pixels wide, not a whole tag
        moved = False
        if y1 < height and covered(slice(y1, y1 + 1), slice(x0, x1)):
            y1, moved = y1 + 1, True
        if y0 > 0 and covered(slice(y0 - 1, y0), slice(x0, x1)):
            y0, moved = y0 - 1, True
        if x1 < width and covered(slice(y0, y1), slice(x1, x1 + 1)):
            x1, moved = x1 + 1, True
        if x0 > 0 and covered(slice(y0, y1), slice(x0 - 1, x0)):
            x0, moved = x0 - 1, True
        if not moved:
            break
    return x0, y0, x1, y1


def _union(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, int, int, int]:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _gap(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Distance between two rectangles (0 when they touch or overlap)."""
    dx = max(0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0, max(a[1], b[1]) - min(a[3], b[3]))
    return float(np.hypot(dx, dy))
