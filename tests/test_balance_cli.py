"""`nrwkit balance` as an analyst reads it: names, units and limits agree in text, JSON and HTML."""

from __future__ import annotations

import copy
import html
import json
import re

import pytest
import yaml
from click.testing import CliRunner
from test_balance import EXAMPLE

from nrwkit_cli.main import cli


@pytest.fixture
def balance_file(tmp_path):
    path = tmp_path / "balance.yaml"
    path.write_text(yaml.safe_dump(EXAMPLE))
    return path


def test_help_shows_every_option():
    result = CliRunner().invoke(cli, ["balance", "--help"])
    assert result.exit_code == 0
    for option in ("--report FILE", "--json", "--monte-carlo N", "--seed", "--overwrite", "trend"):
        assert option in result.output
    assert "nrwkit balance [OPTIONS] INPUT.yaml" in result.output


def test_text_json_and_html_show_the_same_names_units_and_limits(balance_file, tmp_path):
    runner = CliRunner()
    report = tmp_path / "b.html"
    text = runner.invoke(cli, ["balance", str(balance_file), "--report", str(report)])
    assert text.exit_code == 0, text.output
    data = json.loads(runner.invoke(cli, ["balance", str(balance_file), "--json"]).output)
    page = html.unescape(report.read_text())
    figures = data["figures"]
    assert figures["carl"]["name"] == "Current Annual Real Losses (CARL)"
    assert figures["carl"]["unit"] == "m3/year"
    assert figures["uarl"]["name"] == "Unavoidable Annual Real Losses (UARL)"
    assert figures["ili"]["unit"] == "dimensionless"
    assert figures["nrw_percent_of_system_input"]["unit"] == "% of system input volume"
    assert figures["real_losses_per_connection_per_day"]["unit"] == "litres/connection/day"
    assert set(figures) == set(data["volumes"]) | (set(data["indicators"]) - {
        "wbi_band_developed", "wbi_band_developing"})
    # the worked example by hand: real losses 2,707,615 m3 with a 95 % limit of 220,551 m3
    rl = figures["real_losses"]
    assert rl["low"] == pytest.approx(2_707_615.4 - 220_551, abs=1)
    assert rl["high"] == pytest.approx(2_707_615.4 + 220_551, abs=1)
    assert rl["ci95_percent"] == pytest.approx(100 * 220_551 / 2_707_615.4, abs=0.01)
    # NRW 30.50 % of system input: limits absolute in percentage points, and relative
    nrw = figures["nrw_percent_of_system_input"]
    assert nrw["value"] == pytest.approx(30.5)
    assert nrw["high"] - nrw["value"] == pytest.approx(nrw["value"] * nrw["ci95_percent"] / 100)
    assert data["low_high"]["real_losses"] == [rl["low"], rl["high"]]
    assert data["ci95"]["real_losses"] * 100 == pytest.approx(rl["ci95_percent"])
    # shown with 0 decimals for m3, 1 for litres per connection, 2 otherwise
    decimals = {"m3/year": 0, "litres/connection/day": 1}
    lines = text.output.splitlines()
    for key, f in figures.items():
        d = decimals.get(f["unit"], 2)
        value, low, high = (f"{f[k]:,.{d}f}" for k in ("value", "low", "high"))
        shown = f"{low} to {high}"
        limit = f"± {f['ci95_percent']:.1f} %"
        row = [line for line in lines if line.startswith(f["name"] + "  ")]
        assert len(row) >= 1, key
        assert value in row[0] and shown in row[0] and limit in row[0], (key, row[0])
        cells = [c for c in re.findall(r"<tr>(.*?)</tr>", page) if f"<td>{f['name']}</td>" in c]
        assert cells, key
        assert f">{value}<" in cells[0] and f">{shown}<" in cells[0] and f">{limit}<" in cells[0]


