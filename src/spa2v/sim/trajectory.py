"""Source trajectories: where an object is at any time.

Positions are in the listener/camera frame of :mod:`spa2v.camera`: ``forward`` along
azimuth 0, ``left`` to the left, ``up`` above the ground (the listener's ears and the
camera are at ``CAMERA_HEIGHT_M`` = 1.5 m). A trajectory gives the position of the
object's **base** (as :class:`spa2v.camera.Position` does); the sound is emitted
``emitter_height_m`` above it (see :class:`spa2v.sim.scene.SourceSpec`).

Every trajectory is a function of time that can be evaluated at audio rate
(``positions(t)`` with ``t`` an array of seconds -> array ``(len(t), 3)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spa2v.camera import Position
from spa2v.hearing.motion import classify_motion

__all__ = [
    "Linear",
    "Static",
    "Trajectory",
    "Waypoints",
    "approach",
    "crossing",
    "radial",
    "recede",
]

_MOTIONS = ("static", "left-to-right", "right-to-left", "approaching", "receding", "other")


class Trajectory:
    """Base class. Subclasses implement :meth:`positions`."""

    #: motion label, or ``None`` to derive it from the geometry (see :meth:`motion`).
    motion_label: str | None = None

    def positions(self, t: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def position(self, t: float) -> Position:
        p = self.positions(np.array([float(t)]))[0]
        return Position(float(p[0]), float(p[1]), float(p[2]))

    def speed_mps(self, t0: float, t1: float) -> float:
        """Mean speed over ``[t0, t1]``."""
        ts = np.linspace(t0, t1, 65)
        p = self.positions(ts)
        return float(np.sum(np.linalg.norm(np.diff(p, axis=0), axis=1)) / max(t1 - t0, 1e-9))

    def motion(self, t0: float, t1: float) -> str:
        """The VSL motion label over ``[t0, t1]`` (explicit label if one was given).

        Derived from the geometry by the package's one motion rule
        (:func:`spa2v.hearing.motion.classify_motion`): the change of azimuth (positive
        to the left) and of distance (in dB of the 1/r law); a source that moves but
        does neither enough is "other".
        """
        if self.motion_label is not None:
            return self.motion_label
        p = self.positions(np.array([t0, t1]))
        az = np.degrees(np.arctan2(p[:, 1], p[:, 0]))
        dist = np.hypot(p[:, 0], p[:, 1])
        if self.speed_mps(t0, t1) < 0.05:
            return "static"
        daz = (az[1] - az[0] + 180.0) % 360.0 - 180.0
        nearer_db = 20.0 * math.log10(max(dist[0], 1e-6) / max(dist[1], 1e-6))
        motion = classify_motion(float(daz), nearer_db)
        return "other" if motion == "static" else motion


@dataclass
class Static(Trajectory):
    """A source that does not move: horizontal ``distance_m`` at ``azimuth_deg``
    (positive to the left), its base ``height_m`` above the ground."""

    azimuth_deg: float
    distance_m: float
    height_m: float = 0.0
    motion_label: str | None = "static"

    def positions(self, t: np.ndarray) -> np.ndarray:
        p = Position.from_polar(self.azimuth_deg, self.distance_m, self.height_m)
        return np.broadcast_to(np.array([p.forward, p.left, p.up]), (np.size(t), 3)).copy()


@dataclass
class Linear(Trajectory):
    """Straight line at constant velocity: ``start`` at ``t0``, ``end`` at ``t1``
    (``(forward, left, up)`` tuples or :class:`Position`), extrapolated outside."""

    start: tuple[float, float, float]
    end: tuple[float, float, float]
    t0: float = 0.0
    t1: float = 4.0
    motion_label: str | None = None

    def __post_init__(self) -> None:
        self.start = _xyz(self.start)
        self.end = _xyz(self.end)
        if self.t1 <= self.t0:
            raise ValueError("Linear trajectory needs t1 > t0")

    @property
    def velocity(self) -> np.ndarray:
        return (np.asarray(self.end) - np.asarray(self.start)) / (self.t1 - self.t0)

    def positions(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float).reshape(-1, 1)
        return np.asarray(self.start) + (t - self.t0) * self.velocity


@dataclass
class Waypoints(Trajectory):
    """Piecewise-linear path through ``points`` at ``times`` (held at the ends)."""

    times: tuple[float, ...]
    points: tuple[tuple[float, float, float], ...]
    motion_label: str | None = None

    def positions(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float).ravel()
        pts = np.array([_xyz(p) for p in self.points])
        return np.stack([np.interp(t, self.times, pts[:, k]) for k in range(3)], axis=1)


def _xyz(p) -> tuple[float, float, float]:
    if isinstance(p, Position):
        return (p.forward, p.left, p.up)
    v = tuple(float(x) for x in p)
    if len(v) == 2:
        v = (*v, 0.0)
    if len(v) != 3:
        raise ValueError(f"a position needs (forward, left[, up]), got {p!r}")
    return v


def crossing(
    closest_m: float = 10.0,
    speed_mps: float = 15.0,
    direction: str = "left-to-right",
    t_closest_s: float = 2.0,
    azimuth_deg: float = 0.0,
    height_m: float = 0.0,
) -> Linear:
    """A straight pass perpendicular to the line of sight at ``azimuth_deg``: the
    source is closest (``closest_m``, horizontally) at ``t_closest_s``, moving at
    ``speed_mps`` left-to-right or right-to-left as seen by the listener."""
    if direction not in ("left-to-right", "right-to-left"):
        raise ValueError("direction must be 'left-to-right' or 'right-to-left'")
    a = math.radians(azimuth_deg)
    p0 = np.array([closest_m * math.cos(a), closest_m * math.sin(a), height_m])
    # unit vector pointing to the listener's left, perpendicular to the line of sight
    left_dir = np.array([-math.sin(a), math.cos(a), 0.0])
    sign = -1.0 if direction == "left-to-right" else 1.0
    v = sign * speed_mps * left_dir
    return Linear(
        tuple(p0 - v * t_closest_s),
        tuple(p0 + v * (1.0 - t_closest_s)),
        0.0,
        1.0,
        motion_label=direction,
    )


def radial(
    azimuth_deg: float,
    start_m: float,
    end_m: float,
    duration_s: float,
    height_m: float = 0.0,
    t0: float = 0.0,
) -> Linear:
    """Straight along the line of sight at ``azimuth_deg``, from horizontal distance
    ``start_m`` at ``t0`` to ``end_m`` at ``t0 + duration_s``."""
    a = Position.from_polar(azimuth_deg, start_m, height_m)
    b = Position.from_polar(azimuth_deg, end_m, height_m)
    label = "approaching" if end_m < start_m else "receding"
    return Linear(_xyz(a), _xyz(b), t0, t0 + duration_s, motion_label=label)


def approach(
    azimuth_deg: float = 0.0,
    start_m: float = 40.0,
    speed_mps: float = 8.0,
    duration_s: float = 4.0,
    height_m: float = 0.0,
) -> Linear:
    """Approaching along the line of sight at constant speed."""
    return radial(azimuth_deg, start_m, start_m - speed_mps * duration_s, duration_s, height_m)


def recede(
    azimuth_deg: float = 0.0,
    start_m: float = 8.0,
    speed_mps: float = 8.0,
    duration_s: float = 4.0,
    height_m: float = 0.0,
) -> Linear:
    """Receding along the line of sight at constant speed."""
    return radial(azimuth_deg, start_m, start_m + speed_mps * duration_s, duration_s, height_m)
