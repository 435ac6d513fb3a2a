"""Invariants of the automatic DMA design on a sweep of small public networks.

The networks come from the ``epyt`` package (the ``benchmark`` extra; the module is skipped
without it). Each is designed once, with the library's defaults and no water age, and every
test asserts a property that must hold for any network, whatever the design looks like: no
figure here is tuned to a network. The oracles (graphs, demand junctions) are built in this
file from the WNTR model with networkx, never taken from nrwkit.

Links counted as open by the oracles: every link except pipes closed in the model
(``initial_status`` Closed) and, for the supply check, the design's new boundary valves.
Pumps and valves count as open, as a closed pump or valve may open during a run.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from dataclasses import dataclass
from typing import Any

import networkx as nx
import pytest
import wntr

from nrwkit import dma
from nrwkit.networks import load

epyt = pytest.importorskip("epyt")

EPYT_NETWORKS = os.path.join(os.path.dirname(epyt.__file__), "networks")
#: Small public networks, each designed in well under 15 s without water age (2 cores).
NETWORKS = [
    "Anytown", "Net2", "Jilin including water quality", "ZJ", "Balerma", "RuralNetwork", "ky3", "ky5",
    "ky14", "Richmond_skeleton", "anytown-exeter", "hanoi-exeter", "gessler1985",
    "Modified New York Tunnels including water quality", "Battle of the Calibration Networks System",
]
STAGES = ["graph and supply", "transmission", "partition", "boundary choice", "hydraulic verification",
          "repair", "final check"]
STATUSES = {"passes", "fails", "not verified"}
EPS = 1e-9


def network_path(name: str) -> str:
    for folder in ("asce-tf-wdst", "exeter-benchmarks"):
        path = os.path.join(EPYT_NETWORKS, folder, f"{name}.inp")
        if os.path.exists(path):
            return path
    msg = f"epyt does not ship {name}.inp: pick a network it ships"
    raise FileNotFoundError(msg)


def short_id(name: str) -> str:
    return name.split(" including")[0].replace(" ", "-")


@dataclass
class Designed:
    name: str
    path: str
    wn: wntr.network.WaterNetworkModel
    design: dma.DmaDesign
    evaluation: dma.DmaEvaluation
    data: dict[str, Any]
    seconds: float


@pytest.fixture(scope="module", params=NETWORKS, ids=[short_id(n) for n in NETWORKS])
def designed(request) -> Designed:
    path = network_path(request.param)
    with warnings.catch_warnings():
        # WNTR's notes on these files (unused curves, the headloss formula); nrwkit's own
        # warnings stay errors, as everywhere in the tests
        warnings.filterwarnings("ignore", category=UserWarning, module="wntr")
        wn = load(path)
        start = time.perf_counter()
        design, evaluation = dma.design(wn, water_age=False)
        seconds = time.perf_counter() - start
    return Designed(request.param, path, wn, design, evaluation, dma.design_json(design, evaluation), seconds)


# oracles ---------------------------------------------------------------------------------------

def demand_junctions(wn: wntr.network.WaterNetworkModel) -> set[str]:
    """Junctions with a positive base demand in any of their demand categories."""
    return {name for name, j in wn.junctions()
            if any(float(d.base_value) > 0 for d in j.demand_timeseries_list)}


def is_closed_pipe(link: Any) -> bool:
    return link.link_type == "Pipe" and link.initial_status == wntr.network.LinkStatus.Closed


def pieces_of(wn: wntr.network.WaterNetworkModel, junctions: set[str]) -> list[set[str]]:
    """Connected pieces of ``junctions`` through open links (pipes, valves, pumps) with both ends in them."""
    graph = nx.Graph()
    graph.add_nodes_from(junctions)
    for _, link in wn.links():
        a, b = link.start_node_name, link.end_node_name
        if a in junctions and b in junctions and not is_closed_pipe(link):
            graph.add_edge(a, b)
    return [set(c) for c in nx.connected_components(graph)]


def reaching_a_source(wn: wntr.network.WaterNetworkModel, closed: set[str]) -> set[str]:
    """Nodes with a path of open links to a tank or reservoir once ``closed`` are closed."""
    graph = nx.Graph()
    graph.add_nodes_from(wn.node_name_list)
    for name, link in wn.links():
        if name not in closed and not is_closed_pipe(link):
            graph.add_edge(link.start_node_name, link.end_node_name)
    sources = set(wn.tank_name_list) | set(wn.reservoir_name_list)
    reached: set[str] = set()
    for component in nx.connected_components(graph):
        if component & sources:
            reached |= component
    return reached


def flagged(row: dict[str, Any]) -> bool:
    return row["status"] != "passes" and bool(row["problems"])


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# invariants ------------------------------------------------------------------------------------

def test_every_junction_is_in_exactly_one_place(designed):
    data, wn = designed.data, designed.wn
    in_dmas = [j for row in data["dmas"] for j in row["junctions"]]
    on_mains = list(data["transmission"]["junctions"])
    unassigned = [u["junction"] for u in data["unassigned"]]
    assert len(in_dmas) == len(set(in_dmas)), "a junction is in two DMAs"
    assert len(on_mains) == len(set(on_mains)) and len(unassigned) == len(set(unassigned))
    places = [set(in_dmas), set(on_mains), set(unassigned)]
    for i in range(3):
        for k in range(i + 1, 3):
            assert not places[i] & places[k], f"in two places: {sorted(places[i] & places[k])[:5]}"
    everything = set(wn.junction_name_list)
    union = set().union(*places)
    assert union == everything, (f"missing {sorted(everything - union)[:5]}, "
                                 f"not junctions {sorted(union - everything)[:5]}")
    empty = [u["junction"] for u in data["unassigned"] if not str(u["reason"]).strip()]
    assert not empty, f"unassigned without a reason: {empty[:5]}"
    # the design object says the same: DMA junctions and the rest (transmission or unassigned)
    design = designed.design
    assert design.assignment.index.is_unique and design.transmission_junctions.index.is_unique
    assert set(design.assignment.index) == set(in_dmas)
    assert set(design.transmission_junctions.index) == set(on_mains) | set(unassigned)


def test_every_demand_junction_outside_dmas_has_a_reason(designed):
    data = designed.data
    in_dmas = {j for row in data["dmas"] for j in row["junctions"]}
    reasons = {str(k): str(v) for k, v in data["transmission"]["junction_reasons"].items()}
    reasons.update({u["junction"]: str(u["reason"]) for u in data["unassigned"]})
    without = sorted(j for j in demand_junctions(designed.wn) - in_dmas if not reasons.get(j, "").strip())
    assert not without, f"demand junctions in no DMA and with no reason: {without[:5]}"


def test_each_dma_is_one_connected_area_or_flagged(designed):
    for row in designed.data["dmas"]:
        pieces = pieces_of(designed.wn, set(row["junctions"]))
        if len(pieces) > 1:
            assert row["status"] != "passes" and "pieces" in row["problems"], (
                f"{row['id']} falls in {len(pieces)} pieces (e.g. {sorted(min(pieces, key=len))[:3]}) "
                f"but is {row['status']!r}: {row['problems']!r}")


def test_each_dma_reaches_a_source_once_the_valves_are_closed_or_flagged(designed):
    design = designed.design
    closed = set(design.boundary.index[design.boundary.role == "valve"])
    reached = reaching_a_source(designed.wn, closed)
    for row in designed.data["dmas"]:
        cut_off = sorted(set(row["junctions"]) - reached)
        if cut_off:
            assert flagged(row), (f"{row['id']}: {len(cut_off)} junctions (e.g. {cut_off[:3]}) have no open "
                                  f"path to a source once {len(closed)} valves are closed, but it is "
                                  f"{row['status']!r}: {row['problems']!r}")


def test_transmission_links_are_never_closed_or_metered(designed):
    design, data = designed.design, designed.data
    links = set(design.transmission_links.index)
    roles = design.boundary.role
    closed_or_metered = set(roles.index[roles.isin(["meter", "valve"])])
    assert not links & closed_or_metered, sorted(links & closed_or_metered)[:5]
    meters = {p for row in data["dmas"] for p in (*row["inlets"], *row.get("outlets", ()))}
    assert not set(data["transmission"]["pipes"]) & meters
    assert set(data["transmission"]["pipes"]) == links


def test_valves_and_pumps_are_transmission_or_inside_one_dma(designed):
    """A valve or pump is never closed by the design: never between two DMAs or a DMA and transmission."""
    wn, design = designed.wn, designed.design
    label = design.assignment.to_dict()
    for name, link in [*wn.valves(), *wn.pumps()]:
        a, b = label.get(link.start_node_name), label.get(link.end_node_name)
        if name in design.transmission_links.index:
            assert a is None and b is None, (name, a, b)
        else:  # inside one DMA, or between two junctions in no DMA (a group too small for one)
            assert a == b, (name, a, b)
            assert (name in design.internal_links.index) == (a is not None), name


def test_metrics_are_in_physical_range(designed):
    metrics = designed.evaluation.metrics
    for key in ("resilience_index", "resilience_index_before"):
        value = metrics.get(key)
        assert missing(value) or value <= 1 + EPS, f"{key} = {value}"
    for key in ("coverage", "dmas_in_band_fraction"):
        assert 0 <= metrics[key] <= 1, f"{key} = {metrics[key]}"
    for key in ("min_pressure_after_m", "min_pressure_before_m"):
        value = metrics[key]
        assert missing(value) or abs(value) <= 1e4, f"{key} = {value}"
    delivered = {k: v for k, v in metrics.items() if k.startswith("delivered")}
    assert "delivered_demand_fraction" in delivered
    table = designed.evaluation.dmas
    if "delivered_fraction" in table:
        delivered.update({f"{d} delivered_fraction": v for d, v in table["delivered_fraction"].items()})
    for key, value in delivered.items():
        assert 0 <= value <= 1 + EPS, f"{key} = {value}"
    # the JSON carries the same figures (NaN as null)
    for key in ("coverage", "dmas_in_band_fraction", "resilience_index"):
        value = designed.data["metrics"][key]
        assert missing(value) == missing(metrics[key])


def test_statuses_and_verdict_agree(designed):
    data, metrics = designed.data, designed.evaluation.metrics
    statuses = {row["id"]: row["status"] for row in data["dmas"]}
    assert set(statuses.values()) <= STATUSES, set(statuses.values())
    for row in data["dmas"]:
        if row["status"] == "not verified":
            assert "did not converge" in row["problems"], (row["id"], row["problems"])
        if row["status"] == "passes":
            assert not row["problems"], (row["id"], row["problems"])
        assert str(row["verdict"]).startswith(row["status"]), (row["id"], row["status"], row["verdict"])
    expected = (all(s == "passes" for s in statuses.values()) and not metrics.get("transmission_problems")
                and bool(metrics["verified"]))
    assert bool(metrics["passes"]) is expected, (metrics["passes"], statuses,
                                                 metrics.get("transmission_problems"), metrics["verified"])
    assert data["passes"] is bool(metrics["passes"]) and data["metrics"]["passes"] is bool(metrics["passes"])
    assert data["verified"] is bool(metrics["verified"])


def test_the_repair_loop_terminated(designed):
    repair = next(s for s in designed.data["stages"] if s["name"] == "repair")
    assert 0 <= repair["rounds"] <= repair["max_rounds"], repair


def test_stages_are_named_and_timed(designed):
    stages = designed.data["stages"]
    assert [s["name"] for s in stages] == STAGES
    assert all(s["seconds"] >= 0 for s in stages), [(s["name"], s["seconds"]) for s in stages]


def test_json_is_strict(designed):
    """``--json`` prints with ``allow_nan=False``: every figure must be finite or null."""
    json.dumps(designed.data, allow_nan=False)


def test_check_reports_what_design_reported(designed, tmp_path):
    path = tmp_path / "design.gpkg"
    dma.write_design_geopackage(designed.wn, designed.design, designed.evaluation, path)
    settings = dma.read_settings(path)
    design, evaluation = dma.read_design(
        designed.wn, path, size_band=tuple(settings["size"]), size_by=settings["size_by"],
        min_pressure_m=settings["min_pressure_m"],
        exclude_diameter_above_m=settings["exclude_diameter_above_m"],
        water_age=False)
    ours = {row["id"]: row["status"] for row in designed.data["dmas"]}
    again = dma.design_json(design, evaluation)
    theirs = {row["id"]: row["status"] for row in again["dmas"]}
    assert set(theirs) == set(ours)
    assert theirs == ours, {d: (ours[d], theirs[d]) for d in ours if ours[d] != theirs.get(d)}
    problems = (designed.evaluation.metrics.get("transmission_problems"),
                evaluation.metrics.get("transmission_problems"))
    assert again["passes"] is designed.data["passes"], problems
