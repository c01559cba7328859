"""The example bank: features, JSON-lines storage, kNN retrieval, simulator-made records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spa2v.camera import Position, project_box
from spa2v.errors import Spa2vError
from spa2v.hearing.cues import Cues, CueTrack, Label
from spa2v.interfaces.cli import main
from spa2v.planning.bank import ExampleBank, make_record
from spa2v.planning.features import FEATURE_NAMES, cue_features
from spa2v.planning.physics import plan_physics
from spa2v.planning.vsl import parse_vsl, save_vsl
from spa2v.sim import simulate_static
from spa2v.sim.bank import build_bank, truth_layout

CAR = Label("Car", 0.8, "car", "vehicle")
PIANO = Label("Piano", 0.8, "piano", "instrument")


def _cues(az_start: float, az_end: float, level_change_db: float, label: Label) -> Cues:
    t = np.arange(0.0, 4.0, 0.025)
    u = t / 4.0
    track = CueTrack(
        source_id=0,
        times_s=t,
        active=np.ones(t.size, bool),
        loudness_db=-30.0 + level_change_db * u,
        azimuth_deg=az_start + (az_end - az_start) * u,
        azimuth_confidence=np.ones(t.size),
        pitch_change_ratio=-0.08 if az_start != az_end else None,
        labels=[label],
    )
    return Cues(duration_s=4.0, sr=48000, layout="binaural", hop_s=0.025, sources=[track])


EXAMPLES = {
    "piano-left": _cues(30, 30, 0, PIANO),
    "piano-right": _cues(-30, -30, 0, PIANO),
    "car-rtl": _cues(-60, 60, 0, CAR),
    "car-ltr": _cues(60, -60, 0, CAR),
    "car-approach": _cues(0, 0, 15, CAR),
    "car-recede": _cues(0, 0, -15, CAR),
}


@pytest.fixture
def bank() -> ExampleBank:
    out = ExampleBank()
    for name, cues in EXAMPLES.items():
        out.add(make_record(cues, plan_physics(cues, fps=1.0), name, origin="test"))
    return out


def test_features_describe_direction_trend_and_family():
    feats = dict(zip(FEATURE_NAMES, cue_features(_cues(-60, 60, 0, CAR)), strict=True))
    assert feats["az_start"] < -0.5 and feats["az_end"] > 0.5
    assert feats["az_slope"] > 1.0  # +120 deg over the span, in units of 90 deg
    assert feats["pitch_change"] == pytest.approx(-0.8)
    assert feats["family_vehicle"] == 1.0 and feats["family_instrument"] == 0.0
    assert feats["n_sources"] == 1
    approach = dict(zip(FEATURE_NAMES, cue_features(_cues(0, 0, 15, CAR)), strict=True))
    assert approach["level_slope"] == pytest.approx(1.5, abs=0.1)  # +15 dB / 10


@pytest.mark.parametrize(
    ("query", "nearest"),
    [
        (_cues(-50, 55, 1, CAR), "car-rtl"),
        (_cues(45, -50, 0, CAR), "car-ltr"),
        (_cues(3, 2, 12, CAR), "car-approach"),
        (_cues(25, 27, 0, PIANO), "piano-left"),
    ],
)
def test_nearest_record_is_the_similar_recording(bank, query, nearest):
    found = bank.nearest(query, k=3)
    assert len(found) == 3 and found[0].id == nearest
    d = bank.distances(cue_features(query))
    assert np.all(np.diff(np.sort(d)) >= 0) and d[bank.records.index(found[0])] == d.min()


def test_save_load_round_trip(bank, tmp_path):
    path = bank.save(tmp_path / "bank.jsonl")
    lines = path.read_text().splitlines()
    assert len(lines) == len(EXAMPLES)
    assert json.loads(lines[0])["id"] == "piano-left"
    back = ExampleBank.load(path)
    assert [r.id for r in back.records] == [r.id for r in bank.records]
    assert back.records[2].features == bank.records[2].features
    parse_vsl(back.records[2].vsl)  # the stored layout is still valid


def test_bad_bank_files_give_one_line_errors(bank, tmp_path):
    with pytest.raises(Spa2vError, match="spa2v bank build"):
        ExampleBank.load(tmp_path / "missing.jsonl")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(bank.records[0].to_json() + "\n{not json\n")
    with pytest.raises(Spa2vError, match="line 2"):
        ExampleBank.load(broken)
    with pytest.raises(Spa2vError, match="already has a record 'car-rtl'"):
        bank.add(bank.records[2])


def test_truth_layout_boxes_follow_the_camera_model():
    res = simulate_static(30.0, 4.0, format="panned", clip="noise", duration_s=1.0, seed=1)
    vsl = truth_layout(res, fps=4.0)
    truth = res.truth[0]
    expected = project_box(Position.from_polar(30.0, 4.0), truth.width_m, truth.height_m)
    assert len(vsl.frames) == 5
    assert vsl.frames[2].boxes[0].box == pytest.approx(expected, abs=1e-3)
    assert vsl.objects[0].motion == "static" and vsl.objects[0].name == truth.noun


def test_build_bank_from_the_simulator():
    bank = build_bank(n=2, seed=7, duration_s=2.0)
    assert [r.id for r in bank.records] == ["sim-0000", "sim-0001"]
    for record in bank.records:
        assert len(record.features) == len(FEATURE_NAMES)
        assert record.summary.startswith("recording: ")
        parse_vsl(record.vsl)
    assert bank.records[0].origin.startswith("simulated binaural")
    again = build_bank(n=1, seed=7, duration_s=2.0)  # deterministic
    assert again.records[0].features == bank.records[0].features


def test_shipped_bank_is_usable():
    bank = ExampleBank.default()
    assert len(bank) >= 20
    motions = {obj["motion"] for rec in bank.records for obj in rec.vsl["objects"]}
    assert {"static", "left-to-right", "right-to-left", "approaching", "receding"} <= motions
    for record in bank.records:
        parse_vsl(record.vsl)
    assert len(bank.nearest(EXAMPLES["car-rtl"], k=3)) == 3


def test_cli_bank_add_and_list(tmp_path, capsys):
    res = simulate_static(-30.0, 3.0, format="spaced", clip="noise", duration_s=1.0, seed=2)
    audio = tmp_path / "mine.wav"
    res.write(audio)
    layout = save_vsl(truth_layout(res), tmp_path / "mine.json")
    bank_file = tmp_path / "my_bank.jsonl"
    assert main(["bank", "add", str(audio), str(layout), "--bank", str(bank_file)]) == 0
    assert (
        main(["bank", "add", str(audio), str(layout), "--bank", str(bank_file), "--id", "b"]) == 0
    )
    bank = ExampleBank.load(bank_file)
    assert [r.id for r in bank.records] == ["mine", "b"]
    assert bank.records[0].origin == "user: mine.wav"
    assert main(["bank", "list", "--bank", str(bank_file)]) == 0
    assert "2 examples" in capsys.readouterr().out
    # Adding the same id twice is refused with a one-line error, the file untouched.
    before = bank_file.read_text()
    assert main(["bank", "add", str(audio), str(layout), "--bank", str(bank_file)]) != 0
    assert bank_file.read_text() == before
    assert "already has a record 'mine'" in capsys.readouterr().err


def test_cli_bank_add_refuses_a_layout_of_another_length(tmp_path, capsys):
    res = simulate_static(0.0, 3.0, format="spaced", clip="noise", duration_s=1.0, seed=2)
    audio = tmp_path / "a.wav"
    res.write(audio)
    other = simulate_static(0.0, 3.0, format="spaced", clip="noise", duration_s=3.0, seed=2)
    layout = save_vsl(truth_layout(other), tmp_path / "other.json")
    assert main(["bank", "add", str(audio), str(layout), "--bank", str(tmp_path / "b.jsonl")]) != 0
    assert "lasts 3 s" in capsys.readouterr().err
    assert not (tmp_path / "b.jsonl").exists()
