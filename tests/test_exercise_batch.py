"""A library of exercises: made in parallel processes, each as if made alone; failures reported."""

from __future__ import annotations

import json

from click.testing import CliRunner
from test_dma_sweep import network_path

from nrwkit.exercise import create_exercise, create_exercises
from nrwkit.networks import load
from nrwkit_cli.main import cli


def test_each_exercise_is_the_one_its_seed_makes(tmp_path):
    rows = create_exercises("net3", tmp_path / "lib", 3, seed=20, workers=2, difficulty="easy", days=1)
    assert [(r.name, r.seed, r.status) for r in rows] == [
        ("exercise-01", 20, "ok"), ("exercise-02", 21, "ok"), ("exercise-03", 22, "ok")]
    alone = create_exercise(load("net3"), tmp_path / "alone", seed=21, difficulty="easy", days=1)
    for path in alone.files:
        twin = tmp_path / "lib" / "exercise-02" / path.relative_to(alone.folder)
        assert twin.read_bytes() == path.read_bytes(), path.name


def test_a_failed_exercise_is_reported_and_the_batch_exits_3(tmp_path):
    # hanoi-exeter's demand-driven pressures are not physical: no exercise can be made on it
    out = tmp_path / "lib"
    result = CliRunner().invoke(cli, ["exercise", "create", network_path("hanoi-exeter"), "--out", str(out),
                                      "--count", "2", "--workers", "1", "--days", "1", "--json"])
    assert result.exit_code == 3, result.output
    data = json.loads(result.output)
    assert [row["status"] for row in data["exercises"]] == ["failed", "failed"]
    assert all("no pipe keeps" in row["error"] for row in data["exercises"])
    assert not any(p.name.startswith("exercise-") for p in out.iterdir())


def test_a_library_on_a_dask_cluster_is_the_library_of_the_pool(tmp_path):
    args = ["exercise", "create", "net1", "--count", "2", "--seed", "4", "--days", "1",
            "--difficulty", "easy"]
    pool = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "pool"), "--workers", "2"])
    dask = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "dask"), "--scheduler", "local:2"])
    assert pool.exit_code == 0 and dask.exit_code == 0, dask.output
    assert "Dask dashboard: http" in dask.output
    for name in ("exercise-01/answer-key.json", "exercise-02/trainee/readings.csv"):
        assert (tmp_path / "pool" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes(), name
    bad = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "x"), "--scheduler", "yarn://x"])
    assert bad.exit_code == 2 and "scheduler" in bad.output and not (tmp_path / "x").exists()
