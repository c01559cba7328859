"""The layout benchmark behind ``spa2v bench``.

A deterministic simulated set mirroring the SpA2V paper's benchmark
(:func:`spa2v.sim.benchmark_scenes`: static instruments anywhere across the view
indoors, one or two at once; vehicles crossing, approaching and receding outdoors;
every audio format; anechoic and rooms with early reflections; recording conditions
the estimator does not assume, drawn per clip) is run clip by clip through

    simulate -> hear -> tag -> plan

and each planned layout is scored against the simulator's ground truth with
:mod:`spa2v.evaluation.layout_metrics`. A trivial "centre box" layout
(:func:`~spa2v.evaluation.layout_metrics.centre_baseline`) is scored in the same run
as a floor. Results are pooled per scene type, per audio format, per recording
condition (room, codec, gain imbalance, head, spacing, pan law) and over every format
and condition; the targets apply to that pool. Dual-mono clips carry no left/right
information and are reported apart, as is mono.

Example
-------
>>> report = run_benchmark(seed=0, formats=("binaural",), limit=1)  # doctest: +SKIP
>>> write_report(report, "bench-out")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from spa2v.errors import OutputError, Spa2vError
from spa2v.evaluation.layout_metrics import (
    ClipScore,
    TruthTrack,
    centre_baseline,
    score_clip,
    summarize,
)
from spa2v.hearing.cues import Cues
from spa2v.io.atomic import write_text_atomic
from spa2v.planning.vsl import VSL, VSLFrame

REPORT_SCHEMA = "spa2v.bench/1"
#: Ground truth and planned boxes are compared on this grid (frames per second).
EVAL_FPS = 8.0
#: Formats whose pooled figures are checked against the targets (every format that
#: carries a direction; dual-mono clips are left out of every pool but their own).
TARGET_FORMATS = ("binaural", "spaced", "panned", "foa")
#: The pool of the figures before the simulator stopped sharing the estimator's models.
LEGACY_FORMATS = ("binaural", "spaced", "foa")
#: The physics planner's targets: (metric, comparison, threshold).
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("lcr_acc", ">=", 0.95),
    ("motion_acc", ">=", 0.95),
    ("approach_acc", ">=", 0.90),
    ("centre_error_mean", "<=", 0.06),
    ("label_acc", ">=", 0.80),
)
METHODS = ("planner", "baseline")

#: (key, column title, kind) of the reported metrics, in table order.
METRIC_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("centre_error_mean", "centre err", "err"),
    ("centre_error_p90", "centre p90", "err"),
    ("lcr_acc", "L/C/R %", "pct"),
    ("lcr_clear_acc", "L/C/R >=2deg %", "pct"),
    ("motion_acc", "motion %", "pct"),
    ("approach_acc", "appr/rec %", "pct"),
    ("label_acc", "label %", "pct"),
    ("label_exact_acc", "exact label %", "pct"),
    ("size_error_log2", "size err log2", "err"),
    ("miou", "mIoU %", "pct"),
    ("max_iou", "MaxIoU %", "pct"),
    ("ltsim", "LTSim %", "pct"),
    ("docsim", "DocSim %", "pct"),
)


@dataclass
class ClipResult:
    """One benchmark clip: what it was and how both methods scored on it."""

    name: str
    scene_type: str
    format: str
    reverberant: bool
    planner: ClipScore
    baseline: ClipScore
    plan_s: float = 0.0  # hear + tag + plan wall time
    error: str | None = None  # why planning failed (then the planner scored empty)
    nouns: list[str] = field(default_factory=list)  # "noun (motion)"
    planned_names: list[str] = field(default_factory=list)  # "name (declared motion)"
    conditions: dict[str, Any] = field(default_factory=dict)  # SceneSpec.conditions()

    @property
    def dual_mono(self) -> bool:
        return bool(self.conditions.get("dual_mono"))

    @property
    def in_targets(self) -> bool:
        """Whether the clip counts towards the pooled targets (a direction-carrying
        format, not dual mono)."""
        return self.format in TARGET_FORMATS and not self.dual_mono

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scene_type": self.scene_type,
            "format": self.format,
            "reverberant": self.reverberant,
            "conditions": self.conditions,
            "plan_s": round(self.plan_s, 3),
            "error": self.error,
            "truth": self.nouns,  # "noun (motion)" per true source
            "planned": self.planned_names,  # "name (motion)" per planned object
            "planner": summarize(self.planner),
            "baseline": summarize(self.baseline),
        }


@dataclass
class BenchmarkReport:
    """All clip results of one run, with the settings that produced them."""

    seed: int
    planner: str
    fps: float
    formats: list[str]
    clips: list[ClipResult]
    seconds: float = 0.0

    def pooled(self, keep: Callable[[ClipResult], bool]) -> dict[str, dict[str, float]]:
        """Pool the clips that ``keep`` accepts: ``{"planner": ..., "baseline": ...}``."""
        pools = {method: ClipScore() for method in METHODS}
        n = 0
        for clip in self.clips:
            if keep(clip):
                n += 1
                pools["planner"].extend(clip.planner)
                pools["baseline"].extend(clip.baseline)
        out = {method: summarize(pool) for method, pool in pools.items()}
        for method in METHODS:
            out[method]["n_clips"] = float(n)
        return out

    def groups(self) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
        """Pooled figures by scene type, format, room and each recording condition, and
        over every format and condition; dual-mono clips only in their own group."""
        scene_types = sorted({c.scene_type for c in self.clips})
        formats = [f for f in self.formats if any(c.format == f for c in self.clips)]

        def pool(keep: Callable[[ClipResult], bool]) -> dict[str, dict[str, float]]:
            return self.pooled(lambda c: c.in_targets and keep(c))

        def where(value_of: Callable[[ClipResult], Any], value: Any) -> Callable[..., bool]:
            return lambda c: bool(value_of(c) == value)

        def by(key: str, bins: Callable[[Any], str] = str) -> dict[str, Any]:
            values = sorted({bins(c.conditions[key]) for c in self.clips if key in c.conditions})

            def binned(c: ClipResult) -> str | None:
                return bins(c.conditions[key]) if key in c.conditions else None

            return {v: pool(where(binned, v)) for v in values}

        def dual_mono(fmt: str) -> Callable[[ClipResult], bool]:
            return lambda c: c.dual_mono and c.format == fmt

        groups = {
            "by scene type": {s: pool(where(lambda c: c.scene_type, s)) for s in scene_types},
            "by format": {f: pool(where(lambda c: c.format, f)) for f in formats},
            "by room": by("room"),
            "by codec (stereo formats)": by("codec"),
            "by codec bit rate (coded clips)": by("codec_bitrate_kbps", _bitrate_bin),
            "by gain imbalance (stereo formats)": by("gain_imbalance_db", _imbalance_bin),
            "by head (binaural)": by("head_radius_m", _radius_bin),
            "by microphone spacing (spaced)": by("mic_spacing_m", _spacing_bin),
            "by pan law (panned)": by("pan_law"),
            "dual mono (no left/right information; apart)": {
                **{f: self.pooled(dual_mono(f)) for f in formats},
                "every format": self.pooled(lambda c: c.dual_mono),
            },
            "overall": {
                "every format and condition": pool(lambda c: True),
                "+".join(LEGACY_FORMATS): pool(lambda c: c.format in LEGACY_FORMATS),
                "all clips with dual mono": self.pooled(lambda c: True),
            },
        }
        # Leave out empty groups (e.g. no reverberant clip in a filtered run).
        out = {
            title: {name: p for name, p in members.items() if p["planner"]["n_clips"] > 0}
            for title, members in groups.items()
        }
        return {title: members for title, members in out.items() if members}

    def targets(self) -> list[dict[str, Any]]:
        """The done-when targets checked on the pooled target formats."""
        pooled = self.pooled(lambda c: c.in_targets)
        rows = []
        for key, op, threshold in TARGETS:
            value = pooled["planner"][key]
            ok = (
                (value >= threshold if op == ">=" else value <= threshold)
                if not math.isnan(value)
                else None
            )
            baseline = pooled["baseline"][key]
            rows.append(
                {
                    "metric": key,
                    "target": f"{op} {threshold:g}"
                    if key.startswith("centre")
                    else f"{op} {100 * threshold:g}%",
                    "planner": value,
                    "baseline": baseline,
                    "pass": ok,
                }
            )
        return rows

    def failures(self, max_centre_error: float = 0.1) -> list[dict[str, Any]]:
        """Clips where the planner got a direction, motion or label wrong, errored, or
        whose mean centre error exceeds ``max_centre_error``: what to look at first."""
        rows = []
        for clip in self.clips:
            s = clip.summary()["planner"]
            why = []
            if clip.error:
                why.append(f"error: {clip.error}")
            for key, label in (
                ("lcr_acc", "L/C/R"),
                ("motion_acc", "motion"),
                ("approach_acc", "approach/recede"),
                ("label_acc", "label"),
            ):
                if not math.isnan(s[key]) and s[key] < 1.0:
                    why.append(f"{label} {s[key]:.0%}")
            if not math.isnan(s["centre_error_mean"]) and s["centre_error_mean"] > max_centre_error:
                why.append(f"centre error {s['centre_error_mean']:.3f}")
            if why:
                rows.append(
                    {
                        "name": clip.name,
                        "format": clip.format,
                        "scene_type": clip.scene_type,
                        "conditions": condition_label(clip.conditions),
                        "true": clip.nouns,
                        "planned": clip.planned_names,
                        "why": "; ".join(why),
                    }
                )
        return rows

    def to_dict(self) -> dict[str, Any]:
        return json_safe(
            {
                "schema": REPORT_SCHEMA,
                "seed": self.seed,
                "planner": self.planner,
                "fps": self.fps,
                "eval_fps": EVAL_FPS,
                "formats": self.formats,
                "n_clips": len(self.clips),
                "seconds": round(self.seconds, 1),
                "targets": self.targets(),
                "groups": self.groups(),
                "failures": self.failures(),
                "clips": [c.summary() for c in self.clips],
            }
        )


def condition_label(conditions: dict[str, Any]) -> str:
    """A clip's recording conditions in a few words, e.g. ``"sphere 8.1 cm, indoor-ism,
    mp3 128 kb/s, L-R +1.6 dB"``.

    >>> condition_label({"format": "spaced", "mic_spacing_m": 0.22, "room": "anechoic",
    ...                  "codec": "none", "gain_imbalance_db": -2.0, "dual_mono": False})
    'spacing 22 cm, anechoic, L-R -2.0 dB'
    """
    parts = []
    if "head" in conditions:
        head = conditions["head"]
        radius = conditions.get("head_radius_m")
        parts.append(f"{head} {100 * radius:.1f} cm" if radius else head)
    if "mic_spacing_m" in conditions:
        parts.append(f"spacing {100 * conditions['mic_spacing_m']:.0f} cm")
    if "pan_law" in conditions:
        parts.append(f"pan {conditions['pan_law']}")
    if "room" in conditions:
        parts.append(str(conditions["room"]))
    if conditions.get("codec", "none") != "none":
        parts.append(f"{conditions['codec']} {conditions.get('codec_bitrate_kbps', 0):.0f} kb/s")
    if conditions.get("gain_imbalance_db"):
        parts.append(f"L-R {conditions['gain_imbalance_db']:+.1f} dB")
    if conditions.get("dual_mono"):
        parts.append("dual mono")
    return ", ".join(parts)


def _bitrate_bin(kbps: float) -> str:
    return "64-96 kb/s" if kbps <= 96 else "128-192 kb/s"


def _imbalance_bin(db: float) -> str:
    a = abs(float(db))
    return "|L-R| < 1 dB" if a < 1 else ("|L-R| 1-2 dB" if a < 2 else "|L-R| 2-3 dB")


def _radius_bin(radius_m: float) -> str:
    cm = 100 * float(radius_m)
    return "radius < 8.3 cm" if cm < 8.3 else ("radius 8.3-9.2 cm" if cm < 9.2 else ">= 9.2 cm")


def _spacing_bin(spacing_m: float) -> str:
    cm = 100 * float(spacing_m)
    return "8-15 cm" if cm < 15 else ("15-22 cm" if cm < 22 else "22-30 cm")


def json_safe(value: Any) -> Any:
    """NaN -> None (JSON has no NaN), numpy scalars -> Python, recursively."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else round(float(value), 5)
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value


