"""``spa2v eval``: judge any video: layout adherence, AV-Align, spatial agreement."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.markup import escape

from spa2v.interfaces.cli._common import number
from spa2v.interfaces.cli.cues import (
    LAYOUT_CHOICES,
    add_direction_arguments,
    add_max_duration_argument,
    direction_kwargs,
)
from spa2v.interfaces.cli.render import progress_reporter

NAME = "eval"
HELP = "judge a video: layout adherence, AV-Align, and whether the picture agrees with the sound"
DESCRIPTION = """\
Judge a video (spa2v's own, a diffusion model's, anyone's). Objects are found in the
frames by a detector (YOLOv3-tiny, COCO classes, on the CPU) or, for spa2v's animatics,
exactly from the sprites the renderer drew, and linked into tracks. With a layout:
layout adherence per object (coverage, mIoU, centroid distance, AP50) and LTSim. With
sound (the video's own track, or --audio): AV-Align (audio onsets against motion peaks,
corrected so it never exceeds 1) and spatial agreement: the sound's direction over time
from spa2v's hearing against where the matching object is seen, with a verdict: agrees,
mirrored, unrelated, or cannot tell. Needs OpenCV: pip install 'spa2v[eval]'."""
EPILOG = """\
examples:
  spa2v eval street.mp4                                  # AV-Align + spatial agreement
  spa2v eval street.mp4 --layout street.layout.json      # + layout adherence
  spa2v eval street.mp4 --layout street.layout.json -o street.eval.json --plot street.eval.png
  spa2v eval silent.mp4 --audio street.wav               # judge against a separate sound
  spa2v eval concert.mp4 --audio-layout binaural         # the sound is a dummy-head recording
  spa2v eval phone.mp4 --audio-layout spaced --mic-spacing 0.12   # a phone's microphones
  spa2v eval pano.mp4 --audio pano.ambix.wav --yaw 90     # a 360 camera's FOA, view turned left
  spa2v eval street.mp4 --layout street.layout.json --boxes detector --detect-fps 8
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", metavar="VIDEO", help="the video to judge (mp4, mov, mkv, webm)")
    parser.add_argument(
        "--layout",
        metavar="LAYOUT.json",
        help="the layout (spa2v.vsl/1) the video should follow, e.g. --layout street.layout.json",
    )
    parser.add_argument(
        "--audio",
        metavar="AUDIO",
        help="judge against this sound instead of the video's own, e.g. --audio street.wav",
    )
    parser.add_argument(
        "--audio-layout",
        choices=LAYOUT_CHOICES,
        default="auto",
        help="what the sound's channels are, as `spa2v run --layout` takes it: auto (default: "
        "the stereo kind told from the channels) or the kind the layout was planned with, "
        "e.g. --audio-layout spaced",
    )
    parser.add_argument(
        "-o", "--output", metavar="REPORT.json", help="write the report, e.g. -o street.eval.json"
    )
    parser.add_argument(
        "--plot",
        metavar="REPORT.png",
        help="plot heard direction and seen position over time, e.g. --plot street.eval.png",
    )
    parser.add_argument(
        "--boxes",
        choices=("auto", "detector", "animatic"),
        default="auto",
        help="where objects come from: auto (default: the animatic's sprites when the video is "
        "the layout's animatic, else the detector), e.g. --boxes detector",
    )
    parser.add_argument(
        "--detect-fps",
        type=number(float, 0.1, 60),
        metavar="N",
        help="look for objects N times per second (default: 8 in animatics, 2 with the "
        "detector), e.g. --detect-fps 4",
    )
    add_direction_arguments(parser)
    add_max_duration_argument(parser)


def run(args: argparse.Namespace) -> int:
    from spa2v import api

    quiet = bool(getattr(args, "quiet", False))
    with progress_reporter(quiet) as progress:
        result = api.evaluate(
            args.video,
            layout=args.layout,
            audio_path=args.audio,
            boxes=args.boxes,
            detect_fps=args.detect_fps,
            report_path=args.output,
            plot_path=args.plot,
            progress=progress,
            max_duration_s=args.max_duration_s or None,
            audio_layout=None if args.audio_layout == "auto" else args.audio_layout,
            **direction_kwargs(args),
        )
    print_evaluation(result, quiet=quiet)
    console = Console(highlight=False, soft_wrap=True)
    for role, path in (("report", args.output), ("plot", args.plot)):
        if path:
            console.print(f"[bold]{role:<8}[/]{escape(str(path))}")
    return 0


def print_evaluation(result: Any, quiet: bool = False, console: Console | None = None) -> None:
    """The headline figures, one per line; warnings on stderr."""
    console = console or Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    adh = result.adherence
    lines = [f"objects from  {result.boxes_from}, {len(result.tracks)} track(s)"]
    if adh is None:
        lines.append(f"adherence     - ({result.adherence_reason})")
    else:
        lines.append(
            "adherence     "
            + ", ".join(
                f"{name} {_fmt(value)}"
                for name, value in (
                    ("coverage", adh.coverage),
                    ("mIoU", adh.miou),
                    ("centroid distance", adh.centroid_distance),
                    ("AP50", adh.ap50),
                    ("LTSim", adh.ltsim),
                )
            )
        )
    av = result.av_align
    lines.append(
        f"AV-Align      {_fmt(av.score)} ({len(av.audio_onsets_s)} onsets, "
        f"{len(av.video_peaks_s)} motion peaks)"
        if av.score is not None
        else f"AV-Align      {av.reason}"
    )
    sp = result.spatial
    score = f", score {sp.score:.2f}" if sp.score is not None else ""
    lines.append(f"spatial       {sp.verdict}{score} ({sp.reason})")
    if quiet:
        lines = lines[1:]
    for line in lines:
        console.print(escape(line))


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
