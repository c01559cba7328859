"""The simulated layout benchmark: a deterministic set of scenes mirroring the paper's.

Stationary instruments indoors, one or two at a time, anywhere across the view;
vehicles crossing left-to-right and right-to-left, approaching and receding outdoors;
every audio format; anechoic and reverberant. The *geometry and sources* of a scene
depend only on ``seed``, its scene type and its variant number, so the same scene is
rendered in every format and acoustic condition (compare formats on equal footing).

Scene types (``SceneSpec.scene_type``):

``static-1``     one instrument, azimuth uniform over one third of +-42 deg each
                 (3 scenes per variant: so the left/centre/right boundaries at
                 +-18.4 deg are crossed, not avoided)
``static-2``     two instruments >= 35 deg apart, both uniform over +-40 deg (2 per variant)
``moving-cross`` a vehicle crossing left-to-right / right-to-left (2 per variant)
``moving-depth`` a vehicle approaching / receding (2 per variant)

The recording conditions are drawn per clip (:func:`draw_conditions`), none of them the
estimator's own models: a spherical head of radius 7.5-10 cm (ears 90-105 deg), a
spaced pair 8-30 cm apart, one of three pan laws; rooms with image-source early
reflections; stereo clips get a left/right gain imbalance within +-3 dB and, three
times in four, an MP3, AAC or Vorbis round trip at 64-192 kb/s. Each geometry is
also rendered once as dual mono (left == right) in a stereo format.

Default: 1 variant x 9 scenes x (4 formats x 2 rooms + 1 dual mono) = 81 clips of 4 s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spa2v.camera import azimuth_to_x
from spa2v.sim._util import SimSourceUnavailable
from spa2v.sim.codec import CODECS
from spa2v.sim.scene import FORMATS, PAN_LAWS, STEREO_FORMATS, SceneSpec, SourceSpec, noun_size
from spa2v.sim.sources import SOURCES, source_available
from spa2v.sim.trajectory import Static, crossing, radial

__all__ = [
    "BENCH_INSTRUMENTS",
    "BENCH_VEHICLES",
    "SCENE_TYPES",
    "benchmark_scenes",
    "draw_conditions",
]

SCENE_TYPES = ("static-1", "static-2", "moving-cross", "moving-depth")
DEFAULT_FORMATS = ("binaural", "spaced", "panned", "foa")

#: Instruments rendered from the GM soundfont (each is named right by YAMNet when dry).
BENCH_INSTRUMENTS = (
    "piano",
    "violin",
    "guitar",
    "trumpet",
    "flute",
    "drums",
    "cello",
    "saxophone",
    "trombone",
    "organ",
)
#: Vehicles: opensfx recordings plus the synthetic car (heard as "Vehicle"); flying
#: ones fly. Only vehicles a tagger names when dry (the opensfx bus and truck are heard
#: as a car, so they are left out).
BENCH_VEHICLES_CROSS = ("car", "train", "helicopter", "airplane")
BENCH_VEHICLES_DEPTH = ("car", "train", "helicopter", "airplane")
BENCH_VEHICLES = tuple(dict.fromkeys(BENCH_VEHICLES_CROSS + BENCH_VEHICLES_DEPTH))

_SYNTH_FALLBACK = {"piano": "synth-piano", "flute": "synth-flute", "violin": "synth-violin"}

# Acoustic conditions. Indoors: a ~400 m^3 room, RT60 0.4 s (critical distance 1.8 m).
# Outdoors "reverberant": a street canyon, long but weak tail (critical distance ~9 m).
INDOOR_REVERB: dict[str, Any] = {"rt60_s": 0.4, "room_volume_m3": 400.0}
OUTDOOR_REVERB: dict[str, Any] = {"rt60_s": 0.8, "room_volume_m3": 20000.0}


def _pick(rng: np.random.Generator, names, exclude=()) -> str:
    names = [n for n in names if n not in exclude]
    return str(names[int(rng.integers(len(names)))])


def _check(name: str, fallback: str) -> str:
    if source_available(name):
        return name
    if fallback == "synthetic":
        info = SOURCES[name]
        if info.moving:
            return "car"
        return _SYNTH_FALLBACK.get(name, "synth-piano")
    raise SimSourceUnavailable(
        f"benchmark source {name!r} ({SOURCES[name].origin}) is not available on this "
        "machine; install openttd-opensfx, fluidsynth and fluid-soundfont-gm, or pass "
        "fallback='synthetic' (labels will then not match what a tagger hears)"
    )


#: Window (s) over which a vehicle recording's own level is flattened: the motion heard
#: is the simulated one (``sources.steady_level``).
VEHICLE_STEADY_LEVEL_S = 0.5


def _vehicle(
    rng: np.random.Generator, name: str, traj, speed_mps: float, flying: bool
) -> SourceSpec:
    """A vehicle on ``traj``: -12 to -8 dB at 1 m (aircraft +6 dB), starting in the first
    second of its clip (drawn in that order). A synthetic vehicle's engine speed and
    tyre noise follow ``speed_mps``; a recording's own slow level changes (the
    recordist's view of its motion) are flattened."""
    level = float(rng.uniform(-12, -8)) + (6.0 if flying else 0.0)
    synthetic = SOURCES[name].origin == "synthetic"
    params = {"speed_mps": speed_mps} if synthetic else {"steady_level_s": VEHICLE_STEADY_LEVEL_S}
    return SourceSpec(name, traj, level_db=level, offset_s=float(rng.uniform(0, 1)), params=params)


