"""Engines that run many items through a chain of stages: a process pool on this
machine, or a Ray Data pipeline on a Ray cluster.

Both ``spa2v batch`` and ``spa2v bench`` describe their work as :class:`Stage` s (plain
module-level functions ``item -> item``, so they pickle) and hand the items to an
engine, which yields ``(index, result)`` as items finish:

- :class:`LocalEngine` (``--engine local``, no extra dependency): ``workers`` processes,
  each running every stage of one item in turn. A stage's ``setup`` (model loading)
  runs once per worker process.
- :class:`RayEngine` (``--engine ray``, the ``spa2v[ray]`` extra): a Ray Data pipeline
  with one ``map_batches`` stage per run of consecutive CPU stages and one per run of
  ``gpu`` stages, each an actor pool whose actors run their stages' ``setup`` once, in
  the constructor: the CPU pool has an actor of one CPU per CPU of the cluster (at most
  one per item), the GPU pool ``gpu_actors`` actors holding ``gpus_per_actor`` GPU(s)
  each.

>>> engine = make_engine("local", workers=2)  # doctest: +SKIP
>>> for index, result in engine.run(items, [Stage("square", square)]):  # doctest: +SKIP
...     print(index, result)
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import signal
import socket
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spa2v.errors import BackendUnavailableError, Spa2vError

ENGINES = ("local", "ray")

#: Default Ray cluster port (``ray start --head`` listens there).
RAY_DEFAULT_PORT = 6379
#: Why a clip failed when the Ray actor running it died (Ray does not tell how).
RAY_DEATH = "its Ray actor died: a crash in a native library, or the out-of-memory killer"
#: Seconds to wait for a Ray cluster's address to answer before giving up.
RAY_CONNECT_TIMEOUT_S = 10.0
#: Where Ray (2.52 and later) finds a cluster's authentication token: these variables
#: (the token itself, or a file holding it), else this file in the home folder.
RAY_TOKEN_VARIABLES = ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")
RAY_TOKEN_FILE = (".ray", "auth_token")
#: Ray settings for a local instance the engine starts (a value the user set wins).
#: Ray's clients retry a raylet that is not listening yet once a second, ten times;
#: starting a local instance on a 2-core machine, ``ray.init`` waited out that second
#: in a quarter to a half of its starts (2.4 s or 3.4 s). Every 0.1 s instead, as long
#: in all (``benchmarks/bench_ray_start.py``). Set in this process's environment, which
#: the instance's processes inherit; it stays set after the engine closes.
RAY_LOCAL_SETTINGS = {
    "RAY_raylet_client_connect_timeout_milliseconds": "100",
    "RAY_raylet_client_num_connect_attempts": "100",
}


#: ``(item, reason) -> result`` for an item whose worker died (see :meth:`Engine.run`).
CrashHandler = Callable[[Any, str], Any]


@dataclass(frozen=True)
class Stage:
    """One step of a pipeline.

    Attributes
    ----------
    name : str
        Shown in logs and in Ray's stage names.
    fn : callable
        ``item -> item``; a module-level function so that it pickles.
    gpu : bool
        Runs on a GPU: an actor stage in the Ray engine (the local engine runs it like
        any other stage).
    setup : callable, optional
        Loads what ``fn`` needs (a model) once per worker process or actor, before its
        first item.
    """

    name: str
    fn: Callable[[Any], Any]
    gpu: bool = False
    setup: Callable[[], None] | None = None


class Engine:
    """Runs items through stages; subclasses say where."""

    name = "engine"

    def run(
        self,
        items: Sequence[Any],
        stages: Sequence[Stage],
        on_crash: CrashHandler | None = None,
    ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index into items, result)`` for every item as it finishes (in
        completion order). An exception raised by a stage stops the run.

        ``on_crash(item, reason)`` gives the result of an item whose worker process died
        under it (a crash in a native library, the out-of-memory killer); the run goes
        on. Without it such a death stops the run. (The local engine with one worker
        and no handler runs the items in this process, where a death ends everything;
        with a handler, its one worker is a process of its own.)
        """
        raise NotImplementedError

    def close(self) -> None:
        """Release the workers (idempotent)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_engine(
    name: str = "local",
    workers: int | None = None,
    address: str | None = None,
    gpu_actors: int = 1,
    gpus_per_actor: float = 1.0,
) -> Engine:
    """The engine ``name`` ("local" or "ray").

    Parameters
    ----------
    workers : int, optional
        Local engine: worker processes (default: the CPUs this process may use). Ray
        engine without ``address``: the CPUs of the local Ray instance it starts.
    address : str, optional
        Ray engine: an existing cluster ("HOST:PORT", "ray://HOST:PORT" or "auto").
    gpu_actors, gpus_per_actor : int, float
        Ray engine: size of the actor pool of GPU stages, and GPUs held by each actor.
    """
    if name == "local":
        if address:
            raise Spa2vError("--address needs --engine ray")
        return LocalEngine(workers)
    if name == "ray":
        return RayEngine(workers, address, gpu_actors=gpu_actors, gpus_per_actor=gpus_per_actor)
    raise Spa2vError(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")


def available_cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


# -- stages, as run inside a worker --------------------------------------------------------

_SET_UP: set[str] = set()


def _ensure_setup(stage: Stage) -> None:
    """Run ``stage.setup`` once in this process."""
    if stage.setup is not None and stage.name not in _SET_UP:
        stage.setup()
        _SET_UP.add(stage.name)


def run_stages(item: Any, stages: Sequence[Stage]) -> Any:
    """Apply every stage to ``item`` in this process (the local engine's task)."""
    for stage in stages:
        _ensure_setup(stage)
        item = stage.fn(item)
    return item


#: Variables that size the thread pools of numerical libraries (OpenMP, OpenBLAS, MKL).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _worker_init(threads: int = 0) -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool, the workers
    # must not each print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Each worker's numerical libraries get its share of the CPUs, as Ray gives its
    # workers OMP_NUM_THREADS = the task's CPUs. Otherwise numpy's OpenBLAS starts a
    # thread per CPU in every worker, and the extra threads spin-wait for the ones the
    # other workers hold: on a loaded 2-core machine hearing a clip then took twice the
    # CPU and wall time. Set before the worker imports numpy (its first task does);
    # a value the user set wins.
    if threads:
        for name in THREAD_VARIABLES:
            os.environ.setdefault(name, str(threads))


# -- local engine ---------------------------------------------------------------------------


class LocalEngine(Engine):
    """A pool of ``workers`` processes on this machine (started with ``spawn``, so each
    imports spa2v and loads its models once; each worker's BLAS/OpenMP threads are its
    share of the CPUs). One worker runs in this process, unless the run is given a
    crash handler: then it is a process too, so that a crash under one item (a native
    library's segfault, the out-of-memory killer) fails that item only, at the cost of
    one process start."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = int(workers or available_cpus())
        if self.workers < 1:
            raise Spa2vError(f"--workers {self.workers}: use 1 or more")
        self._pool: ProcessPoolExecutor | None = None

    def run(
        self,
        items: Sequence[Any],
        stages: Sequence[Stage],
        on_crash: CrashHandler | None = None,
    ) -> Iterator[tuple[int, Any]]:
        if not items:
            return
        if self.workers == 1 and on_crash is None:  # no pool to start, nothing to pickle
            for index, item in enumerate(items):
                yield index, run_stages(item, stages)
            return
        n_workers = min(self.workers, len(items))
        # A bounded window of submitted items keeps memory flat for very long lists.
        window = 4 * self.workers
        queue = deque(range(len(items)))  # not yet submitted
        # When a worker dies, the pool is lost with every item in it, and which item
        # killed it is unknown: those items run again one at a time, so that a death
        # names its item; the batch then goes on at full width.
        suspects: deque[int] = deque()
        pending: dict[Future[Any], int] = {}
        workers: dict[int, Any] = {}  # pid -> process, to read a dead worker's exit code
        try:
            while queue or suspects or pending:
                if self._pool is None:
                    self._pool = self._start_pool(n_workers)
                if suspects:
                    if not pending:
                        index = suspects.popleft()
                        pending[self._pool.submit(run_stages, items[index], tuple(stages))] = index
                else:
                    while queue and len(pending) < window:
                        index = queue.popleft()
                        pending[self._pool.submit(run_stages, items[index], tuple(stages))] = index
                workers.update(getattr(self._pool, "_processes", None) or {})
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                lost: list[int] = []
                for future in done:
                    index = pending.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        lost.append(index)
                        continue
                    yield index, result
                if not lost:
                    continue
                # The pool is broken: its other items fail too, once the pool says so
                # (those that finished before the death keep their results).
                wait(pending, timeout=30)
                for future, index in pending.items():
                    if future.done() and future.exception() is None:
                        yield index, future.result()
                    else:
                        lost.append(index)
                pending.clear()
                # The pool's own thread stops and reaps its workers: let it finish first.
                # Reaping them here at the same time lost a dead worker's exit status
                # in 8 of 101 runs (it read None: "stopped" instead of the crash).
                manager = getattr(self._pool, "_executor_manager_thread", None)
                if manager is not None:
                    manager.join(timeout=30)
                for process in workers.values():  # the pool stops the others: reap all
                    process.join(timeout=10)
                reason = _death_reason(workers.values())
                self.close()
                workers.clear()
                if reason is None:
                    raise Spa2vError("the worker processes were stopped (SIGTERM or SIGINT)")
                if on_crash is None:
                    raise Spa2vError(f"a worker process died ({reason})")
                if len(lost) == 1:  # alone in the pool: this item killed its worker
                    yield lost[0], on_crash(items[lost[0]], reason)
                else:
                    suspects.extend(sorted(lost))
        finally:
            self.close()

    def _start_pool(self, n_workers: int) -> ProcessPoolExecutor:
        import multiprocessing

        return ProcessPoolExecutor(
            max_workers=n_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(max(1, available_cpus() // n_workers),),
        )

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # Stop at once on an interrupt: the workers' half-done clips are thrown away
        # (their outputs are written atomically, so nothing half-written is left).
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)


# -- Ray engine -----------------------------------------------------------------------------


class RayEngine(Engine):
    """A Ray Data pipeline on a Ray cluster (``address``) or on a local Ray instance."""

    name = "ray"

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        gpu_actors: int = 1,
        gpus_per_actor: float = 1.0,
    ) -> None:
        if importlib.util.find_spec("ray") is None:
            raise BackendUnavailableError("the Ray engine needs Ray: pip install 'spa2v[ray]'")
        # Ray's own convention: a Ray job's entry point is told its cluster this way.
        from_environment = not address and os.environ.get("RAY_ADDRESS", "") not in ("", "local")
        if from_environment:
            address = os.environ["RAY_ADDRESS"]
        self.address = address or None
        self.gpu_actors = int(gpu_actors)
        self.gpus_per_actor = float(gpus_per_actor)
        self._started = False
        sends_token = False
        if address:
            try:
                check_ray_address(address)
            except Spa2vError as exc:
                raise Spa2vError(f"RAY_ADDRESS: {exc}" if from_environment else str(exc)) from None
            sends_token = send_ray_token_if_held()  # before Ray reads its settings
        import logging

        import ray

        # Ray's own notices (deprecations inside Ray Data, "execution finished") are
        # not the user's business; its errors still show.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray\.")
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(logging.ERROR)
        if not ray.is_initialized():
            options: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "logging_level": logging.ERROR,
            }
            if address:
                options["address"] = address
            else:
                # "local": a new instance, also when a cluster started by `ray start`
                # runs on this machine (ray.init would join that one, and refuse the CPUs).
                options["address"] = "local"
                options["num_cpus"] = int(workers or available_cpus())
                for name, value in RAY_LOCAL_SETTINGS.items():
                    os.environ.setdefault(name, value)
            try:
                ray.init(**options)
            except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
                where = address or "a local Ray instance"
                message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                if address and sends_token:
                    message += (
                        " (it may refuse this machine's Ray token: `ray get-auth-token` on "
                        "the head node prints the cluster's; set RAY_AUTH_TOKEN to it)"
                    )
                elif address:
                    message += (
                        " (if the cluster uses token authentication, set RAY_AUTH_TOKEN to "
                        "the token `ray get-auth-token` prints on the head node)"
                    )
                raise Spa2vError(
                    f"cannot connect to the Ray cluster at {where}: {message}"
                ) from None
            self._started = True
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # spa2v shows its own
        context.print_on_execution_start = False
        self.workers = int(ray.cluster_resources().get("CPU", 1))

    def run(
        self,
        items: Sequence[Any],
        stages: Sequence[Stage],
        on_crash: CrashHandler | None = None,
    ) -> Iterator[tuple[int, Any]]:
        import ray

        # A dead actor loses the items it held, and Ray Data does not say which they
        # were: with ``on_crash``, the pipeline goes on without them (errored blocks are
        # tolerated) and they run again in a new pipeline, one at a time once a pass
        # makes no progress, so that a death names its item.
        pending = list(range(len(items)))
        alone = False
        while pending:
            returned: set[int] = set()
            for group in [[i] for i in pending] if alone else [pending]:
                try:
                    for index, result in self._run_pass(items, group, stages, on_crash):
                        returned.add(index)
                        yield index, result
                except ray.exceptions.RayActorError as exc:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                    raise Spa2vError(f"a Ray worker died: {first}") from None
            missing = [i for i in pending if i not in returned]
            if missing and alone:  # each ran alone: each missing one killed its actor
                if on_crash is None:
                    raise Spa2vError(f"a Ray worker died ({RAY_DEATH})")
                for index in missing:
                    yield index, on_crash(items[index], RAY_DEATH)
                return
            alone = len(missing) == len(pending)
            pending = missing

    def _run_pass(
        self,
        items: Sequence[Any],
        indices: Sequence[int],
        stages: Sequence[Stage],
        on_crash: CrashHandler | None,
    ) -> Iterator[tuple[int, Any]]:
        """One Ray Data pipeline over ``items[indices]``; with ``on_crash``, the items
        of an actor that dies are left out instead of ending the pipeline."""
        import logging

        import ray

        logging.getLogger("ray.data").setLevel(logging.ERROR)
        rows = [{"index": i, "item": pickle.dumps(items[i])} for i in indices]
        context = ray.data.DataContext.get_current()
        tolerated = context.max_errored_blocks
        context.max_errored_blocks = -1 if on_crash is not None else 0
        try:
            dataset: ray.data.Dataset = ray.data.from_items(
                rows, override_num_blocks=min(len(rows), 1000)
            )
            for group in stage_groups(stages):
                resources: dict[str, Any]
                if group[0].gpu:
                    resources = {"num_gpus": self.gpus_per_actor, "concurrency": self.gpu_actors}
                else:
                    # Actors rather than tasks: the pool starts, imports spa2v and loads
                    # the models while the first items are handed out, and each actor
                    # is sent its next item before it finishes the current one. Tasks
                    # paid a new worker's start-up for the first items and a pause
                    # between items.
                    resources = {"num_cpus": 1, "concurrency": min(self.workers, len(rows))}
                # Not restarted: a restarted actor would be handed the item that killed
                # it again (a deterministic crash would loop); a new pass runs what a
                # dead actor held. This also spares the warning Ray logs on every run
                # that the actors of a pool it may restart keep their arguments in its
                # object store. (Ray Data has no named parameter for this yet and flags
                # the keyword as deprecated: hence the filter, and the upper bound of
                # the ``ray`` extra.)
                resources["max_restarts"] = 0
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
                    dataset = dataset.map_batches(
                        _StagesActor,
                        fn_constructor_args=(tuple(group),),
                        batch_size=1,
                        batch_format="numpy",
                        **resources,
                    )
            for row in dataset.iter_rows():
                yield int(row["index"]), pickle.loads(row["item"])
        finally:
            context.max_errored_blocks = tolerated

    def close(self) -> None:
        if self._started:
            import ray

            if self.address is None:
                _kill_autoscaler_monitor()
            ray.shutdown()
            self._started = False


def _kill_autoscaler_monitor() -> None:
    """Kill the autoscaler monitor of the local Ray instance this process started.

    ``ray.shutdown`` stops a local instance's processes one at a time, each with a
    SIGTERM and a second's grace before a SIGKILL; the autoscaler monitor, which has
    nothing to do on one machine, lets its second run out every time (shutdown 1.4 s,
    0.4 s with the monitor killed first, on a 2-core machine). Ray has no public handle
    on its processes, so this reaches into its node object; with a Ray whose internals
    differ, nothing is killed and shutdown takes the second.
    """
    import ray

    try:
        node: Any = ray._private.worker._global_node
        monitors = node.all_processes.get(ray._private.ray_constants.PROCESS_TYPE_MONITOR, [])
        for info in monitors:
            info.process.kill()
    except (AttributeError, OSError):
        pass


def stage_groups(stages: Sequence[Stage]) -> list[list[Stage]]:
    """``stages`` cut where they change between CPU and GPU, in order.

    >>> [[s.name for s in g] for g in stage_groups(
    ...     [Stage("hear", id), Stage("plan", id), Stage("render", id, gpu=True)])]
    [['hear', 'plan'], ['render']]
    """
    groups: list[list[Stage]] = []
    for stage in stages:
        if groups and groups[-1][0].gpu == stage.gpu:
            groups[-1].append(stage)
        else:
            groups.append([stage])
    return groups


class _StagesActor:
    """A Ray Data actor running ``stages`` on each item; their ``setup`` runs in the
    constructor."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = tuple(stages)
        for stage in self.stages:
            _ensure_setup(stage)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        out = [pickle.dumps(run_stages(pickle.loads(blob), self.stages)) for blob in batch["item"]]
        packed = np.empty(len(out), dtype=object)
        packed[:] = out
        return {"index": batch["index"], "item": packed}


def _death_reason(processes: Iterable[Any]) -> str | None:
    """How a pool's worker died, from the exit codes of its processes: the first that
    ended on its own (a broken pool stops the others with SIGTERM). None when they were
    all stopped by SIGTERM or SIGINT: stopped from outside (the batch is being killed),
    which no item caused.

    >>> class Gone:
    ...     def __init__(self, exitcode): self.exitcode = exitcode
    >>> _death_reason([Gone(-15), Gone(-9)])
    'killed by SIGKILL, which is often the out-of-memory killer'
    >>> _death_reason([Gone(-15), Gone(-15)]) is None
    True
    """
    stopped = (-signal.SIGTERM, -signal.SIGINT)
    for code in (getattr(p, "exitcode", None) for p in processes):
        if code is None or code == 0 or code in stopped:
            continue
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            hint = ", which is often the out-of-memory killer" if -code == signal.SIGKILL else ""
            return f"killed by {name}{hint}"
        return f"exit code {code}"
    return None


def send_ray_token_if_held() -> bool:
    """Before joining a cluster by its address, turn on Ray's token authentication if
    ``RAY_AUTH_MODE`` is not set and this machine holds a token; True if it is on.

    Clusters started by ``ray start`` require a token since Ray 2.59 (it is written to
    ``~/.ray/auth_token``), but ``ray.init`` sends the token it holds only when it starts
    a local instance or is given ``"auto"``; given an address it sends none unless
    ``RAY_AUTH_MODE=token`` is set, and the cluster refuses it after 20 s of retries. This
    does what Ray does for ``"auto"``. A cluster without authentication accepts a
    client that sends a token; ``RAY_AUTH_MODE=disabled`` turns this off.
    """
    mode = os.environ.get("RAY_AUTH_MODE")
    if mode is not None:
        return mode.strip().lower() == "token"
    held = any(os.environ.get(name) for name in RAY_TOKEN_VARIABLES)
    if not held:
        held = Path.home().joinpath(*RAY_TOKEN_FILE).is_file()
    if held:
        os.environ["RAY_AUTH_MODE"] = "token"
    return held


def check_ray_address(address: str, timeout_s: float = RAY_CONNECT_TIMEOUT_S) -> None:
    """Fail fast, in one line naming ``address``, when nothing answers there.

    ``ray.init`` would otherwise retry for a minute and print pages of logs.
    ``"auto"`` (the cluster this machine belongs to) is left to Ray.
    """
    if address == "auto":
        return
    host_port = address.split("://", 1)[-1].rstrip("/")
    host, _, port_text = host_port.rpartition(":")
    if not host:
        host, port_text = host_port, str(RAY_DEFAULT_PORT)
    try:
        port = int(port_text)
    except ValueError:
        raise Spa2vError(f"--address {address}: use HOST:PORT, ray://HOST:PORT or auto") from None
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise Spa2vError(
            f"cannot reach the Ray cluster at {address}: {reason} "
            "(is `ray start --head` running there, and is the port open?)"
        ) from None
