"""Moving average, Gaussian smoothing and running median along one axis: numerically
``scipy.ndimage``'s ``uniform_filter1d``, ``uniform_filter``, ``correlate1d`` /
``convolve1d``, ``gaussian_filter1d`` and ``median_filter`` (1-D), for the modes
hearing and planning use (``reflect``, ``nearest``, ``wrap``, ``constant``).

Written out with numpy because importing ``scipy.ndimage`` pulls in scipy's array-API
layer and ``scipy.special`` (parsing hundreds of docstrings at import): about a third of
a CPU-second, more than a cold ``spa2v plan`` spends hearing a 10 s clip. The sums run
in float64 in scipy's order (a running sum for the moving average, the kernel's halves
paired for a symmetric kernel), so the results are scipy's to the last bit; the test
suite checks them against scipy on random data.
"""

from __future__ import annotations

import sys
from typing import Literal

import numpy as np

Mode = Literal["reflect", "nearest", "wrap", "constant"]

#: scipy.ndimage's border modes -> numpy.pad's.
_PAD_MODES = {"reflect": "symmetric", "nearest": "edge", "wrap": "wrap", "constant": "constant"}


def _extended(x: np.ndarray, before: int, after: int, axis: int, mode: Mode) -> np.ndarray:
    """``x`` in float64, extended along ``axis`` as scipy.ndimage extends its lines."""
    if mode not in _PAD_MODES:
        raise ValueError(f"unsupported mode {mode!r}; use one of {', '.join(_PAD_MODES)}")
    widths = [(0, 0)] * x.ndim
    widths[axis] = (before, after)
    return np.pad(np.asarray(x, dtype=np.float64), widths, mode=_PAD_MODES[mode])  # type: ignore[call-overload]


def _out_dtype(x: np.ndarray) -> np.dtype:
    """scipy.ndimage writes its results in the input's dtype."""
    return np.asarray(x).dtype


def uniform_filter1d(
    x: np.ndarray, size: int, axis: int = -1, mode: Mode = "reflect"
) -> np.ndarray:
    """Moving average over ``size`` samples along ``axis`` (``scipy.ndimage.uniform_filter1d``).

    >>> uniform_filter1d(np.array([0.0, 0.0, 3.0, 0.0, 0.0]), 3).tolist()
    [0.0, 1.0, 1.0, 1.0, 0.0]
    """
    x = np.asarray(x)
    if size < 1:
        raise ValueError("size must be at least 1")
    axis = axis % x.ndim
    length = x.shape[axis]
    before = size // 2
    ext = np.moveaxis(_extended(x, before, size - before - 1, axis, mode), axis, 0)
    # scipy keeps one running sum per line: the first window's sum, then
    # ``sum += x[k + size] - x[k]`` for each step, divided by ``size`` each time.
    steps = np.empty((length, *ext.shape[1:]))
    steps[0] = np.cumsum(ext[:size], axis=0)[-1]
    steps[1:] = ext[size : size + length - 1] - ext[: length - 1]
    out = np.cumsum(steps, axis=0) / size
    return np.moveaxis(out, 0, axis).astype(_out_dtype(x), copy=False)


def uniform_filter(x: np.ndarray, size: tuple[int, ...], mode: Mode = "reflect") -> np.ndarray:
    """Moving average over a box of ``size`` (one size per axis), axis after axis, each
    pass stored in the input's dtype (``scipy.ndimage.uniform_filter``)."""
    out = np.asarray(x)
    if len(size) != out.ndim:
        raise ValueError(f"size needs one entry per axis ({out.ndim}), got {len(size)}")
    for axis, n in enumerate(size):
        if n > 1:
            out = uniform_filter1d(out, n, axis=axis, mode=mode)
    return out


