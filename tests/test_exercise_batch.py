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
