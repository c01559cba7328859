"""Layout metrics: how well a planned VSL matches the ground truth of a scene.

Two families, both computed over an evaluation grid of times (the ground truth's
``times_s``):

* **What a user feels**, per ground-truth source, after associating each source with
  one planned object (:func:`match_objects`): box-centre error in normalized x,
  left/centre/right accuracy for static sources, direction-of-motion accuracy for
  sources crossing the view, approach/recede accuracy from the box-size trend, label
  accuracy and mean IoU.
* **The paper's layout-similarity metrics** (SpA2V, Pham et al. 2025, Table 1),
  per frame between the planned and the true layout, label-aware and independent of
  the association: MaxIoU, LTSim and DocSim (definitions with each function).

All functions are pure functions over numpy arrays or :class:`~spa2v.planning.vsl.VSL`
objects; boxes are normalized ``[x0, y0, x1, y1]``.

Conventions chosen here (documented because the papers leave them open):

* left/centre/right are the thirds of the frame in x (``x < 1/3`` is left, i.e. an
  azimuth above ``atan(1/3)`` = 18.4 deg to the left for the 90 deg camera);
* a frame where a source is visible but its planned object is absent counts as a
  centre error of :data:`MISSING_CENTRE_ERROR` (0.5, as far off as the frame
  half-width) and an IoU of 0;
* the per-frame MaxIoU/LTSim/DocSim are averaged over the frames where at least one
  true box is visible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment, linprog

from spa2v.camera import horizontal_zone, x_to_azimuth
from spa2v.planning.vsl import VSL, Box, VSLBox, VSLFrame, VSLObject, motion_from_boxes

#: Centre error charged for a frame where a visible source has no planned box.
MISSING_CENTRE_ERROR = 0.5

#: Sources whose true azimuth is closer than this (deg) to an edge between thirds of the
#: view (+-18.4 deg) are left out of the secondary L/C/R figure ``lcr_clear_acc``: any
#: estimator with a degree or two of error puts them in either third by chance.
LCR_EDGE_MARGIN_DEG = 2.0
#: Azimuth (deg) of the edges between the left, centre and right thirds (x = 1/3, 2/3).
THIRD_EDGE_DEG = float(x_to_azimuth(1.0 / 3.0))

LATERAL_MOTIONS = ("left-to-right", "right-to-left")
DEPTH_MOTIONS = ("approaching", "receding")


# -- box geometry -------------------------------------------------------------------------


def iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray, generalized: bool = False) -> np.ndarray:
    """IoU (or generalized IoU, Rezatofighi et al. CVPR 2019) of every pair, ``(N, M)``.

    >>> iou_matrix(np.array([[0, 0, 1, 1.0]]), np.array([[0, 0, 0.5, 1.0]])).round(2)
    array([[0.5]])
    """
    a = np.asarray(boxes_a, dtype=float).reshape(-1, 1, 4)
    b = np.asarray(boxes_b, dtype=float).reshape(1, -1, 4)
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    inter_w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    inter_h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = inter_w * inter_h
    union = area_a + area_b - inter
    iou = inter / np.maximum(union, 1e-12)
    if not generalized:
        return iou
    hull = (np.maximum(a[..., 2], b[..., 2]) - np.minimum(a[..., 0], b[..., 0])) * (
        np.maximum(a[..., 3], b[..., 3]) - np.minimum(a[..., 1], b[..., 1])
    )
    return iou - (hull - union) / np.maximum(hull, 1e-12)


def centre_x(boxes: np.ndarray) -> np.ndarray:
    """Horizontal centre of each box (NaN rows stay NaN)."""
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    return 0.5 * (boxes[:, 0] + boxes[:, 2])


# -- the paper's layout-similarity metrics ------------------------------------------------


def max_iou(
    pred_boxes: np.ndarray,
    pred_labels: Sequence[str],
    true_boxes: np.ndarray,
    true_labels: Sequence[str],
) -> float:
    """MaxIoU of one predicted layout against its true layout, in [0, 1].

    Kikuchi et al., "Constrained Graphic Layout Generation via Latent Optimization"
    (ACM MM 2021), in the paired form used by LayoutFormer++ (Jiang et al., CVPR 2023)
    and LayoutDM (Inoue et al., CVPR 2023): for each label, the one-to-one assignment
    between true and predicted boxes of that label that maximizes the summed IoU
    (Hungarian algorithm); the sum over labels divided by the number of true boxes.

    >>> b = np.array([[0.1, 0.1, 0.3, 0.3], [0.6, 0.6, 0.9, 0.9]])
    >>> max_iou(b, ["car", "dog"], b, ["car", "dog"])
    1.0
    >>> max_iou(b, ["dog", "car"], b, ["car", "dog"])  # right places, wrong labels
    0.0
    """
    true_boxes = np.asarray(true_boxes, dtype=float).reshape(-1, 4)
    pred_boxes = np.asarray(pred_boxes, dtype=float).reshape(-1, 4)
    if len(true_boxes) == 0:
        raise ValueError("max_iou needs at least one true box")
    total = 0.0
    for label in set(true_labels):
        ti = [i for i, lab in enumerate(true_labels) if lab == label]
        pj = [j for j, lab in enumerate(pred_labels) if lab == label]
        if not pj:
            continue
        iou = iou_matrix(true_boxes[ti], pred_boxes[pj])
        rows, cols = linear_sum_assignment(iou, maximize=True)
        total += float(iou[rows, cols].sum())
    return total / len(true_boxes)


def _docsim_weight(box_a: np.ndarray, box_b: np.ndarray) -> float:
    """READ's box-pair weight: ``sqrt(min area) * 2 ** (-dc - 2 * ds)``."""
    w_a, h_a = box_a[2] - box_a[0], box_a[3] - box_a[1]
    w_b, h_b = box_b[2] - box_b[0], box_b[3] - box_b[1]
    dc = math.hypot(
        0.5 * (box_a[0] + box_a[2] - box_b[0] - box_b[2]),
        0.5 * (box_a[1] + box_a[3] - box_b[1] - box_b[3]),
    )
    ds = abs(w_a - w_b) + abs(h_a - h_b)
    alpha = math.sqrt(max(min(w_a * h_a, w_b * h_b), 0.0))
    return alpha * 2.0 ** (-dc - 2.0 * ds)


