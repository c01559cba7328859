"""``spa2v eval`` on the animatics of the simulated benchmark's clips.

    .venv/bin/python benchmarks/eval_videos.py [--formats binaural spaced panned foa]
        [--reverb dry rev] [--limit N]

Each clip of :func:`spa2v.sim.benchmark_scenes` is simulated, heard, planned and
rendered as an animatic (the ``spa2v run`` pipeline), then judged three ways:

1. as rendered: layout adherence against its layout (the detector-free animatic path)
   and spatial agreement with its own sound track (targets: mIoU >= 0.9; "agrees" for
   >= 95 % of the clips with a lateral source);
2. the same video with its picture mirrored left to right (target: "mirrored" for
   >= 95 % of the clips with a lateral source);
3. the same picture with dual-mono sound (left = right; target: "cannot tell" for all).

FOA clips are judged against the FOA recording (``--audio``): an MP4 carries FOA as a
stereo listening downmix, which hearing takes for strongly panned stereo.

A clip has a lateral source when one of its true sources is in view and at least
``LATERAL_DEG`` off-centre for a quarter of its sounding time. Prints per-clip rows and
the pooled figures (copy them into docs/evaluation.md).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

#: A source this far off-centre (deg) is lateral: beyond the agreement tolerance.
LATERAL_DEG = 15.0


def lateral(truth: list) -> bool:
    for source in truth:
        az = np.asarray(source.azimuth_deg)
        sounding = np.asarray(source.active, bool) & (np.abs(az) < 45.0)
        if sounding.any() and np.mean(np.abs(az[sounding]) >= LATERAL_DEG) >= 0.25:
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--formats", nargs="+", default=["binaural", "spaced", "panned", "foa"])
    parser.add_argument("--reverb", nargs="+", default=["dry", "rev"], choices=["dry", "rev"])
    parser.add_argument("--limit", type=int, default=0, help="first N clips only")
    args = parser.parse_args()

    import spa2v.api as api
    from spa2v.evaluation.video import evaluate_video
    from spa2v.io.video import open_video
    from spa2v.rendering.video import write_mp4
    from spa2v.sim import benchmark_scenes, simulate

    specs = benchmark_scenes(
        formats=tuple(args.formats),
        reverb=tuple(r == "rev" for r in args.reverb),
        fallback="synthetic",
        dual_mono=False,  # made here from every clip instead (3. above)
    )
    if args.limit:
        specs = specs[: args.limit]
    rows = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for spec in specs:
            sim = simulate(spec)
            wav = folder / "clip.wav"
            sim.write(wav)
            vsl = api.plan(api.hear_signal(sim.signal))
            video = api.render(vsl, wav, folder / "clip.mp4")
            frames = list(open_video(video).frames())
            fps = open_video(video).fps
            mirrored = write_mp4(
                (f[:, ::-1] for f in frames), fps, folder / "mirrored.mp4", audio_path=wav
            )
            mono = (
                sim.signal.samples.mean(axis=0)
                if sim.signal.layout != "foa"
                else sim.signal.samples[0]
            )
            sf.write(folder / "dual.wav", np.stack([mono, mono]).T, sim.signal.sr)
            dual = write_mp4(iter(frames), fps, folder / "dual.mp4", audio_path=folder / "dual.wav")
            # An MP4 carries FOA as a stereo listening downmix (two virtual cardioids),
            # whose level differences read as strongly panned stereo: judge FOA clips
            # against the recording itself, as `spa2v eval VIDEO --audio REC` does.
            sound = wav if sim.signal.layout == "foa" else None
            plain = evaluate_video(video, layout=vsl, audio_path=sound)
            flipped = evaluate_video(mirrored, layout=vsl, audio_path=sound)
            dual_mono = evaluate_video(dual, layout=vsl)
            row = {
                "clip": spec.name,
                "lateral": lateral(sim.truth),
                "boxes": plain.boxes_from,
                "miou": plain.adherence.miou if plain.adherence else None,
                "coverage": plain.adherence.coverage if plain.adherence else None,
                "ltsim": plain.adherence.ltsim if plain.adherence else None,
                "verdict": plain.spatial.verdict,
                "score": plain.spatial.score,
                "mirrored": flipped.spatial.verdict,
                "dual_mono": dual_mono.spatial.verdict,
                "av_align": plain.av_align.score,
            }
            rows.append(row)
            print(
                f"{row['clip']:<52} lateral={int(row['lateral'])} {row['boxes']:<8} "
                f"mIoU={_f(row['miou'])} cov={_f(row['coverage'])} LTSim={_f(row['ltsim'])} "
                f"| {row['verdict']:<11} score={_f(row['score'])} | mirrored: {row['mirrored']:<11}"
                f" | dual-mono: {row['dual_mono']} | AV-Align={_f(row['av_align'])}",
                flush=True,
            )
    lat = [r for r in rows if r["lateral"]]
    mious = [r["miou"] for r in rows if r["miou"] is not None]
    coverage = [r["coverage"] for r in rows if r["coverage"] is not None]
    ltsims = [r["ltsim"] for r in rows if r["ltsim"] is not None]
    elapsed_s = time.perf_counter() - start
    print(f"\n{len(rows)} clips ({len(lat)} with a lateral source), {elapsed_s:.0f} s")
    print(f"adherence mIoU (mean over clips): {np.mean(mious):.3f}  (min {np.min(mious):.3f})")
    print(f"coverage (mean): {np.mean(coverage):.3f}, LTSim (mean): {np.mean(ltsims):.3f}")
    if lat:
        agrees = np.mean([r["verdict"] == "agrees" for r in lat])
        mirrored = np.mean([r["mirrored"] == "mirrored" for r in lat])
        print(f"lateral clips 'agrees': {agrees:.1%}; mirrored: 'mirrored' {mirrored:.1%}")
    dual = np.mean([r["dual_mono"] == "cannot tell" for r in rows])
    print(f"dual-mono 'cannot tell' (all clips): {dual:.1%}")
    centre = [r for r in rows if not r["lateral"]]
    if centre:
        names = ("agrees", "mirrored", "unrelated", "cannot tell")
        verdicts = {v: sum(r["verdict"] == v for r in centre) for v in names}
        print(f"clips without a lateral source, verdicts: {verdicts}")


def _f(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    main()
