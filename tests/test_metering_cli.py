"""`nrwkit metering assess` as an analyst runs it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_metering import CURVES, METERS, PROFILES

from nrwkit_cli.main import cli


def _files(tmp_path):
    paths = {}
    for name, text in (("curves", CURVES), ("profiles", PROFILES), ("meters", METERS)):
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text)
    return paths


def _population(paths):
    """The command-line arguments of the three population files."""
    return [
        "--meters",
        str(paths["meters"]),
        "--curves",
        str(paths["curves"]),
        "--profiles",
        str(paths["profiles"]),
    ]


def test_assess_json_and_out(tmp_path):
    p = _files(tmp_path)
    out = tmp_path / "metering.json"
    args = [
        "metering",
        "assess",
        *_population(p),
        "--year",
        "2025",
        "--monte-carlo",
        "100",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == json.loads(out.read_text())
    assert data["meters"] == 2 and 0 < data["under_registration"]["fraction"] < 1
    for key in (
        "registered_m3_per_year",
        "true_m3_per_year",
        "apparent_losses_m3_per_year",
        "weighted_error_percent",
        "groups",
        "warnings",
    ):
        assert key in data
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_bad_meters_file_exits_2(tmp_path):
    p = _files(tmp_path)
    p["meters"].write_text(METERS + "m9,Z,home,2010,5\n")
    result = CliRunner().invoke(cli, ["metering", "assess", *_population(p), "--year", "2025"])
    assert result.exit_code == 2 and "row 3" in result.output and "fix:" in result.output


def test_profile_from_a_log(tmp_path):
    log = tmp_path / "log.csv"
    # 15-minute flows held over each interval: 0, 30, 300 and 5 l/h -> 0, 7.5, 75 and 1.25 litres
    log.write_text(
        "time,flow_l_per_h\n2026-01-01T00:00,0\n2026-01-01T00:15,30\n2026-01-01T00:30,300\n"
        "2026-01-01T00:45,5\n2026-01-01T01:00,0\n"
    )
    out = tmp_path / "profiles.csv"
    result = CliRunner().invoke(
        cli, ["metering", "profile", str(log), "--name", "home", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    shares = {
        (b["flow_low_l_per_h"], b["flow_high_l_per_h"]): b["volume_share"]
        for b in json.loads(result.output)["bands"]
    }
    assert shares[(0.0, 12.0)] == pytest.approx(1.25 / 83.75)
    assert shares[(24.0, 50.0)] == pytest.approx(7.5 / 83.75)
    assert shares[(200.0, 500.0)] == pytest.approx(75 / 83.75)
    assert out.read_text().startswith("profile,flow_low_l_per_h,flow_high_l_per_h,volume_share")


def test_replacement_programme(tmp_path):
    p = _files(tmp_path)
    args = [
        "metering",
        "replacement",
        *_population(p),
        "--year",
        "2025",
        "--meter-cost",
        "60",
        "--discount-rate",
        "0.05",
        "--tariff",
        "1.2",
    ]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    group = data["groups"][0]
    assert 1 <= group["optimal_replacement_age_years"] <= 30
    assert [point["T"] for point in group["cost_curve"]] == list(range(1, 31))
    assert min(point["eac"] for point in group["cost_curve"]) == pytest.approx(group["min_eac"], rel=1e-6)
    assert "programme" in data
    report = tmp_path / "replacement.html"
    written = CliRunner().invoke(cli, [*args, "--report", str(report)])
    assert written.exit_code == 0 and "equivalent annual cost" in report.read_text().lower()
    no_tariff = CliRunner().invoke(cli, args[:-2])
    assert no_tariff.exit_code == 2 and "tariff" in no_tariff.output


def test_sizing_on_the_example_data():
    from pathlib import Path

    examples = Path(__file__).resolve().parents[1] / "docs" / "examples" / "metering"
    result = CliRunner().invoke(
        cli,
        [
            "metering",
            "sizing",
            "--meters",
            str(examples / "meters.csv"),
            "--curves",
            str(examples / "curves.csv"),
            "--profiles",
            str(examples / "profiles.csv"),
            "--year",
            "2025",
            "--ratio",
            "40",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["meters_checked"] > 0 and data["ratio_r"] == 40
    assert data["oversized"] == len(data["meters"]) and data["recoverable_m3_per_year"] >= 0
