"""Dry (anechoic, mono) sources for the simulator.

Three origins, all returning mono float audio:

* **synthetic** — made here from a seed: an engine-like harmonic tone with amplitude
  modulation and noise, a steady harmonic tone (for Doppler tests), broadband noise
  bursts, steady noise, and simple instrument-like tones. Always available.
* **real recordings** — Debian's ``openttd-opensfx`` (vehicles, trains, aircraft,
  animals; CC-BY/CC0 per clip), read straight from its ``opensfx.cat`` archive.
* **rendered** — instruments from the General MIDI soundfont (Debian
  ``fluid-soundfont-gm``) rendered by the ``fluidsynth`` command line from a MIDI file
  written here, and speech from ``espeak-ng``. Renders are cached under
  ``sim`` of spa2v's cache folder (:func:`spa2v.io.cache.cache_dir`).

Real and rendered sources are what a tagger such as YAMNet recognises, so labelled
scenes (the benchmark) use them; the synthetic ones are for physics tests.

Every source has a registry entry (:data:`SOURCES`) with the visual noun a planner
would draw, the AudioSet class name it should be tagged as, and a few acceptable
alternative labels. :func:`dry_source` returns a clip of any length at any rate,
normalised to unit RMS (looped with a cross-fade when the recording is shorter).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

from spa2v.sim._util import SimSourceUnavailable, cache_dir, pink_noise, resample, rms

OPENSFX_PATH = Path("/usr/share/games/openttd/baseset/opensfx/opensfx.cat")
SOUNDFONT_PATHS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)

__all__ = [
    "OPENSFX_PATH",
    "SOURCES",
    "SourceInfo",
    "available_sources",
    "dry_source",
    "fit_length",
    "opensfx_credits",
    "read_opensfx",
    "render_soundfont",
    "render_speech",
    "source_available",
    "source_info",
]


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceInfo:
    """What a dry source is.

    ``origin`` is ``synthetic``, ``opensfx``, ``soundfont`` or ``speech``.
    ``audio_label`` is an AudioSet class name exactly as in the YAMNet class map;
    ``accept_labels`` lists other class names a tagger may fairly answer.
    ``emitter_height_m`` is where the sound comes from, above the object's base.
    ``key`` is the opensfx title, the GM program (``-1`` = drum kit) or the speech text.
    """

    name: str
    noun: str
    audio_label: str
    origin: str
    key: object = None
    accept_labels: tuple[str, ...] = ()
    emitter_height_m: float = 1.0
    moving: bool = False  # a vehicle: used for the moving benchmark scenes
    params: dict = field(default_factory=dict, hash=False, compare=False)


_MUSIC = ("Music", "Musical instrument")


def _reg(*infos: SourceInfo) -> dict[str, SourceInfo]:
    return {i.name: i for i in infos}


SOURCES: dict[str, SourceInfo] = _reg(
    # --- synthetic -----------------------------------------------------------
    SourceInfo(
        "engine",
        "car",
        "Engine",
        "synthetic",
        None,
        (
            "Car",
            "Idling",
            "Vehicle",
            "Motor vehicle (road)",
            "Medium engine (mid frequency)",
            "Heavy engine (low frequency)",
            "Light engine (high frequency)",
        ),
        0.5,
        True,
    ),
    SourceInfo(
        "car",
        "car",
        "Car",
        "synthetic",
        None,
        (
            "Vehicle",
            "Motor vehicle (road)",
            "Engine",
            "Car passing by",
            "Idling",
            "Accelerating, revving, vroom",
            "Medium engine (mid frequency)",
        ),
        0.5,
        True,
    ),
    SourceInfo(
        "tone",
        "speaker",
        "Sine wave",
        "synthetic",
        None,
        ("Sine wave", "Beep, bleep", "Hum", "Buzz"),
        1.0,
    ),
    SourceInfo(
        "noise-bursts",
        "speaker",
        "White noise",
        "synthetic",
        None,
        ("White noise", "Noise", "Static", "Pink noise"),
        1.0,
    ),
    SourceInfo(
        "noise",
        "speaker",
        "Pink noise",
        "synthetic",
        None,
        ("White noise", "Noise", "Static", "Pink noise"),
        1.0,
    ),
    SourceInfo("synth-piano", "piano", "Piano", "synthetic", None, _MUSIC, 1.0),
    SourceInfo("synth-flute", "flute", "Flute", "synthetic", None, _MUSIC, 1.4),
    SourceInfo("synth-violin", "violin", "Violin, fiddle", "synthetic", None, _MUSIC, 1.4),
    # --- real recordings: Debian openttd-opensfx ------------------------------
    # Accepted alternatives are near-synonyms only: generic parents such as "Vehicle"
    # (which a tagger maps to "car") are not a fair answer for a bus or a train.
    SourceInfo("bus", "bus", "Bus", "opensfx", "Modern bus start", ("Truck",), 1.0, True),
    SourceInfo("old-bus", "bus", "Bus", "opensfx", "Old bus start", ("Truck",), 1.0, True),
    SourceInfo(
        "truck",
        "truck",
        "Truck",
        "opensfx",
        "Truck/old bus start, pull away",
        ("Bus", "Air brake", "Air horn, truck horn"),
        1.0,
        True,
    ),
    SourceInfo(
        "train",
        "train",
        "Train",
        "opensfx",
        "Diesel/electric train station departure",
        ("Train horn", "Rail transport", "Railroad car, train wagon", "Train wheels squealing"),
        1.5,
        True,
    ),
    SourceInfo(
        "level-crossing",
        "train",
        "Train",
        "opensfx",
        "Level crossing",
        ("Rail transport", "Railroad car, train wagon", "Train horn", "Train wheels squealing"),
        1.5,
        True,
    ),
    SourceInfo(
        "steam-train",
        "steam locomotive",
        "Steam whistle",
        "opensfx",
        "Steam train station departure",
        ("Train", "Train whistle", "Rail transport", "Steam"),
        2.5,
        True,
    ),
    SourceInfo(
        "monorail",
        "train",
        "Train",
        "opensfx",
        "Monorail train station departure",
        ("Rail transport", "Railroad car, train wagon", "Subway, metro, underground"),
        1.5,
        True,
    ),
    SourceInfo(
        "airplane",
        "airplane",
        "Aircraft",
        "opensfx",
        "Mach 1+ Jet take off",
        ("Jet engine", "Aircraft engine", "Fixed-wing aircraft, airplane"),
        2.0,
        True,
    ),
    SourceInfo(
        "jet",
        "airplane",
        "Aircraft",
        "opensfx",
        "Early jet take off",
        ("Jet engine", "Aircraft engine", "Fixed-wing aircraft, airplane"),
        2.0,
        True,
    ),
    SourceInfo(
        "propeller-plane",
        "propeller plane",
        "Propeller, airscrew",
        "opensfx",
        "Propeller plane start",
        ("Aircraft", "Aircraft engine", "Fixed-wing aircraft, airplane"),
        1.5,
        True,
    ),
    SourceInfo(
        "helicopter",
        "helicopter",
        "Helicopter",
        "opensfx",
        "Helicopter",
        ("Aircraft", "Aircraft engine", "Propeller, airscrew"),
        1.5,
        True,
    ),
    SourceInfo(
        "ship",
        "ship",
        "Ship",
        "opensfx",
        "Ship horn",
        ("Foghorn", "Boat, Water vehicle", "Vehicle horn, car horn, honking"),
        5.0,
    ),
    SourceInfo(
        "car-horn",
        "car",
        "Vehicle horn, car horn, honking",
        "opensfx",
        "Modern car horn",
        ("Toot", "Car", "Vehicle"),
        0.8,
    ),
    SourceInfo(
        "cow",
        "cow",
        "Cattle, bovinae",
        "opensfx",
        "Cow",
        ("Moo", "Livestock, farm animals, working animals", "Animal"),
        1.2,
    ),
    SourceInfo(
        "horse",
        "horse",
        "Horse",
        "opensfx",
        "Horse",
        ("Neigh, whinny", "Livestock, farm animals, working animals", "Animal"),
        1.6,
    ),
    SourceInfo(
        "sheep",
        "sheep",
        "Sheep",
        "opensfx",
        "Sheep",
        ("Bleat", "Livestock, farm animals, working animals", "Animal"),
        0.7,
    ),
    SourceInfo(
        "lion",
        "lion",
        "Roaring cats (lions, tigers)",
        "opensfx",
        "Tropical: Lion roar",
        ("Roar", "Growling", "Wild animals", "Animal"),
        0.9,
    ),
    SourceInfo(
        "monkey",
        "animal",
        "Animal",
        "opensfx",
        "Tropical: Monkeys",
        ("Wild animals", "Screaming", "Squeal"),
        0.8,
    ),
    SourceInfo(
        "bird",
        "bird",
        "Bird",
        "opensfx",
        "Tropical: Bird (1)",
        ("Bird vocalization, bird call, bird song", "Chirp, tweet", "Animal", "Wild animals"),
        0.2,
    ),
    SourceInfo(
        "chainsaw",
        "chainsaw",
        "Chainsaw",
        "opensfx",
        "Lumber mill: Chainsaw",
        ("Power tool", "Engine", "Light engine (high frequency)", "Lawn mower"),
        0.8,
    ),
    SourceInfo(
        "jackhammer",
        "jackhammer",
        "Jackhammer",
        "opensfx",
        "Jackhammer",
        ("Power tool", "Tools", "Hammer"),
        1.0,
    ),
    SourceInfo(
        "applause",
        "crowd",
        "Applause",
        "opensfx",
        "Applause",
        ("Clapping", "Crowd", "Cheering"),
        1.2,
    ),
    # --- rendered from the General MIDI soundfont ------------------------------
    SourceInfo(
        "piano",
        "piano",
        "Piano",
        "soundfont",
        0,
        ("Keyboard (musical)", "Electric piano", *_MUSIC),
        1.0,
    ),
    SourceInfo(
        "organ",
        "organ",
        "Organ",
        "soundfont",
        19,
        ("Keyboard (musical)", "Hammond organ", "Electronic organ", *_MUSIC),
        1.2,
    ),
    SourceInfo(
        "guitar",
        "guitar",
        "Acoustic guitar",
        "soundfont",
        25,
        ("Guitar", "Plucked string instrument", "Strum", *_MUSIC),
        1.0,
    ),
    SourceInfo(
        "violin",
        "violin",
        "Violin, fiddle",
        "soundfont",
        40,
        ("Bowed string instrument", "String section", "Cello", *_MUSIC),
        1.4,
    ),
    SourceInfo(
        "cello",
        "cello",
        "Cello",
        "soundfont",
        42,
        ("Bowed string instrument", "Violin, fiddle", "String section", *_MUSIC),
        0.8,
    ),
    SourceInfo(
        "harp", "harp", "Harp", "soundfont", 46, ("Plucked string instrument", *_MUSIC), 1.0
    ),
    SourceInfo(
        "trumpet",
        "trumpet",
        "Trumpet",
        "soundfont",
        56,
        ("Brass instrument", "French horn", "Trombone", *_MUSIC),
        1.5,
    ),
    SourceInfo(
        "trombone",
        "trombone",
        "Trombone",
        "soundfont",
        57,
        ("Brass instrument", "Trumpet", "French horn", *_MUSIC),
        1.5,
    ),
    SourceInfo(
        "saxophone",
        "saxophone",
        "Saxophone",
        "soundfont",
        65,
        ("Wind instrument, woodwind instrument", "Clarinet", *_MUSIC),
        1.3,
    ),
    SourceInfo(
        "clarinet",
        "clarinet",
        "Clarinet",
        "soundfont",
        71,
        ("Wind instrument, woodwind instrument", "Saxophone", *_MUSIC),
        1.4,
    ),
    SourceInfo(
        "flute",
        "flute",
        "Flute",
        "soundfont",
        73,
        ("Wind instrument, woodwind instrument", *_MUSIC),
        1.5,
    ),
    SourceInfo(
        "drums",
        "drum kit",
        "Drum kit",
        "soundfont",
        -1,
        (
            "Drum",
            "Percussion",
            "Snare drum",
            "Bass drum",
            "Drum machine",
            "Cymbal",
            "Hi-hat",
            *_MUSIC,
        ),
        0.8,
    ),
    SourceInfo(
        "marimba",
        "xylophone",
        "Marimba, xylophone",
        "soundfont",
        12,
        ("Mallet percussion", "Glockenspiel", "Vibraphone", *_MUSIC),
        0.9,
    ),
    # --- speech from espeak-ng -------------------------------------------------
    SourceInfo(
        "speech",
        "person",
        "Speech",
        "speech",
        "The quick brown fox jumps over the lazy dog. Please take a seat, the show "
        "is about to begin. Thank you all for coming here tonight.",
        ("Narration, monologue", "Speech synthesizer", "Conversation"),
        1.6,
    ),
)


def source_info(name: str) -> SourceInfo:
    """The registry entry of a named source (a :class:`Spa2vError` if unknown)."""
    try:
        return SOURCES[name]
    except KeyError:
        raise SimSourceUnavailable(
            f"unknown simulator source {name!r}; known: {', '.join(sorted(SOURCES))}"
        ) from None


def source_available(name: str) -> bool:
    """Whether the system packages a named source needs are installed."""
    info = source_info(name)
    if info.origin == "synthetic":
        return True
    if info.origin == "opensfx":
        return OPENSFX_PATH.is_file()
    if info.origin == "soundfont":
        return shutil.which("fluidsynth") is not None and _soundfont_path() is not None
    if info.origin == "speech":
        return shutil.which("espeak-ng") is not None
    return False


def available_sources(origin: str | None = None) -> list[str]:
    """Names of the sources usable on this machine (optionally of one origin)."""
    return [
        n
        for n, i in SOURCES.items()
        if (origin is None or i.origin == origin) and source_available(n)
    ]


# ---------------------------------------------------------------------------
# Synthetic sources
# ---------------------------------------------------------------------------


def _engine(n: int, sr: int, rng: np.random.Generator, f0: float = 38.0, **_: object):
    """Engine-like: firing-rate harmonics with slow rpm drift, AM and filtered noise."""
    t = np.arange(n) / sr
    drift = np.cumsum(rng.standard_normal(n)) / np.sqrt(sr) * 0.6  # slow random walk
    drift -= np.linspace(drift[0], drift[-1], n)
    f = f0 * (1.0 + 0.03 * np.sin(2 * np.pi * 0.3 * t) + 0.01 * drift)
    phase = 2 * np.pi * np.cumsum(f) / sr
    y = np.zeros(n)
    for k in range(1, 40):
        if k * f0 > 0.45 * sr:
            break
        amp = 1.0 / k**0.9 * (1.4 if k % 2 == 0 else 1.0)  # 4-stroke: even orders strong
        y += amp * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    am = 1.0 + 0.35 * np.sin(2 * np.pi * (f0 / 2) * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3.1 * t))
    y *= am
    noise = pink_noise(n, rng, sr)
    y = y / max(rms(y), 1e-12) + 0.3 * noise
    return y


def _car(
    n: int,
    sr: int,
    rng: np.random.Generator,
    rpm: float | None = None,
    cylinders: int = 4,
    road: float | None = None,
    speed_mps: float | None = None,
    **_: object,
):
    """A car: combustion pulses at the firing rate (each a short damped noise burst with
    a low thump, amplitude jittered per cylinder) low-passed by the exhaust, slow rpm
    swells, plus tyre/road noise.

    Idling (``speed_mps`` None): 850-1000 rpm and low-passed road noise at 0.6 of the
    engine. Driving at ``speed_mps``: the engine turns at ``1400 + 12 * km/h`` rpm (about
    2000 rpm at 50 km/h, a mid gear) and the tyre/road noise -- a band around 500-2000 Hz,
    where tyre noise peaks -- grows as ``speed ** 1.5`` in amplitude (its sound power as
    about ``v^3``), equal to the engine at 40 km/h: the crossover speed above which tyres
    dominate a passing car.
    """
    from scipy.signal import butter, sosfilt

    if speed_mps is not None:
        rpm = 1400.0 + 12.0 * 3.6 * float(speed_mps) if rpm is None else float(rpm)
        road = (float(speed_mps) / (40.0 / 3.6)) ** 1.5 if road is None else float(road)
    rpm = float(rng.uniform(850, 1000)) if rpm is None else float(rpm)
    road = 0.6 if road is None else float(road)
    t = np.arange(n) / sr
    swell = 1.0 + 0.2 * np.sin(2 * np.pi * t / 6.0 + rng.uniform(0, 2 * np.pi))
    fire_hz = rpm / 60.0 * cylinders / 2.0 * swell
    phase = np.cumsum(fire_hz) / sr
    onsets = np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1
    length = int(0.02 * sr)
    tt = np.arange(length) / sr
    kernels = [
        rng.standard_normal(length) * np.exp(-tt / 0.004)
        + 3.0 * np.exp(-tt / 0.003) * np.sin(2 * np.pi * 90.0 * tt)
        for _ in range(cylinders)
    ]
    y = np.zeros(n + length)
    for k, i in enumerate(onsets):
        amp = 1.0 + 0.15 * rng.standard_normal() + (0.2 if k % cylinders == 0 else 0.0)
        y[i : i + length] += amp * kernels[k % cylinders]
    y = sosfilt(butter(4, min(2500.0, 0.45 * sr) / (sr / 2), output="sos"), y[:n])
    y /= max(rms(y), 1e-12)
    if speed_mps is None:
        road_filter = butter(2, 1200.0 / (sr / 2), output="sos")
    else:
        road_filter = butter(
            2, [500.0 / (sr / 2), min(2000.0, 0.45 * sr) / (sr / 2)], "bandpass", output="sos"
        )
    noise = sosfilt(road_filter, pink_noise(n, rng, sr))
    return y + road * noise / max(rms(noise), 1e-12)


def _tone(
    n: int, sr: int, rng: np.random.Generator, f0: float = 440.0, harmonics: int = 3, **_: object
):
    """A steady harmonic tone at exactly ``f0`` (Doppler reference)."""
    t = np.arange(n) / sr
    y = np.zeros(n)
    for k in range(1, harmonics + 1):
        if k * f0 < 0.45 * sr:
            y += np.sin(2 * np.pi * k * f0 * t) / k
    return y


def _noise_bursts(
    n: int,
    sr: int,
    rng: np.random.Generator,
    burst_s: float = 0.25,
    gap_s: float = 0.15,
    **_: object,
):
    """White noise bursts with 5 ms ramps."""
    y = rng.standard_normal(n)
    period = burst_s + gap_s
    t = np.arange(n) / sr
    ph = np.mod(t, period)
    ramp = 0.005
    env = np.clip(np.minimum(ph / ramp, (burst_s - ph) / ramp), 0.0, 1.0)
    return y * env


def _noise(n: int, sr: int, rng: np.random.Generator, **_: object):
    return pink_noise(n, rng, sr)


def _notes(n: int, sr: int, rng: np.random.Generator, kind: str, **_: object):
    """Instrument-like additive tones: a short melody, one note every 0.4-0.6 s."""
    scale = np.array([0, 2, 4, 5, 7, 9, 11, 12])
    base = {"synth-piano": 60, "synth-flute": 72, "synth-violin": 67}[kind]
    t_all = np.arange(n) / sr
    y = np.zeros(n)
    pos = 0
    while pos < n:
        dur = int(sr * rng.uniform(0.4, 0.6))
        end = min(n, pos + dur + int(0.3 * sr))
        t = t_all[: end - pos]
        f = 440.0 * 2 ** ((base + scale[rng.integers(len(scale))] - 69) / 12)
        if kind == "synth-piano":
            env = np.exp(-t * 3.0) * np.minimum(t / 0.003, 1)
            parts: list[tuple[int, np.ndarray | float]] = [
                (k, 0.6**k * np.exp(-t * k * 0.8)) for k in range(1, 10)
            ]
            fm: np.ndarray | float = 0.0
        else:
            a = 0.06 if kind == "synth-flute" else 0.04
            env = np.clip(np.minimum(t / a, (dur / sr - t) / 0.05 + 1), 0, 1)
            vib = 0.006 * np.sin(2 * np.pi * 5.5 * t) * np.minimum(t / 0.3, 1)
            fm = vib
            if kind == "synth-flute":
                parts = [(1, 1.0), (2, 0.25), (3, 0.12)]
            else:
                parts = [(k, 1.0 / k) for k in range(1, 16)]
        ph = 2 * np.pi * np.cumsum(f * (1 + fm)) / sr
        note = sum(amp * np.sin(k * ph) for k, amp in parts if k * f < 0.45 * sr)
        if kind == "synth-flute":
            note = note + 0.05 * rng.standard_normal(t.size)
        y[pos:end] += env * note
        pos += dur
    return y


_SYNTH: dict[str, Callable[..., np.ndarray]] = {
    "engine": _engine,
    "car": _car,
    "tone": _tone,
    "noise-bursts": _noise_bursts,
    "noise": _noise,
    "synth-piano": lambda n, sr, rng, **k: _notes(n, sr, rng, "synth-piano"),
    "synth-flute": lambda n, sr, rng, **k: _notes(n, sr, rng, "synth-flute"),
    "synth-violin": lambda n, sr, rng, **k: _notes(n, sr, rng, "synth-violin"),
}


# ---------------------------------------------------------------------------
# opensfx
# ---------------------------------------------------------------------------


def _opensfx_title(raw: str) -> str:
    """The short title of an opensfx entry: its first quoted part."""
    raw = raw.strip()
    if raw.startswith('"') and '"' in raw[1:]:
        return raw[1 : raw.index('"', 1)].strip()
    return raw.split(".")[0].strip()


@lru_cache(maxsize=2)
def _read_opensfx_cached(path: str) -> tuple[dict, dict]:
    p = Path(path)
    if not p.is_file():
        raise SimSourceUnavailable(
            f"real dry recordings need Debian's openttd-opensfx ({p} not found); "
            "install it with `apt-get install openttd-opensfx` (or run scripts/setup.sh as root)"
        )
    data = p.read_bytes()
    if len(data) < 8:
        raise SimSourceUnavailable(f"{p} is not an opensfx archive (too short)")
    first = struct.unpack_from("<I", data, 0)[0] & 0x7FFFFFFF
    n = first // 8
    clips: dict[str, tuple[np.ndarray, int]] = {}
    credits: dict[str, str] = {}
    for i in range(n):
        # Offsets carry a flag in the top bit (OpenTTD's "new format" marker).
        off, size = struct.unpack_from("<II", data, 8 * i)
        off &= 0x7FFFFFFF
        if off >= len(data) or size == 0:
            continue
        ln = data[off]
        raw = data[off + 1 : off + 1 + ln].rstrip(b"\0").decode("latin-1")
        wav = data[off + 1 + ln : off + size]
        if not wav.startswith(b"RIFF"):
            continue  # the archive's "Unused/Nothing" placeholders
        try:
            x, sr = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
        except (RuntimeError, sf.LibsndfileError):  # pragma: no cover - corrupt entry
            continue
        if x.shape[0] == 0:
            continue
        title = _opensfx_title(raw)
        if title in clips:
            title = f"{title} ({i})"
        clips[title] = (np.ascontiguousarray(x.mean(axis=1), dtype=np.float32), int(sr))
        credits[title] = raw
    return clips, credits


def read_opensfx(path: str | Path | None = None) -> dict[str, tuple[np.ndarray, int]]:
    """All clips of an opensfx archive: short title -> (mono float32 samples, sr).

    Titles are the first quoted part of each entry's name, e.g. ``"Modern bus start"``,
    ``"Helicopter"``, ``"Cow"``. Raises :class:`SimSourceUnavailable` (a
    :class:`~spa2v.errors.Spa2vError`) when the package is not installed.
    """
    clips, _ = _read_opensfx_cached(str(path or OPENSFX_PATH))
    return dict(clips)


def opensfx_credits(path: str | Path | None = None) -> dict[str, str]:
    """Title -> full entry name with author and licence, for attribution."""
    _, credits = _read_opensfx_cached(str(path or OPENSFX_PATH))
    return dict(credits)


# ---------------------------------------------------------------------------
# Soundfont instruments (fluidsynth) and speech (espeak-ng)
# ---------------------------------------------------------------------------


def _soundfont_path() -> Path | None:
    for p in SOUNDFONT_PATHS:
        if p.is_file():
            return p
    return None


def _varlen(v: int) -> bytes:
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


def _midi_file(events: list[tuple[int, bytes]], tpq: int = 480) -> bytes:
    """A format-0 MIDI file from (absolute tick, message bytes) events."""
    events = sorted(events, key=lambda e: (e[0], e[1][0] & 0xF0 != 0x80))
    track = bytearray()
    track += _varlen(0) + b"\xff\x51\x03" + (500000).to_bytes(3, "big")  # 120 bpm
    last = 0
    for tick, msg in events:
        track += _varlen(tick - last) + msg
        last = tick
    track += _varlen(tpq) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpq)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


#: How each GM program is played: (style, root note). Chosen so that YAMNet names the
#: instrument (e.g. a piano playing a melody over chords is "Piano", while arpeggiated
#: chords are heard as "Guitar"; an alto sax below C4 is "Saxophone", above it "Flute").
_PROGRAM_STYLE: dict[int, tuple[str, int]] = {
    0: ("melody+chords", 60),
    25: ("strum", 48),
    46: ("arpeggio", 60),
    12: ("arpeggio", 60),
    19: ("sustained", 60),
    42: ("melody", 48),
    57: ("melody", 48),
    65: ("melody", 52),
}
_CHORDS = [(0, 4, 7, 12), (-3, 0, 4, 9), (-7, -3, 0, 5), (-5, -1, 2, 7)]  # I vi IV V


def _instrument_midi(program: int, seconds: float = 8.0) -> bytes:
    """A short, characteristic phrase for a GM program (``-1`` = drum kit), 120 bpm."""
    tpq = 480
    ev: list[tuple[int, bytes]] = []
    beats = int(seconds * 2)

    def note(tick: int, key: int, dur: int, vel: int = 90, ch: int = 0) -> None:
        ev.append((tick, bytes([0x90 | ch, key, vel])))
        ev.append((tick + dur, bytes([0x80 | ch, key, 0])))

    if program < 0:  # drums on channel 10: a rock beat in eighths
        for b8 in range(beats * 2):
            tick = b8 * tpq // 2
            keys = [42] + ([36] if b8 % 4 == 0 else []) + ([38] if b8 % 4 == 2 else [])
            keys += [49] if b8 % 16 == 15 else []
            for k in keys:
                note(tick, k, tpq // 4, 100, 9)
        return _midi_file(ev, tpq)
    ev.append((0, bytes([0xC0, program])))
    style, root = _PROGRAM_STYLE.get(program, ("melody", 60))
    n_bars = beats // 4 + 1
    if style == "melody":  # a legato tune of quarter and half notes
        tune = [0, 2, 4, 5, 7, 5, 4, 2, 0, 4, 7, 12, 11, 7, 9, 7, 5, 4, 2, 0]
        lens = [1, 1, 1, 1, 2, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 2]
        tick, i = 0, 0
        while tick < beats * tpq:
            k, n = tune[i % len(tune)], lens[i % len(lens)]
            note(tick, root + k, n * tpq - 10, 96)
            tick += n * tpq
            i += 1
        return _midi_file(ev, tpq)
    mel = [12, 11, 9, 7, 9, 7, 5, 4]
    for bar in range(n_bars):
        chord, start = _CHORDS[bar % len(_CHORDS)], bar * 4 * tpq
        if style == "sustained":
            for k in chord:
                note(start, root + k, 4 * tpq - 20, 90)
        elif style == "melody+chords":
            for i in range(4):
                note(start + i * tpq, root + 12 + mel[(bar * 4 + i) % len(mel)], tpq - 10, 90)
            for k in chord[:3]:
                note(start, root + k, 4 * tpq - 10, 70)
        elif style == "strum":
            for beat in range(4):
                strum = (*chord, chord[0] + 12, chord[1] + 12)
                for j, k in enumerate(strum):
                    note(start + beat * tpq + j * 12, root + k, tpq - 10 - j * 12, 80)
        else:  # arpeggio in eighths
            for i in range(8):
                k = chord[i % len(chord)] + (12 if i >= 4 else 0)
                note(start + i * tpq // 2, root + k, tpq, 85 + (i % 2) * 10)
    return _midi_file(ev, tpq)


def render_soundfont(program: int, seconds: float = 8.0, sr: int = 44100) -> tuple[np.ndarray, int]:
    """Render a GM program (``-1`` = drum kit) with fluidsynth, dry (reverb and chorus off).

    Cached under :func:`~spa2v.sim._util.cache_dir`. Raises
    :class:`SimSourceUnavailable` when fluidsynth or the soundfont is missing.
    """
    fs = shutil.which("fluidsynth")
    sf2 = _soundfont_path()
    if fs is None or sf2 is None:
        raise SimSourceUnavailable(
            "instrument sources need fluidsynth and a General MIDI soundfont; install them "
            "with `apt-get install fluidsynth fluid-soundfont-gm`"
        )
    midi = _instrument_midi(program, seconds)
    h = hashlib.sha256(midi + str(sf2).encode() + str(sr).encode()).hexdigest()[:16]
    out = cache_dir() / f"gm-{program}-{h}.wav"
    if not out.is_file():
        tag = np.random.default_rng().integers(1 << 30)  # unique: parallel renders
        tmp_mid = out.with_suffix(f".{tag}.tmp.mid")
        tmp_mid.write_bytes(midi)
        tmp_wav = out.with_suffix(f".{tag}.tmp.wav")
        cmd = [
            fs,
            "-ni",
            "-q",
            "-R",
            "0",
            "-C",
            "0",
            "-g",
            "0.8",
            "-r",
            str(sr),
            "-F",
            str(tmp_wav),
            "-T",
            "wav",
            str(sf2),
            str(tmp_mid),
        ]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=120)
            tmp_wav.replace(out)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
            raise SimSourceUnavailable(
                f"fluidsynth failed to render GM program {program}: {e}"
            ) from e
        finally:
            tmp_mid.unlink(missing_ok=True)
            tmp_wav.unlink(missing_ok=True)
    x, r = sf.read(out, dtype="float32", always_2d=True)
    return np.ascontiguousarray(x.mean(axis=1)), int(r)


def render_speech(text: str, voice: str = "en-us", wpm: int = 150) -> tuple[np.ndarray, int]:
    """Speech from espeak-ng (cached); raises :class:`SimSourceUnavailable` without it."""
    es = shutil.which("espeak-ng")
    if es is None:
        raise SimSourceUnavailable("speech sources need espeak-ng (`apt-get install espeak-ng`)")
    h = hashlib.sha256(f"{voice}|{wpm}|{text}".encode()).hexdigest()[:16]
    out = cache_dir() / f"speech-{h}.wav"
    if not out.is_file():
        tmp = out.with_suffix(f".{np.random.default_rng().integers(1 << 30)}.tmp.wav")
        try:
            subprocess.run(
                [es, "-v", voice, "-s", str(wpm), "-w", str(tmp), text],
                check=True,
                capture_output=True,
                timeout=60,
            )
            tmp.replace(out)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
            raise SimSourceUnavailable(f"espeak-ng failed: {e}") from e
        finally:
            tmp.unlink(missing_ok=True)
    x, r = sf.read(out, dtype="float32", always_2d=True)
    return np.ascontiguousarray(x.mean(axis=1)), int(r)


# ---------------------------------------------------------------------------
# Public: a dry clip of any length
# ---------------------------------------------------------------------------


def _trim(x: np.ndarray, thresh_db: float = -45.0) -> np.ndarray:
    """Drop leading/trailing near-silence (relative to the peak)."""
    if x.size == 0:
        return x
    env = np.abs(x)
    thr = env.max() * 10 ** (thresh_db / 20)
    idx = np.flatnonzero(env > thr)
    if idx.size == 0:
        return x
    return x[idx[0] : idx[-1] + 1]


def fit_length(
    x: np.ndarray, n: int, sr: int, offset: int = 0, xfade_s: float = 0.05
) -> np.ndarray:
    """Exactly ``n`` samples of ``x`` starting ``offset`` samples into it, looped when
    needed (any integer offset; negative ones wrap around).

    Looping uses a seamless cycle of period ``len(x) - xfade``: its first ``xfade``
    samples are an equal-power cross-fade from the clip's tail into its head, so sample
    ``offset + k`` of the output is always cycle position ``(offset + k) mod period``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return np.zeros(n)
    j = int(offset) + np.arange(n)
    if n and j[0] >= 0 and j[-1] < x.size:
        return x[j].copy()
    xf = min(int(xfade_s * sr), x.size // 4)
    period = x.size - xf
    cycle = x[:period].copy()
    if xf:
        ph = (np.arange(xf) + 0.5) / xf * (np.pi / 2)
        cycle[:xf] = x[:xf] * np.sin(ph) + x[period:] * np.cos(ph)
    return cycle[np.mod(j, period)]


def _native(name: str, seed: int, params: dict) -> tuple[np.ndarray, int]:
    info = source_info(name)
    if info.origin == "opensfx":
        clips = read_opensfx()
        if info.key not in clips:
            raise SimSourceUnavailable(f"opensfx clip {info.key!r} not found in {OPENSFX_PATH}")
        x, r = clips[info.key]
        return _trim(x.astype(np.float64)), r
    if info.origin == "soundfont":
        x, r = render_soundfont(int(str(info.key)))
        return _trim(x.astype(np.float64)), r
    if info.origin == "speech":
        x, r = render_speech(str(params.get("text", info.key)))
        return _trim(x.astype(np.float64)), r
    raise SimSourceUnavailable(f"dry source {name!r} has no recording or render ({info.origin})")


def steady_level(
    x: np.ndarray, sr: int, window_s: float = 0.5, range_db: float = 30.0
) -> np.ndarray:
    """``x`` with its slow level changes removed: divided by its RMS envelope over
    ``window_s`` windows, keeping timbre and faster dynamics (firing pulses, rotor
    beats). Parts more than ``range_db`` below the loudest are raised by at most that
    much, so a silent tail stays quiet.

    A recording of a vehicle carries the level changes of its own motion relative to
    the recordist (opensfx's "Mach 1+ Jet take off" rises 28 dB as the jet runs up and
    falls as it leaves, and looping it makes a saw-tooth); the simulator moves the
    source itself, so the motion heard must be the simulated one.

    >>> t = np.arange(16000) / 8000
    >>> x = np.sin(2 * np.pi * 200 * t) * np.linspace(0.1, 1.0, t.size)  # +20 dB ramp
    >>> def db(z): return round(20 * np.log10(rms(z[1000:3000]) / rms(z[13000:15000])))
    >>> db(x), db(steady_level(x, 8000))  # start vs end, dB
    (-12, -1)
    """
    from scipy.ndimage import uniform_filter1d

    x = np.asarray(x, dtype=np.float64)
    power = uniform_filter1d(x**2, max(1, round(window_s * sr)), mode="nearest")
    envelope = np.sqrt(np.maximum(power, power.max() * 10 ** (-range_db / 10)))
    return x / np.maximum(envelope, 1e-12)


def dry_source(
    name: str,
    sr: int,
    n_samples: int,
    seed: int = 0,
    offset_s: float = 0.0,
    params: dict | None = None,
) -> np.ndarray:
    """``n_samples`` of the named dry source at ``sr``, unit RMS, float64.

    Synthetic sources are generated from ``seed`` (``params`` tunes them, e.g.
    ``{"f0": 440.0}`` for ``tone``); recordings and renders are resampled, trimmed of
    silence and looped with a cross-fade, starting ``offset_s`` into the clip.
    ``params={"steady_level_s": w}`` first flattens a recording's level over ``w``-second
    windows (:func:`steady_level`).
    """
    params = dict(params or {})
    steady_s = params.pop("steady_level_s", None)
    rng = np.random.default_rng(seed)
    if name in _SYNTH:
        y = _SYNTH[name](n_samples, sr, rng, **params)
    else:
        x, r = _native(name, seed, params)
        if steady_s:
            x = steady_level(x, r, float(steady_s))
        x = resample(x, r, sr)
        y = fit_length(x, n_samples, sr, offset=round(offset_s * sr))
    s = rms(y)
    if s <= 0:
        return np.zeros(n_samples)
    return (y / s).astype(np.float64)