def test_warnings_are_findings_everywhere(tmp_path):
    data = copy.deepcopy(EXAMPLE)
    data["network"]["connections"] = 2_000
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(data))
    report = tmp_path / "small.html"
    runner = CliRunner()
    text = runner.invoke(cli, ["balance", str(path), "--report", str(report)]).output
    out = json.loads(runner.invoke(cli, ["balance", str(path), "--json"]).output)
    codes = [w["code"] for w in out["warnings"]]
    # 2,000 connections < 3,000 and 2,000 / 500 km = 4 per km < 20 per km
    assert codes == ["balance-uarl-applicability", "balance-low-connection-density"]
    page = report.read_text()
    for w in out["warnings"]:
        assert w["severity"] == "warning" and w["fix"]
        assert f"warning: {w['code']}: {w['message']} ({w['fix']})" in text
        assert f"<code>{w['code']}</code> {html.escape(w['message'])}." in page
        assert html.escape(w["fix"]) in page


def test_monte_carlo_is_shown_and_seeded(balance_file, tmp_path):
    runner = CliRunner()
    args = ["balance", str(balance_file), "--monte-carlo", "3000", "--seed", "5"]
    first, again = runner.invoke(cli, args), runner.invoke(cli, args)
    assert first.exit_code == 0 and first.output == again.output
    assert "Monte Carlo 95 % range" in first.output and "3,000 draws, seed 5" in first.output
    data = json.loads(runner.invoke(cli, [*args, "--json"]).output)
    mc = data["monte_carlo"]["results"]["real_losses"]
    # sampling the same normal inputs: the Monte Carlo range is close to the first-order one
    assert mc["low"] == pytest.approx(data["figures"]["real_losses"]["low"], rel=0.02)
    assert f"{mc['low']:,.0f} to {mc['high']:,.0f}" in first.output


def test_out_saves_the_run_and_keeps_the_input_for_the_trend(balance_file, tmp_path):
    runner = CliRunner()
    ws = tmp_path / "ws"
    assert runner.invoke(cli, ["init", str(ws), "--network", "net1", "-q"]).exit_code == 0
    first = runner.invoke(cli, ["balance", str(balance_file), "--out", str(ws)])
    assert first.exit_code == 0, first.output
    runs = json.loads((ws / "runs.json").read_text())["runs"]
    assert [r["analysis"] for r in runs] == ["balance"]
    saved = [ws / f for f in runs[0]["files"]]
    assert sorted(p.suffix for p in saved) == [".html", ".json"] and all(p.is_file() for p in saved)
    assert json.loads(saved[[p.suffix for p in saved].index(".json")].read_text())["volumes"]
    kept = ws / "balances" / balance_file.name
    assert kept.read_bytes() == balance_file.read_bytes()
    assert f"wrote {kept}" in first.output
    # the same file again: a second run, the kept copy untouched
    again = runner.invoke(cli, ["balance", str(balance_file), "--out", str(ws)])
    assert again.exit_code == 0 and f"wrote {kept}" not in again.output
    assert len(json.loads((ws / "runs.json").read_text())["runs"]) == 2
    # a different balance of the same name: refused before anything is written
    other = copy.deepcopy(EXAMPLE)
    other["period_days"] = 366
    changed = tmp_path / "elsewhere" / balance_file.name
    changed.parent.mkdir()
    changed.write_text(yaml.safe_dump(other))
    before = sorted(p.name for p in (ws / "outputs").iterdir())
    refused = runner.invoke(cli, ["balance", str(changed), "--out", str(ws)])
    assert refused.exit_code == 2 and "already exists" in refused.output and "--overwrite" in refused.output
    assert sorted(p.name for p in (ws / "outputs").iterdir()) == before
    assert kept.read_bytes() == balance_file.read_bytes()
    replaced = runner.invoke(cli, ["balance", str(changed), "--out", str(ws), "--overwrite"])
    assert replaced.exit_code == 0 and kept.read_bytes() == changed.read_bytes()
    trend = runner.invoke(cli, ["balance", "trend", str(ws), "--json"])
    assert trend.exit_code == 0 and json.loads(trend.output)["balances"] == [str(kept)]


def test_out_must_be_a_workspace(balance_file, tmp_path):
    result = CliRunner().invoke(cli, ["balance", str(balance_file), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "workspace" in result.output
