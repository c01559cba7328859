"""One clip of a batch, as engine stages: what ``spa2v run`` does (the same
:func:`spa2v.api.run_hear_step`, :func:`~spa2v.api.run_plan_step` and
:func:`~spa2v.api.run_render_step`), written into the clip's own folder.

A clip works in a hidden folder ``OUT/.<clip-id>.part-<random>/`` and, when every file
is written, the folder is renamed to ``OUT/<clip-id>/`` and ``result.json`` (its row of
the results table) is written last, atomically: a clip folder with ``result.json`` is
complete, anything else is left-over work a resumed batch redoes. A failed clip gets a
folder holding only its ``result.json`` (status "failed" and the one-line error).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from spa2v.errors import Spa2vError

RESULT_FILE = "result.json"
#: Stages timed in each row, in pipeline order.
TIMED_STAGES = ("load", "hear", "tag", "plan", "render", "eval")


@dataclass
class ClipTask:
    """A clip on its way through the stages (pickled between them)."""

    index: int
    clip_id: str
    input: str
    out_dir: str  # the batch's output folder
    options: Any  # spa2v.api.RunOptions, this clip's overrides applied
    error: str | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    work_dir: str | None = None
    cues: Any = None
    vsl: Any = None
    plot: str | None = None
    row: dict[str, Any] | None = None
    signal: Any = None  # the decoded recording, while the stages share a process
    evaluation: dict[str, Any] | None = None  # VideoEvaluation.figures() with --eval

    @property
    def failed(self) -> bool:
        return self.error is not None

    def __getstate__(self) -> dict[str, Any]:
        # Between processes (Ray's stages) the render stage decodes the file again:
        # cheaper than shipping the samples (230 MB for 10 min of 48 kHz stereo).
        return {**self.__dict__, "signal": None}


def clip_dir(out_dir: str | os.PathLike[str], clip_id: str) -> Path:
    """The folder of a clip's outputs."""
    return Path(out_dir) / clip_id


def error_text(exc: BaseException) -> str:
    """One line: a user error's own message, or the exception type and message."""
    text = str(exc) if isinstance(exc, Spa2vError) else f"{type(exc).__name__}: {exc}"
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


class _Clock:
    """Seconds per stage from the API's ``progress(stage, done, total)`` calls."""

    def __init__(self, timings_s: dict[str, float]) -> None:
        self.timings_s = timings_s
        self.stage: str | None = None
        self.start = time.perf_counter()

    def __call__(self, stage: str, done: int = 0, total: int = 0) -> None:
        if stage == self.stage or (stage == "write" and self.stage == "render"):
            return  # the storyboard counts as rendering
        self.stop()
        self.stage, self.start = stage, time.perf_counter()

    def stop(self) -> None:
        if self.stage is not None:
            elapsed = time.perf_counter() - self.start
            self.timings_s[self.stage] = self.timings_s.get(self.stage, 0.0) + elapsed
            self.stage = None


def _paths(task: ClipTask) -> dict[str, Path]:
    from spa2v.api import output_paths

    assert task.work_dir is not None
    return output_paths(Path(task.work_dir) / f"{Path(task.input).stem or 'clip'}.mp4")


def _guarded(step: Callable[[ClipTask, _Clock], None], task: ClipTask) -> ClipTask:
    if task.failed:
        return task
    clock = _Clock(task.timings_s)
    try:
        step(task, clock)
    except Exception as exc:  # the clip fails, the batch goes on
        task.error = error_text(exc)
    finally:
        clock.stop()
    return task


def hear_stage(task: ClipTask) -> ClipTask:
    """Decode, hear and tag; write the cues JSON and plot (in the clip's work folder)."""
    from spa2v.api import run_hear_step

    def step(task: ClipTask, clock: _Clock) -> None:
        Path(task.out_dir).mkdir(parents=True, exist_ok=True)
        task.work_dir = tempfile.mkdtemp(prefix=f".{task.clip_id}.part-", dir=task.out_dir)
        task.cues, plot, task.signal = run_hear_step(task.input, _paths(task), task.options, clock)
        task.plot = None if plot is None else str(plot)

    return _guarded(step, task)


def plan_stage(task: ClipTask) -> ClipTask:
    """Plan the layout and write it."""
    from spa2v.api import run_plan_step

    def step(task: ClipTask, clock: _Clock) -> None:
        task.vsl = run_plan_step(task.cues, _paths(task), task.options, clock)

    return _guarded(step, task)


def render_stage(task: ClipTask) -> ClipTask:
    """Render the video and storyboard (and with ``options.evaluate`` judge the video,
    timed as "eval"), then publish the clip (see the module doc)."""
    from spa2v.api import judged_sound, run_eval_step, run_render_step

    def step(task: ClipTask, clock: _Clock) -> None:
        run_render_step(task.vsl, task.input, _paths(task), task.options, clock, signal=task.signal)
        if getattr(task.options, "evaluate", False):
            clock("eval")
            sound = judged_sound(task.input, task.cues, task.options)
            evaluation = run_eval_step(task.vsl, _paths(task), sound)
            task.evaluation = evaluation.figures()

    return finish(_guarded(step, task))


