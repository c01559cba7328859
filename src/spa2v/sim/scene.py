"""Scenes: sources on trajectories, rendered to a recording plus ground truth.

>>> from spa2v.sim import SceneSpec, SourceSpec, Static, simulate
>>> res = simulate(SceneSpec([SourceSpec("noise", Static(30.0, 3.0))],
...                          format="spaced", duration_s=0.5))
>>> res.signal.samples.shape, round(float(res.truth[0].azimuth_deg.mean()), 1)
((2, 24000), 30.0)

Geometry (``spa2v.camera``, ``docs/design.md``): the listener's head centre, the
microphones and the camera are at ``(0, 0, 1.5)`` (forward, left, up); azimuth is
positive to the LEFT. Channel order: stereo channel 0 = LEFT; FOA is AmbiX
(ACN W, Y, Z, X; SN3D).

Per format (each source is propagated with a time-varying delay, see
:mod:`spa2v.sim.propagation`):

* ``mono``: one omni at the head centre.
* ``spaced``: two omni microphones ``mic_spacing_m`` apart on the left-right axis,
  each with its own delay and 1/r.
* ``binaural``: the head-centre signal filtered with head-related impulse responses,
  cross-faded every ``hrir_block_s`` (:mod:`spa2v.sim.hrtf`): of a rigid sphere of
  ``head_radius_m`` with ears at ``+-ear_angle_deg`` (``head="sphere"``, the default,
  :mod:`spa2v.sim.sphere`) or of MIT KEMAR (``head="kemar"``: the head the estimator's
  lookup table is built from, so only on request, to check the estimator on its own
  model).
* ``panned``: amplitude panning of the head-centre signal with ``pan_law``
  (:data:`PAN_LAWS`): ``p = clip(az / pan_span_deg, -1, 1)`` (sources behind are folded
  to the front), constant power ``gL = cos((1 - p) pi / 4)``, ``gR = sin((1 - p) pi /
  4)``, linear ``(1 +- p) / 2``, or their geometric mean (-4.5 dB at the centre). No
  inter-channel delay.
* ``foa``: AmbiX first order, SN3D: ``W = s``, ``Y = s sin(az) cos(el)``,
  ``Z = s sin(el)``, ``X = s cos(az) cos(el)``.

Room (``rt60_s``): a diffuse late tail (:mod:`spa2v.sim.room`) and, with
``reflections=True`` (default), discrete early reflections from image sources
(:mod:`spa2v.sim.reflections`): a shoe-box room indoors, the ground and a facade
outdoors (``environment``).

Recording chain, applied to the mix in this order: ``gain_imbalance_db`` (left louder
by that much than right, split over both channels; stereo formats), ``dual_mono``
(both channels replaced by their mean), a lossy ``codec`` round trip at
``codec_bitrate_kbps`` (:mod:`spa2v.sim.codec`; stereo formats). Every condition of a
clip is in :meth:`SceneSpec.conditions` and the written ground truth.

Levels: ``level_db`` is the RMS level (dBFS) of the source's direct sound at 1 m on
the reference channel, so a source at ``r`` m arrives ``20 log10(r)`` dB lower. The
mix is scaled down (and a warning added to the signal) only if it would clip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from spa2v.camera import CAMERA_HEIGHT_M, Box, Position, project_box
from spa2v.errors import Spa2vError
from spa2v.io.signal import ChannelLayout, Signal
from spa2v.nouns import noun_info
from spa2v.sim import codec as _codec
from spa2v.sim import hrtf as _hrtf
from spa2v.sim import reflections as _reflections
from spa2v.sim import room as _room
from spa2v.sim._util import SPEED_OF_SOUND, resample
from spa2v.sim.propagation import emission_times, propagate
from spa2v.sim.sources import SOURCES, dry_source, fit_length
from spa2v.sim.trajectory import Static, Trajectory, crossing, radial

__all__ = [
    "FORMATS",
    "HEADS",
    "PAN_LAWS",
    "STEREO_FORMATS",
    "SceneSpec",
    "SimResult",
    "SourceSpec",
    "SourceTruth",
    "noun_size",
    "simulate",
    "simulate_pass",
    "simulate_radial",
    "simulate_static",
]

FORMATS = ("binaural", "spaced", "panned", "foa", "mono")
STEREO_FORMATS = ("binaural", "spaced", "panned")
HEADS = ("sphere", "kemar")
#: Amplitude pan laws: level of a centred source per channel.
PAN_LAWS = ("sin-cos", "-4.5dB", "linear")
N_CHANNELS = {"binaural": 2, "spaced": 2, "panned": 2, "foa": 4, "mono": 1}
LISTENER = np.array([0.0, 0.0, CAMERA_HEIGHT_M])


def noun_size(noun: str) -> tuple[float, float, bool]:
    """(width_m, height_m, flying) of a visual noun, from the noun table
    (:func:`spa2v.nouns.noun_info`; 1 m x 1 m, not flying, for an unknown noun)."""
    info = noun_info(noun)
    return float(info.width_m), float(info.height_m), bool(info.flying)


# ---------------------------------------------------------------------------
# Specs
# ---------------------------------------------------------------------------


@dataclass
class SourceSpec:
    """One sound source in a scene.

    ``clip`` names a dry source of :data:`spa2v.sim.sources.SOURCES` (``"piano"``,
    ``"bus"``, ``"engine"``, ``"tone"``...), or any label when ``samples`` gives the dry
    audio directly (mono, at ``samples_sr``). ``noun``/``audio_label``/``width_m``/
    ``height_m``/``emitter_height_m`` default to the registry entry and the noun table.
    ``level_db``: direct-sound RMS (dBFS) at 1 m. The source sounds between ``start_s``
    and ``end_s`` (scene time at the source, default: always).
    """

    clip: str = "noise"
    trajectory: Trajectory = field(default_factory=lambda: Static(0.0, 3.0))
    noun: str | None = None
    audio_label: str | None = None
    width_m: float | None = None
    height_m: float | None = None
    level_db: float = -20.0
    emitter_height_m: float | None = None
    start_s: float | None = None
    end_s: float | None = None
    offset_s: float = 0.0
    params: dict = field(default_factory=dict)
    samples: np.ndarray | None = None
    samples_sr: int | None = None
    motion: str | None = None

    def resolved(self) -> dict[str, Any]:
        info = SOURCES.get(self.clip)
        noun = self.noun or (info.noun if info else self.clip)
        w, h, flying = noun_size(noun)
        return {
            "noun": noun,
            "audio_label": self.audio_label or (info.audio_label if info else self.clip),
            "accept_labels": info.accept_labels if info else (),
            "width_m": float(self.width_m if self.width_m is not None else w),
            "height_m": float(self.height_m if self.height_m is not None else h),
            "flying": flying,
            "emitter_height_m": float(
                self.emitter_height_m
                if self.emitter_height_m is not None
                else (info.emitter_height_m if info else 1.0)
            ),
        }


@dataclass
class SceneSpec:
    """A scene to simulate. ``format`` is one of :data:`FORMATS`; ``rt60_s`` adds room
    reverb (``room_volume_m3`` sets the critical distance; ``reflections`` adds early
    reflections from image sources of a room indoors, of the ground and a facade
    outdoors), ``snr_db`` diffuse pink background noise. ``head`` (:data:`HEADS`),
    ``head_radius_m`` and ``ear_angle_deg`` choose the binaural head, ``mic_spacing_m``
    the spaced pair, ``pan_law`` (:data:`PAN_LAWS`) and ``pan_span_deg`` the panning.
    ``gain_imbalance_db``, ``dual_mono`` and ``codec`` (``"mp3"``, ``"aac"``,
    ``"vorbis"`` or None) at ``codec_bitrate_kbps`` degrade a stereo recording as a
    real recording chain does. The defaults are deliberately none of the estimator's
    own models (a spherical head, not KEMAR; 0.2 m, not 0.15 m; the -4.5 dB pan law, not
    constant power; early reflections in rooms), so that tests check the estimator on
    recordings it was not built from. Everything random derives from ``seed``."""

    sources: list[SourceSpec]
    format: str = "binaural"
    duration_s: float = 4.0
    sr: int = 48000
    rt60_s: float | None = None
    snr_db: float | None = None
    seed: int = 0
    name: str = "scene"
    scene_type: str = "custom"
    environment: str = "indoor"
    background: str = ""
    room_volume_m3: float = 400.0
    mic_spacing_m: float = 0.2
    pan_span_deg: float = 90.0
    pan_law: str = "-4.5dB"
    head: str = "sphere"
    head_radius_m: float = 0.0875
    ear_angle_deg: float = 100.0
    reflections: bool = True
    gain_imbalance_db: float = 0.0
    dual_mono: bool = False
    codec: str | None = None
    codec_bitrate_kbps: float = 128.0
    hrir_block_s: float = 0.01
    truth_hop_s: float = 0.01

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise Spa2vError(f"unknown simulator format {self.format!r}; use one of {FORMATS}")
        if not self.sources:
            raise Spa2vError("a scene needs at least one source")
        if self.duration_s <= 0 or self.sr < 8000:
            raise Spa2vError("a scene needs duration_s > 0 and sr >= 8000")
        if self.head not in HEADS:
            raise Spa2vError(f"unknown head {self.head!r}; use one of {HEADS}")
        if self.pan_law not in PAN_LAWS:
            raise Spa2vError(f"unknown pan law {self.pan_law!r}; use one of {PAN_LAWS}")
        if self.codec is not None and self.codec not in _codec.CODECS:
            raise Spa2vError(f"unknown codec {self.codec!r}; use one of {tuple(_codec.CODECS)}")
        stereo_only = self.dual_mono or self.codec or self.gain_imbalance_db
        if stereo_only and self.format not in STEREO_FORMATS:
            raise Spa2vError(
                "dual_mono, codec and gain_imbalance_db apply to stereo formats "
                f"{STEREO_FORMATS}, not {self.format!r}"
            )

    def room_kind(self) -> str:
        """``"anechoic"``, ``"diffuse"`` (late tail only) or ``"<environment>-ism"``
        (image-source early reflections plus the late tail)."""
        if not self.rt60_s:
            return "anechoic"
        return f"{self.environment}-ism" if self.reflections else "diffuse"

    def conditions(self) -> dict[str, Any]:
        """The recording conditions of this clip that matter to an estimator: the
        format's own model (head, spacing or pan law), the room, and the recording
        chain. Recorded in the ground truth and pooled apart by ``spa2v bench``."""
        out: dict[str, Any] = {"format": self.format}
        if self.format == "binaural":
            out["head"] = self.head
            if self.head == "sphere":
                out["head_radius_m"] = round(self.head_radius_m, 4)
                out["ear_angle_deg"] = round(self.ear_angle_deg, 1)
        elif self.format == "spaced":
            out["mic_spacing_m"] = round(self.mic_spacing_m, 3)
        elif self.format == "panned":
            out["pan_law"] = self.pan_law
            out["pan_span_deg"] = self.pan_span_deg
        out["room"] = self.room_kind()
        out["rt60_s"] = self.rt60_s
        if self.format in STEREO_FORMATS:
            out["gain_imbalance_db"] = round(self.gain_imbalance_db, 2)
            out["dual_mono"] = bool(self.dual_mono)
            out["codec"] = self.codec or "none"
            if self.codec:
                out["codec_bitrate_kbps"] = self.codec_bitrate_kbps
        return out


# ---------------------------------------------------------------------------
# Ground truth
# ---------------------------------------------------------------------------


@dataclass
class SourceTruth:
    """Ground truth of one source, sampled at ``times_s`` (receive time at the listener).

    Positions are *as heard*: where the source was when it emitted the sound reaching
    the listener at that time (retarded by ``distance / c``), which is what a perfect
    estimator recovers; ``geometric_positions`` are the instantaneous ones (what light
    shows at that time). ``positions`` / ``geometric_positions`` are the object's base
    (``(n, 3)``: forward, left, up above ground, as :class:`spa2v.camera.Position`);
    ``azimuth_deg`` / ``elevation_deg`` / ``distance_m`` are of the sound emitter as
    seen from the head centre (1.5 m up). ``radial_velocity_mps`` is ``dr/dt`` (>0
    receding), ``doppler`` the received/emitted frequency ratio ``c / (c + dr/dt)``,
    ``level_db`` the direct-sound level at the listener (dBFS RMS, ~50 ms window) and
    ``active`` where that is within 40 dB of its maximum.
    """

    index: int
    clip: str
    noun: str
    audio_label: str
    accept_labels: tuple[str, ...]
    width_m: float
    height_m: float
    flying: bool
    motion: str
    speed_mps: float
    emitter_height_m: float
    times_s: np.ndarray
    azimuth_deg: np.ndarray
    elevation_deg: np.ndarray
    distance_m: np.ndarray
    positions: np.ndarray
    geometric_positions: np.ndarray
    radial_velocity_mps: np.ndarray
    doppler: np.ndarray
    level_db: np.ndarray
    active: np.ndarray

    def _interp(self, arr: np.ndarray, times_s) -> np.ndarray:
        t = np.atleast_1d(np.asarray(times_s, dtype=float))
        if arr.ndim == 1:
            return np.interp(t, self.times_s, arr)
        return np.stack(
            [np.interp(t, self.times_s, arr[:, k]) for k in range(arr.shape[1])], axis=1
        )

    def position(self, t: float, geometric: bool = False) -> Position:
        p = self._interp(self.geometric_positions if geometric else self.positions, t)[0]
        return Position(float(p[0]), float(p[1]), float(p[2]))

    def azimuth_at(self, times_s) -> np.ndarray:
        """Azimuth (deg) interpolated at ``times_s`` (unwrapped, then wrapped)."""
        un = np.degrees(np.unwrap(np.radians(self.azimuth_deg)))
        v = self._interp(un, times_s)
        return (v + 180.0) % 360.0 - 180.0

    def boxes(self, times_s=None, geometric: bool = False) -> list[Box | None]:
        """Camera boxes (``spa2v.camera.project_box``) at ``times_s`` (default: the
        truth times); ``None`` where the source is out of frame."""
        t = self.times_s if times_s is None else np.atleast_1d(np.asarray(times_s, float))
        ps = self._interp(self.geometric_positions if geometric else self.positions, t)
        return [
            project_box(
                Position(float(p[0]), float(p[1]), float(p[2])), self.width_m, self.height_m
            )
            for p in ps
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (arrays as lists, rounded)."""
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            if isinstance(v, np.ndarray):
                out[k] = np.round(v.astype(float), 4).tolist() if v.dtype != bool else v.tolist()
            elif isinstance(v, tuple):
                out[k] = list(v)
            else:
                out[k] = v
        return out


