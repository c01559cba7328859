"""Physically-based spatial audio simulator (see ``docs/simulator.md``).

Dry mono sources (synthetic, Debian opensfx recordings, General MIDI soundfont
renders, espeak-ng speech) move along trajectories; a time-varying propagation delay
gives Doppler and the 1/r law; each format is spatialised physically (a rigid
spherical head, or KEMAR HRIRs on request; a spaced omni pair; amplitude panning with
one of three pan laws; FOA); optional rooms (image-source early reflections and a late
tail), diffuse noise, and a recording chain (channel gain imbalance, dual mono, MP3 /
AAC / Vorbis round trips). Every clip comes with per-time ground truth and the
conditions it was rendered in.

>>> from spa2v.sim import simulate_static
>>> res = simulate_static(30.0, 3.0, format="panned", duration_s=0.25)
>>> res.signal.layout, res.truth[0].motion
('panned', 'static')
"""

from spa2v.sim._util import (
    SPEED_OF_SOUND,
    SimSourceUnavailable,
    SimSourceUnavailableError,
    cache_dir,
)
from spa2v.sim.benchmark import SCENE_TYPES, benchmark_scenes, draw_conditions
from spa2v.sim.codec import CODECS
from spa2v.sim.scene import (
    FORMATS,
    HEADS,
    PAN_LAWS,
    STEREO_FORMATS,
    SceneSpec,
    SimResult,
    SourceSpec,
    SourceTruth,
    foa_gains,
    noun_size,
    pan_gains,
    simulate,
    simulate_pass,
    simulate_radial,
    simulate_sources,
    simulate_static,
)
from spa2v.sim.sources import (
    SOURCES,
    SourceInfo,
    available_sources,
    dry_source,
    read_opensfx,
    source_available,
    source_info,
)
from spa2v.sim.trajectory import (
    Linear,
    Static,
    Trajectory,
    Waypoints,
    approach,
    crossing,
    radial,
    recede,
)

__all__ = [
    "CODECS",
    "FORMATS",
    "HEADS",
    "PAN_LAWS",
    "SCENE_TYPES",
    "SOURCES",
    "SPEED_OF_SOUND",
    "STEREO_FORMATS",
    "Linear",
    "SceneSpec",
    "SimResult",
    "SimSourceUnavailable",
    "SimSourceUnavailableError",
    "SourceInfo",
    "SourceSpec",
    "SourceTruth",
    "Static",
    "Trajectory",
    "Waypoints",
    "approach",
    "available_sources",
    "benchmark_scenes",
    "cache_dir",
    "crossing",
    "draw_conditions",
    "dry_source",
    "foa_gains",
    "noun_size",
    "pan_gains",
    "radial",
    "read_opensfx",
    "recede",
    "simulate",
    "simulate_pass",
    "simulate_radial",
    "simulate_sources",
    "simulate_static",
    "source_available",
    "source_info",
]
