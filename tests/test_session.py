"""The in-memory EPANET session gives what WNTR's EpanetSimulator gives for the same file.

Every oracle here is computed outside the session: a WNTR ``EpanetSimulator`` run (directly or
through :func:`nrwkit.hydraulics.steady_state`) of the model with the same change made in the
model itself, or a formula written out in the test.

EPANET stops iterating when the relative flow change falls below its ``ACCURACY`` (0.001 by
default), so two runs of one network that start from different points, or that read the
network from files written in different flow units (the session writes LPS, WNTR the model's
units), agree only to about a millimetre. Where the tests compare at 1e-3 m they tighten the
accuracy on a copy of the model so that the comparison measures the session, not the solver's
stopping rule.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import wntr
from planted import make_inp

from nrwkit.errors import InputError, SimulationError
from nrwkit.hydraulics import HydraulicSession, steady_state
from nrwkit.hydraulics.session import AGE_TOLERANCE_H
from nrwkit.network import read_inp
from nrwkit.networks import load

HOUR = 3600
#: 0.5, 1.0, 1.8, 1.2 over four hours (mean 1.125)
PATTERN = "[PATTERNS]\n PAT  0.5  1.0  1.8  1.2\n\n[OPTIONS]"


def tight(wn: wntr.network.WaterNetworkModel) -> wntr.network.WaterNetworkModel:
    """A copy with EPANET's convergence accuracy tightened (see the module docstring)."""
    out = copy.deepcopy(wn)
    out.options.hydraulic.accuracy = 1e-6
    return out


def epanet_eps(wn: wntr.network.WaterNetworkModel, tmp_path: Path, name: str = "eps"):
    """An extended-period EpanetSimulator run reporting every hour from t = 0."""
    wn = copy.deepcopy(wn)
    wn.options.time.report_timestep = HOUR
    wn.options.time.report_start = 0
    return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / name))


def set_pdd(wn: wntr.network.WaterNetworkModel) -> None:
    """Pressure-dependent demand in the model: full at 60 m, none at 0 m, exponent 0.5."""
    hyd = wn.options.hydraulic
    hyd.demand_model, hyd.pressure_exponent = "PDD", 0.5
    hyd.required_pressure, hyd.minimum_pressure = 60.0, 0.0


def patterned_text(**extra: str) -> str:
    text = make_inp(extra_options=" Pattern  PAT\n" + extra.pop("extra_options", ""), **extra)
    text = text.replace("[OPTIONS]", PATTERN, 1)
    return text.replace(" Duration  0", " Duration  3:00\n Pattern Timestep  1:00\n"
                        " Hydraulic Timestep  1:00")


@pytest.fixture(scope="module")
def net3():
    return load("net3")


@pytest.fixture
def patterned(write_inp):
    return read_inp(write_inp(patterned_text()))


# --- single steady states ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["net1", "net3", "l-town"])
def test_solve_equals_steady_state(name):
    wn = tight(load(name))
    times = [0, 7 * HOUR, 13 * HOUR]
    with HydraulicSession(wn) as session:
        states = [session.solve(t, full=True) for t in times]
        assert session.junction_names == list(wn.junction_name_list)
    for t, state in zip(times, states, strict=True):
        ref = steady_state(wn, time_s=t)
        junctions = list(wn.junction_name_list)
        assert state.time_s == t
        assert state.converged and ref.converged
        assert state.pressure_m.to_numpy() == pytest.approx(ref.pressure_m[junctions].to_numpy(), abs=1e-3)
        assert state.head_m.to_numpy() == pytest.approx(ref.head_m[junctions].to_numpy(), abs=1e-3)
        assert state.demand_m3s.to_numpy() == pytest.approx(ref.demand_m3s[junctions].to_numpy(), abs=1e-7)
        links = list(state.flowrate_m3s.index)
        assert sorted(links) == sorted(wn.link_name_list)
        assert state.flowrate_m3s.to_numpy() == pytest.approx(ref.flowrate_m3s[links].to_numpy(), abs=1e-5)
        nodes = list(state.node_head_m.index)
        assert sorted(nodes) == sorted(wn.node_name_list)
        assert state.node_head_m.to_numpy() == pytest.approx(ref.head_m[nodes].to_numpy(), abs=1e-3)
        assert state.node_demand_m3s.to_numpy() == pytest.approx(ref.demand_m3s[nodes].to_numpy(), abs=1e-5)
        # demand-driven: nothing is short
        assert (state.deficit_m3s == 0).all()
        assert state.required_m3s.equals(state.demand_m3s + state.deficit_m3s)


