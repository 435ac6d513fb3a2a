"""`inspect` warns on a model with no demand, no coordinates, or nodes drawn at one point.

Each network is written by hand here (the planted grid of ``planted.py``, edited), so what
must be found is known from the file itself; a bundled network must not warn.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from planted import make_inp

from nrwkit.network import inspect_network, read_inp, run_checks
from nrwkit.networks import load
from nrwkit_cli.main import cli

JUNCTIONS = ("J11", "J12", "J13", "J21", "J22", "J23", "J31", "J32", "J33")
NEW = ("no-demand", "no-coordinates", "coincident-nodes")


def no_demand_inp() -> str:
    return make_inp(replace={f" {j}  10  1.0": f" {j}  10  0" for j in JUNCTIONS})


def codes(wn, simulate=False):
    return [f.code for f in run_checks(wn, simulate=simulate)]


def test_no_demand_at_all_is_one_warning(write_inp):
    wn = read_inp(write_inp(no_demand_inp()))
    assert sum(j.base_demand for _, j in wn.junctions()) == 0  # the network as written
    findings = run_checks(wn)
    assert [f.code for f in findings] == ["no-demand"]  # the dead-end stub check stays quiet
    (finding,) = findings
    assert finding.severity.value == "warning" and finding.element_type == "network"
    assert "none of the 9 junctions has a demand" in finding.message
    assert "allocate_customers" in finding.fix


def test_demand_whose_pattern_is_zero_is_no_demand(write_inp):
    text = make_inp(replace={f" {j}  10  1.0": f" {j}  10  1.0  ZERO" for j in JUNCTIONS})
    text = text.replace("[OPTIONS]", "[PATTERNS]\n ZERO  0  0  0\n\n[OPTIONS]")
    assert "no-demand" in codes(read_inp(write_inp(text)))


def test_one_junction_with_demand_is_enough(write_inp):
    text = make_inp(replace={f" {j}  10  1.0": f" {j}  10  0" for j in JUNCTIONS if j != "J22"})
    assert "no-demand" not in codes(read_inp(write_inp(text)))


def test_a_model_built_from_gis_without_customers_warns(net1):
    import copy

    wn = copy.deepcopy(net1)
    for _, junction in wn.junctions():
        junction.demand_timeseries_list[0].base_value = 0.0
    result = inspect_network(wn, simulate=False)
    assert "no-demand" in [f.code for f in result.findings]
    assert "no-demand" not in [f.code for f in inspect_network(net1, simulate=False).findings]


@pytest.mark.parametrize("how", ["section removed", "all at 0, 0"])
def test_no_coordinates_is_one_warning(write_inp, how):
    text = make_inp()
    head, _ = text.split("[COORDINATES]")
    if how == "section removed":
        text = head + "[END]\n"
    else:
        lines = [f" {n}  0  0" for n in ("R1", *JUNCTIONS)]
        text = head + "[COORDINATES]\n" + "\n".join(lines) + "\n\n[END]\n"
    wn = read_inp(write_inp(text))
    findings = run_checks(wn)
    assert [f.code for f in findings] == ["no-coordinates"]  # not 10 missing-coordinates
    assert "none of the 10 nodes has coordinates" in findings[0].message and findings[0].fix


def test_some_missing_coordinates_are_still_named(write_inp):
    wn = read_inp(write_inp(make_inp(drop=(" J22  1100  1100",))))
    found = {f.code: f for f in run_checks(wn, simulate=False)}
    assert "no-coordinates" not in found and found["missing-coordinates"].elements == ("J22",)


def test_duplicate_coordinates_name_every_node_and_the_point(write_inp):
    # J90, J91 (new, on a loop with J33) and J92 drawn on top of J33 at (1200, 1200)
    text = make_inp(
        extra_junctions=" J90  10  1.0\n J91  10  1.0",
        extra_pipes=" P90  J33  J90  100  150  120\n P91  J90  J91  100  150  120\n"
                    " P92  J91  J23  100  150  120",
        extra_coordinates=" J90  1200  1200\n J91  1300  1100")
    wn = read_inp(write_inp(text))
    found = [f for f in run_checks(wn, simulate=False) if f.code == "coincident-nodes"]
    assert len(found) == 1
    assert set(found[0].elements) == {"J33", "J90"}
    assert "(1200, 1200)" in found[0].message and found[0].fix


def test_three_nodes_at_one_point(write_inp):
    text = make_inp(extra_junctions=" J90  10  1.0\n J91  10  1.0",
                    extra_pipes=" P90  J33  J90  100  150  120\n P91  J90  J91  100  150  120",
                    extra_coordinates=" J90  1000  1000\n J91  1000  1000")
    found = [f for f in run_checks(read_inp(write_inp(text)), simulate=False)
             if f.code == "coincident-nodes"]
    assert [set(f.elements) for f in found] == [{"J11", "J90", "J91"}]
    assert found[0].message.startswith("3 nodes (J11, J90, J91)")


@pytest.mark.parametrize("name", ["l-town", "net3", "ky4"])
def test_bundled_networks_do_not_warn(name):
    found = [f.code for f in run_checks(load(name), simulate=False)]
    assert not set(found) & set(NEW), found


def test_cli_inspect_shows_the_warning_with_its_fix(write_inp):
    path = write_inp(no_demand_inp())
    result = CliRunner().invoke(cli, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    (entry,) = [f for f in json.loads(result.output)["findings"] if f["code"] == "no-demand"]
    assert entry["severity"] == "warning" and "allocate_customers" in entry["fix"]
    text = CliRunner().invoke(cli, ["inspect", str(path)])
    assert "no-demand" in text.output
    failing = CliRunner().invoke(cli, ["inspect", str(path), "--fail-on", "warning"])
    assert failing.exit_code == 1
