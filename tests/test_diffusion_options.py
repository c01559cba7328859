"""Diffusion generator: options, CLI arguments, time stretching, and the missing-extra error.

None of these need torch: they check what a user without the extra sees too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spa2v.rendering.diffusion import DiffusionOptions, add_diffusion_arguments
from spa2v.rendering.diffusion.options import guess_base
from spa2v.rendering.diffusion.pipeline import stretch_indices


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")  # an unrelated option of the host command
    add_diffusion_arguments(parser)
    return parser.parse_args(list(argv))


def test_cli_arguments_become_options_with_per_base_defaults() -> None:
    ns = _parse("--out", "x.mp4", "--steering", "energy", "--seed", "7", "--steps", "30")
    opts = DiffusionOptions.from_namespace(ns).resolved()
    assert opts.base == "animatediff"
    assert opts.model == "emilianJR/epiCRealism"
    assert (opts.seed, opts.steps, opts.steering) == (7, 30, "energy")
    # energy guides the first quarter of the steps (LVD: 10 of 40) with LVD's scale
    assert opts.steering_steps == 8
    assert opts.steering_strength == pytest.approx(2.5)
    assert (opts.num_frames, opts.width, opts.height) == (16, 512, 320)
    assert opts.video_fps == 8.0  # AnimateDiff's clip rate when the host sets no --fps
    hosted = DiffusionOptions.from_namespace(
        argparse.Namespace(**vars(ns), fps=24.0, size=(640, 400))
    ).resolved()
    assert (hosted.video_fps, hosted.video_size) == (24.0, (640, 400))
    assert (hosted.width, hosted.height) == (512, 320)  # the model's own size

    zeroscope = DiffusionOptions.from_namespace(
        _parse("--model", "cerspense/zeroscope_v2_576w")
    ).resolved()
    assert zeroscope.base == "modelscope"
    assert (zeroscope.num_frames, zeroscope.width, zeroscope.height) == (24, 576, 320)
    assert zeroscope.steps == 40
    assert zeroscope.steering == "modulate"
    assert zeroscope.steering_steps == 16  # 40 % of 40 steps


def test_cli_rejects_unknown_steering_and_help_lists_every_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        _parse("--steering", "magic")
    with pytest.raises(SystemExit):
        _parse("--help")
    help_text = capsys.readouterr().out
    for flag in (
        "--model",
        "--base",
        "--motion-adapter",
        "--device",
        "--dtype",
        "--seed",
        "--steps",
        "--guidance-scale",
        "--steering",
        "--steering-strength",
        "--steering-steps",
        "--num-frames",
    ):
        assert flag in help_text


def test_auto_base_reads_a_local_model_index(tmp_path: Path) -> None:
    folder = tmp_path / "t2v"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "TextToVideoSDPipeline"}))
    assert guess_base(str(folder)) == "modelscope"
    assert guess_base("runwayml/stable-diffusion-v1-5") == "animatediff"
    assert guess_base("ali-vilab/text-to-video-ms-1.7b") == "modelscope"
    assert guess_base("ali-vilab/text-to-video-ms-1.7b", motion_adapter="x") == "animatediff"


def test_stretch_covers_the_duration_evenly() -> None:
    order = stretch_indices(16, 4.0, 8.0)
    assert len(order) == 32  # 4 s at 8 fps
    assert order[0] == 0 and order[-1] == 15
    assert (abs(order.astype(int) - order.astype(int).mean()) <= 8).all()
    assert set(order.tolist()) == set(range(16))  # every generated frame is shown
    assert (order[1:] >= order[:-1]).all()
    assert stretch_indices(16, 1.0, 8.0).tolist() == [0, 2, 4, 6, 8, 10, 12, 14]


_WITHOUT_EXTRA = textwrap.dedent(
    """
    import sys
    for name in ("torch", "diffusers", "transformers"):
        sys.modules[name] = None  # import of these now raises ImportError
    from spa2v.errors import BackendUnavailableError
    from spa2v.planning.vsl import parse_vsl
    from spa2v.rendering.diffusion import DiffusionOptions, generate_diffusion_video
    vsl = parse_vsl({"schema": "spa2v.vsl/1", "duration": 1.0, "fps": 1.0, "objects": [],
                     "frames": [{"t": 0.0, "boxes": []}]})
    try:
        generate_diffusion_video(vsl, None, sys.argv[1], DiffusionOptions())
    except BackendUnavailableError as exc:
        print("ERROR:", exc)
    """
)


def test_missing_extra_gives_install_command(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRA, str(tmp_path / "out.mp4")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ERROR:" in result.stdout
    assert "pip install 'spa2v[diffusion]'" in result.stdout
    assert not (tmp_path / "out.mp4").exists()
