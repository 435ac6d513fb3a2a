"""`nrwkit exercise create` then `score`, as a trainer runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nrwkit_cli.main import cli


@pytest.fixture(scope="module")
def exercise(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ex") / "ltown"
    result = CliRunner().invoke(cli, ["exercise", "create", "l-town", "--out", str(out), "--days", "1",
                                      "--difficulty", "medium", "--seed", "11"])
    assert result.exit_code == 0, result.output
    return out


def _answers(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("pipe_or_node,time\n" + "".join(f"{a},{t}\n" for a, t in rows), encoding="utf-8")
    return path


def test_the_truth_scores_perfectly_and_a_guess_does_not(exercise, tmp_path):
    key = json.loads((exercise / "answer-key.json").read_text())
    truth = _answers(tmp_path / "truth.csv", [(leak["pipe"], leak["start"]) for leak in key["leaks"]])
    guess = _answers(tmp_path / "guess.csv", [("p1", key["leaks"][0]["start"])])
    result = CliRunner().invoke(cli, ["exercise", "score", str(exercise / "answer-key.json"), str(truth),
                                      str(guess), "--battledim", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    perfect = data["teams"]["truth"]
    assert perfect["true_positives"] == len(key["leaks"]) and perfect["false_positives"] == 0
    assert perfect["mean_detection_delay_h"] == 0 and perfect["missed"] == []
    assert data["leaderboard"][0]["team"] == "truth"
    assert data["battledim"]["total_eur"] == data["battledim"]["teams"]["truth"]["total_eur"] > 0
    text = CliRunner().invoke(cli, ["exercise", "score", str(exercise / "answer-key.json"), str(truth)])
    assert text.exit_code == 0 and "true positives" in text.output


def test_bad_answers_and_a_debrief_in_the_bundle_exit_2(exercise, tmp_path):
    key = exercise / "answer-key.json"
    unknown = _answers(tmp_path / "unknown.csv", [("nope", "2026-01-05 10:00")])
    result = CliRunner().invoke(cli, ["exercise", "score", str(key), str(unknown)])
    assert result.exit_code == 2 and "unknown.csv, row 1" in result.output and "fix:" in result.output
    late = _answers(tmp_path / "late.csv", [("p1", "2030-01-01 00:00")])
    result = CliRunner().invoke(cli, ["exercise", "score", str(key), str(late)])
    assert result.exit_code == 2 and "late.csv" in result.output
    inside = exercise / "trainee" / "debrief.html"
    truth = _answers(tmp_path / "t.csv", [("p1", "2026-01-05 10:00")])
    result = CliRunner().invoke(cli, ["exercise", "score", str(key), str(truth), "--report", str(inside)])
    assert result.exit_code == 2 and "trainee" in result.output and not inside.exists()
    tampered = tmp_path / "key.json"
    tampered.write_text('{"network": "trainee/network.inp", "period": {}}')
    result = CliRunner().invoke(cli, ["exercise", "score", str(tampered), str(truth)])
    assert result.exit_code == 2 and "key.json" in result.output
