"""How a planned object moves: ``static``, ``left-to-right``, ``right-to-left``,
``approaching`` or ``receding``, read from straight-line fits of the smoothed azimuth,
level and heard-distance tracks (the cue figures of :func:`spa2v.planning.physics`),
with stricter rules for classes that rarely move.

The classification itself is the package's one motion rule
(:func:`spa2v.hearing.motion.classify_motion`); what this module adds is how much
evidence the noisy cue tracks must show first: a larger change than what counts as
motion, along a steady trend (R^2), more of both for classes that rarely move.
"""

from __future__ import annotations

import numpy as np

from spa2v.hearing.cues import CueTrack
from spa2v.hearing.motion import classify_motion

#: Lateral motion: the azimuth must change by at least this much over the span
#: (classes that usually move / classes that usually stand still).
LATERAL_MIN_DEG = 20.0
STILL_LATERAL_MIN_DEG = 35.0
#: ... along a steady trend: R^2 of the straight-line fit of azimuth against time. A
#: pass-by is a clean S-curve (R^2 > 0.8 anechoic); an estimate jumping between a
#: source and its reflections is not.
LATERAL_MIN_R2 = 0.3
STILL_LATERAL_MIN_R2 = 0.5
#: ... or by this much when hearing's own summary says the same direction.
HEARING_LATERAL_MIN_DEG = 10.0
#: Back and forth (``other``): the slowly smoothed azimuth (:data:`WANDER_SIGMA_S`)
#: turns round at least once, each leg covering at least this many degrees (classes
#: that usually move / that usually stand still). 15 deg moves a box by about a sixth
#: of the view's width near the centre: a visible walk, not a wobble.
WANDER_MIN_DEG = 15.0
STILL_WANDER_MIN_DEG = 25.0
#: Gaussian smoothing (s) of the azimuth before its legs are counted: a walker turns
#: round over a second or more, a room's estimate jitters within a few hundred ms.
WANDER_SIGMA_S = 0.75
#: Depth motion: a level trend (straight-line fit over the span) of at least this many
#: dB with at least this R^2, one (dB, R^2) pair of which must hold; a large trend may
#: be noisy (an engine revving up as it leaves), a small one must be steady.
DEPTH_RULES = ((3.0, 0.3), (6.0, 0.1))
#: ... for classes that rarely move (instruments): music gets louder and quieter by itself.
STILL_DEPTH_RULES = ((8.0, 0.6),)
#: ... or by this much when hearing's own depth summary says the same.
HEARING_DEPTH_MIN_DB = 2.0
#: Depth motion from hearing's distance track (``CueTrack.distance_proxy``, 1/r law):
#: in a room it follows the direct-to-reverberant ratio, which the source's own
#: loudness does not change and the reverb does not flatten, so it decides over the
#: level for classes that move: a change of at least this many dB (20 log10 of the
#: distance ratio) with at least this R^2. In the open it is the level itself. When
#: the level's own trend passes its rule with the other sign and is clearer (|dB| x
#: R^2), the level wins: far beyond the critical distance the DRR estimate sits near its
#: floor and drifts by a few dB.
DISTANCE_RULE = (1.5, 0.15)
#: An object planned as approaching/receding changes its distance by at least this
#: (dB, 6 = twice as near/far over its span): the DRR saturates far from the source,
#: so its trend is a lower bound, and a box that hardly grows does not read as motion.
MIN_DRAWN_DEPTH_DB = 6.0


def level_trend(times_s: np.ndarray, level_db: np.ndarray) -> tuple[float, float]:
    """Straight-line fit of a track: (change over the span, R^2 of the fit).

    A vehicle coming closer gets steadily louder (high R^2); music gets louder and
    quieter with the score (low R^2), which must not read as motion.

    >>> t = np.linspace(0, 4, 50)
    >>> [round(v, 2) for v in level_trend(t, -30 + 3 * t)]
    [12.0, 1.0]
    """
    if times_s.size < 3 or np.ptp(times_s) <= 0:
        return 0.0, 0.0
    slope, intercept = np.polyfit(times_s, level_db, 1)
    fitted = slope * times_s + intercept
    total = float(np.sum((level_db - level_db.mean()) ** 2))
    r2 = 1.0 - float(np.sum((level_db - fitted) ** 2)) / total if total > 0 else 0.0
    return float(slope * np.ptp(times_s)), max(0.0, r2)


def zigzag_legs_deg(values: np.ndarray, min_leg: float) -> list[float]:
    """Signed legs of a track between its turning points, ignoring wiggles smaller than
    ``min_leg`` (hysteresis: a turn counts once the track has come back ``min_leg``
    from its last extreme).

    >>> zigzag_legs_deg(np.array([0, 10, 30, 28, 5, -20, -18, 10]), 15.0)
    [30.0, -50.0, 30.0]
    >>> zigzag_legs_deg(np.array([-9, 11, -18, 27, 4]), 25.0)  # the first rise is too small
    [-29.0, 45.0]
    """
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return []
    legs: list[float] = []
    # Until the track has moved min_leg either way, follow both its lowest and highest.
    low, high = float(values[0]), float(values[0])
    low_at = high_at = 0
    direction = 0  # +1 rising, -1 falling, 0 undecided
    start = extreme = float(values[0])
    for i, v in enumerate(values[1:].tolist(), start=1):
        if direction == 0:
            if v < low:
                low, low_at = v, i
            if v > high:
                high, high_at = v, i
            if high - low >= min_leg:
                direction = 1 if high_at > low_at else -1
                start, extreme = (low, high) if direction > 0 else (high, low)
            continue
        if direction * (v - extreme) > 0:
            extreme = v  # further the same way
        elif direction * (extreme - v) >= min_leg:  # turned round
            legs.append(extreme - start)
            start, extreme, direction = extreme, v, -direction
    if direction != 0 and abs(extreme - start) >= min_leg:
        legs.append(extreme - start)
    return legs


