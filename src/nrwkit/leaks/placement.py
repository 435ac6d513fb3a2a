"""Pressure logger placement: choose loggers that make leaks distinguishable.

Two leaks are hard to tell apart when their normalised signatures at the loggers are nearly
parallel (DOMAIN.md section 7). For a set of loggers, the *expected search area* is the mean,
over a sample of possible leaks, of the mains length a crew must survey to hold the stated
probability, with the leak seen through the loggers' noise:

- the signature of leak ``j`` of flow ``f`` is ``f s_j`` (metres at each logger, from the
  linearised system, :func:`nrwkit.leaks.sensitivity_matrix`), the loggers' noise ``sigma``;
- the probability that a leak seen as ``f s_j`` is at ``k`` follows the least-squares misfit
  of ``s_k`` to it: ``p(k | j) ~ exp(-0.5 f^2 (|s_j|^2 - <s_j, s_k>^2 / |s_k|^2) / sigma^2)``;
- the search area of ``j`` is the pipes around the most probable candidates up to the stated
  probability.

Loggers are added greedily, each time the one (of a seeded sample of the candidates on large
networks) that most lowers the expected search area, which is also the figure of merit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import wntr

from ..errors import InputError
from .sensitivity import sensitivity_matrix

__all__ = ["Placement", "expected_search_area", "place_loggers", "spread_loggers"]


@dataclass(frozen=True)
class Placement:
    """Chosen loggers and how well they localise, against random and evenly spread loggers.

    Attributes
    ----------
    loggers : list of str
        The chosen junctions, in the order the greedy search added them.
    expected_search_km : float
        Expected search area (km of mains) with these loggers.
    random_km : float
        The same for ``count`` random loggers (mean over a few seeded draws).
    spread_km : float
        The same for ``count`` loggers spread evenly over the network (farthest points).
    spread_loggers : list of str
        The evenly spread loggers.
    """

    loggers: list[str]
    expected_search_km: float
    random_km: float
    spread_km: float
    spread_loggers: list[str]


def _node_lengths(wn: wntr.network.WaterNetworkModel, nodes: Sequence[str]) -> np.ndarray:
    """Half the length of the pipes at each node, km (the mains a crew walks around it)."""
    km = dict.fromkeys(nodes, 0.0)
    for _, pipe in wn.pipes():
        for end in (pipe.start_node_name, pipe.end_node_name):
            if end in km:
                km[end] += pipe.length / 2000.0
    return np.array([km[n] for n in nodes])


def _posterior(sig: np.ndarray, leaks: np.ndarray, flow: float, sigma: float) -> np.ndarray:
    """p(k | j) for sampled leaks j (rows) over candidates k (columns); ``sig`` sensors x J."""
    norms = (sig ** 2).sum(axis=0)
    cross = sig[:, leaks].T @ sig  # (L, J)
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = np.where(norms[None, :] > 0, cross ** 2 / norms[None, :], 0.0)
    misfit = (flow / sigma) ** 2 * (norms[leaks][:, None] - fit)
    log_p = -0.5 * misfit
    log_p -= log_p.max(axis=1, keepdims=True)
    p = np.exp(log_p)
    return p / p.sum(axis=1, keepdims=True)


def expected_search_area(sig: np.ndarray, leaks: np.ndarray, lengths: np.ndarray, *, flow_m3s: float,
                         sigma_m: float, probability: float = 0.9) -> float:
    """Return the expected km of mains to survey to hold ``probability``, over the sampled leaks.

    ``sig`` are the pressure signatures per unit leak flow, ``flow_m3s`` the leak flow and
    ``sigma_m`` the loggers' noise (standard deviation).
    """
    post = _posterior(sig, leaks, flow_m3s, sigma_m)
    order = np.argsort(-post, axis=1)
    sorted_p = np.take_along_axis(post, order, axis=1)
    count = (np.cumsum(sorted_p, axis=1) < probability).sum(axis=1) + 1
    sorted_len = np.take_along_axis(np.broadcast_to(lengths, post.shape), order, axis=1)
    keep = np.arange(post.shape[1])[None, :] < count[:, None]
    return float((sorted_len * keep).sum(axis=1).mean())


def spread_loggers(wn: wntr.network.WaterNetworkModel, pool: Sequence[str], count: int,
                   seed: int) -> list[str]:
    """Return ``count`` junctions of ``pool`` spread over the map (farthest-point from a seeded start).

    Each next logger is the junction farthest from those chosen, by coordinates.
    """
    return _spread(wn, list(pool), count, seed)


def _spread(wn: wntr.network.WaterNetworkModel, pool: list[str], count: int, seed: int) -> list[str]:
    xy = np.array([wn.get_node(n).coordinates for n in pool], dtype=float)
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(len(pool)))]
    dist = np.linalg.norm(xy - xy[chosen[0]], axis=1)
    while len(chosen) < count:
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(xy - xy[nxt], axis=1))
    return [pool[i] for i in chosen]


def place_loggers(
    wn: wntr.network.WaterNetworkModel,
    count: int,
    *,
    candidates: Sequence[str] | None = None,
    existing: Sequence[str] = (),
    leak_flow_m3s: float = 0.002,
    noise_m: float = 0.05,
    probability: float = 0.9,
    sample: int = 100,
    time_s: int | None = None,
    seed: int = 0,
    max_tries: int = 120,
) -> Placement:
    """Choose ``count`` logger junctions that make leaks most distinguishable.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    count : int
        Loggers to place.
    candidates : sequence of str, optional
        Junctions where a logger can go (hydrants, valve chambers); default every junction.
    existing : sequence of str
        Loggers already installed, kept.
    leak_flow_m3s : float
        The leak size to design for (2 l/s by default).
    noise_m : float
        The loggers' noise, m.
    probability : float
        What a search area must hold.
    sample : int
        Leaks sampled (seeded) to average over.
    time_s : int, optional
        When to linearise; default the time of peak demand (largest signatures).
    seed : int
        Seed of the leak sample, the random baseline and the spread baseline's start.
    max_tries : int
        Candidates tried at each greedy step (a seeded sample when there are more).

    Returns
    -------
    Placement
    """
    junctions = list(wn.junction_name_list)
    pool = list(dict.fromkeys(candidates)) if candidates is not None else junctions
    unknown = sorted(set(pool) - set(junctions)) + sorted(set(existing) - set(junctions))
    if unknown:
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise InputError(f"logger candidates {', '.join(map(repr, unknown[:5]))}{more} are not junctions of "
                         "the network\n  fix: give candidates and existing loggers as junction ids of the "
                         "network's [JUNCTIONS]")
    if not [c for c in pool if c not in set(existing)]:
        raise InputError("no junction where a new logger can go: the candidates are empty, already loggers, "
                         "or the network has no junctions\n  fix: give at least one candidate junction id "
                         "without a logger")
    free = [c for c in pool if c not in set(existing)]
    if not 0 < count <= len(free):
        raise InputError(f"count={count}: there are {len(free)} candidate junction(s) without a logger, so "
                         f"between 1 and {len(free)} loggers can be placed\n  fix: lower the count, or give "
                         "more candidates")
    from ..hydraulics import peak_demand_time

    when = peak_demand_time(wn) if time_s is None else int(time_s)
    # sensitivity of every junction to every junction (G is symmetric without active valves;
    # computed row by row for the candidates anyway, one solve each)
    rows = sensitivity_matrix(wn, sorted(set(pool) | set(existing)), when)
    assert isinstance(rows, pd.DataFrame)
    rows = rows.reindex(columns=junctions).fillna(0.0)
    rng = np.random.default_rng(seed)
    leaks = rng.choice(len(junctions), size=min(sample, len(junctions)), replace=False)
    lengths = _node_lengths(wn, junctions)
    chosen = list(existing)

    def area(names: list[str]) -> float:
        return expected_search_area(rows.loc[names].to_numpy(), leaks, lengths, flow_m3s=leak_flow_m3s,
                                    sigma_m=noise_m, probability=probability)

    # each step tries a seeded sample of the candidates (all of them on small networks)
    tries = max_tries if len(pool) > max_tries else len(pool)
    while len(chosen) < len(existing) + count:
        free = [c for c in pool if c not in chosen]
        trial = list(rng.choice(free, size=min(tries, len(free)), replace=False))
        best = min(trial, key=lambda c: (area([*chosen, c]), c))
        chosen.append(best)

    randoms = [area([*existing, *rng.choice([c for c in pool if c not in existing], size=count,
                                             replace=False)]) for _ in range(5)]
    spread = _spread(wn, [c for c in pool if c not in existing], count, seed)
    return Placement(loggers=[str(c) for c in chosen[len(existing):]], expected_search_km=area(chosen),
                     random_km=float(np.mean(randoms)), spread_km=area([*existing, *spread]),
                     spread_loggers=[str(c) for c in spread])
