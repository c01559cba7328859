"""Spatial audio-visual agreement: is each sound seen where it is heard?

The direction of each source over time comes from spa2v's own hearing of the video's
sound track (:func:`spa2v.api.hear_signal`); the position of each object over time from
its seen track (box centre, turned into an azimuth by the camera model,
:func:`spa2v.camera.x_to_azimuth`). Each heard source is paired with one seen track:
a track of the class its label names if there is one, else any track; among those, the
pairing with the smallest sum over their shared times of ``min(|heard - seen|, |heard +
seen|) - 2 * tolerance`` (long tracks that follow the sound win over fragments), a cost
that is the same for a picture and its mirror image, so the pairing never decides the
verdict.

At each evaluation time where a paired source is sounding with a direction
(:func:`~spa2v.hearing.cues.heard_direction`) and its track is seen, the heard
azimuth (limited to the camera's field of view) agrees when ``|heard - seen| <=
tolerance``; the ``score`` is the share of those times that agree. The verdict looks at
the times where both are off-centre (at least :data:`MIN_SIDE_DEG` to a side), the only
ones that tell sides apart:

* ``agrees``: at least :data:`VERDICT_SHARE` of them are on the same side and agree;
* ``mirrored``: at least that share is on opposite sides with ``|heard + seen| <=
  tolerance`` (picture flipped or channels swapped);
* ``unrelated``: neither;
* ``cannot tell``: the sound carries no direction (mono, dual-mono), nothing is heard
  or seen, or too few times are off-centre.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from spa2v.camera import HFOV_DEG, x_to_azimuth
from spa2v.evaluation.tracking import Track
from spa2v.hearing.cues import Cues, CueTrack, heard_direction

#: Heard and seen azimuth agree within this many degrees.
TOLERANCE_DEG = 15.0
#: Share of off-centre times that must agree (or be mirrored) for that verdict.
VERDICT_SHARE = 0.6
#: Heard and seen both at least this far to a side: a time that tells sides apart.
MIN_SIDE_DEG = 5.0
#: Fewer off-centre times than this (and than this share of the paired ones): cannot tell.
MIN_INFORMATIVE = 3
MIN_INFORMATIVE_SHARE = 0.15
VERDICTS = ("agrees", "mirrored", "unrelated", "cannot tell")


@dataclass
class PairSeries:
    """One heard source and its seen track over the evaluation times (plot data)."""

    source_id: int
    heard_noun: str
    track_id: int
    track_class: str
    times_s: np.ndarray
    heard_deg: np.ndarray  # NaN where not sounding
    seen_deg: np.ndarray  # NaN where not seen

    def to_dict(self) -> dict[str, object]:
        def listed(values: np.ndarray) -> list[float | None]:
            return [None if np.isnan(v) else round(float(v), 2) for v in values]

        return {
            "source_id": self.source_id,
            "heard_noun": self.heard_noun,
            "track_id": self.track_id,
            "track_class": self.track_class,
            "times_s": [round(float(t), 3) for t in self.times_s],
            "heard_deg": listed(self.heard_deg),
            "seen_deg": listed(self.seen_deg),
        }


@dataclass
class SpatialAgreement:
    """The verdict, the scores behind it and the series to plot."""

    verdict: str
    reason: str
    score: float | None = None  # share of paired times that agree
    mirrored_score: float | None = None  # share of paired times that are mirrored
    n_paired: int = 0
    n_informative: int = 0
    tolerance_deg: float = TOLERANCE_DEG
    pairs: list[PairSeries] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "score": self.score,
            "mirrored_score": self.mirrored_score,
            "n_paired": self.n_paired,
            "n_informative": self.n_informative,
            "tolerance_deg": self.tolerance_deg,
            "pairs": [p.to_dict() for p in self.pairs],
        }


def cannot_tell(reason: str) -> SpatialAgreement:
    return SpatialAgreement(verdict="cannot tell", reason=reason)


def heard_series(track: CueTrack, times_s: np.ndarray, layout: str) -> np.ndarray:
    """The source's azimuth at ``times_s`` (nearest cue frame), NaN where it is not
    sounding with a direction, limited to the camera's field of view."""
    if len(track.times_s) == 0:
        return np.full(len(times_s), np.nan)
    idx = np.clip(np.searchsorted(track.times_s, times_s), 0, len(track.times_s) - 1)
    prev = np.clip(idx - 1, 0, len(track.times_s) - 1)
    nearer = np.abs(track.times_s[prev] - times_s) < np.abs(track.times_s[idx] - times_s)
    idx = np.where(nearer, prev, idx)
    ok = heard_direction(track, layout)[idx]
    half = HFOV_DEG / 2.0
    azimuth = np.clip(track.azimuth_deg[idx], -half, half)
    return np.where(ok, azimuth, np.nan)


