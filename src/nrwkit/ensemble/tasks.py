"""Scenario functions an ensemble runs (importable by every worker; plain values in and out)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..hydraulics import HydraulicSession
from ..leaks.cases import leak_candidates, prepare_period
from ..leaks.model import Leak, emitter_schedule
from ..networks import load
from ..units import HOUR_S, SECONDS_PER_HOUR

__all__ = [
    "demand_baseline",
    "demand_scenario",
    "leak_library_scenario",
    "leak_scenario",
    "nothing",
    "pressure_scenario_task",
]


@dataclass(frozen=True)
class _Prepared:
    """A network kept open in a worker: its model, an EPANET session and its leak-free run."""

    model: Any
    session: HydraulicSession
    free_pressure_m: pd.DataFrame
    candidates: tuple[str, ...]


@functools.lru_cache(maxsize=4)
def _prepared(network: str, duration_s: int, report_step_s: int) -> _Prepared:
    """Open a network once per worker process (kept for the worker's later tasks on it)."""
    model = prepare_period(load(network), duration_s, report_step_s)
    session = HydraulicSession(model)
    free = session.run(duration_s=duration_s, report_step_s=report_step_s, pressure_only=True).pressure_m
    return _Prepared(model, session, free, tuple(leak_candidates(model)))


def leak_scenario(
    *,
    network: str,
    seed: int,
    duration_h: float = 24.0,
    report_step_s: int = 900,
    size_range_m3h: tuple[float, float] = (1.0, 10.0),
) -> dict[str, Any]:
    """Simulate one seeded leak on a network and summarise what it does to pressures.

    The worker keeps the network open between tasks (one EPANET session and its leak-free run
    per network and period): a task is one extended-period run with the leak as an emitter,
    reset afterwards, never an .inp written and read again.

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
    prep = _prepared(network, duration, int(report_step_s))
    node = str(prep.candidates[int(rng.integers(len(prep.candidates)))])
    flow_m3h = float(rng.uniform(*size_range_m3h))
    start = int(rng.integers(0, max(duration // 2 // HOUR_S, 1))) * HOUR_S
    free = prep.free_pressure_m
    reference = max(float(free[node].iloc[0]), 1.0)
    leak = Leak(
        node,
        on="junction",
        flow_m3s=flow_m3h / SECONDS_PER_HOUR,
        reference_pressure_m=reference,
        start_s=start,
        exponent=float(prep.model.options.hydraulic.emitter_exponent or 0.5),
    )
    leaky = prep.session.run(
        duration_s=duration,
        report_step_s=int(report_step_s),
        pressure_only=True,
        emitters=emitter_schedule(prep.model, [leak], [node]),
    ).pressure_m
    drop = (free - leaky[free.columns]).loc[lambda f: f.index >= start].max(axis=1)
    return {
        "node": node,
        "flow_m3h": round(flow_m3h, 6),
        "start_s": start,
        "max_drop_m": round(float(drop.max()), 6),
        "mean_drop_m": round(float(drop.mean()), 6),
    }


def leak_library_scenario(
    *,
    network: str,
    seed: int,
    folder: str,
    duration_h: float = 24.0,
    loggers: int = 20,
    noise_m: float = 0.05,
    report_step_s: int = 900,
    size_range_m3h: tuple[float, float] = (1.0, 10.0),
    demand_error: float = 0.05,
) -> dict[str, Any]:
    """Make one scenario of a leak library: logger readings and inlet flows with a hidden leak.

    The worker keeps the network open between scenarios (:func:`nrwkit.leaks.make_case` in its
    session: the true demands set in memory, the leak an emitter), never a copy of the model or
    an ``.inp`` per scenario.

    Writes ``folder/readings.parquet`` and ``folder/flows.parquet`` (tables ``nrwkit leaks locate``
    reads: a ``time`` column in seconds from the model's start, then one column per logger in m or
    per inlet meter in m3/h) and ``folder/truth.json`` (the leak's junction, flow and start, the
    loggers, the seed and what the case was made with: period, step, noise, demand error).

    Parameters
    ----------
    network : str
        A bundled network's name or an ``.inp`` file.
    seed : int
        Draws the loggers' noise and the leak (:func:`nrwkit.leaks.make_case`).
    folder : str
        The scenario's folder (made; an existing one is replaced).
    duration_h, loggers, noise_m, report_step_s, size_range_m3h, demand_error
        The run's length, the number of loggers (spread over the map), their noise (m), the
        reporting step (s), the range of leak flows (m3/h) and the true demands' error from the
        model (a fraction, as :func:`nrwkit.leaks.make_case`).

    Returns
    -------
    dict
        ``node``, ``flow_m3h``, ``start_s`` and ``folder``.
    """
    import json
    import shutil
    from pathlib import Path

    from ..leaks.cases import make_case
    from ..leaks.placement import spread_loggers

    duration = int(duration_h * SECONDS_PER_HOUR)
    prep = _prepared(network, duration, int(report_step_s))
    wn = prep.model
    sensors = spread_loggers(wn, list(wn.junction_name_list), min(loggers, wn.num_junctions), seed)
    case = make_case(
        wn,
        sensors,
        seed=seed,
        size_range_m3h=size_range_m3h,
        noise_m=noise_m,
        demand_error=demand_error,
        duration_s=duration,
        report_step_s=int(report_step_s),
        session=prep.session,
    )
    target = Path(folder)
    staging = target.with_name(f".{target.name}.part")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    case.readings.rename_axis("time").reset_index().to_parquet(staging / "readings.parquet", index=False)
    if case.inflow_m3s is not None:
        flows_m3h = (case.inflow_m3s * SECONDS_PER_HOUR).round(6)
        flows_m3h.rename_axis("time").reset_index().to_parquet(staging / "flows.parquet", index=False)
    truth = {
        "network": network,
        "seed": seed,
        "node": case.leak_node,
        "flow_m3h": case.leak_flow_m3h,
        "start_s": case.leak_start_s,
        "loggers": sensors,
        "duration_s": duration,
        "report_step_s": int(report_step_s),
        "noise_m": noise_m,
        "size_range_m3h": list(size_range_m3h),
        "demand_error": demand_error,
    }
    (staging / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return {
        "node": case.leak_node,
        "flow_m3h": round(case.leak_flow_m3h, 6),
        "start_s": case.leak_start_s,
        "folder": str(target),
    }


def pressure_scenario_task(
    *, network: str, seed: int, zone: str, target_m: float, mode: str = "fixed", n1: float = 1.0
) -> dict[str, Any]:
    """Run one pressure-management scenario on a DMA of a tagged network; summarise it.

    Returns
    -------
    dict
        ``zone``, ``mode``, leakage before and after (m3/day), the reduction (%) and the burst
        reduction (central, %).
    """
    from ..pressure import scenario, zone_from_dma

    wn = load(network)
    result = scenario(wn, zone_from_dma(wn, zone), mode=mode, target_m=target_m, n1=n1)
    return {
        "zone": zone,
        "mode": mode,
        "leakage_before_m3_per_day": round(result.before.leakage_m3_per_day, 4),
        "leakage_after_m3_per_day": round(result.after.leakage_m3_per_day, 4),
        "leakage_reduction_percent": round(result.leakage_reduction_percent, 4),
        "burst_reduction_percent": round(result.burst_reduction_percent["central"], 4),
    }


def _lognormal(rng: np.random.Generator, cv: float, size: int | None = None) -> Any:
    """Draws of a lognormal factor of mean 1 and coefficient of variation ``cv``."""
    sigma = float(np.sqrt(np.log1p(cv**2)))
    return rng.lognormal(-(sigma**2) / 2, sigma, size=size)


@functools.lru_cache(maxsize=4)
def _customers(network: str, duration_s: int, report_step_s: int) -> tuple[str, ...]:
    from ..dma.network import demand_junctions

    prep = _prepared(network, duration_s, report_step_s)
    customers = demand_junctions(prep.model)
    names = tuple(j for j in prep.session.junction_names if j in customers)
    if not names:
        raise InputError(f"{network}: no junction has a demand; there is no service pressure to put at risk")
    return names


def demand_baseline(network: str, duration_h: float = 24.0, report_step_s: int = HOUR_S) -> pd.Series:
    """Return the lowest pressure (m) of every customer junction with the model's own demands.

    Its index is the order of :func:`demand_scenario`'s ``min_pressure_m`` list: the junctions with
    a positive base demand.
    """
    duration, step = int(duration_h * SECONDS_PER_HOUR), int(report_step_s)
    prep = _prepared(network, duration, step)
    names = list(_customers(network, duration, step))
    return prep.free_pressure_m[names].min(axis=0).rename("model_m")


def demand_scenario(
    *,
    network: str,
    seed: int,
    junction_cv: float = 0.1,
    common_cv: float = 0.05,
    duration_h: float = 24.0,
    report_step_s: int = HOUR_S,
    min_pressure_m: float = 15.0,
) -> dict[str, Any]:
    """Run the network with one seeded draw of uncertain demands; return each customer's lowest pressure.

    Every junction's base demands are multiplied by ``F x f_j``: ``F`` common to the network (a
    hotter day, a wrong total), ``f_j`` independent per junction (a wrong allocation); both
    lognormal with mean 1 and the given coefficients of variation. The worker keeps the network
    open between tasks (one EPANET session; demands set and restored in memory).

    Parameters
    ----------
    network : str
        A bundled network's name or an ``.inp`` file.
    seed : int
        Draws the factors.
    junction_cv, common_cv : float
        Coefficients of variation of ``f_j`` and of ``F`` (0 for none).
    duration_h : float
        Length of the run, h.
    report_step_s : int
        Times at which pressures are read, s.
    min_pressure_m : float
        Service pressure counted against, m.

    Returns
    -------
    dict
        ``demand_factor`` (``F``), ``lowest_pressure_m`` and its ``critical_junction``,
        ``junctions_below`` (lowest pressure under ``min_pressure_m``), ``unbalanced_steps``
        (hydraulic steps EPANET did not balance: a scenario to distrust) and ``min_pressure_m``,
        the lowest pressure over the run of every junction with a demand (m; in the order of
        :func:`demand_baseline`).
    """
    if junction_cv < 0 or common_cv < 0:
        raise ValueError(f"coefficients of variation {junction_cv}, {common_cv}: give 0 or more")
    rng = np.random.default_rng(seed)
    duration = int(duration_h * SECONDS_PER_HOUR)
    prep = _prepared(network, duration, int(report_step_s))
    junctions = list(prep.session.junction_names)
    common = float(_lognormal(rng, common_cv)) if common_cv > 0 else 1.0
    each = _lognormal(rng, junction_cv, len(junctions)) if junction_cv > 0 else np.ones(len(junctions))
    with prep.session.scaled_demands(dict(zip(junctions, common * each, strict=True))):
        period = prep.session.run(duration_s=duration, report_step_s=int(report_step_s), pressure_only=True)
    lowest = period.pressure_m[list(_customers(network, duration, int(report_step_s)))].min(axis=0)
    return {
        "demand_factor": round(common, 6),
        "lowest_pressure_m": round(float(lowest.min()), 4),
        "critical_junction": str(lowest.idxmin()),
        "junctions_below": int((lowest < min_pressure_m).sum()),
        "unbalanced_steps": len(period.unbalanced_s),
        "min_pressure_m": [round(float(v), 4) for v in lowest.to_numpy()],
    }


def nothing(*, seed: int) -> dict[str, Any]:
    """Do nothing (a task for measuring a scheduler's own cost per task)."""
    return {"seed": seed}
