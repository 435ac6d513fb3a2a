"""Pressure sensitivities to leaks from the linearised hydraulic system.

``S[s, j] = d pressure(s) / d leak flow(j)`` for every sensor ``s`` and candidate junction
``j``, in m per (m3/s): one sparse factorisation of the linearised system at the solved state
and one solve per sensor (:mod:`nrwkit.hydraulics.linear`), instead of one simulation per
candidate. Valid for small leaks (the state is linearised); compare with finite differences
from EPANET runs in ``tests/test_leaks_sensitivity.py``.
"""

from __future__ import annotations

import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import wntr

from ..errors import InputError
from ..hydraulics import HydraulicSession
from ..hydraulics.linear import LinkTable, linear_system, link_table, pressure_sensitivity

#: The model's link table per open session (the session's model is fixed when it opens).
_TABLES: weakref.WeakKeyDictionary[HydraulicSession, tuple[tuple[int, int], LinkTable]] = (
    weakref.WeakKeyDictionary())

__all__ = ["sensitivity_matrix", "simulate"]


def simulate(wn: wntr.network.WaterNetworkModel, times: Sequence[int], *,
             report_step_s: int | None = None) -> wntr.sim.SimulationResults:
    """Run EPANET (WNTR's EpanetSimulator) long enough to report at ``times``.

    Deprecated: kept for :mod:`nrwkit.leaks.locate` until it moves to
    ``sensitivity_matrix(..., session=...)``; nothing else in the package uses it.

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
    session: HydraulicSession | None = None,
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
        status), the former path. Default: the states from ``session``.
    candidates : sequence of str, optional
        Candidate leak junctions; default every junction.
    session : HydraulicSession, optional
        An open session on ``wn``: the extended period is run once in memory up to the last
        time and the full state read at each time. Default (and no ``results``): a session
        opened for the call and closed after it.

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
    if results is not None:
        when = asked if asked is not None else [int(results.node["head"].index[0])]
        out = {t: pressure_sensitivity(linear_system(wn, results, t), list(sensors), candidates)
               for t in when}
        return out[when[0]] if single else out
    when = asked if asked is not None else [0]
    own = session is None
    active = HydraulicSession(wn) if session is None else session
    try:
        states = active.states(when)
    finally:
        if own:
            active.close()
    key = (id(wn), len(wn.link_name_list))
    cached = _TABLES.get(active)
    if cached is None or cached[0] != key:
        cached = (key, link_table(wn, list(active.link_names)))
        if not own:
            _TABLES[active] = cached
    out = {t: pressure_sensitivity(linear_system(wn, states[t], links=cached[1]), list(sensors), candidates)
           for t in when}
    return out[when[0]] if single else out
