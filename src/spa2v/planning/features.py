"""The feature vector of a recording's cues, by which the example bank finds the
recordings most like it (where and how its loudest source moves, and what it is).

Features are standardized over the bank before distances are taken
(:meth:`spa2v.planning.bank.ExampleBank.distances`), so their raw scales only need to be
of the same order; :data:`FEATURE_WEIGHTS` says how much each one counts.
"""

from __future__ import annotations

import numpy as np

from spa2v.hearing.cues import Cues, CueTrack
from spa2v.planning.physics import (
    AZIMUTH_SIGMA_S,
    LOUDNESS_SIGMA_S,
    smooth_azimuth,
    smooth_track,
)

FEATURE_VERSION = 1
#: Coarse class groups for the label one-hot (the tagger's families, grouped).
FAMILY_GROUPS: dict[str, tuple[str, ...]] = {
    "vehicle": ("vehicle", "train", "boat"),
    "aircraft": ("aircraft",),
    "instrument": ("instrument", "bell"),
    "person": ("person",),
    "animal": (
        "dog",
        "cat",
        "big cat",
        "horse",
        "cattle",
        "pig",
        "goat",
        "sheep",
        "poultry",
        "bird",
        "insect",
        "frog",
        "rodent",
        "snake",
        "whale",
        "animal",
    ),
}
FEATURE_NAMES: tuple[str, ...] = (
    "az_start",  # azimuth at the start of the sounding span / 90 deg
    "az_mid",
    "az_end",
    "az_slope",  # linear trend of azimuth over the span / 90 deg
    "level_slope",  # linear trend of loudness over the span / 10 dB
    "level_curvature",  # quadratic term (negative for a pass-by peak) / 10 dB
    "level_range",  # 5-95 % loudness range / 10 dB
    "pitch_change",  # f_end / f_start - 1, x 10
    "n_sources",
    *(f"family_{g}" for g in (*FAMILY_GROUPS, "other")),
)
#: Weight of each feature's squared z-score in the distance. The label family weighs
#: less than where and how a source moves (the paper retrieves by spatial cues; labels
#: are also the least reliable cue): a family mismatch counts half as much as one
#: spatial feature, instead of twice (two one-hot entries differ).
FEATURE_WEIGHTS = np.array([0.25 if name.startswith("family_") else 1.0 for name in FEATURE_NAMES])


def family_group(family: str) -> str:
    """The coarse group of a tagger family ('vehicle', 'animal', ..., or 'other')."""
    for group, members in FAMILY_GROUPS.items():
        if family in members:
            return group
    return "other"


def _main_source(cues: Cues) -> CueTrack | None:
    audible = [s for s in cues.sources if np.any(s.active)]
    if not audible:
        return None
    return max(audible, key=lambda s: float(np.median(s.loudness_db[s.active])))


def cue_features(cues: Cues) -> np.ndarray:
    """Feature vector of a recording (its loudest source), named by :data:`FEATURE_NAMES`.

    Azimuths are taken from the smoothed track (same smoothing as the physics planner),
    trends from least-squares fits over the source's sounding span mapped to [0, 1].

    >>> cue_features(cues).shape  # doctest: +SKIP
    (15,)
    """
    out = np.zeros(len(FEATURE_NAMES))
    track = _main_source(cues)
    n_audible = sum(1 for s in cues.sources if np.any(s.active))
    out[FEATURE_NAMES.index("n_sources")] = n_audible
    if track is None:
        out[FEATURE_NAMES.index("family_other")] = 1.0
        return out
    t = np.asarray(track.times_s, dtype=float)
    active = np.asarray(track.active, dtype=bool)
    weight = active * np.clip(np.nan_to_num(track.azimuth_confidence), 0.0, 1.0)
    if not np.any(weight > 0):
        weight = active.astype(float)
    az = smooth_azimuth(t, track.azimuth_deg, weight, AZIMUTH_SIGMA_S)[active]
    level = smooth_track(t, track.loudness_db, active, LOUDNESS_SIGMA_S)[active]
    ta = t[active]
    span = max(float(ta[-1] - ta[0]), 1e-6)
    u = (ta - ta[0]) / span - 0.5  # centred span time in [-0.5, 0.5]
    n = len(az)
    edge = max(1, n // 10)
    out[0] = np.median(az[:edge]) / 90.0
    out[1] = np.median(az[max(0, n // 2 - edge) : n // 2 + edge]) / 90.0
    out[2] = np.median(az[-edge:]) / 90.0
    if n >= 3:
        out[3] = np.polyfit(u, az, 1)[0] / 90.0
        curv, slope, _ = np.polyfit(u, level, 2)
        out[4], out[5] = slope / 10.0, curv / 10.0
    out[6] = (np.percentile(level, 95) - np.percentile(level, 5)) / 10.0
    pitch_change = track.pitch_change_ratio
    if pitch_change is not None and np.isfinite(pitch_change):
        out[7] = 10.0 * pitch_change
    family = track.top_label.family if track.top_label else "unknown"
    out[FEATURE_NAMES.index(f"family_{family_group(family)}")] = 1.0
    return out
