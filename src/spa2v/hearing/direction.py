"""Direction of arrival per frame: a *direction map* ``P[t, a]`` over an azimuth grid.

Each layout has its own cue (``docs/design.md``, Stage 1):

- spaced pair: inter-channel phase (GCC-PHAT steered over azimuth, i.e. SRP-PHAT) with
  the delay ``d sin(az) / c`` of two microphones ``d`` metres apart;
- binaural: interaural phase matched against the KEMAR lookup table
  (:mod:`spa2v.hearing.hrtf`), optionally band ILDs too;
- panned stereo: the constant-power panning index of every time-frequency bin;
- first-order ambisonics: the pseudo-intensity vector of every bin (also gives elevation).

Maps are large where a source is likely; :mod:`spa2v.hearing.sources` finds sources in
them. :class:`DirectionFinder` holds what one recording needs (computed once) and gives
the map of any subset of bins, and how well each bin fits a given source direction.
Azimuth is positive to the LEFT; channel 0 is the left channel.
"""

from __future__ import annotations

import numpy as np

from spa2v.hearing.filters import convolve1d, uniform_filter, uniform_filter1d
from spa2v.hearing.hrtf import interp_rows, kemar_table
from spa2v.hearing.spectral import Spectrogram

SPEED_OF_SOUND_MPS = 343.0
#: Spacing (m) of a spaced microphone pair when neither the user nor the recording says
#: more (phones and cameras: 8-30 cm).
DEFAULT_MIC_SPACING_M = 0.15
#: Azimuth grid of stereo maps (front half: two channels cannot tell front from back).
STEREO_AZ_DEG = np.arange(-90.0, 91.0, 1.0)
#: Azimuth grid of FOA maps (full circle).
FOA_AZ_DEG = np.arange(-180.0, 180.0, 1.0)
#: Bins below this frequency carry no usable direction.
MIN_FREQ_HZ = 50.0
#: Bins quieter than the loudest bin of their frame by more than this are ignored.
BIN_RANGE_DB = 50.0
#: Azimuth of a hard-panned source (constant-power law); ``pan_span_deg`` overrides it.
DEFAULT_PAN_SPAN_DEG = 90.0
#: Frequency band (Hz) each layout's direction map uses. Binaural: below 500 Hz a
#: room's diffuse field is nearly coherent between the ears (IPD 0) and pulled
#: estimates to the centre in simulation; above 6 kHz the table's phase, interpolated
#: between 5-degree measurements, is no longer reliable.
MAP_BAND_HZ = {
    "spaced": (100.0, 8000.0),
    "binaural": (500.0, 6000.0),
    "panned": (50.0, 16000.0),
    "foa": (50.0, 16000.0),
}
#: Top of the band (Hz) phase maps keep for lossy-coded recordings: joint-stereo coding
#: keeps inter-channel time differences below ~1.5 kHz and flattens those above.
LOW_BAND_TOP_HZ = 1500.0
#: A bin fits a direction if its phase is within this delay of the model (or within
#: 60 degrees of phase, whichever is smaller) - about 10 degrees of azimuth ahead.
FIT_DELAY_S = 100e-6
#: A panned/FOA bin fits a direction if its own azimuth is this close.
FIT_ANGLE_DEG = 10.0
#: Exponent of the single-source purity weight of panned bins.
PURITY_POWER = 16
#: Height (share of a clean single source's) the map of bins left over by the sources
#: found so far must reach for another source (:mod:`spa2v.hearing.sources`). Measured
#: in simulation (RT60 0.4-0.8 s at 3 m, one source): the leftovers of a room reach
#: ~0.2 in phase maps and ~0.4 in panned histograms (few bins left, each a strong
#: vote). FOA maps (directness-weighted votes): a room's leftovers reached 0.3 in at
#: most 2% of frames over 21 clips, the second of two dry instruments in 23-97%. Kept
#: for the onset-gated votes (:func:`foa_direct_weight`): 0 of 68 single sources split.
MIN_SOURCE_PEAK = {"phase": 0.3, "histogram": 0.5, "foa": 0.3}
#: Band (Hz) of the direct-to-reverberant estimate (:func:`direct_fraction`). Above
#: ~1.5 kHz a diffuse field is nearly incoherent between microphones 15-20 cm apart
#: (coherence ``sinc(2 f d / c)``), so what stays coherent is the direct sound.
DRR_BAND_HZ = (1500.0, 6000.0)
#: ... and for FOA, whose diffuse intensity averages out at any frequency.
DRR_BAND_FOA_HZ = (200.0, 8000.0)
#: Gaussian smoothing (deg) of the histogram maps of panned stereo and FOA.
HISTOGRAM_SIGMA_DEG = 3.0
#: Exponent of the FOA directness weight ``(||I|| / E)^p`` of a bin's vote. A bin where
#: the direct sound dominates has directness ~1; the reverb of a steady harmonic is a
#: fixed mix of independent channel responses (directness ~0.3-0.7 in simulation at
#: RT60 0.4 s), so a high power keeps mostly direct-path bins. Measured on 24 static
#: instruments at 3 m (RT60 0.4 s), mean |azimuth error| of the map's per-frame peak:
#: 3.2 deg at p = 8 (3 x 3-averaged ratio: p = 4 3.9, 8 4.1, 16 4.3 deg) against 9.2
#: deg for the magnitude-weighted votes with purity^16 used before.
DIRECTNESS_POWER = 8
#: Exponent of the FOA onset weight: a bin's vote is scaled by ``onset^q``, the share of
#: its energy that was not there one frame before (:func:`onset_share`). Beyond the
#: critical distance a steady note's reverb is a fixed, coherent copy of its direct
#: sound at the same frequency, so nothing in one bin tells them apart - but the reverb
#: lags: the direct sound of a new note (or of any rise in level) reaches the listener
#: first and the tail builds up over tens of ms (the precedence effect). Measured on 16
#: two-instrument rooms (RT60 0.4 s, 2.5-4.5 m, benchmark generator seeds 1-8): both
#: instruments found within 10 deg in 13 (q = 2; q = 1: 10; q = 4: 12, and two single
#: sources split in two) against 1 with directness alone (docs/hearing.md).
ONSET_POWER = 2
#: Exponent of the directness that lets a *steady* bin (no onset) vote anyway: a single
#: plane wave with a weaker coherent perturbation ``eps`` (amplitude ratio) has
#: directness ``1 - O(eps^2)``, so ``d^256`` (0.5 at ``1 - d = 0.0027``) keeps the bins
#: where one plane wave is ~25 dB above anything else in the bin: every bin of a dry
#: steady tone, a rare few of a reverberant one. Measured (same clips, plus 68 single
#: sources in rooms and outdoors, still and moving): 128 split two single sources into
#: two (a guitar between its plucks, a crossing helicopter: a reverberant harmonic's
#: fixed direction persists over frames) where 256 split none.
STEADY_POWER = 256
#: Phase maps (spaced, binaural): the weight of a bin with no onset, against 1 for a
#: bin whose energy is all new. Every usable bin weighs ``max(onset^q, floor)``
#: (:data:`ONSET_POWER`); each frame's map is normalised by its total weight, so a
#: frame of steady notes only (a dry organ) keeps its map as it was, while in a frame
#: with a new note the bins of that note's direct sound outweigh the steady bins, whose
#: phase in a room is the fixed mix of direct sound and reverb (the precedence effect,
#: as for FOA's :func:`foa_direct_weight`; two microphones have no per-bin directness
#: to let dry steady bins through instead). Measured with ``hear`` on the benchmark
#: generator's static scenes, seeds 1-5 (3-5 with 2 variants), binaural and spaced,
#: 96 single instruments and 64 pairs, before (all bins 1) -> floor 0.02 / 0.05 / 0.1 /
#: 0.25 / 0.5: pairs in rooms with both instruments within 10 deg 39 -> 43 / 43 / 44 /
#: 44 / 38 of 64, dry 41 -> 45 / 43 / 44 / 44 / 43; single instruments in rooms split
#: in two 10 -> 11 / 9 / 8 / 7 / 9 of 48 (dry 3 throughout). At 0.1 a steady engine
#: 3 m away in a reverberant room (RT60 0.8 s, binaural, -50 deg) became two sources
#: (an alternating partner whose onset share, 0.31, just passed MIN_ONSET_SHARE); at
#: 0.25 it stays one.
PHASE_STEADY_FLOOR = 0.25
#: Neighbourhood (bins, frames) over which intensity and energy are averaged before
#: their ratio is taken. No averaging measured best in the simulator, whose room
#: reverb is fixed per frequency for a steady note (averaging then mixes direct-path
#: bins with their reverberant neighbours).
DIRECTNESS_SMOOTH = (1, 1)
#: Frames over which a FOA source's weighted intensity is summed before its azimuth is
#: taken (:func:`foa_source_directions`): 0.2 s at the default hop. 3 frames left a
#: still cello in a room drifting by 30 deg (planned as moving); a source crossing at
#: 15 m/s, 10 m away, turns by ~17 deg in 0.2 s at most.
FOA_TRACK_SMOOTH_FRAMES = 8


