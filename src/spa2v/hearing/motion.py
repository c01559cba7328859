"""What counts as motion, and motion summaries of a cue track: sideways (azimuth trend)
and in depth (loudness trend).

:func:`classify_motion` is the one motion classifier of the package: hearing's summaries,
the physics planner, a layout's motion read back from its boxes, the benchmark's scoring
and the simulator's ground-truth labels all call it, each on the change it measures.

Distance follows from level by the 1/r law: +6 dB per halving of distance, so a relative
distance is ``10 ** (-(L - L_max) / 20)`` (1.0 at the loudest frame).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from spa2v.hearing.cues import DepthMotion, LateralMotion
from spa2v.hearing.filters import median_filter

#: A crossing: the azimuth changes by at least this much (degrees).
CROSSING_DEG = 15.0
#: Approaching / receding: the source comes nearer / goes away by at least this much,
#: in dB of the 1/r law (20 log10 of the distance ratio; 3 dB = 1.41 x nearer).
DEPTH_DB = 3.0
#: An azimuth spread below this over a cue track is "static" (hearing's summary: a
#: spread above it that is no crossing is "other").
LATERAL_STATIC_DEG = 10.0


MotionClass = Literal["static", "left-to-right", "right-to-left", "approaching", "receding"]


def classify_motion(
    azimuth_change_deg: float,
    nearer_db: float,
    *,
    crossing_deg: float = CROSSING_DEG,
    depth_db: float = DEPTH_DB,
) -> MotionClass:
    """``"left-to-right"``, ``"right-to-left"``, ``"approaching"``, ``"receding"`` or
    ``"static"`` from a change of azimuth and of distance.

    Azimuth is positive to the LEFT, so a growing azimuth moves right to left;
    ``nearer_db`` is positive when the source comes nearer (``20 log10(d_start / d_end)``).
    A crossing wins over a change of depth. ``crossing_deg`` and ``depth_db`` default to
    what counts as motion; a caller deciding from noisy evidence may ask for more.

    >>> classify_motion(30.0, 0.0), classify_motion(-30.0, 9.0), classify_motion(5.0, -6.0)
    ('right-to-left', 'left-to-right', 'receding')
    >>> classify_motion(5.0, 1.0)
    'static'
    """
    if abs(azimuth_change_deg) >= crossing_deg:
        return "right-to-left" if azimuth_change_deg > 0 else "left-to-right"
    if abs(nearer_db) >= depth_db:
        return "approaching" if nearer_db > 0 else "receding"
    return "static"


def _edges(values: np.ndarray, share: float = 0.2) -> tuple[float, float]:
    """Medians of the first and last ``share`` of ``values``."""
    n_edge = max(1, round(share * values.size))
    return float(np.median(values[:n_edge])), float(np.median(values[-n_edge:]))


def smooth(values: np.ndarray, frames: int) -> np.ndarray:
    """Running median over ``frames`` frames (odd), robust to stray frames."""
    frames = max(1, frames) | 1
    return median_filter(values, size=frames, mode="reflect")


def lateral_motion(
    azimuth_deg: np.ndarray, confidence: np.ndarray, active: np.ndarray
) -> LateralMotion:
    """Sideways motion from the azimuth trend of confident, active frames.

    Azimuth grows to the LEFT, so a source whose azimuth rises moves right to left.

    >>> az = np.linspace(-40, 40, 50)
    >>> lateral_motion(az, np.ones(50), np.ones(50, bool))
    'right-to-left'
    """
    use = active & (confidence > 0.1)
    if use.sum() < 5:
        use = active
    if use.sum() < 5:
        return "static"
    az = smooth(azimuth_deg[use], 5)
    start, end = _edges(az)
    spread = float(np.percentile(az, 95) - np.percentile(az, 5))
    if spread < LATERAL_STATIC_DEG:
        return "static"
    motion = classify_motion(end - start, 0.0)
    if motion == "left-to-right" or motion == "right-to-left":
        return motion
    return "other"


def depth_motion(loudness_db: np.ndarray, active: np.ndarray, hop_s: float) -> DepthMotion:
    """Approach/recession from the loudness trend of the active frames.

    A level peak well inside the track with a clear rise before and fall after is a
    pass (approaching then receding); otherwise the net change decides.
    """
    if active.sum() < 5:
        return "static"
    level = smooth(loudness_db[active], round(0.25 / hop_s))
    start, end = _edges(level)
    peak_at = int(np.argmax(level))
    peak = float(level[peak_at])
    inside = 0.15 * level.size < peak_at < 0.85 * level.size
    if inside and peak - start >= DEPTH_DB and peak - end >= DEPTH_DB:
        return "approaching-then-receding"
    motion = classify_motion(0.0, end - start)  # louder = nearer
    if motion == "approaching" or motion == "receding":
        return motion
    if float(np.percentile(level, 95) - np.percentile(level, 5)) < 2 * DEPTH_DB:
        return "static"
    return "other"


def distance_proxy(
    loudness_db: np.ndarray,
    active: np.ndarray,
    hop_s: float,
    direct_db: np.ndarray | None = None,
    reverberant_db: float = 10.0,
) -> np.ndarray:
    """Relative distance per frame, 1.0 at the nearest (smoothed) frame.

    In the open, by the 1/r law from the level (+6 dB per halving of distance). In a
    room (median direct-to-reverberant ratio ``direct_db`` below ``reverberant_db``) the
    reverb keeps the level up as a source goes away, and the source's own loudness
    changes mask the rest; the DRR falls by the same 6 dB per doubling of distance (the
    reverb does not depend on where the source is) and ignores the source's loudness,
    so it is used instead. Inactive frames carry the nearest active value.
    """
    out = np.ones_like(loudness_db, dtype=float)
    if not active.any():
        return out
    cue_db = loudness_db
    if direct_db is not None and np.median(direct_db[active]) < reverberant_db:
        cue_db = direct_db
    level = smooth(fill_inactive(cue_db, active), round(0.1 / hop_s))
    return 10.0 ** (-(level - level[active].max()) / 20.0)


def fill_inactive(values: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Copy of ``values`` where inactive frames take the value of the nearest active one.

    >>> fill_inactive(np.array([0.0, 5.0, 0.0, 7.0]), np.array([False, True, False, True]))
    array([5., 5., 5., 7.])
    """
    idx = np.flatnonzero(active)
    if idx.size == 0:
        return values.astype(float).copy()
    positions = np.arange(values.size)
    nearest = idx[np.clip(np.searchsorted(idx, positions), 0, idx.size - 1)]
    previous = idx[np.clip(np.searchsorted(idx, positions) - 1, 0, idx.size - 1)]
    pick = np.where(np.abs(previous - positions) <= np.abs(nearest - positions), previous, nearest)
    return values[pick].astype(float)
