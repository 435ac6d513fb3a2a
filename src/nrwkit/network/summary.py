"""What a network is: counts, lengths, elevations, demands, times and extent."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import wntr

from ..findings import Finding, Severity
from ..hydraulics import system_demand
from ..units import METRES_PER_KM, MM_PER_M, SECONDS_PER_DAY, SECONDS_PER_HOUR

__all__ = ["DIAMETER_CLASS_EDGES_MM", "NetworkSummary", "length_by_diameter_class", "summarize"]

#: Upper edges (mm, inclusive) of the diameter classes used in summaries.
DIAMETER_CLASS_EDGES_MM: tuple[float, ...] = (100, 150, 200, 300, 400, 600)



@dataclass(frozen=True)
class NetworkSummary:
    """A summary of a network, in metric engineering units.

    Attributes
    ----------
    name : str
        File name or title.
    counts : dict
        Number of junctions, tanks, reservoirs, pipes, pumps, valves, patterns, curves,
        controls; valves also by type (``valves_PRV``...).
    mains_length_km : float
        Total pipe length.
    length_by_diameter_km : dict
        Pipe length per diameter class (labels such as ``"100-150 mm"``: above 100 mm, up
        to and including 150 mm).
    elevation_min_m, elevation_max_m : float
        Range of junction elevations.
    flow_units : str
        Flow units of the ``.inp`` file (the model itself is SI).
    headloss_formula : str
        H-W, D-W or C-M.
    demand_model : str
        DDA (demand-driven) or PDA (pressure-dependent), as WNTR names them.
    base_demand_m3_per_day : float
        Sum of junction base demands.
    peak_demand_m3_per_day : float
        Highest total demand over the simulation (patterns applied).
    peak_time_h : float
        When that peak occurs, hours from the model's start.
    duration_h : float
        Simulation duration.
    hydraulic_timestep_s, pattern_timestep_s, report_timestep_s : int
        Time steps.
    extent : dict or None
        ``xmin, ymin, xmax, ymax`` of node coordinates and pipe vertices (model units).
    crs : str or None
        Coordinate reference system, if known (an ``.inp`` file carries none).
    """

    name: str
    counts: dict[str, int]
    mains_length_km: float
    length_by_diameter_km: dict[str, float]
    elevation_min_m: float | None
    elevation_max_m: float | None
    flow_units: str
    headloss_formula: str
    demand_model: str
    base_demand_m3_per_day: float
    peak_demand_m3_per_day: float
    peak_time_h: float
    duration_h: float
    hydraulic_timestep_s: int
    pattern_timestep_s: int
    report_timestep_s: int
    extent: dict[str, float] | None
    crs: str | None = None
    notes: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as JSON-ready plain data (notes as findings' dicts)."""
        data = asdict(self)
        data["notes"] = [note.to_dict() for note in self.notes]
        return data


def _class_labels(edges: tuple[float, ...]) -> list[str]:
    labels = [f"<= {edges[0]:g} mm"]
    labels += [f"{lo:g}-{hi:g} mm" for lo, hi in itertools.pairwise(edges)]
    labels.append(f"> {edges[-1]:g} mm")
    return labels


def length_by_diameter_class(
    diameter_m: pd.Series, length_m: pd.Series, *, edges_mm: tuple[float, ...] = DIAMETER_CLASS_EDGES_MM
) -> pd.Series:
    """Sum pipe length per diameter class.

    Parameters
    ----------
    diameter_m : pandas.Series
        Pipe diameters (index = pipe names), m.
    length_m : pandas.Series
        Pipe lengths (index = pipe names), m.
    edges_mm : tuple of float
        Inclusive upper edges of the classes, mm; a last open class is added.

    Returns
    -------
    pandas.Series
        Length in km per class label, in class order, classes with no pipe included as 0.
    """
    labels = _class_labels(edges_mm)
    diameter_mm = np.round(diameter_m.to_numpy(dtype=float) * MM_PER_M, 3)
    which = np.digitize(diameter_mm, np.asarray(edges_mm, dtype=float), right=True)
    sums = np.bincount(which, weights=length_m.reindex(diameter_m.index).to_numpy(float),
                       minlength=len(labels))
    return pd.Series(sums / METRES_PER_KM, index=labels, name="length_km")


