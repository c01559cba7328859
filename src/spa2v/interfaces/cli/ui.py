"""``spa2v ui``: the web app."""

from __future__ import annotations

import argparse

from spa2v.errors import BackendUnavailableError

NAME = "ui"
HELP = "start the web app (upload, inspect, edit the layout, render)"
DESCRIPTION = """\
Start a Gradio web app serving the whole pipeline: upload an audio or video file (or
pick a bundled example), see the cue plot and the labels, see and edit the layout's
keyframes, choose planner and generator, render and play the video, and download the
layout JSON, the cues JSON and the MP4. Needs the `ui` extra: pip install 'spa2v[ui]'."""
EPILOG = """\
examples:
  spa2v ui                                  # http://127.0.0.1:7860
  spa2v ui --host 0.0.0.0 --port 8080 --max-upload-mb 20 --max-duration-s 60
  spa2v ui --keep-files-s 600               # each request's files are removed after 10 min
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument(
        "--max-upload-mb",
        type=float,
        default=50.0,
        help="largest upload accepted, in MB (default: 50)",
    )
    parser.add_argument(
        "--keep-files-s",
        type=float,
        default=3600.0,
        help="remove each request's files this many seconds after its last use "
        "(default: 3600), e.g. --keep-files-s 600",
    )
    parser.add_argument(
        "--max-duration-s",
        type=float,
        default=120.0,
        help="longest recording accepted, in seconds (default: 120)",
    )


def run(args: argparse.Namespace) -> int:
    try:  # gradio itself, not only the app module (which imports gradio lazily)
        import gradio  # noqa: F401

        from spa2v.interfaces.ui.app import launch
    except ImportError as exc:  # gradio missing
        raise BackendUnavailableError(
            f"the web app needs the ui extra ({exc.name} is missing): pip install 'spa2v[ui]'"
        ) from None
    from spa2v.interfaces.ui.session import Limits

    limits = Limits(args.max_upload_mb, args.max_duration_s, args.keep_files_s)
    launch(args.host, args.port, limits, block=True)
    return 0