# -- one clip -----------------------------------------------------------------------------


def evaluation_times(duration_s: float, eval_fps: float = EVAL_FPS) -> np.ndarray:
    """The evaluation grid: ``0, 1/eval_fps, ...`` up to and including ``duration_s``."""
    return np.arange(0.0, duration_s + 1e-9, 1.0 / eval_fps)


def accepted_nouns(noun: str, accept_labels: Iterable[str]) -> tuple[str, ...]:
    """The true noun first, then the nouns of the AudioSet classes the simulator
    lists as fair answers for the source (e.g. "truck" for a bus).

    Generic parent classes ("Vehicle", "Musical instrument") are left out: their nouns
    ("car", "musician") would accept a car drawn for a helicopter.
    """
    from spa2v.nouns import class_to_noun, generic_classes

    nouns = [noun]
    for label in accept_labels:
        if label in generic_classes():
            continue
        info = class_to_noun(label)
        if info is not None and info.noun not in nouns:
            nouns.append(info.noun)
    return tuple(nouns)


def truth_tracks(truth: Sequence[Any], times_s: np.ndarray) -> list[TruthTrack]:
    """Simulator ground truth (``spa2v.sim.SourceTruth``) -> metric tracks on a grid."""
    tracks = []
    for source in truth:
        boxes = np.array(
            [b if b is not None else (np.nan,) * 4 for b in source.boxes(times_s)], dtype=float
        )
        tracks.append(
            TruthTrack(
                nouns=accepted_nouns(source.noun, source.accept_labels),
                motion=source.motion,
                times_s=times_s,
                boxes=boxes,
                audio_label=source.audio_label,
            )
        )
    return tracks


