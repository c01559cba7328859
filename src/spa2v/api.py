"""The Python API: the ``spa2v`` commands as functions, for scripts and notebooks.

Each function is one stage of the pipeline (``docs/design.md``) and takes what the
previous one returns, or a file it wrote:

>>> import spa2v.api as spa2v  # doctest: +SKIP
>>> cues = spa2v.hear("street.wav")                        # what sounds, where  # doctest: +SKIP
>>> layout = spa2v.plan(cues, planner="physics", fps=8.0)  # the VSL  # doctest: +SKIP
>>> spa2v.render(layout, "street.wav", "street.mp4")       # animatic + audio  # doctest: +SKIP
>>> result = spa2v.run("street.wav", "street.mp4")         # all of it, every file  # doctest: +SKIP
>>> result.storyboard  # doctest: +SKIP
PosixPath('street.storyboard.png')
>>> report = spa2v.evaluate("street.mp4", layout=layout)  # judge any video  # doctest: +SKIP
>>> report.spatial.verdict  # doctest: +SKIP
'agrees'

User-caused problems raise :class:`spa2v.errors.Spa2vError` subclasses with a one-line
message that says what to do.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spa2v.errors import BackendUnavailableError, Spa2vError
from spa2v.hearing.cues import Cues
from spa2v.io.atomic import atomic_path, atomic_paths, check_output_path
from spa2v.io.audio import DEFAULT_MAX_DURATION_S, read_audio
from spa2v.io.signal import STEREO_LAYOUTS, Signal
from spa2v.planning.vsl import VSL, load_vsl, save_vsl
from spa2v.rendering import DEFAULT_FPS, DEFAULT_SIZE, check_video_settings

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: ``progress(stage, done, total)``: called as each stage starts (done = 0) and, while
#: rendering, after each frame. Stages: "load", "hear", "tag", "plan", "render", "write".
ProgressCallback = Callable[[str, int, int], None]

GENERATORS = ("animatic", "diffusion")


@dataclass
class RunResult:
    """Everything :func:`run` wrote, and the objects behind the files."""

    video: Path
    cues_json: Path
    layout_json: Path
    cue_plot: Path | None
    storyboard: Path | None
    cues: Cues
    vsl: VSL
    warnings: list[str] = field(default_factory=list)
    evaluation: Any = None  # a VideoEvaluation when the run was asked to evaluate
    evaluation_json: Path | None = None

    @property
    def paths(self) -> dict[str, Path]:
        """The written files by role, e.g. ``{"video": Path("out.mp4"), ...}``."""
        named = {
            "video": self.video,
            "cues": self.cues_json,
            "layout": self.layout_json,
            "cue plot": self.cue_plot,
            "storyboard": self.storyboard,
            "evaluation": self.evaluation_json,
        }
        return {name: path for name, path in named.items() if path is not None}


def output_paths(out_path: PathLike) -> dict[str, Path]:
    """Where :func:`run` writes its files, next to the video.

    >>> paths = output_paths("out/street.mp4")
    >>> {k: str(v) for k, v in paths.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'video': 'out/street.mp4', 'cues': 'out/street.cues.json',
     'layout': 'out/street.layout.json', 'cue plot': 'out/street.cues.png',
     'storyboard': 'out/street.storyboard.png',
     'evaluation': 'out/street.eval.json'}
    """
    video = Path(out_path)
    base = video.with_suffix("")
    return {
        "video": video,
        "cues": Path(f"{base}.cues.json"),
        "layout": Path(f"{base}.layout.json"),
        "cue plot": Path(f"{base}.cues.png"),
        "storyboard": Path(f"{base}.storyboard.png"),
        "evaluation": Path(f"{base}.eval.json"),
    }


def check_video_output(out_path: PathLike) -> Path:
    """Fail early (before any work) when the video cannot be written there."""
    out = Path(out_path)
    check_output_path(out, {".mp4"}, "video")
    return out


# -- stages -------------------------------------------------------------------------------


def hear(
    audio_path: PathLike,
    layout: str | None = None,
    hop_s: float = 0.025,
    max_sources: int = 3,
    tags: bool = True,
    max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
    progress: ProgressCallback | None = None,
    *,
    mic_spacing_m: float | None = None,
    yaw_deg: float = 0.0,
) -> Cues:
    """Hear a recording: cue tracks per source (direction, loudness, motion...) and,
    with ``tags``, what each source is (YAMNet labels and drawable nouns).

    Parameters
    ----------
    audio_path : path
        Any audio (or video) file ``spa2v.io.audio.load_audio`` reads.
    layout : str, optional
        Channel layout ("mono", "spaced", "panned", "binaural", "foa"); detected if None.
    hop_s : float
        Cue frame hop in seconds.
    max_sources : int
        Separate at most this many sources.
    tags : bool
        Run the sound-event tagger on each source (if it cannot run here, the sources
        stay unlabelled and ``cues.warnings`` says why).
    max_duration_s : float or None
        Refuse longer recordings (None: no limit).
    mic_spacing_m : float or None
        Spacing (m) of a spaced microphone pair, when known (phones/cameras: ~0.08-0.3);
        None bounds it from the recording (at least 0.15).
    yaw_deg : float
        FOA: look this far to the left of the recording's front (e.g. 90 to face what
        a 360-degree camera had on its left).
    """
    from spa2v.io.audio import load_audio

    _report(progress, "load")
    signal = load_audio(audio_path, layout=layout, max_duration_s=max_duration_s)
    cues = hear_signal(
        signal,
        hop_s=hop_s,
        max_sources=max_sources,
        tags=tags,
        progress=progress,
        mic_spacing_m=mic_spacing_m,
        yaw_deg=yaw_deg,
    )
    cues.audio_path = str(audio_path)
    return cues


def hear_signal(
    signal: Signal,
    hop_s: float = 0.025,
    max_sources: int = 3,
    tags: bool = True,
    progress: ProgressCallback | None = None,
    *,
    mic_spacing_m: float | None = None,
    yaw_deg: float = 0.0,
) -> Cues:
    """:func:`hear` for audio already loaded: cue tracks, labelled unless ``tags`` is
    False. The loader's warnings are carried into ``cues.warnings``; a tagger that
    cannot run here only costs the labels (a warning, not an error)."""
    from spa2v.hearing.labelled import hear_labelled

    return hear_labelled(
        signal,
        hop_s=hop_s,
        max_sources=max_sources,
        tags=tags,
        on_stage=lambda stage: _report(progress, stage),
        mic_spacing_m=mic_spacing_m,
        yaw_deg=yaw_deg,
    )


def plan(
    cues_or_audio: Cues | PathLike,
    planner: str = "physics",
    fps: float = 8.0,
    n_frames: int | None = None,
    **options: Any,
) -> VSL:
    """Plan a Video Scene Layout from cues (a :class:`Cues`, a cues JSON file, or an
    audio file, which is heard first with default settings).

    ``options`` go to the planner (e.g. ``base_url``, ``model``, ``api_key`` for
    ``planner="llm"``).
    """
    from spa2v.planning import plan as plan_layout

    if isinstance(cues_or_audio, Cues):
        cues = cues_or_audio
    elif str(cues_or_audio).lower().endswith(".json"):
        cues = Cues.load(cues_or_audio)
    else:
        cues = hear(cues_or_audio)
    return plan_layout(cues, planner=planner, fps=fps, n_frames=n_frames, **options)


def render(
    vsl_or_path: VSL | PathLike,
    audio_path: PathLike,
    out_path: PathLike,
    size: tuple[int, int] = DEFAULT_SIZE,
    fps: float = DEFAULT_FPS,
    overlay: bool = False,
    subtitles: bool = False,
    generator: str = "animatic",
    storyboard_path: PathLike | None = None,
    progress: ProgressCallback | None = None,
    max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
    signal: Signal | None = None,
    **options: Any,
) -> Path:
    """Render a layout as an MP4 with the original audio (H.264 + AAC).

    Parameters
    ----------
    vsl_or_path : VSL or path
        The layout, or a ``spa2v.vsl/1`` JSON file (validated; LayoutError if bad).
    audio_path : path
        The recording; the video lasts as long as it (within one frame).
    out_path : path
        The ``.mp4`` to write (atomically: no partial file on failure).
    size : (int, int)
        Width and height in pixels (even numbers).
    fps : float
        Video frame rate.
    overlay, subtitles : bool
        Draw the boxes with labels / the keyframe captions (animatic only).
    generator : {"animatic", "diffusion"}
        ``diffusion`` needs the ``spa2v[diffusion]`` extra and a GPU-sized model;
        ``options`` go to it.
    storyboard_path : path, optional
        Also write a PNG contact sheet of 6 frames of the video.
    max_duration_s : float or None
        Refuse longer recordings (None: no limit), as :func:`hear` does.
    signal : Signal, optional
        ``audio_path`` already loaded (:func:`run` passes it, so it is decoded once).

    Returns
    -------
    Path
        ``out_path``.
    """
    # The renderer and PyAV are imported here, not with the module: planning needs neither.
    from spa2v.rendering.animatic import AnimaticRenderer, n_video_frames
    from spa2v.rendering.storyboard import PanelFrames, write_storyboard_from_video
    from spa2v.rendering.video import mux_audio, write_mp4

    check_video_settings((int(size[0]), int(size[1])), fps)
    out = check_video_output(out_path)
    if storyboard_path is not None:
        check_output_path(Path(storyboard_path), {".png"}, "storyboard")
    vsl = vsl_or_path if isinstance(vsl_or_path, VSL) else load_vsl(vsl_or_path)
    if generator not in GENERATORS:
        raise Spa2vError(f"unknown generator {generator!r}; choose one of {', '.join(GENERATORS)}")
    if signal is None:  # the loader's rules, errors and warnings, before any work
        samples, sr, warnings = read_audio(audio_path, max_duration_s)
        for warning in warnings:
            log.warning("%s", warning)
        audio = mux_audio(samples, sr)
    else:
        audio = mux_audio(signal.samples, signal.sr)
    duration_s = audio[0].shape[1] / audio[1]
    if abs(duration_s - vsl.duration) > max(0.5, 0.05 * duration_s):
        log.warning(
            "the layout lasts %.1f s but the audio %.1f s; the video follows the audio "
            "(the last keyframe holds)",
            vsl.duration,
            duration_s,
        )
    panels: PanelFrames | None = None
    if generator == "diffusion":
        _report(progress, "render")
        generate = _diffusion_backend()
        video = {"video_size": tuple(size), "video_fps": float(fps)}
        generate(vsl, Path(audio_path), out, _diffusion_options({**video, **options}))
    else:
        if options:
            raise Spa2vError(f"the animatic generator takes no options (got {', '.join(options)})")
        renderer = AnimaticRenderer(vsl, size=size, overlay=overlay, subtitles=subtitles)
        total = n_video_frames(duration_s, fps)
        done = 0

        def on_frame() -> None:
            nonlocal done
            done += 1
            if progress is not None and (done % 8 == 0 or done == total):
                progress("render", done, total)

        _report(progress, "render", 0, total)
        frames = renderer.frames(fps, n_frames=total)  # past the layout's end the last holds
        if storyboard_path is not None:
            panels = PanelFrames(total, fps)
            frames = panels.keep(frames)
        write_mp4(frames, fps, out, audio=audio, n_frames=total, on_frame=on_frame)
    if storyboard_path is not None:
        _report(progress, "write")
        title = f"{Path(audio_path).name}: {vsl.caption}" if vsl.caption else Path(audio_path).name
        if panels is not None:
            panels.write(storyboard_path, title=title)
        else:
            write_storyboard_from_video(out, storyboard_path, title=title)
    return out


@dataclass
class RunOptions:
    """Every option of :func:`run` but the paths and the progress callback, in one
    picklable object: what ``spa2v batch`` sends to its workers."""

    layout: str | None = None
    max_duration_s: float | None = DEFAULT_MAX_DURATION_S
    hop_s: float = 0.025
    max_sources: int = 3
    tags: bool = True
    mic_spacing_m: float | None = None
    yaw_deg: float = 0.0
    planner: str = "physics"
    plan_fps: float = 8.0
    n_frames: int | None = None
    planner_options: Mapping[str, Any] | None = None
    size: tuple[int, int] = DEFAULT_SIZE
    fps: float = DEFAULT_FPS
    overlay: bool = False
    subtitles: bool = False
    generator: str = "animatic"
    generator_options: Mapping[str, Any] | None = None
    cue_plot: bool = True
    evaluate: bool = False  # also judge the video (spa2v[eval]): NAME.eval.json


def run(
    audio_path: PathLike,
    out_path: PathLike,
    *,
    layout: str | None = None,
    max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
    hop_s: float = 0.025,
    max_sources: int = 3,
    tags: bool = True,
    planner: str = "physics",
    plan_fps: float = 8.0,
    n_frames: int | None = None,
    planner_options: Mapping[str, Any] | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    fps: float = DEFAULT_FPS,
    overlay: bool = False,
    subtitles: bool = False,
    generator: str = "animatic",
    generator_options: Mapping[str, Any] | None = None,
    cue_plot: bool = True,
    evaluate: bool = False,
    progress: ProgressCallback | None = None,
    mic_spacing_m: float | None = None,
    yaw_deg: float = 0.0,
) -> RunResult:
    """Hear -> tag -> plan -> render, writing every intermediate file next to the video.

    Writes ``NAME.mp4``, ``NAME.cues.json``, ``NAME.layout.json``, ``NAME.cues.png``
    (cue plot) and ``NAME.storyboard.png`` for ``out_path = NAME.mp4``; with
    ``evaluate``, also ``NAME.eval.json``: :func:`evaluate` of the video against its
    layout and its own sound (needs ``spa2v[eval]``, checked before any work). The keyword
    options are the fields of :class:`RunOptions`; :func:`run_options` takes one.

    >>> result = run("street.wav", "street.mp4")  # doctest: +SKIP
    >>> sorted(result.paths)  # doctest: +SKIP
    ['cue plot', 'cues', 'layout', 'storyboard', 'video']
    """
    options = RunOptions(
        layout=layout,
        max_duration_s=max_duration_s,
        hop_s=hop_s,
        max_sources=max_sources,
        tags=tags,
        mic_spacing_m=mic_spacing_m,
        yaw_deg=yaw_deg,
        planner=planner,
        plan_fps=plan_fps,
        n_frames=n_frames,
        planner_options=planner_options,
        size=size,
        fps=fps,
        overlay=overlay,
        subtitles=subtitles,
        generator=generator,
        generator_options=generator_options,
        cue_plot=cue_plot,
        evaluate=evaluate,
    )
    return run_options(audio_path, out_path, options, progress=progress)


def run_options(
    audio_path: PathLike,
    out_path: PathLike,
    options: RunOptions,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """:func:`run` with its options in one :class:`RunOptions`: the three steps below,
    one after the other, the recording decoded once."""
    check_video_settings(
        (int(options.size[0]), int(options.size[1])), options.fps
    )  # before minutes of hearing
    paths = output_paths(check_video_output(out_path))
    if options.evaluate:
        check_evaluation_available()  # fail before the work, not after it
    roles = ["cues", "layout", "video", "storyboard", "cue plot"]
    roles += ["evaluation"] if options.evaluate else []
    evaluation = None
    # Every output goes to a temporary name first and all are renamed at the end: a
    # failed or interrupted run leaves none of them (and no folder it had to make).
    with atomic_paths([paths[role] for role in roles]) as tmps:
        tmp = dict(zip(roles, tmps, strict=True))
        cues, plot_path, signal = run_hear_step(audio_path, tmp, options, progress)
        if plot_path is None:
            tmp["cue plot"].unlink()  # not drawn: nothing to rename
        vsl = run_plan_step(cues, tmp, options, progress)
        run_render_step(vsl, audio_path, tmp, options, progress, signal=signal)
        if options.evaluate:
            evaluation = run_eval_step(
                vsl, tmp, judged_sound(audio_path, cues, options), progress, paths["video"]
            )
    plot_path = paths["cue plot"] if plot_path is not None else None
    result = RunResult(
        video=paths["video"],
        cues_json=paths["cues"],
        layout_json=paths["layout"],
        cue_plot=plot_path,
        storyboard=paths["storyboard"],
        cues=cues,
        vsl=vsl,
        warnings=[*cues.warnings, *_planner_warnings(vsl, options.planner)],
    )
    if evaluation is not None:
        result.evaluation, result.evaluation_json = evaluation, paths["evaluation"]
    return result


# The three steps of :func:`run`, each writing its files into ``paths``
# (:func:`output_paths`). ``spa2v batch`` runs them as separate stages on a cluster.


def run_hear_step(
    audio_path: PathLike,
    paths: Mapping[str, Path],
    options: RunOptions,
    progress: ProgressCallback | None = None,
) -> tuple[Cues, Path | None, Signal]:
    """Load, hear and tag; write the cues JSON and (``options.cue_plot``) the cue plot.
    Returns the cues, the plot's path (None when not drawn) and the loaded signal."""
    from spa2v.io.audio import load_audio

    _report(progress, "load")
    signal = load_audio(audio_path, layout=options.layout, max_duration_s=options.max_duration_s)
    cues = hear_signal(
        signal,
        hop_s=options.hop_s,
        max_sources=options.max_sources,
        tags=options.tags,
        progress=progress,
        mic_spacing_m=options.mic_spacing_m,
        yaw_deg=options.yaw_deg,
    )
    cues.audio_path = str(audio_path)
    cues.save(paths["cues"])
    plot_path = _plot_cues(cues, paths["cue plot"]) if options.cue_plot else None
    return cues, plot_path, signal


