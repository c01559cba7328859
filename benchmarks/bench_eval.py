"""Speed of ``spa2v eval``: frames per second at 512x320 on ONE core.

    .venv/bin/python benchmarks/bench_eval.py [--clip-s 8] [--repeats 3]

An animatic of a car crossing in front of a dog (the render benchmark's layout) with a
panned noise sound track is judged three ways, the process pinned to one CPU and OpenCV
on one thread, each the median of ``--repeats`` runs:

* decoding the frames alone (baseline, measured in the same run);
* ``boxes="animatic"`` (the detector-free path for spa2v's own renders);
* ``boxes="detector"`` (YOLOv3-tiny twice a second, the path for any other video).

Every run includes flow on every frame (AV-Align), hearing of the sound track and the
scores. Target: >= 10 frames/s for the detector path. Prints figures and ratios (copy
them into docs/evaluation.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from bench_render import car_and_dog_layout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip-s", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from spa2v.api import render
    from spa2v.evaluation.video import evaluate_video
    from spa2v.io.video import open_video

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sr = 48000
        n = round(args.clip_s * sr)
        pan = np.linspace(0.2, 0.8, n)  # right to left, as the car
        noise = np.random.default_rng(0).standard_normal(n) * 0.1
        sf.write(folder / "car.wav", np.stack([noise * pan, noise * (1 - pan)]).T, sr)
        vsl = car_and_dog_layout(args.clip_s)
        video = render(vsl, folder / "car.wav", folder / "car.mp4")
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        evaluate_video(video, layout=vsl, boxes="detector", threads=1)  # warm up, load model
        n_frames = sum(1 for _ in open_video(video).frames())

        def rate(fn) -> float:
            runs = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                fn()
                runs.append(time.perf_counter() - start)
            return n_frames / statistics.median(runs)

        rates = {
            "decode frames (baseline)": rate(lambda: sum(1 for _ in open_video(video).frames())),
            "eval, animatic sprites": rate(
                lambda: evaluate_video(video, layout=vsl, boxes="animatic", threads=1)
            ),
            "eval, YOLOv3-tiny detector": rate(
                lambda: evaluate_video(video, layout=vsl, boxes="detector", threads=1)
            ),
        }
    baseline = rates["decode frames (baseline)"]
    print(f"512x320, {n_frames} frames ({args.clip_s:g} s), one core, median of {args.repeats}:")
    for name, value in rates.items():
        print(f"  {name:<30} {value:7.1f} frames/s  ({value / baseline:5.3f} x baseline)")
    target = rates["eval, YOLOv3-tiny detector"]
    print(f"target >= 10 frames/s (detector path): {'met' if target >= 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
