"""What one web-app user does, as plain functions: hear + plan, edit the keyframe
table, render. Every user gets a private working folder; nothing here knows Gradio."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spa2v.errors import LayoutError, Spa2vError

#: Columns of the editable keyframe table, one row per (keyframe, object).
TABLE_COLUMNS = ["t", "id", "name", "x0", "y0", "x1", "y1"]


@dataclass
class Limits:
    """Caps that protect a shared server from one user's upload."""

    max_upload_mb: float = 50.0
    max_duration_s: float = 120.0
    #: A request's private folder is removed this long after it was last written to.
    keep_files_s: float = 3600.0


@dataclass
class Planned:
    """Result of hearing and planning one upload."""

    workdir: Path
    audio_path: Path
    cues_path: Path
    cues_plot_path: Path
    layout_path: Path
    layout_plot_path: Path
    summary_markdown: str
    table: list[list[Any]]


#: Where the per-request folders go unless the app is given a root.
DEFAULT_ROOT = Path(tempfile.gettempdir()) / "spa2v-ui"
_WORKDIR_NAME = re.compile(r"[0-9a-f]{32}")  # uuid4().hex: the folders new_workdir makes
#: An absolute path in a message: its folders are dropped, its file name kept.
_FOLDERS = re.compile(r"(?:[A-Za-z]:)?[/\\](?:[^/\\\s'\"():,;]+[/\\])+")


def new_workdir(root: Path | None = None) -> Path:
    """A fresh private folder with an unguessable name for one request."""
    base = Path(root) if root else DEFAULT_ROOT
    base.mkdir(parents=True, exist_ok=True)
    workdir = base / uuid.uuid4().hex
    workdir.mkdir()
    return workdir


def remove_expired(root: Path | None, keep_s: float, now_s: float | None = None) -> list[Path]:
    """Remove the per-request folders under ``root`` not written to for ``keep_s``
    seconds (other folders are left alone); returns those removed."""
    base = Path(root) if root else DEFAULT_ROOT
    now_s = time.time() if now_s is None else now_s
    removed: list[Path] = []
    try:
        children = list(base.iterdir())
    except OSError:  # no folder yet: nothing to remove
        return removed
    for child in children:
        try:
            expired = now_s - child.stat().st_mtime > keep_s
        except OSError:
            continue  # removed meanwhile
        if expired and child.is_dir() and _WORKDIR_NAME.fullmatch(child.name):
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
    return removed


