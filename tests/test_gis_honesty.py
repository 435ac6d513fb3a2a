"""No silent wrong success in `gis import`: what nrwkit invents is reported, a model EPANET
refuses is not written, and bad tolerances are refused.

The layers are drawn by hand here (a few pipes in UTM 33N, offset from a local origin), so the
expected nodes, positions and faults are known without running nrwkit.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from nrwkit.errors import InputError, SimulationError
from nrwkit.gis import build_network
from nrwkit.gis.mapping import Mapping
from nrwkit.hydraulics import steady_state
from nrwkit.network import read_inp
from nrwkit_cli.main import cli

CRS = "EPSG:32633"
OFFSET = np.array([500_000.0, 6_000_000.0])
#: the node points drawn: a reservoir and two junctions on a straight main along y = 0
NODES = {"R": (0.0, 0.0), "A": (100.0, 0.0), "B": (200.0, 0.0)}
#: a branch drawn from the main's interior at x = 150 to a dead end, with no node at either end
T_POINT, DEAD_END = (150.0, 0.0), (150.0, 80.0)


def at(xy: tuple[float, float]) -> shapely.Point:
    return shapely.Point(np.add(xy, OFFSET))


def line(*points: tuple[float, float]) -> shapely.LineString:
    return shapely.LineString([np.add(p, OFFSET) for p in points])


def write_layers(folder, *, extra_nodes=(), pipe_ids=("P1", "P2", "BR"), valves=None):
    pipes = [line(NODES["R"], NODES["A"]), line(NODES["A"], NODES["B"]), line(T_POINT, DEAD_END)]
    gpd.GeoDataFrame({"ID": list(pipe_ids), "DN": [200.0, 150.0, 100.0]}, geometry=pipes,
                     crs=CRS).to_file(folder / "net.gpkg", layer="pipes")
    junctions = [("A", NODES["A"]), ("B", NODES["B"]), *extra_nodes]
    gpd.GeoDataFrame({"ID": [n for n, _ in junctions], "Z": 10.0},
                     geometry=[at(xy) for _, xy in junctions], crs=CRS).to_file(folder / "net.gpkg",
                                                                                 layer="nodes")
    gpd.GeoDataFrame({"ID": ["R"], "HEAD": [50.0]}, geometry=[at(NODES["R"])],
                     crs=CRS).to_file(folder / "net.gpkg", layer="sources")
    if valves is not None:
        valves.to_file(folder / "net.gpkg", layer="valves")
    return folder / "net.gpkg"


def mapping(**extra) -> Mapping:
    data = {
        "pipes": {"source": "pipes", "fields": {"id": "ID", "diameter": {"field": "DN", "unit": "mm"},
                                                "roughness": "C"}},
        "junctions": {"source": "nodes", "fields": {"id": "ID", "elevation": "Z"}},
        "reservoirs": {"source": "sources", "fields": {"id": "ID", "head": "HEAD"}},
        "default_roughness": 120.0,
    }
    data["pipes"]["fields"].pop("roughness")
    data.update(extra)
    return Mapping.model_validate(data)


def write_mapping(folder, **extra) -> str:
    import yaml

    path = folder / "mapping.yaml"
    path.write_text(yaml.safe_dump(mapping(**extra).model_dump(mode="json", exclude_none=True)))
    return str(path)


def invented(findings):
    return [f for f in findings if f.code == "gis-invented-node"]


# ----------------------------------------------------------------------------- invented nodes
def test_every_node_not_in_the_layers_is_reported_where_and_why(tmp_path):
    result = build_network(write_layers(tmp_path), mapping())
    wn = result.wn
    created = set(wn.node_name_list) - set(NODES)
    assert len(created) == 2  # the T on the main and the branch's dead end: nothing else
    (finding,) = invented(result.findings)
    assert set(finding.elements) == created
    assert finding.severity.value == "warning" and finding.fix
    where = {tuple(np.round(np.subtract(wn.get_node(n).coordinates, OFFSET), 6)): n for n in created}
    assert set(where) == {T_POINT, DEAD_END}
    t_node, dead = where[T_POINT], where[DEAD_END]
    # the main A-B is split at the T node, and the message says where and why for each
    assert {wn.get_link("P2").end_node_name, wn.get_link("P2.2").start_node_name} == {t_node}
    assert f"{t_node} at ({T_POINT[0] + OFFSET[0]:.2f}, {T_POINT[1] + OFFSET[1]:.2f})" in finding.message
    assert f"{dead} at (" in finding.message and "touches no node point" in finding.message
    assert "P2" in finding.message  # the main it splits
    assert finding.location is not None


def test_cli_reports_invented_nodes_in_text_json_and_the_findings_geopackage(tmp_path):
    gpkg = write_layers(tmp_path)
    maps = write_mapping(tmp_path)
    out, found = tmp_path / "model.inp", tmp_path / "findings.gpkg"
    text = CliRunner().invoke(cli, ["gis", "import", str(gpkg), str(out), "--mapping", maps,
                                    "--findings", str(found)])
    assert text.exit_code == 0, text.output
    wn = read_inp(out)
    created = sorted(set(wn.node_name_list) - set(NODES))
    assert "gis-invented-node" in text.output and all(n in text.output for n in created)
    assert "1 reservoir," in text.output and "1 reservoirs" not in text.output
    layer = gpd.read_file(found, layer="findings")
    rows = layer[layer["code"] == "gis-invented-node"]
    assert sorted(rows["element"]) == created
    for name, point in zip(rows["element"], rows.geometry, strict=True):
        assert point.distance(shapely.Point(wn.get_node(name).coordinates)) < 1e-6
    again = CliRunner().invoke(cli, ["gis", "import", str(gpkg), str(tmp_path / "m2.inp"),
                                     "--mapping", maps, "--json"])
    data = json.loads(again.output)
    (entry,) = [f for f in data["findings"] if f["code"] == "gis-invented-node"]
    assert sorted(entry["elements"]) == created and entry["fix"]


def test_device_points_and_missing_ids_are_reported(tmp_path):
    valve = gpd.GeoDataFrame({"VID": ["V1"], "KIND": ["PRV"], "SET": [20.0]},
                             geometry=[at((175.0, 0.3))], crs=CRS)
    gpkg = write_layers(tmp_path, pipe_ids=("P1", "P2", None), valves=valve)
    result = build_network(gpkg, mapping(valves={"source": "valves", "fields": {
        "id": "VID", "type": "KIND", "setting": "SET"}}))
    wn = result.wn
    prv = wn.get_link("V1")
    device = [f for f in invented(result.findings) if "valve V1" in f.message]
    assert len(device) == 1 and device[0].severity.value == "info"
    assert set(device[0].elements) == {prv.start_node_name, prv.end_node_name}
    assert "moved 0.30 m onto the pipe" in device[0].message
    # the branch has no id: it is named after its row (the third feature, row 2)
    (default,) = [f for f in result.findings if f.code == "gis-default-id"]
    assert default.elements == ("PIPE-2",) and "PIPE-2" in wn.pipe_name_list
    # every node not in the layers is named by some gis-invented-node finding
    named = {e for f in invented(result.findings) for e in f.elements}
    assert named == set(wn.node_name_list) - set(NODES)


def test_round_trip_invents_nothing(tmp_path):
    from nrwkit.gis import default_mapping, write_geopackage
    from nrwkit.networks import load

    result = build_network(write_geopackage(load("net3"), tmp_path / "net3.gpkg"), default_mapping())
    assert not invented(result.findings) and result.refused is None


# ----------------------------------------------------------------------------- refused model
def test_model_epanet_refuses_is_exit_3_and_not_written(tmp_path):
    far = ("LONE", (900.0, 900.0))  # a node point no pipe reaches: EPANET error 233
    gpkg = write_layers(tmp_path, extra_nodes=[far])
    maps = write_mapping(tmp_path)
    out, found, report = tmp_path / "model.inp", tmp_path / "findings.gpkg", tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["gis", "import", str(gpkg), str(out), "--mapping", maps,
                                      "--findings", str(found), "--report", str(report)])
    assert result.exit_code == 3, result.output
    assert not out.exists() and not report.exists()
    assert "EPANET refuses" in result.output and "LONE" in result.output
    assert "fix:" in result.output and "Traceback" not in result.output
    codes = set(gpd.read_file(found, layer="findings")["code"])
    assert {"gis-model-refused", "isolated-node"} <= codes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.gpkg", "mapping.yaml", "net.gpkg"]
    built = build_network(gpkg, mapping())
    assert built.refused is not None and "233" in built.refused
    with pytest.raises(SimulationError, match="EPANET refuses"):
        built.raise_if_refused()
    # EPANET itself, on the model as built, is the oracle
    with pytest.raises(SimulationError, match="233"):
        steady_state(built.wn)


def test_a_model_epanet_runs_is_not_refused(tmp_path):
    result = build_network(write_layers(tmp_path), mapping())
    assert result.refused is None
    result.raise_if_refused()
    assert not [f for f in result.findings if f.code == "gis-model-refused"]
    assert steady_state(result.wn).converged


# ----------------------------------------------------------------------------- tolerances
@pytest.mark.parametrize("args", [["--snap", "-3"], ["--snap", "nan"]])
def test_negative_snap_is_refused(tmp_path, args):
    gpkg = write_layers(tmp_path)
    out = tmp_path / "model.inp"
    result = CliRunner().invoke(cli, ["gis", "import", str(gpkg), str(out), "--mapping",
                                      write_mapping(tmp_path), *args])
    assert result.exit_code == 2, result.output
    assert "snap" in result.output and not out.exists()  # click names --snap, the library snap_m
    with pytest.raises(InputError, match="snap_m=-3"):
        build_network(gpkg, mapping(), snap_m=-3.0)


def test_negative_max_distance_is_refused(tmp_path):
    from nrwkit.gis import allocate_customers
    from nrwkit.networks import load

    customers = gpd.GeoDataFrame({"M3": [100.0]}, geometry=[shapely.Point(0, 0)], crs=CRS)
    customers.to_file(tmp_path / "c.gpkg", layer="customers")
    result = CliRunner().invoke(cli, ["gis", "allocate-customers", "net1", str(tmp_path / "c.gpkg"),
                                      str(tmp_path / "out.inp"), "--max-distance", "-1"])
    assert result.exit_code == 2 and "--max-distance" in result.output
    assert not (tmp_path / "out.inp").exists()
    with pytest.raises(InputError, match="max_distance_m=-1"):
        allocate_customers(load("net1"), customers, max_distance_m=-1.0)



# ----------------------------------------------------------------------------- DMA polygons
def test_dma_polygons_layer_asked_for_is_named_with_the_file_and_its_layers(tmp_path):
    from nrwkit.dma.polygons import read_polygons
    from nrwkit.errors import LayerError

    path = tmp_path / "dmas.gpkg"
    gpd.GeoDataFrame({"dma": ["A"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=CRS).to_file(
        path, layer="zones")
    gpd.GeoDataFrame({"ID": ["M"]}, geometry=[shapely.Point(0, 0)], crs=CRS).to_file(
        path, layer="meters")
    with pytest.raises(LayerError) as info:
        read_polygons(path, "nope")
    message = str(info.value)
    assert str(path) in message and "'nope' does not exist" in message
    assert "'zones' (polygon)" in message and "'meters' (point)" in message
    with pytest.raises(LayerError, match="'meters' is not a polygon layer"):
        read_polygons(path, "meters")
    assert list(read_polygons(path)["dma"]) == ["A"]  # the only polygon layer
    assert read_polygons(path, crs="EPSG:4326").crs.to_epsg() == 4326
    with pytest.raises(LayerError, match="no such file"):
        read_polygons(tmp_path / "missing.gpkg")


def test_cli_dma_from_polygons_unknown_layer_is_exit_2(tmp_path):
    path = tmp_path / "dmas.gpkg"
    gpd.GeoDataFrame({"dma": ["A"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=CRS).to_file(path, layer="zones")
    result = CliRunner().invoke(cli, ["dma", "from-polygons", "net1", str(path), "--layer", "nope"])
    assert result.exit_code == 2, result.output
    assert "nope" in result.output and "zones" in result.output and str(path) in result.output
    assert "Traceback" not in result.output
