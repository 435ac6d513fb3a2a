"""Benchmark: automatic DMA design of BWSN Network 2, and the cost of checking one closure set.

BWSN Network 2 (12,523 junctions, 14,822 pipes) comes from the `epyt` package (the
`benchmark` extra). Two measurements, in this one process:

(a) `dma.design` into DMAs of 50-400 junctions (`size_by="nodes"`, mains above 0.3 m kept
    as transmission, at most 3 inlets, 15 m service pressure, seed 0) with every hydraulic
    check, water age at the new dead ends included; timed once (it is the slow part), and
    once more without water age to show what the two 72-hour quality runs cost;
(b) the cost of checking one candidate closure set: close the design's boundary valves and
    solve one steady state at the peak hour the design's checks use
    (`dma.evaluate.peak_hour`), with the in-memory `HydraulicSession` (`set_status` +
    `solve`) against a new `wntr.sim.EpanetSimulator` run on a copy of the model with those
    pipes' initial status set to Closed and a single period at that hour (duration 0,
    pattern_start = peak), with the same pressure-dependent demand settings.
    SESSION_SOLVES re-solves and REPEAT simulator runs; the two must give the same
    pressures (the largest difference is reported). Untimed, the same closures are also
    solved at the model's highest-demand hour (`peak_demand_time`, over the model's whole
    duration, 48 h here; the checks run it whole).

Target: the whole design with all checks under 60 s on 2 cores.
Results go to stdout and benchmarks/results/dma-bwsn2.json.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import wntr
from bench_inspect import REPEAT, bwsn2_path

import nrwkit
from nrwkit import dma
from nrwkit.dma.evaluate import PRESSURE_TOLERANCE_M, peak_hour
from nrwkit.hydraulics import HydraulicSession, peak_demand_time

RESULTS = Path(__file__).parent / "results" / "dma-bwsn2.json"
SESSION_SOLVES = int(os.environ.get("NRWKIT_BENCH_SESSION_SOLVES", "20"))
TARGET_S = 60.0
MIN_PRESSURE = 15.0
# three inlet meters: BWSN Network 2 peaks in its second day (30 h, 47 % above the first day's
# peak), and two inlets cannot feed its largest DMAs then; the run with the CLI's default of 2
# is recorded beside it (`default_max_inlets`)
DESIGN_ARGS = {"size": (50, 400), "size_by": "nodes", "max_inlets": 3, "min_pressure_m": MIN_PRESSURE,
               "exclude_diameter_above_m": 0.3, "seed": 0}


def source_state() -> dict[str, object]:
    """The commit measured, and the library files that differed from it (others edit src/)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                  check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return ""

    changed = [line[3:] for line in git("status", "--porcelain", "--", "src").splitlines() if line]
    diff = git("diff", "HEAD", "--", "src")
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "uncommitted_src_changes": changed,
            "src_diff_sha1": hashlib.sha1(diff.encode()).hexdigest()[:12] if diff else None}


def time_design(wn: wntr.network.WaterNetworkModel, *, water_age: bool) -> tuple[float, object]:
    start = time.perf_counter()
    result = dma.design(wn, water_age=water_age, **DESIGN_ARGS)
    return time.perf_counter() - start, result


def session_check(wn, closed: list[str], peak: int, other: int) -> dict[str, object]:
    """Open a session once, then time SESSION_SOLVES checks of the closure set at ``peak``.

    Also solves, untimed, the all-open state at ``peak`` and both states at ``other`` (the
    model's highest-demand hour, which may lie beyond the day the design checks).
    """
    start = time.perf_counter()
    session = HydraulicSession(wn, demand_model="PDD", required_pressure_m=MIN_PRESSURE,
                               minimum_pressure_m=0.0, pressure_exponent=0.5)
    t_open = time.perf_counter() - start
    try:
        times = []
        for _ in range(SESSION_SOLVES):
            start = time.perf_counter()
            session.reset_status()
            session.set_status(closed, open_=False)
            state = session.solve(peak)
            times.append(time.perf_counter() - start)
        other_closed = session.solve(other).pressure_m
        session.reset_status()
        open_state = session.solve(peak)
        other_open = session.solve(other).pressure_m
    finally:
        session.close()
    return {"open_s": t_open, "times": times, "pressure": state.pressure_m,
            "pressure_open": open_state.pressure_m, "converged": state.converged,
            "other_open": other_open, "other_closed": other_closed}


def pushed_below(closed: pd.Series, open_: pd.Series) -> int:
    """Junctions the closures push below the service pressure (the design's rule, 1 m tolerance)."""
    return int(((closed < MIN_PRESSURE) & (closed < open_ - PRESSURE_TOLERANCE_M)).sum())