def docsim(
    pred_boxes: np.ndarray,
    pred_labels: Sequence[str],
    true_boxes: np.ndarray,
    true_labels: Sequence[str],
    max_count_diff: int = 3,
) -> float:
    """DocSim of two layouts (Patil et al., "READ: Recursive Autoencoders for Document
    Layout Generation", CVPR Workshops 2020), as LayoutDM/LayoutFormer++ compute it.

    Boxes of the same label get the weight ``W = alpha * 2 ** (-dc - C_s * ds)`` with
    ``alpha = min(area_a, area_b) ** 0.5``, ``dc`` the distance between centres,
    ``ds = |w_a - w_b| + |h_a - h_b|`` and ``C_s = 2`` (different labels: 0); the
    maximum-weight one-to-one assignment (Hungarian) gives the pairs and DocSim is the
    mean weight over them. Layouts whose element counts differ by ``max_count_diff``
    or more score 0. The scale is that of ``sqrt(area)``: identical boxes covering a
    quarter of the frame score 0.5, not 1.

    >>> b = np.array([[0.0, 0.0, 0.5, 0.5]])
    >>> docsim(b, ["car"], b, ["car"])
    0.5
    """
    pred_boxes = np.asarray(pred_boxes, dtype=float).reshape(-1, 4)
    true_boxes = np.asarray(true_boxes, dtype=float).reshape(-1, 4)
    n, m = len(true_boxes), len(pred_boxes)
    if n == 0 or m == 0 or abs(n - m) >= max_count_diff:
        return 0.0
    weights = np.array(
        [
            [
                _docsim_weight(true_boxes[i], pred_boxes[j])
                if true_labels[i] == pred_labels[j]
                else 0.0
                for j in range(m)
            ]
            for i in range(n)
        ]
    )
    rows, cols = linear_sum_assignment(weights, maximize=True)
    return float(weights[rows, cols].mean())


