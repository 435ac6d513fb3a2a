"""Benchmark: leak sensitivities and localisation, speed (part A) and method comparison (part B).

Part A, performance (issue 7 item 6):

- BWSN Network 2 (12,523 junctions, from the `epyt` package, the `benchmark` extra):
  `sensitivity_matrix` for every junction and 30 seeded random sensor junctions, given the
  EPANET results of the single period at 0 h (best of REPEAT), and, timed apart, the EPANET
  run that produces them (WNTR's `EpanetSimulator`, the former path). Against it, in the same process, "the
  usual way": one EPANET solve per candidate leak on the in-memory `HydraulicSession`
  (`extra_demand` of 1 l/s + `solve`) on a seeded sample of CANDIDATES junctions, extrapolated
  to every junction (opening once, one leak-free solve, one solve per junction at the
  sample's median). The two must agree: finite differences from those solves against the
  matrix's columns (median relative error where the response is at least 1 % of the
  sensor's largest, as in tests/test_leaks_sensitivity.py).
- L-Town: one `locate` (the defaults: bayes, noise estimated) over a 24 h window of 15-min
  readings at the 33 BattLeDIM pressure sensors, best of REPEAT.

Targets: the matrix under 3 s, the localisation under 5 s, on 2 cores.

Part B, method comparison (issue 7 item 7): seeded synthetic events on L-Town (the 33
BattLeDIM sensors of tests/test_leaks_locate.py) and Net3 (8 seeded random sensor junctions).
Each event: one abrupt leak of 1, 2 or 4 l/s (flow at the leak-free pressure where it is, at
the window's start) at a random junction or at a random point of a random pipe (the pipe is
split there; either end of it counts as the leak junction), starting at a random hour
(0-20 h) and read every 15 min for 4 h. The "true" network that makes the readings is a
deep copy of the model with every junction's base demands and every pipe's roughness
multiplied by a seeded uniform factor in [0.9, 1.1]; `locate` gets the unperturbed model. The
same event is read with Gaussian sensor noise of 0.05 m and of 0.1 m (the same draws,
scaled). Each method (correlation, least-squares, bayes) is set beside two baselines:
a random junction (and 10 random junctions for the top-10), and the sensor with the largest
mean pressure drop against the model (the junction nearest to it along pipes is itself; its
top-10 are the 10 junctions nearest to it along pipes). Measures: top-1 and top-10 hit
rate, median distance along pipes from the best candidate to the leak (to the point on the
pipe for a pipe leak; networkx on `wn.to_graph().to_undirected()` weighted by pipe length,
0 for pumps and valves), the share within 300 m (BattLeDIM's match distance), the median
length of the search area at 90 % and how often it holds the leak (either end of its pipe).

The noise model of each method is chosen on one set of seeds (the tuning events) and the
methods are reported on another (the report events): `noise_m=None` ("estimated": each
logger's residual spread, the library's default), "sensor": the loggers' own noise (0.05 or
0.1 m), or "sensor+model": that noise combined (root sum of squares) with the model error
measured on leak-free runs of the tuning events' perturbed networks (the RMS of their
residuals against the model at the sensors, per network, as a utility would measure it on a
quiet period). Rule: the most events within 300 m, then top-10, then top-1 (summed over both
noise levels); ties (a fixed noise_m does not change the correlation or least-squares
ranking, only the search area) go to the search area holding the leak most nearly 90 % of the
time, then the smaller area. The winner is the method with the largest share within 300 m,
averaged over networks and noise levels, without a tie-break. "no leak" counts the events in
which every candidate's fitted leak flow is 0 (the readings lie above the model where a leak
would lower them): least-squares and bayes then rank the candidates in the network's order.

Results go to stdout and to benchmarks/results/leaks-performance.json (part A) and
benchmarks/results/leaks-methods.json (part B); `--quick` runs fewer events and writes
nothing. The script works in a temporary directory (see main()).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import wntr
from bench_dma import source_state
from bench_inspect import REPEAT, bwsn2_path

import nrwkit
from nrwkit.hydraulics import HydraulicSession
from nrwkit.leaks import METHODS, Leak, locate, sensitivity_matrix, simulate_leaks
from nrwkit.networks import load

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from test_leaks_locate import BATTLEDIM

RESULTS = Path(__file__).parent / "results"
PERFORMANCE = RESULTS / "leaks-performance.json"
METHOD_RESULTS = RESULTS / "leaks-methods.json"
HOUR = 3600
STEP_S = 900  # readings every 15 min
# part A
SENSORS_A = 30
CANDIDATES = int(os.environ.get("NRWKIT_BENCH_LEAK_CANDIDATES", "30"))
FD_LEAK_M3S = 1e-3  # 1 l/s: the usual way's candidate leak
MATRIX_TARGET_S = 3.0
SESSION_TARGET_S = 0.35  # given an open session: state in memory + assembly + LU + 30 solves
LOCATE_TARGET_S = 5.0
# part B
SIZES_LPS = (1.0, 2.0, 4.0)
NOISE_LEVELS_M = (0.05, 0.1)
WINDOW_H = 4
LAST_START_H = 20
PERTURBATION = 0.10  # base demands and roughness within +-10 %
MATCH_M = 300.0  # BattLeDIM's match distance
AREA_PROBABILITY = 0.9
NET3_SENSORS = 8
NOISE_MODELS = ("estimated", "sensor", "sensor+model")
BASELINES = ("random", "largest-drop")
EVENT_COLUMNS = ("best", "distance_m", "rank", "top10", "within", "area_km", "area_holds", "no_leak")


# --- part A -------------------------------------------------------------------------------

def best_of(func: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), times, result


def relative_errors(analytic: np.ndarray, fd: np.ndarray) -> np.ndarray:
    """Relative errors where the response is at least 1 % of the sensor's largest."""
    scale = np.abs(fd).max(axis=1, keepdims=True)
    mask = np.abs(fd) > 0.01 * scale
    return np.abs(analytic - fd)[mask] / np.abs(fd)[mask]


