"""`nrwkit exercise create`: the bundle is complete, the truth hidden, the same seed the same bytes."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_dma_sweep import network_path, short_id

from nrwkit.errors import InputError, OutputExistsError
from nrwkit.exercise import create_exercise, read_answer_key
from nrwkit.exercise.score import Answer, score
from nrwkit.leaks import read_readings
from nrwkit.networks import load
from nrwkit_cli.main import cli

TRAINEE_FILES = {"network.inp", "readings.csv", "flows.csv", "BRIEF.md", "BRIEF.html"}
#: A seed no trainee file can hold by chance.
SEED = 918_273
NETWORKS = ["Anytown", "Net2", "Balerma", "RuralNetwork", "ky2", "ky3", "ky5", "ky7", "ky14", "ky8",
            "Jilin including water quality"]


def _tokens(path: Path) -> set[str]:
    return set(re.split(r"[\s,;:()\[\]{}\"'=|]+", path.read_text(encoding="utf-8")))


def assert_hidden(folder: Path) -> None:
    """No leak id or seed in any trainee file, and no position or flow in the brief (as tokens).

    Numbers in the network and the readings are the network's and the physics': a position such
    as 0.44 may also be some pipe's roughness, so only the words of the brief are checked for it.
    """
    key = json.loads((folder / "answer-key.json").read_text())
    words = {str(key["seed"])} | {leak["id"] for leak in key["leaks"]}
    numbers = set()
    for leak in key["leaks"]:
        flows = leak["flow_m3_per_h"] if isinstance(leak["flow_m3_per_h"], list) else [leak["flow_m3_per_h"]]
        numbers |= {str(leak["position"]), *map(str, flows)}
    for path in (folder / "trainee").iterdir():
        secrets = words | (numbers if path.name.startswith("BRIEF") else set())
        found = secrets & _tokens(path)
        assert not found, f"{path.name} gives away {found}"


def assert_complete(folder: Path) -> None:
    assert {p.name for p in (folder / "trainee").iterdir()} == TRAINEE_FILES
    assert sorted(p.name for p in folder.iterdir()) == ["answer-key.json", "trainee"]
    key = read_answer_key(folder / "answer-key.json")
    readings = read_readings(folder / "trainee" / "readings.csv", start=key.start.isoformat())
    assert len(readings.values) == (key.end - key.start).total_seconds() / 900
    assert readings.values.isna().to_numpy().sum() == 8  # one logger's 2-hour gap


@pytest.fixture(scope="module")
def ltown():
    return load("l-town")


def test_bundle_key_and_bytes(ltown, tmp_path):
    first = create_exercise(ltown, tmp_path / "a", difficulty="hard", seed=SEED, days=2)
    again = create_exercise(ltown, tmp_path / "b", difficulty="hard", seed=SEED, days=2)
    other = create_exercise(ltown, tmp_path / "c", difficulty="hard", seed=SEED + 1, days=2)
    assert_complete(first.folder)
    assert_hidden(first.folder)
    for path in first.files:
        twin = tmp_path / "b" / path.relative_to(first.folder)
        assert path.read_bytes() == twin.read_bytes(), path.name
    assert (other.folder / "trainee" / "readings.csv").read_bytes() != (
        first.folder / "trainee" / "readings.csv").read_bytes()
    key = read_answer_key(first.folder / "answer-key.json")
    assert len(key.leaks) == 3 and again.key.to_dict() == key.to_dict()
    growing = [leak for leak in key.leaks if isinstance(leak.flow_m3_per_h, tuple)]
    assert len(growing) == 1 and growing[0].flow_m3_per_h[0] < growing[0].flow_m3_per_h[-1]
    assert "drifting_logger" in key.model_changes["logger_faults"]
    for leak in key.leaks:
        assert key.start < leak.start < leak.end == key.end and 0 < leak.position < 1
        assert leak.volume_m3() > 0


def test_the_leaks_are_in_the_readings(ltown, tmp_path):
    """The truth moves the loggers: against a leak-free copy of the same exercise, pressures drop."""
    leaky = create_exercise(ltown, tmp_path / "leaky", difficulty="easy", seed=4, days=1)
    dry = create_exercise(ltown, tmp_path / "dry", difficulty="easy", seed=4, days=1, leaks=0)
    start = leaky.key.start.isoformat()
    a = read_readings(leaky.trainee / "readings.csv", start=start).values
    b = read_readings(dry.trainee / "readings.csv", start=start).values
    after = a.index >= (leaky.key.leaks[0].start - leaky.key.start).total_seconds() + 3600
    assert float((b - a)[after].mean().mean()) > 0.05  # metres, well above the 2 cm noise


def test_bad_inputs(ltown, tmp_path):
    with pytest.raises(InputError, match="apart"):
        create_exercise(load("net1"), tmp_path / "x", leaks=20, seed=1)
    assert not (tmp_path / "x").exists()
    create_exercise(ltown, tmp_path / "y", difficulty="easy", days=1)
    with pytest.raises(OutputExistsError):
        create_exercise(ltown, tmp_path / "y", difficulty="easy", days=1)
    with pytest.raises(InputError, match="not junctions"):
        create_exercise(ltown, tmp_path / "z", sensors=["nope"], days=1)
    with pytest.raises(InputError, match="difficulty"):
        create_exercise(ltown, tmp_path / "z", difficulty="brutal")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["y"]  # nothing half-written


def test_cli(tmp_path):
    out = tmp_path / "ex"
    result = CliRunner().invoke(cli, ["exercise", "create", "net3", "--out", str(out), "--difficulty", "easy",
                                      "--days", "1", "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["leaks"] == 1 and Path(data["answer_key"]).is_file()
    again = CliRunner().invoke(cli, ["exercise", "create", "net3", "--out", str(out)])
    assert again.exit_code == 2 and "--overwrite" in again.output


@pytest.mark.parametrize("name", NETWORKS, ids=[short_id(n) for n in NETWORKS])
def test_any_network(name, tmp_path):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="wntr")
        wn = load(network_path(name))
        try:
            exercise = create_exercise(wn, tmp_path / "ex", difficulty="medium", seed=SEED, days=1)
        except InputError as exc:  # a small network may not hold two leaks 600 m apart: it says so
            assert "apart" in str(exc), str(exc)
            exercise = create_exercise(wn, tmp_path / "ex", difficulty="medium", seed=SEED, days=1, leaks=1)
    assert_complete(exercise.folder)
    assert_hidden(exercise.folder)
    flows = np.asarray([leak.volume_m3() for leak in exercise.key.leaks])
    assert np.all(flows > 0)
    # the truth, answered at each leak's start on its pipe, is a perfect score on either rule
    truth = [Answer(leak.pipe, leak.start) for leak in exercise.key.leaks]
    key = read_answer_key(exercise.folder / "answer-key.json")
    for battledim in (False, True):
        team = score(key, {"truth": truth}, battledim=battledim).teams["truth"]
        assert (team.true_positives, team.false_positives, team.repeats) == (len(key.leaks), 0, 0)
        assert team.missed == [] or list(team.missed) == []


def test_a_network_that_serves_nobody_is_refused(tmp_path):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="wntr")
        wn = load(network_path("hanoi-exeter"))  # EPANET's demand-driven pressures are not physical
    with pytest.raises(InputError, match="no pipe keeps 10 m"):
        create_exercise(wn, tmp_path / "ex", seed=1, days=1)
    assert not (tmp_path / "ex").exists()
