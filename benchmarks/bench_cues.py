"""Speed and accuracy of ``spa2v.hearing.extract.hear``, next to pyroomacoustics' DOA.

Run (one thread, as the figures in docs/hearing.md were measured)::

    .venv/bin/python benchmarks/bench_cues.py

Prints:

1. the real-time factor of ``hear`` on a 10 s 48 kHz stereo clip (spaced, binaural,
   panned) and 4-channel FOA, best of several runs;
2. on the same simulated spaced-pair clips (static sources at known azimuths, dry and
   in a room), the mean absolute azimuth error and the time per clip of ``hear`` and of
   pyroomacoustics' 2-microphone SRP-PHAT and MUSIC (peer reference: one DOA per clip,
   front/back folded to the front, as a two-microphone array cannot tell them apart);
3. the accuracy figures of the issue's "done when" list on fresh simulated clips.
"""

from __future__ import annotations

import os

# One core: set before numpy/scipy load their thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import time  # noqa: E402

import numpy as np  # noqa: E402
import pyroomacoustics as pra  # noqa: E402

from spa2v.hearing.extract import hear  # noqa: E402
from spa2v.io.signal import Signal  # noqa: E402
from spa2v.sim import (  # noqa: E402
    simulate_pass,
    simulate_radial,
    simulate_sources,
    simulate_static,
)

SPACING_M = 0.15
PEER_SR = 16000
PEER_NFFT = 512
AZIMUTHS_DEG = [-70.0, -50.0, -30.0, -10.0, 0.0, 15.0, 35.0, 55.0, 75.0]


