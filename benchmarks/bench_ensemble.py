"""Benchmark: single-leak scenarios of 24 h on L-Town through 1 and 2 worker processes (issue 19).

Each scenario is ``nrwkit.ensemble.tasks:leak_scenario`` (a seeded leak, one extended-period
EPANET run with the leak as an emitter, on a session the worker keeps open between tasks),
run through :func:`nrwkit.ensemble.run` on a process pool of 1 and of 2 workers. Reported:
scenarios per second, the scaling ratio (2 workers over 1), the per-scenario cost against one
in-memory 24 h EPANET run of L-Town (``HydraulicSession.run``, the same steps), the largest
resident memory of a worker (sampled every 0.2 s with psutil), and the scheduler overhead per
task of a Dask LocalCluster (a task that does nothing, timed through ``local:2``, one by one and
in batches of 100), and the leak scenarios' throughput on that LocalCluster (up to 600, in
batches of 50, cluster start included).

Targets: per-scenario cost within 2 x of one in-memory 24 h run; >= 1.8 x on 2 workers;
<= 300 MB per worker. Run: ``.venv/bin/python benchmarks/bench_ensemble.py [--count 2000]``
(default 300, about 2 minutes); writes ``benchmarks/results/ensemble-ltown.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

import psutil

from nrwkit.ensemble import Task, run, task_id
from nrwkit.hydraulics import HydraulicSession
from nrwkit.leaks.cases import prepare_period
from nrwkit.networks import load

OUT = Path(__file__).parent / "results" / "ensemble-ltown.json"
DAY_S, STEP_S = 86400, 900
BATCH = 100


def _peak_worker_rss_mb(stop: threading.Event, peaks: list[float]) -> None:
    me = psutil.Process(os.getpid())
    while not stop.is_set():
        for child in me.children(recursive=True):
            try:
                peaks.append(child.memory_info().rss / 2**20)
            except psutil.Error:
                continue
        time.sleep(0.2)


def _timed(tasks: list[Task], workers: int) -> tuple[float, float]:
    peaks: list[float] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_peak_worker_rss_mb, args=(stop, peaks))
    sampler.start()
    start = time.perf_counter()
    table = run(tasks, executor="processes", workers=workers)
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    assert (table["status"] == "ok").all(), table[table["status"] != "ok"]
    return seconds, max(peaks or [float("nan")])


def main(count: int) -> dict[str, object]:
    wn = prepare_period(load("l-town"), DAY_S, STEP_S)
    with HydraulicSession(wn) as session:
        session.run(duration_s=DAY_S, report_step_s=STEP_S, pressure_only=True)
        start = time.perf_counter()
        for _ in range(3):
            session.run(duration_s=DAY_S, report_step_s=STEP_S, pressure_only=True)
        one_run = (time.perf_counter() - start) / 3
    tasks = [
        Task(task_id("leak", k), "nrwkit.ensemble.tasks:leak_scenario", {"network": "l-town"}, seed=k)
        for k in range(count)
    ]
    one_s, one_rss = _timed(tasks, 1)
    two_s, two_rss = _timed(tasks, 2)
    noop = [Task(task_id("noop", k), "nrwkit.ensemble.tasks:nothing", {}, seed=k) for k in range(200)]
    run(noop[:2], executor="local:2")  # warm the imports
    start = time.perf_counter()
    run(noop, executor="local:2")
    dask_s = time.perf_counter() - start
    many = [Task(task_id("noop", k), "nrwkit.ensemble.tasks:nothing", {}, seed=k) for k in range(5000)]
    start = time.perf_counter()
    run(many, executor="local:2", batch_size=BATCH)
    dask_batched_s = time.perf_counter() - start
    # the same leak scenarios on a Dask LocalCluster of 2 workers, in batches
    dask_count = min(count, 600)
    start = time.perf_counter()
    table = run(tasks[:dask_count], executor="local:2", batch_size=BATCH // 2)
    dask_leaks_s = time.perf_counter() - start
    assert (table["status"] == "ok").all(), table[table["status"] != "ok"]
    out = {
        "network": "L-Town (bundled)",
        "scenarios": count,
        "duration_h": 24,
        "step_s": STEP_S,
        "one_in_memory_run_s": round(one_run, 4),
        "per_scenario_s_1_worker": round(one_s / count, 4),
        "cost_ratio_to_one_run": round(one_s / count / one_run, 2),
        "scenarios_per_s_1_worker": round(count / one_s, 2),
        "scenarios_per_s_2_workers": round(count / two_s, 2),
        "scaling_2_workers": round(one_s / two_s, 2),
        "peak_worker_rss_mb": round(max(one_rss, two_rss), 1),
        "dask_local_cluster_s_per_empty_task": round(dask_s / len(noop), 4),
        "dask_local_cluster_s_per_empty_task_in_batches": round(dask_batched_s / len(many), 5),
        "dask_batch_size": BATCH,
        "dask_local_cluster_scenarios_per_s_2_workers": round(dask_count / dask_leaks_s, 2),
        "dask_scenarios": dask_count,
        "targets": {"cost_ratio_to_one_run": 2.0, "scaling_2_workers": 1.8, "peak_worker_rss_mb": 300},
    }
    out["passes"] = bool(
        out["cost_ratio_to_one_run"] <= 2.0
        and out["scaling_2_workers"] >= 1.8  # type: ignore[operator]
        and out["peak_worker_rss_mb"] <= 300
    )  # type: ignore[operator]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    print(json.dumps(main(parser.parse_args().count), indent=2))
