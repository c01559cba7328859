"""The simulator's physics and ground truth (spa2v.sim)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spa2v.camera import Position, project_box
from spa2v.errors import Spa2vError
from spa2v.sim import (
    CODECS,
    FORMATS,
    PAN_LAWS,
    SCENE_TYPES,
    SOURCES,
    SPEED_OF_SOUND,
    SceneSpec,
    SimSourceUnavailable,
    SourceSpec,
    Static,
    benchmark_scenes,
    crossing,
    read_opensfx,
    simulate,
    simulate_pass,
    simulate_radial,
    simulate_static,
    source_available,
)
from spa2v.sim.propagation import emission_times
from spa2v.sim.sources import OPENSFX_PATH, dry_source

SR = 24000


def _lag(a: np.ndarray, b: np.ndarray, max_lag: int) -> int:
    """Lag (samples) by which ``b`` trails ``a`` (GCC-PHAT peak)."""
    n = 1 << int(np.ceil(np.log2(a.size + b.size)))
    A, B = np.fft.rfft(a, n), np.fft.rfft(b, n)
    g = B * np.conj(A)
    cc = np.fft.irfft(g / np.maximum(np.abs(g), 1e-12), n)
    cc = np.concatenate([cc[-max_lag:], cc[: max_lag + 1]])
    return int(np.argmax(cc)) - max_lag


def _rms_db(x: np.ndarray) -> float:
    return 10 * math.log10(float(np.mean(np.square(x, dtype=np.float64))) + 1e-30)


# -- direction conventions ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["spaced", "binaural", "panned"])
@pytest.mark.parametrize("az", [40.0, -40.0])
def test_left_source_is_louder_and_earlier_in_channel_0(fmt: str, az: float) -> None:
    res = simulate_static(az, 3.0, format=fmt, duration_s=0.5, sr=SR)
    x = res.signal.samples
    assert res.signal.layout == fmt and x.shape == (2, round(0.5 * SR))
    left = az > 0
    if fmt != "spaced":  # a spaced omni pair has almost no level difference
        assert (_rms_db(x[0]) > _rms_db(x[1]) + 1.0) == left
    if fmt != "panned":  # amplitude panning has no time difference
        lag = _lag(x[0], x[1], 40)  # > 0: right channel trails, i.e. left is earlier
        assert (lag > 0) == left, lag
    t = res.truth[0]
    assert np.allclose(t.azimuth_deg, az, atol=1e-6)
    assert np.allclose(t.elevation_deg, 0.0, atol=1e-6)


def test_spaced_pair_delay_matches_geometry() -> None:
    sr = 48000
    for d, az in [(0.08, -60.0), (0.15, -20.0), (0.2, 0.0), (0.25, 30.0), (0.3, 70.0)]:
        res = simulate_static(
            az, 4.0, format="spaced", duration_s=0.5, sr=sr, seed=1, mic_spacing_m=d
        )
        x = res.signal.samples
        expected = d * math.sin(math.radians(az)) / SPEED_OF_SOUND * sr  # far field
        assert abs(_lag(x[0], x[1], 60) - expected) <= 1.0


def test_foa_encodes_direction_and_elevation() -> None:
    res = simulate_static(50.0, 3.0, format="foa", elevation_deg=30.0, duration_s=0.5, sr=SR)
    w, y, z, x = res.signal.samples.astype(np.float64)
    # SN3D: Y = W sin(az) cos(el), Z = W sin(el), X = W cos(az) cos(el)
    a, e = math.radians(50.0), math.radians(30.0)
    assert np.dot(w, y) / np.dot(w, w) == pytest.approx(math.sin(a) * math.cos(e), abs=1e-3)
    assert np.dot(w, z) / np.dot(w, w) == pytest.approx(math.sin(e), abs=1e-3)
    assert np.dot(w, x) / np.dot(w, w) == pytest.approx(math.cos(a) * math.cos(e), abs=1e-3)
    t = res.truth[0]
    assert np.allclose(t.elevation_deg, 30.0, atol=1e-6)
    assert np.allclose(t.distance_m, 3.0, atol=1e-6)
    res = simulate_static(-50.0, 3.0, format="foa", duration_s=0.3, sr=SR)
    w, y = res.signal.samples[:2].astype(np.float64)
    assert np.dot(w, y) < 0  # Y < 0 on the right


def test_mono_has_one_channel() -> None:
    res = simulate_static(10.0, 2.0, format="mono", duration_s=0.2, sr=SR)
    assert res.signal.samples.shape == (1, round(0.2 * SR))
    assert res.signal.samples.dtype == np.float32


# -- propagation physics --------------------------------------------------------------


def test_inverse_distance_law() -> None:
    levels = [
        _rms_db(simulate_static(20.0, d, format="mono", duration_s=0.5, sr=SR).signal.samples)
        for d in (2.0, 4.0, 8.0)
    ]
    assert levels[0] - levels[1] == pytest.approx(6.02, abs=0.1)
    assert levels[1] - levels[2] == pytest.approx(6.02, abs=0.1)
    # the absolute level: level_db is the RMS at 1 m
    assert levels[0] == pytest.approx(-20.0 - 6.02, abs=0.3)


def _peak_freq(x: np.ndarray, sr: int, f_lo: float, f_hi: float) -> float:
    n = x.size
    spec = np.abs(np.fft.rfft(x * np.hanning(n), 64 * n))
    f = np.fft.rfftfreq(64 * n, 1 / sr)
    band = (f > f_lo) & (f < f_hi)
    return float(f[band][np.argmax(spec[band])])


@pytest.mark.parametrize("speed", [10.0, 25.0])
def test_doppler_ratio_of_a_passing_tone(speed: float) -> None:
    f0, sr, closest, dur = 600.0, 16000, 6.0, 3.0
    res = simulate_pass(
        "left-to-right", speed, closest, format="mono", clip="tone", duration_s=dur, sr=sr
    )
    # the tone: only f0 needed -> use a pure tone
    spec = res.spec
    spec.sources[0].params = {"f0": f0, "harmonics": 1}
    res = simulate(spec)
    x = res.signal.samples[0].astype(np.float64)
    win = int(0.2 * sr)
    traj = crossing(closest, speed, "left-to-right", dur / 2)

    def emitter(t: np.ndarray) -> np.ndarray:
        return traj.positions(t) + np.array([0.0, 0.0, 1.5])

    for t_mid in (0.4, 2.6):  # approaching, then receding
        i0 = int(t_mid * sr) - win // 2
        f_meas = _peak_freq(x[i0 : i0 + win], sr, 0.8 * f0, 1.2 * f0)
        # independent expectation: c / (c - v cos(theta)) with theta between the velocity
        # and the direction source -> listener at the emission time
        _, p, _ = emission_times(np.array([t_mid]), emitter, np.array([0.0, 0.0, 1.5]))
        v = traj.velocity
        to_listener = -p[0] / np.linalg.norm(p[0])
        cos_th = float(np.dot(v, to_listener) / np.linalg.norm(v))
        expected = f0 * SPEED_OF_SOUND / (SPEED_OF_SOUND - speed * cos_th)
        assert f_meas == pytest.approx(expected, rel=0.003)
        k = round(t_mid / spec.truth_hop_s)
        assert res.truth[0].doppler[k] * f0 == pytest.approx(expected, rel=0.002)
    # the pitch falls while the source passes
    assert res.truth[0].doppler[0] > 1.0 > res.truth[0].doppler[-1]


def test_pass_ground_truth_and_motion_labels() -> None:
    res = simulate_pass("left-to-right", 15.0, 10.0, format="panned", duration_s=2.0, sr=SR)
    t = res.truth[0]
    assert t.motion == "left-to-right" and t.speed_mps == pytest.approx(15.0, rel=1e-6)
    assert t.azimuth_deg[0] > 30 and t.azimuth_deg[-1] < -30
    assert np.all(np.diff(t.azimuth_deg) < 0)
    # heard position lags the geometric one by the propagation time
    k = len(t.times_s) // 2
    lag_m = t.geometric_positions[k, 1] - t.positions[k, 1]
    assert lag_m == pytest.approx(-15.0 * t.distance_m[k] / SPEED_OF_SOUND, rel=0.05)
    x = res.signal.samples
    h = x.shape[1] // 5
    assert _rms_db(x[0, :h]) > _rms_db(x[1, :h])  # starts on the left
    assert _rms_db(x[0, -h:]) < _rms_db(x[1, -h:])  # ends on the right
    res = simulate_pass("right-to-left", 12.0, 8.0, format="mono", duration_s=1.0, sr=SR)
    assert res.truth[0].motion == "right-to-left"
    assert res.truth[0].azimuth_deg[-1] > res.truth[0].azimuth_deg[0]


@pytest.mark.parametrize("motion", ["approaching", "receding"])
def test_radial_motion_level_trend(motion: str) -> None:
    res = simulate_radial(motion, 8.0, 10.0, 5.0, format="mono", duration_s=2.0, sr=SR)
    t = res.truth[0]
    assert t.motion == motion
    x = res.signal.samples[0]
    h = x.size // 4
    louder_at_end = _rms_db(x[-h:]) > _rms_db(x[:h])
    assert louder_at_end == (motion == "approaching")
    assert np.allclose(t.azimuth_deg, 10.0, atol=1e-6)
    assert (np.diff(t.distance_m) < 0).all() == (motion == "approaching")


# -- room and noise -------------------------------------------------------------------


def _rt60_from_impulse_response(h: np.ndarray, sr: int) -> float:
    edc = np.cumsum(h[::-1] ** 2)[::-1]
    edc_db = 10 * np.log10(edc / edc[0] + 1e-30)
    i5 = int(np.argmax(edc_db < -5))
    i25 = int(np.argmax(edc_db < -25))
    t = np.arange(i5, i25) / sr
    slope = np.polyfit(t, edc_db[i5:i25], 1)[0]  # dB/s
    return -60.0 / slope


@pytest.mark.parametrize("rt60", [0.4, 0.8])
def test_reverb_rt60_as_asked(rt60: float) -> None:
    sr = 16000
    click = np.zeros(sr // 5)
    click[0] = 1.0  # emitted at t = 0 (offset_s = 0); the loop's other clicks are gated off
    spec = SceneSpec(
        [
            SourceSpec(
                "click",
                Static(0.0, 3.0),
                samples=click,
                samples_sr=sr,
                emitter_height_m=1.5,
                start_s=-0.02,
                end_s=0.05,
            )
        ],
        format="mono",
        duration_s=rt60 + 0.4,
        sr=sr,
        rt60_s=rt60,
        seed=3,
    )
    h = simulate(spec).signal.samples[0].astype(np.float64)
    onset = int(np.argmax(np.abs(h) > 0.5 * np.abs(h).max()))
    assert _rt60_from_impulse_response(h[onset + int(0.02 * sr) :], sr) == pytest.approx(
        rt60, rel=0.15
    )


def test_reverb_drr_falls_with_distance_and_noise_snr() -> None:
    def drr(d: float) -> float:
        dry = simulate_static(0.0, d, format="mono", duration_s=1.0, sr=SR, seed=2)
        wet = simulate_static(0.0, d, format="mono", duration_s=1.0, sr=SR, seed=2, rt60_s=0.5)
        direct = dry.signal.samples[0]
        return _rms_db(direct) - _rms_db(wet.signal.samples[0] - direct)

    near, far = drr(1.0), drr(4.0)
    # 1/r for the direct sound (12.0 dB), less Barron's decay of the reverberant field
    # by the direct sound's travel time (0.174 dB per metre per second of RT60: the far
    # source's reverb is 1.0 dB weaker, so its DRR falls 1.0 dB less).
    assert near - far == pytest.approx(12.0 - 0.174 * 3.0 / 0.5, abs=0.5)
    clean = simulate_static(0.0, 2.0, format="spaced", duration_s=1.0, sr=SR, seed=4)
    noisy = simulate_static(0.0, 2.0, format="spaced", duration_s=1.0, sr=SR, seed=4, snr_db=10.0)
    noise = noisy.signal.samples - clean.signal.samples
    assert _rms_db(clean.signal.samples) - _rms_db(noise) == pytest.approx(10.0, abs=0.2)


def test_far_source_outdoors_gets_quieter_with_reverb_too() -> None:
    """Outdoors (RT60 0.8 s, 20000 m^3: critical distance 9 m) a source 80 m away is
    mostly reverb. A distance-independent diffuse field would leave the total level
    about 1 dB below that of the same source at 20 m; Barron's revised theory makes
    the reflected sound fall with distance too, so the whole recording gets quieter
    by about as much as the direct sound (12 dB)."""
    outdoors = dict(format="mono", duration_s=1.5, sr=SR, seed=3, rt60_s=0.8, environment="outdoor")

    def level(d: float) -> float:
        wet = simulate_static(0.0, d, room_volume_m3=20000.0, **outdoors)
        return _rms_db(wet.signal.samples[0, int(0.5 * SR) :])

    assert level(20.0) - level(80.0) > 10.0


# -- determinism, sources, truth boxes -------------------------------------------------


def test_deterministic_in_seed() -> None:
    kw = dict(format="binaural", duration_s=0.5, sr=SR, rt60_s=0.3, snr_db=20.0, clip="engine")
    a = simulate_static(25.0, 3.0, seed=7, **kw).signal.samples
    b = simulate_static(25.0, 3.0, seed=7, **kw).signal.samples
    c = simulate_static(25.0, 3.0, seed=8, **kw).signal.samples
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize(
    "name",
    [
        "engine",
        "car",
        "tone",
        "noise-bursts",
        "noise",
        "synth-piano",
        "synth-flute",
        "synth-violin",
    ],
)
def test_synthetic_sources(name: str) -> None:
    x = dry_source(name, SR, SR // 2, seed=1)
    assert x.shape == (SR // 2,) and np.all(np.isfinite(x))
    assert np.sqrt(np.mean(x**2)) == pytest.approx(1.0, rel=1e-6)


def test_source_labels_are_yamnet_classes() -> None:
    from spa2v.hearing.tagging.yamnet import load_class_names

    names = set(load_class_names())
    for info in SOURCES.values():
        assert info.audio_label in names, info.name
        assert set(info.accept_labels) <= names, info.name


@pytest.mark.skipif(not OPENSFX_PATH.is_file(), reason="openttd-opensfx is not installed")
def test_opensfx_reader_finds_many_clips() -> None:
    clips = read_opensfx()
    assert len(clips) >= 60
    for name in ("Modern bus start", "Helicopter", "Cow"):
        x, sr = clips[name]
        assert x.dtype == np.float32 and x.ndim == 1 and sr == 44100 and x.size > sr // 2
        assert 0.001 < float(np.sqrt(np.mean(x**2))) < 1.0
    res = simulate_static(-20.0, 5.0, format="spaced", clip="bus", duration_s=0.5, sr=SR)
    assert res.truth[0].noun == "bus" and res.truth[0].audio_label == "Bus"


def test_opensfx_missing_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(Spa2vError, match="openttd-opensfx"):
        read_opensfx(tmp_path / "nope.cat")
    assert issubclass(SimSourceUnavailable, Spa2vError)


@pytest.mark.skipif(not source_available("piano"), reason="fluidsynth/soundfont missing")
def test_soundfont_instrument_renders() -> None:
    x = dry_source("piano", SR, SR, seed=0)
    assert np.sqrt(np.mean(x**2)) == pytest.approx(1.0, rel=1e-6)
    assert np.mean(np.abs(x) > 1e-3) > 0.5  # sounding, not silence


def test_truth_boxes_match_camera_projection() -> None:
    spec = SceneSpec(
        [SourceSpec("noise", crossing(12.0, 20.0, "right-to-left", 1.0), noun="car")],
        format="mono",
        duration_s=2.0,
        sr=SR,
    )
    t = simulate(spec).truth[0]
    assert (t.width_m, t.height_m) == (4.5, 1.5)
    times = np.linspace(0.0, 2.0, 17)
    boxes = t.boxes(times)
    assert any(b is None for b in boxes) and any(b is not None for b in boxes)
    for tt, box in zip(times, boxes, strict=True):
        p = t.position(tt)
        assert box == project_box(Position(p.forward, p.left, p.up), 4.5, 1.5)
    # a static source at docs/design.md's example position gives the documented box
    spec = SceneSpec(
        [
            SourceSpec(
                "noise", Static(30.0, 10.0 / math.cos(math.radians(30))), width_m=4.5, height_m=1.5
            )
        ],
        format="mono",
        duration_s=0.2,
        sr=SR,
    )
    box = simulate(spec).truth[0].boxes([0.1])[0]
    assert [round(v, 3) for v in box] == [0.099, 0.5, 0.324, 0.62]


def test_bad_specs_raise_spa2v_errors() -> None:
    with pytest.raises(Spa2vError):
        SceneSpec([SourceSpec()], format="surround")
    with pytest.raises(Spa2vError):
        SceneSpec([], format="mono")
    with pytest.raises(Spa2vError, match="unknown simulator source"):
        simulate(SceneSpec([SourceSpec("no-such-source")], format="mono", duration_s=0.1))


# -- benchmark set ---------------------------------------------------------------------


def test_benchmark_scenes_are_deterministic_and_complete() -> None:
    a = benchmark_scenes(seed=0, fallback="synthetic")
    b = benchmark_scenes(seed=0, fallback="synthetic")
    assert [s.name for s in a] == [s.name for s in b]
    assert len({s.name for s in a}) == len(a) == 81
    assert {s.scene_type for s in a} == set(SCENE_TYPES)
    assert {s.format for s in a} == {"binaural", "spaced", "panned", "foa"}
    assert {bool(s.rt60_s) for s in a} == {False, True}
    # one dual-mono clip per geometry, three per stereo format, in both rooms
    dual = [s for s in a if s.dual_mono]
    assert len(dual) == 9 and {s.format for s in dual} == {"binaural", "spaced", "panned"}
    assert all(sum(s.format == f for s in dual) == 3 for f in ("binaural", "spaced", "panned"))
    assert {bool(s.rt60_s) for s in dual} == {False, True}
    # the drawn conditions: never the KEMAR head; spacings and pan laws vary
    assert {s.head for s in a} == {"sphere"}
    assert all(0.075 <= s.head_radius_m <= 0.10 for s in a)
    assert all(0.08 <= s.mic_spacing_m <= 0.30 for s in a)
    assert len({round(s.mic_spacing_m, 3) for s in a if s.format == "spaced"}) >= 10
    assert {s.pan_law for s in a if s.format == "panned"} == set(PAN_LAWS)
    stereo = [s for s in a if s.format != "foa" and not s.dual_mono]
    assert all(abs(s.gain_imbalance_db) <= 3.0 for s in stereo)
    assert {s.codec for s in stereo} == {None, "mp3", "aac", "vorbis"}
    assert all(s.reflections for s in a)
    assert len(benchmark_scenes(seed=0, variants=2, fallback="synthetic")) == 162
    dry = benchmark_scenes(seed=0, formats=FORMATS, reverb=(False,), fallback="synthetic")
    assert len(dry) == 45 + 5
    own = benchmark_scenes(seed=0, conditions="estimator", fallback="synthetic")
    assert len(own) == 72 and {(s.head, s.mic_spacing_m, s.pan_law) for s in own} == {
        ("kemar", 0.15, "sin-cos")
    }
    c = benchmark_scenes(seed=1, fallback="synthetic")
    assert [s.name for s in a] != [s.name for s in c] or any(
        sa.sources[0].trajectory != sc.sources[0].trajectory for sa, sc in zip(a, c, strict=True)
    )
    for s in a:
        if s.scene_type == "static-2":
            az = [src.trajectory.azimuth_deg for src in s.sources]
            assert abs(az[0] - az[1]) >= 35.0
        if s.scene_type.startswith("static"):
            assert s.environment == "indoor"
            assert all(abs(src.trajectory.azimuth_deg) < 45 for src in s.sources)
        else:
            assert s.environment == "outdoor"
    # static azimuths spread over the view, across the left/centre/right boundaries
    static = [
        src.trajectory.azimuth_deg
        for s in benchmark_scenes(seed=0, variants=4, formats=("foa",), reverb=(False,))
        if s.scene_type == "static-1"
        for src in s.sources
    ]
    assert min(static) < -30 and max(static) > 30
    assert any(14 < abs(az) < 23 for az in static)


def test_benchmark_scene_renders_with_truth() -> None:
    specs = benchmark_scenes(
        seed=0,
        formats=("foa",),
        reverb=(True,),
        fallback="synthetic",
        scene_types=("moving-cross",),
        duration_s=1.0,
        sr=SR,
    )
    res = simulate(specs[0])
    assert res.signal.samples.shape == (4, SR)
    assert res.truth[0].motion == "left-to-right"
    assert np.isfinite(res.signal.samples).all() and np.abs(res.signal.samples).max() <= 1.0


def test_benchmark_subset_renders_the_same_clips_as_the_full_set():
    # `spa2v bench --formats foa` must score the very clips the full run scores.
    from spa2v.sim import benchmark_scenes

    full = {s.name: s.seed for s in benchmark_scenes()}
    subset = benchmark_scenes(formats=("foa", "binaural"))
    assert subset and all(full[s.name] == s.seed for s in subset)


# -- conditions the estimator does not assume --------------------------------------------


def test_sphere_head_itd_and_ild_follow_its_radius() -> None:
    """A rigid sphere's low-frequency ITD is 3 a / c per unit sin(azimuth) (Kuhn 1977): a
    bigger head gives a proportionally longer delay; the near ear is louder."""
    lags = {}
    for radius in (0.075, 0.10):
        res = simulate_static(
            60.0,
            3.0,
            format="binaural",
            duration_s=0.5,
            sr=SR,
            head="sphere",
            head_radius_m=radius,
            ear_angle_deg=90.0,
        )
        x = res.signal.samples
        from scipy.signal import butter, correlate, sosfiltfilt

        sos = butter(4, 800, fs=SR, output="sos")  # Kuhn's low-frequency regime
        low = sosfiltfilt(sos, x, axis=1)
        cc = correlate(low[1], low[0], "full")
        all_lags = np.arange(-x.shape[1] + 1, x.shape[1])
        near = np.abs(all_lags) <= 60
        lags[radius] = int(all_lags[near][np.argmax(cc[near])])  # the right ear trails by
        assert _rms_db(x[0]) > _rms_db(x[1]) + 3.0
    for radius, lag in lags.items():
        expected = 3.0 * radius / SPEED_OF_SOUND * math.sin(math.radians(60.0)) * SR
        assert lag == pytest.approx(expected, abs=1.5)
    assert lags[0.10] > lags[0.075] + 3  # 4.5 samples apart at 24 kHz


def test_kemar_and_sphere_heads_differ() -> None:
    kw = dict(format="binaural", duration_s=0.3, sr=SR)
    sphere = simulate_static(30.0, 3.0, head="sphere", **kw)
    kemar = simulate_static(30.0, 3.0, head="kemar", **kw)
    assert sphere.info["conditions"]["head"] == "sphere"
    assert kemar.info["conditions"]["head"] == "kemar"
    assert not np.allclose(sphere.signal.samples, kemar.signal.samples, atol=1e-3)


@pytest.mark.parametrize(
    "law, centre_db", [("sin-cos", -3.01), ("-4.5dB", -4.52), ("linear", -6.02)]
)
def test_pan_laws_level_at_the_centre_and_at_the_side(law: str, centre_db: float) -> None:
    from spa2v.sim import pan_gains

    gl, gr = pan_gains(np.array([0.0, 90.0, -90.0]), law=law)
    assert 20 * np.log10(gl[0]) == pytest.approx(centre_db, abs=0.01)
    assert gl[0] == pytest.approx(gr[0])
    assert (gl[1], gr[1], gl[2], gr[2]) == pytest.approx((1.0, 0.0, 0.0, 1.0))
    res = simulate_static(30.0, 3.0, format="panned", duration_s=0.3, sr=SR, pan_law=law)
    x = res.signal.samples
    g = pan_gains(np.array([30.0]), law=law)
    assert _rms_db(x[0]) - _rms_db(x[1]) == pytest.approx(
        20 * np.log10(g[0][0] / g[1][0]), abs=0.05
    )


def test_room_early_reflections_arrive_from_the_image_sources() -> None:
    """A click in a room: the first reflections come 2-40 ms after the direct sound
    (floor, ceiling, walls of a 400 m^3 room), louder than the late tail there; a
    diffuse-tail-only room has nothing in that window but the tail's build-up."""
    click = np.zeros(SR)
    click[100] = 1.0
    src = SourceSpec("click", Static(0.0, 3.0), samples=click, samples_sr=SR)

    def render(reflections: bool) -> np.ndarray:
        spec = SceneSpec(
            [src],
            format="mono",
            duration_s=0.5,
            sr=SR,
            rt60_s=0.4,
            seed=2,
            reflections=reflections,
        )
        return simulate(spec).signal.samples[0]

    ism, diffuse = render(True), render(False)
    direct = int(np.argmax(np.abs(ism)))
    window = slice(direct + int(0.002 * SR), direct + int(0.02 * SR))
    peaks = np.sort(np.abs(ism[window]))[::-1]
    # discrete reflections: a few strong peaks, not noise
    assert peaks[0] > 0.2 * np.abs(ism[direct])
    assert np.max(np.abs(diffuse[window])) < 0.5 * peaks[0]


