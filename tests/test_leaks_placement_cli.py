"""Logger placement, and the `nrwkit leaks` commands through click's CliRunner."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from nrwkit.errors import InputError
from nrwkit.leaks import Leak, expected_search_area, place_loggers, simulate_leaks
from nrwkit.networks import load
from nrwkit_cli.main import cli

HOUR = 3600


def test_expected_search_area_by_hand():
    """Two leaks, one logger: identical signatures are indistinguishable, distinct ones are not."""
    lengths = np.array([1.0, 2.0])
    same = np.array([[1.0, 1.0]])  # sensor x junctions: both leaks give the same reading
    # p(k|j) = 1/2 each: to hold 90 % a crew surveys both junctions' mains (3 km), for either leak
    area = expected_search_area(same, np.array([0, 1]), lengths, flow_m3s=1.0, sigma_m=1.0)
    assert area == pytest.approx(3.0)
    apart = np.array([[1.0, 0.0], [0.0, 1.0]])  # two loggers, each sees one leak only
    # misfit of the other junction: (f/sigma)^2 |s_j|^2 = 100 -> its probability ~ e^-50
    area = expected_search_area(apart, np.array([0, 1]), lengths, flow_m3s=10.0, sigma_m=1.0)
    assert area == pytest.approx((1.0 + 2.0) / 2)


def test_greedy_loggers_beat_random_and_spread_ones():
    placement = place_loggers(load("net3"), 4, seed=0)
    assert len(placement.loggers) == 4 == len(set(placement.loggers))
    assert placement.expected_search_km <= placement.random_km
    assert placement.expected_search_km <= placement.spread_km
    again = place_loggers(load("net3"), 4, seed=0)
    assert again.loggers == placement.loggers  # seeded


def test_existing_loggers_are_kept_and_bad_candidates_refused():
    wn = load("net3")
    placement = place_loggers(wn, 2, existing=["105"], seed=1)
    assert "105" not in placement.loggers and len(placement.loggers) == 2
    with pytest.raises(InputError, match="not junctions"):
        place_loggers(wn, 2, candidates=["nope"])
    with pytest.raises(InputError, match="count=0"):
        place_loggers(wn, 0)


@pytest.fixture(scope="module")
def readings_csv(tmp_path_factory):
    wn = load("net3")
    wn.options.time.duration = 4 * HOUR
    run = simulate_leaks(wn, [Leak("123", flow_m3s=0.004)], duration_s=4 * HOUR, report_step_s=900)
    sensors = ["105", "111", "119", "141", "157", "167", "183", "199", "213", "229", "241", "255"]
    frame = run.pressure_m[sensors] + np.random.default_rng(2).normal(0, 0.02, size=(len(run.pressure_m), 12))
    frame["dead"] = 12.0
    path = tmp_path_factory.mktemp("leaks") / "readings.csv"
    frame.rename_axis("time").to_csv(path)
    return path


def test_locate_command_json_and_report(readings_csv, tmp_path):
    report = tmp_path / "locate.html"
    result = CliRunner().invoke(cli, ["leaks", "locate", "net3", "--readings", str(readings_csv), "--json",
                                      "--top", "5", "--report", str(report)])
    # a 4 l/s leak among Net3's 700 l/s, hourly readings: the data cannot separate the candidates,
    # said with exit 1 and a warning, the ranking still in the JSON
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["separable"] is False and any("cannot separate" in w["message"] for w in data["warnings"])
    for w in data["warnings"]:  # each warning a finding's dict: code, severity, message (and fix)
        assert {"code", "severity", "message", "elements", "element_type"} <= set(w)
        assert w["severity"] == "warning" and re.fullmatch(r"leaks(-[a-z0-9]+)+", w["code"])
    assert {"candidates", "search_area", "method", "warnings", "sensors"} <= set(data)
    assert len(data["candidates"]) == 5
    assert {"node", "probability", "leak_flow_m3h"} <= set(data["candidates"][0])
    assert {"pipes", "length_km", "probability"} <= set(data["search_area"])
    assert "dead" not in data["sensors"] and any("dead" in w["message"] for w in data["warnings"])
    dropped = [w for w in data["warnings"] if w["code"] == "leaks-logger-not-junction"]
    assert [w["elements"] for w in dropped] == [["dead"]] and dropped[0]["fix"]
    text = report.read_text()
    assert "Leak localisation" in text and "NO ANSWER" in text
    # no headline figure a crew could act on: the no-answer card, not "most probable junction"
    assert "do not send a crew" in text and "most probable junction<" not in text


def test_locate_command_text_and_bad_input(readings_csv, tmp_path):
    result = CliRunner().invoke(cli, ["leaks", "locate", "net3", "--readings", str(readings_csv)])
    assert result.exit_code == 1, result.output
    assert "no answer" in result.output and "probability" not in result.output  # a warning, not a number
    result = CliRunner().invoke(cli, ["leaks", "locate", "net3", "--readings", str(readings_csv),
                                      "--demand-error", "0", "--resimulate", "0", "--max-leak", "100"])
    assert result.exit_code in (0, 1), result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("when,105\n0,50\n")
    result = CliRunner().invoke(cli, ["leaks", "locate", "net3", "--readings", str(bad)])
    assert result.exit_code == 2 and "no 'time' column" in result.output


def test_place_loggers_command():
    result = CliRunner().invoke(cli, ["leaks", "place-loggers", "net3", "--count", "3", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["loggers"]) == 3 and data["expected_search_km"] <= data["random_km"]


def test_locate_window_in_hours(readings_csv):
    # the fixture's readings run 0..4 h every 15 minutes (Net3 steps hourly; the simulation
    # reports at the step asked): a window of 1..3 h keeps 9 readings, one bin each
    assert len(pd.read_csv(readings_csv)) == 17
    ok = CliRunner().invoke(cli, ["leaks", "locate", "net3", "--readings", str(readings_csv),
                                  "--window", "1:3", "--json"])
    assert ok.exit_code in (0, 1), ok.output
    assert json.loads(ok.stdout)["details"]["bins"] == 9
    for bad in ("3:1", "x:2", "5"):
        result = CliRunner().invoke(cli, ["leaks", "locate", "net3", "--readings", str(readings_csv),
                                          "--window", bad])
        assert result.exit_code == 2 and "--window" in result.output


def test_place_loggers_on_a_workspace_saves_the_run(tmp_path):
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(ws), "--network", "net1", "-q"]).exit_code == 0
    result = runner.invoke(cli, ["leaks", "place-loggers", str(ws), "--count", "2", "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    runs = json.loads((ws / "runs.json").read_text())["runs"]
    assert [r["analysis"] for r in runs] == ["leaks-place-loggers"]
    saved = json.loads((ws / runs[0]["files"][0]).read_text())
    assert saved == printed and len(saved["loggers"]) == 2 and saved["options"]["seed"] == 3
