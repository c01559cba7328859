"""``spa2v demo``: run the whole pipeline on the bundled example recordings."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from spa2v.errors import OutputError
from spa2v.interfaces.cli.run import print_run_summary

NAME = "demo"
HELP = "run spa2v end to end on bundled examples (a vehicle passing, two instruments)"
DESCRIPTION = """\
Run `spa2v run` on the recordings bundled with spa2v and say where the videos are:

  car-right-to-left       a vehicle passing in front from right to left
  instruments-left-right  a piano on the left and a violin on the right

Each example writes NAME.mp4 (animatic with the original audio), NAME.cues.json,
NAME.layout.json, NAME.cues.png and NAME.storyboard.png into the output folder. The
recordings were made with spa2v's simulator from real dry recordings (see
`python -m spa2v.examples.make_examples`)."""
EPILOG = """\
examples:
  spa2v demo                      # writes into ./spa2v-demo
  spa2v demo --out /tmp/demo --only car-right-to-left
  spa2v demo --plain              # no boxes, labels or captions drawn over the video
"""

DEFAULT_OUT = Path("spa2v-demo")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from spa2v.examples import EXAMPLES

    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"output folder, created if needed (default: ./{DEFAULT_OUT})",
    )
    parser.add_argument(
        "--only",
        choices=[example.name for example in EXAMPLES],
        action="append",
        help="run only this example (repeatable)",
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="draw only the sprites (default: also boxes, labels and captions)",
    )


def run(args: argparse.Namespace) -> int:
    from spa2v import api
    from spa2v.examples import EXAMPLES, example_path
    from spa2v.interfaces.cli.render import progress_reporter

    console = Console(highlight=False, soft_wrap=True)
    quiet = bool(getattr(args, "quiet", False))
    out_dir: Path = args.out
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {out_dir}: {exc.strerror}") from None
    chosen = [e for e in EXAMPLES if not args.only or e.name in args.only]
    for example in chosen:
        if not quiet:
            console.rule(f"[bold]{example.name}[/]")
            console.print(f"  audio    {escape(example.description)}")
            console.print(f"  expected {escape(example.expected)}")
        with progress_reporter(quiet) as progress:
            result = api.run(
                example_path(example),
                out_dir / f"{example.name}.mp4",
                layout=example.layout,
                overlay=not args.plain,
                subtitles=not args.plain,
                progress=progress,
            )
        print_run_summary(result, quiet=quiet, console=console)
    console.print(
        f"\n[bold]done:[/] {len(chosen)} video{'s' if len(chosen) != 1 else ''} in "
        f"{escape(str(out_dir.resolve()))} (open the .mp4 files; the .storyboard.png "
        "files show 6 frames each)"
    )
    return 0
