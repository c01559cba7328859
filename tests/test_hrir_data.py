"""The shipped KEMAR HRIRs: binaural hearing without an audio-playback library, a checksum
that catches a corrupted file, and a file that its script regenerates byte for byte."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from spa2v.errors import BackendUnavailableError
from spa2v.hearing.hrtf import kemar_table
from spa2v.interfaces.cli import main
from spa2v.io import hrir

REPO_ROOT = Path(__file__).resolve().parents[1]
SR = 48_000
ITD_S = 300e-6  # a spherical head of radius 8.75 cm: a source ~34 deg off the median plane


def _two_ear_noise(path: Path, left: bool) -> Path:
    """Noise reaching one ear ``ITD_S`` earlier and 6 dB louder than the other.

    Not rendered with KEMAR: the interaural cues are a plain delay and gain, so the test
    does not need the loader it checks to make its input.
    """
    x = 0.2 * np.random.default_rng(0).standard_normal(2 * SR)
    lag = round(ITD_S * SR)
    near, far = x, 0.5 * np.concatenate([np.zeros(lag), x[:-lag]])
    ears = [near, far] if left else [far, near]
    sf.write(path, np.stack(ears).T.astype(np.float32), SR)
    return path


# Runs in a fresh interpreter: importing sounddevice or slab raises ImportError (as it does
# on a machine without PortAudio) and every attempt is recorded, even one caught by spa2v.
_NO_PLAYBACK_LIBRARY = """
import json, sys
from importlib.abc import MetaPathFinder

attempts = []

class Block(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"sounddevice", "_sounddevice", "slab"}:
            attempts.append(name)
            raise ImportError(f"{name} is blocked (no PortAudio here)")
        return None

sys.meta_path.insert(0, Block())
from spa2v.interfaces.cli import main

codes = [main(["cues", wav, "--layout", "binaural", "--no-tags", "-o", out])
         for wav, out in zip(sys.argv[1::2], sys.argv[2::2])]
print(json.dumps({"codes": codes, "attempts": attempts}))
"""


def test_binaural_hearing_works_without_sounddevice_or_slab(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    env = {
        **os.environ,
        "SPA2V_CACHE": str(cache),
        "SPA2V_CACHE_DIR": str(cache),
        "XDG_CACHE_HOME": str(cache),
    }
    args = []
    for side in ("left", "right"):
        args += [str(_two_ear_noise(tmp_path / f"{side}.wav", side == "left"))]
        args += [str(tmp_path / f"{side}.json")]
    done = subprocess.run(
        [sys.executable, "-c", _NO_PLAYBACK_LIBRARY, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"codes": [0, 0], "attempts": []}, report
    for side, sign in (("left", 1.0), ("right", -1.0)):
        sources = json.loads((tmp_path / f"{side}.json").read_text())["sources"]
        assert len(sources) == 1, side
        azimuth_deg = float(np.nanmedian(np.asarray(sources[0]["azimuth_deg"], dtype=float)))
        # measured: +34 / -34 deg; the spherical-head azimuth of a 300 us ITD is ~35 deg
        assert 29.0 <= sign * azimuth_deg <= 39.0, (side, azimuth_deg)


@pytest.fixture
def corrupted_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "mit_kemar_hrir.npz"
    data = bytearray(hrir.KEMAR_FILE.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    return copy


def test_a_corrupted_hrir_file_is_refused_with_one_line(corrupted_copy: Path) -> None:
    with pytest.raises(BackendUnavailableError) as info:
        hrir.load_kemar(corrupted_copy)
    message = str(info.value)
    assert "\n" not in message
    assert f"KEMAR HRIR file {corrupted_copy} is corrupt" in message
    assert hrir.KEMAR_SHA256[:12] in message
    shutil.copyfile(hrir.KEMAR_FILE, corrupted_copy)  # the intact bytes pass the same check
    assert hrir.load_kemar(corrupted_copy).hrirs.shape == (710, 2, 512)


def test_binaural_cues_with_a_corrupted_shipped_file_fail_in_one_line(
    corrupted_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    wav = _two_ear_noise(tmp_path / "left.wav", left=True)
    monkeypatch.setattr(hrir, "KEMAR_FILE", corrupted_copy)
    hrir._shipped_kemar.cache_clear()
    kemar_table.cache_clear()
    try:
        code = main(["cues", str(wav), "--layout", "binaural", "--no-tags"])
    finally:
        hrir._shipped_kemar.cache_clear()
        kemar_table.cache_clear()
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == BackendUnavailableError.exit_code
    assert len(lines) == 1 and f"{corrupted_copy} is corrupt" in lines[0], lines


@pytest.mark.skipif(importlib.util.find_spec("slab") is None, reason="needs slab's data file")
def test_the_shipped_file_is_regenerated_byte_for_byte_from_slabs_copy() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "make_kemar_data.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert "matches the pin" in done.stdout
