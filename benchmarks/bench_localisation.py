"""Benchmark: leak localisation on seeded cases, against a ceiling and a baseline.

Per network, N seeded cases from :func:`nrwkit.leaks.cases.make_case` (one abrupt leak of
1-4 l/s at a seeded junction, starting at a seeded hour in the first half of a 24 h run read
every 15 min; the true network's demands off the model by a seeded 5 % multiplicative
error; logger noise 0.05 m, quantisation 0.01 m). Every method gets the nominal model and the
readings of the WINDOW_H hours from the leak's start (the window is given: detection is not
judged here).

- nrwkit: :func:`nrwkit.leaks.locate` with its default method (and each ``--methods`` value).
- nearest logger: the junction nearest (along pipes) the logger with the largest mean
  pressure drop against the nominal model; its top-10 are the 10 junctions nearest to it.
- ceiling: exhaustive re-simulation of every candidate with the same data:
  :func:`nrwkit.leaks.locate` with ``resimulate`` = every junction, so that every candidate
  whose linear fit is plausible is run again through the full non-linear model on one open
  :class:`nrwkit.hydraulics.HydraulicSession` (its leak from the window's start, tanks
  draining as they would) and ranked on that residual with the same covariance. Cost: one
  extended-period run per candidate per case.

Measures per network and method: top-1 and top-10 hit rate, median distance along pipes
(shortest path weighted by pipe length, networkx) from the best candidate to the leak,
search-area coverage (share of cases whose 90 % search area holds the leak, over every case
and over the cases locate answers; nrwkit only) and its mean length, the cases it declines
(no answer) and those it answers with an area that misses the leak, and time per case.
Targets (PASS/FAIL): nrwkit median distance
<= 1.25 x the ceiling's, nrwkit top-10 hits >= the ceiling's - 1, coverage within 10 points
of 90 %. Written to ``results/localisation.md`` and ``results/localisation.json``.

Sensors: L-Town's 33 BattLeDIM pressure sensors; elsewhere a seeded farthest-point spread
along pipes (about one logger per 30 junctions, 6 to 20).

Run from the repository root: ``.venv/bin/python benchmarks/bench_localisation.py``
(``--networks net3 ky4``, ``--cases 4``, ``--methods least-squares correlation``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import wntr

from nrwkit.errors import InputError
from nrwkit.leaks import locate
from nrwkit.leaks.cases import LocalisationCase, make_case
from nrwkit.leaks.model import simulate_leaks
from nrwkit.networks import load

HOUR = 3600
STEP_S = 900
WINDOW_H = 4
RESULTS = Path(__file__).resolve().parent / "results"
EPYT = Path(wntr.__file__).resolve().parents[1] / "epyt" / "networks" / "asce-tf-wdst"
#: The 33 pressure sensors of BattLeDIM 2020 on L-Town (as in tests/test_leaks_locate.py).
BATTLEDIM = ("n1 n4 n31 n54 n105 n114 n163 n188 n215 n229 n288 n296 n332 n342 n410 n415 n429 n458 n469 "
             "n495 n506 n516 n519 n549 n613 n636 n644 n679 n722 n726 n740 n752 n769").split()
NETWORKS = ("l-town", "net3", "ky4", "ky3", "ky7", "balerma")
EPYT_FILES = {"ky3": "ky3.inp", "ky7": "ky7.inp", "balerma": "Balerma.inp"}


def load_network(name: str) -> wntr.network.WaterNetworkModel:
    """Load a bundled network or one of the public epyt networks named in EPYT_FILES."""
    if name in EPYT_FILES:
        return load(EPYT / EPYT_FILES[name])
    return load(name)


def length_graph(wn: wntr.network.WaterNetworkModel) -> nx.Graph:
    """Undirected graph, each edge weighted by its pipe's length (0 for pumps and valves)."""
    graph = nx.Graph()
    for _, link in wn.links():
        length = float(link.length) if link.link_type == "Pipe" else 0.0
        a, b = link.start_node_name, link.end_node_name
        if graph.has_edge(a, b):
            length = min(length, graph.edges[a, b]["length"])
        graph.add_edge(a, b, length=length)
    return graph


def spread_sensors(wn: wntr.network.WaterNetworkModel, graph: nx.Graph, count: int, seed: int) -> list[str]:
    """Seeded farthest-point spread of ``count`` logger junctions along pipes."""
    junctions = list(wn.junction_name_list)
    rng = np.random.default_rng(seed)
    chosen = [str(junctions[int(rng.integers(0, len(junctions)))])]
    dist = dict(nx.single_source_dijkstra_path_length(graph, chosen[0], weight="length"))
    while len(chosen) < count:
        best = max(junctions, key=lambda n: (dist.get(n, -1.0), n))
        chosen.append(best)
        for node, d in nx.single_source_dijkstra_path_length(graph, best, weight="length").items():
            dist[node] = min(dist.get(node, np.inf), d)
    return chosen


