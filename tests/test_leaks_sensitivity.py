"""Leak sensitivities from the linearised system against finite differences of EPANET runs.

The oracle: EPANET (through the in-memory toolkit) solved with and without a small extra
demand at each candidate junction, tight convergence, same single period; the difference of
sensor pressures over the extra flow. nrwkit's matrix comes from one factorisation of the
linearised system at the solved state.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import wntr

from nrwkit.errors import InputError
from nrwkit.hydraulics import HydraulicSession
from nrwkit.hydraulics.linear import linear_system
from nrwkit.leaks import sensitivity_matrix, simulate
from nrwkit.networks import load

HOUR = 3600
SMALL_LEAK_M3S = 5e-5  # 0.05 l/s: small against the flows around it


def snapshot_model(name: str, time_s: int) -> wntr.network.WaterNetworkModel:
    """A single period at ``time_s`` with tight convergence (so finite differences are exact)."""
    wn = copy.deepcopy(load(name))
    wn.options.time.duration = 0
    wn.options.time.pattern_start = time_s
    wn.options.hydraulic.accuracy = 1e-8
    wn.options.hydraulic.trials = 500
    return wn


def finite_differences(wn, sensors, candidates, leak=SMALL_LEAK_M3S):
    """Pressure change per m3/s of leak actually drawn.

    Under pressure-dependent demand EPANET scales the added demand like the node's own
    (delivered / required at that node), so the leak drawn is ``leak`` times that fraction.
    """
    out = np.zeros((len(sensors), len(candidates)))
    with HydraulicSession(wn) as session:
        base = session.solve(0).pressure_m[sensors]
        for k, j in enumerate(candidates):
            with session.extra_demand(j, leak):
                state = session.solve(0)
            required = float(state.required_m3s[j])
            drawn = leak * (float(state.demand_m3s[j]) / required if required > 0 else 1.0)
            out[:, k] = (state.pressure_m[sensors] - base).to_numpy() / drawn
    return out


def relative_errors(analytic: np.ndarray, fd: np.ndarray) -> np.ndarray:
    """Relative errors where the response is not negligible (1 % of the sensor's largest)."""
    scale = np.abs(fd).max(axis=1, keepdims=True)
    mask = np.abs(fd) > 0.01 * scale
    return np.abs(analytic - fd)[mask] / np.abs(fd)[mask]


@pytest.mark.parametrize(("name", "time_s"), [("net1", HOUR), ("net3", 3 * HOUR), ("ky4", 2 * HOUR),
                                              ("l-town", 2 * HOUR)])
def test_sensitivities_equal_epanet_finite_differences(name, time_s, tmp_path):
    wn = snapshot_model(name, time_s)
    rng = np.random.default_rng(7)
    junctions = list(wn.junction_name_list)
    sensors = list(rng.choice(junctions, size=min(6, len(junctions)), replace=False))
    candidates = list(rng.choice(junctions, size=min(30, len(junctions)), replace=False))
    results = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / "epanet"))
    matrix = sensitivity_matrix(wn, sensors, 0, results, candidates=candidates)
    assert list(matrix.index) == sensors and list(matrix.columns) == candidates
    fd = finite_differences(wn, sensors, candidates)
    errors = relative_errors(matrix.to_numpy(), fd)
    assert len(errors) > 0.5 * fd.size
    assert np.median(errors) < 0.01
    assert np.max(errors) < 0.05
    # a leak lowers pressure everywhere it reaches
    assert (matrix.to_numpy() <= 1e-9).all()


def test_active_prv_passes_its_zone_s_leak_upstream(tmp_path):
    """L-Town: a leak below a PRV lowers pressures above it (the PRV passes more water)."""
    wn = snapshot_model("l-town", 2 * HOUR)
    results = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / "epanet"))
    system = linear_system(wn, results, 0)
    assert "n226" in system.fixed  # PRV-3's outlet, active at this hour
    # a sensor in the main zone, a leak two pipes below PRV-3
    matrix = sensitivity_matrix(wn, ["n229", "n226"], 0, results, candidates=["n212", "n226"])
    fd = finite_differences(wn, ["n229", "n226"], ["n212", "n226"])
    assert matrix.loc["n229", "n212"] < 0
    assert matrix.loc["n229", "n212"] == pytest.approx(fd[0, 0], rel=0.05)
    assert matrix.loc["n226"].abs().max() == 0.0  # the PRV holds its outlet's head


def test_symmetric_without_valves():
    """Without active valves the matrix is symmetric: S[a, b] == S[b, a] (reciprocity)."""
    wn = snapshot_model("net1", 0)
    nodes = list(wn.junction_name_list)
    matrix = sensitivity_matrix(wn, nodes, 0, candidates=nodes)
    assert matrix.to_numpy() == pytest.approx(matrix.to_numpy().T, rel=1e-9, abs=1e-12)


def test_several_times_give_one_matrix_each():
    wn = load("net3")
    results = simulate(wn, [0, 6 * HOUR])
    out = sensitivity_matrix(wn, ["105", "255"], [0, 6 * HOUR], results)
    assert sorted(out) == [0, 6 * HOUR]
    assert not np.allclose(out[0].to_numpy(), out[6 * HOUR].to_numpy())


def test_pressure_dependent_demand_terms_equal_epanet(tmp_path):
    """With PDD and every junction on the slope, the demand terms make the matrix match EPANET."""
    wn = snapshot_model("net1", HOUR)
    wn.options.hydraulic.demand_model = "PDD"
    wn.options.hydraulic.required_pressure = 200.0  # every junction below it: on the slope
    wn.options.hydraulic.minimum_pressure = 0.0
    sensors = ["12", "22"]
    results = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / "epanet"))
    matrix = sensitivity_matrix(wn, sensors, 0, results)
    fd = finite_differences(wn, sensors, list(wn.junction_name_list))
    errors = relative_errors(matrix.to_numpy(), fd)
    assert np.median(errors) < 0.01
    assert np.max(errors) < 0.05
    # leaving the slope terms out is worse: they carry the demand's response to pressure
    plain = copy.deepcopy(wn)
    plain.options.hydraulic.demand_model = "DDA"
    without = sensitivity_matrix(plain, sensors, 0, results)
    assert np.median(relative_errors(without.to_numpy(), fd)) > 2 * np.median(errors)


def test_bad_sensor_and_time_are_input_errors():
    wn = load("net1")
    with pytest.raises(InputError, match="not junctions"):
        sensitivity_matrix(wn, ["nope"])
    results = simulate(wn, [0])
    with pytest.raises(InputError, match="no time"):
        sensitivity_matrix(wn, ["12"], 7 * HOUR, results)
