"""Many exercises at once: a library of exercises, each made in its own process.

Each exercise is :func:`nrwkit.exercise.create_exercise` with its own seed, run through a
``concurrent.futures`` executor (processes by default: EPANET is not thread-safe), in its own
temporary folders (every EPANET session has one), so runs never share a file. A run that fails
is reported in its status row and does not stop the others.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import NrwkitError, OutputExistsError
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


def _one(network: str, folder: str, seed: int, options: Mapping[str, Any]) -> int:
    """Make one exercise (in a worker process); return its number of leaks."""
    exercise = create_exercise(load(network), folder, seed=seed, **options)
    return len(exercise.key.leaks)


def create_exercises(network: str | Path, out: str | Path, count: int, *, seed: int = 0,
                     executor: concurrent.futures.Executor | None = None, workers: int | None = None,
                     progress: Progress | None = None, overwrite: bool = False,
                     **options: Any) -> list[BatchRow]:
    """Create ``count`` exercises on one network, in ``out/exercise-01``, ``out/exercise-02``...

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
    executor : concurrent.futures.Executor, optional
        Where the runs go (e.g. a ``dask.distributed`` client's executor); default a
        ``ProcessPoolExecutor`` of ``workers`` processes.
    workers : int, optional
        Processes of the default executor [default: the machine's cores, at most ``count``].
    progress : callable, optional
        ``progress("exercises", done, count)`` after each run.
    overwrite : bool
        Replace exercises that exist.
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
    out = Path(out)
    jobs = [(f"exercise-{k + 1:0{max(2, len(str(count)))}d}", seed + k) for k in range(int(count))]
    if not overwrite:
        for name, _ in jobs:
            if (out / name).exists():
                raise OutputExistsError(out / name)
    out.mkdir(parents=True, exist_ok=True)
    own = executor is None
    pool = executor or concurrent.futures.ProcessPoolExecutor(
        max_workers=min(workers or os.cpu_count() or 1, max(len(jobs), 1)))
    rows: dict[str, BatchRow] = {}
    try:
        settings = {**options, "overwrite": overwrite}
        futures = {pool.submit(_one, str(network), str(out / name), job_seed, settings): (name, job_seed)
                   for name, job_seed in jobs}
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            name, job_seed = futures[future]
            try:
                rows[name] = BatchRow(name, job_seed, out / name, "ok", leaks=future.result())
            except NrwkitError as exc:  # one exercise that cannot be made does not stop the batch
                rows[name] = BatchRow(name, job_seed, out / name, "failed", error=str(exc).splitlines()[0])
            if progress is not None:
                progress("exercises", done, len(jobs))
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    return [rows[name] for name, _ in jobs]