#: Time over which phase maps are integrated before sources are followed
#: (:func:`integrate_map`): a talker 2-3 m from a dummy head in a room peaks at only
#: 0.03-0.3 of a clean source's height in any one 25 ms frame, often at the sides; a
#: walker turns by a few degrees in 0.4 s.
PHASE_INTEGRATION_S = 0.4


def integrate_map(
    direction_map: np.ndarray,
    frame_power: np.ndarray,
    hop_s: float,
    window_s: float = PHASE_INTEGRATION_S,
) -> np.ndarray:
    """Power-weighted moving average ``(T, A)`` of a per-frame map over ``window_s``."""
    n = max(1, round(window_s / hop_s))
    if n <= 1:
        return direction_map
    w = np.asarray(frame_power, dtype=np.float64)
    num = uniform_filter1d(direction_map * w[:, None], n, axis=0, mode="nearest")
    den = uniform_filter1d(w, n, mode="nearest")
    return (num / np.maximum(den, 1e-30)[:, None]).astype(direction_map.dtype)


def bin_weights(power: np.ndarray, freqs_hz: np.ndarray) -> np.ndarray:
    """Per-bin reliability ``(F, T)`` from the summed channel power ``(F, T)``.

    Magnitude (square root of power) gives loud bins more say without letting one
    strong harmonic dominate; bins far below the frame's peak are mostly noise. Bins
    below :data:`MIN_FREQ_HZ` (DC offset, rumble) carry no direction and are dropped
    before the peak is taken.
    """
    power = np.where((freqs_hz >= MIN_FREQ_HZ)[:, None], power, 0.0)
    peak = power.max(axis=0, keepdims=True)
    keep = power > peak * 10.0 ** (-BIN_RANGE_DB / 10.0)
    return np.where(keep, np.sqrt(power), 0.0).astype(np.float32)


