"""Pressure sensitivities to leaks from the linearised hydraulic system.

``S[s, j] = d pressure(s) / d leak flow(j)`` for every sensor ``s`` and candidate junction
``j``, in m per (m3/s): one sparse factorisation of the linearised system at the solved state
and one solve per sensor (:mod:`nrwkit.hydraulics.linear`), instead of one simulation per
candidate. Valid for small leaks (the state is linearised); compare with finite differences
from EPANET runs in ``tests/test_leaks_sensitivity.py``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import wntr

from ..errors import InputError
from ..hydraulics.linear import linear_system, pressure_sensitivity

__all__ = ["sensitivity_matrix", "simulate"]


def simulate(wn: wntr.network.WaterNetworkModel, times: Sequence[int], *,
             report_step_s: int | None = None) -> wntr.sim.SimulationResults:
    """Run EPANET (WNTR's EpanetSimulator) long enough to report at ``times``.

    The run reports every ``report_step_s`` (default the hydraulic step) up to the last time
    asked for, in a temporary folder (never the working directory, where two runs would read
    each other's files). The model's time options are restored afterwards.
    """
    opts = wn.options.time
    saved = (opts.duration, opts.report_start, opts.report_timestep, opts.hydraulic_timestep)
    step = int(report_step_s or opts.hydraulic_timestep or 3600)
    try:
        opts.duration = max(int(t) for t in times)
        opts.report_start = 0
        opts.report_timestep = max(step, 1)
        opts.hydraulic_timestep = min(int(opts.hydraulic_timestep or step), max(step, 1))
        with tempfile.TemporaryDirectory(prefix="nrwkit-leaks-") as tmp:
            return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(Path(tmp) / "run"))
    finally:
        opts.duration, opts.report_start, opts.report_timestep, opts.hydraulic_timestep = saved


def sensitivity_matrix(
    wn: wntr.network.WaterNetworkModel,
    sensors: Sequence[str],
    times: int | Sequence[int] | None = None,
    results: wntr.sim.SimulationResults | None = None,
    *,
    candidates: Sequence[str] | None = None,
) -> pd.DataFrame | dict[int, pd.DataFrame]:
    """Sensitivity of sensor pressures to a small leak at each candidate junction.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    sensors : sequence of str
        Junctions with a pressure logger.
    times : int or sequence of int, optional
        Time(s) in s from the model's start; default the first time of ``results`` (0 when
        the function runs the simulation itself).
    results : wntr.sim.SimulationResults, optional
        EPANET results of ``wn`` holding those times (node head, pressure; link flowrate,
        status); default: an EpanetSimulator run of a copy of ``wn``.
    candidates : sequence of str, optional
        Candidate leak junctions; default every junction.

    Returns
    -------
    pandas.DataFrame or dict
        Index = sensors, columns = candidates, values d pressure / d leak flow in m per
        (m3/s) (negative: a leak lowers pressure). For a sequence of times, a dict
        time -> DataFrame.

    Raises
    ------
    InputError
        For a sensor or candidate that is not a junction, or a time the results lack.

    Examples
    --------
    >>> from nrwkit.networks import load
    >>> S = sensitivity_matrix(load("net1"), ["12", "22"])
    >>> bool((S.to_numpy() <= 0).all()), S.shape
    (True, (2, 9))
    """
    junctions = set(wn.junction_name_list)
    missing = [s for s in sensors if s not in junctions]
    if missing:
        raise InputError(f"sensors {', '.join(missing[:5])} are not junctions of the network: "
                         "give the junction ids of the pressure loggers")
    single = times is None or isinstance(times, int)
    asked: list[int] | None = None
    if isinstance(times, int):
        asked = [times]
    elif times is not None:
        asked = [int(t) for t in times]
    if results is None:
        results = simulate(wn, asked or [0])
    when = asked if asked is not None else [int(results.node["head"].index[0])]
    out = {t: pressure_sensitivity(linear_system(wn, results, t), list(sensors), candidates) for t in when}
    return out[when[0]] if single else out
