"""Seeded localisation cases (nrwkit.leaks.cases): reproducible, the leak where it is said to be."""

from __future__ import annotations

import numpy as np
import pytest
import wntr

from nrwkit.errors import InputError
from nrwkit.leaks.cases import DIURNAL, leak_candidates, make_case
from nrwkit.networks import load

HOUR = 3600


def chain() -> wntr.network.WaterNetworkModel:
    """Reservoir (50 m) - J1 - J2 - J3 - J4 - J5: 300 m pipes of 150 mm, 0.5 l/s at each junction."""
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=50.0)
    previous = "R"
    for k in range(1, 6):
        wn.add_junction(f"J{k}", base_demand=0.0005, elevation=0.0)
        wn.add_pipe(f"P{k}", previous, f"J{k}", length=300.0, diameter=0.15, roughness=100.0)
        previous = f"J{k}"
    wn.options.time.duration = 0
    return wn


SENSORS = ["J1", "J3", "J5"]


def test_same_seed_same_case_and_other_seeds_differ():
    wn = chain()
    a = make_case(wn, SENSORS, seed=3, duration_s=6 * HOUR)
    b = make_case(wn, SENSORS, seed=3, duration_s=6 * HOUR)
    c = make_case(wn, SENSORS, seed=4, duration_s=6 * HOUR)
    assert a.readings.to_numpy().tobytes() == b.readings.to_numpy().tobytes()
    assert (a.leak_node, a.leak_flow_m3s, a.leak_start_s) == (b.leak_node, b.leak_flow_m3s, b.leak_start_s)
    assert a.readings.to_numpy().tobytes() != c.readings.to_numpy().tobytes()
    assert list(wn.pattern_name_list) == []  # the caller's model is untouched


def test_the_leak_lowers_pressure_most_near_it():
    wn = chain()
    case = make_case(wn, SENSORS, seed=0, node="J5", leak_flow_m3h=7.2, start_s=2 * HOUR, demand_error=0.0,
                     noise_m=0.0, quantisation_m=0.0, duration_s=4 * HOUR)
    assert case.leak_node == "J5" and case.leak_start_s == 2 * HOUR
    quiet = make_case(wn, SENSORS, seed=0, node="J5", leak_flow_m3h=1e-9, start_s=2 * HOUR, demand_error=0.0,
                      noise_m=0.0, quantisation_m=0.0, duration_s=4 * HOUR).clean
    assert case.clean.loc[HOUR].to_numpy() == pytest.approx(quiet.loc[HOUR].to_numpy(), abs=1e-6)  # not yet
    drop = quiet.loc[3 * HOUR] - case.clean.loc[3 * HOUR]
    assert (drop > 0).all()
    assert drop["J5"] > drop["J3"] > drop["J1"]
    # by hand: the leak's 2 l/s flows through every pipe; the head loss it adds from R to J1 is
    # Hazen-Williams on 300 m with the extra flow (10.67 L Q^1.852 / (C^1.852 D^4.87)), linearised
    q0 = 5 * 0.0005 * DIURNAL[3]
    q1 = q0 + 0.002
    hw = 10.67 * 300.0 / (100.0 ** 1.852 * 0.15 ** 4.87)
    assert drop["J1"] == pytest.approx(hw * (q1 ** 1.852 - q0 ** 1.852), rel=0.1)


def test_demand_error_has_the_stated_spread_and_is_applied():
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=60.0)
    previous = "R"
    for k in range(400):
        wn.add_junction(f"J{k}", base_demand=0.001, elevation=0.0)
        wn.add_pipe(f"P{k}", previous, f"J{k}", length=10.0, diameter=0.3, roughness=120.0)
        previous = f"J{k}"
    case = make_case(wn, ["J10"], seed=5, demand_error=0.1, roughness_error=0.05, duration_s=2 * HOUR,
                     report_step_s=HOUR)
    assert float(np.std(case.demand_factors)) == pytest.approx(0.1, rel=0.15)
    assert float(np.mean(case.demand_factors)) == pytest.approx(1.0, abs=0.02)
    assert float(np.std(case.roughness_factors)) == pytest.approx(0.05, rel=0.15)
    for name in ("J0", "J77", "J399"):
        base = case.true.get_node(name).demand_timeseries_list[0].base_value
        assert base == pytest.approx(0.001 * case.demand_factors[name])
        assert case.nominal.get_node(name).demand_timeseries_list[0].base_value == pytest.approx(0.001)
    assert case.true.get_link("P5").roughness == pytest.approx(120.0 * case.roughness_factors["P5"])