def _vehicle_background(noun: str, flying: bool, road: str) -> str:
    if flying:
        return "the sky over a field"
    return "a railway" if noun == "train" else road


def _stage_instrument(rng: np.random.Generator, name: str, azimuth_deg: float) -> SourceSpec:
    """An instrument on a stage: 2.5-4.5 m away, -26 to -20 dB, starting in the first 2 s
    (drawn in that order, so the set stays the same for a seed)."""
    return SourceSpec(
        name,
        Static(azimuth_deg, float(rng.uniform(2.5, 4.5))),
        level_db=float(rng.uniform(-26, -20)),
        offset_s=float(rng.uniform(0, 2)),
    )


#: Ranges of the drawn recording conditions.
HEAD_RADIUS_M = (0.075, 0.10)
EAR_ANGLE_DEG = (90.0, 105.0)
MIC_SPACING_M = (0.08, 0.30)
GAIN_IMBALANCE_DB = 3.0
CODEC_BITRATES_KBPS = (64, 96, 128, 160, 192)
#: Share of stereo clips that go through a lossy codec.
CODEC_SHARE = 0.75


def draw_conditions(rng: np.random.Generator, fmt: str) -> dict[str, Any]:
    """Recording conditions of one clip in format ``fmt`` (``SceneSpec`` keyword
    arguments), drawn in a fixed order from ``rng`` whatever the format, so a clip's
    draw does not depend on which formats are run."""
    radius = float(rng.uniform(*HEAD_RADIUS_M))
    ear = float(rng.uniform(*EAR_ANGLE_DEG))
    spacing = float(rng.uniform(*MIC_SPACING_M))
    law = PAN_LAWS[int(rng.integers(len(PAN_LAWS)))]
    imbalance = float(rng.uniform(-GAIN_IMBALANCE_DB, GAIN_IMBALANCE_DB))
    coded = bool(rng.uniform() < CODEC_SHARE)
    codec = tuple(CODECS)[int(rng.integers(len(CODECS)))]
    bitrate = float(CODEC_BITRATES_KBPS[int(rng.integers(len(CODEC_BITRATES_KBPS)))])
    out: dict[str, Any] = {
        "head": "sphere",
        "head_radius_m": radius,
        "ear_angle_deg": ear,
        "mic_spacing_m": spacing,
        "pan_law": law,
        "reflections": True,
    }
    if fmt in STEREO_FORMATS:
        out["gain_imbalance_db"] = imbalance
        if coded:
            out["codec"] = codec
            out["codec_bitrate_kbps"] = bitrate
    return out


#: Two instruments: both uniform over +-this, at least ``STATIC2_MIN_APART_DEG`` apart.
STATIC2_SPAN_DEG = 40.0
STATIC2_MIN_APART_DEG = 35.0


def _apart(rng: np.random.Generator, span_deg: float, min_apart_deg: float):
    """Two azimuths uniform over ``+-span_deg`` at least ``min_apart_deg`` apart
    (rejection sampling), the left one first."""
    while True:
        a, b = (float(v) for v in rng.uniform(-span_deg, span_deg, 2))
        if abs(a - b) >= min_apart_deg:
            return max(a, b), min(a, b)


def _third(azimuth_deg: float) -> str:
    """Which third of the 90-degree view an azimuth falls in."""
    x = float(azimuth_to_x(azimuth_deg))
    return "left" if x < 1 / 3 else ("right" if x > 2 / 3 else "centre")


