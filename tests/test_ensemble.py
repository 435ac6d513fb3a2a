"""Ensembles: the same results on every executor, resumable, and a lost worker loses no task."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from nrwkit.ensemble import Task, parse_scheduler, run
from nrwkit.errors import InputError

LEAK = "nrwkit.ensemble.tasks:leak_scenario"


def _tasks(count: int, network: str = "net1", duration_h: float = 6.0) -> list[Task]:
    return [Task(f"leak-{k:03d}", LEAK, {"network": network, "duration_h": duration_h}, seed=k)
            for k in range(count)]


def test_executors_give_the_same_results_and_failures_are_rows():
    tasks = [*_tasks(5), Task("broken", LEAK, {"network": "no-such-network"}, seed=1)]
    rows = {ex: run(tasks, executor=ex, workers=2).drop(columns=["seconds"])
            for ex in ("inprocess", "processes")}
    assert rows["inprocess"].equals(rows["processes"])
    table = rows["inprocess"]
    assert list(table["status"]) == ["ok"] * 5 + ["failed"]
    assert "no-such-network" in table.iloc[-1]["error"]
    assert (table["max_drop_m"].iloc[:5] > 0).all()


def test_a_dask_local_cluster_gives_the_same_results():
    tasks = _tasks(4)
    dashboard: list[str] = []
    dask = run(tasks, executor="local:2", on_start=dashboard.append).drop(columns=["seconds"])
    assert dask.equals(run(tasks, executor="inprocess").drop(columns=["seconds"]))
    assert dashboard and dashboard[0].startswith("http")


def test_an_interrupted_ensemble_resumes(tmp_path):
    tasks = _tasks(4)
    first = run(tasks, executor="inprocess", out=tmp_path)
    results = tmp_path / "results"
    stamps = {p.name: p.stat().st_mtime_ns for p in results.glob("*.parquet")}
    (results / "leak-002.parquet").unlink()  # as if it had been stopped before that task
    time.sleep(0.01)
    again = run(tasks, executor="inprocess", out=tmp_path)
    assert again.drop(columns=["seconds"]).equals(first.drop(columns=["seconds"]))
    for name, stamp in stamps.items():
        if name != "leak-002.parquet":
            assert (results / name).stat().st_mtime_ns == stamp, f"{name} was run again"
    assert not list(results.glob(".*.part"))


def test_a_killed_worker_loses_no_task():
    from distributed import Client, LocalCluster

    tasks = _tasks(8, network="l-town", duration_h=12.0)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        pids = list(client.run(os.getpid).values())

        def kill_one() -> None:
            time.sleep(2.0)
            os.kill(pids[0], signal.SIGKILL)

        killer = threading.Thread(target=kill_one)
        killer.start()
        start = time.perf_counter()
        table = run(tasks, executor=cluster.scheduler_address)
        seconds = time.perf_counter() - start
        killer.join()
        client.wait_for_workers(2, timeout=30)
        after = list(client.run(os.getpid).values())
    assert pids[0] not in after  # the worker was killed (its nanny started a new one)
    assert seconds > 2.0, "the ensemble ended before the worker was killed: make the tasks longer"
    assert list(table["task_id"]) == [t.id for t in tasks]
    assert set(table["status"]) <= {"ok", "failed"}
    assert (table["status"] == "ok").sum() >= 6  # the lost worker's task is retried elsewhere


def test_bad_tasks_and_schedulers():
    with pytest.raises(InputError, match="given twice"):
        run([Task("a", LEAK), Task("a", LEAK)], executor="inprocess")
    with pytest.raises(InputError, match="letters"):
        run([Task("a b", LEAK)], executor="inprocess")
    assert parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler("tcp://10.0.0.5:8786") == ("address", None)
    with pytest.raises(InputError, match="scheduler"):
        parse_scheduler("yarn")
