"""Say what each heard source is: tag its own audio and map the classes to drawable nouns.

For every :class:`~spa2v.hearing.cues.CueTrack`, the source's own signal (with several
sources, a beamformer steered by the direction mask:
:func:`spa2v.hearing.separation.source_audios` with ``beamform=True``) is scored by a
:class:`~spa2v.hearing.tagging.base.Tagger`; the scores are pooled over the patches
where the source is active (a mix of mean and max), and decoded into up to ``top_k``
labels with distinct nouns along the AudioSet ontology (:func:`labels_from_scores`:
a specific child rather than its generic parent, no parent of a class already
labelled). When no drawable class is confident the source gets one honest ``unknown``
label.

A binary direction mask leaves artifacts ("musical noise", missing bins) that make a
quieter instrument next to a loud one unrecognisable; the mask-based MVDR beamformer
uses the same bin assignment only to estimate where the other sources are, and nulls
them with a linear filter per frequency (no artifacts, but in a room their reverb
leaks through). Each source is also heard through a simple fixed beam toward it (the
microphone channel on its side; a virtual cardioid for FOA), which still contains the
other sources. The two are fused per class: ``max(separated, beam * share)``, where
``share`` is this source's part of the class's separated-audio scores over all
sources -- the separated audio says *whose* a class is, the beam says *how clearly* it
sounds.

Example
-------
>>> cues = tag_cues(signal, hear(signal))  # doctest: +SKIP
>>> [(lab.noun, round(lab.score, 2)) for lab in cues.sources[0].labels]  # doctest: +SKIP
[('dog', 0.83), ('animal', 0.6)]
"""

from __future__ import annotations

import copy

import numpy as np

from spa2v.hearing.cues import Cues, CueTrack, Label
from spa2v.hearing.separation import beam_towards, median_azimuth_deg, source_audios
from spa2v.hearing.tagging.base import TagFrames, Tagger, get_tagger
from spa2v.hearing.tagging.melspec import peak_gain
from spa2v.io.signal import Signal
from spa2v.nouns import (
    UNKNOWN_FAMILY,
    ancestors,
    category_nouns,
    class_to_noun,
    generic_classes,
)

#: A drawable class must score at least this (after pooling) to become a label. The
#: 8-bit model's probabilities move in coarse steps; 0.1 keeps faint guesses out.
MIN_SCORE = 0.1
#: Evidence for a parent class is evidence for its children. The 8-bit YAMNet puts most
#: of a sound's score into broad parents ("Music" 0.86 for a soundfont piano, "Vehicle"
#: 0.53 for a propeller plane) and gives the right child only 0.02-0.1. So a generic or
#: non-visual parent scoring at least PARENT_SCORE stands for its best descendant, down
#: to CHILD_SCORE.
PARENT_SCORE = 0.3
CHILD_SCORE = 0.02

#: Share of the max in the time pooling (the rest is the mean over active patches).
MAX_POOL_SHARE = 0.5

UNKNOWN = "unknown"
#: The family of the generic animal nouns ("animal", "pet", "farm animal"): a kind of
#: every animal family (dog, sheep, bird...).
ANIMAL_FAMILY = "animal"


def active_patch_weights(frames: TagFrames, track: CueTrack) -> np.ndarray:
    """Weight of each tagger patch: the fraction of its window where ``track`` is active.

    Falls back to equal weights when the track is never active inside any patch.
    """
    if track.times_s.size == 0 or not np.any(track.active):
        return np.ones(frames.times_s.size)
    half_s = frames.window_s / 2
    weights = np.zeros(frames.times_s.size)
    for index, centre_s in enumerate(frames.times_s):
        inside = (track.times_s >= centre_s - half_s) & (track.times_s < centre_s + half_s)
        if np.any(inside):
            weights[index] = track.active[inside].mean()
    return weights if weights.sum() > 0 else np.ones(frames.times_s.size)