def _base_scenes(seed: int, variant: int, scene_type: str, duration_s: float, fallback: str):
    """(name, environment, background, [SourceSpec]) of one scene type and variant."""
    ti = SCENE_TYPES.index(scene_type)
    rng = np.random.default_rng([seed, variant, ti])
    out = []
    if scene_type == "static-1":
        for lo, hi in ((14.0, 42.0), (-14.0, 14.0), (-42.0, -14.0)):
            name = _check(_pick(rng, BENCH_INSTRUMENTS), fallback)
            az = float(rng.uniform(lo, hi))
            where = f"{_third(az)}{az:+.0f}"
            dist = float(rng.uniform(2.5, 5.0))
            src = SourceSpec(
                name,
                Static(az, dist),
                level_db=float(rng.uniform(-26, -20)),
                offset_s=float(rng.uniform(0, 2)),
            )
            out.append(
                (f"{scene_type}-v{variant}-{where}-{name}", "indoor", "a concert hall", [src])
            )
    elif scene_type == "static-2":
        for _ in range(2):
            first = _check(_pick(rng, BENCH_INSTRUMENTS), fallback)
            second = _check(_pick(rng, BENCH_INSTRUMENTS, exclude=(first,)), fallback)
            az_a, az_b = _apart(rng, STATIC2_SPAN_DEG, STATIC2_MIN_APART_DEG)
            where = f"{_third(az_a)}{az_a:+.0f}-{_third(az_b)}{az_b:+.0f}"
            out.append(
                (
                    f"{scene_type}-v{variant}-{where}-{first}-{second}",
                    "indoor",
                    "a stage",
                    [_stage_instrument(rng, first, az_a), _stage_instrument(rng, second, az_b)],
                )
            )
    elif scene_type == "moving-cross":
        for direction in ("left-to-right", "right-to-left"):
            name = _check(_pick(rng, BENCH_VEHICLES_CROSS), fallback)
            info = SOURCES[name]
            flying = noun_size(info.noun)[2]
            closest = float(rng.uniform(25, 45) if flying else rng.uniform(8, 20))
            if info.noun == "train":
                closest = float(rng.uniform(15, 30))
            speed = float(rng.uniform(8, 20))
            height = float(rng.uniform(15, 35)) if flying else 0.0
            tc = duration_s / 2 + float(rng.uniform(-0.3, 0.3))
            traj = crossing(closest, speed, direction, tc, float(rng.uniform(-8, 8)), height)
            src = _vehicle(rng, name, traj, speed, flying)
            bg = _vehicle_background(info.noun, flying, road="a street")
            out.append((f"{scene_type}-v{variant}-{direction}-{name}", "outdoor", bg, [src]))
    elif scene_type == "moving-depth":
        for motion in ("approaching", "receding"):
            name = _check(_pick(rng, BENCH_VEHICLES_DEPTH), fallback)
            info = SOURCES[name]
            flying = noun_size(info.noun)[2]
            az = float(rng.uniform(-25, 25))
            near = float(rng.uniform(20, 30) if flying else rng.uniform(6, 10))
            speed = float(rng.uniform(10, 20) if flying else rng.uniform(6, 12))
            height = float(rng.uniform(10, 25)) if flying else 0.0
            far = near + speed * duration_s
            start, end = (far, near) if motion == "approaching" else (near, far)
            traj = radial(az, start, end, duration_s, height)
            src = _vehicle(rng, name, traj, speed, flying)
            bg = _vehicle_background(info.noun, flying, road="a road")
            out.append((f"{scene_type}-v{variant}-{motion}-{name}", "outdoor", bg, [src]))
    else:  # pragma: no cover - guarded by the caller
        raise ValueError(scene_type)
    return out


#: Place of a scene type's first geometry among the 9 of a variant.
_GEOMETRY_OFFSET = {"static-1": 0, "static-2": 3, "moving-cross": 5, "moving-depth": 7}


def _clip_seed(seed: int, variant: int, scene_type: str, gi: int, fi: int, room: int) -> int:
    key = [seed, variant, SCENE_TYPES.index(scene_type), gi, fi, room]
    return int(np.random.default_rng(key).integers(1 << 31))


