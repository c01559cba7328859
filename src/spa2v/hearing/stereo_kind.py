"""Which kind of stereo a two-channel recording is, and whether it carries any
left/right information at all.

Stereo files do not say. The channels tell, through cues that survive what real
recordings do to them (channel gain imbalance of a few dB, lossy codecs that flatten
inter-channel differences above a few kHz, sources near the centre):

- **no left/right information** (dual-mono): the channels are the same signal at the
  same level. Nothing can be placed by ear; the planner places by priors;
- **microphones apart** (a spaced pair on a phone or camera, or a dummy head): the
  channels hear a source at different *times*. Time differences below 1.5 kHz survive
  codecs and are blind to channel gains, so they decide this, integrated over 0.5 s
  blocks (a distant talker is a weak peak in any one 25 ms frame);
- **binaural** rather than spaced: the head shadow makes the level difference grow with
  frequency on the side that leads. The *difference* between the high-band and the
  low-band level difference is used, so a constant channel gain offset cancels;
- **panned** (an amplitude-panned mix): no time difference, only level, and the two
  channels stay coherent at high frequencies (two microphones in a room hear a diffuse
  field that decorrelates above ~1 kHz).

A source straight ahead has no time or level difference in any kind; its position is
the centre whichever kind is chosen, so the choice does not matter there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from spa2v.hearing.spectral import Spectrogram, frame_level_db, stft

StereoKind = Literal["spaced", "panned", "binaural"]

#: Hop (s) of the STFT the analysis runs on, and the block (s) its cross-spectra are
#: summed over before delays are read.
HOP_S = 0.025
BLOCK_S = 0.5
#: Bands (Hz): time differences are read below 1.5 kHz (they survive codecs); the
#: high band shows whether a codec flattened them; the level-difference bands measure
#: the head shadow (small below 800 Hz, several dB above 2 kHz).
LOW_BAND_HZ = (200.0, 1500.0)
HIGH_BAND_HZ = (1500.0, 6000.0)
ILD_LOW_HZ = (200.0, 800.0)
FRAME_BAND_HZ = (100.0, 8000.0)
ILD_HIGH_HZ = (2000.0, 8000.0)
#: Candidate delays (s) searched: beyond a 30 cm pair's largest delay.
LAGS_S = np.linspace(-1.0e-3, 1.0e-3, 401)
#: A block's delay counts if its coherence-weighted GCC-PHAT peak reaches this.
MIN_BLOCK_PEAK = 0.2
#: Delays below this (s) are "no delay": a fifth of a 15 cm pair's largest delay
#: (a source 12 deg off centre), 1.4 samples at 48 kHz.
ZERO_DELAY_S = 30e-6
#: Microphones apart when at least this share of the coherent blocks (weighted by
#: their peak) has a delay ...
APART_SHARE = 0.25
#: ... and fewer than this share of the single frames (weighted by their broadband
#: GCC-PHAT peak, those reaching :data:`MIN_FRAME_PEAK`) has none. Within one 25 ms frame the
#: direct sound of a note's onset dominates its reverb (precedence), so a panned mix
#: with a stereo reverb shows no delay frame by frame, while over a block its
#: decorrelated reverb can put the peak anywhere.
PANNED_FRAME_SHARE = 0.5
MIN_FRAME_PEAK = 0.15
#: Binaural when, on the side that leads, the high band's level difference exceeds the
#: low band's by at least this (dB, median over the blocks with a delay). Measured in
#: simulation (KEMAR and a spaced pair, 10-45 deg, 2 and 5 m, dry and RT60 0.4-0.8 s):
#: a head gives 1.7-7.7 dB dry but only 0.3-3.7 dB in rooms, where the diffuse field
#: evens the levels out; two omnis gave at most +0.8 dB. A head heard far away in a
#: room can therefore read as a spaced pair (whose model differs from a head's only in
#: how far the delays reach, see :func:`spacing_bound_m`).
HEAD_SHADOW_DB = 1.0
#: Panned rather than a centred source between microphones apart: the channels'
#: high-band coherence (magnitude-squared, over a block) stays at least this high.
PANNED_COHERENCE = 0.85
#: Dual-mono: sample correlation at least this and level difference below this (dB),
#: both below the top of LOW_BAND_HZ, the band the time differences are read from:
#: lossy codecs (AAC in an MP4, as upload pipelines write it) spend few bits on the
#: channels' differences higher up: dual-mono white noise through FFmpeg's AAC at 128
#: kb/s is correlated 0.82 over the whole band and 0.954 below 4 kHz, 1.0000 below
#: 1.5 kHz (a noise clip through the MP4 muxer's AAC: 0.993 over the whole band).
DUAL_MONO_CORRELATION = 0.999
DUAL_MONO_LEVEL_DB = 1.0
#: A codec flattened the high band when, in blocks whose low band has a clear delay
#: (at least twice :data:`ZERO_DELAY_S`), the high band's delay is "none" in at least
#: this share.
FLATTENED_SHARE = 0.6
#: A low band whose delays span this much (s), from one side to the other, is a moving
#: source (a 15 cm pair's delay swings by 0.87 ms in a full pass).
SWEEP_S = 200e-6
#: High-band coherence of channels that a codec made near-copies (intensity stereo).
COPIED_COHERENCE = 0.9
#: ... and the recording is still microphones apart if its low-band block peaks stay
#: this high (median): a codec keeps the low band coherent, while a panned mix whose
#: low band is mostly its reverb has weak block peaks (simulation, RT60 0.4-0.8 s:
#: 0.3-0.6 panned, 0.6-0.9 binaural and spaced).
CODEC_BLOCK_PEAK = 0.6


@dataclass(frozen=True)
class StereoAnalysis:
    """What the two channels of a recording tell, and how sure that is.

    Attributes
    ----------
    kind : StereoKind
        ``spaced``, ``panned`` or ``binaural``.
    confidence : float
        In [0, 1]: how clearly the evidence passed its threshold (0 = a guess).
    lateral_info : bool
        False when the channels carry no left/right information (dual-mono).
    high_band_flattened : bool
        Time differences above 1.5 kHz look removed (joint-stereo coding): direction
        maps should use the low band only.
    largest_delay_s : float
        The 95th percentile of the blocks' absolute time differences (s): a spaced pair
        that produced it is at least ``c * largest_delay_s`` wide.
    evidence : str
        The figures behind the decision, for people.
    """

    kind: StereoKind
    confidence: float
    lateral_info: bool = True
    high_band_flattened: bool = False
    evidence: str = ""
    largest_delay_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _low_band_similarity(spectrogram: Spectrogram) -> tuple[float, float]:
    """Correlation and level difference (dB, left - right) of the first two channels
    below the top of :data:`LOW_BAND_HZ`, summed over the STFT's bins (the whole band
    when one channel has nothing there; DC left out)."""
    freqs = spectrogram.freqs_hz
    for band in ((freqs > 0.0) & (freqs <= LOW_BAND_HZ[1]), freqs > 0.0):
        left, right = spectrogram.spec[0, band], spectrogram.spec[1, band]
        energy_l = float(np.sum(np.abs(left) ** 2))
        energy_r = float(np.sum(np.abs(right) ** 2))
        if energy_l > 0.0 and energy_r > 0.0:
            cross = float(np.sum((left * np.conj(right)).real))
            return cross / np.sqrt(energy_l * energy_r), 10.0 * np.log10(energy_l / energy_r)
    return 0.0, 0.0


@dataclass(frozen=True)
class _Blocks:
    """Per-block figures of a recording (loud, coherent blocks only)."""

    frame_zero_share: float  # peak-weighted share of coherent frames without delay
    low_delay_s: np.ndarray
    low_peak: np.ndarray
    high_delay_s: np.ndarray
    high_coherence: np.ndarray
    shadow_db: np.ndarray  # high-band minus low-band level difference (left - right)


def analyse_stereo(
    samples: np.ndarray, sr: int, spectrogram: Spectrogram | None = None
) -> StereoAnalysis:
    """Decide the kind of a stereo recording ``(2, n_samples)`` and whether it carries
    left/right information.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal(16000).astype(np.float32)
    >>> analyse_stereo(np.stack([x, 0.5 * x]), 16000).kind
    'panned'
    >>> analyse_stereo(np.stack([x, x]), 16000).lateral_info
    False
    """
    x = np.nan_to_num(np.asarray(samples, dtype=np.float64))
    if float(x[0] @ x[0]) <= 0.0 or float(x[1] @ x[1]) <= 0.0:
        return StereoAnalysis("spaced", 0.0, evidence="a silent channel: nothing to tell")
    if spectrogram is None or spectrogram.hop != max(1, round(HOP_S * sr)):
        spectrogram = stft(x[:2].astype(np.float32), sr, HOP_S)
    correlation, level_db = _low_band_similarity(spectrogram)
    if correlation >= DUAL_MONO_CORRELATION and abs(level_db) < DUAL_MONO_LEVEL_DB:
        return StereoAnalysis(
            "panned",
            1.0,
            lateral_info=False,
            evidence=f"left and right are the same signal (correlation {correlation:.4f}, "
            f"level difference {level_db:+.1f} dB, below {LOW_BAND_HZ[1]:g} Hz): "
            "no left/right information",
        )
    blocks = _block_figures(x.astype(np.float32), sr, spectrogram)
    if blocks is None:
        return StereoAnalysis("spaced", 0.0, evidence="no coherent sound to analyse")
    delayed = np.abs(blocks.low_delay_s) >= ZERO_DELAY_S
    weight = blocks.low_peak
    apart_share = float((weight * delayed).sum() / weight.sum())
    flattened = _high_band_flattened(blocks)
    frames_say_panned = blocks.frame_zero_share >= PANNED_FRAME_SHARE
    # Broadband frames see no delay, yet the low band's blocks do: a codec flattened the
    # high band (its time differences are gone, the low band's consistent), or a panned
    # mix's reverb fills the low band (weak, scattered block peaks).
    codec_hides_delays = flattened and float(np.median(blocks.low_peak)) >= CODEC_BLOCK_PEAK
    if apart_share >= APART_SHARE and (not frames_say_panned or codec_hides_delays):
        # Head shadow on the side that leads (positive delay = left leads).
        shadow = float(np.median(blocks.shadow_db[delayed] * np.sign(blocks.low_delay_s[delayed])))
        kind: StereoKind = "binaural" if shadow >= HEAD_SHADOW_DB else "spaced"
        sureness = min(abs(shadow - HEAD_SHADOW_DB) / 3.0, 1.0)
        sureness *= min((apart_share - APART_SHARE) / 0.25 + 0.5, 1.0)
        sureness = max(sureness, 0.0)
        largest_us = 1e6 * float(np.percentile(np.abs(blocks.low_delay_s[delayed]), 90))
        evidence = (
            f"time differences in {apart_share:.0%} of the coherent sound (up to "
            f"{largest_us:.0f} us): microphones apart; head shadow {shadow:+.1f} dB "
            f"(binaural from {HEAD_SHADOW_DB:+.1f})"
        )
        if flattened:
            evidence += "; time differences above 1.5 kHz look removed by lossy coding"
        largest_s = float(np.percentile(np.abs(blocks.low_delay_s[delayed]), 95))
        return StereoAnalysis(
            kind, round(float(sureness), 2), True, flattened, evidence, round(largest_s, 6)
        )
    coherence = float(np.median(blocks.high_coherence))
    if coherence >= PANNED_COHERENCE or frames_say_panned:
        sureness = max(
            (coherence - PANNED_COHERENCE) / (1.0 - PANNED_COHERENCE),
            (blocks.frame_zero_share - PANNED_FRAME_SHARE) / (1.0 - PANNED_FRAME_SHARE),
        )
        evidence = (
            f"no time differences ({1 - blocks.frame_zero_share:.0%} of the frames, "
            f"{apart_share:.0%} of the blocks have any; high-band coherence "
            f"{coherence:.2f}): an amplitude-panned mix"
        )
        return StereoAnalysis(
            "panned", round(float(np.clip(sureness, 0.0, 1.0)), 2), True, flattened, evidence
        )
    # No delays, yet a diffuse field decorrelates the channels: microphones apart
    # hearing sources near the centre. Their kind hardly matters there; the level
    # difference (a channel gain offset, most likely) must not place them.
    shadow = float(np.median(np.abs(blocks.shadow_db)))
    kind = "binaural" if shadow >= HEAD_SHADOW_DB else "spaced"
    evidence = (
        f"no time differences ({apart_share:.0%}) but incoherent high frequencies "
        f"({coherence:.2f}): microphones apart, sources near the centre"
    )
    return StereoAnalysis(kind, 0.3, True, flattened, evidence)


def detect_stereo_layout(samples: np.ndarray, sr: int) -> StereoKind:
    """The kind of a stereo recording ``(2, n_samples)`` (:func:`analyse_stereo`).

    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal(16000).astype(np.float32)
    >>> detect_stereo_layout(np.stack([x, 0.5 * x]), 16000)
    'panned'
    """
    return analyse_stereo(samples, sr).kind


def _block_figures(
    samples: np.ndarray, sr: int, spectrogram: Spectrogram | None = None
) -> _Blocks | None:
    """GCC-PHAT delay and peak (low and high band), high-band coherence and head
    shadow of every loud block in which the low band is coherent; None if none is."""
    if spectrogram is None or spectrogram.hop != max(1, round(HOP_S * sr)):
        spectrogram = stft(samples, sr, HOP_S)  # not the caller's: another hop
    freqs = spectrogram.freqs_hz
    spec = spectrogram.spec
    n_frames = spec.shape[2]
    per_block = max(1, round(BLOCK_S / HOP_S))
    n_blocks = max(1, n_frames // per_block)
    used = n_blocks * per_block if n_frames >= per_block else n_frames
    shape = (spec.shape[1], n_blocks, -1)

    def block_sum(values: np.ndarray) -> np.ndarray:
        return values[:, :used].reshape(shape).sum(axis=2)  # (F, blocks)

    cross = block_sum(spec[0] * np.conj(spec[1]))
    power_l = block_sum(spectrogram.power[0])
    power_r = block_sum(spectrogram.power[1])
    coherence = np.abs(cross) ** 2 / np.maximum(power_l * power_r, 1e-30)  # (F, blocks)

    level = frame_level_db((power_l + power_r) / (2.0 * per_block), spectrogram.n_fft)  # (blocks,)
    loud = level >= max(float(level.max()) - 30.0, -75.0)

    low_delay, low_peak = _gcc(cross, coherence, freqs, LOW_BAND_HZ, sr)
    high_delay, _ = _gcc(cross, coherence, freqs, HIGH_BAND_HZ, sr)
    high = (freqs >= HIGH_BAND_HZ[0]) & (freqs <= min(HIGH_BAND_HZ[1], 0.45 * sr))
    high_coherence = coherence[high].mean(axis=0) if high.any() else np.ones(n_blocks)
    shadow = _band_ild_db(power_l, power_r, freqs, ILD_HIGH_HZ, sr) - _band_ild_db(
        power_l, power_r, freqs, ILD_LOW_HZ, sr
    )
    keep = loud & (low_peak >= MIN_BLOCK_PEAK)
    if not keep.any():
        return None
    # Frame by frame (no block sums): plain PHAT over the broad band, where onsets'
    # direct sound is sharpest.
    frame_coherence = np.ones(spec.shape[1:], dtype=np.float32)
    frame_delay, frame_peak = _gcc(
        spec[0] * np.conj(spec[1]), frame_coherence, freqs, FRAME_BAND_HZ, sr
    )
    frame_level = frame_level_db(spectrogram.power.mean(axis=0), spectrogram.n_fft)
    frame_loud = frame_level >= max(float(frame_level.max()) - 30.0, -75.0)
    weight = frame_peak * (frame_loud & (frame_peak >= MIN_FRAME_PEAK))
    zero = np.abs(frame_delay) < ZERO_DELAY_S
    zero_share = float((weight * zero).sum() / weight.sum()) if weight.sum() > 0 else 0.0
    return _Blocks(
        zero_share,
        low_delay[keep],
        low_peak[keep],
        high_delay[keep],
        high_coherence[keep],
        shadow[keep],
    )


def _gcc(
    cross: np.ndarray,
    coherence: np.ndarray,
    freqs_hz: np.ndarray,
    band_hz: tuple[float, float],
    sr: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Delay (s, positive = left leads) and peak in [-1, 1] per block of the
    coherence-weighted GCC-PHAT of block cross-spectra ``(F, blocks)`` in a band."""
    band = (freqs_hz >= band_hz[0]) & (freqs_hz <= min(band_hz[1], 0.45 * sr))
    n_blocks = cross.shape[1]
    if not band.any():
        return np.zeros(n_blocks), np.zeros(n_blocks)
    unit = cross[band] / np.maximum(np.abs(cross[band]), 1e-30)
    weight = coherence[band]
    steer = np.exp(-2j * np.pi * LAGS_S[:, None] * freqs_hz[band][None, :])  # (lags, F)
    score = (steer @ (weight * unit)).real / np.maximum(weight.sum(axis=0), 1e-30)
    best = np.argmax(score, axis=0)
    return LAGS_S[best], score[best, np.arange(n_blocks)]


