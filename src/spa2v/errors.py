"""Errors a user can act on.

Every problem caused by the user's input (a bad file, an invalid layout, a missing
model) raises a subclass of :class:`Spa2vError`. The CLI prints its message on one
line and exits non-zero without a traceback; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

#: Longest value an error message quotes whole (see :func:`shorten`).
QUOTE_LIMIT = 120


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


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text``, or for a longer one its start and end around the number of characters
    left out: an error message names a bad value without printing all of it (a
    manifest cell or a corrupt file's field may hold hundreds of thousands).

    >>> shorten("short")
    'short'
    >>> shorten("x" * 1000, limit=30)
    'xxxxxxxxxxxxx...(974 characters)...xxxxxxxxxxxxx'
    """
    if len(text) <= limit:
        return text
    half = (limit - 4) // 2
    return f"{text[:half]}...({len(text) - 2 * half:,} characters)...{text[-half:]}"
