"""Repair strategies on hand-built networks, checked with EPANET runs made here."""

from __future__ import annotations

from dataclasses import replace

import networkx as nx
import pandas as pd
from oracles import epanet_pdd_pressures

from nrwkit.dma.design import assemble
from nrwkit.dma.divide import choose_meters
from nrwkit.dma.evaluate import open_session, run_duration
from nrwkit.dma.network import distribution_network
from nrwkit.dma.repair import MeterInsteadOfValve, MoveBoundary, MoveInlet, RepairState
from nrwkit.network import read_inp

#: Two areas fed from JA. A's far end (A3, A4) sits behind a long 60 mm pipe and, before any
#: design, leans on B through X; A's inlet FA still carries more than X.
LEANING = """[TITLE]
two areas fed from one junction; the far end of A leans on B
[JUNCTIONS]
 JA  10  0
 A1  10  3
 A2  10  3
 A3  10  2
 A4  10  2
 B1  10  0.5
 B2  10  0.5
 B3  10  0.5
 B4  10  0.5
[RESERVOIRS]
 R1  50
[PIPES]
 M0  R1  JA  100  400  120
 FA  JA  A1  100  200  120
 A12 A1  A2  100  150  120
 A23 A2  A3  800  60  120
 A34 A3  A4  100  60  120
 FB  JA  B1  100  250  120
 B12 B1  B2  100  250  120
 B23 B2  B3  100  250  120
 B34 B3  B4  100  250  120
 X   B4  A4  100  150  120
[OPTIONS]
 Units  LPS
 Headloss  H-W
[TIMES]
 Duration  0
[COORDINATES]
 R1 0 -100
 JA 0 0
 A1 100 0
 A2 200 0
 A3 300 0
 A4 400 0
 B1 100 100
 B2 200 100
 B3 300 100
 B4 400 100
[END]
"""


epanet_pressures = epanet_pdd_pressures


def test_move_boundary_gives_the_leaning_end_to_the_neighbour(tmp_path):
    path = tmp_path / "leaning.inp"
    path.write_text(LEANING)
    wn = read_inp(path)
    # the oracle first: with X closed, EPANET leaves A3 and A4 below 15 m; B stays well above
    closed_x = epanet_pressures(read_inp(path), ["X"], tmp_path)
    assert closed_x[["A3", "A4"]].max() < 15.0 - 1.0
    assert closed_x[["B1", "B2", "B3", "B4"]].min() > 30.0

    dist = distribution_network(wn, size_by="nodes")
    assignment = pd.Series({**{f"A{i}": "DMA-A" for i in range(1, 5)},
                            **{f"B{i}": "DMA-B" for i in range(1, 5)}})
    design = assemble(wn, dist, assignment, size_by="nodes", band=(2, 6), settings={})
    with open_session(wn, 15.0) as session:
        before = session.run(duration_s=run_duration(wn), report_step_s=3600,
                             links=list(wn.link_name_list))
        flows = before.flowrate_m3s.iloc[0]
        design = replace(design, boundary=choose_meters(design.boundary, flows, design.dma_ids))
        assert design.inlets("DMA-A") == ["FA"] and design.new_valves == ["X"]
        state = RepairState(wn, design, session, min_pressure_m=15.0, max_inlets=1, band=(2, 6), dist=dist,
                            before_pressure=before.pressure_m, before_flows=before.flowrate_m3s)
        [failure] = state.failures()
        assert failure.key == "DMA-A" and sorted(failure.nodes) == ["A3", "A4"]
        # one inlet allowed, and FA carried more into A than X: no meter, no inlet move
        assert MeterInsteadOfValve().apply(state, failure) is None
        assert MoveInlet().apply(state, failure) is None
        change = MoveBoundary().apply(state, failure)
        assert change is not None and "moved to DMA-B" in change
        assert state.failures() == []
    moved = state.design
    assert moved.junctions("DMA-A") == ["A1", "A2"]
    assert moved.junctions("DMA-B") == ["A3", "A4", "B1", "B2", "B3", "B4"]
    # both DMAs are one connected area, each with its one inlet; the boundary moved to A23
    graph = nx.Graph((p.start_node_name, p.end_node_name) for _, p in wn.pipes())
    for dma in moved.dma_ids:
        assert nx.is_connected(graph.subgraph(moved.junctions(dma)))
        assert len(moved.inlets(dma)) == 1
    assert moved.new_valves == ["A23"]
    after = epanet_pressures(read_inp(path), moved.new_valves, tmp_path)
    assert after[[f"A{i}" for i in range(1, 5)] + [f"B{i}" for i in range(1, 5)]].min() >= 15.0
