"""The in-memory audio signal that flows through the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

#: How the channels of a recording relate to directions (``docs/design.md``). ``spaced``
#: is a spaced microphone pair (phone/camera, ~8-30 cm), ``panned`` is amplitude-panned
#: (mixed) stereo, ``binaural`` a dummy-head recording, ``foa`` first-order ambisonics
#: in AmbiX order (W, Y, Z, X; SN3D). ``stereo`` is two channels whose kind is not decided yet:
#: hearing decides it from the signal (:mod:`spa2v.hearing.stereo_kind`).
ChannelLayout = Literal["mono", "stereo", "spaced", "panned", "binaural", "foa"]
STEREO_LAYOUTS: tuple[ChannelLayout, ...] = ("spaced", "panned", "binaural")


@dataclass
class Signal:
    """Audio samples with their rate and channel layout.

    Attributes
    ----------
    samples : np.ndarray
        float32 array of shape ``(n_channels, n_samples)``, nominally in [-1, 1].
        Channel 0 is LEFT for stereo layouts; AmbiX order for ``foa``.
    sr : int
        Sample rate in Hz.
    layout : ChannelLayout
        What the channels mean: given by the user, or ``stereo`` for two channels whose
        kind hearing detects.
    source : str
        Where the samples came from (a path, or a description for simulated audio).
    warnings : list[str]
        Problems found while loading that did not stop it (clipping, NaN repaired...).
    """

    samples: np.ndarray
    sr: int
    layout: ChannelLayout
    source: str = "<memory>"
    warnings: list[str] = field(default_factory=list)

    @property
    def n_channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / float(self.sr)

    def mono(self) -> np.ndarray:
        """A mono downmix (the W channel for FOA), shape ``(n_samples,)``."""
        if self.layout == "foa":
            return self.samples[0]
        return self.samples.mean(axis=0)
