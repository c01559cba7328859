"""How long the Ray engine takes to start and stop a local Ray instance, with the Ray
settings it uses for one (``spa2v.batch.engine.RAY_LOCAL_SETTINGS``) and with Ray's
defaults.

Run::

    .venv/bin/python benchmarks/bench_ray_start.py [--repeat 10] [--cpus 2]

Each start is a fresh process that creates a :class:`~spa2v.batch.engine.RayEngine`
(``ray.init`` of a new local instance), runs one trivial task per CPU, and closes the
engine; the wall-clock seconds of the start (engine created), of the first tasks and of
the close are read inside that process. The two settings alternate, ``--repeat`` times
each; medians and means are printed. Ray's defaults are given by setting the variables
to them (the engine keeps a value the user set). Needs the ``ray`` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from spa2v.batch.engine import RAY_LOCAL_SETTINGS

#: Ray's own defaults for the settings the engine changes (Ray 2.5x-2.6x).
RAY_DEFAULTS = {
    "RAY_raylet_client_connect_timeout_milliseconds": "1000",
    "RAY_raylet_client_num_connect_attempts": "10",
}
assert RAY_DEFAULTS.keys() == RAY_LOCAL_SETTINGS.keys(), "a setting without its Ray default"

ONE_START = """
import json, sys, time
import ray
from spa2v.batch.engine import RayEngine

start = time.perf_counter()
engine = RayEngine(int(sys.argv[1]))
ready = time.perf_counter()

@ray.remote
def one():
    return 1

ray.get([one.remote() for _ in range(int(sys.argv[1]))])
tasks = time.perf_counter()
engine.close()
print(json.dumps({"start_s": ready - start, "tasks_s": tasks - ready,
                  "close_s": time.perf_counter() - tasks}))
"""


def one_start(cpus: int, defaults: bool) -> dict[str, float]:
    env = dict(os.environ)
    for name in RAY_LOCAL_SETTINGS:
        env.pop(name, None)
    if defaults:
        env.update(RAY_DEFAULTS)
    done = subprocess.run(
        [sys.executable, "-c", ONE_START, str(cpus)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10, help="starts of each (default 10)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the instance (default 2)")
    args = parser.parse_args()

    runs: dict[str, list[dict[str, float]]] = {"Ray's defaults": [], "spa2v's settings": []}
    for k in range(args.repeat):
        for name in runs:
            runs[name].append(one_start(args.cpus, defaults=name == "Ray's defaults"))
            print(f"  {k + 1:2d} {name:<18} start {runs[name][-1]['start_s']:5.2f} s", flush=True)
    for name, results in runs.items():
        line = f"{name:<18}"
        for key in ("start_s", "tasks_s", "close_s"):
            values = [r[key] for r in results]
            line += (
                f"  {key[:-2]} median {statistics.median(values):4.2f} s"
                f" (mean {statistics.fmean(values):4.2f})"
            )
        print(line)
    defaults, ours = (statistics.fmean(r["start_s"] for r in rs) for rs in runs.values())
    print(
        f"mean start: {defaults - ours:+.2f} s with Ray's defaults "
        f"({args.repeat} starts of each, alternating)"
    )


if __name__ == "__main__":
    main()
