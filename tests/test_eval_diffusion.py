"""A video from the (tiny, random-weight) diffusion generator goes through ``spa2v eval``
end to end: the detector path, a report, a plot, no error."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("cv2")
import torch

from diffusion_tiny import HEIGHT, WIDTH, tiny_animatediff
from spa2v.evaluation.spatial import VERDICTS
from spa2v.interfaces.cli import main
from spa2v.planning.vsl import parse_vsl, save_vsl
from spa2v.rendering.diffusion import DiffusionOptions, generate_diffusion_video

pytestmark = pytest.mark.diffusion


def test_diffusion_video_is_evaluated_end_to_end(
    tmp_path: Path, tone: Callable[..., np.ndarray], write_audio: Callable[..., Path]
) -> None:
    torch.set_num_threads(1)
    base, adapter = tiny_animatediff(tmp_path / "models")
    vsl = parse_vsl(
        {
            "schema": "spa2v.vsl/1",
            "duration": 1.5,
            "fps": 2.0,
            "caption": "a car drives past",
            "background": "a city street",
            "objects": [{"id": 0, "name": "car", "motion": "right-to-left"}],
            "frames": [
                {"t": 0.0, "boxes": [{"id": 0, "box": [0.6, 0.45, 1.0, 0.8]}]},
                {"t": 1.5, "boxes": [{"id": 0, "box": [0.0, 0.45, 0.4, 0.8]}]},
            ],
        }
    )
    layout = save_vsl(vsl, tmp_path / "car.layout.json")
    audio = write_audio("car.wav", tone(16000, 1.5), 16000)
    options = DiffusionOptions(
        base="animatediff",
        model=str(base),
        motion_adapter=str(adapter),
        steps=2,
        num_frames=4,
        width=WIDTH,
        height=HEIGHT,
        device="cpu",
        show_progress=False,
        video_size=(64, 40),
    )
    video = generate_diffusion_video(vsl, audio, tmp_path / "car.mp4", options)
    report, plot = tmp_path / "car.eval.json", tmp_path / "car.eval.png"
    code = main(
        ["-q", "eval", str(video), "--layout", str(layout), "-o", str(report), "--plot", str(plot)]
    )
    assert code == 0
    data = json.loads(report.read_text())
    assert data["boxes_from"] == "detector"  # not the animatic: its background is not there
    assert (data["width"], data["height"]) == (64, 40)
    assert data["adherence"]["objects"][0]["class_name"] == "car"
    assert data["spatial"]["verdict"] in VERDICTS
    assert plot.stat().st_size > 0