@dataclass
class SimResult:
    """A simulated recording (``signal``) and the ground truth of each source."""

    signal: Signal
    truth: list[SourceTruth]
    spec: SceneSpec
    info: dict[str, Any] = field(default_factory=dict)

    def write(self, wav_path, truth_path=None) -> None:
        """Write the audio as 24-bit WAV and (optionally) the truth as JSON."""
        import json

        import soundfile as sf

        sf.write(str(wav_path), self.signal.samples.T, self.signal.sr, subtype="PCM_24")
        if truth_path is not None:
            doc = {
                "name": self.spec.name,
                "scene_type": self.spec.scene_type,
                "format": self.spec.format,
                "duration_s": self.spec.duration_s,
                "sr": self.spec.sr,
                "rt60_s": self.spec.rt60_s,
                "snr_db": self.spec.snr_db,
                "seed": self.spec.seed,
                "conditions": self.info.get("conditions", self.spec.conditions()),
                "sources": [t.to_dict() for t in self.truth],
            }
            with open(truth_path, "w", encoding="utf-8") as f:
                json.dump(doc, f)


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


def _direction(p: np.ndarray, origin: np.ndarray = LISTENER) -> tuple[np.ndarray, np.ndarray]:
    d = p - origin
    az = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
    el = np.degrees(np.arctan2(d[:, 2], np.hypot(d[:, 0], d[:, 1])))
    return az, el


