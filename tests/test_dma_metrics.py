"""Todini's resilience index and the baseline partition, against hand computations and oracles.

Todini: states typed by hand with the index worked out in comments; WNTR's own
``wntr.metrics.todini_index`` on networks without tanks; and, on benchmark networks solved with
WNTR's EpanetSimulator, ``Ir <= 1`` plus an energy balance computed here from the raw results,
node by node and link by link. Baseline: cuts counted by hand on small graphs.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import wntr

from nrwkit.dma import baseline
from nrwkit.dma.baseline import BaselineCut, baseline_cut, cut_pipes, louvain_parts, metis_parts
from nrwkit.dma.metrics import todini_components, todini_index

HOUR = 3600


# ---------------------------------------------------------------------------------------------
# Todini: small states by hand
# ---------------------------------------------------------------------------------------------

def two_junctions(injection: bool = False) -> wntr.network.WaterNetworkModel:
    """R (H = 50 m) -P1- J1 (z 10 m) -P2- J2 (z 15 m); optionally J3 (z 20 m) -P3- J1."""
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=50.0)
    wn.add_junction("J1", base_demand=0.02, elevation=10.0)
    wn.add_junction("J2", base_demand=0.01, elevation=15.0)
    wn.add_pipe("P1", "R", "J1", 100.0, 0.2, 100.0)
    wn.add_pipe("P2", "J1", "J2", 100.0, 0.1, 100.0)
    if injection:
        wn.add_junction("J3", base_demand=-0.01, elevation=20.0)
        wn.add_pipe("P3", "J3", "J1", 100.0, 0.1, 100.0)
    return wn


NO_FLOWS = pd.Series(dtype=float)


def test_todini_by_hand_one_reservoir_two_junctions():
    wn = two_junctions()
    head = pd.Series({"R": 50.0, "J1": 48.0, "J2": 45.0})
    demand = pd.Series({"R": -0.03, "J1": 0.02, "J2": 0.01})
    # p* = 20 m: h*_1 = 30, h*_2 = 35
    # surplus  = 0.02 (48 - 30) + 0.01 (45 - 35) = 0.36 + 0.10 = 0.46
    # required = 0.02 * 30 + 0.01 * 35 = 0.95;  source = 0.03 * 50 = 1.5
    # Ir = 0.46 / (1.5 - 0.95) = 0.46 / 0.55 = 0.836364
    c = todini_components(wn, head, demand, NO_FLOWS, required_pressure_m=20.0)
    assert c.surplus_power == pytest.approx(0.46, abs=1e-12)
    assert c.required_power == pytest.approx(0.95, abs=1e-12)
    assert c.source_power == pytest.approx(1.5, abs=1e-12)
    assert c.pump_power == 0 and c.injection_power == 0 and c.stored_power == 0
    assert c.denominator == pytest.approx(0.55, abs=1e-12)
    assert c.reason == ""
    assert c.index == pytest.approx(0.46 / 0.55, rel=1e-12)
    assert todini_index(wn, head, demand, NO_FLOWS, required_pressure_m=20.0) == pytest.approx(0.46 / 0.55)
    # the losses are the pipes': P1 0.03 * (50 - 48) = 0.06, P2 0.01 * (48 - 45) = 0.03
    assert c.delivered_power == pytest.approx(0.02 * 48 + 0.01 * 45, abs=1e-12)
    assert c.dissipated_power == pytest.approx(0.09, abs=1e-12)
    # Ir = 1 - (losses + stored) / denominator
    assert c.index == pytest.approx(1 - 0.09 / 0.55, rel=1e-12)


def test_todini_counts_a_junction_injection_as_a_source():
    """J3 injects 0.01 m3/s at h = 49 m: a source, not a customer."""
    wn = two_junctions(injection=True)
    head = pd.Series({"R": 50.0, "J1": 48.0, "J2": 45.0, "J3": 49.0})
    demand = pd.Series({"R": -0.02, "J1": 0.02, "J2": 0.01, "J3": -0.01})
    # source = 0.02 * 50 + 0.01 * 49 = 1.49;  surplus 0.46 and required 0.95 as above
    # Ir = 0.46 / (1.49 - 0.95) = 0.851852
    # Clipping J3's demand to 0 without counting it as a source (nrwkit before) gave
    # 0.46 / (1.0 - 0.95) = 9.2: the customers received power the denominator never counted.
    c = todini_components(wn, head, demand, NO_FLOWS, required_pressure_m=20.0)
    assert c.injection_power == pytest.approx(0.49, abs=1e-12)
    assert c.source_power == pytest.approx(1.49, abs=1e-12)
    assert c.index == pytest.approx(0.46 / 0.54, rel=1e-12)
    # losses: P1 0.02 * 2 + P3 0.01 * 1 + P2 0.01 * 3 = 0.08
    assert c.dissipated_power == pytest.approx(0.08, abs=1e-12)


def test_todini_pumps_that_add_no_head_add_no_power():
    """PU1 runs with a head loss of 2 m (off its curve), PU2 is off across 35 m."""
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R1", base_head=60.0)
    wn.add_reservoir("R2", base_head=10.0)
    wn.add_junction("J1", base_demand=0.03, elevation=20.0)
    wn.add_junction("J2", base_demand=0.0, elevation=20.0)
    wn.add_curve("C1", "HEAD", [(0.02, 40.0)])
    wn.add_pump("PU1", "R1", "J1", "HEAD", "C1")
    wn.add_pump("PU2", "R2", "J2", "HEAD", "C1")
    wn.add_pipe("P1", "J1", "J2", 100.0, 0.2, 100.0)
    head = pd.Series({"R1": 60.0, "R2": 10.0, "J1": 58.0, "J2": 45.0})
    demand = pd.Series({"R1": -0.03, "R2": 0.0, "J1": 0.03, "J2": 0.0})
    flow = pd.Series({"PU1": 0.03, "PU2": 0.0, "P1": 0.0})
    # source 0.03 * 60 = 1.8; pumps: 0.03 * (58 - 60) < 0 and 0 * 35: no input
    # surplus 0.03 * (58 - 35) = 0.69, required 0.03 * 35 = 1.05; Ir = 0.69 / (1.8 - 1.05) = 0.92
    c = todini_components(wn, head, demand, flow, required_pressure_m=15.0)
    assert c.pump_power == 0
    assert c.dissipated_power == pytest.approx(0.06, abs=1e-12)   # the 2 m lost in PU1
    assert c.index == pytest.approx(0.92, rel=1e-12)
    # a reverse flow through a pump that gains head takes power out: no input either
    flow_back = pd.Series({"PU1": 0.03, "PU2": -0.01, "P1": 0.0})
    assert todini_components(wn, head, demand, flow_back, required_pressure_m=15.0).pump_power == 0


def test_todini_reservoir_receiving_water_is_stored_not_a_source():
    wn = two_junctions()
    wn.add_reservoir("R2", base_head=40.0)
    wn.add_pipe("P4", "J2", "R2", 100.0, 0.1, 100.0)
    head = pd.Series({"R": 50.0, "J1": 48.0, "J2": 45.0, "R2": 40.0})
    demand = pd.Series({"R": -0.04, "J1": 0.02, "J2": 0.01, "R2": 0.01})
    # source 2.0, stored 0.01 * 40 = 0.4; Ir = 0.46 / (2.0 - 0.95)
    c = todini_components(wn, head, demand, NO_FLOWS, required_pressure_m=20.0)
    assert c.stored_power == pytest.approx(0.4, abs=1e-12)
    assert c.index == pytest.approx(0.46 / 1.05, rel=1e-12)
    # losses P1 0.04 * 2 + P2 0.02 * 3 + P4 0.01 * 5 = 0.19
    assert c.dissipated_power == pytest.approx(0.19, abs=1e-12)


@pytest.mark.parametrize("p_star", [38.0, 1.15 / 0.03 - 1e-9, 40.0, 100.0])
def test_todini_is_nan_when_the_network_cannot_give_p_star(p_star):
    """required = 0.35 + 0.03 p* reaches the source power 1.5 at p* = 38.33 m."""
    wn = two_junctions()
    head = pd.Series({"R": 50.0, "J1": 48.0, "J2": 45.0})
    demand = pd.Series({"R": -0.03, "J1": 0.02, "J2": 0.01})
    c = todini_components(wn, head, demand, NO_FLOWS, required_pressure_m=p_star)
    if p_star == 38.0:   # denominator 1.5 - 1.49 = 0.01 > 0: defined, and very negative
        assert c.index == pytest.approx((0.02 * 0 + 0.01 * -8) / 0.01, rel=1e-9)
        return
    assert math.isnan(c.index)
    assert "cannot deliver p*" in c.reason
    assert math.isnan(todini_index(wn, head, demand, NO_FLOWS, required_pressure_m=p_star))


def test_todini_is_nan_when_heads_and_demands_do_not_balance():
    """The required demand with the heads of a PDD state: more power out than in."""
    wn = two_junctions()
    head = pd.Series({"R": 50.0, "J1": 48.0, "J2": 45.0})
    asked = pd.Series({"R": -0.03, "J1": 0.04, "J2": 0.01})    # J1 got 0.02 of its 0.04
    # delivered 0.04 * 48 + 0.01 * 45 = 2.37 > 1.5 in: nrwkit before gave
    # (0.04 * 33 + 0.01 * 25) / (1.5 - 0.04 * 15 - 0.01 * 20) = 1.57 / 0.7 = 2.24
    c = todini_components(wn, head, asked, NO_FLOWS, required_pressure_m=5.0)
    assert c.dissipated_power == pytest.approx(1.5 - 2.37, abs=1e-12)
    assert math.isnan(c.index) and "energy balance" in c.reason


def test_todini_is_nan_when_undefined():
    wn = two_junctions()
    head = pd.Series({"R": 50.0, "J1": 48.0, "J2": 45.0})
    demand = pd.Series({"R": -0.03, "J1": 0.02, "J2": 0.01})
    c = todini_components(wn, head, demand, NO_FLOWS, required_pressure_m=20.0, converged=False)
    assert math.isnan(c.index) and "converge" in c.reason
    assert math.isnan(todini_index(wn, head, demand, NO_FLOWS, required_pressure_m=20.0, converged=False))
    nan_head = head.copy()
    nan_head["J2"] = np.nan
    c = todini_components(wn, nan_head, demand, NO_FLOWS, required_pressure_m=20.0)
    assert math.isnan(c.index) and "NaN" in c.reason
    idle = pd.Series({"R": 0.0, "J1": 0.0, "J2": 0.0})
    c = todini_components(wn, head, idle, NO_FLOWS, required_pressure_m=20.0)
    assert math.isnan(c.index) and "no junction draws water" in c.reason


def test_todini_per_junction_p_star_and_missing_values():
    wn = two_junctions()
    head = pd.Series({"R": 50.0, "J1": 48.0, "J2": 45.0})
    demand = pd.Series({"R": -0.03, "J1": 0.02, "J2": 0.01})
    p_star = pd.Series({"J1": 20.0, "J2": 20.0})
    assert todini_index(wn, head, demand, NO_FLOWS, required_pressure_m=p_star) == pytest.approx(0.46 / 0.55)
    with pytest.raises(ValueError, match="J2"):
        todini_index(wn, head, demand, NO_FLOWS, required_pressure_m=p_star.drop("J2"))
    with pytest.raises(ValueError, match="demand_m3s has no value for R"):
        todini_index(wn, head, demand.drop("R"), NO_FLOWS, required_pressure_m=20.0)
    with pytest.raises(ValueError, match="head_m"):
        todini_index(wn, head.drop("J1"), demand, NO_FLOWS, required_pressure_m=20.0)


def test_todini_rounding_never_lifts_the_index_above_one():
    """A loss-free state whose rounding makes the losses -1e-9: Ir is capped at 1."""
    wn = two_junctions()
    head = pd.Series({"R": 50.0, "J1": 50.0, "J2": 50.0 + 1e-7})
    demand = pd.Series({"R": -0.03, "J1": 0.02, "J2": 0.01})
    c = todini_components(wn, head, demand, NO_FLOWS, required_pressure_m=20.0)
    assert c.dissipated_power < 0 and c.reason == ""
    assert c.index == 1.0


# ---------------------------------------------------------------------------------------------
# Todini: benchmark networks solved by EPANET
# ---------------------------------------------------------------------------------------------

def epyt_path(name: str) -> str:
    epyt = pytest.importorskip("epyt")
    root = os.path.join(os.path.dirname(epyt.__file__), "networks")
    for folder in ("asce-tf-wdst", "exeter-benchmarks"):
        path = os.path.join(root, folder, name + ".inp")
        if os.path.exists(path):
            return path
    msg = f"epyt does not ship {name}.inp: pick a network it ships"
    raise FileNotFoundError(msg)


def run_eps(wn: wntr.network.WaterNetworkModel, prefix: str):
    """Run the model's duration (24 h for a single-period model, at most 72 h), hourly reports."""
    times = wn.options.time
    times.duration = min(times.duration, 72 * HOUR) if times.duration > 0 else 24 * HOUR
    times.report_timestep = HOUR
    times.report_start = 0
    times.hydraulic_timestep = min(times.hydraulic_timestep, HOUR)
    return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=prefix)


