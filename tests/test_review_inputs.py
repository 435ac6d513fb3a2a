"""Inputs found by trying to break the commands: each gives a clear error or a finding."""

from __future__ import annotations

import copy

import geopandas as gpd
import pytest
import shapely
import yaml
from click.testing import CliRunner
from planted import make_inp
from test_balance import EXAMPLE

from nrwkit.balance import BalanceInput, compute_balance, trend_table
from nrwkit.errors import InputError, LayerError, NetworkFileError
from nrwkit.gis import allocate_customers, build_network
from nrwkit.gis.mapping import Mapping
from nrwkit.network import read_inp
from nrwkit.workspace import init_workspace, open_workspace
from nrwkit_cli.main import cli

CRS = "EPSG:32633"


@pytest.mark.parametrize("value", ["inf", "nan", "-Infinity"])
def test_non_finite_numbers_in_inp(write_inp, value):
    path = write_inp(make_inp(replace={" J22  10  1.0": f" J22  {value}  1.0"}))
    with pytest.raises(NetworkFileError, match="is not a finite number") as info:
        read_inp(path)
    assert info.value.line is not None


def pipes_gpkg(tmp_path, rows):
    gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS).to_file(tmp_path / "p.gpkg", layer="pipes")
    return tmp_path / "p.gpkg"


def mapping(**extra):
    return Mapping.model_validate({"pipes": {"source": "pipes", "fields": {"id": "ID"}}, **extra})


def test_3d_lines_are_read_in_2d(tmp_path):
    rows = [{"ID": "A", "geometry": shapely.LineString([(0, 0, 5), (100, 0, 6)])},
            {"ID": "B", "geometry": shapely.LineString([(100, 0, 6), (100, 100, 7)])}]
    wn = build_network(pipes_gpkg(tmp_path, rows), mapping()).wn
    assert wn.get_link("A").length == pytest.approx(100.0)


def test_ids_epanet_cannot_hold(tmp_path):
    rows = [{"ID": "a pipe with spaces", "geometry": shapely.LineString([(0, 0), (100, 0)])}]
    with pytest.raises(LayerError, match="cannot be an EPANET id"):
        build_network(pipes_gpkg(tmp_path, rows), mapping())


def test_mapping_values_checked():
    for bad in ({"pipes": {"source": []}}, {"pipes": {"source": "p"}, "default_roughness": -5},
                {"pipes": {"source": "p"}, "default_diameter_m": 0},
                {"pipes": {"source": "p"}, "snap_m": float("inf")}):
        with pytest.raises(ValueError):
            Mapping.model_validate(bad)


def test_missing_dem(tmp_path):
    rows = [{"ID": "A", "geometry": shapely.LineString([(0, 0), (100, 0)])}]
    with pytest.raises(LayerError, match="the DEM cannot be read"):
        build_network(pipes_gpkg(tmp_path, rows), mapping(elevation={"dem": str(tmp_path / "no.tif")}))


def test_workspace_with_wrong_types(tmp_path):
    init_workspace(tmp_path / "ws", "net1")
    manifest = tmp_path / "ws" / "workspace.toml"
    manifest.write_text("track = 1\nnetwork = 2\n")
    with pytest.raises(InputError, match="must be tables"):
        open_workspace(tmp_path / "ws")
    manifest.write_text("[track]\nname = 5\n[network]\nfile = 7\n")
    with pytest.raises(InputError, match="must be text"):
        open_workspace(tmp_path / "ws")


@pytest.mark.parametrize("volume", [float("nan"), float("inf"), 1e300, True])
def test_balance_volumes_must_be_real_numbers(volume):
    data = {**copy.deepcopy(EXAMPLE), "billed_unmetered": {"volume": volume}}
    with pytest.raises(ValueError):
        BalanceInput.model_validate(data)


def test_trend_refuses_mixed_units():
    us = copy.deepcopy(EXAMPLE)
    us["units"] = {"volume": "MG", "length": "mi", "pressure": "psi"}
    a = compute_balance(BalanceInput.model_validate(EXAMPLE))
    b = compute_balance(BalanceInput.model_validate(us))
    with pytest.raises(InputError, match="different units"):
        trend_table([a, b])


def test_unreadable_customer_demand_is_reported(write_inp):
    wn = read_inp(write_inp(make_inp()))
    points = gpd.GeoDataFrame({"M3": ["abc", -100, float("inf"), 365]},
                              geometry=[shapely.Point(1030, 1005)] * 4)
    result = allocate_customers(wn, points, demand_field="M3")
    (finding,) = [f for f in result.findings if f.code == "customer-demand-unreadable"]
    assert finding.elements == ("0", "1", "2")
    assert result.junctions.loc["J11", "connections"] == 4
    assert result.junctions.loc["J11", "demand_m3s"] == pytest.approx(365 / (365 * 86400))


def test_an_output_never_replaces_an_input(tmp_path):
    balance = tmp_path / "b.yaml"
    balance.write_text(yaml.safe_dump(EXAMPLE))
    before = balance.read_text()
    result = CliRunner().invoke(cli, ["balance", str(balance), "--report", str(balance),
                                      "--overwrite"])
    assert result.exit_code == 2 and "also an input" in result.output
    assert balance.read_text() == before
    network = tmp_path / "n.inp"
    network.write_text(make_inp())
    result = CliRunner().invoke(cli, ["gis", "export", str(network), str(network), "--overwrite"])
    assert result.exit_code == 2 and network.read_text() == make_inp()
    result = CliRunner().invoke(cli, ["gis", "export", str(network), str(tmp_path / "x.txt")])
    assert result.exit_code == 2 and ".gpkg" in result.output