def correlate1d(
    x: np.ndarray, weights: np.ndarray, axis: int = -1, mode: Mode = "reflect"
) -> np.ndarray:
    """Correlation with ``weights`` along ``axis`` (``scipy.ndimage.correlate1d``,
    origin 0): ``out[i] = sum_j weights[j] * x[i + j - len(weights) // 2]``."""
    x = np.asarray(x)
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size < 1:
        raise ValueError("weights must be a non-empty 1-D array")
    axis = axis % x.ndim
    length = x.shape[axis]
    size1 = w.size // 2
    size2 = w.size - size1 - 1
    ext = np.moveaxis(_extended(x, size1, size2, axis, mode), axis, 0)

    def tap(offset: int) -> np.ndarray:  # x[i + offset] for every output i
        return ext[size1 + offset : size1 + offset + length]

    eps = sys.float_info.epsilon  # DBL_EPSILON, scipy's tolerance for a symmetric kernel
    odd = bool(w.size & 1)
    halves = range(1, size1 + 1)
    symmetric = odd and all(abs(w[size1 + j] - w[size1 - j]) <= eps for j in halves)
    anti = odd and not symmetric and all(abs(w[size1 + j] + w[size1 - j]) <= eps for j in halves)
    if symmetric or anti:
        # scipy pairs the two halves: x[i] * w[c], then (x[i - j] +- x[i + j]) * w[c - j]
        # for j from the outermost tap inwards (c: the centre tap).
        out = tap(0) * w[size1]
        for j in range(size1, 0, -1):
            pair = tap(-j) + tap(j) if symmetric else tap(-j) - tap(j)
            out = out + pair * w[size1 - j]
    else:  # the last tap first, then the others in order
        out = tap(size2) * w[size1 + size2]
        for j in range(-size1, size2):
            out = out + tap(j) * w[size1 + j]
    return np.moveaxis(out, 0, axis).astype(_out_dtype(x), copy=False)


def convolve1d(
    x: np.ndarray, weights: np.ndarray, axis: int = -1, mode: Mode = "reflect"
) -> np.ndarray:
    """Convolution with an odd-length kernel along ``axis`` (``scipy.ndimage.convolve1d``).

    >>> x = np.array([0.0, 1.0, 0.0, 0.0])
    >>> convolve1d(x, np.array([1.0, 2.0, 3.0]), mode="constant").tolist()
    [1.0, 2.0, 3.0, 0.0]
    """
    w = np.asarray(weights, dtype=np.float64)
    if not w.size & 1:
        raise ValueError("convolve1d here takes odd-length kernels only")
    return correlate1d(x, w[::-1], axis=axis, mode=mode)


def gaussian_kernel(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """The normalised Gaussian kernel of ``scipy.ndimage.gaussian_filter1d`` (radius
    ``int(truncate * sigma + 0.5)``)."""
    radius = int(truncate * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (sigma * sigma) * x**2)
    return phi / phi.sum()


def gaussian_filter1d(
    x: np.ndarray, sigma: float, axis: int = -1, mode: Mode = "reflect", truncate: float = 4.0
) -> np.ndarray:
    """Gaussian smoothing along ``axis`` (``scipy.ndimage.gaussian_filter1d``, order 0)."""
    return correlate1d(x, gaussian_kernel(sigma, truncate)[::-1], axis=axis, mode=mode)


def median_filter(x: np.ndarray, size: int, mode: Mode = "reflect") -> np.ndarray:
    """Running median of a 1-D array over ``size`` samples (``scipy.ndimage.median_filter``:
    for an even ``size`` the upper of the two middle values, not their mean).

    >>> median_filter(np.array([1.0, 9.0, 2.0, 3.0, 8.0]), 3).tolist()
    [1.0, 2.0, 3.0, 3.0, 8.0]
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError("median_filter here takes 1-D arrays")
    if size < 1:
        raise ValueError("size must be at least 1")
    before = size // 2
    ext = _extended(x, before, size - before - 1, 0, mode)
    windows = np.lib.stride_tricks.sliding_window_view(ext, size)
    out = np.partition(windows, size // 2, axis=1)[:, size // 2]
    return out.astype(_out_dtype(x), copy=False)