def solve_at(wn: wntr.network.WaterNetworkModel, time_s: int, prefix: str):
    """One steady state at pattern time ``time_s``, tanks at their initial levels."""
    times = wn.options.time
    times.pattern_start = times.pattern_start + time_s
    times.duration = 0
    return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=prefix)


def energy_terms(wn, head: pd.Series, demand: pd.Series, flow: pd.Series) -> dict[str, float]:
    """The energy balance of one state, from the raw results (nothing from nrwkit)."""
    head, demand, flow = head.astype(float), demand.astype(float), flow.astype(float)
    junctions = wn.junction_name_list
    stores = wn.reservoir_name_list + wn.tank_name_list
    qj, qs = demand[junctions], demand[stores]
    work = {name: float(flow[name] * (head[p.end_node_name] - head[p.start_node_name]))
            for name, p in wn.pumps()}
    sources = float((-qs[qs < 0] * head[qs[qs < 0].index]).sum()
                    + (-qj[qj < 0] * head[qj[qj < 0].index]).sum())
    pumps = sum(max(w, 0.0) for w in work.values())
    delivered = float((qj[qj > 0] * head[qj[qj > 0].index]).sum())
    stored = float((qs[qs > 0] * head[qs[qs > 0].index]).sum())
    # flow x head drop over every other link: the power it dissipates
    link_losses = sum(float(flow[name] * (head[link.start_node_name] - head[link.end_node_name]))
                      for name, link in wn.links() if name not in work)
    link_losses += sum(max(-w, 0.0) for w in work.values())
    gross = float((demand * head).abs().sum()) + sum(abs(w) for w in work.values())
    return {"input": sources + pumps, "sources": sources, "pumps": pumps, "delivered": delivered,
            "stored": stored, "link_losses": link_losses, "gross": gross}