def pool_scores(
    scores: np.ndarray, weights: np.ndarray | None = None, max_share: float = MAX_POOL_SHARE
) -> np.ndarray:
    """Pool ``(T, K)`` patch scores over time -> ``(K,)``: a mix of mean and max.

    ``(1 - max_share) * weighted mean + max_share * max`` over the patches with weight
    > 0. The mean is robust to one-patch flukes of the 8-bit model; the max keeps a
    short event (a 0.5 s bark in a 10 s clip) from being averaged away.

    Example
    -------
    >>> pool_scores(np.array([[0.0], [0.8]])).round(2).tolist()
    [0.6]
    """
    if weights is None:
        weights = np.ones(scores.shape[0])
    mean = (weights[:, None] * scores).sum(axis=0) / max(float(weights.sum()), 1e-12)
    active = weights > 0
    peak = scores[active].max(axis=0) if np.any(active) else scores.max(axis=0)
    return (1.0 - max_share) * mean + max_share * peak


def labels_from_scores(
    scores: np.ndarray,
    class_names: list[str],
    top_k: int = 3,
    min_score: float = MIN_SCORE,
) -> list[Label]:
    """Up to ``top_k`` labels with distinct nouns from pooled class scores, best first.

    The AudioSet ontology (``spa2v.nouns.ancestors``) decides what a score is evidence for.
    Classes are visited from the highest score down:

    - a specific drawable class ("Sheep", "Helicopter") becomes a label when it scores
      at least ``min_score``;
    - a generic parent ("Vehicle", "Livestock") or a non-visual one ("Music") that
      scores at least :data:`PARENT_SCORE` stands for its best descendant not labelled
      yet, down to :data:`CHILD_SCORE` ("Music" 0.86 with "Piano" 0.04 says piano;
      "Vehicle" 0.7 with "Helicopter" 0.5 says helicopter, not the parent's guess "car");
    - a parent of a class already labelled adds nothing there: the child explains it;
    - generic parents then fill the slots left over, best first: a *weak guess* with its
      own noun when no label explains it; when one does, only a noun that names the
      child's kind (``spa2v.nouns.category_nouns``: "dog" -> also "animal").

    Non-visual classes (music genres, noise, generic sounds) never become labels.
    Returns ``[Label("unknown", ...)]`` when no drawable class qualifies.

    Example
    -------
    >>> names = ["Vehicle", "Helicopter", "Aircraft", "Music", "Piano"]
    >>> scores = np.array([0.7, 0.5, 0.5, 0.86, 0.04])
    >>> [lab.noun for lab in labels_from_scores(scores, names)]
    ['piano', 'helicopter']
    """
    score_of = dict(zip(class_names, (float(s) for s in scores), strict=True))
    generic = generic_classes()
    descendants: dict[str, list[str]] = {}
    for name in class_names:
        for ancestor in ancestors(name):
            descendants.setdefault(ancestor, []).append(name)

    labels: list[Label] = []

    def usable(name: str) -> bool:
        info = class_to_noun(name)
        return (
            info is not None
            and all(lab.noun != info.noun for lab in labels)
            and not any(name in ancestors(lab.audio_label) for lab in labels)
        )

    def best_child(name: str) -> str | None:
        # Walk down while the class is only a guess: at each step the best-scoring
        # usable descendant, on a tie the deeper (more specific) one.
        child = None
        while name in generic or class_to_noun(name) is None:
            options = [
                d
                for d in descendants.get(name, [])
                if score_of[d] >= min(min_score, CHILD_SCORE) and usable(d)
            ]
            if not options:
                break
            child = name = max(options, key=lambda d: (score_of[d], len(ancestors(d))))
        return child

    def add(name: str, to: list[Label]) -> None:
        info = class_to_noun(name)
        assert info is not None  # callers only add drawable classes
        to.append(Label(name, round(score_of[name], 4), info.noun, info.family))

    for name in sorted(score_of, key=lambda n: -score_of[n]):
        if score_of[name] < min(min_score, CHILD_SCORE) or len(labels) == top_k:
            break
        if any(name in ancestors(lab.audio_label) for lab in labels):
            continue  # explained by a child that is already a label
        if name in generic or class_to_noun(name) is None:
            child = best_child(name) if score_of[name] >= PARENT_SCORE else None
            if child is not None:
                add(child, labels)
        elif score_of[name] >= min_score and usable(name):
            add(name, labels)
    # Generic parents fill the slots left over, best first: as a weak guess when no
    # label explains them; when one does, only to name its kind ("dog" -> also
    # "animal"), a safe fallback if the specific label is wrong -- never a sibling
    # guess ("helicopter" -> not "car").
    fallbacks = [n for n in class_names if n in generic and score_of[n] >= min_score]
    for name in sorted(fallbacks, key=lambda n: -score_of[n]):
        info = class_to_noun(name)
        if len(labels) == top_k or info is None or any(lab.noun == info.noun for lab in labels):
            continue
        children = [lab for lab in labels if name in ancestors(lab.audio_label)]
        names_the_kind = info.noun in category_nouns() and all(
            lab.family == info.family or info.family == ANIMAL_FAMILY for lab in children
        )
        if not children or names_the_kind:
            add(name, labels)
    if not labels:
        best_visual = max(
            (score for name, score in score_of.items() if class_to_noun(name) is not None),
            default=0.0,
        )
        return [Label(UNKNOWN, round(best_visual, 4), UNKNOWN, UNKNOWN_FAMILY)]
    return labels