def plan_signal(signal: Any, planner: str = "physics", fps: float = 8.0) -> VSL:
    """The pipeline under test: hear -> tag -> plan."""
    return hear_and_plan(signal, planner, fps)[1]


def hear_and_plan(signal: Any, planner: str = "physics", fps: float = 8.0) -> tuple[Cues, VSL]:
    """:func:`plan_signal`, returning the cues too (e.g. the stereo kind heard)."""
    from spa2v.hearing.extract import hear
    from spa2v.hearing.tagging.tag import tag_cues
    from spa2v.planning import plan

    cues = hear(signal)
    if cues.sources:  # as spa2v.api.hear_signal: nothing heard, nothing to tag
        cues = tag_cues(signal, cues)
    return cues, plan(cues, planner=planner, fps=fps)


def error_line(exc: BaseException) -> str:
    """One line saying why a clip failed: a user error's message, or a bug's type too."""
    kind = "" if isinstance(exc, Spa2vError) else f"{type(exc).__name__}: "
    return f"{kind}{exc}".splitlines()[0]


def empty_layout(duration_s: float) -> VSL:
    """What a failed planner is scored as: no objects at all."""
    return VSL(duration=duration_s, fps=1.0 / duration_s, frames=[VSLFrame(t=0.0)])


def run_clip(
    spec: Any, planner: str = "physics", fps: float = 8.0, fail_fast: bool = False
) -> ClipResult:
    """Simulate one scene, plan it, and score the plan and the centre baseline."""
    from spa2v.sim import simulate

    result = simulate(spec)
    times_s = evaluation_times(spec.duration_s)
    truth = truth_tracks(result.truth, times_s)
    error = None
    start = time.perf_counter()
    try:
        vsl = plan_signal(result.signal, planner=planner, fps=fps)
    except Exception as exc:  # scored as an empty layout and reported, unless fail_fast
        if fail_fast:
            raise
        error = error_line(exc)
        vsl = empty_layout(spec.duration_s)
    plan_s = time.perf_counter() - start
    return ClipResult(
        name=spec.name,
        scene_type=spec.scene_type,
        format=spec.format,
        reverberant=bool(spec.rt60_s),
        planner=score_clip(vsl, truth),
        baseline=score_clip(centre_baseline(truth, spec.duration_s), truth),
        plan_s=plan_s,
        error=error,
        nouns=[f"{t.nouns[0]} ({t.motion})" for t in truth],
        planned_names=[f"{obj.name} ({obj.motion})" for obj in vsl.objects],
        conditions=result.info.get("conditions", spec.conditions()),
    )


