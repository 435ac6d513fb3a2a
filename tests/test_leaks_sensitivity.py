"""Leak sensitivities from the linearised system against finite differences of EPANET runs.

The oracle: EPANET (through the in-memory toolkit) solved with and without a small extra
demand at each candidate junction, tight convergence, same single period; the difference of
sensor pressures over the extra flow. nrwkit's matrix comes from one factorisation of the
linearised system at the solved state.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import wntr

from nrwkit.errors import InputError
from nrwkit.findings import Finding, Severity
from nrwkit.hydraulics import HydraulicSession
from nrwkit.hydraulics.linear import linear_system
from nrwkit.leaks import sensitivity_matrix
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


def epanet_run(wn, until_s: int, tmp_path: Path):
    """WNTR's EpanetSimulator on a copy of the model up to ``until_s``, reporting every hour."""
    model = copy.deepcopy(wn)
    model.options.time.duration = int(until_s)
    model.options.time.report_start = 0
    model.options.time.report_timestep = HOUR
    model.options.time.hydraulic_timestep = min(int(model.options.time.hydraulic_timestep or HOUR), HOUR)
    return wntr.sim.EpanetSimulator(model).run_sim(file_prefix=str(tmp_path / "oracle"))


def test_symmetric_without_valves():
    """Without active valves the matrix is symmetric: S[a, b] == S[b, a] (reciprocity)."""
    wn = snapshot_model("net1", 0)
    nodes = list(wn.junction_name_list)
    matrix = sensitivity_matrix(wn, nodes, 0, candidates=nodes)
    assert matrix.to_numpy() == pytest.approx(matrix.to_numpy().T, rel=1e-9, abs=1e-12)


def test_several_times_give_one_matrix_each(tmp_path):
    wn = load("net3")
    results = epanet_run(wn, 6 * HOUR, tmp_path)
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


def test_bad_sensor_and_time_are_input_errors(tmp_path):
    wn = load("net1")
    with pytest.raises(InputError, match="not junctions"):
        sensitivity_matrix(wn, ["nope"])
    results = epanet_run(wn, 0, tmp_path)
    with pytest.raises(InputError, match="no time"):
        sensitivity_matrix(wn, ["12"], 7 * HOUR, results)


# --- the in-memory session path ------------------------------------------------------------

HAND_INP = """[TITLE]
hand-built
[JUNCTIONS]
 J1  10  1.0
 J2  12  2.0
 J3  8   1.5
 J4  9   1.0
 J5  5   2.0
 J6  4   1.0
 J7  2   0.0
 J8  10  0.5
 J9  10  0.5
 J10 4   0.0
[RESERVOIRS]
 R1  70
 R2  10
[TANKS]
 T1  40  5  1  10  15  0
[PIPES]
 P1  R1  J1  500  300  120  0  Open
 P2  J1  J2  400  200  120  0  Open
 P3  J2  J3  400  200  120  0  Open
 P4  J2  J4  300  150  120  0  Open
 P5  J4  J3  300  150  120  0  Open
 P6  J5  J6  200  150  120  0  Open
 P7  J7  J1  100  200  120  0  Open
 P8  J1  J8  100  100  120  0  {closed}
 P9  J8  J9  100  100  120  0  Open
 P10 J6  J10 100  100  120  0  Open
 P11 T1  J4  100  200  120  0  CV
[PUMPS]
 PU1 R2  J7  {pump}
[VALVES]
 V1  J3  J5  150  {valve}
[CURVES]
 C1  30  60
 C2  5   2
 C2  10  5
[OPTIONS]
 Units  LPS
 Headloss  H-W
 Accuracy  0.00000001
 Trials  500
[TIMES]
 Duration  0
[END]
"""

HAND_CASES = {
    "prv-active": dict(valve="PRV  20  0"),
    "prv-open": dict(valve="PRV  300  0"),
    "prv-closed": dict(valve="PRV  20  0", status=" V1  Closed"),
    "psv-active": dict(valve="PSV  55  0"),
    "psv-open": dict(valve="PSV  1  0"),
    "fcv-active": dict(valve="FCV  1  0"),
    "fcv-open": dict(valve="FCV  500  0"),
    "tcv": dict(valve="TCV  5  0"),
    "pbv": dict(valve="PBV  5  0"),
    "gpv": dict(valve="GPV  C2  0"),
    "pump-stopped": dict(status=" PU1  Closed"),
    "pump-power": dict(pump="POWER  5"),
    "isolated-open": dict(closed="Open"),
}


def hand_model(tmp_path, case: str) -> wntr.network.WaterNetworkModel:
    spec = HAND_CASES[case]
    text = HAND_INP.format(closed=spec.get("closed", "Closed"), pump=spec.get("pump", "HEAD  C1"),
                           valve=spec.get("valve", "PRV  20  0"))
    if "status" in spec:
        text = text.replace("[OPTIONS]", f"[STATUS]\n{spec['status']}\n[OPTIONS]")
    path = tmp_path / f"{case}.inp"
    path.write_text(text, encoding="utf-8")
    return wntr.network.WaterNetworkModel(str(path))


