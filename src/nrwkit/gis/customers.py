"""Allocating customer meters to the network: demand and connections per junction.

Each customer point is snapped to the nearest pipe (distance measured in metres through the
CRS) and assigned to the nearer end junction of that pipe, measured along the pipe. The
junction receives the customer's billed consumption as demand (category ``customers``) and
counts the customer as one service connection. The connection count is stored in the
junction's tag as ``connections=N`` (EPANET ``[TAGS]``), so that it travels with the
``.inp`` file; :func:`connections` reads it back for DMA sizing and the water balance.
Customers farther than ``max_distance_m`` from every pipe are reported, never allocated.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import wntr

from ..crs import parse_crs
from ..errors import CRSError, InputError
from ..findings import Finding, Severity, list_ids
from ..network.layout import link_coordinates

__all__ = ["DEMAND_UNITS", "Allocation", "allocate_customers", "connections"]

#: Billed consumption units and their factor to m3/s (a year is 365 days, a month 1/12 of it).
DEMAND_UNITS: dict[str, float] = {
    "m3/year": 1 / (365 * 86400), "m3/month": 12 / (365 * 86400), "m3/day": 1 / 86400,
    "l/s": 1e-3, "m3/s": 1.0, "m3/h": 1 / 3600, "gal/day": 3.785411784e-3 / 86400,
}

_TAG_KEY = "connections="


@dataclass
class Allocation:
    """The result of allocating customers.

    Attributes
    ----------
    wn : wntr.network.WaterNetworkModel
        A copy of the network with the allocated demands and connection counts.
    customers : geopandas.GeoDataFrame
        One row per customer (index = customer id) with ``pipe``, ``junction`` (None when
        not allocated), ``distance_m`` and ``demand_m3s``.
    junctions : pandas.DataFrame
        (index = junction names) ``connections`` and ``demand_m3s`` allocated.
    findings : list of Finding
        Customers not allocated (too far, or on a pipe between two non-junctions).
    """

    wn: wntr.network.WaterNetworkModel
    customers: gpd.GeoDataFrame
    junctions: pd.DataFrame
    findings: list[Finding]


def connections(wn: wntr.network.WaterNetworkModel) -> pd.Series:
    """Return the service connections per junction stored by :func:`allocate_customers`.

    Returns
    -------
    pandas.Series
        (index = junction names) connection counts, 0 where none are stored.
    """
    counts = {}
    for name, junction in wn.junctions():
        count = 0
        for part in str(junction.tag or "").split("|"):
            if part.startswith(_TAG_KEY):
                count = int(part[len(_TAG_KEY):])
        counts[name] = count
    return pd.Series(counts, name="connections", dtype=int)


def _set_connections(junction: wntr.network.Junction, count: int) -> None:
    parts = [p for p in str(junction.tag or "").split("|") if p and not p.startswith(_TAG_KEY)]
    parts.append(f"{_TAG_KEY}{count}")
    junction.tag = "|".join(parts)


def allocate_customers(  # noqa: C901 (to split)
    wn: wntr.network.WaterNetworkModel,
    customers: gpd.GeoDataFrame,
    *,
    crs: str | None = None,
    id_field: str | None = None,
    demand_field: str | None = None,
    demand_unit: str = "m3/year",
    max_distance_m: float = 50.0,
    replace_demands: bool = True,
) -> Allocation:
    """Snap customer meters to the nearest pipe and allocate them to its nearer end junction.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not modified: the result holds a copy).
    customers : geopandas.GeoDataFrame
        Customer meter points.
    crs : str, optional
        CRS of the network's coordinates; the customers are reprojected to it. Without it
        the customers are taken to be in the network's coordinates.
    id_field : str, optional
        Field with the customer id (default: the row index).
    demand_field : str, optional
        Field with billed consumption; without it customers add connections only.
    demand_unit : str, default "m3/year"
        Unit of ``demand_field``: one of :data:`DEMAND_UNITS`.
    max_distance_m : float, default 50
        Customers farther from every pipe are reported and not allocated.
    replace_demands : bool, default True
        Replace the junctions' demands by the allocated consumption (pattern kept); with
        False the consumption is added as a new demand category.

    Returns
    -------
    Allocation
        The network copy, the customer table, the per-junction table and the findings.
    """
    if demand_unit not in DEMAND_UNITS:
        msg = f"unknown demand unit {demand_unit!r}: use one of {', '.join(DEMAND_UNITS)}"
        raise InputError(msg)
    if len(customers) == 0:
        msg = "the customer layer has no features"
        raise InputError(msg)
    if not customers.geom_type.eq("Point").all():
        msg = "customers must be points (one per meter)"
        raise InputError(msg)
    points = _to_network_crs(customers, crs)
    metres = 1.0
    notes: list[Finding] = []
    if crs is not None:
        target = parse_crs(crs)
        if target.is_geographic:
            msg = (f"{crs} is geographic (degrees): allocation measures distances in metres. Give "
                   "the network's coordinates in a projected CRS (e.g. its UTM zone)")
            raise CRSError(msg)
        metres = float(target.axis_info[0].unit_conversion_factor)
    elif customers.crs is not None:
        notes.append(Finding(
            Severity.INFO, "customers-crs-assumed", (),
            f"no --crs for the network: the customers ({customers.crs.name}) are taken to be in "
            "the network's coordinates, and distances in their units", element_type="network"))
    ids = (customers[id_field] if id_field else customers.index.to_series()).astype(str)
    ids = ids.reset_index(drop=True)
    if demand_field is not None and demand_field not in customers.columns:
        fields = ", ".join(c for c in customers.columns if c != customers.geometry.name)
        msg = f"the customer layer has no field {demand_field!r}; its fields are: {fields}"
        raise InputError(msg)
    unreadable: list[str] = []
    if demand_field:
        raw = pd.to_numeric(customers[demand_field], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(raw) | (raw < 0)
        unreadable = [str(i) for i in ids[bad]]
        demand = np.where(bad, 0.0, raw) * DEMAND_UNITS[demand_unit]
    else:
        demand = np.zeros(len(customers))

    pipe_names = wn.pipe_name_list
    lines = [shapely.LineString(link_coordinates(wn.get_link(n))) for n in pipe_names]
    tree = shapely.STRtree(lines)
    geoms = points.geometry.to_numpy()
    (cust_idx, pipe_idx), dist = tree.query_nearest(geoms, return_distance=True, all_matches=False)
    nearest = np.full(len(geoms), -1)
    distance = np.full(len(geoms), np.inf)
    nearest[cust_idx] = pipe_idx
    distance[cust_idx] = dist * metres

    out = copy.deepcopy(wn)
    table = pd.DataFrame({"pipe": None, "junction": None, "distance_m": distance,
                          "demand_m3s": demand}, index=pd.Index(ids, name="customer"))
    far, blocked = [], []
    for k in range(len(geoms)):
        if nearest[k] < 0 or distance[k] > max_distance_m:
            far.append(k)
            continue
        pipe = out.get_link(pipe_names[nearest[k]])
        line = lines[nearest[k]]
        along = line.project(geoms[k])
        ends = [pipe.start_node_name, pipe.end_node_name]
        if along > line.length / 2:
            ends.reverse()
        junction = next((n for n in ends if n in out.junction_name_list), None)
        table.iloc[k, 0] = pipe.name
        if junction is None:
            blocked.append(k)
            continue
        table.iloc[k, 1] = junction
    allocated = table[table["junction"].notna()]
    per_junction = allocated.groupby("junction").agg(
        connections=("demand_m3s", "size"), demand_m3s=("demand_m3s", "sum"))
    for name in out.junction_name_list:
        junction = out.get_node(name)
        count = int(per_junction["connections"].get(name, 0))
        _set_connections(junction, count)
        if demand_field is None:
            continue
        value = float(per_junction["demand_m3s"].get(name, 0.0))
        demands = junction.demand_timeseries_list
        pattern = demands[0].pattern_name if len(demands) else None
        if replace_demands:
            demands.clear()
        if value > 0 or replace_demands:
            junction.add_demand(value, pattern, category="customers")
    findings = notes
    if unreadable:
        findings.append(Finding(
            Severity.WARNING, "customer-demand-unreadable", tuple(unreadable),
            f"{len(unreadable)} customer(s) have no usable {demand_field} (empty, not a number, "
            f"negative or infinite: {list_ids(unreadable)}): allocated as connections with no "
            "demand. Correct the billing data", element_type="customer"))
    xy = np.column_stack([points.geometry.x, points.geometry.y])
    for k in far:
        findings.append(Finding(
            Severity.WARNING, "customer-too-far", (ids.iloc[k],),
            f"customer {ids.iloc[k]} is {distance[k]:.0f} m from the nearest pipe (limit "
            f"{max_distance_m:g} m): not allocated. Check its position or the missing main",
            element_type="customer", location=(float(xy[k, 0]), float(xy[k, 1]))))
    if blocked:
        names = [ids.iloc[k] for k in blocked]
        findings.append(Finding(
            Severity.WARNING, "customer-no-junction", tuple(names),
            f"{len(names)} customer(s) are nearest a pipe between two tanks/reservoirs "
            f"({list_ids(names)}): not allocated", element_type="customer"))
    per_junction = per_junction.reindex(out.junction_name_list, fill_value=0)
    per_junction.index.name = "junction"
    return Allocation(out, gpd.GeoDataFrame(table, geometry=points.geometry.to_numpy(),
                                            crs=points.crs), per_junction, findings)


def _to_network_crs(customers: gpd.GeoDataFrame, crs: str | None) -> gpd.GeoDataFrame:
    if crs is None:
        return customers
    target = parse_crs(crs)
    if customers.crs is None:
        return customers.set_crs(target)
    return customers if customers.crs.equals(target) else customers.to_crs(target)