# -- the whole set ------------------------------------------------------------------------


def select_scenes(
    scenes: Sequence[Any],
    formats: Sequence[str] | None = None,
    scene_types: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[Any]:
    """Filter scene specs by format and type; ``limit`` keeps at most that many per
    (scene type, format), in the simulator's order, so a small run still covers
    every group."""
    kept: list[Any] = []
    counts: dict[tuple[str, str], int] = {}
    for spec in scenes:
        if formats and spec.format not in formats:
            continue
        if scene_types and spec.scene_type not in scene_types:
            continue
        key = (spec.scene_type, spec.format)
        if limit is not None and counts.get(key, 0) >= limit:
            continue
        counts[key] = counts.get(key, 0) + 1
        kept.append(spec)
    return kept


def run_benchmark(
    seed: int = 0,
    formats: Sequence[str] | None = None,
    limit: int | None = None,
    planner: str = "physics",
    fps: float = 8.0,
    scene_types: Sequence[str] | None = None,
    variants: int = 1,
    progress: bool = True,
    fail_fast: bool = False,
    conditions: str = "drawn",
    engine: str = "local",
    workers: int = 1,
    address: str | None = None,
) -> BenchmarkReport:
    """Run the benchmark and return the report (nothing is written).

    Parameters
    ----------
    seed : int
        Seed of :func:`spa2v.sim.benchmark_scenes`; the same seed gives the same set.
    formats, scene_types : sequence of str or None
        Keep only these audio formats / scene types (None: all).
    limit : int or None
        At most this many clips per (scene type, format).
    planner : str
        Planner under test (``spa2v.planning.plan``).
    fps : float
        Keyframe rate asked of the planner.
    variants : int
        Geometry variants of the simulated set (each adds 9 scenes per format and room).
    progress : bool
        Show a progress bar on stderr.
    fail_fast : bool
        Re-raise a planning failure instead of scoring the clip as an empty layout.
    conditions : str
        ``"drawn"`` (default): recording conditions the estimator does not assume,
        drawn per clip; ``"estimator"``: the estimator's own models (KEMAR head, 0.15 m
        spacing, constant-power panning, no early reflections, codec or imbalance), to
        see how much of a figure comes from sharing them.
    engine, workers, address : str, int, str or None
        Where the clips run (:func:`map_clips`): ``workers`` local processes (1: this
        one), or a Ray cluster.
    """
    from spa2v.sim import FORMATS, SCENE_TYPES, benchmark_scenes
    from spa2v.sim.benchmark import DEFAULT_FORMATS

    unknown = [f for f in formats or () if f not in FORMATS]
    if unknown:
        raise Spa2vError(f"unknown format(s) {', '.join(unknown)}: use {', '.join(FORMATS)}")
    unknown = [s for s in scene_types or () if s not in SCENE_TYPES]
    if unknown:
        raise Spa2vError(
            f"unknown scene type(s) {', '.join(unknown)}: use {', '.join(SCENE_TYPES)}"
        )
    if conditions not in ("drawn", "estimator"):
        raise Spa2vError(f"unknown conditions {conditions!r}: use drawn or estimator")
    scenes = benchmark_scenes(
        seed=seed,
        variants=variants,
        conditions=conditions,
        formats=tuple(formats) if formats else DEFAULT_FORMATS,
    )
    scenes = select_scenes(scenes, formats, scene_types, limit)
    if not scenes:
        raise Spa2vError("no benchmark scenes match: check --formats and --scene-types")
    start = time.perf_counter()
    run_one = partial(run_clip, planner=planner, fps=fps, fail_fast=fail_fast)
    clips = map_clips(run_one, scenes, engine, workers=workers, address=address, progress=progress)
    used = list(formats) if formats else [f for f in FORMATS if any(s.format == f for s in scenes)]
    return BenchmarkReport(
        seed=seed,
        planner=planner,
        fps=fps,
        formats=used,
        clips=clips,
        seconds=time.perf_counter() - start,
    )


def map_clips(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    engine: str = "local",
    workers: int = 1,
    address: str | None = None,
    progress: bool = True,
    description: str = "benchmark clips",
) -> list[Any]:
    """``[fn(item) for item in items]`` on the engine of ``spa2v batch``
    (:func:`spa2v.batch.engine.make_engine`), in the items' order, behind a transient
    progress bar on stderr when ``progress``. ``fn`` must pickle (a module-level
    function or a ``functools.partial`` of one) unless it runs here (one local worker).
    """
    from rich.progress import Progress

    from spa2v.batch.engine import Stage, make_engine

    results: list[Any] = [None] * len(items)
    with (
        make_engine(engine, workers, address) as runner,
        Progress(transient=True, disable=not progress) as bar,
    ):
        task = bar.add_task(description, total=len(items))
        for index, result in runner.run(items, [Stage(description, fn)]):
            results[index] = result
            bar.advance(task)
    return results


# -- output -------------------------------------------------------------------------------


def format_metric(value: float, kind: str) -> str:
    """``0.0423 -> "0.042"`` for errors, ``0.953 -> "95.3"`` for rates; NaN -> "-"."""
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.3f}" if kind == "err" else f"{100 * value:.1f}"