def simulator_check(wn, closed: list[str], peak: int) -> dict[str, object]:
    """Copy the model once, then time REPEAT simulator runs of the closure set at the peak."""
    start = time.perf_counter()
    model = copy.deepcopy(wn)
    t_copy = time.perf_counter() - start
    hyd, opts = model.options.hydraulic, model.options.time
    hyd.demand_model = "PDD"
    hyd.required_pressure, hyd.minimum_pressure, hyd.pressure_exponent = MIN_PRESSURE, 0.0, 0.5
    opts.duration = 0
    opts.pattern_start = int(wn.options.time.pattern_start) + peak
    opts.report_start = 0
    times, results = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(REPEAT):
            start = time.perf_counter()
            for name in closed:
                model.get_link(name).initial_status = wntr.network.LinkStatus.Closed
            results = wntr.sim.EpanetSimulator(model).run_sim(file_prefix=str(Path(tmp) / f"run{k}"))
            times.append(time.perf_counter() - start)
    assert results is not None
    return {"copy_s": t_copy, "times": times, "pressure": results.node["pressure"].iloc[0]}


def supplied_junctions(wn, closed: list[str]) -> set[str]:
    """Junctions with a path of open links to a tank or reservoir once ``closed`` are closed.

    Initial statuses only (BWSN Network 2 has closed pumps and valves). A zero-demand island
    cut off by closed links has no defined pressure: EPANET's value there comes from the
    tiny conductance it gives closed links and may differ between two solves.
    """
    shut = set(closed)
    graph = nx.Graph()
    graph.add_nodes_from(wn.node_name_list)
    for name, link in wn.links():
        if name not in shut and link.initial_status != wntr.network.LinkStatus.Closed:
            graph.add_edge(link.start_node_name, link.end_node_name)
    sources = set(wn.tank_name_list) | set(wn.reservoir_name_list)
    reached: set[str] = set()
    for component in nx.connected_components(graph):
        if component & sources:
            reached |= component
    return reached & set(wn.junction_name_list)


