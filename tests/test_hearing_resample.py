"""The numpy pieces that stand in for ``scipy.signal`` on the planning path (its import
costs more than hearing a clip): they must give scipy's numbers."""

from __future__ import annotations

from math import gcd

import numpy as np
import pytest
from scipy.signal import ShortTimeFFT, resample_poly
from scipy.signal.windows import hann

from spa2v.hearing import resample, spectral


@pytest.mark.parametrize("sr", [8000, 11025, 22050, 32000, 44100, 48000, 96000])
@pytest.mark.parametrize("n", [1, 5, 100, 20_011])
def test_resample_to_16k_is_scipys(sr: int, n: int) -> None:
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    g = gcd(sr, 16000)
    ours = resample.resample_poly(x, 16000 // g, sr // g)
    theirs = resample_poly(x, 16000 // g, sr // g)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, atol=2e-6)


def test_resample_upwards_and_identity() -> None:
    x = np.random.default_rng(0).standard_normal(999)
    np.testing.assert_allclose(resample.resample_poly(x, 3, 2), resample_poly(x, 3, 2), atol=1e-12)
    np.testing.assert_array_equal(resample.resample_poly(x, 4, 4), x)


@pytest.mark.parametrize("n", [256, 400, 2048])
def test_periodic_hann_is_scipys(n: int) -> None:
    np.testing.assert_allclose(spectral.periodic_hann(n), hann(n, sym=False), atol=1e-15)


@pytest.mark.parametrize(("sr", "hop_s", "n_samples", "extra"), [
    (48000, 0.025, 48000 * 2 + 17, 0),
    (22050, 0.01, 22050, 3),
    (16000, 0.025, 1000, 0),
    (48000, 0.005, 4800, 2),
])  # fmt: skip
def test_istft_is_scipys(sr: int, hop_s: float, n_samples: int, extra: int) -> None:
    """The inverse of stft against ``ShortTimeFFT.istft`` with the frames that hang over
    the ends set to zero (what the code did before it was written out)."""
    rng = np.random.default_rng(n_samples)
    x = rng.standard_normal((1, n_samples)).astype(np.float32)
    s = spectral.stft(x, sr, hop_s)
    spec = s.spec[0] * (rng.random(s.spec[0].shape) > 0.3)  # not just the identity
    if extra:
        noise = rng.standard_normal((spec.shape[0], extra)).astype(np.complex64)
        spec = np.concatenate([spec, noise], axis=1)
    sft = ShortTimeFFT(hann(s.n_fft, sym=False), hop=s.hop, fs=sr, mfft=s.n_fft, scale_to=None)
    full = np.zeros((spec.shape[0], sft.p_max(n_samples) - sft.p_min), dtype=complex)
    n_keep = min(spec.shape[1], full.shape[1] + sft.p_min)
    full[:, -sft.p_min : -sft.p_min + n_keep] = spec[:, :n_keep]
    theirs = sft.istft(full, k1=n_samples).astype(np.float32)
    ours = spectral.istft(spec, sr, s.hop, s.n_fft, n_samples)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    # and a clean round trip far from the edges
    back = spectral.istft(s.spec[0], sr, s.hop, s.n_fft, n_samples)
    inner = slice(s.n_fft, n_samples - s.n_fft)
    np.testing.assert_allclose(back[inner], x[0, inner], atol=1e-4)


def test_a_cold_plan_imports_no_scipy(tmp_path) -> None:
    """What keeps ``spa2v plan`` quick to start: no scipy at all (numpy's FFT, the
    filters of ``spa2v.hearing.filters``), no jsonschema for the planner's own layout,
    no PyAV for a WAV, no openai for the physics planner, no matplotlib."""
    import subprocess
    import sys

    import soundfile as sf

    from spa2v.sim.scene import simulate_static

    audio = tmp_path / "a.wav"
    result = simulate_static(30.0, format="binaural", duration_s=2.0, sr=22050)
    sf.write(audio, result.signal.samples.T, result.signal.sr)
    heavy = ("scipy", "jsonschema", "av", "openai", "matplotlib")
    code = (
        "import sys; from spa2v.interfaces.cli import main; "
        f"main(['-q', 'plan', {str(audio)!r}, '-o', {str(tmp_path / 'l.json')!r}]); "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
