"""Scenario ensembles: many seeded scenarios on a process pool or a Dask cluster, resumable.

:func:`run` takes :class:`Task` descriptions (an importable function, plain parameters, a seed)
and returns one status row per task; :mod:`nrwkit.ensemble.tasks` holds the scenario functions and
:mod:`nrwkit.ensemble.demands` the Monte Carlo over uncertain demands.
"""

from .core import ATTEMPTS, Task, network_source, parse_scheduler, run, task_id
from .demands import demand_risk, demand_tasks, new_shortfalls, wilson_interval

__all__ = [
    "ATTEMPTS",
    "Task",
    "demand_risk",
    "demand_tasks",
    "network_source",
    "new_shortfalls",
    "parse_scheduler",
    "run",
    "task_id",
    "wilson_interval",
]
