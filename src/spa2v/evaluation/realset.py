"""Annotated real recordings: the ``spa2v-realset/1`` manifest, read and checked.

A manifest is a JSON file ``{"format": "spa2v-realset/1", "description": ...,
"clips": [CLIP, ...]}``; each clip names an audio file (relative to the manifest), its
channel format, the picture its positions refer to (``frame``), a ``group`` for the
score tables, whether its audio can carry left/right at all (``lateral_cue``), and its
``sources``: every sounding object (and visible silent ones, as context) with a track of
keyframes ``[t_s, azimuth_deg, x, width]`` and its motion. Azimuth is positive to the
LEFT, as everywhere in spa2v. ``docs/real-benchmark.md`` describes every field.

:func:`load_realset` validates the whole file before anything runs; a problem is one
line naming the clip entry and the field, e.g.
``manifest.json: clips[3] (street_12): sources[0].track[1]: azimuth_deg must be in
[-180, 180]``. The audio files must exist.

This module also holds the one rule that maps a planned object's noun onto the
manifest's families (:func:`noun_family`).

Example
-------
>>> realset = load_realset("realdata/manifest.json")  # doctest: +SKIP
>>> [c.clip for c in realset.clips][:2]  # doctest: +SKIP
['tAiVUt5vE34l_10', 'tAiVUt5vE34l_30']
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from spa2v.errors import ManifestError
from spa2v.nouns import ancestors, class_table, noun_info

FORMAT_ID = "spa2v-realset/1"

Family = Literal[
    "vehicle",
    "train",
    "aircraft",
    "boat",
    "person",
    "instrument-keyboard",
    "instrument-string",
    "instrument-wind",
    "instrument-percussion",
    "animal",
    "water",
    "fire/explosion",
    "other",
]
LateralMotion = Literal["left-to-right", "right-to-left"]
DepthMotion = Literal["approaching", "receding"]
SourceMotion = Literal[
    "static", "left-to-right", "right-to-left", "approaching", "receding", "other"
]
#: The manifest's audio formats -> the channel layout the loader is told when the
#: benchmark is asked to use the annotated format instead of detecting it (None: detect).
FORMAT_LAYOUTS: dict[str, str | None] = {
    "foa-ambix": "foa",
    "binaural": "binaural",
    "stereo": None,
    "dual-mono": None,
}


#: The longest clip a manifest may declare, in seconds (a day).
MAX_CLIP_S = 86_400.0


class Frame(BaseModel):
    """The picture a track's ``x`` refers to."""

    model_config = ConfigDict(extra="ignore")

    kind: Literal["perspective", "equirect360", "none"]
    hfov_deg: Annotated[float, Field(gt=0.0, le=360.0)] | None = None


class Keyframe(BaseModel):
    """One ``[t_s, azimuth_deg, x, width]`` entry of a track (nulls where unknown)."""

    t_s: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
    azimuth_deg: Annotated[float, Field(ge=-180.0, le=180.0)] | None
    x: Annotated[float, Field(ge=0.0, le=1.0)] | None
    width: Annotated[float, Field(ge=0.0, le=1.0)] | None

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(value) != 4:
                raise ValueError(
                    f"a keyframe is [t_s, azimuth_deg, x, width], got {len(value)} values"
                )
            return dict(zip(("t_s", "azimuth_deg", "x", "width"), value, strict=True))
        return value


class Segment(BaseModel):
    """A time span on which a direction test applies."""

    model_config = ConfigDict(extra="ignore")

    t0: Annotated[float, Field(ge=0.0)]
    t1: float
    motion: LateralMotion

    @model_validator(mode="after")
    def _ordered(self) -> Segment:
        if not self.t1 > self.t0:
            raise ValueError(f"t1 ({self.t1:g}) must be after t0 ({self.t0:g})")
        return self