def setup_models() -> None:
    """Import the pipeline and load the tagger once in this worker (the tagger is
    cached per process), so that the first clip's timings are not the worker's."""
    import spa2v.api
    import spa2v.hearing.extract
    import spa2v.hearing.tagging.tag
    import spa2v.planning.physics
    import spa2v.rendering.animatic  # noqa: F401
    from spa2v.errors import BackendUnavailableError
    from spa2v.hearing.tagging.base import get_tagger

    # Without a tagger each clip says so in its warnings, as `spa2v run` does.
    with contextlib.suppress(BackendUnavailableError):
        get_tagger()


def finish(task: ClipTask) -> ClipTask:
    """Move the clip's files into ``OUT/<clip-id>/``, write ``result.json`` last."""
    final = clip_dir(task.out_dir, task.clip_id)
    if not task.failed and task.work_dir is not None:
        try:
            if final.exists():
                shutil.rmtree(final)  # an earlier, failed or unfinished attempt
            os.replace(task.work_dir, final)
            task.work_dir = str(final)
        except OSError as exc:
            task.error = f"cannot write {final}: {exc.strerror or exc}"
    if task.failed:
        if task.work_dir is not None and Path(task.work_dir) != final:
            shutil.rmtree(task.work_dir, ignore_errors=True)
        if final.exists():
            shutil.rmtree(final)
        final.mkdir(parents=True, exist_ok=True)
        task.work_dir = None
    task.row = result_row(task)
    from spa2v.io.atomic import write_text_atomic

    write_text_atomic(final / RESULT_FILE, json.dumps(task.row, indent=1))
    task.cues = task.vsl = task.signal = None  # the row says what the driver needs
    return task


def crashed(task: ClipTask, reason: str) -> ClipTask:
    """A clip whose worker process died while running it (a crash in a native library,
    the out-of-memory killer): a failed row. The work folder the worker left is removed
    with the others at the end of the batch."""
    task.work_dir = None
    task.error = f"the worker process running this clip died ({reason})"
    return finish(task)


def result_row(task: ClipTask) -> dict[str, Any]:
    """The clip's row of the results table (see :mod:`spa2v.batch.results`)."""
    row: dict[str, Any] = {
        "input": task.input,
        "clip_id": task.clip_id,
        "status": "failed" if task.failed else "ok",
        "error": task.error or "",
        "duration_s": None,
        "stereo_kind": "",
        "labels": [],
        "objects": [],
        "motion": [],
        "warnings": [],
    }
    if task.cues is not None:
        cues = task.cues
        row["duration_s"] = round(float(cues.duration_s), 3)
        row["stereo_kind"] = cues.layout
        row["labels"] = [t.top_label.audio_label if t.top_label else "" for t in cues.sources]
        row["warnings"] = list(cues.warnings)
    if task.vsl is not None and not task.failed:
        row["objects"] = [obj.name for obj in task.vsl.objects]
        row["motion"] = [obj.motion for obj in task.vsl.objects]
    for stage in TIMED_STAGES:
        value = task.timings_s.get(stage)
        row[f"{stage}_s"] = None if value is None else round(value, 4)
    row["total_s"] = round(sum(task.timings_s.values()), 4)
    paths = {} if task.failed or task.work_dir is None else _paths(task)
    for role, path in paths.items():
        if (role == "cue plot" and task.plot is None) or (
            role == "evaluation" and task.evaluation is None
        ):
            continue
        row[_path_column(role)] = path.relative_to(task.out_dir).as_posix()
    for role in ("video", "cues", "layout", "cue plot", "storyboard", "evaluation"):
        row.setdefault(_path_column(role), "")
    from spa2v.batch.results import EVAL_FIGURES

    for name in EVAL_FIGURES:
        value = (task.evaluation or {}).get(name)
        row[f"eval_{name}"] = round(value, 4) if isinstance(value, float) else value
    return row


def _path_column(role: str) -> str:
    return role.replace(" ", "_") + "_path"


def read_result(out_dir: str | os.PathLike[str], clip_id: str) -> dict[str, Any] | None:
    """A finished clip's row, or None when it has none or it cannot be read."""
    path = clip_dir(out_dir, clip_id) / RESULT_FILE
    try:
        row = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return row if isinstance(row, dict) else None


def is_complete(row: dict[str, Any] | None, out_dir: str | os.PathLike[str]) -> bool:
    """A clip a resumed batch may skip: it succeeded and every file it lists (paths
    relative to the batch's folder ``out_dir``) exists."""
    if not row or row.get("status") != "ok":
        return False
    listed = [row.get(_path_column(r)) for r in ("video", "cues", "layout", "storyboard")]
    paths = [p for p in listed if p]
    return len(paths) == len(listed) and all((Path(out_dir) / p).is_file() for p in paths)


def make_task(index: int, clip: Any, out_dir: str, options: Any) -> ClipTask:
    """The task of one :class:`~spa2v.batch.inputs.ClipInput` with ``options``
    (``RunOptions``) and the clip's overrides."""
    try:
        clip_options = replace(options, **clip.overrides)
    except TypeError as exc:
        clip_options, clip.error = options, clip.error or f"bad option: {exc}"
    return ClipTask(
        index=index,
        clip_id=clip.clip_id,
        input=clip.input,
        out_dir=out_dir,
        options=clip_options,
        error=clip.error,
    )
