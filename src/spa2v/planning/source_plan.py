"""One planned source: what the physics planner decided and the cue figures behind it,
which the captions and the reasoning text then put into words."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spa2v.hearing.cues import CueTrack
from spa2v.planning.priors import ClassPrior


@dataclass
class SourcePlan:
    """The planned trajectory of one source, sampled at the keyframe times."""

    object_id: int
    track: CueTrack
    prior: ClassPrior
    audio_label: str
    present: np.ndarray  # bool per keyframe
    azimuth_deg: np.ndarray  # smoothed, per keyframe
    distance_m: np.ndarray  # horizontal distance, per keyframe
    boxes: list[tuple[float, float, float, float] | None]
    motion: str
    facts: dict[str, float]  # the cue figures quoted in the reasoning
    label_choice: str = ""  # why this label (quoted in the reasoning)