class Source(BaseModel):
    """One annotated object: where it is, how it moves, what family it belongs to."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    class_: Annotated[str, Field(alias="class", min_length=1)]
    description: str = ""
    family: Family
    family_alt: list[Family] = Field(default_factory=list)
    sounding: bool
    track: Annotated[list[Keyframe], Field(min_length=1)]
    motion: SourceMotion
    depth_motion: DepthMotion | None = None
    #: None when the key is absent; a list (even empty) replaces ``motion`` for
    #: direction tests.
    segments: list[Segment] | None = None
    wraps_seam: bool = False

    @field_validator("track")
    @classmethod
    def _ascending(cls, track: list[Keyframe]) -> list[Keyframe]:
        times = [k.t_s for k in track]
        if any(b < a for a, b in itertools.pairwise(times)):
            raise ValueError("keyframe times must be ascending")
        return track

    @property
    def families(self) -> tuple[str, ...]:
        """The family and the alternatives that also name the source fairly."""
        return (self.family, *[f for f in self.family_alt if f != self.family])


class Clip(BaseModel):
    """One annotated recording."""

    model_config = ConfigDict(extra="ignore")

    clip: Annotated[str, Field(min_length=1)]
    audio: Annotated[str, Field(min_length=1)]
    format: Literal["foa-ambix", "binaural", "stereo", "dual-mono"]
    channels: Annotated[int, Field(ge=1)] | None = None
    sr: Annotated[int, Field(gt=0)] | None = None
    duration_s: Annotated[float, Field(gt=0.0, le=MAX_CLIP_S)]  # the scoring grid's size
    frame: Frame
    reference: Literal["ground-truth", "peer-output"] = "ground-truth"
    group: Annotated[str, Field(min_length=1)]
    lateral_cue: Literal["ok", "none", "unreliable"]
    sources: list[Source]
    notes: str = ""

    @property
    def sounding(self) -> list[Source]:
        return [s for s in self.sources if s.sounding]

    @property
    def dual_mono(self) -> bool:
        """Audio without left/right information: reported apart."""
        return self.format == "dual-mono" or self.lateral_cue == "none"


class RealSet(BaseModel):
    """A whole manifest; ``root`` is the folder that audio paths are relative to."""

    model_config = ConfigDict(extra="ignore")

    format: Literal["spa2v-realset/1"]
    description: str = ""
    clips: Annotated[list[Clip], Field(min_length=1)]
    root: Path = Path(".")
    path: Path = Path("manifest.json")

    def audio_path(self, clip: Clip) -> Path:
        return self.root / clip.audio

    def majority_family(self) -> str:
        """The most common family of the sounding sources (ties: the first met)."""
        counts = Counter(s.family for c in self.clips for s in c.sounding)
        return counts.most_common(1)[0][0] if counts else "other"


def load_realset(path: str | os.PathLike[str]) -> RealSet:
    """Read and validate a ``spa2v-realset/1`` manifest; check its audio files exist.

    Raises
    ------
    ManifestError
        One line naming the manifest, the clip entry (index and name) and the field.
    """
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"{name}: manifest not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{name}: cannot read the manifest ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise ManifestError(f"{name}: the manifest must be a JSON object with 'clips'")
    fmt = data.get("format")
    if fmt != FORMAT_ID:
        raise ManifestError(f"{name}: format is {fmt!r}, expected {FORMAT_ID!r}")
    try:
        realset = RealSet.model_validate(
            {**data, "root": path.parent.resolve(), "path": path}, context=None
        )
    except ValidationError as exc:
        raise ManifestError(f"{name}: {_first_error(exc, data)}") from None
    seen: dict[str, int] = {}
    for i, clip in enumerate(realset.clips):
        where = f"{name}: clips[{i}] ({clip.clip})"
        if clip.clip in seen:
            raise ManifestError(f"{where}: clip: the name is also used by clips[{seen[clip.clip]}]")
        seen[clip.clip] = i
        audio = realset.audio_path(clip)
        if not audio.is_file():
            raise ManifestError(f"{where}: audio: file {clip.audio} not found (looked in {audio})")
    return realset


def _first_error(exc: ValidationError, data: dict[str, Any]) -> str:
    """The first pydantic error as ``clips[3] (name): sources[0].track: reason``."""
    error = exc.errors()[0]
    loc = list(error["loc"])
    reason = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        reason = "field required"
    elif error["type"] == "literal_error":
        reason = f"{reason} (got {error.get('input')!r})"
    prefix = ""
    if len(loc) >= 2 and loc[0] == "clips" and isinstance(loc[1], int):
        index = loc[1]
        clips = data.get("clips")
        entry = clips[index] if isinstance(clips, list) and index < len(clips) else None
        clip_name = entry.get("clip") if isinstance(entry, dict) else None
        prefix = f"clips[{index}]" + (f" ({clip_name})" if clip_name else "") + ": "
        loc = loc[2:]
    # pydantic names the keyframe fields after the list form was turned into a dict;
    # keep them, they say which value of [t_s, azimuth_deg, x, width] is wrong.
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    field = field.replace("class_", "class")
    return f"{prefix}{field or 'manifest'}: {reason}"


# -- families -----------------------------------------------------------------------------

#: AudioSet classes whose descendants (and themselves) name one instrument family.
_INSTRUMENT_GROUPS: dict[str, str] = {
    "Keyboard (musical)": "instrument-keyboard",
    "Plucked string instrument": "instrument-string",
    "Bowed string instrument": "instrument-string",
    "Harp": "instrument-string",
    "Percussion": "instrument-percussion",
    "Brass instrument": "instrument-wind",
    "Wind instrument, woodwind instrument": "instrument-wind",
    "Harmonica": "instrument-wind",
    "Accordion": "instrument-wind",
    "Bagpipes": "instrument-wind",
    "Didgeridoo": "instrument-wind",
    "Shofar": "instrument-wind",
}
#: Noun-table families (``spa2v/nouns/nouns.csv``) that are a manifest family
#: under another name; animals are listed by the noun table one kind at a time.
_FAMILY_NAMES: dict[str, str] = {
    "vehicle": "vehicle",
    "train": "train",
    "aircraft": "aircraft",
    "boat": "boat",
    "person": "person",
    "water": "water",
    "fire": "fire/explosion",
    "explosion": "fire/explosion",
}
_ANIMAL_FAMILIES = frozenset(
    {
        "animal",
        "big cat",
        "bird",
        "cat",
        "cattle",
        "dog",
        "frog",
        "goat",
        "horse",
        "insect",
        "pig",
        "poultry",
        "rodent",
        "sheep",
        "snake",
        "whale",
    }
)
#: A generic instrument noun ("musician", "orchestra") belongs to no one instrument family.
GENERIC_INSTRUMENT = "instrument"


@cache
def noun_family(noun: str) -> str:
    """The manifest family of a planned object's noun.

    The noun table (:mod:`spa2v.nouns`) gives the coarse family; an
    instrument is split into keyboard / string / wind / percussion by the AudioSet
    ontology of the classes that map to the noun ("piano" is the noun of "Piano", whose
    ancestor is "Keyboard (musical)"). A noun whose classes fall in several instrument
    groups or in none ("musician", "orchestra", "theremin") gives ``"instrument"``, which matches no
    instrument family; nouns of other families give ``"other"``.

    >>> noun_family("piano"), noun_family("tabla"), noun_family("car"), noun_family("dog")
    ('instrument-keyboard', 'instrument-percussion', 'vehicle', 'animal')
    >>> noun_family("musician"), noun_family("doorbell")
    ('instrument', 'other')
    """
    family = noun_info(noun).family
    if family in _FAMILY_NAMES:
        return _FAMILY_NAMES[family]
    if family in _ANIMAL_FAMILIES:
        return "animal"
    if family != "instrument":
        return "other"
    key = noun.strip().lower()
    groups = set()
    for label, mapped in class_table().items():
        if mapped == key:  # the nearest grouping class of each class that maps to the noun
            chain = [c for c in (label, *ancestors(label)) if c in _INSTRUMENT_GROUPS]
            groups.add(_INSTRUMENT_GROUPS[chain[0]] if chain else GENERIC_INSTRUMENT)
    return groups.pop() if len(groups) == 1 else GENERIC_INSTRUMENT


def lateral_angle_deg(azimuth_deg: float) -> float:
    """The interaural-polar lateral angle of an azimuth: front and back folded.

    A source behind the listener at 155 deg is 25 deg to the left.

    >>> lateral_angle_deg(155.0), lateral_angle_deg(-30.0)
    (25.0, -30.0)
    """
    return round(math.degrees(math.asin(math.sin(math.radians(azimuth_deg)))), 9)