def test_solve_without_full_reads_junctions_only(net1):
    with HydraulicSession(net1) as session:
        state = session.solve(0)
    assert state.flowrate_m3s is None and state.node_head_m is None and state.node_demand_m3s is None
    assert list(state.pressure_m.index) == list(net1.junction_name_list)
    # pressure is head minus elevation
    elevation = np.array([net1.get_node(j).elevation for j in net1.junction_name_list])
    assert (state.head_m - state.pressure_m).to_numpy() == pytest.approx(elevation, abs=1e-3)


def test_solve_follows_the_pattern(patterned):
    """Pattern time t uses the multiplier of hour t (0.5, 1.0, 1.8, 1.2), 9 junctions x 1 L/s."""
    with HydraulicSession(patterned) as session:
        totals = [session.solve(h * HOUR).demand_m3s.sum() for h in range(5)]
    assert totals == pytest.approx([9e-3 * m for m in (0.5, 1.0, 1.8, 1.2, 0.5)], rel=1e-6)


# --- extended-period runs ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["net1", "net3"])
def test_run_equals_epanet_extended_period(name, tmp_path):
    wn = tight(load(name))
    wn.options.time.duration = 24 * HOUR
    links = list(wn.link_name_list[:6])
    with HydraulicSession(wn) as session:
        run = session.run(report_step_s=HOUR, links=links)
    ref = epanet_eps(wn, tmp_path)
    assert list(run.pressure_m.index) == [h * HOUR for h in range(25)]
    assert list(ref.node["pressure"].index) == list(run.pressure_m.index)
    junctions = list(run.pressure_m.columns)
    assert junctions == list(wn.junction_name_list)
    assert run.pressure_m.to_numpy() == pytest.approx(ref.node["pressure"][junctions].to_numpy(), abs=1e-3)
    assert run.demand_m3s.to_numpy() == pytest.approx(ref.node["demand"][junctions].to_numpy(), abs=1e-7)
    assert list(run.flowrate_m3s.columns) == links
    assert run.flowrate_m3s.to_numpy() == pytest.approx(ref.link["flowrate"][links].to_numpy(), abs=1e-5)
    assert run.converged
    assert run.delivered_fraction == 1.0


def test_run_default_duration_and_step(patterned, tmp_path):
    with HydraulicSession(patterned) as session:
        run = session.run()
    assert list(run.pressure_m.index) == [0, HOUR, 2 * HOUR, 3 * HOUR]
    assert run.flowrate_m3s is None
    ref = epanet_eps(patterned, tmp_path)
    assert run.pressure_m.to_numpy() == pytest.approx(ref.node["pressure"][run.pressure_m.columns].to_numpy(),
                                                      abs=1e-3)


def test_run_then_solve_then_run(net1):
    """Solves and runs share one project: a run after a snapshot is the same run."""
    with HydraulicSession(net1) as session:
        first = session.run(duration_s=6 * HOUR)
        snap = session.solve(3 * HOUR)
        second = session.run(duration_s=6 * HOUR)
    assert second.pressure_m.to_numpy() == pytest.approx(first.pressure_m.to_numpy(), abs=1e-3)
    # the 3 h snapshot starts from the initial tank level, the run's 3 h state does not
    assert snap.pressure_m.to_numpy() == pytest.approx(
        steady_state(net1, time_s=3 * HOUR).pressure_m[net1.junction_name_list].to_numpy(), abs=1e-3)


