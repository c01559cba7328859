"""What the planner assumes about a class of sound source: its drawable noun, physical
size, whether it flies or usually moves, where it lives and how far away it usually is.

The numbers come from the tagging module's noun table
(:func:`spa2v.nouns.noun_info`); the typical distances by family are
the planner's own (a piano across a room, a car across a street).
"""

from __future__ import annotations

from dataclasses import dataclass

from spa2v.nouns import noun_info

# Typical horizontal distance (m) of a source by class family, used to anchor the
# relative 1/r distance. Indoor sources default to a room-sized distance, outdoor ones
# to a street-sized one.
FAMILY_DISTANCE_M: dict[str, float] = {
    "instrument": 3.5,
    "person": 3.0,
    "vehicle": 14.0,
    "train": 22.0,
    "aircraft": 40.0,
    "boat": 30.0,
    "explosion": 50.0,
    "weather": 50.0,
}
INDOOR_DISTANCE_M = 3.5
OUTDOOR_DISTANCE_M = 8.0
#: Least typical distance per metre of an object's width: at ``d = width`` it spans half
#: of the frame (:data:`spa2v.camera.HFOV_DEG` = 90 deg covers ``2 d``).
FRAMING_DISTANCE_PER_WIDTH = 1.0


@dataclass(frozen=True)
class ClassPrior:
    """What the planner assumes about a class: drawable noun, size, where it lives."""

    noun: str
    family: str
    width_m: float
    height_m: float
    flying: bool
    indoor: bool
    scene: str
    distance_m: float  # typical horizontal distance from the listener
    usually_moving: bool = False


def class_prior(noun: str) -> ClassPrior:
    """The planner's prior for a drawable noun (size, ground/flying, scene, distance).

    Unknown nouns get a generic 1 m object (the class table's fallback).
    """
    if noun in ("", "unknown"):
        return ClassPrior("sound source", "unknown", 1.0, 1.0, False, False, "an open space", 4.0)
    info = noun_info(noun)  # unknown nouns get a generic 1 m object
    indoor = bool(info.indoor)
    distance_m = FAMILY_DISTANCE_M.get(
        info.family, INDOOR_DISTANCE_M if indoor else OUTDOOR_DISTANCE_M
    )
    # A camera frames the whole object: from at least its own width away it spans at
    # most half of the 90 deg frame (an orchestra, a crowd or a ship is not filmed from
    # a few metres, where its box would be cut at both edges and lose its position).
    distance_m = max(distance_m, float(info.width_m) * FRAMING_DISTANCE_PER_WIDTH)
    return ClassPrior(
        noun=info.noun,
        family=info.family,
        width_m=float(info.width_m),
        height_m=float(info.height_m),
        flying=bool(info.flying),
        indoor=indoor,
        scene=info.scene or ("a room" if indoor else "an open field"),
        distance_m=float(distance_m),
        usually_moving=bool(info.usually_moving),
    )
