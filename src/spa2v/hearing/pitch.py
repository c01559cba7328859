"""Tonal component tracking and the Doppler pass-by fit that gives a source's speed.

A passing source's tone is heard higher while it approaches and lower while it
recedes. Fitting the whole received-frequency curve of a straight pass at constant
speed (closest-approach time and distance free) estimates the speed far better than
comparing two plateaus, which a short clip rarely reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spa2v.hearing.direction import SPEED_OF_SOUND_MPS
from spa2v.hearing.filters import median_filter

#: Tonal components are searched in this range (Hz).
PITCH_RANGE_HZ = (60.0, 4000.0)
#: A frame's peak is tonal if it stands this far above the median level of the range.
TONAL_PROMINENCE_DB = 12.0
#: Largest Doppler excursion searched around the reference tone (covers ~50 m/s).
MAX_DOPPLER_RATIO = 0.16


@dataclass(frozen=True)
class PassbyFit:
    """Straight constant-speed pass-by that explains a received-frequency track."""

    f0_hz: float  # emitted frequency
    speed_mps: float
    t0_s: float  # time the wavefront from the closest approach point is heard... approx.
    distance_m: float  # closest-approach distance
    rms_error_hz: float


def tonal_track(power: np.ndarray, freqs_hz: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Frequency (Hz) of the strongest tonal component per frame, NaN where none.

    The reference tone is the highest peak of the clip's mean log spectrum; each frame
    then follows it within +-:data:`MAX_DOPPLER_RATIO` (so the track does not jump between
    harmonics), refined by a parabola through the log-power peak (sub-bin accuracy).

    Parameters
    ----------
    power : np.ndarray
        ``(F, T)`` power spectrogram of the source.
    freqs_hz : np.ndarray
        ``(F,)`` bin frequencies.
    active : np.ndarray
        ``(T,)`` frames in which the source sounds.
    """
    n_frames = power.shape[1]
    pitch = np.full(n_frames, np.nan)
    band = np.flatnonzero((freqs_hz >= PITCH_RANGE_HZ[0]) & (freqs_hz <= PITCH_RANGE_HZ[1]))
    if band.size < 5 or not active.any():
        return pitch
    log_p = 10.0 * np.log10(power[band] + 1e-20)  # (Fb, T)
    # Tonality per bin: how far it stands above the frame median.
    above = log_p - np.median(log_p, axis=0, keepdims=True)
    reference = int(np.argmax(above[:, active].mean(axis=1)))
    f_ref = freqs_hz[band[reference]]
    window = np.flatnonzero(
        np.abs(freqs_hz[band] - f_ref) <= MAX_DOPPLER_RATIO * f_ref + freqs_hz[1]
    )
    window = window[(window > 0) & (window < band.size - 1)]
    if window.size == 0:
        return pitch
    idx = window[np.argmax(log_p[window], axis=0)]  # (T,)
    cols = np.arange(n_frames)
    y0, y1, y2 = log_p[idx - 1, cols], log_p[idx, cols], log_p[idx + 1, cols]
    denom = y0 - 2 * y1 + y2
    with np.errstate(invalid="ignore", divide="ignore"):
        offset = np.clip(np.where(denom < 0, 0.5 * (y0 - y2) / denom, 0.0), -0.5, 0.5)
    freq = freqs_hz[band[idx]] + offset * (freqs_hz[1] - freqs_hz[0])
    tonal = active & (above[idx, cols] >= TONAL_PROMINENCE_DB)
    pitch[tonal] = freq[tonal]
    return pitch


def passby_frequency_hz(
    times_s: np.ndarray, f0_hz: float, speed_mps: float, t0_s: float, distance_m: float
) -> np.ndarray:
    """Received frequency of a straight pass at constant speed (exact, with travel time).

    The source passes its closest point (``distance_m`` away) at emission time ``t0_s``.
    A sound heard at ``t`` was emitted at ``t_e`` with ``c (t - t_e) = r(t_e)``; with
    ``u = t_e - t0`` and ``T = t - t0`` this is a quadratic in ``u`` solved in closed form.
    The received frequency is ``f0 c / (c - v_r)`` with ``v_r`` the speed towards the
    listener at emission time.

    >>> float(passby_frequency_hz(np.array([-100.0]), 500.0, 20.0, 0.0, 5.0)[0]) > 500
    True
    """
    c = SPEED_OF_SOUND_MPS
    v = speed_mps
    tt = times_s - t0_s
    disc = c**2 * v**2 * tt**2 + (c**2 - v**2) * distance_m**2
    u = (c**2 * tt - np.sqrt(np.maximum(disc, 0.0))) / (c**2 - v**2)
    v_towards = -(v**2) * u / np.sqrt(distance_m**2 + (v * u) ** 2)
    return f0_hz * c / (c - v_towards)


