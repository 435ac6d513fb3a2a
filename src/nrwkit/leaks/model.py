"""One leak model for both engines: EPANET (emitters, stepped) and WNTR (``add_leak``).

A leak is an outflow ``q = C p^N1`` at a junction, or at a point along a pipe (the pipe is
split there with :func:`wntr.morph.split_pipe`). It is sized by its orifice (area or
diameter, with a discharge coefficient: ``C = Cd A sqrt(2 g)`` for ``N1 = 0.5``), or by its
flow at a reference pressure (``C = Q_ref / p_ref^N1``). It may be abrupt (full size from
its start) or incipient (growing linearly from nothing at its start to full size at
``full_at_s``), and it may end.

- EPANET: the leak is an emitter. EPANET has no emitter patterns and one global emitter
  exponent, so the run is stepped on one open project (:class:`HydraulicSession`): before
  every hydraulic step each leak's emitter coefficient is set for that time.
- WNTR: :meth:`wntr.network.Junction.add_leak` (``WNTRSimulator``): abrupt leaks with the
  orifice exponent 0.5 only (WNTR's leak model), with start and end times.

The caller's model is never changed: leaks go into a copy, so removing a leak cannot leave
anything behind (WNTR's ``remove_leak`` on a model that was simulated is a known pitfall).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import wntr

from ..errors import InputError
from ..hydraulics import HydraulicSession, set_options
from ..hydraulics.wntr_engine import run_wntr
from ..units import HOUR_S

__all__ = ["Leak", "LeakRun", "emitter_schedule", "leak_flow", "place_leaks", "simulate_leaks"]

G = 9.80665


@dataclass(frozen=True)
class Leak:
    """A leak at a junction or along a pipe.

    Parameters
    ----------
    location : str
        A junction id, or a pipe id (then ``position`` says where along it).
    on : {"auto", "junction", "pipe"}
        What ``location`` names; "auto": a junction if there is one of that id, else a pipe
        (EPANET lets a junction and a pipe share an id: say ``on="pipe"`` for the pipe).
    position : float
        Fraction of the pipe's length from its start node, for a pipe (0 < position < 1).
    area_m2, diameter_m : float, optional
        Orifice area, or the diameter of a round orifice.
    flow_m3s : float, optional
        Leak flow at ``reference_pressure_m`` (instead of an orifice).
    reference_pressure_m : float
        Pressure at which ``flow_m3s`` is given, m (50 m, as burst flow rates are quoted).
    exponent : float
        N1 in ``q = C p^N1`` (0.5 a fixed orifice; 0.5-1.5 in the field).
    discharge_coefficient : float
        Cd of the orifice.
    start_s, end_s : int, optional
        When the leak starts and (if ever) ends, s from the model's start.
    growth : {"abrupt", "incipient"}
        Full size at ``start_s``, or linear growth from 0 at ``start_s`` to full size at
        ``full_at_s``.
    full_at_s : int, optional
        End of the growth of an incipient leak.
    """

    location: str
    on: Literal["auto", "junction", "pipe"] = "auto"
    position: float = 0.5
    area_m2: float | None = None
    diameter_m: float | None = None
    flow_m3s: float | None = None
    reference_pressure_m: float = 50.0
    exponent: float = 0.5
    discharge_coefficient: float = 0.75
    start_s: int = 0
    end_s: int | None = None
    growth: Literal["abrupt", "incipient"] = "abrupt"
    full_at_s: int | None = None

    def __post_init__(self) -> None:
        sizes = [v for v in (self.area_m2, self.diameter_m, self.flow_m3s) if v is not None]
        if len(sizes) != 1:
            raise InputError(f"leak at {self.location}: give exactly one of area_m2, diameter_m or flow_m3s")
        if sizes[0] <= 0:
            raise InputError(f"leak at {self.location}: its size must be positive")
        if not 0.0 < self.exponent <= 3.0:
            raise InputError(f"leak at {self.location}: exponent N1 = {self.exponent} is outside (0, 3]")
        if self.end_s is not None and self.end_s <= self.start_s:
            raise InputError(f"leak at {self.location}: it ends ({self.end_s} s) before it starts")
        if self.growth == "incipient" and (self.full_at_s is None or self.full_at_s <= self.start_s):
            raise InputError(f"leak at {self.location}: an incipient leak needs full_at_s after start_s")
        if self.growth not in ("abrupt", "incipient"):
            raise InputError(f"leak at {self.location}: growth is 'abrupt' or 'incipient'")

    @property
    def area(self) -> float | None:
        """Orifice area, m2 (None for a leak sized by flow)."""
        if self.area_m2 is not None:
            return float(self.area_m2)
        if self.diameter_m is not None:
            return math.pi * float(self.diameter_m) ** 2 / 4.0
        return None

    @property
    def coefficient(self) -> float:
        """``C`` in ``q = C p^N1`` at full size (SI: m3/s per m^N1).

        An orifice gives ``Cd A sqrt(2 g)`` at N1 = 0.5; at another N1 the coefficient is
        chosen so that the orifice's flow at the reference pressure is kept.
        """
        area = self.area
        if area is None:
            return float(self.flow_m3s) / self.reference_pressure_m ** self.exponent  # type: ignore[arg-type]
        orifice = self.discharge_coefficient * area * math.sqrt(2.0 * G)
        return orifice * self.reference_pressure_m ** (0.5 - self.exponent)

    def size_at(self, time_s: float) -> float:
        """Fraction of full size at a time (0 before the start and after the end)."""
        if time_s < self.start_s or (self.end_s is not None and time_s >= self.end_s):
            return 0.0
        if self.growth == "incipient":
            assert self.full_at_s is not None
            return min(1.0, (time_s - self.start_s) / (self.full_at_s - self.start_s))
        return 1.0


@dataclass(frozen=True)
class LeakRun:
    """A simulation with leaks.

    Attributes
    ----------
    pressure_m : pandas.DataFrame
        Index = time s, columns = junctions (the leak junctions of split pipes included).
    leak_m3s : pandas.DataFrame
        Index = time s, one column per leak (in the order given): its outflow.
    demand_m3s : pandas.DataFrame
        Consumers' demand (leaks excluded), same layout as ``pressure_m``.
    flowrate_m3s : pandas.DataFrame or None
        Flows of the links asked for.
    nodes : list of str
        The junction each leak is at (a new junction for a leak along a pipe).
    engine : str
        ``"epanet"`` or ``"wntr"``.
    """

    pressure_m: pd.DataFrame
    leak_m3s: pd.DataFrame
    demand_m3s: pd.DataFrame
    flowrate_m3s: pd.DataFrame | None
    nodes: list[str]
    engine: str


def place_leaks(wn: wntr.network.WaterNetworkModel, leaks: Sequence[Leak]
                ) -> tuple[wntr.network.WaterNetworkModel, list[str]]:
    """Return a copy of ``wn`` with a junction for every leak along a pipe, and the leak nodes.

    A leak at a junction stays there; a leak along pipe ``P`` gets a new junction
    ``P-leak`` (``P-leak-2``... for more) where ``P`` is split.
    """
    out = copy.deepcopy(wn)
    nodes: list[str] = []
    for leak in leaks:
        is_junction = leak.location in out.junction_name_list and leak.on in ("auto", "junction")
        is_pipe = (leak.location in out.pipe_name_list and leak.on == "pipe") or (
            leak.on == "auto" and not is_junction and leak.location in out.pipe_name_list)
        if is_junction:
            nodes.append(leak.location)
            continue
        if not is_pipe:
            kind = "junction or pipe" if leak.on == "auto" else leak.on
            raise InputError(f"leak location {leak.location!r} is not a {kind} of the network: give a "
                             "junction or pipe id")
        if not 0.0 < leak.position < 1.0:
            raise InputError(f"leak on pipe {leak.location}: position {leak.position} must be between 0 "
                             "and 1 (a fraction of the pipe's length from its start)")
        base = f"{leak.location}-leak"
        name, k = base, 1
        while name in out.node_name_list:
            k += 1
            name = f"{base}-{k}"
        out = wntr.morph.split_pipe(out, leak.location, f"{name}-pipe", name,
                                    split_at_point=float(leak.position), return_copy=False)
        nodes.append(name)
    return out, nodes


def simulate_leaks(
    wn: wntr.network.WaterNetworkModel,
    leaks: Sequence[Leak],
    *,
    engine: Literal["epanet", "wntr"] = "epanet",
    duration_s: int | None = None,
    report_step_s: int | None = None,
    links: Iterable[str] = (),
) -> LeakRun:
    """Simulate the network with leaks on either engine.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not changed).
    leaks : sequence of Leak
        The leaks; all must share one exponent on EPANET (one global emitter exponent), and
        must be abrupt with exponent 0.5 on WNTR.
    engine : {"epanet", "wntr"}
        EPANET stepped through the toolkit, or WNTR's own simulator with ``add_leak``.
    duration_s, report_step_s : int, optional
        Default the model's duration (a single period when 0) and its reporting step
        (``report_timestep``; 1 h if the model has none).
    links : iterable of str
        Links whose flows to keep (e.g. DMA inlet meters).

    Returns
    -------
    LeakRun
    """
    # without leaks an EPANET run changes nothing in the model: no copy to make
    model, nodes = (wn, []) if not leaks and engine == "epanet" else place_leaks(wn, leaks)
    duration = int(model.options.time.duration if duration_s is None else duration_s)
    step = int(report_step_s or model.options.time.report_timestep or HOUR_S)
    link_names = list(links)
    if engine == "epanet":
        return _run_epanet(model, leaks, nodes, duration, step, link_names)
    if engine == "wntr":
        return _run_wntr(model, leaks, nodes, duration, step, link_names)
    raise InputError(f"engine {engine!r}: use 'epanet' or 'wntr'")


def emitter_schedule(model: wntr.network.WaterNetworkModel, leaks: Sequence[Leak],
                     nodes: Sequence[str]) -> Callable[[int], dict[str, float]]:
    """Return the emitter coefficients of leaks over time, for :meth:`HydraulicSession.run`.

    At each leak's node: the model's own emitter coefficient plus ``C x size_at(t)`` of every
    leak there (0 before its start, growing for an incipient leak).

    Parameters
    ----------
    model : wntr.network.WaterNetworkModel
        The network the leaks are in (its own emitters kept).
    leaks : sequence of Leak
    nodes : sequence of str
        The junction of each leak (as :func:`place_leaks` gives them).

    Returns
    -------
    callable
        ``emitters(t) -> {junction: C}`` (SI).
    """
    base = {n: float(model.get_node(n).emitter_coefficient or 0.0) for n in set(nodes)}

    def emitters(t: int) -> dict[str, float]:
        total = dict(base)
        for leak, node in zip(leaks, nodes, strict=True):
            total[node] += leak.coefficient * leak.size_at(t)
        return total

    return emitters


def _run_epanet(model: wntr.network.WaterNetworkModel, leaks: Sequence[Leak], nodes: list[str],
                duration: int, step: int, links: list[str]) -> LeakRun:
    exponents = {leak.exponent for leak in leaks}
    if len(exponents) > 1:
        raise InputError("EPANET has one emitter exponent for the whole network: give every leak the "
                         f"same exponent (got {sorted(exponents)})")
    existing = [n for n, j in model.junctions() if j.emitter_coefficient and n not in nodes]
    model_exponent = float(model.options.hydraulic.emitter_exponent)
    if leaks and existing and abs(model_exponent - leaks[0].exponent) > 1e-12:
        raise InputError(f"the model already has emitters (e.g. {existing[0]}) with exponent "
                         f"{model.options.hydraulic.emitter_exponent}: leaks must use the same exponent")
    if leaks:
        set_options(model, emitter_exponent=leaks[0].exponent)
    with HydraulicSession(model) as session:
        run = session.run(duration_s=duration, report_step_s=step, links=links,
                          emitters=emitter_schedule(model, leaks, nodes))
    pressure = run.pressure_m
    leak = pd.DataFrame({k: [float(leak_flow(leaks[k], float(p), float(t)))
                             for t, p in pressure[node].items()]
                         for k, node in enumerate(nodes)}, index=pressure.index)
    demand = run.demand_m3s.copy()
    for k, node in enumerate(nodes):
        demand[node] = demand[node] - leak[k]  # EPANET's demand includes the emitter's outflow
    return LeakRun(pressure_m=pressure, leak_m3s=leak, demand_m3s=demand, flowrate_m3s=run.flowrate_m3s,
                   nodes=nodes, engine="epanet")


def _run_wntr(model: wntr.network.WaterNetworkModel, leaks: Sequence[Leak], nodes: list[str],
              duration: int, step: int, links: list[str]) -> LeakRun:
    for leak, node in zip(leaks, nodes, strict=True):
        if leak.growth != "abrupt" or abs(leak.exponent - 0.5) > 1e-12:
            raise InputError(f"leak at {leak.location}: WNTR's leak model is an abrupt orifice (exponent "
                             "0.5): use engine='epanet' for incipient leaks or another exponent")
        area = leak.area if leak.area is not None else leak.coefficient / (leak.discharge_coefficient
                                                                          * math.sqrt(2.0 * G))
        model.get_node(node).add_leak(model, area=area, discharge_coeff=leak.discharge_coefficient,
                                      start_time=leak.start_s, end_time=leak.end_s)
    run = run_wntr(model, duration_s=duration, report_step_s=step, links=links)
    leak = pd.DataFrame({k: run.leak_demand_m3s[node].to_numpy() for k, node in enumerate(nodes)},
                        index=run.pressure_m.index)
    return LeakRun(pressure_m=run.pressure_m, leak_m3s=leak.astype(float), demand_m3s=run.demand_m3s,
                   flowrate_m3s=run.flowrate_m3s, nodes=nodes, engine="wntr")


def leak_flow(leak: Leak, pressure_m: np.ndarray | float, time_s: float = 0.0) -> np.ndarray:
    """Outflow of a leak at a pressure (m3/s): ``C p^N1`` times its size at ``time_s``."""
    p = np.maximum(np.asarray(pressure_m, dtype=float), 0.0)
    return np.asarray(leak.coefficient * leak.size_at(time_s) * p ** leak.exponent)
