"""Binaural lookup table from the MIT KEMAR HRTF set (bundled with ``slab``).

For each frontal azimuth (-90..+90 deg, 1 deg steps, elevation 0) the table holds the
interaural phase difference (IPD, radians, unwrapped along frequency, so it encodes the
frequency-dependent ITD) and the power response of each ear (dB). Observed IPD/ILD are
matched against it in :mod:`spa2v.hearing.direction`. Two ears cannot tell front from
back, so only the front half is tabulated: the camera sees the front.

Loading KEMAR takes seconds, so the table is cached in memory and on disk
(``$SPA2V_CACHE`` or ``~/.cache/spa2v``, like the simulator's cache).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from spa2v.errors import BackendUnavailableError
from spa2v.io.atomic import atomic_path

_CACHE_NAME = "kemar_front_table_v1.npz"
_N_FFT = 1024  # HRIRs are 512 taps at 44.1 kHz; zero-padding gives a 43 Hz grid


@dataclass(frozen=True)
class BinauralTable:
    """Interaural cues per azimuth and frequency.

    Attributes
    ----------
    az_deg : np.ndarray
        ``(A,)`` azimuths, positive to the left.
    freqs_hz : np.ndarray
        ``(F,)`` frequency grid of the table.
    ipd_rad : np.ndarray
        ``(A, F)`` phase of ``H_left * conj(H_right)``, unwrapped along frequency.
    left_db, right_db : np.ndarray
        ``(A, F)`` power response of each ear in dB.
    """

    az_deg: np.ndarray
    freqs_hz: np.ndarray
    ipd_rad: np.ndarray
    left_db: np.ndarray
    right_db: np.ndarray

    def ipd_at(self, freqs_hz: np.ndarray) -> np.ndarray:
        """IPD ``(A, len(freqs_hz))`` interpolated to other frequencies."""
        return interp_rows(self.ipd_rad, self.freqs_hz, freqs_hz)

    def band_ild_db(self, edges_hz: np.ndarray) -> np.ndarray:
        """ILD (left minus right, dB) per band ``(A, n_bands)`` for a flat-spectrum source.

        ``edges_hz`` are the ``n_bands + 1`` band edges.
        """
        band = np.digitize(self.freqs_hz, edges_hz) - 1
        ild = np.empty((self.az_deg.size, edges_hz.size - 1))
        for b in range(edges_hz.size - 1):  # a handful of bands, not a per-bin loop
            sel = band == b
            p_left = np.sum(10.0 ** (self.left_db[:, sel] / 10.0), axis=1)
            p_right = np.sum(10.0 ** (self.right_db[:, sel] / 10.0), axis=1)
            ild[:, b] = 10.0 * np.log10(p_left / p_right)
        return ild


def interp_rows(values: np.ndarray, x: np.ndarray, x_new: np.ndarray) -> np.ndarray:
    """Linear interpolation of every row of ``values`` from ``x`` to ``x_new``."""
    idx = np.clip(np.searchsorted(x, x_new) - 1, 0, x.size - 2)
    frac = np.clip((x_new - x[idx]) / (x[idx + 1] - x[idx]), 0.0, 1.0)
    return values[:, idx] * (1.0 - frac) + values[:, idx + 1] * frac


def _cache_path() -> Path:
    """``$SPA2V_CACHE/<name>`` or ``~/.cache/spa2v/<name>`` (the simulator's cache root)."""
    base = os.environ.get("SPA2V_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "spa2v"
    return root / _CACHE_NAME


def build_kemar_table(step_deg: float = 1.0) -> BinauralTable:
    """Build the table from ``slab.HRTF.kemar()`` (slow: loads 710 HRIRs)."""
    try:  # imported here: loading it is slow and only needed to build the table
        import slab

        hrtf = slab.HRTF.kemar()
    except Exception as exc:  # ImportError, or sounddevice's OSError without PortAudio
        raise BackendUnavailableError(
            f"binaural direction needs the MIT KEMAR HRTFs from the `slab` package ({exc}); "
            "install it with `pip install slab` (and Debian's libportaudio2)"
        ) from exc
    sources = hrtf.sources.vertical_polar  # (azimuth 0..360, +90 = left; elevation; r)
    horizontal = np.flatnonzero(np.abs(sources[:, 1]) < 0.01)
    az = (sources[horizontal, 0] + 180.0) % 360.0 - 180.0
    front = horizontal[np.abs(az) <= 90.0]
    az_front = (sources[front, 0] + 180.0) % 360.0 - 180.0
    order = np.argsort(az_front)
    az_measured = az_front[order]
    hrirs = np.stack([hrtf.data[i].data for i in front[order]])  # (A, taps, 2 ears)
    spectra = np.fft.rfft(hrirs, n=_N_FFT, axis=1)  # (A, F, 2)
    freqs_hz = np.fft.rfftfreq(_N_FFT, 1.0 / float(hrtf.samplerate))
    cross = spectra[:, :, 0] * np.conj(spectra[:, :, 1])
    ipd = np.unwrap(np.angle(cross), axis=1)
    left_db = 20.0 * np.log10(np.abs(spectra[:, :, 0]) + 1e-12)
    right_db = 20.0 * np.log10(np.abs(spectra[:, :, 1]) + 1e-12)

    az_grid = np.arange(-90.0, 90.0 + step_deg / 2, step_deg)

    def on_grid(values: np.ndarray) -> np.ndarray:
        return interp_rows(values.T, az_measured, az_grid).T

    return BinauralTable(az_grid, freqs_hz, on_grid(ipd), on_grid(left_db), on_grid(right_db))


@lru_cache(maxsize=1)
def kemar_table() -> BinauralTable:
    """The KEMAR table, from the disk cache when possible (built and cached otherwise)."""
    path = _cache_path()
    try:
        with np.load(path) as data:
            return BinauralTable(**{k: data[k] for k in BinauralTable.__dataclass_fields__})
    except (OSError, KeyError, ValueError):
        pass
    table = build_kemar_table()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **table.__dict__)
    except OSError:
        pass  # a read-only home only costs the rebuild next time
    return table