def seen_series(track: Track) -> np.ndarray:
    """The track's azimuth per time by the camera model (NaN where unseen)."""
    return np.asarray(x_to_azimuth(track.centre_x), dtype=float)


def measure_agreement(
    cues: Cues,
    tracks: Sequence[Track],
    times_s: np.ndarray,
    class_of: dict[str, tuple[str, ...]],
    tolerance_deg: float = TOLERANCE_DEG,
) -> SpatialAgreement:
    """Spatial agreement of heard sources and seen tracks.

    Parameters
    ----------
    cues : Cues
        The hearing of the video's sound track.
    tracks : sequence of Track
        Seen tracks on the evaluation grid ``times_s``.
    times_s : np.ndarray
        Evaluation times in seconds.
    class_of : dict
        Heard noun -> the track classes that may show it (nouns missing: any track).
    """
    if cues.layout == "mono":
        return cannot_tell("the sound is mono: it carries no direction")
    heard = [(s, heard_series(s, times_s, cues.layout)) for s in cues.sources]
    heard = [(s, h) for s, h in heard if np.isfinite(h).any()]
    if not heard:
        return cannot_tell("no source is heard with a direction")
    if not tracks:
        return cannot_tell("no object is seen")
    seen = [seen_series(t) for t in tracks]
    cost = np.full((len(heard), len(tracks)), np.inf)
    for i, (source, h) in enumerate(heard):
        noun = source.top_label.noun if source.top_label else ""
        wanted = class_of.get(noun, ())
        same_class = [j for j, t in enumerate(tracks) if t.class_name in wanted]
        for j in same_class or range(len(tracks)):
            both = np.isfinite(h) & np.isfinite(seen[j])
            if both.any():
                gap = np.minimum(np.abs(h[both] - seen[j][both]), np.abs(h[both] + seen[j][both]))
                # Each shared time within twice the tolerance lowers the cost: a long
                # track that follows the sound beats a fragment that touches it once.
                cost[i, j] = float(np.sum(gap - 2.0 * tolerance_deg))
    finite = np.isfinite(cost)
    if not finite.any():
        return cannot_tell("no heard source sounds while an object is seen")
    rows, cols = linear_sum_assignment(np.where(finite, cost, 1e9))
    pairs: list[PairSeries] = []
    agree_all: list[np.ndarray] = []
    mirror_all: list[np.ndarray] = []
    sided_all: list[np.ndarray] = []
    same_all: list[np.ndarray] = []
    for r, c in zip(rows, cols, strict=True):
        if not finite[r, c]:
            continue
        source, h = heard[r]
        s = seen[c]
        pairs.append(
            PairSeries(
                source_id=source.source_id,
                heard_noun=source.top_label.noun if source.top_label else "unknown",
                track_id=tracks[c].track_id,
                track_class=tracks[c].class_name,
                times_s=np.asarray(times_s, dtype=float),
                heard_deg=h,
                seen_deg=s,
            )
        )
        both = np.isfinite(h) & np.isfinite(s)
        agree_all.append(np.abs(h[both] - s[both]) <= tolerance_deg)
        mirror_all.append(np.abs(h[both] + s[both]) <= tolerance_deg)
        sided_all.append(np.minimum(np.abs(h[both]), np.abs(s[both])) >= MIN_SIDE_DEG)
        same_all.append(np.sign(h[both]) == np.sign(s[both]))
    agree = np.concatenate(agree_all)
    mirror = np.concatenate(mirror_all)
    informative = np.concatenate(sided_all)
    same_side = np.concatenate(same_all)
    n_paired, n_info = int(agree.size), int(informative.sum())
    result = SpatialAgreement(
        verdict="cannot tell",
        reason="",
        score=float(agree.mean()),
        mirrored_score=float(mirror.mean()),
        n_paired=n_paired,
        n_informative=n_info,
        tolerance_deg=tolerance_deg,
        pairs=pairs,
    )
    if n_info < max(MIN_INFORMATIVE, MIN_INFORMATIVE_SHARE * n_paired):
        result.reason = (
            f"only {n_info} of {n_paired} paired times are off-centre: sides cannot be told"
        )
        return result
    agree_share = float((agree & same_side)[informative].mean())
    mirror_share = float((mirror & ~same_side)[informative].mean())
    if agree_share >= VERDICT_SHARE:
        result.verdict = "agrees"
    elif mirror_share >= VERDICT_SHARE:
        result.verdict = "mirrored"
    else:
        result.verdict = "unrelated"
    result.reason = (
        f"{agree_share:.0%} of {n_info} off-centre times agree, {mirror_share:.0%} are mirrored"
    )
    return result
