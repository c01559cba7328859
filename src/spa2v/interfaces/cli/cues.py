"""``spa2v cues``: hear where each source is and how it moves; write the cue tracks.

Also home of the audio-loading options (``--layout``, ``--max-duration-s``) that every
sub-command reading a recording shares: :func:`add_loading_arguments` and
:func:`load_from_args`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from rich.console import Console
from rich.markup import escape

from spa2v.interfaces.cli._common import number
from spa2v.io import DEFAULT_MAX_DURATION_S, MAX_DURATION_FLAG
from spa2v.io.atomic import check_output_path
from spa2v.ranges import HOP_MS_RANGE, MAX_SOURCES_RANGE

if TYPE_CHECKING:
    from spa2v.hearing.cues import Cues
    from spa2v.io.signal import Signal

NAME = "cues"
HELP = "hear where each sound source is and how it moves; write cue tracks (JSON, plot)"
DESCRIPTION = """\
Load a recording (or the sound of a video), find up to 3 sound sources by their
direction, and track each one over time: loudness and activity, azimuth (positive =
left) with a confidence, elevation for ambisonics, distance trend (approach / recede),
pitch and Doppler speed, spectral centroid. Each source is then tagged with what it
sounds like (YAMNet, offline). Prints one line per source; -o writes the full tracks as
JSON (the input of `spa2v plan`), --plot draws azimuth, loudness and pitch over time.

Stereo files do not say how they were recorded: the kind (spaced microphone pair,
amplitude-panned mix, binaural dummy head) is detected from the signal unless --layout
says it. 4-channel files are first-order ambisonics in AmbiX order (W, Y, Z, X)."""
EPILOG = """\
examples:
  spa2v cues street.wav                              # print one line per source
  spa2v cues street.wav -o cues.json --plot cues.png
  spa2v cues concert.flac --layout binaural --max-sources 2 --hop-ms 20
  spa2v cues clip.mp4 --no-tags -o - | jq '.sources[0].lateral_motion'
"""

LAYOUT_CHOICES = ("auto", "mono", "spaced", "panned", "binaural", "foa")
PLOT_SUFFIXES = frozenset({".png", ".svg", ".pdf"})  # what matplotlib writes without extras


# --- shared loading options ----------------------------------------------------------


def add_loading_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--layout`` and ``--max-duration-s`` (for every command that loads audio)."""
    parser.add_argument(
        "--layout",
        choices=LAYOUT_CHOICES,
        default="auto",
        help=(
            "what the channels are: auto (default) = mono for 1 channel, first-order "
            "ambisonics (AmbiX) for 4, and for 2 the stereo kind detected from the signal; "
            "spaced = a phone/camera microphone pair, panned = a mixed (amplitude-panned) "
            "track, binaural = a dummy-head or in-ear recording"
        ),
    )
    add_max_duration_argument(parser)


def add_max_duration_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--max-duration-s`` (every command that reads a recording, render too)."""
    parser.add_argument(
        MAX_DURATION_FLAG,
        type=number(float, 0),
        default=DEFAULT_MAX_DURATION_S,
        metavar="SECONDS",
        help=(
            "refuse longer recordings, checked before decoding so memory stays bounded; "
            "counted in seconds of 48 kHz stereo, so 192 kHz or 4 channels get fewer "
            f"(default: {DEFAULT_MAX_DURATION_S:g}; 0 = no limit), e.g. --max-duration-s 60"
        ),
    )


def add_direction_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--mic-spacing`` and ``--yaw``: how the recording was made, where the view looks."""
    parser.add_argument(
        "--mic-spacing",
        type=number(float, 0.02, 2.0, unit=" m"),
        default=None,
        metavar="M",
        help="spacing of a spaced microphone pair in metres, e.g. --mic-spacing 0.12 for a "
        "phone (default: at least 0.15, wider when the recording's time differences need "
        "it)",
    )
    parser.add_argument(
        "--yaw",
        type=number(float, -180.0, 180.0, unit=" deg"),
        default=0.0,
        metavar="DEG",
        help="FOA (360-degree cameras) only: turn the view DEG degrees to the left of the "
        "recording's front, e.g. --yaw 90 (default: 0, straight ahead); sources beside or "
        "behind the view are off-screen",
    )


class DirectionOptions(TypedDict):
    """The hearing API's keyword arguments for :func:`add_direction_arguments`."""

    mic_spacing_m: float | None
    yaw_deg: float


def direction_kwargs(args: argparse.Namespace) -> DirectionOptions:
    """The keyword arguments of :func:`add_direction_arguments` for the hearing API."""
    return {"mic_spacing_m": args.mic_spacing, "yaw_deg": args.yaw}


