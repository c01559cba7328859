"""Free-field propagation from a moving point source to a fixed microphone.

The sound reaching a microphone at ``m`` at time ``t`` left the source at the
*emission time* ``tau`` that solves ``t - tau = |p(tau) - m| / c``. We solve it by a
fixed-point iteration (it contracts by ``v / c`` per step, so three steps are exact to
well below a sample for any road speed), read the dry signal at ``tau`` with a
windowed-sinc fractional-delay interpolator, and scale by ``1 / r(tau)``. The
time-varying delay is what produces the Doppler shift (``c / (c + dr/dt)``) and the
moving interaural/inter-microphone delays; the ``1 / r`` law gives the level.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from spa2v.sim._util import SPEED_OF_SOUND

__all__ = ["Propagation", "emission_times", "fractional_read", "propagate"]

#: Half-length of the windowed-sinc interpolator (taps = 2 * this).
SINC_HALF = 8
#: Distances are clamped to this minimum to avoid the 1/r singularity.
MIN_DISTANCE_M = 0.1


def _dist(p: np.ndarray, mic: np.ndarray) -> np.ndarray:
    d = p - mic
    return np.sqrt(np.einsum("ij,ij->i", d, d))


def emission_times(
    t: np.ndarray,
    positions: Callable[[np.ndarray], np.ndarray],
    mic: np.ndarray,
    c: float = SPEED_OF_SOUND,
    iterations: int = 6,
    tol_s: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Emission times ``tau`` for receive times ``t``; also the emitter positions at
    ``tau`` (``(n, 3)``) and the distances ``r(tau)``.

    Fixed-point iteration ``tau <- t - r(tau) / c``; it contracts by ``|dr/dt| / c``
    per step and stops once ``tau`` moves by less than ``tol_s``."""
    mic = np.asarray(mic, dtype=float)
    t = np.asarray(t, dtype=float)
    tau = t
    p = positions(tau)
    for _ in range(iterations):
        new = t - _dist(p, mic) / c
        done = np.max(np.abs(new - tau)) < tol_s if new.size else True
        tau = new
        p = positions(tau)
        if done:
            break
    r = np.maximum(_dist(p, mic), MIN_DISTANCE_M)
    return tau, p, r


_TABLE_STEPS = 4096
_TABLES: dict[int, np.ndarray] = {}


def _kernel_table(half: int) -> np.ndarray:
    """Lanczos-windowed sinc weights for fractions ``q / _TABLE_STEPS`` (rows) and taps
    ``k = -half+1 .. half`` (columns): the tap for sample ``i0 + k`` at fraction ``f``."""
    if half not in _TABLES:
        frac = np.arange(_TABLE_STEPS + 1) / _TABLE_STEPS
        k = np.arange(-half + 1, half + 1)
        d = frac[:, None] - k[None, :]
        _TABLES[half] = np.sinc(d) * np.sinc(d / half)
    return _TABLES[half]


def fractional_read(
    x: np.ndarray, idx: np.ndarray, half: int = SINC_HALF, chunk: int = 1 << 16
) -> np.ndarray:
    """``x`` read at fractional sample positions ``idx`` (zero outside), with a
    Lanczos-windowed sinc of ``2 * half`` taps. Fractions are quantised to 1/4096 of
    a sample (phase error < 1e-3 rad at 20 kHz / 48 kHz, i.e. below -60 dB)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    table = _kernel_table(half)
    out = np.zeros(np.size(idx))
    margin = half + 2
    xp = np.concatenate([np.zeros(margin + half), x, np.zeros(margin + half + 1)])
    windows = np.lib.stride_tricks.sliding_window_view(xp, 2 * half)
    for s in range(0, out.size, chunk):
        u = np.asarray(idx[s : s + chunk], dtype=np.float64)
        i0 = np.floor(u)
        q = np.rint((u - i0) * _TABLE_STEPS).astype(np.int64)
        # window row r starts at xp[r], i.e. at x[r - margin - half]; we need x[i0-half+1]
        r = np.clip(i0.astype(np.int64) + margin + 1, 0, n + 2 * margin)
        out[s : s + chunk] = np.einsum("ij,ij->i", windows[r], table[q])
    return out


class Propagation:
    """The result of propagating one source to one microphone position.

    ``signal`` is the dry signal read at the emission times (no distance gain);
    ``gain`` is ``1 / r``; ``tau``, ``positions`` (emitter, ``(n, 3)``) and ``r`` are
    per output sample.
    """

    def __init__(self, signal, tau, positions, r):
        self.signal = signal
        self.tau = tau
        self.positions = positions
        self.r = r

    @property
    def gain(self) -> np.ndarray:
        return 1.0 / self.r

    @property
    def direct(self) -> np.ndarray:
        return self.signal / self.r


def propagate(
    dry: np.ndarray,
    dry_t0: float,
    sr: int,
    positions: Callable[[np.ndarray], np.ndarray],
    mic: np.ndarray,
    n_out: int,
    c: float = SPEED_OF_SOUND,
    t_start: float = 0.0,
) -> Propagation:
    """Propagate ``dry`` (its first sample emitted at scene time ``dry_t0``) to ``mic``.

    Output sample ``j`` is received at ``t = t_start + j / sr``.
    """
    t = t_start + np.arange(n_out) / sr
    tau, p, r = emission_times(t, positions, mic, c)
    sig = fractional_read(dry, (tau - dry_t0) * sr)
    return Propagation(sig, tau, p, r)
