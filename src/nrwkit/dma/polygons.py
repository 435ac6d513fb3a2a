"""DMA polygons: drawn from a design, and designs from polygons drawn by the GIS team.

A design's polygon for a DMA hugs its pipes: the union of its pipes (drawn through their
vertices) and junctions, buffered by :func:`buffer_distance`, with its holes filled (the blocks
enclosed by the DMA's pipes are served by the DMA, so a customer in the middle of a block lies
inside it), intersected with the Voronoi cells of its junctions (dissolved, clipped to the
network's extent). The Voronoi cells never overlap and each holds its own junction, so the
polygons never overlap either and every DMA junction lies inside its own DMA's polygon; a GIS
team can edit them in QGIS and load them back with :func:`assignment_from_polygons`. Between
DMAs, and around transmission mains, the polygons leave gaps; a polygon keeps a hole only where
another DMA's cell cuts into the area its pipes enclose.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import wntr

from ..errors import InputError, LayerError
from ..findings import Finding, list_ids, warning
from ..network.layout import link_coordinates
from .divide import TRANSMISSION
from .model import DmaDesign

__all__ = ["assignment_from_polygons", "buffer_distance", "dma_polygons", "has_coordinates",
           "label_points", "read_polygons"]

#: The buffer around a DMA's pipes, as a fraction of the median drawn pipe length ...
BUFFER_PIPE_FRACTION = 0.5
#: ... but at least this fraction of the network's extent (its longer side).
BUFFER_MIN_EXTENT_FRACTION = 0.004


def has_coordinates(wn: wntr.network.WaterNetworkModel) -> bool:
    """Return False when the junctions have no usable coordinates (all missing or equal)."""
    coords = [wn.get_node(j).coordinates for j in wn.junction_name_list]
    coords = [c for c in coords if c is not None]
    return len(coords) > 1 and len({(float(x), float(y)) for x, y in coords}) > 1


def buffer_distance(wn: wntr.network.WaterNetworkModel) -> float:
    """Return how far a DMA's polygon reaches beyond its pipes, in coordinate units.

    Half the median drawn pipe length (through the vertices), but at least 0.4 % of the
    network's extent (the longer side of its bounding box).

    The median pipe runs about one block of the street grid, so half of it covers the
    frontage on both sides of a street and most of the block behind it, whatever the
    network's density: a fraction of the extent alone would drown a dense town centre and
    leave a rural network as thin lines. The floor keeps a DMA visible as an area on a map of
    the whole network when the GIS has split pipes into short pieces. Drawn lengths, not
    model lengths, so the distance is in the coordinates' units (metres, feet, degrees or a
    schematic drawing's units) without knowing the CRS.

    Examples
    --------
    >>> from nrwkit.networks import load
    >>> buffer_distance(load("net1"))   # Net1's pipes are drawn 20 units long
    10.0
    """
    names = list(wn.node_name_list)
    xy = np.array([wn.get_node(n).coordinates for n in names], dtype=float).reshape(-1, 2)
    extent = float(max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]))) if len(xy) else 0.0
    drawn = np.array([shapely.LineString(link_coordinates(pipe)).length for _, pipe in wn.pipes()])
    drawn = drawn[drawn > 0]
    median = float(np.median(drawn)) if len(drawn) else 0.0
    distance = max(BUFFER_PIPE_FRACTION * median, BUFFER_MIN_EXTENT_FRACTION * extent)
    return distance if distance > 0 else 1.0


def dma_polygons(wn: wntr.network.WaterNetworkModel, design: DmaDesign, *, crs: str | None = None
                 ) -> gpd.GeoDataFrame:
    """One polygon per DMA: its pipes and junctions, buffered, holes filled, within its Voronoi cell.

    Each DMA's pipes (both end nodes in the DMA, drawn through their vertices) and its
    junctions are buffered by :func:`buffer_distance` and united; the union's holes (the
    blocks enclosed by the DMA's pipes) are filled, and the result is intersected with the
    DMA's Voronoi cell (the Voronoi cells of all nodes, dissolved by DMA and clipped to the
    network's convex hull plus 3 % of its extent). So a polygon is a solid area close to its
    pipes that takes in the blocks between them, never overlaps another and holds every
    junction of its DMA. It has a hole only where another DMA's (or a transmission main's)
    cell lies inside the area its pipes enclose.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (junction coordinates, pipe vertices).
    design : DmaDesign
        The design.
    crs : str, optional
        CRS of the coordinates.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``dma`` and ``geometry`` (Polygon or MultiPolygon), sorted by DMA; empty
        when the network has no coordinates.
    """
    if not has_coordinates(wn):
        return gpd.GeoDataFrame({"dma": []}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    cells = _voronoi_cells(wn, design)
    label = design.assignment.to_dict()
    shapes: dict[str, list[shapely.Geometry]] = {dma: [] for dma in cells}
    for _, pipe in wn.pipes():
        dma = label.get(pipe.start_node_name)
        if dma is not None and dma == label.get(pipe.end_node_name) and dma in shapes:
            shapes[dma].append(shapely.LineString(link_coordinates(pipe)))
    for junction, dma in label.items():
        if dma in shapes:
            shapes[dma].append(shapely.Point(wn.get_node(junction).coordinates))
    distance = buffer_distance(wn)
    dmas = sorted(cells)
    geoms = [_polygonal(shapely.intersection(
        _filled(shapely.union_all(shapely.buffer(shapes[d], distance))), cells[d])) for d in dmas]
    return gpd.GeoDataFrame({"dma": dmas}, geometry=geoms, crs=crs)


def _voronoi_cells(wn: wntr.network.WaterNetworkModel, design: DmaDesign) -> dict[str, shapely.Geometry]:
    """DMA -> the Voronoi cells of its junctions, dissolved and clipped to the network."""
    names = list(wn.node_name_list)
    xy = np.array([wn.get_node(n).coordinates for n in names], dtype=float)
    # nodes drawn at the same place share a cell: keep the first of each position
    _, first = np.unique(xy, axis=0, return_index=True)
    first = np.sort(first)
    points = shapely.MultiPoint(xy[first])
    span = max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 1.0)
    clip = points.convex_hull.buffer(0.03 * span)
    parts = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=clip, ordered=True))
    label = design.assignment.to_dict()
    owner = np.array([label.get(names[i], TRANSMISSION) for i in first], dtype=object)
    cells = {}
    for dma in sorted(set(owner) - {TRANSMISSION}):
        cell = shapely.union_all(shapely.intersection(parts[owner == dma], clip))
        cells[dma] = shapely.make_valid(cell)
    return cells


def _filled(geom: shapely.Geometry) -> shapely.Geometry:
    """Return a (multi)polygon with its holes filled: the union of its parts' exteriors."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    return shapely.union_all([shapely.Polygon(p.exterior) for p in parts]) if parts else geom


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Return the polygons of a geometry (an intersection may add stray lines and points)."""
    geom = shapely.make_valid(geom)
    polys = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    if len(polys) == 1:
        return polys[0]
    return shapely.MultiPolygon(polys) if polys else shapely.Polygon()


def label_points(polygons: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Where to write each DMA's id: a point inside its polygon, near the middle of its area.

    The middle is the centre of the largest circle inside the largest part with its holes
    filled; when that falls in a hole (another DMA's enclave, or a hole drawn by the GIS
    team), the label goes to ``shapely.point_on_surface`` of the polygon's piece nearest it.
    So the point always lies inside the polygon.

    Parameters
    ----------
    polygons : geopandas.GeoDataFrame
        From :func:`dma_polygons`.

    Returns
    -------
    geopandas.GeoSeries
        One point per row, same index; an empty point for an empty polygon.
    """
    points = []
    for geom in polygons.geometry:
        parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
        if not parts:
            points.append(shapely.Point())
            continue
        largest = max(parts, key=lambda p: p.area)
        filled = shapely.Polygon(largest.exterior)
        middle = shapely.maximum_inscribed_circle(filled, 1e-3 * np.sqrt(filled.area)).coords[0]
        centre = shapely.Point(middle)
        radius = 0.05 * np.sqrt(filled.area)
        while not largest.contains(centre):
            piece = largest.intersection(centre.buffer(radius))
            if not piece.is_empty and piece.area > 0:
                centre = shapely.point_on_surface(
                    max(shapely.get_parts(_polygonal(piece)), key=lambda p: p.area))
                break
            radius *= 2.0
        points.append(centre)
    return gpd.GeoSeries(points, index=polygons.index, crs=polygons.crs)