def add_hearing_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--hop-ms``, ``--max-sources`` and ``--no-tags``: how to hear (cues, tag, run)."""
    parser.add_argument(
        "--hop-ms",
        type=number(float, *HOP_MS_RANGE, unit=" ms"),
        default=25.0,
        metavar="N",
        help="time between two analysis frames in milliseconds, "
        f"{HOP_MS_RANGE[0]:g}-{HOP_MS_RANGE[1]:g} (default: 25); "
        "smaller follows fast motion better, larger is faster and smoother",
    )
    parser.add_argument(
        "--max-sources",
        type=number(int, *MAX_SOURCES_RANGE),
        default=3,
        metavar="N",
        help="find at most N simultaneous sources, "
        f"{MAX_SOURCES_RANGE[0]}-{MAX_SOURCES_RANGE[1]} (default: 3); 1 treats the "
        "recording as a single source",
    )
    parser.add_argument(
        "--no-tags",
        action="store_true",
        help="skip the sound-event tagger: faster, but sources stay unlabelled ('unknown')",
    )


def load_from_args(args: argparse.Namespace) -> Signal:
    """Load ``args.audio`` with the options of :func:`add_loading_arguments`."""
    from spa2v.io.audio import load_audio

    layout = None if args.layout == "auto" else args.layout
    max_duration_s = args.max_duration_s or None  # 0 means no limit
    return load_audio(args.audio, layout=layout, max_duration_s=max_duration_s)


# --- the command ---------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "audio",
        metavar="AUDIO",
        help="recording to analyse: wav, flac, ogg/opus, mp3, m4a/aac, or a video "
        "with sound (mp4, mov, mkv, webm)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="CUES.json",
        help="write the cue tracks as JSON to this file ('-' = standard output, the "
        "summary then goes to standard error); default: print the summary only",
    )
    parser.add_argument(
        "--plot",
        metavar="PLOT.png",
        help="draw azimuth, loudness and pitch over time per source into this image "
        "(png, svg or pdf, from the extension)",
    )
    add_loading_arguments(parser)
    add_direction_arguments(parser)
    add_hearing_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Load, hear, tag, write the outputs and print the summary; returns the exit code."""
    to_stdout = args.output == "-"
    quiet = bool(getattr(args, "quiet", False))
    out = Console(file=sys.stderr if to_stdout else sys.stdout, highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)

    json_path = None if args.output in (None, "-") else Path(args.output)
    plot_path = None if args.plot is None else Path(args.plot)
    check_output_path(json_path, {".json"}, "-o")  # fail before the slow part, not after it
    check_output_path(plot_path, PLOT_SUFFIXES, "--plot")

    signal = load_from_args(args)
    cues = hear_and_tag(
        signal,
        args.hop_ms / 1000.0,
        args.max_sources,
        tags=not args.no_tags,
        **direction_kwargs(args),
    )

    if not quiet:  # -q: only errors and the paths written
        for warning in cues.warnings:
            err.print(f"[yellow]warning:[/] {escape(warning)}")
        _print_summary(out, signal, cues, layout_given=args.layout != "auto")

    if to_stdout:
        sys.stdout.write(json.dumps(cues.to_dict(), indent=1) + "\n")
    if json_path is not None:
        cues.save(json_path)  # atomic
        out.print(f"wrote {escape(str(json_path))}")
    if plot_path is not None:
        from spa2v.hearing.plot import plot_cues
        from spa2v.io.atomic import atomic_path

        with atomic_path(plot_path) as tmp:
            plot_cues(cues, tmp)
        out.print(f"wrote {escape(str(plot_path))}")
    return 0


def hear_and_tag(
    signal: Signal,
    hop_s: float,
    max_sources: int,
    tags: bool = True,
    mic_spacing_m: float | None = None,
    yaw_deg: float = 0.0,
) -> Cues:
    """Cue tracks for ``signal``, labelled unless ``tags`` is False
    (:func:`spa2v.api.hear_signal`)."""
    from spa2v.api import hear_signal

    return hear_signal(
        signal,
        hop_s=hop_s,
        max_sources=max_sources,
        tags=tags,
        mic_spacing_m=mic_spacing_m,
        yaw_deg=yaw_deg,
    )


# --- helpers -------------------------------------------------------------------------


def _print_summary(out: Console, signal: Signal, cues: Cues, layout_given: bool) -> None:
    from spa2v.hearing.summary import describe_source

    how = "detected" if signal.n_channels == 2 else "by channel count"
    if layout_given:
        how = "given"
    if cues.stereo and not layout_given:
        how = f"detected, sure {cues.stereo['confidence']:.2f}: {cues.stereo['evidence']}"
    n = len(cues.sources)
    out.print(
        f"[bold]{escape(signal.source)}[/]: {signal.duration_s:.2f} s, {signal.sr} Hz, "
        f"{signal.n_channels} ch, layout {cues.layout} ({escape(how)}); "
        f"{n} source{'s' if n != 1 else ''}"
    )
    if not cues.sources:
        out.print("  no sources found (the recording is silent or too quiet)")
    for track in cues.sources:
        out.print(f"  {escape(describe_source(track, cues.layout))}")