def _group_rows(pooled: dict[str, dict[str, float]]) -> list[list[str]]:
    rows = []
    for method in METHODS:
        s = pooled[method]
        rows.append(
            [method, f"{int(s['n_clips'])}"]
            + [format_metric(s[key], kind) for key, _, kind in METRIC_COLUMNS]
        )
    return rows


def rich_tables(report: BenchmarkReport) -> list[Any]:
    """The report as rich tables: one per grouping, plus the targets."""
    from rich.table import Table

    # Metrics as rows and groups as columns, each cell "planner (baseline)": this fits
    # an 80-column terminal, where 14 metric columns would not.
    tables = []
    for title, groups in report.groups().items():
        table = Table(
            title=f"{title}: {report.planner} planner (centre baseline)", title_justify="left"
        )
        table.add_column("metric")
        for name in groups:
            table.add_column(name, justify="right")
        table.add_row("clips", *(f"{int(g['planner']['n_clips'])}" for g in groups.values()))
        for key, header, kind in METRIC_COLUMNS:
            table.add_row(
                header,
                *(
                    f"{format_metric(g['planner'][key], kind)} "
                    f"[dim]({format_metric(g['baseline'][key], kind)})[/]"
                    for g in groups.values()
                ),
            )
        tables.append(table)
    targets = Table(
        title="targets on every format and condition (not dual mono)", title_justify="left"
    )
    for header in ("metric", "target", "planner", "baseline", "pass"):
        targets.add_column(header)
    for row in report.targets():
        kind = "err" if row["metric"].startswith("centre") else "pct"
        verdict = {True: "[green]yes[/]", False: "[red]NO[/]", None: "n/a"}[row["pass"]]
        targets.add_row(
            row["metric"],
            row["target"],
            format_metric(row["planner"], kind),
            format_metric(row["baseline"], kind),
            verdict,
        )
    tables.append(targets)
    return tables


