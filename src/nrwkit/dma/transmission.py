"""Transmission mains found relative to the network in hand: the trunk that feeds the DMAs.

IWA's DMA guidance keeps trunk mains out of DMAs: a main that carries water through an area
to feed other areas would put that through-flow on the DMA's inlet meter. Which pipes are
trunk mains depends on the network, not on one diameter for every city (a 12-inch pipe is a
trunk main in a town and a distribution pipe in a capital). nrwkit finds them from the flows
of the all-open network at its peak hour:

- a pipe is a trunk candidate when it carries at least ``share`` of the network's peak
  demand, where ``share`` is the size of one of the largest DMAs the band allows over the
  whole network's size (``band_max / total``, at least 2 %): a main that carries more than
  one DMA's worth of water feeds more than one DMA;
- candidates are kept only where they form a trunk joined to a source: connected, through
  other candidates and the links that are transmission anyway (pumps, valves, links of
  tanks and reservoirs), to a tank or reservoir. Isolated high-flow pipes deep inside the
  distribution network are not trunk mains;
- the trunk is kept lean: while it would hold more than ``max_junction_share`` (8 %) of the
  junctions, the threshold rises by half (only the mains that carry the most water stay), so
  that nine in ten demand junctions can be in DMAs.

``--exclude-diameter-above`` (a diameter rule) and ``--transmission`` (named links) stay as
the engineer's overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import pandas as pd
import wntr

from ..findings import Finding, Severity
from .network import link_ends

__all__ = ["MAX_TRANSMISSION_SHARE", "Trunk", "trunk_mains"]

#: Above this share of junctions in transmission, the design says so and shows how to change it.
MAX_TRANSMISSION_SHARE = 0.15
#: The trunk found from flows is kept to this share of the junctions (pumps, valves and tank
#: links included), so that nine in ten junctions can be in DMAs.
TRUNK_JUNCTION_SHARE = 0.08
#: The trunk threshold never goes below this share of the peak demand.
_MIN_SHARE = 0.02


@dataclass(frozen=True)
class Trunk:
    """Trunk mains found from the flows at peak.

    Attributes
    ----------
    reasons : dict
        Pipe -> why it is a trunk main.
    share : float
        The flow threshold used, as a fraction of the peak demand.
    first_share : float
        The threshold before it was raised to keep the trunk lean.
    peak_demand_m3s : float
        The network's demand at the peak hour.
    notes : list of Finding
        How the threshold was chosen (infos ``dma-trunk-threshold-raised``,
        ``dma-no-peak-demand``).
    """

    reasons: dict[str, str]
    share: float
    first_share: float
    peak_demand_m3s: float
    notes: list[Finding] = field(default_factory=list)


def trunk_mains(
    wn: wntr.network.WaterNetworkModel,
    flows_m3s: pd.Series,
    peak_demand_m3s: float,
    *,
    share: float,
    forced: dict[str, str],
    max_junction_share: float = TRUNK_JUNCTION_SHARE,
    min_group: int = 1,
) -> Trunk:
    """Return the trunk mains of a network from its link flows at peak.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    flows_m3s : pandas.Series
        Flow of every link with all pipes open at the peak hour, m3/s (index = link names).
    peak_demand_m3s : float
        Total customer demand at that hour, m3/s.
    share : float
        Flow threshold as a fraction of ``peak_demand_m3s`` (raised to at least 2 %).
    forced : dict
        Links that are transmission anyway (pumps, valves, tank and reservoir links,
        listed mains) -> reason; they join trunk pieces but are not returned.
    max_junction_share : float
        Raise the threshold while the junctions the trunk and ``forced`` links take out of
        DMAs exceed this share of all junctions: those at their ends, and those they cut off in
        groups of fewer than ``min_group`` junctions (too small to be a DMA).
    min_group : int
        The fewest junctions a group cut off by the trunk needs to make a DMA.

    Returns
    -------
    Trunk

    Examples
    --------
    >>> from nrwkit.networks import load
    >>> from nrwkit.hydraulics import steady_state
    >>> wn = load("net1")
    >>> state = steady_state(wn)
    >>> trunk = trunk_mains(wn, state.flowrate_m3s, float(state.demand_m3s.clip(lower=0).sum()),
    ...                     share=0.5, forced={"9": "pump", "110": "connects tank 2"}, max_junction_share=0.5)
    >>> sorted(trunk.reasons)   # pipe 10 carries all the pumped water, 11 more than half of it
    ['10', '11']
    """
    first = max(float(share), _MIN_SHARE)
    total = max(float(peak_demand_m3s), 0.0)
    junctions = set(wn.junction_name_list)
    sources = set(wn.tank_name_list) | set(wn.reservoir_name_list)
    forced_touch = {end for name in forced for end in link_ends(wn, name)} & junctions
    notes: list[Finding] = []
    if total <= 0:
        none = _info("dma-no-peak-demand", "no demand at the peak hour: no trunk mains found from flows")
        return Trunk({}, first, first, 0.0, [none])
    flow = flows_m3s.abs()
    threshold = first
    reasons: dict[str, str] = {}
    while threshold <= 1.0 + 1e-9:
        candidates = [name for name, pipe in wn.pipes()
                      if name not in forced and str(pipe.initial_status).lower() != "closed"
                      and float(flow.get(name, 0.0)) >= threshold * total]
        kept = _joined_to_sources(wn, candidates, forced, sources)
        touched = forced_touch | {end for name in kept for end in link_ends(wn, name)} & junctions
        lost = len(touched) + _orphans(wn, touched, set(kept) | set(forced), min_group)
        if lost <= max_junction_share * max(len(junctions), 1) or not kept:
            reasons = {name: (f"trunk main: carries {float(flow[name]) / total:.0%} of the peak demand "
                              f"(threshold {threshold:.0%}, more than one DMA's supply) on a path of "
                              "trunk mains from a source")
                       for name in kept}
            break
        threshold *= 1.5
    else:
        reasons = {}
    if threshold > first * (1 + 1e-9):
        notes.append(_info("dma-trunk-threshold-raised",
                           f"trunk threshold raised from {first:.0%} to {min(threshold, 1.0):.0%} of the "
                           f"peak demand to keep transmission under {max_junction_share:.0%} of the "
                           "junctions"))
    return Trunk(reasons, min(threshold, 1.0), first, total, notes)


def _info(code: str, message: str) -> Finding:
    return Finding(Severity.INFO, code, (), message, "network")


def _orphans(wn: wntr.network.WaterNetworkModel, held: set[str], links: set[str], min_group: int) -> int:
    """Junctions the held ones cut off from the rest in groups of fewer than ``min_group``."""
    if min_group <= 1:
        return 0
    graph = nx.Graph()
    graph.add_nodes_from(j for j in wn.junction_name_list if j not in held)
    for name, pipe in wn.pipes():
        a, b = pipe.start_node_name, pipe.end_node_name
        if name not in links and a in graph and b in graph:
            graph.add_edge(a, b)
    return sum(len(c) for c in nx.connected_components(graph) if len(c) < min_group)


def _joined_to_sources(wn: wntr.network.WaterNetworkModel, candidates: list[str], forced: dict[str, str],
                       sources: set[str]) -> list[str]:
    """Candidates in a piece of the trunk graph (candidates + forced links) holding a source."""
    graph = nx.MultiGraph()
    for name in [*candidates, *forced]:
        a, b = link_ends(wn, name)
        graph.add_edge(a, b, key=name)
    keep: set[str] = set()
    for component in nx.connected_components(graph):
        if component & sources:
            keep |= component
    return [name for name in candidates if link_ends(wn, name)[0] in keep]
