"""Wall time of steered vs unsteered generation on the same tiny random-weight pipelines.

Runs the tiny AnimateDiff and ModelScope pipelines of ``tests/diffusion_tiny.py`` (built
offline) with ``--steering none``, ``modulate`` and ``energy`` at the default steering
fractions, interleaved, and prints the fastest time of each and its ratio to ``none``
measured in the same run. Targets: modulate <= 1.15x, energy <= 2.5x.

Usage::

    .venv/bin/python benchmarks/bench_steering.py [--steps 10] [--frames 8] [--repeats 5]
    .venv/bin/python benchmarks/bench_steering.py --device cuda --dtype float16  # GPU check
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from diffusion_tiny import tiny_animatediff, tiny_modelscope
from spa2v.planning.vsl import VSL, parse_vsl
from spa2v.rendering.diffusion import DiffusionOptions, generate_frames, load_pipeline

MODES = ("none", "modulate", "energy")
TARGETS = {"modulate": 1.15, "energy": 2.5}


def _layout() -> VSL:
    return parse_vsl(
        {
            "schema": "spa2v.vsl/1",
            "duration": 4.0,
            "fps": 1.0,
            "caption": "a red car drives past",
            "background": "a city street",
            "objects": [
                {"id": 0, "name": "car", "motion": "right-to-left"},
                {"id": 1, "name": "dog", "motion": "static"},
            ],
            "frames": [
                {
                    "t": 0.0,
                    "boxes": [
                        {"id": 0, "box": [0.6, 0.45, 1.0, 0.8]},
                        {"id": 1, "box": [0.0, 0.5, 0.3, 0.9]},
                    ],
                },
                {
                    "t": 4.0,
                    "boxes": [
                        {"id": 0, "box": [0.0, 0.45, 0.4, 0.8]},
                        {"id": 1, "box": [0.0, 0.5, 0.3, 0.9]},
                    ],
                },
            ],
        }
    )


def _time_s(pipe: object, vsl: VSL, options: DiffusionOptions) -> float:
    start = time.perf_counter()
    generate_frames(pipe, vsl, options)
    if torch.cuda.is_available():
        torch.cuda.synchronize()  # frames come back as numpy, but be explicit
    return time.perf_counter() - start


def bench(base: str, model: dict[str, str], args: argparse.Namespace) -> dict[str, float]:
    """Fastest of ``args.repeats`` seconds per generation for each mode on one base."""
    vsl = _layout()
    options = {
        mode: DiffusionOptions(
            **model,
            base=base,
            steering=mode,
            steps=args.steps,
            num_frames=args.frames,
            width=args.width,
            height=args.height,
            device=args.device,
            dtype=args.dtype,
            show_progress=False,
        )
        for mode in MODES
    }
    pipe = load_pipeline(options["none"])
    _time_s(pipe, vsl, options["none"])  # warm-up (allocator, lazy imports)
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for i in range(args.repeats):
        # Interleaved, in a rotating order, so that load from other jobs on a shared
        # machine hits every mode alike; the minimum is the least disturbed run.
        for mode in MODES[i % len(MODES) :] + MODES[: i % len(MODES)]:
            times[mode].append(_time_s(pipe, vsl, options[mode]))
    return {mode: min(values) for mode, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--width", type=int, default=96)
    parser.add_argument("--height", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda for the GPU check")
    parser.add_argument("--dtype", default="auto", help="auto = float16 on CUDA")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        base_dir, adapter_dir = tiny_animatediff(Path(tmp))
        models = {
            "animatediff": {"model": str(base_dir), "motion_adapter": str(adapter_dir)},
            "modelscope": {"model": str(tiny_modelscope(Path(tmp)))},
        }
        print(
            f"tiny pipelines, {args.width}x{args.height}, {args.frames} frames, {args.steps} "
            f"steps, CFG on, {args.device} ({args.dtype}), {args.threads} CPU thread(s), "
            f"best of {args.repeats}; torch {torch.__version__}"
        )
        print(f"{'base':<12} {'mode':<9} {'seconds':>8} {'ratio':>6}  target")
        for base, model in models.items():
            medians = bench(base, model, args)
            for mode in MODES:
                ratio = medians[mode] / medians["none"]
                target = f"<= {TARGETS[mode]}x" if mode in TARGETS else "baseline"
                ok = "" if mode not in TARGETS else (" ok" if ratio <= TARGETS[mode] else " MISS")
                print(f"{base:<12} {mode:<9} {medians[mode]:8.2f} {ratio:5.2f}x  {target}{ok}")


if __name__ == "__main__":
    main()