def ltsim(
    pred_boxes: np.ndarray,
    pred_labels: Sequence[str],
    true_boxes: np.ndarray,
    true_labels: Sequence[str],
) -> float:
    """LTSim of two layouts, in (0, 1] (Otani et al., "LTSim: Layout Transportation-based
    Similarity Measure for Evaluating Layout Generation", arXiv 2407.12356, 2024).

    Each layout is a uniform distribution over its elements (mass ``1/N``); the cost
    of moving mass between two elements is
    ``0.5 * (1 - (GIoU + 1) / 2) + 0.5 * [labels differ]``; LTSim is
    ``exp(-EMD)`` with EMD the optimal-transport cost. Identical layouts score 1, and
    a layout against an empty one ``exp(-1)``, as in the authors' code.

    >>> b = np.array([[0.1, 0.1, 0.3, 0.3]])
    >>> ltsim(b, ["car"], b, ["car"])
    1.0
    >>> round(ltsim(b, ["dog"], b, ["car"]), 4)  # same box, other label: exp(-0.5)
    0.6065
    """
    pred_boxes = np.asarray(pred_boxes, dtype=float).reshape(-1, 4)
    true_boxes = np.asarray(true_boxes, dtype=float).reshape(-1, 4)
    n, m = len(true_boxes), len(pred_boxes)
    if n == 0 and m == 0:
        return 1.0
    if n == 0 or m == 0:
        return math.exp(-1.0)
    giou = iou_matrix(true_boxes, pred_boxes, generalized=True)
    label_diff = np.array([[float(a != b) for b in pred_labels] for a in true_labels])
    cost = 0.5 * (1.0 - (giou + 1.0) * 0.5) + 0.5 * label_diff
    return math.exp(-_emd_uniform(cost))


def _emd_uniform(cost: np.ndarray) -> float:
    """Optimal-transport cost between uniform distributions on the rows and columns.

    Written with scipy rather than the POT package (not a dependency): with equal
    counts the optimal plan is a permutation (Birkhoff-von Neumann), so the Hungarian
    algorithm solves it; otherwise the small transport LP goes to HiGHS.
    """
    n, m = cost.shape
    if n == m:
        rows, cols = linear_sum_assignment(cost)
        return float(cost[rows, cols].sum() / n)
    # Variables: the n*m plan entries, row sums 1/n, column sums 1/m.
    a_eq = np.zeros((n + m, n * m))
    for i in range(n):
        a_eq[i, i * m : (i + 1) * m] = 1.0
    for j in range(m):
        a_eq[n + j, j::m] = 1.0
    b_eq = np.concatenate([np.full(n, 1.0 / n), np.full(m, 1.0 / m)])
    result = linprog(cost.ravel(), A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    return float(result.fun)


# -- ground truth and per-clip scoring ----------------------------------------------------


@dataclass
class TruthTrack:
    """Ground truth of one source on the evaluation grid.

    ``boxes`` is ``(T, 4)`` with NaN rows where the source is out of view;
    ``motion`` is a VSL motion label; ``nouns`` are the drawable nouns a planner may
    fairly call it (the first is the canonical one).
    """

    nouns: tuple[str, ...]
    motion: str
    times_s: np.ndarray
    boxes: np.ndarray
    audio_label: str = ""

    @property
    def visible(self) -> np.ndarray:
        return ~np.isnan(self.boxes[:, 0])


@dataclass
class ClipScore:
    """Pooled per-item results of one clip (lists, so clips can be concatenated)."""

    centre_errors: list[float] = field(default_factory=list)  # per visible (frame, source)
    ious: list[float] = field(default_factory=list)  # per visible (frame, source)
    size_errors: list[float] = field(default_factory=list)  # |log2(h_pred/h_true)|, both seen
    lcr: list[bool] = field(default_factory=list)  # per static source
    lcr_clear: list[bool] = field(default_factory=list)  # ... >= LCR_EDGE_MARGIN_DEG from an edge
    lateral: list[bool] = field(default_factory=list)  # per crossing source
    depth: list[bool] = field(default_factory=list)  # per approaching/receding source
    labels: list[bool] = field(default_factory=list)  # per source: one of the accepted nouns
    labels_exact: list[bool] = field(default_factory=list)  # per source: the true noun itself
    max_iou: list[float] = field(default_factory=list)  # per frame with a true box
    ltsim: list[float] = field(default_factory=list)
    docsim: list[float] = field(default_factory=list)

    def extend(self, other: ClipScore) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))


def sample_boxes(vsl: VSL, times_s: np.ndarray) -> list[dict[int, Box]]:
    """The planned boxes at each evaluation time (interpolated between keyframes)."""
    return [vsl.boxes_at(float(t)) for t in times_s]


