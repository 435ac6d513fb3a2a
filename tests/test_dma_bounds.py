"""What a DMA check trusts: the physical bounds of a run, against hand counts and EPANET runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import wntr

from nrwkit.dma.evaluate import (
    CURVE_LIFT_FACTOR,
    POWER_LIFT_FACTOR,
    head_ceiling,
    open_session,
    physical_bounds,
    pump_lifts,
    suspect_hours,
)
from nrwkit.hydraulics import ExtendedPeriod
from nrwkit.network import read_inp

RHO_G = 1000.0 * 9.81

#: R1 (20 m) -> power pump PU (10 kW) -> JD -> JC (1 l/s) -> R2 (60 m): the pump lifts about
#: 21 l/s into R2; with P3 closed it can push only JC's 1 l/s, and EPANET's constant-power
#: pump then adds power / (rho g q), about 1,000 m.
POWER_PUMP = """[TITLE]
a power pump lifting from one reservoir to another, a customer on the way
[JUNCTIONS]
 JS  0  0
 JD  0  0
 JC  5  1
[RESERVOIRS]
 R1  20
 R2  60
[PIPES]
 P1  R1  JS  50  300  120
 P2  JD  JC  300 150  120
 P3  JC  R2  300 150  120
[PUMPS]
 PU  JS  JD  POWER 10
[OPTIONS]
 Units  LPS
 Headloss  H-W
[TIMES]
 Duration  2:00
 Hydraulic Timestep 1:00
[COORDINATES]
 R1 0 0
 JS 10 0
 JD 20 0
 JC 300 0
 R2 600 0
"""


def _curve_pumps(layout: str) -> str:
    """A reservoir (50 m) and curve pumps (highest head 40 m) arranged as ``layout`` says."""
    pumps = {
        # one pump between the reservoir's group and the customers
        "single": (" PA  JA  JB  HEAD C1\n", " PAB JB  JC  100 200 120\n"),
        # two stations in series: the second lifts what the first delivered
        "series": (" PA  JA  JB  HEAD C1\n PB  JB2 JC  HEAD C1\n", " PBB JB  JB2 100 200 120\n"),
        # two pumps side by side in one station
        "parallel": (" PA  JA  JB  HEAD C1\n PB  JA  JB  HEAD C1\n", " PAB JB  JC  100 200 120\n"),
        # a booster whose discharge loops back to its suction through pipes
        "loop": (" PA  JA  JB  HEAD C1\n", " PAB JB  JC  100 200 120\n PCA JC  JA  100 200 120\n"),
    }[layout]
    return f"""[TITLE]
curve pumps: {layout}
[JUNCTIONS]
 JA  0  0
 JB  0  0
 JB2 0  0
 JC  0  1
[RESERVOIRS]
 R1  50
[PIPES]
 P1  R1  JA  50  300  120
{pumps[1]}[PUMPS]
{pumps[0]}[CURVES]
 C1  0  40
 C1  20 30
 C1  40 10
[OPTIONS]
 Units  LPS
[COORDINATES]
 R1 0 0
 JA 1 0
 JB 2 0
 JB2 3 0
 JC 4 0
