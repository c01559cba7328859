"""Static direction accuracy of ``hear`` against simulator ground truth, per format."""

from __future__ import annotations

import numpy as np
import pytest

from known_failures import known_failure
from spa2v.hearing.extract import hear
from spa2v.sim import simulate_sources, simulate_static

SR = 16000
FRONT_AZ_DEG = [-60.0, -45.0, -30.0, -15.0, 0.0, 10.0, 25.0, 40.0, 52.0, 60.0]


def _median_azimuth(result) -> tuple[float, float | None]:
    cues = hear(result.signal)
    assert len(cues.sources) == 1, [s.azimuth_deg.mean() for s in cues.sources]
    track = cues.sources[0]
    use = track.active & (track.azimuth_confidence > 0)
    if not use.any():  # identical channels (a dry source dead ahead): placed by priors
        assert not cues.lateral_info
        use = track.active
    el = None if track.elevation_deg is None else float(np.median(track.elevation_deg[use]))
    return float(np.median(track.azimuth_deg[use])), el


def _mean_abs_error(fmt: str, **kw) -> float:
    errors = []
    for seed, az in enumerate(FRONT_AZ_DEG):
        result = simulate_static(az, format=fmt, sr=SR, seed=seed, **kw)
        truth = float(np.median(result.truth[0].azimuth_deg))
        errors.append(_median_azimuth(result)[0] - truth)
    return float(np.mean(np.abs(errors)))


def test_binaural_anechoic_within_3_deg():
    assert _mean_abs_error("binaural", duration_s=1.0) <= 3.0


def test_spaced_pair_within_19_deg():
    # The simulated pair is 0.2 m apart, the estimator assumes 0.15 m: 16.6 deg on
    # 2026-12-02 (5 deg was the limit when the simulator used the assumed spacing).
    assert _mean_abs_error("spaced", duration_s=1.0) <= 19.0


def test_panned_within_4_deg():
    # Simulated with the -4.5 dB pan law, the estimator inverts constant-power panning:
    # 3.0 deg on 2026-12-02.
    assert _mean_abs_error("panned", duration_s=1.0) <= 4.0


@pytest.mark.parametrize(
    "fmt",
    [
        "binaural",
        known_failure(
            "spaced",
            "a 0.2 m pair in a room with early reflections: hearing finds a "
            "phantom second source (52 and 19 deg for a source at 60 deg)",
        ),
    ],
)
def test_reverberant_room_within_12_deg(fmt):
    # RT60 0.4 s, source at 3 m: the direct sound is ~7.5 dB below the reverb here.
    err = _mean_abs_error(fmt, duration_s=1.5, rt60_s=0.4, distance_m=3.0, clip="engine")
    assert err <= 12.0


def test_foa_azimuth_and_elevation():
    cases = [
        (-150.0, -20.0),
        (-90.0, 0.0),
        (-30.0, 30.0),
        (0.0, 10.0),
        (45.0, -35.0),
        (120.0, 45.0),
        (170.0, 5.0),
    ]
    az_err, el_err = [], []
    for seed, (az, el) in enumerate(cases):
        result = simulate_static(
            az,
            format="foa",
            elevation_deg=el,
            sr=SR,
            seed=seed,
            duration_s=1.0,
            clip="synth-violin",
        )
        est_az, est_el = _median_azimuth(result)
        az_err.append((est_az - az + 180.0) % 360.0 - 180.0)
        el_err.append(est_el - el)
    assert np.mean(np.abs(az_err)) <= 5.0
    assert np.mean(np.abs(el_err)) <= 10.0


def test_mono_has_no_direction():
    result = simulate_static(40.0, format="mono", sr=SR, duration_s=1.0)
    cues = hear(result.signal)
    assert len(cues.sources) == 1
    track = cues.sources[0]
    assert np.all(track.azimuth_deg == 0.0)
    assert np.all(track.azimuth_confidence == 0.0)
    assert track.elevation_deg is None
    assert np.isfinite(track.loudness_db[track.active]).all()


def test_confidence_falls_in_a_room():
    dry = hear(simulate_static(30.0, format="spaced", sr=SR, duration_s=1.0).signal)
    wet = hear(
        simulate_static(
            30.0, format="spaced", sr=SR, duration_s=1.0, rt60_s=0.8, distance_m=4.0
        ).signal
    )
    c_dry = np.median(dry.sources[0].azimuth_confidence[dry.sources[0].active])
    c_wet = np.median(wet.sources[0].azimuth_confidence[wet.sources[0].active])
    assert c_dry > 0.9
    assert c_wet < c_dry - 0.2


# FOA in a room: (azimuth, instrument) pairs, each run with several seeds.
ROOM_FOA_CASES = [(30.0, "trombone"), (-30.0, "cello"), (30.0, "violin"), (-30.0, "flute")]


def _foa_room_sources(result) -> np.ndarray:
    """Median azimuth (deg) of each source ``hear`` finds, over its active frames."""
    from spa2v.hearing.extract import hear

    cues = hear(result.signal)
    return np.array(
        [float(np.median(t.azimuth_deg[np.asarray(t.active, bool)])) for t in cues.sources]
    )


