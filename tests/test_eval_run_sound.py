"""``spa2v run --eval`` judges its picture against the sound the layout was planned
from, heard the same way: a spaced pair with the microphone spacing the user gave, and
first-order ambisonics from the recording itself with the same view direction (the
video carries FOA as a stereo downmix)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("cv2")

from spa2v.api import run
from spa2v.sim import simulate_static


def _run_eval(folder: Path, name: str, sim: object, **options: object) -> dict:
    wav = folder / f"{name}.wav"
    sf.write(wav, sim.signal.samples.T, sim.signal.sr)  # type: ignore[attr-defined]
    run(wav, folder / f"{name}.mp4", fps=12.0, cue_plot=False, evaluate=True, **options)
    return json.loads((folder / f"{name}.eval.json").read_text())


def _seen_deg(report: dict) -> float:
    return float(
        np.median([v for p in report["spatial"]["pairs"] for v in p["seen_deg"] if v is not None])
    )


def test_foa_is_judged_against_the_recording_with_the_same_view(tmp_path: Path) -> None:
    # A source at +120 deg, behind-left of the recording's front, is 30 deg left of a
    # view turned 90 deg left. Heard without the turn it is out of view.
    sim = simulate_static(120.0, 3.0, format="foa", clip="noise", duration_s=2.0)
    report = _run_eval(tmp_path, "foa", sim, yaw_deg=90.0)
    assert report["audio"] == str(tmp_path / "foa.wav")
    assert _seen_deg(report) == pytest.approx(30.0, abs=8)
    assert report["spatial"]["verdict"] == "agrees", report["spatial"]["reason"]


def test_a_spaced_pair_is_judged_with_the_spacing_given(tmp_path: Path) -> None:
    # 0.30 m apart, a source at 20 deg gives the delay that 0.15 m would give at 43 deg:
    # heard with the default spacing, the sound would be 23 deg from the picture.
    sim = simulate_static(20.0, 3.0, format="spaced", clip="noise", duration_s=2.0,
                          mic_spacing_m=0.30)  # fmt: skip
    report = _run_eval(tmp_path, "pair", sim, layout="spaced", mic_spacing_m=0.30)
    assert report["audio"] is None  # the video's own sound track
    assert _seen_deg(report) == pytest.approx(20.0, abs=6)
    assert report["spatial"]["verdict"] == "agrees", report["spatial"]["reason"]