def best_time_s(fn, repeats: int = 5) -> float:
    """Best wall time of ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def real_time_factors() -> None:
    print("== real-time factor of hear(), 10 s clip at 48 kHz, one thread ==")
    for fmt in ("spaced", "binaural", "panned", "foa"):
        clip = simulate_pass(
            "left-to-right", 15.0, 8.0, format=fmt, clip="engine", duration_s=10.0, sr=48000
        ).signal
        seconds = best_time_s(lambda clip=clip: hear(clip))
        print(f"{fmt:9s} {seconds * 1000:7.1f} ms  ->  {clip.duration_s / seconds:6.0f}x real time")


def peer_doa_deg(samples: np.ndarray, algorithm: str) -> float:
    """Azimuth (deg, + = left, folded to the front) by a pyroomacoustics DOA method."""
    # Mics on the left-right (y) axis: channel 0 is left. pyroomacoustics measures the
    # azimuth counter-clockwise from x (forward), like spa2v (+ = left).
    mics = np.array([[0.0, 0.0], [SPACING_M / 2, -SPACING_M / 2]])
    doa = pra.doa.algorithms[algorithm](mics, PEER_SR, PEER_NFFT, c=343.0, num_src=1)
    spectra = np.array(
        [pra.transform.stft.analysis(ch, PEER_NFFT, PEER_NFFT // 2).T for ch in samples]
    )
    doa.locate_sources(spectra, freq_range=[300.0, 3500.0])
    az = float(np.degrees(doa.azimuth_recon[0]))
    az = (az + 180.0) % 360.0 - 180.0
    if abs(az) > 90.0:  # a linear pair hears front and back alike: take the front
        az = np.sign(az) * (180.0 - abs(az))
    return az


def ours_deg(signal: Signal) -> float:
    return _median_az(hear(signal).sources[0])


def peer_comparison() -> None:
    print(
        "\n== the simulator's spaced pair (0.2 m, every method assumes 0.15 m), static source "
        "at 3 m, 2 s clips at 16 kHz =="
    )
    print(f"{'condition':22s} {'method':10s} {'mean |err| deg':>15s} {'ms / clip':>10s}")
    for name, kw in (
        ("anechoic", {}),
        ("room RT60 0.4 s", {"rt60_s": 0.4}),
        ("room RT60 0.8 s", {"rt60_s": 0.8}),
    ):
        clips = [
            simulate_static(
                az,
                distance_m=3.0,
                format="spaced",
                clip="engine",
                duration_s=2.0,
                sr=PEER_SR,
                seed=i,
                **kw,
            ).signal
            for i, az in enumerate(AZIMUTHS_DEG)
        ]
        methods = {
            "spa2v": ours_deg,
            "pra SRP": lambda s: peer_doa_deg(s.samples, "SRP"),
            "pra MUSIC": lambda s: peer_doa_deg(s.samples, "MUSIC"),
        }
        baseline_s = None
        for method, fn in methods.items():
            start = time.perf_counter()
            estimates = [fn(clip) for clip in clips]
            per_clip_s = (time.perf_counter() - start) / len(clips)
            baseline_s = baseline_s or per_clip_s
            err = np.mean(np.abs(np.array(estimates) - AZIMUTHS_DEG))
            print(
                f"{name:22s} {method:10s} {err:15.1f} {per_clip_s * 1000:10.1f}"
                f"   ({per_clip_s / baseline_s:.1f}x spa2v's time)"
            )


def _median_az(track) -> float:
    """Median azimuth of the confident active frames; of all active frames when none is
    confident (identical channels, e.g. a dry source dead ahead: placed by priors)."""
    use = track.active & (track.azimuth_confidence > 0)
    if not use.any():
        use = track.active
    return float(np.median(track.azimuth_deg[use]))


def accuracy_summary() -> None:
    """The issue's accuracy figures on the same kind of clips as the tests (16 kHz)."""
    print("\n== accuracy against simulator truth (16 kHz clips, as in tests/) ==")
    front = [-60.0, -45.0, -30.0, -15.0, 0.0, 10.0, 25.0, 40.0, 52.0, 60.0]
    for name, fmt, kw in (
        ("binaural anechoic", "binaural", {}),
        ("spaced anechoic", "spaced", {}),
        ("panned", "panned", {}),
        ("binaural RT60 0.4 s 3 m", "binaural", {"rt60_s": 0.4, "clip": "engine"}),
        ("spaced RT60 0.4 s 3 m", "spaced", {"rt60_s": 0.4, "clip": "engine"}),
    ):
        errs = [
            _median_az(
                hear(simulate_static(az, 3.0, fmt, sr=16000, seed=i, **kw).signal).sources[0]
            )
            - az
            for i, az in enumerate(front)
        ]
        print(
            f"{name:26s} mean |az err| {np.mean(np.abs(errs)):5.2f} deg"
            f"   (max {np.max(np.abs(errs)):.2f})"
        )
    cases = [
        (-150.0, -20.0),
        (-90.0, 0.0),
        (-30.0, 30.0),
        (0.0, 10.0),
        (45.0, -35.0),
        (120.0, 45.0),
        (170.0, 5.0),
    ]
    az_err, el_err = [], []
    for i, (az, el) in enumerate(cases):
        result = simulate_static(
            az, 3.0, "foa", elevation_deg=el, sr=16000, seed=i, clip="synth-violin"
        )
        track = hear(result.signal).sources[0]
        az_err.append((_median_az(track) - az + 180.0) % 360.0 - 180.0)
        el_err.append(float(np.median(track.elevation_deg[track.active])) - el)
    print(
        f"{'FOA':26s} mean |az err| {np.mean(np.abs(az_err)):5.2f} deg, "
        f"mean |el err| {np.mean(np.abs(el_err)):5.2f} deg"
    )
    for fmt in ("binaural", "spaced", "panned", "foa"):
        worst, found = 0.0, 0
        pairs = [(-30.0, 20.0), (40.0, -10.0), (-60.0, 0.0), (10.0, 55.0)]
        for i, (a, b) in enumerate(pairs):
            result = simulate_sources(
                [(a, 2.0, "synth-violin"), (b, 2.0, "synth-flute")],
                format=fmt,
                sr=16000,
                duration_s=1.5,
                seed=i,
            )
            got = sorted(_median_az(t) for t in hear(result.signal).sources)
            if len(got) == 2:
                found += 1
                worst = max(worst, float(np.max(np.abs(np.array(got) - sorted([a, b])))))
        print(
            f"{fmt:8s} two sources (violin + flute) found in {found}/4 pairs, "
            f"worst error {worst:.1f} deg"
        )
    rng = np.random.default_rng(0)
    for fmt in ("binaural", "spaced", "panned", "foa"):
        right, depth_right, speed_err = 0, 0, []
        for i in range(20):
            direction = ("left-to-right", "right-to-left")[i % 2]
            speed = rng.uniform(5, 25)
            result = simulate_pass(
                direction,
                speed,
                rng.uniform(3, 15),
                format=fmt,
                clip="tone",
                duration_s=3.0,
                sr=16000,
                seed=i,
                azimuth_deg=rng.uniform(-20, 20),
            )
            track = hear(result.signal).sources[0]
            right += track.lateral_motion == direction
            if track.speed_mps is not None:
                speed_err.append(abs(track.speed_mps / speed - 1))
            motion = ("approaching", "receding")[i % 2]
            radial = simulate_radial(
                motion,
                rng.uniform(3, 15),
                rng.uniform(-50, 50),
                rng.uniform(2, 8),
                format=fmt,
                clip="engine",
                duration_s=2.5,
                sr=16000,
                seed=i,
            )
            depth_right += hear(radial.signal).sources[0].depth_motion == motion
        print(
            f"{fmt:8s} crossing direction {right}/20, approach/recede {depth_right}/20, "
            f"speed given for {len(speed_err)}/20 passes, |err| median "
            f"{100 * np.median(speed_err):.1f}% max {100 * np.max(speed_err):.1f}%"
        )


if __name__ == "__main__":
    real_time_factors()
    peer_comparison()
    accuracy_summary()
