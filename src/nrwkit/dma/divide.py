"""Dividing: which boundary pipes get a meter and which a closed boundary valve.

The second phase of the two-phase design. Each DMA first gets a single inlet meter (IWA:
single inlet preferred) on the boundary pipe that carries most water into it in the
leak-free, all-open state at peak; every other boundary pipe is closed. Pipes closed in the
model already are reused as boundary valves at no cost. A DMA left with no path of open
pipes to a tank or reservoir gets a meter on a pipe towards a supplied neighbour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import wntr

from .network import DistributionNetwork, open_graph, supplied

__all__ = ["TRANSMISSION", "boundary_pipes", "choose_meters", "dead_ends", "inlets_per_dma", "open_graph",
           "supplied", "unfed_dmas"]

#: The side of a boundary pipe that is not a DMA.
TRANSMISSION = "transmission"


def boundary_pipes(wn: wntr.network.WaterNetworkModel, assignment: pd.Series,
                   dist: DistributionNetwork) -> pd.DataFrame:
    """Pipes joining two DMAs, or a DMA and the transmission system.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    assignment : pandas.Series
        Junction -> DMA id, for DMA junctions only.
    dist : DistributionNetwork
        What is transmission.

    Returns
    -------
    pandas.DataFrame
        Index ``pipe``; columns ``dma_start``, ``dma_end`` (DMA id or ``"transmission"``
        for the pipe's start and end node), ``diameter_m``, ``length_m``, ``existing``
        (closed in the model already).
    """
    label = assignment.to_dict()
    rows = []
    closed = set(dist.closed_pipes)
    for name, pipe in wn.pipes():
        if name in dist.transmission_links:
            continue
        a = label.get(pipe.start_node_name, TRANSMISSION)
        b = label.get(pipe.end_node_name, TRANSMISSION)
        if a == b:
            continue
        rows.append({"pipe": name, "dma_start": a, "dma_end": b, "diameter_m": float(pipe.diameter),
                     "length_m": float(pipe.length), "existing": name in closed})
    frame = pd.DataFrame(rows, columns=["pipe", "dma_start", "dma_end", "diameter_m", "length_m",
                                        "existing"])
    return frame.set_index("pipe")


def inflow(boundary: pd.DataFrame, flows: pd.Series, dma: str) -> pd.Series:
    """Flow into ``dma`` through each of its boundary pipes (m3/s; negative = out)."""
    rows = boundary[(boundary.dma_start == dma) | (boundary.dma_end == dma)]
    flow = flows.reindex(rows.index).fillna(0.0)
    # positive flow runs start -> end: into the DMA when the DMA is at the end
    sign = (rows.dma_end == dma).map({True: 1.0, False: -1.0})
    return flow * sign


def inlets_per_dma(boundary: pd.DataFrame) -> pd.Series:
    """Count the inlet meters of each DMA (metered boundary pipes that feed it)."""
    metered = boundary[boundary.role == "meter"]
    return metered.feeds.value_counts()


def choose_meters(boundary: pd.DataFrame, flows: pd.Series, dmas: list[str]) -> pd.DataFrame:
    """One inlet meter per DMA on its main feed; every other boundary pipe a closed valve.

    Parameters
    ----------
    boundary : pandas.DataFrame
        From :func:`boundary_pipes`.
    flows : pandas.Series
        Link flows (m3/s) of the all-open state at peak.
    dmas : list of str
        DMA ids.

    Returns
    -------
    pandas.DataFrame
        ``boundary`` with ``role`` (``"meter"``, ``"valve"`` or ``"existing valve"``) and
        ``feeds`` (for a meter, the DMA it is the inlet of; a meter between two DMAs is the
        inlet of one and an outlet of the other).
    """
    out = boundary.copy()
    out["role"] = np.where(out.existing, "existing valve", "valve")
    out["feeds"] = ""
    candidates = []
    for dma in dmas:
        into = inflow(boundary[~boundary.existing], flows, dma)
        for pipe, q in into.items():
            row = boundary.loc[pipe]
            other = row.dma_start if row.dma_end == dma else row.dma_end
            candidates.append((float(q), other == TRANSMISSION, float(row.diameter_m), str(pipe), dma))
    # main feeds first: largest inflow, from transmission before a neighbouring DMA
    candidates.sort(key=lambda c: (-c[0], not c[1], -c[2], c[3]))
    fed: set[str] = set()
    for _, _, _, pipe, dma in candidates:
        if dma in fed or out.at[pipe, "role"] == "meter":
            continue
        out.loc[pipe, ["role", "feeds"]] = ["meter", dma]
        fed.add(dma)
    return out


def unfed_dmas(wn: wntr.network.WaterNetworkModel, assignment: pd.Series, closed: set[str]) -> list[str]:
    """DMAs with a junction that has no open path to a tank or reservoir."""
    fed = supplied(wn, closed)
    unfed = assignment[~assignment.index.isin(list(fed))]
    return sorted(set(unfed.to_numpy()))


def dead_ends(wn: wntr.network.WaterNetworkModel, closed: set[str]) -> list[str]:
    """Junctions with exactly one open link after ``closed`` are closed."""
    graph = open_graph(wn, closed, multi=True)
    return sorted(n for n in wn.junction_name_list if graph.degree(n) == 1)