def band_mask(freqs_hz: np.ndarray, layout: str) -> np.ndarray:
    """Bool ``(F,)``: the bins the layout's direction map uses."""
    lo_hz, hi_hz = MAP_BAND_HZ[layout]
    return (freqs_hz >= lo_hz) & (freqs_hz <= hi_hz)


def unit_cross_spectrum(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``L conj(R) / |L conj(R)|``: the PHAT-whitened cross-spectrum ``(F, T)``."""
    cross = left * np.conj(right)
    return (cross / np.maximum(np.abs(cross), 1e-20)).astype(np.complex64)


def phase_map(unit: np.ndarray, weights: np.ndarray, model_ipd_rad: np.ndarray) -> np.ndarray:
    """PHAT phase agreement ``(T, A)`` in [-1, 1] with a model IPD ``(A, F)``.

    ``sum_f w cos(ipd_observed - ipd_model) / sum_f w`` for every frame and azimuth as
    one complex matrix product (GCC-PHAT evaluated at the delays of the azimuth grid).
    ``weights`` ``(F, T)`` select the bins; plain PHAT (every usable bin weighs the same)
    was far more robust in reverberation than magnitude weights, which let the strong,
    room-coherent low frequencies dominate.

    >>> ipd = np.array([[0.0, 0.0], [np.pi, np.pi]])  # two directions, two bins
    >>> phase_map(np.ones((2, 1), complex), np.ones((2, 1)), ipd)
    array([[ 1., -1.]])
    """
    steer = np.exp(-1j * model_ipd_rad).astype(np.complex64)
    score = ((weights * unit).T @ steer.T).real  # (T, A)
    return score / np.maximum(weights.sum(axis=0), 1e-20)[:, None]


def spaced_ipd_rad(freqs_hz: np.ndarray, az_deg: np.ndarray, spacing_m: float) -> np.ndarray:
    """Model IPD ``(A, F)`` of a spaced pair (far field): the left mic leads a source on
    the left by ``spacing_m * sin(az) / c``."""
    delay_s = spacing_m * np.sin(np.radians(az_deg)) / SPEED_OF_SOUND_MPS
    return 2.0 * np.pi * delay_s[:, None] * freqs_hz[None, :]


def binaural_ild_edges_hz(sr: int) -> np.ndarray:
    """Band edges for ILD matching: half-octaves from 1.5 kHz to min(16 kHz, 0.45 sr)."""
    top = min(16000.0, 0.45 * sr)
    edges = 1500.0 * 2.0 ** (np.arange(0, 10) / 2.0)
    edges = edges[edges < top]
    return np.append(edges, top) if edges.size else edges


def band_ild_map(
    spec: np.ndarray, freqs_hz: np.ndarray, sr: int, ild_sigma_db: float = 3.0
) -> np.ndarray:
    """Gaussian agreement ``(T, 181)`` in [0, 1] of half-octave band ILDs with KEMAR.

    Sharpens lateral angles where the ITD saturates in a dry recording, but a room's
    diffuse field shrinks ILDs towards 0: in simulation (3 m, RT60 0.4 s) adding it to
    the phase map even at weight 0.5 pulled sources at +-60 deg to the centre, so
    :class:`DirectionFinder` leaves it out unless asked (``ild_weight``).
    """
    table = kemar_table()
    edges = binaural_ild_edges_hz(sr)
    if edges.size < 2:
        return np.zeros((spec.shape[2], STEREO_AZ_DEG.size))
    band = np.digitize(freqs_hz, edges) - 1
    power = spec.real**2 + spec.imag**2  # (2, F, T)
    band_power = np.stack(
        [power[:, band == b].sum(axis=1) for b in range(edges.size - 1)], axis=1
    )  # (2, B, T): a loop over a few bands, not over bins
    observed = 10.0 * np.log10((band_power[0] + 1e-20) / (band_power[1] + 1e-20))  # (B, T)
    usable = (band_power.min(axis=0) > 1e-14).astype(float)
    model = table.band_ild_db(edges)  # (A, B)
    misfit = observed.T[:, :, None] - model.T[None, :, :]  # (T, B, A)
    agree = np.exp(-0.5 * (misfit / ild_sigma_db) ** 2)
    return np.einsum("tba,bt->ta", agree, usable) / np.maximum(usable.sum(0), 1)[:, None]


def pan_to_azimuth_deg(
    left_mag: np.ndarray, right_mag: np.ndarray, span_deg: float = DEFAULT_PAN_SPAN_DEG
) -> np.ndarray:
    """Azimuth of a constant-power panned source from the two channel magnitudes.

    The constant-power law puts a source at pan angle ``theta`` in [0, pi/2] as
    ``left = cos(theta)``, ``right = sin(theta)``; ``theta = pi/4`` is the centre. The
    pan index ``1 - 4 theta / pi`` (+1 = hard left) scales linearly to ``span_deg``.

    >>> pan_to_azimuth_deg(np.array([1.0, 1.0, 0.0]), np.array([0.0, 1.0, 1.0]))
    array([ 90.,   0., -90.])
    """
    theta = np.arctan2(right_mag, left_mag)
    return (1.0 - 4.0 * theta / np.pi) * span_deg


def foa_intensity(spec: np.ndarray) -> np.ndarray:
    """Pseudo-intensity vectors ``(3, F, T)`` (x front, y left, z up) of AmbiX FOA.

    ``I = Re(conj(W) * [X, Y, Z])``; AmbiX channel order is W, Y, Z, X (SN3D), so a
    plane wave from azimuth ``az`` gives ``Y/W = sin(az)``, ``X/W = cos(az)``.
    """
    w = np.conj(spec[0])
    return np.stack([(w * spec[3]).real, (w * spec[1]).real, (w * spec[2]).real])


def foa_energy(spec: np.ndarray) -> np.ndarray:
    """Energy density ``(F, T)`` of AmbiX SN3D FOA, ``(|W|^2 + |X|^2 + |Y|^2 + |Z|^2) / 2``.

    In the units of :func:`foa_intensity`: a single plane wave has ``||I|| = E``.
    """
    return 0.5 * (spec.real**2 + spec.imag**2).sum(axis=0)


def foa_directness(
    intensity: np.ndarray,
    energy: np.ndarray,
    smooth: tuple[int, int] = DIRECTNESS_SMOOTH,
) -> np.ndarray:
    """Directness ``||<I>|| / <E>`` ``(F, T)`` in [0, 1] (1 - DirAC diffuseness).

    ``<.>`` averages over ``smooth`` = (bins, frames) neighbours. 1 for one plane wave;
    lower where reverb or a second source adds energy that flows in other directions
    (a diffuse field: 0 once averaged; a standing wave: 0 at once).

    >>> spec = np.zeros((4, 1, 1), complex); spec[0] = spec[3] = 1.0  # plane wave, front
    >>> foa_directness(foa_intensity(spec), foa_energy(spec)).round(3).tolist()
    [[1.0]]
    """
    n_bins, n_frames = smooth
    if n_bins > 1 or n_frames > 1:
        intensity = uniform_filter(intensity, size=(1, n_bins, n_frames), mode="nearest")
        energy = uniform_filter(energy, size=(n_bins, n_frames), mode="nearest")
    ratio = np.linalg.norm(intensity, axis=0) / np.maximum(energy, 1e-30)
    return np.clip(ratio, 0.0, 1.0)


def onset_share(energy: np.ndarray) -> np.ndarray:
    """Onset share ``(F, T)`` in [0, 1]: the part of each bin's energy that is new since
    the frame before, ``max(0, 1 - E[t-1] / E[t])`` (0 in the first frame).

    Reverb prolongs what was already sounding, so it holds little of a bin's energy
    while that energy rises; a steady or decaying bin scores 0.

    >>> onset_share(np.array([[1.0, 4.0, 4.0, 1.0]])).tolist()
    [[0.0, 0.75, 0.0, 0.0]]
    """
    before = np.concatenate([energy[:, :1], energy[:, :-1]], axis=1)
    return np.clip(1.0 - before / np.maximum(energy, 1e-30), 0.0, 1.0)


def _int_power(x: np.ndarray, n: int) -> np.ndarray:
    """``x ** n`` for a non-negative integer ``n`` by repeated squaring (several times
    faster than ``np.power`` on large float arrays)."""
    result, base = np.ones_like(x), x
    while n:
        if n & 1:
            result = result * base
        n >>= 1
        if n:
            base = base * base
    return result


def direct_weight(directness: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """``d^p * max(onset^q, d^s)`` per bin from the directness ``d`` and the onset share
    (see :func:`foa_direct_weight`)."""
    steady = _int_power(directness, STEADY_POWER)
    return _int_power(directness, DIRECTNESS_POWER) * np.maximum(
        _int_power(onset, ONSET_POWER), steady
    )


def foa_direct_weight(intensity: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """How surely each bin ``(F, T)`` holds one source's direct sound, in [0, 1]:
    ``d^p * max(onset^q, d^s)`` (:data:`DIRECTNESS_POWER`, :data:`ONSET_POWER`,
    :data:`STEADY_POWER`) from the directness ``d`` (:func:`foa_directness`) and the
    onset share (:func:`onset_share`).

    A bin counts if it is a plane wave and either new (an onset: the direct sound leads
    its reverb) or so exactly a plane wave that nothing else can be in it (a dry steady
    note). A reverberant steady note scores ~0 even where its fixed mix of direct sound
    and reverb happens to look fairly directional.

    >>> spec = np.zeros((4, 1, 3), complex); spec[0] = spec[3] = [0.1, 1.0, 1.0]
    >>> foa_direct_weight(foa_intensity(spec), foa_energy(spec)).round(2).tolist()
    [[1.0, 1.0, 1.0]]
    """
    return direct_weight(
        foa_directness(intensity, energy).astype(np.float32),
        onset_share(energy).astype(np.float32),
    )


def foa_source_directions(
    spec: np.ndarray,
    usable: np.ndarray,
    labels: np.ndarray,
    n_sources: int,
    smooth_frames: int = FOA_TRACK_SMOOTH_FRAMES,
    intensity: np.ndarray | None = None,
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Azimuth, elevation (deg) and confidence ``(K, T)`` of each FOA source.

    Each of the source's bins (``usable & labels == k``) contributes its intensity
    *direction* (a unit vector) weighted by how surely it holds direct sound
    (:func:`foa_direct_weight`: directness, onset), summed over the bins and over
    ``smooth_frames`` frames before the ``atan2``. Unit vectors stop one strong
    harmonic - whose reverb has a fixed, arbitrary intensity in a room - from
    outvoting the rest; the weight keeps the bins where the direct sound dominates.
    With two sources in a room it also keeps each source's estimate from being pushed
    away from the other: a source's bins are those nearer its direction than the
    other's, which cuts its reverb's spread of directions on one side only; the
    direct-sound bins that are left are concentrated at the source. Confidence is
    ``|sum I| / sum |I|`` of the source's bins (plain intensities): 1 for one plane
    wave, towards 0 in a diffuse field.

    Parameters
    ----------
    spec : np.ndarray
        ``(4, F, T)`` AmbiX STFT.
    usable : np.ndarray
        Bool ``(F, T)``: bins that carry a direction (band, level range).
    labels : np.ndarray
        ``(F, T)`` source index of every bin.
    n_sources : int
        Number of sources ``K``.
    smooth_frames : int
        Frames summed before the azimuth is taken.
    intensity, weight : np.ndarray or None
        :func:`foa_intensity` and :func:`foa_direct_weight` of ``spec`` if already
        computed (:class:`DirectionFinder` keeps both).
    """
    if intensity is None:
        intensity = foa_intensity(spec)
    if weight is None:
        weight = foa_direct_weight(intensity, foa_energy(spec))
    norm = np.linalg.norm(intensity, axis=0)
    unit = intensity * (weight / np.maximum(norm, 1e-30))
    shape = (n_sources, labels.shape[1])
    az, el, conf = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for k in range(n_sources):  # a few sources
        sel = usable & (labels == k)
        total = uniform_filter1d((unit * sel).sum(axis=1), smooth_frames, axis=1)  # (3, T)
        az[k] = np.degrees(np.arctan2(total[1], total[0]))
        el[k] = np.degrees(np.arctan2(total[2], np.hypot(total[0], total[1])))
        plain = (intensity * sel).sum(axis=1)
        conf[k] = np.linalg.norm(plain, axis=0) / np.maximum((norm * sel).sum(axis=0), 1e-20)
    return az, el, conf


def direct_fraction(
    spec: np.ndarray,
    freqs_hz: np.ndarray,
    layout: str,
    keep: np.ndarray,
    window_frames: int,
    model_ipd_rad: np.ndarray | None = None,
) -> np.ndarray:
    """Share ``(T,)`` in [0, 1] of a source's energy that arrives as one plane wave.

    The direct sound is coherent between channels; a room's diffuse reverb (and diffuse
    noise) is not, and averages out over ``window_frames`` frames and many bins. So the
    share is ``Gamma / (1 + Gamma)`` for a direct-to-reverberant ratio ``Gamma``, which
    falls with distance as ``1/r^2`` whatever the source's own loudness does
    (``docs/design.md``, "Distance and approach").

    - spaced/binaural: ``max_az Re sum L conj(R) exp(-i ipd(az)) / sum |L| |R|`` over the
      bins in ``keep`` within :data:`DRR_BAND_HZ` (the steered coherence; the best
      direction, so an elevated source that fits no horizontal IPD exactly still counts);
    - FOA: ``|sum I| / sum E`` (1 - DirAC diffuseness) within :data:`DRR_BAND_FOA_HZ`.

    Parameters
    ----------
    spec : np.ndarray
        ``(C, F, T)`` STFT.
    freqs_hz : np.ndarray
        ``(F,)`` bin frequencies.
    layout : str
        ``spaced``, ``binaural`` or ``foa``.
    keep : np.ndarray
        Bool ``(F, T)``: the source's bins.
    window_frames : int
        Frames averaged (a diffuse field needs many to cancel).
    model_ipd_rad : np.ndarray or None
        ``(A, F)`` model IPD of the stereo layout.
    """
    if layout == "foa":
        band = (freqs_hz >= DRR_BAND_FOA_HZ[0]) & (freqs_hz <= DRR_BAND_FOA_HZ[1])
        sel = keep[band]
        sub = spec[:, band]
        intensity = foa_intensity(sub) * sel  # (3, F_band, T)
        energy = 0.5 * (sub.real**2 + sub.imag**2).sum(axis=0) * sel
        num = np.linalg.norm(uniform_filter1d(intensity.sum(axis=1), window_frames, axis=1), axis=0)
        den = uniform_filter1d(energy.sum(axis=0), window_frames)
    else:
        band = (freqs_hz >= DRR_BAND_HZ[0]) & (freqs_hz <= DRR_BAND_HZ[1])
        sel = keep[band]
        left, right = spec[0, band], spec[1, band]
        cross = left * np.conj(right) * sel
        cross = uniform_filter1d(cross.real, window_frames, axis=1) + 1j * uniform_filter1d(
            cross.imag, window_frames, axis=1
        )
        if model_ipd_rad is None:
            raise ValueError(f"a {layout} recording needs its model IPD (model_ipd_rad)")
        steer = np.exp(-1j * model_ipd_rad[:, band]).astype(np.complex64)
        num = np.maximum((steer @ cross).real.max(axis=0), 0.0)
        den = uniform_filter1d((np.abs(left) * np.abs(right) * sel).sum(axis=0), window_frames)
    return np.clip(num / np.maximum(den, 1e-30), 0.0, 1.0)


def histogram_map(
    bin_az_deg: np.ndarray,
    weights: np.ndarray,
    az_grid_deg: np.ndarray,
    sigma_deg: float = HISTOGRAM_SIGMA_DEG,
    circular: bool = False,
) -> np.ndarray:
    """Per-frame weighted histogram ``(T, A)`` of per-bin azimuths ``(F, T)``, smoothed.

    Normalised by each frame's total weight: the height of a peak is the share of the
    frame's weight that points there (times the smoothing kernel's peak).
    """
    n_az = az_grid_deg.size
    step = az_grid_deg[1] - az_grid_deg[0]
    idx = np.rint((bin_az_deg - az_grid_deg[0]) / step).astype(np.int64)
    idx = idx % n_az if circular else np.clip(idx, 0, n_az - 1)
    n_frames = bin_az_deg.shape[1]
    flat = (np.arange(n_frames)[None, :] * n_az + idx).ravel()
    hist = np.bincount(flat, weights=weights.ravel(), minlength=n_frames * n_az)
    hist = hist.reshape(n_frames, n_az)
    half = int(np.ceil(3 * sigma_deg / step))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * step / sigma_deg) ** 2)
    hist = convolve1d(hist, kernel / kernel.sum(), axis=1, mode="wrap" if circular else "constant")
    return hist / np.maximum(weights.sum(axis=0), 1e-20)[:, None]


