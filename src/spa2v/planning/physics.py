"""The physics planner: cue tracks + class priors through the camera model -> a VSL.

Deterministic and offline. For each heard source:

1. **what** — ``name`` is the noun of the tagger's label with the best posterior: its
   score times how likely the heard cues are for the class (FOA elevation vs flying,
   heard motion vs a class that usually moves, the other sources' indoor/outdoor
   scene), ``audio_label`` the label itself; the class
   prior gives its size, whether it flies or usually moves, its scene and a typical
   distance (a piano indoors, a car on a street);
2. **how it moves** — straight-line fits of the smoothed azimuth and level tracks
   (hearing's own summaries accepted when they agree), stricter for classes that rarely
   move;
3. **where** — the azimuth (confidence-weighted, smoothed on the circle; one dominant
   direction for static objects and for ones moving along the line of sight) gives the
   box centre through the shared camera model (:func:`spa2v.camera.azimuth_to_x`);
4. **how far** — static: the prior distance; crossing: a straight pass at the prior
   depth; approaching/receding: the 1/r law (+6 dB per halving of distance) applied to
   the level trend, anchored at the prior distance, since the absolute level of a
   recording says little about distance;
5. **how big** — the class's physical width/height projected at that distance: ground
   objects stand on the ground (the camera is 1.5 m up), flying ones are centred on an
   elevation (measured for FOA, a prior otherwise).

Presence rule: an object is listed in a keyframe only while its source is sounding
(from half a keyframe before its first active frame to half a keyframe after its last)
and while it is in view (|azimuth| < 90 deg and the box overlaps the frame). Short
silences inside that span are bridged: the cues are interpolated across them, so a dog
that barks twice stays where it is instead of blinking out.

Example
-------
>>> from spa2v.planning.physics import plan_physics  # doctest: +SKIP
>>> vsl = plan_physics(cues, fps=8.0)  # doctest: +SKIP
>>> vsl.objects[0].motion  # doctest: +SKIP
'right-to-left'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.ndimage import gaussian_filter1d

from spa2v.camera import CAMERA_HEIGHT_M, Position, azimuth_to_x, project_box
from spa2v.errors import LayoutError
from spa2v.hearing.cues import Cues, CueTrack, Label

if TYPE_CHECKING:
    from spa2v.planning.vsl import VSL

#: Default keyframe rate of the planned layout (keyframes per second).
DEFAULT_FPS = 8.0
#: Smoothing of the azimuth and loudness tracks (Gaussian sigma, seconds). Azimuth
#: estimates jitter by several degrees per 25 ms frame in rooms; a real object does
#: not jump, so ~0.15 s keeps pass-bys sharp while removing the jitter. Loudness is
#: smoothed more: it only sets depth, and level fluctuates with the source itself.
AZIMUTH_SIGMA_S = 0.15
LOUDNESS_SIGMA_S = 0.3
#: Relative distance is clipped to [1/RANGE, RANGE] x the class prior distance.
DISTANCE_RANGE = 8.0
MIN_DISTANCE_M = 1.0
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
#: distance ratio) with at least this R^2. In the open it is the level itself.
DISTANCE_RULE = (1.5, 0.15)
#: An object planned as approaching/receding changes its distance by at least this
#: (dB, 6 = twice as near/far over its span): the DRR saturates far from the source,
#: so its trend is a lower bound, and a box that hardly grows does not read as motion.
MIN_DRAWN_DEPTH_DB = 6.0
#: Elevation of flying sources when the recording has none (stereo/binaural): high
#: enough to read as "in the sky", low enough to stay in the 64 deg tall view.
FLYING_ELEVATION_DEG = 15.0
#: Label choice (:func:`choose_label`): the tagger's score times how likely the heard
#: cues are for each class (a likelihood ratio, 1 = the cue says nothing).
#: A source heard at least this high (FOA) is above the horizon: a ground object there
#: would have to be within a few metres, so ground classes get GROUND_ELEVATED_FACTOR.
FLYING_LABEL_MIN_ELEVATION_DEG = 15.0
GROUND_ELEVATED_FACTOR = 0.05
#: A source heard within this of the horizon (FOA): a flying one would be far away for
#: its height (an aircraft 100 m up at 5 deg is 1.1 km off), so flying classes get
#: FLYING_AT_HORIZON_FACTOR.
HORIZON_MAX_ELEVATION_DEG = 5.0
FLYING_AT_HORIZON_FACTOR = 0.5
#: A source heard moving by the strict rules for classes that rarely move (a steady
#: crossing or depth trend), or with a Doppler speed of at least MOVING_MIN_SPEED_MPS:
#: a class that rarely moves (a piano, a church bell) is unlikely.
STILL_CLASS_MOVING_FACTOR = 0.3
MOVING_MIN_SPEED_MPS = 3.0
#: A source heard still even by the lenient rules for classes that move: a class that
#: usually moves is a little less likely (cars do idle and park).
MOVING_CLASS_STILL_FACTOR = 0.7

# Typical horizontal distance (m) of a source by class family, used to anchor the
# relative 1/r distance. Indoor sources default to a room-sized distance, outdoor ones
# to a street-sized one.
FAMILY_DISTANCE_M: dict[str, float] = {
    "instrument": 3.5,
    "person": 3.0,
    "vehicle": 14.0,
    "train": 22.0,
    "aircraft": 40.0,
    "boat": 30.0,
    "explosion": 50.0,
    "weather": 50.0,
}
INDOOR_DISTANCE_M = 3.5
OUTDOOR_DISTANCE_M = 8.0

# Verbs for captions, by family (what a person would write); "moves"/"sounds" otherwise.
_MOVING_VERBS = {
    "vehicle": "drives",
    "train": "passes",
    "aircraft": "flies",
    "boat": "sails",
    "person": "walks",
    "dog": "runs",
    "horse": "gallops",
    "bird": "flies",
    "insect": "flies",
}
_STATIC_VERBS = {
    "instrument": "plays",
    "person": "speaks",
    "dog": "barks",
    "bell": "rings",
    "alarm": "rings",
    "telephone": "rings",
    "clock": "ticks",
    "vehicle": "idles",
}


@dataclass(frozen=True)
class ClassPrior:
    """What the planner assumes about a class: drawable noun, size, where it lives."""

    noun: str
    family: str
    width_m: float
    height_m: float
    flying: bool
    indoor: bool
    scene: str
    distance_m: float  # typical horizontal distance from the listener
    usually_moving: bool = False


@dataclass
class SourcePlan:
    """The planned trajectory of one source, sampled at the keyframe times."""

    object_id: int
    track: CueTrack
    prior: ClassPrior
    audio_label: str
    present: np.ndarray  # bool per keyframe
    azimuth_deg: np.ndarray  # smoothed, per keyframe
    distance_m: np.ndarray  # horizontal distance, per keyframe
    boxes: list[tuple[float, float, float, float] | None]
    motion: str
    facts: dict[str, float]  # the cue figures quoted in the reasoning
    label_choice: str = ""  # why this label (quoted in the reasoning)


# --- public entry point --------------------------------------------------------------


def plan_physics(cues: Cues, fps: float | None = DEFAULT_FPS, n_frames: int | None = None) -> VSL:
    """Plan a Video Scene Layout from cue tracks, deterministically.

    Parameters
    ----------
    cues : Cues
        Heard (and tagged) sources; labels are used for the class priors.
    fps : float or None
        Keyframe rate (keyframes per second), used when ``n_frames`` is None.
    n_frames : int or None
        A fixed number of keyframes spread evenly over the clip (first at 0, last at
        the end), instead of ``fps``.

    Returns
    -------
    VSL
        A validated layout (``spa2v.vsl/1``).

    Example
    -------
    >>> vsl = plan_physics(cues, n_frames=16)  # doctest: +SKIP
    >>> len(vsl.frames)  # doctest: +SKIP
    16
    """
    from spa2v.planning.vsl import parse_vsl

    times_s, fps_out = keyframe_times(cues.duration_s, fps=fps, n_frames=n_frames)
    audible = _audible_sources(cues)
    plans = [
        _plan_source(track, object_id, times_s, fps_out) for object_id, track in enumerate(audible)
    ]
    data = layout_dict(cues, plans, times_s, fps_out)
    return parse_vsl(data)


def keyframe_times(
    duration_s: float, fps: float | None = DEFAULT_FPS, n_frames: int | None = None
) -> tuple[np.ndarray, float]:
    """Keyframe times within ``[0, duration_s]`` and the keyframe rate they imply.

    >>> keyframe_times(1.0, fps=4.0)[0].tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> keyframe_times(2.0, fps=None, n_frames=3)
    (array([0., 1., 2.]), 1.0)
    """
    if duration_s <= 0:
        raise LayoutError(f"cannot plan a layout for a clip of {duration_s:g} s")
    if n_frames is not None:
        if n_frames < 1:
            raise LayoutError(f"--frames must be at least 1 (got {n_frames})")
        if n_frames == 1:
            return np.array([0.0]), 1.0 / duration_s
        return np.linspace(0.0, duration_s, n_frames), (n_frames - 1) / duration_s
    if fps is None or not fps > 0:
        raise LayoutError(f"--fps must be a positive number (got {fps})")
    n = math.floor(duration_s * fps + 1e-9) + 1
    return np.arange(n) / fps, float(fps)


# --- class priors ----------------------------------------------------------------------


def class_prior(noun: str) -> ClassPrior:
    """The planner's prior for a drawable noun (size, ground/flying, scene, distance).

    Unknown nouns get a generic 1 m object (the class table's fallback).
    """
    from spa2v.hearing.tagging.classes import noun_info

    if noun in ("", "unknown"):
        return ClassPrior("sound source", "unknown", 1.0, 1.0, False, False, "an open space", 4.0)
    info = noun_info(noun)  # unknown nouns get a generic 1 m object
    indoor = bool(info.indoor)
    distance_m = FAMILY_DISTANCE_M.get(
        info.family, INDOOR_DISTANCE_M if indoor else OUTDOOR_DISTANCE_M
    )
    return ClassPrior(
        noun=info.noun,
        family=info.family,
        width_m=float(info.width_m),
        height_m=float(info.height_m),
        flying=bool(info.flying),
        indoor=indoor,
        scene=info.scene or ("a room" if indoor else "an open field"),
        distance_m=float(distance_m),
        usually_moving=bool(info.usually_moving),
    )


# --- per-source planning ------------------------------------------------------------


def _audible_sources(cues: Cues) -> list[CueTrack]:
    """Sources active in at least one frame, in hearing's order (strongest first)."""
    return [t for t in cues.sources if np.any(t.active)]


def smooth_track(
    times_s: np.ndarray, values: np.ndarray, weights: np.ndarray, sigma_s: float
) -> np.ndarray:
    """Weighted Gaussian smoothing (normalized convolution) that bridges gaps.

    Frames with weight 0 do not pull the result; where no weighted frame is near,
    the value is interpolated linearly from the nearest smoothed ones.

    >>> t = np.arange(5) * 0.1
    >>> smooth_track(t, np.array([0.0, 0, 99, 10, 10]), np.array([1.0, 1, 0, 1, 1]), 0.01)
    array([ 0.,  0.,  5., 10., 10.])
    """
    values = np.asarray(values, dtype=float)
    weights = np.where(np.isfinite(values), np.asarray(weights, dtype=float), 0.0)
    values = np.where(np.isfinite(values), values, 0.0)
    if not np.any(weights > 0):
        return np.full_like(values, float(np.mean(values)) if values.size else 0.0)
    dt = float(np.median(np.diff(times_s))) if len(times_s) > 1 else 1.0
    sigma = max(sigma_s / dt, 1e-3)
    num = gaussian_filter1d(values * weights, sigma, mode="nearest")
    den = gaussian_filter1d(weights, sigma, mode="nearest")
    ok = den > 1e-3 * float(weights.max())
    out = np.empty_like(values)
    out[ok] = num[ok] / den[ok]
    out[~ok] = np.interp(times_s[~ok], times_s[ok], out[ok])
    return out


def smooth_azimuth(
    times_s: np.ndarray, azimuth_deg: np.ndarray, weights: np.ndarray, sigma_s: float
) -> np.ndarray:
    """Weighted smoothing of directions on the circle (degrees in (-180, 180]).

    Smoothing unit vectors instead of angles keeps a track that wraps at +-180 deg in
    one piece, and bounds the pull of a stray frame (a unit vector, whatever its angle).

    >>> t = np.arange(4) * 0.1
    >>> az = smooth_azimuth(t, np.array([179.0, -179.0, 179.0, -179.0]), np.ones(4), 0.5)
    >>> np.abs(az).round().tolist()  # all behind, none averaged to 0 (straight ahead)
    [180.0, 180.0, 180.0, 180.0]
    """
    rad = np.radians(np.asarray(azimuth_deg, dtype=float))
    cos_s = smooth_track(times_s, np.cos(rad), weights, sigma_s)
    sin_s = smooth_track(times_s, np.sin(rad), weights, sigma_s)
    return np.degrees(np.arctan2(sin_s, cos_s))


def label_cue_factor(
    prior: ClassPrior,
    *,
    elevated: bool = False,
    at_horizon: bool = False,
    moving: bool = False,
    still: bool = False,
) -> tuple[float, list[str]]:
    """How likely the heard cues are for a class, relative to a class they say nothing
    about: a product of likelihood ratios, and the reasons for each one below 1.

    Parameters
    ----------
    prior : ClassPrior
        The class (``flying``, ``usually_moving``, ``indoor``).
    elevated : bool
        Heard at least :data:`FLYING_LABEL_MIN_ELEVATION_DEG` above the horizon (FOA).
    at_horizon : bool
        Heard within :data:`HORIZON_MAX_ELEVATION_DEG` of the horizon (FOA).
    moving : bool
        Clear evidence of motion (see :func:`label_cues`).
    still : bool
        No evidence of motion at all.

    >>> car = class_prior("car")
    >>> label_cue_factor(car, elevated=True)
    (0.05, ['heard above the horizon, not on the ground'])
    >>> label_cue_factor(class_prior("piano"), moving=True)[0]
    0.3
    """
    factor, why = 1.0, []
    if prior.family == "unknown":
        return factor, why
    if at_horizon and prior.flying:
        factor *= FLYING_AT_HORIZON_FACTOR
        why.append("heard at the horizon, not in the sky")
    if elevated and not prior.flying:
        factor *= GROUND_ELEVATED_FACTOR
        why.append("heard above the horizon, not on the ground")
    if moving and not prior.usually_moving:
        factor *= STILL_CLASS_MOVING_FACTOR
        why.append("heard moving, rarely moves")
    if still and prior.usually_moving:
        factor *= MOVING_CLASS_STILL_FACTOR
        why.append("heard still, usually moves")
    return factor, why


def label_cues(track: CueTrack, facts: dict[str, float] | None) -> dict[str, bool | None]:
    """The cues that bear on what a source is, as keyword arguments of
    :func:`label_cue_factor`.

    ``moving``: the strict motion rules (those for classes that rarely move) find a
    crossing or a depth trend, or the Doppler fit a speed of at least
    :data:`MOVING_MIN_SPEED_MPS`; ``still``: even the lenient rules find none and there
    is no Doppler speed.

    Where the other sources live (indoors/outdoors) is deliberately not a cue: the
    class table's place of an instrument is a weak guess (an accordion "on a street"),
    and with two sources each would overrule the other's label.
    """
    cues: dict[str, bool | None] = {
        "elevated": False,
        "at_horizon": False,
        "moving": False,
        "still": False,
    }
    active = np.asarray(track.active, dtype=bool)
    if track.elevation_deg is not None and np.any(active):
        elev = np.asarray(track.elevation_deg, dtype=float)[active]
        elev = elev[np.isfinite(elev)]
        median_deg = float(np.median(elev)) if elev.size else float("nan")
        cues["elevated"] = bool(median_deg >= FLYING_LABEL_MIN_ELEVATION_DEG)
        cues["at_horizon"] = bool(abs(median_deg) <= HORIZON_MAX_ELEVATION_DEG)
    speed = track.speed_mps if track.speed_mps is not None else float("nan")
    fast = bool(np.isfinite(speed) and speed >= MOVING_MIN_SPEED_MPS)
    if facts is not None:
        cues["moving"] = fast or motion_from_tracks(facts, usually_moving=False) != "static"
        cues["still"] = not fast and motion_from_tracks(facts, usually_moving=True) == "static"
    return cues


def choose_label(
    track: CueTrack,
    facts: dict[str, float] | None = None,
) -> tuple[Label | None, str]:
    """The label to draw and why: the tagger's label with the best posterior, its
    evidence (:func:`ranked_evidence`) times :func:`label_cue_factor` of the heard cues
    (:func:`label_cues`).

    A source heard 39 deg up (FOA) is the "helicopter" among its labels, not the "car"
    its engine sounds like more; a source crossing the view is the "car" rather than
    the "organ" the tagger ranked first. Ties keep the tagger's order.

    Parameters
    ----------
    track : CueTrack
        The source, with its labels (best first).
    facts : dict or None
        Its cue figures (:func:`_cue_facts`); None: motion is not used.
    Returns
    -------
    (Label or None, str)
        The chosen label (None without labels) and a sentence for the reasoning.
    """
    if not track.labels:
        return None, ""
    cues = label_cues(track, facts)
    evidence = ranked_evidence([label.score for label in track.labels])
    scored = []
    for label, tagger_evidence in zip(track.labels, evidence, strict=True):
        factor, why = label_cue_factor(class_prior(label.noun), **cues)
        scored.append((tagger_evidence * factor, label, why))
    best_index = max(range(len(scored)), key=lambda k: (scored[k][0], -k))
    best = scored[best_index][1]
    if best_index == 0:
        return best, ""
    first = scored[0]
    return best, (
        f"label {best.noun} ({best.audio_label} {best.score:.2f}) chosen over the tagger's "
        f"first, {first[1].noun} ({first[1].audio_label} {first[1].score:.2f}; cues x"
        f"{first[0] / max(evidence[0], 1e-9):.2f}: {', '.join(first[2]) or 'none against'})"
    )


def ranked_evidence(scores: Sequence[float]) -> list[float]:
    """The tagger's support for each of its labels, best first, as a non-increasing list.

    The tagger ranks a child class in the place of the generic parent that vouches for
    it ("Music" 0.9 -> "flute" 0.46 first, the weak guess "musician" 0.56 after it), so a
    label's own score understates its rank: each label is given the highest score among
    itself and the labels ranked below it.

    >>> ranked_evidence([0.46, 0.16, 0.56])
    [0.56, 0.56, 0.56]
    >>> ranked_evidence([0.2, 0.11])
    [0.2, 0.11]
    """
    out = [float(s) for s in scores]
    for k in range(len(out) - 2, -1, -1):
        out[k] = max(out[k], out[k + 1])
    return out


def dominant_azimuth(azimuth_deg: np.ndarray, weights: np.ndarray) -> float:
    """The direction a track points to most of the time (a weighted circular mode).

    A weighted histogram (1 deg bins, circularly smoothed over 5 deg) gives the peak;
    the result is the weighted circular mean of the frames within 20 deg of it.

    >>> az = np.array([30.0] * 6 + [-150.0] * 3 + [28.0, 32.0])
    >>> round(dominant_azimuth(az, np.ones(az.size)))
    30
    """
    az = np.asarray(azimuth_deg, dtype=float)
    w = np.where(np.isfinite(az), np.asarray(weights, dtype=float), 0.0)
    az = np.where(np.isfinite(az), az, 0.0)
    if not np.any(w > 0):
        w = np.ones_like(az)
    bins = np.floor(np.mod(az + 180.0, 360.0)).astype(int) % 360
    hist = np.bincount(bins, weights=w, minlength=360)
    hist = gaussian_filter1d(hist, 5.0, mode="wrap")
    peak_deg = float(np.argmax(hist)) + 0.5 - 180.0
    near = np.abs((az - peak_deg + 180.0) % 360.0 - 180.0) <= 20.0
    rad = np.radians(az[near])
    return float(
        np.degrees(np.arctan2(np.sum(w[near] * np.sin(rad)), np.sum(w[near] * np.cos(rad))))
    )


def _plan_source(
    track: CueTrack,
    object_id: int,
    times_s: np.ndarray,
    fps: float,
) -> SourcePlan:
    t = np.asarray(track.times_s, dtype=float)
    active = np.asarray(track.active, dtype=bool)

    # Direction: confidence-weighted circular smoothing (see smooth_azimuth).
    az_weight = active * np.clip(np.nan_to_num(track.azimuth_confidence), 0.0, 1.0)
    if not np.any(az_weight > 0):
        az_weight = active.astype(float)
    az_s = smooth_azimuth(t, np.asarray(track.azimuth_deg, float), az_weight, AZIMUTH_SIGMA_S)

    # Distance heard: 1/r from the smoothed level, relative to the mean level over the
    # span, anchored by the class prior distance (the geometric mean of the trajectory).
    level = smooth_track(t, np.asarray(track.loudness_db, float), active, LOUDNESS_SIGMA_S)
    ref_db = float(np.mean(level[active]))
    rel = np.clip(10.0 ** ((ref_db - level) / 20.0), 1 / DISTANCE_RANGE, DISTANCE_RANGE)

    # What it is: the cue figures (motion) do not depend on the class, so they help
    # choose it; the relative distance stands in for the class's distance here.
    label, label_choice = choose_label(track, _cue_facts(track, t, active, az_s, level, rel))
    audio_label = label.audio_label if label else "unknown"
    prior = class_prior(label.noun if label else "unknown")
    heard_m = np.maximum(prior.distance_m * rel, MIN_DISTANCE_M)

    facts = _cue_facts(track, t, active, az_s, level, heard_m)
    motion = choose_motion(track, facts, prior.usually_moving)
    if motion in ("approaching", "receding"):
        # The straight-line trend, not the raw level: the source's own loudness
        # changes (a gear change, a louder note) must not make the box pump. The
        # distance track's trend when it is the one that says so (see motion_from_tracks).
        change_db = depth_change_db(facts, motion)
        trend_db = change_db * (t - t[active].mean()) / max(np.ptp(t[active]), 1e-6)
        heard_m = np.clip(prior.distance_m * 10.0 ** (-trend_db / 20.0), MIN_DISTANCE_M, None)
    if motion in ("static", "approaching", "receding"):
        # A still object, or one moving along the line of sight, keeps its direction: one
        # place, the direction heard most of the time (robust to stretches where a
        # reflection wins), instead of wandering with the estimate.
        az_s = np.full_like(az_s, dominant_azimuth(np.asarray(track.azimuth_deg, float), az_weight))
    dist_m = distance_track(motion, az_s, heard_m, prior.distance_m)
    elevation_deg = _elevation_deg(track, active, prior)

    span0, span1 = track.span_s
    half = 0.5 / fps
    in_span = (times_s >= span0 - half) & (times_s <= span1 + half)
    # Unwrapped, so a track crossing +-180 deg (behind) does not sweep through 0 (ahead).
    az_k = np.interp(times_s, t, np.unwrap(az_s, period=360.0))
    az_k = (az_k + 180.0) % 360.0 - 180.0
    dist_k = np.exp(np.interp(times_s, t, np.log(dist_m)))

    boxes: list[tuple[float, float, float, float] | None] = []
    for on, az, dist in zip(in_span, az_k, dist_k, strict=True):
        box = None
        if on and abs(az) < 90.0:
            base_m = 0.0
            if elevation_deg is not None:  # flying: centred on the elevation direction
                depth_m = dist * math.cos(math.radians(az))
                base_m = CAMERA_HEIGHT_M + depth_m * math.tan(math.radians(elevation_deg))
                base_m -= prior.height_m / 2
            box = project_box(Position.from_polar(az, dist, base_m), prior.width_m, prior.height_m)
        boxes.append(_drawable(box))
    present = np.array([b is not None for b in boxes], dtype=bool)
    return SourcePlan(
        object_id=object_id,
        track=track,
        prior=prior,
        audio_label=audio_label,
        present=present,
        azimuth_deg=az_k,
        distance_m=dist_k,
        boxes=boxes,
        motion=motion,
        facts=facts,
        label_choice=label_choice,
    )


def _drawable(box: tuple[float, ...] | None) -> tuple[float, float, float, float] | None:
    """The box rounded for the JSON file, or None when only a sliver is left in view."""
    if box is None:
        return None
    x0, y0, x1, y1 = (round(float(v), 4) for v in box)
    if x1 - x0 < 1e-3 or y1 - y0 < 1e-3:
        return None
    return (x0, y0, x1, y1)


def distance_track(
    motion: str, azimuth_deg: np.ndarray, heard_m: np.ndarray, prior_m: float
) -> np.ndarray:
    """Horizontal distance per frame, from the motion class.

    - static: the class prior distance (the level says little about absolute distance,
      and a steady box is what a static object looks like);
    - passing left/right: a straight pass at constant depth ``prior_m`` (the distance
      grows as ``1 / cos(azimuth)``), which is what the camera sees of a vehicle crossing
      the view; loudness dynamics of the source itself do not make the box pump;
    - approaching/receding/other: the 1/r distance heard from the level.
    """
    if motion == "static":
        return np.full(azimuth_deg.shape, prior_m)
    if motion in ("left-to-right", "right-to-left"):
        cos_az = np.maximum(np.cos(np.radians(azimuth_deg)), math.cos(math.radians(80.0)))
        return prior_m / cos_az
    return heard_m


def _elevation_deg(track: CueTrack, active: np.ndarray, prior: ClassPrior) -> float | None:
    """Elevation (deg) at which a flying source is drawn; None for ground classes.

    Measured (FOA) when available, else :data:`FLYING_ELEVATION_DEG`. Kept constant, so
    an aircraft flying away shrinks towards the same point instead of sliding off the top.
    """
    if not prior.flying:
        return None
    if track.elevation_deg is not None:
        elev = np.asarray(track.elevation_deg, dtype=float)[active]
        elev = elev[np.isfinite(elev)]
        if elev.size:
            return float(np.clip(np.median(elev), 0.0, 60.0))
    return FLYING_ELEVATION_DEG


def _edge_median(values: np.ndarray, active: np.ndarray, first: bool, frac: float = 0.15):
    """Median of the first (or last) ``frac`` of the active frames."""
    idx = np.flatnonzero(active)
    n = max(1, round(frac * idx.size))
    sel = idx[:n] if first else idx[-n:]
    vals = values[sel]
    vals = vals[np.isfinite(vals)]
    return float(np.median(vals)) if vals.size else float("nan")


def _cue_facts(
    track: CueTrack,
    t: np.ndarray,
    active: np.ndarray,
    az_s: np.ndarray,
    level_db: np.ndarray,
    dist_m: np.ndarray,
) -> dict[str, float]:
    """The cue figures the layout rests on (quoted in the reasoning)."""
    act_idx = np.flatnonzero(active)
    peak = act_idx[int(np.argmax(level_db[act_idx]))]
    facts = {
        "az_start_deg": _edge_median(az_s, active, first=True),
        "az_end_deg": _edge_median(az_s, active, first=False),
        "level_start_db": _edge_median(level_db, active, first=True),
        "level_end_db": _edge_median(level_db, active, first=False),
        "level_peak_db": float(level_db[peak]),
        "peak_s": float(t[peak]),
        "dist_ratio": _edge_median(dist_m, active, first=False)
        / _edge_median(dist_m, active, first=True),
        "span_start_s": float(t[act_idx[0]]),
        "span_end_s": float(t[act_idx[-1]]),
    }
    facts["level_trend_db"], facts["level_trend_r2"] = level_trend(t[active], level_db[active])
    if track.distance_proxy is not None:
        # As a level: 20 log10 of how much nearer the source is (+ = approaching).
        near_db = -20.0 * np.log10(np.maximum(np.asarray(track.distance_proxy, float), 1e-6))
        facts["distance_trend_db"], facts["distance_trend_r2"] = level_trend(
            t[active], near_db[active]
        )
    # Azimuth change from a straight-line fit over the whole span: one bad stretch at an
    # end (a reflection taking over) cannot flip a crossing the way endpoints can. Only
    # frames heard in front count when there are enough: the camera shows the front,
    # and in a room a source's estimate can flip to the back for a moment.
    front = active & (np.abs(az_s) < 90.0)
    use = front if front.sum() >= max(3, 0.2 * active.sum()) else active
    facts["az_trend_deg"], facts["az_trend_r2"] = level_trend(t[use], az_s[use])
    pitch_change = track.pitch_change_ratio
    if pitch_change is None and track.pitch_hz is not None:
        pitch = np.asarray(track.pitch_hz, dtype=float)
        p0 = _edge_median(pitch, active & np.isfinite(pitch), first=True, frac=0.2)
        p1 = _edge_median(pitch, active & np.isfinite(pitch), first=False, frac=0.2)
        if np.isfinite(p0) and np.isfinite(p1) and p0 > 0:
            pitch_change = p1 / p0 - 1.0
    if pitch_change is not None and np.isfinite(pitch_change):
        facts["pitch_change"] = float(pitch_change)
    if track.speed_mps is not None and np.isfinite(track.speed_mps):
        facts["speed_mps"] = float(track.speed_mps)
    return facts


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
    if abs(d_az) >= lateral_deg and facts.get("az_trend_r2", 1.0) >= lateral_r2:
        return "right-to-left" if d_az > 0 else "left-to-right"
    if usually_moving and "distance_trend_db" in facts:
        near_db, r2 = facts["distance_trend_db"], facts["distance_trend_r2"]
        if abs(near_db) >= DISTANCE_RULE[0] and r2 >= DISTANCE_RULE[1]:
            return "approaching" if near_db > 0 else "receding"
    trend_db, r2 = facts["level_trend_db"], facts["level_trend_r2"]
    if any(abs(trend_db) >= min_db and r2 >= min_r2 for min_db, min_r2 in depth_rules):
        return "approaching" if trend_db > 0 else "receding"
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


# --- layout text -------------------------------------------------------------------------


def position_word(x: float) -> str:
    """'on the left' / 'in the centre' / 'on the right' for a box centre x."""
    if x < 1 / 3:
        return "on the left"
    if x > 2 / 3:
        return "on the right"
    return "in the centre"


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _scene_phrase(scene: str) -> str:
    on_words = ("street", "highway", "road", "railway", "stage", "field", "farm", "track")
    prep = "on" if scene.split()[-1] in on_words else "in"
    return f"{prep} {scene}"


def object_phrase(noun: str, family: str, motion: str, x: float) -> str:
    """Caption phrase of one object, e.g. 'a car drives past from right to left'.

    ``x`` (box centre) places a static object: 'a piano plays on the left'.

    >>> object_phrase("car", "vehicle", "right-to-left", 0.5)
    'a car drives past from right to left'
    """
    moving = _MOVING_VERBS.get(family, "moves")
    if motion == "left-to-right":
        return f"{_article(noun)} {moving} past from left to right"
    if motion == "right-to-left":
        return f"{_article(noun)} {moving} past from right to left"
    if motion == "approaching":
        return f"{_article(noun)} {moving} towards the camera"
    if motion == "receding":
        return f"{_article(noun)} {moving} away from the camera"
    return f"{_article(noun)} {_STATIC_VERBS.get(family, 'sounds')} {position_word(x)}"


def scene_caption(phrases: list[str], scene: str) -> str:
    """Global caption: the object phrases joined, then where ('... on a street')."""
    return " and ".join(phrases) + " " + _scene_phrase(scene)


def _object_phrase(plan: SourcePlan) -> str:
    x = float(azimuth_to_x(float(np.median(plan.azimuth_deg[plan.present]))))
    return object_phrase(plan.prior.noun, plan.prior.family, plan.motion, x)


def _frame_caption(plans: list[SourcePlan], k: int) -> str:
    parts = []
    for plan in plans:
        box = plan.boxes[k]
        if box is None:
            continue
        parts.append(f"{_article(plan.prior.noun)} {position_word((box[0] + box[2]) / 2)}")
    return "; ".join(parts) if parts else "nothing in view"


def _reasoning(cues: Cues, plans: list[SourcePlan], fps: float) -> str:
    lines = [
        f"{cues.layout} recording, {cues.duration_s:.1f} s, {len(plans)} audible source(s); "
        f"keyframes at {fps:g}/s; objects are listed only while sounding and in view."
    ]
    for plan in plans:
        f = plan.facts
        chosen = next(
            (lab for lab in plan.track.labels if lab.audio_label == plan.audio_label), None
        )
        score = chosen.score if chosen else 0.0
        bits = [
            f"azimuth went from {f['az_start_deg']:+.0f} to {f['az_end_deg']:+.0f} deg "
            f"(trend {f['az_trend_deg']:+.0f} deg, R^2 {f['az_trend_r2']:.2f})",
            f"loudness peaked at {f['peak_s']:.1f} s "
            f"(trend {f['level_trend_db']:+.1f} dB, R^2 {f['level_trend_r2']:.2f})",
        ]
        if "distance_trend_db" in f:
            bits.append(
                f"heard distance (level outdoors, direct-to-reverberant ratio in a room) "
                f"{'fell' if f['distance_trend_db'] > 0 else 'grew'} by "
                f"{abs(f['distance_trend_db']):.1f} dB (R^2 {f['distance_trend_r2']:.2f})"
            )
        if "pitch_change" in f:
            change = f["pitch_change"]
            bits.append(f"pitch {'fell' if change < 0 else 'rose'} {abs(change) * 100:.0f}%")
        if "speed_mps" in f:
            bits.append(f"Doppler speed ~{f['speed_mps']:.0f} m/s")
        summary = (
            f"hearing said lateral={plan.track.lateral_motion}, depth={plan.track.depth_motion}"
        )
        if plan.label_choice:
            bits.append(plan.label_choice)
        where = "in the air" if plan.prior.flying else "on the ground"
        lines.append(
            f"object {plan.object_id} (source {plan.track.source_id}, heard as "
            f"{plan.audio_label} {score:.2f} -> {plan.prior.noun}): "
            + "; ".join(bits)
            + f"; {summary} -> {plan.motion}. Drawn {plan.prior.width_m:g} x "
            f"{plan.prior.height_m:g} m {where}, {_distance_words(plan)}."
        )
    return "\n".join(lines)


def _distance_words(plan: SourcePlan) -> str:
    prior = f"{plan.prior.family} prior {plan.prior.distance_m:g} m"
    if plan.motion in ("approaching", "receding"):
        near, far = float(np.min(plan.distance_m)), float(np.max(plan.distance_m))
        return f"{near:.0f}-{far:.0f} m away from the depth trend (1/r, {prior})"
    if plan.motion in ("left-to-right", "right-to-left"):
        return f"passing at {plan.prior.distance_m:g} m depth ({prior})"
    return f"at {plan.prior.distance_m:g} m ({prior})"


def layout_dict(
    cues: Cues, plans: list[SourcePlan], times_s: np.ndarray, fps: float
) -> dict[str, object]:
    """Assemble the VSL as plain JSON data (validated by the caller)."""
    frames = []
    for k, t in enumerate(times_s):
        boxes = [
            {"id": p.object_id, "box": list(p.boxes[k])} for p in plans if p.boxes[k] is not None
        ]
        frames.append(
            {"t": round(float(t), 4), "caption": _frame_caption(plans, k), "boxes": boxes}
        )
    frames[-1]["t"] = min(frames[-1]["t"], float(cues.duration_s))
    shown = [p for p in plans if np.any(p.present)]
    if shown:
        scene = shown[0].prior.scene
        caption = scene_caption([_object_phrase(p) for p in shown], scene)
    else:
        scene = "an empty room"
        caption = "nothing can be seen: no sound source in view"
    return {
        "schema": "spa2v.vsl/1",
        "duration": float(cues.duration_s),
        "fps": float(fps),
        "width": 512,
        "height": 320,
        "caption": caption,
        "background": scene,
        "objects": [
            {
                "id": p.object_id,
                "name": p.prior.noun,
                "audio_label": p.audio_label,
                "motion": p.motion,
            }
            for p in plans
        ],
        "frames": frames,
        "reasoning": _reasoning(cues, plans, fps),
    }