"""


def _model(tmp_path: Path, text: str, name: str = "net") -> wntr.network.WaterNetworkModel:
    path = tmp_path / f"{name}.inp"
    path.write_text(text)
    return read_inp(path)


@pytest.mark.parametrize("layout, lifts", [("single", 1), ("series", 2), ("parallel", 1), ("loop", 1)])
def test_head_ceiling_counts_pumps_in_series_not_in_parallel(tmp_path: Path, layout: str, lifts: int) -> None:
    wn = _model(tmp_path, _curve_pumps(layout))
    lift = pump_lifts(wn)
    assert all(v == pytest.approx(CURVE_LIFT_FACTOR * 40.0) for v in lift.values())
    # hand count: the reservoir's 50 m plus 1.5 x 40 m for each pump a path passes in series
    assert head_ceiling(wn, lift) == pytest.approx(50.0 + lifts * CURVE_LIFT_FACTOR * 40.0)


def test_power_pump_driven_off_its_duty_point_is_not_trusted(tmp_path: Path) -> None:
    wn = _model(tmp_path, POWER_PUMP)
    with open_session(wn, 15.0) as session:
        before = session.run(duration_s=7200, report_step_s=3600, links=wn.link_name_list)
        bounds = physical_bounds(wn, before)
        assert suspect_hours(wn, before, bounds) == {}
        session.set_status(["P3"], open_=False)
        after = session.run(duration_s=7200, report_step_s=3600, links=["PU"], pressure_only=True)
        session.set_status(["PU"], open_=False)
        stopped = session.run(duration_s=7200, report_step_s=3600, links=["PU"], pressure_only=True)

    # oracle: EPANET's own pressure-dependent runs of the same model
    oracle = wn
    oracle.options.hydraulic.demand_model = "PDA"
    oracle.options.hydraulic.required_pressure = 15.0
    oracle.options.hydraulic.minimum_pressure = 0.0
    open_run = wntr.sim.EpanetSimulator(oracle).run_sim(file_prefix=str(tmp_path / "open"))
    head = open_run.node["head"].iloc[0]
    flow = float(open_run.link["flowrate"]["PU"].iloc[0])
    assert bounds.duty_head_m["PU"] == pytest.approx(head["JD"] - head["JS"], abs=0.05)
    assert bounds.duty_head_m["PU"] == pytest.approx(10_000.0 / (RHO_G * flow), rel=1e-3)  # P = rho g Q H

    oracle.get_link("P3").initial_status = wntr.network.LinkStatus.Closed
    closed_run = wntr.sim.EpanetSimulator(oracle).run_sim(file_prefix=str(tmp_path / "closed"))
    head = closed_run.node["head"].iloc[0]
    gain = head["JD"] - head["JS"]
    # EPANET pushes 1 l/s at power / (rho g q) = 1,019 m: far beyond what a real pump can add
    assert gain == pytest.approx(10_000.0 / (RHO_G * 0.001), rel=0.02)
    assert gain > POWER_LIFT_FACTOR * bounds.duty_head_m["PU"]
    assert after.pressure_m["JD"].iloc[0] == pytest.approx(closed_run.node["pressure"]["JD"].iloc[0], abs=0.1)

    suspect = suspect_hours(wn, after, bounds)
    assert sorted(suspect) == [0, 3600, 7200]
    assert {"JS", "JD"} <= set(suspect[0])
    # a stopped pump holds any head across its check valve: nothing to distrust
    assert suspect_hours(wn, stopped, bounds) == {}


def test_bounds_without_a_reference_run_fall_back_to_a_stated_lift(tmp_path: Path) -> None:
    wn = _model(tmp_path, POWER_PUMP)
    bounds = physical_bounds(wn)
    assert bounds.duty_head_m == {}
    # the pump's suction reservoir (20 m) + 300 m for a power pump never seen running (above
    # R2's 60 m), + 50 m margin over the lowest junction (0 m)
    assert bounds.high_m == pytest.approx(20.0 + 300.0 + 50.0)
    assert bounds.low_m == -bounds.high_m


def test_an_open_power_pump_drawing_almost_nothing_is_still_judged(tmp_path: Path) -> None:
    # ky5 after design: a pump whose suction pocket lost its supply stays open (EPANET flow
    # 5e-7 m3/s) and adds 539 m; only a closed pump reports a flow of exactly zero
    wn = _model(tmp_path, POWER_PUMP)
    with open_session(wn, 15.0) as session:
        before = session.run(duration_s=3600, report_step_s=3600, links=wn.link_name_list)
    bounds = physical_bounds(wn, before)
    lift = POWER_LIFT_FACTOR * bounds.duty_head_m["PU"]
    # hand-made hour: JS at -100 m and JD at 60 m (both inside the pressure bounds), a gain of
    # 160 m above the pump's lift
    assert -100.0 > bounds.low_m and 160.0 > lift
    pressure = pd.DataFrame({"JS": [-100.0], "JD": [60.0], "JC": [55.0]}, index=pd.Index([0], name="time_s"))

    def run_with(flow: float) -> ExtendedPeriod:
        zeros = pressure * 0.0
        return ExtendedPeriod(pressure_m=pressure, demand_m3s=zeros, deficit_m3s=zeros,
                              flowrate_m3s=pd.DataFrame({"PU": [flow]}, index=pressure.index), converged=True)

    assert set(suspect_hours(wn, run_with(5e-7), bounds)[0]) == {"JS", "JD"}
    assert suspect_hours(wn, run_with(0.0), bounds) == {}
