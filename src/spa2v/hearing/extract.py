"""``hear``: from a :class:`~spa2v.io.signal.Signal` to per-source cue tracks (the audio
of each source, for the tagger, is :mod:`spa2v.hearing.separation`'s).

Steps (``docs/design.md``, Stage 1):

1. one STFT on the cue hop grid (:mod:`spa2v.hearing.spectral`);
2. a direction map per frame for the channel layout (:mod:`spa2v.hearing.direction`);
3. sources = directions that hold map peaks in many frames, followed frame by frame,
   time-frequency bins split between them (:mod:`spa2v.hearing.sources`);
4. per source: loudness, activity, confidence, distance proxy, tonal pitch, spectral
   centroid, motion summaries and the Doppler speed (:mod:`~spa2v.hearing.motion`,
   :mod:`~spa2v.hearing.pitch`).
"""

from __future__ import annotations

import numpy as np

from spa2v.errors import AudioInputError, Spa2vError
from spa2v.hearing import direction as dirn
from spa2v.hearing.cues import Cues, CueTrack
from spa2v.hearing.motion import (
    depth_motion,
    distance_proxy,
    fill_inactive,
    lateral_motion,
)
from spa2v.hearing.pitch import fit_passby, pitch_change_ratio, tonal_track
from spa2v.hearing.sources import find_source_azimuths, nearest_source, track_sources
from spa2v.hearing.spectral import (
    Spectrogram,
    frame_level_db,
    power_to_db,
    spectral_centroid_hz,
    stft,
    window_coverage,
)
from spa2v.hearing.stereo_kind import StereoAnalysis, analyse_stereo
from spa2v.io.signal import Signal

#: Below this peak frame level (dBFS) a recording counts as silent.
SILENCE_DB = -75.0
#: Frames more than this below the loudest frame are inactive.
ACTIVITY_RANGE_DB = 45.0
#: A separated source is active only within this range below the mixture.
SOURCE_IN_MIX_DB = 20.0
#: Frames averaged by the direct-to-reverberant estimate (0.5 s at the default hop).
DRR_WINDOW_S = 0.5
#: A source whose median direct-to-reverberant ratio is below this (dB) is heard
#: through a room (or a lot of noise): its distance follows from the DRR, not the level.
REVERBERANT_DRR_DB = 10.0
#: Spacings (m) accepted from users (phones and cameras: 8-30 cm).
MIC_SPACING_RANGE_M = (0.02, 2.0)
#: A pitch fall smaller than this is no evidence of a pass-by (about 1.7 m/s).
MIN_DOPPLER_RATIO = 0.01

_CHANNELS = {"mono": 1, "stereo": 2, "spaced": 2, "panned": 2, "binaural": 2, "foa": 4}


def _check(signal: Signal, hop_s: float, max_sources: int) -> None:
    expected = _CHANNELS.get(signal.layout)
    if expected is None:
        raise AudioInputError(
            f"unknown channel layout {signal.layout!r}: use one of {', '.join(_CHANNELS)}"
        )
    if signal.samples.ndim != 2 or signal.n_channels != expected:
        raise AudioInputError(
            f"layout {signal.layout!r} needs {expected} channel(s), the signal has "
            f"{signal.samples.shape[0] if signal.samples.ndim == 2 else 'no'}: "
            "pass the right --layout"
        )
    if not 0.001 <= hop_s <= 1.0:
        raise Spa2vError(f"hop {hop_s} s is out of range: use 0.001-1.0 s (e.g. 0.025)")
    if max_sources < 1:
        raise Spa2vError(f"max_sources must be at least 1 (got {max_sources})")


def _mixture_power(spectrogram: Spectrogram, layout: str) -> np.ndarray:
    """Power ``(F, T)`` of what a single microphone would hear (W for FOA)."""
    power = spectrogram.power
    return power[0] if layout == "foa" else power.mean(axis=0)


