"""``spa2v batch``: ``spa2v run`` over many recordings, on this machine or a Ray cluster,
with a results table, resumable."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from typing import Any

from rich.console import Console
from rich.markup import escape

from spa2v.interfaces.cli._common import number
from spa2v.interfaces.cli.run import add_pipeline_arguments, run_options_from_args

NAME = "batch"
HELP = "run the whole pipeline over many recordings (local processes or a Ray cluster)"
DESCRIPTION = """\
Do what `spa2v run` does for every recording in INPUTS, with the same options, and
write each clip's files (video, cues, layout, plot, storyboard) into OUT/<clip-id>/,
then one results table for the whole batch: OUT/results.csv and OUT/results.parquet,
a row per input (status, one-line error, duration, labels, motion, stereo kind, seconds
per stage, output paths). The clip id is the file name plus a short hash of its path
(or a manifest's `id` column).

INPUTS are audio/video files, folders (searched recursively), globs (quote them), or
manifests: a .csv with a header or a .jsonl, one recording per row, an `input` column
(relative to the manifest), optionally `id` and per-clip options named like the flags
below without dashes (layout, max_duration_s, hop_ms, max_sources, no_tags, planner,
keyframe_fps, frames, fps, overlay, subtitles). A file that is missing or cannot be read,
or a manifest row with an unknown option, fails that clip only: its row says why and
the batch goes on.

Models load once per worker, not once per clip. A clip's files appear together when it
is done (written aside, then renamed), so a batch that is killed loses nothing that
finished: run the same command with --resume to do the rest. An output folder that
holds another batch is refused unless --resume.

Exit code: 0 when every clip succeeded; 10 + the number of failed clips otherwise
(11 = one failed, ..., 110 = 100 or more); 2 for a usage error (nothing ran); 130 when
interrupted (Ctrl-C) and 143 when terminated (SIGTERM): the clips that finished are kept
and --resume does the rest."""
EPILOG = """\
examples:
  spa2v batch recordings/ -o out/                     # every recording, all CPUs
  spa2v batch a.wav b.flac 'takes/**/*.wav' -o out/ --workers 4
  spa2v batch clips.csv -o out/                       # a manifest; its rows may set
                                                      # layout, frames, planner...
  spa2v batch clips.jsonl -o out/ --resume            # finish a killed batch
  spa2v batch recordings/ -o out/ --engine ray        # a local Ray instance
  spa2v batch /shared/data/ -o /shared/out/ --engine ray --address 10.0.0.5:6379
  spa2v batch /shared/data/ -o /shared/out/ --engine ray --address auto \\
      --generator diffusion --gpu-actors 4 --gpus-per-actor 1
  spa2v batch recordings/ -o out/ --layout binaural --max-duration-s 60 --hop-ms 20 \\
      --max-sources 2 --no-tags --frames 16 --size 1024x640 --fps 30 --overlay --subtitles
  spa2v batch recordings/ -o out/ --planner llm --llm-model qwen2.5 \\
      --llm-base-url http://127.0.0.1:8000/v1 --keyframe-fps 4
  the hearing, planning, llm and video options are those of `spa2v run` (more
  examples in `spa2v run --help`); the diffusion options are in `spa2v render --help`.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUTS",
        help="recordings, folders, globs, or a .csv/.jsonl manifest",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT_DIR",
        help="folder for the clips' files and the results table (created; must be "
        "empty or, with --resume, hold this batch)",
    )
    batch = parser.add_argument_group("batch")
    add_engine_arguments(batch, default_workers="every CPU of this machine")
    batch.add_argument(
        "--resume",
        action="store_true",
        help="continue the batch in OUT_DIR: skip the clips that finished, redo the rest",
    )
    batch.add_argument(
        "--gpu-actors",
        type=number(int, 1, 1024),
        default=1,
        metavar="N",
        help="ray with --generator diffusion: diffusion actors, each loading the model once "
        "(default: 1; one per GPU to use)",
    )
    batch.add_argument(
        "--gpus-per-actor",
        type=number(float, 0),
        default=1.0,
        metavar="G",
        help="ray with --generator diffusion: GPUs each actor holds (default: 1; 0.5 puts "
        "two actors on a GPU, 0 runs them on CPUs)",
    )
    add_pipeline_arguments(parser)


