"""DMA polygons: drawn from a design, and designs from polygons drawn by the GIS team.

A design's polygons are the Voronoi cells of the junctions, dissolved by DMA and clipped to
the network's extent: they never overlap, every DMA junction lies inside its own DMA's
polygon, and a boundary pipe crosses exactly the edge between the two cells of its ends. So a
GIS team can edit them in QGIS and load them back with :func:`assignment_from_polygons`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import wntr

from ..errors import InputError
from .divide import TRANSMISSION
from .model import DmaDesign

__all__ = ["assignment_from_polygons", "dma_polygons", "has_coordinates"]


def has_coordinates(wn: wntr.network.WaterNetworkModel) -> bool:
    """Return False when the junctions have no usable coordinates (all missing or equal)."""
    coords = [wn.get_node(j).coordinates for j in wn.junction_name_list]
    coords = [c for c in coords if c is not None]
    return len(coords) > 1 and len({(float(x), float(y)) for x, y in coords}) > 1


def dma_polygons(wn: wntr.network.WaterNetworkModel, design: DmaDesign, *, crs: str | None = None
                 ) -> gpd.GeoDataFrame:
    """One polygon per DMA (Voronoi cells of its junctions, dissolved, clipped to the network).

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (junction coordinates).
    design : DmaDesign
        The design.
    crs : str, optional
        CRS of the coordinates.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``dma`` and ``geometry``; empty when the network has no coordinates.
    """
    if not has_coordinates(wn):
        return gpd.GeoDataFrame({"dma": []}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    names = list(wn.node_name_list)
    xy = np.array([wn.get_node(n).coordinates for n in names], dtype=float)
    # nodes drawn at the same place share a cell: keep the first of each position
    _, first = np.unique(xy, axis=0, return_index=True)
    first = np.sort(first)
    points = shapely.points(xy[first])
    extent = shapely.MultiPoint(list(points)).convex_hull
    span = max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 1.0)
    clip = extent.buffer(0.03 * span)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(list(points)), extend_to=clip, ordered=True)
    label = design.assignment.to_dict()
    owner = [label.get(names[i], TRANSMISSION) for i in first]
    frame = gpd.GeoDataFrame({"dma": owner}, geometry=list(shapely.get_parts(cells)), crs=crs)
    frame["geometry"] = frame.geometry.intersection(clip)
    frame = frame[frame.dma != TRANSMISSION]
    dissolved = frame.dissolve(by="dma", as_index=False)
    dissolved["geometry"] = dissolved.geometry.apply(shapely.make_valid)
    return dissolved[["dma", "geometry"]].sort_values("dma").reset_index(drop=True)


def assignment_from_polygons(wn: wntr.network.WaterNetworkModel, polygons: gpd.GeoDataFrame, *,
                             id_field: str | None = None, source: str = "the DMA polygons"
                             ) -> tuple[pd.Series, dict[str, str], list[str]]:
    """Junction -> DMA from polygons: the DMA whose polygon holds the junction.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network, in the polygons' CRS.
    polygons : geopandas.GeoDataFrame
        One (multi)polygon per DMA.
    id_field : str, optional
        Column holding the DMA id; default ``dma``, ``name``, ``id`` or the row number.
    source : str
        The file, for messages.

    Returns
    -------
    assignment : pandas.Series
        Junction -> DMA id for junctions inside exactly one polygon.
    left_out : dict
        Junction -> reason for junctions outside every polygon.
    findings : list of str
        What the GIS team should fix (overlaps, empty polygons); junctions left out are
        reported by :func:`nrwkit.dma.from_assignment`, which knows which of them are on
        transmission mains anyway.

    Raises
    ------
    InputError
        When a junction lies in two polygons (the design would be ambiguous), when the
        network has no coordinates, or when no polygon holds any junction.
    """
    if not has_coordinates(wn):
        msg = f"the network has no junction coordinates, so {source} cannot be matched to junctions"
        raise InputError(msg)
    polys = polygons[polygons.geometry.notna() & ~polygons.geometry.is_empty].copy()
    polys = polys[polys.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        msg = f"{source} holds no polygons: draw one polygon per DMA"
        raise InputError(msg)
    field = id_field or next((c for c in ("dma", "DMA", "name", "id") if c in polys.columns), None)
    if id_field and id_field not in polys.columns:
        msg = f"{source} has no field {id_field!r}; fields: {', '.join(map(str, polys.columns))}"
        raise InputError(msg)
    ids = (polys[field].astype(str) if field else pd.Series(
        [f"DMA-{k + 1:02d}" for k in range(len(polys))], index=polys.index))
    if ids.duplicated().any():
        repeated = ", ".join(sorted(set(ids[ids.duplicated()])))
        msg = f"{source}: DMA ids repeat ({repeated}): give each polygon its own id"
        raise InputError(msg)
    polys = polys.assign(dma=ids.to_numpy())
    names = list(wn.junction_name_list)
    points = gpd.GeoDataFrame({"junction": names},
                              geometry=[shapely.Point(wn.get_node(n).coordinates) for n in names],
                              crs=polys.crs)
    joined = gpd.sjoin(points, polys[["dma", "geometry"]], how="left", predicate="within")
    findings: list[str] = []
    counts = joined.groupby("junction")["dma"].nunique()
    twice = counts[counts > 1]
    if len(twice):
        pairs = joined[joined.junction.isin(twice.index)].groupby("junction")["dma"].apply(
            lambda s: " and ".join(sorted(s.astype(str))))
        examples = ", ".join(f"{j} ({pairs[j]})" for j in list(pairs.index)[:5])
        lie = "1 junction lies" if len(twice) == 1 else f"{len(twice)} junctions lie"
        msg = (f"{source}: {lie} in two DMA polygons, e.g. {examples}: "
               "remove the overlap so each junction belongs to one DMA")
        raise InputError(msg)
    inside = joined.dropna(subset=["dma"]).drop_duplicates("junction")
    assignment = pd.Series(inside.dma.to_numpy(), index=inside.junction.to_numpy(), dtype=object).sort_index()
    outside = sorted(set(names) - set(assignment.index))
    left_out = {j: f"outside every polygon ({source})" for j in outside}
    if assignment.empty:
        msg = (f"no junction lies inside {source}: check that the polygons and the network share a "
               "coordinate system (give --crs)")
        raise InputError(msg)
    empty = sorted(set(polys.dma) - set(assignment.to_numpy()))
    if empty:
        findings.append(f"polygons {', '.join(empty)} hold no junction and are ignored")
    overlap = _overlaps(polys)
    if overlap:
        findings.append(f"polygons overlap without sharing a junction: {', '.join(overlap[:5])}")
    return assignment, left_out, findings


def _overlaps(polys: gpd.GeoDataFrame) -> list[str]:
    out = []
    geoms = list(polys.geometry)
    ids = list(polys.dma)
    tree = shapely.STRtree(geoms)
    for i, geom in enumerate(geoms):
        for j in tree.query(geom, predicate="overlaps"):
            if j > i and geom.intersection(geoms[j]).area > 1e-9 * max(geom.area, 1.0):
                out.append(f"{ids[i]}/{ids[j]}")
    return out
