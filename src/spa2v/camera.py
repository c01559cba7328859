"""The shared camera model: where a 3-D source appears in the frame.

Conventions (``docs/design.md``): the camera stands at the listener, 1.5 m above
the ground, looks along azimuth 0, level, with a 90 deg horizontal field of view on a
16:10 canvas (512x320 reference). Azimuth is in degrees, positive to the LEFT. Boxes
are normalized ``[x0, y0, x1, y1]`` with the origin at the top-left.

An object is drawn as a flat upright billboard at its depth ``D`` (distance along the
optical axis), so its box follows from a pinhole projection of its physical width and
height. Planners, the simulator and the ground truth all use these functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CAMERA_HEIGHT_M = 1.5
HFOV_DEG = 90.0
REFERENCE_SIZE = (512, 320)
TAN_H = math.tan(math.radians(HFOV_DEG / 2))  # = 1.0
TAN_V = TAN_H * REFERENCE_SIZE[1] / REFERENCE_SIZE[0]  # = 0.625, square pixels

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Position:
    """A source position relative to the listener/camera, in metres.

    ``forward`` is along the optical axis (azimuth 0), ``left`` to the left,
    ``up`` above the ground (not above the camera).
    """

    forward: float
    left: float
    up: float = 0.0

    @classmethod
    def from_polar(
        cls, azimuth_deg: float, distance_m: float, base_height_m: float = 0.0
    ) -> Position:
        """Place a source at a horizontal distance and azimuth, its base at a height."""
        a = math.radians(azimuth_deg)
        return cls(distance_m * math.cos(a), distance_m * math.sin(a), base_height_m)

    @property
    def azimuth_deg(self) -> float:
        return math.degrees(math.atan2(self.left, self.forward))

    @property
    def horizontal_distance_m(self) -> float:
        return math.hypot(self.forward, self.left)


def azimuth_to_x(azimuth_deg: float | np.ndarray) -> float | np.ndarray:
    """Horizontal image position (0 = left edge, 1 = right edge) of a direction.

    >>> round(float(azimuth_to_x(30.0)), 3)
    0.211
    """
    return 0.5 - 0.5 * np.tan(np.radians(azimuth_deg)) / TAN_H


def x_to_azimuth(x: float | np.ndarray) -> float | np.ndarray:
    """Inverse of :func:`azimuth_to_x`."""
    return np.degrees(np.arctan((0.5 - np.asarray(x, dtype=float)) * 2 * TAN_H))


def horizontal_zone(x: float) -> str:
    """``"left"``, ``"centre"`` or ``"right"``: the third of the frame that holds ``x``
    (the convention of captions and of the left/centre/right metric alike).

    >>> horizontal_zone(0.2), horizontal_zone(0.5), horizontal_zone(0.9)
    ('left', 'centre', 'right')
    """
    if x < 1.0 / 3.0:
        return "left"
    if x > 2.0 / 3.0:
        return "right"
    return "centre"


def project_box(
    position: Position, width_m: float, height_m: float, clip: bool = True
) -> Box | None:
    """Box of an upright ``width_m`` x ``height_m`` billboard whose base centre is at
    ``position``; ``None`` when it is behind the camera, at |azimuth| >= 90 deg, or
    fully outside the frame.

    >>> [round(v, 3) for v in project_box(Position(10.0, 5.774), 4.5, 1.5)]
    [0.099, 0.5, 0.324, 0.62]
    """
    depth = position.forward
    if depth <= 1e-6 or abs(position.azimuth_deg) >= 90.0:
        return None
    x_right = -position.left
    x0 = 0.5 + 0.5 * (x_right - width_m / 2) / (depth * TAN_H)
    x1 = 0.5 + 0.5 * (x_right + width_m / 2) / (depth * TAN_H)
    top, bottom = position.up + height_m, position.up
    y0 = 0.5 - 0.5 * (top - CAMERA_HEIGHT_M) / (depth * TAN_V)
    y1 = 0.5 - 0.5 * (bottom - CAMERA_HEIGHT_M) / (depth * TAN_V)
    if x1 <= 0.0 or x0 >= 1.0 or y1 <= 0.0 or y0 >= 1.0:
        return None
    if not clip:
        return (x0, y0, x1, y1)
    return (_clip01(x0), _clip01(y0), _clip01(x1), _clip01(y1))


def _clip01(v: float) -> float:
    return min(1.0, max(0.0, v))
