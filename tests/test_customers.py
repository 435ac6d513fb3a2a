"""Customer allocation against hand calculations on the planted test grid."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from planted import make_inp

from nrwkit.errors import InputError
from nrwkit.gis import allocate_customers, connections
from nrwkit.network import read_inp
from nrwkit_cli.main import cli

YEAR_S = 365 * 86400


@pytest.fixture
def grid(write_inp):
    return read_inp(write_inp(make_inp()))


def customers_frame(crs=None):
    # P1 runs J11 (1000,1000) -> J12 (1100,1000); P9 runs J12 -> J22 (1100,1100)
    rows = [
        {"ACC": "A", "M3": 365.0, "geometry": shapely.Point(1030, 1005)},   # P1 at 30 %: J11
        {"ACC": "B", "M3": 730.0, "geometry": shapely.Point(1070, 995)},    # P1 at 70 %: J12
        {"ACC": "C", "M3": 100.0, "geometry": shapely.Point(1104, 1080)},   # P9 at 80 %: J22
        {"ACC": "D", "M3": 50.0, "geometry": shapely.Point(1020, 996)},     # P1 at 20 %: J11
        {"ACC": "FAR", "M3": 999.0, "geometry": shapely.Point(1500, 1500)},  # 300 m away
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def test_allocation_by_hand(grid):
    result = allocate_customers(grid, customers_frame(), id_field="ACC", demand_field="M3",
                                max_distance_m=50)
    table = result.customers
    assert table.loc["A", "junction"] == "J11" and table.loc["A", "pipe"] == "P1"
    assert table.loc["B", "junction"] == "J12"
    assert table.loc["C", "junction"] == "J22" and table.loc["C", "pipe"] == "P9"
    assert table.loc["A", "distance_m"] == pytest.approx(5.0)
    assert table.loc["FAR", "junction"] is None
    counts = connections(result.wn)
    assert counts["J11"] == 2 and counts["J12"] == 1 and counts["J22"] == 1 and counts["J33"] == 0
    # demands replaced: J11 gets (365 + 50) m3/year, J13 gets nothing
    assert result.wn.get_node("J11").base_demand == pytest.approx(415 / YEAR_S)
    assert result.wn.get_node("J13").base_demand == 0.0
    assert result.junctions.loc["J11", "demand_m3s"] == pytest.approx(415 / YEAR_S)
    (far,) = result.findings
    assert far.code == "customer-too-far" and far.elements == ("FAR",)
    assert far.location == (1500.0, 1500.0)
    # the input network is untouched
    assert grid.get_node("J11").base_demand == pytest.approx(1e-3)


def test_add_demands_keeps_existing(grid):
    result = allocate_customers(grid, customers_frame(), id_field="ACC", demand_field="M3",
                                replace_demands=False)
    demands = result.wn.get_node("J11").demand_timeseries_list
    assert [d.base_value for d in demands] == pytest.approx([1e-3, 415 / YEAR_S])


def test_connections_only_and_crs(grid):
    # customers in EPSG:3857, network coordinates stated as EPSG:3857 too: no reprojection
    result = allocate_customers(grid, customers_frame("EPSG:3857"), crs="EPSG:3857")
    assert connections(result.wn).sum() == 4
    assert result.wn.get_node("J11").base_demand == pytest.approx(1e-3)  # demands untouched


def test_connection_tags_survive_the_inp_file(grid, tmp_path):
    from nrwkit.network import write_inp

    result = allocate_customers(grid, customers_frame(), demand_field="M3")
    path = write_inp(result.wn, tmp_path / "out.inp")
    assert connections(read_inp(path)).to_dict() == connections(result.wn).to_dict()


def test_bad_customer_inputs(grid):
    with pytest.raises(InputError, match="no field 'KWH'"):
        allocate_customers(grid, customers_frame(), demand_field="KWH")
    with pytest.raises(InputError, match="unknown demand unit"):
        allocate_customers(grid, customers_frame(), demand_field="M3", demand_unit="furlongs")
    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 1)])])
    with pytest.raises(InputError, match="must be points"):
        allocate_customers(grid, lines)


def test_cli_allocate(grid, tmp_path, write_inp):
    network = write_inp(make_inp(), "grid.inp")
    layer = tmp_path / "customers.gpkg"
    customers_frame("EPSG:32633").to_file(layer, layer="meters")
    out, table = tmp_path / "out.inp", tmp_path / "alloc.csv"
    args = ["gis", "allocate-customers", str(network), str(layer), str(out), "--layer", "meters",
            "--id-field", "ACC", "--demand-field", "M3", "--crs", "EPSG:32633", "--table",
            str(table), "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["allocated"], data["not_allocated"]) == (4, 1)
    assert data["demand_m3_per_day"] == pytest.approx((365 + 730 + 100 + 50) / 365)
    assert connections(read_inp(out))["J11"] == 2
    assert "FAR" in table.read_text()
    assert CliRunner().invoke(cli, args).exit_code == 2  # never overwrites


def test_geographic_network_crs_is_refused(grid):
    from nrwkit.errors import CRSError

    with pytest.raises(CRSError, match="geographic"):
        allocate_customers(grid, customers_frame("EPSG:4326"), crs="EPSG:4326")


def test_customer_crs_without_network_crs_is_said(grid):
    result = allocate_customers(grid, customers_frame("EPSG:32633"))
    assert result.findings[0].code == "customers-crs-assumed"
