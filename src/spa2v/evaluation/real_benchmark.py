"""The real-recording benchmark behind ``spa2v bench --real MANIFEST``.

Each clip of a ``spa2v-realset/1`` manifest (:mod:`spa2v.evaluation.realset`) is run
through the same pipeline as the simulated benchmark,

    load -> hear -> tag -> plan,

and the planned layout is scored against the clip's annotation; a trivial layout with
one box at the centre per sounding source (named with the set's most common family) is
scored in the same run as a floor. ``docs/real-benchmark.md`` states every rule; in
short, per sounding source, on a grid of :data:`~spa2v.evaluation.benchmark.EVAL_FPS`
frames per second over the span its track covers (annotations interpolated between
keyframes, azimuth on the circle; end keyframes within :data:`EDGE_HOLD_S` of the clip's
ends hold to them):

* the true position in spa2v's 90-degree camera is ``azimuth_to_x(azimuth)`` while
  ``|azimuth| <= 45`` deg (in view) and nothing otherwise; in a perspective picture of
  unknown lens, the annotated ``x`` of that picture, always in view;
* each sounding source is matched to one planned object with the simulated benchmark's
  rule (:func:`~spa2v.evaluation.layout_metrics.match_objects`: mean centre-x distance
  where either is in view, 0.5 where only one is, +0.1 if the object's family is not
  the source's; Hungarian assignment);
* **side** (sources clearly off-centre all along: lateral angle >= 12 deg, or
  ``|x - 0.5| >= 0.12``): the median planned centre is on the true side; a source that
  is never in view may have no box;
* **L/C/R** and **azimuth error** on the in-view samples; a missing box counts as wrong
  / :data:`MISSING_AZIMUTH_ERROR_DEG`; per source, then averaged over sources;
* **off-view**: on samples where the source is outside the view, no box or a box in the
  third of the frame on the source's side;
* **direction** per motion segment (``segments``, else a clip-level lateral motion):
  the turn of the planned centre from the segment's first to its last sample
  (:func:`segment_motion`);
* **approach/recede**: the change of the planned box height
  (:func:`~spa2v.planning.vsl.motion_from_boxes`);
* **label family**: the matched object's noun belongs to ``family`` or ``family_alt``;
* **empty**: the layout has no object.

Clips whose ``lateral_cue`` is not ``ok`` skip the lateral tests (side, L/C/R, azimuth,
off-view, direction). Dual-mono clips and peer-output references are pooled apart.

Example
-------
>>> report = run_real_benchmark("realdata/manifest.json")  # doctest: +SKIP
>>> write_real_report(report, "bench-out")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from spa2v.camera import azimuth_to_x, horizontal_zone, x_to_azimuth
from spa2v.errors import OutputError
from spa2v.evaluation.benchmark import (
    EVAL_FPS,
    empty_layout,
    error_line,
    evaluation_times,
    format_metric,
    hear_and_plan,
    json_safe,
    map_clips,
)
from spa2v.evaluation.layout_metrics import (
    DEPTH_MOTIONS,
    TruthTrack,
    centre_baseline,
    centre_x,
    match_objects,
    sample_boxes,
)
from spa2v.evaluation.realset import (
    FORMAT_LAYOUTS,
    Clip,
    RealSet,
    Segment,
    Source,
    lateral_angle_deg,
    load_realset,
    noun_family,
)
from spa2v.hearing.motion import classify_motion
from spa2v.io.atomic import write_text_atomic
from spa2v.planning.vsl import VSL, motion_from_boxes

REPORT_SCHEMA = "spa2v.realbench/1"
METHODS = ("planner", "floor")
#: Half the 90-degree view: a source further off-axis is outside the camera's picture.
VIEW_HALF_DEG = 45.0
#: A source is clearly off-centre beyond this lateral angle ...
MIN_SIDE_ANGLE_DEG = 12.0
#: ... or this distance from the centre of a picture whose lens is unknown.
MIN_SIDE_OFFSET_X = 0.12
#: Azimuth error charged for an in-view sample without a planned box (the view's half
#: width: as far off as a box can be).
MISSING_AZIMUTH_ERROR_DEG = VIEW_HALF_DEG
#: A track's first (last) keyframe this close to the clip's start (end) stands for it.
EDGE_HOLD_S = 0.5
#: Over a direction segment, the planned centre must turn at least this far (as seen
#: through the camera model) to count as moving: annotated segments are at least 12 deg
#: long, so the package's crossing threshold (15 deg over a whole clip) would fail a
#: layout that follows them exactly; 3 deg is about 0.03 of the frame near the centre.
MIN_SEGMENT_TURN_DEG = 3.0

#: (key, title, kind, count key) of the pooled metrics, in table order. Kinds: "pct"
#: (a rate), "deg" (an error in degrees), "count" (clips).
METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("side_acc", "side %", "pct", "n_side"),
    ("lcr_acc", "L/C/R %", "pct", "n_lcr"),
    ("azimuth_error_deg", "azimuth err deg", "deg", "n_azimuth"),
    ("offview_acc", "off-view %", "pct", "n_offview"),
    ("direction_acc", "direction %", "pct", "n_direction"),
    ("depth_acc", "appr/rec %", "pct", "n_depth"),
    ("label_acc", "label family %", "pct", "n_label"),
    ("empty_clips", "clips w/o object", "count", "n_clips"),
)
#: Done-when figures on the overall pool (azimuth error: FOA clips only), as
#: (metric, comparison, threshold, pool).
TARGETS: tuple[tuple[str, str, float, str], ...] = (
    ("side_acc", ">=", 0.90, "overall"),
    ("direction_acc", ">=", 0.90, "overall"),
    ("label_acc", ">=", 0.80, "overall"),
    ("azimuth_error_deg", "<=", 10.0, "foa-ambix"),
    ("empty_clips", "<=", 0.0, "overall"),
)


# -- the truth of one source on the grid --------------------------------------------------


@dataclass
class SourceTruth:
    """One sounding source on the evaluation grid.

    ``azimuth_deg`` is NaN where unknown; ``camera_x`` is the true centre in spa2v's
    90-degree camera (or in the clip's own picture when only ``x`` is known), NaN where
    the source is out of view or its position unknown.
    """

    source: Source
    times_s: np.ndarray
    annotated: np.ndarray  # samples within the track's span
    azimuth_deg: np.ndarray
    camera_x: np.ndarray
    has_position: bool

    @property
    def in_view(self) -> np.ndarray:
        return ~np.isnan(self.camera_x)

    @property
    def out_of_view(self) -> np.ndarray:
        """Samples with a known azimuth outside the view."""
        return np.isfinite(self.azimuth_deg) & ~self.in_view

    @property
    def ever_seen(self) -> bool:
        """In view at some sample, or of unknown position (then nothing says it is not)."""
        return bool(self.in_view.any()) or not self.has_position


def annotated_span(source: Source, duration_s: float) -> tuple[float, float]:
    """The time span a track covers: its first to last keyframe, stretched to the clip's
    start (end) when the first (last) keyframe is within :data:`EDGE_HOLD_S` of it
    (annotators read the picture a little inside the clip's ends)."""
    start, end = source.track[0].t_s, source.track[-1].t_s
    return (
        0.0 if start <= EDGE_HOLD_S else start,
        duration_s if end >= duration_s - EDGE_HOLD_S else end,
    )


def clip_grid(clip: Clip, eval_fps: float = EVAL_FPS) -> np.ndarray:
    """The evaluation grid of a clip: ``0, 1/eval_fps, ...`` up to its duration."""
    return evaluation_times(clip.duration_s, eval_fps)


def interpolate_azimuth(
    times_s: np.ndarray, key_t: Sequence[float], key_az: Sequence[float]
) -> np.ndarray:
    """Azimuth at ``times_s`` between keyframes, the short way round the circle, in
    (-180, 180]; the first and last keyframes hold outside their span.

    >>> interpolate_azimuth(np.array([0.5]), [0.0, 1.0], [170.0, -170.0])
    array([180.])
    """
    unwrapped = np.degrees(np.unwrap(np.radians(np.asarray(key_az, dtype=float))))
    az = np.interp(times_s, key_t, unwrapped)
    return 180.0 - np.mod(180.0 - az, 360.0)


def source_truth(source: Source, clip: Clip, times_s: np.ndarray) -> SourceTruth:
    """Interpolate a source's track onto the grid (within its annotated span) and place
    it in the camera."""
    nan = np.full(len(times_s), np.nan)
    start, end = annotated_span(source, clip.duration_s)
    annotated = (times_s >= start - 1e-9) & (times_s <= end + 1e-9)
    with_az = [k for k in source.track if k.azimuth_deg is not None]
    with_x = [k for k in source.track if k.x is not None]
    azimuth, camera = nan.copy(), nan.copy()
    if with_az:
        azimuth = interpolate_azimuth(
            times_s, [k.t_s for k in with_az], [float(k.azimuth_deg or 0.0) for k in with_az]
        )
        in_view = np.abs(azimuth) <= VIEW_HALF_DEG
        camera[in_view] = azimuth_to_x(azimuth[in_view])
    elif with_x and clip.frame.kind == "perspective":
        camera = np.interp(times_s, [k.t_s for k in with_x], [float(k.x or 0.0) for k in with_x])
    azimuth[~annotated] = np.nan
    camera[~annotated] = np.nan
    return SourceTruth(
        source=source,
        times_s=times_s,
        annotated=annotated,
        azimuth_deg=azimuth,
        camera_x=camera,
        has_position=bool(with_az) or (bool(with_x) and clip.frame.kind == "perspective"),
    )


def true_side(truth: SourceTruth) -> str | None:
    """``"left"`` / ``"right"`` when the source is clearly off-centre on one side at
    annotated sample, else None (no side test)."""
    azimuth = truth.azimuth_deg[truth.annotated]
    if len(azimuth) and np.isfinite(azimuth).all():
        lateral = np.array([lateral_angle_deg(a) for a in azimuth])
        if (lateral >= MIN_SIDE_ANGLE_DEG).all():
            return "left"
        if (lateral <= -MIN_SIDE_ANGLE_DEG).all():
            return "right"
        return None
    x = truth.camera_x[truth.annotated]
    if truth.has_position and len(x) and np.isfinite(x).all():
        if (x <= 0.5 - MIN_SIDE_OFFSET_X).all():
            return "left"
        if (x >= 0.5 + MIN_SIDE_OFFSET_X).all():
            return "right"
    return None


def direction_tests(source: Source) -> list[Segment]:
    """The direction tests of a source: its ``segments`` when given (even empty), else
    its clip-level lateral motion over the annotated span."""
    if source.segments is not None:
        return list(source.segments)
    if source.motion == "left-to-right" or source.motion == "right-to-left":
        track = source.track
        if track[-1].t_s > track[0].t_s:
            return [Segment(t0=track[0].t_s, t1=track[-1].t_s, motion=source.motion)]
    return []


def segment_motion(centre_xs: np.ndarray) -> str:
    """The lateral motion a planned centre shows over a segment: the turn from its first
    to its last sample through the camera model, classified by the package's motion rule
    (:func:`~spa2v.hearing.motion.classify_motion`) at :data:`MIN_SEGMENT_TURN_DEG`;
    ``"none"`` without a box.

    >>> segment_motion(np.array([0.5, 0.45, 0.4])), segment_motion(np.array([0.5, 0.51]))
    ('right-to-left', 'static')
    """
    if len(centre_xs) == 0:
        return "none"
    turn_deg = float(x_to_azimuth(centre_xs[-1]) - x_to_azimuth(centre_xs[0]))
    return classify_motion(turn_deg, 0.0, crossing_deg=MIN_SEGMENT_TURN_DEG)


def true_depth(source: Source) -> str | None:
    """``"approaching"`` / ``"receding"`` when the annotation says so, else None."""
    if source.depth_motion is not None:
        return source.depth_motion
    return source.motion if source.motion in DEPTH_MOTIONS else None


# -- scoring one layout -------------------------------------------------------------------


@dataclass
class SourceScore:
    """What was scored for one sounding source, and how it came out (None: not tested)."""

    source: str  # "class (family)"
    object: str | None = None  # matched planned object, "name (family)"
    side: dict[str, Any] | None = None  # {"true", "planned", "ok"}
    lcr: dict[str, Any] | None = None  # {"n", "acc", "true", "planned"} (majority thirds)
    azimuth: dict[str, Any] | None = None  # {"n", "error_deg", "true_deg", "planned_deg"}
    offview: dict[str, Any] | None = None  # {"n", "acc"}
    directions: list[dict[str, Any]] = field(default_factory=list)  # {"t0","t1","true",...}
    depth: dict[str, Any] | None = None  # {"true", "planned", "ok"}
    label: dict[str, Any] | None = None  # {"true", "planned", "ok"}


@dataclass
class LayoutScore:
    """One layout of one clip, scored."""

    sources: list[SourceScore]
    empty: bool | None  # the layout has no object (None: nothing sounds in the clip)
    objects: list[str]  # "name (family, motion)" per planned object
    unmatched_objects: int = 0


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if len(values) else math.nan


def _side_of_x(x: float) -> str:
    return "left" if x < 0.5 else "right" if x > 0.5 else "centre"


def _mode(values: Sequence[str]) -> str | None:
    return statistics.mode(values) if values else None


def score_layout(
    clip: Clip,
    vsl: VSL,
    times_s: np.ndarray,
    families: dict[int, str] | None = None,
) -> LayoutScore:
    """Score a layout against a clip's annotation (rules: the module docstring).

    ``families`` overrides the family of planned objects by id (the floor's objects are
    named "object" and given the set's majority family); otherwise each object's family
    is :func:`~spa2v.evaluation.realset.noun_family` of its name.
    """
    families = dict(families or {})
    for obj in vsl.objects:
        families.setdefault(obj.id, noun_family(obj.name))
    truths = [source_truth(s, clip, times_s) for s in clip.sounding]
    samples = sample_boxes(vsl, times_s)
    tracks = {
        obj.id: np.array([s.get(obj.id, (np.nan,) * 4) for s in samples], dtype=float).reshape(
            -1, 4
        )
        for obj in vsl.objects
    }
    # match_objects compares names with a source's accepted nouns: give each object its
    # family as its name, and each source its families, so the tie-break is by family.
    names = {object_id: families[object_id] for object_id in tracks}
    match_truth = [
        TruthTrack(
            nouns=t.source.families,
            motion=t.source.motion,
            times_s=times_s,
            boxes=np.stack([t.camera_x, np.full_like(t.camera_x, 0.5)] * 2, axis=1),
        )
        for t in truths
    ]
    matches = match_objects(tracks, names, match_truth)
    by_id = {obj.id: obj for obj in vsl.objects}
    lateral_ok = clip.lateral_cue == "ok"

    scores = []
    for i, truth in enumerate(truths):
        source = truth.source
        object_id = matches.get(i)
        missing = np.full((len(times_s), 4), np.nan)
        track = tracks.get(object_id, missing) if object_id is not None else missing
        present = ~np.isnan(track[:, 0])
        cx = centre_x(track)
        score = SourceScore(source=f"{source.class_} ({source.family})")
        if object_id is not None:
            score.object = f"{by_id[object_id].name} ({families[object_id]})"
        in_view = truth.in_view

        if lateral_ok:
            side = true_side(truth)
            if side is not None:
                if present.any():
                    planned = _side_of_x(_median(cx[present]))
                    ok = planned == side
                else:  # no box: right only when the camera cannot see the source
                    planned, ok = "none", not in_view.any()
                score.side = {"true": side, "planned": planned, "ok": ok}
            if in_view.any():
                true_zones = [horizontal_zone(float(x)) for x in truth.camera_x[in_view]]
                planned_zones = [
                    horizontal_zone(float(x)) if p else "none"
                    for x, p in zip(cx[in_view], present[in_view], strict=True)
                ]
                hits = [a == b for a, b in zip(true_zones, planned_zones, strict=True)]
                score.lcr = {
                    "n": len(hits),
                    "acc": float(np.mean(hits)),
                    "true": _mode(true_zones),
                    "planned": _mode(planned_zones),
                }
            az_in_view = in_view & np.isfinite(truth.azimuth_deg)
            if az_in_view.any():
                planned_az = np.where(present, x_to_azimuth(np.where(present, cx, 0.5)), np.nan)
                errors = np.where(
                    present[az_in_view],
                    np.abs(planned_az[az_in_view] - truth.azimuth_deg[az_in_view]),
                    MISSING_AZIMUTH_ERROR_DEG,
                )
                score.azimuth = {
                    "n": int(az_in_view.sum()),
                    "error_deg": float(np.mean(errors)),
                    "true_deg": _median(truth.azimuth_deg[az_in_view]),
                    "planned_deg": _median(planned_az[az_in_view & present]),
                }
            off = truth.out_of_view
            if off.any():
                hits = []
                for k in np.flatnonzero(off):
                    lateral = lateral_angle_deg(float(truth.azimuth_deg[k]))
                    zone = "left" if lateral > 0 else "right" if lateral < 0 else None
                    hits.append(not present[k] or horizontal_zone(float(cx[k])) == zone)
                score.offview = {"n": len(hits), "acc": float(np.mean(hits))}
            for segment in direction_tests(source):
                inside = (times_s >= segment.t0 - 1e-9) & (times_s <= segment.t1 + 1e-9)
                planned = segment_motion(cx[inside & present])
                score.directions.append(
                    {
                        "t0": segment.t0,
                        "t1": segment.t1,
                        "true": segment.motion,
                        "planned": planned,
                        "ok": planned == segment.motion,
                    }
                )

        depth = true_depth(source)
        if depth is not None and truth.ever_seen:
            shown = track[present]
            planned = motion_from_boxes(shown, lateral=False) if len(shown) else "none"
            score.depth = {"true": depth, "planned": planned, "ok": planned == depth}
        if truth.ever_seen:
            family = families.get(object_id) if object_id is not None else None
            score.label = {
                "true": "/".join(source.families),
                "planned": family or "none",
                "ok": family in source.families,
            }
        scores.append(score)
    return LayoutScore(
        sources=scores,
        empty=not vsl.objects if truths else None,
        objects=[f"{o.name} ({families[o.id]}, {o.motion})" for o in vsl.objects],
        unmatched_objects=len(vsl.objects) - len(matches),
    )


def floor_layout(clip: Clip, majority_family: str) -> tuple[VSL, dict[int, str]]:
    """The centre-box floor of a clip and the family each of its objects is given."""
    sounding = clip.sounding
    # centre_baseline only counts the sources it is given.
    vsl = centre_baseline(sounding, clip.duration_s)  # type: ignore[arg-type]
    return vsl, {i: majority_family for i in range(len(sounding))}


# -- pooling ------------------------------------------------------------------------------


@dataclass
class RealScore:
    """Pooled items: one per tested source (per segment for direction, per clip for
    ``empty``), so pools concatenate."""

    side: list[bool] = field(default_factory=list)
    lcr: list[float] = field(default_factory=list)
    azimuth_error_deg: list[float] = field(default_factory=list)
    offview: list[float] = field(default_factory=list)
    direction: list[bool] = field(default_factory=list)
    depth: list[bool] = field(default_factory=list)
    label: list[bool] = field(default_factory=list)
    empty: list[bool] = field(default_factory=list)

    def add(self, layout: LayoutScore) -> None:
        for s in layout.sources:
            if s.side is not None:
                self.side.append(s.side["ok"])
            if s.lcr is not None:
                self.lcr.append(s.lcr["acc"])
            if s.azimuth is not None:
                self.azimuth_error_deg.append(s.azimuth["error_deg"])
            if s.offview is not None:
                self.offview.append(s.offview["acc"])
            self.direction.extend(d["ok"] for d in s.directions)
            if s.depth is not None:
                self.depth.append(s.depth["ok"])
            if s.label is not None:
                self.label.append(s.label["ok"])
        if layout.empty is not None:
            self.empty.append(layout.empty)

    def summary(self) -> dict[str, float]:
        """Means with their counts (``n_*``); NaN where nothing was tested."""

        def mean(values: list[float] | list[bool]) -> float:
            return float(np.mean(values)) if values else math.nan

        return {
            "side_acc": mean(self.side),
            "n_side": float(len(self.side)),
            "lcr_acc": mean(self.lcr),
            "n_lcr": float(len(self.lcr)),
            "azimuth_error_deg": mean(self.azimuth_error_deg),
            "n_azimuth": float(len(self.azimuth_error_deg)),
            "offview_acc": mean(self.offview),
            "n_offview": float(len(self.offview)),
            "direction_acc": mean(self.direction),
            "n_direction": float(len(self.direction)),
            "depth_acc": mean(self.depth),
            "n_depth": float(len(self.depth)),
            "label_acc": mean(self.label),
            "n_label": float(len(self.label)),
            "empty_clips": float(sum(self.empty)),
            "n_clips": float(len(self.empty)),
        }


# -- one clip, the whole set --------------------------------------------------------------


@dataclass
class RealClipResult:
    """One clip: what the pipeline heard and planned, and both layouts scored."""

    clip: Clip
    layout: str | None  # the channel layout the loader used
    planner: LayoutScore
    floor: LayoutScore
    plan_s: float = 0.0
    error: str | None = None  # why loading or planning failed (then scored as empty)
    reasoning: str = ""

    @property
    def pool(self) -> str:
        """``"dual-mono"`` / ``"peer-output"`` for clips reported apart, else ``"main"``."""
        if self.clip.reference == "peer-output":
            return "peer-output"
        return "dual-mono" if self.clip.dual_mono else "main"

    def summary(self) -> dict[str, Any]:
        return {
            "clip": self.clip.clip,
            "group": self.clip.group,
            "format": self.clip.format,
            "lateral_cue": self.clip.lateral_cue,
            "reported_in": self.pool,
            "layout": self.layout,
            "error": self.error,
            "plan_s": round(self.plan_s, 3),
            "reasoning": self.reasoning,
            "planner": asdict(self.planner),
            "floor": asdict(self.floor),
        }


def _main_pool_of_format(fmt: str) -> Callable[[RealClipResult], bool]:
    return lambda r: r.pool == "main" and r.clip.format == fmt


@dataclass
class RealBenchReport:
    """All clip results of one run, with the settings that produced them."""

    manifest: str
    planner: str
    fps: float
    floor_family: str
    clips: list[RealClipResult]
    given_layout: bool = False
    seconds: float = 0.0

    def pooled(self, keep: Callable[[RealClipResult], bool]) -> dict[str, dict[str, float]]:
        pools = {method: RealScore() for method in METHODS}
        for result in self.clips:
            if keep(result):
                pools["planner"].add(result.planner)
                pools["floor"].add(result.floor)
        return {method: pool.summary() for method, pool in pools.items()}

    def groups(self) -> dict[str, dict[str, dict[str, float]]]:
        """Pooled figures per ``group``, overall, and for the clips reported apart."""
        main = [r for r in self.clips if r.pool == "main"]

        def in_group(name: str) -> Callable[[RealClipResult], bool]:
            return lambda r: r.pool == "main" and r.clip.group == name

        def in_pool(pool: str) -> Callable[[RealClipResult], bool]:
            return lambda r: r.pool == pool

        groups = {}
        for name in dict.fromkeys(r.clip.group for r in main):
            groups[name] = self.pooled(in_group(name))
        groups["overall"] = self.pooled(in_pool("main"))
        for apart in ("dual-mono", "peer-output"):
            if any(r.pool == apart for r in self.clips):
                groups[apart] = self.pooled(in_pool(apart))
        return groups

    def targets(self) -> list[dict[str, Any]]:
        rows = []
        for key, op, threshold, pool in TARGETS:
            if pool == "overall":
                pooled = self.pooled(lambda r: r.pool == "main")
            else:
                pooled = self.pooled(_main_pool_of_format(pool))
            value, floor = pooled["planner"][key], pooled["floor"][key]
            n = pooled["planner"][_count_key(key)]
            passed = None
            if not math.isnan(value) and n > 0:
                passed = value >= threshold if op == ">=" else value <= threshold
            rows.append(
                {
                    "metric": key,
                    "pool": pool,
                    "target": f"{op} {_format(threshold, _kind(key))}",
                    "planner": value,
                    "floor": floor,
                    "n": n,
                    "pass": passed,
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        return json_safe(
            {
                "schema": REPORT_SCHEMA,
                "manifest": self.manifest,
                "planner": self.planner,
                "fps": self.fps,
                "eval_fps": EVAL_FPS,
                "given_layout": self.given_layout,
                "floor_family": self.floor_family,
                "n_clips": len(self.clips),
                "seconds": round(self.seconds, 1),
                "targets": self.targets(),
                "groups": self.groups(),
                "clips": [r.summary() for r in self.clips],
            }
        )


def run_real_clip(
    realset: RealSet,
    clip: Clip,
    planner: str = "physics",
    fps: float = 8.0,
    given_layout: bool = False,
    fail_fast: bool = False,
    floor_family: str | None = None,
) -> RealClipResult:
    """Load, hear, tag and plan one clip, and score the plan and the floor."""
    from spa2v.io.audio import load_audio

    times_s = clip_grid(clip)
    error, layout, reasoning = None, None, ""
    start = time.perf_counter()
    try:
        wanted = FORMAT_LAYOUTS[clip.format] if given_layout else None
        signal = load_audio(realset.audio_path(clip), layout=wanted)
        cues, vsl = hear_and_plan(signal, planner=planner, fps=fps)
        layout = cues.layout
        reasoning = vsl.reasoning
    except Exception as exc:  # scored as an empty layout and reported, unless fail_fast
        if fail_fast:
            raise
        error = error_line(exc)
        vsl = empty_layout(clip.duration_s)
    plan_s = time.perf_counter() - start
    floor_vsl, floor_families = floor_layout(clip, floor_family or realset.majority_family())
    return RealClipResult(
        clip=clip,
        layout=layout,
        planner=score_layout(clip, vsl, times_s),
        floor=score_layout(clip, floor_vsl, times_s, floor_families),
        plan_s=plan_s,
        error=error,
        reasoning=reasoning,
    )


def run_real_benchmark(
    manifest: str | os.PathLike[str] | RealSet,
    planner: str = "physics",
    fps: float = 8.0,
    given_layout: bool = False,
    progress: bool = True,
    fail_fast: bool = False,
    engine: str = "local",
    workers: int = 1,
    address: str | None = None,
) -> RealBenchReport:
    """Run the real-recording benchmark and return the report (nothing is written).

    Parameters
    ----------
    manifest : path or RealSet
        A ``spa2v-realset/1`` manifest (validated first: a bad entry or a missing audio
        file is a :class:`~spa2v.errors.ManifestError` before any clip runs).
    planner : str
        Planner under test (``spa2v.planning.plan``).
    fps : float
        Keyframe rate asked of the planner.
    given_layout : bool
        Tell the loader each clip's annotated format (FOA, binaural) instead of letting
        it detect the stereo kind as it does for a user.
    progress : bool
        Show a progress bar on stderr.
    fail_fast : bool
        Re-raise a loading or planning failure instead of scoring the clip as empty.
    engine, workers, address : str, int, str or None
        Where the clips run (:func:`~spa2v.evaluation.benchmark.map_clips`).
    """
    realset = manifest if isinstance(manifest, RealSet) else load_realset(manifest)
    floor_family = realset.majority_family()
    start = time.perf_counter()
    run_one = partial(
        run_real_clip,
        realset,
        planner=planner,
        fps=fps,
        given_layout=given_layout,
        fail_fast=fail_fast,
        floor_family=floor_family,
    )
    clips = map_clips(
        run_one,
        realset.clips,
        engine,
        workers=workers,
        address=address,
        progress=progress,
        description="real clips",
    )
    return RealBenchReport(
        manifest=str(realset.path),
        planner=planner,
        fps=fps,
        floor_family=floor_family,
        clips=clips,
        given_layout=given_layout,
        seconds=time.perf_counter() - start,
    )


# -- output -------------------------------------------------------------------------------


def _count_key(key: str) -> str:
    return next(count for k, _, _, count in METRICS if k == key)


def _kind(key: str) -> str:
    return next(kind for k, _, kind, _ in METRICS if k == key)


def _format(value: float | None, kind: str) -> str:
    """Rates in %, errors in degrees (one decimal), clip counts as integers."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if kind == "deg":
        return f"{value:.1f}"
    if kind == "count":
        return f"{int(value)}"
    return format_metric(value, "pct")


def cell(pooled: dict[str, dict[str, float]], key: str) -> tuple[str, str, str]:
    """``(planner, floor, n)`` of one metric, formatted."""
    kind, count = _kind(key), _count_key(key)
    return (
        _format(pooled["planner"][key], kind),
        _format(pooled["floor"][key], kind),
        f"{int(pooled['planner'][count])}",
    )


def rich_tables(report: RealBenchReport) -> list[Any]:
    """Metrics as rows, groups as columns, each cell ``planner (floor) n=N``; then the
    targets."""
    from rich.table import Table

    groups = report.groups()
    table = Table(
        title=f"real recordings: {report.planner} planner (centre floor), n = tested items",
        title_justify="left",
    )
    table.add_column("metric")
    for name in groups:
        table.add_column(name, justify="right")
    for key, title, _, _ in METRICS:
        cells = []
        for pooled in groups.values():
            planner, floor, n = cell(pooled, key)
            cells.append(f"{planner} [dim]({floor}) n={n}[/]")
        table.add_row(title, *cells)
    targets = Table(title="targets (overall; azimuth error: FOA clips)", title_justify="left")
    for header in ("metric", "target", "planner", "floor", "n", "pass"):
        targets.add_column(header)
    for row in report.targets():
        kind = _kind(row["metric"])
        verdict = {True: "[green]yes[/]", False: "[red]NO[/]", None: "n/a"}[row["pass"]]
        targets.add_row(
            f"{row['metric']} ({row['pool']})",
            row["target"],
            _format(row["planner"], kind),
            _format(row["floor"], kind),
            f"{int(row['n'])}",
            verdict,
        )
    return [table, targets]


def _mark(test: dict[str, Any] | None, ok_key: str = "ok") -> str:
    return "" if test is None else (" ok" if test[ok_key] else " **x**")


def source_cells(score: SourceScore) -> list[str]:
    """The per-source listing: what was tested and how it came out (``-``: not tested)."""
    side = (
        f"{score.side['true']} / {score.side['planned']}{_mark(score.side)}" if score.side else "-"
    )
    lcr = (
        f"{score.lcr['true']} / {score.lcr['planned']}: {100 * score.lcr['acc']:.0f}% "
        f"of {score.lcr['n']}"
        if score.lcr
        else "-"
    )
    if score.azimuth:
        planned = score.azimuth["planned_deg"]
        planned_text = "none" if math.isnan(planned) else f"{planned:+.0f}"
        azimuth = (
            f"{score.azimuth['true_deg']:+.0f} / {planned_text}: "
            f"{score.azimuth['error_deg']:.1f} deg"
        )
    else:
        azimuth = "-"
    offview = f"{100 * score.offview['acc']:.0f}% of {score.offview['n']}" if score.offview else "-"
    directions = (
        "; ".join(
            f"{d['t0']:g}-{d['t1']:g} s {d['true']} / {d['planned']}{_mark(d)}"
            for d in score.directions
        )
        or "-"
    )
    depth = (
        f"{score.depth['true']} / {score.depth['planned']}{_mark(score.depth)}"
        if score.depth
        else "-"
    )
    label = (
        f"{score.label['true']} / {score.label['planned']}{_mark(score.label)}"
        if score.label
        else "-"
    )
    return [side, lcr, azimuth, offview, directions, depth, label]


def markdown_report(report: RealBenchReport) -> str:
    """The report as markdown: settings, targets, grouped figures, every clip."""
    groups = report.groups()
    lines = [
        "# spa2v real-recording benchmark",
        "",
        f"manifest `{report.manifest}`, planner `{report.planner}` at {report.fps:g} "
        f"keyframes/s, {len(report.clips)} clips, scored at {EVAL_FPS:g} frames/s, "
        f"{report.seconds:.0f} s"
        + (", formats given from the manifest" if report.given_layout else "")
        + ". The floor is one centre box per sounding source named with the set's most "
        f"common family ({report.floor_family}). Each cell: planner (floor), n = "
        "tested sources (direction: segments; clips w/o object: clips).",
        "",
        "## Targets",
        "",
        "| metric | pool | target | planner | floor | n | pass |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report.targets():
        kind = _kind(row["metric"])
        verdict = {True: "yes", False: "**NO**", None: "n/a"}[row["pass"]]
        lines.append(
            f"| {row['metric']} | {row['pool']} | {row['target']} | "
            f"{_format(row['planner'], kind)} | {_format(row['floor'], kind)} | "
            f"{int(row['n'])} | {verdict} |"
        )
    lines += [
        "",
        "## Figures",
        "",
        "| metric | " + " | ".join(groups) + " |",
        "|---|" + "---|" * len(groups),
    ]
    for key, title, _, _ in METRICS:
        cells = []
        for pooled in groups.values():
            planner, floor, n = cell(pooled, key)
            cells.append(f"{planner} ({floor}) n={n}")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    apart = [name for name in ("dual-mono", "peer-output") if name in groups]
    if apart:
        lines += ["", f"Reported apart, not in overall: {', '.join(apart)}."]
    lines += [
        "",
        "## Clips",
        "",
        "| clip | group | heard as | planned objects | error |",
        "|---|---|---|---|---|",
    ]
    for r in report.clips:
        lines.append(
            f"| {r.clip.clip} | {r.clip.group} | {r.layout or '-'} | "
            f"{', '.join(r.planner.objects) or '**none**'} | {r.error or ''} |"
        )
    lines += [
        "",
        "## Sources (planner): true / planned",
        "",
        "| clip | source | matched object | side | L/C/R | azimuth | off-view | direction "
        "| appr/rec | label family |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.clips:
        for score in r.planner.sources:
            lines.append(
                f"| {r.clip.clip} | {score.source} | {score.object or 'none'} | "
                + " | ".join(source_cells(score))
                + " |"
            )
    return "\n".join(lines) + "\n"


def write_real_report(
    report: RealBenchReport, out_dir: str | os.PathLike[str]
) -> tuple[Path, Path]:
    """Write ``real-bench.json`` and ``real-bench.md`` into ``out_dir`` (created),
    atomically: both are rendered before either is written."""
    out_dir = Path(out_dir)
    payload = json.dumps(report.to_dict(), indent=1, allow_nan=False) + "\n"
    markdown = markdown_report(report)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {out_dir}: {exc.strerror or exc}") from None
    json_path = write_text_atomic(out_dir / "real-bench.json", payload)
    md_path = write_text_atomic(out_dir / "real-bench.md", markdown)
    return json_path, md_path
