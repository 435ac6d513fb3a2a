"""One way to run many scenarios: in-process, a process pool, or a Dask cluster, resumable.

A task is a small picklable description, never a live WNTR object: the dotted name of an
importable function (``"nrwkit.ensemble.tasks:leak_scenario"``), its parameters (a network is a
bundled name or a file path) and a seed. :func:`run` sends the tasks to an executor, each runs
in its own temporary directory (EPANET files never clash), and the results come back as a table
with one status row per task: ``ok``, or ``failed`` with the error. A failed task never loses the
others'. With ``out``, each result is written as it arrives (one Parquet file per task under
``out/results/``): run the same tasks again with the same ``out`` and the finished ones are read
back, not run again.

Executors: ``"inprocess"`` (a loop, for debugging), ``"processes"`` (a process pool, the default),
``"local"`` or ``"local:N"`` (a ``dask.distributed.LocalCluster`` of N worker processes), or a
scheduler address ``"tcp://HOST:PORT"`` (an existing Dask cluster). The same tasks give the same
results on all of them.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import os
import re
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError

__all__ = ["Task", "run", "task_id"]

#: A progress callback: ``progress(stage, done, total)``.
Progress = Callable[[str, int, int], None]
#: Columns of every result row, before the task's own figures.
STATUS_COLUMNS = ["task_id", "status", "error", "seconds"]


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
        Plain, picklable parameters.
    seed : int
    """

    id: str
    function: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0


def task_id(prefix: str, k: int, width: int = 6) -> str:
    """Return the id of the k-th task of a family: ``prefix-000042``."""
    return f"{prefix}-{k:0{width}d}"


def _resolve(function: str) -> Callable[..., dict[str, Any]]:
    module, _, name = function.partition(":")
    if not module or not name:
        raise InputError(f"task function {function!r}: give it as 'module:callable'")
    function_object: Callable[..., dict[str, Any]] = getattr(importlib.import_module(module), name)
    return function_object


def execute(task: Task) -> dict[str, Any]:
    """Run one task in its own temporary directory; return its status row (never raises)."""
    start = time.perf_counter()
    before = os.getcwd()
    with tempfile.TemporaryDirectory(prefix=f"nrwkit-{task.id}-") as folder:
        try:
            os.chdir(folder)
            result = _resolve(task.function)(seed=task.seed, **task.params)
            row = {"task_id": task.id, "status": "ok", "error": "", **dict(result)}
        except Exception as exc:  # a task's failure is its row, never the ensemble's
            last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f" ({Path(last.filename).name}:{last.lineno})" if last else ""
            row = {"task_id": task.id, "status": "failed", "error": f"{type(exc).__name__}: {exc}{where}"}
        finally:
            os.chdir(before)
    row["seconds"] = round(time.perf_counter() - start, 4)
    return row


def _check(tasks: Sequence[Task]) -> None:
    seen: set[str] = set()
    for task in tasks:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", task.id):
            raise InputError(f"task id {task.id!r}: use letters, digits, '.', '-' and '_' only")
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


def _write(out: Path | None, row: dict[str, Any]) -> None:
    if out is None:
        return
    folder = out / "results"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{row['task_id']}.parquet"
    partial = folder / f".{row['task_id']}.parquet.part"
    pd.DataFrame([row]).to_parquet(partial, index=False)
    os.replace(partial, final)  # a result is there whole or not at all


def _stream(
    tasks: list[Task],
    executor: str | concurrent.futures.Executor | None,
    workers: int | None,
    on_start: Callable[[str], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield each task's row as it finishes, on the executor asked for."""
    if not tasks:
        return
    if executor == "inprocess":
        for task in tasks:
            yield execute(task)
        return
    if isinstance(executor, concurrent.futures.Executor):
        yield from _from_futures(executor, tasks)
        return
    if executor is None or executor == "processes":
        count = min(workers or os.cpu_count() or 1, len(tasks))
        with concurrent.futures.ProcessPoolExecutor(max_workers=count) as pool:
            yield from _from_futures(pool, tasks)
        return
    yield from _from_dask(tasks, str(executor), workers, on_start)


def _from_futures(pool: concurrent.futures.Executor, tasks: list[Task]) -> Iterator[dict[str, Any]]:
    futures = {pool.submit(execute, task): task for task in tasks}
    for future in concurrent.futures.as_completed(futures):
        task = futures[future]
        try:
            yield future.result()
        except Exception as exc:  # the worker itself died: the task is accounted for, as failed
            yield {
                "task_id": task.id,
                "status": "failed",
                "error": f"worker lost: {type(exc).__name__}: {exc}",
                "seconds": float("nan"),
            }


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
    tasks: list[Task], scheduler: str, workers: int | None, on_start: Callable[[str], None] | None
) -> Iterator[dict[str, Any]]:
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
        futures = {
            client.submit(execute, task, key=f"nrwkit-{task.id}", pure=False, retries=2): task
            for task in tasks
        }
        for future in as_completed(list(futures)):
            task = futures[future]
            try:
                yield future.result()
            except Exception as exc:  # a worker lost too often: the task is still accounted for
                yield {
                    "task_id": task.id,
                    "status": "failed",
                    "error": f"worker lost: {type(exc).__name__}: {exc}",
                    "seconds": float("nan"),
                }
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run(
    tasks: Sequence[Task],
    *,
    executor: str | concurrent.futures.Executor | None = None,
    out: str | Path | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    on_start: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Run an ensemble of tasks; return one row per task, in the tasks' order.

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
        For duplicate or unusable task ids or an unknown scheduler.
    """
    tasks = list(tasks)
    _check(tasks)
    out_path = Path(out) if out is not None else None
    finished = _done(out_path)
    rows = {tid: row for tid, row in finished.items() if tid in {t.id for t in tasks}}
    todo = [task for task in tasks if task.id not in rows]
    done = len(rows)
    if progress is not None:
        progress("scenarios", done, len(tasks))
    for row in _stream(todo, executor, workers, on_start):
        rows[row["task_id"]] = row
        _write(out_path, row)
        done += 1
        if progress is not None:
            progress("scenarios", done, len(tasks))
    table = pd.DataFrame([rows[task.id] for task in tasks])
    front = [c for c in STATUS_COLUMNS if c in table.columns]
    return table[front + [c for c in table.columns if c not in front]]
