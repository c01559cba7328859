"""Layout metrics on hand-built layouts whose answers follow from the definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spa2v.camera import azimuth_to_x, horizontal_zone
from spa2v.evaluation.layout_metrics import (
    MISSING_CENTRE_ERROR,
    THIRD_EDGE_DEG,
    TruthTrack,
    centre_baseline,
    docsim,
    edge_distance_deg,
    iou_matrix,
    ltsim,
    match_objects,
    max_iou,
    score_clip,
    summarize,
)
from spa2v.planning.vsl import VSL, VSLBox, VSLFrame, VSLObject

TIMES_S = np.linspace(0.0, 4.0, 17)


def _track(cx: np.ndarray, half_w: float | np.ndarray = 0.05, y0: float = 0.4, y1=0.6):
    """Boxes ``(T, 4)`` centred at ``cx`` with a half-width and fixed or varying y."""
    cx = np.asarray(cx, dtype=float)
    half_w = np.broadcast_to(half_w, cx.shape)
    y0 = np.broadcast_to(y0, cx.shape)
    y1 = np.broadcast_to(y1, cx.shape)
    return np.stack([cx - half_w, y0, cx + half_w, y1], axis=1)


def _vsl(tracks: dict[int, tuple[str, np.ndarray]], times_s: np.ndarray = TIMES_S) -> VSL:
    """A VSL with one keyframe per time; NaN rows leave the object out of that frame."""
    objects = [VSLObject(id=i, name=name) for i, (name, _) in tracks.items()]
    frames = []
    for k, t in enumerate(times_s):
        boxes = [
            VSLBox(id=i, box=tuple(float(v) for v in b[k]))
            for i, (_, b) in tracks.items()
            if not np.isnan(b[k, 0])
        ]
        frames.append(VSLFrame(t=float(t), boxes=boxes))
    return VSL(duration=float(times_s[-1]), fps=4.0, objects=objects, frames=frames)


def test_iou_and_generalized_iou_of_known_pairs() -> None:
    a = np.array([[0.0, 0.0, 0.2, 0.1]])
    shifted = np.array([[0.1, 0.0, 0.3, 0.1]])  # overlaps half: inter 1 unit, union 3
    disjoint = np.array([[0.4, 0.0, 0.6, 0.1]])  # hull 6 units, union 4
    assert iou_matrix(a, a)[0, 0] == pytest.approx(1.0)
    assert iou_matrix(a, shifted)[0, 0] == pytest.approx(1 / 3)
    assert iou_matrix(a, disjoint)[0, 0] == 0.0
    assert iou_matrix(a, disjoint, generalized=True)[0, 0] == pytest.approx(-(6 - 4) / 6)
    assert iou_matrix(a, np.vstack([a, shifted])).shape == (1, 2)


def test_max_iou() -> None:
    left, right = [0.1, 0.4, 0.3, 0.6], [0.7, 0.4, 0.9, 0.6]
    truth = np.array([left, right])
    assert max_iou(truth, ["car", "dog"], truth, ["car", "dog"]) == pytest.approx(1.0)
    # Same places, labels swapped: MaxIoU only matches boxes of the same label.
    assert max_iou(truth, ["dog", "car"], truth, ["car", "dog"]) == 0.0
    # Two boxes of one label listed in the other order: the assignment finds them.
    assert max_iou(truth[::-1], ["car", "car"], truth, ["car", "car"]) == pytest.approx(1.0)
    # One of two true boxes predicted exactly, the other missing: (1 + 0) / 2.
    assert max_iou(truth[:1], ["car"], truth, ["car", "dog"]) == pytest.approx(0.5)
    # An extra predicted box does not lower it (the sum is over true boxes).
    extra = np.vstack([truth, [[0.4, 0.1, 0.5, 0.2]]])
    assert max_iou(extra, ["car", "dog", "car"], truth, ["car", "dog"]) == pytest.approx(1.0)


def test_docsim_follows_the_read_weight() -> None:
    box = np.array([[0.0, 0.0, 0.5, 0.5]])
    assert docsim(box, ["car"], box, ["car"]) == pytest.approx(0.5)  # sqrt(0.25)
    # Shifted by 0.2 in x, same size: sqrt(0.25) * 2 ** -0.2.
    moved = box + np.array([0.2, 0.0, 0.2, 0.0])
    assert docsim(moved, ["car"], box, ["car"]) == pytest.approx(0.5 * 2**-0.2)
    # Width 0.1 larger: ds = 0.1, alpha from the smaller area.
    wider = np.array([[0.0, 0.0, 0.6, 0.5]])
    expected = math.sqrt(0.25) * 2 ** (-0.05 - 2 * 0.1)
    assert docsim(wider, ["car"], box, ["car"]) == pytest.approx(expected)
    assert docsim(box, ["dog"], box, ["car"]) == 0.0
    four = np.tile(box, (4, 1))
    assert docsim(four, ["car"] * 4, box, ["car"]) == 0.0  # counts differ by 3


def test_ltsim_is_exp_of_the_transport_cost() -> None:
    box = np.array([[0.1, 0.1, 0.3, 0.3]])
    assert ltsim(box, ["car"], box, ["car"]) == pytest.approx(1.0)
    assert ltsim(box, ["dog"], box, ["car"]) == pytest.approx(math.exp(-0.5))
    assert ltsim(np.zeros((0, 4)), [], box, ["car"]) == pytest.approx(math.exp(-1.0))
    # Unequal counts go through the LP: two exact copies of the one true box cost 0.
    assert ltsim(np.vstack([box, box]), ["car", "car"], box, ["car"]) == pytest.approx(1.0)
    # One exact copy and one far box, each with mass 1/2: cost is half the far one's.
    far = np.array([[0.7, 0.1, 0.9, 0.3]])
    giou_far = iou_matrix(box, far, generalized=True)[0, 0]
    far_cost = 0.5 * (1 - (giou_far + 1) / 2)
    got = ltsim(np.vstack([box, far]), ["car", "car"], box, ["car"])
    assert got == pytest.approx(math.exp(-0.5 * far_cost))


def test_zones() -> None:
    assert [horizontal_zone(x) for x in (0.2, 0.5, 0.8)] == ["left", "centre", "right"]


def _crossing_truth() -> TruthTrack:
    return TruthTrack(
        nouns=("car", "truck"),
        motion="right-to-left",
        times_s=TIMES_S,
        boxes=_track(np.linspace(0.85, 0.15, len(TIMES_S))),
    )


def test_identical_layout_scores_perfectly() -> None:
    truth = _crossing_truth()
    score = summarize(score_clip(_vsl({0: ("car", truth.boxes)}), [truth]))
    assert score["centre_error_mean"] == pytest.approx(0.0, abs=1e-9)
    assert score["miou"] == pytest.approx(1.0)
    assert score["max_iou"] == pytest.approx(1.0)
    assert score["ltsim"] == pytest.approx(1.0)
    assert score["docsim"] == pytest.approx(math.sqrt(0.1 * 0.2))
    assert score["motion_acc"] == 1.0
    assert score["label_acc"] == 1.0
    assert math.isnan(score["lcr_acc"])  # no static source in this clip


def test_shifted_box_has_centre_error_equal_to_the_shift() -> None:
    truth = _crossing_truth()
    shifted = truth.boxes + np.array([0.07, 0.0, 0.07, 0.0])
    score = summarize(score_clip(_vsl({0: ("truck", shifted)}), [truth]))
    assert score["centre_error_mean"] == pytest.approx(0.07)
    assert score["centre_error_p90"] == pytest.approx(0.07)
    assert score["label_acc"] == 1.0  # "truck" is an accepted noun for this source
    assert score["label_exact_acc"] == 0.0  # but not the true noun "car"
    assert score["max_iou"] == pytest.approx(0.03 / 0.17)  # width 0.1, overlap 0.03


def test_reversed_direction_and_wrong_label_fail() -> None:
    truth = _crossing_truth()
    score = summarize(score_clip(_vsl({0: ("dog", truth.boxes[::-1])}), [truth]))
    assert score["motion_acc"] == 0.0
    assert score["label_acc"] == 0.0
    assert score["max_iou"] < 0.3  # only frames near the middle overlap, and label differs


def test_missing_frames_cost_the_missing_error() -> None:
    truth = _crossing_truth()
    planned = truth.boxes.copy()
    planned[: len(TIMES_S) // 2] = np.nan  # absent for the first 8 of 17 keyframes
    clip = score_clip(_vsl({0: ("car", planned)}), [truth])
    assert clip.centre_errors[:8] == [MISSING_CENTRE_ERROR] * 8
    assert clip.centre_errors[8:] == pytest.approx([0.0] * 9)
    assert clip.ious[:8] == [0.0] * 8


def test_static_sources_left_centre_right_and_matching() -> None:
    n = len(TIMES_S)
    truth = [
        TruthTrack(("piano",), "static", TIMES_S, _track(np.full(n, 0.2))),
        TruthTrack(("violin",), "static", TIMES_S, _track(np.full(n, 0.8))),
    ]
    # Objects declared in the other order; the violin planned in the centre.
    planned = _vsl({0: ("violin", _track(np.full(n, 0.55))), 1: ("piano", _track(np.full(n, 0.2)))})
    names = {0: "violin", 1: "piano"}
    tracks = {0: _track(np.full(n, 0.55)), 1: _track(np.full(n, 0.2))}
    assert match_objects(tracks, names, truth) == {0: 1, 1: 0}
    score = summarize(score_clip(planned, truth))
    assert score["lcr_acc"] == 0.5
    assert score["centre_error_mean"] == pytest.approx((0.0 + 0.25) / 2)
    assert score["n_lcr"] == 2


def test_lcr_clear_leaves_out_sources_near_an_edge_between_thirds() -> None:
    n = len(TIMES_S)
    near_x = float(azimuth_to_x(THIRD_EDGE_DEG + 1.0))  # left third, 1 deg from its edge
    truth = [
        TruthTrack(("piano",), "static", TIMES_S, _track(np.full(n, near_x))),
        TruthTrack(("violin",), "static", TIMES_S, _track(np.full(n, 0.8))),
    ]
    # The piano planned 2 deg off, across the edge; the violin in its third.
    planned = _vsl(
        {
            0: ("piano", _track(np.full(n, float(azimuth_to_x(THIRD_EDGE_DEG - 1.0))))),
            1: ("violin", _track(np.full(n, 0.75))),
        }
    )
    score = summarize(score_clip(planned, truth))
    assert score["lcr_acc"] == 0.5 and score["n_lcr"] == 2
    assert score["lcr_clear_acc"] == 1.0 and score["n_lcr_clear"] == 1
    assert edge_distance_deg(near_x) == pytest.approx(1.0)


def test_approaching_source_is_judged_by_box_height() -> None:
    heights = np.linspace(0.1, 0.4, len(TIMES_S))
    boxes = _track(np.full(len(TIMES_S), 0.4), half_w=heights / 2, y0=0.6 - heights, y1=0.6)
    truth = TruthTrack(("car",), "approaching", TIMES_S, boxes)
    assert summarize(score_clip(_vsl({0: ("car", boxes)}), [truth]))["approach_acc"] == 1.0
    receding = boxes[::-1]
    assert summarize(score_clip(_vsl({0: ("car", receding)}), [truth]))["approach_acc"] == 0.0


def test_centre_baseline_error_is_the_distance_from_the_centre() -> None:
    truth = _crossing_truth()
    baseline = centre_baseline([truth], duration_s=4.0)
    assert len(baseline.frames) == 1 and baseline.objects[0].name == "object"
    score = summarize(score_clip(baseline, [truth]))
    assert score["label_acc"] == 0.0  # it knows nothing of what is heard
    expected = np.mean(np.abs(np.linspace(0.85, 0.15, len(TIMES_S)) - 0.5))
    assert score["centre_error_mean"] == pytest.approx(expected)
    assert score["motion_acc"] == 0.0  # a static box never crosses


def test_source_never_in_view_counts_for_the_label_only() -> None:
    hidden = np.full((len(TIMES_S), 4), np.nan)
    truth = TruthTrack(("helicopter",), "right-to-left", TIMES_S, hidden)
    score = summarize(score_clip(_vsl({0: ("helicopter", hidden)}), [truth]))
    assert score["n_motion"] == 0 and math.isnan(score["motion_acc"])
    assert score["n_centre"] == 0
    assert score["label_acc"] == 1.0


def test_size_error_is_the_log2_height_ratio() -> None:
    truth = _crossing_truth()  # boxes 0.2 tall
    taller = truth.boxes.copy()
    taller[:, 1] = 0.2  # 0.4 tall: twice the true height
    score = summarize(score_clip(_vsl({0: ("car", taller)}), [truth]))
    assert score["size_error_log2"] == pytest.approx(1.0)
    assert score["centre_error_mean"] == pytest.approx(0.0, abs=1e-9)