def check_state(wn, head, demand, flow, p_star: float, *, links: bool = False) -> float:
    """Check Ir <= 1, the energy balance and the components on one state; return Ir.

    ``links``: also check that the losses equal the links' (flow x head drop, summed), which
    holds as far as EPANET's flows satisfy continuity: on well-converged states only.
    """
    ir = todini_index(wn, head, demand, flow, required_pressure_m=p_star)
    assert not ir > 1 + 1e-9
    c = todini_components(wn, head, demand, flow, required_pressure_m=p_star)
    e = energy_terms(wn, head, demand, flow)
    # input power >= delivered power + power into filling tanks, within EPANET's tolerance:
    # the difference is what pipes, valves and idle pumps dissipate
    assert e["input"] >= e["delivered"] + e["stored"] - 1e-3 * e["gross"]
    if links:
        losses = e["input"] - e["delivered"] - e["stored"]
        assert losses == pytest.approx(e["link_losses"], abs=1e-4 * e["gross"])
    for key, term in (("input", c.input_power), ("pumps", c.pump_power), ("delivered", c.delivered_power),
                      ("stored", c.stored_power)):
        assert term == pytest.approx(e[key], rel=1e-9, abs=1e-12), key
    if not c.reason:
        assert ir == pytest.approx(min(c.surplus_power / c.denominator, 1.0), rel=1e-12)
        assert ir == pytest.approx(1 - (c.dissipated_power + c.stored_power) / c.denominator, abs=1e-9)
    return ir


