"""``spa2v render``, ``spa2v run`` and ``spa2v demo`` through the real command line entry
point: end to end on a simulated clip, and bad input (one-line errors, no partial MP4)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from spa2v.interfaces.cli import main
from spa2v.planning.vsl import load_vsl
from spa2v.sim.scene import simulate_pass

GOOD_LAYOUT = {
    "schema": "spa2v.vsl/1",
    "duration": 1.0,
    "fps": 1.0,
    "background": "a street",
    "objects": [{"id": 0, "name": "car", "audio_label": "Car", "motion": "right-to-left"}],
    "frames": [
        {"t": 0.0, "boxes": [{"id": 0, "box": [0.6, 0.5, 0.9, 0.6]}]},
        {"t": 1.0, "boxes": [{"id": 0, "box": [0.1, 0.5, 0.4, 0.6]}]},
    ],
}


@pytest.fixture(scope="module")
def passing_car(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vehicle passing right to left 12 m in front at 8 m/s, spaced pair, 3 s."""
    folder = tmp_path_factory.mktemp("sim")
    result = simulate_pass(
        "right-to-left",
        speed_mps=8.0,
        closest_m=12.0,
        format="spaced",
        clip="engine",
        duration_s=3.0,
        sr=22050,
        seed=3,
    )
    path = folder / "car.wav"
    sf.write(path, result.signal.samples.T, result.signal.sr)
    return path


@pytest.fixture
def short_audio(tmp_path: Path) -> Path:
    t = np.arange(22050) / 22050
    path = tmp_path / "tone.wav"
    sf.write(path, 0.2 * np.sin(2 * np.pi * 440 * t), 22050)
    return path


def one_line_error(capsys: pytest.CaptureFixture[str], code: int) -> str:
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


def no_video_left(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.suffix == ".mp4" or ".part" in p.name]


def test_run_end_to_end(passing_car: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "street.mp4"
    code = main(["run", str(passing_car), "-o", str(out), "--layout", "spaced"])
    stdout = capsys.readouterr().out
    assert code == 0
    for suffix in (".mp4", ".cues.json", ".layout.json", ".storyboard.png"):
        path = tmp_path / f"street{suffix}"
        assert path.is_file() and path.stat().st_size > 0, path
        assert str(path) in stdout.replace("\n", "")
    vsl = load_vsl(tmp_path / "street.layout.json")
    cues = json.loads((tmp_path / "street.cues.json").read_text())
    assert cues["schema"] == "spa2v.cues/1" and cues["sources"]
    # Simulator truth: the source goes from right to left, so must the drawn object.
    centres = [
        (box[0] + box[2]) / 2
        for frame in vsl.frames
        for object_id, box in vsl.boxes_at(frame.t).items()
        if object_id == vsl.objects[0].id
    ]
    assert len(centres) >= 4 and centres[-1] < centres[0] - 0.3, centres
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        video_s = float(video.duration * video.time_base)
        assert container.streams.audio, "the original audio is in the video"
    assert abs(video_s - 3.0) <= 1 / 24


def test_demo_writes_its_outputs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["demo", "--out", str(tmp_path / "demo"), "--only", "car-right-to-left"])
    stdout = capsys.readouterr().out
    assert code == 0
    for suffix in (".mp4", ".layout.json", ".storyboard.png"):
        assert (tmp_path / "demo" / f"car-right-to-left{suffix}").is_file()
    assert str((tmp_path / "demo").resolve()) in stdout.replace("\n", "")
    vsl = load_vsl(tmp_path / "demo" / "car-right-to-left.layout.json")
    assert [obj.motion for obj in vsl.objects][:1] == ["right-to-left"]


