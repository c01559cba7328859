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
   engine with 2 workers (Ray's overhead; Ray's own start-up included): the two
   alternately, ``--repeat`` times each, medians and their ratio.

Beside the wall clock, each line gives the CPU seconds (user + system) of every process
the command started, a local Ray instance's daemons and workers included (``/proc``
sampled every 0.1 s, Linux): on a shared machine the CPU time moves far less with the
other work than the wall clock does.

Every command renders the default animatic (512x320, 24 fps) with the default options.

``--engines-only`` measures only 3.: the quicker check of Ray's overhead. With
``--running-cluster``, 3. joins a Ray instance started once before the runs
(``--address``; its start-up and shutdown not timed), as a batch on a running cluster
does: the share of Ray's overhead that is its own start and stop.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

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


class Timing(NamedTuple):
    """A command's wall-clock seconds and the CPU seconds (user + system) of every
    process it started, Ray's daemons and workers included."""

    wall_s: float
    cpu_s: float

    def __add__(self, other: object) -> Timing:
        assert isinstance(other, Timing)
        return Timing(self.wall_s + other.wall_s, self.cpu_s + other.cpu_s)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[tuple[int, int], tuple[int, float]]:
    """(pid, start time) -> (parent pid, CPU seconds so far) of every process (/proc)."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(b")") + 2 :].split()  # from field 3 (state) on
        cpu_s = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime + stime
        table[(int(entry.name), int(fields[19]))] = (int(fields[1]), cpu_s)
    return table


class TreeCPU:
    """CPU seconds of a process and of every process started under it, also once they
    are reparented (a local Ray instance's workers outlive their parents, and neither
    ``wait`` nor ``RUSAGE_CHILDREN`` sees them): ``/proc`` sampled every 0.1 s, so a
    process's last tenth of a second before it exits may be missed."""

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        self.cpu_s: dict[tuple[int, int], float] = {}
        self._alive = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        table = _processes()
        keys = {key for key in table if key in self.cpu_s or key[0] == self.root_pid}
        pids = {pid for pid, _ in keys}
        grew = True
        while grew:  # the children of our processes are ours
            grew = False
            for key, (parent, _) in table.items():
                if key not in keys and parent in pids:
                    keys.add(key)
                    pids.add(key[0])
                    grew = True
        for key in keys:
            self.cpu_s[key] = table[key][1]
        self._alive = bool(keys)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.1)

    def finish(self, timeout_s: float = 120.0) -> float:
        """Wait until every process of the tree has exited; their CPU seconds."""
        deadline = time.monotonic() + timeout_s
        while self._alive and time.monotonic() < deadline:
            time.sleep(0.1)
        self._stop.set()
        self._thread.join()
        if self._alive:
            print(f"  (processes of the last command still running after {timeout_s:g} s)")
        return sum(self.cpu_s.values())


def timed(command: list[str]) -> Timing:
    """Wall-clock and CPU seconds of a command; it must succeed."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree = TreeCPU(process.pid)
    _, stderr = process.communicate()
    elapsed = time.perf_counter() - start
    cpu_s = tree.finish()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[3:])} failed ({process.returncode}):\n{stderr}")
    return Timing(elapsed, cpu_s)


def batch_s(clips_dir: Path, out: Path, *flags: str) -> Timing:
    shutil.rmtree(out, ignore_errors=True)
    return timed([*CLI, "-q", "batch", str(clips_dir), "-o", str(out), *flags])


def loop_s(clips: list[Path], out: Path) -> Timing:
    """A shell loop: one ``spa2v run`` process per clip, one after the other."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    total = Timing(0.0, 0.0)
    for c in clips:
        total = total + timed([*CLI, "-q", "run", str(c), "-o", str(out / f"{c.stem}.mp4")])
    return total


def line(name: str, timing: Timing, n: int) -> str:
    seconds = timing.wall_s
    return (
        f"{name:<24}{seconds:7.1f} s  {n / seconds:5.2f} clips/s  {seconds / n:5.2f} s/clip"
        f"  {timing.cpu_s:7.1f} CPU-s"
    )


#: A Ray instance of 2 CPUs in a process of its own: prints its address, stops when its
#: standard input closes.
RAY_INSTANCE = """
import sys, ray
ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()
ray.shutdown()
"""