def pooled_scores(
    audio: np.ndarray, sr: int, tagger: Tagger, track: CueTrack | None = None
) -> tuple[np.ndarray, list[str]]:
    """``(K,)`` class scores of ``audio`` pooled over the active patches of ``track``."""
    frames = tagger.frame_scores(audio, sr)
    weights = active_patch_weights(frames, track) if track is not None else None
    return pool_scores(frames.scores, weights), frames.class_names


def tag_audio(
    audio: np.ndarray,
    sr: int,
    tagger: Tagger | None = None,
    top_k: int = 3,
    track: CueTrack | None = None,
) -> list[Label]:
    """Labels for one recording, pooled over the active frames of ``track`` if given.

    The audio is scaled to a fixed peak first (``melspec.peak_gain``): labels do not
    depend on the recording gain.
    """
    audio = np.asarray(audio, dtype=np.float32)
    scores, names = pooled_scores(audio * peak_gain(audio), sr, tagger or get_tagger(), track)
    return labels_from_scores(scores, names, top_k)


def tag_cues(
    signal: Signal,
    cues: Cues,
    tagger: Tagger | None = None,
    top_k: int = 3,
) -> Cues:
    """A copy of ``cues`` whose sources carry labels (``CueTrack.labels``), best first.

    Parameters
    ----------
    signal : Signal
        The recording the cues were heard from.
    cues : Cues
        Output of :func:`spa2v.hearing.extract.hear` (labels may be empty).
    tagger : Tagger or None
        Backend; default :func:`~spa2v.hearing.tagging.base.get_tagger` ("yamnet").
    top_k : int
        Most labels per source (distinct nouns).
    """
    tagger = tagger or get_tagger()
    # One gain for the whole recording: sources and leaks keep their relative levels.
    gain = peak_gain(signal.samples)
    out = copy.deepcopy(cues)
    separated_scores = []
    names: list[str] = []
    separated = source_audios(signal, cues, beamform=True)
    for track in out.sources:
        audio = separated[track.source_id] * gain
        scores, names = pooled_scores(audio, signal.sr, tagger, track)
        separated_scores.append(scores)
    if len(out.sources) > 1:
        share = np.array(separated_scores) / np.maximum(np.sum(separated_scores, axis=0), 1e-6)
    for index, track in enumerate(out.sources):
        scores = separated_scores[index]
        if len(out.sources) > 1:
            beam = beam_towards(signal.samples, cues.layout, median_azimuth_deg(track))
            beam = beam * gain
            beam_scores, _ = pooled_scores(beam, signal.sr, tagger, track)
            scores = np.maximum(scores, beam_scores * share[index])
        track.labels = labels_from_scores(scores, names, top_k)
    return out
