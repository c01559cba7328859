"""Errors a user can act on.

Every problem caused by the user's input (a bad file, an invalid layout, a missing
model) raises a subclass of :class:`Spa2vError`. The CLI prints its message on one
line and exits non-zero without a traceback; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations


class Spa2vError(Exception):
    """Base class for errors caused by input or environment, not by a bug.

    The message must say what is wrong and, where possible, what to do next.
    """

    exit_code: int = 2


class AudioInputError(Spa2vError):
    """The audio file cannot be read or used (empty, corrupt, unsupported...)."""


class VideoInputError(Spa2vError):
    """The video file cannot be read or used (empty, corrupt, no picture...)."""


class LayoutError(Spa2vError):
    """A Video Scene Layout is invalid (names the field and the reason)."""


class BackendUnavailableError(Spa2vError):
    """An optional backend (LLM planner, diffusion generator) cannot run here."""

    exit_code = 3


class OutputError(Spa2vError):
    """An output path cannot be written."""


class ManifestError(Spa2vError):
    """An annotation manifest (``spa2v-realset/1``) is invalid or names a missing file."""
