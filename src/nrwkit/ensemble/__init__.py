"""Scenario ensembles: many seeded scenarios on a process pool or a Dask cluster, resumable.

:func:`run` takes :class:`Task` descriptions (an importable function, plain parameters, a seed)
and returns one status row per task; :mod:`nrwkit.ensemble.tasks` holds the scenario functions.
"""

from .core import ATTEMPTS, Task, parse_scheduler, run, task_id

__all__ = ["ATTEMPTS", "Task", "parse_scheduler", "run", "task_id"]
