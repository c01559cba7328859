"""``spa2v bank``: build, extend and inspect the LLM planner's example bank."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from spa2v.errors import Spa2vError
from spa2v.interfaces.cli._common import number
from spa2v.io.atomic import check_output_path

NAME = "bank"
HELP = "build or extend the example bank the llm planner retrieves its 3 examples from"
DESCRIPTION = """\
The llm planner shows the model the 3 recordings most like the one it plans, with the
layouts made for them (kNN on a cue feature vector: azimuth start/middle/end and trend,
loudness trend and curvature, pitch change, number of sources, class family). A bank is
a JSON-lines file of (features, cue summary, layout) records.

  build   simulate N clips (static instruments, vehicles passing, approaching,
          receding; binaural, spaced, FOA, panned), hear and tag them, and store each
          with its ground-truth layout
  add     hear a recording of yours and store it with a layout you made for it
  list    print the records of a bank"""
EPILOG = """\
examples:
  spa2v bank build --out my_bank.jsonl --n 60
  spa2v bank add street.wav street_layout.json --bank my_bank.jsonl
  spa2v bank list --bank my_bank.jsonl
  spa2v plan street.wav -o layout.json --planner llm --bank my_bank.jsonl ...
"""


def _default_bank_path() -> Path:
    from importlib import resources

    from spa2v.planning.bank import DEFAULT_BANK

    return Path(str(resources.files("spa2v").joinpath("data", "bank", DEFAULT_BANK)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bank_command", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="make a bank from simulated clips")
    build.add_argument(
        "--out",
        metavar="BANK.jsonl",
        help="where to write it (default: the bank shipped inside the package)",
    )
    build.add_argument(
        "--n",
        type=number(int, 1, 10_000),
        default=40,
        metavar="N",
        help="number of clips (default: 40)",
    )
    build.add_argument(
        "--seed", type=int, default=2024, help="random seed of the clips (default: 2024)"
    )
    add = sub.add_parser("add", help="add a recording of yours with its layout")
    add.add_argument("audio", metavar="AUDIO", help="the recording")
    add.add_argument("layout_json", metavar="LAYOUT.json", help="a VSL made for it")
    add.add_argument("--bank", required=True, metavar="BANK.jsonl", help="bank to extend")
    add.add_argument("--id", metavar="ID", help="record id (default: the audio file name)")
    add.add_argument(
        "--layout",
        choices=("auto", "mono", "spaced", "panned", "binaural", "foa"),
        default="auto",
        help="what the channels are (default: auto)",
    )
    show = sub.add_parser("list", help="print the records of a bank")
    show.add_argument("--bank", metavar="BANK.jsonl", help="default: the bank shipped")


def run(args: argparse.Namespace) -> int:
    out = Console(highlight=False, soft_wrap=True)
    quiet = bool(getattr(args, "quiet", False))
    if args.bank_command == "build":
        return _build(args, out, quiet)
    if args.bank_command == "add":
        return _add(args, out)
    return _list(args, out)


def _build(args: argparse.Namespace, out: Console, quiet: bool) -> int:
    from spa2v.sim.bank import build_bank

    target = Path(args.out) if args.out else _default_bank_path()
    check_output_path(target, {".jsonl"}, "--out")
    bank = build_bank(n=args.n, seed=args.seed, progress=not quiet)
    bank.save(target)
    out.print(f"wrote {len(bank)} examples to {escape(str(target))}")
    return 0


def _add(args: argparse.Namespace, out: Console) -> int:
    from spa2v.interfaces.cli.cues import hear_and_tag
    from spa2v.io.audio import load_audio
    from spa2v.planning.bank import ExampleBank, make_record
    from spa2v.planning.vsl import load_vsl

    target = Path(args.bank)
    check_output_path(target, {".jsonl"}, "--bank")
    bank = ExampleBank.load(target) if target.exists() else ExampleBank(path=target)
    vsl = load_vsl(args.layout_json)  # validate the layout before the slow part
    signal = load_audio(args.audio, layout=None if args.layout == "auto" else args.layout)
    cues = hear_and_tag(signal, hop_s=0.025, max_sources=3)
    if abs(vsl.duration - cues.duration_s) > 0.5:
        raise Spa2vError(
            f"{args.layout_json} lasts {vsl.duration:g} s but {args.audio} lasts "
            f"{cues.duration_s:.2f} s: give the layout made for this recording"
        )
    record_id = args.id or Path(args.audio).stem
    bank.add(make_record(cues, vsl, record_id, origin=f"user: {Path(args.audio).name}"))
    bank.save(target)
    out.print(f"added {escape(record_id)} to {escape(str(target))} ({len(bank)} examples)")
    return 0


def _list(args: argparse.Namespace, out: Console) -> int:
    from spa2v.planning.bank import ExampleBank

    bank = ExampleBank.load(args.bank) if args.bank else ExampleBank.default()
    where = args.bank or "the bank shipped with spa2v"
    out.print(f"{len(bank)} examples in {escape(str(where))}")
    for rec in bank.records:
        out.print(
            f"  {escape(rec.id)}: {escape(rec.vsl.get('caption', ''))} ({escape(rec.origin)})"
        )
    return 0
