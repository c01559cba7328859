"""``spa2v batch``: many recordings through the whole pipeline, resumably, on an engine
(:mod:`spa2v.batch.engine`).

The output folder holds ``batch.json`` (the options the batch runs with), one folder
per clip (:mod:`spa2v.batch.clip`) and, at the end, the results table
(:mod:`spa2v.batch.results`). A folder holding another batch is refused unless
``resume``; a resumed batch skips the clips that finished and redoes the rest.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from spa2v.batch.clip import (
    ClipTask,
    crashed,
    hear_stage,
    is_complete,
    make_task,
    plan_stage,
    read_result,
    render_stage,
    setup_models,
)
from spa2v.batch.engine import Engine, Stage, make_engine
from spa2v.batch.inputs import ClipInput, collect_inputs
from spa2v.batch.results import write_results
from spa2v.errors import OutputError, Spa2vError
from spa2v.io.atomic import write_text_atomic

BATCH_FILE = "batch.json"
BATCH_SCHEMA = "spa2v.batch/1"
#: Exit code when clips failed: ``FAILED_EXIT_BASE + min(failed, FAILED_EXIT_CAP)``,
#: i.e. 11 for one failed clip ... 110 for 100 or more (0: every clip succeeded; 2 and
#: 3 stay the user-error codes of every command, 130 an interrupt).
FAILED_EXIT_BASE = 10
FAILED_EXIT_CAP = 100

#: ``on_clip(row, done, total)``: called in the driver as each clip finishes.
ClipCallback = Callable[[dict[str, Any], int, int], None]


def failed_exit_code(n_failed: int) -> int:
    """The batch's exit code for ``n_failed`` failed clips.

    >>> failed_exit_code(0), failed_exit_code(3), failed_exit_code(5000)
    (0, 13, 110)
    """
    return 0 if n_failed <= 0 else FAILED_EXIT_BASE + min(n_failed, FAILED_EXIT_CAP)


@dataclass
class BatchSummary:
    """What a batch did: every input's row (input order) and where the table is."""

    out_dir: Path
    rows: list[dict[str, Any]]
    skipped: int  # clips a resumed batch found finished
    seconds: float
    tables: dict[str, Path] = field(default_factory=dict)
    engine: str = "local"
    workers: int = 1

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["status"] != "ok"]

    @property
    def exit_code(self) -> int:
        return failed_exit_code(len(self.failed))


def options_record(options: Any) -> dict[str, Any]:
    """The batch's options as JSON-able data, with secrets (API keys) left out: what
    ``batch.json`` records and a resumed batch must match."""
    data = asdict(options)
    planner_options = dict(data.get("planner_options") or {})
    planner_options.pop("api_key", None)
    data["planner_options"] = planner_options
    return json.loads(json.dumps(data, default=repr, sort_keys=True))


def check_out_dir(out_dir: Path, options: Any, resume: bool) -> None:
    """Refuse a folder holding another batch (unless ``resume`` with the same options)
    or other files."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"-o {out_dir} is a file: give a folder")
    record = options_record(options)
    marker = out_dir / BATCH_FILE
    if marker.is_file():
        if not resume:
            raise OutputError(
                f"{out_dir} holds another batch's results ({BATCH_FILE}): "
                "add --resume to finish it, or choose another folder"
            )
        try:
            previous = json.loads(marker.read_text(encoding="utf-8")).get("options", {})
        except (OSError, ValueError, AttributeError):
            previous = None
        if previous != record:
            changed = sorted(
                k
                for k in set(record) | set(previous or {})
                if (previous or {}).get(k) != record.get(k)
            )
            what = ", ".join(changed) or BATCH_FILE
            raise OutputError(
                f"{out_dir} holds a batch run with other options ({what}); "
                "resume it with the same options, or choose another folder"
            )
    elif out_dir.is_dir() and any(out_dir.iterdir()):
        raise OutputError(
            f"{out_dir} is not empty and holds no spa2v batch: choose an empty or new folder"
        )


def start_out_dir(out_dir: Path, options: Any) -> None:
    """Create ``out_dir``, write ``batch.json``, remove a killed batch's work folders."""
    marker = out_dir / BATCH_FILE
    record = options_record(options)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    write_text_atomic(
        marker, json.dumps({"schema": BATCH_SCHEMA, "options": record}, indent=1, sort_keys=True)
    )
    remove_work_folders(out_dir)  # of clips a killed batch ran


