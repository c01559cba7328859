"""``spa2v cues``: options, end-to-end runs, and clean failures (in-process and real process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spa2v.hearing.cues import Cues
from spa2v.interfaces.cli import main

SR = 48_000


def _panned_noise(azimuth_deg: float, duration_s: float = 2.0, seed: int = 0) -> np.ndarray:
    """Broadband noise, constant-power panned; +azimuth = LEFT (channel 0 louder)."""
    rng = np.random.default_rng(seed)
    mono = 0.2 * rng.standard_normal(int(SR * duration_s))
    theta = np.deg2rad(45.0 + azimuth_deg)  # 0 deg -> equal gains, +45 deg -> left only
    return np.stack([np.sin(theta) * mono, np.cos(theta) * mono]).astype(np.float32)


def _error_line(capsys, argv: list[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # one line, no traceback
    return code, lines[0]


# --- help and options ----------------------------------------------------------------


def test_help_explains_every_option_and_has_an_example(capsys):
    with pytest.raises(SystemExit) as info:
        main(["cues", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "AUDIO",
        "--output",
        "--plot",
        "--layout",
        "--max-duration-s",
        "--hop-ms",
        "--max-sources",
        "--no-tags",
    ):
        assert option in text, option
    for layout in ("auto", "mono", "spaced", "panned", "binaural", "foa"):
        assert layout in text
    assert "examples:" in text and "spa2v cues street.wav -o cues.json --plot cues.png" in text


@pytest.mark.parametrize(
    "bad", [["--hop-ms", "1"], ["--hop-ms", "abc"], ["--max-sources", "0"], ["--layout", "5.1"]]
)
def test_bad_option_values_are_refused_by_the_parser(capsys, tmp_path, bad):
    with pytest.raises(SystemExit) as info:
        main(["cues", str(tmp_path / "x.wav"), *bad])
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


# --- failures: one line, non-zero exit, nothing written --------------------------------


def test_missing_file_fails_cleanly(capsys, tmp_path):
    out = tmp_path / "cues.json"
    code, line = _error_line(capsys, ["cues", str(tmp_path / "gone.wav"), "-o", str(out)])
    assert code != 0
    assert line.startswith("spa2v cues: error:") and "gone.wav does not exist" in line
    assert not out.exists()


def test_unusable_inputs_fail_cleanly(capsys, tmp_path, write_audio, tone):
    text = tmp_path / "notes.wav"
    text.write_text("not a recording\n" * 10)
    cases = {
        str(text): "not an audio or video file",
        str(write_audio("three.wav", tone(SR, 0.2, (0.1, 0.1, 0.1)), SR)): "has 3 channels",
        str(write_audio("one_s.wav", tone(SR, 1.0), SR)): "over the 0.5 s limit",
    }
    for path, expected in cases.items():
        out = tmp_path / "cues.json"
        code, line = _error_line(capsys, ["cues", path, "-o", str(out), "--max-duration-s", "0.5"])
        assert code == 2 and expected in line, line
        assert not out.exists()


def test_unwritable_output_fails_before_any_work(capsys, tmp_path, write_audio, tone):
    wav = str(write_audio("ok.wav", tone(SR, 0.2), SR))
    (tmp_path / "file").write_text("")
    code, line = _error_line(capsys, ["cues", wav, "-o", str(tmp_path / "file" / "c.json")])
    assert code == 2 and "is a file, not a folder" in line
    code, line = _error_line(capsys, ["cues", wav, "--plot", str(tmp_path / "c.gif")])
    assert code == 2 and ".png" in line


def test_real_process_fails_with_one_line_and_leaves_no_file(tmp_path):
    bad = tmp_path / "truncated.m4a"
    bad.write_bytes(b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 40)  # an m4a cut after 48 bytes
    out = tmp_path / "cues.json"
    proc = subprocess.run(
        [sys.executable, "-m", "spa2v", "cues", str(bad), "-o", str(out), "--plot", "p.png"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "truncated.m4a is truncated or corrupt" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["truncated.m4a"]  # no partial files


# --- end to end (loading -> hearing -> tagging -> JSON, plot, summary) --------------


def test_panned_source_on_the_left_end_to_end(capsys, tmp_path, write_audio):
    wav = write_audio("left.wav", _panned_noise(+30.0), SR)
    out, plot = tmp_path / "cues.json", tmp_path / "cues.png"
    code = main(
        ["cues", str(wav), "-o", str(out), "--plot", str(plot), "--layout", "panned", "--no-tags"]
    )
    stdout = capsys.readouterr().out
    assert code == 0
    cues = Cues.load(out)
    assert cues.layout == "panned" and cues.sr == SR
    assert abs(cues.duration_s - 2.0) < 0.01
    assert len(cues.sources) >= 1
    loudest = max(cues.sources, key=lambda s: float(np.nanmax(s.loudness_db)))
    active = loudest.active.astype(bool)
    assert np.median(loudest.azimuth_deg[active]) > 5.0  # heard on the LEFT (+)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "left.wav" in stdout and "panned (given)" in stdout
    assert "source 1: " in stdout and "on the left" in stdout
    assert f"wrote {out}" in stdout and f"wrote {plot}" in stdout


def test_hop_and_max_sources_reach_the_tracks(capsys, tmp_path, write_audio):
    wav = write_audio("left.wav", _panned_noise(-30.0, duration_s=1.0), SR)
    code = main(["cues", str(wav), "-o", "-", "--hop-ms", "50", "--max-sources", "1", "--no-tags"])
    captured = capsys.readouterr()
    assert code == 0
    data = json.loads(captured.out)  # only JSON on stdout with -o -
    assert data["hop_s"] == pytest.approx(0.05)
    assert len(data["sources"]) == 1
    steps = np.diff(data["sources"][0]["times_s"])
    assert np.allclose(steps, 0.05, atol=1e-3)
    assert "source 1" in captured.err  # the summary moved to stderr


def test_silence_gives_a_warning_and_no_sources(capsys, tmp_path, write_audio):
    wav = write_audio("quiet.wav", np.zeros((2, SR), np.float32), SR)
    out = tmp_path / "cues.json"
    code = main(["cues", str(wav), "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert "warning:" in captured.err and "silent" in captured.err
    assert "no sources found" in captured.out
    cues = Cues.load(out)
    assert cues.sources == []
    assert any("silent" in w for w in cues.warnings)  # the loader's warning is in the JSON


def test_tags_label_the_sources(capsys, tmp_path):
    """Real speech (espeak-ng) must come out labelled as a person."""
    speech = tmp_path / "speech.wav"
    with speech.open("wb") as f:
        text = "hello, this is a short test of the sound tagger in spa two v"
        subprocess.run(["espeak-ng", "--stdout", text], stdout=f, check=True)
    out = tmp_path / "cues.json"
    assert main(["cues", str(speech), "-o", str(out)]) == 0
    cues = Cues.load(out)
    assert cues.layout == "mono" and cues.sources
    top = cues.sources[0].labels[0]
    assert top.noun == "person" and top.score > 0.3, top
    assert "source 1 (person: Speech" in capsys.readouterr().out  # the summary names it


def test_real_process_succeeds(tmp_path, write_audio):
    wav = write_audio("left.wav", _panned_noise(+30.0, duration_s=1.0), SR)
    out = Path(tmp_path) / "c.json"
    proc = subprocess.run(
        [sys.executable, "-m", "spa2v", "cues", str(wav), "-o", str(out), "--no-tags"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert Cues.load(out).sources
    assert "source 1" in proc.stdout
