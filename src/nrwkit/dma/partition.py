"""Clustering: cut the distribution graph into connected parts within a size band.

The first phase of the two-phase DMA design (Di Nardo et al.): modularity communities
(Louvain, networkx) on a graph weighted by pipe diameter, so that cuts fall on small pipes;
parts above the band are split again (Louvain at a higher resolution, or a spectral bisection
at the size-weighted median of the Fiedler vector); parts below the band are merged into the
neighbour they share most pipes with; neighbours are then merged while the union stays in the
band (fewer, larger DMAs need fewer meters); last, single junctions on a boundary move to the
side that removes boundary pipes, while both sides stay connected and in the band. A METIS
partition into as many parts (pymetis), tidied the same way, replaces it when it has no more
parts outside the band and cuts fewer pipes.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse.linalg

from .baseline import cut_pipes, metis_parts

__all__ = ["Partition", "bisect_graph", "contract_fixed", "ordered_subgraph", "partition_graph"]


@dataclass(frozen=True)
class Partition:
    """Parts of the distribution graph and the components too small to be a DMA.

    Attributes
    ----------
    parts : list of frozenset
        Connected sets of junctions, largest first.
    too_small : list of frozenset
        Connected components of the graph whose whole size is below the band.
    """

    parts: list[frozenset[str]]
    too_small: list[frozenset[str]]


def partition_graph(graph: nx.Graph, *, min_size: float, max_size: float,
                    target_max: float | None = None, seed: int = 0) -> Partition:
    """Partition a graph with node attribute ``size`` into connected parts in a size band.

    Parameters
    ----------
    graph : networkx.Graph
        Nodes carry ``size``, edges ``weight`` (larger = keep together) and ``pipes``.
    min_size, max_size : float
        The band for each part's summed size.
    target_max : float, optional
        Merge neighbours only while the union stays at or below this (the preferred band's
        top); default ``max_size``.
    seed : int
        Seed for Louvain (the result is deterministic for a seed).

    Returns
    -------
    Partition
    """
    if any("fixed" in data for _, _, data in graph.edges(data=True)):
        # valves and pumps inside DMAs are never cut: partition with their ends joined
        merged, members = contract_fixed(graph)
        inner = partition_graph(merged, min_size=min_size, max_size=max_size, target_max=target_max,
                                seed=seed)
        return Partition(parts=[frozenset(n for rep in part for n in members[rep]) for part in inner.parts],
                         too_small=[frozenset(n for rep in part for n in members[rep])
                                    for part in inner.too_small])
    target = max_size if target_max is None else min(target_max, max_size)
    parts: list[set[str]] = []
    too_small: list[frozenset[str]] = []
    for component in sorted(nx.connected_components(graph), key=lambda c: sorted(c)[0]):
        total = _size(graph, component)
        if total < min_size:
            too_small.append(frozenset(component))
            continue
        if total <= max_size:
            parts.append(set(component))
            continue
        sub = ordered_subgraph(graph, component)
        pieces = [set(c) for c in nx.community.louvain_communities(sub, weight="weight", seed=seed)]
        for piece in pieces:
            parts.extend(_split(graph, piece, max_size, seed))
    parts = _tidy(graph, parts, min_size, max_size, target)
    # a METIS partition into as many parts, made connected and banded the same way, when it
    # needs fewer meters and valves without more DMAs outside the band
    if len(parts) >= 2:
        nodes = set().union(*parts)
        found = metis_parts(ordered_subgraph(graph, nodes), len(parts), seed=seed)
        if found is not None:
            other = _tidy(graph, [set(p) for p in found if p], min_size, max_size, target)
            if _score(graph, other, min_size, max_size) < _score(graph, parts, min_size, max_size):
                parts = other
    ordered = sorted((frozenset(p) for p in parts), key=lambda p: (-len(p), sorted(p)[0]))
    return Partition(parts=ordered, too_small=too_small)


def _tidy(graph: nx.Graph, parts: list[set[str]], min_size: float, max_size: float, target: float
          ) -> list[set[str]]:
    """Make parts connected, merge those below the band, merge neighbours, refine boundaries."""
    parts = _connected_pieces(graph, parts)
    parts = _merge_small(graph, parts, min_size, max_size)
    parts = _merge_neighbours(graph, parts, target)
    return _refine(graph, parts, min_size, max_size)


def _score(graph: nx.Graph, parts: list[set[str]], min_size: float, max_size: float) -> tuple[int, int]:
    """Parts outside the band, then pipes cut: the smaller the better."""
    outside = sum(not min_size - 1e-9 <= _size(graph, p) <= max_size + 1e-9 for p in parts)
    return outside, cut_pipes(graph, parts)


def contract_fixed(graph: nx.Graph) -> tuple[nx.Graph, dict[str, list[str]]]:
    """Join the two ends of every ``fixed`` edge (a valve or pump that must stay inside one DMA).

    Returns
    -------
    (networkx.Graph, dict)
        The graph with each group of junctions joined by fixed edges as one node (named after
        its first junction in the graph's order; ``size`` summed; edges' ``pipes`` and
        ``weight`` summed), and each node's junctions.
    """
    fixed = nx.Graph()
    fixed.add_nodes_from(graph)
    fixed.add_edges_from((u, v) for u, v, data in graph.edges(data=True) if data.get("fixed"))
    order = {n: i for i, n in enumerate(graph)}
    rep: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for group in nx.connected_components(fixed):
        ordered = sorted(group, key=order.__getitem__)
        members[ordered[0]] = ordered
        rep.update(dict.fromkeys(ordered, ordered[0]))
    merged = nx.Graph()
    merged.add_nodes_from((r, {"size": float(sum(graph.nodes[n]["size"] for n in members[r]))})
                          for r in graph if rep[r] == r)
    for u, v, data in graph.edges(data=True):
        a, b = rep[u], rep[v]
        if a == b:
            continue
        if merged.has_edge(a, b):
            merged.edges[a, b]["pipes"] = merged.edges[a, b]["pipes"] + list(data["pipes"])
            merged.edges[a, b]["weight"] += data["weight"]
        else:
            merged.add_edge(a, b, pipes=list(data["pipes"]), weight=data["weight"])
    return merged, members


def ordered_subgraph(graph: nx.Graph, nodes: set[str] | frozenset[str]) -> nx.Graph:
    """Return the subgraph on ``nodes``, nodes and edges in the parent graph's order.

    ``graph.subgraph(nodes)`` of a small node set lists its nodes in the set's (hash) order,
    and Louvain's result depends on that order: this keeps a design the same in every
    process for the same seed.
    """
    keep = nodes if isinstance(nodes, set | frozenset) else set(nodes)
    sub = nx.Graph()
    sub.add_nodes_from((n, graph.nodes[n]) for n in graph if n in keep)
    sub.add_edges_from((u, v, d) for u in sub for v, d in graph.adj[u].items() if v in keep)
    return sub


def _size(graph: nx.Graph, nodes: set[str] | frozenset[str]) -> float:
    return float(sum(graph.nodes[n]["size"] for n in nodes))


def _split(graph: nx.Graph, part: set[str], max_size: float, seed: int) -> list[set[str]]:
    """Split a part until every piece is at most ``max_size`` (recursively)."""
    if _size(graph, part) <= max_size or len(part) < 2:
        return [part]
    sub = ordered_subgraph(graph, part)
    if not nx.is_connected(sub):
        return [q for c in nx.connected_components(sub) for q in _split(graph, set(c), max_size, seed)]
    pieces: list[set[str]] = []
    for resolution in (2.0, 4.0):
        found = nx.community.louvain_communities(sub, weight="weight", resolution=resolution, seed=seed)
        if len(found) > 1:
            pieces = [set(c) for c in found]
            break
    if not pieces:
        pieces = bisect_graph(sub)
    return [q for piece in pieces for q in _split(graph, piece, max_size, seed)]


def bisect_graph(sub: nx.Graph, share: float = 0.5) -> list[set[str]]:
    """Split a connected graph in two along its Fiedler vector.

    The first part holds ``share`` of the size (0.5: at the size-weighted median).
    """
    nodes = sorted(sub.nodes)
    if len(nodes) < 3:
        return [{nodes[0]}, set(nodes[1:])]
    lap = nx.laplacian_matrix(sub, nodelist=nodes, weight=None).astype(float)
    try:
        # a fixed start vector: ARPACK's default is random, and the same network must split the same way
        start = np.random.default_rng(0).random(len(nodes))
        _, vecs = scipy.sparse.linalg.eigsh(lap, k=2, sigma=-1e-3, which="LM", v0=start)
        fiedler = vecs[:, 1]
    except Exception:
        visit = {n: i for i, n in enumerate(nx.bfs_tree(sub, nodes[0]))}
        fiedler = np.array([visit[n] for n in nodes], dtype=float)
    order = np.argsort(fiedler, kind="stable")
    sizes = np.array([sub.nodes[nodes[i]]["size"] for i in order])
    cumulative = np.cumsum(sizes)
    cut = int(np.searchsorted(cumulative, cumulative[-1] * share)) + 1
    cut = min(max(cut, 1), len(nodes) - 1)
    return [{nodes[i] for i in order[:cut]}, {nodes[i] for i in order[cut:]}]


def _connected_pieces(graph: nx.Graph, parts: list[set[str]]) -> list[set[str]]:
    out: list[set[str]] = []
    for part in parts:
        out.extend(set(c) for c in nx.connected_components(ordered_subgraph(graph, part)))
    return out


def _neighbour_links(graph: nx.Graph, parts: list[set[str]], label: dict[str, int], k: int
                     ) -> dict[int, int]:
    """Count the pipes from part ``k`` to each neighbouring part."""
    links: dict[int, int] = {}
    for node in parts[k]:
        for other in graph.neighbors(node):
            j = label[other]
            if j != k:
                links[j] = links.get(j, 0) + len(graph.edges[node, other]["pipes"])
    return links


def _labels(parts: list[set[str]]) -> dict[str, int]:
    return {n: k for k, part in enumerate(parts) for n in part}


#: A part below the band that no neighbour can take within the band may make its neighbour this
#: much larger than the band's maximum (a DMA somewhat above the band beats an area in none).
OVERSIZE = 1.5


def _merge_small(graph: nx.Graph, parts: list[set[str]], min_size: float, max_size: float
                 ) -> list[set[str]]:
    """Merge parts below ``min_size`` into the neighbour sharing most pipes.

    Within the band when a neighbour fits. Else the smallest neighbour takes it up to
    ``OVERSIZE`` times the maximum, and the union is cut again in two connected parts at its
    Fiedler median when both fall in the band (the small part's junctions then sit in an
    in-band DMA with some of the neighbour's); only when no such cut exists does the union stay
    above the band. A part with no neighbour that fits stays as it is (a DMA below the band,
    warned).
    """
    parts = [set(p) for p in parts]
    stuck: set[frozenset[str]] = set()
    while True:
        sizes = [_size(graph, p) for p in parts]
        small = [k for k, s in enumerate(sizes) if s < min_size and frozenset(parts[k]) not in stuck]
        if not small:
            return parts
        k = min(small, key=lambda i: (sizes[i], sorted(parts[i])[0]))
        label = _labels(parts)
        links = _neighbour_links(graph, parts, label, k)
        fits = [j for j in links if sizes[k] + sizes[j] <= max_size]
        if not fits:
            fits = [j for j in links if sizes[k] + sizes[j] <= OVERSIZE * max_size]
            fits = [min(fits, key=lambda i: (sizes[i], i))] if fits else []
        if not fits:
            stuck.add(frozenset(parts[k]))
            continue
        j = max(fits, key=lambda i: (links[i], -sizes[i], -i))
        union = parts[j] | parts[k]
        halves = _rebisect(graph, union, min_size, max_size) if sizes[k] + sizes[j] > max_size else None
        if halves is None:
            parts[j] = union
            del parts[k]
        else:
            parts[j], parts[k] = halves


def _rebisect(graph: nx.Graph, union: set[str], min_size: float, max_size: float
              ) -> tuple[set[str], set[str]] | None:
    """Cut ``union`` in two connected parts within the band at its Fiedler median, or None."""
    sub = ordered_subgraph(graph, union)
    if not nx.is_connected(sub):
        return None
    first, second = bisect_graph(sub)
    for half in (first, second):
        if not (min_size <= _size(graph, half) <= max_size and nx.is_connected(sub.subgraph(half))):
            return None
    return first, second


def _merge_neighbours(graph: nx.Graph, parts: list[set[str]], target: float) -> list[set[str]]:
    """Merge the neighbouring pair sharing most pipes while the union stays within ``target``."""
    parts = [set(p) for p in parts]
    while True:
        sizes = [_size(graph, p) for p in parts]
        label = _labels(parts)
        best: tuple[int, float, int, int] | None = None
        for k in range(len(parts)):
            for j, count in _neighbour_links(graph, parts, label, k).items():
                if j <= k or sizes[k] + sizes[j] > target:
                    continue
                key = (count, -(sizes[k] + sizes[j]), -k, -j)
                if best is None or key > (best[0], best[1], -best[2], -best[3]):
                    best = (count, -(sizes[k] + sizes[j]), k, j)
        if best is None:
            return parts
        _, _, k, j = best
        parts[k] |= parts[j]
        del parts[j]


def _refine(graph: nx.Graph, parts: list[set[str]], min_size: float, max_size: float,
            passes: int = 4) -> list[set[str]]:
    """Move boundary junctions to the side that removes boundary pipes (greedy, in the band)."""
    parts = [set(p) for p in parts]
    label = _labels(parts)
    sizes = [_size(graph, p) for p in parts]
    for _ in range(passes):
        moved = False
        for node in sorted(label):
            k = label[node]
            counts: dict[int, int] = {}
            for other in graph.neighbors(node):
                j = label.get(other)
                if j is not None:
                    counts[j] = counts.get(j, 0) + len(graph.edges[node, other]["pipes"])
            own = counts.get(k, 0)
            best = max(((c, j) for j, c in counts.items() if j != k), default=None)
            if best is None or best[0] <= own:
                continue
            j = best[1]
            w = graph.nodes[node]["size"]
            if sizes[k] - w < min_size or sizes[j] + w > max_size or len(parts[k]) == 1:
                continue
            rest = parts[k] - {node}
            if not nx.is_connected(graph.subgraph(rest)):
                continue
            parts[k].discard(node)
            parts[j].add(node)
            sizes[k] -= w
            sizes[j] += w
            label[node] = j
            moved = True
        if not moved:
            break
    return [p for p in parts if p]
