"""The numpy filters that stand in for ``scipy.ndimage`` on the planning path (its import
costs a third of a CPU-second): they must give scipy's numbers, to the bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from spa2v.hearing import filters

MODES = ("reflect", "nearest", "wrap", "constant")


def _same(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.dtype == theirs.dtype
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def _cases(seed: int, n_cases: int = 40):
    """Random arrays (float32 and float64, lines from 1 sample up) with random sizes,
    also longer than the line (the border modes repeat)."""
    rng = np.random.default_rng(seed)
    for k in range(n_cases):
        n = int(rng.integers(1, 50))
        dtype = (np.float32, np.float64)[k % 2]
        x = (10 * rng.standard_normal((n, int(rng.integers(1, 4))))).astype(dtype)
        yield rng, x, int(rng.integers(1, 2 * n + 3)), int(rng.integers(0, 2))


@pytest.mark.parametrize("mode", MODES)
def test_uniform_filter1d_is_scipys(mode: str) -> None:
    for _, x, size, axis in _cases(1):
        ours = filters.uniform_filter1d(x, size, axis=axis, mode=mode)  # type: ignore[arg-type]
        _same(ours, ndimage.uniform_filter1d(x, size, axis=axis, mode=mode))


@pytest.mark.parametrize("mode", MODES)
def test_uniform_filter_is_scipys(mode: str) -> None:
    for rng, x, _, _ in _cases(2, 20):
        box = tuple(int(v) for v in rng.integers(1, 6, size=3))
        cube = np.stack([x, 2 * x, -x])
        ours = filters.uniform_filter(cube, box, mode=mode)  # type: ignore[arg-type]
        _same(ours, ndimage.uniform_filter(cube, size=box, mode=mode))


@pytest.mark.parametrize("mode", MODES)
def test_gaussian_filter1d_is_scipys(mode: str) -> None:
    for rng, x, _, axis in _cases(3):
        sigma = float(rng.uniform(0.2, 9.0))
        ours = filters.gaussian_filter1d(x, sigma, axis=axis, mode=mode)  # type: ignore[arg-type]
        _same(ours, ndimage.gaussian_filter1d(x, sigma, axis=axis, mode=mode))


@pytest.mark.parametrize("mode", MODES)
def test_convolve1d_is_scipys_for_any_odd_kernel(mode: str) -> None:
    for rng, x, _, axis in _cases(4):
        half = int(rng.integers(0, 6))
        general = rng.random(2 * half + 1)
        symmetric = np.concatenate([general[:half], general[half:][::-1]])
        antisymmetric = np.concatenate([general[:half], [0.0], -general[:half][::-1]])
        for kernel in (general, symmetric, antisymmetric):
            ours = filters.convolve1d(x, kernel, axis=axis, mode=mode)  # type: ignore[arg-type]
            _same(ours, ndimage.convolve1d(x, kernel, axis=axis, mode=mode))


@pytest.mark.parametrize("mode", ("reflect", "nearest"))
def test_median_filter_is_scipys(mode: str) -> None:
    for rng, x, _, _ in _cases(5):
        line = x[:, 0]
        size = int(rng.integers(1, 12))  # even sizes too: scipy takes the upper middle
        ours = filters.median_filter(line, size, mode=mode)  # type: ignore[arg-type]
        _same(ours, ndimage.median_filter(line, size=size, mode=mode))


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mirror"):
        filters.uniform_filter1d(np.zeros(4), 3, mode="mirror")  # type: ignore[arg-type]