def run_plan_step(
    cues: Cues,
    paths: Mapping[str, Path],
    options: RunOptions,
    progress: ProgressCallback | None = None,
) -> VSL:
    """Plan the layout and write it as JSON."""
    _report(progress, "plan")
    vsl = plan(
        cues,
        planner=options.planner,
        fps=options.plan_fps,
        n_frames=options.n_frames,
        **(options.planner_options or {}),
    )
    save_vsl(vsl, paths["layout"])
    return vsl


def run_render_step(
    vsl: VSL,
    audio_path: PathLike,
    paths: Mapping[str, Path],
    options: RunOptions,
    progress: ProgressCallback | None = None,
    signal: Signal | None = None,
) -> Path:
    """Render the video and its storyboard (``signal``: the recording already loaded;
    without it, it is decoded again)."""
    return render(
        vsl,
        audio_path,
        paths["video"],
        size=options.size,
        fps=options.fps,
        overlay=options.overlay,
        subtitles=options.subtitles,
        generator=options.generator,
        storyboard_path=paths["storyboard"],
        progress=progress,
        max_duration_s=options.max_duration_s,
        signal=signal,
        **(options.generator_options or {}),
    )


def run_eval_step(
    vsl: VSL,
    paths: Mapping[str, Path],
    sound: Mapping[str, Any],
    progress: ProgressCallback | None = None,
    video_name: PathLike | None = None,
) -> Any:
    """Judge the rendered video against its layout and ``sound`` (:func:`judged_sound`);
    write the report as ``paths["evaluation"]`` and return it. ``video_name``: the name
    the report gives the video (when ``paths`` are temporary)."""
    evaluation = evaluate_video_file(paths["video"], layout=vsl, progress=progress, **sound)
    if video_name is not None:
        evaluation.video = str(video_name)
    evaluation.save(paths["evaluation"])
    return evaluation


