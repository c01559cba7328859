"""``spa2v tag``: say what each sound source is (offline sound-event tagging)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spa2v.errors import OutputError
from spa2v.interfaces.cli._common import number
from spa2v.interfaces.cli.cues import (
    add_direction_arguments,
    add_loading_arguments,
    direction_kwargs,
    load_from_args,
)

if TYPE_CHECKING:
    from spa2v.hearing.cues import Cues

NAME = "tag"
HELP = "say what each sound source is: top sound classes and the drawable noun"
DESCRIPTION = """\
Load a recording, separate up to 3 sources by direction, and tag each one with an
embedded sound-event model (YAMNet, 521 AudioSet classes, runs offline on a CPU). Prints
per source: when it sounds, where (azimuth, positive = left), its top sound classes with
scores and the drawable noun each maps to ("Bark" -> dog, "Train horn" -> train).
"unknown" means that nothing drawable was confident (e.g. music with no clear instrument,
noise, silence)."""
EPILOG = """\
examples:
  spa2v tag street.wav                       # one row per source
  spa2v tag concert.flac --top-k 5 --layout binaural
  spa2v tag clip.mp4 --max-sources 1 -o cues.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "audio",
        metavar="AUDIO",
        help="recording to tag: wav, flac, ogg/opus, mp3, m4a/aac, or a video with sound",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="CUES.json",
        help="also write the labelled cue tracks as JSON (the input of `spa2v plan`)",
    )
    add_loading_arguments(parser)
    add_direction_arguments(parser)
    parser.add_argument(
        "--top-k",
        type=number(int, 1, 10),
        default=3,
        metavar="N",
        help="labels per source, 1-10 (default: 3); each names a different noun",
    )
    parser.add_argument(
        "--max-sources",
        type=int,
        choices=(1, 2, 3),
        default=3,
        metavar="N",
        help="find at most N simultaneous sources, 1-3 (default: 3); 1 tags the whole "
        "recording as one source",
    )
    parser.add_argument(
        "--tagger",
        default="yamnet",
        help="tagger backend (default: yamnet, the only embedded one)",
    )


def run(args: argparse.Namespace) -> int:
    """Load, hear, tag and print one table row per source; returns the exit code."""
    from spa2v.hearing.extract import hear
    from spa2v.hearing.tagging.base import get_tagger
    from spa2v.hearing.tagging.tag import tag_cues

    json_path = None if args.output is None else Path(args.output)
    if json_path is not None and json_path.suffix.lower() != ".json":
        raise OutputError(f"-o {json_path}: use a file name ending in .json")
    tagger = get_tagger(args.tagger)  # fail on a bad backend before the slow part
    signal = load_from_args(args)
    cues = hear(signal, max_sources=args.max_sources, **direction_kwargs(args))
    if cues.sources:
        cues = tag_cues(signal, cues, tagger=tagger, top_k=args.top_k)

    out = Console(highlight=False, soft_wrap=True)
    if not getattr(args, "quiet", False):
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        for warning in cues.warnings:
            err.print(f"[yellow]warning:[/] {escape(warning)}")
        out.print(source_table(cues, f"{signal.source} ({cues.layout}, {tagger.name})"))
    if json_path is not None:
        cues.save(json_path)  # atomic
        out.print(f"wrote {escape(str(json_path))}")
    return 0


def source_table(cues: Cues, title: str) -> Table:
    """A rich table: source, time span, azimuth, top labels with scores, nouns."""
    from spa2v.hearing.separation import median_azimuth_deg
    from spa2v.hearing.summary import source_number

    table = Table(title=escape(title), title_justify="left")
    for column in ("source", "span (s)", "azimuth", "labels (score)", "noun", "family"):
        table.add_column(column)
    if not cues.sources:
        table.add_row("-", "-", "-", "no sources found (silent or too quiet)", "-", "-")
    for track in cues.sources:
        start_s, end_s = track.span_s
        azimuth = f"{median_azimuth_deg(track):+.0f} deg" if track.azimuth_deg.size else "-"
        labels = "\n".join(f"{escape(lab.audio_label)} ({lab.score:.2f})" for lab in track.labels)
        nouns = "\n".join(escape(lab.noun) for lab in track.labels)
        families = "\n".join(escape(lab.family) for lab in track.labels)
        table.add_row(
            str(source_number(track.source_id)),
            f"{start_s:.2f}-{end_s:.2f}",
            azimuth,
            labels,
            nouns,
            families,
        )
    return table
