"""``spa2v render``: draw a layout (VSL) as an MP4 with the original audio.

Also home of the rendering options that ``spa2v run`` shares:
:func:`add_render_arguments` and :func:`render_options_from_args`.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from spa2v.interfaces.cli._common import number
from spa2v.interfaces.cli.cues import add_max_duration_argument
from spa2v.rendering import DEFAULT_FPS, DEFAULT_SIZE, FPS_RANGE, SIDE_RANGE

NAME = "render"
HELP = "draw a layout (VSL JSON) as an MP4 video with the original audio"
DESCRIPTION = """\
Render a Video Scene Layout (spa2v.vsl/1 JSON, e.g. from `spa2v plan`) as an MP4
(H.264 + the recording re-encoded as AAC) lasting as long as the audio.

The default generator, animatic, draws each object as a colour emoji (or a labelled
shape) at its interpolated box over a background matching the layout's `background`
(sky and ground outdoors, a room indoors), in seconds on a CPU. The diffusion
generator steers a text-to-video model with the boxes (GPU; pip install 'spa2v[diffusion]')."""
EPILOG = """\
examples:
  spa2v render layout.json --audio street.wav -o street.mp4
  spa2v render layout.json --audio street.wav -o street.mp4 --overlay --subtitles \\
      --storyboard street.storyboard.png
  spa2v render layout.json --audio street.wav -o big.mp4 --size 1024x640 --fps 30
  spa2v render layout.json --audio street.wav -o street.mp4 --generator diffusion
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("layout", metavar="LAYOUT.json", help="the layout to draw (spa2v.vsl/1)")
    parser.add_argument(
        "--audio",
        required=True,
        metavar="AUDIO",
        help="the recording to put in the video (any format ffmpeg reads); it sets the length",
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT.mp4", help="video to write")
    parser.add_argument(
        "--storyboard",
        metavar="PATH.png",
        help="also write a contact sheet of 6 evenly spaced frames with their times",
    )
    add_max_duration_argument(parser)
    add_render_arguments(parser)


def add_render_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``render`` and ``run``: size, fps, overlays, the generator."""
    group = parser.add_argument_group("video")
    group.add_argument(
        "--size",
        type=parse_size,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help=f"frame size in pixels, even numbers (default {DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]})",
    )
    group.add_argument(
        "--fps",
        type=number(float, *FPS_RANGE, unit=" fps"),
        default=DEFAULT_FPS,
        help=f"video frame rate (default {DEFAULT_FPS:g})",
    )
    group.add_argument(
        "--overlay", action="store_true", help="draw each box with its object's name (animatic)"
    )
    group.add_argument(
        "--subtitles", action="store_true", help="show the keyframe captions (animatic)"
    )
    group.add_argument(
        "--generator",
        choices=("animatic", "diffusion"),
        default="animatic",
        help="animatic (default): emoji sprites on a CPU in seconds; diffusion: a "
        "layout-steered text-to-video model (GPU, pip install 'spa2v[diffusion]')",
    )
    try:  # the diffusion generator's own flags; its option module does not import torch
        from spa2v.rendering.diffusion.cli_args import add_diffusion_arguments
    except ImportError:
        return
    add_diffusion_arguments(parser)


def render_options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of :func:`spa2v.api.render` from parsed options."""
    options: dict[str, Any] = {
        "size": args.size,
        "fps": args.fps,
        "overlay": args.overlay,
        "subtitles": args.subtitles,
        "generator": args.generator,
    }
    if args.generator == "diffusion":
        options["diffusion_options"] = args  # generate_diffusion_video takes the namespace
    return options


def run(args: argparse.Namespace) -> int:
    from spa2v import api

    console = Console(highlight=False, soft_wrap=True)
    quiet = bool(getattr(args, "quiet", False))
    with progress_reporter(quiet) as progress:
        out = api.render(
            args.layout,
            args.audio,
            args.output,
            storyboard_path=args.storyboard,
            progress=progress,
            max_duration_s=args.max_duration_s or None,
            **render_options_from_args(args),
        )
    console.print(f"wrote {escape(str(out))}")
    if args.storyboard:
        console.print(f"wrote {escape(str(args.storyboard))}")
    return 0


@contextlib.contextmanager
def progress_reporter(quiet: bool = False) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress display fed by the API's ``progress(stage, done, total)`` calls:
    one line per stage, a bar for rendering."""
    if quiet:
        yield None
        return
    columns = (
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        tasks: dict[str, TaskID] = {}
        current: list[str] = []

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                if current:  # the previous stage is over
                    previous = tasks[current[-1]]
                    bar.update(previous, completed=bar.tasks[previous].total or 1)
                tasks[stage] = bar.add_task(stage, total=total or 1)
                current.append(stage)
            bar.update(tasks[stage], completed=done, total=total or 1)

        try:
            yield report
        except BaseException:
            bar.live.transient = True  # an error is one line, not a half-filled bar around it
            raise
        if current:
            last = tasks[current[-1]]
            bar.update(last, completed=bar.tasks[last].total or 1)


def parse_size(text: str) -> tuple[int, int]:
    """``"512x320"`` -> ``(512, 320)``; both even (H.264 yuv420p) and 16-4096.

    >>> parse_size("1024x640")
    (1024, 640)
    """
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 512x320") from None
    for value in (width, height):
        if not SIDE_RANGE[0] <= value <= SIDE_RANGE[1] or value % 2:
            raise argparse.ArgumentTypeError(
                f"{text}: width and height must be even numbers from "
                f"{SIDE_RANGE[0]} to {SIDE_RANGE[1]}"
            )
    return width, height
