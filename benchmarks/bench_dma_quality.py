"""Benchmark: quality of nrwkit's DMA design against plain Louvain and METIS partitions.

For each network nrwkit's `dma.design` (sized by junctions, seed 0, no water age) is set
beside two plain partitions of the same junctions:

- Louvain: `networkx.community.louvain_communities(graph, seed=0)` (networkx's default
  `weight="weight"`, which on this graph is the summed pipe diameter), as many DMAs as it
  finds, no size band;
- METIS: `pymetis.part_graph(k, adjacency=...)` (unweighted), k = the number of DMAs of
  nrwkit's design, so the mean DMA size is the same.

The graph is `dma.distribution_network(...).graph` restricted to the junctions nrwkit puts
in DMAs (groups of junctions between transmission mains that are below the minimum size are
left in the transmission system by nrwkit, and left out of the baselines too), so all three
partition exactly the same junctions. Each baseline is evaluated twice, with the same
checks as nrwkit's design (`dma.from_assignment`, pressure-dependent demand, the whole day):

- "meter every cut": a meter on every open boundary pipe (nothing is closed, so pressure is
  unchanged; meters = pipes cut);
- "nrwkit's rule, no repair": `from_assignment(..., repair=False)`: one inlet meter per
  DMA on its main feed, every other boundary pipe closed, pressure failures left as they are.

Comparison rule: nrwkit is better than a baseline variant when it needs fewer meters AND its
lowest junction pressure at the peak hour after the closures is at least the baseline's minus
PRESSURE_TOL_M. Results go to stdout and benchmarks/results/dma-quality.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from importlib import metadata
from pathlib import Path

import networkx as nx
import pandas as pd
import pymetis
import wntr
from bench_dma import source_state
from bench_inspect import bwsn2_path

import nrwkit
from nrwkit import dma
from nrwkit.dma.divide import TRANSMISSION
from nrwkit.networks import load

RESULTS = Path(__file__).parent / "results" / "dma-quality.json"
MIN_PRESSURE = 15.0
MAX_INLETS = 2
PRESSURE_TOL_M = 0.1
#: Size band (junctions) and transmission diameter per network; the same for every method.
#: Most Net3 pipes are wider than 0.3 m, so no diameter rule there.
#: BWSN Network 2 peaks in its second day, 47 % above the first: two inlets cannot feed its
#: largest DMAs then (benchmarks/README.md), so it gets three, as in bench_dma.py.
NETWORKS: dict[str, dict[str, object]] = {
    "l-town": {"size": (50, 200), "exclude_diameter_above_m": 0.3, "max_inlets": MAX_INLETS},
    "net3": {"size": (10, 40), "exclude_diameter_above_m": None, "max_inlets": MAX_INLETS},
    "ky4": {"size": (50, 200), "exclude_diameter_above_m": 0.3, "max_inlets": MAX_INLETS},
    "bwsn2": {"size": (50, 400), "exclude_diameter_above_m": 0.3, "max_inlets": 3},
}
RULE = (f"nrwkit is better than a baseline when it needs fewer meters and its lowest junction pressure "
        f"at the peak hour after the closures is >= the baseline's - {PRESSURE_TOL_M:g} m")


def load_network(name: str) -> wntr.network.WaterNetworkModel:
    return wntr.network.WaterNetworkModel(str(bwsn2_path())) if name == "bwsn2" else load(name)


def induced(graph: nx.Graph, keep: set[str]) -> nx.Graph:
    """The subgraph on ``keep``, nodes and edges in ``graph``'s order.

    Not ``graph.subgraph(keep)``: a view on fewer than half the nodes iterates them in the
    set's (hash-seeded) order, and Louvain's result depends on that order.
    """
    out = nx.Graph()
    out.add_nodes_from((n, d) for n, d in graph.nodes(data=True) if n in keep)
    out.add_edges_from((a, b, d) for a, b, d in graph.edges(data=True) if a in keep and b in keep)
    return out


def louvain(graph: nx.Graph) -> pd.Series:
    parts = nx.community.louvain_communities(graph, seed=0)
    return _assignment(parts, "L")


def metis(graph: nx.Graph, k: int) -> pd.Series:
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    adjacency = [[index[v] for v in graph.neighbors(u)] for u in nodes]
    membership = pymetis.part_graph(k, adjacency=adjacency)[1] if k > 1 else [0] * len(nodes)
    groups: dict[int, set[str]] = {}
    for node, part in zip(nodes, membership, strict=True):
        groups.setdefault(int(part), set()).add(node)
    return _assignment([groups[p] for p in sorted(groups)], "M")


def _assignment(parts: list[set[str]], prefix: str) -> pd.Series:
    width = max(2, len(str(len(parts))))
    return pd.Series({j: f"{prefix}-{k + 1:0{width}d}" for k, part in enumerate(parts) for j in part},
                     dtype=object).sort_index()


def meter_every_cut(boundary: pd.DataFrame) -> pd.DataFrame:
    """Roles with a meter on every open boundary pipe, feeding the DMA at its end (or start)."""
    open_ = boundary[~boundary.existing]
    feeds = open_.dma_end.where(open_.dma_end != TRANSMISSION, open_.dma_start)
    return pd.DataFrame({"role": "meter", "feeds": feeds}, index=open_.index)


def row(method: str, variant: str, result: dma.DesignResult, seconds: float) -> dict[str, object]:
    design, evaluation = result
    m = evaluation.metrics
    sizes = design.dma_size()
    pieces = sum("pieces that no open distribution pipe joins" in w.message for w in design.warnings)
    unfed = sum("no open path to a tank or reservoir" in w.message for w in design.warnings)
    return {
        "method": method, "variant": variant,
        "n_dmas": m["n_dmas"], "size_min": int(sizes.min()), "size_max": int(sizes.max()),
        "boundary_pipes": int((~design.boundary.existing).sum()),
        "n_meters": m["n_meters"], "n_boundary_valves": m["n_boundary_valves"],
        "min_pressure_before_m": round(m["min_pressure_before_m"], 2),
        "min_pressure_after_m": round(m["min_pressure_after_m"], 2),
        "delivered_demand_fraction": round(m["delivered_demand_fraction"], 4),
        "failing_dmas": int((evaluation.dmas["problems"] != "").sum()),
        "transmission_problems": m.get("transmission_problems", ""),
        "passes": m["passes"],
        "disconnected_dmas": pieces, "unfed_dmas": unfed,
        "modularity": round(m["modularity"], 3),
        "seconds": round(seconds, 1),
    }


def compare(network: str, spec: dict[str, object]) -> dict[str, object]:
    wn = load_network(network)
    band = spec["size"]
    excl = spec["exclude_diameter_above_m"]
    common = {"size_by": "nodes", "max_inlets": spec["max_inlets"], "min_pressure_m": MIN_PRESSURE,
              "exclude_diameter_above_m": excl, "water_age": False}
    start = time.perf_counter()
    ours = dma.design(wn, size=band, seed=0, **common)
    rows = [row("nrwkit", "design (with repair)", ours, time.perf_counter() - start)]
    junctions = list(ours.design.assignment.index)
    dist = dma.distribution_network(wn, size_by="nodes", exclude_diameter_above_m=excl)
    graph = induced(dist.graph, set(junctions))
    k = ours.evaluation.metrics["n_dmas"]
    for method, assignment in (("louvain", louvain(graph)), (f"metis k={k}", metis(graph, k))):
        start = time.perf_counter()
        fair = dma.from_assignment(wn, assignment, repair=False, **common)
        t_fair = time.perf_counter() - start
        start = time.perf_counter()
        cut = dma.from_assignment(wn, assignment, roles=meter_every_cut(fair.design.boundary), **common)
        rows.append(row(method, "meter every cut", cut, time.perf_counter() - start))
        rows.append(row(method, "nrwkit's rule, no repair", fair, t_fair))
    base = rows[0]
    for r in rows[1:]:
        fewer = base["n_meters"] < r["n_meters"]
        pressure_ok = base["min_pressure_after_m"] >= r["min_pressure_after_m"] - PRESSURE_TOL_M
        r["nrwkit_fewer_meters"] = fewer
        r["nrwkit_pressure_at_least_as_good"] = pressure_ok
        r["nrwkit_better"] = fewer and pressure_ok
    return {"network": network, "junctions": wn.num_junctions, "pipes": wn.num_pipes,
            "size_band_junctions": list(band), "exclude_diameter_above_m": excl,
            "distribution_junctions": dist.graph.number_of_nodes(), "dma_junctions": len(junctions),
            "rows": rows}


def yes_no(value: object) -> str:
    return "" if value is None else ("yes" if value else "no")


def print_table(results: list[dict[str, object]]) -> None:
    head = (f"{'network':8} {'method':11} {'variant':25} {'DMAs':>4} {'sizes':>8} {'cut':>5} {'meters':>6} "
            f"{'valves':>6} {'min p before->after m':>21} {'delivered':>9} {'passes':>6} {'fewer':>5} "
            f"{'p >=':>4} {'better':>6}")
    print(head)
    print("-" * len(head))
    for res in results:
        for r in res["rows"]:
            sizes = f"{r['size_min']}-{r['size_max']}"
            press = f"{r['min_pressure_before_m']:.2f} -> {r['min_pressure_after_m']:.2f}"
            print(f"{res['network']:8} {r['method']:11} {r['variant']:25} {r['n_dmas']:4d} {sizes:>8} "
                  f"{r['boundary_pipes']:5d} {r['n_meters']:6d} {r['n_boundary_valves']:6d} {press:>21} "
                  f"{r['delivered_demand_fraction']:9.2%} {yes_no(r['passes']):>6} "
                  f"{yes_no(r.get('nrwkit_fewer_meters')):>5} "
                  f"{yes_no(r.get('nrwkit_pressure_at_least_as_good')):>4} "
                  f"{yes_no(r.get('nrwkit_better')):>6}")
    print("cut = open boundary pipes; min p = lowest junction pressure at the peak hour; passes = the "
          "checks find no junction the design pushes below 15 m (in a DMA or in transmission)")
    print(f"fewer = nrwkit needs fewer meters; p >= = nrwkit's min p after >= the baseline's - "
          f"{PRESSURE_TOL_M:g} m; better = both ({RULE})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", choices=list(NETWORKS), default=list(NETWORKS),
                        help="networks to compare (default: all; bwsn2 takes most of the time)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="result file (JSON)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    src_start = source_state()
    start = time.perf_counter()
    results = []
    for name in args.networks:
        results.append(compare(name, NETWORKS[name]))
        print(f"{name}: done after {time.perf_counter() - start:.0f} s", flush=True)
    total = time.perf_counter() - start
    print_table(results)
    print(f"total {total:.0f} s")
    record = {
        "benchmark": "DMA design quality: nrwkit against Louvain and METIS partitions",
        "rule": RULE, "pressure_tolerance_m": PRESSURE_TOL_M,
        "settings": {"size_by": "nodes", "max_inlets": {n: v["max_inlets"] for n, v in NETWORKS.items()},
                     "min_pressure_m": MIN_PRESSURE,
                     "seed": 0, "water_age": False, "demand_model": "PDD"},
        "networks": results,
        "total_s": round(total, 1),
        "source": src_start,
        "source_changed_during_run": source_state() != src_start,
        "pythonhashseed": os.environ.get("PYTHONHASHSEED", "random"),
        "nrwkit": nrwkit.__version__, "wntr": wntr.__version__, "networkx": nx.__version__,
        "pymetis": metadata.version("pymetis"),
        "python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
