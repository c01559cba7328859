"""AudioSet class -> drawable noun, and per-noun priors (sizes, emoji, scenes, families).

The one home of the noun knowledge that every layer uses: the tagger maps classes to
nouns, the planner sizes and places them, the renderers draw them, the simulator and the
benchmark build and score scenes with them. It imports nothing from the package.

Two small tables ship beside this module:

- ``nouns.csv``: one row per drawable noun with its priors -- coarse ``family``
  (vehicle, train, aircraft, dog, bell, instrument, ...), physical ``width_m`` and
  ``height_m`` (as seen side-on), ``flying`` (drawn above the ground), ``usually_moving``,
  a typical ``scene`` ("a street"), ``indoor``, one ``emoji`` that Noto Color Emoji
  draws (used by the animatic renderer) and the ``detector_class``: the COCO class an
  object detector sees it as (Darknet's spelling, e.g. "aeroplane"), empty when COCO
  has none; a hand-held or played instrument is seen as the "person" playing it.
- ``audioset_nouns.csv``: every one of YAMNet's 521 AudioSet classes, either mapped to a
  noun or explicitly marked non-visual with a reason (music genre or mood, acoustic
  scene, noise or signal, generic sound that many things make). ``generic`` marks
  parent classes of the AudioSet ontology ("Vehicle", "Animal", "Musical instrument"):
  they fire together with their specific children, and the tagger ranks them lower.
  ``parent`` is the nearest ancestor of the class in the AudioSet ontology that is
  itself one of YAMNet's classes ("Helicopter" -> "Aircraft" -> "Vehicle"; abstract
  ontology nodes such as "Sounds of things" are skipped; for the few classes with two
  parents, the first one listed in the ontology).

Example
-------
>>> class_to_noun("Bark").noun
'dog'
>>> class_to_noun("Silence") is None
True
>>> noun_info("car").width_m
4.5
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: Family of a noun the tables do not know.
UNKNOWN_FAMILY = "unknown"


@dataclass(frozen=True)
class NounInfo:
    """A drawable noun with the priors the simulator, planner and renderer use."""

    noun: str
    family: str
    width_m: float
    height_m: float
    flying: bool
    usually_moving: bool
    scene: str
    indoor: bool
    emoji: str
    detector_class: str = ""  # COCO class as the video evaluation's detector names it


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def noun_table() -> dict[str, NounInfo]:
    """All known nouns, keyed by noun (lower case)."""
    table: dict[str, NounInfo] = {}
    for row in _read_csv("nouns.csv"):
        table[row["noun"]] = NounInfo(
            noun=row["noun"],
            family=row["family"],
            width_m=float(row["width_m"]),
            height_m=float(row["height_m"]),
            flying=row["flying"] == "1",
            usually_moving=row["usually_moving"] == "1",
            scene=row["scene"],
            indoor=row["indoor"] == "1",
            emoji=row["emoji"],
            detector_class=row["detector_class"],
        )
    return table


@cache
def class_table() -> dict[str, str | None]:
    """Every AudioSet display name -> noun, or None for a non-visual class."""
    return {row["audio_label"]: (row["noun"] or None) for row in _read_csv("audioset_nouns.csv")}


@cache
def non_visual_reasons() -> dict[str, str]:
    """Non-visual AudioSet classes -> why they have no noun ("music genre or mood", ...)."""
    return {
        row["audio_label"]: row["non_visual_reason"]
        for row in _read_csv("audioset_nouns.csv")
        if not row["noun"]
    }


@cache
def generic_classes() -> frozenset[str]:
    """AudioSet parent classes ("Vehicle", "Animal", ...) that taggers should rank lower."""
    return frozenset(
        row["audio_label"] for row in _read_csv("audioset_nouns.csv") if row["generic"] == "1"
    )


@cache
def class_parents() -> dict[str, str]:
    """AudioSet class -> its nearest ancestor among the tagger's classes (roots absent)."""
    return {
        row["audio_label"]: row["parent"]
        for row in _read_csv("audioset_nouns.csv")
        if row["parent"]
    }


def ancestors(audio_label: str) -> tuple[str, ...]:
    """Ancestors of an AudioSet class, nearest first ("Helicopter" -> Aircraft, Vehicle).

    Example
    -------
    >>> ancestors("Helicopter")
    ('Aircraft', 'Vehicle')
    >>> ancestors("Vehicle")
    ()
    """
    parents = class_parents()
    chain: list[str] = []
    label = parents.get(audio_label)
    while label is not None and label not in chain:  # the table is a tree; guard anyway
        chain.append(label)
        label = parents.get(label)
    return tuple(chain)


@cache
def category_nouns() -> frozenset[str]:
    """Nouns that only generic classes use: names of a kind, not a guess at one member.

    "animal", "pet", "farm animal", "musician", "boat", "bell", "insect" are; "car" (the
    noun of "Vehicle", also of "Car") is not: for a helicopter it would be a wrong guess.
    """
    generic = generic_classes()
    table = class_table()
    specific = {noun for label, noun in table.items() if label not in generic and noun}
    general = {noun for label, noun in table.items() if label in generic and noun}
    return frozenset(general - specific)


def noun_info(noun: str) -> NounInfo:
    """Priors for ``noun``; a generic human-sized static object if the noun is unknown.

    The fallback keeps renderers and planners working for nouns from other sources
    (an LLM planner, a user's example bank): it keeps the noun and draws a speaker.
    """
    key = noun.strip().lower()
    known = noun_table().get(key)
    if known is not None:
        return known
    return NounInfo(
        noun=key or "unknown",
        family=UNKNOWN_FAMILY,
        width_m=1.0,
        height_m=1.0,
        flying=False,
        usually_moving=False,
        scene="an open space",
        indoor=False,
        emoji="🔊",
    )


def class_to_noun(audio_label: str) -> NounInfo | None:
    """The drawable noun for an AudioSet class name, or None if it has no visible source.

    Unknown class names (e.g. from another tagger) also give None.
    """
    noun = class_table().get(audio_label)
    return None if noun is None else noun_table()[noun]


def detector_class(noun: str) -> str | None:
    """The COCO class a detector sees ``noun`` as, or None when COCO has no such class.

    Example
    -------
    >>> detector_class("helicopter"), detector_class("violin"), detector_class("bee")
    ('aeroplane', 'person', None)
    """
    return noun_info(noun).detector_class or None


def families() -> list[str]:
    """All families in the noun table, sorted."""
    return sorted({info.family for info in noun_table().values()})