def judged_sound(recording: PathLike, cues: Cues, options: RunOptions) -> dict[str, Any]:
    """What ``--eval`` judges a rendered video's picture against, as keyword arguments of
    :func:`spa2v.evaluation.video.evaluate_video`: its own sound track, as a viewer hears
    it, heard the way the layout was planned (the kind the recording was heard as,
    instead of telling it again from a lossy-coded copy, and the same microphone
    spacing). For first-order ambisonics, the recording itself with the same view: the
    video carries FOA as a stereo listening downmix
    (:func:`spa2v.rendering.video.mux_audio`), whose level differences are not FOA's
    directions.

    >>> cues = Cues(duration_s=1.0, sr=16000, layout="spaced", hop_s=0.025, sources=[])
    >>> judged_sound("a.wav", cues, RunOptions(mic_spacing_m=0.3))
    {'audio_path': None, 'audio_layout': 'spaced', 'mic_spacing_m': 0.3, 'yaw_deg': 0.0}
    >>> cues.layout = "foa"
    >>> judged_sound("a.wav", cues, RunOptions(yaw_deg=90.0))["audio_path"]
    'a.wav'
    """
    hearing = {"mic_spacing_m": options.mic_spacing_m, "yaw_deg": options.yaw_deg}
    if cues.layout == "foa":
        return {"audio_path": recording, "audio_layout": "foa", **hearing}
    kind = cues.layout if cues.layout in ("mono", *STEREO_LAYOUTS) else None
    return {"audio_path": None, "audio_layout": kind, **hearing}


