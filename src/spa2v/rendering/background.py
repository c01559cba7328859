"""Backgrounds for the animatic, drawn to match the camera model.

The camera stands 1.5 m above level ground looking at the horizon, so the horizon is
at mid-height (``y = 0.5``): outdoors that is sky above and ground below, indoors a
wall above and a floor below. Which one, and which ground (road, grass, sand...), is
picked from keywords of the VSL's ``background`` text and from the class table's
``indoor`` flag of the objects. Everything is vectorized numpy, drawn once per video.

Example
-------
>>> image = render_background(512, 320, "a city street")
>>> image.shape, image.dtype.name
((320, 512, 3), 'uint8')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from spa2v.camera import CAMERA_HEIGHT_M, TAN_H
from spa2v.nouns import noun_info

_INDOOR_WORDS = (
    "room",
    "indoor",
    "inside",
    "hall",
    "studio",
    "stage",
    "kitchen",
    "office",
    "house",
    "home",
    "church",
    "classroom",
    "bedroom",
    "bar",
    "restaurant",
    "theater",
    "theatre",
    "gym",
    "corridor",
    "concert",
)
_OUTDOOR_WORDS = (
    "street",
    "road",
    "highway",
    "outdoor",
    "outside",
    "park",
    "field",
    "sky",
    "forest",
    "beach",
    "track",
    "railway",
    "airport",
    "garden",
    "city",
    "countryside",
    "farm",
    "yard",
)

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Scene:
    """What the background shows: indoor or not, and the surface below the horizon."""

    indoor: bool
    ground: str  # "road", "rail", "grass", "sand", "water", "floor"


def classify_scene(background: str, object_nouns: Iterable[str] = ()) -> Scene:
    """Pick indoor/outdoor and the ground from the background text (then the objects).

    >>> classify_scene("a concert hall")
    Scene(indoor=True, ground='floor')
    >>> classify_scene("a busy street", ["car"]).ground
    'road'
    """
    text = background.lower()
    if any(word in text for word in _INDOOR_WORDS):
        indoor = True
    elif any(word in text for word in _OUTDOOR_WORDS):
        indoor = False
    else:
        indoor = _objects_mostly_indoor(object_nouns)
    if indoor:
        return Scene(indoor=True, ground="floor")
    for ground, words in (
        ("rail", ("rail", "train", "station")),
        ("road", ("street", "road", "highway", "city", "traffic", "parking")),
        ("sand", ("beach", "desert", "sand")),
        ("water", ("sea", "lake", "river", "ocean", "harbour", "harbor")),
    ):
        if any(word in text for word in words):
            return Scene(indoor=False, ground=ground)
    return Scene(indoor=False, ground="grass")


def _objects_mostly_indoor(nouns: Iterable[str]) -> bool:
    """Majority vote of the noun table's ``indoor`` flag (unknown nouns count as outdoor);
    outdoors when there are no nouns."""
    votes = [noun_info(noun).indoor for noun in nouns]
    return bool(votes) and sum(votes) > len(votes) / 2


def _vertical_gradient(height: int, width: int, top: Colour, bottom: Colour) -> np.ndarray:
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    column = (1 - ramp) * np.array(top, np.float32) + ramp * np.array(bottom, np.float32)
    return np.broadcast_to(column, (height, width, 3)).copy()


_GROUND_COLOURS: dict[str, tuple[Colour, Colour]] = {
    # (at the horizon, at the bottom edge): far ground is hazier and lighter.
    "road": ((150, 150, 146), (92, 92, 96)),
    "rail": ((150, 140, 125), (105, 95, 85)),
    "grass": ((150, 180, 120), (70, 130, 55)),
    "sand": ((235, 215, 170), (210, 180, 125)),
    "water": ((140, 180, 210), (40, 95, 150)),
    "floor": ((170, 125, 80), (120, 80, 45)),
}


def render_background(
    width: int, height: int, background: str = "", object_nouns: Iterable[str] = ()
) -> np.ndarray:
    """Draw the background as an ``(height, width, 3)`` uint8 RGB image.

    Parameters
    ----------
    width, height : int
        Canvas size in pixels.
    background : str
        The VSL's ``background`` text, e.g. "a city street" or "a living room".
    object_nouns : iterable of str
        The objects' nouns, used when the text says neither indoor nor outdoor.
    """
    scene = classify_scene(background, object_nouns)
    horizon = height // 2  # the camera model's horizon at y = 0.5
    image = np.empty((height, width, 3), np.float32)
    if scene.indoor:
        image[:horizon] = _vertical_gradient(horizon, width, (226, 214, 190), (200, 186, 160))
        skirting = max(2, height // 80)
        image[horizon - skirting : horizon] = (120, 100, 80)
    else:
        image[:horizon] = _vertical_gradient(horizon, width, (110, 165, 230), (200, 225, 245))
    near, far = _GROUND_COLOURS[scene.ground][1], _GROUND_COLOURS[scene.ground][0]
    image[horizon:] = _vertical_gradient(height - horizon, width, far, near)
    if scene.ground == "road":
        _draw_road_markings(image, horizon)
    elif scene.ground == "floor":
        _draw_floor_boards(image, horizon)
    return np.clip(image, 0, 255).astype(np.uint8)


def _ground_depth_m(height: int, width: int, horizon: int) -> np.ndarray:
    """Depth (m) of the ground seen at each row below the horizon (camera model:
    ``y = 0.5 + 0.5 * 1.5 / (D * tan_v)``, solved for ``D``)."""
    tan_v = TAN_H * height / width  # square pixels
    y_norm = (np.arange(horizon, height, dtype=np.float32) + 0.5) / height
    return CAMERA_HEIGHT_M / np.maximum(2 * (y_norm - 0.5) * tan_v, 1e-3)


def _draw_road_markings(image: np.ndarray, horizon: int) -> None:
    """A kerb 6 m ahead and a dashed centre line 11 m ahead, seen side-on (the road
    runs across the view, as in a pass-by)."""
    height, width = image.shape[:2]
    depth_m = _ground_depth_m(height, width, horizon)
    band = image[horizon:]
    band[(depth_m > 6.0) & (depth_m < 6.6)] = (205, 205, 200)
    lane_rows = (depth_m > 11.0) & (depth_m < 11.6)
    dash_cols = (np.arange(width) // max(8, width // 24)) % 2 == 0
    band[np.ix_(lane_rows, dash_cols)] = (235, 225, 120)


def _draw_floor_boards(image: np.ndarray, horizon: int) -> None:
    """Faint board seams every 0.5 m of depth so the floor reads as a floor."""
    height, width = image.shape[:2]
    depth_m = _ground_depth_m(height, width, horizon)
    seams = np.abs(np.diff(np.floor(depth_m / 0.5), prepend=np.floor(depth_m[0] / 0.5))) > 0
    image[horizon:][seams & (depth_m < 15.0)] *= 0.85