def the_usual_way(wn: wntr.network.WaterNetworkModel, sensors: list[str], candidates: list[str]
                  ) -> dict[str, Any]:
    """One session solve per candidate leak (extra demand), as finite differences."""
    start = time.perf_counter()
    session = HydraulicSession(wn)
    t_open = time.perf_counter() - start
    try:
        start = time.perf_counter()
        base = session.solve(0)
        t_base = time.perf_counter() - start
        p0 = base.pressure_m[sensors].to_numpy()
        fd = np.zeros((len(sensors), len(candidates)))
        times, converged = [], base.converged
        for k, name in enumerate(candidates):
            start = time.perf_counter()
            with session.extra_demand(name, FD_LEAK_M3S):
                state = session.solve(0)
            times.append(time.perf_counter() - start)
            converged &= state.converged
            fd[:, k] = (state.pressure_m[sensors].to_numpy() - p0) / FD_LEAK_M3S
    finally:
        session.close()
    return {"open_s": t_open, "base_s": t_base, "times": times, "fd": fd, "converged": converged}


def epanet_file_run(wn: wntr.network.WaterNetworkModel) -> wntr.sim.SimulationResults:
    """The former path: WNTR's EpanetSimulator (an .inp written and read back) for time 0."""
    model = copy.deepcopy(wn)
    model.options.time.duration = 0
    with tempfile.TemporaryDirectory(prefix="nrwkit-bench-") as tmp:
        return wntr.sim.EpanetSimulator(model).run_sim(file_prefix=str(Path(tmp) / "run"))


