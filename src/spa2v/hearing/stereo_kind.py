"""Which kind of stereo a two-channel recording is: spaced pair, panned mix or binaural.

Stereo files do not say. The channels tell:

- **panned** (amplitude-panned mix): no delay between the channels, only level;
- **spaced** pair (phone, camera): a delay that depends on direction, but (almost)
  no level difference - two omni microphones 10-20 cm apart hear the same level;
- **binaural** (dummy head): a delay *and* a level difference that grows with
  frequency (the head shadows high frequencies), on the side that leads.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from spa2v.hearing.direction import bin_weights, phase_map, unit_cross_spectrum
from spa2v.hearing.spectral import frame_level_db, stft

StereoKind = Literal["spaced", "panned", "binaural"]

#: Candidate inter-channel delays (s) searched by GCC-PHAT.
_LAGS_S = np.linspace(-1.0e-3, 1.0e-3, 201)
#: A frame's delay counts if its GCC-PHAT peak reaches this coherence (reverberant
#: rooms bring it down to ~0.2-0.4, a dry recording has ~1).
MIN_COHERENCE = 0.15
#: Delays below this (s) are "no delay" (a tenth of a 15 cm pair's largest delay).
ZERO_DELAY_S = 40e-6
#: Coherence-weighted share of frames without delay that makes a recording panned
#: (simulation: >= 0.55 for panned mixes with RT60 0.4 s, <= 0.03 for spaced/binaural).
PANNED_SHARE = 0.5
#: Median 3-10 kHz level difference (dB) on the leading side that makes it binaural
#: (simulation: 1.2-13 dB for binaural, dry or RT60 0.4 s; within +-0.7 dB for spaced).
BINAURAL_ILD_DB = 0.8


def frame_delays_s(
    samples: np.ndarray, sr: int, hop_s: float = 0.025
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GCC-PHAT delay (s, positive = left leads), coherence and usable flag per frame."""
    spectrogram = stft(samples, sr, hop_s)
    freqs = spectrogram.freqs_hz
    band = (freqs >= 100.0) & (freqs <= min(8000.0, 0.45 * sr))
    spec = spectrogram.spec[:, band]
    unit = unit_cross_spectrum(spec[0], spec[1])
    power = spectrogram.power[:, band].mean(axis=0)
    usable = (bin_weights(power, freqs[band]) > 0).astype(np.float32)
    model = 2.0 * np.pi * _LAGS_S[:, None] * freqs[band][None, :]
    score = phase_map(unit, usable, model)  # (T, lags)
    level = frame_level_db(spectrogram.power.mean(axis=0), spectrogram.n_fft)
    loud = level >= max(level.max() - 30.0, -75.0) if level.size else np.zeros(0, bool)
    return _LAGS_S[np.argmax(score, axis=1)], score.max(axis=1), loud


def band_ild_db(samples: np.ndarray, sr: int, lo_hz: float, hi_hz: float, hop_s: float = 0.025):
    """Left-minus-right level (dB) per frame within ``lo_hz``-``hi_hz``."""
    spectrogram = stft(samples, sr, hop_s)
    freqs = spectrogram.freqs_hz
    band = (freqs >= lo_hz) & (freqs <= hi_hz)
    power = spectrogram.power[:, band].sum(axis=1)  # (2, T)
    return 10.0 * np.log10((power[0] + 1e-20) / (power[1] + 1e-20))


def detect_stereo_layout(samples: np.ndarray, sr: int) -> StereoKind:
    """Guess the kind of a stereo recording ``(2, n_samples)`` from its channels.

    Returns ``"spaced"`` when nothing can be told (silence, incoherent channels): a
    phone or camera is the most common source of stereo files.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal(16000).astype(np.float32)
    >>> detect_stereo_layout(np.stack([x, 0.5 * x]), 16000)
    'panned'
    """
    x = np.nan_to_num(np.asarray(samples, dtype=np.float32))
    delays, coherence, loud = frame_delays_s(x, sr)
    coherent = loud & (coherence >= MIN_COHERENCE)
    if coherent.sum() < 3:
        return "spaced"
    # Weighted by coherence: in a room, frames whose peak is a reflection are less
    # coherent than those that hear the direct sound.
    weight = coherence * coherent
    no_delay = np.abs(delays) < ZERO_DELAY_S
    if float((weight * no_delay).sum() / weight.sum()) >= PANNED_SHARE:
        return "panned"
    lateral = coherent & (np.abs(delays) >= 2 * ZERO_DELAY_S)
    if lateral.sum() < 3:
        return "spaced"
    high_ild = band_ild_db(x, sr, 3000.0, min(10000.0, 0.45 * sr))
    # Level difference on the side that leads: positive for a head shadow.
    leading_ild = high_ild[lateral] * np.sign(delays[lateral])
    return "binaural" if np.median(leading_ild) >= BINAURAL_ILD_DB else "spaced"
