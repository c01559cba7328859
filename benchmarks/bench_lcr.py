"""Where the layout benchmark's left/centre/right losses come from, source by source.

Run::

    .venv/bin/python benchmarks/bench_lcr.py [--seeds 1,2] [--variants 1] [--plan]
        [--oracle spacing|gain] [--kind-unknown] [--formats spaced,panned] [--out DIR]

For every static source of the benchmark's static scenes (``static-1``, ``static-2``;
every format, anechoic and in a room, dual mono left out) it simulates the clip,
hears it, and compares the heard azimuth (median over the source's active frames,
sources matched to the truth by a Hungarian assignment on azimuth) with the true one;
with ``--plan`` it also tags and plans the clip and reads each planned object's median
box centre back as an azimuth, as ``spa2v bench`` scores it (its L/C/R figure on the same
seed is reproduced). Tables: per format and room, per recording condition, per distance
of the true azimuth from the edges between thirds (+-18.4 deg), and the L/C/R accuracy
that an estimator with Gaussian azimuth errors of a given spread would reach on these
positions and on those of 40 seeds.

``--oracle spacing`` tells hearing each spaced pair's true spacing (``mic_spacing_m``),
``--oracle gain`` removes each stereo clip's drawn channel gain imbalance before hearing:
how much of a loss a perfect estimate of that condition would recover.
``--kind-unknown`` hands two-channel clips to hearing as ``"stereo"``, as a user's file
is (``spa2v bench`` gives hearing the format, so it does not score kind detection). Develop on seeds
other than 0 (the reported benchmark's). Prints the tables; ``--out DIR`` also writes
them to ``DIR/lcr.md`` and every source's figures to ``DIR/lcr.json``. Figures:
``docs/layout-benchmark.md``, "Where the L/C/R losses come from".
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

FORMATS = ("binaural", "spaced", "panned", "foa")
EDGE_BINS_DEG = ((0.0, 2.0), (2.0, 5.0), (5.0, 10.0), (10.0, 90.0))
SIGMAS_DEG = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 7.5, 10.0)


def third(azimuth_deg: float) -> str:
    """The third of the view (``spa2v.camera.horizontal_zone``) of an azimuth."""
    from spa2v.camera import azimuth_to_x, horizontal_zone

    return horizontal_zone(float(azimuth_to_x(azimuth_deg)))


def matched(truth: Sequence[float], found: Sequence[float]) -> list[float | None]:
    """For each true azimuth, the found one assigned to it (None: none left)."""
    from scipy.optimize import linear_sum_assignment

    if not found:
        return [None] * len(truth)
    cost = np.abs(np.subtract.outer(np.asarray(truth), np.asarray(found)))
    rows, cols = linear_sum_assignment(cost)
    out: list[float | None] = [None] * len(truth)
    for r, c in zip(rows, cols, strict=True):
        out[int(r)] = float(found[int(c)])
    return out


def planned_azimuths(vsl: Any, duration_s: float) -> list[float]:
    """Median box centre of each planned object on the benchmark's 8 fps grid, as an
    azimuth."""
    from spa2v.camera import x_to_azimuth
    from spa2v.evaluation.benchmark import evaluation_times

    out = []
    for obj in vsl.objects:
        cx = [
            (box[0] + box[2]) / 2
            for t in evaluation_times(duration_s)
            for i, box in vsl.boxes_at(float(t)).items()
            if i == obj.id
        ]
        if cx:
            out.append(float(x_to_azimuth(float(np.median(cx)))))
    return out


def run_clip(
    spec: Any, plan: bool, oracle: str | None, kind_unknown: bool = False
) -> list[dict[str, Any]]:
    """One clip's static sources: truth, heard and (with ``plan``) planned azimuths.

    ``kind_unknown``: a two-channel clip is handed over as ``"stereo"`` (hearing then
    tells its kind, as for a user's file) instead of as its format.
    """
    from spa2v.camera import azimuth_to_x
    from spa2v.evaluation.layout_metrics import edge_distance_deg
    from spa2v.hearing.extract import hear
    from spa2v.io.signal import Signal
    from spa2v.sim import simulate

    result = simulate(spec)
    cond = result.info.get("conditions", spec.conditions())
    signal = result.signal
    options: dict[str, Any] = {}
    if oracle == "spacing" and spec.format == "spaced":
        options["mic_spacing_m"] = cond["mic_spacing_m"]
    if oracle == "gain" and cond.get("gain_imbalance_db"):
        half = 10.0 ** (cond["gain_imbalance_db"] / 40.0)  # the simulator splits it over both
        samples = np.stack([signal.samples[0] / half, signal.samples[1] * half])
        signal = Signal(samples.astype(np.float32), signal.sr, signal.layout, signal.source)
    if kind_unknown and signal.n_channels == 2:
        signal = Signal(signal.samples, signal.sr, "stereo", signal.source, list(signal.warnings))
    cues = hear(signal, **options)
    heard = []
    for source in cues.sources:
        az = source.azimuth_deg[source.active]
        heard.append(float(np.median(az)) if az.size else 0.0)
    planned: list[float] = []
    if plan and cues.sources:
        from spa2v.hearing.tagging.tag import tag_cues
        from spa2v.planning import plan as plan_layout

        vsl = plan_layout(tag_cues(signal, cues), planner="physics", fps=8.0)
        planned = planned_azimuths(vsl, spec.duration_s)
    truth = [float(np.median(t.azimuth_deg[t.active])) for t in result.truth]
    rows = []
    for true, h, p in zip(truth, matched(truth, heard), matched(truth, planned), strict=True):
        rows.append(
            {
                "clip": spec.name,
                "format": spec.format,
                "room": "room" if spec.rt60_s else "anechoic",
                "conditions": cond,
                "true_deg": true,
                "heard_deg": h,
                "planned_deg": p if plan else None,
                "edge_deg": edge_distance_deg(float(azimuth_to_x(true))),
                "n_heard": len(heard),
                "spacing_used_m": cues.mic_spacing_m,
                "heard_kind": cues.layout,
            }
        )
    return rows


def right_third(row: dict[str, Any], key: str) -> bool:
    return row[key] is not None and third(row[key]) == third(row["true_deg"])


def line(name: str, rows: list[dict[str, Any]], plan: bool) -> str:
    """One markdown table row: sources, heard L/C/R, |error| mean/median, missed,
    (planned L/C/R)."""
    if not rows:
        return f"| {name} | 0 | - | - | - | - | - |" + (" - |" if plan else "")
    ok = sum(right_third(r, "heard_deg") for r in rows)
    errors = [abs(r["heard_deg"] - r["true_deg"]) for r in rows if r["heard_deg"] is not None]
    missed = sum(r["heard_deg"] is None for r in rows)
    # Lateral sources (beyond the edges between thirds) heard further out (+) or nearer
    # the centre (-) than they are.
    outward = [
        abs(r["heard_deg"]) - abs(r["true_deg"])
        for r in rows
        if r["heard_deg"] is not None and third(r["true_deg"]) != "centre"
    ]
    cells = [
        name,
        str(len(rows)),
        f"{100 * ok / len(rows):.1f} ({ok})",
        f"{np.mean(errors):.1f} / {np.median(errors):.1f}" if errors else "-",
        f"{100 * np.mean([e < 3.0 for e in errors]):.0f}" if errors else "-",
        f"{np.mean(outward):+.1f} / {np.median(outward):+.1f}" if outward else "-",
        str(missed),
    ]
    if plan:
        pok = sum(right_third(r, "planned_deg") for r in rows)
        cells.append(f"{100 * pok / len(rows):.1f} ({pok})")
    return "| " + " | ".join(cells) + " |"


def tables(rows: list[dict[str, Any]], plan: bool) -> str:
    """The breakdown as markdown."""
    head = (
        "| group | sources | L/C/R heard % | heard abs err mean / median deg | err < 3 deg % "
        "| lateral: heard further out, mean / median deg | not found |"
        + (" L/C/R planned % |" if plan else "")
    )
    rule = "|" + "---|" * (8 if plan else 7)
    out = [head, rule, line("all", rows, plan)]

    def group(title: str, keep: Callable[[dict[str, Any]], bool]) -> None:
        out.append(line(title, [r for r in rows if keep(r)], plan))

    for fmt in FORMATS:
        for room in ("anechoic", "room"):
            group(f"{fmt}, {room}", lambda r, f=fmt, m=room: r["format"] == f and r["room"] == m)
    for lo, hi in EDGE_BINS_DEG:
        group(f"{lo:g}-{hi:g} deg from an edge", lambda r, a=lo, b=hi: a <= r["edge_deg"] < b)
    stereo = ("binaural", "spaced", "panned")
    for codec in ("none", "mp3", "aac", "vorbis"):
        group(
            f"stereo, codec {codec}",
            lambda r, c=codec: (
                r["format"] in stereo and (r["conditions"].get("codec") or "none") == c
            ),
        )
    for lo, hi in ((0, 100), (100, 200)):
        group(
            f"stereo, {lo}-{hi} kb/s",
            lambda r, a=lo, b=hi: (
                r["format"] in stereo
                and a <= (r["conditions"].get("codec_bitrate_kbps") or 1e9) < b
            ),
        )
    for lo, hi in ((0.0, 1.0), (1.0, 2.0), (2.0, 3.01)):
        group(
            f"stereo, imbalance {lo:g}-{hi:g} dB",
            lambda r, a=lo, b=hi: (
                r["format"] in stereo
                and a <= abs(r["conditions"].get("gain_imbalance_db") or 0.0) < b
            ),
        )
    for lo, hi in ((0.08, 0.13), (0.13, 0.17), (0.17, 0.22), (0.22, 0.31)):
        group(
            f"spaced {lo:g}-{hi:g} m",
            lambda r, a=lo, b=hi: (
                r["format"] == "spaced" and a <= r["conditions"]["mic_spacing_m"] < b
            ),
        )
    for lo, hi in ((0.075, 0.083), (0.083, 0.092), (0.092, 0.101)):
        group(
            f"binaural radius {100 * lo:g}-{100 * hi:g} cm",
            lambda r, a=lo, b=hi: (
                r["format"] == "binaural" and a <= r["conditions"]["head_radius_m"] < b
            ),
        )
    for law in ("sin-cos", "-4.5dB", "linear"):
        group(
            f"panned, law {law}",
            lambda r, w=law: r["format"] == "panned" and r["conditions"]["pan_law"] == w,
        )
    return "\n".join(out)


def oracle_table(azimuths: dict[str, np.ndarray], seed: int = 0) -> str:
    """L/C/R accuracy of an estimator whose azimuths are off by Gaussian errors."""
    rng = np.random.default_rng(seed)
    names = list(azimuths)
    out = [
        "| Gaussian error sd (deg) | " + " | ".join(names) + " |",
        "|" + "---|" * (1 + len(names)),
    ]
    for sigma in SIGMAS_DEG:
        cells = []
        for az in azimuths.values():
            zones = [third(a) for a in az]
            acc = np.mean(
                [
                    np.mean([third(a) == z for a, z in zip(noisy, zones, strict=True)])
                    for noisy in az + rng.normal(0.0, sigma, (100, az.size))
                ]
            )
            cells.append(f"{100 * acc:.1f}")
        out.append(f"| {sigma:g} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def static_azimuths(seeds: Sequence[int]) -> np.ndarray:
    """True azimuths of every static source of these seeds' benchmark sets."""
    from spa2v.sim import benchmark_scenes

    out = []
    for seed in seeds:
        for spec in benchmark_scenes(
            seed=seed,
            formats=("foa",),
            reverb=(False,),
            dual_mono=False,
            scene_types=("static-1", "static-2"),
        ):
            out.extend(s.trajectory.azimuth_deg for s in spec.sources)
    return np.asarray(out, dtype=float)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2", help="benchmark seeds, e.g. 1,2,3")
    parser.add_argument("--variants", type=int, default=1, help="geometry variants per seed")
    parser.add_argument("--plan", action="store_true", help="tag and plan too (slower)")
    parser.add_argument("--oracle", choices=("spacing", "gain"), default=None)
    parser.add_argument(
        "--kind-unknown",
        action="store_true",
        help="hand stereo clips over as 'stereo', so hearing tells their kind",
    )
    parser.add_argument("--formats", default=",".join(FORMATS), help="e.g. spaced,panned")
    parser.add_argument("--out", default=None, help="folder for lcr.md and lcr.json")
    args = parser.parse_args(argv)
    from spa2v.sim import benchmark_scenes

    seeds = [int(s) for s in args.seeds.split(",")]
    specs = [
        spec
        for seed in seeds
        for spec in benchmark_scenes(
            seed=seed, variants=args.variants, scene_types=("static-1", "static-2")
        )
        if spec.scene_type in ("static-1", "static-2")
        and not spec.dual_mono
        and spec.format in args.formats.split(",")
    ]
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for k, spec in enumerate(specs):
        rows.extend(run_clip(spec, args.plan, args.oracle, args.kind_unknown))
        if (k + 1) % 10 == 0:
            print(f"{k + 1}/{len(specs)} clips", flush=True)
    print(f"{len(specs)} clips, {len(rows)} static sources, {time.perf_counter() - start:.0f} s")
    title = f"seeds {args.seeds}, {args.variants} variant(s)" + (
        f", oracle {args.oracle}" if args.oracle else ""
    )
    if args.kind_unknown:
        wrong = sum(r["heard_kind"] != r["format"] for r in rows)
        title += f", stereo kind told by hearing (wrong for {wrong} of {len(rows)} sources)"
    geometry = {}  # each geometry is rendered in every format and room: count it once
    for r in rows:
        geometry.setdefault((r["clip"].rsplit("-", 2)[0], round(r["true_deg"], 3)), r["true_deg"])
    here = np.array(list(geometry.values()))
    report = "\n\n".join(
        [
            f"## L/C/R breakdown ({title})",
            tables(rows, args.plan),
            "## L/C/R of an estimator with Gaussian azimuth errors",
            oracle_table(
                {
                    f"these {here.size} positions": here,
                    "seeds 0-39 (280 positions)": static_azimuths(range(40)),
                }
            ),
        ]
    )
    print(report)
    if args.out:
        from spa2v.evaluation.benchmark import json_safe
        from spa2v.io.atomic import write_text_atomic

        Path(args.out).mkdir(parents=True, exist_ok=True)
        write_text_atomic(Path(args.out) / "lcr.md", report + "\n")
        write_text_atomic(Path(args.out) / "lcr.json", json.dumps(json_safe(rows), indent=1))


if __name__ == "__main__":
    main()