def engines_only(
    clips_dir: Path, work: Path, n: int, repeat: int, running_cluster: bool = False
) -> None:
    """The local engine (2 workers) and Ray (2 CPUs), alternately: medians and ratios."""
    local: list[Timing] = []
    ray: list[Timing] = []
    ray_flags = ["--engine", "ray", "--workers", "2"]
    instance = None
    if running_cluster:
        instance = subprocess.Popen(
            [sys.executable, "-c", RAY_INSTANCE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert instance.stdout is not None
        ray_flags = ["--engine", "ray", "--address", instance.stdout.readline().strip()]
    try:
        for k in range(repeat):
            local.append(batch_s(clips_dir, work / "b2", "--workers", "2"))
            ray.append(batch_s(clips_dir, work / "ray", *ray_flags))
            print(
                f"  run {k + 1}: local {local[-1].wall_s:6.1f} s {local[-1].cpu_s:6.1f} CPU-s, "
                f"Ray {ray[-1].wall_s:6.1f} s {ray[-1].cpu_s:6.1f} CPU-s  "
                f"(load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    finally:
        if instance is not None:
            instance.communicate(timeout=120)
    report_engines(local, ray, n, repeat, running_cluster)


def report_engines(
    local: list[Timing], ray: list[Timing], n: int, repeat: int, running_cluster: bool
) -> None:
    median_local = Timing(*(statistics.median(t[i] for t in local) for i in (0, 1)))
    median_ray = Timing(*(statistics.median(t[i] for t in ray) for i in (0, 1)))
    print(line("batch, 2 local workers", median_local, n) + f"  (median of {repeat})")
    name = "batch, Ray (running, 2)" if running_cluster else "batch, Ray (2 CPUs)"
    print(line(name, median_ray, n) + f"  (median of {repeat})")
    ratio = f"  Ray / local (2 workers): {median_ray.wall_s / median_local.wall_s:4.2f}x the time"
    if running_cluster:  # the instance's actors are not the command's processes
        print(ratio + " (Ray's start and stop not included; its CPU time is not counted)")
    else:
        print(
            ratio + f" (target <= 1.3), {median_ray.cpu_s / median_local.cpu_s:4.2f}x the CPU time"
        )
    # The host moves both engines' times from run to run: each pair (a local run and the
    # Ray run right after it) says how far the ratio itself moves.
    pairs = sorted(b.wall_s / a.wall_s for a, b in zip(local, ray, strict=True))
    print(
        f"  per pair of runs: {pairs[0]:4.2f}x to {pairs[-1]:4.2f}x, "
        f"median {statistics.median(pairs):4.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=50, help="number of clips (default 50)")
    parser.add_argument("--duration-s", type=float, default=10.0, help="clip length (10 s)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray engine")
    parser.add_argument(
        "--engines-only",
        action="store_true",
        help="only the local engine (2 workers) against Ray, alternately, --repeat times",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="runs of each engine when Ray is compared with the local engine (default 5)",
    )
    parser.add_argument(
        "--running-cluster",
        action="store_true",
        help="with --engines-only: Ray joins an instance started before the runs",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        work = Path(tmp)
        clips_dir = work / "clips"
        clips_dir.mkdir()
        clips = make_clips(clips_dir, args.clips, args.duration_s)
        n = len(clips)
        print(f"{n} simulated clips of {args.duration_s:g} s")
        if args.engines_only:
            engines_only(clips_dir, work, n, args.repeat, args.running_cluster)
            return

        one = batch_s(clips_dir, work / "b1", "--workers", "1")
        two = batch_s(clips_dir, work / "b2", "--workers", "2")
        print(line("batch, 1 local worker", one, n))
        print(line("batch, 2 local workers", two, n))
        print(f"  2 workers / 1 worker: {one.wall_s / two.wall_s:5.2f}x the clips per second")

        loop = loop_s(clips, work / "loop")
        print(line("loop of spa2v run", loop, n))
        speedup = loop.wall_s / one.wall_s
        print(f"  batch (1 worker) is {speedup:4.2f}x faster per clip than the loop (target 2)")

        if not args.no_ray:
            # Alternately, so that a change in the machine's load over the minutes of
            # the run weighs on both engines alike.
            engines_only(clips_dir, work, n, args.repeat)


if __name__ == "__main__":
    main()
