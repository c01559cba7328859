"""Small helpers shared by the simulator modules."""

from __future__ import annotations

import tempfile
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from spa2v.errors import Spa2vError
from spa2v.io.cache import cache_dir as _cache_dir

#: Speed of sound in air at ~20 deg C, m/s.
SPEED_OF_SOUND = 343.0


class SimSourceUnavailableError(Spa2vError):
    """A dry source for the simulator needs a system package that is not installed."""

    exit_code = 3


SimSourceUnavailable = SimSourceUnavailableError


def cache_dir() -> Path:
    """Where rendered sources and resampled HRIRs are cached: ``sim`` in spa2v's cache
    folder (:func:`spa2v.io.cache.cache_dir`), a temporary folder if that cannot be
    created."""
    d = _cache_dir("sim")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        d = Path(tempfile.gettempdir()) / "spa2v-cache" / "sim"
        d.mkdir(parents=True, exist_ok=True)
    return d


def resample(x: np.ndarray, sr_in: int, sr_out: int, axis: int = -1) -> np.ndarray:
    """Polyphase resampling between integer rates."""
    if int(sr_in) == int(sr_out):
        return x
    g = gcd(int(sr_in), int(sr_out))
    return resample_poly(x, int(sr_out) // g, int(sr_in) // g, axis=axis)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def db(x: float) -> float:
    return 20.0 * np.log10(max(float(x), 1e-12))


def pink_noise(n: int, rng: np.random.Generator, sr: int = 48000, f_lo: float = 30.0) -> np.ndarray:
    """Unit-RMS pink (1/f power) noise of ``n`` samples, nothing below ``f_lo`` Hz (so
    that short excerpts keep the same level)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sr)
    spec /= np.sqrt(np.maximum(f, f_lo))
    spec[f < f_lo] = 0.0
    y = np.fft.irfft(spec, n)
    return (y / max(rms(y), 1e-12)).astype(np.float64)
