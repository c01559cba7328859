"""How long planning a clip takes end to end on one core: load, hear, tag, plan (physics).

Run::

    .venv/bin/python benchmarks/bench_plan.py [--duration-s 10] [--repeat 5] [--format binaural]

The process is pinned to one CPU core (and BLAS/OpenMP to one thread) before numpy is
imported. A first, cold run pays the imports and model/table loading; it is reported
apart. Then each stage is timed ``--repeat`` times and the median is reported, with two
yardsticks measured in the same run: the clip's own duration (real-time factor) and a
fixed reference workload (an STFT of the clip with scipy, 1024-point, hop 256), so that
figures from machines of different speed can be compared as ratios.
"""

from __future__ import annotations

import os

# One core, one thread: set before numpy/onnxruntime are imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

STAGES = ("load", "hear", "tag", "plan")


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run_once(path: Path) -> tuple[dict[str, float], Any]:
    """Time each stage of planning the file at ``path`` once: (seconds per stage, VSL)."""
    from spa2v.hearing.extract import hear
    from spa2v.hearing.tagging.tag import tag_cues
    from spa2v.io.audio import load_audio
    from spa2v.planning import plan

    signal, t_load = _timed(lambda: load_audio(path))
    cues, t_hear = _timed(lambda: hear(signal))
    cues, t_tag = _timed(lambda: tag_cues(signal, cues))
    vsl, t_plan = _timed(lambda: plan(cues, "physics"))
    return {"load": t_load, "hear": t_hear, "tag": t_tag, "plan": t_plan}, vsl


def reference_s(path: Path, repeat: int) -> float:
    """Median time of the yardstick: a 1024-point STFT (hop 256) of every channel."""
    import soundfile as sf
    from scipy.signal import stft

    samples, sr = sf.read(path, dtype="float32", always_2d=True)
    times = [_timed(lambda: stft(samples.T, fs=sr, nperseg=1024, noverlap=768))[1]]
    times += [
        _timed(lambda: stft(samples.T, fs=sr, nperseg=1024, noverlap=768))[1]
        for _ in range(repeat - 1)
    ]
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-s", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--format", default="binaural", choices=("binaural", "spaced", "panned", "foa", "mono")
    )
    args = parser.parse_args()

    t0 = time.perf_counter()
    from spa2v.sim import simulate_pass

    result = simulate_pass(
        "right-to-left",
        12.0,
        10.0,
        format=args.format,
        clip="bus",
        duration_s=args.duration_s,
        seed=1,
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.wav"
        result.write(path)
        print(
            f"clip: {args.duration_s:g} s {args.format}, 48 kHz, a bus passing right to left "
            f"(simulated in {time.perf_counter() - t0:.1f} s)"
        )
        print(f"cpu affinity: {sorted(os.sched_getaffinity(0))}")

        cold_start = time.perf_counter()
        cold, vsl = run_once(path)
        cold_total = time.perf_counter() - cold_start
        runs = [run_once(path)[0] for _ in range(args.repeat)]
        ref = reference_s(path, args.repeat)

    planned = ", ".join(f"{o.name} ({o.audio_label}) {o.motion}" for o in vsl.objects)
    print(f"planned: {planned or 'nothing'}; {len(vsl.frames)} keyframes")
    print(f"load average: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    median = {s: statistics.median(r[s] for r in runs) for s in STAGES}
    total = sum(median.values())
    print(
        f"\ncold first run (imports, model and tables): {cold_total:.2f} s "
        + " ".join(f"{s}={cold[s]:.2f}" for s in STAGES)
    )
    print(f"\nwarm, median of {args.repeat} runs:")
    print(f"{'stage':<8}{'seconds':>10}{'share':>8}{'x STFT':>10}")
    for stage in STAGES:
        print(
            f"{stage:<8}{median[stage]:>10.3f}{median[stage] / total:>8.0%}"
            f"{median[stage] / ref:>10.1f}"
        )
    print(f"{'total':<8}{total:>10.3f}{1:>8.0%}{total / ref:>10.1f}")
    print(
        f"\nreference STFT: {ref * 1000:.1f} ms; real-time factor "
        f"{args.duration_s / total:.1f}x; target < 1 s: "
        f"{'met' if total < 1.0 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