def pan_gains(
    az_deg: np.ndarray, span_deg: float = 90.0, law: str = "sin-cos"
) -> tuple[np.ndarray, np.ndarray]:
    """Panning gains (left, right) for azimuths (positive = left) with a pan law of
    :data:`PAN_LAWS`: ``"sin-cos"`` constant power (-3 dB each at the centre),
    ``"linear"`` constant sum (-6 dB), ``"-4.5dB"`` their geometric mean.

    >>> [round(float(g[0]), 3) for g in (pan_gains(0.0, law=k) for k in PAN_LAWS)]
    [0.707, 0.595, 0.5]
    """
    az = (np.asarray(az_deg, dtype=float) + 180.0) % 360.0 - 180.0
    az = np.where(np.abs(az) > 90.0, np.sign(az) * (180.0 - np.abs(az)), az)  # fold back
    p = np.clip(az / span_deg, -1.0, 1.0)
    th = (1.0 - p) * np.pi / 4
    power = np.cos(th), np.sin(th)
    linear = (1.0 + p) / 2.0, (1.0 - p) / 2.0
    if law == "sin-cos":
        return power
    if law == "linear":
        return linear
    if law == "-4.5dB":
        return np.sqrt(power[0] * linear[0]), np.sqrt(power[1] * linear[1])
    raise ValueError(f"unknown pan law {law!r}; use one of {PAN_LAWS}")