def assignment_from_polygons(wn: wntr.network.WaterNetworkModel, polygons: gpd.GeoDataFrame, *,
                             id_field: str | None = None, source: str = "the DMA polygons"
                             ) -> tuple[pd.Series, dict[str, str], list[Finding]]:
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
    findings : list of Finding
        What the GIS team should fix: warnings ``dma-polygons-overlap`` and
        ``dma-empty-polygon`` (elements: the DMA ids); junctions left out are
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
    findings: list[Finding] = []
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
               "coordinate system (give the polygons' CRS)")
        raise InputError(msg)
    empty = sorted(set(polys.dma) - set(assignment.to_numpy()))
    if empty:
        findings.append(warning("dma-empty-polygon",
                                f"polygons {list_ids(empty)} hold no junction and are ignored",
                                elements=empty, element_type="dma"))
    overlap = _overlaps(polys)
    if overlap:
        findings.append(warning("dma-polygons-overlap",
                                "polygons overlap without sharing a junction: "
                                + list_ids(f"{a}/{b}" for a, b in overlap),
                                elements=sorted({d for pair in overlap for d in pair}),
                                element_type="dma"))
    return assignment, left_out, findings


def _overlaps(polys: gpd.GeoDataFrame) -> list[tuple[str, str]]:
    out = []
    geoms = list(polys.geometry)
    ids = list(polys.dma)
    tree = shapely.STRtree(geoms)
    for i, geom in enumerate(geoms):
        for j in tree.query(geom, predicate="overlaps"):
            if j > i and geom.intersection(geoms[j]).area > 1e-9 * max(geom.area, 1.0):
                out.append((str(ids[i]), str(ids[j])))
    return out


