"""STFT on the cue hop grid, frame loudness and spectral centroid.

All hearing estimators share one spectrogram: frame ``k`` is centred on ``k * hop``
samples, so its time is ``k * hop_s`` and the cue tracks line up with it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

#: Level of digital silence, in dB (floor for log of zero power).
FLOOR_DB = -120.0


@dataclass
class Spectrogram:
    """Complex STFT of every channel on the cue hop grid.

    Attributes
    ----------
    spec : np.ndarray
        Complex array ``(n_channels, n_freqs, n_frames)``.
    freqs_hz : np.ndarray
        Centre frequency of each bin, ``(n_freqs,)``.
    times_s : np.ndarray
        Centre time of each frame, ``(n_frames,)`` (``k * hop_s``).
    sr : int
        Sample rate in Hz.
    hop : int
        Hop in samples.
    n_fft : int
        Window and FFT length in samples.
    """

    spec: np.ndarray
    freqs_hz: np.ndarray
    times_s: np.ndarray
    sr: int
    hop: int
    n_fft: int

    @cached_property
    def power(self) -> np.ndarray:
        """``|X|^2`` per channel, bin and frame."""
        return self.spec.real**2 + self.spec.imag**2


def fft_size(sr: int, hop: int) -> int:
    """FFT length for a hop: the power of two nearest to two hops (at least 256).

    A window of about two hops (~50 ms at the default 25 ms hop) resolves tones a few
    Hz apart for pitch and Doppler while keeping frames short enough for moving sources.

    >>> fft_size(48000, 1200)
    2048
    """
    return max(256, int(2 ** round(np.log2(2 * hop))))


@lru_cache(maxsize=16)
def periodic_hann(n: int) -> np.ndarray:
    """The periodic Hann window of ``n`` samples (float64; ``scipy.signal.windows.hann(n,
    sym=False)``), written out because importing ``scipy.signal`` costs more CPU time
    than hearing a 10 s clip.

    >>> periodic_hann(4).round(12).tolist()
    [0.0, 0.5, 1.0, 0.5]
    """
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)
    window.setflags(write=False)
    return window


@lru_cache(maxsize=16)
def _dual_window(n_fft: int, hop: int) -> np.ndarray:
    """The canonical dual of the Hann window for frames ``hop`` apart: the window
    divided by the sum of the squared windows overlapping each sample (what
    ``scipy.signal.ShortTimeFFT.istft`` uses)."""
    window = periodic_hann(n_fft)
    overlap = np.zeros(n_fft)
    for shift in range(-((n_fft - 1) // hop) * hop, n_fft, hop):
        lo, hi = max(0, shift), min(n_fft, n_fft + shift)
        overlap[lo:hi] += window[lo - shift : hi - shift] ** 2
    dual = window / overlap
    dual.setflags(write=False)
    return dual


def stft(samples: np.ndarray, sr: int, hop_s: float) -> Spectrogram:
    """STFT of ``samples`` ``(n_channels, n_samples)`` with frames centred on ``k * hop_s``.

    Hann window of :func:`fft_size` samples; the signal is zero-padded by half a window
    at both ends. Written with one batched ``rfft`` over a strided frame view because
    ``scipy.signal.ShortTimeFFT.stft`` transforms frame by frame (about 3x slower here);
    :func:`istft` inverts it.

    Example
    -------
    >>> x = np.zeros((2, 48000), dtype=np.float32)
    >>> s = stft(x, 48000, 0.025)
    >>> s.spec.shape, float(s.times_s[1])
    ((2, 1025, 41), 0.025)
    """
    hop = max(1, round(hop_s * sr))
    n_fft = fft_size(sr, hop)
    x = np.asarray(samples, dtype=np.float32)
    n_samples = x.shape[-1]
    n_frames = n_samples // hop + 1
    half = n_fft // 2
    # The window can be shorter than two hops (fft_size rounds to a power of two), so the
    # last partial hop may reach past the last frame: pad for whichever is longer.
    n_padded = max((n_frames - 1) * hop + n_fft, half + n_samples)
    padded = np.zeros((x.shape[0], n_padded), dtype=np.float32)
    padded[:, half : half + n_samples] = x
    windows = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)
    frames = windows[:, ::hop][:, :n_frames]
    window = periodic_hann(n_fft).astype(np.float32)
    # complex64 halves memory and speeds up the direction matrix products.
    spec = np.fft.rfft(frames * window, axis=-1).astype(np.complex64)  # (C, T, F)
    spec[..., 1::2] *= -1  # phase referenced to the frame centre, as scipy's istft expects
    return Spectrogram(
        spec=np.ascontiguousarray(spec.transpose(0, 2, 1)),
        freqs_hz=np.fft.rfftfreq(n_fft, 1.0 / sr),
        times_s=np.arange(n_frames) * hop / sr,
        sr=sr,
        hop=hop,
        n_fft=n_fft,
    )


def istft(spec: np.ndarray, sr: int, hop: int, n_fft: int, n_samples: int) -> np.ndarray:
    """Inverse of :func:`stft` for one channel ``(n_freqs, n_frames)``.

    Overlap-add of the frames weighted by the canonical dual window, as
    ``scipy.signal.ShortTimeFFT.istft`` does (to float32 precision), written out for the
    same reason as :func:`periodic_hann`. Frames that would hang further over the ends
    than :func:`stft` computes count as silent (the edges fade in/out by half a window).
    """
    half = n_fft // 2
    n_frames = min(spec.shape[1], -(-(n_samples + half) // hop))  # frames that reach in
    unshifted = np.asarray(spec)[:, :n_frames].astype(np.complex128)
    unshifted[1::2] *= -1  # undo the frame-centre phase reference of stft
    frames = np.fft.irfft(unshifted, n=n_fft, axis=0).T * _dual_window(n_fft, hop)
    out = np.zeros(max(n_samples, (n_frames - 1) * hop + n_fft) + half)
    for k in range(n_frames):
        out[k * hop : k * hop + n_fft] += frames[k]
    return out[half : half + n_samples].astype(np.float32)


def window_coverage(n_samples: int, hop: int, n_fft: int) -> np.ndarray:
    """Share of each frame's window energy that falls inside the signal ``(n_frames,)``.

    The first and last frames hang over the ends (zero padding), so their level reads
    low; dividing their power by this corrects it.
    """
    n_frames = n_samples // hop + 1
    window_sq = periodic_hann(n_fft) ** 2
    starts = np.arange(n_frames) * hop - n_fft // 2  # first sample of each frame
    cumulative = np.concatenate([[0.0], np.cumsum(window_sq)])
    lo = np.clip(-starts, 0, n_fft)
    hi = np.clip(n_samples - starts, 0, n_fft)
    return np.maximum(cumulative[hi] - cumulative[lo], 1e-3 * cumulative[-1]) / cumulative[-1]


def power_to_db(power: np.ndarray) -> np.ndarray:
    """``10 log10(power)`` with a floor at :data:`FLOOR_DB`."""
    return 10.0 * np.log10(np.maximum(power, 10.0 ** (FLOOR_DB / 10.0)))


def frame_level_db(power: np.ndarray, n_fft: int) -> np.ndarray:
    """Mean-square level per frame in dBFS from a power spectrogram ``(n_freqs, n_frames)``.

    Scaled with Parseval's theorem for a Hann window so that a full-scale sine reads
    about -3 dB, like an RMS meter.
    """
    window_energy = float(np.sum(periodic_hann(n_fft) ** 2))
    # One-sided spectrum: every bin except DC (and Nyquist) stands for two.
    mean_square = (2.0 * power.sum(axis=0) - power[0]) / (n_fft * window_energy)
    return power_to_db(mean_square)


def spectral_centroid_hz(power: np.ndarray, freqs_hz: np.ndarray) -> np.ndarray:
    """Power-weighted mean frequency per frame, NaN for silent frames.

    >>> p = np.zeros((3, 2)); p[1, 0] = 1.0
    >>> spectral_centroid_hz(p, np.array([0.0, 100.0, 200.0]))
    array([100.,  nan])
    """
    total = power.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = (freqs_hz[:, None] * power).sum(axis=0) / total
    return np.where(total > 0, centroid, np.nan)
