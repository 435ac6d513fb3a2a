"""One leak model over EPANET and WNTR: both engines agree, leaks leave no trace, growth is linear."""

from __future__ import annotations

import math

import numpy as np
import pytest
import wntr

from nrwkit.errors import InputError
from nrwkit.leaks import Leak, simulate_leaks
from nrwkit.networks import load

HOUR = 3600


@pytest.mark.parametrize(("name", "junction"), [("net1", "22"), ("net3", "123")])
def test_both_engines_give_the_same_leak_and_pressures(name, junction):
    wn = load(name)
    leaks = [Leak(junction, diameter_m=0.02, start_s=HOUR, end_s=5 * HOUR)]
    epanet = simulate_leaks(wn, leaks, engine="epanet", duration_s=6 * HOUR, report_step_s=HOUR)
    wntr_run = simulate_leaks(wn, leaks, engine="wntr", duration_s=6 * HOUR, report_step_s=HOUR)
    q_e, q_w = epanet.leak_m3s[0], wntr_run.leak_m3s[0]
    assert (q_e.loc[[0, 5 * HOUR, 6 * HOUR]] == 0).all() and (q_w.loc[[0, 5 * HOUR, 6 * HOUR]] == 0).all()
    on = slice(HOUR, 4 * HOUR)
    assert q_e.loc[on].to_numpy() == pytest.approx(q_w.loc[on].to_numpy(), rel=0.01)
    cols = list(wn.junction_name_list)
    assert epanet.pressure_m[cols].to_numpy() == pytest.approx(wntr_run.pressure_m[cols].to_numpy(), rel=0.01)
    # the orifice equation by hand: q = Cd A sqrt(2 g p)
    area = math.pi * 0.02 ** 2 / 4
    p = epanet.pressure_m.loc[2 * HOUR, junction]
    assert q_e.loc[2 * HOUR] == pytest.approx(0.75 * area * math.sqrt(2 * 9.80665 * p), rel=1e-6)


def test_a_leak_leaves_no_trace_on_the_model(tmp_path):
    wn = load("net3")
    before = wntr.network.to_dict(wn)
    baseline = simulate_leaks(wn, [], duration_s=4 * HOUR, report_step_s=HOUR)
    simulate_leaks(wn, [Leak("123", flow_m3s=0.005)], duration_s=4 * HOUR, report_step_s=HOUR)
    simulate_leaks(wn, [Leak("123", flow_m3s=0.005)], engine="wntr", duration_s=4 * HOUR, report_step_s=HOUR)
    after = simulate_leaks(wn, [], duration_s=4 * HOUR, report_step_s=HOUR)
    assert wntr.network.to_dict(wn) == before
    assert after.pressure_m.equals(baseline.pressure_m)  # exactly, not approximately
    # and the no-leak run is EPANET's own run of the model
    ref = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / "epanet")).node["pressure"]
    times = baseline.pressure_m.index
    expected = ref.loc[times, baseline.pressure_m.columns].to_numpy()
    assert baseline.pressure_m.to_numpy() == pytest.approx(expected, abs=1e-3)


def test_incipient_leak_grows_linearly_and_sizes_by_flow():
    wn = load("net1")
    leak = Leak("22", flow_m3s=0.004, reference_pressure_m=50.0, exponent=1.0, start_s=HOUR,
                growth="incipient", full_at_s=5 * HOUR)
    run = simulate_leaks(wn, [leak], duration_s=6 * HOUR, report_step_s=HOUR)
    q, p = run.leak_m3s[0], run.pressure_m["22"]
    # C = Q_ref / p_ref^N1, times the share of full size at each hour
    for hour, share in [(0, 0.0), (1, 0.0), (2, 0.25), (3, 0.5), (4, 0.75), (5, 1.0), (6, 1.0)]:
        expected = 0.004 / 50.0 * share * p.loc[hour * HOUR]
        assert q.loc[hour * HOUR] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_a_leak_along_a_pipe_splits_it():
    wn = load("net3")
    run = simulate_leaks(wn, [Leak("20", on="pipe", position=0.25, diameter_m=0.01)], duration_s=0)
    assert run.nodes == ["20-leak"]
    assert run.leak_m3s.iloc[0, 0] > 0
    assert "20-leak" in run.pressure_m.columns and "20-leak" not in wn.node_name_list


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"location": "22"}, "exactly one of"),
    ({"location": "22", "area_m2": 1e-4, "diameter_m": 0.01}, "exactly one of"),
    ({"location": "22", "area_m2": -1.0}, "positive"),
    ({"location": "22", "area_m2": 1e-4, "start_s": 10, "end_s": 5}, "ends"),
    ({"location": "22", "area_m2": 1e-4, "growth": "incipient"}, "full_at_s"),
])
def test_bad_leaks_are_input_errors(kwargs, words):
    with pytest.raises(InputError, match=words):
        Leak(**kwargs)


def test_engine_limits_are_said():
    wn = load("net3")
    # "60" is a junction and a pipe of Net3: the junction unless told otherwise
    assert simulate_leaks(wn, [Leak("60", diameter_m=0.01)], duration_s=0).nodes == ["60"]
    assert simulate_leaks(wn, [Leak("60", on="pipe", diameter_m=0.01)], duration_s=0).nodes == ["60-leak"]
    with pytest.raises(InputError, match="same exponent"):
        simulate_leaks(wn, [Leak("123", diameter_m=0.01), Leak("125", diameter_m=0.01, exponent=1.0)],
                       duration_s=0)
    with pytest.raises(InputError, match="abrupt orifice"):
        simulate_leaks(wn, [Leak("123", diameter_m=0.01, exponent=1.0)], engine="wntr", duration_s=0)
    with pytest.raises(InputError, match=r"is not a junction or pipe"):
        simulate_leaks(wn, [Leak("nowhere", diameter_m=0.01)], duration_s=0)


def test_leak_flow_from_diameter_at_other_exponents_keeps_the_reference_flow():
    orifice = Leak("22", diameter_m=0.01)
    steeper = Leak("22", diameter_m=0.01, exponent=1.2)
    at_ref = orifice.coefficient * 50.0 ** 0.5
    assert steeper.coefficient * 50.0 ** 1.2 == pytest.approx(at_ref)
    assert np.isclose(orifice.coefficient, 0.75 * math.pi * 0.01 ** 2 / 4 * math.sqrt(2 * 9.80665))


@pytest.mark.parametrize("engine", ["epanet", "wntr"])
def test_leak_runs_default_to_the_models_report_step(engine):
    wn = load("net1")
    wn.options.time.duration = 2 * 3600
    wn.options.time.hydraulic_timestep = 900
    wn.options.time.report_timestep = 900
    run = simulate_leaks(wn, [Leak("22", flow_m3s=0.002)], engine=engine)
    assert list(run.pressure_m.index) == list(range(0, 2 * 3600 + 1, 900))
    assert list(run.leak_m3s.index) == list(run.pressure_m.index)