EPYT_NETWORKS = ["Net3", "ky3", "ky5", "ky14", "Richmond_skeleton", "anytown-exeter",
                 "Battle of the Calibration Networks System"]


@pytest.mark.parametrize("name", EPYT_NETWORKS)
def test_todini_at_most_one_on_benchmark_networks(name, tmp_path):
    wn = wntr.network.WaterNetworkModel(epyt_path(name))
    res = run_eps(wn, str(tmp_path / "eps"))
    node, link = res.node, res.link
    junctions = wn.junction_name_list
    peak = int(node["demand"][junctions].sum(axis=1).round(9).idxmax())
    # ky14 has a pumped zone at 6,700 m of head, where EPANET's continuity errors of 1e-6 m3/s
    # weigh; anytown-exeter's heads are meaningless (below); Calibration: ACCURACY 0.01
    links = name in ("Net3", "ky3", "ky5", "Richmond_skeleton")
    values = {}
    for t in node["head"].index:
        values[t] = check_state(wn, node["head"].loc[t], node["demand"].loc[t], link["flowrate"].loc[t], 15.0,
                                links=links)
    snap = solve_at(wntr.network.WaterNetworkModel(epyt_path(name)), peak, str(tmp_path / "peak"))
    at_peak = check_state(wn, snap.node["head"].iloc[0], snap.node["demand"].iloc[0],
                          snap.link["flowrate"].iloc[0], 15.0, links=links)
    if name == "anytown-exeter":
        # every pump's speed pattern is 0 and the tanks start empty: nothing feeds the network,
        # EPANET reports it disconnected and its heads are meaningless
        c = todini_components(wn, snap.node["head"].iloc[0], snap.node["demand"].iloc[0],
                              snap.link["flowrate"].iloc[0], required_pressure_m=15.0)
        assert c.input_power == 0 and "cannot deliver p*" in c.reason
        assert math.isnan(at_peak) and all(math.isnan(v) for v in values.values())
    elif name == "Battle of the Calibration Networks System":
        assert math.isnan(values[peak])      # no junction has a demand
    else:
        assert np.isfinite(values[peak]) and np.isfinite(at_peak)