def test_render_rejects_an_invalid_layout(
    short_audio: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bad = json.loads(json.dumps(GOOD_LAYOUT))
    bad["frames"][1]["boxes"][0]["box"] = [0.4, 0.5, 0.1, 0.6]  # x0 > x1
    layout = tmp_path / "bad.json"
    layout.write_text(json.dumps(bad))
    code = main(["render", str(layout), "--audio", str(short_audio), "-o", str(tmp_path / "o.mp4")])
    err = one_line_error(capsys, code)
    assert "frames[1].boxes[0].box" in err and "x0 must be < x1" in err
    assert no_video_left(tmp_path)


def test_render_rejects_a_missing_audio_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    layout = tmp_path / "layout.json"
    layout.write_text(json.dumps(GOOD_LAYOUT))
    missing = tmp_path / "missing.wav"
    code = main(["render", str(layout), "--audio", str(missing), "-o", str(tmp_path / "o.mp4")])
    err = one_line_error(capsys, code)
    assert "does not exist" in err and "missing.wav" in err
    assert no_video_left(tmp_path)


def test_render_rejects_corrupt_audio(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    layout = tmp_path / "layout.json"
    layout.write_text(json.dumps(GOOD_LAYOUT))
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF" + bytes(range(256)) * 8)
    code = main(["render", str(layout), "--audio", str(corrupt), "-o", str(tmp_path / "o.mp4")])
    one_line_error(capsys, code)
    assert no_video_left(tmp_path)


@pytest.mark.parametrize("target", ["a-file/out.mp4", "a-folder.mp4", "out.avi"])
def test_render_rejects_unwritable_outputs(
    target: str, short_audio: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    layout = tmp_path / "layout.json"
    layout.write_text(json.dumps(GOOD_LAYOUT))
    (tmp_path / "a-folder.mp4").mkdir()
    (tmp_path / "a-file").write_text("in the way of a folder")
    out = tmp_path / target
    code = main(["render", str(layout), "--audio", str(short_audio), "-o", str(out)])
    err = one_line_error(capsys, code)
    assert "out" in err or "a-folder" in err or "a-file" in err
    assert not [p for p in tmp_path.rglob("*") if ".part" in p.name or p.suffix == ".avi"]
    assert not (out.is_file())


def test_run_checks_the_output_before_hearing(
    short_audio: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code = main(["run", str(short_audio), "-o", str(tmp_path / "out.avi")])
    err = one_line_error(capsys, code)
    assert "ending in .mp4" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tone.wav"]  # nothing else written


def test_missing_output_folders_are_created_and_removed_again_on_failure(
    short_audio: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "new" / "deeper" / "out.mp4"
    assert main(["run", str(short_audio), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "out.cues.json",
        "out.cues.png",
        "out.layout.json",
        "out.mp4",
        "out.storyboard.png",
    ]
    capsys.readouterr()
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF" + bytes(range(256)) * 8)
    code = main(["run", str(bad), "-o", str(tmp_path / "other" / "sub" / "out.mp4")])
    one_line_error(capsys, code)
    assert not (tmp_path / "other").exists()  # the folders it made are gone again


def test_a_failed_run_leaves_none_of_its_outputs(short_audio: Path, tmp_path: Path) -> None:
    """Rendering fails after the cues, plot and layout are made (the diffusion generator
    cannot run here): none of them may be left without the video."""
    from spa2v import api
    from spa2v.errors import Spa2vError

    with pytest.raises(Spa2vError):
        api.run(
            short_audio,
            tmp_path / "out.mp4",
            generator="diffusion",
            generator_options={"model": str(tmp_path / "no-model"), "device": "cpu"},
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tone.wav"]


def test_sigterm_while_rendering_leaves_no_file(passing_car: Path, tmp_path: Path) -> None:
    # As long as the recording (3 s), so that the video takes seconds to encode: with
    # 1 s a quick machine finished it before the signal came.
    long_layout = {**GOOD_LAYOUT, "duration": 3.0}
    long_layout["frames"] = [{**frame, "t": 3.0 * frame["t"]} for frame in GOOD_LAYOUT["frames"]]
    layout = tmp_path / "layout.json"
    layout.write_text(json.dumps(long_layout))
    out = tmp_path / "big.mp4"
    argv = [sys.executable, "-m", "spa2v", "render", str(layout), "--audio", str(passing_car)]
    argv += ["-o", str(out), "--size", "2048x1280", "--fps", "60", "--storyboard"]
    argv += [str(tmp_path / "sb.png")]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(tmp_path.glob(".big.mp4.*part.mp4")):
        time.sleep(0.05)
    assert list(tmp_path.glob(".big.mp4.*part.mp4")), "rendering the video never started"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert "Traceback" not in err and "interrupted" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["layout.json"]


def test_run_rejects_a_missing_audio_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["run", str(tmp_path / "nothing.wav"), "-o", str(tmp_path / "out.mp4")])
    one_line_error(capsys, code)
    assert list(tmp_path.iterdir()) == []


def test_render_size_and_fps_flags(
    short_audio: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    layout = tmp_path / "layout.json"
    layout.write_text(json.dumps(GOOD_LAYOUT))
    out = tmp_path / "small.mp4"
    argv = ["render", str(layout), "--audio", str(short_audio), "-o", str(out)]
    code = main([*argv, "--size", "256x160", "--fps", "12", "--overlay", "--subtitles"])
    assert code == 0
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (256, 160)
        assert float(stream.average_rate) == pytest.approx(12.0)
        assert sum(1 for _ in container.decode(stream)) == 12  # 1 s of audio at 12 fps
    with pytest.raises(SystemExit):
        main([*argv, "--size", "255x160"])  # odd sizes are refused by the parser


def test_run_repairs_nan_samples_in_the_muxed_audio_too(tmp_path: Path) -> None:
    # The loader repairs NaN samples with a warning; the AAC encoder refuses NaN, so
    # without the same repair when muxing the run would fail at the very end.
    rng = np.random.default_rng(0)
    samples = (0.1 * rng.standard_normal((16000, 2))).astype(np.float32)
    samples[100:200] = np.nan
    audio = tmp_path / "nan.wav"
    sf.write(audio, samples, 16000, subtype="FLOAT")
    out = tmp_path / "nan.mp4"
    assert main(["run", str(audio), "-o", str(out)]) == 0
    with av.open(str(out)) as container:
        assert container.streams.audio and container.streams.video
        decoded = np.concatenate(
            [f.to_ndarray() for f in container.decode(container.streams.audio[0])], axis=1
        )
    assert np.all(np.isfinite(decoded)) and np.abs(decoded).max() > 0.05


def test_render_uses_damaged_but_usable_audio_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """NaN samples and a truncated file are used with a warning (as the README says), by
    render as by run."""
    rng = np.random.default_rng(1)
    samples = (0.1 * rng.standard_normal((32000, 2))).astype(np.float32)
    samples[100:200] = np.nan
    audio = tmp_path / "damaged.wav"
    sf.write(audio, samples, 16000, subtype="FLOAT")
    audio.write_bytes(audio.read_bytes()[: len(audio.read_bytes()) // 2])  # cut in half
    layout = tmp_path / "layout.json"
    layout.write_text(json.dumps(GOOD_LAYOUT))
    out = tmp_path / "out.mp4"
    assert main(["render", str(layout), "--audio", str(audio), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "damaged.wav is truncated" in err and "NaN/infinite samples were set to 0" in err
    assert out.is_file()
