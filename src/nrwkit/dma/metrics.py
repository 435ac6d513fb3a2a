"""Partition and resilience metrics of a DMA design (formulas in docs/mentors.md).

- Todini resilience index with every source counted
  (WNTR's :func:`wntr.metrics.todini_index` counts reservoirs and pumps only):
  ``Ir = sum_i q_i (h_i - h*_i) / (sum_k Q_k H_k + sum_j P_j / gamma - sum_i q_i h*_i)``,
  ``h*_i = z_i + p*`` (Todini 2000); :func:`todini_components` gives the terms.
- Modularity ``Q = sum_s [l_s / m - (d_s / 2m)^2]`` (Newman 2006; networkx), unweighted:
  each pair of junctions joined by pipes counts once, whatever the pipes' diameters.
- Size balance: coefficient of variation (population standard deviation over mean).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import wntr

__all__ = ["TODINI_RTOL", "TodiniComponents", "modularity", "size_cv", "todini_components", "todini_index"]

#: Relative tolerance of the Todini index, as a share of the gross power of the state
#: (``sum |q h|`` over all nodes plus ``sum |Q dH|`` over the pumps): the energy balance may
#: miss by this much before the state is called inconsistent (EPANET stops iterating when the
#: flows change by its ACCURACY, 0.001 to 0.01 of the total flow, and reports them in single
#: precision), and the surplus of input over required power must exceed it.
TODINI_RTOL = 1e-3


@dataclass(frozen=True)
class TodiniComponents:
    """The terms of Todini's resilience index for one hydraulic state.

    Every power is divided by the specific weight of water ``gamma``: flow times head,
    m3/s x m (multiply by 9.81 for kW).

    Attributes
    ----------
    surplus_power : float
        Numerator, ``sum_i q_i (h_i - h*_i)`` over the junctions that draw water (``q_i > 0``).
    source_power : float
        ``sum_k Q_k H_k`` over the sources: reservoirs and tanks that discharge into the
        network, and junctions with a negative demand (injections), ``injection_power`` of it.
    injection_power : float
        The part of ``source_power`` that enters at junctions with a negative demand.
    pump_power : float
        ``sum_j Q_j (h_end - h_start)`` over the pumps that add head to the water they carry;
        a pump with no flow, or one that loses head, adds none (its loss is in
        ``dissipated_power``).
    required_power : float
        ``sum_i q_i h*_i``, what the customers' demand needs at ``p*``.
    delivered_power : float
        ``sum_i q_i h_i`` (``surplus_power + required_power``).
    stored_power : float
        Power into filling tanks and into reservoirs that receive water: neither a source
        nor a customer, it is in neither sum of the index.
    dissipated_power : float
        ``source_power + pump_power - delivered_power - stored_power``: the losses in pipes,
        valves and idle pumps. Never below 0 in a consistent hydraulic state.
    demand_m3s : float
        Total demand of the junctions that draw water.
    reason : str
        Empty when the index is defined; otherwise why it is NaN.

    Notes
    -----
    By the energy balance, ``Ir = 1 - (dissipated_power + stored_power) / denominator``, so
    ``Ir <= 1`` whenever the denominator is positive and the losses are not negative.
    """

    surplus_power: float
    source_power: float
    injection_power: float
    pump_power: float
    required_power: float
    delivered_power: float
    stored_power: float
    dissipated_power: float
    demand_m3s: float
    reason: str

    @property
    def input_power(self) -> float:
        """``source_power + pump_power``."""
        return self.source_power + self.pump_power

    @property
    def denominator(self) -> float:
        """``source_power + pump_power - required_power``: the surplus of input power."""
        return self.input_power - self.required_power

    @property
    def index(self) -> float:
        """Todini's ``Ir``, at most 1; NaN when :attr:`reason` says why it is undefined."""
        if self.reason:
            return math.nan
        return min(self.surplus_power / self.denominator, 1.0)


