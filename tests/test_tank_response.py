"""Tank terms of the linearised system against finite differences of EPANET steady states.

The oracle is EPANET (through HydraulicSession, itself checked against EpanetSimulator in
test_session.py): a tank 1 cm higher, or 1 l/s more demand at a junction, solved again; the
change of logger pressures and of the tanks' outflows (from the solved link flows) divided by
the step.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from nrwkit.hydraulics import HydraulicSession
from nrwkit.hydraulics.linear import linear_system, pressure_sensitivity, resistance_spread, tank_response
from nrwkit.leaks.sensitivity import level_switches, linear_systems, tank_drain
from nrwkit.networks import load


def tank_outflows(state, wn, tanks):
    """Flow out of each tank into the network, m3/s, from the solved link flows."""
    position = {name: k for k, name in enumerate(state.link_names)}
    out = []
    for tank in tanks:
        total = 0.0
        for name in wn.get_links_for_node(tank):
            link = wn.get_link(name)
            flow = float(state.flow_m3s[position[name]])
            total += flow if link.start_node_name == tank else -flow
        out.append(total)
    return np.array(out)


@pytest.mark.parametrize("name", ["net3", "l-town"])
def test_tank_response_equals_finite_differences(name):
    wn = load(name)
    junctions = list(wn.junction_name_list)
    sensors, candidates = junctions[::37][:8], junctions[::53][:5]
    with HydraulicSession(wn) as session:
        base = session.state(0)
        bumped = {}
        for c in candidates:
            with session.extra_demand(c, 0.001):
                bumped[c] = session.state(0)
    response = tank_response(linear_system(wn, base), sensors, candidates)
    assert response.tanks == list(wn.tank_name_list)
    sensor_pos = [base.node_names.index(s) for s in sensors]
    outflow0 = tank_outflows(base, wn, response.tanks)
    for k, tank in enumerate(response.tanks):
        model = copy.deepcopy(wn)
        model.get_node(tank).init_level += 0.01
        with HydraulicSession(model) as session:
            raised = session.state(0)
        dp = (raised.pressure_m[sensor_pos] - base.pressure_m[sensor_pos]) / 0.01
        assert response.to_sensor[:, k] == pytest.approx(dp, abs=2e-3)
        d_out = (tank_outflows(raised, wn, response.tanks) - outflow0) / 0.01
        assert response.feedback[:, k] == pytest.approx(d_out, rel=0.02, abs=1e-5)
    for j, c in enumerate(candidates):
        d_out = (tank_outflows(bumped[c], wn, response.tanks) - outflow0) / 0.001
        assert response.outflow[:, j] == pytest.approx(d_out, abs=5e-3)
    # a tank's area: its diameter's circle (neither network has a volume curve)
    diameters = np.array([float(wn.get_node(t).diameter) for t in response.tanks])
    assert response.area_m2 == pytest.approx(np.pi * diameters ** 2 / 4)


def test_no_tanks_no_terms():
    wn = load("net1")
    for control in list(wn.control_name_list):
        wn.remove_control(control)
    wn.remove_link("110")
    wn.remove_node("2")
    with HydraulicSession(wn) as session:
        state = session.state(0)
    response = tank_response(linear_system(wn, state), ["12"], ["13", "22"])
    assert response.tanks == [] and response.to_sensor.shape == (1, 0) and response.outflow.shape == (0, 2)


@pytest.mark.parametrize("name", ["net3", "l-town"])
def test_resistance_spread_equals_finite_differences(name):
    """A pipe's Hazen-Williams C 2 % lower: its resistance x 1.02^1.852; the loggers' change."""
    wn = load(name)
    junctions = list(wn.junction_name_list)
    sensors = junctions[::41][:8]
    with HydraulicSession(wn) as session:
        base = session.state(0)
    system = linear_system(wn, base)
    spread, _ = resistance_spread(system, pressure_sensitivity(system, sensors).to_numpy())
    sensor_pos = [base.node_names.index(s) for s in sensors]
    # the pipes whose resistance matters most at these loggers, by the linear model, and some
    # others with a head loss
    ranked = np.argsort(-np.abs(spread).max(axis=0))
    pipes = [int(k) for k in ranked[:3]] + [int(k) for k in ranked[20:60:10]]
    for k in pipes:
        model = copy.deepcopy(wn)
        pipe = model.get_link(base.link_names[k])
        pipe.roughness = pipe.roughness / 1.02
        rho = 1.02 ** 1.852 - 1.0
        with HydraulicSession(model) as session:
            changed = session.state(0)
        fd = changed.pressure_m[sensor_pos] - base.pressure_m[sensor_pos]
        predicted = spread[:, k] * rho
        assert np.abs(predicted) == pytest.approx(np.abs(fd), rel=0.1, abs=2e-4)
        if k in pipes[:3]:
            assert np.abs(fd).max() > 1e-3  # the pipe matters at some logger


def test_level_switch_shift_equals_epanet():
    """Net3's pump 335 and pipe 330 switch on tank 1's level: a demand drains tank 1, the switch
    comes later, and the tanks' heads after it follow EPANET only with the shift of its time."""
    wn = load("net3")
    step = 900
    junctions = list(wn.junction_name_list)
    with HydraulicSession(wn) as session:
        grid = list(range(0, 30 * 3600 + 1, step))
        states = session.states(grid)
        systems = linear_systems(wn, grid, session, states=states)
        tanks = list(systems[0].tanks)
        switches = level_switches(wn, states, tanks)
        # one shift per switch of tank 1 (a pump and a pipe switched together), none for the
        # clock's switches of pump 10
        assert [(s.time_s, tanks[s.tank]) for s in switches] == [(16200, "1"), (77400, "1"), (97200, "1")]
        switch = switches[0].time_s
        start, node, flow = 2 * 3600, junctions[40], 0.005
        at = [switch - step, switch + 3600, switch + 2 * 3600]
        with session.extra_demand(node, flow, start_s=start):
            leaking = session.states(at)
    position = [states[0].node_names.index(t) for t in tanks]
    epanet = np.array([leaking[t].head_m[position] - states[t].head_m[position] for t in at])
    column = list(systems[0].junctions).index(node)
    period = [t for t in grid if start <= t <= at[-1]]
    responses = [tank_response(systems[t], junctions[:2]) for t in period]
    forcing = np.zeros((len(period), len(junctions)))
    forcing[:, column] = flow
    shifted = tank_drain(responses, period, at, forcing, start_s=start, switches=switches)[:, :, column]
    held = tank_drain(responses, period, at, forcing, start_s=start)[:, :, column]
    assert shifted[0] == pytest.approx(epanet[0], abs=2e-3)  # before the switch: the same
    assert np.abs(shifted - epanet).max() < 4e-3
    assert np.abs(held[1:] - epanet[1:]).max() > 3 * np.abs(shifted[1:] - epanet[1:]).max()
