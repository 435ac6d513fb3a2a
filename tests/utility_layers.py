"""Messy 'utility layers' generated from a known network, with the faults a GIS export has.

From L-Town, whose coordinates are a local grid in metres with no real-world position: the
grid is placed in WGS 84 / UTM zone 33N (EPSG:32633) by the offset :data:`OFFSET` (easting +
500 000 m, northing + 5 000 000 m), so the layers carry a true projected CRS and distances
on the grid are L-Town's own. The place is illustrative: L-Town is a hypothetical town.
A pipe layer with the utility's own field names and diameters in mm, a node layer, and these
planted faults, each of which the importer must repair and report:

- every pipe end jittered by up to 0.2 m (tolerance 0.5 m);
- a duplicate of pipe p10 (DUP-1);
- a zero-length pipe at node n20 (ZERO-1);
- a T-junction drawn without a node: node n3 is left out of the node layer and two of its
  pipes (the main) are drawn as one line through it, so the third ends on the main;
- one pipe (p50) kept in a second file in EPSG:4326.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import yaml

from nrwkit.networks import load
from nrwkit.units import LENGTH_TO_M

CRS = "EPSG:32633"
#: Added to L-Town's local coordinates (m) to place them in :data:`CRS`.
OFFSET = np.array([500_000.0, 5_000_000.0])
JITTER_M = 0.2
MAPPING = {
    "pipes": {
        "source": ["water_mains.gpkg", "mains_wgs84.geojson"],
        "fields": {"id": "ASSET_ID", "diameter": {"field": "DIAM_MM", "unit": "mm"},
                   "roughness": "HW_C", "status": "STATE"},
        "values": {"status": {"closed": ["SHUT"], "open": ["IN SERVICE"]}},
    },
    "junctions": {"source": "nodes.gpkg", "fields": {"id": "NODE_REF",
                                                     "elevation": {"field": "Z_FT", "unit": "ft"}}},
    "reservoirs": {"source": "sources.gpkg", "fields": {"id": "SRC", "head": {"field": "HEAD_M"}}},
    "valves": {"source": "valves.gpkg", "fields": {
        "id": "VALVE_ID", "type": "KIND", "diameter": {"field": "DN", "unit": "mm"},
        "setting": {"field": "SET_M", "unit": "m"}}},
    "pumps": {"source": "pumps.gpkg", "fields": {"id": "PUMP_ID", "power": {"field": "KW", "unit": "kW"}}},
    "tanks": {"source": "tanks.gpkg", "fields": {
        "id": "TANK", "elevation": "BOTTOM_M", "init_level": "INIT_M", "min_level": "MIN_M",
        "max_level": "MAX_M", "diameter": "DIAM_M"}},
}


def main_through(wn, node: str) -> tuple[str, str, str]:
    """Pick two pipes at a degree-3 node that make the straightest main, and the branch."""
    links = [wn.get_link(n) for n in wn.get_links_for_node(node)]
    assert len(links) == 3, node
    xy = np.array(wn.get_node(node).coordinates)
    best = None
    for i in range(3):
        for j in range(i + 1, 3):
            a, b = (np.array(_other(links[k], node).coordinates) - xy for k in (i, j))
            cos = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
            if best is None or cos < best[0]:
                best = (cos, links[i].name, links[j].name, links[3 - i - j].name)
    assert best is not None
    return best[1], best[2], best[3]


def _other(link, node):
    return link.end_node if link.start_node_name == node else link.start_node


def placed(xy) -> np.ndarray:
    """Return local L-Town coordinates (m) placed in :data:`CRS`."""
    return np.add(np.asarray(xy, dtype=float), OFFSET)


def _line(wn, link, rng):
    pts = [link.start_node.coordinates, *link.vertices, link.end_node.coordinates]
    pts = placed(np.array(pts, dtype=float))
    jitter = rng.uniform(-1, 1, size=(2, 2))
    jitter *= JITTER_M / np.sqrt(2) / np.abs(jitter).max()
    pts[0] += jitter[0]
    pts[-1] += jitter[1]
    return shapely.LineString(pts)


def write_utility_layers(folder: Path, *, seed: int = 7) -> dict:
    """Write the layers and mapping.yaml into ``folder``; return what was planted."""
    rng = np.random.default_rng(seed)
    wn = load("l-town")
    t_node = next(n for n in wn.junction_name_list if len(wn.get_links_for_node(n)) == 3
                  and all(wn.get_link(k).link_type == "Pipe" for k in wn.get_links_for_node(n)))
    main_a, main_b, branch = main_through(wn, t_node)
    rows = []
    for name, pipe in wn.pipes():
        if name in (main_a, main_b):
            continue
        rows.append({"ASSET_ID": name, "DIAM_MM": round(pipe.diameter * 1000, 1),
                     "HW_C": pipe.roughness,
                     "STATE": "SHUT" if str(pipe.initial_status) == "Closed" else "IN SERVICE",
                     "geometry": _line(wn, pipe, rng)})
    # the main drawn through the T node as one line: a-end ... t_node ... b-end
    a, b = wn.get_link(main_a), wn.get_link(main_b)
    a_pts = [a.start_node.coordinates, *a.vertices, a.end_node.coordinates]
    if a.start_node_name == t_node:
        a_pts = a_pts[::-1]
    b_pts = [b.start_node.coordinates, *b.vertices, b.end_node.coordinates]
    if b.end_node_name == t_node:
        b_pts = b_pts[::-1]
    rows.append({"ASSET_ID": "MAIN-T", "DIAM_MM": round(a.diameter * 1000, 1), "HW_C": a.roughness,
                 "STATE": "IN SERVICE", "geometry": shapely.LineString(placed(a_pts + b_pts[1:]))})
    dup = next(r for r in rows if r["ASSET_ID"] == "p10")
    rows.append({**dup, "ASSET_ID": "DUP-1"})
    x, y = placed(wn.get_node("n20").coordinates)
    rows.append({"ASSET_ID": "ZERO-1", "DIAM_MM": 110.0, "HW_C": 130.0, "STATE": "IN SERVICE",
                 "geometry": shapely.LineString([(x, y), (x + 0.1, y + 0.05)])})
    pipes = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    other = pipes[pipes["ASSET_ID"] == "p50"]
    pipes[pipes["ASSET_ID"] != "p50"].to_file(folder / "water_mains.gpkg", layer="water_mains")
    other.to_crs("EPSG:4326").to_file(folder / "mains_wgs84.geojson")
    nodes = gpd.GeoDataFrame(
        [{"NODE_REF": n, "Z_FT": j.elevation / LENGTH_TO_M["ft"],
          "geometry": shapely.Point(placed(j.coordinates))}
         for n, j in wn.junctions() if n != t_node], geometry="geometry", crs=CRS)
    nodes.to_file(folder / "nodes.gpkg", layer="nodes")
    gpd.GeoDataFrame([{"SRC": n, "HEAD_M": r.base_head, "geometry": shapely.Point(placed(r.coordinates))}
                      for n, r in wn.reservoirs()], geometry="geometry", crs=CRS
                     ).to_file(folder / "sources.gpkg", layer="sources")
    gpd.GeoDataFrame([{"TANK": n, "BOTTOM_M": t.elevation, "INIT_M": t.init_level,
                       "MIN_M": t.min_level, "MAX_M": t.max_level, "DIAM_M": t.diameter,
                       "geometry": shapely.Point(placed(t.coordinates))} for n, t in wn.tanks()],
                     geometry="geometry", crs=CRS).to_file(folder / "tanks.gpkg", layer="tanks")
    gpd.GeoDataFrame([{"VALVE_ID": n, "KIND": v.valve_type, "DN": v.diameter * 1000,
                        "SET_M": v.initial_setting, "geometry": _line(wn, v, rng)}
                       for n, v in wn.valves()], geometry="geometry", crs=CRS
                      ).to_file(folder / "valves.gpkg", layer="valves")
    gpd.GeoDataFrame([{"PUMP_ID": n, "KW": 30.0, "geometry": _line(wn, p, rng)}
                      for n, p in wn.pumps()], geometry="geometry", crs=CRS
                     ).to_file(folder / "pumps.gpkg", layer="pumps")
    (folder / "mapping.yaml").write_text(yaml.safe_dump(MAPPING, sort_keys=False))
    return {"t_node": t_node, "main": (main_a, main_b), "branch": branch}
