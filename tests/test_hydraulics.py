"""The steady-state snapshot equals EPANET's extended-period run at the same time."""

from __future__ import annotations

import pytest
import wntr
from planted import make_inp

from nrwkit.errors import SimulationError
from nrwkit.hydraulics import peak_demand_time, steady_state, system_demand
from nrwkit.network import read_inp

PATTERN = "[PATTERNS]\n PAT  0.5  1.0  1.8  1.2\n\n[OPTIONS]"


@pytest.fixture
def patterned(write_inp):
    text = make_inp(extra_options=" Pattern  PAT").replace("[OPTIONS]", PATTERN, 1)
    text = text.replace(" Duration  0", " Duration  3:00\n Pattern Timestep  1:00\n"
                        " Hydraulic Timestep  1:00")
    return read_inp(write_inp(text))


def test_snapshot_equals_extended_period_run(patterned, tmp_path):
    eps = wntr.sim.EpanetSimulator(patterned).run_sim(file_prefix=str(tmp_path / "eps"))
    for hour in range(4):
        snap = steady_state(patterned, time_s=hour * 3600)
        expected = eps.node["pressure"].loc[hour * 3600]
        assert snap.pressure_m.to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-3)
        assert snap.converged


def test_default_snapshot_is_at_peak(patterned):
    assert peak_demand_time(patterned) == 2 * 3600
    snap = steady_state(patterned)
    assert snap.time_s == 7200
    # 9 junctions x 1 L/s x 1.8
    assert snap.demand_m3s.reindex(patterned.junction_name_list).sum() == pytest.approx(9 * 1.8e-3)


def test_model_options_restored(patterned):
    before = (patterned.options.time.duration, patterned.options.time.pattern_start)
    steady_state(patterned, time_s=3600)
    assert (patterned.options.time.duration, patterned.options.time.pattern_start) == before


def test_system_demand_per_pattern_step(patterned):
    demand = system_demand(patterned)
    assert list(demand.index) == [0, 3600, 7200]
    assert demand.to_numpy() == pytest.approx([9e-3 * m for m in (0.5, 1.0, 1.8)])


def test_undefined_default_pattern_means_constant_demand(write_inp):
    wn = read_inp(write_inp(make_inp()))  # junctions use default pattern '1', never defined
    assert system_demand(wn).to_numpy() == pytest.approx([9e-3])


def test_unsolvable_network_raises(write_inp):
    text = make_inp(extra_junctions=" J60  10  1.0", extra_coordinates=" J60  1300  1200")
    text = text.replace("[VALVES]", "[PUMPS]\n PU1  J33  J60  HEAD  C1\n\n[VALVES]")
    text = text.replace("[OPTIONS]", "[CURVES]\n C1  5  -10\n\n[OPTIONS]")
    with pytest.raises(SimulationError, match="EPANET could not solve"):
        steady_state(read_inp(write_inp(text)))