def ceiling(case: LocalisationCase, window: tuple[int, int], candidates: list[str]) -> list[str]:
    """Rank every candidate on its own non-linear re-simulation (see the module)."""
    loc = locate(case.nominal, case.readings, case.sensors, window=window, resimulate=len(candidates))
    return [str(n) for n in loc.candidates["node"]]


def nearest_logger(case: LocalisationCase, nominal_eps: pd.DataFrame, nearest: dict[str, list[str]]
                   ) -> list[str]:
    """The 10 junctions nearest the logger with the largest mean pressure drop in the window."""
    start, end = case.leak_start_s, case.leak_start_s + WINDOW_H * HOUR
    window = case.readings.loc[start:end]
    drop = (nominal_eps.loc[window.index, case.sensors] - window).mean()
    return nearest[str(drop.idxmax())]


def score(ranked: list[str], truth: str, dist: dict[str, float], area: dict[str, Any] | None
          ) -> dict[str, Any]:
    """Hits, distance of the best candidate, search-area coverage for one case."""
    row: dict[str, Any] = {
        "top1": bool(ranked and ranked[0] == truth),
        "top10": truth in ranked[:10],
        "distance_m": float(dist.get(ranked[0], max(dist.values())) if ranked else max(dist.values())),
    }
    if area is not None:
        row["covered"] = truth in set(area.get("nodes", []))
        row["area_km"] = float(area.get("length_km", float("nan")))
    return row


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rates and medians over the cases of one method."""
    out: dict[str, Any] = {
        "cases": len(rows),
        "top1": float(np.mean([r["top1"] for r in rows])),
        "top10": float(np.mean([r["top10"] for r in rows])),
        "top10_hits": int(sum(r["top10"] for r in rows)),
        "median_distance_m": float(statistics.median(r["distance_m"] for r in rows)),
        "seconds_per_case": float(np.mean([r["seconds"] for r in rows])),
        "errors": int(sum("error" in r for r in rows)),
    }
    if rows and "covered" in rows[0]:
        out["coverage"] = float(np.mean([r["covered"] for r in rows]))
        out["mean_area_km"] = float(np.mean([r["area_km"] for r in rows]))
        answered = [r for r in rows if r.get("answered")]
        out["no_answer"] = 1.0 - len(answered) / len(rows)
        # answered with a search area that misses the leak: what sends a crew to the wrong street
        out["answered_and_wrong"] = int(sum(not r["covered"] for r in answered))
        if answered:
            out["coverage_answered"] = float(np.mean([r["covered"] for r in answered]))
    return out


def run_network(name: str, n_cases: int, methods: list[str]) -> dict[str, Any]:
    """All cases of one network, every method."""
    wn = load_network(name)
    graph = length_graph(wn)
    junctions = list(wn.junction_name_list)
    if name == "l-town":
        sensors = BATTLEDIM
    else:
        sensors = spread_sensors(wn, graph, int(np.clip(round(len(junctions) / 30), 6, 20)), seed=11)
    junction_set = set(junctions)
    nearest: dict[str, list[str]] = {}
    for s in sensors:
        d = nx.single_source_dijkstra_path_length(graph, s, weight="length")
        ordered = sorted(d.items(), key=lambda kv: (kv[1], kv[0]))
        nearest[s] = [n for n, _ in ordered if n in junction_set][:10]
    rows: dict[str, list[dict[str, Any]]] = {m: [] for m in ["nrwkit:" + m for m in methods]}
    rows["nearest-logger"] = []
    rows["ceiling"] = []
    cases_out = []
    nominal_eps: pd.DataFrame | None = None
    started = time.perf_counter()
    for k in range(n_cases):
        case = make_case(wn, sensors, seed=1000 + k)
        if nominal_eps is None:
            nominal_eps = simulate_leaks(case.nominal, []).pressure_m
        assert nominal_eps is not None
        dist = dict(nx.single_source_dijkstra_path_length(graph, case.leak_node, weight="length"))
        window = (case.leak_start_s, case.leak_start_s + WINDOW_H * HOUR)
        for method in methods:
            t0 = time.perf_counter()
            try:
                loc = locate(case.nominal, case.readings, sensors, method=method, window=window,
                             probability=0.9)
            except InputError as exc:  # counted as a miss at the farthest junction, area empty
                row = {**score([], case.leak_node, dist, {"nodes": [], "length_km": 0.0}), "error": str(exc)}
            else:
                row = score([str(n) for n in loc.candidates["node"]], case.leak_node, dist, loc.search_area)
                row["answered"] = bool(loc.separable)
            rows["nrwkit:" + method].append({**row, "seconds": time.perf_counter() - t0})
        t0 = time.perf_counter()
        ranked = nearest_logger(case, nominal_eps, nearest)
        rows["nearest-logger"].append({**score(ranked, case.leak_node, dist, None),
                                       "seconds": time.perf_counter() - t0})
        t0 = time.perf_counter()
        try:
            ranked = ceiling(case, window, junctions)
        except InputError:
            ranked = []
        seconds = time.perf_counter() - t0
        rows["ceiling"].append({**score(ranked, case.leak_node, dist, None), "seconds": seconds})
        sys.stderr.write(f"{name} case {k + 1}/{n_cases}: leak at {case.leak_node}, "
                         f"{time.perf_counter() - started:.0f} s\n")
        cases_out.append({"seed": case.seed, "node": case.leak_node, "flow_m3h": case.leak_flow_m3h,
                          "start_s": case.leak_start_s})
    summary = {m: summarise(r) for m, r in rows.items()}
    return {"network": name, "junctions": len(junctions), "sensors": len(sensors), "cases": cases_out,
            "summary": summary, "targets": targets(summary, "nrwkit:" + methods[0])}


def targets(summary: dict[str, Any], main: str) -> dict[str, Any]:
    """PASS/FAIL of the three targets for nrwkit's default method."""
    ours, ceil = summary[main], summary["ceiling"]
    return {
        "distance": ours["median_distance_m"] <= 1.25 * ceil["median_distance_m"],
        "top10": ours["top10_hits"] >= ceil["top10_hits"] - 1,
        "coverage": abs(ours.get("coverage", 0.0) - 0.9) <= 0.1,
    }