def main() -> None:
    warnings.simplefilter("ignore")  # WNTR warns about unused curves in this file
    load_start = [round(x, 2) for x in os.getloadavg()]  # other jobs on the machine skew timings
    src_start = source_state()
    wn = wntr.network.WaterNetworkModel(str(bwsn2_path()))

    t_design, (design, evaluation) = time_design(wn, water_age=True)
    t_no_age, (design_no_age, _) = time_design(wn, water_age=False)
    start = time.perf_counter()
    two, two_eval = dma.design(wn, water_age=False, **{**DESIGN_ARGS, "max_inlets": 2})
    default_two = {"max_inlets": 2, "design_without_water_age_s": round(time.perf_counter() - start, 2),
                   "passes": two_eval.metrics["passes"], "n_dmas": two_eval.metrics["n_dmas"],
                   "n_meters": two_eval.metrics["n_meters"],
                   "failing": [str(w) for w in two.warnings if w.code == "dma-not-repaired"]}
    m = evaluation.metrics
    same_design = (design.new_valves == design_no_age.new_valves and design.meters == design_no_age.meters)

    closed = list(design.new_valves)
    peak = peak_hour(wn)  # the hour the design's checks use
    model_peak = peak_demand_time(wn)  # the highest demand over the model's whole duration
    sess = session_check(wn, closed, peak, model_peak)
    sim = simulator_check(wn, closed, peak)
    junctions = sess["pressure"].index
    diff = (sess["pressure"] - sim["pressure"].reindex(junctions)).abs()
    supplied = diff.index.isin(list(supplied_junctions(wn, closed)))
    effect = np.abs(sess["pressure"].to_numpy() - sess["pressure_open"].to_numpy())
    t_solve = float(np.median(sess["times"]))
    t_sim = float(np.median(sim["times"]))

    record = {
        "benchmark": "DMA design of BWSN Network 2 and the cost of one closure check",
        "network": bwsn2_path().name, "junctions": wn.num_junctions, "pipes": wn.num_pipes,
        "design_args": {**DESIGN_ARGS, "size": list(DESIGN_ARGS["size"]), "water_age": True},
        "design_s": round(t_design, 2),
        "design_without_water_age_s": round(t_no_age, 2),
        "water_age_share_s": round(t_design - t_no_age, 2),
        "target_s": TARGET_S,
        "target_met": t_design < TARGET_S,
        "same_design_without_water_age": same_design,
        "n_dmas": m["n_dmas"], "n_meters": m["n_meters"], "n_boundary_valves": m["n_boundary_valves"],
        "n_transmission_junctions": m["n_transmission_junctions"],
        "repairs": len(design.changes),
        "passes": m["passes"],
        "min_pressure_before_m": round(m["min_pressure_before_m"], 2),
        "min_pressure_after_m": round(m["min_pressure_after_m"], 2),
        "delivered_demand_fraction": round(m["delivered_demand_fraction"], 4),
        "todini_before": round(m["todini_before"], 3), "todini_after": round(m["todini_after"], 3),
        "modularity": round(m["modularity"], 3), "size_cv": round(m["size_cv"], 3),
        "checks_peak_time_s": m["peak_time_s"],
        "default_max_inlets": default_two,
        "changes": design.changes,
        "warnings": [w.to_dict() for w in design.warnings + evaluation.warnings],
        "closure_check": {
            "closed_pipes": len(closed),
            "peak_time_s": peak,
            "session_open_s": round(sess["open_s"], 3),
            "session_solves": SESSION_SOLVES,
            "session_ms_per_candidate": round(1000 * t_solve, 1),
            "session_ms_all": [round(1000 * t, 1) for t in sess["times"]],
            "session_converged": sess["converged"],
            "simulator_model_copy_s": round(sim["copy_s"], 3),
            "simulator_runs": REPEAT,
            "simulator_ms_per_candidate": round(1000 * t_sim, 1),
            "simulator_ms_all": [round(1000 * t, 1) for t in sim["times"]],
            "ratio_simulator_over_session": round(t_sim / t_solve, 1),
            "max_abs_pressure_difference_m": float(diff[supplied].max()),
            "max_abs_pressure_difference_all_junctions_m": float(diff.max()),
            "isolated_junctions": int((~supplied).sum()),
            "isolated_junctions_differing_m": {j: round(float(v), 4) for j, v in
                                               diff[~supplied & (diff > 0.01)].items()},
            "max_pressure_change_by_closures_m": round(float(effect.max()), 2),
            "min_pressure_open_m": round(float(sess["pressure_open"].min()), 2),
            "min_pressure_closed_m": round(float(sess["pressure"].min()), 2),
            "junctions_pushed_below_min_pressure": pushed_below(sess["pressure"], sess["pressure_open"]),
            "model_peak_time_s": model_peak,
            "model_peak_min_pressure_open_m": round(float(sess["other_open"].min()), 2),
            "model_peak_min_pressure_closed_m": round(float(sess["other_closed"].min()), 2),
            "model_peak_junctions_pushed_below_min_pressure": pushed_below(sess["other_closed"],
                                                                           sess["other_open"]),
        },
        "source": src_start,
        "source_changed_during_run": source_state() != src_start,
        "pythonhashseed": os.environ.get("PYTHONHASHSEED", "random"),
        "load_average_start_end": [load_start, [round(x, 2) for x in os.getloadavg()]],
        "nrwkit": nrwkit.__version__, "wntr": wntr.__version__,
        "python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    check = record["closure_check"]
    print(f"BWSN Network 2: {wn.num_junctions} junctions, {wn.num_pipes} pipes")
    print(f"  dma.design 50-400 junctions, all checks  {t_design:7.1f} s   target < {TARGET_S:g} s: "
          f"{'met' if t_design < TARGET_S else 'MISSED'}")
    print(f"    of which water age (2 x 72 h runs)     {t_design - t_no_age:7.1f} s   "
          f"(without: {t_no_age:.1f} s, same design: {same_design})")
    print(f"    {m['n_dmas']} DMAs, {m['n_meters']} meters, {m['n_boundary_valves']} boundary valves, "
          f"{len(design.changes)} repairs, passes: {m['passes']}")
    print(f"    with --max-inlets 2 (the default): {default_two['n_dmas']} DMAs, {default_two['n_meters']} "
          f"meters, passes: {default_two['passes']} ({default_two['design_without_water_age_s']:.1f} s "
          "without water age)")
    print(f"    min pressure at peak {m['min_pressure_before_m']:.2f} m -> "
          f"{m['min_pressure_after_m']:.2f} m, delivered {m['delivered_demand_fraction']:.2%}")
    print(f"  one closure check ({len(closed)} pipes closed, solved at the checks' peak hour "
          f"{peak / 3600:g} h):")
    print(f"    HydraulicSession set_status + solve    {1000 * t_solve:7.1f} ms  "
          f"(median of {SESSION_SOLVES}; opening once {sess['open_s']:.2f} s)")
    print(f"    new EpanetSimulator run                {1000 * t_sim:7.1f} ms  (median of {REPEAT}; "
          f"model copy once {sim['copy_s']:.2f} s)")
    print(f"    ratio                                  {t_sim / t_solve:7.1f}")
    print(f"    same pressures: max |difference| {check['max_abs_pressure_difference_m']:.2g} m at the "
          f"junctions supplied from a source (the closures move pressures by up to "
          f"{check['max_pressure_change_by_closures_m']:.2f} m); {check['isolated_junctions']} isolated "
          f"junctions (no open path to a source): "
          f"{check['max_abs_pressure_difference_all_junctions_m']:.2g} m")
    for label, t, lo, lc, n in (
            ("checks' peak", peak, check["min_pressure_open_m"], check["min_pressure_closed_m"],
             check["junctions_pushed_below_min_pressure"]),
            (f"model's peak over its {wn.options.time.duration / 3600:g} h", model_peak,
             check["model_peak_min_pressure_open_m"], check["model_peak_min_pressure_closed_m"],
             check["model_peak_junctions_pushed_below_min_pressure"])):
        print(f"    {label} ({t / 3600:g} h): min pressure {lo:.2f} m all open, {lc:.2f} m closed; "
              f"{n} junctions pushed below {MIN_PRESSURE:g} m")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
