"""A standard partition to compare a DMA design with: the pipes it would have to cut.

A DMA design meters or closes every pipe between two DMAs and every pipe from a DMA to the
transmission system. :func:`baseline_cut` cuts the same junctions into as many parts with a
general-purpose graph partitioner, METIS (Karypis & Kumar, 1998; through pymetis, when it is
installed) or else Louvain (Blondel et al., 2008; networkx), and counts the pipes that
partition would have to meter or close. A design that needs many more is suspect.

The graph is nrwkit's distribution graph (:attr:`nrwkit.dma.DistributionNetwork.graph`):
junctions with node attribute ``size`` and edges with ``pipes``, the list of pipe names
between two junctions (parallel pipes each count). A node without ``size`` counts 1; an edge
without ``pipes`` counts as one pipe.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx

__all__ = ["BaselineCut", "baseline_cut", "cut_pipes", "louvain_parts", "metis_parts"]

#: Total vertex weight the sizes are scaled to for METIS (integers; each vertex weighs 1 at least).
METIS_WEIGHT_TOTAL = 1_000_000
#: The most Louvain runs :func:`louvain_parts` makes while searching the resolution.
LOUVAIN_MAX_RUNS = 24


@dataclass(frozen=True)
class BaselineCut:
    """How many pipes a standard partition into ``parts`` parts has to meter or close.

    Attributes
    ----------
    method : str
        ``"metis"`` or ``"louvain"``.
    parts : int
        The number of parts asked for (the partition may have fewer non-empty ones: see
        ``sizes``).
    cut : int
        Pipes whose two ends fall in different parts, plus the pipes from the junctions to the
        transmission system (``boundary_to_transmission``).
    sizes : list of float
        Size of each non-empty part (the sum of its junctions' ``size``), largest first.
    """

    method: str
    parts: int
    cut: int
    sizes: list[float]


def baseline_cut(graph: nx.Graph, parts: int, *, boundary_to_transmission: int = 0,
                 seed: int = 0) -> BaselineCut:
    """Cut ``graph`` into ``parts`` parts with METIS (else Louvain) and count the pipes cut.

    Parameters
    ----------
    graph : networkx.Graph
        Junctions (node attribute ``size``) and the pipes between them (edge attribute
        ``pipes``, a list of pipe names).
    parts : int
        Number of parts, at least 1 (a design's number of DMAs).
    boundary_to_transmission : int
        Pipes from these junctions to the transmission system: any partition of the same
        junctions must meter or close them too, so they are added to the cut.
    seed : int
        Seed of the partitioner: the same seed gives the same partition.

    Returns
    -------
    BaselineCut
        METIS's partition when pymetis is installed, else Louvain's (``method`` says which).

    Raises
    ------
    ValueError
        If ``parts`` is below 1 or ``boundary_to_transmission`` is negative.

    See Also
    --------
    metis_parts, louvain_parts

    Examples
    --------
    Two triangles joined by one pipe:

    >>> import networkx as nx
    >>> g = nx.Graph()
    >>> g.add_nodes_from("abcdef", size=1.0)
    >>> for i, (u, v) in enumerate(["ab", "bc", "ca", "cd", "de", "ef", "fd"]):
    ...     g.add_edge(u, v, pipes=[f"P{i}"], weight=0.1)
    >>> result = baseline_cut(g, 2)
    >>> result.cut, result.sizes
    (1, [3.0, 3.0])
    >>> baseline_cut(g, 2, boundary_to_transmission=4).cut
    5
    """
    _check_parts(parts)
    if boundary_to_transmission < 0:
        raise ValueError(f"boundary_to_transmission must be 0 or more, not {boundary_to_transmission}")
    split = metis_parts(graph, parts, seed=seed)
    method = "metis"
    if split is None:
        split = louvain_parts(graph, parts, seed=seed)
        method = "louvain"
    sizes = sorted((sum(_size(graph, n) for n in part) for part in split), reverse=True)
    return BaselineCut(method=method, parts=parts, cut=cut_pipes(graph, split) + boundary_to_transmission,
                       sizes=sizes)


def cut_pipes(graph: nx.Graph, parts: Iterable[Iterable[str]]) -> int:
    """Count the pipes whose two ends fall in different parts (parallel pipes each count).

    Parameters
    ----------
    graph : networkx.Graph
        Edges with attribute ``pipes`` (an edge without it is one pipe).
    parts : iterable of iterables of str
        The parts; a node in none of them is a part of its own.

    Returns
    -------
    int

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.Graph([("a", "b"), ("b", "c")])
    >>> g.edges["b", "c"]["pipes"] = ["P2", "P2b"]
    >>> cut_pipes(g, [{"a", "b"}, {"c"}])
    2
    """
    label: dict[Any, int] = {}
    for i, part in enumerate(parts):
        for node in part:
            label[node] = i
    return sum(_pipes(data) for u, v, data in graph.edges(data=True)
               if label.get(u, ("alone", u)) != label.get(v, ("alone", v)))


def metis_parts(graph: nx.Graph, parts: int, *, seed: int = 0) -> list[set[str]] | None:
    """Partition ``graph`` with METIS: balanced sizes, fewest pipes cut.

    Parameters
    ----------
    graph : networkx.Graph
        Junctions (node attribute ``size``) and pipes (edge attribute ``pipes``).
    parts : int
        Number of parts, at least 1.
    seed : int
        METIS's random seed.

    Returns
    -------
    list of set of str or None
        The non-empty parts (every node in exactly one), largest first; None when pymetis is
        not installed.

    Notes
    -----
    The better (fewer pipes cut; recursive on a tie) of METIS's recursive bisection and its
    k-way partition (which can cut badly on small graphs into more than 8 parts), with
    vertex weights = ``size`` scaled to integers (at least 1 each, so that junctions without
    customers still count) and edge weights = number of pipes, so the cut it minimises is the
    number of pipes. Parts need not be connected, and a disconnected graph is cut as it is.
    With ``parts`` at least the number of nodes, each node is a part.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "f"), ("f", "d")])
    >>> split = metis_parts(g, 2)
    >>> split is None or sorted(sorted(p) for p in split) == [["a", "b", "c"], ["d", "e", "f"]]
    True
    """
    _check_parts(parts)
    try:
        import pymetis
    except ImportError:
        return None
    nodes = list(graph.nodes)
    trivial = _trivial(nodes, parts)
    if trivial is not None:
        return _ordered(graph, trivial)
    index = {n: i for i, n in enumerate(nodes)}
    xadj, adjncy, eweights = [0], [], []
    for n in nodes:
        for m, data in graph.adj[n].items():
            if m == n:      # a self-loop is never cut
                continue
            adjncy.append(index[m])
            eweights.append(_pipes(data))
        xadj.append(len(adjncy))
    sizes = [max(_size(graph, n), 0.0) for n in nodes]
    total = sum(sizes)
    scale = METIS_WEIGHT_TOTAL / total if total > 0 else 0.0
    vweights = [1 + round(s * scale) for s in sizes]
    best: list[set[str]] = []
    best_cut = -1
    for recursive in (True, False):
        options = pymetis.Options(seed=int(seed))
        result = pymetis.part_graph(parts, pymetis.CSRAdjacency(xadj, adjncy), vweights=vweights,
                                    eweights=eweights, recursive=recursive, options=options)
        groups: dict[int, set[str]] = {}
        for n, label in zip(nodes, result[1], strict=True):
            groups.setdefault(int(label), set()).add(n)
        split = _ordered(graph, groups.values())
        cut = cut_pipes(graph, split)
        if best_cut < 0 or cut < best_cut:
            best, best_cut = split, cut
    return best


def louvain_parts(graph: nx.Graph, parts: int, *, seed: int = 0) -> list[set[str]]:
    """Partition ``graph`` into about ``parts`` Louvain communities.

    Parameters
    ----------
    graph : networkx.Graph
        Junctions and pipes (edge attribute ``pipes``).
    parts : int
        Number of parts wanted, at least 1.
    seed : int
        Louvain's random seed: the same seed gives the same partition.

    Returns
    -------
    list of set of str
        The communities (every node in exactly one), largest first: as close to ``parts`` of
        them as the resolution search found (ties: the fewest pipes cut, then the lowest
        resolution).

    Notes
    -----
    :func:`networkx.community.louvain_communities` maximises modularity with edge weight =
    number of pipes; the number of communities grows with the resolution. The resolution is
    bracketed by factors of 4 from 1, then bisected on a log scale, at most
    :data:`LOUVAIN_MAX_RUNS` runs in all. Louvain ignores sizes, and cannot join two
    components of a disconnected graph in one community (then ``parts`` below the number of
    components gives one community per component). ``parts`` = 1 gives all nodes in one part.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "f"), ("f", "d")])
    >>> sorted(sorted(p) for p in louvain_parts(g, 2))
    [['a', 'b', 'c'], ['d', 'e', 'f']]
    """
    _check_parts(parts)
    nodes = list(graph.nodes)
    trivial = _trivial(nodes, parts)
    if trivial is not None:
        return _ordered(graph, trivial)
    weighted = nx.Graph()
    weighted.add_nodes_from(nodes)
    weighted.add_weighted_edges_from((u, v, _pipes(data)) for u, v, data in graph.edges(data=True))
    if weighted.number_of_edges() == 0:
        # no pipe to cut: any grouping of isolated junctions costs nothing
        return _ordered(graph, _round_robin(nodes, parts))

    tried: dict[float, list[set[str]]] = {}

    def run(resolution: float) -> int:
        if resolution not in tried:
            found = nx.community.louvain_communities(weighted, weight="weight", resolution=resolution,
                                                     seed=seed)
            tried[resolution] = [set(c) for c in found]
        return len(tried[resolution])

    # bracket: lo gives <= parts communities, hi gives >= parts
    lo = hi = 1.0
    count = run(1.0)
    if count < parts:
        while count < parts and len(tried) < LOUVAIN_MAX_RUNS // 2 and hi < 1e9:
            lo, hi = hi, hi * 4.0
            count = run(hi)
    else:
        while count > parts and len(tried) < LOUVAIN_MAX_RUNS // 2 and lo > 1e-9:
            lo, hi = lo / 4.0, lo
            count = run(lo)
    while count != parts and len(tried) < LOUVAIN_MAX_RUNS and hi / lo > 1.0 + 1e-6:
        mid = math.sqrt(lo * hi)
        count = run(mid)
        if count < parts:
            lo = mid
        else:
            hi = mid
    best = min(sorted(tried), key=lambda r: (abs(len(tried[r]) - parts), cut_pipes(graph, tried[r])))
    return _ordered(graph, tried[best])


def _check_parts(parts: int) -> None:
    if int(parts) != parts or parts < 1:
        raise ValueError(f"parts must be a whole number of 1 or more, not {parts!r}")


def _trivial(nodes: list[Any], parts: int) -> list[set[str]] | None:
    """One part, or one part per node, without a partitioner; None otherwise."""
    if not nodes:
        return []
    if parts == 1:
        return [set(nodes)]
    if parts >= len(nodes):
        return [{n} for n in sorted(nodes, key=str)]
    return None


def _round_robin(nodes: list[Any], parts: int) -> list[set[str]]:
    groups: list[set[str]] = [set() for _ in range(parts)]
    for i, n in enumerate(sorted(nodes, key=str)):
        groups[i % parts].add(n)
    return groups


def _ordered(graph: nx.Graph, groups: Iterable[set[str]]) -> list[set[str]]:
    """Non-empty parts, largest first, then by their smallest node name: a stable order."""
    kept = [set(g) for g in groups if g]
    return sorted(kept, key=lambda g: (-sum(_size(graph, n) for n in g), min(str(n) for n in g)))


def _size(graph: nx.Graph, node: Any) -> float:
    value = graph.nodes[node].get("size", 1.0)
    return float(value) if value is not None and math.isfinite(float(value)) else 0.0


def _pipes(data: dict[str, Any]) -> int:
    pipes = data.get("pipes")
    return max(len(pipes), 1) if pipes is not None else 1
