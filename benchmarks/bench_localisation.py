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
(``--networks net3 ky4``, ``--cases 4``, ``--methods least-squares correlation``). The cases are
an ensemble (:func:`nrwkit.ensemble.run`, one task per case): a process pool of the machine's
cores by default, ``--workers N``, or a Dask cluster with ``--scheduler local:4`` or
``--scheduler tcp://HOST:PORT``; ``--out DIR`` keeps each case's result so that a stopped run
resumes.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import wntr

from nrwkit.ensemble import Task, run
from nrwkit.errors import InputError
from nrwkit.leaks import locate, read_readings
from nrwkit.leaks.cases import make_case, prepare_period
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


def ceiling(case: Scenario, window: tuple[int, int], candidates: list[str]) -> list[str]:
    """Rank every candidate on its own non-linear re-simulation (see the module)."""
    loc = locate(case.nominal, case.readings, case.sensors, window=window, resimulate=len(candidates))
    return [str(n) for n in loc.candidates["node"]]


def nearest_logger(case: Scenario, nominal_eps: pd.DataFrame, nearest: dict[str, list[str]]
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


@dataclass(frozen=True)
class _Setup:
    """What every case of a network shares (made once per worker process)."""

    wn: wntr.network.WaterNetworkModel
    graph: nx.Graph
    junctions: list[str]


@dataclass(frozen=True)
class Scenario:
    """What the methods are given of one case, and its truth."""

    nominal: wntr.network.WaterNetworkModel
    readings: pd.DataFrame
    sensors: list[str]
    leak_node: str
    leak_start_s: int
    leak_flow_m3h: float


@functools.lru_cache(maxsize=2)
def network_setup(name: str) -> _Setup:
    """The network and its length graph."""
    wn = load_network(name)
    return _Setup(wn, length_graph(wn), list(wn.junction_name_list))


@functools.lru_cache(maxsize=2)
def bench_sensors(name: str) -> tuple[str, ...]:
    """L-Town's BattLeDIM loggers; elsewhere about one per 30 junctions (6 to 20), spread along pipes."""
    if name == "l-town":
        return BATTLEDIM
    setup = network_setup(name)
    count = int(np.clip(round(len(setup.junctions) / 30), 6, 20))
    return tuple(spread_sensors(setup.wn, setup.graph, count, seed=11))


@functools.lru_cache(maxsize=4)
def nearest_junctions(name: str, sensors: tuple[str, ...]) -> dict[str, list[str]]:
    """The 10 junctions nearest each logger along pipes."""
    setup = network_setup(name)
    junction_set = set(setup.junctions)
    nearest: dict[str, list[str]] = {}
    for s in sensors:
        d = nx.single_source_dijkstra_path_length(setup.graph, s, weight="length")
        ordered = sorted(d.items(), key=lambda kv: (kv[1], kv[0]))
        nearest[s] = [n for n, _ in ordered if n in junction_set][:10]
    return nearest


@functools.lru_cache(maxsize=4)
def _nominal_pressures(name: str, duration_s: int, report_step_s: int) -> pd.DataFrame:
    nominal = prepare_period(network_setup(name).wn, duration_s, report_step_s)
    return simulate_leaks(nominal, []).pressure_m


def score_methods(name: str, case: Scenario, methods: list[str]) -> dict[str, dict[str, Any]]:
    """Every method's score row on one case: ``nrwkit:<method>``, ``nearest-logger``, ``ceiling``."""
    setup = network_setup(name)
    end = int(case.readings.index.max())
    step = int(case.readings.index[1] - case.readings.index[0])
    nominal_eps = _nominal_pressures(name, end, step)
    dist = dict(nx.single_source_dijkstra_path_length(setup.graph, case.leak_node, weight="length"))
    window = (case.leak_start_s, case.leak_start_s + WINDOW_H * HOUR)
    scores: dict[str, dict[str, Any]] = {}
    for method in methods:
        t0 = time.perf_counter()
        try:
            loc = locate(case.nominal, case.readings, case.sensors, method=method, window=window,
                         probability=0.9)
        except InputError as exc:  # counted as a miss at the farthest junction, area empty
            row = {**score([], case.leak_node, dist, {"nodes": [], "length_km": 0.0}), "error": str(exc)}
        else:
            row = score([str(n) for n in loc.candidates["node"]], case.leak_node, dist, loc.search_area)
            row["answered"] = bool(loc.separable)
        scores["nrwkit:" + method] = {**row, "seconds": time.perf_counter() - t0}
    t0 = time.perf_counter()
    ranked = nearest_logger(case, nominal_eps, nearest_junctions(name, tuple(case.sensors)))
    scores["nearest-logger"] = {**score(ranked, case.leak_node, dist, None),
                                "seconds": time.perf_counter() - t0}
    t0 = time.perf_counter()
    try:
        ranked = ceiling(case, window, setup.junctions)
    except InputError:
        ranked = []
    seconds = time.perf_counter() - t0
    scores["ceiling"] = {**score(ranked, case.leak_node, dist, None), "seconds": seconds}
    return scores


def _row(case: Scenario, scores: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"node": case.leak_node, "flow_m3h": case.leak_flow_m3h, "start_s": case.leak_start_s,
            "scores": json.dumps(scores)}


def run_case(*, network: str, seed: int, methods: list[str]) -> dict[str, Any]:
    """One seeded case of :func:`nrwkit.leaks.cases.make_case`, every method (an ensemble task).

    Returns a plain row: ``node``, ``flow_m3h``, ``start_s`` and ``scores``, the JSON text of
    ``{method: score row}``.
    """
    setup = network_setup(network)
    made = make_case(setup.wn, list(bench_sensors(network)), seed=seed)
    case = Scenario(made.nominal, made.readings, made.sensors, made.leak_node, made.leak_start_s,
                    made.leak_flow_m3h)
    return _row(case, score_methods(network, case, methods))


def read_library_case(folder: Path) -> tuple[str, Scenario]:
    """A scenario of a library written by ``nrwkit ensemble leaks``: its network and the case."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    readings = read_readings(folder / "readings.parquet").values
    nominal = prepare_period(network_setup(truth["network"]).wn, int(truth["duration_s"]),
                             int(truth["report_step_s"]))
    return truth["network"], Scenario(nominal, readings, list(truth["loggers"]), str(truth["node"]),
                                      int(truth["start_s"]), float(truth["flow_m3h"]))


def run_library_case(*, folder: str, seed: int, methods: list[str]) -> dict[str, Any]:
    """One scenario of a leak library (``nrwkit ensemble leaks``), every method (an ensemble task)."""
    network, case = read_library_case(Path(folder))
    return _row(case, score_methods(network, case, methods))


def run_network(name: str, n_cases: int, methods: list[str], executor: str | None = None,
                workers: int | None = None, out: Path | None = None) -> dict[str, Any]:
    """All seeded cases of one network, every method: an ensemble of :func:`run_case` tasks."""
    tasks = [Task(f"{name}-{k:04d}", "bench_localisation:run_case", {"network": name, "methods": methods},
                  seed=1000 + k) for k in range(n_cases)]
    setup = network_setup(name)
    return run_cases(name, tasks, len(setup.junctions), len(bench_sensors(name)), executor, workers, out)


def run_library(library: Path, methods: list[str], executor: str | None = None, workers: int | None = None,
                out: Path | None = None) -> dict[str, Any]:
    """Every scenario of a leak library (``nrwkit ensemble leaks --out LIBRARY``), every method."""
    folders = sorted(p.parent for p in (library / "scenarios").glob("*/truth.json"))
    if not folders:
        raise SystemExit(f"{library}: no scenarios/*/truth.json; make it with nrwkit ensemble leaks")
    network, first = read_library_case(folders[0])
    tasks = [Task(f.name, "bench_localisation:run_library_case",
                  {"folder": str(f.resolve()), "methods": methods},
                  seed=int(json.loads((f / "truth.json").read_text(encoding="utf-8"))["seed"]))
             for f in folders]
    return run_cases(f"{library.name} ({Path(network).stem})", tasks, len(network_setup(network).junctions),
                     len(first.sensors), executor, workers, out)


def run_cases(name: str, tasks: list[Task], junctions: int, sensors: int, executor: str | None,
              workers: int | None, out: Path | None) -> dict[str, Any]:
    """Run the case tasks through :func:`nrwkit.ensemble.run` and summarise every method.

    A process pool by default, ``executor`` a Dask scheduler; with ``out`` an interrupted run
    resumes. A case that fails or times out is listed, not scored.
    """
    started = time.perf_counter()

    def progress(_stage: str, done: int, total: int) -> None:
        sys.stderr.write(f"{name}: {done}/{total} cases, {time.perf_counter() - started:.0f} s\n")

    folder = None if out is None else out / name.split(" ")[0]
    results = run(tasks, executor=executor, workers=workers, out=folder, progress=progress)
    rows: dict[str, list[dict[str, Any]]] = {}
    for text in results.loc[results["status"] == "ok", "scores"]:
        for method, row in json.loads(text).items():
            rows.setdefault(method, []).append(row)
    cases_out = [{"seed": task.seed, "node": r.node, "flow_m3h": r.flow_m3h, "start_s": int(r.start_s)}
                 for task, r in zip(tasks, results.itertuples(), strict=True) if r.status == "ok"]
    failed = [{"task_id": r.task_id, "status": r.status, "error": r.error}
              for r in results.itertuples() if r.status != "ok"]
    summary = {m: summarise(r) for m, r in rows.items()}
    main_method = next((m for m in summary if m.startswith("nrwkit:")), None)
    return {"network": name, "junctions": junctions, "sensors": sensors, "cases": cases_out,
            "failed_cases": failed, "summary": summary,
            "targets": targets(summary, main_method) if main_method else {}}


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
    parser.add_argument("--scheduler", help="a Dask scheduler: local[:N] or tcp://HOST:PORT "
                        "[default: a process pool on this machine]")
    parser.add_argument("--workers", type=int, help="processes of the pool [default: the cores]")
    parser.add_argument("--out", type=Path, help="keep each case's result here: a run stopped midway "
                        "resumes where it stopped")
    parser.add_argument("--library", type=Path, help="score the scenarios of a library made by "
                        "nrwkit ensemble leaks instead of the seeded cases (--networks, --cases ignored)")
    args = parser.parse_args(argv)
    methods = ["bayes"] + [m for m in args.methods if m != "bayes"]
    t0 = time.perf_counter()
    if args.library is not None:
        results = [run_library(args.library, methods, args.scheduler, args.workers, args.out)]
    else:
        results = [run_network(name, args.cases, methods, args.scheduler, args.workers, args.out)
                   for name in args.networks]
    total = time.perf_counter() - t0
    text = table(results)
    sys.stdout.write(text + f"\n\ntotal {total:.0f} s\n")
    command = "benchmarks/bench_localisation.py " + " ".join(argv if argv is not None else sys.argv[1:])
    stem, what = (("localisation-library", "a scenario library") if args.library
                  else ("localisation", "seeded cases"))
    write_atomically(RESULTS / f"{stem}.md",
                     f"# Leak localisation on {what}\n\n`{command.strip()}`, {total:.0f} s in all.\n\n"
                     + text + "\n")
    write_atomically(RESULTS / f"{stem}.json",
                     json.dumps({"command": command.strip(), "seconds": total, "window_h": WINDOW_H,
                                 "networks": results}, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