def test_todini_on_the_calibration_network_with_demands(tmp_path):
    """The Battle of the Calibration Networks system (pumps, PRVs, a TCV) with 0.2 L/s per junction."""
    wn = wntr.network.WaterNetworkModel(epyt_path("Battle of the Calibration Networks System"))
    for _, junction in wn.junctions():
        junction.demand_timeseries_list[0].base_value = 0.0002
    res = run_eps(wn, str(tmp_path / "eps"))
    node, link = res.node, res.link
    values = [check_state(wn, node["head"].loc[t], node["demand"].loc[t], link["flowrate"].loc[t], 15.0)
              for t in node["head"].index]
    assert all(np.isfinite(values)) and max(values) <= 1


def test_todini_counts_richmond_injection(tmp_path):
    """Richmond's junction 777 injects 9.16 L/s at 187 m, most of the supply at hour 1.

    Leaving it out of the sources but letting its water reach the customers (nrwkit before)
    put the denominator near 0: on the steady state at the peak hour with the tanks at their
    initial levels, as nrwkit's DMA check solves it, ``Ir`` came out above 1 (about 4.7 at
    p* = 5 m), or hugely negative at p* = 10 m.
    """
    wn = wntr.network.WaterNetworkModel(epyt_path("Richmond_skeleton"))
    res = solve_at(wn, HOUR, str(tmp_path / "peak"))
    head, demand, flow = res.node["head"].iloc[0], res.node["demand"].iloc[0], res.link["flowrate"].iloc[0]
    assert demand["777"] == pytest.approx(-0.00916, rel=1e-5)
    for p_star in (0.0, 5.0, 10.0, 15.0, 20.0):
        c = todini_components(wn, head, demand, flow, required_pressure_m=p_star)
        assert c.injection_power == pytest.approx(0.00916 * head["777"], rel=1e-5)
        assert c.reason == "" and 0 < c.index < 1
        check_state(wn, head, demand, flow, p_star, links=True)
        without = c.surplus_power / (c.denominator - c.injection_power)
        if p_star == 5.0:
            assert without > 1
        if p_star == 10.0:
            assert without < -1


