"""`nrwkit dma ...` through click's CliRunner, and the DMA report in a browser."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import wntr
from browser import AVAILABLE, REASON, offline_browser, open_report
from click.testing import CliRunner

from nrwkit.networks import load
from nrwkit_cli.main import cli

NET3 = ["net3", "--size-by", "nodes", "--size", "10:40", "--exclude-diameter-above", "1", "--no-water-age"]
LTOWN = ["l-town", "--size-by", "nodes", "--size", "50:200", "--no-water-age"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def net3_design(tmp_path_factory):
    out = tmp_path_factory.mktemp("dma")
    result = invoke("dma", "design", *NET3, "--out", str(out / "net3.gpkg"),
                    "--report", str(out / "net3.html"), "--json")
    return out, result


@pytest.fixture(scope="module")
def ltown_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("dma-ltown")
    result = invoke("dma", "design", *LTOWN, "--report", str(out / "ltown.html"))
    assert result.exit_code == 0, result.output
    return out / "ltown.html", result


@pytest.mark.parametrize("args", [["dma"], ["dma", "design"], ["dma", "from-polygons"], ["dma", "check"]])
def test_help(args):
    result = invoke(*args, "--help")
    assert result.exit_code == 0
    assert "Usage: nrwkit" in result.output


def test_design_json_and_files(net3_design):
    out, result = net3_design
    data = json.loads(result.stdout)
    assert {"dmas", "transmission", "metrics", "changes", "warnings", "outputs"} <= set(data)
    # warnings are findings: code, severity, message (and elements, fix)
    for warning in data["warnings"]:
        assert {"code", "severity", "message", "elements", "element_type"} <= set(warning)
        assert warning["code"].startswith("dma-") and warning["severity"] in ("warning", "info")
    dma = data["dmas"][0]
    for key in ("id", "junctions", "connections", "demand_m3_per_day", "length_km", "inlets",
                "boundary_valves", "min_pressure_m", "aznp_m", "critical_node", "elevation_range_m"):
        assert key in dma
    for key in ("n_dmas", "n_meters", "n_boundary_valves", "min_pressure_before_m", "min_pressure_after_m",
                "delivered_demand_fraction", "todini_before", "todini_after", "modularity", "size_cv"):
        assert key in data["metrics"]
    # the exit code says whether the checks pass
    assert result.exit_code == (0 if data["metrics"]["passes"] else 1)
    assert sorted(data["outputs"]) == sorted(str(out / n) for n in ("net3.gpkg", "net3.inp", "net3.html"))
    layers = {name for name, _ in __import__("pyogrio").list_layers(out / "net3.gpkg")}
    assert {"dmas", "boundary", "junctions", "pipes"} <= layers
    # the .inp: boundary valves closed, every junction tagged with its DMA
    tagged = wntr.network.WaterNetworkModel(str(out / "net3.inp"))
    valves = {v for d in data["dmas"] for v in d["boundary_valves"]}
    assert valves and all(str(tagged.get_link(v).initial_status) == "Closed" for v in valves)
    in_dmas = {j: d["id"] for d in data["dmas"] for j in d["junctions"]}
    for name, junction in tagged.junctions():
        assert f"dma={in_dmas.get(name, 'transmission')}" in str(junction.tag)
    html = (out / "net3.html").read_text()
    assert "Field schedule" in html and "install meter" in html and "Bokeh" in html


def test_outputs_never_overwritten(net3_design):
    out, _ = net3_design
    before = (out / "net3.gpkg").stat().st_mtime_ns
    result = invoke("dma", "design", *NET3, "--out", str(out / "net3.gpkg"))
    assert result.exit_code == 2
    assert "exists" in result.output and "--overwrite" in result.output
    assert (out / "net3.gpkg").stat().st_mtime_ns == before


def test_check_and_from_polygons_reproduce_the_design(net3_design):
    out, result = net3_design
    data = json.loads(result.stdout)
    meters = sorted(p for d in data["dmas"] for p in d["inlets"])
    for args in (["check", "net3", str(out / "net3.gpkg")], ["check", "net3", str(out / "net3.inp")]):
        again = json.loads(invoke("dma", *args, "--size-by", "nodes", "--no-water-age", "--json").stdout)
        assert sorted(p for d in again["dmas"] for p in d["inlets"]) == meters
        assert again["metrics"]["n_boundary_valves"] == data["metrics"]["n_boundary_valves"]
    drawn = json.loads(invoke("dma", "from-polygons", "net3", str(out / "net3.gpkg"), "--size-by", "nodes",
                              "--no-water-age", "--json").stdout)
    assert {d["id"]: sorted(d["junctions"]) for d in drawn["dmas"]} == \
        {d["id"]: sorted(d["junctions"]) for d in data["dmas"]}


@pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")
def test_overlapping_polygons_are_an_input_error(net3_design, tmp_path):
    out, _ = net3_design
    polygons = gpd.read_file(out / "net3.gpkg", layer="dmas")
    grown = polygons.copy()
    grown.loc[0, "geometry"] = polygons.geometry[0].buffer(400.0)
    grown.to_file(tmp_path / "overlap.gpkg", layer="dmas")
    result = invoke("dma", "from-polygons", "net3", str(tmp_path / "overlap.gpkg"), "--size-by", "nodes")
    assert result.exit_code == 2
    assert "two DMA polygons" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("args", "words"), [
    (["net3", "--size-by", "nodes", "--size", "50:10"], "is empty"),
    (["net3", "--size-by", "nodes", "--size", "5000:6000"], "no DMA can be formed"),
    (["net3", "--size-by", "connections"], "allocate-customers"),
    (["net3", "--size-by", "nodes", "--size", "ten"], "MIN:MAX"),
])
def test_bad_input_exit_2(args, words):
    result = invoke("dma", "design", *args)
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert "Traceback" not in result.output


def test_workspace_outputs(tmp_path):
    ws = tmp_path / "ws"
    assert invoke("init", str(ws), "--network", "net3").exit_code == 0
    result = invoke("dma", "design", str(ws), *NET3[1:])
    assert result.exit_code in (0, 1), result.output
    names = sorted(p.suffix for p in (ws / "outputs").glob("*dma-design*"))
    assert names == [".gpkg", ".html", ".inp", ".json"]
    # a second run never replaces the first
    invoke("dma", "design", str(ws), *NET3[1:])
    assert len(list((ws / "outputs").glob("*dma-design*.gpkg"))) == 2


def test_network_without_coordinates(tmp_path):
    wn = load("net3")
    for _, node in wn.nodes():
        node.coordinates = (0.0, 0.0)
    wntr.network.write_inpfile(wn, str(tmp_path / "flat.inp"))
    result = invoke("dma", "design", str(tmp_path / "flat.inp"), *NET3[1:], "--out", str(tmp_path / "d.gpkg"))
    assert result.exit_code in (0, 1), result.output
    assert "no coordinates" in result.output
    assert "INFO    dma-no-coordinates" in result.output
    as_json = invoke("dma", "design", str(tmp_path / "flat.inp"), *NET3[1:],
                     "--out", str(tmp_path / "e.gpkg"), "--json")
    notes = [w for w in json.loads(as_json.stdout)["warnings"] if w["code"] == "dma-no-coordinates"]
    assert len(notes) == 1 and notes[0]["severity"] == "info" and "no coordinates" in notes[0]["message"]
    layers = {name for name, _ in __import__("pyogrio").list_layers(tmp_path / "d.gpkg")}
    assert "dmas" not in layers and "junctions" in layers


def test_text_table(ltown_report):
    _, result = ltown_report
    assert "DMA-01" in result.output
    assert "checks: pass" in result.output


@pytest.mark.skipif(not AVAILABLE, reason=REASON)
def test_report_map_renders(ltown_report):
    path, _ = ltown_report
    with offline_browser() as driver:
        seconds = open_report(driver, path)
        glyphs = driver.execute_script(
            "return Bokeh.documents[0].roots()[0].renderers"
            ".map(r => [r.glyph.type, r.data_source.get_length()]);")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    kinds = {kind for kind, _ in glyphs}
    assert {"Patches", "MultiLine", "Scatter"} <= kinds
    assert any(kind == "MultiLine" and n == len(load("l-town").pipe_name_list) for kind, n in glyphs)
    assert errors == []
    assert seconds < 10