def test_run_accepts_any_iterable_of_links(net1):
    with HydraulicSession(net1) as session:
        run = session.run(duration_s=2 * HOUR, links=(name for name in ["10", "11"]))
    assert list(run.flowrate_m3s.columns) == ["10", "11"]


# --- link statuses -------------------------------------------------------------------------

def closed_copy(wn, pipes):
    out = copy.deepcopy(wn)
    for name in pipes:
        out.get_link(name).initial_status = wntr.network.LinkStatus.Closed
    return out


def test_closing_pipes_equals_a_model_with_them_closed(net1, tmp_path):
    wn = tight(net1)
    wn.options.time.duration = 24 * HOUR
    closed = ["111", "22"]
    with HydraulicSession(wn) as session:
        open_state = session.solve(7 * HOUR)
        session.set_status(closed, open_=False)
        state = session.solve(7 * HOUR, full=True)
        run = session.run(report_step_s=HOUR, links=closed)
    model = closed_copy(wn, closed)
    ref = steady_state(model, time_s=7 * HOUR)
    junctions = list(wn.junction_name_list)
    assert state.pressure_m.to_numpy() == pytest.approx(ref.pressure_m[junctions].to_numpy(), abs=1e-3)
    flows = ref.flowrate_m3s[state.flowrate_m3s.index].to_numpy()
    assert state.flowrate_m3s.to_numpy() == pytest.approx(flows, abs=1e-5)
    assert state.flowrate_m3s[closed].abs().max() < 1e-6
    # the closures matter: the state differs from the open one
    assert np.abs(state.pressure_m - open_state.pressure_m).max() > 0.5
    eps = epanet_eps(model, tmp_path)
    assert run.pressure_m.to_numpy() == pytest.approx(eps.node["pressure"][junctions].to_numpy(), abs=1e-3)
    assert run.flowrate_m3s.abs().to_numpy().max() < 1e-6


def test_reopening_a_closed_pipe_equals_the_model_with_it_open(write_inp):
    text = make_inp(replace={" P9   J12  J22  100  150  120": " P9   J12  J22  100  150  120  0  Closed"})
    wn = tight(read_inp(write_inp(text)))
    with HydraulicSession(wn) as session:
        closed = session.solve(0, full=True)
        session.set_status(["P9"], open_=True)
        opened = session.solve(0, full=True)
        session.reset_status()
        again = session.solve(0, full=True)
    assert abs(closed.flowrate_m3s["P9"]) < 1e-9
    assert abs(opened.flowrate_m3s["P9"]) > 1e-5
    ref = steady_state(read_inp(write_inp(make_inp(), "open.inp")), time_s=0)
    flows = ref.flowrate_m3s[opened.flowrate_m3s.index].to_numpy()
    assert opened.flowrate_m3s.to_numpy() == pytest.approx(flows, abs=1e-6)
    assert abs(again.flowrate_m3s["P9"]) < 1e-9


@pytest.mark.parametrize("name", ["net1", "net3"])
def test_reset_status_restores_the_baseline(name):
    wn = load(name)
    pipes = list(wn.pipe_name_list)
    with HydraulicSession(wn) as session:
        base = session.solve(2 * HOUR, full=True)
        session.set_status([pipes[5], pipes[9]], open_=False)
        changed = session.solve(2 * HOUR, full=True)
        session.set_status([pipes[5]], open_=False)  # a second call keeps the first saved status
        session.reset_status()
        back = session.solve(2 * HOUR, full=True)
    assert np.abs(changed.pressure_m - base.pressure_m).max() > 0.1
    # within EPANET's convergence accuracy (the solve starts from the previous flows)
    assert back.pressure_m.to_numpy() == pytest.approx(base.pressure_m.to_numpy(), abs=1e-3)
    assert back.flowrate_m3s.to_numpy() == pytest.approx(base.flowrate_m3s.to_numpy(), abs=1e-4)