def angle_misfit(bin_az_deg: np.ndarray, source_az_deg: np.ndarray) -> np.ndarray:
    """Angular distance ``(K, F, T)`` in degrees between bin and source azimuths."""
    diff = bin_az_deg[None] - source_az_deg[:, None, :]
    return np.abs((diff + 180.0) % 360.0 - 180.0)


class DirectionFinder:
    """Direction maps and bin-to-direction fits of one recording, for its layout.

    Everything that does not depend on which bins are used (cross-spectra, steering
    matrices, per-bin azimuths) is computed once here.

    Parameters
    ----------
    spectrogram : Spectrogram
        STFT of all channels.
    layout : str
        ``spaced``, ``binaural``, ``panned`` or ``foa``.
    spacing_m : float
        Spacing of a spaced pair.
    pan_span_deg : float
        Azimuth of a hard-panned source.
    ild_weight : float
        Weight of the band-ILD term in binaural maps (0 = phase only, the default).
    low_band_only : bool
        Phase maps use bins below :data:`LOW_BAND_TOP_HZ` only: for recordings whose
        higher inter-channel time differences a lossy codec removed.
    """

    def __init__(
        self,
        spectrogram: Spectrogram,
        layout: str,
        spacing_m: float = DEFAULT_MIC_SPACING_M,
        pan_span_deg: float = DEFAULT_PAN_SPAN_DEG,
        ild_weight: float = 0.0,
        low_band_only: bool = False,
    ) -> None:
        self.layout = layout
        self.sg = spectrogram
        spec, freqs = spectrogram.spec, spectrogram.freqs_hz
        mix_power = spectrogram.power[0] if layout == "foa" else spectrogram.power.mean(axis=0)
        self.weights = bin_weights(mix_power, freqs)
        self.band = band_mask(freqs, layout)
        if low_band_only and layout in ("spaced", "binaural"):
            self.band &= freqs <= LOW_BAND_TOP_HZ
        self.circular = layout == "foa"
        self.grid = FOA_AZ_DEG if self.circular else STEREO_AZ_DEG
        self.ild_map = None
        if layout in ("spaced", "binaural"):
            self.perfect = 1.0  # a single clean source scores 1 at its direction
            self.min_source_peak = MIN_SOURCE_PEAK["phase"] * self.perfect
            if layout == "spaced":
                self.model_ipd = spaced_ipd_rad(freqs, STEREO_AZ_DEG, spacing_m).astype(np.float32)
            else:
                self.model_ipd = kemar_table().ipd_at(freqs).astype(np.float32)
                if ild_weight > 0:
                    self.ild_map = ild_weight * band_ild_map(spec, freqs, spectrogram.sr)
            sel = self.band
            self.unit = unit_cross_spectrum(spec[0, sel], spec[1, sel])
            # Onset share of the mixture's power in the map band: the onset map's
            # weights, and (with a floor) every phase map's (PHASE_STEADY_FLOOR).
            onset = _int_power(
                onset_share(spectrogram.power.mean(axis=0)[sel]).astype(np.float32),
                ONSET_POWER,
            )
            self.band_onset = onset
            self.band_gate = np.maximum(onset, np.float32(PHASE_STEADY_FLOOR))
            self.band_ipd = self.model_ipd[:, sel]
            self.observed_ipd = np.angle(spec[0] * np.conj(spec[1])).astype(np.float32)
        else:
            # Histogram maps: a source on one grid point scores the kernel's peak.
            self.perfect = 1.0 / (np.sqrt(2.0 * np.pi) * HISTOGRAM_SIGMA_DEG)
            kind = "foa" if layout == "foa" else "histogram"
            self.min_source_peak = MIN_SOURCE_PEAK[kind] * self.perfect
            if layout == "panned":
                self.bin_az = pan_to_azimuth_deg(np.abs(spec[0]), np.abs(spec[1]), pan_span_deg)
                # One panned source per bin keeps the channels in phase; overlap does not.
                cross = spec[0] * np.conj(spec[1])
                purity = np.maximum(cross.real, 0.0) / np.maximum(np.abs(cross), 1e-20)
                vote = self.weights * purity**PURITY_POWER
            else:
                intensity = foa_intensity(spec)
                self.intensity = intensity
                self.bin_az = np.degrees(np.arctan2(intensity[1], intensity[0]))
                # One vote per usable bin, scaled by how surely it holds direct sound:
                # magnitude weights let a few strong harmonics - whose reverb has a fixed
                # intensity in a room - pull the peak 20-40 deg off; diffuse noise bins
                # have low directness, so equal votes do not drown a quieter dry source;
                # the onset term keeps a reverberant steady note's bins out.
                energy = foa_energy(spec)
                self.directness = foa_directness(intensity, energy).astype(np.float32)
                self.onset = onset_share(energy).astype(np.float32)
                self.direct_weight = direct_weight(self.directness, self.onset)
                vote = (self.weights > 0) * self.direct_weight
            self.vote = np.where(self.band[:, None], vote, 0.0)

    def map(self, keep: np.ndarray | None = None) -> np.ndarray:
        """Direction map ``(T, A)`` of the bins in ``keep`` ``(F, T)`` (all if None)."""
        if self.layout in ("spaced", "binaural"):
            usable = self.weights[self.band] > 0
            if keep is not None:
                usable = usable & keep[self.band]
            score = phase_map(self.unit, usable * self.band_gate, self.band_ipd)
            return score if self.ild_map is None else score + self.ild_map
        vote = self.vote if keep is None else self.vote * keep
        return histogram_map(self.bin_az, vote, self.grid, circular=self.circular)

    def onset_map(self) -> np.ndarray | None:
        """Direction map ``(A,)`` of the clip's onsets, pooled over all frames.

        Every usable bin votes with its onset share squared (:func:`onset_share` of the
        mixture's power, :data:`ONSET_POWER`): the direct sound of a new note or of a
        rise in level arrives before its reverb, so these bins point at their source
        even beyond the critical distance, where a steady note's bins point wherever
        the room's fixed mix of direct sound and reverb puts them. Phase maps: the
        PHAT agreement summed over the bins and frames; FOA: the histogram of the
        bins' intensity azimuths, weighted by directness^p x onset^q (without the
        steady term of :func:`foa_direct_weight`). Normalised by the total onset
        weight, so a single source scores ~1 at its direction (FOA: the kernel peak).
        """
        if self.layout in ("spaced", "binaural"):
            usable = self.weights[self.band] > 0
            gate = usable * self.band_onset
            steer = np.exp(-1j * self.band_ipd).astype(np.complex64)
            pooled = ((gate * self.unit).sum(axis=1) @ steer.T).real
            return pooled / max(float(gate.sum()), 1e-20)
        if self.layout != "foa":
            return None  # panned: level differences, no precedence to use
        # The votes of the map without their steady term, from the bins' stored
        # directness and onset share.
        onset = _int_power(self.onset, ONSET_POWER)
        directness = _int_power(self.directness, DIRECTNESS_POWER)
        vote = (self.weights > 0) * self.band[:, None] * directness * onset
        # All bins of all frames in one histogram ("frame").
        return histogram_map(
            self.bin_az.reshape(-1, 1), vote.reshape(-1, 1), self.grid, circular=True
        )[0]

    def misfit(self, source_az_deg: np.ndarray, band_only: bool = False) -> np.ndarray:
        """How badly each bin fits each source, ``(K, F, T)`` (lower is better).

        ``source_az_deg`` is ``(K, T)``; with ``band_only`` only the map band's bins
        are scored (``(K, F_band, T)``). Panned/FOA: angle between the bin's azimuth and
        the source's. Spaced/binaural: ``1 - cos`` of the phase misfit; binaural bins
        above 6 kHz use the ILD misfit against KEMAR (in units of 10 dB) instead.
        """
        rows = self.band if band_only else slice(None)
        if self.layout in ("panned", "foa"):
            return angle_misfit(self.bin_az[rows], source_az_deg)
        az_idx = np.rint(source_az_deg - STEREO_AZ_DEG[0]).astype(int)
        az_idx = np.clip(az_idx, 0, STEREO_AZ_DEG.size - 1)
        observed, model = self.observed_ipd[rows], self.model_ipd[:, rows]
        misfit = np.stack(
            [1.0 - np.cos(observed - model[idx].T) for idx in az_idx]
        )  # a few sources: one (F, T) array each
        if self.layout == "binaural" and not band_only:
            freqs, spec = self.sg.freqs_hz, self.sg.spec
            high = freqs > MAP_BAND_HZ["binaural"][1]
            if high.any():
                table = kemar_table()
                model_ild = interp_rows(table.left_db - table.right_db, table.freqs_hz, freqs)
                power = spec[:, high].real ** 2 + spec[:, high].imag ** 2
                observed_ild = 10.0 * np.log10((power[0] + 1e-20) / (power[1] + 1e-20))
                for k, idx in enumerate(az_idx):
                    misfit[k, high] = np.abs(observed_ild - model_ild[idx][:, high].T) / 10.0
        return misfit

    def fits(self, source_az_deg: np.ndarray) -> np.ndarray:
        """Bool ``(F, T)``: in-band bins that fit at least one source at ``source_az_deg``
        ``(K, T)`` (bins outside the map band are False).

        The phase tolerance is :data:`FIT_DELAY_S` as a delay, so at low frequencies,
        where every direction has nearly the same phase, only a close direction fits.
        """
        fits = np.zeros(self.weights.shape, dtype=bool)
        misfit = self.misfit(source_az_deg, band_only=True).min(axis=0)
        if self.layout in ("panned", "foa"):
            fits[self.band] = misfit <= FIT_ANGLE_DEG
            return fits
        freqs = self.sg.freqs_hz[self.band]
        tolerance_rad = np.minimum(np.pi / 3.0, 2.0 * np.pi * freqs * FIT_DELAY_S)
        fits[self.band] = misfit <= (1.0 - np.cos(tolerance_rad))[:, None]
        return fits

    def residual(self, source_az_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map ``(T, A)`` of the bins that fit no source at ``source_az_deg`` ``(K, T)``,
        and the share ``(T,)`` of each frame's in-band bin weight they hold."""
        left = ~self.fits(source_az_deg)  # out-of-band bins do not enter the map anyway
        weights = self.weights * self.band[:, None]
        share = (weights * left).sum(axis=0) / np.maximum(weights.sum(axis=0), 1e-20)
        return self.map(left), share
