"""Hearing with labels: cue tracks of every source, then what each one is.

The one home of "hear, then tag, keeping the loader's warnings" that
:func:`spa2v.api.hear_signal` (with progress reports) and the video evaluation use.
"""

from __future__ import annotations

from collections.abc import Callable

from spa2v.errors import BackendUnavailableError
from spa2v.hearing.cues import Cues
from spa2v.hearing.extract import hear
from spa2v.io.signal import Signal


def hear_labelled(
    signal: Signal,
    hop_s: float = 0.025,
    max_sources: int = 3,
    tags: bool = True,
    on_stage: Callable[[str], None] | None = None,
    *,
    mic_spacing_m: float | None = None,
    yaw_deg: float = 0.0,
) -> Cues:
    """Cue tracks for ``signal``, labelled unless ``tags`` is False
    (``mic_spacing_m`` and ``yaw_deg`` go to :func:`spa2v.hearing.extract.hear`).

    The loader's warnings are carried into ``cues.warnings``; a tagger that cannot run
    here only costs the labels (a warning, not an error). ``on_stage("hear")`` and
    ``on_stage("tag")`` are called as each stage starts.
    """
    if on_stage is not None:
        on_stage("hear")
    cues = hear(
        signal, hop_s=hop_s, max_sources=max_sources, mic_spacing_m=mic_spacing_m, yaw_deg=yaw_deg
    )
    if tags and cues.sources:
        from spa2v.hearing.tagging.tag import tag_cues

        if on_stage is not None:
            on_stage("tag")
        try:
            cues = tag_cues(signal, cues)
        except BackendUnavailableError as exc:  # labels are a bonus, not a must
            cues.warnings.append(f"sources left unlabelled: {exc}")
    cues.warnings[:0] = [w for w in signal.warnings if w not in cues.warnings]
    return cues
