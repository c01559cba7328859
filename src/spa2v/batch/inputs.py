"""What ``spa2v batch`` runs: recordings from files, folders, globs or a manifest, each
with a stable clip id and its own options.

A manifest is a ``.csv`` (with a header) or ``.jsonl`` file, one recording per row:
``input`` (the path, relative to the manifest's folder), optionally ``id`` (the clip
id: letters, digits, ``.``, ``_``, ``-``) and per-clip options (:data:`CLIP_OPTIONS`),
e.g. ``{"input": "a.wav", "layout": "binaural", "frames": 16}``. A bad row (missing
file, unknown option, a value its ``spa2v run`` flag refuses, a repeated or reserved
id, bytes that are not UTF-8, a record the csv module cannot read) becomes a failed
clip with its error; the other rows run.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spa2v.batch.csv_cells import MANIFEST_MAX_CELL, cell_limit
from spa2v.errors import Spa2vError, shorten
from spa2v.planning.limits import MAX_KEYFRAME_FPS, MAX_KEYFRAMES
from spa2v.ranges import HOP_MS_RANGE, MAX_SOURCES_RANGE, parse_number
from spa2v.rendering import FPS_RANGE

#: Files a folder or glob contributes (audio, or video with a sound track).
MEDIA_SUFFIXES = frozenset(
    {".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a", ".aac", ".aif", ".aiff", ".mp4", ".mov"}
    | {".mkv", ".webm"}
)
MANIFEST_SUFFIXES = frozenset({".csv", ".jsonl"})
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
#: Names in the batch's folder that are not clip folders (``runner.BATCH_FILE``,
#: ``results.CSV_NAME``, ``results.PARQUET_NAME``): no clip id may take them.
RESERVED_IDS = frozenset({"batch.json", "results.csv", "results.parquet"})
#: What undecodable bytes become when decoded with ``errors="surrogateescape"``.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_NOT_UTF8_ERROR = "bytes that are not UTF-8 text: save the manifest as UTF-8"


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y"}:
        return True
    if text in {"0", "false", "no", "n", ""}:
        return False
    raise ValueError(f"{shorten(repr(value))} is not true/false")


def _number(
    kind: type[int] | type[float], low: float, high: float | None = None, above_low: bool = False
) -> Callable[[Any], float]:
    """A parser of a finite number within the range the ``spa2v run`` flag of the same
    name takes (:func:`spa2v.ranges.parse_number`), so a row runs with nothing its flag
    would refuse."""
    return lambda value: parse_number(value, kind, low, high, above_low=above_low)


def _optional_int(value: Any) -> int | None:
    if str(value).strip() in {"", "none"}:
        return None
    return int(_number(int, 1, MAX_KEYFRAMES)(value))


def _max_duration(value: Any) -> float | None:
    """Seconds, or None for no limit ("", "none" or 0, as ``--max-duration-s 0``)."""
    if str(value).strip() in {"", "none"}:
        return None
    return _number(float, 0)(value) or None


def _layout(value: Any) -> str | None:
    from spa2v.io.signal import STEREO_LAYOUTS

    text = str(value).strip()
    known = ("mono", *STEREO_LAYOUTS, "foa")
    if text in {"", "auto"}:
        return None
    if text not in known:
        raise ValueError(f"{shorten(repr(text))} is not one of auto, {', '.join(known)}")
    return text


def _choice(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip()
        if text not in choices:
            raise ValueError(f"{shorten(repr(text))} is not one of {', '.join(choices)}")
        return text

    return parse


#: Per-clip options a manifest row may set: name -> (``RunOptions`` field, parser).
#: The names are the ``spa2v run`` flags without dashes.
CLIP_OPTIONS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "layout": ("layout", _layout),
    "max_duration_s": ("max_duration_s", _max_duration),
    "hop_ms": ("hop_s", lambda v: _number(float, *HOP_MS_RANGE)(v) / 1000.0),
    "max_sources": ("max_sources", _number(int, *MAX_SOURCES_RANGE)),
    "no_tags": ("tags", lambda v: not _bool(v)),
    "planner": ("planner", _choice("physics", "llm")),
    "keyframe_fps": ("plan_fps", _number(float, 0, MAX_KEYFRAME_FPS, above_low=True)),
    "fps_plan": ("plan_fps", _number(float, 0, MAX_KEYFRAME_FPS, above_low=True)),  # older name
    "frames": ("n_frames", _optional_int),
    "fps": ("fps", _number(float, *FPS_RANGE)),
    "overlay": ("overlay", _bool),
    "subtitles": ("subtitles", _bool),
}


@dataclass
class ClipInput:
    """One row of the batch: a recording, its clip id, its option overrides, and the
    error that already fails it (a bad manifest row), if any."""

    input: str
    clip_id: str
    overrides: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def clip_id_for(path: Path) -> str:
    """A stable id for a recording: its name and a short hash of its absolute path, so
    two ``take1.wav`` in different folders do not collide.

    >>> clip_id_for(Path("/data/street.wav"))
    'street-6917e7ef'
    """
    digest = hashlib.sha1(str(path.absolute()).encode("utf-8")).hexdigest()[:8]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem).strip("._-") or "clip"
    return f"{stem[:80]}-{digest}"


def parse_overrides(row: Mapping[str, Any]) -> dict[str, Any]:
    """``RunOptions`` fields from a manifest row's option columns (empty cells are
    skipped). Raises ValueError naming the first bad option."""
    overrides: dict[str, Any] = {}
    for name, value in row.items():
        if name in {"input", "id"} or value is None or (isinstance(value, str) and not value):
            continue
        if name not in CLIP_OPTIONS:
            raise ValueError(
                f"unknown option {shorten(repr(name))} (known: {', '.join(CLIP_OPTIONS)})"
            )
        target, parse = CLIP_OPTIONS[name]
        try:
            overrides[target] = parse(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"option {name}: {exc}") from None
    return overrides


def read_manifest(path: Path) -> list[ClipInput]:
    """The rows of a ``.csv`` / ``.jsonl`` manifest (relative paths resolved against
    the manifest's folder). Raises Spa2vError when the file itself cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Spa2vError(f"cannot read manifest {path}: {exc.strerror or exc}") from None
    # A byte order mark (Excel's "CSV UTF-8") is no part of the first column's name;
    # bytes that are not UTF-8 fail only the rows that hold them (surrogates, below).
    text = data.decode("utf-8-sig", errors="surrogateescape")
    rows: list[tuple[int, dict[str, Any] | None, str | None]] = []
    if path.suffix.lower() == ".csv":
        with cell_limit(MANIFEST_MAX_CELL):
            reader = csv.DictReader(text.splitlines())
            try:
                header = reader.fieldnames
            except csv.Error as exc:
                raise Spa2vError(f"manifest {path}: the header is not CSV ({exc})") from None
            if not header or "input" not in header:
                raise Spa2vError(f"manifest {path}: the header must have an 'input' column")
            rows = _csv_rows(reader)
    else:
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            if _NOT_UTF8.search(line):
                rows.append((n, None, _NOT_UTF8_ERROR))
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                rows.append((n, None, f"not JSON ({exc.msg})"))
                continue
            if not isinstance(row, dict):
                rows.append((n, None, "not a JSON object"))
            else:
                rows.append((n, row, None))
    clips = []
    for line_no, row, error in rows:
        where = f"{path.name} line {line_no}"
        raw_input = str((row or {}).get("input") or "").strip()
        source = (path.parent / raw_input) if raw_input else path.parent / f"row-{line_no}"
        clip_id = str((row or {}).get("id") or "").strip() or clip_id_for(source)
        overrides: dict[str, Any] = {}
        if error is None and not raw_input:
            error = "no 'input' given"
        if error is None and not _ID_PATTERN.match(clip_id):
            error = f"id {shorten(repr(clip_id))}: use letters, digits, '.', '_' and '-'"
            clip_id = clip_id_for(source)
        if error is None and clip_id.lower() in RESERVED_IDS:
            error = f"id {clip_id!r} is the name of a file of the batch's own: choose another"
            clip_id = clip_id_for(source)
        if error is None:
            try:
                overrides = parse_overrides(row or {})
            except ValueError as exc:
                error = str(exc)
        if error is None and not _is_file(source):
            error = f"{shorten(str(source))}: file not found"
        clips.append(
            ClipInput(
                str(source),
                clip_id,
                overrides,
                None if error is None else f"manifest {where}: {error}",
            )
        )
    return clips


def _csv_rows(reader: csv.DictReader) -> list[tuple[int, dict[str, Any] | None, str | None]]:
    """``(line number, row, error)`` of each CSV record: a record the csv module cannot
    read (a cell over its size limit) or that holds bytes not UTF-8 fails alone."""
    rows: list[tuple[int, dict[str, Any] | None, str | None]] = []
    while True:
        line_no = reader.line_num + 1  # where the next record starts
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            rows.append((line_no, None, f"not CSV ({exc})"))
            continue
        cells = [str(key) for key in row] + [str(value) for value in row.values()]
        if any(_NOT_UTF8.search(cell) for cell in cells):
            rows.append((line_no, None, _NOT_UTF8_ERROR))
        else:
            rows.append((line_no, dict(row), None))


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False also for a name the system refuses (too long)."""
    try:
        return path.is_file()
    except OSError:
        return False


def collect_inputs(inputs: Sequence[str], exclude: Path | None = None) -> list[ClipInput]:
    """Expand the command line's INPUTS into clips, in order, without duplicates.

    Each input is a manifest (``.csv``/``.jsonl``), an audio/video file, a folder
    (searched recursively for :data:`MEDIA_SUFFIXES`), or a glob. An input that is none
    of these becomes a failed clip ("file not found"), so the rest still runs. Files
    under ``exclude`` (the output folder) are skipped.
    """
    clips: list[ClipInput] = []
    for text in inputs:
        path = Path(text)
        if path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES:
            clips.extend(read_manifest(path))
        elif path.is_file():
            clips.append(ClipInput(str(path), clip_id_for(path)))
        elif path.is_dir():
            clips.extend(_media_clips(sorted(path.rglob("*")), exclude))
        elif glob.has_magic(text):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            found = _media_clips(matches, exclude)
            if not found:
                clips.append(
                    ClipInput(text, clip_id_for(path), error=f"{shorten(text)}: no files match")
                )
            clips.extend(found)
        else:
            clips.append(
                ClipInput(text, clip_id_for(path), error=f"{shorten(text)}: file not found")
            )
    return _unique(clips)


def _media_clips(paths: Iterable[Path], exclude: Path | None) -> list[ClipInput]:
    skip = exclude.resolve() if exclude is not None else None
    out = []
    for path in paths:
        if not path.is_file() or path.suffix.lower() not in MEDIA_SUFFIXES:
            continue
        if skip is not None and path.resolve().is_relative_to(skip):
            continue
        out.append(ClipInput(str(path), clip_id_for(path)))
    return out


def _unique(clips: list[ClipInput]) -> list[ClipInput]:
    """Drop a recording given twice with the same options (and the same error, if any);
    a clip id used twice by different rows fails the later row."""
    seen: dict[str, ClipInput] = {}
    out = []
    for clip in clips:
        first = seen.get(clip.clip_id)
        if first is None:
            seen[clip.clip_id] = clip
            out.append(clip)
        elif (first.input, first.overrides, first.error) == (
            clip.input,
            clip.overrides,
            clip.error,
        ):
            continue  # the same row again (rows failing for different reasons stay apart)
        else:
            n = sum(1 for c in out if c.clip_id.startswith(clip.clip_id))
            out.append(
                ClipInput(
                    clip.input,
                    f"{clip.clip_id}~{n}",
                    clip.overrides,
                    clip.error
                    or (
                        f"clip id {shorten(repr(clip.clip_id))} is already used by "
                        f"{shorten(first.input)}"
                    ),
                )
            )
    return out