def check_evaluation_available() -> None:
    """Raise the one-line install hint when the evaluation's OpenCV is missing."""
    from spa2v.evaluation.detector import require_cv2

    require_cv2()


def evaluate(
    video_path: PathLike,
    layout: VSL | PathLike | None = None,
    audio_path: PathLike | None = None,
    *,
    boxes: str = "auto",
    detect_fps: float | None = None,
    report_path: PathLike | None = None,
    plot_path: PathLike | None = None,
    progress: ProgressCallback | None = None,
    max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
    audio_layout: str | None = None,
    mic_spacing_m: float | None = None,
    yaw_deg: float = 0.0,
) -> Any:
    """Judge a video: layout adherence (with a layout), AV-Align and spatial agreement of
    the picture with where its sound comes from; needs ``pip install 'spa2v[eval]'``.
    ``audio_layout``, ``mic_spacing_m`` and ``yaw_deg``: how to hear the sound, as
    :func:`run` takes them.

    Returns a :class:`spa2v.evaluation.video.VideoEvaluation`; ``report_path`` (JSON) and
    ``plot_path`` (PNG) also write it. See ``docs/evaluation.md``.

    >>> report = evaluate("street.mp4", layout="street.layout.json")  # doctest: +SKIP
    >>> report.figures()["spatial_verdict"]  # doctest: +SKIP
    'agrees'
    """
    if report_path is not None:
        check_output_path(Path(report_path), {".json"}, "report")
    if plot_path is not None:
        check_output_path(Path(plot_path), {".png"}, "plot")
    result = evaluate_video_file(
        video_path,
        layout=layout,
        audio_path=audio_path,
        boxes=boxes,
        detect_fps=detect_fps,
        progress=progress,
        max_duration_s=max_duration_s,
        audio_layout=audio_layout,
        mic_spacing_m=mic_spacing_m,
        yaw_deg=yaw_deg,
    )
    writers = {"report": result.save}
    if plot_path is not None:
        from spa2v.evaluation.video import plot_evaluation

        writers["plot"] = lambda tmp: plot_evaluation(result, tmp)
    outputs = [(role, Path(p)) for role, p in (("report", report_path), ("plot", plot_path)) if p]
    # The report and the plot appear together or not at all: a plot that cannot be
    # written (its folder cannot be made) must not leave the report behind.
    with atomic_paths([path for _, path in outputs]) as tmps:
        for (role, _), tmp in zip(outputs, tmps, strict=True):
            writers[role](tmp)
    return result


