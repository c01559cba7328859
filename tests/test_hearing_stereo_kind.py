"""Stereo kind detection on simulated spaced, panned and binaural recordings."""

from __future__ import annotations

import numpy as np
import pytest

from spa2v.hearing.stereo_kind import detect_stereo_layout
from spa2v.sim import simulate_pass, simulate_static

SR = 16000
LATERAL_AZ_DEG = [-50.0, -20.0, 15.0, 40.0]
CLIPS = ["noise", "engine", "synth-violin"]


@pytest.mark.parametrize("fmt", ["spaced", "panned", "binaural"])
def test_detects_each_kind_dry_and_in_a_room(fmt):
    got = []
    for i, az in enumerate(LATERAL_AZ_DEG):
        for rt60_s in (None, 0.4):
            result = simulate_static(
                az, format=fmt, sr=SR, duration_s=1.5, seed=i, rt60_s=rt60_s, clip=CLIPS[i % 3]
            )
            got.append(detect_stereo_layout(result.signal.samples, SR))
    assert got.count(fmt) == len(got), got


@pytest.mark.parametrize("fmt", ["spaced", "panned", "binaural"])
def test_detects_a_dry_pass(fmt):
    result = simulate_pass("left-to-right", 12.0, 6.0, format=fmt, sr=SR, duration_s=2.0)
    assert detect_stereo_layout(result.signal.samples, SR) == fmt


def test_identical_channels_are_panned_and_silence_defaults_to_spaced():
    x = np.random.default_rng(0).standard_normal(SR).astype(np.float32)
    assert detect_stereo_layout(np.stack([x, x]), SR) == "panned"
    assert detect_stereo_layout(np.zeros((2, SR), np.float32), SR) == "spaced"
