"""A rigid spherical head: head-related impulse responses that no measured set gives.

The estimator's binaural lookup table is built from the MIT KEMAR head; rendering test
recordings with the same head would check the code against its own assumptions. A
rigid sphere of radius ``a`` with its ears on the surface is the classic analytic
alternative (Duda & Martens, JASA 104, 1998; Brown & Duda, IEEE TSAP 6, 1998): its
low-frequency ITD is ``3 (a / c) sin(azimuth)`` (Kuhn 1977), its high-frequency ITD
``(a / c)(azimuth + sin azimuth)`` (Woodworth), its ILD grows with frequency up to
the +6 dB bright spot of the near ear, and it has no pinna, so it differs from KEMAR
in every cue.

The response of the ear to a plane wave from angle ``theta`` off the ear's axis is the
exact series (Duda & Martens eq. 9, a source at infinity)

    H(mu, theta) = 1 / mu^2  sum_m (-i)^(m-1) (2m + 1) P_m(cos theta) / h_m'(mu),

``mu = 2 pi f a / c``, ``h_m`` the spherical Hankel function of the first kind,
relative to the free field at the head centre. No library ships it (scipy gives the
special functions), so it is written here. The series is summed to ``mu + 30`` terms,
far past convergence.

The ears sit on the horizontal great circle at azimuth ``+-ear_angle_deg`` (90 deg:
exactly lateral; Brown & Duda place them 10 deg behind, 100 deg). The responses are
tabulated on a direction grid (2.5 deg in azimuth, 10 deg rings in elevation) as a
:class:`spa2v.sim.hrtf.HrirSet`, so a moving source is rendered with the same
block-crossfaded scheme as KEMAR (:func:`spa2v.sim.hrtf.render_binaural`).

>>> hs = sphere_hrirs(0.0875, 90.0, 48000)
>>> left, right = hs.hrir(90.0, 0.0)  # a source on the left
>>> int(np.argmax(np.abs(left))) < int(np.argmax(np.abs(right)))  # the left ear hears it first
True
"""

from __future__ import annotations

import numpy as np

from spa2v.sim._util import SPEED_OF_SOUND
from spa2v.sim.hrtf import HrirSet

__all__ = ["sphere_hrirs", "sphere_response"]

#: Bulk delay (s) of every sphere HRIR, so the near ear's lead (up to ~0.4 ms) is causal.
BULK_DELAY_S = 0.0015
_TAPS_S = 0.0053  # 256 taps at 48 kHz
_CACHE: dict[tuple[int, int, int], HrirSet] = {}


def sphere_response(
    theta_deg: np.ndarray, freqs_hz: np.ndarray, radius_m: float, c: float = SPEED_OF_SOUND
) -> np.ndarray:
    """Transfer function ``(len(theta), len(freqs))`` of a point on a rigid sphere for a
    plane wave arriving ``theta_deg`` off that point's axis (0 = facing the source),
    relative to the free field at the centre, in numpy's sign convention (a delay ``T``
    is ``exp(-2j pi f T)``).

    >>> h = sphere_response(np.array([0.0, 180.0]), np.array([10.0, 20000.0]), 0.0875)
    >>> np.round(20 * np.log10(np.abs(h[:, 0])), 2).tolist()  # no head shadow at 10 Hz
    [0.0, 0.0]
    >>> round(float(20 * np.log10(np.abs(h[0, 1]))), 1)  # the near ear's bright side
    6.0
    """
    from scipy.special import eval_legendre, spherical_jn, spherical_yn

    theta = np.radians(np.asarray(theta_deg, dtype=float))
    f = np.asarray(freqs_hz, dtype=float)
    out = np.ones((theta.size, f.size), dtype=np.complex128)
    pos = f > 0
    mu = 2 * np.pi * f[pos] * radius_m / c
    if mu.size == 0:
        return out
    x = np.cos(theta)
    acc = np.zeros((theta.size, mu.size), dtype=np.complex128)
    for m in range(int(np.max(mu)) + 30):
        dh = spherical_jn(m, mu, derivative=True) + 1j * spherical_yn(m, mu, derivative=True)
        acc += ((-1j) ** (m - 1) * (2 * m + 1)) * eval_legendre(m, x)[:, None] / dh[None, :]
    # The series is in the e^{-i omega t} convention; numpy's is its conjugate.
    out[:, pos] = np.conj(acc / mu[None, :] ** 2)
    return out


def _grid() -> tuple[np.ndarray, np.ndarray]:
    az, el = [], []
    for e in range(-40, 90, 10):
        a = np.arange(0.0, 360.0, 2.5)
        az.append(a)
        el.append(np.full(a.size, float(e)))
    az.append(np.array([0.0]))
    el.append(np.array([90.0]))
    return np.concatenate(az), np.concatenate(el)


def sphere_hrirs(radius_m: float, ear_angle_deg: float = 100.0, sr: int = 48000) -> HrirSet:
    """HRIRs of a rigid sphere of ``radius_m`` with ears at azimuth ``+-ear_angle_deg``
    (left ear = channel 0), on a 2.5 x 10 deg grid, at ``sr``. Cached per radius
    (0.1 mm), ear angle (0.1 deg) and rate."""
    key = (round(radius_m * 1e4), round(ear_angle_deg * 10), int(sr))
    if key in _CACHE:
        return _CACHE[key]
    taps = 1 << int(np.ceil(np.log2(_TAPS_S * sr)))
    nfft = 2 * taps
    freqs = np.fft.rfftfreq(nfft, 1.0 / sr)
    # the response on a fine grid of angles off the ear axis, interpolated per direction
    theta_grid = np.arange(0.0, 180.01, 0.5)
    table = sphere_response(theta_grid, freqs, radius_m)
    az, el = _grid()
    a, e = np.radians(az), np.radians(el)
    direction = np.stack([np.cos(a) * np.cos(e), np.sin(a) * np.cos(e), np.sin(e)], axis=1)
    hrirs = np.empty((az.size, 2, taps))
    bulk = np.exp(-2j * np.pi * freqs * BULK_DELAY_S)
    fade = np.hanning(2 * (taps // 4))[taps // 4 :]
    for ch, side in enumerate((1.0, -1.0)):  # channel 0 = left ear (positive azimuth)
        ear_az = np.radians(side * ear_angle_deg)
        ear = np.array([np.cos(ear_az), np.sin(ear_az), 0.0])
        theta = np.degrees(np.arccos(np.clip(direction @ ear, -1.0, 1.0)))
        pos = theta / 0.5
        i0 = np.clip(np.floor(pos).astype(int), 0, theta_grid.size - 2)
        w = (pos - i0)[:, None]
        spec = (1 - w) * table[i0] + w * table[i0 + 1]
        h = np.fft.irfft(spec * bulk[None, :], nfft, axis=-1)[:, :taps]
        h[:, -fade.size :] *= fade
        hrirs[:, ch] = h
    hs = HrirSet(az, el, hrirs.astype(np.float32), sr)
    _CACHE[key] = hs
    return hs
