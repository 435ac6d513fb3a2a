"""`nrwkit pressure scenario` as a mentor runs it: on a DMA nrwkit designed, and on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import wntr
from click.testing import CliRunner
from test_pressure import _line_zone

from nrwkit import dma
from nrwkit.network.io import write_inp
from nrwkit.networks import load
from nrwkit_cli.main import cli


@pytest.fixture(scope="module")
def tagged_net3(tmp_path_factory) -> Path:
    wn = load("net3")
    design, _ = dma.design(wn, size=(10, 40), size_by="nodes", water_age=False, seed=0)
    path = tmp_path_factory.mktemp("net3") / "net3-dmas.inp"
    dma.write_design_inp(wn, design, path)
    return path


@pytest.fixture
def line_inp(tmp_path) -> Path:
    path = tmp_path / "line.inp"
    wntr.network.write_inpfile(_line_zone(), str(path))
    return path


def _run(*args: str):
    return CliRunner().invoke(cli, ["pressure", "scenario", *args])


def test_json_on_a_designed_dma(tagged_net3):
    result = _run(str(tagged_net3), "--zone", "DMA-01", "--mode", "critical", "--target", "20", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["prv"]["mode"] == "critical" and data["zone"]["name"] == "DMA-01"
    assert data["after"]["critical_pressure_m"] == pytest.approx(20.0, abs=0.5)
    assert data["after"]["leakage_m3_per_day"] < data["before"]["leakage_m3_per_day"]
    assert 0 < data["leakage_reduction_percent"] < 100


def test_text_with_the_modes_compared(line_inp):
    result = _run(str(line_inp), "--inlet", "P1", "--target", "20", "--mode", "flow", "--compare",
                  "--cost", "0.5")
    assert result.exit_code == 0, result.output
    for text in ("flow-modulated", "average zone pressure (m)", "night-day factor (h/day)",
                 "burst frequency factor 1.4", "water saved worth", "the modes, each at its lowest"):
        assert text in result.output
    for mode in ("fixed", "time", "flow", "critical"):
        assert f"\n{mode} " in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--zone", "NOPE", "--target", "20"], "no DMA 'NOPE'"),
    (["--zone", "DMA-01", "--inlet", "10", "--target", "20"], "either by --zone"),
    (["--zone", "DMA-01", "--target", "20", "--n1", "3.5"], "3.5"),
    (["--zone", "DMA-01", "--target", "-1"], "-1"),
])
def test_bad_options_exit_2(tagged_net3, args, message):
    result = _run(str(tagged_net3), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_unreachable_target_and_flat_demand_exit_2_and_write_nothing(line_inp, tmp_path):
    report = tmp_path / "r.html"
    result = _run(str(line_inp), "--inlet", "P1", "--target", "95", "--report", str(report))
    assert result.exit_code == 2 and "give a target of at most" in result.output and not report.exists()
    flat = tmp_path / "flat.inp"
    write_inp(_line_zone(pattern=False), flat)
    result = _run(str(flat), "--inlet", "P1", "--target", "20", "--mode", "time")
    assert result.exit_code == 2 and "no demand" in result.output
    result = _run(str(line_inp), "--inlet", "P99", "--target", "20")
    assert result.exit_code == 2 and "P99" in result.output


def test_report_and_workspace_run(line_inp, tmp_path):
    report = tmp_path / "out" / "pressure.html"
    result = _run(str(line_inp), "--inlet", "P1", "--target", "20", "--report", str(report))
    assert result.exit_code == 0 and report.is_file() and f"wrote {report}" in result.output
    again = _run(str(line_inp), "--inlet", "P1", "--target", "20", "--report", str(report))
    assert again.exit_code == 2 and "--overwrite" in again.output
    ws = tmp_path / "ws"
    assert CliRunner().invoke(cli, ["init", str(ws), "--network", str(line_inp), "-q"]).exit_code == 0
    saved = _run(str(ws), "--inlet", "P1", "--target", "20", "--mode", "time", "--json")
    assert saved.exit_code == 0, saved.output
    runs = json.loads((ws / "runs.json").read_text())["runs"]
    assert [r["analysis"] for r in runs] == ["pressure-scenario"]
    assert sorted(Path(f).suffix for f in runs[0]["files"]) == [".html", ".json"]
