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
from ..network.checks.base import count
from ..network.layout import link_coordinates
from ..units import FLOW_TO_M3S

__all__ = ["DEMAND_UNITS", "Allocation", "allocate_customers", "connections"]

#: Billed consumption units and their factor to m3/s (a year is 365 days, a month 1/12 of it).
DEMAND_UNITS: dict[str, float] = {
    unit: FLOW_TO_M3S[unit] for unit in ("m3/year", "m3/month", "m3/day", "l/s", "m3/s", "m3/h", "gal/day")
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


def allocate_customers(
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
        Customers farther from every pipe are reported and not allocated (0 or more).
    replace_demands : bool, default True
        Replace the junctions' demands by the allocated consumption (pattern kept); with
        False the consumption is added as a new demand category.

    Returns
    -------
    Allocation
        The network copy, the customer table, the per-junction table and the findings.

    Raises
    ------
    InputError
        For a negative ``max_distance_m``, an unknown unit, an empty or non-point layer, or
        a ``demand_field`` the layer does not have.
    CRSError
        For a geographic ``crs`` (distances must be in metres).
    """
    _check_customers(customers, demand_field, demand_unit, max_distance_m)
    points = _to_network_crs(customers, crs)
    findings: list[Finding] = []
    metres = _metres_per_unit(customers, crs, findings)
    ids = (customers[id_field] if id_field else customers.index.to_series()).astype(str)
    ids = ids.reset_index(drop=True)
    demand, unreadable = _demands(customers, ids, demand_field, demand_unit)

    pipe_names = wn.pipe_name_list
    lines = [shapely.LineString(link_coordinates(wn.get_link(n))) for n in pipe_names]
    geoms = points.geometry.to_numpy()
    nearest, distance = _nearest_lines(lines, geoms, metres)
    out = copy.deepcopy(wn)
    table = pd.DataFrame({"pipe": None, "junction": None, "distance_m": distance,
                          "demand_m3s": demand}, index=pd.Index(ids, name="customer"))
    far, blocked = _assign(out, table, pipe_names, lines, geoms, nearest, max_distance_m)
    allocated = table[table["junction"].notna()]
    per_junction = allocated.groupby("junction").agg(
        connections=("demand_m3s", "size"), demand_m3s=("demand_m3s", "sum"))
    _apply(out, per_junction, with_demand=demand_field is not None, replace_demands=replace_demands)
    if unreadable:
        findings.append(Finding(
            Severity.WARNING, "customer-demand-unreadable", tuple(unreadable),
            f"{count(len(unreadable), 'customer')} {'has' if len(unreadable) == 1 else 'have'} no "
            f"usable {demand_field} (empty, not a number, negative or infinite: "
            f"{list_ids(unreadable)}): allocated as connections with no demand",
            element_type="customer", fix="correct the billing data"))
    findings += _unallocated(ids, points, distance, far, blocked, max_distance_m)
    per_junction = per_junction.reindex(out.junction_name_list, fill_value=0)
    per_junction.index.name = "junction"
    return Allocation(out, gpd.GeoDataFrame(table, geometry=geoms, crs=points.crs), per_junction,
                      findings)


def _check_customers(customers: gpd.GeoDataFrame, demand_field: str | None, demand_unit: str,
                     max_distance_m: float) -> None:
    """Refuse inputs that cannot be allocated, naming the parameter and the fix."""
    if not (np.isfinite(max_distance_m) and max_distance_m >= 0):
        msg = (f"max_distance_m={max_distance_m}: the largest distance from a customer to a pipe is "
               "0 m or more; give one such as 50")
        raise InputError(msg)
    if demand_unit not in DEMAND_UNITS:
        msg = f"unknown demand unit {demand_unit!r}: use one of {', '.join(DEMAND_UNITS)}"
        raise InputError(msg)
    if len(customers) == 0:
        msg = "the customer layer has no features"
        raise InputError(msg)
    if not customers.geom_type.eq("Point").all():
        msg = "customers must be points (one per meter)"
        raise InputError(msg)
    if demand_field is not None and demand_field not in customers.columns:
        fields = ", ".join(c for c in customers.columns if c != customers.geometry.name)
        msg = f"the customer layer has no field {demand_field!r}; its fields are: {fields}"
        raise InputError(msg)


def _metres_per_unit(customers: gpd.GeoDataFrame, crs: str | None, findings: list[Finding]) -> float:
    """Return metres per coordinate unit of the network (1 without a CRS, with a note)."""
    if crs is not None:
        target = parse_crs(crs)
        if target.is_geographic:
            msg = (f"{crs} is geographic (degrees): allocation measures distances in metres. Give "
                   "the network's coordinates in a projected CRS (e.g. its UTM zone)")
            raise CRSError(msg)
        return float(target.axis_info[0].unit_conversion_factor)
    if customers.crs is not None:
        findings.append(Finding(
            Severity.INFO, "customers-crs-assumed", (),
            f"no CRS for the network: the customers ({customers.crs.name}) are taken to be in "
            "the network's coordinates, and distances in their units", element_type="network",
            fix="give the network's CRS (crs) to reproject the customers to it"))
    return 1.0


def _demands(customers: gpd.GeoDataFrame, ids: pd.Series, demand_field: str | None,
             demand_unit: str) -> tuple[np.ndarray, list[str]]:
    """Return each customer's demand (m3/s) and the ids whose value is unusable (taken as 0)."""
    if not demand_field:
        return np.zeros(len(customers)), []
    raw = pd.to_numeric(customers[demand_field], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(raw) | (raw < 0)
    return np.where(bad, 0.0, raw) * DEMAND_UNITS[demand_unit], [str(i) for i in ids[bad]]


def _nearest_lines(lines: list[shapely.LineString], geoms: np.ndarray, metres: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Return each point's nearest line (index, -1 for none) and its distance in metres."""
    (cust_idx, pipe_idx), dist = shapely.STRtree(lines).query_nearest(
        geoms, return_distance=True, all_matches=False)
    nearest = np.full(len(geoms), -1)
    distance = np.full(len(geoms), np.inf)
    nearest[cust_idx] = pipe_idx
    distance[cust_idx] = dist * metres
    return nearest, distance


def _assign(wn: wntr.network.WaterNetworkModel, table: pd.DataFrame, pipe_names: list[str],
            lines: list[shapely.LineString], geoms: np.ndarray, nearest: np.ndarray,
            max_distance_m: float) -> tuple[list[int], list[int]]:
    """Fill ``table``'s pipe and junction; return the rows too far and those with no junction."""
    far, blocked = [], []
    distance = table["distance_m"].to_numpy()
    junctions = set(wn.junction_name_list)
    for k in range(len(geoms)):
        if nearest[k] < 0 or distance[k] > max_distance_m:
            far.append(k)
            continue
        pipe = wn.get_link(pipe_names[nearest[k]])
        line = lines[nearest[k]]
        ends = [pipe.start_node_name, pipe.end_node_name]
        if line.project(geoms[k]) > line.length / 2:
            ends.reverse()
        junction = next((n for n in ends if n in junctions), None)
        table.iloc[k, 0] = pipe.name
        if junction is None:
            blocked.append(k)
            continue
        table.iloc[k, 1] = junction
    return far, blocked


def _apply(wn: wntr.network.WaterNetworkModel, per_junction: pd.DataFrame, *, with_demand: bool,
           replace_demands: bool) -> None:
    """Store the connection counts (and the demands) of ``per_junction`` in ``wn``."""
    for name in wn.junction_name_list:
        junction = wn.get_node(name)
        _set_connections(junction, int(per_junction["connections"].get(name, 0)))
        if not with_demand:
            continue
        value = float(per_junction["demand_m3s"].get(name, 0.0))
        demands = junction.demand_timeseries_list
        pattern = demands[0].pattern_name if len(demands) else None
        if replace_demands:
            demands.clear()
        if value > 0 or replace_demands:
            junction.add_demand(value, pattern, category="customers")


def _unallocated(ids: pd.Series, points: gpd.GeoDataFrame, distance: np.ndarray, far: list[int],
                 blocked: list[int], max_distance_m: float) -> list[Finding]:
    """Return the findings for customers too far from every pipe, or nearest a pipe with no junction."""
    findings = []
    xy = np.column_stack([points.geometry.x, points.geometry.y])
    for k in far:
        findings.append(Finding(
            Severity.WARNING, "customer-too-far", (ids.iloc[k],),
            f"customer {ids.iloc[k]} is {distance[k]:.0f} m from the nearest pipe (limit "
            f"{max_distance_m:g} m): not allocated", element_type="customer",
            location=(float(xy[k, 0]), float(xy[k, 1])),
            fix="check its position, or the main missing from the network"))
    if blocked:
        names = [ids.iloc[k] for k in blocked]
        findings.append(Finding(
            Severity.WARNING, "customer-no-junction", tuple(names),
            f"{count(len(names), 'customer')} {'is' if len(names) == 1 else 'are'} nearest a pipe "
            f"between two tanks/reservoirs ({list_ids(names)}): not allocated",
            element_type="customer", fix="check their positions, or add the distribution main "
            "that serves them"))
    return findings


def _to_network_crs(customers: gpd.GeoDataFrame, crs: str | None) -> gpd.GeoDataFrame:
    if crs is None:
        return customers
    target = parse_crs(crs)
    if customers.crs is None:
        return customers.set_crs(target)
    return customers if customers.crs.equals(target) else customers.to_crs(target)
