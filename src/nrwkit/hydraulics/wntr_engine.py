"""WNTR's own simulator (``WNTRSimulator``) behind the hydraulics layer.

Leak scenarios modelled with :meth:`wntr.network.Junction.add_leak` need WNTR's simulator;
like every other solve in nrwkit it is called from :mod:`nrwkit.hydraulics` only.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import wntr
from scipy.optimize import OptimizeWarning

from .options import changed_options

__all__ = ["WntrRun", "run_wntr"]


@dataclass(frozen=True)
class WntrRun:
    """Results of a WNTR run at the reporting times.

    Attributes
    ----------
    pressure_m, demand_m3s, leak_demand_m3s : pandas.DataFrame
        Index = time s, columns = junctions.
    flowrate_m3s : pandas.DataFrame or None
        Flows of the links asked for.
    """

    pressure_m: pd.DataFrame
    demand_m3s: pd.DataFrame
    leak_demand_m3s: pd.DataFrame
    flowrate_m3s: pd.DataFrame | None


def run_wntr(model: wntr.network.WaterNetworkModel, *, duration_s: int, report_step_s: int,
             links: Sequence[str] = ()) -> WntrRun:
    """Run ``WNTRSimulator`` on a model and keep values at every reporting step.

    Parameters
    ----------
    model : wntr.network.WaterNetworkModel
        The network (its time options are the run's during the run only; leaks already added).
    duration_s, report_step_s : int
        Length of the run and reporting step, s.
    links : sequence of str
        Links whose flows to keep.

    Returns
    -------
    WntrRun
    """
    step = int(report_step_s)
    hydraulic_step = min(int(model.options.time.hydraulic_timestep or step), step)
    with (changed_options(model, duration_s=duration_s, report_step_s=step, hydraulic_step_s=hydraulic_step),
          warnings.catch_warnings()):  # WNTR fits 3-point pump curves and warns when they are exact
        warnings.simplefilter("ignore", OptimizeWarning)
        results = wntr.sim.WNTRSimulator(model).run_sim()
    junctions = list(model.junction_name_list)
    pressure = results.node["pressure"][junctions]
    keep = pressure.index[(pressure.index % step == 0) & (pressure.index <= int(duration_s))]
    link_names = list(links)
    return WntrRun(
        pressure_m=pressure.loc[keep].astype(float),
        demand_m3s=results.node["demand"].loc[keep, junctions].astype(float),
        leak_demand_m3s=results.node["leak_demand"].loc[keep, junctions].astype(float),
        flowrate_m3s=results.link["flowrate"].loc[keep, link_names] if link_names else None,
    )
