"""Monte Carlo over uncertain demands: demands scaled in the session as EPANET would run them, risk
figures checked by hand, the model reproduced without uncertainty on public networks."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import wntr
from test_dma_sweep import network_path

from nrwkit.ensemble import demand_risk, demand_tasks, new_shortfalls, run, wilson_interval
from nrwkit.ensemble.tasks import _lognormal, demand_baseline, demand_scenario
from nrwkit.errors import SimulationError
from nrwkit.hydraulics import HydraulicSession
from nrwkit.leaks.cases import prepare_period
from nrwkit.networks import load

DAY_S, HOUR_S = 86400, 3600


def test_scaled_demands_equal_an_epanet_run_with_those_demands(tmp_path):
    wn = prepare_period(load("net3"), DAY_S, HOUR_S)
    rng = np.random.default_rng(3)
    factors = {
        j: float(f)
        for j, f in zip(wn.junction_name_list, rng.uniform(0.5, 1.5, wn.num_junctions), strict=True)
    }
    oracle = copy.deepcopy(wn)
    for name, junction in oracle.junctions():
        for demand in junction.demand_timeseries_list:
            demand.base_value *= factors[name]
    expected = (
        wntr.sim.EpanetSimulator(oracle)
        .run_sim(file_prefix=str(tmp_path / "oracle"))
        .node["pressure"][wn.junction_name_list]
    )
    with HydraulicSession(wn) as session:
        before = session.run(duration_s=DAY_S, report_step_s=HOUR_S, pressure_only=True).pressure_m
        with session.scaled_demands(factors):
            scaled = session.run(duration_s=DAY_S, report_step_s=HOUR_S, pressure_only=True).pressure_m
        after = session.run(duration_s=DAY_S, report_step_s=HOUR_S, pressure_only=True).pressure_m
    common = expected.index.intersection(scaled.index)
    assert len(common) == 25
    assert (
        np.abs(scaled.loc[common, expected.columns].to_numpy() - expected.loc[common].to_numpy()).max() < 1e-3
    )
    assert (scaled - before).abs().to_numpy().max() > 0.5  # the factors did something
    assert np.array_equal(after.to_numpy(), before.to_numpy())  # and the model's demands are back


def test_wilson_interval_by_hand():
    low, high = wilson_interval(np.array([0, 50]), 100)
    # 0/100: [0, z^2 / (n + z^2)]; 50/100: 0.5 -+ z sqrt(0.25/100 + z^2/40000) / (1 + z^2/100)
    z2 = 1.959963984540054**2
    assert low[0] == pytest.approx(0, abs=1e-12) and high[0] == pytest.approx(z2 / (100 + z2))
    half = np.sqrt(z2) * np.sqrt(0.0025 + z2 / 40000) / (1 + z2 / 100)
    assert (low[1], high[1]) == (pytest.approx(0.5 - half), pytest.approx(0.5 + half))
    assert (round(low[1], 4), round(high[1], 4)) == (0.4038, 0.5962)  # the textbook figures


def test_demand_factors_have_mean_one_and_the_coefficient_of_variation():
    draws = _lognormal(np.random.default_rng(0), 0.2, 200_000)
    assert draws.mean() == pytest.approx(1.0, abs=0.003)
    assert draws.std() / draws.mean() == pytest.approx(0.2, abs=0.003)


def test_risk_table_counts_by_hand():
    baseline = pd.Series([20.0, 14.0, 30.0], index=["a", "b", "c"], name="model_m")
    table = pd.DataFrame(
        {
            "task_id": ["s0", "s1", "s2", "s3", "s4"],
            "status": ["ok", "ok", "ok", "failed", "ok"],
            "unbalanced_steps": [0, 0, 0, 0, 3],
            "min_pressure_m": [
                [16.0, 13.0, 29.0],
                [14.0, 12.0, 28.0],
                [15.5, 14.5, 14.0],
                None,
                [0.0, 0.0, 0.0],
            ],
        }
    )
    risk = demand_risk(table, baseline, 15.0)
    assert risk["scenarios"].eq(3).all()  # the failed and the unbalanced scenarios are left out
    assert risk.loc["a", "probability_below"] == pytest.approx(1 / 3, abs=1e-4)
    assert risk.loc["b", "probability_below"] == 1.0  # 13, 12 and 14.5 m
    assert risk.loc["c", "probability_below"] == pytest.approx(1 / 3, abs=1e-4)
    assert bool(risk.loc["b", "below_in_model"]) and not bool(risk.loc["a", "below_in_model"])
    assert risk.loc["a", "p50_m"] == 15.5 and risk.loc["b", "model_m"] == 14.0
    # a or c (above 15 m in the model) below 15 m: scenarios s1 (a) and s2 (c), not s0
    assert new_shortfalls(table, baseline, 15.0) == (2, 3)
    with pytest.raises(SimulationError, match="balanced"):
        demand_risk(table.assign(unbalanced_steps=1), baseline, 15.0)


def test_same_draws_on_every_executor():
    tasks = demand_tasks("net1", 4, seed=7, junction_cv=0.3, common_cv=0.1)
    inprocess = run(tasks, executor="inprocess")
    pool = run(tasks, executor="processes", workers=2)
    assert (inprocess["status"] == "ok").all()
    for a, b in zip(inprocess["min_pressure_m"], pool["min_pressure_m"], strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert inprocess["demand_factor"].nunique() == 4


SWEEP = ["Anytown", "Net2", "ky3", "ky5", "hanoi-exeter", "ZJ", "Balerma"]


@pytest.mark.parametrize("name", SWEEP)
def test_on_public_networks_no_uncertainty_reproduces_the_model_and_risks_are_probabilities(name):
    path = network_path(name)
    baseline = demand_baseline(path)
    exact = demand_scenario(network=path, seed=0, junction_cv=0.0, common_cv=0.0)
    assert len(exact["min_pressure_m"]) == len(baseline) > 0
    assert np.allclose(exact["min_pressure_m"], baseline.to_numpy(), atol=1e-4)
    table = run(demand_tasks(path, 6, junction_cv=0.2, common_cv=0.1), executor="inprocess")
    assert (table["status"] == "ok").all(), table["error"].tolist()
    risk = demand_risk(table, baseline, 15.0)
    assert risk["probability_below"].between(0, 1).all()
    assert (risk["ci95_low"] <= risk["probability_below"] + 1e-9).all()
    assert (risk["probability_below"] <= risk["ci95_high"] + 1e-9).all()
    assert (risk["p05_m"] <= risk["p50_m"]).all() and (risk["p50_m"] <= risk["p95_m"]).all()
