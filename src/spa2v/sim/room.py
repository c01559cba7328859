"""Room reverberation and background noise.

Reverb model (statistical late reverberation). Why not an image-source room: moving
sources through an image-source model need every image re-spatialised (HRIRs per
image, per block) and re-delayed per sample, which no library here does cheaply
(pyroomacoustics renders static sources into omni/array microphones, not HRTFs or
FOA). What matters for the estimators we test is the physics that degrades them:
a diffuse tail with the asked RT60 and a direct-to-reverberant ratio (DRR) that falls
with distance. So each channel gets a tail of exponentially decaying noise:

* energy decays by 60 dB in ``rt60_s`` (amplitude ``exp(-6.91 t / rt60)``);
* the tail starts a few ms after the direct sound with a short build-up, and is
  gently low-passed (air and wall absorption take the highs first);
* its level follows Barron's revised theory (Barron & Lee, JASA 84, 1988): the
  classical diffuse field, whose energy equals the direct energy of the source at the
  critical distance ``r_c = 0.057 * sqrt(V / RT60)`` (Sabine), times
  ``exp(-0.04 r / RT60)``: the reflections of a source ``r`` metres away start ``r / c``
  later, by which time the field has decayed that much (``0.04 = 13.8 / c``, 60 dB =
  ``e^13.8``). That holds for a source inside the reflecting space. A source farther
  than the space's size ``R`` (radius of the sphere of volume ``V``: 4.6 m for 400 m^3,
  17 m for 20000 m^3) excites it with sound that has already spread over ``r``, so
  beyond ``R`` its reflections fall as ``1 / r`` like its direct sound and the DRR stays
  put (:func:`reflected_gain`). A distance-independent diffuse field, used before, kept
  a source 100 m away outdoors as loud in reverb as one at 10 m: an approaching
  aircraft got no louder;
* channels are mutually decorrelated as a diffuse field is: independent tails, then
  for a spaced pair / binaural head the low frequencies are made coherent with the
  diffuse-field coherence ``sinc(2 f d / c)`` (``d`` = spacing, or ~0.18 m for a head);
  for FOA, W carries the tail and X, Y, Z independent tails at 1/sqrt(3) (SN3D diffuse
  field).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve, lfilter

from spa2v.sim._util import SPEED_OF_SOUND, pink_noise, rms

__all__ = [
    "critical_distance",
    "diffuse_noise",
    "reflected_gain",
    "reflecting_radius",
    "reverb_tails",
]

HEAD_EFFECTIVE_SPACING_M = 0.18


def critical_distance(rt60_s: float, volume_m3: float) -> float:
    """Distance (m) at which direct and reverberant energy are equal (Sabine)."""
    return 0.057 * float(np.sqrt(volume_m3 / max(rt60_s, 1e-3)))


def reflecting_radius(volume_m3: float) -> float:
    """Size (m) of a reflecting space: the radius of the sphere of that volume."""
    return float((3.0 * volume_m3 / (4.0 * np.pi)) ** (1.0 / 3.0))


def reflected_gain(distance_m: np.ndarray, rt60_s: float, volume_m3: float) -> np.ndarray:
    """Amplitude of the reverberant field per unit dry signal, for a source ``distance_m``
    away: ``exp(-0.02 r / RT60) / r_c`` inside the space (Barron's revised theory,
    amplitude = the square root of the energy factor ``exp(-0.04 r / RT60)``); beyond
    its radius ``R`` the value at ``R`` times ``R / r``.

    Example
    -------
    >>> g = reflected_gain(np.array([1.0, 10.0, 40.0, 80.0]), 0.8, 20000.0)
    >>> [round(float(v), 1) for v in 20 * np.log10(g[0] / g)]  # dB less reverb than at 1 m
    [0.0, 2.0, 11.0, 17.0]
    """
    r = np.maximum(np.asarray(distance_m, dtype=float), 1e-3)
    radius = reflecting_radius(volume_m3)
    inside = np.exp(-0.02 * np.minimum(r, radius) / max(rt60_s, 1e-3))
    return inside * np.minimum(1.0, radius / r) / critical_distance(rt60_s, volume_m3)


def _coherent_pair(a: np.ndarray, b: np.ndarray, sr: int, spacing_m: float):
    """Mix two independent noises so their coherence is ``sinc(2 f d / c)``."""
    n = a.size
    A = np.fft.rfft(a)
    B = np.fft.rfft(b)
    f = np.fft.rfftfreq(n, 1.0 / sr)
    g = np.sinc(2 * f * spacing_m / SPEED_OF_SOUND)
    # L = A cos(p) + B sin(p), R = A cos(p) - B sin(p): coherence cos(2p) = g
    p = 0.5 * np.arccos(np.clip(g, -1.0, 1.0))
    L = np.cos(p) * A + np.sin(p) * B
    R = np.cos(p) * A - np.sin(p) * B
    return np.fft.irfft(L, n), np.fft.irfft(R, n)


def _decorrelate(chs: list[np.ndarray], layout: str, sr: int, spacing_m: float):
    if layout in ("binaural", "spaced") and len(chs) == 2:
        d = HEAD_EFFECTIVE_SPACING_M if layout == "binaural" else spacing_m
        return list(_coherent_pair(chs[0], chs[1], sr, d))
    if layout == "foa" and len(chs) == 4:
        return [chs[0]] + [c / np.sqrt(3.0) for c in chs[1:]]
    return chs


def reverb_tails(
    rt60_s: float,
    sr: int,
    n_channels: int,
    layout: str,
    rng: np.random.Generator,
    predelay_s: float = 0.006,
    spacing_m: float = 0.15,
    late_start_s: float | None = None,
) -> np.ndarray:
    """Late-reverb impulse responses ``(n_channels, taps)``, time zero = arrival of the
    direct sound; unit energy per channel (W for FOA) before a gentle high cut, i.e. unit
    power gain below ~5 kHz. With ``late_start_s`` only the part of that tail from then
    on is kept (faded in over 10 ms): the early part is then made of discrete image
    sources (:mod:`spa2v.sim.reflections`), and the late part keeps the energy it has in
    the whole tail."""
    n = int(sr * (1.3 * rt60_s + predelay_s + 0.05))
    t = np.arange(n) / sr
    env = np.exp(-6.91 * t / rt60_s)
    onset = np.clip((t - predelay_s) / 0.015, 0.0, 1.0) ** 2  # 15 ms build-up
    env *= onset
    chs = [rng.standard_normal(n) for _ in range(n_channels)]
    chs = _decorrelate(chs, layout, sr, spacing_m)
    out = np.stack([c * env for c in chs])
    # unit energy as a broadband (white) filter; the low-pass below has unit DC gain, so
    # it only removes highs and does not change the level of low/mid-frequency sources
    ref = (
        np.sqrt(np.sum(out[0] ** 2))
        if layout == "foa"
        else np.sqrt(np.mean(np.sum(out**2, axis=1)))
    )
    out /= max(ref, 1e-12)
    if late_start_s is not None:
        out *= np.clip((t - late_start_s) / 0.01, 0.0, 1.0)
    # one-pole low-pass at ~5 kHz: walls and air absorb the highs first
    a = np.exp(-2 * np.pi * 5000.0 / sr)
    return lfilter([1 - a], [1, -a], out, axis=1)


def apply_reverb(x: np.ndarray, tails: np.ndarray, gain: float) -> np.ndarray:
    """The reverberant part, ``(n_channels, len(x))``, of the head-centre signal ``x``
    (delayed, without distance gain) scaled by ``gain``."""
    return np.stack([fftconvolve(x, h)[: x.size] * gain for h in tails])


def diffuse_noise(
    n_channels: int, n: int, layout: str, rng: np.random.Generator, sr: int, spacing_m: float = 0.15
) -> np.ndarray:
    """Background noise: pink, diffuse (per-channel decorrelated as in a diffuse field),
    unit RMS on the reference channel (W for FOA, the mean otherwise)."""
    chs = [pink_noise(n, rng, sr) for _ in range(n_channels)]
    chs = _decorrelate(chs, layout, sr, spacing_m)
    out = np.stack(chs)
    ref = rms(out[0]) if layout == "foa" else float(np.sqrt(np.mean(out**2)))
    return out / max(ref, 1e-12)