def hear(
    signal: Signal,
    hop_s: float = 0.025,
    max_sources: int = 3,
    *,
    mic_spacing_m: float | None = None,
    pan_span_deg: float = dirn.DEFAULT_PAN_SPAN_DEG,
    yaw_deg: float = 0.0,
) -> Cues:
    """Cue tracks of up to ``max_sources`` sources (labels are left empty for tagging).

    Parameters
    ----------
    signal : Signal
        Any sample rate (8-192 kHz) and layout; ``mono`` gives azimuth 0 with
        confidence 0, loudness and pitch cues only.
    hop_s : float
        Frame hop in seconds; frame ``k`` is centred at ``k * hop_s``.
    max_sources : int
        Most sources to separate.
    mic_spacing_m : float or None
        Spacing of a spaced microphone pair (phones/cameras: 8-30 cm). None: the
        largest of :data:`~spa2v.hearing.direction.DEFAULT_MIC_SPACING_M` and the
        spacing the recording's largest time differences need (:func:`spacing_for`).
    pan_span_deg : float
        Azimuth of a hard-panned source in panned stereo.
    yaw_deg : float
        FOA only: the camera looks this far to the left of the recording's front
        (azimuths come out relative to the view).

    Returns
    -------
    Cues
        One :class:`CueTrack` per source, strongest first; ``warnings`` holds the
        signal's own warnings plus hearing's (e.g. silence -> no sources).

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.standard_normal(16000).astype(np.float32) * 0.1
    >>> cues = hear(Signal(np.stack([noise, 0.5 * noise]), 16000, "panned"))  # left louder
    >>> len(cues.sources), round(float(np.median(cues.sources[0].azimuth_deg)))
    (1, 37)
    """
    _check(signal, hop_s, max_sources)
    _check_direction_options(signal.layout, mic_spacing_m, yaw_deg)
    warnings = list(signal.warnings)
    samples = signal.samples
    if yaw_deg:
        samples = rotate_foa(samples, yaw_deg)
    if not np.all(np.isfinite(samples)):
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
        warnings.append("non-finite samples were replaced by 0 / +-1")
    spectrogram = stft(samples, signal.sr, hop_s)
    layout, stereo = stereo_layout(signal.layout, samples, signal.sr, spectrogram)
    lateral_info = stereo is None or stereo.lateral_info
    if stereo is not None and not stereo.lateral_info:
        warnings.append(f"{_name(signal)}: {stereo.evidence}; objects are placed by priors")
    elif stereo is not None and stereo.high_band_flattened:
        warnings.append(
            f"{_name(signal)} looks lossy-coded: its time differences above 1.5 kHz are "
            "gone, so directions come from the low band only and are less sure"
        )
    times = spectrogram.times_s
    mix_power = _mixture_power(spectrogram, layout)
    # Edge frames hang over the ends of the signal: correct their level.
    edge_db = -power_to_db(window_coverage(samples.shape[1], spectrogram.hop, spectrogram.n_fft))
    mix_db = frame_level_db(mix_power, spectrogram.n_fft) + edge_db
    peak_db = float(mix_db.max()) if mix_db.size else -np.inf
    cues = Cues(
        duration_s=signal.duration_s,
        sr=signal.sr,
        layout=layout,
        hop_s=hop_s,
        sources=[],
        audio_path=signal.source if signal.source != "<memory>" else None,
        warnings=warnings,
        lateral_info=lateral_info,
        stereo=None if stereo is None else stereo.to_dict(),
        mic_spacing_m=spacing_for(stereo, mic_spacing_m) if layout == "spaced" else None,
        yaw_deg=yaw_deg if layout == "foa" else None,
    )
    if peak_db < SILENCE_DB:
        cues.warnings.append(
            f"silence: the loudest frame is {peak_db:.0f} dBFS (< {SILENCE_DB:.0f}); "
            "no sources found"
        )
        return cues
    active = mix_db >= max(SILENCE_DB, peak_db - ACTIVITY_RANGE_DB)

    if layout == "mono" or not lateral_info:
        az = np.zeros((1, times.size))
        confidence = np.zeros((1, times.size))
        labels = np.zeros(mix_power.shape, dtype=int)
    else:
        finder = dirn.DirectionFinder(
            spectrogram,
            layout,
            cues.mic_spacing_m or dirn.DEFAULT_MIC_SPACING_M,
            pan_span_deg,
            low_band_only=stereo is not None and stereo.high_band_flattened,
        )
        dmap = finder.map()
        centres = find_source_azimuths(
            dmap,
            finder.grid,
            active,
            max_sources,
            finder.residual,
            finder.min_source_peak,
            finder.circular,
            onset_map=finder.onset_map,
        )
        if layout in ("spaced", "binaural"):
            # Followed on the map integrated over time: a distant talker's direct sound
            # is a weak peak in any one frame (sources are found on the per-frame map,
            # where two instruments taking turns show up as alternating peaks).
            dmap = dirn.integrate_map(dmap, mix_power.sum(axis=0) * active, hop_s)
        az, height = track_sources(dmap, finder.grid, centres, finder.circular)
        confidence = np.clip(height / finder.perfect, 0.0, 1.0)
        if centres.size > 1:
            labels = nearest_source(finder.misfit(az))
        else:
            labels = np.zeros(mix_power.shape, dtype=int)

    direct_db: list[np.ndarray | None] = [None] * az.shape[0]
    if layout in ("spaced", "binaural", "foa") and lateral_info:
        window = max(3, round(DRR_WINDOW_S / hop_s))
        usable = finder.weights > 0
        model = None if layout == "foa" else finder.model_ipd
        for k in range(az.shape[0]):
            share = dirn.direct_fraction(
                spectrogram.spec,
                spectrogram.freqs_hz,
                layout,
                usable & (labels == k),
                window,
                model,
            )
            direct_db[k] = drr_db(share)

    elevation = None
    if layout == "foa":
        az, elevation, confidence = _foa_refine(finder, labels, az.shape[0])

    for k in range(az.shape[0]):
        source_power = np.where(labels == k, mix_power, 0.0)
        level = frame_level_db(source_power, spectrogram.n_fft) + edge_db
        if az.shape[0] == 1:
            source_active = active
        else:
            source_active = (
                active
                & (level >= max(SILENCE_DB, level.max() - ACTIVITY_RANGE_DB))
                & (level >= mix_db - SOURCE_IN_MIX_DB)
            )
        if not source_active.any():
            continue
        cues.sources.append(
            _track(
                len(cues.sources),
                times,
                hop_s,
                source_power,
                spectrogram.freqs_hz,
                level,
                source_active,
                az[k],
                confidence[k],
                None if elevation is None else elevation[k],
                direct_db[k],
            )
        )
    return cues


