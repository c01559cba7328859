"""The tagger interface: any backend that scores sound classes over time.

Callers (``tag_cues``, the CLI, the UI) only use :class:`Tagger` and :func:`get_tagger`,
so another backend (e.g. CLAP with local weights) is added by writing one class and one
entry in :data:`BACKENDS`, without touching them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Protocol, runtime_checkable

import numpy as np

from spa2v.errors import BackendUnavailableError


@dataclass
class TagFrames:
    """Class scores over time from one tagger run.

    Attributes
    ----------
    times_s : np.ndarray
        ``(T,)`` centre time of each analysis window, seconds from the audio start.
    scores : np.ndarray
        ``(T, K)`` float32 scores in [0, 1] (independent per class, not a softmax).
    class_names : list[str]
        The ``K`` class names (AudioSet display names for YAMNet).
    window_s : float
        Length of each analysis window in seconds.
    """

    times_s: np.ndarray
    scores: np.ndarray
    class_names: list[str]
    window_s: float


@runtime_checkable
class Tagger(Protocol):
    """A sound-event tagger."""

    name: str
    class_names: list[str]

    def frame_scores(self, audio: np.ndarray, sr: int) -> TagFrames:
        """Score every class over time for mono ``(n,)`` or ``(C, n)`` audio at ``sr`` Hz."""
        ...


#: Backend name -> "module:Class" (imported lazily so unused backends cost nothing).
BACKENDS: dict[str, str] = {
    "yamnet": "spa2v.hearing.tagging.yamnet:YamnetTagger",
}


def get_tagger(name: str = "yamnet") -> Tagger:
    """The tagger backend ``name``, loaded once per process.

    Raises
    ------
    BackendUnavailableError
        If ``name`` is not a known backend or its model cannot be loaded.
    """
    if name not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        raise BackendUnavailableError(f"unknown tagger {name!r}; choose one of: {known}")
    return _load(name)


@cache
def _load(name: str) -> Tagger:
    module_name, class_name = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)()