def todini_components(
    wn: wntr.network.WaterNetworkModel,
    head_m: pd.Series,
    demand_m3s: pd.Series,
    flowrate_m3s: pd.Series,
    *,
    required_pressure_m: float | pd.Series,
    converged: bool = True,
    rtol: float = TODINI_RTOL,
) -> TodiniComponents:
    """Return the terms of Todini's resilience index of one hydraulic state.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (elevations, sources, pumps).
    head_m, demand_m3s : pandas.Series
        Head and demand of every node, tanks and reservoirs included, as the solver gives
        them: a source supplying the network has a negative demand, as in EPANET. With
        pressure-dependent demand, ``demand_m3s`` must be the delivered demand, not the
        required one, or the energy balance does not hold.
    flowrate_m3s : pandas.Series
        Flow of every pump (other links are ignored), positive from start to end node.
    required_pressure_m : float or pandas.Series
        ``p*``, the pressure each junction needs, one value or one per junction.
    converged : bool
        False when the solver did not converge: the index is then NaN.
    rtol : float
        Tolerance, as a share of the gross power of the state, of the energy balance and of
        the denominator (see :data:`TODINI_RTOL`).

    Returns
    -------
    TodiniComponents
        The terms; ``.index`` is ``Ir``, NaN when ``.reason`` is not empty: the state did
        not converge, a head or demand is NaN, no junction draws water, the input power does
        not exceed the required power by more than the tolerance (the network cannot deliver
        ``p*`` at all: the ratio would be huge or of the wrong sign), or the energy balance
        fails (losses below minus the tolerance: heads, demands and flows do not belong to
        one solved state). Within the tolerance, a negative loss is rounding and ``Ir`` is
        capped at 1.

    Raises
    ------
    ValueError
        If a junction, tank or reservoir is missing from ``head_m`` or ``demand_m3s``, a pump
        from ``flowrate_m3s``, or a junction from ``required_pressure_m``.

    Examples
    --------
    One reservoir at 50 m feeds J1 (z = 10 m, 0.02 m3/s) which feeds J2 (z = 15 m, 0.01 m3/s):

    >>> import pandas as pd, wntr
    >>> wn = wntr.network.WaterNetworkModel()
    >>> wn.add_reservoir("R", base_head=50.0)
    >>> wn.add_junction("J1", base_demand=0.02, elevation=10.0)
    >>> wn.add_junction("J2", base_demand=0.01, elevation=15.0)
    >>> wn.add_pipe("P1", "R", "J1", 100, 0.2, 100)
    >>> wn.add_pipe("P2", "J1", "J2", 100, 0.1, 100)
    >>> head = pd.Series({"R": 50.0, "J1": 48.0, "J2": 45.0})
    >>> demand = pd.Series({"R": -0.03, "J1": 0.02, "J2": 0.01})
    >>> c = todini_components(wn, head, demand, pd.Series(dtype=float), required_pressure_m=20.0)
    >>> round(c.surplus_power, 4), round(c.source_power, 4), round(c.required_power, 4)
    (0.46, 1.5, 0.95)
    >>> round(c.index, 4)   # 0.46 / (1.5 - 0.95)
    0.8364
    """
    junctions = list(wn.junction_name_list)
    stores = list(wn.reservoir_name_list) + list(wn.tank_name_list)
    nodes = junctions + stores
    _require(head_m, nodes, "head_m")
    _require(demand_m3s, nodes, "demand_m3s")
    _require(flowrate_m3s, list(wn.pump_name_list), "flowrate_m3s")
    if isinstance(required_pressure_m, pd.Series):
        _require(required_pressure_m, junctions, "required_pressure_m")
        p_star = required_pressure_m.reindex(junctions).to_numpy(dtype=float)
    else:
        p_star = np.full(len(junctions), float(required_pressure_m))

    h = head_m.reindex(nodes).to_numpy(dtype=float)
    q = demand_m3s.reindex(nodes).to_numpy(dtype=float)
    nj = len(junctions)
    hj, qj = h[:nj], q[:nj]
    hs, qs = h[nj:], q[nj:]
    z = np.array([wn.get_node(j).elevation for j in junctions], dtype=float)
    h_star = z + p_star
    draws = qj > 0
    surplus = float(np.sum(qj[draws] * (hj[draws] - h_star[draws])))
    required = float(np.sum(qj[draws] * h_star[draws]))
    delivered = float(np.sum(qj[draws] * hj[draws]))
    injects = qj < 0
    injection = float(np.sum(-qj[injects] * hj[injects]))
    source = injection + float(np.sum(-qs[qs < 0] * hs[qs < 0]))
    stored = float(np.sum(qs[qs > 0] * hs[qs > 0]))
    pump_work = np.array([float(flowrate_m3s[name]) * (float(head_m[link.end_node_name])
                                                         - float(head_m[link.start_node_name]))
                          for name, link in wn.pumps()], dtype=float)
    pump_nan = not np.isfinite(pump_work).all()
    pump = float(np.sum(np.maximum(pump_work, 0.0))) if not pump_nan else math.nan
    dissipated = source + pump - delivered - stored
    terms = np.concatenate([q * h, pump_work])
    tolerance = rtol * float(np.sum(np.abs(terms[np.isfinite(terms)])))

    moving = (q != 0) | np.concatenate([np.zeros(nj, dtype=bool), np.ones(len(stores), dtype=bool)])
    reason = ""
    if not converged:
        reason = "the hydraulic solver did not converge"
    elif pump_nan or not (np.isfinite(h[moving]).all() and np.isfinite(q).all()
                          and np.isfinite(h_star[draws]).all()):
        reason = "a head, demand or pump flow is NaN"
    elif not draws.any():
        reason = "no junction draws water"
    elif source + pump - required <= tolerance:
        reason = (f"the input power {source + pump:.6g} does not exceed the power the customers need "
                  f"at p*, {required:.6g}: the network cannot deliver p*")
    elif dissipated < -tolerance:
        reason = (f"the energy balance fails: input power {source + pump:.6g} is less than delivered "
                  f"{delivered:.6g} plus stored {stored:.6g} (heads and flows of different states, or "
                  "the required rather than the delivered demand)")
    return TodiniComponents(
        surplus_power=surplus, source_power=source, injection_power=injection, pump_power=pump,
        required_power=required, delivered_power=delivered, stored_power=stored,
        dissipated_power=dissipated, demand_m3s=float(np.sum(qj[draws])), reason=reason,
    )