def evaluate_video_file(video_path: PathLike, **options: Any) -> Any:
    """:func:`spa2v.evaluation.video.evaluate_video`, imported when used (OpenCV)."""
    from spa2v.evaluation.video import evaluate_video

    return evaluate_video(video_path, **options)


def bench_real(
    manifest: PathLike,
    out_dir: PathLike | None = None,
    planner: str = "physics",
    fps: float = 8.0,
    given_layout: bool = False,
    progress: bool = False,
) -> Any:
    """Score a planner on annotated real recordings (``spa2v bench --real``).

    Parameters
    ----------
    manifest : path
        A ``spa2v-realset/1`` JSON manifest (``docs/real-benchmark.md``); audio paths in
        it are relative to it. A bad entry or a missing audio file raises
        :class:`~spa2v.errors.ManifestError` naming the entry, before any clip runs.
    out_dir : path, optional
        Also write ``real-bench.json`` and ``real-bench.md`` there (atomically).
    planner, fps : str, float
        Planner under test and the keyframe rate asked of it.
    given_layout : bool
        Tell the loader each clip's annotated format instead of detecting it.
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    spa2v.evaluation.real_benchmark.RealBenchReport
        ``report.groups()["overall"]["planner"]["side_acc"]`` and so on; one entry per
        clip in ``report.clips``.

    >>> report = bench_real("realdata/manifest.json", "real-out")  # doctest: +SKIP
    """
    from spa2v.evaluation.real_benchmark import run_real_benchmark, write_real_report

    report = run_real_benchmark(
        manifest, planner=planner, fps=fps, given_layout=given_layout, progress=progress
    )
    if out_dir is not None:
        write_real_report(report, out_dir)
    return report