def remove_work_folders(out_dir: Path) -> None:
    """Remove the clips' work folders: left by a killed batch, or by a worker that died
    under a clip (the clip ran again, or failed, in a folder of its own). Called when no
    clip is running: before the batch and after it."""
    for stale in out_dir.glob(".*.part-*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)


def clip_stages(options: Any) -> list[Stage]:
    """The stages of a clip; the renderer is a GPU stage with the diffusion generator."""
    diffusion = options.generator == "diffusion"
    return [
        Stage("hear", hear_stage, setup=setup_models),
        Stage("plan", plan_stage),
        Stage(
            "render",
            render_stage,
            gpu=diffusion,
            setup=partial(setup_diffusion, options.generator_options) if diffusion else None,
        ),
    ]


def setup_diffusion(generator_options: dict[str, Any] | None) -> None:
    """Load the diffusion pipeline once in this worker or actor (it is cached)."""
    from spa2v.api import _diffusion_options
    from spa2v.rendering.diffusion import load_pipeline

    options = _diffusion_options(dict(generator_options or {}))
    if hasattr(options, "resolved"):
        load_pipeline(options.resolved())


def run_batch(
    inputs: Sequence[str] | Sequence[ClipInput],
    out_dir: str | os.PathLike[str],
    options: Any = None,
    *,
    engine: str | Engine = "local",
    workers: int | None = None,
    address: str | None = None,
    resume: bool = False,
    gpu_actors: int = 1,
    gpus_per_actor: float = 1.0,
    on_clip: ClipCallback | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> BatchSummary:
    """Run every input through hear -> tag -> plan -> render into ``out_dir``.

    Parameters
    ----------
    inputs : sequence of str or ClipInput
        Files, folders, globs or manifests (:func:`~spa2v.batch.inputs.collect_inputs`).
    options : spa2v.api.RunOptions, optional
        The options of every clip (a manifest row may override some).
    engine : "local", "ray" or an Engine
        Where the clips run; ``workers``, ``address``, ``gpu_actors`` and
        ``gpus_per_actor`` go to :func:`~spa2v.batch.engine.make_engine`.
    resume : bool
        Continue the batch already in ``out_dir``: finished clips are skipped.
    on_start, on_clip : callable, optional
        ``on_start(to_run, skipped)`` once the work is known; ``on_clip(row, done,
        to_run)`` as each clip finishes (progress display).

    Returns
    -------
    BatchSummary
        Rows of every input, in input order; ``summary.exit_code`` says how many failed.
    """
    from spa2v.api import RunOptions

    options = options or RunOptions()
    out = Path(out_dir)
    clips: list[ClipInput]
    if inputs and isinstance(inputs[0], ClipInput):
        clips = [clip for clip in inputs if isinstance(clip, ClipInput)]
    else:
        clips = collect_inputs([str(i) for i in inputs], exclude=out)
    if not clips:
        raise Spa2vError("no recordings found in the inputs given")
    check_out_dir(out, options, resume)
    if getattr(options, "evaluate", False):
        from spa2v.api import check_evaluation_available

        check_evaluation_available()  # before any clip runs
    runner = (
        engine
        if isinstance(engine, Engine)
        else make_engine(
            engine, workers, address, gpu_actors=gpu_actors, gpus_per_actor=gpus_per_actor
        )
    )
    rows: list[dict[str, Any] | None] = [None] * len(clips)
    done = 0
    with runner:
        start_out_dir(out, options)
        tasks: list[ClipTask] = []
        for index, clip in enumerate(clips):
            previous = read_result(out, clip.clip_id) if resume else None
            if (
                previous is not None
                and is_complete(previous, out)
                and previous.get("input") == clip.input
            ):
                rows[index] = previous
            else:
                tasks.append(make_task(index, clip, str(out), options))
        skipped = len(clips) - len(tasks)
        if on_start is not None:
            on_start(len(tasks), skipped)
        start = time.perf_counter()
        for position, task in runner.run(tasks, clip_stages(options), on_crash=crashed):
            rows[tasks[position].index] = task.row
            done += 1
            if on_clip is not None:
                on_clip(task.row, done, len(tasks))
    remove_work_folders(out)
    finished = [row for row in rows if row is not None]
    summary = BatchSummary(
        out_dir=out,
        rows=finished,
        skipped=skipped,
        seconds=time.perf_counter() - start,
        engine=runner.name,
        workers=getattr(runner, "workers", 1),
    )
    summary.tables = write_results(finished, out)
    return summary