def test_todini_equals_wntr_on_hanoi(tmp_path):
    """Hanoi: one reservoir, no tanks, no pumps; WNTR's conventions and nrwkit's agree."""
    wn = wntr.network.WaterNetworkModel(epyt_path("Hanoi"))
    res = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / "hanoi"))
    node, link = res.node, res.link
    expected = wntr.metrics.todini_index(node["head"], node["pressure"], node["demand"], link["flowrate"],
                                         wn, 30.0)
    got = todini_index(wn, node["head"].iloc[0], node["demand"].iloc[0], link["flowrate"].iloc[0],
                       required_pressure_m=30.0)
    assert got < 1   # negative: the network in the file does not give every junction 30 m
    # WNTR takes elevations as head - pressure from EPANET's single-precision output
    assert got == pytest.approx(float(expected.iloc[0]), rel=1e-5)


# ---------------------------------------------------------------------------------------------
# Baseline partition
# ---------------------------------------------------------------------------------------------

def pipe_graph(edges, sizes=None) -> nx.Graph:
    """Edges as (u, v) or (u, v, number of pipes); every node size 1 unless given."""
    graph = nx.Graph()
    for edge in edges:
        u, v = edge[0], edge[1]
        n = edge[2] if len(edge) > 2 else 1
        graph.add_edge(u, v, pipes=[f"{u}-{v}-{i}" for i in range(n)], weight=0.1 * n)
    for node in graph:
        graph.nodes[node]["size"] = float((sizes or {}).get(node, 1.0))
    return graph


TWO_TRIANGLES = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "f"), ("f", "d")]


def grid(n: int = 10) -> nx.Graph:
    g = nx.grid_2d_graph(n, n)
    return pipe_graph([(f"J{a}_{b}", f"J{c}_{d}") for (a, b), (c, d) in g.edges])


def assert_partition(graph: nx.Graph, parts: list[set[str]]) -> None:
    """Every node in exactly one part."""
    seen = [n for part in parts for n in part]
    assert len(seen) == len(set(seen)) == graph.number_of_nodes()
    assert set(seen) == set(graph.nodes)


def both_methods():
    methods = [pytest.param(louvain_parts, id="louvain")]
    if metis_parts(nx.path_graph(["a", "b"]), 1) is not None:
        methods.append(pytest.param(metis_parts, id="metis"))
    return methods


