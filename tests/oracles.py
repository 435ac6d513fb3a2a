"""Oracles the DMA tests compute with EPANET itself, not with nrwkit's session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import wntr


def epanet_pdd_pressures(model: wntr.network.WaterNetworkModel, closed: list[str],
                         tmp_path: Path) -> pd.Series:
    """Pressure-dependent EPANET run (full demand at 15 m, none at 0 m) with ``closed`` shut.

    Runs ``wntr.sim.EpanetSimulator`` on ``model`` (changed in place) in ``tmp_path``; returns
    the pressures of the first reported time, m.
    """
    model.options.hydraulic.demand_model = "PDA"
    model.options.hydraulic.required_pressure = 15.0
    model.options.hydraulic.minimum_pressure = 0.0
    for name in closed:
        model.get_link(name).initial_status = wntr.network.LinkStatus.Closed
    results = wntr.sim.EpanetSimulator(model).run_sim(file_prefix=str(tmp_path / "run"))
    return results.node["pressure"].iloc[0]
