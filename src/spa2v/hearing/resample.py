"""Polyphase resampling, numerically ``scipy.signal.resample_poly`` (Kaiser window,
beta 5, zero padding).

Written out with numpy because importing ``scipy.signal`` (which this would otherwise
come from) costs a single-clip ``spa2v plan`` more CPU time than all of its hearing
work; the test suite checks it against scipy's to float precision.
"""

from __future__ import annotations

from functools import lru_cache
from math import gcd

import numpy as np

#: Kaiser window parameter of the anti-aliasing filter (scipy's default).
KAISER_BETA = 5.0


@lru_cache(maxsize=8)
def lowpass(up: int, down: int) -> np.ndarray:
    """The anti-aliasing FIR filter of resampling by ``up / down`` (already reduced):
    ``scipy.signal.firwin(20 * max + 1, 1 / max, window=("kaiser", 5.0)) * up``."""
    max_rate = max(up, down)
    half_len = 10 * max_rate
    cutoff = 1.0 / max_rate
    m = np.arange(2 * half_len + 1) - half_len
    taps = cutoff * np.sinc(cutoff * m) * np.kaiser(2 * half_len + 1, KAISER_BETA)
    taps = taps / taps.sum() * up
    taps.setflags(write=False)
    return taps


def resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """Resample the 1-D signal ``x`` by ``up / down`` (upsample, low-pass, downsample),
    as ``scipy.signal.resample_poly(x, up, down)`` does.

    >>> y = resample_poly(np.ones(480), 1, 3)  # a constant stays constant inside
    >>> y.shape, round(float(y[80]), 4)
    ((160,), 1.0)
    """
    x = np.asarray(x)
    g = gcd(int(up), int(down))
    up, down = int(up) // g, int(down) // g
    if up == down == 1:
        return x.copy()
    n_in = x.shape[0]
    n_out = -(-n_in * up // down)
    h = lowpass(up, down)
    half_len = (h.size - 1) // 2
    # scipy's alignment: pad the filter in front so output sample 0 is centred
    n_pre_pad = down - half_len % down
    n_pre_remove = (half_len + n_pre_pad) // down
    h = np.concatenate([np.zeros(n_pre_pad), h])
    # y[n] = sum_j h[p + j * up] * x[i - j] with m = (n + n_pre_remove) * down,
    # p = m % up, i = m // up: one strided dot product per output sample. Outputs
    # n, n + up, n + 2 up... share their phase p and their windows start ``down``
    # samples apart: one strided view of the windows per phase, no copies.
    taps = -(-h.size // up)
    # kernels[p] are the taps of phase p, reversed: the windows run forward in time
    kernels = np.zeros((up, taps))
    for phase in range(up):
        sub = h[phase::up]
        kernels[phase, taps - sub.size :] = sub[::-1]
    padded = np.zeros(taps + n_in + taps, dtype=np.float64)
    padded[taps : taps + n_in] = x
    windows = np.lib.stride_tricks.sliding_window_view(padded, taps)
    out = np.empty(n_out)
    for first in range(min(up, n_out)):
        m = (first + n_pre_remove) * down
        phase, start = m % up, m // up + 1
        count = len(range(first, n_out, up))
        rows = windows[start : start + (count - 1) * down + 1 : down]
        kernel = np.broadcast_to(kernels[phase], rows.shape)
        out[first::up] = np.einsum("ij,ij->i", rows, kernel, optimize=False)
    return out.astype(np.result_type(x.dtype, np.float32), copy=False)
