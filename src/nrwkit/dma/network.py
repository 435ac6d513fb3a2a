"""The distribution network a DMA design works on: what stays in transmission, and sizes.

Transmission links (mains above a diameter or listed by the engineer, pumps, valves, and
every link of a tank or reservoir) stay outside DMAs and are never closed (IWA DMA Guidance
Notes: keep transmission mains out of DMAs). A junction touched by a transmission link stays
in the transmission system too, so that no trunk flow runs through a DMA unmetered. Every
other junction is a DMA candidate; the graph of them and the open pipes between them is what
the partition cuts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd
import wntr

from ..errors import InputError
from ..gis.customers import connections as stored_connections
from ..network.supply import supplied_nodes
from ..units import MM_PER_M, SECONDS_PER_DAY

__all__ = ["ON_MAIN", "SIZE_UNITS", "DistributionNetwork", "SizeBy", "demand_junctions",
           "distribution_network", "junction_sizes", "link_ends"]

#: How the reason of a junction at an end of a transmission link starts (then the link's name).
ON_MAIN = "at an end of "


def demand_junctions(wn: wntr.network.WaterNetworkModel) -> set[str]:
    """Junctions with a positive base demand: customers draw water there."""
    return {name for name, j in wn.junctions()
            if any(float(d.base_value) > 0 for d in j.demand_timeseries_list)}

SizeBy = Literal["connections", "demand", "nodes", "length"]

#: The unit each size measure is given in (``--size MIN:MAX``).
SIZE_UNITS: dict[str, str] = {
    "connections": "connections",
    "demand": "m3/day",
    "nodes": "junctions",
    "length": "km of mains",
}


@dataclass(frozen=True)
class DistributionNetwork:
    """The DMA candidates and what was kept out of them.

    Attributes
    ----------
    graph : networkx.Graph
        DMA-candidate junctions (node attribute ``size``) and the open distribution pipes
        between them (edge attributes ``pipes``: list of pipe names, ``weight``: summed
        diameter in m, so that a partition by modularity prefers to cut small pipes).
    size : pandas.Series
        Size of every junction in the chosen measure (index = all junctions).
    transmission_junctions : dict
        Junction -> why it stays in the transmission system.
    transmission_links : dict
        Link -> why it is a transmission link (never closed).
    closed_pipes : list of str
        Pipes closed in the model already (existing boundary valves to reuse).
    internal_links : dict
        Valves and pumps between two DMA-candidate junctions (a PRV between pressure zones, an
        in-line booster) -> reason: never closed, so never on a DMA boundary; in the graph they
        are edges with ``fixed`` (their names) that a partition must not cut.
    """

    graph: nx.Graph
    size: pd.Series
    transmission_junctions: dict[str, str]
    transmission_links: dict[str, str]
    closed_pipes: list[str]
    internal_links: dict[str, str] = field(default_factory=dict)


def junction_sizes(wn: wntr.network.WaterNetworkModel, size_by: SizeBy,
                   connections: pd.Series | None = None) -> pd.Series:
    """Size of each junction in the chosen measure.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    size_by : {"connections", "demand", "nodes", "length"}
        Service connections (given, or stored in ``[TAGS]`` by
        :func:`nrwkit.gis.allocate_customers`), average demand in m3/day (base demands times
        the mean of their pattern), 1 per junction, or km of mains (half of each attached
        pipe's length, so that a DMA's size is about the length of its mains).
    connections : pandas.Series, optional
        Connections per junction, overriding what the model stores.

    Returns
    -------
    pandas.Series
        Index = junction names.

    Raises
    ------
    InputError
        For connections when the model has none and none are given.
    """
    names = list(wn.junction_name_list)
    if size_by == "connections":
        counts = stored_connections(wn) if connections is None else connections
        counts = counts.reindex(names).fillna(0).astype(float)
        if counts.sum() <= 0:
            msg = ("the network has no service connections to size DMAs by: allocate customers "
                   "first (nrwkit gis allocate-customers), or size DMAs by nodes, demand or length (size_by)")
            raise InputError(msg)
        return counts.rename("connections")
    if size_by == "nodes":
        return pd.Series(1.0, index=names, name="junctions")
    if size_by == "demand":
        mean_mult = {}
        for pname in wn.pattern_name_list:
            mult = np.asarray(wn.get_pattern(pname).multipliers, dtype=float)
            mean_mult[pname] = float(mult.mean()) if len(mult) else 1.0
        default = wn.options.hydraulic.pattern
        values = {}
        for name, junction in wn.junctions():
            total = 0.0
            for demand in junction.demand_timeseries_list:
                pname = demand.pattern_name or default
                total += float(demand.base_value) * mean_mult.get(pname, 1.0)
            values[name] = total * float(wn.options.hydraulic.demand_multiplier) * SECONDS_PER_DAY
        return pd.Series(values, name="demand_m3_per_day")
    if size_by == "length":
        km = dict.fromkeys(names, 0.0)
        for _, pipe in wn.pipes():
            for end in (pipe.start_node_name, pipe.end_node_name):
                if end in km:
                    km[end] += float(pipe.length) / 2000.0
        return pd.Series(km, name="length_km")
    msg = f"unknown size measure {size_by!r}: use connections, demand, nodes or length"
    raise InputError(msg)


def transmission_links(wn: wntr.network.WaterNetworkModel, *, exclude_diameter_above_m: float | None,
                       transmission: Iterable[str] = (), trunk: dict[str, str] | None = None
                       ) -> dict[str, str]:
    """Links that stay outside DMAs, each with its reason.

    Pumps, valves, pipes with a check valve, links of tanks and reservoirs and the links
    listed in ``transmission`` always; pipes wider than ``exclude_diameter_above_m`` (m) when
    given; and the ``trunk`` mains found from the flows (:mod:`nrwkit.dma.transmission`).
    :func:`distribution_network` then keeps the valves, pumps and check-valve pipes between two
    distribution junctions inside DMAs.
    """
    listed = set(transmission)
    unknown = sorted(listed - set(wn.link_name_list))
    if unknown:
        msg = (f"transmission mains {', '.join(unknown[:5])} are not links of the network: "
               "check the ids given as transmission mains")
        raise InputError(msg)
    storage = set(wn.tank_name_list) | set(wn.reservoir_name_list)
    reasons: dict[str, str] = {}
    for name, link in wn.links():
        ends = (link.start_node_name, link.end_node_name)
        if link.link_type == "Pump":
            reasons[name] = "pump"
        elif link.link_type == "Valve":
            reasons[name] = f"{link.valve_type} valve"
        elif name in listed:
            reasons[name] = "listed as a transmission main"
        elif str(getattr(link, "check_valve", False)) == "True":
            reasons[name] = "pipe with a check valve (cannot be closed)"
        elif any(end in storage for end in ends):
            which = next(end for end in ends if end in storage)
            reasons[name] = f"connects {'tank' if which in wn.tank_name_list else 'reservoir'} {which}"
        elif exclude_diameter_above_m is not None and link.diameter > exclude_diameter_above_m + 1e-9:
            reasons[name] = (f"transmission main (diameter {link.diameter * MM_PER_M:.0f} mm "
                             f"> {exclude_diameter_above_m * MM_PER_M:.0f} mm)")
        elif trunk and name in trunk:
            reasons[name] = trunk[name]
    return reasons


def _inline_kind(link: Any) -> bool:
    """Return True for a valve, a pump or a pipe with a check valve."""
    return link.link_type in ("Pump", "Valve") or str(getattr(link, "check_valve", False)) == "True"


def distribution_network(
    wn: wntr.network.WaterNetworkModel,
    *,
    size_by: SizeBy = "connections",
    exclude_diameter_above_m: float | None = None,
    transmission: Iterable[str] = (),
    connections: pd.Series | None = None,
    trunk: dict[str, str] | None = None,
    size: pd.Series | None = None,
) -> DistributionNetwork:
    """Split the network into transmission and DMA candidates.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    size_by : {"connections", "demand", "nodes", "length"}
        See :func:`junction_sizes`.
    exclude_diameter_above_m : float or None
        Pipes wider than this (m) are transmission mains; None keeps all pipes.
    transmission : iterable of str
        Further links the engineer names as transmission mains.
    connections : pandas.Series, optional
        Connections per junction (overrides the model's ``[TAGS]``).
    trunk : dict, optional
        Trunk mains -> reason (:func:`nrwkit.dma.transmission.trunk_mains`).
    size : pandas.Series, optional
        The junctions' sizes, when already computed with :func:`junction_sizes`.

    Returns
    -------
    DistributionNetwork
    """
    size = junction_sizes(wn, size_by, connections) if size is None else size
    links = transmission_links(wn, exclude_diameter_above_m=exclude_diameter_above_m,
                               transmission=transmission, trunk=trunk)
    junctions = set(wn.junction_name_list)
    listed = set(transmission)
    # valves, pumps and check-valve pipes between two junctions may sit inside a DMA (never on
    # its boundary: none of them can be closed as a boundary valve), unless transmission reaches them
    inline = {name: reason for name, reason in links.items()
              if _inline_kind(wn.get_link(name)) and name not in listed
              and all(end in junctions for end in link_ends(wn, name))}
    for name in inline:
        del links[name]
    held: dict[str, str] = {}
    _hold_ends(wn, links, held, junctions)
    for name in sorted(junctions - supplied(wn, set())):
        held.setdefault(name, "not connected to any tank or reservoir (run nrwkit inspect)")
    while True:  # an in-line valve, pump or check-valve pipe that transmission reaches is transmission too
        reached = {name: reason for name, reason in inline.items()
                   if any(end in held for end in link_ends(wn, name))}
        if not reached:
            break
        for name, reason in reached.items():
            del inline[name]
            links[name] = reason
        _hold_ends(wn, reached, held, junctions)
    closed: list[str] = []
    graph = nx.Graph()
    # insertion order fixes Louvain's visiting order: keep the model's order, never a set's
    graph.add_nodes_from((j, {"size": float(size[j])}) for j in wn.junction_name_list if j not in held)
    for name, pipe in wn.pipes():
        if name in links or name in inline:
            continue
        a, b = pipe.start_node_name, pipe.end_node_name
        if str(pipe.initial_status).lower() == "closed":
            closed.append(name)
            continue
        if a in held and b in held:
            links[name] = "joins two transmission junctions"
            continue
        if a in held or b in held or a == b:
            continue  # a boundary pipe to the transmission system
        if graph.has_edge(a, b):
            graph.edges[a, b]["pipes"].append(name)
            graph.edges[a, b]["weight"] += float(pipe.diameter)
        else:
            graph.add_edge(a, b, pipes=[name], weight=float(pipe.diameter))
    internal = {}
    for name, reason in inline.items():
        a, b = link_ends(wn, name)
        if a == b:
            continue
        if not graph.has_edge(a, b):
            graph.add_edge(a, b, pipes=[], weight=0.0)
        graph.edges[a, b].setdefault("fixed", []).append(name)
        internal[name] = f"{reason} inside a DMA (never closed, never on a boundary)"
    return DistributionNetwork(graph=graph, size=size, transmission_junctions=held,
                               transmission_links=links, closed_pipes=sorted(closed), internal_links=internal)


def link_ends(wn: wntr.network.WaterNetworkModel, name: str) -> tuple[str, str]:
    """Return the start and end node of a link."""
    link = wn.get_link(name)
    return link.start_node_name, link.end_node_name


def _hold_ends(wn: wntr.network.WaterNetworkModel, links: dict[str, str], held: dict[str, str],
               junctions: set[str]) -> None:
    """Hold the junction ends of transmission links out of DMAs, naming the link."""
    for name, reason in links.items():
        for end in link_ends(wn, name):
            if end in junctions and end not in held:
                held[end] = f"{ON_MAIN}{name} ({reason})"


def open_graph(wn: wntr.network.WaterNetworkModel, closed: set[str], *, multi: bool = False) -> nx.Graph:
    """Undirected graph of the links left open once ``closed`` are closed.

    Pipes closed in the model are left out; pumps and valves count as open (a closed pump
    or valve may open during a run). ``multi`` keeps parallel links (for node degrees).
    """
    graph = nx.MultiGraph() if multi else nx.Graph()
    graph.add_nodes_from(wn.node_name_list)
    for name, link in wn.links():
        if name in closed or (link.link_type == "Pipe" and str(link.initial_status).lower() == "closed"):
            continue
        graph.add_edge(link.start_node_name, link.end_node_name)
    return graph


def supplied(wn: wntr.network.WaterNetworkModel, closed: set[str]) -> set[str]:
    """Nodes with an open path to a tank or reservoir once ``closed`` are closed.

    The one rule of :func:`nrwkit.network.supply.supplied_nodes`: links closed in the model
    that no control opens stay closed, pumps count as open.
    """
    return supplied_nodes(wn, closed)