def spacing_for(stereo: StereoAnalysis | None, given_m: float | None) -> float:
    """The spacing (m) a spaced pair is heard with: the one given, else the largest of
    :data:`~spa2v.hearing.direction.DEFAULT_MIC_SPACING_M` and what the recording's
    largest time differences need (a pair ``d`` apart cannot delay a sound by more than
    ``d / c``).

    >>> spacing_for(None, 0.2), spacing_for(None, None)
    (0.2, 0.15)
    """
    if given_m is not None:
        return given_m
    needed_m = 0.0 if stereo is None else stereo.largest_delay_s * dirn.SPEED_OF_SOUND_MPS
    return round(max(dirn.DEFAULT_MIC_SPACING_M, needed_m), 3)


def rotate_foa(samples: np.ndarray, yaw_deg: float) -> np.ndarray:
    """AmbiX FOA ``(4, N)`` (W, Y, Z, X) turned so that azimuth ``yaw_deg`` (positive =
    left) becomes the front: a source at azimuth ``a`` comes out at ``a - yaw_deg``.

    >>> wave = np.array([[1.0], [1.0], [0.0], [0.0]])  # a plane wave from the left
    >>> rotate_foa(wave, 90.0).round(6).ravel().tolist()  # now straight ahead
    [1.0, 0.0, 0.0, 1.0]
    """
    yaw = np.radians(yaw_deg)
    out = np.array(samples, dtype=np.float32, copy=True)
    y, x = samples[1], samples[3]
    out[3] = np.cos(yaw) * x + np.sin(yaw) * y
    out[1] = np.cos(yaw) * y - np.sin(yaw) * x
    return out


def _check_direction_options(layout: str, mic_spacing_m: float | None, yaw_deg: float) -> None:
    if (
        mic_spacing_m is not None
        and not MIC_SPACING_RANGE_M[0] <= mic_spacing_m <= MIC_SPACING_RANGE_M[1]
    ):
        raise Spa2vError(
            f"microphone spacing {mic_spacing_m:g} m is out of range: use "
            f"{MIC_SPACING_RANGE_M[0]:g}-{MIC_SPACING_RANGE_M[1]:g} m (phones: ~0.1-0.2)"
        )
    if yaw_deg and layout != "foa":
        raise Spa2vError(
            f"a view direction (yaw {yaw_deg:g} deg) needs a 4-channel FOA recording, "
            f"not {layout if layout != 'stereo' else 'a stereo'} one"
        )
    if not -180.0 <= yaw_deg <= 180.0:
        raise Spa2vError(f"yaw {yaw_deg:g} deg is out of range: use -180 to 180")


