"""The output of hearing: one :class:`CueTrack` per source, inside a :class:`Cues`.

This module is the contract between hearing, tagging and planning. It holds data and
(de)serialization only; the estimators that fill it live in sibling modules.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from spa2v.errors import AudioInputError, shorten
from spa2v.io.atomic import write_text_atomic

LateralMotion = Literal["static", "left-to-right", "right-to-left", "other"]
DepthMotion = Literal["static", "approaching", "receding", "approaching-then-receding", "other"]

CUES_SCHEMA = "spa2v.cues/1"

#: The azimuth confidence that sound without any direction reaches, per layout: a frame
#: below it is heard without a direction. The 99.9th percentile of the active frames of
#: independent noise in each channel (white, pink, speech-band; the high-frequency limit
#: of a diffuse field), rounded up (``benchmarks/bench_confidence.py --null``: binaural
#: 0.111, spaced 0.094, panned 0.195). Above it a higher confidence does not mean a
#: better direction: on the simulated benchmark's development scenes frames of 0.1-0.2
#: are as often within 15 deg of the truth as those of 0.2-0.3 (``--seeds 1,2``). FOA
#: has no such floor (a diffuse field's confidence is 0.68-0.77 there: the intensity of
#: its bins adds up to some direction), so the highest of the stereo floors stands in.
DIRECTION_FLOOR = {"binaural": 0.12, "spaced": 0.10, "panned": 0.20, "foa": 0.20}


@dataclass
class Label:
    """One tag of a source: an AudioSet class, its score and the drawable noun."""

    audio_label: str  # e.g. "Car", as named by the tagger ("unknown" when unsure)
    score: float  # in [0, 1]
    noun: str  # drawable noun from the class table, e.g. "car"; "unknown" if none
    family: str = "unknown"  # coarse family: vehicle, train, aircraft, dog, bell, ...


@dataclass
class CueTrack:
    """Cue time series for one source, all arrays of the same length (one per frame).

    Angles are in degrees (azimuth positive to the LEFT), levels in dB, frequencies in
    Hz. Frames where the source is silent have ``active == False``; their direction
    values are carried over from neighbours (not NaN) but have confidence 0.
    """

    source_id: int
    times_s: np.ndarray  # frame centres
    active: np.ndarray  # bool
    loudness_db: np.ndarray  # level of this source (dBFS-like, per frame)
    azimuth_deg: np.ndarray
    azimuth_confidence: np.ndarray  # in [0, 1]
    elevation_deg: np.ndarray | None = None  # FOA only
    distance_proxy: np.ndarray | None = None  # relative distance, 1.0 = loudest frame
    pitch_hz: np.ndarray | None = None  # NaN where no stable tonal component
    spectral_centroid_hz: np.ndarray | None = None
    # Summaries derived from the tracks (filled by the estimators):
    lateral_motion: LateralMotion = "static"
    depth_motion: DepthMotion = "static"
    pitch_change_ratio: float | None = None  # f_end / f_start - 1 over the pass
    speed_mps: float | None = None  # from the Doppler pass-by fit, when it applies
    labels: list[Label] = field(default_factory=list)

    @property
    def span_s(self) -> tuple[float, float]:
        """First and last active frame time (0, 0 if never active)."""
        idx = np.flatnonzero(self.active)
        if idx.size == 0:
            return (0.0, 0.0)
        return float(self.times_s[idx[0]]), float(self.times_s[idx[-1]])

    @property
    def top_label(self) -> Label | None:
        return self.labels[0] if self.labels else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, np.ndarray):
                out[key] = _array_to_list(value)
            else:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CueTrack:
        kwargs = dict(data)
        for key in _ARRAY_FIELDS:
            if kwargs.get(key) is not None:
                dtype = bool if key == "active" else float
                kwargs[key] = np.array(
                    [np.nan if v is None else v for v in kwargs[key]], dtype=dtype
                )
        kwargs["labels"] = [Label(**lab) for lab in kwargs.get("labels", [])]
        return cls(**kwargs)


def heard_direction(track: CueTrack, layout: str) -> np.ndarray:
    """Frames where ``track`` sounds with a direction: active, with a confidence of at
    least the ``layout``'s :data:`DIRECTION_FLOOR` (mono: none).

    >>> track = CueTrack(0, np.arange(3.0), np.ones(3, bool), np.zeros(3), np.zeros(3),
    ...                  np.array([0.05, 0.15, 0.5]))
    >>> heard_direction(track, "spaced").tolist(), heard_direction(track, "panned").tolist()
    ([False, True, True], [False, False, True])
    """
    floor = DIRECTION_FLOOR.get(layout, max(DIRECTION_FLOOR.values()))
    confidence = np.nan_to_num(np.asarray(track.azimuth_confidence, dtype=float))
    sounding = np.asarray(track.active, dtype=bool) & (confidence >= floor)
    return sounding if layout != "mono" else np.zeros_like(sounding)


_ARRAY_FIELDS = (
    "times_s",
    "active",
    "loudness_db",
    "azimuth_deg",
    "azimuth_confidence",
    "elevation_deg",
    "distance_proxy",
    "pitch_hz",
    "spectral_centroid_hz",
)


@dataclass
class Cues:
    """Everything heard in one recording."""

    duration_s: float
    sr: int
    layout: str  # the ChannelLayout used ("mono", "spaced", "panned", "binaural", "foa")
    hop_s: float
    sources: list[CueTrack]
    audio_path: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: False when the recording carries no left/right information (dual-mono): the
    #: azimuths are 0 with confidence 0, and a planner places objects by priors.
    lateral_info: bool = True
    #: For two channels: the stereo analysis (kind, confidence, evidence; see
    #: :class:`spa2v.hearing.stereo_kind.StereoAnalysis`).
    stereo: dict[str, Any] | None = None
    #: Spacing (m) a spaced pair was heard with (given, or bounded from the recording).
    mic_spacing_m: float | None = None
    #: FOA: the view direction (deg, positive = left) azimuths are relative to.
    yaw_deg: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": CUES_SCHEMA,
            "duration_s": self.duration_s,
            "sr": self.sr,
            "layout": self.layout,
            "hop_s": self.hop_s,
            "audio_path": self.audio_path,
            "warnings": list(self.warnings),
            "lateral_info": self.lateral_info,
            "stereo": self.stereo,
            "mic_spacing_m": self.mic_spacing_m,
            "yaw_deg": self.yaw_deg,
            "sources": [s.to_dict() for s in self.sources],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cues:
        return cls(
            duration_s=float(data["duration_s"]),
            sr=int(data["sr"]),
            layout=str(data["layout"]),
            hop_s=float(data["hop_s"]),
            audio_path=data.get("audio_path"),
            warnings=list(data.get("warnings", [])),
            lateral_info=bool(data.get("lateral_info", True)),
            stereo=data.get("stereo"),
            mic_spacing_m=data.get("mic_spacing_m"),
            yaw_deg=data.get("yaw_deg"),
            sources=[CueTrack.from_dict(s) for s in data["sources"]],
        )

    def save(self, path: str | Path) -> Path:
        """Write as JSON, atomically."""
        return write_text_atomic(path, json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Cues:
        """Read a cues JSON file written by :meth:`save` (``spa2v cues -o``).

        Raises :class:`~spa2v.errors.AudioInputError` naming the file when it is missing
        or is not such a file.
        """
        path = Path(path)
        hint = "not a cues file written by `spa2v cues -o`"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AudioInputError(f"{path}: file not found") from None
        except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not JSON
            raise AudioInputError(f"{path}: {hint} ({exc})") from None
        if not isinstance(data, dict) or data.get("schema") != CUES_SCHEMA:
            raise AudioInputError(f'{path}: {hint} (no "schema": "{CUES_SCHEMA}")')
        try:
            cues = cls.from_dict(data)
            _check_consistent(cues)
        except (KeyError, TypeError, ValueError) as exc:
            raise AudioInputError(f"{path}: {hint} (bad field: {exc})") from None
        return cues


def _check_consistent(cues: Cues) -> None:
    """Raise ValueError naming the field when a loaded file cannot describe a recording:
    non-finite or non-positive duration, rate or hop, frame times that are not finite and
    increasing, or per-frame arrays of another length than the times."""
    for name in ("duration_s", "sr", "hop_s"):
        value = getattr(cues, name)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} is {value}")
    _expect(cues.layout in _LAYOUT_NAMES, "layout", cues.layout)
    _expect(isinstance(cues.lateral_info, bool), "lateral_info", cues.lateral_info)
    _expect(_str_list(cues.warnings), "warnings", cues.warnings)
    _expect(cues.audio_path is None or isinstance(cues.audio_path, str), "audio_path", "")
    for name in ("mic_spacing_m", "yaw_deg"):
        _expect(_optional_number(getattr(cues, name)), name, getattr(cues, name))
    stereo = cues.stereo
    # The reasoning text and `spa2v cues` print kind, confidence and evidence: all three
    # are required (the writer always has them), so a missing one is not a KeyError later.
    _expect(
        stereo is None
        or (
            isinstance(stereo, dict)
            and isinstance(stereo.get("kind"), str)
            and stereo.get("confidence") is not None
            and _optional_number(stereo.get("confidence"))
            and isinstance(stereo.get("evidence"), str)
        ),
        "stereo",
        stereo,
    )
    for track in cues.sources:
        _expect(type(track.source_id) is int, "source_id", track.source_id)
        for name in ("lateral_motion", "depth_motion"):
            _expect(isinstance(getattr(track, name), str), name, getattr(track, name))
        for name in ("pitch_change_ratio", "speed_mps"):
            _expect(_optional_number(getattr(track, name)), name, getattr(track, name))
        for label in track.labels:
            texts = (label.audio_label, label.noun, label.family)
            _expect(
                all(isinstance(t, str) for t in texts) and _optional_number(label.score),
                "labels",
                label,
            )
    for track in cues.sources:
        times = track.times_s
        if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
            raise ValueError(f"source {track.source_id}: times_s must be finite and increasing")
        for key in _ARRAY_FIELDS:
            values = getattr(track, key)
            if values is not None and np.shape(values) != times.shape:
                raise ValueError(f"source {track.source_id}: {key} has not one value per time")


_LAYOUT_NAMES = ("mono", "stereo", "spaced", "panned", "binaural", "foa")


def _expect(ok: bool, name: str, value: Any) -> None:
    if not ok:
        raise ValueError(f"{name} cannot be {shorten(repr(value))}")


def _optional_number(value: Any) -> bool:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return value is None or (ok and math.isfinite(value))


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _array_to_list(values: np.ndarray) -> list[Any]:
    if values.dtype == bool:
        return [bool(v) for v in values]
    # JSON has no NaN: write null, read back as NaN.
    return [None if not np.isfinite(v) else round(float(v), 4) for v in values]