def markdown_report(report: BenchmarkReport) -> str:
    """The report as markdown: settings, targets, grouped tables, failing clips."""
    lines = [
        "# spa2v layout benchmark",
        "",
        f"planner `{report.planner}` at {report.fps:g} keyframes/s, seed {report.seed}, "
        f"{len(report.clips)} clips ({', '.join(report.formats)}), "
        f"scored at {EVAL_FPS:g} frames/s, {report.seconds:.0f} s. "
        "Errors are in normalized x (frame width = 1); rates in %. The centre baseline "
        "knows only how many sources there are (a fixed centred box named 'object' each).",
        "",
        "## Targets (pooled over every format and condition, dual mono apart)",
        "",
        "| metric | target | planner | baseline | pass |",
        "|---|---|---|---|---|",
    ]
    for row in report.targets():
        kind = "err" if row["metric"].startswith("centre") else "pct"
        verdict = {True: "yes", False: "**NO**", None: "n/a"}[row["pass"]]
        lines.append(
            f"| {row['metric']} | {row['target']} | {format_metric(row['planner'], kind)} | "
            f"{format_metric(row['baseline'], kind)} | {verdict} |"
        )
    header = "| group | method | clips | " + " | ".join(h for _, h, _ in METRIC_COLUMNS) + " |"
    rule = "|" + "---|" * (3 + len(METRIC_COLUMNS))
    for title, groups in report.groups().items():
        lines += ["", f"## {title}", "", header, rule]
        for name, pooled in groups.items():
            for cells in _group_rows(pooled):
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
    failures = report.failures()
    lines += ["", f"## Clips the planner gets wrong ({len(failures)})", ""]
    if failures:
        lines += [
            "| clip | format | conditions | true | planned | why |",
            "|---|---|---|---|---|---|",
        ]
        for f in failures:
            lines.append(
                f"| {f['name']} | {f['format']} | {f['conditions']} | {', '.join(f['true'])} | "
                f"{', '.join(f['planned'])} | {f['why']} |"
            )
    else:
        lines.append("none")
    return "\n".join(lines) + "\n"


def write_report(report: BenchmarkReport, out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``bench.json`` and ``bench.md`` into ``out_dir`` (created), atomically."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {out_dir}: {exc.strerror or exc}") from None
    json_path = write_text_atomic(
        out_dir / "bench.json", json.dumps(report.to_dict(), indent=1, allow_nan=False) + "\n"
    )
    md_path = write_text_atomic(out_dir / "bench.md", markdown_report(report))
    return json_path, md_path