def stereo_layout(
    layout: str, samples: np.ndarray, sr: int, spectrogram: Spectrogram | None = None
) -> tuple[str, StereoAnalysis | None]:
    """The layout hearing uses and, for two channels, what they tell
    (:func:`~spa2v.hearing.stereo_kind.analyse_stereo`).

    ``"stereo"`` (kind not given) becomes the detected kind; a kind the user gave is
    kept, but a dual-mono file still has no left/right information whatever it is
    called. ``spectrogram``: the samples' STFT if already computed (reused when its hop
    is the analysis's).
    """
    if samples.shape[0] != 2 or layout not in ("stereo", "spaced", "panned", "binaural"):
        return layout, None
    analysis = analyse_stereo(samples, sr, spectrogram)
    return (analysis.kind if layout == "stereo" else layout), analysis


def _name(signal: Signal) -> str:
    return signal.source if signal.source != "<memory>" else "the recording"


def _foa_refine(
    finder: dirn.DirectionFinder, labels: np.ndarray, n_sources: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Azimuth, elevation and confidence ``(K, T)`` of FOA sources from their bins'
    intensity directions, weighted as the map's votes (directness and onset,
    :func:`direction.foa_source_directions`: robust to the fixed-direction reverb of a
    few loud harmonics in a room)."""
    usable = (finder.weights > 0) & finder.band[:, None]
    return dirn.foa_source_directions(
        finder.sg.spec,
        usable,
        labels,
        n_sources,
        intensity=finder.intensity,
        weight=finder.direct_weight,
    )


def _track(
    source_id: int,
    times_s: np.ndarray,
    hop_s: float,
    power: np.ndarray,
    freqs_hz: np.ndarray,
    level_db: np.ndarray,
    active: np.ndarray,
    azimuth_deg: np.ndarray,
    confidence: np.ndarray,
    elevation_deg: np.ndarray | None,
    direct_db: np.ndarray | None = None,
) -> CueTrack:
    """Assemble one source's :class:`CueTrack` and its motion summaries.

    ``direct_db`` is the direct-to-reverberant ratio per frame (None for mono/panned);
    where it is low (a room), distance and depth motion follow from it rather than
    from the level (:func:`spa2v.hearing.motion.distance_proxy`).
    """
    confidence = np.where(active, confidence, 0.0)
    azimuth_deg = fill_inactive(azimuth_deg, active)
    if elevation_deg is not None:
        elevation_deg = fill_inactive(elevation_deg, active)
    pitch = tonal_track(power, freqs_hz, active)
    centroid = np.where(active, spectral_centroid_hz(power, freqs_hz), np.nan)
    track = CueTrack(
        source_id=source_id,
        times_s=times_s,
        active=active,
        loudness_db=level_db,
        azimuth_deg=azimuth_deg,
        azimuth_confidence=confidence,
        elevation_deg=elevation_deg,
        distance_proxy=distance_proxy(level_db, active, hop_s, direct_db, REVERBERANT_DRR_DB),
        pitch_hz=pitch,
        spectral_centroid_hz=centroid,
    )
    track.lateral_motion = lateral_motion(azimuth_deg, confidence, active)
    track.depth_motion = depth_motion(level_db, active, hop_s)
    track.pitch_change_ratio = pitch_change_ratio(pitch)
    moving = track.lateral_motion != "static" or track.depth_motion != "static"
    ratio = track.pitch_change_ratio
    # Only a moving source whose pitch falls can be a pass-by (Doppler always lowers it).
    if moving and ratio is not None and ratio <= -MIN_DOPPLER_RATIO:
        fit = fit_passby(times_s, pitch)
        if fit is not None and fit.rms_error_hz < 0.01 * fit.f0_hz:
            track.speed_mps = round(fit.speed_mps, 2)
    return track


def drr_db(direct_share: np.ndarray) -> np.ndarray:
    """Direct-to-reverberant ratio (dB) from the direct share ``Gamma / (1 + Gamma)``,
    limited to -30..+30 dB (beyond, the estimate is noise).

    >>> drr_db(np.array([0.5, 0.0])).round(1)
    array([  0., -30.])
    """
    share = np.clip(direct_share, 1e-3, 1.0 - 1e-3)
    return 10.0 * np.log10(share / (1.0 - share))
