"""AV-Align, corrected: hand-computed values on synthetic videos with known motion jumps
and beeps (aligned, shifted, one-to-many), and never above 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("cv2")

from spa2v.evaluation.av_align import audio_onsets_s, av_align, matched_pairs
from spa2v.evaluation.video import evaluate_video
from spa2v.rendering.video import write_mp4

FPS = 24.0
SR = 16000
DURATION_S = 3.0
#: Frames where the textured patch jumps: each makes one motion peak at frame / FPS.
JUMP_FRAMES = (12, 36, 60)


def _jumping_patch_video(path: Path) -> Path:
    """A 256x160 grey frame with a random-texture patch that jumps 8 px to the right at
    each of ``JUMP_FRAMES`` and stands still otherwise."""
    rng = np.random.default_rng(0)
    patch = rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)
    frames = []
    x = 40
    for i in range(round(DURATION_S * FPS)):
        if i in JUMP_FRAMES:
            x += 8
        frame = np.full((160, 256, 3), 128, np.uint8)
        frame[56:104, x : x + 48] = patch
        frames.append(frame)
    return write_mp4(frames, FPS, path)


def _beeps(path: Path, times_s: list[float]) -> Path:
    """30 ms 1 kHz beeps starting at ``times_s`` in silence, stereo."""
    samples = np.zeros(round(DURATION_S * SR), np.float32)
    n = round(0.03 * SR)
    tone = 0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(n) / SR).astype(np.float32)
    for t in times_s:
        start = round(t * SR)
        samples[start : start + n] += tone
    sf.write(path, np.stack([samples, samples]).T, SR)
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _jumping_patch_video(tmp_path_factory.mktemp("av") / "jumps.mp4")


def test_onsets_are_found_at_the_beeps(tmp_path: Path) -> None:
    times = [0.5, 1.25, 2.0]
    samples, sr = sf.read(_beeps(tmp_path / "b.wav", times), always_2d=True)
    onsets = audio_onsets_s(samples.T, sr)
    assert len(onsets) == 3
    assert np.allclose(onsets, times, atol=0.015)


@pytest.mark.parametrize(
    ("beeps_s", "expected"),
    [
        # aligned: 3 onsets, 3 peaks, all matched -> 3 / (3 + 3 - 3)
        ([0.5, 1.5, 2.5], 1.0),
        # shifted by 3 frames (125 ms > 1 frame): nothing matched -> 0 / 6
        ([0.625, 1.625, 2.625], 0.0),
        # one-to-many: two onsets within a frame of the first peak (0.5 s), one of the
        # second: 2 pairs (each peak counts once), union 4 + 3 - 2 = 5 -> 0.4. The
        # published script counted 3 and gave 3 / 4.
        ([0.465, 0.535, 1.5, 2.2], 0.4),
    ],
)
def test_av_align_on_a_video_matches_the_hand_computed_value(
    video: Path, tmp_path: Path, beeps_s: list[float], expected: float
) -> None:
    audio = _beeps(tmp_path / "beeps.wav", beeps_s)
    result = evaluate_video(video, audio_path=audio, boxes="detector", detect_fps=1.0)
    assert np.allclose(result.av_align.video_peaks_s, [f / FPS for f in JUMP_FRAMES])
    assert len(result.av_align.audio_onsets_s) == len(beeps_s)
    assert result.av_align.score == pytest.approx(expected)


def test_each_video_peak_counts_once_so_the_score_never_exceeds_one() -> None:
    assert matched_pairs([1.0, 1.01, 1.02], [1.0], fps=24.0) == 1
    assert av_align([1.0, 1.01, 1.02], [1.0], fps=24.0) == pytest.approx(1 / 3)
    rng = np.random.default_rng(1)
    for _ in range(300):
        audio = np.sort(rng.uniform(0, 2, rng.integers(0, 8)))
        peaks = np.sort(rng.uniform(0, 2, rng.integers(0, 8)))
        score = av_align(audio.tolist(), peaks.tolist(), fps=8.0)
        if len(audio) + len(peaks) == 0:
            assert score is None
        else:
            assert 0.0 <= score <= 1.0
            # A maximum matching: never fewer pairs than matching the peaks greedily.
            assert matched_pairs(peaks, audio, fps=8.0) == matched_pairs(audio, peaks, fps=8.0)
