"""spa2v.io.audio: every container/codec, rates, channel layouts, and bad input."""

from __future__ import annotations

import subprocess
import tracemalloc
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from spa2v.errors import AudioInputError
from spa2v.io import audio as audio_mod
from spa2v.io.audio import clipped_fraction, load_audio, peak_dbfs, repair_non_finite
from spa2v.io.signal import STEREO_LAYOUTS

SR = 48_000


def _dominant_hz(x: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1.0 / sr)[np.argmax(spectrum)])


def _rms(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(np.square(x, dtype=np.float64), axis=-1))


def _assert_sametone(sig, expected: np.ndarray, sr: int, duration_tol_s: float) -> None:
    """Rate, length, channel order (by level) and pitch survived the round trip."""
    assert sig.sr == sr
    assert sig.samples.dtype == np.float32
    assert sig.samples.shape[0] == expected.shape[0]
    assert abs(sig.duration_s - expected.shape[1] / sr) <= duration_tol_s
    # Channel levels within 0.5 dB of the originals: order and scale are kept.
    level_db = 20 * np.log10(_rms(sig.samples) / _rms(expected))
    assert np.all(np.abs(level_db) < 0.5), level_db
    assert abs(_dominant_hz(sig.samples[0], sr) - 440.0) < 5.0


# --- containers and codecs -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("tone.wav", {"subtype": "PCM_16"}),
        ("tone24.wav", {"subtype": "PCM_24"}),
        ("tone.flac", {}),
        ("tone.aiff", {}),
    ],
)
def test_lossless_files_round_trip_exactly(tone, write_audio, name, kwargs):
    x = tone(SR, 1.0)
    sig = load_audio(write_audio(name, x, SR, **kwargs))
    _assert_sametone(sig, x, SR, duration_tol_s=0.0)
    assert np.max(np.abs(sig.samples - x)) < 1e-4  # 16-bit quantisation at most


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("tone.ogg", {}),  # Vorbis
        ("tone.oga", {"format": "OGG"}),
        ("tone.opus", {"format": "OGG", "subtype": "OPUS"}),
        ("tone.mp3", {}),
    ],
)
def test_lossy_files_written_by_libsndfile(tone, write_audio, name, kwargs):
    x = tone(SR, 1.0)
    sig = load_audio(write_audio(name, x, SR, **kwargs))
    _assert_sametone(sig, x, SR, duration_tol_s=0.03)


@pytest.mark.parametrize(
    ("name", "codec", "extra"),
    [
        ("tone.m4a", "aac", {}),
        ("tone.aac", "aac", {"container_format": "adts"}),
        ("clip.mp4", "aac", {"video_codec": "mpeg4"}),
        ("clip.mov", "aac", {"video_codec": "mpeg4"}),
        ("clip.mkv", "flac", {"video_codec": "mpeg4"}),
        ("clip.webm", "libopus", {"video_codec": "libvpx"}),
    ],
)
def test_ffmpeg_containers_and_video_sound_tracks(tone, write_av, name, codec, extra):
    x = tone(SR, 1.0)
    sig = load_audio(write_av(name, x, SR, codec, **extra))
    _assert_sametone(sig, x, SR, duration_tol_s=0.05)  # AAC adds up to ~1k priming samples
    assert sig.source.endswith(name)


@pytest.mark.parametrize("sr", [8_000, 192_000])
@pytest.mark.parametrize("suffix", ["wav", "flac"])
def test_native_sample_rate_is_kept_at_the_extremes(tone, write_audio, sr, suffix):
    x = tone(sr, 0.5, gains=(0.5,), freq_hz=440.0)
    sig = load_audio(write_audio(f"tone_{sr}.{suffix}", x, sr))
    assert sig.sr == sr
    assert sig.n_samples == x.shape[1]
    assert abs(_dominant_hz(sig.samples[0], sr) - 440.0) < 5.0


def test_int16_is_scaled_to_unit_full_scale(write_audio):
    x = np.array([[0.5, -0.5, 0.25, 0.0]], dtype=np.float32)
    sig = load_audio(write_audio("scale.wav", x, SR, subtype="PCM_16"))
    assert np.allclose(sig.samples, x, atol=1e-4)


# --- channel layouts -----------------------------------------------------------------


def test_mono_file_is_mono(tone, write_audio):
    sig = load_audio(write_audio("m.wav", tone(SR, 0.3, gains=(0.5,)), SR))
    assert sig.layout == "mono" and sig.n_channels == 1