def start_cleaner(
    root: Path | None, keep_s: float, interval_s: float | None = None
) -> threading.Event:
    """Run :func:`remove_expired` every ``interval_s`` (default: a tenth of ``keep_s``,
    at most a minute) in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    interval_s = interval_s if interval_s is not None else min(60.0, max(0.1, keep_s / 10))

    def loop() -> None:
        while not stop.wait(interval_s):
            remove_expired(root, keep_s)

    threading.Thread(target=loop, name="spa2v-ui-cleaner", daemon=True).start()
    return stop


def public_message(message: str, aliases: dict[str, str] | None = None) -> str:
    """A message fit to show a web user: each path in ``aliases`` replaced by the name
    the user knows it by, and the folders of any other absolute path dropped.

    >>> public_message("/srv/a1/input.wav is empty", {"/srv/a1/input.wav": "street.wav"})
    'street.wav is empty'
    >>> public_message("cannot write /tmp/x/y/out.mp4: disk full")
    'cannot write out.mp4: disk full'
    """
    for path, name in (aliases or {}).items():
        message = message.replace(path, name)
    return _FOLDERS.sub("", message)


def check_upload(path: str | Path, limits: Limits) -> Path:
    """Refuse missing or oversized uploads before any decoding work."""
    path = Path(path)
    if not path.is_file():
        raise Spa2vError("no file was uploaded: choose an audio or video file first")
    size_mb = path.stat().st_size / 1e6
    if size_mb > limits.max_upload_mb:
        raise Spa2vError(
            f"{path.name} is {size_mb:.0f} MB; this server accepts up to "
            f"{limits.max_upload_mb:.0f} MB (start it with --max-upload-mb to change)"
        )
    return path


def hear_and_plan(
    upload: str | Path,
    *,
    planner: str = "physics",
    keyframes_per_s: float = 8.0,
    limits: Limits | None = None,
    layout: str | None = None,
    root: Path | None = None,
) -> Planned:
    """Load, hear, tag and plan one upload into a private folder."""
    from spa2v.api import hear, plan
    from spa2v.hearing.plot import plot_cues
    from spa2v.hearing.summary import describe_source
    from spa2v.planning.vsl import save_vsl

    limits = limits or Limits()
    source = check_upload(upload, limits)
    remove_expired(root, limits.keep_files_s)
    workdir = new_workdir(root)
    # Keep the user's file name out of the served paths; keep its extension for decoding.
    audio_path = workdir / f"input{source.suffix.lower()}"
    try:
        shutil.copyfile(source, audio_path)
        cues = hear(audio_path, layout=layout, max_duration_s=limits.max_duration_s)
        vsl = plan(cues, planner=planner, fps=keyframes_per_s)
        cues_path = cues.save(workdir / "cues.json")
        cues_plot_path = plot_cues(cues, workdir / "cues.png")
        layout_path = workdir / "layout.json"
        save_vsl(vsl, layout_path)
        layout_plot_path = plot_layout(vsl, workdir / "layout.png")
    except BaseException as exc:
        shutil.rmtree(workdir, ignore_errors=True)  # a failed request leaves nothing
        if isinstance(exc, Spa2vError):
            raise type(exc)(public_message(str(exc), {str(audio_path): source.name})) from None
        raise
    lines = [f"- {describe_source(track, cues.layout)}" for track in cues.sources]
    lines += [f"- warning: {w}" for w in cues.warnings]
    summary = "\n".join(lines) if lines else "No sounding source was found."
    return Planned(
        workdir=workdir,
        audio_path=audio_path,
        cues_path=cues_path,
        cues_plot_path=cues_plot_path,
        layout_path=layout_path,
        layout_plot_path=layout_plot_path,
        summary_markdown=summary,
        table=vsl_to_rows(vsl),
    )


def vsl_to_rows(vsl: Any) -> list[list[Any]]:
    """The keyframe table: one row per box, sorted by time then object id."""
    names = {obj.id: obj.name for obj in vsl.objects}
    rows = []
    for frame in vsl.frames:
        for placed in sorted(frame.boxes, key=lambda b: b.id):
            x0, y0, x1, y1 = (round(float(v), 3) for v in placed.box)
            rows.append([round(float(frame.t), 3), placed.id, names[placed.id], x0, y0, x1, y1])
    return rows


def rows_to_vsl(vsl: Any, rows: list[list[Any]]) -> Any:
    """Apply an edited keyframe table to a layout and validate the result.

    Keyframe times and captions come from the original layout; each row's ``t`` picks
    the keyframe (nearest) and its box replaces the one planned for that object.
    """
    from spa2v.planning.vsl import parse_vsl

    data = vsl.to_dict()
    times = np.array([frame["t"] for frame in data["frames"]], dtype=float)
    for frame in data["frames"]:
        frame["boxes"] = []
    for index, row in enumerate(rows):
        if len(row) < len(TABLE_COLUMNS):
            raise LayoutError(f"table row {index + 1}: expected {len(TABLE_COLUMNS)} columns")
        try:
            t, object_id = float(row[0]), int(float(row[1]))
            box = [float(v) for v in row[3:7]]
        except (TypeError, ValueError):
            raise LayoutError(f"table row {index + 1}: t, id and the box must be numbers") from None
        frame = data["frames"][int(np.argmin(np.abs(times - t)))]
        frame["boxes"].append({"id": object_id, "box": box})
    return parse_vsl(data)


def render_layout(
    vsl: Any, audio_path: Path, workdir: Path, generator: str = "animatic"
) -> tuple[Path, Path]:
    """Render the (edited) layout to an MP4 in ``workdir``; returns (video, layout json)."""
    from spa2v.api import render
    from spa2v.planning.vsl import save_vsl

    layout_path = workdir / "layout.json"
    save_vsl(vsl, layout_path)
    video_path = workdir / f"spa2v-{uuid.uuid4().hex[:8]}.mp4"
    render(vsl, audio_path, video_path, generator=generator)
    return video_path, layout_path


def plot_layout(vsl: Any, path: Path) -> Path:
    """Draw every object's box trajectory over one frame: boxes fade from early (light)
    to late (dark), with an arrow along the path of the box centre."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from spa2v.io.atomic import atomic_path

    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=100)
    ax.set_aspect(320 / 512)  # the 16:10 canvas of the camera model
    ax.set_xlim(0, 1)
    ax.set_ylim(1, 0)  # image coordinates: y grows downwards
    ax.axhline(0.5, color="0.7", lw=0.8, ls="--")
    ax.set_title("box trajectories (light = early, dark = late)", fontsize=10)
    cmap = plt.get_cmap("tab10")
    n = max(len(vsl.frames) - 1, 1)
    for k, obj in enumerate(vsl.objects):
        colour = cmap(k % 10)
        centres = []
        for i, frame in enumerate(vsl.frames):
            for placed in frame.boxes:
                if placed.id != obj.id:
                    continue
                x0, y0, x1, y1 = placed.box
                alpha = 0.15 + 0.75 * i / n
                ax.add_patch(
                    Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec=colour, alpha=alpha)
                )
                centres.append(((x0 + x1) / 2, (y0 + y1) / 2))
        if centres:
            xs, ys = zip(*centres, strict=True)
            ax.plot(xs, ys, color=colour, lw=2, label=f"{obj.id}: {obj.name} ({obj.motion})")
            if len(centres) > 1:
                ax.annotate(
                    "",
                    xy=centres[-1],
                    xytext=centres[-2],
                    arrowprops={"arrowstyle": "->", "color": colour, "lw": 2},
                )
    if vsl.objects:
        ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(path)
