"""Monte Carlo over uncertain demands: which junctions risk falling below service pressure.

Each scenario is :func:`nrwkit.ensemble.tasks.demand_scenario` (one seeded draw of demand factors,
one extended-period run on a session the worker keeps open); :func:`demand_tasks` describes an
ensemble of them and :func:`demand_risk` turns its results into a table per junction: quantiles
of the junction's lowest pressure over the run and the probability that it falls below the
service pressure, with a 95 % Wilson interval (Wilson 1927), so that a probability estimated
from few scenarios says how little it knows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, SimulationError
from .core import Task, network_source, task_id

__all__ = ["demand_risk", "demand_tasks", "new_shortfalls", "wilson_interval"]

#: The normal quantile of a two-sided 95 % interval.
Z95 = 1.959963984540054


def demand_tasks(network: str, count: int, *, seed: int = 0, **params: Any) -> list[Task]:
    """Describe ``count`` demand scenarios; the k-th has seed ``seed + k``.

    Parameters
    ----------
    network : str
        A bundled network's name or an ``.inp`` path readable by every worker (made absolute).
    count : int
        Scenarios.
    seed : int
        The first seed.
    **params
        Parameters of :func:`~nrwkit.ensemble.tasks.demand_scenario` (``junction_cv``,
        ``common_cv``, ``duration_h``, ``report_step_s``, ``min_pressure_m``).

    Returns
    -------
    list of Task
    """
    if count < 1:
        raise InputError(f"{count} scenarios: give at least one")
    source = network_source(network)
    return [
        Task(
            task_id("demand", k),
            "nrwkit.ensemble.tasks:demand_scenario",
            {"network": source, **params},
            seed=seed + k,
        )
        for k in range(count)
    ]


def wilson_interval(hits: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the 95 % Wilson score interval of proportions ``hits / n``."""
    hits = np.asarray(hits, dtype=float)
    if n <= 0:
        nan = np.full(hits.shape, np.nan)
        return nan, nan
    p = hits / n
    denominator = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denominator
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2)) / denominator
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _lowest(table: pd.DataFrame, baseline: pd.Series) -> np.ndarray:
    """Return the lowest pressures of the usable scenarios, one row per scenario."""
    used = table[(table["status"] == "ok") & (table.get("unbalanced_steps", 0) == 0)]
    if used.empty:
        raise SimulationError(
            "no demand scenario finished with a balanced run: nothing to summarise (see each row's "
            "error, or check the network with an inspection first)"
        )
    lowest = np.vstack([np.asarray(v, dtype=float) for v in used["min_pressure_m"]])
    if lowest.shape[1] != len(baseline):
        raise InputError(f"{lowest.shape[1]} pressures per scenario for {len(baseline)} junctions")
    return lowest


def new_shortfalls(table: pd.DataFrame, baseline: pd.Series, min_pressure_m: float) -> tuple[int, int]:
    """Count the scenarios in which a junction the model keeps above service pressure falls below it.

    Returns
    -------
    (int, int)
        Such scenarios, and the scenarios used (see :func:`demand_risk`).
    """
    lowest = _lowest(table, baseline)
    above = baseline.to_numpy(dtype=float) >= min_pressure_m
    return int((lowest[:, above] < min_pressure_m).any(axis=1).sum()), len(lowest)


def demand_risk(table: pd.DataFrame, baseline: pd.Series, min_pressure_m: float) -> pd.DataFrame:
    """Summarise demand scenarios per junction.

    Parameters
    ----------
    table : pandas.DataFrame
        The result of :func:`nrwkit.ensemble.run` on :func:`demand_tasks`. Scenarios that failed
        or whose run EPANET did not balance (``unbalanced_steps`` > 0) are left out.
    baseline : pandas.Series
        The lowest pressure of each junction with the model's own demands, in the order of the
        ``min_pressure_m`` lists (:func:`~nrwkit.ensemble.tasks.demand_baseline`).
    min_pressure_m : float
        Service pressure, m.

    Returns
    -------
    pandas.DataFrame
        Indexed by junction, sorted by risk: ``model_m`` (the baseline), ``p05_m``, ``p50_m``,
        ``p95_m`` (quantiles of the lowest pressure over the run), ``probability_below`` and its
        ``ci95_low``/``ci95_high``, ``below_in_model`` (already below with the model's demands: a
        fault of the model or the network, not a risk of the uncertainty) and ``scenarios`` (how
        many were used).

    Raises
    ------
    SimulationError
        When no scenario can be used (all failed, or EPANET balanced none of their runs).
    InputError
        When the scenarios' lists do not match ``baseline``.
    """
    lowest = _lowest(table, baseline)
    hits = (lowest < min_pressure_m).sum(axis=0)
    low, high = wilson_interval(hits, len(lowest))
    p05, p50, p95 = np.quantile(lowest, [0.05, 0.5, 0.95], axis=0)
    frame = pd.DataFrame(
        {
            "model_m": baseline.to_numpy(dtype=float).round(3),
            "p05_m": p05.round(3),
            "p50_m": p50.round(3),
            "p95_m": p95.round(3),
            "probability_below": (hits / len(lowest)).round(4),
            "ci95_low": low.round(4),
            "ci95_high": high.round(4),
            "below_in_model": baseline.to_numpy(dtype=float) < min_pressure_m,
            "scenarios": len(lowest),
        },
        index=pd.Index([str(j) for j in baseline.index], name="junction"),
    )
    return frame.sort_values(["probability_below", "p05_m"], ascending=[False, True], kind="stable")
