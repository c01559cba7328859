"""Link per-frame detections into tracks: the same object over time.

An IoU tracker (the "IOU tracker" of Bochinski et al., AVSS 2017, with the Hungarian
assignment instead of the greedy one, and a constant-velocity prediction as in SORT):
in each frame the detections of a class are matched one-to-one to that class's live
tracks by the overlap of the detection with where each track should be now; a fast
object that overlaps no prediction still links when its centre is within one box size
of it. Unmatched detections start tracks; a track unseen for longer than ``max_gap_s``
ends. Hand-written
because OpenCV's trackers follow one box by appearance, which neither links a detector's
boxes nor knows classes, and a few lines of scipy do the linking exactly.

Example
-------
>>> from spa2v.evaluation.detector import Detection
>>> frames = [[Detection((0.1, 0.4, 0.3, 0.6), "car", 0.9)],
...           [Detection((0.15, 0.4, 0.35, 0.6), "car", 0.8)]]
>>> tracks = link_tracks(frames, [0.0, 0.25])
>>> len(tracks), tracks[0].class_name, tracks[0].seen.tolist()
(1, 'car', [True, True])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from spa2v.evaluation.detector import Detection
from spa2v.evaluation.layout_metrics import centre_x, iou_matrix

#: Two boxes of consecutive detections overlap at least this much to be one object.
MIN_LINK_IOU = 0.2
#: A track unseen for longer than this ends (a later detection starts a new track).
MAX_GAP_S = 1.0


@dataclass
class Track:
    """One object over the evaluation times: ``boxes`` is ``(T, 4)``, NaN rows where unseen."""

    track_id: int
    class_name: str
    times_s: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray  # (T,), NaN where unseen

    @property
    def seen(self) -> np.ndarray:
        return ~np.isnan(self.boxes[:, 0])

    @property
    def centre_x(self) -> np.ndarray:
        """Horizontal box centre per time (NaN where unseen)."""
        return centre_x(self.boxes)

    @property
    def mean_score(self) -> float:
        return float(np.nanmean(self.scores)) if self.seen.any() else 0.0


def link_tracks(
    detections: Sequence[Sequence[Detection]],
    times_s: Sequence[float] | np.ndarray,
    min_iou: float = MIN_LINK_IOU,
    max_gap_s: float = MAX_GAP_S,
) -> list[Track]:
    """Tracks from per-frame detections (``detections[k]`` seen at ``times_s[k]``).

    Returns the tracks ordered by how long they are seen (longest first).
    """
    times = np.asarray(times_s, dtype=float)
    n = len(times)
    tracks: list[Track] = []
    live: list[int] = []  # indices into tracks
    last_seen: dict[int, int] = {}  # track index -> frame index of its last box
    for k, frame in enumerate(detections):
        live = [i for i in live if times[k] - times[last_seen[i]] <= max_gap_s]
        for class_name in sorted({d.class_name for d in frame}):
            dets = [d for d in frame if d.class_name == class_name]
            cands = [i for i in live if tracks[i].class_name == class_name]
            matched: set[int] = set()
            if cands:
                predicted = np.array([_predict(tracks[i], k) for i in cands])
                boxes = np.array([d.box for d in dets])
                overlap = iou_matrix(boxes, predicted)
                near = _nearness(boxes, predicted)
                link = (overlap >= min_iou) | (near > 0)
                gain = np.where(link, overlap + 0.1 * near, 0.0)
                for r, c in zip(*linear_sum_assignment(gain, maximize=True), strict=True):
                    if link[r, c]:
                        _put(tracks[cands[c]], k, dets[r])
                        last_seen[cands[c]] = k
                        matched.add(int(r))
            for r, det in enumerate(dets):
                if r in matched:
                    continue
                track = Track(
                    track_id=len(tracks),
                    class_name=class_name,
                    times_s=times,
                    boxes=np.full((n, 4), np.nan),
                    scores=np.full(n, np.nan),
                )
                _put(track, k, det)
                tracks.append(track)
                live.append(track.track_id)
                last_seen[track.track_id] = k
    tracks.sort(key=lambda t: (-int(t.seen.sum()), t.track_id))
    return tracks


def _predict(track: Track, k: int) -> np.ndarray:
    """Where the track's box should be at frame ``k``: its last box moved on at the
    velocity between its last two sightings (no move with a single sighting)."""
    seen = np.flatnonzero(track.seen[:k])
    last = track.boxes[seen[-1]]
    if len(seen) < 2:
        return last
    before = track.boxes[seen[-2]]
    t = track.times_s
    velocity = (last - before) / max(t[seen[-1]] - t[seen[-2]], 1e-9)
    return last + velocity * (t[k] - t[seen[-1]])


def _nearness(boxes: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """``1 - d / size`` clipped at 0: ``d`` the distance between the centres of each
    detection and each predicted box, ``size`` the predicted box's larger side."""
    centres = 0.5 * (boxes[:, None, :2] + boxes[:, None, 2:])
    expected = 0.5 * (predicted[None, :, :2] + predicted[None, :, 2:])
    size = np.maximum(
        predicted[None, :, 2] - predicted[None, :, 0], predicted[None, :, 3] - predicted[None, :, 1]
    )
    return np.clip(
        1.0 - np.linalg.norm(centres - expected, axis=2) / np.maximum(size, 1e-6), 0.0, None
    )


def _put(track: Track, k: int, det: Detection) -> None:
    track.boxes[k] = det.box
    track.scores[k] = det.score
