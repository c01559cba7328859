"""Which of the tagger's labels to draw: the one the heard cues support best.

The tagger ranks labels by how they sound; where a source is and how it moves says more
(a source heard 39 deg up is not a car; a source crossing the view is not an organ).
Each label's tagger evidence is multiplied by likelihood ratios of the heard cues.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spa2v.hearing.cues import CueTrack, Label
from spa2v.planning.motion import motion_from_tracks
from spa2v.planning.priors import ClassPrior, class_prior

#: Label choice (:func:`choose_label`): the tagger's score times how likely the heard
#: cues are for each class (a likelihood ratio, 1 = the cue says nothing).
#: A source heard at least this high (FOA) is above the horizon: a ground object there
#: would have to be within a few metres, so ground classes get GROUND_ELEVATED_FACTOR.
FLYING_LABEL_MIN_ELEVATION_DEG = 15.0
GROUND_ELEVATED_FACTOR = 0.05
#: A source heard within this of the horizon (FOA): a flying one would be far away for
#: its height (an aircraft 100 m up at 5 deg is 1.1 km off), so flying classes get
#: FLYING_AT_HORIZON_FACTOR.
HORIZON_MAX_ELEVATION_DEG = 5.0
FLYING_AT_HORIZON_FACTOR = 0.5
#: A source heard moving by the strict rules for classes that rarely move (a steady
#: crossing or depth trend), or with a Doppler speed of at least MOVING_MIN_SPEED_MPS:
#: a class that rarely moves (a piano, a church bell) is unlikely.
STILL_CLASS_MOVING_FACTOR = 0.3
MOVING_MIN_SPEED_MPS = 3.0
#: A source heard still even by the lenient rules for classes that move: a class that
#: usually moves is a little less likely (cars do idle and park).
MOVING_CLASS_STILL_FACTOR = 0.7


def label_cue_factor(
    prior: ClassPrior,
    *,
    elevated: bool = False,
    at_horizon: bool = False,
    moving: bool = False,
    still: bool = False,
) -> tuple[float, list[str]]:
    """How likely the heard cues are for a class, relative to a class they say nothing
    about: a product of likelihood ratios, and the reasons for each one below 1.

    Parameters
    ----------
    prior : ClassPrior
        The class (``flying``, ``usually_moving``, ``indoor``).
    elevated : bool
        Heard at least :data:`FLYING_LABEL_MIN_ELEVATION_DEG` above the horizon (FOA).
    at_horizon : bool
        Heard within :data:`HORIZON_MAX_ELEVATION_DEG` of the horizon (FOA).
    moving : bool
        Clear evidence of motion (see :func:`label_cues`).
    still : bool
        No evidence of motion at all.

    >>> car = class_prior("car")
    >>> label_cue_factor(car, elevated=True)
    (0.05, ['heard above the horizon, not on the ground'])
    >>> label_cue_factor(class_prior("piano"), moving=True)[0]
    0.3
    """
    factor, why = 1.0, list[str]()
    if prior.family == "unknown":
        return factor, why
    if at_horizon and prior.flying:
        factor *= FLYING_AT_HORIZON_FACTOR
        why.append("heard at the horizon, not in the sky")
    if elevated and not prior.flying:
        factor *= GROUND_ELEVATED_FACTOR
        why.append("heard above the horizon, not on the ground")
    if moving and not prior.usually_moving:
        factor *= STILL_CLASS_MOVING_FACTOR
        why.append("heard moving, rarely moves")
    if still and prior.usually_moving:
        factor *= MOVING_CLASS_STILL_FACTOR
        why.append("heard still, usually moves")
    return factor, why


def label_cues(track: CueTrack, facts: dict[str, float] | None) -> dict[str, bool]:
    """The cues that bear on what a source is, as keyword arguments of
    :func:`label_cue_factor`.

    ``moving``: the strict motion rules (those for classes that rarely move) find a
    crossing or a depth trend, or the Doppler fit a speed of at least
    :data:`MOVING_MIN_SPEED_MPS`; ``still``: even the lenient rules find none and there
    is no Doppler speed.

    Where the other sources live (indoors/outdoors) is deliberately not a cue: the
    class table's place of an instrument is a weak guess (an accordion "on a street"),
    and with two sources each would overrule the other's label.
    """
    cues: dict[str, bool] = {
        "elevated": False,
        "at_horizon": False,
        "moving": False,
        "still": False,
    }
    active = np.asarray(track.active, dtype=bool)
    if track.elevation_deg is not None and np.any(active):
        elev = np.asarray(track.elevation_deg, dtype=float)[active]
        elev = elev[np.isfinite(elev)]
        median_deg = float(np.median(elev)) if elev.size else float("nan")
        cues["elevated"] = bool(median_deg >= FLYING_LABEL_MIN_ELEVATION_DEG)
        cues["at_horizon"] = bool(abs(median_deg) <= HORIZON_MAX_ELEVATION_DEG)
    speed = track.speed_mps if track.speed_mps is not None else float("nan")
    fast = bool(np.isfinite(speed) and speed >= MOVING_MIN_SPEED_MPS)
    if facts is not None:
        cues["moving"] = fast or motion_from_tracks(facts, usually_moving=False) != "static"
        cues["still"] = not fast and motion_from_tracks(facts, usually_moving=True) == "static"
    return cues


def choose_label(
    track: CueTrack,
    facts: dict[str, float] | None = None,
) -> tuple[Label | None, str]:
    """The label to draw and why: the tagger's label with the best posterior, its
    evidence (:func:`ranked_evidence`) times :func:`label_cue_factor` of the heard cues
    (:func:`label_cues`).

    A source heard 39 deg up (FOA) is the "helicopter" among its labels, not the "car"
    its engine sounds like more; a source crossing the view is the "car" rather than
    the "organ" the tagger ranked first. Ties keep the tagger's order.

    Parameters
    ----------
    track : CueTrack
        The source, with its labels (best first).
    facts : dict or None
        Its cue figures (:func:`_cue_facts`); None: motion is not used.
    Returns
    -------
    (Label or None, str)
        The chosen label (None without labels) and a sentence for the reasoning.
    """
    if not track.labels:
        return None, ""
    cues = label_cues(track, facts)
    evidence = ranked_evidence([label.score for label in track.labels])
    scored = []
    for label, tagger_evidence in zip(track.labels, evidence, strict=True):
        factor, why = label_cue_factor(class_prior(label.noun), **cues)
        scored.append((tagger_evidence * factor, label, why))
    best_index = max(range(len(scored)), key=lambda k: (scored[k][0], -k))
    best = scored[best_index][1]
    if best_index == 0:
        return best, ""
    first = scored[0]
    return best, (
        f"label {best.noun} ({best.audio_label} {best.score:.2f}) chosen over the tagger's "
        f"first, {first[1].noun} ({first[1].audio_label} {first[1].score:.2f}; cues x"
        f"{first[0] / max(evidence[0], 1e-9):.2f}: {', '.join(first[2]) or 'none against'})"
    )


def ranked_evidence(scores: Sequence[float]) -> list[float]:
    """The tagger's support for each of its labels, best first, as a non-increasing list.

    The tagger ranks a child class in the place of the generic parent that vouches for
    it ("Music" 0.9 -> "flute" 0.46 first, the weak guess "musician" 0.56 after it), so a
    label's own score understates its rank: each label is given the highest score among
    itself and the labels ranked below it.

    >>> ranked_evidence([0.46, 0.16, 0.56])
    [0.56, 0.56, 0.56]
    >>> ranked_evidence([0.2, 0.11])
    [0.2, 0.11]
    """
    out = [float(s) for s in scores]
    for k in range(len(out) - 2, -1, -1):
        out[k] = max(out[k], out[k + 1])
    return out