def part_a(repeat: int, n_candidates: int) -> dict[str, Any]:
    path = bwsn2_path()
    wn = wntr.network.WaterNetworkModel(str(path))
    junctions = list(wn.junction_name_list)
    rng = np.random.default_rng(0)
    sensors = [str(s) for s in rng.choice(junctions, size=SENSORS_A, replace=False)]
    sample = [str(c) for c in np.random.default_rng(1).choice(junctions, size=n_candidates, replace=False)]
    t_run, run_times, results = best_of(lambda: epanet_file_run(wn), repeat)
    t_matrix, matrix_times, matrix = best_of(lambda: sensitivity_matrix(wn, sensors, 0, results), repeat)
    # the session path: the state read in memory from an open session, assembly, LU, solves
    start = time.perf_counter()
    session = HydraulicSession(wn)
    t_open = time.perf_counter() - start
    try:
        start = time.perf_counter()
        by_session = sensitivity_matrix(wn, sensors, 0, session=session)
        t_first = time.perf_counter() - start  # reads the model's link table once per session
        t_session, session_times, by_session = best_of(
            lambda: sensitivity_matrix(wn, sensors, 0, session=session), repeat)
    finally:
        session.close()
    usual = the_usual_way(wn, sensors, sample)
    errors_session = relative_errors(by_session[sample].to_numpy(), usual["fd"])
    print(f"  sensitivity_matrix, every junction, open session  {t_session:8.3f} s   (best of {repeat}; "
          f"first "
          f"call {t_first:.3f} s; opening {t_open:.2f} s)   target <= {SESSION_TARGET_S:g} s: "
          f"{'met' if t_session <= SESSION_TARGET_S else 'MISSED'}")
    print(f"    session path against FD: median relative error {np.median(errors_session):.3%}, "
          f"90th percentile {np.percentile(errors_session, 90):.3%}, max {errors_session.max():.2%}")
    per_solve = float(np.median(usual["times"]))
    t_usual = usual["open_s"] + usual["base_s"] + len(junctions) * per_solve
    errors = relative_errors(matrix[sample].to_numpy(), usual["fd"])
    print(f"{path.name}: {len(junctions)} junctions, {wn.num_pipes} pipes; {SENSORS_A} sensors")
    print(f"  sensitivity_matrix, every junction, given results {t_matrix:8.2f} s   (best of {repeat})   "
          f"target < {MATRIX_TARGET_S:g} s: {'met' if t_matrix < MATRIX_TARGET_S else 'MISSED'}")
    print(f"  EPANET run giving the results (EpanetSimulator) {t_run:8.2f} s   (best of {repeat})")
    print(f"  the usual way: session extra_demand + solve       {1000 * per_solve:8.1f} ms per candidate "
          f"(median of {len(sample)}; opening {usual['open_s']:.2f} s)")
    print(f"    extrapolated to {len(junctions)} junctions           {t_usual:8.1f} s")
    print(f"    ratio to the matrix                            {t_usual / t_matrix:8.0f}   "
          f"(to run + matrix: {t_usual / (t_run + t_matrix):.0f})")
    print(f"    agreement, {len(errors)} of {usual['fd'].size} entries: median relative error "
          f"{np.median(errors):.2%}, 90th percentile {np.percentile(errors, 90):.2%}, max {errors.max():.1%}")

    ltown = load("l-town")
    ltown.options.time.duration = 24 * HOUR
    leak_at = str(np.random.default_rng(2).choice(ltown.junction_name_list))
    event = simulate_leaks(ltown, [Leak(leak_at, flow_m3s=0.002)], duration_s=24 * HOUR, report_step_s=STEP_S)
    readings = event.pressure_m[BATTLEDIM]
    readings = readings + np.random.default_rng(3).normal(0.0, 0.05, size=readings.shape)
    t_locate, locate_times, found = best_of(lambda: locate(ltown, readings), repeat)
    graph = length_graph(ltown)
    best = str(found.candidates.node.iloc[0])
    miss = nx.shortest_path_length(graph, best, leak_at, weight="length")
    print(f"L-Town: locate (bayes, noise estimated), 24 h of 15-min readings ({len(readings)} x "
          f"{len(BATTLEDIM)}) {t_locate:5.2f} s   (best of {repeat})   target < {LOCATE_TARGET_S:g} s: "
          f"{'met' if t_locate < LOCATE_TARGET_S else 'MISSED'}")
    print(f"    2 l/s leak at {leak_at}: best candidate {best}, {miss:.0f} m along pipes; search area "
          f"{found.search_area['length_km']:.2f} km")
    return {
        "network": path.name, "junctions": len(junctions), "pipes": wn.num_pipes,
        "sensors": sensors, "repeat": repeat,
        "sensitivity_matrix_s": round(t_matrix, 3),
        "sensitivity_matrix_all_s": [round(t, 3) for t in matrix_times],
        "sensitivity_matrix_target_s": MATRIX_TARGET_S,
        "sensitivity_matrix_target_met": t_matrix < MATRIX_TARGET_S,
        "sensitivity_matrix_session_s": round(t_session, 4),
        "sensitivity_matrix_session_all_s": [round(t, 4) for t in session_times],
        "sensitivity_matrix_session_first_call_s": round(t_first, 4),
        "session_open_s": round(t_open, 3),
        "sensitivity_matrix_session_target_s": SESSION_TARGET_S,
        "sensitivity_matrix_session_target_met": t_session <= SESSION_TARGET_S,
        "session_agreement": {
            "median_relative_error": round(float(np.median(errors_session)), 6),
            "p90_relative_error": round(float(np.percentile(errors_session, 90)), 6),
            "max_relative_error": round(float(errors_session.max()), 5),
        },
        "epanet_run_for_results_s": round(t_run, 3),
        "epanet_run_all_s": [round(t, 3) for t in run_times],
        "usual_way": {
            "what": "HydraulicSession: extra_demand(candidate, 1 l/s) + solve(0), one per candidate",
            "candidates_timed": len(sample), "leak_m3s": FD_LEAK_M3S,
            "session_open_s": round(usual["open_s"], 3),
            "leak_free_solve_s": round(usual["base_s"], 3),
            "ms_per_candidate_median": round(1000 * per_solve, 1),
            "ms_per_candidate_all": [round(1000 * t, 1) for t in usual["times"]],
            "converged": bool(usual["converged"]),
            "extrapolated_all_junctions_s": round(t_usual, 1),
        },
        "ratio_usual_over_matrix": round(t_usual / t_matrix, 0),
        "ratio_usual_over_run_plus_matrix": round(t_usual / (t_run + t_matrix), 1),
        "agreement": {
            "entries_compared": len(errors), "entries": int(usual["fd"].size),
            "median_relative_error": round(float(np.median(errors)), 5),
            "p90_relative_error": round(float(np.percentile(errors, 90)), 5),
            "max_relative_error": round(float(errors.max()), 4),
        },
        "locate_ltown_24h": {
            "readings": list(readings.shape), "method": "bayes", "noise_m": None,
            "seconds": round(t_locate, 3), "all_s": [round(t, 3) for t in locate_times],
            "target_s": LOCATE_TARGET_S, "target_met": t_locate < LOCATE_TARGET_S,
            "leak": leak_at, "leak_m3s": 0.002, "best": best, "best_distance_m": round(float(miss), 1),
            "search_area_km": found.search_area["length_km"],
        },
    }


