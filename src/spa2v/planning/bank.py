"""The example bank: (cue feature vector, cue summary, VSL) records and kNN retrieval.

The LLM planner shows the model the 3 recordings most like the one it plans (the paper
found retrieved examples far better than random ones or none). Records are JSON lines,
one per example::

    {"id": "sim-0007", "feature_version": 1, "features": [...], "summary": "...",
     "vsl": {...}, "origin": "simulated binaural car-pass-rtl"}

Similarity is the Euclidean distance between feature vectors after standardizing each
feature by its standard deviation over the bank (a z-score), so that degrees, dB and
counts weigh alike; the label-family entries weigh a quarter each
(:data:`FEATURE_WEIGHTS`); features that are constant over the bank cannot tell records
apart and get weight 0. With a few hundred records a numpy scan is instant, so no index
structure is needed.

Example
-------
>>> bank = ExampleBank.default()  # doctest: +SKIP
>>> [rec.id for rec in bank.nearest(cues, k=3)]  # doctest: +SKIP
['sim-0012', 'sim-0031', 'sim-0004']
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from spa2v.errors import Spa2vError
from spa2v.hearing.cues import Cues, CueTrack
from spa2v.io.atomic import write_text_atomic

FEATURE_VERSION = 1
#: Coarse class groups for the label one-hot (the tagger's families, grouped).
FAMILY_GROUPS: dict[str, tuple[str, ...]] = {
    "vehicle": ("vehicle", "train", "boat"),
    "aircraft": ("aircraft",),
    "instrument": ("instrument", "bell"),
    "person": ("person",),
    "animal": (
        "dog",
        "cat",
        "big cat",
        "horse",
        "cattle",
        "pig",
        "goat",
        "sheep",
        "poultry",
        "bird",
        "insect",
        "frog",
        "rodent",
        "snake",
        "whale",
        "animal",
    ),
}
FEATURE_NAMES: tuple[str, ...] = (
    "az_start",  # azimuth at the start of the sounding span / 90 deg
    "az_mid",
    "az_end",
    "az_slope",  # linear trend of azimuth over the span / 90 deg
    "level_slope",  # linear trend of loudness over the span / 10 dB
    "level_curvature",  # quadratic term (negative for a pass-by peak) / 10 dB
    "level_range",  # 5-95 % loudness range / 10 dB
    "pitch_change",  # f_end / f_start - 1, x 10
    "n_sources",
    *(f"family_{g}" for g in (*FAMILY_GROUPS, "other")),
)
DEFAULT_BANK = "default.jsonl"
#: Weight of each feature's squared z-score in the distance. The label family weighs
#: less than where and how a source moves (the paper retrieves by spatial cues; labels
#: are also the least reliable cue): a family mismatch counts half as much as one
#: spatial feature, instead of twice (two one-hot entries differ).
FEATURE_WEIGHTS = np.array([0.25 if name.startswith("family_") else 1.0 for name in FEATURE_NAMES])


@dataclass
class BankRecord:
    """One example: the cues' feature vector and summary, and the layout made for them."""

    id: str
    features: list[float]
    summary: str
    vsl: dict[str, Any]
    origin: str = ""
    feature_version: int = FEATURE_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)


# --- features ---------------------------------------------------------------------------


def family_group(family: str) -> str:
    """The coarse group of a tagger family ('vehicle', 'animal', ..., or 'other')."""
    for group, members in FAMILY_GROUPS.items():
        if family in members:
            return group
    return "other"


def _main_source(cues: Cues) -> CueTrack | None:
    audible = [s for s in cues.sources if np.any(s.active)]
    if not audible:
        return None
    return max(audible, key=lambda s: float(np.median(s.loudness_db[s.active])))