def test_stereo_kind_is_left_to_hearing_which_detects_it_from_the_signal(write_audio):
    """The loader says "stereo"; hearing tells the kind. Same noise in both channels:
    level difference only -> panned; delay only -> spaced."""
    from spa2v.hearing.extract import stereo_layout

    rng = np.random.default_rng(1)
    noise = (0.2 * rng.standard_normal(SR + 20)).astype(np.float32)
    panned = np.stack([noise[20:], 0.5 * noise[20:]])
    delayed = np.stack([noise[20:], noise[5:-15]])  # 15 samples = 0.31 ms, a 15 cm pair
    sig = load_audio(write_audio("panned.wav", panned, SR, subtype="FLOAT"))
    assert sig.layout == "stereo"
    assert stereo_layout(sig.layout, sig.samples, sig.sr)[0] == "panned"
    assert sig.samples[0].std() > sig.samples[1].std()  # channel 0 (left) stays first
    pair = load_audio(write_audio("pair.wav", delayed, SR, subtype="FLOAT"))
    assert stereo_layout(pair.layout, pair.samples, pair.sr)[0] == "spaced"


@pytest.mark.parametrize("layout", STEREO_LAYOUTS)
def test_stereo_layout_override(tone, write_audio, layout):
    sig = load_audio(write_audio("s.wav", tone(SR, 0.3), SR), layout=layout)
    assert sig.layout == layout


def test_four_channels_are_foa_in_ambix_order(tone, write_audio, write_av):
    gains = (0.5, 0.3, 0.1, 0.05)  # W, Y, Z, X
    x = tone(SR, 0.5, gains=gains)
    for path in (write_audio("foa.wav", x, SR), write_av("foa.mkv", x, SR, "flac")):
        sig = load_audio(path)
        assert sig.layout == "foa"
        assert np.allclose(_rms(sig.samples), _rms(x), rtol=1e-3), path.name


def test_auto_means_detect(tone, write_audio):
    assert load_audio(write_audio("m.wav", tone(SR, 0.2, (0.5,)), SR), layout="auto").layout == (
        "mono"
    )


@pytest.mark.parametrize(
    ("gains", "layout", "needs"),
    [
        ((0.5, 0.25), "mono", "needs 1"),
        ((0.5,), "binaural", "needs 2"),
        ((0.5,), "foa", "needs 4"),
        ((0.5, 0.3, 0.1, 0.05), "spaced", "needs 2"),
    ],
)
def test_layout_that_does_not_fit_the_channel_count_is_an_error(
    tone, write_audio, gains, layout, needs
):
    path = write_audio("x.wav", tone(SR, 0.2, gains), SR)
    with pytest.raises(AudioInputError, match=needs) as info:
        load_audio(path, layout=layout)
    assert "x.wav" in str(info.value) and "\n" not in str(info.value)


def test_unknown_layout_name_is_an_error(tone, write_audio):
    path = write_audio("x.wav", tone(SR, 0.2), SR)
    with pytest.raises(AudioInputError, match="unknown layout 'surround'"):
        load_audio(path, layout="surround")  # type: ignore[arg-type]


@pytest.mark.parametrize("n_channels", [3, 5, 6, 8])
def test_unsupported_channel_counts_are_refused(tone, write_audio, n_channels):
    path = write_audio(f"c{n_channels}.wav", tone(SR, 0.2, gains=(0.1,) * n_channels), SR)
    with pytest.raises(AudioInputError, match=f"has {n_channels} channels.*1 .*2 .*4 ") as info:
        load_audio(path)
    assert f"c{n_channels}.wav" in str(info.value)


def test_unsupported_channel_count_in_a_video_container(tone, write_av):
    path = write_av("c6.mkv", tone(SR, 0.2, gains=(0.1,) * 6), SR, "flac")
    with pytest.raises(AudioInputError, match="has 6 channels"):
        load_audio(path)


# --- bad input -------------------------------------------------------------------------