def test_quantisation_and_noise():
    wn = chain()
    case = make_case(wn, SENSORS, seed=1, noise_m=0.02, quantisation_m=0.1, duration_s=6 * HOUR)
    values = case.readings.to_numpy()
    assert np.allclose(values / 0.1, np.round(values / 0.1), atol=1e-6)
    assert np.abs(values - case.clean.to_numpy()).max() < 0.05 + 0.02 * 5
    assert list(case.readings.index) == list(range(0, 6 * HOUR + 1, 900))
    assert case.inflow_m3s is not None and list(case.inflow_m3s.columns) == ["P1"]
    assert case.leak_node in leak_candidates(wn)


def test_bad_inputs_are_said():
    wn = chain()
    with pytest.raises(InputError, match="not junctions"):
        make_case(wn, ["nope"], seed=0)
    with pytest.raises(InputError, match="not a junction"):
        make_case(wn, SENSORS, seed=0, node="R")


def test_a_case_made_in_an_open_session_is_the_case_made_on_a_copy():
    # the copy path writes the true network to an .inp and runs EPANET on it: the oracle
    from nrwkit.hydraulics import HydraulicSession
    from nrwkit.leaks.cases import prepare_period

    wn = load("net3")
    sensors = ["10", "131", "191", "61", "219", "105"]
    prepared = prepare_period(wn, 86400, 900)
    with HydraulicSession(prepared) as session:
        for seed in (0, 1, 2):
            copied = make_case(wn, sensors, seed=seed, size_range_m3h=(1.0, 10.0))
            kept = make_case(prepared, sensors, seed=seed, size_range_m3h=(1.0, 10.0), session=session)
            assert (kept.leak_node, kept.leak_start_s) == (copied.leak_node, copied.leak_start_s)
            assert kept.leak_flow_m3s == copied.leak_flow_m3s and kept.true is None
            assert np.abs(kept.clean.to_numpy() - copied.clean.to_numpy()).max() < 1e-4
            assert np.abs(kept.inflow_m3s.to_numpy() - copied.inflow_m3s.to_numpy()).max() < 1e-6
            assert kept.demand_factors.equals(copied.demand_factors)
        again = session.run(duration_s=86400, report_step_s=900, pressure_only=True).pressure_m
    fresh = HydraulicSession(prepared).run(duration_s=86400, report_step_s=900, pressure_only=True).pressure_m
    assert np.array_equal(again.to_numpy(), fresh.to_numpy())  # demands and emitters restored
    with pytest.raises(InputError, match="roughness"):
        make_case(prepared, sensors, seed=0, roughness_error=0.05, session=HydraulicSession(prepared))


@pytest.mark.parametrize("name", ["Anytown", "Net2", "ky3", "ky5", "hanoi-exeter", "ZJ", "RuralNetwork"])
def test_on_public_networks_a_session_case_is_the_copy_case(name):
    from test_dma_sweep import network_path

    from nrwkit.hydraulics import HydraulicSession
    from nrwkit.leaks.cases import prepare_period
    from nrwkit.leaks.placement import spread_loggers

    wn = load(network_path(name))
    sensors = spread_loggers(wn, list(wn.junction_name_list), min(6, wn.num_junctions), 0)
    prepared = prepare_period(wn, 86400, 3600)
    with HydraulicSession(prepared) as session:
        for seed in (0, 1):
            try:
                copied = make_case(wn, sensors, seed=seed, report_step_s=3600)
            except InputError as exc:  # a network where no junction can leak: the session says the same
                with pytest.raises(InputError, match=str(exc).split(":")[0]):
                    make_case(prepared, sensors, seed=seed, report_step_s=3600, session=session)
                continue
            kept = make_case(prepared, sensors, seed=seed, report_step_s=3600, session=session)
            assert (kept.leak_node, kept.leak_start_s) == (copied.leak_node, copied.leak_start_s), name
            assert np.abs(kept.clean.to_numpy() - copied.clean.to_numpy()).max() < 1e-3, name
            assert np.abs(kept.readings.to_numpy() - copied.readings.to_numpy()).max() <= 0.0100001, name
