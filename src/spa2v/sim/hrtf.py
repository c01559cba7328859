"""Binaural rendering with the MIT KEMAR HRIRs shipped with spa2v.

:func:`spa2v.io.hrir.load_kemar` holds 710 measured directions (elevation rings from -40
to +90 deg, 44.1 kHz, 512 taps; azimuth 0..360 with +90 = LEFT, ear 0 = left). We
resample the set to the target rate and diffuse-field equalise it once, and cache the
result as ``.npz`` (that takes ~1.5 s).

Rendering a moving source: the signal propagated to the head centre is cut into
50%-overlapping Hann-windowed blocks of ~10 ms (the windows sum to one), each block is
filtered with the HRIR for the direction at its centre, and the results are
overlap-added, i.e. the HRIRs are cross-faded every ~10 ms. The HRIR for a direction
between measured ones is the bilinear (azimuth within a ring, then between the two
nearest elevation rings) blend of its four neighbours, so a static source anywhere is
rendered with a smooth, unquantised ITD/ILD.
"""

from __future__ import annotations

import numpy as np

from spa2v.io.hrir import load_kemar
from spa2v.sim._util import cache_dir, resample

__all__ = ["HrirSet", "kemar", "render_binaural"]

_CACHE: dict[int, HrirSet] = {}


class HrirSet:
    """HRIRs ``(n_dirs, 2, taps)`` at ``sr`` with their azimuth/elevation (deg)."""

    def __init__(self, az: np.ndarray, el: np.ndarray, hrirs: np.ndarray, sr: int):
        self.az = np.mod(np.asarray(az, dtype=float), 360.0)
        self.el = np.asarray(el, dtype=float)
        self.hrirs = np.asarray(hrirs, dtype=np.float32)
        self.sr = int(sr)
        self.rings = np.unique(self.el)
        self._ring_idx = {}
        for e in self.rings:
            idx = np.flatnonzero(self.el == e)
            order = np.argsort(self.az[idx])
            self._ring_idx[float(e)] = (idx[order], self.az[idx][order])
        self._spec: dict[int, np.ndarray] = {}

    @property
    def taps(self) -> int:
        return int(self.hrirs.shape[-1])

    def spectra(self, nfft: int) -> np.ndarray:
        """``rfft`` of every HRIR at ``nfft`` points, ``(n_dirs, 2, nfft//2+1)``."""
        if nfft not in self._spec:
            self._spec[nfft] = np.fft.rfft(self.hrirs, nfft, axis=-1).astype(np.complex64)
        return self._spec[nfft]

    def _ring_weights(self, e: float, az: float) -> list[tuple[int, float]]:
        idx, azs = self._ring_idx[e]
        if idx.size == 1:
            return [(int(idx[0]), 1.0)]
        a = az % 360.0
        j = int(np.searchsorted(azs, a, side="right")) - 1  # azs[j] <= a
        if j < 0:
            j0, j1, a0, a1 = idx.size - 1, 0, azs[-1] - 360.0, azs[0]
        elif j + 1 < idx.size:
            j0, j1, a0, a1 = j, j + 1, azs[j], azs[j + 1]
        else:
            j0, j1, a0, a1 = j, 0, azs[j], azs[0] + 360.0
        w1 = float(min(max((a - a0) / (a1 - a0), 0.0), 1.0))
        return [(int(idx[j0]), 1.0 - w1), (int(idx[j1]), w1)]

    def weights(self, az_deg: float, el_deg: float) -> list[tuple[int, float]]:
        """(index, weight) pairs blending the measured neighbours of a direction
        (elevations below the lowest ring, -40 deg, use that ring)."""
        rings = self.rings
        el = min(max(float(el_deg), rings[0]), rings[-1])
        k = int(np.searchsorted(rings, el, side="right")) - 1
        k = min(max(k, 0), len(rings) - 1)
        if k == len(rings) - 1 or rings[k] == el:
            return self._ring_weights(float(rings[k]), az_deg)
        e0, e1 = float(rings[k]), float(rings[k + 1])
        we = (el - e0) / (e1 - e0)
        out = [(i, w * (1 - we)) for i, w in self._ring_weights(e0, az_deg)]
        out += [(i, w * we) for i, w in self._ring_weights(e1, az_deg)]
        return out

    def hrir(self, az_deg: float, el_deg: float) -> np.ndarray:
        """The blended HRIR ``(2, taps)`` for a direction."""
        return sum(w * self.hrirs[i] for i, w in self.weights(az_deg, el_deg))


def _smooth_octave(p: np.ndarray, f: np.ndarray, fraction: float = 6.0) -> np.ndarray:
    """Power spectrum smoothed over 1/``fraction`` octave."""
    out = np.empty_like(p)
    c = np.concatenate([[0.0], np.cumsum(p)])
    df = f[1] - f[0]
    for i, fc in enumerate(f):
        half = max(fc * (2 ** (0.5 / fraction) - 1), df)
        lo = max(0, int(np.floor((fc - half) / df)))
        hi = min(p.size, int(np.ceil((fc + half) / df)) + 1)
        out[i] = (c[hi] - c[lo]) / (hi - lo)
    return out