def foa_gains(az_deg: np.ndarray, el_deg: np.ndarray) -> np.ndarray:
    """AmbiX SN3D encoding gains ``(4, n)``: W, Y, Z, X."""
    a, e = np.radians(az_deg), np.radians(el_deg)
    return np.stack([np.ones_like(a), np.sin(a) * np.cos(e), np.sin(e), np.cos(a) * np.cos(e)])


def _short_rms_db(x: np.ndarray, sr: int, win_s: float = 0.05) -> np.ndarray:
    n = max(1, int(win_s * sr))
    c = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    idx = np.arange(x.size)
    lo = np.clip(idx - n // 2, 0, x.size)
    hi = np.clip(idx + n // 2 + 1, 0, x.size)
    return 10 * np.log10(np.maximum((c[hi] - c[lo]) / np.maximum(hi - lo, 1), 1e-20))


def _activity_window(n: int, t0: float, sr: int, start_s, end_s) -> np.ndarray | None:
    if start_s is None and end_s is None:
        return None
    t = t0 + np.arange(n) / sr
    ramp = 0.005
    w = np.ones(n)
    if start_s is not None:
        w *= np.clip((t - start_s) / ramp, 0.0, 1.0)
    if end_s is not None:
        w *= np.clip((end_s - t) / ramp, 0.0, 1.0)
    return w


def _hrirs(spec: SceneSpec) -> _hrtf.HrirSet | None:
    """The head of a binaural scene (None: KEMAR, ``render_binaural``'s default)."""
    if spec.format != "binaural" or spec.head == "kemar":
        return None
    from spa2v.sim.sphere import sphere_hrirs

    return sphere_hrirs(spec.head_radius_m, spec.ear_angle_deg, spec.sr)


def _spatialise(spec: SceneSpec, emitter, dry, dry_t0, n: int, n_pre: int, hrirs):
    """The direct sound of an emitter in the scene's format, ``(channels, n)``, and its
    propagation to the head centre from ``n_pre`` samples before t = 0."""
    sr, fmt = spec.sr, spec.format
    centre_ext = propagate(dry, dry_t0, sr, emitter, LISTENER, n + n_pre, t_start=-n_pre / sr)
    centre_direct = centre_ext.direct[n_pre:]
    az, el = _direction(centre_ext.positions[n_pre:])
    if fmt == "spaced":
        half = spec.mic_spacing_m / 2
        chans = []
        for side in (+1.0, -1.0):  # ch0 = left mic
            mic = LISTENER + np.array([0.0, side * half, 0.0])
            chans.append(propagate(dry, dry_t0, sr, emitter, mic, n).direct)
        direct = np.stack(chans)
    elif fmt == "binaural":
        direct = _hrtf.render_binaural(centre_direct, az, el, sr, spec.hrir_block_s, hrirs)
    elif fmt == "panned":
        gl, gr = pan_gains(az, spec.pan_span_deg, spec.pan_law)
        direct = np.stack([centre_direct * gl, centre_direct * gr])
    elif fmt == "foa":
        direct = foa_gains(az, el) * centre_direct
    else:
        direct = centre_direct[None, :]
    return direct, centre_ext


def _static_reflections(spec: SceneSpec, images, source_m: np.ndarray, x: np.ndarray, hrirs):
    """Static image sources rendered as one multichannel filter: each image is a delayed
    (relative to the direct sound at the head centre), attenuated copy spatialised from
    its own direction, summed in the frequency domain; ``x`` is the source's signal as
    it reaches the head centre (without 1/r). Returns ``(channels, len(x))``."""
    from scipy.signal import fftconvolve

    sr, fmt = spec.sr, spec.format
    r0 = float(np.linalg.norm(source_m - LISTENER))
    points = np.stack([im.positions(np.zeros(1))[0] for im in images])
    gains = np.array([im.gain for im in images])
    az, el = _direction(points)
    if fmt == "spaced":
        half = spec.mic_spacing_m / 2
        mics = [LISTENER + np.array([0.0, side * half, 0.0]) for side in (1.0, -1.0)]
    else:
        mics = [LISTENER] * N_CHANNELS[fmt]
    dist = np.stack([np.linalg.norm(points - m, axis=1) for m in mics])  # (channels, images)
    taps = hrirs.taps if hrirs is not None else (256 if fmt == "binaural" else 0)
    span = int(np.ceil((dist.max() - r0) / SPEED_OF_SOUND * sr)) + taps + 64
    nfft = 1 << int(np.ceil(np.log2(max(span, 64))))
    f = np.fft.rfftfreq(nfft, 1.0 / sr)
    delay_s = (dist - r0) / SPEED_OF_SOUND
    phase = np.exp(-2j * np.pi * delay_s[..., None] * f)  # (channels, images, bins)
    amp = gains[None, :] / dist
    if fmt == "binaural":
        hs = hrirs if hrirs is not None else _hrtf.kemar(sr)
        spec_all = hs.spectra(nfft)
        shape = np.stack(
            [
                sum(w * spec_all[i] for i, w in hs.weights(a, e))
                for a, e in zip(az, el, strict=True)
            ],
            axis=1,
        )  # (2, images, bins)
    elif fmt == "panned":
        gl, gr = pan_gains(az, spec.pan_span_deg, spec.pan_law)
        shape = np.stack([gl, gr])[..., None]
    elif fmt == "foa":
        shape = foa_gains(az, el)[..., None]
    else:
        shape = np.ones((len(mics), len(images), 1))
    response = np.fft.irfft(np.sum(shape * amp[..., None] * phase, axis=1), nfft, axis=-1)
    return np.stack([fftconvolve(x, h)[: x.size] for h in response])


def _render_source(
    spec: SceneSpec,
    src: SourceSpec,
    k: int,
    rng_seed: np.random.SeedSequence,
    site: _reflections.Site | None = None,
    hrirs: _hrtf.HrirSet | None = None,
):
    sr, fmt = spec.sr, spec.format
    n = round(spec.duration_s * sr)
    meta = src.resolved()
    emit_h = meta["emitter_height_m"]
    traj = src.trajectory

    def emitter(t: np.ndarray) -> np.ndarray:
        p = traj.positions(t)
        return p + np.array([0.0, 0.0, emit_h])

    # With reverb, render from a pre-roll so the tail of what was sounding before t = 0
    # is already there at the start (a real recording starts mid-scene).
    n_pre = math.ceil(1.2 * spec.rt60_s * sr) if spec.rt60_s else 0
    # The dry signal must cover emission times from (start - max delay) to the end.
    probe = emitter(np.linspace(-n_pre / sr, spec.duration_s, 64))
    max_r = float(np.max(np.linalg.norm(probe - LISTENER, axis=1)))
    pad = max_r / SPEED_OF_SOUND * 1.2 + 0.05 + n_pre / sr
    # Whole seconds, at least 2 s: the dry signal (and so every synthetic source) is then
    # the same whether or not the scene has reverb, whatever the distances.
    n_pad = int(max(2, math.ceil(pad))) * sr
    n_dry = n + n_pad + 64
    dry_t0 = -n_pad / sr
    seeds = rng_seed.spawn(2)
    dry_seed = int(seeds[0].generate_state(1)[0])
    # the clip position ``offset_s`` is emitted at scene time 0
    if src.samples is not None:
        x = np.asarray(src.samples, dtype=np.float64).reshape(-1)
        x = resample(x, int(src.samples_sr or sr), sr)
        dry = fit_length(x, n_dry, sr, offset=round((src.offset_s + dry_t0) * sr))
        s = float(np.sqrt(np.mean(dry**2))) or 1.0
        dry = dry / s
    else:
        dry = dry_source(
            src.clip, sr, n_dry, seed=dry_seed, offset_s=src.offset_s + dry_t0, params=src.params
        )
    dry = dry * 10 ** (src.level_db / 20.0)
    w = _activity_window(n_dry, dry_t0, sr, src.start_s, src.end_s)
    if w is not None:
        dry = dry * w

    out, centre_ext = _spatialise(spec, emitter, dry, dry_t0, n, n_pre, hrirs)
    info: dict[str, Any] = {}
    late_start_s = None
    if site is not None:
        static = isinstance(traj, Static)
        t0 = -n_pre / sr - max_r / SPEED_OF_SOUND - 0.1
        images = _reflections.image_sources(site, emitter, t0, spec.duration_s, moving=not static)
        if site.kind == "indoor":
            # Early reflections up to the mixing time (Polack: sqrt(V) ms); the late
            # tail takes over from there (its earlier part is what the images replace).
            late_start_s = max(0.02, math.sqrt(spec.room_volume_m3) / 1000.0)
            p0 = emitter(np.zeros(1))[0]
            r0 = float(np.linalg.norm(p0 - LISTENER))
            images = [
                im
                for im in images
                if (np.linalg.norm(im.positions(np.zeros(1))[0] - LISTENER) - r0) / SPEED_OF_SOUND
                < late_start_s + 0.01
            ]
        if static and images:
            out = (
                out
                + _static_reflections(
                    spec, images, emitter(np.zeros(1))[0], centre_ext.signal, hrirs
                )[:, n_pre:]
            )
        for im in images if not static else ():
            direct, _ = _spatialise(spec, im.positions, dry, dry_t0, n, 0, hrirs)
            out = out + im.gain * direct
        info["reflections"] = len(images)
    if spec.rt60_s:
        rng_rev = np.random.default_rng(seeds[1])
        tails = _room.reverb_tails(
            spec.rt60_s,
            sr,
            N_CHANNELS[fmt],
            fmt,
            rng_rev,
            spacing_m=spec.mic_spacing_m,
            late_start_s=late_start_s,
        )
        rc = _room.critical_distance(spec.rt60_s, spec.room_volume_m3)
        # The reverberant level follows the source's distance at emission (Barron).
        gain = _room.reflected_gain(centre_ext.r, spec.rt60_s, spec.room_volume_m3)
        out = out + _room.apply_reverb(centre_ext.signal * gain, tails, 1.0)[:, n_pre:]
        info["critical_distance_m"] = rc

    truth = _truth(spec, src, k, meta, emitter, dry, dry_t0)
    return out, truth, info


def _truth(spec, src, k, meta, emitter, dry, dry_t0) -> SourceTruth:
    sr = spec.sr
    hop = spec.truth_hop_s
    times = np.arange(0.0, spec.duration_s + 1e-9, hop)
    tau, p, r = emission_times(times, emitter, LISTENER)
    az, el = _direction(p)
    emit = np.array([0.0, 0.0, meta["emitter_height_m"]])
    base = p - emit
    geo = src.trajectory.positions(times)
    dt = 1e-3
    r_plus = np.linalg.norm(emitter(tau + dt) - LISTENER, axis=1)
    r_minus = np.linalg.norm(emitter(tau - dt) - LISTENER, axis=1)
    vr = (r_plus - r_minus) / (2 * dt)  # dr/d(tau)
    doppler = SPEED_OF_SOUND / (SPEED_OF_SOUND + vr)
    lev = _short_rms_db(dry, sr)
    idx = np.clip(np.round((tau - dry_t0) * sr).astype(int), 0, dry.size - 1)
    level = lev[idx] - 20 * np.log10(r)
    active = level > (np.max(level) - 40.0)
    traj: Trajectory = src.trajectory
    motion = src.motion or traj.motion(0.0, spec.duration_s)
    return SourceTruth(
        index=k,
        clip=src.clip,
        noun=meta["noun"],
        audio_label=meta["audio_label"],
        accept_labels=tuple(meta["accept_labels"]),
        width_m=meta["width_m"],
        height_m=meta["height_m"],
        flying=meta["flying"],
        motion=motion,
        speed_mps=traj.speed_mps(0.0, spec.duration_s),
        emitter_height_m=meta["emitter_height_m"],
        times_s=times,
        azimuth_deg=az,
        elevation_deg=el,
        distance_m=r,
        positions=base,
        geometric_positions=geo,
        radial_velocity_mps=vr,
        doppler=doppler,
        level_db=level,
        active=active,
    )


def _site(spec: SceneSpec, seed: np.random.SeedSequence) -> _reflections.Site | None:
    if not (spec.rt60_s and spec.reflections):
        return None
    rng = np.random.default_rng(seed)
    if spec.environment == "outdoor":
        return _reflections.outdoor_site(rng)
    times = np.linspace(-1.2 * spec.rt60_s, spec.duration_s, 32)
    places = [
        src.trajectory.positions(times) + np.array([0.0, 0.0, src.resolved()["emitter_height_m"]])
        for src in spec.sources
    ]
    extent = np.concatenate(places) - LISTENER
    return _reflections.indoor_room(spec.room_volume_m3, spec.rt60_s, rng, extent)


def _recording_chain(mix: np.ndarray, spec: SceneSpec) -> np.ndarray:
    """Gain imbalance and dual mono: what the microphones and an upload do (the codec
    comes after the clipping guard)."""
    if spec.gain_imbalance_db:
        g = 10 ** (spec.gain_imbalance_db / 40.0)
        mix = mix * np.array([[g], [1.0 / g]])
    if spec.dual_mono:
        mix = np.repeat(mix.mean(axis=0, keepdims=True), 2, axis=0)
    return mix


def simulate(spec: SceneSpec) -> SimResult:
    """Render a scene: the recording as a :class:`~spa2v.io.signal.Signal` (layout =
    ``spec.format``) and one :class:`SourceTruth` per source. Deterministic in
    ``spec.seed``."""
    n = round(spec.duration_s * spec.sr)
    ss = np.random.SeedSequence(spec.seed)
    # child k renders source k, child len(sources) the noise, the next one the room
    child = ss.spawn(len(spec.sources) + 2)
    site = _site(spec, child[len(spec.sources) + 1])
    hrirs = _hrirs(spec)
    mix = np.zeros((N_CHANNELS[spec.format], n))
    truths: list[SourceTruth] = []
    info: dict[str, Any] = {}
    for k, src in enumerate(spec.sources):
        out, truth, inf = _render_source(spec, src, k, child[k], site, hrirs)
        mix += out
        truths.append(truth)
        info.update(inf)
    warnings: list[str] = []
    if spec.snr_db is not None:
        rng = np.random.default_rng(child[len(spec.sources)])
        noise = _room.diffuse_noise(mix.shape[0], n, spec.format, rng, spec.sr, spec.mic_spacing_m)
        ref = mix[0] if spec.format == "foa" else mix
        p_sig = float(np.mean(ref**2))
        mix = mix + noise * np.sqrt(p_sig / 10 ** (spec.snr_db / 10.0))
    mix = _recording_chain(mix, spec)
    peak = float(np.max(np.abs(mix))) if mix.size else 0.0
    gain_db = 0.0
    if peak > 0.99:
        g = 0.99 / peak
        mix *= g
        gain_db = float(20 * np.log10(g))
        warnings.append(f"simulated mix scaled by {gain_db:.1f} dB to avoid clipping")
    info["gain_db"] = gain_db
    conditions = spec.conditions()
    if site is not None:
        conditions["site"] = site.describe()
    if spec.codec:
        mix, coded = _codec.round_trip(mix, spec.sr, spec.codec, spec.codec_bitrate_kbps)
        conditions["codec_bitrate_reached_kbps"] = coded["bitrate_kbps"]
    info["conditions"] = conditions
    sig = Signal(
        samples=np.asarray(mix, dtype=np.float32),
        sr=spec.sr,
        layout=cast(ChannelLayout, spec.format),  # SceneSpec checks it is in FORMATS
        source=f"sim:{spec.name}",
        warnings=warnings,
    )
    return SimResult(signal=sig, truth=truths, spec=spec, info=info)


# ---------------------------------------------------------------------------
# One-call helpers for tests
# ---------------------------------------------------------------------------


def _scene(sources, format, duration_s, sr, rt60_s, snr_db, seed, **kw) -> SceneSpec:
    return SceneSpec(
        sources=list(sources),
        format=format,
        duration_s=duration_s,
        sr=sr,
        rt60_s=rt60_s,
        snr_db=snr_db,
        seed=seed,
        **kw,
    )


def simulate_static(
    azimuth_deg: float,
    distance_m: float = 3.0,
    format: str = "binaural",
    clip: str = "noise",
    elevation_deg: float = 0.0,
    duration_s: float = 1.0,
    sr: int = 48000,
    rt60_s: float | None = None,
    snr_db: float | None = None,
    seed: int = 0,
    level_db: float = -20.0,
    **scene_kw,
) -> SimResult:
    """One static source at ``azimuth_deg`` (left positive), ``elevation_deg`` and
    straight-line ``distance_m`` from the head centre."""
    e = math.radians(elevation_deg)
    traj = Static(azimuth_deg, distance_m * math.cos(e), 0.0)
    src = SourceSpec(
        clip, traj, level_db=level_db, emitter_height_m=CAMERA_HEIGHT_M + distance_m * math.sin(e)
    )
    return simulate(
        _scene(
            [src],
            format,
            duration_s,
            sr,
            rt60_s,
            snr_db,
            seed,
            name=f"static-az{azimuth_deg:g}",
            scene_type="static-1",
            **scene_kw,
        )
    )


def simulate_pass(
    direction: str = "left-to-right",
    speed_mps: float = 15.0,
    closest_m: float = 10.0,
    format: str = "binaural",
    clip: str = "engine",
    duration_s: float = 4.0,
    t_closest_s: float | None = None,
    azimuth_deg: float = 0.0,
    emitter_height_m: float | None = CAMERA_HEIGHT_M,
    sr: int = 48000,
    rt60_s: float | None = None,
    snr_db: float | None = None,
    seed: int = 0,
    level_db: float = -6.0,
    **scene_kw,
) -> SimResult:
    """One source crossing in front on a straight line, closest (``closest_m``) at
    ``t_closest_s`` (default mid-clip). By default the emitter is at ear height, so the
    pass is in the horizontal plane."""
    tc = duration_s / 2 if t_closest_s is None else t_closest_s
    traj = crossing(closest_m, speed_mps, direction, tc, azimuth_deg)
    src = SourceSpec(clip, traj, level_db=level_db, emitter_height_m=emitter_height_m)
    return simulate(
        _scene(
            [src],
            format,
            duration_s,
            sr,
            rt60_s,
            snr_db,
            seed,
            name=f"pass-{direction}",
            scene_type="moving-cross",
            environment="outdoor",
            **scene_kw,
        )
    )


def simulate_radial(
    motion: str = "approaching",
    speed_mps: float = 8.0,
    azimuth_deg: float = 0.0,
    near_m: float = 5.0,
    format: str = "binaural",
    clip: str = "engine",
    duration_s: float = 4.0,
    emitter_height_m: float | None = CAMERA_HEIGHT_M,
    sr: int = 48000,
    rt60_s: float | None = None,
    snr_db: float | None = None,
    seed: int = 0,
    level_db: float = -6.0,
    **scene_kw,
) -> SimResult:
    """One source moving along the line of sight (``approaching`` ends, ``receding``
    starts, ``near_m`` away)."""
    far = near_m + speed_mps * duration_s
    if motion == "approaching":
        traj = radial(azimuth_deg, far, near_m, duration_s)
    elif motion == "receding":
        traj = radial(azimuth_deg, near_m, far, duration_s)
    else:
        raise ValueError("motion must be 'approaching' or 'receding'")
    src = SourceSpec(clip, traj, level_db=level_db, emitter_height_m=emitter_height_m)
    return simulate(
        _scene(
            [src],
            format,
            duration_s,
            sr,
            rt60_s,
            snr_db,
            seed,
            name=f"radial-{motion}",
            scene_type="moving-depth",
            environment="outdoor",
            **scene_kw,
        )
    )


def simulate_sources(
    sources: Sequence[tuple[float, float, str]],
    format: str = "binaural",
    duration_s: float = 2.0,
    sr: int = 48000,
    rt60_s: float | None = None,
    snr_db: float | None = None,
    seed: int = 0,
    level_db: float = -20.0,
    **scene_kw,
) -> SimResult:
    """Several static sources in the horizontal plane: ``[(azimuth_deg, distance_m,
    clip), ...]``."""
    srcs = [
        SourceSpec(c, Static(a, d), level_db=level_db, emitter_height_m=CAMERA_HEIGHT_M)
        for a, d, c in sources
    ]
    return simulate(
        _scene(
            srcs,
            format,
            duration_s,
            sr,
            rt60_s,
            snr_db,
            seed,
            name="static-multi",
            scene_type=f"static-{len(srcs)}",
            **scene_kw,
        )
    )
