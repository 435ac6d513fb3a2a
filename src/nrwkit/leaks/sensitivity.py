"""Pressure sensitivities to leaks from the linearised hydraulic system.

``S[s, j] = d pressure(s) / d leak flow(j)`` for every sensor ``s`` and candidate junction
``j``, in m per (m3/s): one sparse factorisation of the linearised system at the solved state
and one solve per sensor (:mod:`nrwkit.hydraulics.linear`), instead of one simulation per
candidate. Valid for small leaks (the state is linearised); compare with finite differences
from EPANET runs in ``tests/test_leaks_sensitivity.py``.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import wntr
from wntr.network.controls import TankLevelCondition

from ..errors import InputError
from ..hydraulics import HydraulicSession
from ..hydraulics.linear import (
    LinearSystem,
    LinkTable,
    TankResponse,
    linear_system,
    link_table,
    pressure_sensitivity,
)
from ..hydraulics.session import HydraulicState

#: The model's link table per open session (the session's model is fixed when it opens).
_TABLES: weakref.WeakKeyDictionary[HydraulicSession, tuple[tuple[int, int], LinkTable]] = (
    weakref.WeakKeyDictionary())

__all__ = ["LevelSwitch", "level_switches", "linear_systems", "sensitivity_matrix", "tank_drain"]

#: Slowest level change, m/s, at which a tank-level switch is shifted (slower: no shift, the
#: crossing time is ill-defined).
MIN_LEVEL_RATE = 1e-5


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
        systems = linear_systems(wn, when, active)
    finally:
        if own:
            active.close()
    out = {t: pressure_sensitivity(systems[t], list(sensors), candidates) for t in when}
    return out[when[0]] if single else out


def linear_systems(wn: wntr.network.WaterNetworkModel, times: Sequence[int], session: HydraulicSession,
                   *, states: Mapping[int, HydraulicState] | None = None) -> dict[int, LinearSystem]:
    """Linearise the extended period of an open session at each time (one run, in memory).

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The session's network.
    times : sequence of int
        Times in s from the model's start.
    session : HydraulicSession
        An open session on ``wn``.
    states : mapping, optional
        The session's states at those times (:meth:`HydraulicSession.states`), when the
        caller has them already; default read here.

    Returns
    -------
    dict
        time -> :class:`nrwkit.hydraulics.linear.LinearSystem`.
    """
    when = sorted({int(t) for t in times})
    if states is None:
        states = session.states(when)
    key = (id(wn), len(wn.link_name_list))
    cached = _TABLES.get(session)
    if cached is None or cached[0] != key:
        cached = (key, link_table(wn, list(session.link_names)))
        _TABLES[session] = cached
    return {t: linear_system(wn, states[t], links=cached[1]) for t in when}


@dataclass(frozen=True)
class LevelSwitch:
    """A link the model switches on a tank's level between two linearisation times.

    Attributes
    ----------
    time_s : int
        The first linearisation time after the switch.
    tank : int
        The controlling tank (index in the tank order of the :class:`TankResponse`).
    inflow_m3s : float
        The controlling tank's net inflow before the switch, m3/s.
    inflow_change_m3s : numpy.ndarray
        Every tank's net inflow before the switch less after it, (T,), m3/s.
    """

    time_s: int
    tank: int
    inflow_m3s: float
    inflow_change_m3s: np.ndarray


def level_switches(wn: wntr.network.WaterNetworkModel, states: Mapping[int, HydraulicState],
                   tanks: Sequence[str]) -> list[LevelSwitch]:
    """Find the links that tank-level controls switch between successive solved states.

    A control ``IF TANK t LEVEL ABOVE/BELOW x THEN LINK l STATUS ...`` switches when the
    tank's level crosses ``x``; a leak (or a demand error) that changes the level there moves
    the switch (:func:`tank_drain`). Links switched by time, by several tanks or by rules of
    several conditions are not listed.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (its controls).
    states : mapping
        time -> :class:`nrwkit.hydraulics.session.HydraulicState`, of one extended period.
    tanks : sequence of str
        The tanks, in the order of the :class:`TankResponse` they are used with.

    Returns
    -------
    list of LevelSwitch
        In time order.
    """
    controlling: dict[str, set[str]] = {}
    for _, control in wn.controls():
        condition = getattr(control, "condition", None)
        if not isinstance(condition, TankLevelCondition):
            continue
        tank = str(next(iter(condition.requires())).name)
        for action in control.actions():
            target, attribute = action.target()
            if attribute == "status" and tank in tanks:
                controlling.setdefault(str(target.name), set()).add(tank)
    times = sorted(states)
    if not controlling or len(times) < 2:
        return []
    first = states[times[0]]
    tank_index = [first.node_names.index(t) for t in tanks]
    links = {name: first.link_names.index(name) for name, by in controlling.items() if len(by) == 1}
    out = []
    for before, after in itertools.pairwise(times):
        a, b = states[before], states[after]
        by = {next(iter(controlling[name])) for name, k in links.items()
              if bool(a.open_[k]) != bool(b.open_[k])}
        if len(by) != 1:
            continue  # no switch, or several tanks' switches at once: whose shift moved what is not known
        which = tanks.index(by.pop())  # one shift, however many links it switches (Net3: a pump and a pipe)
        change = a.demand_m3s[tank_index] - b.demand_m3s[tank_index]
        out.append(LevelSwitch(int(after), which, float(a.demand_m3s[tank_index[which]]),
                               np.asarray(change, dtype=float)))
    return out


def tank_drain(responses: Sequence[TankResponse], times: Sequence[int], at: Sequence[float] | np.ndarray,
               forcing: np.ndarray, *, start_s: float, max_step_s: float = 900.0,
               switches: Sequence[LevelSwitch] = ()) -> np.ndarray:
    """Change of the tanks' heads under extra junction outflows held over a period.

    From ``start_s`` on, an extra outflow ``forcing[i, j]`` (m3/s per unit) at junction ``j``
    from ``times[i]`` to the next time makes the tanks supply ``W dq`` more while their heads
    change: ``A dH_T/dt = -(W dq + K dH_T)`` (:class:`nrwkit.hydraulics.linear.TankResponse`,
    ``W``, ``K`` and ``A`` of the latest linearisation), integrated by implicit Euler in
    steps of at most ``max_step_s`` (stable for any tank size), zero at ``start_s``.

    A pump or pipe switched on a tank's level (``switches``) switches later or earlier when
    the heads change: the controlling tank ``c`` crosses its level ``dt = -dH_c / rate``
    later, and meanwhile every tank keeps its inflow of before the switch, so their heads
    change by a further ``(Q_before - Q_after) dt / A`` (the sensitivity of an event's time;
    a level-controlled pump that runs longer refills part of what a leak drains).

    Parameters
    ----------
    responses : sequence of TankResponse
        The tank terms at each of ``times``.
    times : sequence of int
        Linearisation times, s, increasing.
    at : sequence of float
        Times at which to report the tanks' head changes, s (before ``start_s``: zero).
    forcing : numpy.ndarray
        (len(times), J) extra outflow per junction in each interval.
    start_s : float
        When the extra outflows start.
    max_step_s : float
        Longest integration step.
    switches : sequence of LevelSwitch
        Tank-level switches of the period (:func:`level_switches`), applied at their time.

    Returns
    -------
    numpy.ndarray
        (len(at), T, J): d head(tank) per unit of forcing, m per (m3/s).
    """
    n_tanks = len(responses[0].tanks) if responses else 0
    n_junctions = forcing.shape[1]
    out = np.zeros((len(at), n_tanks, n_junctions))
    if n_tanks == 0 or not len(at):
        return out
    grid = np.asarray(times, dtype=float)
    marks = np.unique(np.concatenate([grid[grid > start_s], np.asarray(at, dtype=float), [float(start_s)]]))
    marks = marks[marks >= start_s]
    heads = np.zeros((n_tanks, n_junctions))
    eye = np.eye(n_tanks)
    wanted = {float(t): k for k, t in enumerate(at)}
    shifts: dict[float, list[LevelSwitch]] = {}
    for switch in switches:
        if float(switch.time_s) > start_s:
            shifts.setdefault(float(switch.time_s), []).append(switch)
    marks = np.unique(np.concatenate([marks, list(shifts)])) if shifts else marks
    for u, v in itertools.pairwise(marks):
        i = max(int(np.searchsorted(grid, u, side="right")) - 1, 0)
        r = responses[i]
        inv_area = 1.0 / r.area_m2
        pieces = max(int(np.ceil((v - u) / max_step_s)), 1)
        dt = (v - u) / pieces
        step = eye + dt * inv_area[:, None] * r.feedback
        push = dt * inv_area[:, None] * r.outflow * forcing[i][None, :]
        for _ in range(pieces):
            heads = np.linalg.solve(step, heads - push)
        for switch in shifts.get(float(v), ()):
            rate = switch.inflow_m3s * inv_area[switch.tank]
            if abs(rate) < MIN_LEVEL_RATE:
                continue  # a level that barely moves: no defined crossing time
            delay = -heads[switch.tank] / rate  # (J,) s per unit forcing
            heads = heads + (switch.inflow_change_m3s * inv_area)[:, None] * delay[None, :]
        if float(v) in wanted:
            out[wanted[float(v)]] = heads
    return out