def test_recording_chain_gain_imbalance_and_dual_mono() -> None:
    kw = dict(format="spaced", duration_s=0.5, sr=SR, seed=4)
    base = simulate_static(0.0, 3.0, **kw).signal.samples
    tilted = simulate_static(0.0, 3.0, gain_imbalance_db=2.5, **kw).signal.samples
    assert _rms_db(tilted[0]) - _rms_db(tilted[1]) == pytest.approx(
        _rms_db(base[0]) - _rms_db(base[1]) + 2.5, abs=0.01
    )
    dual = simulate_static(40.0, 3.0, dual_mono=True, **kw)
    assert np.array_equal(dual.signal.samples[0], dual.signal.samples[1])
    assert dual.info["conditions"]["dual_mono"] is True
    with pytest.raises(Spa2vError, match="stereo formats"):
        simulate_static(0.0, 3.0, format="foa", dual_mono=True, duration_s=0.1)


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_codec_round_trip_keeps_timing_and_loses_detail(codec: str) -> None:
    kw = dict(format="binaural", duration_s=1.0, sr=SR, seed=5, clip="engine", head="sphere")
    clean = simulate_static(30.0, 3.0, **kw)
    coded = simulate_static(30.0, 3.0, codec=codec, codec_bitrate_kbps=64.0, **kw)
    x, y = clean.signal.samples, coded.signal.samples
    assert y.shape == x.shape
    assert _lag(x[0], y[0], 200) == 0  # re-aligned: the truth's times still hold
    err_db = _rms_db(y - x) - _rms_db(x)
    assert -40.0 < err_db < -3.0  # lossy, but the same sound
    reached = coded.info["conditions"]["codec_bitrate_reached_kbps"]
    assert 40.0 < reached < 120.0
