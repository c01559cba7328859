"""``spa2v bench``: the layout benchmark, on simulated clips (planner vs exact ground
truth) or, with ``--real MANIFEST``, on annotated real recordings."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from spa2v.errors import Spa2vError
from spa2v.interfaces.cli._common import number
from spa2v.interfaces.cli.batch import add_engine_arguments

NAME = "bench"
HELP = (
    "score a planner's layouts against simulated ground truth, or annotated real "
    "recordings with --real (with a centre-box floor)"
)
DESCRIPTION = """\
Make a deterministic simulated set that mirrors the SpA2V paper's benchmark (static
instruments anywhere across the view indoors, one or two at once; vehicles crossing
left-to-right and right-to-left, approaching and receding outdoors; every audio format;
anechoic and rooms with early reflections; recording conditions the estimator does not
assume, drawn per clip: a spherical head, spaced pairs of 8-30 cm, three pan laws,
channel gain imbalance, MP3/AAC/Vorbis round trips, dual mono), run each clip through
hear -> tag -> plan, and score the
layouts against the simulator's ground truth: box-centre error (normalized x, mean and
p90), left/centre/right accuracy for static sources, direction of motion for crossing
ones, approach/recede from the box-size trend, label accuracy, mIoU, and the paper's
MaxIoU, LTSim and DocSim. A trivial "centre box" layout is scored in the same run as a
floor. Prints tables per scene type, per format, per room and per recording condition;
writes bench.json and bench.md to --out. The targets are checked on every format and
condition pooled; dual-mono clips (no left/right information) are reported apart.

With --real MANIFEST, score annotated real recordings instead: a spa2v-realset/1 JSON
manifest (docs/real-benchmark.md) lists audio files, relative to the manifest, and
where each sounding source is and how it moves. Each clip is heard, tagged and planned
as `spa2v plan` does, and scored per group and overall: side of clearly off-centre
sources, left/centre/right and azimuth error in the 90-degree camera, direction of
lateral motion per segment, approach/recede, label family, clips without an object;
the centre-box floor in the same run. Writes real-bench.json and real-bench.md (every
clip and source, what was tested and how it came out) to --out. Dual-mono clips are
reported apart. A clip that cannot be planned is scored as an empty layout."""
EPILOG = """\
examples:
  spa2v bench --out bench-out                       # the full set: 81 clips, ~2 min
  spa2v bench --variants 3 --out bench-v3           # a bigger set: 243 clips
  spa2v bench --conditions estimator                # the estimator's own models (old set)
  spa2v bench --formats binaural,foa --limit 2      # a quick look: 2 clips per group
  spa2v bench --planner llm --limit 1 --out bench-llm
  spa2v bench --real realdata/manifest.json --out real-out   # annotated recordings
  spa2v bench --real realdata/manifest.json --given-layout     # formats from the manifest
  spa2v bench --variants 3 --workers 2              # clips on 2 local processes
  spa2v bench --variants 3 --engine ray --address 10.0.0.5:6379   # on a Ray cluster