@pytest.mark.xfail(
    strict=True,
    reason="with image-source early reflections hearing splits one instrument into two "
    "(trombone at 30 deg heard at 29 and 65 deg)",
)
def test_foa_room_one_instrument_within_10_deg():
    # RT60 0.4 s in a 400 m^3 room, source at 3 m: DRR about -4 dB. Magnitude-weighted
    # intensity was 15 deg off on average here (max 57) and split 2 of 16 clips into
    # phantom sources (docs/hearing.md).
    errors = []
    for seed in range(3):
        for az_deg, clip in ROOM_FOA_CASES:
            result = simulate_static(
                az_deg,
                format="foa",
                sr=SR,
                seed=seed,
                duration_s=2.0,
                clip=clip,
                rt60_s=0.4,
                distance_m=3.0,
                room_volume_m3=400.0,
            )
            found = _foa_room_sources(result)
            assert found.size == 1, (clip, az_deg, seed, found)
            errors.append((found[0] - az_deg + 180.0) % 360.0 - 180.0)
    assert np.mean(np.abs(errors)) <= 10.0, np.round(errors, 1)
    assert np.max(np.abs(errors)) <= 20.0, np.round(errors, 1)


# Two instruments in a room, FOA: (clip, azimuth) pairs 50-55 deg apart, one seed each.
ROOM_FOA_PAIRS = [
    (("saxophone", -40.0), ("guitar", 15.0)),
    (("guitar", -10.0), ("violin", 40.0)),
    (("saxophone", 30.0), ("piano", -25.0)),
]


def test_foa_room_two_instruments_both_found():
    # RT60 0.4 s, 400 m^3 (critical distance 1.8 m), both at 3.5 m: each direct sound is
    # ~6 dB below its own reverb, which for a steady note is a fixed mix at the note's
    # frequency. Directness alone found one source between the two in all nine of these
    # clips (3 pairs x 3 seeds); onset-weighted votes find both (docs/hearing.md).
    for seed, ((clip_a, az_a), (clip_b, az_b)) in enumerate(ROOM_FOA_PAIRS):
        result = simulate_sources(
            [(az_a, 3.5, clip_a), (az_b, 3.5, clip_b)],
            format="foa",
            sr=SR,
            duration_s=3.0,
            seed=seed,
            rt60_s=0.4,
            room_volume_m3=400.0,
        )
        found = _foa_room_sources(result)
        assert found.size == 2, (clip_a, clip_b, seed, found)
        for az in (az_a, az_b):  # each instrument has a heard source within 10 deg
            err = np.abs((found - az + 180.0) % 360.0 - 180.0).min()
            assert err <= 10.0, (clip_a, clip_b, seed, az, found)


def test_onset_share_and_foa_direct_weight():
    from spa2v.hearing.direction import foa_direct_weight, foa_energy, foa_intensity, onset_share

    # A rising bin is all new, a steady or decaying one not at all.
    energy = np.array([[1.0, 4.0, 4.0, 2.0]])
    assert np.allclose(onset_share(energy), [[0.0, 0.75, 0.0, 0.0]])
    # A steady plane wave votes fully; the same level of a steady fixed mix whose
    # directness is 0.9 (a harmonic's room reverb) almost not at all, unless it is new.
    az = np.radians(30.0)
    spec = np.zeros((4, 2, 3), complex)
    spec[0] = 1.0
    spec[1, 0], spec[3, 0] = np.sin(az), np.cos(az)  # bin 0: plane wave
    spec[1, 1], spec[3, 1] = 0.9 * np.sin(az), 0.9 * np.cos(az)
    spec[2, 1] = 1j * np.sqrt(1.0 - 0.81)  # bin 1: directness ~0.9, no energy in quadrature
    spec[:, :, 0] *= 0.1  # frame 0 quiet: frame 1 is an onset, frame 2 steady
    weight = foa_direct_weight(foa_intensity(spec), foa_energy(spec))
    assert np.allclose(weight[0], 1.0, atol=1e-4)
    assert weight[1, 1] > 0.2  # onset
    assert weight[1, 2] < 1e-6  # steady


def test_foa_directness_separates_direct_from_diffuse():
    from spa2v.hearing.direction import foa_directness, foa_energy, foa_intensity

    rng = np.random.default_rng(0)
    shape = (4, 64, 40)
    diffuse = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    diffuse[1:] /= np.sqrt(3.0)  # SN3D diffuse field: X, Y, Z at 1/sqrt(3) of W
    az = np.radians(40.0)
    plane = np.zeros(shape, complex)
    plane[0] = rng.standard_normal(shape[1:]) + 1j * rng.standard_normal(shape[1:])
    plane[1], plane[3] = np.sin(az) * plane[0], np.cos(az) * plane[0]  # AmbiX W, Y, Z, X

    def directness(spec, smooth=(1, 1)):
        return foa_directness(foa_intensity(spec), foa_energy(spec), smooth)

    assert np.allclose(directness(plane), 1.0)
    # Averaging over neighbours is what lets a diffuse field's intensity cancel.
    assert np.median(directness(diffuse)) < 0.6
    assert np.median(directness(diffuse, (3, 3))) < 0.35
