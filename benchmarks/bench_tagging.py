"""Speed of the embedded tagger on one core, and per-source accuracy on simulated pairs.

Speed: tagging a 10 s clip (44.1 kHz mono, real opensfx recording looped) with YAMNet
on one onnxruntime thread; front-end and model timed apart. The baseline, measured in
the same run, is one scipy STFT of the same clip (what any audio analysis pays).

Pairs (``--pairs``): two simultaneous sources of different kinds at +40 / -40 deg,
3 m, 3 s, in each stereo layout; hear + tag_cues; a source counts as right when the
separated source nearest its true side has the right family as its top label.

Run::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_tagging.py [--pairs]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
from scipy.signal import stft

from spa2v.hearing.tagging import melspec
from spa2v.hearing.tagging.tag import tag_audio
from spa2v.hearing.tagging.yamnet import AUGMENT, YamnetTagger

PAIRS = [
    ("speech", "helicopter"),
    ("violin", "cow"),
    ("trumpet", "sheep"),
    ("lion", "bus"),
    ("horse", "jackhammer"),
    ("speech", "drums"),
    ("bird", "chainsaw"),
    ("piano", "horse"),
    ("sheep", "helicopter"),
]


def median_s(run: Callable[[], object], repeats: int = 7) -> float:
    """Median wall time of ``run()`` over ``repeats`` calls, after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_speed() -> None:
    from spa2v.sim.sources import dry_source

    sr = 44_100
    audio = (0.1 * dry_source("train", sr, 10 * sr, seed=0)).astype(np.float32)
    start = time.perf_counter()
    tagger = YamnetTagger(n_threads=1)
    load_s = time.perf_counter() - start

    baseline_s = median_s(lambda: stft(audio, sr, nperseg=1024))
    front_s = median_s(lambda: melspec.log_mel_patches(audio, sr))
    frames_s = median_s(lambda: tagger.frame_scores(audio, sr))
    total_s = median_s(lambda: tag_audio(audio, sr, tagger))
    n_patches = tagger.frame_scores(audio, sr).times_s.size
    print("10 s clip, 44.1 kHz mono, 1 onnxruntime thread")
    print(f"  model load (once per process)  {load_s * 1000:7.1f} ms")
    print(f"  baseline: one scipy STFT       {baseline_s * 1000:7.1f} ms")
    print(f"  front-end (resample + log-mel) {front_s * 1000:7.1f} ms")
    print(
        f"  model, {n_patches} patches            {(frames_s - front_s) * 1000:7.1f} ms "
        f"({(frames_s - front_s) / n_patches * 1000:.2f} ms/patch)"
    )
    print(
        f"  tag_audio total                {total_s * 1000:7.1f} ms "
        f"= {total_s / baseline_s:.1f}x the STFT baseline; target < 500 ms"
    )
    augmented = YamnetTagger(n_threads=1, **AUGMENT)
    variants = len(augmented.gains_db) * len(augmented.shift_frames)
    augmented_s = median_s(lambda: tag_audio(audio, sr, augmented))
    print(
        f"  tag_audio, augmented x{variants}        {augmented_s * 1000:7.1f} ms "
        f"(opt-in yamnet.AUGMENT, not the default)"
    )

    from spa2v.hearing.extract import hear
    from spa2v.hearing.tagging.tag import tag_cues
    from spa2v.sim import simulate_sources

    pair = simulate_sources(
        [(40.0, 3.0, "trumpet"), (-40.0, 3.0, "sheep")], format="panned", duration_s=10.0, sr=sr
    )
    cues = hear(pair.signal)
    cues_s = median_s(lambda: tag_cues(pair.signal, cues, tagger), repeats=3)
    print(
        f"  tag_cues, 10 s stereo, {len(cues.sources)} sources {cues_s * 1000:7.1f} ms "
        "(separation + masked and beam tagging per source; hear() not included)"
    )


def bench_pairs() -> None:
    from spa2v.hearing.extract import hear
    from spa2v.hearing.tagging.tag import tag_cues
    from spa2v.nouns import noun_info
    from spa2v.sim import simulate_sources
    from spa2v.sim.sources import source_info

    tagger = YamnetTagger(n_threads=1)
    for layout in ("panned", "binaural", "spaced"):
        right_sources = right_pairs = 0
        for left, right in PAIRS:
            result = simulate_sources(
                [(40.0, 3.0, left), (-40.0, 3.0, right)], format=layout, duration_s=3.0, seed=1
            )
            cues = tag_cues(result.signal, hear(result.signal), tagger)
            row = []
            both = True
            for clip, side in ((left, 1.0), (right, -1.0)):
                family = noun_info(source_info(clip).noun).family
                active = [t for t in cues.sources if np.any(t.active)]
                track = min(
                    active, key=lambda t: abs(np.median(t.azimuth_deg[t.active]) - 40 * side)
                )
                az = float(np.median(track.azimuth_deg[track.active]))
                ok = np.sign(az) == side and track.labels[0].family == family
                right_sources += ok
                both &= ok
                row.append(f"{clip}->{track.labels[0].noun}@{az:+.0f}{'' if ok else ' (x)'}")
            right_pairs += both
            print(f"  {layout:9s} {'ok' if both else '--'}  " + ", ".join(row))
        n = len(PAIRS)
        print(f"{layout}: sources {right_sources}/{2 * n}, both of a pair {right_pairs}/{n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", action="store_true", help="also run the simulated pairs")
    args = parser.parse_args()
    bench_speed()
    if args.pairs:
        bench_pairs()


if __name__ == "__main__":
    main()