# -- helpers ------------------------------------------------------------------------------


def _report(progress: ProgressCallback | None, stage: str, done: int = 0, total: int = 0) -> None:
    if progress is not None:
        progress(stage, done, total)


def _planner_warnings(vsl: VSL, planner: str) -> list[str]:
    """The llm planner's fallback warning, if its answers were unusable."""
    if planner != "llm":
        return []
    from spa2v.planning.llm import fallback_warning

    warning = fallback_warning(vsl)
    return [] if warning is None else [warning]


def _plot_cues(cues: Cues, path: Path) -> Path | None:
    """Draw the cue plot; without the plotting module (a partial install) say so in
    ``cues.warnings`` and go on: the plot is for people, nothing downstream needs it."""
    try:
        from spa2v.hearing.plot import plot_cues
    except ModuleNotFoundError as exc:
        if exc.name != "spa2v.hearing.plot":
            raise
        cues.warnings.append("cue plot skipped: spa2v.hearing.plot is not installed")
        return None
    with atomic_path(path) as tmp:  # plot_cues writes where it is told: keep it atomic
        plot_cues(cues, tmp)
    return path


def _diffusion_options(options: dict[str, Any]) -> Any:
    """What ``generate_diffusion_video`` takes: the CLI's namespace when given (as
    ``diffusion_options``), else a ``DiffusionOptions`` built from keyword arguments."""
    if "diffusion_options" in options:
        return options["diffusion_options"]
    try:
        from spa2v.rendering.diffusion.options import DiffusionOptions
    except ImportError:
        return dict(options)
    try:
        return DiffusionOptions(**options)
    except TypeError as exc:
        raise Spa2vError(f"unknown diffusion option: {exc}") from None


def _diffusion_backend() -> Callable[..., Path]:
    """``generate_diffusion_video`` from the optional diffusion generator, imported only
    when asked for (it pulls in torch)."""
    try:
        module = importlib.import_module("spa2v.rendering.diffusion")
        return module.generate_diffusion_video
    except (ImportError, AttributeError) as exc:
        raise BackendUnavailableError(
            f"the diffusion generator is not available ({exc}); "
            "install it with: pip install 'spa2v[diffusion]'"
        ) from None
