"""How fast ``spa2v batch`` gets through many clips, against a shell loop of ``spa2v run``.

Run::

    .venv/bin/python benchmarks/bench_batch.py [--clips 50] [--duration-s 10] [--no-ray]

Makes ``--clips`` simulated recordings of ``--duration-s`` seconds (vehicles passing,
still sources; binaural, spaced pair, FOA) with :mod:`spa2v.sim`, then times, in one
run, each as a whole command (start-up included, wall clock):

1. ``spa2v batch`` with 1 local worker and with 2 (clips per second, and their ratio);
2. a shell loop of ``spa2v run`` over the same clips, one after the other: the batch's
   time per clip with 1 worker against it (same CPUs; the batch pays start-up and
   model loading once per worker, the loop once per clip);
3. ``spa2v batch --engine ray`` on a local Ray instance with 2 CPUs, against the local
   engine with 2 workers (Ray's overhead; Ray's own start-up included).

Every command renders the default animatic (512x320, 24 fps) with the default options.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-c", "import sys; from spa2v.interfaces.cli import main; sys.exit(main())"]


def make_clips(folder: Path, n: int, duration_s: float) -> list[Path]:
    """``n`` simulated recordings, a mix of scenes and formats (fixed seeds)."""
    import soundfile as sf

    from spa2v.sim.scene import simulate_pass, simulate_static

    formats = ("binaural", "spaced", "foa")
    paths = []
    for k in range(n):
        fmt = formats[k % 3]
        if k % 4 == 3:
            result = simulate_static(
                (-35.0, 0.0, 35.0)[k % 3], format=fmt, duration_s=duration_s, sr=48000, seed=k
            )
        else:
            direction = ("left-to-right", "right-to-left")[k % 2]
            result = simulate_pass(
                direction, speed_mps=12.0, format=fmt, duration_s=duration_s, sr=48000, seed=k
            )
        path = folder / f"clip{k:03d}.wav"
        sf.write(path, result.signal.samples.T, result.signal.sr, subtype="PCM_16")
        paths.append(path)
    return paths


def timed(command: list[str]) -> float:
    """Wall-clock seconds of a command; it must succeed."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[3:])} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def batch_s(clips_dir: Path, out: Path, *flags: str) -> float:
    shutil.rmtree(out, ignore_errors=True)
    return timed([*CLI, "-q", "batch", str(clips_dir), "-o", str(out), *flags])


def loop_s(clips: list[Path], out: Path) -> float:
    """A shell loop: one ``spa2v run`` process per clip, one after the other."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return sum(timed([*CLI, "-q", "run", str(c), "-o", str(out / f"{c.stem}.mp4")]) for c in clips)


def line(name: str, seconds: float, n: int) -> str:
    return f"{name:<24}{seconds:7.1f} s  {n / seconds:5.2f} clips/s  {seconds / n:5.2f} s/clip"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=50, help="number of clips (default 50)")
    parser.add_argument("--duration-s", type=float, default=10.0, help="clip length (10 s)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray engine")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        work = Path(tmp)
        clips_dir = work / "clips"
        clips_dir.mkdir()
        clips = make_clips(clips_dir, args.clips, args.duration_s)
        n = len(clips)
        print(f"{n} simulated clips of {args.duration_s:g} s")

        one = batch_s(clips_dir, work / "b1", "--workers", "1")
        two = batch_s(clips_dir, work / "b2", "--workers", "2")
        print(line("batch, 1 local worker", one, n))
        print(line("batch, 2 local workers", two, n))
        print(f"  2 workers / 1 worker: {one / two:5.2f}x the clips per second")

        loop = loop_s(clips, work / "loop")
        print(line("loop of spa2v run", loop, n))
        print(f"  batch (1 worker) is {loop / one:4.2f}x faster per clip than the loop (target 2)")

        if not args.no_ray:
            ray = batch_s(clips_dir, work / "ray", "--engine", "ray", "--workers", "2")
            print(line("batch, Ray (2 CPUs)", ray, n))
            print(f"  Ray / local (2 workers): {ray / two:4.2f}x the time (target <= 1.3)")


if __name__ == "__main__":
    main()
