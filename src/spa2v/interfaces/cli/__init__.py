"""The ``spa2v`` command: one module per sub-command, registered in ``COMMANDS``.

Each sub-command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. User errors (:class:`~spa2v.errors.Spa2vError`) become a one-line
message on stderr and a non-zero exit code; bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from spa2v import __version__
from spa2v.errors import BackendUnavailableError, Spa2vError

#: Sub-command modules, in the order ``--help`` lists them (pipeline order).
COMMANDS = (
    "cues",
    "tag",
    "plan",
    "render",
    "run",
    "batch",
    "eval",
    "demo",
    "bank",
    "bench",
    "ui",
)

#: Exit codes (also in ``--help`` and the README). 2 and 3 come from the error classes.
EXIT_OK = 0
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT)
EXIT_TERMINATED = 143  # SIGTERM
_OK, _BAD, _MISSING = EXIT_OK, Spa2vError.exit_code, BackendUnavailableError.exit_code
EXIT_CODES_HELP = f"""\
exit codes:
  {_OK}      success
  {_BAD}      bad input or usage: the one-line message names the file or option
  {_MISSING}      an optional part cannot run here (extra not installed, no CUDA GPU,
         LLM server unreachable or answering with an HTTP error)
  {EXIT_INTERRUPTED}    interrupted (Ctrl-C); no output is left
  {EXIT_TERMINATED}    terminated (SIGTERM); no output is left
  other  a bug in spa2v (it prints a traceback): please report it
"""

EPILOG = """\
examples:
  spa2v demo                               # run the bundled examples end to end
  spa2v run street.wav -o street.mp4       # hear -> plan -> render in one go
  spa2v cues street.wav -o cues.json --plot cues.png
  spa2v plan street.wav -o layout.json --planner physics --keyframe-fps 8
  spa2v render layout.json --audio street.wav -o street.mp4
  spa2v eval street.mp4 --layout street.layout.json   # judge a video (spa2v[eval])
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spa2v",
        description=(
            "Turn an audio recording into a video whose content and spatial "
            "composition match what is heard."
        ),
        epilog=EPILOG + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"spa2v {__version__}")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only errors and the final paths"
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also show spa2v's debug messages and the libraries' own warnings, log records "
        "and progress bars (hidden by default), e.g. spa2v --verbose run a.wav -o a.mp4",
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
    one_blas_thread()
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_output(verbose=args.verbose, quiet=args.quiet)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args._run(args) or 0)
    except Spa2vError as exc:
        print(f"spa2v {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("spa2v: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        print("spa2v: interrupted (terminated)", file=sys.stderr)
        return EXIT_TERMINATED
    finally:
        signal.signal(signal.SIGTERM, previous)


def one_blas_thread() -> None:
    """numpy's BLAS (and OpenMP, MKL) with one thread, unless the user sized them.

    spa2v's matrices are small (a clip's frames by a few hundred directions or bins): on
    a 2-core machine a second OpenBLAS thread gained no wall time on 10 s or 60 s clips
    and spin-waited for 0.3-0.5 CPU-seconds, a third of a cold ``spa2v plan``. Must run
    before numpy is imported (it reads them once); the batch's local workers inherit it.
    """
    from spa2v.batch.engine import THREAD_VARIABLES

    if "numpy" not in sys.modules:
        for name in THREAD_VARIABLES:
            os.environ.setdefault(name, "1")


#: Environment variables that quiet the libraries the diffusion generator loads (their
#: own loggers, warnings and download progress bars), unless ``--verbose``; set only
#: where the user has not set them.
_QUIET_LIBRARIES = {
    "TRANSFORMERS_VERBOSITY": "error",
    "DIFFUSERS_VERBOSITY": "error",
    "HF_HUB_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


def configure_output(verbose: bool = False, quiet: bool = False) -> None:
    """What reaches the user's terminal: spa2v's own messages as ``warning: ...`` lines;
    other libraries' warnings and log records only with ``verbose``."""
    own = logging.getLogger("spa2v")
    handler = _StderrHandler()
    handler.setFormatter(_LowerLevelFormatter("%(levelname)s: %(message)s"))
    own.handlers = [handler]
    own.propagate = False
    own.setLevel(logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING)
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(levelname)s: %(message)s")
        warnings.simplefilter("default")
        return
    for name, value in _QUIET_LIBRARIES.items():
        os.environ.setdefault(name, value)
    logging.getLogger().setLevel(logging.ERROR)  # third-party records below ERROR: dropped
    logging.getLogger().addHandler(logging.NullHandler())  # and no "last resort" printing
    warnings.simplefilter("ignore")


class _StderrHandler(logging.StreamHandler):
    """A handler that writes to whatever ``sys.stderr`` is when a record comes."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


class _LowerLevelFormatter(logging.Formatter):
    """``warning: message`` rather than Python's ``WARNING:logger.name:message``."""

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord({**record.__dict__, "levelname": record.levelname.lower()})
        return super().format(record)


class _Terminated(BaseException):
    """SIGTERM as an exception, so that every ``finally`` (temporary files) runs."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


if __name__ == "__main__":
    raise SystemExit(main())
