"""Leak localisation on synthetic events: a leak simulated by EPANET, noisy loggers, the ranking.

The "truth" comes from EPANET runs with the leak as an emitter (nrwkit.leaks.simulate_leaks,
itself checked against WNTR's leak model in test_leaks_model.py); distances are along pipes
(networkx on WNTR's graph).
"""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import wntr

from nrwkit.errors import InputError
from nrwkit.findings import Finding, Severity
from nrwkit.leaks import Leak, simulate_leaks
from nrwkit.leaks.cases import make_case
from nrwkit.leaks.locate import METHODS, locate
from nrwkit.leaks.readings import read_readings
from nrwkit.networks import load

HOUR = 3600
#: A finding code: lower-case words joined by hyphens.
KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)+")
#: The 33 pressure sensors of BattLeDIM 2020 on L-Town (Vrachimis et al.).
BATTLEDIM = ("n1 n4 n31 n54 n105 n114 n163 n188 n215 n229 n288 n296 n332 n342 n410 n415 n429 n458 n469 "
             "n495 n506 n516 n519 n549 n613 n636 n644 n679 n722 n726 n740 n752 n769").split()


@pytest.fixture(scope="module")
def ltown():
    wn = load("l-town")
    wn.options.time.duration = 6 * HOUR
    return wn


@pytest.fixture(scope="module")
def event(ltown):
    """A 3 l/s leak at n497, readings every 15 min at the BattLeDIM sensors, 0.05 m noise."""
    run = simulate_leaks(ltown, [Leak("n497", flow_m3s=0.003)], duration_s=6 * HOUR, report_step_s=900)
    rng = np.random.default_rng(11)
    readings = run.pressure_m[BATTLEDIM] + rng.normal(0.0, 0.05, size=(len(run.pressure_m), len(BATTLEDIM)))
    return readings, run


def along_pipes(wn, a, b) -> float:
    """Distance in metres along pipes (WNTR's graph carries no lengths: build one that does)."""
    graph = nx.Graph()
    for _, link in wn.links():
        length = float(getattr(link, "length", 0.0) or 0.0)
        graph.add_edge(link.start_node_name, link.end_node_name, length=length)
    return nx.shortest_path_length(graph, a, b, weight="length")


@pytest.mark.parametrize("method", METHODS)
def test_each_method_finds_the_leak(ltown, event, method):
    readings, run = event
    result = locate(ltown, readings, method=method, noise_m=0.05)
    best = result.candidates.node.iloc[0]
    assert along_pipes(ltown, best, "n497") < 300.0  # BattLeDIM's match distance
    assert "n497" in set(result.candidates.node.head(10))
    # the least-squares leak size is the simulated leak's, within 20 %
    true_m3h = float(run.leak_m3s[0].mean()) * 3600
    assert result.candidates.leak_flow_m3h.iloc[0] == pytest.approx(true_m3h, rel=0.2)
    area = result.search_area
    assert area["probability"] >= 0.9
    assert any("n497" in (p_start, p_end) for p_start, p_end in
               ((ltown.get_link(p).start_node_name, ltown.get_link(p).end_node_name) for p in area["pipes"]))
    assert area["length_km"] == pytest.approx(sum(ltown.get_link(p).length for p in area["pipes"]) / 1000,
                                              abs=1e-3)
    assert result.candidates.probability.sum() == pytest.approx(1.0)


def test_dead_unknown_and_gappy_loggers_are_dropped_not_used(ltown, event):
    readings, _ = event
    bad = readings.copy()
    bad["n4"] = 42.0  # a dead logger
    bad["ghost"] = 30.0  # not in the network
    bad.iloc[::3, bad.columns.get_loc("n1")] = np.nan  # gaps
    result = locate(ltown, bad, method="bayes", noise_m=0.05)
    assert "n4" not in result.sensors and "ghost" not in result.sensors and "n1" in result.sensors
    codes = {w.code: w for w in result.warnings}
    dead = codes["leaks-logger-dead"]
    assert "dead logger" in dead.message and dead.elements == ("n4",) and dead.element_type == "node"
    assert codes["leaks-logger-not-junction"].elements == ("ghost",)
    assert codes["leaks-readings-missing"].elements == ("n1",)
    assert all(isinstance(w, Finding) and w.severity == Severity.WARNING for w in result.warnings)
    assert along_pipes(ltown, result.candidates.node.iloc[0], "n497") < 300.0


def test_times_outside_the_model_are_left_out(ltown, event):
    readings, _ = event
    late = readings.copy()
    late.index = late.index + 3 * HOUR  # the last half now lies beyond the 6-hour model
    result = locate(ltown, late, noise_m=0.05)
    outside = [w for w in result.warnings if w.code == "leaks-readings-outside-run"]
    assert len(outside) == 1 and "outside the model" in outside[0].message and "Duration" in outside[0].fix


def test_no_leak_gives_a_wide_search_area(ltown, event):
    readings, _ = event
    base = simulate_leaks(ltown, [], duration_s=6 * HOUR, report_step_s=900).pressure_m[BATTLEDIM]
    rng = np.random.default_rng(5)
    quiet = base + rng.normal(0.0, 0.05, size=base.shape)
    result = locate(ltown, quiet, noise_m=0.05)
    with_leak = locate(ltown, readings, noise_m=0.05)
    assert result.search_area["length_km"] > 3 * with_leak.search_area["length_km"]


