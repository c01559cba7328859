"""The ``spa2v`` command: one module per sub-command, registered in ``COMMANDS``.

Each sub-command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. User errors (:class:`~spa2v.errors.Spa2vError`) become a one-line
message on stderr and a non-zero exit code; bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings
from collections.abc import Sequence

from spa2v import __version__
from spa2v.errors import Spa2vError

#: Sub-command modules, in the order ``--help`` lists them (pipeline order).
COMMANDS = (
    "cues",
    "tag",
    "plan",
    "render",
    "run",
    "batch",
    "demo",
    "bank",
    "bench",
    "ui",
)

EPILOG = """\
examples:
  spa2v demo                               # run the bundled examples end to end
  spa2v run street.wav -o street.mp4       # hear -> plan -> render in one go
  spa2v cues street.wav -o cues.json --plot cues.png
  spa2v plan street.wav -o layout.json --planner physics --fps 8
  spa2v render layout.json --audio street.wav -o street.mp4
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spa2v",
        description=(
            "Turn an audio recording into a video whose content and spatial "
            "composition match what is heard."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"spa2v {__version__}")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only errors and the final paths"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"spa2v.interfaces.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"spa2v.interfaces.cli.{name}":
                continue  # sub-command not built yet
            raise
        command = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            epilog=getattr(module, "EPILOG", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR if args.quiet else logging.WARNING)
    warnings.simplefilter("default")
    try:
        return int(args._run(args) or 0)
    except Spa2vError as exc:
        print(f"spa2v {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("spa2v: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
