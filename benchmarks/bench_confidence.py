"""Is a frame's azimuth confidence a sign of a right direction? Per-frame error of the
heard azimuth against the simulator's truth, by confidence.

    .venv/bin/python benchmarks/bench_confidence.py [--seeds 1,2] [--formats ...]

Each clip of :func:`spa2v.sim.benchmark_scenes` (every format and room, dual mono
left out) is simulated and heard as ``spa2v run`` hears it (the format given); each heard
source is matched to a true source (Hungarian assignment on the mean angular distance
over the frames where both sound), and every active frame where the true source is in
the 90-degree view gives one (confidence, |heard - true|) pair. Prints, per confidence
band and per format and room kind, the frames, the median error and the share within
15 deg (the tolerance of ``spa2v eval``'s spatial agreement). It chose
:data:`spa2v.hearing.cues.MIN_DIRECTION_CONFIDENCE` on seeds 1 and 2 (seed 0 is the
set the benchmarks report); about 4 min per seed on one core.
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
from scipy.optimize import linear_sum_assignment

#: Confidence bands (lower edges; the last band ends at 1).
BANDS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
TOLERANCE_DEG = 15.0


def angle_gap_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``|a - b|`` on the circle, in degrees."""
    return np.abs((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0)


def frame_errors(sim: object, cues: object) -> list[tuple[float, float]]:
    """(confidence, error deg) of every active in-view frame of the matched sources."""
    heard = [s for s in cues.sources if np.any(s.active)]  # type: ignore[attr-defined]
    truth = sim.truth  # type: ignore[attr-defined]
    if not heard or not truth:
        return []

    def true_at(source: object, times_s: np.ndarray) -> np.ndarray:
        unwrapped = np.unwrap(source.azimuth_deg, period=360.0)  # type: ignore[attr-defined]
        return np.interp(times_s, source.times_s, unwrapped)  # type: ignore[attr-defined]

    cost = np.full((len(heard), len(truth)), 180.0)
    for i, h in enumerate(heard):
        for j, s in enumerate(truth):
            sounding = np.interp(h.times_s, s.times_s, s.active.astype(float)) > 0.5
            both = h.active & sounding
            if both.any():
                cost[i, j] = float(angle_gap_deg(h.azimuth_deg, true_at(s, h.times_s))[both].mean())
    pairs = []
    for i, j in zip(*linear_sum_assignment(cost), strict=True):
        h = heard[i]
        true_deg = true_at(truth[j], h.times_s)
        error = angle_gap_deg(h.azimuth_deg, true_deg)
        in_view = angle_gap_deg(true_deg, 0.0) < 45.0
        for k in np.flatnonzero(h.active & in_view):
            pairs.append((float(h.azimuth_confidence[k]), float(error[k])))
    return pairs


def null_confidences(layout: str, seeds: int = 5, duration_s: float = 4.0) -> np.ndarray:
    """Confidences of the active frames heard in sound without any direction: channels
    of independent noise (white; pink; speech-band with a slow on/off envelope)."""
    from scipy.signal import butter, sosfilt

    import spa2v.api as api
    from spa2v.io.signal import Signal

    sr = 48000
    n = int(duration_s * sr)
    # FOA: a diffuse field (plane waves of independent noise from directions uniform on
    # the sphere, encoded as AmbiX SN3D), since independent W, Y, Z, X are no sound
    # field at all; two channels: independent noise, a diffuse field's high-frequency
    # limit for any pair of microphones or ears.
    waves = 64 if layout == "foa" else 2
    found = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        white = rng.standard_normal((waves, n))
        spectrum = np.fft.rfft(rng.standard_normal((waves, n)), axis=1)
        spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(n, 1 / sr), 20.0))
        pink = np.fft.irfft(spectrum, n, axis=1)
        band = sosfilt(butter(4, (300, 3000), "bandpass", fs=sr, output="sos"), white, axis=1)
        band *= np.abs(np.sin(np.pi * np.arange(n) / sr * (0.8 + 0.4 * rng.random())))
        if layout == "foa":
            up = rng.uniform(-1.0, 1.0, waves)  # sin(elevation), uniform on the sphere
            azimuth = rng.uniform(-np.pi, np.pi, waves)
            across = np.sqrt(1.0 - up**2)
            gains = np.stack(
                [np.ones(waves), across * np.sin(azimuth), up, across * np.cos(azimuth)]
            )
        for noise in (white, pink, band):
            if layout == "foa":
                noise = gains @ noise
            samples = (0.1 * noise / np.abs(noise).max()).astype(np.float32)
            cues = api.hear_signal(Signal(samples, sr, layout), tags=False)
            for track in cues.sources:
                found.extend(track.azimuth_confidence[track.active].tolist())
    return np.asarray(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2", help="scene draws (default 1,2)")
    parser.add_argument("--formats", nargs="+", default=["binaural", "spaced", "panned", "foa"])
    parser.add_argument(
        "--null",
        action="store_true",
        help="only the confidences heard in noise without direction, per format",
    )
    args = parser.parse_args()
    if args.null:
        print("confidence of active frames in independent-channel noise: 99th / 99.9th / max")
        for layout in args.formats:
            found = null_confidences(layout)
            p99, p999 = np.percentile(found, [99, 99.9])
            print(f"{layout:<10}{len(found):>8} frames  {p99:.3f} / {p999:.3f} / {found.max():.3f}")
        return

    import spa2v.api as api
    from spa2v.sim import benchmark_scenes, simulate

    groups: dict[str, list[tuple[float, float]]] = {}
    for seed in (int(s) for s in args.seeds.split(",")):
        for spec in benchmark_scenes(
            seed=seed, formats=tuple(args.formats), fallback="synthetic", dual_mono=False
        ):
            sim = simulate(spec)
            pairs = frame_errors(sim, api.hear_signal(sim.signal))
            room = "room" if spec.name.endswith("-rev") else "dry"
            for key in ("all", sim.signal.layout, room):
                groups.setdefault(key, []).extend(pairs)
    edges = (*BANDS, 1.01)
    print(f"frames per confidence band: n, median error (deg), share within {TOLERANCE_DEG:g} deg")
    print(
        f"{'group':<10}"
        + "".join(f"{f'[{a:.2f}, {b:.2f})':>26}" for a, b in itertools.pairwise(edges))
    )
    for key, pairs in groups.items():
        table = np.array(pairs)
        cells = []
        for low, high in itertools.pairwise(edges):
            band = table[(table[:, 0] >= low) & (table[:, 0] < high), 1] if table.size else []
            if len(band):
                share = float(np.mean(np.asarray(band) <= TOLERANCE_DEG))
                cells.append(f"{len(band):>8} {np.median(band):6.1f} {share:6.0%}  ")
            else:
                cells.append(f"{'-':>24}  ")
        print(f"{key:<10}" + "".join(cells))


if __name__ == "__main__":
    main()
