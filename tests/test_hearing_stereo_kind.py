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


@pytest.mark.parametrize("codec", ["aac", "mp3"])
def test_dual_mono_through_a_lossy_codec_has_no_lateral_information(codec):
    """A dual-mono noise clip coded as upload pipelines do (128 kb/s): the codec codes
    the channels' high frequencies apart, so they no longer correlate as one signal
    over the whole band (AAC: 0.82), but below 1.5 kHz they still do."""
    from spa2v.hearing.stereo_kind import analyse_stereo
    from spa2v.sim.codec import round_trip

    x = 0.1 * np.random.default_rng(1).standard_normal(2 * 48000).astype(np.float32)
    coded, _ = round_trip(np.stack([x, x]), 48000, codec, 128)
    analysis = analyse_stereo(coded, 48000)
    assert not analysis.lateral_info, analysis.evidence
    panned = round_trip(np.stack([x, 0.7 * x]), 48000, codec, 128)[0]
    assert analyse_stereo(panned, 48000).lateral_info  # 3 dB apart: a direction