def _object_track(samples: list[dict[int, Box]], object_id: int) -> np.ndarray:
    """``(T, 4)`` boxes of one planned object, NaN rows where it is absent."""
    return np.array([s.get(object_id, (np.nan,) * 4) for s in samples], dtype=float)


def match_objects(
    pred_tracks: dict[int, np.ndarray],
    pred_names: dict[int, str],
    truth: Sequence[TruthTrack],
) -> dict[int, int]:
    """Associate each true source (index) with at most one planned object (id).

    Cost of a pair: the mean over evaluation times of ``|cx_pred - cx_true|`` where
    both are visible and 0.5 where only one is, plus 0.1 if the name does not match
    (a tie-break between two sources at similar places); Hungarian assignment.
    """
    ids = sorted(pred_tracks)
    if not ids or not truth:
        return {}
    cost = np.zeros((len(truth), len(ids)))
    for i, source in enumerate(truth):
        for j, object_id in enumerate(ids):
            track = pred_tracks[object_id]
            pred_vis, true_vis = ~np.isnan(track[:, 0]), source.visible
            both = pred_vis & true_vis
            per_frame = np.where(pred_vis ^ true_vis, 0.5, 0.0)
            per_frame[both] = np.abs(centre_x(track[both]) - centre_x(source.boxes[both]))
            counted = pred_vis | true_vis
            cost[i, j] = per_frame[counted].mean() if counted.any() else 0.5
            cost[i, j] += 0.0 if pred_names[object_id] in source.nouns else 0.1
    rows, cols = linear_sum_assignment(cost)
    return {int(r): ids[c] for r, c in zip(rows, cols, strict=True)}


def edge_distance_deg(x: float) -> float:
    """Distance (deg of azimuth) of the horizontal position ``x`` from the nearer edge
    between thirds of the view.

    >>> round(edge_distance_deg(0.5), 1), edge_distance_deg(1.0 / 3.0)
    (18.4, 0.0)
    """
    return abs(abs(float(x_to_azimuth(x))) - THIRD_EDGE_DEG)


def score_clip(vsl: VSL, truth: Sequence[TruthTrack]) -> ClipScore:
    """Score a planned layout against the ground truth of its clip.

    All ``truth`` tracks share the same ``times_s`` (the evaluation grid).
    """
    score = ClipScore()
    if not truth:
        return score
    times_s = truth[0].times_s
    samples = sample_boxes(vsl, times_s)
    names = {obj.id: obj.name for obj in vsl.objects}
    pred_tracks = {object_id: _object_track(samples, object_id) for object_id in names}
    matches = match_objects(pred_tracks, names, truth)

    for i, source in enumerate(truth):
        object_id = matches.get(i)
        missing = np.full_like(source.boxes, np.nan)
        track = pred_tracks.get(object_id, missing) if object_id is not None else missing
        vis = source.visible
        pred_vis = ~np.isnan(track[:, 0])
        both = vis & pred_vis
        err = np.full(len(times_s), MISSING_CENTRE_ERROR)
        err[both] = np.abs(centre_x(track[both]) - centre_x(source.boxes[both]))
        score.centre_errors.extend(err[vis].tolist())
        iou = np.zeros(len(times_s))
        for k in map(int, np.flatnonzero(both)):
            iou[k] = iou_matrix(track[k], source.boxes[k])[0, 0]
        score.ious.extend(iou[vis].tolist())
        heights_pred = track[both, 3] - track[both, 1]
        heights_true = source.boxes[both, 3] - source.boxes[both, 1]
        score.size_errors.extend(np.abs(np.log2(heights_pred / heights_true)).tolist())
        name = names[object_id] if object_id is not None else None
        score.labels.append(name in source.nouns)
        score.labels_exact.append(name == source.nouns[0])

        # Direction and motion are judged on what the camera shows: a source never in
        # view (e.g. an aircraft above the frame) counts for the label only.
        seen = track[pred_vis]
        if vis.sum() < 2:
            continue
        if source.motion == "static":
            true_cx = float(np.median(centre_x(source.boxes[vis])))
            true_zone = horizontal_zone(true_cx)
            pred_zone = horizontal_zone(float(np.median(centre_x(seen)))) if len(seen) else None
            score.lcr.append(pred_zone == true_zone)
            if edge_distance_deg(true_cx) >= LCR_EDGE_MARGIN_DEG:
                score.lcr_clear.append(pred_zone == true_zone)
        elif source.motion in LATERAL_MOTIONS:
            score.lateral.append(motion_from_boxes(seen, depth=False) == source.motion)
        elif source.motion in DEPTH_MOTIONS:
            score.depth.append(motion_from_boxes(seen, lateral=False) == source.motion)

    for k in range(len(times_s)):
        true_idx = [i for i, s in enumerate(truth) if s.visible[k]]
        if not true_idx:
            continue
        true_boxes = np.array([truth[i].boxes[k] for i in true_idx])
        true_labels = [truth[i].nouns[0] for i in true_idx]
        # A planned name that is one of a source's accepted nouns counts as its label.
        accepted = {noun: s.nouns[0] for s in truth for noun in s.nouns}
        pred_ids = sorted(samples[k])
        pred_boxes = np.array([samples[k][j] for j in pred_ids]).reshape(-1, 4)
        pred_labels = [accepted.get(names[j], names[j]) for j in pred_ids]
        score.max_iou.append(max_iou(pred_boxes, pred_labels, true_boxes, true_labels))
        score.ltsim.append(ltsim(pred_boxes, pred_labels, true_boxes, true_labels))
        score.docsim.append(docsim(pred_boxes, pred_labels, true_boxes, true_labels))
    return score


