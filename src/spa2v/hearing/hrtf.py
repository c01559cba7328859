"""Binaural lookup table from the MIT KEMAR HRIRs (:func:`spa2v.io.hrir.load_kemar`).

For each frontal azimuth (-90..+90 deg, 1 deg steps, elevation 0) the table holds the
interaural phase difference (IPD, radians, unwrapped along frequency, so it encodes the
frequency-dependent ITD) and the power response of each ear (dB). Observed IPD/ILD are
matched against it in :mod:`spa2v.hearing.direction`. Two ears cannot tell front from
back, so only the front half is tabulated: the camera sees the front.

Building the table from the shipped HRIRs takes ~0.1 s, so it is kept in memory only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from spa2v.io.hrir import load_kemar

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


def build_kemar_table(step_deg: float = 1.0) -> BinauralTable:
    """Build the table from the horizontal-plane front half of the KEMAR HRIRs."""
    kemar = load_kemar()
    horizontal = np.flatnonzero(np.abs(kemar.el_deg) < 0.01)
    az = (kemar.az_deg[horizontal] + 180.0) % 360.0 - 180.0  # +90 = left
    is_front = np.abs(az) <= 90.0
    order = np.argsort(az[is_front])
    front = horizontal[is_front][order]
    az_measured = az[is_front][order]
    spectra = np.fft.rfft(kemar.hrirs[front], n=_N_FFT, axis=-1)  # (A, 2 ears, F)
    freqs_hz = np.fft.rfftfreq(_N_FFT, 1.0 / float(kemar.sample_rate_hz))
    cross = spectra[:, 0] * np.conj(spectra[:, 1])
    ipd = np.unwrap(np.angle(cross), axis=1)
    left_db = 20.0 * np.log10(np.abs(spectra[:, 0]) + 1e-12)
    right_db = 20.0 * np.log10(np.abs(spectra[:, 1]) + 1e-12)

    az_grid = np.arange(-90.0, 90.0 + step_deg / 2, step_deg)

    def on_grid(values: np.ndarray) -> np.ndarray:
        return interp_rows(values.T, az_measured, az_grid).T

    return BinauralTable(az_grid, freqs_hz, on_grid(ipd), on_grid(left_db), on_grid(right_db))


@lru_cache(maxsize=1)
def kemar_table() -> BinauralTable:
    """The KEMAR table (built once per process)."""
    return build_kemar_table()