def cue_features(cues: Cues) -> np.ndarray:
    """Feature vector of a recording (its loudest source), named by :data:`FEATURE_NAMES`.

    Azimuths are taken from the smoothed track (same smoothing as the physics planner),
    trends from least-squares fits over the source's sounding span mapped to [0, 1].

    >>> cue_features(cues).shape  # doctest: +SKIP
    (15,)
    """
    from spa2v.planning.physics import (
        AZIMUTH_SIGMA_S,
        LOUDNESS_SIGMA_S,
        smooth_azimuth,
        smooth_track,
    )

    out = np.zeros(len(FEATURE_NAMES))
    track = _main_source(cues)
    n_audible = sum(1 for s in cues.sources if np.any(s.active))
    out[FEATURE_NAMES.index("n_sources")] = n_audible
    if track is None:
        out[FEATURE_NAMES.index("family_other")] = 1.0
        return out
    t = np.asarray(track.times_s, dtype=float)
    active = np.asarray(track.active, dtype=bool)
    weight = active * np.clip(np.nan_to_num(track.azimuth_confidence), 0.0, 1.0)
    if not np.any(weight > 0):
        weight = active.astype(float)
    az = smooth_azimuth(t, track.azimuth_deg, weight, AZIMUTH_SIGMA_S)[active]
    level = smooth_track(t, track.loudness_db, active, LOUDNESS_SIGMA_S)[active]
    ta = t[active]
    span = max(float(ta[-1] - ta[0]), 1e-6)
    u = (ta - ta[0]) / span - 0.5  # centred span time in [-0.5, 0.5]
    n = len(az)
    edge = max(1, n // 10)
    out[0] = np.median(az[:edge]) / 90.0
    out[1] = np.median(az[max(0, n // 2 - edge) : n // 2 + edge]) / 90.0
    out[2] = np.median(az[-edge:]) / 90.0
    if n >= 3:
        out[3] = np.polyfit(u, az, 1)[0] / 90.0
        curv, slope, _ = np.polyfit(u, level, 2)
        out[4], out[5] = slope / 10.0, curv / 10.0
    out[6] = (np.percentile(level, 95) - np.percentile(level, 5)) / 10.0
    pitch_change = track.pitch_change_ratio
    if pitch_change is not None and np.isfinite(pitch_change):
        out[7] = 10.0 * pitch_change
    family = track.top_label.family if track.top_label else "unknown"
    out[FEATURE_NAMES.index(f"family_{family_group(family)}")] = 1.0
    return out


def make_record(cues: Cues, vsl: Any, record_id: str, origin: str = "") -> BankRecord:
    """A bank record from heard cues and the layout that fits them (a VSL or its dict)."""
    from spa2v.planning.prompt import cue_summary

    return BankRecord(
        id=record_id,
        features=[round(float(v), 5) for v in cue_features(cues)],
        summary=cue_summary(cues),
        vsl=vsl_to_dict(vsl),
        origin=origin,
    )


def vsl_to_dict(vsl: Any) -> dict[str, Any]:
    """Plain JSON data of a VSL model (or a dict, returned as is)."""
    if isinstance(vsl, dict):
        return vsl
    return vsl.to_dict()


# --- the bank ---------------------------------------------------------------------------


@dataclass
class ExampleBank:
    """A list of :class:`BankRecord` with kNN retrieval by standardized Euclidean distance."""

    records: list[BankRecord] = field(default_factory=list)
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.records)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ExampleBank:
        """Read a JSON-lines bank; a missing or malformed file is a one-line error."""
        path = Path(path)
        if not path.is_file():
            raise Spa2vError(
                f"example bank {path} not found: build one with `spa2v bank build --out {path}`"
            )
        records = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                record = BankRecord(**data)
            except (json.JSONDecodeError, TypeError) as exc:
                raise Spa2vError(
                    f"example bank {path}, line {number}: not a bank record ({exc})"
                ) from None
            if record.feature_version != FEATURE_VERSION or len(record.features) != len(
                FEATURE_NAMES
            ):
                raise Spa2vError(
                    f"example bank {path}, line {number}: made by another spa2v version; "
                    "rebuild it with `spa2v bank build`"
                )
            records.append(record)
        return cls(records, path)

    @classmethod
    def default(cls) -> ExampleBank:
        """The bank shipped in the package (empty if it was not built)."""
        ref = resources.files("spa2v").joinpath("data", "bank", DEFAULT_BANK)
        with resources.as_file(ref) as path:
            if not path.is_file():
                return cls([], None)
            return cls.load(path)

    def add(self, record: BankRecord) -> None:
        if any(r.id == record.id for r in self.records):
            raise Spa2vError(f"example bank already has a record {record.id!r}: pick another id")
        self.records.append(record)

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write all records as JSON lines, atomically."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise Spa2vError("no path to save the example bank to: give one")
        text = "".join(rec.to_json() + "\n" for rec in self.records)
        return write_text_atomic(target, text)

    def feature_matrix(self) -> np.ndarray:
        """Features of all records, shape ``(n_records, n_features)``."""
        return np.array([rec.features for rec in self.records], dtype=float).reshape(
            len(self.records), len(FEATURE_NAMES)
        )

    def distances(self, query: np.ndarray) -> np.ndarray:
        """Weighted standardized Euclidean distance from ``query`` to every record:
        ``sqrt(sum_i w_i ((f_i - q_i) / std_i) ** 2)`` (:data:`FEATURE_WEIGHTS`)."""
        feats = self.feature_matrix()
        mean = feats.mean(axis=0)
        std = feats.std(axis=0)
        # Constant features cannot rank records; dividing by ~0 would swamp the rest.
        inv_std = np.where(std > 1e-9, 1.0 / np.where(std > 1e-9, std, 1.0), 0.0)
        z = (feats - mean) * inv_std
        zq = (np.asarray(query, dtype=float) - mean) * inv_std
        return np.sqrt((FEATURE_WEIGHTS * (z - zq) ** 2).sum(axis=1))

    def nearest_to(self, query: np.ndarray, k: int = 3) -> list[BankRecord]:
        """The ``k`` records closest to a feature vector, nearest first (ties: bank order)."""
        if not self.records or k <= 0:
            return []
        order = np.argsort(self.distances(query), kind="stable")[:k]
        return [self.records[i] for i in order]

    def nearest(self, cues: Cues, k: int = 3) -> list[BankRecord]:
        """The ``k`` records whose cues are most like ``cues``, nearest first."""
        return self.nearest_to(cue_features(cues), k)


# --- building a bank from the simulator ---------------------------------------------------

#: Sources the simulator bank draws from (all render offline on a CPU).
STATIC_CLIPS = ("piano", "guitar", "violin", "cello", "trumpet", "flute", "drums", "speech")
MOVING_CLIPS = ("engine", "bus", "truck")
BANK_FORMATS = ("binaural", "spaced", "foa", "panned")


def truth_layout(result: Any, fps: float = 8.0) -> Any:
    """The ground-truth VSL of a simulated clip (boxes from the true positions).

    An object is listed in a keyframe while it sounds and is in view, as the planners do.
    """
    from spa2v.nouns import noun_info
    from spa2v.planning.captions import object_phrase, position_word, scene_caption
    from spa2v.planning.physics import keyframe_times
    from spa2v.planning.vsl import MOTIONS, parse_vsl

    duration_s = float(result.spec.duration_s)
    times_s, fps = keyframe_times(duration_s, fps=fps)
    objects, phrases, reasons = [], [], []
    frames: list[dict[str, Any]] = [{"t": round(float(t), 4), "boxes": []} for t in times_s]
    for k, truth in enumerate(result.truth):
        info = noun_info(truth.noun)
        motion = truth.motion if truth.motion in MOTIONS else "other"
        objects.append(
            {"id": k, "name": truth.noun, "audio_label": truth.audio_label, "motion": motion}
        )
        active = np.interp(times_s, truth.times_s, truth.active.astype(float)) > 0.5
        for frame, box, on in zip(frames, truth.boxes(times_s), active, strict=True):
            if box is not None and on:
                frame["boxes"].append({"id": k, "box": [round(float(v), 4) for v in box]})
                where = position_word((box[0] + box[2]) / 2)
                frame["caption"] = "; ".join(
                    filter(None, [frame.get("caption", ""), f"the {truth.noun} {where}"])
                )
        az = truth.azimuth_at(times_s)
        dist = np.interp(times_s, truth.times_s, truth.distance_m)
        phrases.append(
            object_phrase(
                truth.noun,
                info.family,
                motion,
                0.5 - 0.5 * np.tan(np.radians(np.clip(np.median(az), -89.0, 89.0))),
            )
        )
        reasons.append(
            f"the {truth.noun} is heard from {az[0]:+.0f} deg to {az[-1]:+.0f} deg "
            f"(positive = left), {dist[0]:.0f} m to {dist[-1]:.0f} m away: {motion}; "
            f"drawn {truth.width_m:g} x {truth.height_m:g} m "
            f"{'in the air' if truth.flying else 'on the ground'}"
        )
    scene = result.spec.background or noun_info(result.truth[0].noun).scene
    data = {
        "schema": "spa2v.vsl/1",
        "duration": duration_s,
        "fps": fps,
        "caption": scene_caption(phrases, scene),
        "background": scene,
        "objects": objects,
        "frames": frames,
        "reasoning": "; ".join(reasons) + ".",
    }
    return parse_vsl(data)


def _bank_scene(index: int, rng: np.random.Generator, duration_s: float) -> Any:
    """The ``index``-th simulated example: cycles scene types and formats, random details."""
    from spa2v.sim import simulate_pass, simulate_radial, simulate_sources, simulate_static

    fmt = BANK_FORMATS[index % len(BANK_FORMATS)]
    kind = ("static", "pass", "radial", "static-2")[(index // len(BANK_FORMATS)) % 4]
    seed = int(rng.integers(1 << 30))
    common = {"format": fmt, "duration_s": duration_s, "seed": seed}
    if kind == "static":
        clip = STATIC_CLIPS[int(rng.integers(len(STATIC_CLIPS)))]
        return simulate_static(
            float(rng.uniform(-40, 40)),
            float(rng.uniform(2.5, 5.0)),
            clip=clip,
            rt60_s=float(rng.uniform(0.2, 0.6)),
            **common,
        )
    if kind == "static-2":
        a, b = rng.choice(len(STATIC_CLIPS), size=2, replace=False)
        return simulate_sources(
            [
                (float(rng.uniform(15, 40)), float(rng.uniform(2.5, 5.0)), STATIC_CLIPS[a]),
                (float(rng.uniform(-40, -15)), float(rng.uniform(2.5, 5.0)), STATIC_CLIPS[b]),
            ],
            rt60_s=float(rng.uniform(0.2, 0.6)),
            **common,
        )
    clip = MOVING_CLIPS[int(rng.integers(len(MOVING_CLIPS)))]
    if kind == "pass":
        direction = ("left-to-right", "right-to-left")[int(rng.integers(2))]
        return simulate_pass(
            direction,
            speed_mps=float(rng.uniform(10, 20)),
            closest_m=float(rng.uniform(8, 15)),
            clip=clip,
            **common,
        )
    motion = ("approaching", "receding")[int(rng.integers(2))]
    return simulate_radial(
        motion,
        speed_mps=float(rng.uniform(6, 12)),
        azimuth_deg=float(rng.uniform(-25, 25)),
        near_m=float(rng.uniform(5, 10)),
        clip=clip,
        **common,
    )


def build_bank(
    n: int = 40, seed: int = 2024, duration_s: float = 4.0, progress: bool = False
) -> ExampleBank:
    """Make an example bank from ``n`` simulated clips: simulate -> hear -> tag -> truth VSL.

    Deterministic in ``seed``. The clips cycle through static instruments (one or two,
    in a room), vehicles passing either way, approaching and receding, in the binaural,
    spaced, FOA and panned formats.
    """
    from tqdm import tqdm

    from spa2v.hearing.extract import hear
    from spa2v.hearing.tagging.tag import tag_cues

    rng = np.random.default_rng(seed)
    bank = ExampleBank()
    for index in tqdm(range(n), desc="bank", unit="clip", disable=not progress):
        result = _bank_scene(index, rng, duration_s)
        cues = tag_cues(result.signal, hear(result.signal))
        origin = f"simulated {result.spec.format} {result.spec.scene_type} " + ", ".join(
            f"{t.clip} {t.motion}" for t in result.truth
        )
        bank.add(make_record(cues, truth_layout(result), f"sim-{index:04d}", origin))
    return bank