# --- part B -------------------------------------------------------------------------------

def length_graph(wn: wntr.network.WaterNetworkModel) -> nx.MultiGraph:
    """WNTR's graph, undirected, each edge weighted by its pipe's length (0 for pumps, valves)."""
    graph = wn.to_graph().to_undirected()
    for a, b, key in graph.edges(keys=True):
        link = wn.get_link(key)
        graph.edges[a, b, key]["length"] = float(link.length) if link.link_type == "Pipe" else 0.0
    return graph


def perturbed(wn: wntr.network.WaterNetworkModel, rng: np.random.Generator) -> wntr.network.WaterNetworkModel:
    """A deep copy with base demands and roughness multiplied by uniform factors in [0.9, 1.1]."""
    true = copy.deepcopy(wn)
    for _, junction in true.junctions():
        factor = rng.uniform(1 - PERTURBATION, 1 + PERTURBATION)
        for demand in junction.demand_timeseries_list:
            demand.base_value = demand.base_value * factor
    for _, pipe in true.pipes():
        pipe.roughness = pipe.roughness * rng.uniform(1 - PERTURBATION, 1 + PERTURBATION)
    return true


class Network:
    """A network of part B with its sensors, leak-free pressures and distances along pipes."""

    def __init__(self, name: str, sensors: list[str] | None):
        self.name = name
        self.wn = load(name)
        self.wn.options.time.duration = 24 * HOUR
        self.junctions = list(self.wn.junction_name_list)
        junction_set = set(self.junctions)
        # pipes with a junction at one end at least (the leak must be near a candidate)
        self.pipes = [n for n, p in self.wn.pipes()
                      if p.start_node_name in junction_set or p.end_node_name in junction_set]
        if sensors is None:
            rng = np.random.default_rng(7)
            sensors = [str(s) for s in rng.choice(self.junctions, size=NET3_SENSORS, replace=False)]
        self.sensors = sensors
        self.graph = length_graph(self.wn)
        self.model = simulate_leaks(self.wn, [], duration_s=24 * HOUR, report_step_s=STEP_S).pressure_m
        self.nearest: dict[str, list[str]] = {}
        for sensor in sensors:
            dist = nx.single_source_dijkstra_path_length(self.graph, sensor, weight="length")
            self.nearest[sensor] = [n for n, _ in sorted(dist.items(), key=lambda kv: (kv[1], kv[0]))
                                    if n in junction_set][:10]

    def distances(self, leak: dict[str, Any]) -> dict[str, float]:
        """Distance along pipes from every node to the leak (to its point on a split pipe)."""
        if leak["kind"] == "junction":
            return dict(nx.single_source_dijkstra_path_length(self.graph, leak["node"], weight="length"))
        pipe = self.wn.get_link(leak["pipe"])
        u, length = leak["position"], float(pipe.length)
        from_a = nx.single_source_dijkstra_path_length(self.graph, pipe.start_node_name, weight="length")
        from_b = nx.single_source_dijkstra_path_length(self.graph, pipe.end_node_name, weight="length")
        return {n: min(from_a.get(n, np.inf) + u * length, from_b.get(n, np.inf) + (1 - u) * length)
                for n in set(from_a) | set(from_b)}