@pytest.mark.parametrize("case", sorted(HAND_CASES))
def test_every_link_state_gives_finite_non_positive_sensitivities(case, tmp_path):
    """Closed and isolated parts, stopped pumps and each valve in each state: no exception."""
    wn = hand_model(tmp_path, case)
    nodes = list(wn.junction_name_list)
    with HydraulicSession(wn) as session:
        matrix = sensitivity_matrix(wn, nodes, 0, session=session, candidates=nodes)
        state = session.state(0)
    values = matrix.to_numpy()
    assert np.isfinite(values).all()
    assert (values <= 1e-9).all()
    system = linear_system(wn, state)
    assert isinstance(system.notes, tuple)
    if case != "isolated-open":  # J8, J9 behind the closed P8: no head, sensitivity 0
        assert matrix.loc[["J8", "J9"]].abs().to_numpy().max() == 0.0
        floating = [n for n in system.notes if n.code == "linear-floating-junctions"]
        assert len(floating) == 1 and "no path" in floating[0].message
        assert floating[0].severity == Severity.INFO and {"J8", "J9"} <= set(floating[0].elements)
    assert all(isinstance(n, Finding) and n.code.startswith("linear-") for n in system.notes)
    live = [k for k, j in enumerate(nodes) if j not in system.isolated]
    fd = finite_differences(wn, nodes, nodes)
    errors = relative_errors(values[np.ix_(live, live)], fd[np.ix_(live, live)])
    # a constant-power pump: EPANET's own linearisation of h Q = const differs by ~2 % (open)
    assert np.median(errors) < (0.03 if case == "pump-power" else 0.01), case


def test_session_state_says_which_valves_control(tmp_path):
    """The session infers an active valve as EPANET's binary output reports it."""
    for case in ["prv-active", "prv-open", "psv-active", "psv-open", "fcv-open"]:
        wn = hand_model(tmp_path, case)
        results = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / case))
        with HydraulicSession(wn) as session:
            state = session.state(0)
        k = state.link_names.index("V1")
        assert bool(state.active[k]) is (float(results.link["status"].loc[0, "V1"]) == 2), case
        assert state.head_m.shape == (len(state.node_names),)


def test_session_path_equals_results_path_and_finite_differences():
    """Net3 over two times and L-Town (PRVs): the session path within 0.5 % of EPANET."""
    for name, time_s in [("net3", 3 * HOUR), ("l-town", 2 * HOUR), ("ky4", 2 * HOUR)]:
        wn = snapshot_model(name, time_s)
        rng = np.random.default_rng(3)
        junctions = list(wn.junction_name_list)
        sensors = list(rng.choice(junctions, size=5, replace=False))
        candidates = list(rng.choice(junctions, size=25, replace=False))
        with HydraulicSession(wn) as session:
            matrix = sensitivity_matrix(wn, sensors, 0, session=session, candidates=candidates)
        fd = finite_differences(wn, sensors, candidates)
        errors = relative_errors(matrix.to_numpy(), fd)
        assert np.median(errors) < 0.005, name
        assert (matrix.to_numpy() <= 1e-9).all()


def test_session_path_several_times(tmp_path):
    wn = load("net3")
    with HydraulicSession(wn) as session:
        out = sensitivity_matrix(wn, ["105", "255"], [0, 6 * HOUR], session=session)
    old = sensitivity_matrix(wn, ["105", "255"], [0, 6 * HOUR], epanet_run(wn, 6 * HOUR, tmp_path))
    for t in (0, 6 * HOUR):
        assert out[t].to_numpy() == pytest.approx(old[t].to_numpy(), rel=1e-3, abs=1e-6)


EPYT = Path(wntr.__file__).parents[1] / "epyt" / "networks"
SWEEP = ["asce-tf-wdst/Net1.inp", "asce-tf-wdst/Net2.inp", "asce-tf-wdst/Net3.inp",
         "asce-tf-wdst/Anytown.inp", "asce-tf-wdst/Hanoi.inp", "asce-tf-wdst/ky2.inp", "asce-tf-wdst/ky8.inp",
         "asce-tf-wdst/ky6.inp"]


@pytest.mark.parametrize("rel", SWEEP)
def test_sweep_public_networks(rel):
    path = EPYT / rel
    assert path.exists(), f"epyt (a test dependency) does not ship {rel}: pick a network it ships"
    wn = wntr.network.WaterNetworkModel(str(path))
    junctions = list(wn.junction_name_list)
    sensors = junctions[:: max(len(junctions) // 8, 1)][:8]
    with HydraulicSession(wn) as session:
        matrix = sensitivity_matrix(wn, sensors, 0, session=session)
    values = matrix.to_numpy()
    assert np.isfinite(values).all()
    assert (values <= 1e-6 * np.abs(values).max()).all()


def test_singular_factor_is_regularised_not_raised(monkeypatch):
    """If splu reports an exactly singular factor, a tiny diagonal shift, said in notes."""
    import nrwkit.hydraulics.linear as linear

    real = linear.spla.splu
    calls = {"n": 0}

    def singular_once(matrix):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("Factor is exactly singular")
        return real(matrix)

    wn = load("net1")
    with HydraulicSession(wn) as session:
        state = session.state(0)
    monkeypatch.setattr(linear.spla, "splu", singular_once)
    system = linear_system(wn, state)
    assert [n.code for n in system.notes] == ["linear-regularised"]
    assert system.notes[0].severity == Severity.WARNING and "singular" in str(system.notes[0])
    monkeypatch.setattr(linear.spla, "splu", real)
    plain = linear_system(wn, state)
    assert plain.notes == ()
    sensors = list(wn.junction_name_list)
    shifted = linear.pressure_sensitivity(system, sensors).to_numpy()
    exact = linear.pressure_sensitivity(plain, sensors).to_numpy()
    assert shifted == pytest.approx(exact, rel=1e-6)
