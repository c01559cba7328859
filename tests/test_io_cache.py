"""The one cache folder: one environment variable, the platform's folder otherwise."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from spa2v.hearing.tagging import model_files
from spa2v.io.cache import cache_dir, cache_root
from spa2v.sim import _util


def test_the_variable_moves_every_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SPA2V_CACHE_DIR", str(tmp_path / "new"))
    monkeypatch.setenv("SPA2V_CACHE", str(tmp_path / "old"))
    assert cache_root() == tmp_path / "new"
    assert _util.cache_dir() == tmp_path / "new" / "sim"  # the simulator's renders
    assert cache_dir("yamnet") == tmp_path / "new" / "yamnet"  # the tagger's model


def test_the_older_name_still_works(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SPA2V_CACHE_DIR", raising=False)
    monkeypatch.setenv("SPA2V_CACHE", str(tmp_path))
    assert cache_root() == tmp_path


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG convention is Linux's")
def test_default_is_the_platform_user_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SPA2V_CACHE_DIR", raising=False)
    monkeypatch.delenv("SPA2V_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "spa2v"


def test_the_model_is_extracted_into_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SPA2V_CACHE_DIR", str(tmp_path))
    model_files.model_path.cache_clear()
    try:
        assert model_files.model_path().is_relative_to(tmp_path / "yamnet")
    finally:
        model_files.model_path.cache_clear()
