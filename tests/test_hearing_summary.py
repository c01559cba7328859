"""Readable summaries and the cue plot."""

from __future__ import annotations

import numpy as np
from PIL import Image

from spa2v.hearing.cues import Cues, Label
from spa2v.hearing.extract import hear
from spa2v.hearing.plot import plot_cues
from spa2v.hearing.summary import describe_source
from spa2v.sim import simulate_pass, simulate_static


def test_pass_summary_names_direction_depth_and_speed():
    result = simulate_pass(
        "right-to-left", 15.0, 6.0, format="binaural", clip="tone", duration_s=3.0, sr=16000
    )
    track = hear(result.signal).sources[0]
    text = describe_source(track, "binaural")
    assert text.startswith("source 1: 0.0-3.0 s, moves right to left (az -")
    assert "approaches then recedes" in text
    assert "pitch falls" in text and "m/s)" in text
    track.labels = [Label("Car", 0.8, "car", "vehicle")]
    assert describe_source(track, "binaural").startswith("source 1 (car: Car 0.80): ")


def test_static_summary_says_which_side():
    # FOA: its direction needs no microphone model, so the heard azimuth is the true one
    # (a simulated 0.2 m spaced pair read as 0.15 m is heard at +51 deg).
    track = hear(simulate_static(35.0, format="foa", sr=16000).signal).sources[0]
    assert "static on the left (az +35 deg)" in describe_source(track, "binaural")


def test_plot_writes_a_png_atomically(tmp_path):
    result = simulate_pass("left-to-right", 12.0, 5.0, format="foa", duration_s=2.0, sr=16000)
    out = plot_cues(hear(result.signal), tmp_path / "cues.png")
    assert out == tmp_path / "cues.png"
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size[0] > 500
        # Not blank: the three panels hold lines of several colours.
        assert len(np.unique(np.asarray(img.convert("RGB")).reshape(-1, 3), axis=0)) > 20
    assert [p.name for p in tmp_path.iterdir()] == ["cues.png"]  # no temp file left


def test_plot_of_no_sources(tmp_path):
    cues = Cues(duration_s=1.0, sr=16000, layout="spaced", hop_s=0.025, sources=[])
    assert plot_cues(cues, tmp_path / "empty.png").stat().st_size > 1000