def test_cut_pipes_by_hand():
    # a -2 pipes- b -1- c -3- d ; d -1- a
    graph = pipe_graph([("a", "b", 2), ("b", "c"), ("c", "d", 3), ("d", "a")])
    assert cut_pipes(graph, [{"a", "b"}, {"c", "d"}]) == 1 + 1
    assert cut_pipes(graph, [{"a"}, {"b", "c", "d"}]) == 2 + 1
    assert cut_pipes(graph, [{"a", "b", "c", "d"}]) == 0
    assert cut_pipes(graph, [{"a", "b"}]) == 1 + 1 + 3   # c and d alone each


@pytest.mark.parametrize("split", both_methods())
def test_two_triangles(split):
    graph = pipe_graph(TWO_TRIANGLES)
    parts = split(graph, 2, seed=0)
    assert_partition(graph, parts)
    assert sorted(sorted(p) for p in parts) == [["a", "b", "c"], ["d", "e", "f"]]
    assert cut_pipes(graph, parts) == 1


def test_metis_and_louvain_give_the_same_cut_on_two_triangles():
    pytest.importorskip("pymetis")
    graph = pipe_graph(TWO_TRIANGLES)
    assert cut_pipes(graph, metis_parts(graph, 2)) == cut_pipes(graph, louvain_parts(graph, 2)) == 1


@pytest.mark.parametrize("split", both_methods())
def test_three_triangles_in_a_chain(split):
    # triangles abc, def, ghi with 2 parallel pipes on each side; c-d and f-g single pipes
    edges = [(u, v, 2) for t in ("abc", "def", "ghi") for u, v in (t[0:2], t[1:3], t[0] + t[2])]
    graph = pipe_graph([*edges, ("c", "d"), ("f", "g")])
    parts = split(graph, 3, seed=0)
    assert len(parts) == 3
    assert_partition(graph, parts)
    assert cut_pipes(graph, parts) == 2
    assert baseline_cut(graph, 3, boundary_to_transmission=5).cut == 2 + 5


def test_parallel_pipes_are_what_metis_cuts():
    pytest.importorskip("pymetis")
    # a square a-b-c-d whose a-b and c-d links are 3 pipes each: cut b-c and d-a (2 pipes)
    graph = pipe_graph([("a", "b", 3), ("b", "c"), ("c", "d", 3), ("d", "a")])
    parts = metis_parts(graph, 2)
    assert sorted(sorted(p) for p in parts) == [["a", "b"], ["c", "d"]]
    assert baseline_cut(graph, 2).cut == 2


def test_metis_balances_sizes():
    pytest.importorskip("pymetis")
    # path a-b-c-d with sizes 3, 1, 1, 1: equal halves are {a} and {b, c, d}
    graph = pipe_graph([("a", "b"), ("b", "c"), ("c", "d")], sizes={"a": 3.0})
    result = baseline_cut(graph, 2)
    assert result.method == "metis"
    assert result.sizes == [3.0, 3.0] and result.cut == 1


@pytest.mark.parametrize("split", both_methods())
@pytest.mark.parametrize("parts", [2, 3, 4, 6])
def test_parts_count_and_cover_on_a_grid(split, parts):
    graph = grid(10)
    found = split(graph, parts, seed=3)
    assert_partition(graph, found)
    assert len(found) == parts
    assert found == split(graph, parts, seed=3)   # deterministic for a seed


