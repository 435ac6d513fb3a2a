"""Benchmark: a 24 h critical-point-controlled PRV on L-Town, against a loop of EPANET runs.

Issue 16 item 6. On L-Town (bundled), the zone fed by PRV-3, critical-point control at 15-min
steps, target 20 m:

- ``scenario``: `nrwkit.pressure.scenario(mode="critical")`, everything included (the network
  as it is, the leakage calibration, the controlled day), best of REPEAT;
- ``one_eps``: one 24 h `EpanetSimulator` run of the same network at 15-min steps (WNTR, the
  engine's usual path), best of REPEAT;
- ``naive``: the obvious alternative without an open session: for each 15-min step, re-run
  `EpanetSimulator` from 0 h to that step with the settings found so far (as time controls)
  and adjust the new step's setting until the critical pressure is within 0.05 m of the
  target. Run for the first NAIVE_STEPS steps and extrapolated to 96 steps from the measured
  cost per EPANET run (each run's length grows with the step: the mean over the day is half
  a day's run), stated as an extrapolation.

Targets: scenario <= 30 x one_eps and under 10 s on 2 cores. Ratios are measured in one run.

Run: ``.venv/bin/python benchmarks/bench_pressure.py`` (about a minute); writes
``benchmarks/results/pressure-ltown.json``.
"""

from __future__ import annotations

import copy
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import wntr

from nrwkit.networks import load
from nrwkit.pressure import scenario, zone_from_inlets

REPEAT = 3
NAIVE_STEPS = 6
STEP_S = 900
TARGET_M = 20.0
OUT = Path(__file__).parent / "results" / "pressure-ltown.json"


def _eps(wn: wntr.network.WaterNetworkModel, duration_s: int, folder: Path) -> wntr.sim.SimulationResults:
    wn.options.time.duration = duration_s
    wn.options.time.hydraulic_timestep = STEP_S
    wn.options.time.report_timestep = STEP_S
    return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(folder / "run"))


def naive(wn: wntr.network.WaterNetworkModel, zone_nodes: list[str], prv: str, steps: int,
          folder: Path) -> tuple[float, int, list[float]]:
    """Run the naive loop for ``steps`` steps; return seconds, EPANET runs and the settings found."""
    settings: list[float] = []
    runs = 0
    start = time.perf_counter()
    setting = float(wn.get_link(prv).initial_setting)
    for k in range(steps):
        for _ in range(30):
            model = copy.deepcopy(wn)
            for j, value in enumerate([*settings, setting]):
                action = wntr.network.controls.ControlAction(model.get_link(prv), "setting", value)
                condition = wntr.network.controls.SimTimeCondition(model, "=", j * STEP_S)
                model.add_control(f"set{j}", wntr.network.controls.Control(condition, action))
            result = _eps(model, k * STEP_S, folder)
            runs += 1
            low = float(result.node["pressure"][zone_nodes].iloc[-1].min())
            if abs(low - TARGET_M) <= 0.05:
                break
            setting += TARGET_M - low
        settings.append(setting)
    return time.perf_counter() - start, runs, settings


def main() -> dict[str, object]:
    wn = load("l-town")
    zone = zone_from_inlets(wn, ["PRV-3"])
    demand = [j for j in zone.junctions
              if any(float(d.base_value) > 0 for d in wn.get_node(j).demand_timeseries_list)]
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = scenario(wn, zone, mode="critical", target_m=TARGET_M)
        times.append(time.perf_counter() - start)
    t_scenario = min(times)
    held = float(np.abs(result.after.hourly["min_pressure_m"] - TARGET_M).max())
    with tempfile.TemporaryDirectory() as tmp:
        eps_times = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            _eps(copy.deepcopy(wn), 24 * 3600, Path(tmp))
            eps_times.append(time.perf_counter() - start)
        t_eps = min(eps_times)
        t_naive, runs, _ = naive(wn, demand, "PRV-3", NAIVE_STEPS, Path(tmp))
    per_run = t_naive / runs
    runs_per_step = runs / NAIVE_STEPS
    # a run to step k lasts k steps: over the day, on average half a day's run (~ t_eps / 2)
    naive_day = 96 * runs_per_step * max(t_eps / 2, per_run)
    out = {
        "network": "L-Town (bundled)", "zone": "fed by PRV-3", "junctions": len(zone.junctions),
        "steps": 96, "step_s": STEP_S, "target_m": TARGET_M,
        "scenario_s": round(t_scenario, 3), "one_eps_s": round(t_eps, 3),
        "ratio_to_one_eps": round(t_scenario / t_eps, 2), "target_ratio": 30, "target_s": 10,
        "max_deviation_from_target_m": round(held, 3),
        "naive_measured": {"steps": NAIVE_STEPS, "seconds": round(t_naive, 3), "epanet_runs": runs},
        "naive_day_extrapolated_s": round(naive_day, 1),
        "speedup_over_naive": round(naive_day / t_scenario, 1),
        "passes": bool(t_scenario <= 30 * t_eps and t_scenario < 10 and held <= 0.5),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
