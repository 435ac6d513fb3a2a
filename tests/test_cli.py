"""The command line, through click's CliRunner."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from click.testing import CliRunner
from conftest import DATA
from planted import PLANTED, make_inp

import nrwkit
from nrwkit_cli.main import cli


@pytest.fixture
def run():
    runner = CliRunner()

    def _run(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return _run


def test_version_and_show_versions(run):
    assert run("--version").output.strip() == f"nrwkit, version {nrwkit.__version__}"
    out = run("--show-versions").output
    for package in ("nrwkit", "wntr", "geopandas", "GDAL", "PROJ"):
        assert package in out


@pytest.mark.parametrize("args", [[], ["inspect"], ["networks"], ["gis"], ["gis", "export"]])
def test_help_everywhere(run, args):
    result = run(*args, "--help")
    assert result.exit_code == 0
    assert "Usage: nrwkit" in result.output


def test_inspect_by_name_and_by_path_agree(run):
    by_name = json.loads(run("inspect", "net1", "--json").output)
    by_path = json.loads(run("inspect", str(nrwkit.networks.path("net1")), "--json").output)
    assert by_name == by_path


def test_inspect_json_shape(run):
    result = run("inspect", "l-town", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert set(data) == {"network", "findings", "options"}
    assert data["network"]["counts"]["junctions"] == 782
    assert data["network"]["flow_units"] == "CMH"
    for finding in data["findings"]:
        assert {"severity", "code", "elements", "message"} <= set(finding)


def test_inspect_text(run):
    result = run("inspect", "l-town")
    assert result.exit_code == 0
    assert "junctions  782" in result.output
    assert "mains length       43.16 km" in result.output
    assert "Findings: 0 error(s), 0 warning(s), 1 info" in result.output


def test_inspect_options_reach_the_checks(run, tmp_path):
    path = tmp_path / "grid.inp"
    path.write_text(make_inp())
    data = json.loads(run("inspect", str(path), "--json", "--min-pressure", "60").output)
    assert [f["code"] for f in data["findings"]] == ["low-pressure"]
    data = json.loads(run("inspect", str(path), "--json", "--min-pressure", "60",
                          "--no-simulation").output)
    assert data["findings"] == []


@pytest.mark.parametrize(("fail_on", "code"), [("never", 0), ("error", 0), ("warning", 1)])
def test_fail_on(run, tmp_path, fail_on, code):
    path = tmp_path / "dup.inp"
    path.write_text(make_inp(**PLANTED["duplicate-pipes"][0]))  # one warning
    assert run("inspect", str(path), "--fail-on", fail_on).exit_code == code


@pytest.mark.parametrize("name", ["bad_syntax.inp", "bad_values.inp", "bad_times.inp"])
def test_bad_input_exit_2_one_message_no_traceback(name):
    result = CliRunner().invoke(cli, ["inspect", str(DATA / name)])
    assert result.exit_code == 2
    assert result.output.startswith(f"nrwkit: error: {DATA / name}, line ")
    assert "fix: " in result.output
    assert "Traceback" not in result.output


def test_verbose_shows_traceback():
    result = CliRunner().invoke(cli, ["-v", "inspect", str(DATA / "bad_syntax.inp")])
    assert result.exit_code == 2
    assert "Traceback" in result.output


def test_missing_and_empty_files(tmp_path):
    result = CliRunner().invoke(cli, ["inspect", str(tmp_path / "nope.inp")])
    assert result.exit_code == 2 and "file not found" in result.output
    empty = tmp_path / "empty.inp"
    empty.write_text("")
    result = CliRunner().invoke(cli, ["inspect", str(empty)])
    assert result.exit_code == 2 and "defines no junctions" in result.output


def test_inspect_out_writes_workspace_and_guards_it(run, tmp_path):
    out = tmp_path / "ws"
    result = run("inspect", "net3", "--out", str(out), "--crs", "EPSG:32633")
    assert result.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "findings.csv", "inspect.json", "inspect.txt", "network.gpkg"]
    data = json.loads((out / "inspect.json").read_text())
    assert data["network"]["crs"] == "EPSG:32633"
    layer = gpd.read_file(out / "network.gpkg", layer="findings")
    assert len(layer) == sum(max(len(f["elements"]), 1) for f in data["findings"])
    assert layer.crs.to_epsg() == 32633

    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = CliRunner().invoke(cli, ["inspect", "net1", "--out", str(out)])
    assert again.exit_code == 2
    assert "already exists" in again.output and "--overwrite" in again.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert run("inspect", "net1", "--out", str(out), "--overwrite").exit_code == 0
    assert json.loads((out / "inspect.json").read_text())["network"]["name"] == "Net1.inp"


def test_bad_input_writes_nothing(tmp_path):
    out = tmp_path / "ws"
    result = CliRunner().invoke(cli, ["inspect", str(DATA / "bad_values.inp"), "--out", str(out)])
    assert result.exit_code == 2
    assert not out.exists() or list(out.iterdir()) == []


def test_networks_command(run):
    data = json.loads(run("networks", "--json").output)
    assert [d["name"] for d in data] == ["net1", "net3", "ky4", "l-town"]
    assert "l-town" in run("networks").output


def test_gis_export(run, tmp_path):
    out = tmp_path / "ky4.gpkg"
    result = CliRunner().invoke(cli, ["gis", "export", "ky4", str(out)])
    assert result.exit_code == 0
    assert "no CRS" in result.output
    assert len(gpd.read_file(out, layer="pipes")) == nrwkit.networks.load("ky4").num_pipes
    assert CliRunner().invoke(cli, ["gis", "export", "ky4", str(out)]).exit_code == 2
    result = run("gis", "export", "ky4", str(out), "--crs", "EPSG:2246", "--overwrite",
                 "--no-findings", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["crs"] == "EPSG:2246"
    described = nrwkit.networks.load("ky4").describe(level=1)
    assert data["layers"] == {
        "junctions": described["Nodes"]["Junctions"], "tanks": described["Nodes"]["Tanks"],
        "reservoirs": described["Nodes"]["Reservoirs"], "pipes": described["Links"]["Pipes"],
        "pumps": described["Links"]["Pumps"], "valves": described["Links"]["Valves"]}
    assert gpd.read_file(out, layer="pipes").crs.to_epsg() == 2246


def test_quiet_prints_nothing(run):
    assert run("-q", "inspect", "net1").output == ""


def test_console_script_end_to_end(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "nrwkit"
    assert script.exists(), "the nrwkit console script is not installed beside this Python"
    done = subprocess.run([str(script), "inspect", "net1", "--json"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["network"]["counts"]["junctions"] == 9
    bad = subprocess.run([str(script), "inspect", str(DATA / "bad_syntax.inp")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.startswith("nrwkit: error: ") and "Traceback" not in bad.stderr


def test_table_headers_are_words_with_units():
    from nrwkit_cli.options import column_label, format_table

    assert column_label("leak_flow_m3h") == "leak flow (m3/h)"
    assert column_label("demand_m3_per_day") == "demand (m3/day)"
    assert column_label("min_pressure_m") == "min pressure (m)"
    assert column_label("size (nodes)") == "size (nodes)"
    assert format_table([(1, 2.5)], ["rank", "leak_flow_m3h"]).splitlines()[0] == "rank  leak flow (m3/h)"


def test_dma_design_saves_into_a_workspace_through_save_run(tmp_path):
    import json

    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path / "ws"), "--network", "net1"]).exit_code == 0
    result = runner.invoke(cli, ["dma", "design", str(tmp_path / "ws"), "--no-water-age", "-q"])
    assert result.exit_code in (0, 1), result.output
    runs = json.loads((tmp_path / "ws" / "runs.json").read_text(encoding="utf-8"))["runs"]
    assert len(runs) == 1 and runs[0]["analysis"] == "dma-design"
    assert sorted(f.rsplit(".", 1)[1] for f in runs[0]["files"]) == ["gpkg", "html", "inp", "json"]
    assert all((tmp_path / "ws" / f).is_file() for f in runs[0]["files"])
