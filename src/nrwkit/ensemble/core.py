"""One way to run many scenarios: in-process, a process pool, or a Dask cluster, resumable.

A task is a small picklable description, never a live WNTR object: the dotted name of an
importable function (``"nrwkit.ensemble.tasks:leak_scenario"``), its parameters (a network is a
bundled name or a file path) and a seed. :func:`run` sends the tasks to an executor, each runs
in its own temporary directory (EPANET files never clash), and the results come back as a table
with one status row per task: ``ok``, ``failed`` with the error, or ``timed out``. A failed task
never loses the others', nor does a worker process that dies. With ``out``, each result is written
as it arrives (one Parquet file per task, or per batch, under ``out/results/``): run the same tasks
again with the same ``out`` and the finished ones are read back, not run again.

Executors: ``"inprocess"`` (a loop, for debugging), ``"processes"`` (a process pool, the default),
``"local"`` or ``"local:N"`` (a ``dask.distributed.LocalCluster`` of N worker processes), or a
scheduler address ``"tcp://HOST:PORT"`` (an existing Dask cluster). The same tasks give the same
results on all of them.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import functools
import hashlib
import importlib
import os
import re
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError

__all__ = ["ATTEMPTS", "Task", "execute", "execute_all", "network_source", "run", "task_id"]

#: A progress callback: ``progress(stage, done, total)``.
Progress = Callable[[str, int, int], None]
#: Columns of every result row, before the task's own figures.
STATUS_COLUMNS = ["task_id", "status", "error", "seconds"]
#: How many times a task may be running when its worker process dies before it counts as failed.
ATTEMPTS = 3
#: In a worker process, how long after its deadline a task stuck inside one C call ends the process:
#: the larger of this and the timeout itself, s.
HARD_STOP_GRACE_S = 10.0


class _TimedOut(BaseException):
    """Raised inside a task at its deadline.

    A BaseException: a task's own ``except Exception`` does not swallow it.
    """


@dataclass(frozen=True)
class Task:
    """One scenario to run.

    Attributes
    ----------
    id : str
        Unique in an ensemble (letters, digits, ``-`` and ``_``): the name of its result file.
    function : str
        ``"module:callable"``, importable on every worker; it is called as
        ``callable(seed=seed, **params)`` and returns a dict of plain values (numbers, strings).
    params : dict
        Plain, picklable parameters. A file is best given as an absolute path (see
        :func:`network_source`): the task runs in a temporary folder of its own.
    seed : int
    timeout_s : float, optional
        Longest run allowed, s: a task still running then is stopped and its row says ``timed out``
        (see :func:`run`).
    """

    id: str
    function: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    timeout_s: float | None = None


def network_source(network: str | Path) -> str:
    """Return a network as a task parameter every worker can read.

    A bundled name stays a name; a file (or a workspace folder, for its network) becomes its
    absolute path, since a task runs in a temporary folder of its own where a relative path
    would not be found.
    """
    from ..networks import is_bundled, resolve

    if Path(network).exists() or not is_bundled(str(network)):
        return str(resolve(network).resolve())
    return str(network)


def task_id(prefix: str, k: int, width: int = 6) -> str:
    """Return the id of the k-th task of a family: ``prefix-000042``."""
    return f"{prefix}-{k:0{width}d}"


def _resolve(function: str) -> Callable[..., dict[str, Any]]:
    module, _, name = function.partition(":")
    if not module or not name:
        raise InputError(f"task function {function!r}: give it as 'module:callable'")
    function_object: Callable[..., dict[str, Any]] = getattr(importlib.import_module(module), name)
    return function_object


def _raise_timed_out(signum: int, frame: Any) -> None:
    raise _TimedOut


@contextlib.contextmanager
def _deadline(timeout_s: float | None, hard_stop_s: float | None) -> Iterator[Callable[[], None]]:
    """Raise :class:`_TimedOut` in the running code once ``timeout_s`` has passed.

    In a process's main thread this is ``SIGALRM`` (it also ends a blocking sleep or read); in any
    other thread (a Dask worker's) the exception is set on the thread with
    ``PyThreadState_SetAsyncExc``. Either arrives at the next Python instruction: a single C call
    (one EPANET solve) finishes first. With ``hard_stop_s``, a task that still runs that long after
    its deadline (stuck inside C) ends its worker process; the ensemble then counts the task as lost
    with its worker (see :data:`ATTEMPTS`). Yields ``finish``, to call as soon as the work
    returned: no exception is raised after it.
    """
    if timeout_s is None:
        yield lambda: None
        return
    lock = threading.Lock()
    state = {"done": False}
    thread_id = threading.get_ident()
    main = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    def finish() -> None:
        with lock:
            state["done"] = True
            if main:
                signal.setitimer(signal.ITIMER_REAL, 0)

    def interrupt() -> None:
        with lock:
            if not state["done"]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(thread_id), ctypes.py_object(_TimedOut)
                )

    def end_process() -> None:
        with lock:
            if not state["done"]:
                os._exit(124)  # stuck in C past its deadline: only ending the worker stops it

    timers = []
    if main:
        previous = signal.signal(signal.SIGALRM, _raise_timed_out)
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
    else:
        timers.append(threading.Timer(timeout_s, interrupt))
    if hard_stop_s is not None:
        timers.append(threading.Timer(timeout_s + hard_stop_s, end_process))
    for timer in timers:
        timer.daemon = True
        timer.start()
    try:
        yield finish
    finally:
        finish()
        for timer in timers:
            timer.cancel()
        if main:
            signal.signal(signal.SIGALRM, previous)
        else:  # an exception set but not yet raised must not outlive the task
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)


def execute(task: Task, hard_stop_s: float | None = None) -> dict[str, Any]:
    """Run one task in its own temporary directory; return its status row (never raises).

    Parameters
    ----------
    task : Task
    hard_stop_s : float, optional
        In a worker process only: end the process when the task still runs this long after its
        deadline (stuck in a C call that the timeout cannot interrupt; see :func:`run`).

    Returns
    -------
    dict
        ``task_id``, ``status`` (``ok``, ``failed`` or ``timed out``), ``error``, ``seconds`` and,
        when ok, the task's own figures.
    """
    start = time.perf_counter()
    before = os.getcwd()
    with tempfile.TemporaryDirectory(prefix=f"nrwkit-{task.id}-") as folder:
        try:
            os.chdir(folder)
            with _deadline(task.timeout_s, hard_stop_s) as finish:
                result = _resolve(task.function)(seed=task.seed, **task.params)
                finish()
            row = {"task_id": task.id, "status": "ok", "error": "", **dict(result)}
        except _TimedOut:
            row = {
                "task_id": task.id,
                "status": "timed out",
                "error": f"still running after its timeout of {task.timeout_s:g} s: stopped",
            }
        except Exception as exc:  # a task's failure is its row, never the ensemble's
            last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f" ({Path(last.filename).name}:{last.lineno})" if last else ""
            row = {"task_id": task.id, "status": "failed", "error": f"{type(exc).__name__}: {exc}{where}"}
        finally:
            os.chdir(before)
    row["seconds"] = round(time.perf_counter() - start, 4)
    return row


def execute_all(tasks: Sequence[Task], grace_s: float | None = None) -> list[dict[str, Any]]:
    """Run a batch of tasks one after the other (one unit of work for a worker); return their rows.

    Parameters
    ----------
    tasks : sequence of Task
    grace_s : float, optional
        In a worker process only: the hard-stop grace (see :func:`execute`); each task's own
        is the larger of this and its timeout.
    """
    return [execute(task, _hard_stop_s(task, grace_s)) for task in tasks]


def _unreturned(task: Task, exc: BaseException) -> dict[str, Any]:
    """Return the row of a task that ran but whose result could not come back from its worker."""
    return {
        "task_id": task.id,
        "status": "failed",
        "error": f"its result could not come back from the worker ({type(exc).__name__}: {exc}): "
        "return plain values (numbers, strings, lists)",
        "seconds": float("nan"),
    }


def _lost(task: Task, exc: BaseException, attempts: int) -> dict[str, Any]:
    """Return the row of a task whose worker process died under it ``attempts`` times."""
    why = f"{type(exc).__name__}: {exc}".rstrip(": ")
    return {
        "task_id": task.id,
        "status": "failed",
        "error": f"worker lost {attempts} time(s) while running it ({why}): a crash inside the "
        "engine, memory exhausted, or a task stuck past its timeout",
        "seconds": float("nan"),
    }


def _check(tasks: Sequence[Task]) -> None:
    seen: set[str] = set()
    for task in tasks:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", task.id):
            raise InputError(f"task id {task.id!r}: use letters, digits, '.', '-' and '_' only")
        if task.timeout_s is not None and not task.timeout_s > 0:
            raise InputError(f"task {task.id}: timeout {task.timeout_s} s; give a positive number of seconds")
        if task.id in seen:
            raise InputError(f"task id {task.id!r} is given twice: every task needs its own id")
        seen.add(task.id)


def _done(out: Path | None) -> dict[str, dict[str, Any]]:
    """Rows already written under ``out/results`` that finished ``ok``."""
    if out is None or not (out / "results").is_dir():
        return {}
    rows = {}
    for path in sorted((out / "results").glob("*.parquet")):
        for row in pd.read_parquet(path).to_dict("records"):
            if row.get("status") == "ok":
                rows[str(row["task_id"])] = row
    return rows


def _write(out: Path | None, rows: list[dict[str, Any]]) -> None:
    """Write one unit's rows as one Parquet file: ``<task id>.parquet``, or ``batch-...`` for many."""
    if out is None:
        return
    folder = out / "results"
    folder.mkdir(parents=True, exist_ok=True)
    ids = [str(row["task_id"]) for row in rows]
    if len(ids) == 1:
        name = ids[0]
    else:  # named by its tasks: a batch of other tasks never replaces it
        name = f"batch-{ids[0]}-{hashlib.sha1(chr(10).join(ids).encode()).hexdigest()[:10]}"
    final = folder / f"{name}.parquet"
    partial = folder / f".{name}.parquet.part"
    pd.DataFrame(rows).to_parquet(partial, index=False)
    os.replace(partial, final)  # a result is there whole or not at all


def _kept(out: Path | None, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write a unit's rows; a row Parquet cannot hold becomes a failed row (written alone)."""
    try:
        _write(out, rows)
        return rows
    except (ValueError, TypeError, NotImplementedError) as exc:  # pyarrow's errors derive from these
        if len(rows) > 1:
            return [kept for row in rows for kept in _kept(out, [row])]
        error = exc
    failed = {
        "task_id": rows[0]["task_id"],
        "status": "failed",
        "error": f"its result cannot be written as Parquet ({type(error).__name__}: {error}): return "
        "plain values (numbers, strings, lists of numbers)",
        "seconds": rows[0].get("seconds", float("nan")),
    }
    _write(out, [failed])
    return [failed]


#: A unit of work: the tasks one worker runs in one go (one task, or a batch).
Unit = list[Task]


def _stream(
    units: list[Unit],
    executor: str | concurrent.futures.Executor | None,
    workers: int | None,
    on_start: Callable[[str], None] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield each unit's rows as it finishes, on the executor asked for."""
    if not units:
        return
    if executor == "inprocess":
        for unit in units:
            yield execute_all(unit)
        return
    if isinstance(executor, concurrent.futures.Executor):
        yield from _from_executor(executor, units)
        return
    if executor is None or executor == "processes":
        yield from _from_pool(units, min(workers or os.cpu_count() or 1, len(units)))
        return
    yield from _from_dask(units, str(executor), workers, on_start)


def _from_executor(pool: concurrent.futures.Executor, units: list[Unit]) -> Iterator[list[dict[str, Any]]]:
    """Run on an executor the caller owns (no hard stop: it may be the caller's own process)."""
    futures = {pool.submit(execute_all, unit): unit for unit in units}
    for future in concurrent.futures.as_completed(futures):
        try:
            yield future.result()
        except Exception as exc:  # the executor lost the unit: its tasks are accounted for, as failed
            yield [_lost(task, exc, 1) for task in futures[future]]


def _hard_stop_s(task: Task, grace_s: float | None) -> float | None:
    return None if task.timeout_s is None or grace_s is None else max(grace_s, task.timeout_s)


def _from_pool(units: list[Unit], count: int) -> Iterator[list[dict[str, Any]]]:
    """Run on process pools of ``count`` workers, a new pool whenever a worker dies.

    At most two units per worker are handed out at a time. When a worker process dies (the pool
    is then broken) the tasks handed out are the suspects: each runs again alone in a pool of its
    own (so that a task that kills its worker is found and the others are not blamed), up to
    :data:`ATTEMPTS` times, while the remaining units go on in a new pool.
    """
    queue = list(reversed(units))
    grace = HARD_STOP_GRACE_S
    while queue:
        suspects: list[Task] = []
        with concurrent.futures.ProcessPoolExecutor(max_workers=count) as pool:
            running: dict[concurrent.futures.Future[list[dict[str, Any]]], Unit] = {}
            while (queue or running) and not suspects:
                while queue and len(running) < 2 * count:
                    unit = queue.pop()
                    running[pool.submit(execute_all, unit, grace)] = unit
                finished, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    unit = running.pop(future)
                    try:
                        rows = future.result()
                    except concurrent.futures.process.BrokenProcessPool:
                        suspects.extend(unit)
                        continue
                    except Exception as exc:  # e.g. a result that cannot travel back (not picklable)
                        if len(unit) > 1:  # run its tasks one by one to find which result it was
                            queue.extend([task] for task in reversed(unit))
                            continue
                        rows = [_unreturned(unit[0], exc)]
                    yield rows
            suspects.extend(task for unit in running.values() for task in unit)
        if suspects:
            with concurrent.futures.ThreadPoolExecutor(max_workers=count) as threads:
                yield from ([row] for row in threads.map(functools.partial(_alone, grace_s=grace), suspects))


def _alone(task: Task, grace_s: float) -> dict[str, Any]:
    """Run a task in a process of its own, again if the process dies, at most :data:`ATTEMPTS` times.

    A process that dies after the task's deadline and hard-stop grace was ended by the hard stop:
    the task is ``timed out`` (not run again).
    """
    error: BaseException = RuntimeError("worker process ended")
    grace = _hard_stop_s(task, grace_s)
    for _ in range(ATTEMPTS):
        start = time.perf_counter()
        with concurrent.futures.ProcessPoolExecutor(max_workers=1) as solo:
            try:
                return solo.submit(execute, task, grace).result()
            except concurrent.futures.process.BrokenProcessPool as exc:
                error = exc
            except Exception as exc:
                return _unreturned(task, exc)
        seconds = time.perf_counter() - start
        if task.timeout_s is not None and grace is not None and seconds >= task.timeout_s + grace:
            return {
                "task_id": task.id,
                "status": "timed out",
                "error": f"still running {task.timeout_s + grace:g} s after its start, inside a call its "
                f"timeout of {task.timeout_s:g} s could not interrupt: its worker process was ended",
                "seconds": round(seconds, 4),
            }
    return _lost(task, error, ATTEMPTS)


def parse_scheduler(scheduler: str) -> tuple[str, int | None]:
    """Return ``("local", N)`` for ``local[:N]``, ``("address", None)`` for ``tcp://...``."""
    text = scheduler.strip()
    match = re.fullmatch(r"local(?::(\d+))?", text)
    if match:
        return "local", int(match.group(1)) if match.group(1) else None
    if re.fullmatch(r"(tcp|tls|inproc|ws|wss)://\S+", text):
        return "address", None
    raise InputError(
        f"scheduler {scheduler!r}: give local, local:N (N worker processes) or a Dask "
        "scheduler address such as tcp://10.0.0.5:8786"
    )


def _from_dask(
    units: list[Unit], scheduler: str, workers: int | None, on_start: Callable[[str], None] | None
) -> Iterator[list[dict[str, Any]]]:
    from distributed import Client, LocalCluster, as_completed

    kind, count = parse_scheduler(scheduler)
    cluster = None
    if kind == "local":
        cluster = LocalCluster(
            n_workers=count or workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    if on_start is not None:
        on_start(str(client.dashboard_link))
    try:
        yield from _submit_windowed(client, units, as_completed)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _submit_windowed(client: Any, units: list[Unit], as_completed: Any) -> Iterator[list[dict[str, Any]]]:
    """Keep a few units per worker thread queued on the cluster, the next sent as one finishes.

    A million tasks are never all on the scheduler at once. A batch lost with its worker too
    often (Dask's ``KilledWorker``) is split: its tasks are sent again one by one; a task is sent
    once more before it is reported as lost, since Dask also blames tasks that were only queued on
    the dying worker.
    """
    window = max(4 * sum(client.nthreads().values()), 64)
    queue = list(reversed(units))
    futures: dict[Any, Unit] = {}
    rounds: dict[str, int] = {}

    def submit() -> Any:
        unit = queue.pop()
        key = f"nrwkit-{unit[0].id}" + (f"-{len(unit)}" if len(unit) > 1 else "")
        again = rounds.get(key, 0)
        future = client.submit(
            execute_all,
            unit,
            HARD_STOP_GRACE_S,
            key=key + (f"-again-{again}" if again else ""),
            pure=False,
            retries=ATTEMPTS - 1,
        )
        futures[future] = unit
        return future

    pending = as_completed([submit() for _ in range(min(window, len(queue)))])
    for future in pending:
        unit = futures.pop(future)
        rows: list[dict[str, Any]] | None = None
        try:
            rows = future.result()
        except Exception as exc:  # its worker died too often: every task is still accounted for
            key = f"nrwkit-{unit[0].id}"
            if len(unit) > 1:  # split: only the task that kills its worker is to be reported
                queue.extend([task] for task in reversed(unit))
            elif rounds.get(key, 0) < 1:  # Dask also blames the tasks queued beside it: once more
                rounds[key] = rounds.get(key, 0) + 1
                queue.append(unit)
            else:
                rows = [_lost(unit[0], exc, 2 * ATTEMPTS)]
        future.release()
        while queue and len(futures) < window:
            pending.add(submit())
        if rows is not None:
            yield rows


def run(
    tasks: Sequence[Task],
    *,
    executor: str | concurrent.futures.Executor | None = None,
    out: str | Path | None = None,
    workers: int | None = None,
    timeout_s: float | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
    on_start: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Run an ensemble of tasks; return one row per task, in the tasks' order.

    Every task is accounted for: ``ok``; ``failed`` with its error (an exception, or its worker
    process died under it :data:`ATTEMPTS` times: Dask and the process pool replace the worker and
    run the task again, the other tasks go on); or ``timed out``. A timeout stops the task at its
    next Python instruction; one stuck in a single C call for ``max(10 s, timeout)`` more ends its
    worker process (never the in-process executor or a caller's own executor), which then counts
    as a lost worker.

    Parameters
    ----------
    tasks : sequence of Task
        Unique ids.
    executor : str or concurrent.futures.Executor, optional
        ``"inprocess"``, ``"processes"`` (default), ``"local"``/``"local:N"`` (a Dask LocalCluster
        of N processes), a Dask scheduler address (``"tcp://HOST:PORT"``), or any
        ``concurrent.futures`` executor.
    out : str or Path, optional
        Where results are written as they arrive (``out/results/<task id>.parquet``); tasks whose
        result is already there and ``ok`` are not run again (resume).
    workers : int, optional
        Processes of the default pool or of a LocalCluster without ``:N``.
    timeout_s : float, optional
        Longest run of a task without a ``timeout_s`` of its own, s.
    batch_size : int, optional
        Tasks a worker runs in one go [default 1]. For very large ensembles: each batch is one
        unit for the scheduler (its cost per unit is then shared) and one Parquet file. The rows
        are the same; a batch whose worker dies is run again task by task.
    progress : callable, optional
        ``progress("scenarios", done, total)``.
    on_start : callable, optional
        Called with the Dask dashboard's address once a cluster is connected.

    Returns
    -------
    pandas.DataFrame
        ``task_id, status, error, seconds`` and the tasks' own figures.

    Raises
    ------
    InputError
        For duplicate or unusable task ids, a timeout that is not positive or an unknown scheduler.
    """
    if timeout_s is not None:
        tasks = [task if task.timeout_s is not None else replace(task, timeout_s=timeout_s) for task in tasks]
    tasks = list(tasks)
    _check(tasks)
    out_path = Path(out) if out is not None else None
    finished = _done(out_path)
    rows = {tid: row for tid, row in finished.items() if tid in {t.id for t in tasks}}
    todo = [task for task in tasks if task.id not in rows]
    done = len(rows)
    if progress is not None:
        progress("scenarios", done, len(tasks))
    size = max(int(batch_size or 1), 1)
    units = [todo[k : k + size] for k in range(0, len(todo), size)]
    for unit_rows in _stream(units, executor, workers, on_start):
        for row in _kept(out_path, unit_rows):
            rows[row["task_id"]] = row
            done += 1
        if progress is not None:
            progress("scenarios", done, len(tasks))
    table = pd.DataFrame([rows[task.id] for task in tasks])
    front = [c for c in STATUS_COLUMNS if c in table.columns]
    return table[front + [c for c in table.columns if c not in front]]