def test_reset_status_restores_the_baseline_exactly(net3):
    with HydraulicSession(net3) as session:
        base = session.solve(2 * HOUR)
        session.set_status([net3.pipe_name_list[5], net3.pipe_name_list[9]], open_=False)
        session.solve(2 * HOUR)
        session.reset_status()
        back = session.solve(2 * HOUR)
    assert back.pressure_m.equals(base.pressure_m)


def test_repeated_solve_equals_steady_state_on_ltown(ltown):
    ref = steady_state(ltown, time_s=2 * HOUR).pressure_m[ltown.junction_name_list].to_numpy()
    with HydraulicSession(ltown) as session:
        session.solve(2 * HOUR)
        session.set_status([ltown.pipe_name_list[5], ltown.pipe_name_list[9]], open_=False)
        session.solve(2 * HOUR)
        session.reset_status()
        first = session.solve(2 * HOUR).pressure_m.to_numpy()
        second = session.solve(2 * HOUR).pressure_m.to_numpy()
    assert second == pytest.approx(first, abs=1e-3)
    assert second == pytest.approx(ref, abs=1e-3)


def test_check_valve_cannot_be_closed(write_inp):
    wn = read_inp(write_inp(make_inp(extra_pipes=" P13  J13  J33  200  150  120  0  CV")))
    with HydraulicSession(wn) as session, pytest.raises(SimulationError, match="P13"):
        session.set_status(["P13"], open_=False)


def test_unknown_link_or_node(net1):
    with HydraulicSession(net1) as session:
        with pytest.raises(InputError, match="no link named 'nope'"):
            session.set_status(["nope"], open_=False)
        with pytest.raises(InputError, match="no node named 'nope'"), session.extra_demand("nope", 0.01):
            pass


# --- extra demands -------------------------------------------------------------------------



@pytest.mark.parametrize("multiplier", [1.0, 2.0])
def test_extra_demand_adds_exactly_the_flow(multiplier, write_inp, tmp_path):
    """At 1.8 x the base demand and a global multiplier, the extra demand is still exactly q."""
    wn = tight(read_inp(write_inp(patterned_text(extra_options=f" Demand Multiplier  {multiplier}"))))
    q = 0.004
    with HydraulicSession(wn) as session:
        base = session.solve(2 * HOUR)
        with session.extra_demand("J33", q):
            fire = session.solve(2 * HOUR)
            fire_run = session.run(duration_s=3 * HOUR)
        back = session.solve(2 * HOUR)
    # 9 junctions x 1 L/s x 1.8 (pattern) x the multiplier
    assert base.required_m3s.sum() == pytest.approx(9e-3 * 1.8 * multiplier, rel=1e-6)
    assert fire.required_m3s.sum() - base.required_m3s.sum() == pytest.approx(q, rel=1e-6)
    assert fire.required_m3s["J33"] - base.required_m3s["J33"] == pytest.approx(q, rel=1e-6)
    assert back.required_m3s.sum() == pytest.approx(base.required_m3s.sum(), rel=1e-9)
    assert back.pressure_m.to_numpy() == pytest.approx(base.pressure_m.to_numpy(), abs=1e-3)
    assert fire.pressure_m["J33"] < base.pressure_m["J33"] - 0.1
    # constant over the run: q on top of every hour's pattern demand
    extra = fire_run.demand_m3s.sum(axis=1).to_numpy() - 9e-3 * multiplier * np.array([0.5, 1.0, 1.8, 1.2])
    assert extra == pytest.approx([q] * 4, rel=1e-6)
    # EPANET with the demand written into the model: a constant pattern, no global multiplier on it
    model = copy.deepcopy(wn)
    model.add_pattern("CONST", [1.0])
    model.get_node("J33").add_demand(q / multiplier, "CONST")
    ref = steady_state(model, time_s=2 * HOUR)
    assert fire.pressure_m.to_numpy() == pytest.approx(ref.pressure_m[wn.junction_name_list].to_numpy(),
                                                       abs=1e-3)


