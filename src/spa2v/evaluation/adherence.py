"""Layout adherence of a video: do the objects seen sit where the layout planned them?

Per planned object, over the evaluation times where the layout has its box, the
measures of Peekaboo (Jain et al., "Peekaboo: Interactive Video Generation via Masked
Diffusion", CVPR 2024), with the object's track (the seen track of its class that
overlaps its planned boxes most; one track per object, Hungarian assignment):

* ``coverage``: share of those times where the track is seen;
* ``miou``: mean IoU of seen and planned box where the track is seen;
* ``centroid_distance``: mean distance between the two box centres there (normalized
  coordinates: 1 = the frame's width or height);
* ``ap50``: average precision at IoU 0.5 of all detections of the object's class against
  the planned boxes of that class (VOC all-point interpolation; the same figure for
  objects sharing a class).

And per frame, the layout-similarity metrics of :mod:`spa2v.evaluation.layout_metrics`
(LTSim, MaxIoU) between the seen and the planned layout, averaged over the frames
with a planned box.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from spa2v.evaluation.detector import Detection
from spa2v.evaluation.layout_metrics import iou_matrix, ltsim, max_iou
from spa2v.evaluation.tracking import Track

#: A detection is a true positive for AP50 at this IoU with a planned box.
AP_IOU = 0.5


@dataclass
class PlannedObject:
    """One layout object on the evaluation grid: ``boxes`` ``(T, 4)``, NaN rows where
    the layout has no box; ``class_name`` is what the detector calls it (None: the
    detector has no such class, the object cannot be measured)."""

    object_id: int
    name: str
    class_name: str | None
    boxes: np.ndarray

    @property
    def planned(self) -> np.ndarray:
        return ~np.isnan(self.boxes[:, 0])


@dataclass
class ObjectAdherence:
    """The Peekaboo measures of one planned object (None where not measurable)."""

    object_id: int
    name: str
    class_name: str | None
    track_id: int | None
    n_planned: int
    coverage: float | None
    miou: float | None
    centroid_distance: float | None
    ap50: float | None
    note: str = ""


@dataclass
class Adherence:
    """Layout adherence of a video: per object and overall (means over objects)."""

    objects: list[ObjectAdherence] = field(default_factory=list)
    ltsim: float | None = None
    max_iou: float | None = None

    def _mean(self, name: str) -> float | None:
        values = [getattr(o, name) for o in self.objects if getattr(o, name) is not None]
        return float(np.mean(values)) if values else None

    @property
    def coverage(self) -> float | None:
        return self._mean("coverage")

    @property
    def miou(self) -> float | None:
        return self._mean("miou")

    @property
    def centroid_distance(self) -> float | None:
        return self._mean("centroid_distance")

    @property
    def ap50(self) -> float | None:
        return self._mean("ap50")

    def to_dict(self) -> dict[str, object]:
        return {
            "coverage": self.coverage,
            "miou": self.miou,
            "centroid_distance": self.centroid_distance,
            "ap50": self.ap50,
            "ltsim": self.ltsim,
            "max_iou": self.max_iou,
            "objects": [vars(o) for o in self.objects],
        }


def measure_adherence(
    planned: Sequence[PlannedObject],
    tracks: Sequence[Track],
    detections: Sequence[Sequence[Detection]],
) -> Adherence:
    """Compare what a video shows (``tracks``, and the raw per-frame ``detections`` for
    AP50) with the planned objects, all on the same evaluation grid."""
    assignment = _assign_tracks(planned, tracks)
    by_id = {t.track_id: t for t in tracks}
    ap = {
        cls: average_precision(planned, detections, cls)
        for cls in {p.class_name for p in planned if p.class_name}
    }
    result = Adherence()
    for obj in planned:
        n_planned = int(obj.planned.sum())
        if obj.class_name is None:
            result.objects.append(
                ObjectAdherence(
                    obj.object_id,
                    obj.name,
                    None,
                    None,
                    n_planned,
                    None,
                    None,
                    None,
                    None,
                    note=f"the detector has no class for {obj.name!r}",
                )
            )
            continue
        if n_planned == 0:
            result.objects.append(
                ObjectAdherence(
                    obj.object_id,
                    obj.name,
                    obj.class_name,
                    None,
                    0,
                    None,
                    None,
                    None,
                    None,
                    note="never in view in the layout",
                )
            )
            continue
        track = by_id.get(assignment.get(obj.object_id, -1))
        seen = track.seen & obj.planned if track is not None else np.zeros_like(obj.planned)
        coverage = float(seen.sum() / n_planned)
        miou = centroid = None
        if seen.any():
            a, b = obj.boxes[seen], track.boxes[seen]  # type: ignore[union-attr]
            miou = float(np.mean([iou_matrix(x, y)[0, 0] for x, y in zip(a, b, strict=True)]))
            centre_a = 0.5 * (a[:, :2] + a[:, 2:])
            centre_b = 0.5 * (b[:, :2] + b[:, 2:])
            centroid = float(np.mean(np.linalg.norm(centre_a - centre_b, axis=1)))
        result.objects.append(
            ObjectAdherence(
                obj.object_id,
                obj.name,
                obj.class_name,
                track.track_id if track is not None else None,
                n_planned,
                coverage,
                miou,
                centroid,
                ap[obj.class_name],
                note="" if track is not None else f"no {obj.class_name} seen",
            )
        )
    result.ltsim, result.max_iou = _layout_similarity(planned, tracks)
    return result


def _assign_tracks(planned: Sequence[PlannedObject], tracks: Sequence[Track]) -> dict[int, int]:
    """Object id -> track id: same class, most summed IoU with the planned boxes."""
    objects = [p for p in planned if p.class_name and p.planned.any()]
    if not objects or not tracks:
        return {}
    gain = np.zeros((len(objects), len(tracks)))
    for i, obj in enumerate(objects):
        for j, track in enumerate(tracks):
            if track.class_name != obj.class_name:
                continue
            both = obj.planned & track.seen
            if both.any():
                ious = [
                    iou_matrix(x, y)[0, 0]
                    for x, y in zip(obj.boxes[both], track.boxes[both], strict=True)
                ]
                # A track of the right class counts even where it never overlaps.
                gain[i, j] = float(np.sum(ious)) + 1e-3 * both.sum()
    rows, cols = linear_sum_assignment(gain, maximize=True)
    return {
        objects[r].object_id: tracks[c].track_id
        for r, c in zip(rows, cols, strict=True)
        if gain[r, c] > 0
    }


def average_precision(
    planned: Sequence[PlannedObject],
    detections: Sequence[Sequence[Detection]],
    class_name: str,
    iou_threshold: float = AP_IOU,
) -> float | None:
    """AP of the detections of ``class_name`` against the planned boxes of that class
    (VOC all-point interpolated precision-recall area); None with no planned box.

    >>> obj = PlannedObject(0, "car", "car", np.array([[0.1, 0.4, 0.5, 0.6]]))
    >>> hit = Detection((0.1, 0.4, 0.5, 0.6), "car", 0.9)
    >>> miss = Detection((0.6, 0.4, 0.9, 0.6), "car", 0.5)
    >>> average_precision([obj], [[hit, miss]], "car")  # the miss ranks below the hit
    1.0
    >>> average_precision([obj], [[miss.__class__(miss.box, "car", 0.95), hit]], "car")
    0.5
    """
    truth = [p for p in planned if p.class_name == class_name]
    n_truth = sum(int(p.planned.sum()) for p in truth)
    if n_truth == 0:
        return None
    scored: list[tuple[float, bool]] = []
    for k, frame in enumerate(detections):
        gts = np.array([p.boxes[k] for p in truth if p.planned[k]]).reshape(-1, 4)
        used = np.zeros(len(gts), bool)
        for det in sorted((d for d in frame if d.class_name == class_name), key=lambda d: -d.score):
            hit = False
            if len(gts):
                overlap = iou_matrix(np.array([det.box]), gts)[0]
                overlap[used] = -1.0
                j = int(np.argmax(overlap))
                if overlap[j] >= iou_threshold:
                    used[j] = hit = True
            scored.append((det.score, hit))
    if not scored:
        return 0.0
    scored.sort(key=lambda s: -s[0])
    hits = np.array([h for _, h in scored], dtype=float)
    true_pos = np.cumsum(hits)
    precision = true_pos / np.arange(1, len(hits) + 1)
    recall = true_pos / n_truth
    # All-point interpolation: precision made monotone from the right, summed over
    # the recall steps.
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    recall_steps = np.diff(np.concatenate([[0.0], recall]))
    return float(np.sum(precision * recall_steps))


def _layout_similarity(
    planned: Sequence[PlannedObject], tracks: Sequence[Track]
) -> tuple[float | None, float | None]:
    """Mean LTSim and MaxIoU of the seen against the planned layout per frame, over
    frames with a planned box (labels: the detector's classes)."""
    objects = [p for p in planned if p.class_name]
    if not objects:
        return None, None
    n = len(objects[0].boxes)
    lt, mi = [], []
    for k in range(n):
        true = [(p.boxes[k], p.class_name or "") for p in objects if p.planned[k]]
        if not true:
            continue
        seen = [(t.boxes[k], t.class_name) for t in tracks if t.seen[k]]
        true_boxes = np.array([b for b, _ in true])
        true_labels = [c for _, c in true]
        seen_boxes = np.array([b for b, _ in seen]).reshape(-1, 4)
        seen_labels = [c for _, c in seen]
        lt.append(ltsim(seen_boxes, seen_labels, true_boxes, true_labels))
        mi.append(max_iou(seen_boxes, seen_labels, true_boxes, true_labels))
    if not lt:
        return None, None
    return float(np.mean(lt)), float(np.mean(mi))


def planned_objects(
    boxes_per_time: Sequence[Mapping[int, Sequence[float]]],
    names: Mapping[int, str],
    classes: Mapping[int, str | None],
) -> list[PlannedObject]:
    """Planned objects on the evaluation grid from per-time ``{object_id: box}`` maps."""
    out = []
    for object_id in sorted(names):
        boxes = np.array(
            [s.get(object_id, (math.nan,) * 4) for s in boxes_per_time], dtype=float
        ).reshape(-1, 4)
        out.append(PlannedObject(object_id, names[object_id], classes[object_id], boxes))
    return out
