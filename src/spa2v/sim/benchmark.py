"""The simulated layout benchmark: a deterministic set of scenes mirroring the paper's.

Stationary instruments at left/centre/right indoors, one or two at a time; vehicles
crossing left-to-right and right-to-left, approaching and receding outdoors; every
audio format; anechoic and reverberant. The *geometry and sources* of a scene depend
only on ``seed``, its scene type and its variant number, so the same scene is
rendered in every format and acoustic condition (compare formats on equal footing).

Scene types (``SceneSpec.scene_type``):

``static-1``     one instrument at left, centre or right (3 scenes per variant)
``static-2``     two instruments >= 40 deg apart (2 per variant)
``moving-cross`` a vehicle crossing left-to-right / right-to-left (2 per variant)
``moving-depth`` a vehicle approaching / receding (2 per variant)

Default: 1 variant x 9 scenes x 4 formats x 2 conditions = 72 clips of 4 s.
"""

from __future__ import annotations

import numpy as np

from spa2v.sim._util import SimSourceUnavailable
from spa2v.sim.scene import FORMATS, SceneSpec, SourceSpec, noun_size
from spa2v.sim.sources import SOURCES, source_available
from spa2v.sim.trajectory import Static, crossing, radial

__all__ = ["BENCH_INSTRUMENTS", "BENCH_VEHICLES", "SCENE_TYPES", "benchmark_scenes"]

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
INDOOR_REVERB = {"rt60_s": 0.4, "room_volume_m3": 400.0}
OUTDOOR_REVERB = {"rt60_s": 0.8, "room_volume_m3": 20000.0}


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


def _base_scenes(seed: int, variant: int, scene_type: str, duration_s: float, fallback: str):
    """(name, environment, background, [SourceSpec]) of one scene type and variant."""
    ti = SCENE_TYPES.index(scene_type)
    rng = np.random.default_rng([seed, variant, ti])
    out = []
    if scene_type == "static-1":
        for where, (lo, hi) in (
            ("left", (20.0, 38.0)),
            ("centre", (-5.0, 5.0)),
            ("right", (-38.0, -20.0)),
        ):
            name = _check(_pick(rng, BENCH_INSTRUMENTS), fallback)
            az = float(rng.uniform(lo, hi))
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
        a = _check(_pick(rng, BENCH_INSTRUMENTS), fallback)
        b = _check(_pick(rng, BENCH_INSTRUMENTS, exclude=(a,)), fallback)
        az_l, az_r = float(rng.uniform(22, 38)), float(rng.uniform(-38, -22))
        out.append(
            (
                f"{scene_type}-v{variant}-left-right-{a}-{b}",
                "indoor",
                "a stage",
                [
                    _stage_instrument(rng, a, az_l),
                    _stage_instrument(rng, b, az_r),
                ],
            )
        )
        c = _check(_pick(rng, BENCH_INSTRUMENTS), fallback)
        d = _check(_pick(rng, BENCH_INSTRUMENTS, exclude=(c,)), fallback)
        side = 1.0 if variant % 2 == 0 else -1.0
        az_c = float(rng.uniform(-4, 4)) - side * 2.0
        az_s = az_c + side * float(rng.uniform(40, 44))
        where = "centre-left" if side > 0 else "centre-right"
        out.append(
            (
                f"{scene_type}-v{variant}-{where}-{c}-{d}",
                "indoor",
                "a stage",
                [
                    _stage_instrument(rng, c, az_c),
                    _stage_instrument(rng, d, az_s),
                ],
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
            az = float(rng.uniform(-20, 20))
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
) -> list[SceneSpec]:
    """The benchmark's scene specs (simulate each with :func:`spa2v.sim.simulate`).

    ``variants`` multiplies the set (9 scenes per variant per format and condition).
    ``fallback="synthetic"`` replaces unavailable real sources by synthetic ones
    instead of raising :class:`~spa2v.sim.SimSourceUnavailable`.
    Scene names are ``<geometry id>-<format>-<dry|rev>``; the geometry id is shared by
    the renders of one scene in every format and condition.
    """
    for f in formats:
        if f not in FORMATS:
            raise ValueError(f"unknown format {f!r}; use {FORMATS}")
    for st in scene_types:
        if st not in SCENE_TYPES:
            raise ValueError(f"unknown scene type {st!r}; use {SCENE_TYPES}")
    if fallback not in ("error", "synthetic"):
        raise ValueError("fallback must be 'error' or 'synthetic'")
    specs: list[SceneSpec] = []
    for v in range(variants):
        for st in scene_types:
            for gi, (gid, env, bg, sources) in enumerate(
                _base_scenes(seed, v, st, duration_s, fallback)
            ):
                for fmt in formats:
                    # Seeded by the format's place in FORMATS, not in ``formats``: a
                    # subset (``spa2v bench --formats foa``) renders the same clips.
                    fi = FORMATS.index(fmt)
                    for rev in reverb:
                        room = (INDOOR_REVERB if env == "indoor" else OUTDOOR_REVERB) if rev else {}
                        specs.append(
                            SceneSpec(
                                sources=sources,
                                format=fmt,
                                duration_s=duration_s,
                                sr=sr,
                                snr_db=snr_db,
                                seed=int(
                                    np.random.default_rng(
                                        [seed, v, SCENE_TYPES.index(st), gi, fi, int(rev)]
                                    ).integers(1 << 31)
                                ),
                                name=f"{gid}-{fmt}-{'rev' if rev else 'dry'}",
                                scene_type=st,
                                environment=env,
                                background=bg,
                                **room,
                            )
                        )
    return specs