def depth_change_db(facts: dict[str, float], motion: str) -> float:
    """The change (dB, + = nearer) drawn for an approaching/receding ``motion``: the
    distance track's trend when it passes :data:`DISTANCE_RULE` with that sign, else the
    level's, at least :data:`MIN_DRAWN_DEPTH_DB` in size.

    >>> depth_change_db({"level_trend_db": 4.0, "distance_trend_db": -9.0,
    ...                  "distance_trend_r2": 0.5}, "receding")
    -9.0
    >>> depth_change_db({"level_trend_db": 3.0, "level_trend_r2": 0.5}, "approaching")
    6.0
    """
    sign = 1.0 if motion == "approaching" else -1.0
    near_db = facts.get("distance_trend_db", 0.0)
    passes = (
        abs(near_db) >= DISTANCE_RULE[0] and facts.get("distance_trend_r2", 0.0) >= DISTANCE_RULE[1]
    )
    change_db = near_db if passes and sign * near_db > 0 else facts["level_trend_db"]
    return sign * max(sign * change_db, MIN_DRAWN_DEPTH_DB)


def motion_from_tracks(facts: dict[str, float], usually_moving: bool = True) -> str:
    """Motion class from the smoothed tracks: azimuth change, then the level trend.

    Positive azimuth is LEFT, so a growing azimuth moves right-to-left. Classes that
    rarely move (instruments, furniture) need stronger evidence than vehicles: a
    musician's level follows the music.

    >>> motion_from_tracks({"az_start_deg": -40, "az_end_deg": 35, "level_trend_db": 0,
    ...                     "level_trend_r2": 0})
    'right-to-left'
    >>> motion_from_tracks({"az_start_deg": 2, "az_end_deg": 0, "level_trend_db": 9,
    ...                     "level_trend_r2": 0.8})
    'approaching'
    """
    lateral_deg, lateral_r2, depth_rules = (
        (LATERAL_MIN_DEG, LATERAL_MIN_R2, DEPTH_RULES)
        if usually_moving
        else (STILL_LATERAL_MIN_DEG, STILL_LATERAL_MIN_R2, STILL_DEPTH_RULES)
    )
    d_az = facts.get("az_trend_deg", facts["az_end_deg"] - facts["az_start_deg"])
    if facts.get("az_turns" if usually_moving else "az_turns_still", 0) >= 1:
        return "other"  # back and forth: the box follows the heard trajectory
    steady = facts.get("az_trend_r2", 1.0) >= lateral_r2
    lateral = classify_motion(d_az if steady else 0.0, 0.0, crossing_deg=lateral_deg)
    if lateral != "static":
        return lateral
    trend_db, r2 = facts["level_trend_db"], facts["level_trend_r2"]
    level_rule_db = next(
        (min_db for min_db, min_r2 in depth_rules if abs(trend_db) >= min_db and r2 >= min_r2),
        None,
    )
    if usually_moving and "distance_trend_db" in facts:
        near_db, near_r2 = facts["distance_trend_db"], facts["distance_trend_r2"]
        if abs(near_db) >= DISTANCE_RULE[0] and near_r2 >= DISTANCE_RULE[1]:
            # When the two disagree, the clearer trend (size x steadiness) wins: a DRR
            # estimate near its floor drifts a few dB, while a steady 11 dB fall of the
            # level is a source going away.
            disagree = level_rule_db is not None and (near_db > 0) != (trend_db > 0)
            if not (disagree and abs(trend_db) * r2 > abs(near_db) * near_r2):
                return classify_motion(0.0, near_db, depth_db=DISTANCE_RULE[0])
    if level_rule_db is not None:
        return classify_motion(0.0, trend_db, depth_db=level_rule_db)
    return "static"


def choose_motion(track: CueTrack, facts: dict[str, float], usually_moving: bool = True) -> str:
    """The object's ``motion``: the planner's own reading of the smoothed tracks, with
    hearing's summaries accepted when the tracks agree on a smaller change."""
    motion = motion_from_tracks(facts, usually_moving)
    d_az = facts.get("az_trend_deg", facts["az_end_deg"] - facts["az_start_deg"])
    steady = facts.get("az_trend_r2", 1.0) >= LATERAL_MIN_R2
    agrees = {
        "right-to-left": steady and d_az >= HEARING_LATERAL_MIN_DEG,
        "left-to-right": steady and d_az <= -HEARING_LATERAL_MIN_DEG,
    }
    if motion == "static" and agrees.get(track.lateral_motion, False):
        return track.lateral_motion
    # Hearing's depth summary, for classes that move, when the level trend has the
    # same sign (a source's own dynamics can hide a steady trend from the line fit).
    trend_db = facts["level_trend_db"]
    agrees = {
        "approaching": trend_db >= HEARING_DEPTH_MIN_DB,
        "receding": trend_db <= -HEARING_DEPTH_MIN_DB,
    }
    if motion == "static" and usually_moving and agrees.get(track.depth_motion, False):
        return track.depth_motion
    return motion
