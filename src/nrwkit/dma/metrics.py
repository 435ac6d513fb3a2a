"""Partition and resilience metrics of a DMA design (formulas in docs/mentors.md).

- Todini resilience index with tanks that feed the network counted as sources
  (WNTR's :func:`wntr.metrics.todini_index` counts reservoirs and pumps only):
  ``Ir = sum_i q_i (h_i - h*_i) / (sum_k Q_k H_k + sum_j P_j / gamma - sum_i q_i h*_i)``,
  ``h*_i = z_i + p*`` (Todini 2000).
- Modularity ``Q = sum_s [l_s / m - (d_s / 2m)^2]`` (Newman 2006; networkx), unweighted:
  each pair of junctions joined by pipes counts once, whatever the pipes' diameters.
- Size balance: coefficient of variation (population standard deviation over mean).
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd
import wntr

__all__ = ["modularity", "size_cv", "todini_index"]


def todini_index(wn: wntr.network.WaterNetworkModel, head_m: pd.Series, demand_m3s: pd.Series,
                 flowrate_m3s: pd.Series, *, required_pressure_m: float) -> float:
    """Todini's resilience index of one hydraulic state, tanks that feed counted as sources.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (elevations, sources, pumps).
    head_m, demand_m3s : pandas.Series
        Head and demand of every node (tanks and reservoirs included; a source supplying
        the network has a negative demand, as in EPANET).
    flowrate_m3s : pandas.Series
        Flow of every link.
    required_pressure_m : float
        ``p*``, the pressure each demand node needs.

    Returns
    -------
    float
        ``Ir``: 1 when all surplus power reaches the customers, below 0 when the network
        cannot meet ``p*``.

    Notes
    -----
    A tank that is filling takes power from the network; it is left out of both sums (it is
    neither a source nor a customer), as in the usual treatment of Todini (2000).
    """
    junctions = list(wn.junction_name_list)
    elevation = pd.Series({j: wn.get_node(j).elevation for j in junctions})
    q = demand_m3s.reindex(junctions).fillna(0.0).clip(lower=0.0)
    h = head_m.reindex(junctions)
    h_star = elevation + required_pressure_m
    surplus = float((q * (h - h_star)).sum())
    needed = float((q * h_star).sum())
    source_power = 0.0
    for name in list(wn.reservoir_name_list) + list(wn.tank_name_list):
        outflow = -float(demand_m3s.get(name, 0.0))
        if outflow > 0:
            source_power += outflow * float(head_m[name])
    pump_power = 0.0
    for name, pump in wn.pumps():
        flow = max(float(flowrate_m3s.get(name, 0.0)), 0.0)
        gain = float(head_m[pump.end_node_name]) - float(head_m[pump.start_node_name])
        pump_power += flow * max(gain, 0.0)
    denominator = source_power + pump_power - needed
    return surplus / denominator if denominator else float("nan")


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