def make_event(net: Network, seed: tuple[int, ...], *, leak_free_too: bool) -> dict[str, Any]:
    """One leak event: the leak, the clean readings from the perturbed network, noise draws."""
    rng = np.random.default_rng(seed)
    size = float(rng.choice(SIZES_LPS))
    start = int(rng.integers(0, LAST_START_H + 1)) * HOUR
    end = start + WINDOW_H * HOUR
    p0 = net.model.loc[start]
    if rng.random() < 0.5:
        node = str(rng.choice(net.junctions))
        leak = {"kind": "junction", "node": node, "ends": [node]}
        place = {"location": node, "on": "junction"}
        reference = float(p0[node])
    else:
        name = str(rng.choice(net.pipes))
        pipe = net.wn.get_link(name)
        u = float(rng.uniform(0.1, 0.9))
        ends = [n for n in (pipe.start_node_name, pipe.end_node_name) if n in p0.index]  # junctions
        leak = {"kind": "pipe", "pipe": name, "position": round(u, 4), "ends": ends}
        place = {"location": name, "on": "pipe", "position": u}
        if len(ends) == 2:
            reference = float(p0[ends[0]]) * (1 - u) + float(p0[ends[1]]) * u
        else:  # one end is a tank or reservoir
            reference = float(p0[ends[0]])
    # the leak's size is its flow at the leak-free pressure where it is (at least 5 m)
    the_leak = Leak(**place, flow_m3s=size / 1000.0, reference_pressure_m=max(reference, 5.0), start_s=start)
    true = perturbed(net.wn, rng)
    run = simulate_leaks(true, [the_leak], duration_s=end, report_step_s=STEP_S)
    clean = run.pressure_m.loc[start:end, net.sensors]
    draws = rng.standard_normal(clean.shape)
    event = {"seed": list(seed), "size_lps": size, "start_h": start // HOUR, "leak": leak,
             "leak_lps": round(float(run.leak_m3s.loc[start:end, 0].mean()) * 1000.0, 3),
             "clean": clean, "draws": draws, "distances": net.distances(leak)}
    if leak_free_too:
        quiet = simulate_leaks(true, [], duration_s=end, report_step_s=STEP_S).pressure_m
        quiet = quiet.loc[start:end, net.sensors]
        event["model_error"] = quiet - net.model.loc[start:end, net.sensors]
        # the leak's own signal: its mean pressure drop at the sensor it moves most
        event["signal_m"] = float((quiet - clean).mean().max())
    return event


def readings(event: dict[str, Any], noise: float) -> pd.DataFrame:
    return event["clean"] + noise * event["draws"]


def score(event: dict[str, Any], ranked: list[str], area: dict[str, Any] | None = None,
          rank: int | None = None, no_leak: bool | None = None) -> dict[str, Any]:
    ends = set(event["leak"]["ends"])
    distance = float(event["distances"].get(ranked[0], np.inf))
    return {"size_lps": event["size_lps"], "best": ranked[0], "top10_nodes": ranked[:10],
            "top1": ranked[0] in ends, "top10": bool(ends & set(ranked[:10])),
            "distance_m": round(distance, 1), "within": distance <= MATCH_M,
            "area_km": None if area is None else float(area["length_km"]),
            "area_holds": None if area is None else bool(ends & set(area["nodes"])),
            "rank": rank, "no_leak": no_leak}


def run_method(net: Network, event: dict[str, Any], noise: float, method: str, noise_m: float | None
               ) -> dict[str, Any]:
    found = locate(net.wn, readings(event, noise), method=method, noise_m=noise_m,
                   probability=AREA_PROBABILITY)
    nodes = [str(n) for n in found.candidates.node]
    ends = set(event["leak"]["ends"])
    rank = next((k + 1 for k, n in enumerate(nodes) if n in ends), None)
    # no candidate explains the residuals as a leak (every fitted flow is 0): the ranking is then
    # the network's own junction order for least-squares and bayes
    no_leak = float(found.candidates.leak_flow_m3h.max()) <= 0.0
    return score(event, nodes[:10], found.search_area, rank, no_leak)


