"""Scenario functions an ensemble runs (importable by every worker; plain values in and out)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..leaks.cases import leak_candidates, prepare_period
from ..leaks.model import Leak, simulate_leaks
from ..networks import load
from ..units import HOUR_S, SECONDS_PER_HOUR

__all__ = ["leak_scenario"]


def leak_scenario(
    *,
    network: str,
    seed: int,
    duration_h: float = 24.0,
    report_step_s: int = 900,
    size_range_m3h: tuple[float, float] = (1.0, 10.0),
) -> dict[str, Any]:
    """Simulate one seeded leak on a network and summarise what it does to pressures.

    Parameters
    ----------
    network : str
        A bundled network's name or an ``.inp`` file.
    seed : int
        Draws the leak's junction (among :func:`~nrwkit.leaks.leak_candidates`), size and start.
    duration_h : float
        Length of the run, h.
    report_step_s : int
        Reporting step, s.
    size_range_m3h : (float, float)
        Leak flows drawn uniformly in this range, m3/h (at the leak's pressure at its start).

    Returns
    -------
    dict
        ``node``, ``flow_m3h``, ``start_s``, ``max_drop_m`` and ``mean_drop_m`` (of the largest
        pressure drop at any junction while the leak runs, against the leak-free run).
    """
    rng = np.random.default_rng(seed)
    duration = int(duration_h * SECONDS_PER_HOUR)
    model = prepare_period(load(network), duration, report_step_s)
    candidates = leak_candidates(model)
    node = str(candidates[int(rng.integers(len(candidates)))])
    flow_m3h = float(rng.uniform(*size_range_m3h))
    start = int(rng.integers(0, max(duration // 2 // HOUR_S, 1))) * HOUR_S
    free = simulate_leaks(model, [], duration_s=duration, report_step_s=report_step_s).pressure_m
    reference = max(float(free[node].iloc[0]), 1.0)
    leak = Leak(
        node,
        on="junction",
        flow_m3s=flow_m3h / SECONDS_PER_HOUR,
        reference_pressure_m=reference,
        start_s=start,
    )
    leaky = simulate_leaks(model, [leak], duration_s=duration, report_step_s=report_step_s).pressure_m
    drop = (free - leaky[free.columns]).loc[lambda f: f.index >= start].max(axis=1)
    return {
        "node": node,
        "flow_m3h": round(flow_m3h, 6),
        "start_s": start,
        "max_drop_m": round(float(drop.max()), 6),
        "mean_drop_m": round(float(drop.mean()), 6),
    }
