"""``spa2v bench --real``: the manifest, the scoring rules, and the real development set.

The scoring rules are checked with hand-made layouts (every number below follows from
the camera model and the rule under test); the whole command runs on simulated FOA
recordings written as FLAC next to a hand-made manifest, and on the real development
set beside the repository when it is there.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from spa2v.camera import azimuth_to_x
from spa2v.evaluation.real_benchmark import (
    MISSING_AZIMUTH_ERROR_DEG,
    RealBenchReport,
    RealClipResult,
    clip_grid,
    floor_layout,
    interpolate_azimuth,
    run_real_benchmark,
    score_layout,
)
from spa2v.evaluation.realset import Clip, RealSet, load_realset, noun_family
from spa2v.interfaces.cli import main
from spa2v.planning.vsl import VSL, VSLBox, VSLFrame, VSLObject

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_MANIFEST = REPO_ROOT.parent / "shared" / "realdata" / "manifest.json"

# What the physics planner achieves on the real development set, overall (floors of a
# regression test: raise them as hearing improves; one more miss fails each). Measured
# with `spa2v bench --real realdata/manifest.json`: side 5/6, L/C/R 72.3 %, azimuth
# error 12.0 deg (FOA 13.7, binaural 6.1), direction 10/12 segments, label family 14/16,
# no empty layout. Before hearing was made to hold on real audio: side 5/6, L/C/R
# 74.5 %, azimuth 11.8 deg, direction 2/12, label 13/16.
REAL_MIN_SIDE_ACC = 0.83
REAL_MIN_LCR_ACC = 0.71
REAL_MAX_AZIMUTH_ERROR_DEG = 12.5
REAL_MIN_DIRECTION_ACC = 0.83
REAL_MIN_LABEL_ACC = 0.87
REAL_MAX_EMPTY_CLIPS = 0
# The centre floor follows from the annotations alone.
FLOOR_LCR_ACC = 0.614
FLOOR_AZIMUTH_ERROR_DEG = 17.4
# The tested counts follow from the annotations alone (see docs/real-benchmark.md).
REAL_COUNTS = {
    "n_side": 6,
    "n_lcr": 14,
    "n_azimuth": 13,
    "n_direction": 12,
    "n_label": 16,
    "n_clips": 20,
}


# -- helpers ------------------------------------------------------------------------------


def clip_entry(**overrides: Any) -> dict[str, Any]:
    """A valid FOA clip entry: one sounding source static at +30 deg (left)."""
    entry: dict[str, Any] = {
        "clip": "c0",
        "audio": "audio/c0.flac",
        "format": "foa-ambix",
        "channels": 4,
        "sr": 48000,
        "duration_s": 4.0,
        "frame": {"kind": "equirect360", "hfov_deg": 360},
        "reference": "ground-truth",
        "group": "foa",
        "lateral_cue": "ok",
        "sources": [
            {
                "class": "piano",
                "description": "a piano",
                "family": "instrument-keyboard",
                "sounding": True,
                "track": [[0.0, 30.0, 0.42, None], [4.0, 30.0, 0.42, None]],
                "motion": "static",
            }
        ],
    }
    entry.update(overrides)
    return entry


def write_manifest(folder: Path, clips: list[dict[str, Any]], make_audio: bool = True) -> Path:
    """Write ``manifest.json`` (and a short silent FLAC per clip, unless told not to)."""
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    if make_audio:
        for entry in clips:
            path = folder / entry["audio"]
            if not path.exists():
                sf.write(str(path), np.zeros((4800, entry.get("channels") or 2)), 48000)
    manifest = {"format": "spa2v-realset/1", "description": "test", "clips": clips}
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def the_clip(**overrides: Any) -> Clip:
    return Clip.model_validate(clip_entry(**overrides))


def layout(duration_s: float, objects: dict[str, list[tuple[float, float, float]]]) -> VSL:
    """A layout from ``{name: [(t_s, centre_x, height), ...]}``: one object per name, a
    box of width 0.1 standing on y = 0.6 at each listed keyframe."""
    times = sorted({t for keys in objects.values() for t, _, _ in keys} | {0.0})
    frames = []
    for t in times:
        boxes = [
            VSLBox(id=i, box=(cx - 0.05, 0.6 - h, cx + 0.05, 0.6))
            for i, keys in enumerate(objects.values())
            for tk, cx, h in keys
            if tk == t
        ]
        frames.append(VSLFrame(t=t, boxes=boxes))
    return VSL(
        duration=duration_s,
        fps=1.0,
        objects=[VSLObject(id=i, name=name) for i, name in enumerate(objects)],
        frames=frames,
    )


def score(clip: Clip, vsl: VSL) -> Any:
    """The only sounding source's score."""
    return score_layout(clip, vsl, clip_grid(clip)).sources[0]


