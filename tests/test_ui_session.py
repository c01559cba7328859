"""The web app's steps without a browser: table <-> layout, upload limits, layout plot."""

from __future__ import annotations

import pytest

from spa2v.errors import LayoutError, Spa2vError
from spa2v.interfaces.ui.session import (
    Limits,
    check_upload,
    plot_layout,
    rows_to_vsl,
    vsl_to_rows,
)
from spa2v.planning.vsl import parse_vsl


def _layout():
    return parse_vsl(
        {
            "schema": "spa2v.vsl/1",
            "duration": 1.0,
            "fps": 2.0,
            "objects": [{"id": 0, "name": "car", "motion": "left-to-right"}],
            "frames": [
                {"t": 0.0, "caption": "start", "boxes": [{"id": 0, "box": [0.1, 0.4, 0.3, 0.6]}]},
                {"t": 0.5, "caption": "mid", "boxes": [{"id": 0, "box": [0.4, 0.4, 0.6, 0.6]}]},
                {"t": 1.0, "caption": "end", "boxes": [{"id": 0, "box": [0.7, 0.4, 0.9, 0.6]}]},
            ],
        }
    )


def test_table_round_trip_keeps_the_layout():
    vsl = _layout()
    again = rows_to_vsl(vsl, vsl_to_rows(vsl))
    assert again.to_dict() == vsl.to_dict()


def test_edited_cell_moves_that_keyframe_box_only():
    vsl = _layout()
    rows = vsl_to_rows(vsl)
    rows[1][3], rows[1][5] = "0.05", "0.25"  # the browser sends edited cells as text
    edited = rows_to_vsl(vsl, rows)
    assert edited.frames[1].boxes[0].box == (0.05, 0.4, 0.25, 0.6)
    assert edited.frames[0].boxes[0].box == vsl.frames[0].boxes[0].box
    assert [f.caption for f in edited.frames] == ["start", "mid", "end"]


def test_invalid_edit_is_a_layout_error_naming_the_field():
    rows = vsl_to_rows(_layout())
    rows[0][3] = "0.5"  # x0 > x1
    with pytest.raises(LayoutError, match="x0"):
        rows_to_vsl(_layout(), rows)
    rows = vsl_to_rows(_layout())
    rows[2][4] = "left"
    with pytest.raises(LayoutError, match="row 3"):
        rows_to_vsl(_layout(), rows)


def test_upload_limits(tmp_path):
    big = tmp_path / "big.wav"
    big.write_bytes(b"\0" * 2_000_000)
    with pytest.raises(Spa2vError, match="accepts up to 1 MB"):
        check_upload(big, Limits(max_upload_mb=1))
    assert check_upload(big, Limits(max_upload_mb=5)) == big
    with pytest.raises(Spa2vError, match="no file"):
        check_upload(tmp_path / "missing.wav", Limits())


def test_layout_plot_is_a_png(tmp_path):
    path = plot_layout(_layout(), tmp_path / "layout.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ui_without_gradio_is_a_one_line_install_hint(monkeypatch, capsys):
    import sys

    from spa2v.interfaces.cli import main

    monkeypatch.setitem(sys.modules, "gradio", None)  # as in a core install
    code = main(["ui", "--port", "1"])
    err = capsys.readouterr().err.strip()
    assert code == 3
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert "pip install 'spa2v[ui]'" in err


def test_request_folders_are_removed_after_the_configured_time(tmp_path):
    import os
    import time

    from spa2v.interfaces.ui.session import new_workdir, remove_expired, start_cleaner

    old, fresh = new_workdir(tmp_path), new_workdir(tmp_path)
    (old / "input.wav").write_bytes(b"x")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert remove_expired(tmp_path, keep_s=1800) == [old]
    assert not old.exists() and fresh.is_dir()
    (tmp_path / "not-ours").mkdir()  # folders the app did not make are left alone
    os.utime(tmp_path / "not-ours", (an_hour_ago, an_hour_ago))
    assert remove_expired(tmp_path, keep_s=1800) == []

    stop = start_cleaner(tmp_path, keep_s=0.5, interval_s=0.1)  # as `spa2v ui` runs it
    try:
        deadline = time.monotonic() + 10
        while fresh.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    assert not fresh.exists() and (tmp_path / "not-ours").is_dir()


def test_errors_shown_to_users_name_their_file_not_server_paths(tmp_path):
    from spa2v.interfaces.ui.session import hear_and_plan

    upload = tmp_path / "uploads" / "my recording.wav"
    upload.parent.mkdir()
    upload.write_text("not audio at all")
    root = tmp_path / "work"
    with pytest.raises(Spa2vError) as info:
        hear_and_plan(upload, limits=Limits(), root=root)
    message = str(info.value)
    assert "my recording.wav" in message
    assert str(tmp_path) not in message and "input.wav" not in message, message
    assert list(root.iterdir()) == []  # the failed request's folder is gone
