"""AV-Align: do the picture's motion peaks fall on the sound's onsets?

AV-Align (Yariv et al., "Diverse and Aligned Audio-to-Video Generation via Text-to-Video
Model Adaptation", AAAI 2024) detects audio onsets and the peaks of the video's mean
optical-flow magnitude, counts the audio onsets that have a video peak within one frame
(``|t_audio - t_video| < 1 / fps``), and reports that count over the size of the union,
``I / (|A| + |V| - I)``. The published script let several audio onsets count the same
video peak, so ``I`` could exceed ``|V|`` and the score exceed 1. This is the corrected
version: each video peak is matched at most once (a maximum matching), and flow peaks
below :data:`MIN_FLOW_PEAK` pixels per frame are ignored, as in the original, so the
score lies in [0, 1].

Video peaks: the flow between frames ``i-1`` and ``i`` is OpenCV's Farneback flow with
the original's parameters, its mean magnitude the value at frame ``i`` (frame 0 repeats
frame 1's), and a peak is a strict local maximum at ``i / fps``. Audio onsets: the
spectral flux of the log spectrogram (Bello et al., "A Tutorial on Onset Detection in
Music Signals", IEEE TASLP 2005; what librosa's ``onset_strength`` computes) and its
peaks picked with scipy; written here rather than adding librosa (and numba) for one
function.

Example
-------
>>> av_align([0.5, 1.0, 1.5], [0.5, 1.5, 2.5], fps=24.0)  # 2 matched, union 4
0.5
>>> av_align([0.50, 0.52], [0.51], fps=24.0)  # one video peak counts once: 1 / 2
0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import numpy as np
from scipy.signal import find_peaks

from spa2v.hearing.spectral import stft

#: Flow peaks below this mean magnitude (pixels per frame at the video's size) are noise.
MIN_FLOW_PEAK = 0.1
#: Flow is computed on frames scaled down to at most this width (magnitudes are scaled
#: back to the video's pixels); Farneback at 512x320 costs 5x more for the same peaks.
FLOW_WIDTH_PX = 256
#: Farneback parameters of the AV-Align script: pyr_scale, levels, winsize, iterations,
#: poly_n, poly_sigma, flags.
FARNEBACK = (0.5, 3, 15, 3, 5, 1.2, 0)

ONSET_HOP_S = 0.01
#: Dynamic range of the log spectrogram (dB below its peak), as librosa's ``top_db``.
ONSET_TOP_DB = 80.0
#: An onset peak rises at least this share of the clip's strongest onset above its
#: surroundings (prominence) ...
ONSET_PROMINENCE = 0.2
#: ... and is at least this far from the previous one.
ONSET_MIN_GAP_S = 0.05


class FlowMeter:
    """Mean Farneback flow magnitude of each frame against the one before, frame by frame
    (``cv2`` is the OpenCV module, see :func:`spa2v.evaluation.detector.require_cv2`)."""

    def __init__(self, cv2: ModuleType) -> None:
        self.cv2 = cv2
        self.previous: np.ndarray | None = None
        self.scale = 1.0
        self.magnitudes: list[float] = []

    def add(self, frame_rgb: np.ndarray) -> None:
        cv2 = self.cv2
        gray = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2GRAY)
        width = gray.shape[1]
        if width > FLOW_WIDTH_PX:
            self.scale = width / FLOW_WIDTH_PX
            size = (FLOW_WIDTH_PX, max(8, round(gray.shape[0] / self.scale)))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        if self.previous is not None:
            flow = cv2.calcOpticalFlowFarneback(self.previous, gray, None, *FARNEBACK)
            magnitude = cv2.magnitude(flow[..., 0], flow[..., 1])
            self.magnitudes.append(float(magnitude.mean()) * self.scale)
            if len(self.magnitudes) == 1:
                self.magnitudes.insert(0, self.magnitudes[0])  # frame 0 repeats frame 1
        self.previous = gray

    @property
    def trajectory(self) -> np.ndarray:
        """Flow magnitude per frame (empty with fewer than two frames)."""
        return np.asarray(self.magnitudes, dtype=float)


def video_peaks_s(flow: np.ndarray, fps: float, min_flow: float = MIN_FLOW_PEAK) -> np.ndarray:
    """Times of the strict local maxima of the flow trajectory above ``min_flow``.

    >>> video_peaks_s(np.array([0.0, 0.5, 0.0, 0.05, 0.0, 2.0, 2.0, 0.0]), fps=2.0).tolist()
    [0.5]
    """
    flow = np.asarray(flow, dtype=float)
    if len(flow) < 3:
        return np.zeros(0)
    mid = flow[1:-1]
    peak = (flow[:-2] < mid) & (mid > flow[2:]) & (mid > min_flow)
    return (np.flatnonzero(peak) + 1) / float(fps)


def onset_strength(samples: np.ndarray, sr: int, hop_s: float = ONSET_HOP_S) -> np.ndarray:
    """Spectral flux per frame: mean over bins of the rise of the log power (dB) since
    the frame before, rectified; frame ``k`` is at ``k * hop_s``. ``samples`` is
    ``(channels, n)`` or ``(n,)``; channels are mixed to mono."""
    mono = np.atleast_2d(np.asarray(samples, dtype=np.float32)).mean(axis=0, keepdims=True)
    power = stft(mono, sr, hop_s).power[0]
    level_db = 10.0 * np.log10(np.maximum(power, 1e-20))
    level_db = np.maximum(level_db, level_db.max() - ONSET_TOP_DB)
    rise = np.diff(level_db, axis=1, prepend=level_db[:, :1])
    return np.maximum(rise, 0.0).mean(axis=0)


def audio_onsets_s(samples: np.ndarray, sr: int, hop_s: float = ONSET_HOP_S) -> np.ndarray:
    """Onset times (seconds) of a recording: peaks of :func:`onset_strength`."""
    envelope = onset_strength(samples, sr, hop_s)
    top = float(envelope.max()) if envelope.size else 0.0
    if top <= 0.0:
        return np.zeros(0)
    peaks, _ = find_peaks(
        envelope / top,
        prominence=ONSET_PROMINENCE,
        distance=max(1, round(ONSET_MIN_GAP_S / hop_s)),
    )
    return peaks * hop_s


def matched_pairs(audio_s: Sequence[float], video_s: Sequence[float], fps: float) -> int:
    """The most (audio onset, video peak) pairs within one frame of each other, each
    peak and each onset used at most once.

    Each onset's partners form a contiguous run of the sorted peaks, so matching in time
    order, each onset to the earliest free peak within reach, is a maximum matching.
    """
    window = 1.0 / float(fps)
    peaks = sorted(float(v) for v in video_s)
    used = [False] * len(peaks)
    count = 0
    for a in sorted(float(x) for x in audio_s):
        for j, v in enumerate(peaks):
            if not used[j] and v - window < a < v + window:
                used[j] = True
                count += 1
                break
    return count


def av_align(audio_s: Sequence[float], video_s: Sequence[float], fps: float) -> float | None:
    """Corrected AV-Align in [0, 1]; None when neither modality has a peak (cannot tell)."""
    n_a, n_v = len(audio_s), len(video_s)
    if n_a + n_v == 0:
        return None
    matched = matched_pairs(audio_s, video_s, fps)
    return matched / (n_a + n_v - matched)