def test_readings_file(tmp_path, ltown):
    good = tmp_path / "readings.csv"
    pd.DataFrame({"time": [0, 900, 1800], "n1": [50.0, 50.1, 50.2], "n4": [40.0, 40.0, 40.1]}).to_csv(good,
                                                                                                   index=False)
    readings = read_readings(good)
    assert list(readings.values.columns) == ["n1", "n4"] and list(readings.values.index) == [0, 900, 1800]
    stamped = tmp_path / "stamped.csv"
    stamped.write_text("time,n1\n2018-01-01 00:15:00,50\n2018-01-01 00:30:00,51\n")
    assert list(read_readings(stamped, start="2018-01-01").values.index) == [900, 1800]
    with pytest.raises(InputError, match="start is not known"):
        read_readings(stamped)
    broken = tmp_path / "broken.csv"
    broken.write_text("time,n1\n0,50\n900,abc\n")
    with pytest.raises(InputError, match=r"row 3, column 'n1'"):
        read_readings(broken)
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("t,n1\n0,50\n")
    with pytest.raises(InputError, match="no 'time' column"):
        read_readings(nocol)


def test_bad_arguments(ltown, event):
    readings, _ = event
    with pytest.raises(InputError, match="method"):
        locate(ltown, readings, method="magic")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no usable logger"):
        locate(ltown, readings.assign(**{c: 1.0 for c in readings.columns}))


def test_methods_rank_differently_and_correlation_ignores_a_common_offset(ltown, event):
    # every logger reads 0.3 m low (a datum or source-level error) on top of the leak
    readings, _ = event
    shifted = readings - 0.3
    ranked = {m: locate(ltown, shifted, method=m, noise_m=0.05, resimulate=0) for m in METHODS}
    orders = {m: list(r.candidates.node.head(10)) for m, r in ranked.items()}
    assert orders["bayes"] != orders["least-squares"] or orders["bayes"] != orders["correlation"]
    # the probability is the posterior's whatever the ranking
    for m in METHODS:
        assert ranked[m].search_area == ranked["bayes"].search_area
    # the misfit is pulled away by the offset, the correlation is not (it keeps most of the top
    # 10 it gives without the offset and its best is within BattLeDIM's 300 m of the leak), and all say so
    plain = {m: set(locate(ltown, readings, method=m, noise_m=0.05, resimulate=0).candidates.node.head(10))
             for m in ("bayes", "correlation")}
    assert len(plain["correlation"] & set(orders["correlation"])) >= 7
    assert len(plain["bayes"] & set(orders["bayes"])) <= 3
    assert along_pipes(ltown, orders["correlation"][0], "n497") < 300.0
    assert "n497" not in orders["bayes"]
    for result in ranked.values():
        assert not result.separable and any("common to every logger" in w.message for w in result.warnings)
        assert "leaks-uniform-change" in {w.code for w in result.warnings}


def test_a_model_without_demand_asks_for_a_leak_bound():
    """No demand, no inflow, no bound: nothing says how large a leak may be (exit 2, the fix named)."""
    wn = load("net1")
    for _, junction in wn.junctions():
        for demand in junction.demand_timeseries_list:
            demand.base_value = 0.0
    wn.options.time.duration = 2 * HOUR
    run = simulate_leaks(wn, [Leak("22", flow_m3s=0.005)], duration_s=2 * HOUR, report_step_s=900)
    readings = run.pressure_m[["12", "22", "31", "32"]]
    with pytest.raises(InputError, match=r"draws no demand.*max_leak_m3s"):
        locate(wn, readings, noise_m=0.05)
    bounded = locate(wn, readings, noise_m=0.05, max_leak_m3s=0.05)
    assert bounded.details["leak_flow_bound"] == "the bound given"
    assert along_pipes(wn, bounded.candidates.node.iloc[0], "22") < 1000.0


EPYT = Path(wntr.__file__).parents[1] / "epyt" / "networks" / "asce-tf-wdst"
#: Public networks the localisation tests were not built on: a junction as a source (Net2),
#: tanks (Anytown, ky2, ky6), PRVs and pumps (ky2, ky6), a single reservoir (Hanoi), rural (Jilin).
LOCATE_SWEEP = ["Net2.inp", "Anytown.inp", "Hanoi.inp", "ky2.inp", "ky6.inp",
                "Jilin including water quality.inp"]