def run_baseline(net: Network, event: dict[str, Any], noise: float, baseline: str) -> dict[str, Any]:
    values = readings(event, noise)
    if baseline == "random":
        rng = np.random.default_rng([*event["seed"], round(noise * 1000), 99])
        ranked = [str(n) for n in rng.choice(net.junctions, size=10, replace=False)]
    else:
        drop = (net.model.loc[values.index, net.sensors] - values).mean()
        ranked = net.nearest[str(drop.idxmax())]
    return score(event, ranked)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def rate(key: str) -> float:
        return round(float(np.mean([r[key] for r in rows])), 3)

    areas = [r["area_km"] for r in rows if r["area_km"] is not None]
    holds = [r["area_holds"] for r in rows if r["area_holds"] is not None]
    ranks = [r["rank"] for r in rows if r["rank"] is not None]
    no_leak = [r["no_leak"] for r in rows if r["no_leak"] is not None]
    return {"events": len(rows), "top1": rate("top1"), "top10": rate("top10"),
            "median_distance_m": round(float(np.median([r["distance_m"] for r in rows])), 1),
            "within_300m": rate("within"),
            "median_area_km": round(float(np.median(areas)), 3) if areas else None,
            "area_holds_leak": round(float(np.mean(holds)), 3) if holds else None,
            "median_rank": float(np.median(ranks)) if ranks else None,
            "no_leak_found": round(float(np.mean(no_leak)), 3) if no_leak else None,
            "within_300m_by_size_lps": {str(size): round(float(np.mean([r["within"] for r in rows
                                                                         if r["size_lps"] == size])), 3)
                                        for size in SIZES_LPS if any(r["size_lps"] == size for r in rows)}}


def noise_value(model: str, noise: float, model_error_m: float) -> float | None:
    if model == "estimated":
        return None
    if model == "sensor":
        return noise
    return float(np.hypot(noise, model_error_m))


def choose(summaries: dict[str, list[dict[str, Any]]]) -> tuple[str, list[dict[str, Any]]]:
    """The tuning rule: within 300 m, top-10, top-1 (summed); then area calibration, area size."""
    table = []
    for model, per_level in summaries.items():
        table.append({"noise_model": model,
                      "within_300m": round(sum(s["within_300m"] for s in per_level), 3),
                      "top10": round(sum(s["top10"] for s in per_level), 3),
                      "top1": round(sum(s["top1"] for s in per_level), 3),
                      "area_miscalibration": round(sum(abs(s["area_holds_leak"] - AREA_PROBABILITY)
                                                       for s in per_level), 3),
                      "median_area_km": round(sum(s["median_area_km"] for s in per_level), 3)})
    table.sort(key=lambda r: (-r["within_300m"], -r["top10"], -r["top1"], r["area_miscalibration"],
                              r["median_area_km"]))
    return table[0]["noise_model"], table