def diffuse_field_eq(
    hrirs: np.ndarray, sr: int, taps: int = 1024, nfft: int = 8192, max_boost_db: float = 30.0
) -> np.ndarray:
    """Diffuse-field equalisation, as binaural microphones and dummy-head recordings are:
    one minimum-phase filter, applied to every HRIR of both ears, that makes the
    direction-averaged power response flat. The raw MIT KEMAR set carries its
    loudspeaker's bass roll-off (-15 dB at 100 Hz) and the ear-canal resonance
    (+7 dB at 2-3 kHz); removing them keeps every interaural cue (the same filter is
    applied to both ears) and gives recordings that sound (and tag) like real ones."""
    H = np.fft.rfft(hrirs, nfft, axis=-1)
    f = np.fft.rfftfreq(nfft, 1.0 / sr)
    p = np.mean(np.abs(H) ** 2, axis=(0, 1))
    p = _smooth_octave(p, f, 3.0)
    band = (f >= 200.0) & (f <= 8000.0)
    ref = float(np.median(p[band]))
    p = np.maximum(p, ref * 10 ** (-max_boost_db / 10))
    # no boost outside 40 Hz - 16 kHz: hold the gain of the band edges
    lo, hi = np.searchsorted(f, 40.0), np.searchsorted(f, min(16000.0, 0.45 * sr))
    p[:lo] = p[lo]
    p[hi:] = p[hi - 1]
    log_mag = -0.5 * np.log(p)
    # minimum phase via the folded real cepstrum
    cep = np.fft.irfft(log_mag, nfft)
    fold = np.zeros(nfft)
    fold[0] = cep[0]
    fold[1 : nfft // 2] = 2 * cep[1 : nfft // 2]
    fold[nfft // 2] = cep[nfft // 2]
    g = np.fft.irfft(np.exp(np.fft.rfft(fold)), nfft)[:taps]
    g[-taps // 8 :] *= np.hanning(2 * (taps // 8))[taps // 8 :]
    out = np.fft.irfft(np.fft.rfft(hrirs, nfft, axis=-1) * np.fft.rfft(g, nfft), nfft, axis=-1)[
        ..., :taps
    ]
    out[..., -taps // 8 :] *= np.hanning(2 * (taps // 8))[taps // 8 :]
    # unit diffuse-field power
    e = np.mean(np.abs(np.fft.rfft(out, nfft, axis=-1)[..., band]) ** 2)
    return out / np.sqrt(e)


def kemar(sr: int = 48000) -> HrirSet:
    """The KEMAR set resampled to ``sr`` and diffuse-field equalised
    (:func:`diffuse_field_eq`; unit direction-averaged power from 200 Hz to 8 kHz)."""
    sr = int(sr)
    if sr in _CACHE:
        return _CACHE[sr]
    # v2: the measured azimuths exactly (v1 held slab's float16-rounded ones, off by <= 0.11 deg)
    path = cache_dir() / f"kemar-hrir-dfeq-v2-{sr}.npz"
    if path.is_file():
        try:
            z = np.load(path)
            hs = HrirSet(z["az"], z["el"], z["hrirs"], sr)
            _CACHE[sr] = hs
            return hs
        except Exception:  # a corrupt cache: rebuild it
            path.unlink(missing_ok=True)
    measured = load_kemar()
    az, el = measured.az_deg, measured.el_deg
    hrirs = resample(measured.hrirs, measured.sample_rate_hz, sr, axis=-1)
    taps = 1 << int(np.ceil(np.log2(0.02 * sr)))  # ~20 ms: 99.9% of the energy
    hrirs = diffuse_field_eq(hrirs, sr, taps=taps).astype(np.float32)
    tmp = path.with_suffix(f".{np.random.default_rng().integers(1 << 30)}.tmp.npz")
    np.savez(tmp, az=az, el=el, hrirs=hrirs)
    tmp.replace(path)
    hs = HrirSet(az, el, hrirs, sr)
    _CACHE[sr] = hs
    return hs


def block_hop(sr: int, block_s: float = 0.01) -> int:
    return max(16, round(block_s * sr))


def render_binaural(
    x: np.ndarray,
    az_deg: np.ndarray,
    el_deg: np.ndarray,
    sr: int,
    block_s: float = 0.01,
    hrirs: HrirSet | None = None,
) -> np.ndarray:
    """Filter the head-centre signal ``x`` with HRIRs for the per-sample direction
    ``(az_deg, el_deg)``, cross-faded every ``block_s``; returns ``(2, len(x))``,
    channel 0 = left ear."""
    hs = hrirs or kemar(sr)
    n = x.size
    hop = block_hop(sr, block_s)
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(2 * hop) / (2 * hop))  # periodic Hann
    n_blocks = n // hop + 2
    xp = np.concatenate([np.zeros(hop), x, np.zeros(3 * hop)])
    nfft = 1 << int(np.ceil(np.log2(2 * hop + hs.taps - 1)))
    spec = hs.spectra(nfft)
    out = np.zeros((2, n + hop * 3 + nfft))
    centres = np.minimum(np.arange(n_blocks) * hop, n - 1)
    # direction per block (at the block centre); identical blocks share the blend
    cache: dict[tuple[float, float], np.ndarray] = {}
    step = 256
    for b0 in range(0, n_blocks, step):
        bs = np.arange(b0, min(n_blocks, b0 + step))
        seg = np.stack([xp[b * hop : b * hop + 2 * hop] for b in bs]) * win
        X = np.fft.rfft(seg, nfft, axis=-1)
        H = np.empty((bs.size, 2, nfft // 2 + 1), dtype=np.complex64)
        for j, b in enumerate(bs):
            c = centres[b]
            key = (round(float(az_deg[c]), 3), round(float(el_deg[c]), 3))
            if key not in cache:
                cache[key] = sum(w * spec[i] for i, w in hs.weights(*key))
            H[j] = cache[key]
        y = np.fft.irfft(X[:, None, :] * H, nfft, axis=-1)
        for j, b in enumerate(bs):
            out[:, b * hop : b * hop + nfft] += y[j]
    # block b's window starts at b*hop - hop in signal time (xp is padded by hop)
    return out[:, hop : hop + n]
