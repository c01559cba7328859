"""``spa2v run``: the whole pipeline in one command, hear -> tag -> plan -> render.

Writes the video and, next to it, every intermediate file a person may want to look at.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.markup import escape

from spa2v.interfaces.cli.cues import (
    add_direction_arguments,
    add_hearing_arguments,
    add_loading_arguments,
    direction_kwargs,
)
from spa2v.interfaces.cli.plan import (
    add_keyframe_arguments,
    add_llm_arguments,
    llm_options_from_args,
)
from spa2v.interfaces.cli.render import (
    add_render_arguments,
    progress_reporter,
    render_options_from_args,
)
from spa2v.planning import PLANNERS

NAME = "run"
HELP = "hear -> plan -> render in one go: an MP4 plus the cues, layout, plot and storyboard"
DESCRIPTION = """\
Run the whole pipeline on a recording: hear where each source is and how it moves, tag
what it is, plan a Video Scene Layout, and render it as an MP4 with the original audio.
Next to OUT.mp4 it writes OUT.cues.json (cue tracks), OUT.layout.json (the VSL),
OUT.cues.png (cue plot) and OUT.storyboard.png (6 frames of the video), then prints a
summary with the paths. With --eval it also judges the video (`spa2v eval`) and writes
OUT.eval.json."""
EPILOG = """\
examples:
  spa2v run street.wav -o street.mp4
  spa2v run concert.wav -o concert.mp4 --layout binaural --overlay --subtitles
  spa2v run street.wav -o street.mp4 --frames 16 --size 1024x640 --fps 30
  spa2v run street.wav -o street.mp4 --eval
  spa2v run street.wav -o street.mp4 --planner llm --llm-model gemini-2.0-flash \\
      --llm-base-url https://generativelanguage.googleapis.com/v1beta/openai/ \\
      --llm-api-key-env GEMINI_API_KEY
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "audio",
        metavar="AUDIO",
        help="recording: wav, flac, ogg/opus, mp3, m4a/aac, or a video with sound",
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT.mp4", help="video to write")
    add_pipeline_arguments(parser)


def add_pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    """The hearing, planning and video options of ``run`` (shared with ``batch``)."""
    hearing = parser.add_argument_group("hearing")
    add_loading_arguments(hearing)
    add_direction_arguments(hearing)
    add_hearing_arguments(hearing)
    planning = parser.add_argument_group("planning")
    planning.add_argument(
        "--planner",
        choices=PLANNERS,
        default="physics",
        help="physics (default: offline, deterministic) or llm (OpenAI-compatible chat model)",
    )
    add_keyframe_arguments(planning)
    add_llm_arguments(parser)
    add_render_arguments(parser)
    parser.add_argument(
        "--eval",
        action="store_true",
        help="also judge each video against its layout and sound (`spa2v eval`) and write "
        "OUT.eval.json; needs pip install 'spa2v[eval]', e.g. --eval",
    )


def planner_options_from_args(
    args: argparse.Namespace, audio_path: str | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``spa2v.planning.plan`` (none for the physics planner)."""
    audio = audio_path if audio_path is not None else getattr(args, "audio", None)
    return llm_options_from_args(args, audio) if args.planner == "llm" else {}


def run_options_from_args(args: argparse.Namespace, audio_path: str | None = None) -> Any:
    """The :class:`spa2v.api.RunOptions` the parsed pipeline options ask for."""
    from spa2v.api import RunOptions

    render_options = render_options_from_args(args)
    generator_options = {}
    if "diffusion_options" in render_options:  # the namespace, as plain (picklable) options
        from spa2v.rendering.diffusion.options import DiffusionOptions

        namespace = render_options.pop("diffusion_options")
        generator_options["diffusion_options"] = DiffusionOptions.from_namespace(namespace)
    return RunOptions(
        layout=None if args.layout == "auto" else args.layout,
        max_duration_s=args.max_duration_s or None,
        hop_s=args.hop_ms / 1000.0,
        max_sources=args.max_sources,
        tags=not args.no_tags,
        **direction_kwargs(args),
        planner=args.planner,
        plan_fps=args.keyframe_fps,
        n_frames=args.frames,
        planner_options=planner_options_from_args(args, audio_path),
        generator_options=generator_options,
        evaluate=bool(getattr(args, "eval", False)),
        **render_options,
    )


def run(args: argparse.Namespace) -> int:
    from spa2v import api

    quiet = bool(getattr(args, "quiet", False))
    options = run_options_from_args(args)
    with progress_reporter(quiet) as progress:
        result = api.run_options(args.audio, args.output, options, progress=progress)
    print_run_summary(result, quiet=quiet)
    if result.evaluation is not None:
        from spa2v.interfaces.cli.eval import print_evaluation

        print_evaluation(result.evaluation, quiet=quiet)
    return 0


def print_run_summary(result: Any, quiet: bool = False, console: Console | None = None) -> None:
    """What was heard and planned (unless ``quiet``), and a table of the written files."""
    try:
        from spa2v.hearing.summary import describe_source
    except ModuleNotFoundError:  # partial install: a plainer line per source
        describe_source = _describe_source_plainly

    console = console or Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    if not quiet:
        for track in result.cues.sources:
            console.print(f"  heard  {escape(describe_source(track, result.cues.layout))}")
        for obj in result.vsl.objects:
            console.print(f"  drawn  {obj.id}: {escape(obj.name)}, {obj.motion}")
        if result.vsl.caption:
            console.print(f"  caption: {escape(result.vsl.caption)}")
    width = max(len(role) for role in result.paths) + 2
    for role, path in result.paths.items():  # whole paths, never cut to the terminal width
        console.print(f"[bold]{role:<{width}}[/]{escape(str(path))}")


def _describe_source_plainly(track: Any, layout: str) -> str:
    label = track.top_label.noun if track.top_label else "unknown"
    start_s, end_s = track.span_s
    shown = track.source_id + 1  # counted from 1, as hearing.summary.source_number does
    return f"source {shown}: {label}, {start_s:.1f}-{end_s:.1f} s, {track.lateral_motion}"
