"""Which recording condition costs the planner how much: one condition at a time.

Run::

    .venv/bin/python benchmarks/bench_conditions.py [--seed 0] [--variants 1] [--out DIR]

The layout benchmark (``spa2v bench``) draws every condition at once per clip, so its
per-condition pools are confounded. Here each condition is applied alone to the
benchmark's geometries rendered with the estimator's own models
(``benchmark_scenes(conditions="estimator")``: KEMAR head, 0.15 m spacing,
constant-power panning, no early reflections, no imbalance or codec), and the same clips
without it are scored in the same run as the reference:

=================  ==================================================================
head               binaural: a rigid sphere of 8.75 cm, ears at 100 deg
spacing 0.10 m     spaced: a pair 0.10 m apart
spacing 0.25 m     spaced: a pair 0.25 m apart
pan -4.5 dB        panned: the -4.5 dB pan law
pan linear         panned: the linear (-6 dB) pan law
reflections        every format, reverberant clips: image-source early reflections
imbalance +3 dB    stereo formats: left 3 dB louder than right
mp3 / aac 128      stereo formats, anechoic clips: a 128 kb/s round trip
vorbis 64          stereo formats, anechoic clips: a 64 kb/s round trip
=================  ==================================================================

Prints one table (planner figures, and the change against the reference clips) and
writes it as markdown to ``DIR/conditions.md`` when ``--out`` is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STEREO = ("binaural", "spaced", "panned")

#: (name, which clips it applies to, SceneSpec changes)
CONDITIONS: tuple[tuple[str, Callable[[Any], bool], dict[str, Any]], ...] = (
    ("head: sphere 8.75 cm", lambda s: s.format == "binaural", {"head": "sphere"}),
    ("spacing 0.10 m", lambda s: s.format == "spaced", {"mic_spacing_m": 0.10}),
    ("spacing 0.25 m", lambda s: s.format == "spaced", {"mic_spacing_m": 0.25}),
    ("pan -4.5 dB", lambda s: s.format == "panned", {"pan_law": "-4.5dB"}),
    ("pan linear", lambda s: s.format == "panned", {"pan_law": "linear"}),
    ("early reflections", lambda s: bool(s.rt60_s), {"reflections": True}),
    ("imbalance +3 dB", lambda s: s.format in STEREO, {"gain_imbalance_db": 3.0}),
    (
        "mp3 128 kb/s",
        lambda s: s.format in STEREO and not s.rt60_s,
        {"codec": "mp3", "codec_bitrate_kbps": 128.0},
    ),
    (
        "aac 128 kb/s",
        lambda s: s.format in STEREO and not s.rt60_s,
        {"codec": "aac", "codec_bitrate_kbps": 128.0},
    ),
    (
        "vorbis 64 kb/s",
        lambda s: s.format in STEREO and not s.rt60_s,
        {"codec": "vorbis", "codec_bitrate_kbps": 64.0},
    ),
)
METRICS = (
    ("centre_error_mean", "centre err", "err"),
    ("lcr_acc", "L/C/R %", "pct"),
    ("motion_acc", "motion %", "pct"),
    ("approach_acc", "appr/rec %", "pct"),
    ("label_acc", "label %", "pct"),
)


def _cell(value: float, ref: float, kind: str) -> str:
    from spa2v.evaluation.benchmark import format_metric

    if value is None or math.isnan(value):
        return "-"
    delta = value - ref
    text = format_metric(value, kind)
    if ref is None or math.isnan(ref):
        return text
    shift = f"{delta:+.3f}" if kind == "err" else f"{100 * delta:+.1f}"
    return f"{text} ({shift})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    from spa2v.evaluation.benchmark import BenchmarkReport, run_clip
    from spa2v.sim import benchmark_scenes

    start = time.perf_counter()
    base = benchmark_scenes(seed=args.seed, variants=args.variants, conditions="estimator")
    reference = {spec.name: run_clip(spec) for spec in base}
    lines = [
        "| condition | clips | " + " | ".join(h for _, h, _ in METRICS) + " |",
        "|" + "---|" * (2 + len(METRICS)),
    ]
    for name, applies, changes in CONDITIONS:
        specs = [s for s in base if applies(s)]
        changed = [run_clip(dataclasses.replace(s, **changes)) for s in specs]
        ref = BenchmarkReport(args.seed, "physics", 8.0, [], [reference[s.name] for s in specs])
        new = BenchmarkReport(args.seed, "physics", 8.0, [], changed)
        r = ref.pooled(lambda c: True)["planner"]
        n = new.pooled(lambda c: True)["planner"]
        cells = [_cell(n[key], r[key], kind) for key, _, kind in METRICS]
        lines.append(f"| {name} | {len(specs)} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(f"\n{text}\n{time.perf_counter() - start:.0f} s")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "conditions.md").write_text(text)


if __name__ == "__main__":
    main()
