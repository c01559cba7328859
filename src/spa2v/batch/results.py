"""The results table of a batch: one row per input, as ``results.csv`` (for people,
always written) and ``results.parquet`` (for pandas, Polars, DuckDB, Spark).

Columns (:data:`COLUMNS`): ``input``, ``clip_id``, ``status`` ("ok", "failed"),
``error`` (one line), ``duration_s``, ``stereo_kind`` (the channel layout heard:
mono, spaced, panned, binaural, foa), ``labels`` (the tagger's top AudioSet label per
heard source), ``objects`` and ``motion`` (the drawn objects and their motion),
``warnings``, seconds per stage (``load_s``, ``hear_s``, ``tag_s``, ``plan_s``,
``render_s``, ``eval_s``, ``total_s``), the written files (``video_path``,
``cues_path``, ``layout_path``, ``cue_plot_path``, ``storyboard_path``,
``evaluation_path``, relative to the batch's folder) and, with ``--eval``, the video's
evaluation (``spa2v eval``): ``eval_coverage``, ``eval_miou``, ``eval_ltsim``,
``eval_av_align``, ``eval_spatial_score`` and ``eval_spatial_verdict``.
List columns are lists in Parquet and ``"; "``-joined text in the CSV.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spa2v.batch.csv_cells import RESULTS_MAX_CELL, cell_limit
from spa2v.io.atomic import atomic_path, write_text_atomic

LIST_COLUMNS = ("labels", "objects", "motion", "warnings")
TIMING_COLUMNS = ("load_s", "hear_s", "tag_s", "plan_s", "render_s", "eval_s", "total_s")
PATH_COLUMNS = (
    "video_path",
    "cues_path",
    "layout_path",
    "cue_plot_path",
    "storyboard_path",
    "evaluation_path",
)
#: The evaluation's headline figures (``VideoEvaluation.figures()``), empty without --eval.
EVAL_FIGURES = ("coverage", "miou", "ltsim", "av_align", "spatial_score", "spatial_verdict")
EVAL_COLUMNS = tuple(f"eval_{name}" for name in EVAL_FIGURES)
COLUMNS = (
    "input",
    "clip_id",
    "status",
    "error",
    "duration_s",
    "stereo_kind",
    *LIST_COLUMNS,
    *TIMING_COLUMNS,
    *PATH_COLUMNS,
    *EVAL_COLUMNS,
)
CSV_NAME = "results.csv"
PARQUET_NAME = "results.parquet"


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as CSV text with a header (lists joined with ``"; "``)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        cells = {}
        for column in COLUMNS:
            value = row.get(column)
            if column in LIST_COLUMNS:
                value = "; ".join(str(v) for v in value or [])
            cells[column] = "" if value is None else value
        writer.writerow(cells)
    return buffer.getvalue()


def write_results(
    rows: Sequence[dict[str, Any]], out_dir: str | os.PathLike[str]
) -> dict[str, Path]:
    """Write ``results.csv`` and ``results.parquet`` into ``out_dir`` (atomically).

    Returns the written files by format ("csv", "parquet").
    """
    out = Path(out_dir)
    written = {"csv": write_text_atomic(out / CSV_NAME, csv_text(rows))}
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(column, _arrow_type(pa, column)) for column in COLUMNS])
    table = pa.Table.from_pylist(
        [{column: row.get(column) for column in COLUMNS} for row in rows], schema=schema
    )
    with atomic_path(out / PARQUET_NAME) as tmp:
        pq.write_table(table, tmp)
    written["parquet"] = out / PARQUET_NAME
    return written


def _arrow_type(pa: Any, column: str) -> Any:
    if column in LIST_COLUMNS:
        return pa.list_(pa.string())
    if column in TIMING_COLUMNS or column == "duration_s":
        return pa.float64()
    if column in EVAL_COLUMNS and column != "eval_spatial_verdict":
        return pa.float64()
    return pa.string()


def read_results_csv(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The rows of a ``results.csv`` (every cell as text)."""
    # A failed row keeps the user's cell (and an error naming it) as it was, which may
    # be over the csv module's 131,072-character limit: no limit for our own table.
    with cell_limit(RESULTS_MAX_CELL), open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))
