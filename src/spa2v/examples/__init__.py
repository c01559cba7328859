"""Bundled example recordings for ``spa2v demo`` (small FLAC files, < 1 MB in all).

They were made once with the project's simulator (:mod:`spa2v.sim`) from real dry
recordings -- a vehicle clip from Debian's ``openttd-opensfx`` and General MIDI
soundfont instruments -- by ``python -m spa2v.examples.make_examples`` (kept in the
package, so anyone can remake or change them). Shipping the files means the demo needs
neither fluidsynth nor the opensfx package on a fresh machine. Their sources and terms
are in the repository's NOTICE file: the car example is derived from the OpenSFX sound
"Truck/old bus start, pull away" (original by saphix, edited by Wuzzy) and is
distributed under CC BY-SA 3.0.

Example
-------
>>> [example.name for example in EXAMPLES]
['car-right-to-left', 'instruments-left-right']
>>> example_path(EXAMPLES[0]).suffix
'.flac'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class Example:
    """One bundled recording and how it was made.

    ``layout`` is how it was recorded (passed to hearing, as a user who knows their
    microphone would); ``sources`` are ``(clip, azimuth_deg, distance_m)`` at the start
    (azimuth positive = LEFT); ``expected`` is what a viewer should see.
    """

    name: str
    file: str
    layout: str
    description: str
    expected: str
    sim: dict[str, object] = field(default_factory=dict)


EXAMPLES: tuple[Example, ...] = (
    Example(
        name="car-right-to-left",
        file="car-right-to-left.flac",
        layout="spaced",
        description=(
            "a road vehicle (openttd-opensfx 'Truck/old bus start, pull away') passing in "
            "front from right to left, 20 m away at 8 m/s, recorded by a spaced "
            "microphone pair (phone-like, 6 s)"
        ),
        expected="a road vehicle (the tagger hears a truck) crossing the frame from right to left",
        sim={
            "kind": "pass",
            "clip": "truck",
            "direction": "right-to-left",
            "speed_mps": 8.0,
            "closest_m": 20.0,
            "duration_s": 6.0,
            "seed": 1,
        },
    ),
    Example(
        name="instruments-left-right",
        file="instruments-left-right.flac",
        layout="panned",
        description=(
            "two instruments rendered from the General MIDI soundfont playing together, "
            "a piano 35 deg to the left and a violin 35 deg to the right, mixed as "
            "amplitude-panned stereo (5 s)"
        ),
        expected="one instrument on the left of the frame and one on the right",
        sim={
            "kind": "static",
            "sources": [["piano", 35.0, 4.0], ["violin", -35.0, 4.0]],
            "duration_s": 5.0,
            "seed": 2,
        },
    ),
)

#: Sample rate of the bundled files: enough for direction cues and the tagger (16 kHz).
EXAMPLE_SR = 22050


def example_path(example: Example) -> Path:
    """Path of the bundled recording of ``example``."""
    return Path(str(resources.files(__package__).joinpath(example.file)))
