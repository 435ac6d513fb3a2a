"""Many exercises at once: a library of exercises, made as an ensemble (:mod:`nrwkit.ensemble`).

Each exercise is :func:`nrwkit.exercise.create_exercise` with its own seed, one task of
:func:`nrwkit.ensemble.run` (a process pool by default, or a Dask cluster), in its own
temporary folder, so runs never share a file. A run that fails is reported in its status row
and does not stop the others.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import OutputExistsError
from ..networks import load
from .create import create_exercise

__all__ = ["BatchRow", "create_exercises"]

#: A progress callback: ``progress(stage, done, total)``.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BatchRow:
    """The status of one exercise of a batch.

    Attributes
    ----------
    name : str
        Its folder's name (``exercise-01``...).
    seed : int
    folder : Path
    status : str
        ``"ok"`` or ``"failed"``.
    leaks : int
        Hidden leaks (0 when it failed).
    error : str
        Why it failed ("" when it did not).
    """

    name: str
    seed: int
    folder: Path
    status: str
    leaks: int = 0
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the row as JSON-ready data."""
        return {"name": self.name, "seed": self.seed, "folder": str(self.folder), "status": self.status,
                "leaks": self.leaks, "error": self.error}


def make_one(*, network: str, folder: str, seed: int, options: Mapping[str, Any]) -> dict[str, Any]:
    """Make one exercise of a batch (an ensemble task); return its number of leaks."""
    exercise = create_exercise(load(network), folder, seed=seed, **options)
    return {"leaks": len(exercise.key.leaks)}


def create_exercises(network: str | Path, out: str | Path, count: int, *, seed: int = 0,
                     executor: str | concurrent.futures.Executor | None = None, workers: int | None = None,
                     progress: Progress | None = None, overwrite: bool = False,
                     on_start: Callable[[str], None] | None = None, **options: Any) -> list[BatchRow]:
    """Create ``count`` exercises on one network, in ``out/exercise-01``, ``out/exercise-02``...

    The exercises are an ensemble (:func:`nrwkit.ensemble.run`): a process pool by default, or
    any executor it takes (``"inprocess"``, ``"local:N"``, a Dask scheduler address).

    Parameters
    ----------
    network : str or Path
        The network: a bundled name or an ``.inp`` file (each worker loads it).
    out : str or Path
        The library's folder.
    count : int
        How many exercises; the k-th has seed ``seed + k - 1``.
    seed : int
        The first seed.
    executor : str or concurrent.futures.Executor, optional
        Where the runs go (see :func:`nrwkit.ensemble.run`).
    workers : int, optional
        Processes of the default pool [default: the machine's cores].
    progress : callable, optional
        ``progress("scenarios", done, count)`` after each run.
    overwrite : bool
        Replace exercises that exist.
    on_start : callable, optional
        Called with the Dask dashboard's address when the executor is a Dask cluster.
    **options
        The options of :func:`~nrwkit.exercise.create_exercise` (difficulty, leaks, days...).

    Returns
    -------
    list of BatchRow
        One per exercise, in order, failed ones included.

    Raises
    ------
    OutputExistsError
        When an exercise's folder exists and ``overwrite`` is False (checked before any run).
    """
    from ..ensemble import Task, network_source, run, task_id

    out = Path(out)
    jobs = [(task_id("exercise", k + 1, max(2, len(str(count)))), seed + k) for k in range(int(count))]
    if not overwrite:
        for name, _ in jobs:
            if (out / name).exists():
                raise OutputExistsError(out / name)
    out.mkdir(parents=True, exist_ok=True)
    settings = {**options, "overwrite": overwrite}
    source = network_source(network)
    tasks = [Task(name, "nrwkit.exercise.batch:make_one",
                  {"network": source, "folder": str((out / name).resolve()), "options": settings},
                  seed=job_seed) for name, job_seed in jobs]
    table = run(tasks, executor=executor, workers=workers, progress=progress,
                on_start=on_start).set_index("task_id")
    rows = []
    for name, job_seed in jobs:
        row = table.loc[name]
        ok = row["status"] == "ok"
        error = "" if ok else str(row["error"]).split(" (", 1)[0].splitlines()[0]
        rows.append(BatchRow(name, job_seed, out / name, "ok" if ok else "failed",
                             leaks=int(row["leaks"]) if ok else 0, error=error))
    return rows