def add_engine_arguments(
    group: argparse.ArgumentParser | argparse._ArgumentGroup, default_workers: str
) -> None:
    """``--engine``, ``--workers`` and ``--address`` (batch, bench)."""
    group.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local (default): processes on this machine; ray: a Ray Data pipeline on a "
        "Ray cluster (pip install 'spa2v[ray]'), e.g. --engine ray",
    )
    group.add_argument(
        "--workers",
        type=number(int, 1, 4096),
        default=None,
        metavar="N",
        help="local: worker processes (with 1, spa2v bench runs its clips in this "
        "process); ray without --address: CPUs of the local Ray instance "
        f"(default: {default_workers}; e.g. --workers 4)",
    )
    group.add_argument(
        "--address",
        metavar="HOST:PORT",
        help="ray: an existing cluster, e.g. 10.0.0.5:6379, ray://10.0.0.5:10001 or auto; "
        "a cluster that requires a token gets this machine's (RAY_AUTH_TOKEN, or the "
        "~/.ray/auth_token `ray start` writes) (default: $RAY_ADDRESS if set, else a new "
        "local Ray instance)",
    )


def run(args: argparse.Namespace) -> int:
    from spa2v.batch.runner import run_batch

    quiet = bool(getattr(args, "quiet", False))
    options = run_options_from_args(args, audio_path=None)
    diffusion = options.generator_options.get("diffusion_options")
    if diffusion is not None:  # one bar for the batch, not one per clip from every worker
        options.generator_options["diffusion_options"] = replace(diffusion, show_progress=False)
    console = Console(highlight=False, soft_wrap=True)
    display = _Progress(quiet)
    finished = False
    try:
        summary = run_batch(
            args.inputs,
            args.output,
            options,
            engine=args.engine,
            workers=args.workers,
            address=args.address,
            resume=args.resume,
            gpu_actors=args.gpu_actors,
            gpus_per_actor=args.gpus_per_actor,
            on_start=display.start,
            on_clip=display.clip_done,
        )
        finished = True
    finally:
        display.stop()
        if not finished and display.started:  # Ctrl-C, SIGTERM: the CLI sets the code
            print(
                f"spa2v batch: stopped after {display.done} clips; the finished clips are "
                "kept: run the same command with --resume to do the rest",
                file=sys.stderr,
            )
    print_batch_summary(summary, console, quiet)
    return summary.exit_code


def print_batch_summary(summary: Any, console: Console, quiet: bool = False) -> None:
    """Counts, speed, the failed clips with their errors, and the table's paths."""
    ok = len(summary.rows) - len(summary.failed)
    ran = len(summary.rows) - summary.skipped
    rate = ran / summary.seconds if summary.seconds > 0 else 0.0
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for row in summary.failed[:20]:
        err.print(f"[red]failed[/] {escape(row['input'])}: {escape(row['error'])}")
    if len(summary.failed) > 20:
        err.print(f"... and {len(summary.failed) - 20} more (see the results table)")
    if not quiet:
        skipped = f", {summary.skipped} already done" if summary.skipped else ""
        workers = f"{summary.workers} worker{'s' if summary.workers != 1 else ''}"
        console.print(
            f"{len(summary.rows)} clips: {ok} ok, {len(summary.failed)} failed{skipped}; "
            f"{ran} run in {summary.seconds:.1f} s ({rate:.2f} clips/s, {summary.engine} "
            f"engine, {workers})"
        )
    for path in summary.tables.values():
        console.print(escape(str(path)))


class _Progress:
    """A rich bar: clips done / to do, failed so far, clips per second, ETA."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.started = False
        self.done = 0
        self.failed = 0
        self._progress: Any = None
        self._task: Any = None
        self._start = time.perf_counter()

    def start(self, total: int, skipped: int) -> None:
        self.started = True
        self._start = time.perf_counter()
        if self.quiet or total == 0:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("clips"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TextColumn("{task.fields[rate]} clips/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._progress.start()
        if skipped:
            self._progress.console.print(f"{skipped} clips already done (--resume): skipped")
        self._task = self._progress.add_task("clips", total=total, failed=0, rate="-")

    def clip_done(self, row: dict[str, Any], done: int, total: int) -> None:
        self.done = done
        self.failed += row["status"] != "ok"
        if self._progress is None:
            return
        elapsed = time.perf_counter() - self._start
        rate = f"{done / elapsed:.2f}" if elapsed > 0 else "-"
        self._progress.update(self._task, completed=done, failed=self.failed, rate=rate)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
