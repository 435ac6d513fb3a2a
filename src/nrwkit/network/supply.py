"""Which nodes are supplied: the one rule every part of nrwkit uses.

A node is *supplied* when an open path joins it to a tank or reservoir. A link counts as open
unless it is closed for good or closed by the caller:

- closed for good: a pipe or valve whose initial status is closed and that no control ever
  acts on (a control may open it during a run); pumps are never closed for good (their
  controls and curves decide);
- closed by the caller: e.g. the boundary valves of a DMA design.

:class:`nrwkit.network.checks.CheckContext` (``no-source``) and DMA design (unsupplied
junctions, DMAs cut off by their valves) both decide with :func:`supplied_nodes`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import wntr
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["controlled_links", "permanently_closed_links", "supplied_nodes"]


def controlled_links(wn: wntr.network.WaterNetworkModel) -> set[str]:
    """Return the names of links some control or rule acts on.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.

    Returns
    -------
    set of str
        Link names targeted by an action of a control or rule.
    """
    controlled: set[str] = set()
    for _, control in wn.controls():
        for action in control.actions():
            target = action.target()[0]
            controlled.add(getattr(target, "name", str(target)))
    return controlled


def permanently_closed_links(wn: wntr.network.WaterNetworkModel) -> set[str]:
    """Return pipes and valves closed in the model that no control ever opens.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.

    Returns
    -------
    set of str
        Names of the links closed for good (pumps never are).
    """
    controlled = controlled_links(wn)
    return {name for name, link in wn.links()
            if not isinstance(link, wntr.network.Pump) and name not in controlled
            and link.initial_status == wntr.network.LinkStatus.Closed}


def supplied_nodes(wn: wntr.network.WaterNetworkModel, closed: Iterable[str] = ()) -> set[str]:
    """Return the nodes with an open path to a tank or reservoir.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    closed : iterable of str, optional
        Links the caller closes as well (e.g. a design's boundary valves).

    Returns
    -------
    set of str
        Names of the supplied nodes (tanks and reservoirs included).

    Examples
    --------
    >>> import wntr
    >>> wn = wntr.network.WaterNetworkModel()
    >>> wn.add_reservoir("R", base_head=50.0)
    >>> for name in ("A", "B"):
    ...     wn.add_junction(name)
    >>> wn.add_pipe("P1", "R", "A")
    >>> wn.add_pipe("P2", "A", "B")
    >>> sorted(supplied_nodes(wn)), sorted(supplied_nodes(wn, closed=["P2"]))
    (['A', 'B', 'R'], ['A', 'R'])
    """
    names = wn.node_name_list
    index = {name: i for i, name in enumerate(names)}
    shut = permanently_closed_links(wn) | set(closed)
    ends = np.array([(index[link.start_node_name], index[link.end_node_name])
                     for name, link in wn.links() if name not in shut], dtype=int).reshape(-1, 2)
    adjacency = coo_matrix((np.ones(len(ends)), (ends[:, 0], ends[:, 1])), shape=(len(names),) * 2)
    _, labels = connected_components(adjacency, directed=False)
    fed = {labels[index[s]] for s in (*wn.tank_name_list, *wn.reservoir_name_list)}
    return {name for name, label in zip(names, labels, strict=True) if label in fed}
