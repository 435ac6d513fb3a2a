"""Ensembles: the same results on every executor, resumable, and a lost worker loses no task."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from nrwkit.ensemble import ATTEMPTS, Task, parse_scheduler, run
from nrwkit.ensemble import core as ensemble_core
from nrwkit.errors import InputError

LEAK = "nrwkit.ensemble.tasks:leak_scenario"
NOTHING = "nrwkit.ensemble.tasks:nothing"


# Task functions of these tests: importable by worker processes as test_ensemble:<name>.
def spin(*, seed: int, seconds_s: float) -> dict[str, int]:
    """Keep the interpreter busy (Python instructions: a timeout stops it at once)."""
    end = time.perf_counter() + seconds_s
    while time.perf_counter() < end:
        pass
    return {"seed": seed}


def sleep(*, seed: int, seconds_s: float) -> dict[str, int]:
    """Block in one C call (a SIGALRM ends it in a main thread; nothing does in another thread)."""
    time.sleep(seconds_s)
    return {"seed": seed}


def stuck(*, seed: int, seconds_s: float) -> dict[str, int]:
    """Block in one C call that no signal ends (as an engine stuck in a solve)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(seconds_s)
    return {"seed": seed}


def crash(*, seed: int) -> dict[str, int]:
    """End the worker process under the task (as a crash inside the engine)."""
    os._exit(3)


def _quick(count: int) -> list[Task]:
    return [Task(f"quick-{k}", NOTHING, seed=k) for k in range(count)]


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


def test_a_dask_local_cluster_gives_the_same_results_and_times_out():
    tasks = _tasks(4)
    dashboard: list[str] = []
    dask = run(tasks, executor="local:2", on_start=dashboard.append).drop(columns=["seconds"])
    assert dask.equals(run(tasks, executor="inprocess").drop(columns=["seconds"]))
    assert dashboard and dashboard[0].startswith("http")
    # in a Dask worker a task runs in a thread: its timeout arrives as an exception set on the thread
    start = time.perf_counter()
    table = run([Task("spin", "test_ensemble:spin", {"seconds_s": 60.0}, timeout_s=1.0), *_quick(3)],
                executor="local:2")
    assert time.perf_counter() - start < 30
    assert list(table["status"]) == ["timed out", "ok", "ok", "ok"]
    assert "timeout of 1 s" in table["error"].iloc[0]


@pytest.mark.parametrize("executor", ["inprocess", "processes"])
def test_a_task_past_its_timeout_is_timed_out_and_the_others_go_on(executor, tmp_path):
    tasks = [Task("spin", "test_ensemble:spin", {"seconds_s": 60.0}, timeout_s=0.5),
             Task("sleep", "test_ensemble:sleep", {"seconds_s": 60.0}),
             *_quick(4)]
    start = time.perf_counter()
    table = run(tasks, executor=executor, workers=2, timeout_s=0.5, out=tmp_path)
    assert time.perf_counter() - start < 20
    assert list(table["status"]) == ["timed out", "timed out"] + ["ok"] * 4
    assert all(0.4 < s < 5 for s in table["seconds"].iloc[:2])
    assert "timeout of 0.5 s" in table["error"].iloc[1]
    assert list(table["seed"].iloc[2:]) == [0, 1, 2, 3]
    # the main thread's alarm is put back as it was; a timed-out task runs again on resume
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
    assert (tmp_path / "results" / "spin.parquet").exists()
    again = run([Task("spin", "test_ensemble:spin", {"seconds_s": 0.01}), *_quick(4)],
                executor="inprocess", out=tmp_path)
    assert list(again["status"]) == ["ok"] * 5


def test_a_task_that_kills_its_worker_is_found_and_no_other_is_lost():
    tasks = [*_quick(3), Task("crash", "test_ensemble:crash"),
             *[Task(f"spin-{k}", "test_ensemble:spin", {"seconds_s": 0.2}, seed=k) for k in range(6)]]
    table = run(tasks, executor="processes", workers=2)
    assert list(table["task_id"]) == [t.id for t in tasks]
    status = dict(zip(table["task_id"], table["status"], strict=True))
    assert status.pop("crash") == "failed"
    assert set(status.values()) == {"ok"}  # the tasks beside it when it crashed ran again, alone
    assert f"worker lost {ATTEMPTS} time(s)" in table.set_index("task_id").loc["crash", "error"]


