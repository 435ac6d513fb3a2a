"""`nrwkit ensemble leaks` and `pressure`: a library that locate can read, resumable; a DMA sweep."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from nrwkit import dma
from nrwkit.leaks import read_readings
from nrwkit.networks import load
from nrwkit_cli.main import cli


def test_leak_library_is_readable_and_resumes(tmp_path):
    out = tmp_path / "lib"
    args = [
        "ensemble",
        "leaks",
        "net1",
        "--hours",
        "6",
        "--loggers",
        "4",
        "--out",
        str(out),
        "--workers",
        "2",
    ]
    first = CliRunner().invoke(cli, [*args, "--count", "3", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["ok"] == 3
    scenario = out / "scenarios" / "leak-000001"
    truth = json.loads((scenario / "truth.json").read_text())
    readings = read_readings(scenario / "readings.parquet")
    assert len(readings.values.columns) == 4 and truth["seed"] == 1 and truth["node"]
    assert sorted(readings.values.columns) == sorted(truth["loggers"])
    start_h = truth["start_s"] // 3600
    window = f"{start_h}:{min(start_h + 3, 6)}" if start_h < 6 else "0:6"
    located = CliRunner().invoke(
        cli,
        [
            "leaks",
            "locate",
            "net1",
            "--readings",
            str(scenario / "readings.parquet"),
            "--flows",
            str(scenario / "flows.parquet"),
            "--window",
            window,
            "--json",
        ],
    )
    assert located.exit_code in (0, 1), located.output  # 1: the loggers cannot separate the candidates
    assert sorted(json.loads(located.output)["sensors"]) == sorted(truth["loggers"])
    stamp = (out / "results" / "leak-000000.parquet").stat().st_mtime_ns
    more = CliRunner().invoke(cli, [*args, "--count", "4"])
    assert more.exit_code == 0 and "4 of 4 scenarios ok" in more.output
    assert (out / "results" / "leak-000000.parquet").stat().st_mtime_ns == stamp  # not run again
    assert len((out / "summary.csv").read_text().splitlines()) == 5


def test_pressure_sweep_over_the_dmas(tmp_path):
    wn = load("net3")
    design, _ = dma.design(wn, size=(10, 40), size_by="nodes", water_age=False, seed=0)
    tagged = tmp_path / "net3-dmas.inp"
    dma.write_design_inp(wn, design, tagged)
    out = tmp_path / "sweep"
    result = CliRunner().invoke(
        cli,
        [
            "ensemble",
            "pressure",
            str(tagged),
            "--target",
            "20",
            "--modes",
            "fixed,critical",
            "--out",
            str(out),
            "--workers",
            "2",
            "--json",
        ],
    )
    assert result.exit_code in (0, 3), result.output  # 3 when a DMA cannot take a PRV (its row says why)
    data = json.loads(result.output)
    assert data["tasks"] == 2 * len(set(design.assignment))
    assert data["ok"] >= 2


def test_a_bad_scheduler_is_refused_before_any_work(tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "ensemble",
            "leaks",
            "net1",
            "--count",
            "2",
            "--out",
            str(tmp_path / "x"),
            "--scheduler",
            "yarn://cluster",
        ],
    )
    assert result.exit_code == 2 and "scheduler" in result.output
    assert not (tmp_path / "x").exists()


def test_scenarios_past_the_timeout_are_rows_and_run_again_on_resume(tmp_path):
    out = tmp_path / "lib"
    args = [
        "ensemble",
        "leaks",
        "net1",
        "--count",
        "2",
        "--hours",
        "6",
        "--loggers",
        "4",
        "--out",
        str(out),
        "--workers",
        "1",
    ]
    short = CliRunner().invoke(cli, [*args, "--timeout", "0.001", "--json"])
    assert short.exit_code == 3, short.output
    data = json.loads(short.output)
    assert data["ok"] == 0 and {row["status"] for row in data["failed"]} == {"timed out"}
    assert all("timeout of 0.001 s" in row["error"] for row in data["failed"])
    again = CliRunner().invoke(cli, [*args, "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["ok"] == 2


def test_demand_monte_carlo_gives_risk_per_customer_junction(tmp_path):
    out = tmp_path / "mc"
    args = [
        "ensemble",
        "demands",
        "net1",
        "--count",
        "12",
        "--junction-cv",
        "0.3",
        "--common-cv",
        "0.2",
        "--min-pressure",
        "90",
        "--out",
        str(out),
        "--workers",
        "2",
    ]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["scenarios_used"] == 12 and data["unbalanced_scenarios"] == 0
    low, high = data["probability_new_shortfall_ci95"]
    assert low <= data["probability_new_shortfall"] <= high
    wn = load("net1")
    customers = [n for n, j in wn.junctions() if j.demand_timeseries_list[0].base_value > 0]
    risk = pd.read_csv(out / "junctions.csv", dtype={"junction": str})
    assert sorted(risk["junction"]) == sorted(customers)
    assert risk["scenarios"].eq(12).all() and risk["probability_below"].between(0, 1).all()
    assert "min_pressure_m" not in (out / "summary.csv").read_text().splitlines()[0]  # lists stay in Parquet
    text = CliRunner().invoke(cli, args)  # resumed: nothing runs again, the same table
    assert text.exit_code == 0 and "scenarios" in text.output
    assert pd.read_csv(out / "junctions.csv", dtype={"junction": str}).equals(risk)


def test_a_damaged_parquet_readings_file_is_named(tmp_path):
    import pytest

    from nrwkit.errors import InputError

    bad = tmp_path / "readings.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=r"readings\.parquet.*not a readable Parquet file"):
        read_readings(bad)


def test_the_same_command_gives_the_same_library_on_a_pool_and_on_dask(tmp_path):
    args = ["ensemble", "leaks", "net1", "--count", "3", "--hours", "6", "--loggers", "4", "--seed", "5"]
    pool = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "pool"), "--workers", "2"])
    dask = CliRunner().invoke(
        cli, [*args, "--out", str(tmp_path / "dask"), "--scheduler", "local:2", "--batch-size", "2"]
    )
    assert pool.exit_code == 0 and dask.exit_code == 0, dask.output
    assert "Dask dashboard: http" in dask.output and "Dask dashboard" not in pool.output
    columns = ["task_id", "status", "node", "flow_m3h", "start_s"]
    tables = [pd.read_csv(tmp_path / name / "summary.csv")[columns] for name in ("pool", "dask")]
    assert tables[0].equals(tables[1])
    for k in range(3):
        scenario = f"scenarios/leak-{k:06d}/readings.parquet"
        assert pd.read_parquet(tmp_path / "pool" / scenario).equals(
            pd.read_parquet(tmp_path / "dask" / scenario)
        )


def test_a_network_given_by_a_relative_path_is_found_by_every_task(tmp_path, monkeypatch):
    import shutil

    from nrwkit.networks import path

    shutil.copy(path("net1"), tmp_path / "mine.inp")
    monkeypatch.chdir(tmp_path)  # each task runs in a folder of its own: the path must not be read from there
    leaks = CliRunner().invoke(
        cli,
        ["ensemble", "leaks", "mine.inp", "--count", "2", "--hours", "6", "--loggers", "3", "--out", "lib"],
    )
    assert leaks.exit_code == 0, leaks.output
    demands = CliRunner().invoke(
        cli, ["ensemble", "demands", "mine.inp", "--count", "2", "--out", "mc", "--json"]
    )
    assert demands.exit_code == 0, demands.output
    truth = json.loads((tmp_path / "lib" / "scenarios" / "leak-000000" / "truth.json").read_text())
    assert truth["network"] == str(tmp_path / "mine.inp")


def test_a_folder_of_other_work_is_not_written_into(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ensemble", "leaks", "net1", "--count", "1", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "not an ensemble's folder" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
