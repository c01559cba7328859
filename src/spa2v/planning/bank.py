"""The example bank: (cue feature vector, cue summary, VSL) records, their JSON-lines
storage and kNN retrieval. The features are :mod:`spa2v.planning.features`; a bank made
with the simulator is :mod:`spa2v.sim.bank`.

The LLM planner shows the model the 3 recordings most like the one it plans (the paper
found retrieved examples far better than random ones or none). Records are JSON lines,
one per example::

    {"id": "sim-0007", "feature_version": 1, "features": [...], "summary": "...",
     "vsl": {...}, "origin": "simulated binaural car-pass-rtl"}

Similarity is the Euclidean distance between feature vectors after standardizing each
feature by its standard deviation over the bank (a z-score), so that degrees, dB and
counts weigh alike; the label-family entries weigh a quarter each
(:data:`spa2v.planning.features.FEATURE_WEIGHTS`); features that are constant over the
bank cannot tell records apart and get weight 0. With a few hundred records a numpy scan
is instant, so no index structure is needed.

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
from spa2v.hearing.cues import Cues
from spa2v.io.atomic import write_text_atomic
from spa2v.planning.cue_text import cue_summary
from spa2v.planning.features import FEATURE_NAMES, FEATURE_VERSION, FEATURE_WEIGHTS, cue_features

DEFAULT_BANK = "default.jsonl"


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


def make_record(cues: Cues, vsl: Any, record_id: str, origin: str = "") -> BankRecord:
    """A bank record from heard cues and the layout that fits them (a VSL or its dict)."""
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