def test_extra_demand_from_a_start_time_equals_epanet(net1, tmp_path):
    """A leak-like extra demand from 6 h on, tanks draining after it: as EPANET with a pattern.

    The oracle is WNTR's EpanetSimulator on a copy of Net1 whose node 22 has an extra demand
    with a pattern 0 until 6 h and 1 after it.
    """
    q = 0.01
    with HydraulicSession(net1) as session:
        plain = session.run(duration_s=10 * HOUR, report_step_s=HOUR)
        with session.extra_demand("22", q, start_s=6 * HOUR):
            run = session.run(duration_s=10 * HOUR, report_step_s=HOUR)
            early, late = session.solve(4 * HOUR), session.solve(7 * HOUR)
        again = session.run(duration_s=10 * HOUR, report_step_s=HOUR)
    model = copy.deepcopy(net1)
    model.options.time.duration = 10 * HOUR
    model.options.time.report_timestep = HOUR
    step = int(model.options.time.pattern_timestep) // HOUR  # Net1: 2 h
    model.add_pattern("FROM6", [0.0] * (6 // step) + [1.0] * (24 // step))
    model.get_node("22").add_demand(q, "FROM6")
    ref = epanet_eps(model, tmp_path)
    junctions = list(net1.junction_name_list)
    expected = ref.node["pressure"].loc[run.pressure_m.index, junctions].to_numpy()
    assert run.pressure_m[junctions].to_numpy() == pytest.approx(expected, abs=1e-3)
    before = run.pressure_m.index < 6 * HOUR
    assert run.pressure_m[before].to_numpy() == pytest.approx(plain.pressure_m[before].to_numpy(), abs=1e-9)
    assert (run.pressure_m.loc[9 * HOUR] < plain.pressure_m.loc[9 * HOUR] - 0.05).all()  # tank drained
    assert again.pressure_m.to_numpy() == pytest.approx(plain.pressure_m.to_numpy(), abs=1e-9)
    assert early.required_m3s.sum() < late.required_m3s.sum() - 0.9 * q


def test_extra_demand_block_restores_after_an_error(net1):
    with HydraulicSession(net1) as session:
        base = session.solve(0)
        with pytest.raises(RuntimeError, match="inside"), session.extra_demand("11", 0.01):
            raise RuntimeError("inside")
        assert session.solve(0).required_m3s.sum() == pytest.approx(base.required_m3s.sum(), rel=1e-9)


# --- pressure-dependent demand -------------------------------------------------------------

def test_pdd_deficits_equal_epanet(write_inp, tmp_path):
    """Pressures of 30-50 m against a required 60 m: every junction is short."""
    wn = tight(read_inp(write_inp(make_inp())))
    options = (wn.options.hydraulic.demand_model, wn.options.hydraulic.required_pressure)
    with HydraulicSession(wn, demand_model="PDD", required_pressure_m=60.0, minimum_pressure_m=0.0,
                          pressure_exponent=0.5) as session:
        state = session.solve(0)
        run = session.run(duration_s=2 * HOUR)
    assert (wn.options.hydraulic.demand_model, wn.options.hydraulic.required_pressure) == options
    model = copy.deepcopy(wn)
    set_pdd(model)
    ref = steady_state(model, time_s=0)
    junctions = list(wn.junction_name_list)
    assert state.pressure_m.to_numpy() == pytest.approx(ref.pressure_m[junctions].to_numpy(), abs=1e-3)
    assert state.demand_m3s.to_numpy() == pytest.approx(ref.demand_m3s[junctions].to_numpy(), abs=1e-7)
    short = 1e-3 - ref.demand_m3s[junctions].to_numpy()
    assert state.deficit_m3s.to_numpy() == pytest.approx(short, abs=1e-7)
    assert (state.deficit_m3s > 1e-5).all()
    assert state.required_m3s.to_numpy() == pytest.approx([1e-3] * 9, rel=1e-6)
    # EPANET 2.2's PDA by hand: d = q * ((p - 0) / (60 - 0)) ** 0.5
    assert state.demand_m3s.to_numpy() == pytest.approx(1e-3 * (state.pressure_m.to_numpy() / 60.0) ** 0.5,
                                                        rel=1e-3)
    assert run.delivered_fraction == pytest.approx(state.demand_m3s.sum() / 9e-3, rel=1e-6)
    assert run.delivered_fraction < 0.99


def test_pdd_taken_from_the_model(write_inp):
    wn = tight(read_inp(write_inp(make_inp())))
    set_pdd(wn)
    with HydraulicSession(wn) as session:
        from_model = session.solve(0)
    with HydraulicSession(wn, demand_model="DD") as session:
        forced_dd = session.solve(0)
    assert (from_model.deficit_m3s > 1e-5).all()
    assert (forced_dd.deficit_m3s == 0).all()
    assert forced_dd.demand_m3s.sum() == pytest.approx(9e-3, rel=1e-6)


# --- water age -----------------------------------------------------------------------------

def test_water_age_equals_epanet(net1, tmp_path):
    with HydraulicSession(net1, water_age=True) as session:
        before = session.solve(HOUR)
        age = session.water_age(duration_s=72 * HOUR)
        after = session.solve(HOUR)  # the hydraulics reopen after the quality run
    model = copy.deepcopy(net1)
    model.options.time.duration = 72 * HOUR
    model.options.quality.parameter = "AGE"
    model.options.quality.tolerance = AGE_TOLERANCE_H  # the session's setting for age runs
    ref = epanet_eps(model, tmp_path, "age")
    # WNTR reports age in s; the mean over the last day, hourly reports 48 h..72 h
    expected = ref.node["quality"].loc[48 * HOUR:72 * HOUR, net1.junction_name_list].mean() / HOUR
    assert age.name == "water_age_h"
    assert list(age.index) == list(net1.junction_name_list)
    assert age.to_numpy() == pytest.approx(expected.to_numpy(), abs=0.01)
    assert age.max() > 10  # a real signal, not zeros
    assert after.pressure_m.to_numpy() == pytest.approx(before.pressure_m.to_numpy(), abs=1e-3)
    assert net1.options.quality.parameter != "AGE"  # the caller's model is untouched


# --- life cycle ----------------------------------------------------------------------------

def test_model_changes_after_opening_do_not_reach_the_session(write_inp):
    wn = read_inp(write_inp(make_inp()))
    with HydraulicSession(wn) as session:
        wn.get_node("R1").head_timeseries.base_value = 80.0
        state = session.solve(0)
    assert state.head_m.max() < 60.0


def test_unopenable_network_raises(write_inp):
    text = make_inp(extra_junctions=" J60  10  1.0", extra_coordinates=" J60  1300  1200")
    text = text.replace("[VALVES]", "[PUMPS]\n PU1  J33  J60  HEAD  C1\n\n[VALVES]")
    text = text.replace("[OPTIONS]", "[CURVES]\n C1  5  -10\n\n[OPTIONS]")
    wn = read_inp(write_inp(text))
    with pytest.raises(InputError, match="EPANET refuses the model"), HydraulicSession(wn) as session:
        session.solve(0)


def test_close_is_idempotent_and_removes_the_files(net1):
    session = HydraulicSession(net1)
    folder = Path(session._tmp.name)
    assert folder.exists()
    session.close()
    session.close()
    assert not folder.exists()


def test_states_equal_an_epanet_run_at_each_time(tmp_path):
    """states(): one in-memory run, full state (tanks included) at each asked time."""
    wn = load("net3")
    times = [0, 3 * 3600, 6 * 3600 + 1800]
    with HydraulicSession(wn) as session:
        files = sorted(p.name for p in session.inp_path.parent.iterdir())
        states = session.states(times)
        assert sorted(p.name for p in session.inp_path.parent.iterdir()) == files  # nothing written
        with pytest.raises(InputError):
            session.states([-1])
    assert list(states) == times
    copy_wn = copy.deepcopy(wn)
    copy_wn.options.time.duration = times[-1]
    copy_wn.options.time.report_timestep = 1800
    copy_wn.options.time.hydraulic_timestep = 1800
    results = wntr.sim.EpanetSimulator(copy_wn).run_sim(file_prefix=str(tmp_path / "eps"))
    for t, state in states.items():
        expected = results.node["head"].loc[t, list(state.node_names)].to_numpy()
        assert state.head_m == pytest.approx(expected, abs=0.02)
        flows = results.link["flowrate"].loc[t, list(state.link_names)].to_numpy()
        assert state.flow_m3s == pytest.approx(flows, abs=2e-4)
        assert state.open_.dtype == bool and not state.active.any()  # Net3 has no PRV/PSV/FCV
        assert state.demand_model == "DDA"


def test_emitters_of_a_run_do_not_reach_the_next(net1):
    """A leak set by ``emitters`` in one run is gone in the next (the model's own emitters back)."""
    with HydraulicSession(net1) as session:
        plain = session.run(duration_s=4 * HOUR, report_step_s=HOUR)
        leaky = session.run(duration_s=4 * HOUR, report_step_s=HOUR,
                            emitters=lambda t: {"22": 0.002 if t >= HOUR else 0.0})
        again = session.run(duration_s=4 * HOUR, report_step_s=HOUR)
        other = session.run(duration_s=4 * HOUR, report_step_s=HOUR, emitters=lambda t: {"12": 0.002})
    assert (leaky.pressure_m.loc[2 * HOUR] < plain.pressure_m.loc[2 * HOUR] - 0.01).any()
    assert again.pressure_m.to_numpy() == pytest.approx(plain.pressure_m.to_numpy(), abs=1e-9)
    assert leaky.converged and again.converged
    # a second leak elsewhere: as in a fresh session (22 carries nothing over)
    with HydraulicSession(net1) as fresh:
        alone = fresh.run(duration_s=4 * HOUR, report_step_s=HOUR, emitters=lambda t: {"12": 0.002})
    assert other.pressure_m.to_numpy() == pytest.approx(alone.pressure_m.to_numpy(), abs=1e-9)


def test_reading_a_few_junctions_equals_reading_all(net3):
    """``pressures`` and ``run(junctions=)`` read a subset: the same values as the full reads."""
    few = ["105", "255", "20"]
    with HydraulicSession(net3) as session:
        full = session.run(duration_s=6 * HOUR, report_step_s=HOUR)
        part = session.run(duration_s=6 * HOUR, report_step_s=HOUR, junctions=few, pressure_only=True)
        steady = session.solve(3 * HOUR).pressure_m[few].to_numpy()
        with session.extra_demand("105", 0.01):
            leak = session.pressures(3 * HOUR, few)
            leak_full = session.solve(3 * HOUR).pressure_m[few].to_numpy()
        back = session.pressures(3 * HOUR, few)
    assert list(part.pressure_m.columns) == few
    assert part.pressure_m.to_numpy() == pytest.approx(full.pressure_m[few].to_numpy(), abs=1e-9)
    assert leak == pytest.approx(leak_full, abs=1e-9) and (leak < steady).all()
    assert back == pytest.approx(steady, abs=1e-9)


def test_run_reports_at_the_step_asked_even_below_the_hydraulic_step(net3, tmp_path):
    """Net3 steps hourly; 15-minute reports are solved at each quarter, as EPANET's own run."""
    with HydraulicSession(net3) as session:
        run = session.run(duration_s=3 * HOUR, report_step_s=900)
    assert list(run.pressure_m.index) == list(range(0, 3 * HOUR + 1, 900))
    model = copy.deepcopy(net3)
    model.options.time.duration = 3 * HOUR
    model.options.time.report_timestep = 900
    model.options.time.report_start = 0
    ref = wntr.sim.EpanetSimulator(model).run_sim(file_prefix=str(tmp_path / "q"))
    junctions = list(net3.junction_name_list)
    expected = ref.node["pressure"].loc[run.pressure_m.index, junctions].to_numpy()
    assert run.pressure_m[junctions].to_numpy() == pytest.approx(expected, abs=1e-3)