def benchmark_scenes(
    seed: int = 0,
    formats: tuple[str, ...] = DEFAULT_FORMATS,
    reverb: tuple[bool, ...] = (False, True),
    variants: int = 1,
    scene_types: tuple[str, ...] = SCENE_TYPES,
    duration_s: float = 4.0,
    sr: int = 48000,
    snr_db: float | None = 30.0,
    fallback: str = "error",
    conditions: str = "drawn",
    dual_mono: bool = True,
) -> list[SceneSpec]:
    """The benchmark's scene specs (simulate each with :func:`spa2v.sim.simulate`).

    ``variants`` multiplies the set (9 scenes per variant per format and room).
    ``fallback="synthetic"`` replaces unavailable real sources by synthetic ones
    instead of raising :class:`~spa2v.sim.SimSourceUnavailable`.
    ``conditions="drawn"`` (default) draws each clip's recording conditions
    (:func:`draw_conditions`) and gives rooms image-source early reflections;
    ``"estimator"`` renders every clip with the estimator's own models (KEMAR head,
    0.15 m spacing, constant-power panning, a diffuse tail without early reflections,
    no gain imbalance or codec): the set before the simulator stopped sharing them,
    kept to measure how much of a figure comes from that. ``dual_mono`` adds, per
    geometry, one dual-mono clip (left == right) in a stereo format of ``formats``.
    Scene names are ``<geometry id>-<format>-<dry|rev>[-dualmono]``; the geometry id is
    shared by the renders of one scene in every format and condition.
    """
    for f in formats:
        if f not in FORMATS:
            raise ValueError(f"unknown format {f!r}; use {FORMATS}")
    for st in scene_types:
        if st not in SCENE_TYPES:
            raise ValueError(f"unknown scene type {st!r}; use {SCENE_TYPES}")
    if fallback not in ("error", "synthetic"):
        raise ValueError("fallback must be 'error' or 'synthetic'")
    if conditions not in ("drawn", "estimator"):
        raise ValueError("conditions must be 'drawn' or 'estimator'")
    estimator: dict[str, Any] = {
        "head": "kemar",
        "mic_spacing_m": 0.15,
        "pan_law": "sin-cos",
        "reflections": False,
    }
    specs: list[SceneSpec] = []
    for v in range(variants):
        for st in scene_types:
            for gi, (gid, env, bg, sources) in enumerate(
                _base_scenes(seed, v, st, duration_s, fallback)
            ):
                common: dict[str, Any] = {
                    "sources": sources,
                    "duration_s": duration_s,
                    "sr": sr,
                    "snr_db": snr_db,
                    "scene_type": st,
                    "environment": env,
                    "background": bg,
                }
                for fmt in formats:
                    # Seeded by the format's place in FORMATS, not in ``formats``: a
                    # subset (``spa2v bench --formats foa``) renders the same clips.
                    fi = FORMATS.index(fmt)
                    for rev in reverb:
                        room = (INDOOR_REVERB if env == "indoor" else OUTDOOR_REVERB) if rev else {}
                        clip_seed = _clip_seed(seed, v, st, gi, fi, int(rev))
                        drawn = (
                            draw_conditions(np.random.default_rng([clip_seed, 1]), fmt)
                            if conditions == "drawn"
                            else estimator
                        )
                        specs.append(
                            SceneSpec(
                                format=fmt,
                                seed=clip_seed,
                                name=f"{gid}-{fmt}-{'rev' if rev else 'dry'}",
                                **common,
                                **room,
                                **drawn,
                            )
                        )
                if dual_mono and conditions == "drawn":
                    # one dual-mono render per geometry, its format and room cycled
                    # (over every stereo format and room, so a subset keeps its clips)
                    k = _GEOMETRY_OFFSET[st] + gi
                    fmt = STEREO_FORMATS[k % len(STEREO_FORMATS)]
                    rev = bool(k % 2)
                    if fmt not in formats or rev not in reverb:
                        continue
                    room = (INDOOR_REVERB if env == "indoor" else OUTDOOR_REVERB) if rev else {}
                    clip_seed = _clip_seed(seed, v, st, gi, FORMATS.index(fmt), 2 + int(rev))
                    drawn = draw_conditions(np.random.default_rng([clip_seed, 1]), fmt)
                    drawn["gain_imbalance_db"] = 0.0
                    specs.append(
                        SceneSpec(
                            format=fmt,
                            seed=clip_seed,
                            name=f"{gid}-{fmt}-{'rev' if rev else 'dry'}-dualmono",
                            dual_mono=True,
                            **common,
                            **room,
                            **drawn,
                        )
                    )
    return specs