def read_polygons(path: str | Path, layer: str | None = None, *, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read the DMA polygons a GIS team drew: one polygon layer of a GeoPackage (or any GIS file).

    Parameters
    ----------
    path : str or Path
        The file.
    layer : str, optional
        The polygon layer; default ``dmas`` when the file has it, else its first polygon layer.
    crs : str, optional
        The network's CRS: polygons with a CRS are reprojected to it.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer's features.

    Raises
    ------
    LayerError
        When the file is missing or unreadable, has no polygon layer, or has no polygon
        layer named ``layer``: the message names the file, the layer asked for and the
        layers the file has.
    """
    import pyogrio

    path = Path(path)
    if not path.is_file():
        raise LayerError(path, "no such file", "check the path of the DMA polygons")
    try:
        found = [(str(name), str(geom) if geom else None) for name, geom in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio/GDAL raise several types for a file they cannot open
        raise LayerError(path, f"cannot be read as a GIS file ({exc})",
                         "give a GeoPackage (or another file QGIS opens) with one polygon per DMA") from exc
    polygons = [name for name, geom in found if geom and "POLYGON" in geom.upper()]
    listed = ", ".join(f"{name!r} ({(geom or 'no geometry').lower()})" for name, geom in found) or "none"
    if layer is not None and layer not in polygons:
        what = "is not a polygon layer" if layer in dict(found) else "does not exist"
        raise LayerError(path, f"layer {layer!r} {what}; the file's layers: {listed}",
                         "name the layer that holds the DMA polygons (layer)", layer=layer)
    chosen = layer or ("dmas" if "dmas" in polygons else (polygons[0] if polygons else None))
    if chosen is None:
        raise LayerError(path, f"has no polygon layer (its layers: {listed})",
                         "draw one polygon per DMA in a polygon layer")
    try:
        frame = gpd.read_file(path, layer=chosen)
    except Exception as exc:  # as above
        raise LayerError(path, f"the layer cannot be read ({exc})", "open it in QGIS and save it again",
                         layer=chosen) from exc
    if crs is not None and frame.crs is not None:
        frame = frame.to_crs(crs)
    return frame
