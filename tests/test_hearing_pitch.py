"""Pass-by Doppler model and fit."""

from __future__ import annotations

import numpy as np
import pytest

from spa2v.hearing.pitch import fit_passby, passby_frequency_hz, pitch_change_ratio
from spa2v.sim import simulate_pass


def test_model_matches_simulator_doppler():
    result = simulate_pass(
        "left-to-right", 20.0, 6.0, format="mono", clip="tone", duration_s=3.0, sr=16000
    )
    truth = result.truth[0]
    # The simulator's pass: closest at 1.5 s (emission time), 6 m away, 20 m/s.
    model = passby_frequency_hz(truth.times_s, 1.0, 20.0, 1.5, 6.0)
    assert np.max(np.abs(model - truth.doppler)) < 1e-3


def test_fit_recovers_speed_and_geometry_with_noise():
    rng = np.random.default_rng(0)
    t = np.arange(0.0, 4.0, 0.025)
    f = passby_frequency_hz(t, 300.0, 12.0, 2.2, 7.0) + rng.normal(0, 0.3, t.size)
    f[rng.choice(t.size, 10, replace=False)] = 600.0  # stray frames (another tone)
    fit = fit_passby(t, f)
    assert fit is not None
    assert fit.speed_mps == pytest.approx(12.0, rel=0.05)
    assert fit.f0_hz == pytest.approx(300.0, rel=0.005)
    assert fit.t0_s == pytest.approx(2.2, abs=0.05)


def test_too_short_a_track_gives_no_fit():
    assert fit_passby(np.arange(5.0), np.full(5, 100.0)) is None
    assert pitch_change_ratio(np.array([np.nan, 100.0])) is None
    assert pitch_change_ratio(np.r_[np.full(10, 110.0), np.full(10, 100.0)]) == pytest.approx(
        100 / 110 - 1
    )
