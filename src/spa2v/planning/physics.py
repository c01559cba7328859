"""The physics planner: cue tracks + class priors through the camera model -> a VSL.

Deterministic and offline. For each heard source:

1. **what** — ``name`` is the noun of the tagger's label with the best posterior: its
   score times how likely the heard cues are for the class (FOA elevation vs flying,
   heard motion vs a class that usually moves; :mod:`spa2v.planning.labels`),
   ``audio_label`` the label itself; the class
   prior gives its size, whether it flies or usually moves, its scene and a typical
   distance (a piano indoors, a car on a street);
2. **how it moves** — straight-line fits of the smoothed azimuth and level tracks
   (hearing's own summaries accepted when they agree), stricter for classes that rarely
   move (:mod:`spa2v.planning.motion`);
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
from typing import TYPE_CHECKING, Any

import numpy as np

from spa2v.camera import CAMERA_HEIGHT_M, Position, project_box
from spa2v.errors import LayoutError
from spa2v.hearing.cues import Cues, CueTrack
from spa2v.hearing.filters import gaussian_filter1d
from spa2v.planning.captions import frame_caption, plan_phrase, reasoning_text, scene_caption
from spa2v.planning.labels import choose_label
from spa2v.planning.limits import MAX_KEYFRAME_FPS, MAX_KEYFRAMES
from spa2v.planning.motion import (
    STILL_WANDER_MIN_DEG,
    WANDER_MIN_DEG,
    WANDER_SIGMA_S,
    choose_motion,
    depth_change_db,
    level_trend,
    zigzag_legs_deg,
)
from spa2v.planning.priors import ClassPrior, class_prior
from spa2v.planning.source_plan import SourcePlan

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
#: Elevation of flying sources when the recording has none (stereo/binaural): high
#: enough to read as "in the sky", low enough to stay in the 64 deg tall view.
FLYING_ELEVATION_DEG = 15.0


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
    from spa2v.planning.vsl import validate_vsl

    times_s, fps_out = keyframe_times(cues.duration_s, fps=fps, n_frames=n_frames)
    audible = _audible_sources(cues)
    plans = [
        _plan_source(track, object_id, times_s, fps_out) for object_id, track in enumerate(audible)
    ]
    data = layout_dict(cues, plans, times_s, fps_out)
    return validate_vsl(data)  # the model's rules; the JSON Schema is for text from outside


def keyframe_times(
    duration_s: float, fps: float | None = DEFAULT_FPS, n_frames: int | None = None
) -> tuple[np.ndarray, float]:
    """Keyframe times within ``[0, duration_s]`` and the keyframe rate they imply.

    >>> keyframe_times(1.0, fps=4.0)[0].tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> keyframe_times(2.0, fps=None, n_frames=3)
    (array([0., 1., 2.]), 1.0)
    """
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise LayoutError(f"cannot plan a layout for a clip of {duration_s:g} s")
    if n_frames is not None:
        if not 1 <= n_frames <= MAX_KEYFRAMES:
            raise LayoutError(f"--frames must be 1-{MAX_KEYFRAMES} (got {n_frames})")
        if n_frames == 1:
            return np.array([0.0]), 1.0 / duration_s
        return np.linspace(0.0, duration_s, n_frames), (n_frames - 1) / duration_s
    if fps is None or not 0 < fps <= MAX_KEYFRAME_FPS:
        raise LayoutError(f"--keyframe-fps must be above 0 and at most {MAX_KEYFRAME_FPS:g} "
                          f"(got {fps})")  # fmt: skip
    n = math.floor(duration_s * fps + 1e-9) + 1
    if n > MAX_KEYFRAMES:
        raise LayoutError(
            f"{duration_s:g} s at {fps:g} keyframes/s is {n} keyframes, over the "
            f"{MAX_KEYFRAMES} a layout may have: lower --keyframe-fps or use --frames"
        )
    return np.arange(n) / fps, float(fps)


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
    az_weight = direction_weight(track, active)
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
    if motion == "other":
        az_s = _slow_azimuth(track, t, active)  # the walk, without the estimate's jitter
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

    - static, and back and forth (other): the class prior distance (the level says
      little about absolute distance, and a steady box is what a still object looks
      like);
    - passing left/right: a straight pass at constant depth ``prior_m`` (the distance
      grows as ``1 / cos(azimuth)``), which is what the camera sees of a vehicle crossing
      the view; loudness dynamics of the source itself do not make the box pump;
    - approaching/receding: the 1/r distance heard from the level.
    """
    if motion in ("static", "other"):
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


def _slow_azimuth(track: CueTrack, t: np.ndarray, active: np.ndarray) -> np.ndarray:
    """The azimuth smoothed over :data:`~spa2v.planning.motion.WANDER_SIGMA_S`
    (confidence-weighted, frames heard in front): the path of a source that walks back
    and forth."""
    azimuth = np.asarray(track.azimuth_deg, float)
    # Only what is heard in front: a moment where a reflection from behind wins must
    # not read as a walk round.
    weight = direction_weight(track, active) * (np.abs(azimuth) < 90.0)
    if not np.any(weight > 0):
        weight = direction_weight(track, active)
    return smooth_azimuth(t, azimuth, weight, WANDER_SIGMA_S)


def direction_weight(track: CueTrack, active: np.ndarray) -> np.ndarray:
    """How much each frame's azimuth counts: the confidence squared on active frames
    (all active frames alike if none is confident).

    Squared because a frame of a distant talker's pause or of a room's diffuse sound
    still has a map peak, low and anywhere (often at the sides, where the phase map
    is flat); at confidence 0.05 against 0.25 for a clear syllable it should count
    1/25 as much, not 1/5.
    """
    confidence = np.clip(np.nan_to_num(track.azimuth_confidence), 0.0, 1.0)
    weight = active * confidence**2
    return weight if np.any(weight > 0) else active.astype(float)


def _turns(slow_az_deg: np.ndarray, active: np.ndarray, min_leg_deg: float) -> int:
    """How often the slowly smoothed direction turns round in front of the camera,
    counting legs of at least ``min_leg_deg``."""
    front = active & (np.abs(slow_az_deg) < 90.0)
    if front.sum() < 3:
        return 0
    legs = zigzag_legs_deg(np.unwrap(slow_az_deg[front], period=360.0), min_leg_deg)
    return max(0, len(legs) - 1)


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
    slow = _slow_azimuth(track, t, active)
    facts["az_turns"] = float(_turns(slow, active, WANDER_MIN_DEG))
    facts["az_turns_still"] = float(_turns(slow, active, STILL_WANDER_MIN_DEG))
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


def layout_dict(
    cues: Cues, plans: list[SourcePlan], times_s: np.ndarray, fps: float
) -> dict[str, object]:
    """Assemble the VSL as plain JSON data (validated by the caller)."""
    frames: list[dict[str, Any]] = []
    for k, t in enumerate(times_s):
        boxes = [
            {"id": p.object_id, "box": list(box)} for p in plans if (box := p.boxes[k]) is not None
        ]
        frames.append({"t": round(float(t), 4), "caption": frame_caption(plans, k), "boxes": boxes})
    frames[-1]["t"] = min(frames[-1]["t"], float(cues.duration_s))
    shown = [p for p in plans if np.any(p.present)]
    if shown:
        scene = shown[0].prior.scene
        caption = scene_caption([plan_phrase(p) for p in shown], scene)
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
        "reasoning": reasoning_text(cues, plans, fps),
    }