@pytest.mark.parametrize("name", LOCATE_SWEEP)
def test_locate_sweep_public_networks(name):
    """On networks it was not built on: an answer or an honest "no answer", never a crash."""
    path = EPYT / name
    assert path.exists(), f"epyt (a test dependency) does not ship {name}: pick a network it ships"
    wn = load(path)
    junctions = list(wn.junction_name_list)
    sensors = junctions[:: max(len(junctions) // 10, 1)][:10]
    case = make_case(wn, sensors, seed=3, duration_s=8 * HOUR)
    window = (case.leak_start_s, case.leak_start_s + 3 * HOUR)
    result = locate(case.nominal, case.readings, sensors, window=window)
    p = result.candidates.probability.to_numpy()
    assert np.isfinite(p).all() and p.sum() == pytest.approx(1.0)
    assert result.search_area["probability"] >= 0.9 - 1e-9
    live = result.candidates[result.candidates.probability > 0]
    bound = result.details["leak_flow_bound_m3h"]
    assert live.plausible.all()
    assert (live.leak_flow_m3h > 0).all() and (live.leak_flow_m3h <= bound + 1e-9).all()
    if not result.separable:
        assert result.warnings
    else:  # an answer claims something: a search area shorter than a quarter of the mains
        total_km = sum(float(p.length) for _, p in wn.pipes()) / 1000.0
        assert result.search_area["length_km"] <= 0.25 * total_km
    # every warning a Finding with a stable leaks- code, in the JSON as its dict
    assert all(isinstance(w, Finding) and KEBAB.fullmatch(w.code) and w.code.startswith("leaks-")
               for w in result.warnings)
    assert result.to_dict()["warnings"] == [w.to_dict() for w in result.warnings]


def test_a_spike_is_left_out_with_a_warning(ltown, event):
    """One reading 8 m off at one logger (a pump switching off the model's time): left out, no answer."""
    readings, _ = event
    spiked = readings.copy()
    spiked.iloc[10, 3] += 8.0
    plain = locate(ltown, readings, noise_m=0.05, resimulate=0)
    result = locate(ltown, spiked, noise_m=0.05, resimulate=0)
    spikes = [w for w in result.warnings if w.code == "leaks-readings-spikes"]
    assert len(spikes) == 1 and "jump away" in spikes[0].message and spiked.columns[3] in spikes[0].message
    assert spikes[0].elements == (spiked.columns[3],) and "cut the window" in spikes[0].fix
    assert "leaks-readings-spikes" not in {w.code for w in plain.warnings}
    # one reading fewer: the same leading candidates (the fifth may swap with a near tie)
    assert list(result.candidates.node.head(3)) == list(plain.candidates.node.head(3))
    assert len(set(result.candidates.node.head(5)) & set(plain.candidates.node.head(5))) >= 4
    # a switch the model does not have may be the leak's doing: no answer, said why
    assert plain.separable and not result.separable
    # a step that stays (a leak, a valve) is not a spike
    stepped = readings.copy()
    stepped.iloc[10:, 3] -= 2.0
    assert not any("jump away" in str(w) for w in locate(ltown, stepped, noise_m=0.05, resimulate=0).warnings)


def test_plausible_flows_weigh_and_reject_by_hand():
    """Four candidates, bound 1 m3/s, 100 residuals (rr = 1000); by hand, per candidate, the best
    fit f = a / b and the chi-square of the best plausible flow (f clipped to [1e-4, 1]) beyond it.

    - weak, best fit -0.5 m3/s but b = 4: clipped to 1e-4, penalty 4 x 0.5^2 = 1: kept;
    - clear, best fit -0.5 m3/s and b = 400: penalty 100: rejected;
    - huge, best fit 30 m3/s and b = 1: penalty 29^2 = 841: rejected (the "99,000,000 m3/h");
    - fit, best fit 0.5 m3/s and b = 40: plausible as it is, penalty 0.
    """
    from nrwkit.leaks.locate import REJECT_CHI2, TEMPERATURE, _Fit, _posterior

    b = np.array([4.0, 400.0, 1.0, 40.0])
    f = np.array([-0.5, -0.5, 30.0, 0.5])
    fit = _Fit(rr=1000.0, a=f * b, b=b, dof=99, white_r=np.zeros(100), white_s=np.zeros((100, 4)),
               whiten=lambda x: x, observed=np.ones((10, 10), dtype=bool))
    post = _posterior(fit, bound=1.0)
    assert REJECT_CHI2 == 9.0
    assert np.isfinite(post.log_p[[0, 3]]).all() and np.isinf(post.log_p[[1, 2]]).all()
    assert post.flow == pytest.approx([1e-4, 1e-4, 1.0, 0.5])
    # the variance factor from the best constrained misfit of the candidates kept (rss = rr -
    # a^2/b, + penalty): the fitting one's 990 / 99 = 10 (the rejected "huge" one's 941 only
    # sets the rejection's scale)
    rss = 1000.0 - f ** 2 * b
    assert post.variance_factor == pytest.approx(10.0)
    assert post.evidence == pytest.approx((1000.0 - rss[3]) / post.variance_factor)
    # the weak candidate keeps a probability, far below the fitting one's: ratio by quadrature
    grid = np.geomspace(1e-4, 1.0, 20001)
    scale = post.variance_factor * TEMPERATURE

    def marginal(k):
        return np.exp(-rss[k] / (2 * scale)) * np.trapezoid(
            np.exp(-b[k] * (grid - f[k]) ** 2 / (2 * scale)) / grid, grid)

    assert np.exp(post.log_p[0] - post.log_p[3]) == pytest.approx(marginal(0) / marginal(3), rel=0.02)