def test_louvain_is_as_close_as_it_can_get():
    graph = grid(12)
    for parts in (10, 30, 60):
        found = louvain_parts(graph, parts, seed=1)
        assert_partition(graph, found)
        assert abs(len(found) - parts) <= max(2, parts // 5)


@pytest.mark.parametrize("split", both_methods())
def test_deterministic_for_a_seed(split):
    graph = nx.relabel_nodes(nx.random_geometric_graph(300, 0.1, seed=7), lambda n: f"N{n}")
    for u, v in graph.edges:
        graph.edges[u, v]["pipes"] = ["p"] * (1 + (int(u[1:]) + int(v[1:])) % 2)
    for n in graph:
        graph.nodes[n]["size"] = float(1 + int(n[1:]) % 5)
    first = [split(graph, 8, seed=s) for s in (0, 1)]
    again = [split(graph, 8, seed=s) for s in (0, 1)]
    assert first == again
    for found in first:
        assert_partition(graph, found)


DETERMINISM_SCRIPT = """
import networkx as nx
from nrwkit.dma.baseline import louvain_parts, metis_parts
g = nx.relabel_nodes(nx.random_geometric_graph(200, 0.12, seed=3), lambda n: f"N{n}")
for u, v in g.edges:
    g.edges[u, v]["pipes"] = ["p"]
for n in g:
    g.nodes[n]["size"] = 1.0
print([sorted(p) for p in louvain_parts(g, 6, seed=2)], [sorted(p) for p in metis_parts(g, 6, seed=2) or []])
"""


def test_deterministic_across_processes():
    """String hashing changes between processes: the parts must not."""
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-c", DETERMINISM_SCRIPT], capture_output=True, text=True,
                             env=env, check=True)
        outputs.add(run.stdout)
    assert len(outputs) == 1


@pytest.mark.parametrize("split", both_methods())
def test_disconnected_graph(split):
    graph = pipe_graph([("a", "b"), ("b", "c"), ("c", "a"), ("x", "y"), ("y", "z"), ("z", "x")])
    graph.add_node("lone", size=0.0)
    parts = split(graph, 2, seed=0)
    assert_partition(graph, parts)
    assert cut_pipes(graph, parts) == 0


@pytest.mark.parametrize("split", both_methods())
def test_trivial_part_counts(split):
    graph = pipe_graph(TWO_TRIANGLES)
    one = split(graph, 1)
    assert one == [set("abcdef")]
    alone = split(graph, 6)
    assert sorted(alone, key=lambda p: min(p)) == [{n} for n in "abcdef"]
    assert split(graph, 50) == alone
    assert split(nx.Graph(), 3) == []


def test_one_part_cuts_only_the_pipes_to_transmission():
    graph = pipe_graph(TWO_TRIANGLES)
    result = baseline_cut(graph, 1, boundary_to_transmission=4)
    assert result.cut == 4 and result.parts == 1 and result.sizes == [6.0]
    assert baseline_cut(graph, 1).cut == 0
    everyone = baseline_cut(graph, 6, boundary_to_transmission=4)
    assert everyone.cut == 7 + 4 and everyone.sizes == [1.0] * 6


def test_baseline_cut_says_which_method(monkeypatch):
    graph = pipe_graph(TWO_TRIANGLES)
    monkeypatch.setitem(sys.modules, "pymetis", None)   # import pymetis now raises ImportError
    assert metis_parts(graph, 2) is None
    result = baseline_cut(graph, 2, seed=5)
    assert result == BaselineCut(method="louvain", parts=2, cut=1, sizes=[3.0, 3.0])


def test_baseline_cut_uses_metis_when_installed():
    pytest.importorskip("pymetis")
    assert baseline_cut(pipe_graph(TWO_TRIANGLES), 2).method == "metis"


def test_bad_arguments():
    graph = pipe_graph(TWO_TRIANGLES)
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="parts"):
            baseline_cut(graph, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="boundary_to_transmission"):
        baseline_cut(graph, 2, boundary_to_transmission=-1)


def test_louvain_search_is_bounded(monkeypatch):
    calls = []
    real = nx.community.louvain_communities

    def counting(*args, **kwargs):
        calls.append(kwargs.get("resolution"))
        return real(*args, **kwargs)

    monkeypatch.setattr(nx.community, "louvain_communities", counting)
    louvain_parts(grid(8), 17, seed=0)
    assert 0 < len(calls) <= baseline.LOUVAIN_MAX_RUNS