# -- the manifest -------------------------------------------------------------------------


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["-q", "bench", *args])
    return code, capsys.readouterr().err


def test_malformed_json_is_one_line_naming_the_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text('{"format": "spa2v-realset/1", "clips": [\n  {"clip": "a",,}]}')
    code, err = run_cli(["--real", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}: not valid JSON (line 2" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.pop("group"), "clips[1] (c1): group: field required"),
        (
            lambda c: c["sources"][0]["track"][1].__setitem__(1, 200.0),
            "clips[1] (c1): sources[0].track[1].azimuth_deg: Input should be less than or "
            "equal to 180",
        ),
        (
            lambda c: c["sources"][0].__setitem__("family", "robot"),
            "clips[1] (c1): sources[0].family: Input should be",
        ),
        (
            lambda c: c["sources"][0].__setitem__("track", [[0.0, 1.0]]),
            "clips[1] (c1): sources[0].track[0]: a keyframe is [t_s, azimuth_deg, x, width]",
        ),
        (
            lambda c: c["sources"][0].__setitem__(
                "segments", [{"t0": 2.0, "t1": 1.0, "motion": "left-to-right"}]
            ),
            "clips[1] (c1): sources[0].segments[0]: t1 (1) must be after t0 (2)",
        ),
        # Found by the fuzzing campaign: both ended in a traceback after the clips ran.
        (
            lambda c: c["sources"][0]["track"][1].__setitem__(0, 1e309),  # inf in JSON
            "clips[1] (c1): sources[0].track[1].t_s: Input should be a finite number",
        ),
        (
            lambda c: c.__setitem__("duration_s", 1e300),
            "clips[1] (c1): duration_s: Input should be less than or equal to 86400",
        ),
    ],
)
def test_a_bad_entry_is_one_line_naming_the_clip_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, expected: str
) -> None:
    bad = clip_entry(clip="c1", audio="audio/c1.flac")
    change(bad)
    path = write_manifest(tmp_path, [clip_entry(), bad])
    code, err = run_cli(["--real", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"spa2v bench: error: {path}: {expected}" in err


def test_a_missing_audio_file_is_named_before_any_clip_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_manifest(
        tmp_path, [clip_entry(), clip_entry(clip="gone", audio="audio/gone.flac")]
    )
    (tmp_path / "audio" / "gone.flac").unlink()
    code, err = run_cli(["--real", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "clips[1] (gone): audio: file audio/gone.flac not found" in err
    assert not (tmp_path / "out").exists()


def test_duplicate_names_and_simulation_options_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_manifest(tmp_path, [clip_entry(), clip_entry()])
    code, err = run_cli(["--real", str(path)], capsys)
    assert code == 2 and "clips[1] (c0): clip: the name is also used by clips[0]" in err
    code, err = run_cli(["--real", str(path), "--formats", "foa"], capsys)
    assert code == 2 and "--formats applies to the simulated set, not to --real" in err


def test_families_of_planned_nouns() -> None:
    assert noun_family("piano") == "instrument-keyboard"
    assert noun_family("guitar") == noun_family("violin") == "instrument-string"
    assert noun_family("saxophone") == noun_family("trumpet") == "instrument-wind"
    assert noun_family("tabla") == "instrument-percussion"
    assert noun_family("ocean waves") == "water"
    assert noun_family("truck") == "vehicle" and noun_family("train") == "train"
    assert noun_family("musician") == "instrument"  # no one instrument family
    assert noun_family("no such noun") == "other"


# -- the scoring rules --------------------------------------------------------------------


def test_azimuth_is_interpolated_the_short_way_round() -> None:
    az = interpolate_azimuth(np.array([0.0, 0.5, 1.0]), [0.0, 1.0], [160.0, -160.0])
    assert az.tolist() == [160.0, 180.0, -160.0]


def test_side_lcr_and_azimuth_error_of_a_static_source() -> None:
    clip = the_clip()  # piano at +30 deg: x = 0.211, the left third
    near = score(clip, layout(4.0, {"piano": [(0.0, float(azimuth_to_x(20.0)), 0.3)]}))
    assert near.side == {"true": "left", "planned": "left", "ok": True}
    assert near.lcr["acc"] == 1.0 and near.lcr["n"] == 33  # 0..4 s at 8 frames/s
    assert near.azimuth["error_deg"] == pytest.approx(10.0)
    assert near.label["ok"] and near.object == "piano (instrument-keyboard)"
    # A box at x = 0.4 is on the left of the centre but in the centre third.
    centre = score(clip, layout(4.0, {"piano": [(0.0, 0.4, 0.3)]}))
    assert centre.side["ok"] and centre.lcr["acc"] == 0.0
    wrong = score(clip, layout(4.0, {"piano": [(0.0, 0.8, 0.3)]}))
    assert not wrong.side["ok"] and wrong.side["planned"] == "right"
    # No object at all: side, L/C/R and label wrong, the azimuth as far off as can be.
    empty = score_layout(clip, layout(4.0, {}), clip_grid(clip))
    assert empty.empty
    none = empty.sources[0]
    assert not none.side["ok"] and none.lcr["acc"] == 0.0 and not none.label["ok"]
    assert none.azimuth["error_deg"] == MISSING_AZIMUTH_ERROR_DEG


def test_a_source_near_the_centre_has_no_side_test() -> None:
    clip = the_clip()
    clip.sources[0].track[0].azimuth_deg = clip.sources[0].track[1].azimuth_deg = 10.0
    assert score(clip, layout(4.0, {"piano": [(0.0, 0.5, 0.3)]})).side is None


def test_a_source_out_of_view_needs_no_box_but_a_box_must_be_on_its_side() -> None:
    # Behind on the left: lateral angle 30 deg; never in the 90-degree view.
    clip = the_clip()
    for k in clip.sources[0].track:
        k.azimuth_deg = 150.0
    absent = score(clip, layout(4.0, {"piano": []}))
    assert absent.side["ok"] and absent.offview == {"n": 33, "acc": 1.0}
    assert absent.lcr is None and absent.azimuth is None
    assert absent.label is None  # a source never in view is not asked for an object
    at_edge = score(clip, layout(4.0, {"piano": [(0.0, 0.05, 0.3)]}))
    assert at_edge.side["ok"] and at_edge.offview["acc"] == 1.0
    wrong_edge = score(clip, layout(4.0, {"piano": [(0.0, 0.95, 0.3)]}))
    assert not wrong_edge.side["ok"] and wrong_edge.offview["acc"] == 0.0


def test_direction_per_segment_and_per_clip() -> None:
    # A source moving from -30 (right) to +30 deg (left): right-to-left in the picture.
    base = clip_entry()
    source = base["sources"][0]
    source.update(
        {"motion": "right-to-left", "track": [[0.0, -30.0, None, None], [4.0, 30.0, None, None]]}
    )
    moving = layout(4.0, {"piano": [(0.0, 0.8, 0.3), (4.0, 0.2, 0.3)]})
    static = layout(4.0, {"piano": [(0.0, 0.5, 0.3)]})
    clip = Clip.model_validate(base)
    assert [d["ok"] for d in score(clip, moving).directions] == [True]
    assert score(clip, static).directions[0]["planned"] == "static"
    # Segments replace the clip-level motion; an empty list means no direction test.
    source["segments"] = []
    assert score(Clip.model_validate(base), moving).directions == []
    source["segments"] = [
        {"t0": 0.0, "t1": 2.0, "motion": "right-to-left"},
        {"t0": 2.0, "t1": 4.0, "motion": "left-to-right"},
    ]
    there_and_back = layout(4.0, {"piano": [(0.0, 0.8, 0.3), (2.0, 0.2, 0.3), (4.0, 0.7, 0.3)]})
    tests = score(Clip.model_validate(base), there_and_back).directions
    assert [(d["planned"], d["ok"]) for d in tests] == [
        ("right-to-left", True),
        ("left-to-right", True),
    ]
    assert [d["ok"] for d in score(Clip.model_validate(base), moving).directions] == [True, False]


def test_approach_and_recede_from_the_box_height() -> None:
    clip = the_clip()
    clip.sources[0].depth_motion = "approaching"
    growing = layout(4.0, {"piano": [(0.0, 0.3, 0.1), (4.0, 0.3, 0.3)]})
    shrinking = layout(4.0, {"piano": [(0.0, 0.3, 0.3), (4.0, 0.3, 0.1)]})
    assert score(clip, growing).depth == {
        "true": "approaching",
        "planned": "approaching",
        "ok": True,
    }
    assert score(clip, shrinking).depth["ok"] is False


def test_label_family_and_its_alternatives() -> None:
    clip = the_clip()
    assert not score(clip, layout(4.0, {"guitar": [(0.0, 0.2, 0.3)]})).label["ok"]
    clip.sources[0].family_alt = ["instrument-string"]
    assert score(clip, layout(4.0, {"guitar": [(0.0, 0.2, 0.3)]})).label["ok"]
    assert not score(clip, layout(4.0, {"musician": [(0.0, 0.2, 0.3)]})).label["ok"]


def test_unreliable_lateral_cue_keeps_labels_only() -> None:
    clip = the_clip(lateral_cue="unreliable")
    s = score(clip, layout(4.0, {"piano": [(0.0, 0.8, 0.3)]}))
    assert s.side is None and s.lcr is None and s.azimuth is None and s.directions == []
    assert s.label["ok"]


def test_perspective_frame_of_unknown_lens_is_scored_in_its_own_x() -> None:
    clip = the_clip(frame={"kind": "perspective", "hfov_deg": None})
    for k in clip.sources[0].track:
        k.azimuth_deg, k.x = None, 0.17
    s = score(clip, layout(4.0, {"piano": [(0.0, 0.25, 0.3)]}))
    assert s.side["ok"] and s.lcr["acc"] == 1.0
    assert s.azimuth is None  # no azimuth without the lens


def test_each_source_gets_the_object_that_follows_it() -> None:
    # Two planned objects, the second one where the source is: it is the match, even
    # though the first is listed first and of the right family.
    clip = the_clip()
    vsl = layout(4.0, {"organ": [(0.0, 0.9, 0.3)], "guitar": [(0.0, 0.2, 0.3)]})
    s = score_layout(clip, vsl, clip_grid(clip))
    assert s.sources[0].object == "guitar (instrument-string)"
    assert s.unmatched_objects == 1


def test_the_floor_is_a_centre_box_named_with_the_majority_family() -> None:
    clip = the_clip()
    vsl, families = floor_layout(clip, "instrument-keyboard")
    s = score_layout(clip, vsl, clip_grid(clip), families).sources[0]
    assert s.side["planned"] == "centre" and not s.side["ok"]
    assert s.azimuth["error_deg"] == pytest.approx(30.0)
    assert s.label["ok"]


def test_pools_keep_dual_mono_and_peer_output_apart() -> None:
    realset = RealSet.model_validate(
        {
            "format": "spa2v-realset/1",
            "clips": [
                clip_entry(),
                clip_entry(clip="m", format="dual-mono", channels=2, lateral_cue="none"),
                clip_entry(clip="p", reference="peer-output"),
            ],
        }
    )
    results = []
    for clip in realset.clips:
        vsl, families = floor_layout(clip, "vehicle")
        scored = score_layout(clip, vsl, clip_grid(clip), families)
        results.append(RealClipResult(clip=clip, layout=None, planner=scored, floor=scored))
    report = RealBenchReport(
        manifest="m", planner="p", fps=8, floor_family="vehicle", clips=results
    )
    groups = report.groups()
    assert list(groups) == ["foa", "overall", "dual-mono", "peer-output"]
    assert groups["overall"]["planner"]["n_clips"] == 1
    assert groups["dual-mono"]["planner"]["n_side"] == 0  # no lateral test without a cue
    assert groups["dual-mono"]["planner"]["n_label"] == 1


def test_the_api_scores_and_writes_a_manifest(tmp_path: Path) -> None:
    """A silent recording: nothing is heard, so the layout is empty and counted so."""
    import spa2v.api

    path = write_manifest(tmp_path, [clip_entry(duration_s=0.1)])
    report = spa2v.api.bench_real(path, tmp_path / "out")
    assert report.clips[0].error is None and report.clips[0].planner.empty
    overall = report.groups()["overall"]
    assert overall["planner"]["empty_clips"] == 1 and overall["floor"]["empty_clips"] == 0
    written = json.loads((tmp_path / "out" / "real-bench.json").read_text())
    assert written["schema"] == "spa2v.realbench/1"
    assert written["clips"][0]["planner"]["sources"][0]["label"]["planned"] == "none"


def test_a_clip_without_sounding_sources_is_not_an_empty_layout_test() -> None:
    clip = the_clip()
    clip.sources[0].sounding = False
    assert score_layout(clip, layout(4.0, {}), clip_grid(clip)).empty is None


# -- end to end on simulated recordings ---------------------------------------------------


@pytest.mark.slow
def test_bench_real_on_simulated_recordings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two simulated FOA recordings (a static source 35 deg left, a car passing right to
    left), a corrupt file and a dual-mono copy, scored end to end through the CLI."""
    from spa2v.sim.scene import simulate_pass, simulate_static

    (tmp_path / "audio").mkdir()
    static = simulate_static(35.0, distance_m=4.0, format="foa", clip="noise", duration_s=3.0)
    crossing = simulate_pass("right-to-left", format="foa", duration_s=4.0)
    entries = []
    for name, result in (("static", static), ("crossing", crossing)):
        sf.write(str(tmp_path / f"audio/{name}.flac"), result.signal.samples.T, 48000)
        truth = result.truth[0]
        times = np.arange(0.0, result.spec.duration_s + 1e-9, 0.5)
        track = [
            [float(t), round(float(a), 2), None, None]
            for t, a in zip(times, truth.azimuth_at(times), strict=True)
        ]
        motion = "static" if name == "static" else "right-to-left"
        entries.append(
            clip_entry(
                clip=name,
                audio=f"audio/{name}.flac",
                duration_s=result.spec.duration_s,
                sources=[
                    {
                        "class": truth.noun,
                        "family": "vehicle" if name == "crossing" else "other",
                        "sounding": True,
                        "track": track,
                        "motion": motion,
                    }
                ],
            )
        )
    (tmp_path / "audio/broken.flac").write_bytes(b"not audio at all")
    entries.append(clip_entry(clip="broken", audio="audio/broken.flac"))
    mono = static.signal.samples[:1].T
    sf.write(str(tmp_path / "audio/mono.flac"), np.hstack([mono, mono]), 48000)
    entries.append(
        clip_entry(
            clip="mono",
            audio="audio/mono.flac",
            format="dual-mono",
            channels=2,
            lateral_cue="none",
            duration_s=3.0,
            frame={"kind": "none", "hfov_deg": None},
        )
    )
    manifest = write_manifest(tmp_path, entries, make_audio=False)
    out = tmp_path / "out"
    code = main(["-q", "bench", "--real", str(manifest), "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["real-bench.json", "real-bench.md"]
    report = json.loads((out / "real-bench.json").read_text())
    clips = {c["clip"]: c for c in report["clips"]}
    assert clips["broken"]["error"] and clips["broken"]["planner"]["empty"]
    assert clips["static"]["error"] is None and clips["static"]["layout"] == "foa"
    static_source = clips["static"]["planner"]["sources"][0]
    assert static_source["side"]["ok"] and static_source["lcr"]["acc"] == 1.0
    assert static_source["azimuth"]["error_deg"] < 12.0  # the floor: 35 deg
    crossing_source = clips["crossing"]["planner"]["sources"][0]
    assert [d["ok"] for d in crossing_source["directions"]] == [True]
    groups = report["groups"]
    assert list(groups) == ["foa", "overall", "dual-mono"]
    overall = groups["overall"]
    assert overall["planner"]["empty_clips"] == 1  # the broken file
    assert overall["planner"]["n_clips"] == 3
    assert overall["planner"]["azimuth_error_deg"] < overall["floor"]["azimuth_error_deg"]
    assert overall["floor"]["direction_acc"] == 0.0
    markdown = (out / "real-bench.md").read_text()
    assert "| static | " in markdown and "## Sources (planner)" in markdown


# -- the real development set -------------------------------------------------------------


@pytest.mark.slow
def test_real_development_set() -> None:
    """The physics planner on the real recordings beside the repository."""
    if not REAL_MANIFEST.parent.is_dir():
        pytest.skip(f"no real development set at {REAL_MANIFEST.parent}")
    report = run_real_benchmark(load_realset(REAL_MANIFEST), progress=False)
    overall = report.groups()["overall"]
    planner, floor = overall["planner"], overall["floor"]
    for key, n in REAL_COUNTS.items():
        assert planner[key] == n, key
    assert not [r.clip.clip for r in report.clips if r.error]
    assert planner["side_acc"] >= REAL_MIN_SIDE_ACC
    assert planner["lcr_acc"] >= REAL_MIN_LCR_ACC
    assert planner["azimuth_error_deg"] <= REAL_MAX_AZIMUTH_ERROR_DEG
    assert planner["direction_acc"] >= REAL_MIN_DIRECTION_ACC
    assert planner["label_acc"] >= REAL_MIN_LABEL_ACC
    assert planner["empty_clips"] <= REAL_MAX_EMPTY_CLIPS
    assert floor["side_acc"] == 0.0 and floor["direction_acc"] == 0.0
    assert math.isclose(floor["lcr_acc"], FLOOR_LCR_ACC, abs_tol=0.001)
    assert math.isclose(floor["azimuth_error_deg"], FLOOR_AZIMUTH_ERROR_DEG, abs_tol=0.05)
    assert planner["lcr_acc"] > floor["lcr_acc"]
    assert planner["azimuth_error_deg"] < floor["azimuth_error_deg"]