def test_a_task_stuck_in_c_past_its_timeout_ends_its_worker(monkeypatch):
    monkeypatch.setattr(ensemble_core, "HARD_STOP_GRACE_S", 0.5)
    tasks = [Task("stuck", "test_ensemble:stuck", {"seconds_s": 60.0}, timeout_s=0.5), *_quick(3)]
    start = time.perf_counter()
    table = run(tasks, executor="processes", workers=2)
    assert time.perf_counter() - start < 20
    assert list(table["status"]) == ["timed out", "ok", "ok", "ok"]
    assert "worker process was ended" in table["error"].iloc[0]


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
    with pytest.raises(InputError, match="positive"):
        run([Task("a", LEAK)], executor="inprocess", timeout_s=0)
    assert parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler("tcp://10.0.0.5:8786") == ("address", None)
    with pytest.raises(InputError, match="scheduler"):
        parse_scheduler("yarn")


def unpicklable(*, seed: int) -> dict[str, object]:
    """Return a value that cannot travel between processes."""
    return {"seed": seed, "handle": lambda: seed}


def test_a_result_that_cannot_come_back_is_a_failed_row():
    table = run([Task("bad", "test_ensemble:unpicklable"), *_quick(2)], executor="processes", workers=2)
    assert list(table["status"]) == ["failed", "ok", "ok"]
    assert "could not come back" in table["error"].iloc[0]


def mixed(*, seed: int) -> dict[str, object]:
    """Return a list Parquet cannot store (numbers and text mixed)."""
    return {"seed": seed, "values": [1.0, "two"]}


def test_a_result_that_cannot_be_written_is_a_failed_row_and_the_rest_are_kept(tmp_path):
    table = run([Task("mixed", "test_ensemble:mixed"), *_quick(2)], executor="inprocess", out=tmp_path)
    assert list(table["status"]) == ["failed", "ok", "ok"]
    assert "cannot be written as Parquet" in table["error"].iloc[0]
    assert len(list((tmp_path / "results").glob("*.parquet"))) == 3


def test_batches_give_the_same_rows_write_one_file_each_and_resume(tmp_path):
    tasks = _tasks(5)
    single = run(tasks, executor="inprocess").drop(columns=["seconds"])
    for executor in ("inprocess", "processes"):
        batched = run(tasks, executor=executor, workers=2, batch_size=2).drop(columns=["seconds"])
        assert batched.equals(single), executor
    out = tmp_path / "lib"
    run(tasks, executor="processes", workers=2, batch_size=2, out=out)
    files = sorted(p.name for p in (out / "results").glob("*.parquet"))
    assert len(files) == 3 and sum(f.startswith("batch-leak-") for f in files) == 2  # 2 + 2 + 1 tasks
    lone = next(f for f in files if not f.startswith("batch-"))
    stamps = {f: (out / "results" / f).stat().st_mtime_ns for f in files}
    (out / "results" / files[0]).unlink()  # as if stopped before that batch
    again = run(tasks, executor="processes", workers=2, batch_size=2, out=out)
    assert again.drop(columns=["seconds"]).equals(single)
    assert (out / "results" / lone).stat().st_mtime_ns == stamps[lone]  # not run again


def test_a_task_that_kills_its_worker_inside_a_batch_is_found():
    import dask

    tasks = [*_quick(3), Task("crash", "test_ensemble:crash"), *_quick(6)[3:]]
    for executor in ("processes", "local:2"):
        # Dask's scheduler gives up on a task after its first worker death (default: 3): a shorter test
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            table = run(tasks, executor=executor, workers=2, batch_size=3)
        status = dict(zip(table["task_id"], table["status"], strict=True))
        assert status.pop("crash") == "failed", executor
        assert set(status.values()) == {"ok"}, (executor, table)


def test_an_unreturnable_result_inside_a_batch_fails_alone():
    tasks = [*_quick(2), Task("bad", "test_ensemble:unpicklable"), *_quick(4)[2:]]
    table = run(tasks, executor="processes", workers=2, batch_size=2)
    assert list(table["status"]) == ["ok", "ok", "failed", "ok", "ok"]