def _extent(wn: wntr.network.WaterNetworkModel) -> dict[str, float] | None:
    xy = [node.coordinates for _, node in wn.nodes()]
    for _, link in wn.links():
        xy.extend(link.vertices)
    if not xy:
        return None
    arr = np.asarray(xy, dtype=float)
    return {"xmin": float(arr[:, 0].min()), "ymin": float(arr[:, 1].min()),
            "xmax": float(arr[:, 0].max()), "ymax": float(arr[:, 1].max())}


def summarize(
    wn: wntr.network.WaterNetworkModel, *, crs: str | None = None, name: str | None = None
) -> NetworkSummary:
    """Summarise a network: counts, mains length by diameter, elevations, demand, times.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    crs : str, optional
        The coordinate reference system of the coordinates, if the user knows it
        (e.g. ``"EPSG:32633"``); an ``.inp`` file has none.
    name : str, optional
        Name to report; default the model's name (its file name).

    Returns
    -------
    NetworkSummary
        The summary.

    Examples
    --------
    >>> from nrwkit.networks import load
    >>> s = summarize(load("net1"))
    >>> s.counts["junctions"], s.flow_units
    (9, 'GPM')
    """
    counts = {
        "junctions": wn.num_junctions, "tanks": wn.num_tanks, "reservoirs": wn.num_reservoirs,
        "pipes": wn.num_pipes, "pumps": wn.num_pumps, "valves": wn.num_valves,
        "patterns": wn.num_patterns, "curves": wn.num_curves, "controls": wn.num_controls,
    }
    for _, valve in wn.valves():
        key = f"valves_{valve.valve_type}"
        counts[key] = counts.get(key, 0) + 1
    length = wn.query_link_attribute("length", link_type=wntr.network.Pipe)
    diameter = wn.query_link_attribute("diameter", link_type=wntr.network.Pipe)
    by_class = length_by_diameter_class(diameter, length) if len(length) else pd.Series(dtype=float)
    elevation = wn.query_node_attribute("elevation", node_type=wntr.network.Junction)
    demand = system_demand(wn)
    base = sum(
        float(d.base_value) for _, j in wn.junctions() for d in j.demand_timeseries_list
    )
    peak_t = int(demand.idxmax()) if len(demand) else 0
    opts = wn.options
    flow_units = opts.hydraulic.inpfile_units or "unknown"
    return NetworkSummary(
        name=name or (Path(wn.name).name if wn.name else "network"),
        counts=counts,
        mains_length_km=float(length.sum()) / METRES_PER_KM,
        length_by_diameter_km={k: round(float(v), 6) for k, v in by_class.items()},
        elevation_min_m=float(elevation.min()) if len(elevation) else None,
        elevation_max_m=float(elevation.max()) if len(elevation) else None,
        flow_units=str(flow_units),
        headloss_formula=str(opts.hydraulic.headloss),
        demand_model=str(opts.hydraulic.demand_model),
        base_demand_m3_per_day=base * SECONDS_PER_DAY,
        peak_demand_m3_per_day=float(demand.max()) * SECONDS_PER_DAY if len(demand) else 0.0,
        peak_time_h=peak_t / SECONDS_PER_HOUR,
        duration_h=float(opts.time.duration) / SECONDS_PER_HOUR,
        hydraulic_timestep_s=int(opts.time.hydraulic_timestep),
        pattern_timestep_s=int(opts.time.pattern_timestep),
        report_timestep_s=int(opts.time.report_timestep),
        extent=_extent(wn),
        crs=crs,
        notes=[] if crs else [Finding(
            Severity.INFO, "no-crs", (), "no CRS: an EPANET .inp file carries none, so the extent and "
            "lengths are in the model's own units", "network",
            fix="state the coordinates' CRS (crs), e.g. EPSG:32633")],
    )
