"""``spa2v plan``: hear a recording and write its Video Scene Layout (VSL JSON).

Public contract (keep stable)::

    spa2v plan AUDIO -o layout.json [--planner physics|llm] [--keyframe-fps N | --frames N]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from spa2v.interfaces.cli._common import number
from spa2v.interfaces.cli.cues import (
    add_direction_arguments,
    add_loading_arguments,
    direction_kwargs,
    hear_and_tag,
    load_from_args,
)
from spa2v.io.atomic import check_output_path
from spa2v.planning import PLANNERS
from spa2v.planning.limits import MAX_KEYFRAME_FPS, MAX_KEYFRAMES

if TYPE_CHECKING:
    from spa2v.hearing.cues import Cues
    from spa2v.planning.vsl import VSL

NAME = "plan"
HELP = "plan where each heard object appears on screen; write the layout (VSL JSON)"
DESCRIPTION = """\
Hear a recording (where each source is, how it moves, what it is) and plan a Video
Scene Layout: per keyframe one box per sounding object, a caption, a background and the
reasoning behind them. The physics planner (default) is offline and deterministic: the
azimuth gives the horizontal position through the camera model (90 deg field of view,
positive azimuth = left), loudness the distance (1/r law) around a typical distance for
the class, and the class's physical size the box. The llm planner asks any
OpenAI-compatible chat model (with 3 similar examples from the example bank) and falls
back to the physics planner, with a warning, when the model's answers are unusable; a
server that cannot be reached, times out or answers with an HTTP error is an error
(exit code 3).

AUDIO may also be a cues JSON written by `spa2v cues -o`, to plan without hearing again."""
EPILOG = """\
examples:
  spa2v plan street.wav -o layout.json                     # physics, 8 keyframes/s
  spa2v plan street.wav -o layout.json --frames 16
  spa2v plan concert.wav -o layout.json --layout binaural
  spa2v plan street.wav -o layout.json --planner llm \\
      --llm-base-url http://127.0.0.1:8000/v1 --llm-model qwen2.5-7b-instruct
  SPA2V_LLM_BASE_URL=https://generativelanguage.googleapis.com/v1beta/openai/ \\
  SPA2V_LLM_MODEL=gemini-2.0-flash spa2v plan street.wav -o layout.json \\
      --planner llm --llm-api-key-env GEMINI_API_KEY --llm-audio
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "audio",
        metavar="AUDIO",
        help="recording (wav, flac, ogg/opus, mp3, m4a/aac, or a video with sound), "
        "or a cues JSON from `spa2v cues -o`",
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="LAYOUT.json", help="where to write the VSL"
    )
    parser.add_argument(
        "--planner",
        choices=PLANNERS,
        default="physics",
        help="physics (default: offline, deterministic) or llm (an OpenAI-compatible chat "
        "model; see the --llm-* options)",
    )
    add_keyframe_arguments(parser)
    parser.add_argument("--fps", action=_RenamedFps, help=argparse.SUPPRESS)
    add_loading_arguments(parser)
    add_direction_arguments(parser)
    add_llm_arguments(parser)


def add_keyframe_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--keyframe-fps N`` or ``--frames N``: the layout's keyframes (plan, run, batch).

    ``--fps`` is the video frame rate everywhere (render, run); plan's ``--fps`` of old
    versions is refused with a message naming the new flag.
    """
    rate = parser.add_mutually_exclusive_group()
    rate.add_argument(
        "--keyframe-fps",
        "--fps-plan",  # the older name in run, kept as an alias
        dest="keyframe_fps",
        type=number(float, 0, MAX_KEYFRAME_FPS, above_low=True),
        default=8.0,
        metavar="N",
        help="layout keyframes per second (default: 8), e.g. --keyframe-fps 4",
    )
    rate.add_argument(
        "--frames",
        type=number(int, 1, MAX_KEYFRAMES),
        metavar="N",
        help="a fixed number of layout keyframes spread over the clip instead, e.g. --frames 16",
    )


class _RenamedFps(argparse.Action):
    """plan's ``--fps`` (keyframes) was renamed: say so instead of guessing."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        parser.error(
            "--fps is the video frame rate (render, run); "
            "for layout keyframes per second use --keyframe-fps"
        )