def _band_ild_db(
    power_l: np.ndarray,
    power_r: np.ndarray,
    freqs_hz: np.ndarray,
    band_hz: tuple[float, float],
    sr: int,
) -> np.ndarray:
    """Left-minus-right level (dB) per block within a band (0 where it is empty)."""
    band = (freqs_hz >= band_hz[0]) & (freqs_hz <= min(band_hz[1], 0.45 * sr))
    if not band.any():
        return np.zeros(power_l.shape[1])
    return 10.0 * np.log10(
        (power_l[band].sum(axis=0) + 1e-30) / (power_r[band].sum(axis=0) + 1e-30)
    )


def _high_band_flattened(blocks: _Blocks) -> bool:
    """Whether the high band lost the time differences the low band still has.

    A block counts when its high band shows no delay while its level still says the
    low band's side (a head shadow there), or while its channels are near-copies
    (intensity stereo): a codec removed the delay but not the source. A high band that
    is simply another source's (a centred drum beside a trumpet heard in the low band)
    has neither. So does every block of a clip whose low band sweeps from one side to
    the other (by :data:`SWEEP_S` or more) while its high band stays still: no source
    moves in one band only.
    """
    clear = np.abs(blocks.low_delay_s) >= 2 * ZERO_DELAY_S
    if clear.sum() < 3:
        return False
    side = np.sign(blocks.low_delay_s[clear])
    same_source = (blocks.shadow_db[clear] * side >= HEAD_SHADOW_DB) | (
        blocks.high_coherence[clear] >= COPIED_COHERENCE
    )
    if np.ptp(blocks.low_delay_s[clear]) >= SWEEP_S and (side > 0).any() and (side < 0).any():
        same_source[:] = True
    flat = (np.abs(blocks.high_delay_s[clear]) < ZERO_DELAY_S) & same_source
    return bool(flat.mean() >= FLATTENED_SHARE)