def fit_passby(times_s: np.ndarray, pitch_hz: np.ndarray) -> PassbyFit | None:
    """Least-squares pass-by fit of a pitch track (NaN frames ignored); None if it fails.

    Starts from the two-plateau speed, the closest-approach time where the pitch
    crosses its mid value, and the distance that explains the steepest slope
    (``df/dt = -f0 v^2 / (c d)`` at closest approach); a second start at 3x the distance
    guards against a wrong slope. The ``soft_l1`` loss keeps stray frames (another
    tone, a noisy frame) from dragging the fit.
    """
    ok = np.isfinite(pitch_hz)
    if ok.sum() < 10:
        return None
    t, f = times_s[ok], pitch_hz[ok]
    if t.size > 200:  # the curve is smooth: 200 points pin it down, and keep the fit fast
        pick = np.linspace(0, t.size - 1, 200).astype(int)
        t, f = t[pick], f[pick]
    c = SPEED_OF_SOUND_MPS
    n_edge = max(3, t.size // 6)
    f_start, f_end = float(np.median(f[:n_edge])), float(np.median(f[-n_edge:]))
    ratio = max(f_start / f_end, 1.0 + 1e-4)
    v_guess = float(np.clip(c * (ratio - 1) / (ratio + 1), 1.0, 60.0))
    f_mid = 0.5 * (f_start + f_end)
    t_guess = float(t[np.argmin(np.abs(f - f_mid))])
    slope = np.gradient(smooth_track(f), t)
    steepest = max(float(-slope.min()), 1e-6)
    d_guess = float(np.clip(f_mid * v_guess**2 / (c * steepest), 0.5, 200.0))
    f_scale = float(np.median(f))
    span = float(t[-1] - t[0])

    def residual(p: np.ndarray) -> np.ndarray:
        return (passby_frequency_hz(t, p[0] * f_scale, p[1], p[2], p[3]) - f) / f_scale

    lower = [0.5, 0.3, t[0] - span, 0.3]
    upper = [2.0, 80.0, t[-1] + span, 300.0]
    from scipy.optimize import least_squares  # only here: a costly import

    best: PassbyFit | None = None
    best_cost = np.inf
    for d_init in (d_guess, 3.0 * d_guess):
        x0 = np.clip([f_mid / f_scale, v_guess, t_guess, d_init], lower, upper)
        # A clean pass converges in ~10-30 evaluations; a track that is not a pass
        # (an engine changing gear) would wander for hundreds: cap it.
        sol = least_squares(
            residual, x0, bounds=(lower, upper), loss="soft_l1", f_scale=0.003, max_nfev=40
        )
        if sol.cost < best_cost:
            best_cost = sol.cost
            rms = float(np.sqrt(np.mean((residual(sol.x) * f_scale) ** 2)))
            best = PassbyFit(
                float(sol.x[0] * f_scale), float(sol.x[1]), float(sol.x[2]), float(sol.x[3]), rms
            )
    return best


def smooth_track(values: np.ndarray, frames: int = 5) -> np.ndarray:
    """Running median of a track (edges repeat), to take slopes of noisy pitch."""
    return median_filter(values, size=frames, mode="nearest")


def pitch_change_ratio(pitch_hz: np.ndarray) -> float | None:
    """``f_end / f_start - 1`` from the medians of the first and last sixth of the track."""
    valid = pitch_hz[np.isfinite(pitch_hz)]
    if valid.size < 6:
        return None
    n_edge = max(2, valid.size // 6)
    return float(np.median(valid[-n_edge:]) / np.median(valid[:n_edge]) - 1.0)
