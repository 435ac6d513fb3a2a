"""Building models from GIS layers: round trips, messy utility layers, devices, bad input."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
import wntr
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from planted import make_inp
from scipy.spatial import cKDTree
from utility_layers import OFFSET, write_utility_layers

from nrwkit.errors import LayerError
from nrwkit.gis import build_network, default_mapping, load_mapping, write_geopackage
from nrwkit.hydraulics import steady_state
from nrwkit.network import read_inp
from nrwkit.networks import load
from nrwkit_cli.main import cli


def topology(wn: wntr.network.WaterNetworkModel) -> set[tuple[str, str, str]]:
    return {(name, link.start_node_name, link.end_node_name) for name, link in wn.links()}


# ----------------------------------------------------------------------------- round trip
@pytest.mark.parametrize("name", ["net1", "net3", "ky4", "l-town"])
def test_round_trip_every_bundled_network(name, tmp_path):
    wn = load(name)
    gpkg = write_geopackage(wn, tmp_path / f"{name}.gpkg")
    rebuilt = build_network(gpkg, default_mapping()).wn
    assert topology(rebuilt) == topology(wn)
    before = steady_state(wn).head_m
    after = steady_state(rebuilt).head_m.reindex(before.index)
    assert np.abs(before - after).max() < 0.01


def test_round_trip_with_crs_and_an_edit_in_qgis(tmp_path):
    # the GIS team moves nothing but adds a branch main ending on p100 (no node drawn)
    wn = load("l-town")
    gpkg = write_geopackage(wn, tmp_path / "lt.gpkg", crs="EPSG:3857")
    pipes = gpd.read_file(gpkg, layer="pipes")
    p100 = pipes.set_index("name").loc["p100"].geometry
    middle = p100.interpolate(0.5, normalized=True)
    branch = shapely.LineString([(middle.x, middle.y), (middle.x + 40.0, middle.y + 30.0)])
    new = pipes.iloc[[0]].copy()
    new["name"], new["geometry"], new["start_node"], new["end_node"] = "NEW-1", [branch], None, None
    new["length_m"] = np.nan  # drawn in QGIS: the length comes from the geometry
    pipes = gpd.GeoDataFrame(np.concatenate([pipes.to_numpy(), new.to_numpy()]),
                             columns=pipes.columns, geometry="geometry", crs=pipes.crs)
    pipes["length_m"] = pipes["length_m"].astype(float)
    pyogrio.write_dataframe(pipes, gpkg, layer="pipes", driver="GPKG")
    result = build_network(gpkg, default_mapping())
    rebuilt = result.wn
    assert rebuilt.num_pipes == wn.num_pipes + 2  # the branch, and p100 split in two
    assert "p100.2" in rebuilt.pipe_name_list
    codes = [f.code for f in result.findings]
    assert "split-pipe" in codes
    assert rebuilt.get_link("NEW-1").length == pytest.approx(50.0, abs=0.01)


# ----------------------------------------------------------------------------- messy layers
@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("utility")
    planted = write_utility_layers(folder)
    result = build_network(folder / "water_mains.gpkg", load_mapping(folder / "mapping.yaml"),
                           mapping_dir=folder)
    return folder, planted, result


def test_messy_layers_recover_the_topology_exactly(messy):
    _, _, result = messy
    original, rebuilt = load("l-town"), result.wn
    names = original.node_name_list
    tree = cKDTree([original.get_node(n).coordinates for n in names])
    placed = [np.subtract(rebuilt.get_node(n).coordinates, OFFSET) for n in rebuilt.node_name_list]
    dist, idx = tree.query(placed)
    assert dist.max() < 0.5  # every rebuilt node sits on an original node (placed by OFFSET)...
    match = {n: names[k] for n, k in zip(rebuilt.node_name_list, idx, strict=True)}
    assert len(set(match.values())) == len(names) == len(match)  # ... one to one
    edges = lambda wn, rename: sorted(  # noqa: E731
        tuple(sorted((rename(link.start_node_name), rename(link.end_node_name))))
        for _, link in wn.links())
    assert edges(rebuilt, match.get) == edges(original, lambda n: n)


def test_messy_layers_report_each_planted_fault(messy):
    _, _, result = messy
    found = {f.code: f for f in result.findings}
    assert set(found) >= {"reprojected", "snapped-endpoints", "split-pipe", "duplicate-dropped",
                          "zero-length-dropped"}
    assert found["duplicate-dropped"].elements == ("DUP-1", "p10")
    assert found["zero-length-dropped"].elements == ("ZERO-1",)
    assert found["split-pipe"].elements == ("MAIN-T", "MAIN-T.2")
    assert "mains_wgs84.geojson" in found["reprojected"].message
    assert "0.20 m" in found["snapped-endpoints"].message
    assert not [f for f in result.findings if f.severity.value == "error"]
    # every repair has a location the GIS team can zoom to
    for code in ("split-pipe", "duplicate-dropped", "zero-length-dropped", "snapped-endpoints"):
        assert found[code].location is not None


def test_messy_layers_units_and_values(messy):
    _, _, result = messy
    original, rebuilt = load("l-town"), result.wn
    assert rebuilt.get_link("p10").diameter == pytest.approx(original.get_link("p10").diameter)
    assert rebuilt.get_node("n2").elevation == pytest.approx(original.get_node("n2").elevation)
    valve = rebuilt.get_link("PRV-1")
    assert (valve.valve_type, valve.initial_setting) == (
        "PRV", pytest.approx(original.get_link("PRV-1").initial_setting))
    # lengths from geometry in metres
    assert rebuilt.get_link("p10").length == pytest.approx(original.get_link("p10").length, rel=0.05)


# ----------------------------------------------------------------------------- grid layers
GRID_CRS = "EPSG:32633"


def grid_layers(folder, *, pipes_extra=(), drop_nodes=(), **layers):
    """The planted test grid as raw utility layers (offset into UTM 33N)."""
    wn = read_inp_text(make_inp())
    offset = np.array([500_000.0, 6_000_000.0])
    rows = []
    for name, pipe in wn.pipes():
        line = shapely.LineString([np.add(pipe.start_node.coordinates, offset),
                                   np.add(pipe.end_node.coordinates, offset)])
        rows.append({"PIPE": name, "DN": pipe.diameter * 1000, "MAT": "PVC", "YEAR": 2000,
                     "geometry": line})
    rows.extend(pipes_extra)
    gpd.GeoDataFrame(rows, geometry="geometry", crs=GRID_CRS).to_file(folder / "net.gpkg", layer="pipes")
    nodes = [{"ID": n, "Z": 10.0, "geometry": shapely.Point(np.add(j.coordinates, offset))}
             for n, j in wn.junctions() if n not in drop_nodes]
    gpd.GeoDataFrame(nodes, geometry="geometry", crs=GRID_CRS).to_file(folder / "net.gpkg", layer="nodes")
    r = wn.get_node("R1")
    gpd.GeoDataFrame([{"ID": "R1", "HEAD": 60.0, "geometry": shapely.Point(np.add(r.coordinates, offset))}],
                     geometry="geometry", crs=GRID_CRS).to_file(folder / "net.gpkg", layer="sources")
    for layer, frame in layers.items():
        frame.to_file(folder / "net.gpkg", layer=layer)
    return offset


def read_inp_text(text: str):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "grid.inp"
    path.write_text(text)
    return read_inp(path)


def grid_mapping(**extra):
    data = {
        "pipes": {"source": "pipes", "fields": {"id": "PIPE", "diameter": "DN", "material": "MAT",
                                                "install_year": "YEAR"}},
        "junctions": {"source": "nodes", "fields": {"id": "ID", "elevation": "Z"}},
        "reservoirs": {"source": "sources", "fields": {"id": "ID", "head": "HEAD"}},
    }
    data.update(extra)
    from nrwkit.gis.mapping import Mapping

    return Mapping.model_validate(data)


def test_valve_pump_and_hydrant_points_on_pipes(tmp_path):
    offset = np.array([500_000.0, 6_000_000.0])
    at = lambda x, y: shapely.Point(np.add((x, y), offset))  # noqa: E731
    valves = gpd.GeoDataFrame([{"VID": "GV1", "KIND": "gate", "STATUS": "closed", "geometry": at(1100, 1050)},
                               {"VID": "PRV9", "KIND": "PRV", "SET": 30.0, "geometry": at(1150, 1100)},
                               {"VID": "LOST", "KIND": "gate", "geometry": at(5000, 5000)}],
                              geometry="geometry", crs=GRID_CRS)
    hydrants = gpd.GeoDataFrame([{"HID": "H7", "geometry": at(1000, 1050)}], geometry="geometry",
                                crs=GRID_CRS)
    grid_layers(tmp_path, valves=valves, hydrants=hydrants)
    mapping = grid_mapping(
        valves={"source": "valves", "fields": {"id": "VID", "type": "KIND", "status": "STATUS",
                                               "setting": "SET"}},
        hydrants={"source": "hydrants", "fields": {"id": "HID"}})
    result = build_network(tmp_path / "net.gpkg", mapping)
    wn = result.wn
    gate = wn.get_link("GV1")  # on P9 (J12 - J22), closed
    assert (gate.valve_type, str(gate.initial_status)) == ("TCV", "Closed")
    prv = wn.get_link("PRV9")  # on P4 (J22 - J23)
    assert prv.valve_type == "PRV" and prv.initial_setting == pytest.approx(30.0)
    assert wn.get_node(prv.start_node_name).coordinates == wn.get_node(prv.end_node_name).coordinates
    assert "H7" in wn.junction_name_list and wn.get_node("H7").tag == "hydrant"
    assert {"P9", "P9.2", "P4", "P4.2", "P7", "P7.2"} <= set(wn.pipe_name_list)
    codes = [f.code for f in result.findings]
    assert codes.count("split-pipe") == 3
    assert "device-not-on-pipe" in codes
    # the closed gate valve cuts nothing off here (grid loops), and the model runs
    assert steady_state(wn).converged


def test_roughness_from_material_and_age(tmp_path):
    old = shapely.LineString([(501_000, 6_001_000), (501_000, 6_000_900)])
    odd = shapely.LineString([(501_200, 6_001_200), (501_300, 6_001_300)])
    grid_layers(tmp_path, pipes_extra=[
        {"PIPE": "OLD", "DN": 150.0, "MAT": "Cast Iron", "YEAR": 1986, "geometry": old},
        {"PIPE": "ODD", "DN": 150.0, "MAT": "bamboo", "YEAR": 2000, "geometry": odd}])
    result = build_network(tmp_path / "net.gpkg", grid_mapping(reference_year=2026))
    wn = result.wn
    assert wn.get_link("P1").roughness == 150.0                 # PVC
    assert wn.get_link("OLD").roughness == pytest.approx(80.0)  # 130 - 1.25 x 40 years
    assert wn.get_link("ODD").roughness == 130.0                # default, reported
    (unknown,) = [f for f in result.findings if f.code == "unknown-material"]
    assert unknown.elements == ("ODD",) and "'bamboo'" in unknown.message
    overridden = build_network(tmp_path / "net.gpkg", grid_mapping(
        reference_year=2026, materials={"BAMBOO": {"c_new": 90}}))
    assert overridden.wn.get_link("ODD").roughness == 90.0


def test_elevation_from_dem_and_survey(tmp_path):
    import rasterio
    from affine import Affine

    grid_layers(tmp_path, drop_nodes=("J22",), pipes_extra=[])
    # J22 is not in the node layer: its pipe ends meet there and make a new junction
    dem = tmp_path / "dem.tif"
    transform = Affine(10, 0, 500_900, 0, -10, 6_001_300)  # 10 m cells from the top-left corner
    values = np.full((50, 50), 42.5, dtype="float32")
    with rasterio.open(dem, "w", driver="GTiff", height=50, width=50, count=1, dtype="float32",
                       crs=GRID_CRS, transform=transform) as raster:
        raster.write(values, 1)
    result = build_network(tmp_path / "net.gpkg", grid_mapping(elevation={"dem": str(dem)}))
    (new,) = [n for n in result.wn.junction_name_list if n.startswith("J") and n not in
              {"J11", "J12", "J13", "J21", "J23", "J31", "J32", "J33"}]
    assert result.wn.get_node(new).elevation == pytest.approx(42.5)

    survey = gpd.GeoDataFrame([{"ZS": 17.0, "geometry": shapely.Point(501_101, 6_001_099)},
                               {"ZS": 99.0, "geometry": shapely.Point(502_000, 6_002_000)}],
                              geometry="geometry", crs=GRID_CRS)
    survey.to_file(tmp_path / "net.gpkg", layer="survey")
    mapping = grid_mapping(elevation={"survey": {"source": "survey", "fields": {"elevation": "ZS"}}})
    result = build_network(tmp_path / "net.gpkg", mapping)
    assert result.wn.get_node(new).elevation == 17.0
    assert "elevation-estimated" in [f.code for f in result.findings]


def test_geographic_layers_are_reprojected_to_utm(tmp_path):
    grid_layers(tmp_path)
    for layer in ("pipes", "nodes", "sources"):
        frame = gpd.read_file(tmp_path / "net.gpkg", layer=layer).to_crs("EPSG:4326")
        frame.to_file(tmp_path / "geo.gpkg", layer=layer)
    result = build_network(tmp_path / "geo.gpkg", grid_mapping())
    assert result.crs.to_epsg() == 32633
    assert result.wn.get_link("P1").length == pytest.approx(100.0, abs=0.01)
    notes = [f.message for f in result.findings if f.code == "reprojected"]
    assert any("UTM zone 33N" in note for note in notes)


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs(tmp_path):
    grid_layers(tmp_path)
    gpkg = tmp_path / "net.gpkg"
    with pytest.raises(LayerError, match="has no layer 'mains'") as info:
        build_network(gpkg, grid_mapping(pipes={"source": "mains", "fields": {"id": "PIPE"}}))
    assert "pipes, nodes, sources" in info.value.fix
    with pytest.raises(LayerError, match=r"field 'DIAMETER' .* does not exist") as info:
        build_network(gpkg, grid_mapping(pipes={"source": "pipes", "fields": {"id": "PIPE",
                                                                             "diameter": "DIAMETER"}}))
    assert "DN" in info.value.fix and info.value.layer == "pipes"
    with pytest.raises(LayerError, match="pipes must be lines, found Point"):
        build_network(gpkg, grid_mapping(pipes={"source": "nodes", "fields": {"id": "ID"}}))
    gpd.GeoDataFrame({"PIPE": pd_series([])}, geometry=[], crs=GRID_CRS).to_file(gpkg, layer="empty")
    with pytest.raises(LayerError, match="the pipe layer is empty"):
        build_network(gpkg, grid_mapping(pipes={"source": "empty", "fields": {"id": "PIPE"}}))
    broken = gpd.GeoDataFrame({"PIPE": ["A", "B"]}, geometry=[shapely.LineString([(0, 0), (1, 1)]), None],
                              crs=GRID_CRS)
    broken.to_file(gpkg, layer="broken")
    with pytest.raises(LayerError, match="1 feature\\(s\\) have no geometry") as info:
        build_network(gpkg, grid_mapping(pipes={"source": "broken", "fields": {"id": "PIPE"}}))
    assert info.value.feature == "B"


def pd_series(values):
    import pandas as pd

    return pd.Series(values, dtype=str)


def test_mapping_errors_name_the_key(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump({"pipes": {"source": "x", "fields": {"diametre": "D"}}}))
    with pytest.raises(LayerError, match=r"pipes\.fields: unknown key\(s\) diametre"):
        load_mapping(path)
    path.write_text(yaml.safe_dump({"pipes": {"source": "x", "feilds": {}}}))
    with pytest.raises(LayerError, match=r"pipes\.feilds: unknown key"):
        load_mapping(path)
    path.write_text(yaml.safe_dump({"junctions": {"source": "x"}}))
    with pytest.raises(LayerError, match="pipes: required key is missing"):
        load_mapping(path)
    furlong = {"diameter": {"field": "D", "unit": "furlong"}}
    path.write_text(yaml.safe_dump({"pipes": {"source": "x", "fields": furlong}}))
    with pytest.raises(LayerError, match="unknown unit 'furlong'"):
        load_mapping(path)
    path.write_text("pipes: [unclosed")
    with pytest.raises(LayerError, match="not valid YAML"):
        load_mapping(path)


# ----------------------------------------------------------------------------- CLI
def test_cli_import(tmp_path, messy):
    folder, _, _ = messy
    out, findings, report = tmp_path / "model.inp", tmp_path / "findings.gpkg", tmp_path / "r.html"
    args = ["gis", "import", str(folder / "water_mains.gpkg"), str(out), "--mapping",
            str(folder / "mapping.yaml"), "--findings", str(findings), "--report", str(report),
            "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["network"]["Links"]["Pipes"] == 905
    assert read_inp(out).num_pipes == 905
    layer = gpd.read_file(findings, layer="findings")
    assert layer.crs.to_epsg() == 32633  # the layers' true CRS: L-Town placed in UTM 33N
    assert {"duplicate-dropped", "zero-length-dropped", "split-pipe"} <= set(layer["code"])
    html = report.read_text()
    assert "Model built from water_mains.gpkg" in html and "duplicate-dropped" in html
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and "already exists" in again.output


def test_cli_import_bad_input_exit_2_nothing_written(tmp_path):
    grid_layers(tmp_path)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(yaml.safe_dump({"pipes": {"source": "mains", "fields": {"id": "PIPE"}}}))
    out = tmp_path / "out.inp"
    result = CliRunner().invoke(cli, ["gis", "import", str(tmp_path / "net.gpkg"), str(out),
                                      "--mapping", str(mapping)])
    assert result.exit_code == 2
    assert "layer 'mains'" in result.output and "fix:" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_committed_demo_utility_layers_import(tmp_path):
    # the layers make demo imports (networks/demo-utility) give L-Town's network back
    from pathlib import Path

    folder = Path(__file__).parents[1] / "networks" / "demo-utility"
    result = build_network(folder / "water_mains.gpkg", load_mapping(folder / "mapping.yaml"),
                           mapping_dir=folder)
    assert result.wn.describe(level=1)["Links"] == {"Pipes": 905, "Pumps": 1, "Valves": 3}
    assert {"duplicate-dropped", "zero-length-dropped", "split-pipe", "reprojected"} <= {
        f.code for f in result.findings}
    assert result.crs.to_epsg() == 32633


def test_committed_demo_layers_carry_their_true_crs():
    # L-Town's local grid placed in UTM 33N by OFFSET: every layer says so, none claims EPSG:3857
    from pathlib import Path

    folder = Path(__file__).parents[1] / "networks" / "demo-utility"
    for path in sorted(folder.glob("*.gpkg")):
        assert pyogrio.read_info(path)["crs"] == "EPSG:32633", path.name
    assert pyogrio.read_info(folder / "mains_wgs84.geojson")["crs"] == "EPSG:4326"
    nodes = gpd.read_file(folder / "nodes.gpkg").set_index("NODE_REF")
    ltown = load("l-town")
    for name in ("n1", "n100", "n500"):
        point = nodes.geometry[name]
        assert np.allclose(np.subtract((point.x, point.y), OFFSET), ltown.get_node(name).coordinates)
    lon, lat = gpd.read_file(folder / "mains_wgs84.geojson").geometry[0].coords[0]
    assert 14 < lon < 16 and 44 < lat < 46  # about 45.2 N 15.0 E, not 0 N 0 E


def test_docs_list_every_mapping_key_and_unit():
    # docs/gis-teams.md is the GIS team's reference: it must follow the schema
    from pathlib import Path

    from nrwkit.gis.mapping import ALLOWED_FIELDS, UNIT_FACTORS

    text = (Path(__file__).parents[1] / "docs" / "gis-teams.md").read_text()
    for kind, fields in ALLOWED_FIELDS.items():
        assert f"`{kind}`" in text, kind
        for name in fields:
            assert f"`{name}`" in text, (kind, name)
    for unit in UNIT_FACTORS:
        assert f"`{unit}`" in text, unit


# ----------------------------------------------------------------------------- invariants


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(jitter=st.lists(st.tuples(st.floats(-0.17, 0.17), st.floats(-0.17, 0.17)),
                       min_size=26, max_size=26),
       reverse=st.lists(st.booleans(), min_size=13, max_size=13))
def test_snapping_recovers_the_grid_whatever_the_jitter(tmp_path_factory, jitter, reverse):
    """Pipe ends moved by less than the tolerance, drawn either way, give the same network;
    and importing the imported network again changes nothing (snapping is idempotent)."""
    folder = tmp_path_factory.mktemp("jitter")
    wn = read_inp_text(make_inp())
    rows = []
    for k, (name, pipe) in enumerate(wn.pipes()):
        a = np.add(pipe.start_node.coordinates, jitter[2 * k])
        b = np.add(pipe.end_node.coordinates, jitter[2 * k + 1])
        line = shapely.LineString([b, a] if reverse[k] else [a, b])
        rows.append({"PIPE": name, "DN": 150.0, "geometry": line})
    gpd.GeoDataFrame(rows, geometry="geometry", crs=GRID_CRS).to_file(folder / "l.gpkg", layer="pipes")
    r = wn.get_node("R1")
    gpd.GeoDataFrame([{"ID": "R1", "HEAD": 60.0, "geometry": shapely.Point(r.coordinates)}],
                     geometry="geometry", crs=GRID_CRS).to_file(folder / "l.gpkg", layer="sources")
    mapping = grid_mapping(junctions=None, pipes={"source": "pipes", "fields": {"id": "PIPE",
                                                                               "diameter": "DN"}})
    first = build_network(folder / "l.gpkg", mapping).wn
    pairs = lambda w: {n: frozenset(  # noqa: E731
        tuple(np.round(w.get_node(x).coordinates, -1)) for x in (lk.start_node_name, lk.end_node_name))
        for n, lk in w.links()}
    assert pairs(first) == pairs(wn)
    again = build_network(write_geopackage(first, folder / "again.gpkg", crs=GRID_CRS),
                          default_mapping()).wn
    assert topology(again) == topology(first)


def test_deleted_pump_drops_its_controls_and_findings_still_write(tmp_path):
    from nrwkit.gis import write_findings

    for name, pump in (("l-town", "PUMP_1"), ("net1", "9")):  # Net1 also has a reservoir 9
        wn = load(name)
        gpkg = write_geopackage(wn, tmp_path / f"{name}.gpkg")
        pumps = gpd.read_file(gpkg, layer="pumps")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="'crs' was not provided")
            pyogrio.write_dataframe(pumps[pumps["name"] != pump], gpkg, layer="pumps", driver="GPKG")
        result = build_network(gpkg, default_mapping())
        dropped = [f for f in result.findings if f.code == "control-dropped"]
        assert dropped and all(f.elements == (pump,) for f in dropped)
        assert result.wn.num_controls == wn.num_controls - len(dropped)
        out = write_findings(result.wn, result.findings, tmp_path / f"{name}-findings.gpkg")
        assert "control-dropped" in set(gpd.read_file(out)["code"])


def test_main_split_at_a_node_point_where_a_branch_ends(tmp_path):
    # J50 is in the node layer and ends a branch on P9's interior, which is drawn unbroken
    offset = np.array([500_000.0, 6_000_000.0])
    branch = shapely.LineString([np.add((1100, 1050), offset), np.add((1160, 1050), offset)])
    grid_layers(tmp_path, pipes_extra=[{"PIPE": "B1", "DN": 100.0, "MAT": "PVC", "YEAR": 2000,
                                        "geometry": branch}])
    nodes = gpd.read_file(tmp_path / "net.gpkg", layer="nodes")
    at = [shapely.Point(np.add(xy, offset)) for xy in ((1100, 1050), (1160, 1050))]
    extra = gpd.GeoDataFrame([{"ID": "J50", "Z": 10.0, "geometry": at[0]},
                              {"ID": "J51", "Z": 10.0, "geometry": at[1]}],
                             geometry="geometry", crs=GRID_CRS)
    pyogrio.write_dataframe(gpd.GeoDataFrame(np.concatenate([nodes.to_numpy(), extra.to_numpy()]),
                                             columns=nodes.columns, geometry="geometry", crs=GRID_CRS),
                            tmp_path / "net.gpkg", layer="nodes", driver="GPKG")
    wn = build_network(tmp_path / "net.gpkg", grid_mapping()).wn
    assert {wn.get_link("P9").end_node_name, wn.get_link("P9.2").start_node_name} == {"J50"}
    # the default (round-trip) mapping keeps dead ends as they are
    assert default_mapping().split_mains_at_nodes is False


def test_material_overrides_by_alias_and_ageing_floor(tmp_path):
    old = shapely.LineString([(501_000, 6_001_000), (501_000, 6_000_900)])
    bare = shapely.LineString([(501_200, 6_001_200), (501_300, 6_001_300)])
    grid_layers(tmp_path, pipes_extra=[
        {"PIPE": "OLD", "DN": 150.0, "MAT": "Cast Iron", "YEAR": "1926-05-01", "geometry": old},
        {"PIPE": "BARE", "DN": 150.0, "MAT": None, "YEAR": 2000, "geometry": bare}])
    mapping = grid_mapping(reference_year=2026,
                           materials={"CAST IRON": {"c_new": 120, "c_loss_per_year": 1.0}})
    result = build_network(tmp_path / "net.gpkg", mapping)
    assert result.wn.get_link("OLD").roughness == 40.0  # 120 - 100 years, floored at C = 40
    (unknown,) = [f for f in result.findings if f.code == "unknown-material"]
    assert unknown.elements == ("BARE",) and "(none)" in unknown.message


def test_bad_pump_type_and_crs(tmp_path):
    grid_layers(tmp_path)
    pump = gpd.GeoDataFrame([{"ID": "PU", "T": "diesel", "geometry": shapely.Point(501_100, 6_001_050)}],
                            geometry="geometry", crs=GRID_CRS)
    pump.to_file(tmp_path / "net.gpkg", layer="pumps")
    mapping = grid_mapping(pumps={"source": "pumps", "fields": {"id": "ID", "type": "T"}})
    with pytest.raises(LayerError, match="pump PU has type 'DIESEL'"):
        build_network(tmp_path / "net.gpkg", mapping)
    out = tmp_path / "x.inp"
    result = CliRunner().invoke(cli, ["gis", "import", str(tmp_path / "net.gpkg"), str(out),
                                      "--crs", "EPSG:99999"])
    assert result.exit_code == 2 and "unknown CRS" in result.output and not out.exists()
