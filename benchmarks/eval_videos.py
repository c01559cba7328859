"""``spa2v eval`` on the animatics of the simulated benchmark's clips.

    .venv/bin/python benchmarks/eval_videos.py [--formats binaural spaced panned foa]
        [--reverb dry rev] [--limit N] [--seed S] [--match TEXT...] [--lateral-only] [--work DIR]
        [--json OUT]

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

``--seed`` draws other scenes (the recorded figures are seed 0; develop the judge on
another seed, so no threshold is tuned on the clips that report it). ``--work DIR``
keeps each clip's recording, layout and videos there and reuses them on the next run
(only the judging runs again); ``--json OUT`` writes the per-clip rows.

A clip has a lateral source when one of its true sources is in view and at least
``LATERAL_DEG`` off-centre for a quarter of its sounding time. Prints per-clip rows and
the pooled figures (copy them into docs/evaluation.md).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

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


def drawn_lateral(vsl: Any) -> bool:
    """Whether the animatic shows an object at least ``LATERAL_DEG`` off-centre for a
    quarter of the time it is drawn (the rule of :func:`lateral`, on the picture)."""
    from spa2v.camera import x_to_azimuth
    from spa2v.rendering.animatic import AnimaticRenderer

    renderer = AnimaticRenderer(vsl)
    times_s = np.arange(0.0, vsl.duration, 0.125)
    for obj in vsl.objects:
        boxes = [renderer.drawn_boxes(float(t)).get(obj.id) for t in times_s]
        az = np.array([float(x_to_azimuth((b[0] + b[2]) / 2)) for b in boxes if b is not None])
        if az.size and np.mean(np.abs(az) >= LATERAL_DEG) >= 0.25:
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--formats", nargs="+", default=["binaural", "spaced", "panned", "foa"])
    parser.add_argument("--reverb", nargs="+", default=["dry", "rev"], choices=["dry", "rev"])
    parser.add_argument("--limit", type=int, default=0, help="first N clips only")
    parser.add_argument("--seed", type=int, default=0, help="scene draw (figures: 0)")
    parser.add_argument("--match", nargs="+", help="only clips whose name has one of these")
    parser.add_argument("--lateral-only", action="store_true", help="skip centred clips")
    parser.add_argument("--work", type=Path, help="keep and reuse clips in this folder")
    parser.add_argument("--json", type=Path, help="write the per-clip rows here")
    args = parser.parse_args()

    from spa2v.sim import benchmark_scenes

    specs = benchmark_scenes(
        seed=args.seed,
        formats=tuple(args.formats),
        reverb=tuple(r == "rev" for r in args.reverb),
        fallback="synthetic",
        dual_mono=False,  # made here from every clip instead (3. above)
    )
    if args.match:
        specs = [s for s in specs if any(m in s.name for m in args.match)]
    if args.limit:
        specs = specs[: args.limit]
    rows = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            folder = (args.work or Path(tmp)) / f"seed{args.seed}" / spec.name
            row = judge_clip(spec, folder, args.lateral_only)
            if row is None:
                continue
            rows.append(row)
            print(
                f"{row['clip']:<52} lateral={int(row['lateral'])} {row['boxes']:<8} "
                f"mIoU={_f(row['miou'])} cov={_f(row['coverage'])} LTSim={_f(row['ltsim'])} "
                f"| {row['verdict']:<11} score={_f(row['score'])} | mirrored: {row['mirrored']:<11}"
                f" | dual-mono: {row['dual_mono']} | AV-Align={_f(row['av_align'])}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    lat = [r for r in rows if r["lateral"]]
    mious = [r["miou"] for r in rows if r["miou"] is not None]
    coverage = [r["coverage"] for r in rows if r["coverage"] is not None]
    ltsims = [r["ltsim"] for r in rows if r["ltsim"] is not None]
    elapsed_s = time.perf_counter() - start
    print(f"\n{len(rows)} clips ({len(lat)} with a lateral source), {elapsed_s:.0f} s")
    print(f"adherence mIoU (mean over clips): {np.mean(mious):.3f}  (min {np.min(mious):.3f})")
    print(f"coverage (mean): {np.mean(coverage):.3f}, LTSim (mean): {np.mean(ltsims):.3f}")
    names = ("agrees", "mirrored", "unrelated", "cannot tell")
    shown = [r for r in lat if r["drawn_lateral"]]
    for title, group in (("lateral clips", lat), ("... whose animatic shows one", shown)):
        if group:
            agrees = np.mean([r["verdict"] == "agrees" for r in group])
            mirrored = np.mean([r["mirrored"] == "mirrored" for r in group])
            verdicts = {v: sum(r["verdict"] == v for r in group) for v in names}
            print(
                f"{title} ({len(group)}): 'agrees' {agrees:.1%}; mirrored: 'mirrored' "
                f"{mirrored:.1%}; verdicts {verdicts}"
            )
    dual = np.mean([r["dual_mono"] == "cannot tell" for r in rows])
    print(f"dual-mono 'cannot tell' (all clips): {dual:.1%}")
    centre = [r for r in rows if not r["lateral"]]
    if centre:
        verdicts = {v: sum(r["verdict"] == v for r in centre) for v in names}
        print(f"clips without a lateral source, verdicts: {verdicts}")


def make_clip(spec: Any, folder: Path) -> bool:
    """Simulate, hear, plan and render one clip into ``folder`` (as ``spa2v run`` does),
    plus its mirrored and dual-mono versions; returns whether it has a lateral source."""
    import spa2v.api as api
    from spa2v.io.video import open_video
    from spa2v.planning.vsl import save_vsl
    from spa2v.rendering.video import write_mp4
    from spa2v.sim import simulate

    folder.mkdir(parents=True, exist_ok=True)
    sim = simulate(spec)
    wav = folder / "clip.wav"
    sim.write(wav)
    vsl = api.plan(api.hear_signal(sim.signal))
    save_vsl(vsl, folder / "clip.vsl.json")
    video = api.render(vsl, wav, folder / "clip.mp4")
    frames = list(open_video(video).frames())
    fps = open_video(video).fps
    write_mp4((f[:, ::-1] for f in frames), fps, folder / "mirrored.mp4", audio_path=wav)
    samples = sim.signal.samples
    mono = samples.mean(axis=0) if sim.signal.layout != "foa" else samples[0]
    sf.write(folder / "dual.wav", np.stack([mono, mono]).T, sim.signal.sr)
    write_mp4(iter(frames), fps, folder / "dual.mp4", audio_path=folder / "dual.wav")
    is_lateral = lateral(sim.truth)
    (folder / "clip.json").write_text(
        json.dumps({"lateral": is_lateral, "layout": sim.signal.layout}) + "\n"
    )
    return is_lateral


def judge_clip(spec: Any, folder: Path, lateral_only: bool) -> dict[str, Any] | None:
    """The three judgements of one clip (made first unless ``folder`` holds it)."""
    from spa2v.evaluation.video import evaluate_video
    from spa2v.planning.vsl import load_vsl

    if not (folder / "clip.json").exists():
        if lateral_only:
            from spa2v.sim import simulate

            if not lateral(simulate(spec).truth):
                return None
        make_clip(spec, folder)
    facts = json.loads((folder / "clip.json").read_text())
    if lateral_only and not facts["lateral"]:
        return None
    vsl = load_vsl(folder / "clip.vsl.json")
    wav = folder / "clip.wav"
    # As `spa2v run --eval` judges (:func:`spa2v.api.judged_sound`): FOA clips against
    # the recording itself (an MP4 carries FOA as a stereo listening downmix, whose level
    # differences read as strongly panned stereo), other clips' own sound track heard
    # as the kind they were planned with.
    foa = facts["layout"] == "foa"
    sound = wav if foa else None
    kind = None if foa else facts["layout"]
    plain = evaluate_video(folder / "clip.mp4", layout=vsl, audio_path=sound, audio_layout=kind)
    flipped = evaluate_video(
        folder / "mirrored.mp4", layout=vsl, audio_path=sound, audio_layout=kind
    )
    dual_mono = evaluate_video(folder / "dual.mp4", layout=vsl, audio_layout=kind)
    return {
        "clip": spec.name,
        "lateral": facts["lateral"],
        "drawn_lateral": drawn_lateral(vsl),
        "boxes": plain.boxes_from,
        "miou": plain.adherence.miou if plain.adherence else None,
        "coverage": plain.adherence.coverage if plain.adherence else None,
        "ltsim": plain.adherence.ltsim if plain.adherence else None,
        "verdict": plain.spatial.verdict,
        "reason": plain.spatial.reason,
        "score": plain.spatial.score,
        "mirrored": flipped.spatial.verdict,
        "mirrored_reason": flipped.spatial.reason,
        "dual_mono": dual_mono.spatial.verdict,
        "av_align": plain.av_align.score,
    }


def _f(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    main()
