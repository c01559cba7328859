"""`spa2v plan AUDIO -o layout.json [--planner physics|llm] [--keyframe-fps N | --frames N]`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chat_server import chat_server
from spa2v.hearing.extract import hear
from spa2v.interfaces.cli import main
from spa2v.planning.vsl import load_vsl
from spa2v.sim import simulate_pass


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A 2 s spaced-pair recording of a car passing right to left."""
    res = simulate_pass("right-to-left", 20.0, 8.0, format="spaced", duration_s=2.0, seed=11)
    path = tmp_path_factory.mktemp("clip") / "pass.wav"
    res.write(path)
    return path


def _spa2v(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spa2v", *args], capture_output=True, text=True, timeout=120
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00garbage, not audio" * 10])
def test_bad_audio_is_a_one_line_error_and_leaves_no_layout(tmp_path, content):
    audio = tmp_path / "bad.wav"
    audio.write_bytes(content)
    out = tmp_path / "layout.json"
    done = _spa2v("plan", str(audio), "-o", str(out))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spa2v plan: error:"), done.stderr
    assert "bad.wav" in lines[0] and "Traceback" not in done.stderr
    assert not out.exists() and _leftovers(tmp_path) == []


def test_failure_keeps_an_existing_layout_untouched(tmp_path, capsys):
    audio = tmp_path / "empty.wav"
    audio.write_bytes(b"")
    out = tmp_path / "layout.json"
    out.write_text('{"old": true}')
    assert main(["plan", str(audio), "-o", str(out)]) != 0
    assert out.read_text() == '{"old": true}'
    assert "error" in capsys.readouterr().err


def test_plan_writes_a_valid_layout_and_prints_a_summary(clip, tmp_path):
    out = tmp_path / "layout.json"
    done = _spa2v("plan", str(clip), "-o", str(out), "--planner", "physics", "--keyframe-fps", "4")
    assert done.returncode == 0, done.stderr
    vsl = load_vsl(out)
    assert [f.t for f in vsl.frames] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    assert vsl.objects[0].motion == "right-to-left"
    assert "physics layout: 2.0 s, 9 keyframes" in done.stdout
    assert "right-to-left" in done.stdout and f"wrote {out}" in done.stdout


def test_fixed_frame_count_and_layout_override(clip, tmp_path):
    out = tmp_path / "layout.json"
    assert main(["plan", str(clip), "-o", str(out), "--frames", "6", "--layout", "panned"]) == 0
    vsl = load_vsl(out)
    assert len(vsl.frames) == 6 and vsl.frames[-1].t == pytest.approx(2.0)
    assert vsl.reasoning.startswith("panned recording")  # the override reached hearing


def test_keyframe_fps_and_frames_are_exclusive(clip, tmp_path, capsys):
    argv = ["plan", str(clip), "-o", str(tmp_path / "x.json")]
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--keyframe-fps", "4", "--frames", "6"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_fps_means_video_frames_everywhere(clip, tmp_path, capsys):
    """--fps is the video frame rate (render, run); keyframes are --keyframe-fps in plan
    and run alike, and plan's old --fps says so instead of meaning something else."""
    with pytest.raises(SystemExit) as exc:
        main(["plan", str(clip), "-o", str(tmp_path / "x.json"), "--fps", "4"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--keyframe-fps" in err and "video frame rate" in err
    from spa2v.interfaces.cli import build_parser

    parser = build_parser()
    run_args = parser.parse_args(["run", "a.wav", "-o", "a.mp4", "--keyframe-fps", "2"])
    plan_args = parser.parse_args(["plan", "a.wav", "-o", "a.json", "--keyframe-fps", "2"])
    assert run_args.keyframe_fps == plan_args.keyframe_fps == 2.0
    assert parser.parse_args(["run", "a.wav", "-o", "a.mp4", "--fps-plan", "3"]).keyframe_fps == 3


def test_plan_from_a_cues_file_matches_planning_from_audio(clip, tmp_path):
    from spa2v.interfaces.cli.cues import hear_and_tag
    from spa2v.io.audio import load_audio

    cues = hear_and_tag(load_audio(clip), hop_s=0.025, max_sources=3)
    cues_path = cues.save(tmp_path / "cues.json")
    from_cues, from_audio = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["plan", str(cues_path), "-o", str(from_cues)]) == 0
    assert main(["plan", str(clip), "-o", str(from_audio)]) == 0
    a, b = load_vsl(from_cues), load_vsl(from_audio)
    centres = [[(x.box[0] + x.box[2]) / 2 for x in f.boxes] for f in a.frames]
    expected = [[(x.box[0] + x.box[2]) / 2 for x in f.boxes] for f in b.frames]
    assert len(centres) == len(expected)
    for got, want in zip(centres, expected, strict=True):
        assert np.allclose(got, want, atol=2e-3)  # cues JSON rounds to 4 decimals


def test_not_a_cues_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "cues.json"
    bad.write_text(json.dumps({"hello": 1}))
    assert main(["plan", str(bad), "-o", str(tmp_path / "x.json")]) != 0
    assert "not a cues file" in capsys.readouterr().err


def test_llm_planner_without_a_server_names_what_to_set(clip, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SPA2V_LLM_BASE_URL", raising=False)
    out = tmp_path / "layout.json"
    assert main(["plan", str(clip), "-o", str(out), "--planner", "llm"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--llm-base-url" in err[0] and "SPA2V_LLM_BASE_URL" in err[0]
    assert not out.exists()


def test_llm_planner_that_cannot_connect_is_a_one_line_error(clip, tmp_path, capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "layout.json"
    args = ["plan", str(clip), "-o", str(out), "--planner", "llm", "--llm-model", "m"]
    args += ["--llm-base-url", f"http://127.0.0.1:{port}/v1", "--llm-timeout-s", "5"]
    assert main(args) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach" in err[0] and "Traceback" not in err[0]
    assert not out.exists()


def test_llm_answers_that_are_garbage_fall_back_said_once_and_named_physics(clip, tmp_path, capsys):
    out = tmp_path / "layout.json"
    with chat_server() as (base_url, script):
        script.answers = ["not a layout", "{truncated", "[]"]
        args = ["plan", str(clip), "-o", str(out), "--planner", "llm", "--llm-model", "m"]
        assert main([*args, "--llm-base-url", base_url, "--llm-timeout-s", "10"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("llm planner failed") == 1
    assert "used the physics planner" in captured.err
    assert captured.out.startswith("physics layout (the llm planner's answer was unusable)")
    assert load_vsl(out).reasoning.startswith("WARNING: llm planner failed")


def test_output_must_be_a_json_file_and_its_folder_is_made(clip, tmp_path, capsys):
    assert main(["plan", str(clip), "-o", str(tmp_path / "layout.txt")]) != 0
    (tmp_path / "file").write_text("")
    assert main(["plan", str(clip), "-o", str(tmp_path / "file" / "layout.json")]) != 0
    err = capsys.readouterr().err
    assert "ending in .json" in err and "is a file, not a folder" in err
    assert main(["plan", str(clip), "-o", str(tmp_path / "no" / "layout.json")]) == 0
    assert load_vsl(tmp_path / "no" / "layout.json").frames


def test_hearing_the_clip_finds_the_pass(clip):
    # Guards the fixture: the clip really is a right-to-left pass.
    from spa2v.io.audio import load_audio

    cues = hear(load_audio(clip))
    assert cues.sources and cues.sources[0].lateral_motion == "right-to-left"


def test_a_cues_file_with_broken_times_is_a_clear_error(clip, tmp_path, capsys):
    """Found by the fuzzing campaign: one frame time set to null (NaN) went through the
    loader and crashed the planner with a ValueError traceback."""
    cues_path = tmp_path / "c.json"
    assert main(["cues", str(clip), "-o", str(cues_path), "--no-tags"]) == 0
    data = json.loads(cues_path.read_text())
    data["sources"][0]["times_s"][3] = None
    cues_path.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["plan", str(cues_path), "-o", str(tmp_path / "l.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "times_s must be finite and increasing" in err[0]


@pytest.mark.parametrize(
    ("field", "value"),
    [("stereo", "weird"), ("layout", 5), ("audio_path", 5), ("yaw_deg", "x")],
)
def test_a_cues_file_with_a_field_of_the_wrong_type_is_a_clear_error(
    clip, tmp_path, capsys, field, value
):
    """Found by the fuzzing campaign: "stereo": "weird" crashed the reasoning text with
    a TypeError traceback."""
    cues_path = tmp_path / "c.json"
    assert main(["cues", str(clip), "-o", str(cues_path), "--no-tags"]) == 0
    data = json.loads(cues_path.read_text())
    data[field] = value
    cues_path.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["plan", str(cues_path), "-o", str(tmp_path / "l.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and field in err[0], err


def test_a_cues_file_with_a_huge_bad_value_names_it_in_a_line_of_readable_length(
    clip, tmp_path, capsys
):
    """A bad value is quoted by its start and end with the count left out, as in every
    error message that quotes the user's data (``spa2v.errors.shorten``)."""
    cues_path = tmp_path / "c.json"
    assert main(["cues", str(clip), "-o", str(cues_path), "--no-tags"]) == 0
    data = json.loads(cues_path.read_text())
    data["layout"] = "w" * 100_000
    cues_path.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["plan", str(cues_path), "-o", str(tmp_path / "l.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "layout" in err[0], err
    assert len(err[0]) < len(str(cues_path)) + 250 and "(99,8" in err[0], err[0]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda stereo: stereo.pop("confidence"),
        lambda stereo: stereo.update(confidence=None),
        lambda stereo: stereo.pop("evidence"),
    ],
    ids=["no-confidence", "null-confidence", "no-evidence"],
)
def test_a_cues_file_with_a_stereo_analysis_missing_a_field_is_a_clear_error(
    clip, tmp_path, capsys, mutate
):
    """Found by the fuzzing campaign (seed 13): a "stereo" analysis without its
    "confidence" passed the loader and crashed the reasoning text with a KeyError
    traceback."""
    cues_path = tmp_path / "c.json"
    assert main(["cues", str(clip), "-o", str(cues_path), "--no-tags"]) == 0
    data = json.loads(cues_path.read_text())
    assert data["lateral_info"] and isinstance(data["stereo"], dict)  # guards the case
    mutate(data["stereo"])
    cues_path.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["plan", str(cues_path), "-o", str(tmp_path / "l.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "stereo" in err[0], err
    assert not (tmp_path / "l.json").exists()


def test_the_cli_runs_blas_with_one_thread_unless_the_user_sized_it() -> None:
    """A second OpenBLAS thread only spin-waits on spa2v's small matrices: the CLI sets
    one before numpy loads, and keeps what the user set."""
    import os
    import subprocess
    import sys

    from spa2v.batch.engine import THREAD_VARIABLES

    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    env["MKL_NUM_THREADS"] = "3"
    show = f"print(*(os.environ.get(n) for n in {THREAD_VARIABLES!r}))"

    def run(code: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.splitlines()[-1].split()

    main = "import os\nfrom spa2v.interfaces.cli import main\ntry:\n    main(['--help'])\n"
    main += "except SystemExit:\n    pass\n"
    assert run(main + show) == ["1", "1", "3"]  # OMP, OPENBLAS set; MKL the user's
    # too late once numpy is loaded (it has read them): nothing is set then
    late = "import os, numpy\nfrom spa2v.interfaces.cli import one_blas_thread\n"
    assert run(late + "one_blas_thread()\n" + show) == ["None", "None", "3"]