def _one_line_error(path: Path, match: str, **kwargs) -> str:
    with pytest.raises(AudioInputError, match=match) as info:
        load_audio(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert path.name in message  # names the file
    return message


def test_missing_file(tmp_path):
    _one_line_error(tmp_path / "nope.wav", "does not exist")


def test_a_directory(tmp_path):
    folder = tmp_path / "recordings.wav"
    folder.mkdir()
    _one_line_error(folder, "is a folder")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    _one_line_error(path, r"is empty \(0 bytes\)")


def test_wav_header_without_samples(write_audio):
    path = write_audio("noframes.wav", np.zeros((2, 0), np.float32), SR)
    _one_line_error(path, "contains no audio samples")


@pytest.mark.parametrize("name", ["notes.wav", "notes.mp3", "notes.m4a"])
def test_text_renamed_as_audio(tmp_path, name):
    path = tmp_path / name
    path.write_text("these are my notes, not a recording\n" * 20)
    _one_line_error(path, "not an audio or video file")


def test_video_without_sound(write_av):
    path = write_av("silent_film.mp4", None, SR, None, video_codec="mpeg4")
    _one_line_error(path, "has no audio track")


def _truncate(path: Path, keep: float | int) -> Path:
    """Keep a fraction (float) or a number of bytes (int) of the file."""
    data = path.read_bytes()
    path.write_bytes(data[: keep if isinstance(keep, int) else int(len(data) * keep)])
    return path


@pytest.mark.parametrize(("name", "kwargs"), [("cut.wav", {}), ("cut.flac", {}), ("cut.mp3", {})])
def test_truncated_file_loads_what_is_there_with_a_warning(tone, write_audio, name, kwargs):
    x = tone(SR, 2.0)
    path = _truncate(write_audio(name, x, SR, **kwargs), keep=0.5)
    sig = load_audio(path)
    assert 0.5 < sig.duration_s < 1.5  # about half of the 2 s survived
    assert any("truncated" in w and name in w for w in sig.warnings), sig.warnings
    assert abs(_dominant_hz(sig.samples[0], SR) - 440.0) < 5.0


def test_streamed_wav_with_placeholder_size_is_not_called_truncated(tmp_path):
    """espeak-ng writes to a pipe, so its header holds a 2 GiB placeholder size."""
    path = tmp_path / "speech.wav"
    with path.open("wb") as f:
        subprocess.run(["espeak-ng", "--stdout", "left and right"], stdout=f, check=True)
    sig = load_audio(path)
    assert sig.layout == "mono" and 0.3 < sig.duration_s < 5.0
    assert not any("truncated" in w for w in sig.warnings), sig.warnings


def test_file_cut_inside_its_headers_is_an_error(tone, write_audio, write_av):
    x = tone(SR, 1.0)
    for path in (
        _truncate(write_audio("cut.opus", x, SR, format="OGG", subtype="OPUS"), 200),
        _truncate(write_audio("cut.flac", x, SR), 100),
        _truncate(write_av("cut.m4a", x, SR, "aac"), 0.5),  # its index (moov) is at the end
    ):
        _one_line_error(path, "is truncated or corrupt")


def test_silence_loads_with_a_warning(write_audio):
    sig = load_audio(write_audio("quiet.wav", np.zeros((2, SR), np.float32), SR))
    assert sig.n_samples == SR
    assert not np.any(sig.samples)
    assert any("silent" in w for w in sig.warnings)


def test_a_few_nan_and_inf_samples_are_repaired(tone, write_audio):
    x = tone(SR, 0.5)
    x[0, 100:110] = np.nan
    x[1, 2000] = np.inf
    x[1, 3000] = -np.inf
    sig = load_audio(write_audio("nan.wav", x, SR, subtype="FLOAT"))
    assert np.all(np.isfinite(sig.samples))
    assert np.all(sig.samples[0, 100:110] == 0.0) and sig.samples[1, 2000] == 0.0
    assert np.array_equal(sig.samples[0, :100], x[0, :100])  # the rest is untouched
    assert any("12 NaN/infinite samples were set to 0" in w for w in sig.warnings), sig.warnings


def test_mostly_nan_is_an_error(write_audio):
    x = np.full((1, 1000), np.nan, np.float32)
    x[0, :100] = 0.1
    path = write_audio("nan.wav", x, SR, subtype="FLOAT")
    _one_line_error(path, "90% of the samples are NaN or infinite")


def test_clipping_gives_a_warning(tone, write_audio):
    x = np.clip(3.0 * tone(SR, 0.5), -1.0, 1.0)
    sig = load_audio(write_audio("hot.wav", x, SR, subtype="PCM_16"))
    assert any("clipped" in w for w in sig.warnings), sig.warnings


def test_loud_clean_tone_is_not_called_clipped(tone, write_audio):
    sig = load_audio(write_audio("loud.wav", tone(SR, 0.5, gains=(0.98, 0.9)), SR))
    assert not any("clipped" in w for w in sig.warnings), sig.warnings


@pytest.mark.parametrize("sr", [4_000, 384_000])
def test_sample_rate_out_of_range(tone, write_audio, sr):
    path = write_audio(f"r{sr}.wav", tone(sr, 0.1, gains=(0.5,), freq_hz=200.0), sr)
    _one_line_error(path, f"sample rate of {sr} Hz.*8000-192000 Hz")


def test_too_long_is_refused_with_the_limit_and_the_flag(tone, write_audio, write_av):
    x = tone(SR, 1.0)
    for path in (write_audio("one_s.wav", x, SR), write_av("one_s.m4a", x, SR, "aac")):
        message = _one_line_error(path, "over the 0.5 s limit", max_duration_s=0.5)
        assert "--max-duration-s" in message
        assert load_audio(path, max_duration_s=None).duration_s > 0.9  # no limit


def test_long_file_is_refused_before_decoding(tmp_path):
    """One hour at 8 kHz: decoding would need 115 MB; refusing must not allocate that."""
    path = tmp_path / "hour.flac"
    with sf.SoundFile(str(path), "w", 8_000, 1, format="FLAC") as f:
        minute = np.zeros(8_000 * 60, np.int16)  # digital silence: a ~90 kB file
        for _ in range(60):
            f.write(minute)
    for max_duration_s in (600.0, 1800.0):
        tracemalloc.start()
        try:
            message = _one_line_error(path, "3600 s long", max_duration_s=max_duration_s)
            _, peak_bytes = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert f"{max_duration_s:g} s limit" in message
        assert peak_bytes < 5e6, peak_bytes


def test_stream_longer_than_the_limit_stops_while_decoding(tone, write_av):
    """A header may lie or say nothing: the decoder stops once past the limit."""
    path = write_av("noheader.mkv", tone(SR, 1.0), SR, "flac")
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        with pytest.raises(AudioInputError, match=r"longer than the 0\.25 s limit"):
            audio_mod._decode_stream(container, stream, path.name, max_duration_s=0.25)


# --- pure helpers --------------------------------------------------------------------


def test_helpers_on_known_arrays():
    fixed, n_bad = repair_non_finite(np.array([[1.0, np.nan], [np.inf, -0.5]], np.float32))
    assert n_bad == 2 and fixed.tolist() == [[1.0, 0.0], [0.0, -0.5]]
    assert peak_dbfs(np.array([[0.1, -0.5]])) == pytest.approx(-6.0206, abs=1e-3)
    assert peak_dbfs(np.zeros((1, 4))) == float("-inf")
    square = np.array([[1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0]])
    assert clipped_fraction(square) == pytest.approx(4 / 8)
    assert clipped_fraction(0.5 * square) == 0.0


def test_memory_bound_counts_samples_not_seconds(tone, write_audio, write_av):
    """The limit is in seconds of 48 kHz stereo: 0.5 s of 192 kHz stereo holds as many
    samples as 2 s at 48 kHz, over a 1 s limit; 4 channels get half the seconds."""
    high = write_audio("high.wav", tone(192_000, 0.5), 192_000)
    message = _one_line_error(high, r"192000 Hz, 2 channels.*0\.25 s", max_duration_s=1.0)
    assert "--max-duration-s" in message and "resample" in message
    foa = write_av("foa.mkv", tone(SR, 0.75, gains=(0.4, 0.3, 0.2, 0.1)), SR, "flac")
    _one_line_error(foa, r"4 channels.*0\.5 s", max_duration_s=1.0)
    assert load_audio(write_audio("ok.wav", tone(SR, 0.9), SR), max_duration_s=1.0).sr == SR
    assert load_audio(high, max_duration_s=None).sr == 192_000  # no limit


def test_a_wav_header_naming_no_known_codec_is_a_one_line_error(tone, write_audio):
    """Found by the fuzzing campaign: bits per sample set to nonsense left FFmpeg with a
    stream without a decoder (an AttributeError traceback)."""
    path = write_audio("odd.wav", tone(SR, 0.2), SR, subtype="PCM_32")
    data = bytearray(path.read_bytes())
    data[34:36] = (44598).to_bytes(2, "little")  # bits per sample
    path.write_bytes(bytes(data))
    _one_line_error(path, "odd.wav")