def add_llm_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--llm-*`` and ``--bank`` options of the llm planner (plan, run)."""
    llm = parser.add_argument_group("llm planner")
    llm.add_argument(
        "--llm-base-url",
        metavar="URL",
        help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 "
        "(default: $SPA2V_LLM_BASE_URL)",
    )
    llm.add_argument("--llm-model", metavar="NAME", help="model name (default: $SPA2V_LLM_MODEL)")
    llm.add_argument(
        "--llm-api-key-env",
        metavar="VAR",
        default="OPENAI_API_KEY",
        help="environment variable holding the API key (default: OPENAI_API_KEY; local "
        "servers need none)",
    )
    llm.add_argument(
        "--llm-audio",
        action="store_true",
        help="also send the recording itself, for models that accept audio input",
    )
    llm.add_argument(
        "--llm-timeout-s",
        type=number(float, 0, above_low=True),
        default=60.0,
        metavar="SECONDS",
        help="per-request timeout (default: 60)",
    )
    llm.add_argument(
        "--llm-attempts",
        type=number(int, 1),
        default=3,
        metavar="N",
        help="requests in all before falling back to physics (default: 3)",
    )
    llm.add_argument(
        "--bank",
        metavar="BANK.jsonl",
        help="example bank for the 3 in-context examples (default: the bank shipped "
        "with spa2v; make one with `spa2v bank build`)",
    )


def llm_options_from_args(args: argparse.Namespace, audio_path: str | None) -> dict[str, Any]:
    """Keyword arguments of ``plan_llm`` from the ``--llm-*`` options.

    A missing server or model raises now, before the slow hearing step.
    """
    from spa2v.planning.llm import resolve_backend

    base_url, model, _ = resolve_backend(args.llm_base_url, args.llm_model, None)
    return {
        "base_url": base_url,
        "model": model,
        "api_key": os.environ.get(args.llm_api_key_env) or None,
        "audio_path": audio_path if args.llm_audio else None,
        "bank": args.bank,
        "timeout_s": args.llm_timeout_s,
        "max_attempts": args.llm_attempts,
    }


def run(args: argparse.Namespace) -> int:
    """Hear, plan, write the layout atomically, print a summary; returns the exit code."""
    from spa2v.planning import plan
    from spa2v.planning.vsl import save_vsl

    quiet = bool(getattr(args, "quiet", False))
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    output = Path(args.output)
    check_output_path(output, {".json"})  # fail before the slow part, not after it

    options: dict[str, object] = {}
    if args.planner == "llm":
        audio = None if _is_cues(args.audio) else args.audio
        options = llm_options_from_args(args, audio)
    cues = cues_from_args(args)
    for warning in cues.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    vsl = plan(cues, args.planner, fps=args.keyframe_fps, n_frames=args.frames, **options)
    planner = planner_name(vsl, args.planner, err)
    save_vsl(vsl, output)  # atomic: a failure leaves no partial file
    if not quiet:
        print_summary(out, vsl, *planner)
    out.print(f"wrote {escape(str(output))}")
    return 0


def cues_from_args(args: argparse.Namespace) -> Cues:
    """Cues of ``args.audio``: read from a cues JSON, or loaded, heard and tagged."""
    if _is_cues(args.audio):
        from spa2v.hearing.cues import Cues

        return Cues.load(args.audio)
    signal = load_from_args(args)
    cues: Cues = hear_and_tag(signal, hop_s=0.025, max_sources=3, **direction_kwargs(args))
    cues.audio_path = str(args.audio)
    return cues


def planner_name(vsl: VSL, planner: str, err: Console) -> tuple[str, str]:
    """The planner that made ``vsl`` and a note for the summary; a fallback's warning is
    printed on ``err`` (the one place it is said)."""
    if planner != "llm":
        return planner, ""
    from spa2v.planning.llm import fallback_warning  # (imports openai)

    warning = fallback_warning(vsl)
    if warning is None:
        return planner, ""
    err.print(f"[yellow]warning:[/] {escape(warning)}")
    return "physics", " (the llm planner's answer was unusable)"


def print_summary(out: Console, vsl: VSL, planner: str, note: str = "") -> None:
    """A few lines a person reads: objects, motion, when they are in view, the caption."""
    n = len(vsl.objects)
    out.print(
        f"[bold]{planner}[/] layout{note}: {vsl.duration:.1f} s, {len(vsl.frames)} keyframes, "
        f"{n} object{'s' if n != 1 else ''}"
    )
    for obj in vsl.objects:
        times = [f.t for f in vsl.frames if any(b.id == obj.id for b in f.boxes)]
        seen = f"in view {times[0]:.1f}-{times[-1]:.1f} s" if times else "never in view"
        out.print(
            f"  {obj.id}: {escape(obj.name)} (heard: {escape(obj.audio_label or '?')}), "
            f"{obj.motion}, {seen}"
        )
    out.print(f"  caption: {escape(vsl.caption)}")


def _is_cues(path: str) -> bool:
    return path.lower().endswith(".json")