def table(results: list[dict[str, Any]]) -> str:
    """Markdown table of every network and method."""
    lines = ["| network | method | cases | top-1 | top-10 | median dist m | coverage 90 % "
             "| coverage, answered | mean area km | no answer | answered, area misses | s/case | errors "
             "| targets |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for res in results:
        for method, s in res["summary"].items():
            verdict = ""
            if method.startswith("nrwkit:") and method == next(iter(res["summary"])):
                t = res["targets"]
                verdict = ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in t.items())
            cov = f"{s['coverage']:.0%}" if "coverage" in s else "-"
            cov_answered = f"{s['coverage_answered']:.0%}" if "coverage_answered" in s else "-"
            area = f"{s['mean_area_km']:.2f}" if "mean_area_km" in s else "-"
            none_ = f"{s['no_answer']:.0%}" if "no_answer" in s else "-"
            wrong = str(s["answered_and_wrong"]) if "answered_and_wrong" in s else "-"
            lines.append(f"| {res['network']} ({res['junctions']} j, {res['sensors']} loggers) | {method} "
                         f"| {s['cases']} | {s['top1']:.0%} | {s['top10']:.0%} "
                         f"| {s['median_distance_m']:.0f} "
                         f"| {cov} | {cov_answered} | {area} | {none_} | {wrong} "
                         f"| {s['seconds_per_case']:.2f} "
                         f"| {s['errors']} | {verdict} |")
    return "\n".join(lines)


def write_atomically(path: Path, text: str) -> None:
    """Write a file through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", nargs="+", choices=NETWORKS, default=list(NETWORKS),
                        help="only the networks this benchmark is written for")
    parser.add_argument("--cases", type=int, default=16)
    parser.add_argument("--methods", nargs="*", default=[], help="locate methods beside the default (bayes)")
    args = parser.parse_args(argv)
    methods = ["bayes"] + [m for m in args.methods if m != "bayes"]
    t0 = time.perf_counter()
    results = [run_network(name, args.cases, methods) for name in args.networks]
    total = time.perf_counter() - t0
    text = table(results)
    sys.stdout.write(text + f"\n\ntotal {total:.0f} s\n")
    command = "benchmarks/bench_localisation.py " + " ".join(argv if argv is not None else sys.argv[1:])
    write_atomically(RESULTS / "localisation.md",
                     f"# Leak localisation on seeded cases\n\n`{command.strip()}`, {total:.0f} s in all.\n\n"
                     + text + "\n")
    write_atomically(RESULTS / "localisation.json",
                     json.dumps({"command": command.strip(), "seconds": total, "window_h": WINDOW_H,
                                 "networks": results}, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