def part_b(n_tune: int, n_report: int) -> dict[str, Any]:
    networks = [("l-town", list(BATTLEDIM)), ("net3", None)]
    out = []
    for index, (name, sensors) in enumerate(networks):
        start = time.perf_counter()
        net = Network(name, sensors)
        tune = [make_event(net, (index, 0, k), leak_free_too=True) for k in range(n_tune)]
        # the model error at the sensors, from leak-free runs of the tuning events' true networks
        errors = np.concatenate([e["model_error"].to_numpy().ravel() for e in tune])
        model_error = float(np.sqrt(np.mean(errors ** 2)))
        chosen: dict[str, str] = {}
        tuning: dict[str, Any] = {}
        for method in METHODS:
            per_model = {}
            for model in NOISE_MODELS:
                per_model[model] = [summarise([run_method(net, e, noise, method,
                                                          noise_value(model, noise, model_error))
                                               for e in tune]) for noise in NOISE_LEVELS_M]
            chosen[method], table = choose(per_model)
            tuning[method] = {"chosen": chosen[method], "rule_table": table,
                              "rule_table_is": "rates summed over the two noise levels (max 2)",
                              "by_noise": {model: dict(zip([str(n) for n in NOISE_LEVELS_M], s, strict=True))
                                           for model, s in per_model.items()}}
        t_tune = time.perf_counter() - start
        report = [make_event(net, (index, 1, k), leak_free_too=False) for k in range(n_report)]
        variants = [(m, chosen[m]) for m in METHODS]
        if chosen["bayes"] != "estimated":
            variants.append(("bayes", "estimated"))  # the library's defaults
        levels = []
        for noise in NOISE_LEVELS_M:
            rows, per_event = {}, {}
            for method, model in variants:
                value = noise_value(model, noise, model_error)
                label = f"{method} ({model})"
                per_event[label] = [run_method(net, e, noise, method, value) for e in report]
                rows[label] = {"method": method, "noise_model": model, "noise_m": value,
                               "default": method == "bayes" and model == "estimated",
                               **summarise(per_event[label])}
            for baseline in BASELINES:
                per_event[baseline] = [run_baseline(net, e, noise, baseline) for e in report]
                rows[baseline] = {"method": baseline, "noise_model": None, "noise_m": None, "default": False,
                                  **summarise(per_event[baseline])}
            picked = [per_event[f"{m} ({chosen[m]})"] for m in METHODS]
            levels.append({
                "sensor_noise_m": noise, "rows": rows,
                # how often the three methods (each with its chosen noise model) agree
                "methods_same_best": round(float(np.mean([len({r["best"] for r in trio}) == 1
                                                          for trio in zip(*picked, strict=True)])), 3),
                "methods_same_top10": round(float(np.mean([len({tuple(r["top10_nodes"]) for r in trio}) == 1
                                                           for trio in zip(*picked, strict=True)])), 3),
                "event_columns": list(EVENT_COLUMNS),
                "events": {label: [[r[k] for k in EVENT_COLUMNS] for r in rs]
                           for label, rs in per_event.items()}})
        signals = [e["signal_m"] for e in tune]
        events = [{k: v for k, v in e.items() if k not in ("clean", "draws", "distances", "model_error")}
                  for e in report]
        out.append({"network": name, "junctions": len(net.junctions), "pipes": len(net.pipes),
                    "sensors": net.sensors, "tuning_events": n_tune, "report_events": n_report,
                    "model_error_rms_m": round(model_error, 4),
                    "tuning_leak_signal_m": {"median": round(float(np.median(signals)), 4),
                                             "all": [round(x, 4) for x in signals]},
                    "chosen_noise_model": chosen, "tuning": tuning, "levels": levels,
                    "report_event_list": events,
                    "tuning_s": round(t_tune, 1), "seconds": round(time.perf_counter() - start, 1)})
        print(f"{name}: {n_tune} tuning + {n_report} report events, {time.perf_counter() - start:.0f} s",
              flush=True)
    return {"networks": out}


def winner(result: dict[str, Any]) -> dict[str, Any]:
    """The method(s) with the most events within 300 m, averaged over networks and noise levels.

    No tie-break: where every fitted leak flow is 0 ("no leak" events) least-squares and bayes
    rank the candidates in the network's junction order, so their top-10 hits there are luck.
    """
    shares: dict[str, list[float]] = {}
    for net in result["networks"]:
        for level in net["levels"]:
            for row in level["rows"].values():
                method = row["method"]
                if method in METHODS and row["noise_model"] == net["chosen_noise_model"][method]:
                    shares.setdefault(method, []).append(row["within_300m"])
    mean = {m: round(float(np.mean(shares[m])), 3) for m in METHODS}
    tied = [m for m in METHODS if mean[m] == max(mean.values())]
    return {"method": " = ".join(tied), "tied": tied, "is_library_default": "bayes" in tied,
            "mean_within_300m": mean}


def print_b(result: dict[str, Any]) -> None:
    head = (f"{'network':8} {'noise':>5} {'method (noise model)':30} {'top-1':>6} {'top-10':>6} "
            f"{'median m':>9} {'<=300 m':>7} {'area km':>8} {'holds':>6} {'rank':>6} {'no leak':>7}")
    print(head)
    print("-" * len(head))
    for net in result["networks"]:
        for level in net["levels"]:
            for label, row in level["rows"].items():
                area = "" if row["median_area_km"] is None else f"{row['median_area_km']:.2f}"
                holds = "" if row["area_holds_leak"] is None else f"{row['area_holds_leak']:.0%}"
                rank = "" if row["median_rank"] is None else f"{row['median_rank']:g}"
                none = "" if row["no_leak_found"] is None else f"{row['no_leak_found']:.0%}"
                print(f"{net['network']:8} {level['sensor_noise_m']:5.2f} {label:30} {row['top1']:6.0%} "
                      f"{row['top10']:6.0%} {row['median_distance_m']:9.0f} {row['within_300m']:7.0%} "
                      f"{area:>8} {holds:>6} {rank:>6} {none:>7}")
        same = ", ".join(f"{lv['methods_same_best']:.0%} / {lv['methods_same_top10']:.0%} at "
                         f"{lv['sensor_noise_m']:g} m" for lv in net["levels"])
        print(f"  {net['network']}: the three methods give the same best candidate / the same top 10 in "
              f"{same} of the events")
        print(f"  {net['network']}: noise model chosen on the tuning events: "
              + ", ".join(f"{m} {v}" for m, v in net["chosen_noise_model"].items())
              + f"; model error at the sensors (leak-free RMS) {net['model_error_rms_m']:.2f} m; the leak's "
              f"mean drop at the sensor it moves most (tuning events, median) "
              f"{net['tuning_leak_signal_m']['median']:.3f} m")
    win = result["winner"]
    print(f"winner (mean share within 300 m over networks and noise levels): {win['method']} "
          f"({', '.join(f'{m} {v:.0%}' for m, v in win['mean_within_300m'].items())}); "
          f"library default (bayes) among the best: {'yes' if win['is_library_default'] else 'no'}")