def todini_index(wn: wntr.network.WaterNetworkModel, head_m: pd.Series, demand_m3s: pd.Series,
                 flowrate_m3s: pd.Series, *, required_pressure_m: float | pd.Series,
                 converged: bool = True) -> float:
    """Todini's resilience index of one hydraulic state, every source counted.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (elevations, sources, pumps).
    head_m, demand_m3s : pandas.Series
        Head and demand of every node (tanks and reservoirs included; a source supplying
        the network has a negative demand, as in EPANET). With pressure-dependent demand,
        the delivered demand.
    flowrate_m3s : pandas.Series
        Flow of every pump (other links are ignored).
    required_pressure_m : float or pandas.Series
        ``p*``, the pressure each demand node needs.
    converged : bool
        False when the solver did not converge (the index is then NaN).

    Returns
    -------
    float
        ``Ir``, at most 1: 1 when all surplus power reaches the customers, below 0 when some
        get less than ``p*``. NaN when it is undefined: see :func:`todini_components`, whose
        ``reason`` says why.

    Notes
    -----
    Sources are the reservoirs and tanks that discharge into the network and the junctions
    with a negative demand (injections), each with its outflow times its head; pumps add
    flow times head gain when that is positive. A filling tank (or a reservoir receiving
    water) takes power from the network: it is left out of both sums, neither a source nor a
    customer, as in the usual treatment of Todini (2000). See :func:`todini_components`.
    """
    return todini_components(wn, head_m, demand_m3s, flowrate_m3s,
                             required_pressure_m=required_pressure_m, converged=converged).index


def _require(values: pd.Series, names: list[str], what: str) -> None:
    """Raise ValueError naming the first few of ``names`` missing from ``values``."""
    missing = [n for n in names if n not in values.index]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ValueError(f"{what} has no value for {shown}")


def modularity(graph: nx.Graph, parts: Iterable[Iterable[str]]) -> float:
    """Modularity of a partition of the DMA junctions' graph (each pipe counts once).

    >>> import networkx as nx
    >>> g = nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "f"), ("f", "d")])
    >>> round(modularity(g, [{"a", "b", "c"}, {"d", "e", "f"}]), 4)   # 2 * (3/7 - (7/14)^2)
    0.3571
    """
    sets = [set(p) for p in parts]
    nodes = set().union(*sets) if sets else set()
    sub = graph.subgraph(nodes)
    if sub.number_of_edges() == 0:
        return 0.0
    return float(nx.community.modularity(sub, sets, weight=None))


def size_cv(sizes: Iterable[float]) -> float:
    """Coefficient of variation of DMA sizes (population std / mean; 0 for one DMA).

    >>> round(size_cv([1000, 2000, 3000]), 4)
    0.4082
    """
    values = np.asarray(list(sizes), dtype=float)
    if len(values) < 2 or values.mean() == 0:
        return 0.0
    return float(values.std() / values.mean())
