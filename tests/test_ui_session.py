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
