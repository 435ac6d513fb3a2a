"""GeoPackage export: every layer reads back (with its CRS) and matches the model."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
from planted import PLANTED, make_inp

from nrwkit import gis
from nrwkit.errors import CRSError, OutputExistsError
from nrwkit.network import read_inp, run_checks


def test_layers_read_back_with_crs(ltown, tmp_path):
    out = gis.write_geopackage(ltown, tmp_path / "ltown.gpkg", crs="EPSG:32633")
    layers = dict(pyogrio.list_layers(out))
    assert layers == {"junctions": "Point", "tanks": "Point", "reservoirs": "Point",
                      "pipes": "LineString", "pumps": "LineString", "valves": "LineString",
                      "nrwkit_model": None}  # aspatial: the rest of the model as WNTR JSON
    counts = {"junctions": 782, "tanks": 1, "reservoirs": 2, "pipes": 905, "pumps": 1, "valves": 3}
    for layer, n in counts.items():
        frame = gpd.read_file(out, layer=layer)
        assert len(frame) == n
        assert frame.crs.to_epsg() == 32633
    pipes = gpd.read_file(out, layer="pipes").set_index("name")
    assert pipes.loc["p1", "length_m"] == pytest.approx(ltown.get_link("p1").length)
    assert pipes.loc["p1", "diameter_m"] == pytest.approx(ltown.get_link("p1").diameter)
    junctions = gpd.read_file(out, layer="junctions").set_index("name")
    assert junctions.loc["n1", "elevation_m"] == pytest.approx(ltown.get_node("n1").elevation)
    assert junctions.loc["n2", "base_demand_m3s"] == pytest.approx(
        ltown.get_node("n2").base_demand)
    x, y = ltown.get_node("n1").coordinates
    assert (junctions.loc["n1"].geometry.x, junctions.loc["n1"].geometry.y) == (x, y)


def test_without_crs_layers_have_none(net1, tmp_path):
    out = gis.write_geopackage(net1, tmp_path / "net1.gpkg")
    assert gpd.read_file(out, layer="pipes").crs is None
    # Net1 has no valves: the layer exists, empty
    assert len(gpd.read_file(out, layer="valves")) == 0


def test_pipe_vertices_are_kept(write_inp, tmp_path):
    wn = read_inp(write_inp(make_inp()))
    wn.get_link("P9").vertices = [(1120.0, 1040.0), (1080.0, 1060.0)]
    out = gis.write_geopackage(wn, tmp_path / "v.gpkg")
    pipes = gpd.read_file(out, layer="pipes").set_index("name")
    assert list(pipes.loc["P9"].geometry.coords) == [
        (1100.0, 1000.0), (1120.0, 1040.0), (1080.0, 1060.0), (1100.0, 1100.0)]


def test_findings_layer_one_point_per_element(write_inp, tmp_path):
    edits, _ = PLANTED["duplicate-pipes"]
    wn = read_inp(write_inp(make_inp(**edits)))
    found = run_checks(wn)
    out = gis.write_geopackage(wn, tmp_path / "f.gpkg", findings=found)
    layer = gpd.read_file(out, layer="findings")
    assert sorted(layer["element"]) == ["P9", "P9b"]
    assert set(layer["code"]) == {"parallel-pipes"}
    # a link finding sits at the middle of the pipe
    point = layer.geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx((1100.0, 1050.0))


def test_never_overwrites_and_never_leaves_partial_files(net1, tmp_path, monkeypatch):
    out = tmp_path / "net1.gpkg"
    gis.write_geopackage(net1, out)
    before = out.read_bytes()
    with pytest.raises(OutputExistsError):
        gis.write_geopackage(net1, out)

    calls = []

    def failing_write(*args, **kwargs):
        calls.append(kwargs["layer"])
        if len(calls) == 3:
            raise OSError("disk full")
        return real_write(*args, **kwargs)

    real_write = pyogrio.write_dataframe
    monkeypatch.setattr(pyogrio, "write_dataframe", failing_write)
    with pytest.raises(OSError, match="disk full"):
        gis.write_geopackage(net1, out, overwrite=True)
    assert out.read_bytes() == before
    with pytest.raises(OSError, match="disk full"):
        calls.clear()
        gis.write_geopackage(net1, tmp_path / "new.gpkg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net1.gpkg"]


def test_unknown_crs(net1, tmp_path):
    with pytest.raises(CRSError, match="unknown CRS 'EPSG:999999'"):
        gis.write_geopackage(net1, tmp_path / "x.gpkg", crs="EPSG:999999")


def test_results_attributes_match_the_simulation(tmp_path):
    from nrwkit.hydraulics import steady_state
    from nrwkit.networks import load

    wn = load("net1")
    state = steady_state(wn)
    out = gis.write_geopackage(wn, tmp_path / "r.gpkg", results=state)
    junctions = gpd.read_file(out, layer="junctions").set_index("name")
    pipes = gpd.read_file(out, layer="pipes").set_index("name")
    pumps = gpd.read_file(out, layer="pumps").set_index("name")
    assert junctions.loc["22", "pressure_m"] == pytest.approx(state.pressure_m["22"], rel=1e-6)
    assert pipes.loc["10", "flow_m3s"] == pytest.approx(state.flowrate_m3s["10"], rel=1e-6)
    # velocity = Q / (pi d^2 / 4), by hand
    import math

    d = wn.get_link("10").diameter
    assert pipes.loc["10", "velocity_ms"] == pytest.approx(
        abs(state.flowrate_m3s["10"]) / (math.pi * d * d / 4), rel=1e-3)
    # unit headloss x length = head difference between the pipe's ends (no minor loss)
    drop = state.head_m["10"] - state.head_m["11"]
    assert pipes.loc["10", "unit_headloss_m_per_km"] * wn.get_link("10").length / 1000 == \
        pytest.approx(drop, rel=1e-3)
    # the pump's head change is the head it adds
    assert pumps.loc["9", "head_change_m"] == pytest.approx(
        state.head_m["10"] - state.head_m["9"], rel=1e-3)
    assert pumps.loc["9", "head_change_m"] > 0


# ----------------------------------------------------------------------------- determinism
def _contents(path):
    import sqlite3

    with sqlite3.connect(path) as db:
        return db.execute("SELECT table_name, last_change FROM gpkg_contents ORDER BY table_name").fetchall()


def test_same_inputs_give_the_same_bytes_with_source_date_epoch(net1, tmp_path, monkeypatch):
    import hashlib
    import time

    findings = run_checks(net1, simulate=False)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    first = gis.write_geopackage(net1, tmp_path / "a.gpkg", crs="EPSG:32633", findings=findings)
    time.sleep(1.1)  # GDAL's own stamp would differ by now
    second = gis.write_geopackage(net1, tmp_path / "b.gpkg", crs="EPSG:32633", findings=findings)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(first) == digest(second)
    stamps = _contents(first)
    assert {stamp for _, stamp in stamps} == {"2026-01-01T00:00:00.000Z"}
    assert [name for name, _ in stamps] == sorted([*gis.LAYER_GEOMETRY, "findings", "nrwkit_model"])
    found = [gis.write_findings(net1, findings, tmp_path / f"f{k}.gpkg") for k in (1, 2)]
    assert digest(found[0]) == digest(found[1])
    assert {stamp for _, stamp in _contents(found[0])} == {"2026-01-01T00:00:00.000Z"}


def test_without_source_date_epoch_gdal_stamps_now_and_layers_still_match(net1, tmp_path, monkeypatch):
    import datetime

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = gis.write_geopackage(net1, tmp_path / "a.gpkg")
    second = gis.write_geopackage(net1, tmp_path / "b.gpkg")
    year = datetime.datetime.now(datetime.UTC).year
    assert all(stamp.startswith(str(year)) for _, stamp in _contents(first))
    for layer in gis.LAYER_GEOMETRY:
        a, b = (gpd.read_file(p, layer=layer) for p in (first, second))
        assert a.equals(b), layer
