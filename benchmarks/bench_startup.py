"""What a cold ``spa2v plan`` of a 10 s clip costs: CPU time of the whole process.

Run::

    .venv/bin/python benchmarks/bench_startup.py [--repeat 5] [--duration-s 10]

Each command runs as a fresh process (imports, model and table loading all paid), and
its user + system CPU time is read with ``resource.getrusage(RUSAGE_CHILDREN)`` around
the subprocess; the median of ``--repeat`` runs is reported. CPU time, not wall time,
so that other work on the machine barely moves the figure. Two yardsticks are measured
in the same run: an empty Python process and ``spa2v --help``. With ``--modules`` it
also lists the heavy modules a cold ``plan`` imports.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CLI = "import sys; from spa2v.interfaces.cli import main; sys.exit(main())"
#: Modules whose import costs a tenth of a CPU-second or more (a plan needs few of them).
HEAVY = (
    "scipy.signal",
    "scipy.stats",
    "scipy.optimize",
    "scipy.interpolate",
    "scipy.ndimage",
    "scipy.special",
    "matplotlib",
    "av",
    "onnxruntime",
    "openai",
    "jsonschema",
    "pyarrow",
    "torch",
)


def cpu_s(command: list[str]) -> float:
    """User + system CPU seconds of one run of ``command`` (it must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command} failed:\n{done.stderr}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpu_s(command: list[str], repeat: int) -> float:
    return statistics.median(cpu_s(command) for _ in range(repeat))


def heavy_modules(command_args: list[str]) -> list[str]:
    """The :data:`HEAVY` modules a ``spa2v`` command leaves imported."""
    code = (
        "import sys; from spa2v.interfaces.cli import main; main(sys.argv[1:]); "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *command_args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1].split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (median)")
    parser.add_argument("--duration-s", type=float, default=10.0, help="clip length (10 s)")
    parser.add_argument("--modules", action="store_true", help="list heavy modules imported")
    args = parser.parse_args()

    import soundfile as sf

    from spa2v.sim.scene import simulate_pass

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        clip = Path(tmp) / "pass.wav"
        result = simulate_pass("right-to-left", format="binaural", duration_s=args.duration_s)
        sf.write(clip, result.signal.samples.T, result.signal.sr, subtype="PCM_16")
        layout = Path(tmp) / "layout.json"
        plan = ["plan", str(clip), "-o", str(layout)]
        python = median_cpu_s([sys.executable, "-c", "pass"], args.repeat)
        help_s = median_cpu_s([sys.executable, "-c", CLI, "--help"], args.repeat)
        plan_s = median_cpu_s([sys.executable, "-c", CLI, *plan], args.repeat)
        print(f"CPU seconds (user + sys), median of {args.repeat} cold processes:")
        print(f"  python -c pass              {python:5.2f}")
        print(f"  spa2v --help                {help_s:5.2f}")
        print(f"  spa2v plan ({args.duration_s:g} s binaural) {plan_s:5.2f}   (target < 1.0)")
        if args.modules:
            print("  heavy modules a plan imports:", " ".join(heavy_modules(plan)) or "none")


if __name__ == "__main__":
    main()