def dumps(record: dict[str, Any]) -> str:
    """JSON with two-space indents and every list of plain values on one line."""
    text = json.dumps(record, indent=2)
    # JSON strings hold no raw newline, so only the layout's line breaks are joined
    return re.sub(r"\[\s*\n\s*([^\[\]{}]*?)\s*\n\s*\]",
                  lambda m: "[" + re.sub(r"\s*\n\s*", " ", m.group(1)) + "]", text) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "performance", "methods"), default="all")
    parser.add_argument("--quick", action="store_true",
                        help="one run each, 10 candidates, 3 tuning and 6 report events; writes nothing")
    parser.add_argument("--tune-events", type=int, default=8, help="tuning events per network")
    parser.add_argument("--report-events", type=int, default=24, help="report events per network")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # WNTR warns about unused curves in BWSN Network 2
    # work in a private folder: nothing this benchmark runs may leave files where it was started
    scratch = tempfile.TemporaryDirectory(prefix="nrwkit-bench-leaks-")
    os.chdir(scratch.name)
    repeat, candidates = (1, 10) if args.quick else (REPEAT, CANDIDATES)
    n_tune, n_report = (3, 6) if args.quick else (args.tune_events, args.report_events)
    common = {
        "pythonhashseed": os.environ.get("PYTHONHASHSEED", "random"),
        "nrwkit": nrwkit.__version__, "wntr": wntr.__version__, "networkx": nx.__version__,
        "python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"), "quick": args.quick,
    }
    if args.part in ("all", "performance"):
        load_start, src_start = [round(x, 2) for x in os.getloadavg()], source_state()
        record = {"benchmark": "leak sensitivities on BWSN Network 2 against one solve per candidate; "
                               "one L-Town localisation", **part_a(repeat, candidates)}
        record.update(source=src_start, source_changed_during_run=source_state() != src_start,
                      load_average_start_end=[load_start, [round(x, 2) for x in os.getloadavg()]], **common)
        if not args.quick:
            PERFORMANCE.parent.mkdir(parents=True, exist_ok=True)
            PERFORMANCE.write_text(dumps(record))
    if args.part in ("all", "methods"):
        load_start, src_start = [round(x, 2) for x in os.getloadavg()], source_state()
        start = time.perf_counter()
        result = part_b(n_tune, n_report)
        result["winner"] = winner(result)
        total = time.perf_counter() - start
        print_b(result)
        print(f"part B: {total:.0f} s")
        record = {"benchmark": "leak localisation methods against baselines on L-Town and Net3",
                  "settings": {"sizes_lps": list(SIZES_LPS), "window_h": WINDOW_H, "step_s": STEP_S,
                               "last_start_h": LAST_START_H, "perturbation": PERTURBATION,
                               "sensor_noise_m": list(NOISE_LEVELS_M), "match_m": MATCH_M,
                               "area_probability": AREA_PROBABILITY, "noise_models": list(NOISE_MODELS)},
                  **result, "total_s": round(total, 1), "source": src_start,
                  "source_changed_during_run": source_state() != src_start,
                  "load_average_start_end": [load_start, [round(x, 2) for x in os.getloadavg()]], **common}
        if not args.quick:
            METHOD_RESULTS.parent.mkdir(parents=True, exist_ok=True)
            METHOD_RESULTS.write_text(dumps(record))


if __name__ == "__main__":
    main()