def summarize(score: ClipScore) -> dict[str, float]:
    """Means (and the p90 centre error) of pooled results; NaN where nothing counted.

    Keys: ``centre_error_mean``, ``centre_error_p90``, ``lcr_acc``, ``lcr_clear_acc``
    (L/C/R of the static sources at least :data:`LCR_EDGE_MARGIN_DEG` from an edge
    between thirds: a diagnostic beside the target, which counts every source),
    ``motion_acc``,
    ``approach_acc``, ``label_acc`` (any accepted noun), ``label_exact_acc`` (the true
    noun itself), ``miou``, ``size_error_log2`` (mean ``|log2(h_planned / h_true)|`` of
    box heights where both are in view: 1 = off by a factor of 2), ``max_iou``,
    ``ltsim``, ``docsim`` and the counts ``n_centre``, ``n_lcr``, ``n_lcr_clear``, ``n_motion``,
    ``n_approach``, ``n_sources``.
    """

    def mean(values: list[float] | list[bool]) -> float:
        return float(np.mean(values)) if values else math.nan

    errors = score.centre_errors
    return {
        "centre_error_mean": mean(errors),
        "centre_error_p90": float(np.percentile(errors, 90)) if errors else math.nan,
        "lcr_acc": mean(score.lcr),
        "lcr_clear_acc": mean(score.lcr_clear),
        "motion_acc": mean(score.lateral),
        "approach_acc": mean(score.depth),
        "label_acc": mean(score.labels),
        "label_exact_acc": mean(score.labels_exact),
        "miou": mean(score.ious),
        "size_error_log2": mean(score.size_errors),
        "max_iou": mean(score.max_iou),
        "ltsim": mean(score.ltsim),
        "docsim": mean(score.docsim),
        "n_centre": float(len(errors)),
        "n_lcr": float(len(score.lcr)),
        "n_lcr_clear": float(len(score.lcr_clear)),
        "n_motion": float(len(score.lateral)),
        "n_approach": float(len(score.depth)),
        "n_sources": float(len(score.labels)),
    }


# -- the floor ----------------------------------------------------------------------------


#: The baseline's box: 0.2 x 0.2 of the frame, centred, straddling the horizon as an
#: object on the ground at a middle distance does (camera model).
BASELINE_BOX: Box = (0.4, 0.4, 0.6, 0.6)


def centre_baseline(truth: Sequence[TruthTrack], duration_s: float, noun: str = "object") -> VSL:
    """The trivial "centre box" layout, the floor every planner must beat.

    It knows only how many sources there are: one static box per true source, all the
    same size (:data:`BASELINE_BOX`), centred, named ``noun`` (a generic "object" by
    default, so its label accuracy is 0). It knows nothing of direction, motion, distance
    or what is heard.
    """
    objects = [VSLObject(id=i, name=noun, motion="static") for i in range(len(truth))]
    boxes = [VSLBox(id=i, box=BASELINE_BOX) for i in range(len(truth))]
    frame = VSLFrame(t=0.0, caption="centre baseline", boxes=boxes)
    return VSL(duration=duration_s, fps=1.0 / duration_s, objects=objects, frames=[frame])