"""

#: Options of the simulated set that mean nothing with --real: (attribute, default).
_SIMULATION_OPTIONS = (
    ("seed", 0),
    ("formats", None),
    ("scene_types", None),
    ("limit", None),
    ("variants", 1),
    ("conditions", "drawn"),
)


def _formats(text: str) -> list[str]:
    return [f.strip() for f in text.split(",") if f.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--real",
        default=None,
        metavar="MANIFEST",
        help="score annotated real recordings listed in a spa2v-realset/1 JSON manifest "
        "instead of the simulated set (e.g. --real realdata/manifest.json)",
    )
    parser.add_argument(
        "--given-layout",
        action="store_true",
        help="with --real: tell the loader each clip's annotated format (FOA, binaural) "
        "instead of detecting the stereo kind as for a user's file (default: detect)",
    )
    parser.add_argument(
        "--out",
        default="bench-out",
        metavar="DIR",
        help="folder for bench.json and bench.md, or real-bench.json and real-bench.md "
        "with --real (created; default: bench-out)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the simulated set (default: 0)"
    )
    parser.add_argument(
        "--formats",
        type=_formats,
        default=None,
        metavar="LIST",
        help="comma-separated audio formats to run: binaural,spaced,panned,foa,mono "
        "(default: all the set has)",
    )
    parser.add_argument(
        "--scene-types",
        type=_formats,
        default=None,
        metavar="LIST",
        help="comma-separated scene types to run (default: all)",
    )
    parser.add_argument(
        "--limit",
        type=number(int, 1),
        default=None,
        metavar="N",
        help="at most N clips per scene type and format (default: all)",
    )
    parser.add_argument(
        "--variants",
        type=number(int, 1),
        default=1,
        metavar="N",
        help="geometry variants of the set; each adds 9 scenes per format and room and 9 "
        "dual-mono clips (default: 1; e.g. --variants 3)",
    )
    parser.add_argument(
        "--conditions",
        choices=("drawn", "estimator"),
        default="drawn",
        help="recording conditions: drawn per clip, none of them the estimator's own models "
        "(default), or 'estimator': KEMAR head, 0.15 m spacing, constant-power panning, no "
        "early reflections, codec or imbalance (e.g. --conditions estimator)",
    )
    parser.add_argument(
        "--planner", default="physics", help="planner under test: physics (default) or llm"
    )
    parser.add_argument(
        "--fps",
        type=number(float, 0, above_low=True),
        default=8.0,
        help="keyframes per second asked of the planner (default: 8)",
    )
    parser.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop at the first clip the planner fails on (default: score it as empty)",
    )
    add_engine_arguments(parser.add_argument_group("engine"), default_workers="1")


def engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """Where the clips run: ``engine``, ``workers`` (default 1) and ``address``."""
    return {"engine": args.engine, "workers": args.workers or 1, "address": args.address}


def run(args: argparse.Namespace) -> int:
    from spa2v.evaluation.benchmark import rich_tables, run_benchmark, write_report

    quiet = bool(getattr(args, "quiet", False))
    if args.real is not None:
        return run_real(args, quiet)
    if args.given_layout:
        raise Spa2vError("--given-layout applies to --real only")
    report = run_benchmark(
        seed=args.seed,
        formats=args.formats,
        limit=args.limit,
        planner=args.planner,
        fps=args.fps,
        scene_types=args.scene_types,
        variants=args.variants,
        progress=not quiet,
        fail_fast=args.fail_fast,
        conditions=args.conditions,
        **engine_options(args),
    )
    json_path, md_path = write_report(report, args.out)
    console = Console()
    if not quiet:
        for table in rich_tables(report):
            console.print(table)
        failed = len(report.failures())
        console.print(
            f"{len(report.clips)} clips in {report.seconds:.0f} s; "
            f"{failed} with a planner mistake (listed in {md_path})"
        )
    console.print(str(json_path))
    console.print(str(md_path))
    return 0


def run_real(args: argparse.Namespace, quiet: bool) -> int:
    """``spa2v bench --real MANIFEST``: score the planner on annotated recordings."""
    from spa2v.evaluation.real_benchmark import (
        rich_tables,
        run_real_benchmark,
        write_real_report,
    )

    for name, default in _SIMULATION_OPTIONS:
        if getattr(args, name) != default:
            flag = "--" + name.replace("_", "-")
            raise Spa2vError(f"{flag} applies to the simulated set, not to --real")
    report = run_real_benchmark(
        args.real,
        planner=args.planner,
        fps=args.fps,
        given_layout=args.given_layout,
        progress=not quiet,
        fail_fast=args.fail_fast,
        **engine_options(args),
    )
    json_path, md_path = write_real_report(report, args.out)
    console = Console()
    if not quiet:
        for table in rich_tables(report):
            console.print(table)
        failed = [r.clip.clip for r in report.clips if r.error]
        console.print(
            f"{len(report.clips)} clips in {report.seconds:.0f} s"
            + (f"; planning failed on {len(failed)}: {', '.join(failed)}" if failed else "")
            + f"; every clip and source is listed in {md_path}"
        )
    console.print(str(json_path))
    console.print(str(md_path))
    return 0
