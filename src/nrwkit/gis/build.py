"""Building a runnable EPANET model from a utility's GIS layers.

The steps, each reported as a finding where it changes something:

1. pipe ends within the snapping tolerance of a node point take that node (the nearest,
   or the one named in ``start_node``/``end_node`` when several are within reach);
2. the remaining pipe ends within the tolerance of each other merge into one new junction
   (at their centroid);
3. a junction within the tolerance of another pipe's interior splits that pipe
   (a T-junction drawn without a break);
4. valve and pump points on a pipe split it and become a valve or pump between two nodes
   at that point; hydrant points split it at a junction tagged ``hydrant``;
5. pipes whose two ends fall on one node are dropped (zero length), and so are duplicates
   (same two nodes, diameter and length) unless the mapping keeps them;
6. attributes come from the mapped fields, roughness from material and age when the layer
   has none (:mod:`nrwkit.gis.materials`), elevations from the node layer, a DEM or the
   nearest survey point;
7. the model is assembled as WNTR's own dictionary and read with
   :func:`wntr.network.from_dict`; for a GeoPackage written by ``nrwkit gis export`` the
   rest of the model (options, patterns, curves, controls, extra demand categories) comes
   from its ``nrwkit_model`` table.
"""

from __future__ import annotations

import copy
import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import wntr
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.ops import substring

from ..errors import InputError, LayerError, SimulationError
from ..findings import Finding, Severity, list_ids
from ..hydraulics import set_options, steady_state
from ..network.checks import count, run_checks
from ..units import MM_PER_M
from .export import read_model_table
from .layers import SourceLayers, read_layers
from .mapping import Mapping
from .materials import DEFAULT_MATERIALS, MATERIAL_ALIASES, MaterialRoughness, hazen_williams_c

__all__ = ["MAX_SNAP_M", "ImportResult", "build_network"]

#: The largest snapping tolerance (m) accepted, as in the mapping's ``snap_m``.
MAX_SNAP_M = 100.0

_CONTROL_VALVES = {"PRV", "PSV", "PBV", "FCV", "TCV", "GPV"}


@dataclass
class ImportResult:
    """A model built from GIS layers.

    Attributes
    ----------
    wn : wntr.network.WaterNetworkModel
        The model (SI inside; coordinates in the layers' CRS).
    findings : list of Finding
        Every repair and decision, with a location, then the topology checks of the model.
    crs : pyproj.CRS or None
        The CRS of the model's coordinates.
    refused : str or None
        Why EPANET refuses the model (it was loaded and solved once, as a steady state, to
        know), with what to fix in the layers or the mapping; None when EPANET runs it. A
        refused model comes with a ``gis-model-refused`` error among the findings.
    """

    wn: wntr.network.WaterNetworkModel
    findings: list[Finding]
    crs: pyproj.CRS | None
    refused: str | None = None

    def raise_if_refused(self) -> None:
        """Raise :class:`~nrwkit.errors.SimulationError` when EPANET refuses the model.

        Call it before saving the model: a model EPANET refuses is no result.
        """
        if self.refused is not None:
            raise SimulationError(self.refused)


@dataclass
class _Node:
    name: str
    kind: str                       # Junction, Tank, Reservoir
    xy: tuple[float, float]
    attrs: dict[str, Any] = field(default_factory=dict)
    from_layer: bool = False


@dataclass
class _Link:
    name: str
    kind: str                       # Pipe, Pump, Valve
    start: str
    end: str
    geometry: shapely.LineString
    attrs: dict[str, Any] = field(default_factory=dict)


def _value(row: pd.Series, key: str) -> Any:
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


class _Builder:
    """One import: holds the nodes and links while the steps run."""

    def __init__(self, src: SourceLayers, mapping: Mapping, tolerance: float,
                 stored: dict | None, reference_year: int, drop_duplicates: bool) -> None:
        self.src = src
        self.mapping = mapping
        self.tol = tolerance
        self.stored = stored
        self.year = reference_year
        self.drop_duplicates = drop_duplicates
        self.findings: list[Finding] = list(src.findings)
        self.nodes: dict[str, _Node] = {}
        self.links: list[_Link] = []
        self._counter = 0
        #: nodes nrwkit created (not in any layer): name -> (kind of reason, why, in words)
        self.invented: dict[str, tuple[str, str]] = {}
        self._device_gap: dict[str, tuple[str, float]] = {}  # device point -> (pipe, distance m)
        self.materials: dict[str, MaterialRoughness] = dict(DEFAULT_MATERIALS)
        for key, spec in mapping.materials.items():
            code = " ".join(key.upper().split())
            self.materials[MATERIAL_ALIASES.get(code, code)] = MaterialRoughness(
                spec.c_new, spec.c_loss_per_year, spec.c_min)

    # ------------------------------------------------------------------ helpers
    def note(self, severity: Severity, code: str, elements: list[str], message: str,
             location: tuple[float, float] | None, element_type: str = "node", *,
             fix: str = "") -> None:
        self.findings.append(Finding(severity, code, tuple(elements), message, element_type,
                                     location=location, fix=fix))

    def new_junction(self, xy: tuple[float, float], why: tuple[str, str], prefix: str = "J") -> str:
        """Create a junction no layer has, remembering why (reported as ``gis-invented-node``)."""
        while True:
            self._counter += 1
            name = f"{prefix}{self._counter}"
            if name not in self.nodes:
                break
        self.nodes[name] = _Node(name, "Junction", (float(xy[0]), float(xy[1])))
        self.invented[name] = why
        return name

    def default_id(self, layer: str, name: str | None, default: str, named: dict[str, list[str]]) -> str:
        """Return ``name``, or ``default`` (remembered for ``gis-default-id``) for a feature with none."""
        if name:
            return name
        named.setdefault(layer, []).append(default)
        return default

    def report_default_ids(self, named: dict[str, list[str]], element_type: str) -> None:
        for layer, names in named.items():
            self.note(Severity.WARNING, "gis-default-id", names,
                      f"{len(names)} feature(s) of the {layer} layer have no id: nrwkit named them "
                      f"{list_ids(names)} (from the row number)", None, element_type,
                      fix=f"fill the id field of the {layer} layer (mapping {layer}.fields.id) so "
                      "that the model's ids are the utility's")

    def metres(self, distance: float) -> float:
        return distance * (self.src.metres_per_unit or 1.0)

    # ------------------------------------------------------------------ step 1: node points
    def check_id(self, name: str, layer: str, feature: str) -> str:
        """Refuse an id EPANET cannot hold (over 31 characters, spaces, semicolons)."""
        if len(name) > 31 or any(ch.isspace() for ch in name) or ";" in name or '"' in name:
            raise LayerError(layer, f"id {name!r} cannot be an EPANET id (31 characters at most, "
                             "no spaces, quotes or semicolons)", "shorten or clean the id in the GIS, "
                             "or map another id field", layer=layer, feature=feature)
        return name

    def add_node_points(self) -> None:
        kinds = {"junctions": "Junction", "tanks": "Tank", "reservoirs": "Reservoir"}
        named: dict[str, list[str]] = {}
        for layer, kind in kinds.items():
            frame = self.src.frames.get(layer)
            if frame is None:
                continue
            for i, row in frame.iterrows():
                name = self.check_id(self.default_id(layer, _value(row, "id"), f"{kind[0]}-{i}", named),
                                     layer, str(row["feature"]))
                if name in self.nodes:
                    raise LayerError(layer, f"node id {name!r} is used twice",
                                     "give every junction, tank and reservoir its own id",
                                     layer=layer, feature=str(row["feature"]))
                attrs = {k: _value(row, k) for k in frame.columns if k not in ("geometry", "id")}
                geom = row.geometry
                self.nodes[name] = _Node(name, kind, (geom.x, geom.y), attrs, from_layer=True)
        self.report_default_ids(named, "node")

    # ------------------------------------------------------------------ step 2: links and ends
    def add_line_links(self) -> None:
        seen: dict[str, int] = {}
        named: dict[str, list[str]] = {}
        for layer, kind in (("pipes", "Pipe"), ("valves", "Valve"), ("pumps", "Pump")):
            frame = self.src.frames.get(layer)
            if frame is None or not frame.geom_type.eq("LineString").any():
                continue
            for i, row in frame.iterrows():
                if row.geometry.geom_type != "LineString":
                    continue
                name = self.check_id(self.default_id(layer, _value(row, "id"), f"{kind.upper()}-{i}", named),
                                     layer, str(row["feature"]))
                if name in seen:
                    seen[name] += 1
                    new = f"{name}~{seen[name]}"
                    self.note(Severity.WARNING, "duplicate-id", [name, new],
                              f"{layer} id {name} is used twice: the second became {new}",
                              _mid(row.geometry), "link")
                    name = new
                else:
                    seen[name] = 1
                attrs = {k: _value(row, k) for k in frame.columns if k not in ("geometry", "id")}
                self.links.append(_Link(name, kind, "", "", row.geometry, attrs))
        self.report_default_ids(named, "link")

    def resolve_ends(self) -> None:
        """Give every line end a node: a node point within the tolerance, else a new junction."""
        ends = np.array([[ln.geometry.coords[0], ln.geometry.coords[-1]] for ln in self.links],
                        dtype=float).reshape(-1, 2)
        owner = np.repeat(np.arange(len(self.links)), 2)
        which = np.tile([0, 1], len(self.links))
        assigned: list[str | None] = [None] * len(ends)
        self._snap_to_points(ends, owner, which, assigned)
        self._join_free_ends(ends, owner, assigned)
        for e, node_name in enumerate(assigned):
            link = self.links[owner[e]]
            if which[e] == 0:
                link.start = str(node_name)
            else:
                link.end = str(node_name)

    def _snap_to_points(self, ends: np.ndarray, owner: np.ndarray, which: np.ndarray,
                        assigned: list[str | None]) -> None:
        """Step 1: line ends within the tolerance of a node point take that node."""
        points = [n for n in self.nodes.values() if n.from_layer]
        if not points:
            return
        xy = np.array([n.xy for n in points])
        dist, idx = cKDTree(xy).query(ends, k=1, distance_upper_bound=self.tol)
        index = {n.name: k for k, n in enumerate(points)}
        for e in range(len(ends)):
            hint = self.links[owner[e]].attrs.get("start_node" if which[e] == 0 else "end_node")
            if hint is not None and str(hint) in index:
                k = index[str(hint)]
                if math.dist(ends[e], xy[k]) <= self.tol:
                    assigned[e] = points[k].name
                    continue
            if np.isfinite(dist[e]):
                assigned[e] = points[int(idx[e])].name
        moved = [e for e in range(len(ends)) if assigned[e] is not None
                 and math.dist(ends[e], self.nodes[str(assigned[e])].xy) > 0]
        if moved:
            gaps = [math.dist(ends[e], self.nodes[str(assigned[e])].xy) for e in moved]
            names = sorted({self.links[owner[e]].name for e in moved})
            self.note(Severity.INFO, "snapped-endpoints", names,
                      f"{len(moved)} pipe end(s) did not touch their node and were snapped "
                      f"onto it (up to {self.metres(max(gaps)):.2f} m): {list_ids(names)}",
                      tuple(ends[moved[int(np.argmax(gaps))]]), "link")

    def _join_free_ends(self, ends: np.ndarray, owner: np.ndarray, assigned: list[str | None]) -> None:
        """Step 2: the other line ends, grouped within the tolerance, each make a new junction."""
        free = [e for e in range(len(ends)) if assigned[e] is None]
        if not free:
            return
        free_xy = ends[free]
        pairs = cKDTree(free_xy).query_pairs(self.tol, output_type="ndarray")
        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                           shape=(len(free), len(free))) if len(pairs) else \
            coo_matrix((len(free), len(free)))
        _, label = connected_components(graph, directed=False)
        groups: dict[int, list[int]] = defaultdict(list)
        for k, lab in enumerate(label):
            groups[int(lab)].append(k)
        has_points = any(n.from_layer and n.kind == "Junction" for n in self.nodes.values())
        for members in groups.values():
            member_xy = free_xy[members]
            centre = tuple(member_xy.mean(axis=0))
            lines = sorted({self.links[owner[free[k]]].name for k in members})
            if len(members) == 1:
                why = f"the end of {lines[0]} touches no node point (a dead end, or a T drawn without a node)"
            else:
                why = f"{len(members)} ends of {list_ids(lines)} meet where the node layers have no point"
            name = self.new_junction(centre, ("pipe-end" if has_points else "no-node-layer", why))
            for k in members:
                assigned[free[k]] = name
            spread = float(np.max(np.linalg.norm(member_xy - centre, axis=1)))
            if spread > 0:
                self.note(Severity.INFO, "merged-endpoints", [name],
                          f"{len(members)} pipe ends up to {self.metres(spread):.2f} m apart "
                          f"were joined at new junction {name}", centre)

    # ------------------------------------------------------------------ step 3-4: splits
    def split_pipes(self) -> None:
        pipes = [ln for ln in self.links if ln.kind == "Pipe"]
        if not pipes:
            return
        tree = shapely.STRtree([p.geometry for p in pipes])
        degree: dict[str, int] = defaultdict(int)
        for ln in self.links:
            degree[ln.start] += 1
            degree[ln.end] += 1
        limit = 1 if self.mapping.split_mains_at_nodes else 0
        candidates = [n for n in self.nodes.values()
                      if n.kind == "Junction" and (not n.from_layer or degree[n.name] <= limit)]
        splits: dict[int, list[tuple[float, str, str | None, dict]]] = defaultdict(list)
        if candidates:
            geoms = shapely.points([n.xy for n in candidates])
            hit_pt, hit_pipe = tree.query(geoms, predicate="dwithin", distance=self.tol)
            for k, j in zip(hit_pt, hit_pipe, strict=True):
                node, pipe = candidates[int(k)], pipes[int(j)]
                if node.name in (pipe.start, pipe.end):
                    continue
                s = pipe.geometry.project(shapely.Point(node.xy))
                if self.tol < s < pipe.geometry.length - self.tol:
                    splits[int(j)].append((s, node.name, None, {}))
                    if not node.from_layer:  # a drawn T: the junction moves onto the main
                        point = pipe.geometry.interpolate(s)
                        gap = math.dist(node.xy, (point.x, point.y))
                        node.xy = (float(point.x), float(point.y))
                        kind, why = self.invented[node.name]
                        self.invented[node.name] = (kind, f"{why}; it lies on {pipe.name} (moved "
                                                    f"{self.metres(gap):.2f} m onto it), which it splits")
        self._device_points(pipes, tree, splits)
        for j, cuts in splits.items():
            self._split(pipes[j], sorted(cuts, key=lambda c: c[0]))

    def _device_points(self, pipes: list[_Link], tree: shapely.STRtree,
                       splits: dict[int, list[tuple[float, str, str | None, dict]]]) -> None:
        named: dict[str, list[str]] = {}
        for layer, kind in (("valves", "Valve"), ("pumps", "Pump"), ("hydrants", "Hydrant")):
            frame = self.src.frames.get(layer)
            if frame is None:
                continue
            for i, row in frame[frame.geom_type == "Point"].iterrows():
                name = self.default_id(layer, _value(row, "id"), f"{kind.upper()}-{i}", named)
                point = row.geometry
                j = tree.query_nearest(point, max_distance=self.tol)
                if len(j) == 0:
                    self.note(Severity.WARNING, "device-not-on-pipe", [name],
                              f"{kind.lower()} {name} is not within {self.metres(self.tol):.2f} m "
                              "of any pipe: left out. Move it onto its main in the GIS",
                              (point.x, point.y))
                    continue
                pipe = pipes[int(j[0])]
                s = pipe.geometry.project(point)
                self._device_gap[name] = (pipe.name, self.metres(pipe.geometry.distance(point)))
                attrs = {k: _value(row, k) for k in frame.columns if k not in ("geometry", "id")}
                if s <= self.tol or s >= pipe.geometry.length - self.tol:
                    self._device_at_end(pipe, s <= self.tol, kind, name, attrs)
                else:
                    splits[int(j[0])].append((s, "", kind if kind != "Hydrant" else "Hydrant",
                                              {"name": name, **attrs}))
        self.report_default_ids(named, "node")

    def _device_why(self, kind: str, name: str, role: str) -> tuple[str, str]:
        """Why a junction was created for the device point ``name`` (``role``: where it sits)."""
        pipe, gap = self._device_gap.get(name, ("", 0.0))
        moved = f", its point moved {gap:.2f} m onto the pipe" if gap > 0 else ""
        return ("device", f"{role} of {kind.lower()} {name} on pipe {pipe}{moved}")

    def _split(self, pipe: _Link, cuts: list[tuple[float, str, str | None, dict]]) -> None:
        line = pipe.geometry
        total = line.length
        length_m = pipe.attrs.get("length")
        bounds = [0.0, *[c[0] for c in cuts], total]
        nodes = [pipe.start]
        devices: list[tuple[str, str, dict]] = []
        for s, node_name, device, info in cuts:
            if not node_name:
                point = line.interpolate(s)
                if device == "Hydrant":
                    node_name = info["name"] if info["name"] not in self.nodes else \
                        self.new_junction((point.x, point.y), self._device_why(
                            "hydrant", info["name"], "the junction (its id is a node's id)"), "H")
                    self.nodes[node_name] = _Node(node_name, "Junction", (point.x, point.y),
                                                  {"tag": "hydrant"})
                else:
                    node_name = self.new_junction((point.x, point.y), self._device_why(
                        device or "", info["name"], "the upstream node"))
                    devices.append((node_name, device or "", info))
            nodes.append(node_name)
        nodes.append(pipe.end)
        parts = []
        for k in range(len(nodes) - 1):
            geom = substring(line, bounds[k], bounds[k + 1])
            name = pipe.name if k == 0 else f"{pipe.name}.{k + 1}"
            attrs = dict(pipe.attrs)
            if length_m is not None and total > 0:
                attrs["length"] = float(length_m) * (bounds[k + 1] - bounds[k]) / total
            parts.append(_Link(name, "Pipe", nodes[k], nodes[k + 1], geom, attrs))
        self.links.remove(pipe)
        self.links.extend(parts)
        where = _mid(line)
        self.note(Severity.INFO, "split-pipe", [pipe.name, *[p.name for p in parts[1:]]],
                  f"pipe {pipe.name} was split in {len(parts)} at {list_ids(nodes[1:-1])} "
                  "(a junction or device lies on it)", where, "link")
        for node_name, device, info in devices:
            k = nodes.index(node_name)
            downstream = parts[k]
            twin = self.new_junction(self.nodes[node_name].xy,
                                     self._device_why(device, info["name"], "the downstream node"))
            downstream.start = twin
            self._add_device(device, info["name"], node_name, twin, info)

    def _device_at_end(self, pipe: _Link, at_start: bool, kind: str, name: str, attrs: dict) -> None:
        node = pipe.start if at_start else pipe.end
        if kind == "Hydrant":
            self.nodes[node].attrs.setdefault("tag", "hydrant")
            return
        twin = self.new_junction(self.nodes[node].xy, self._device_why(
            kind, name, f"the node between the device and {node} (at the pipe's end)"))
        if at_start:
            pipe.start = twin
            self._add_device(kind, name, node, twin, attrs)
        else:
            pipe.end = twin
            self._add_device(kind, name, twin, node, attrs)

    def _add_device(self, kind: str, name: str, start: str, end: str, attrs: dict) -> None:
        xy = self.nodes[start].xy
        geom = shapely.LineString([xy, self.nodes[end].xy])
        self.links.append(_Link(name, kind, start, end, geom, dict(attrs)))

    # ------------------------------------------------------------------ step 5: drops
    def drop_degenerate(self) -> None:
        kept: list[_Link] = []
        by_pair: dict[frozenset, list[_Link]] = defaultdict(list)
        for link in self.links:
            if link.kind == "Pipe" and link.start == link.end:
                self.note(Severity.WARNING, "zero-length-dropped", [link.name],
                          f"pipe {link.name} starts and ends at {link.start} (its ends are within "
                          f"{self.metres(self.tol):.2f} m): dropped", _mid(link.geometry), "link")
                continue
            if link.kind == "Pipe" and self.drop_duplicates:
                twin = next((other for other in by_pair[frozenset((link.start, link.end))]
                             if _same_pipe(other, link, self.tol)), None)
                if twin is not None:
                    self.note(Severity.WARNING, "duplicate-dropped", [link.name, twin.name],
                              f"pipe {link.name} duplicates {twin.name} (same nodes, diameter and "
                              "length): dropped", _mid(link.geometry), "link")
                    continue
                by_pair[frozenset((link.start, link.end))].append(link)
            kept.append(link)
        self.links = kept
        used = {n for link in self.links for n in (link.start, link.end)}
        for name in [n for n, node in self.nodes.items() if not node.from_layer and n not in used]:
            del self.nodes[name]

    def report_invented(self) -> None:
        """Report the nodes nrwkit created: a ``gis-invented-node`` finding per reason, where and why."""
        texts = {
            "pipe-end": (Severity.WARNING, "that no node layer has, created where pipe ends meet",
                         "if a node belongs there, add it to the junction layer with "
                         "its id and elevation; if the pipe should end on an existing node, move its "
                         "end onto that node in the GIS"),
            "no-node-layer": (Severity.INFO, "created at the pipe ends (the mapping has no junction "
                              "layer)", "map the junction layer (mapping 'junctions:') "
                              "to keep the utility's node ids and elevations"),
            "device": (Severity.INFO, "created for valves, pumps and hydrants drawn as points on "
                       "pipes", "nothing if the devices are where they are drawn; "
                       "otherwise move the points in the GIS"),
        }
        for kind, (severity, what, fix) in texts.items():
            names = [n for n, (k, _) in self.invented.items() if k == kind and n in self.nodes]
            if not names:
                continue
            where = "; ".join(f"{n} at ({self.nodes[n].xy[0]:.2f}, {self.nodes[n].xy[1]:.2f}): "
                              f"{self.invented[n][1]}" for n in names[:5])
            more = f"; and {len(names) - 5} more" if len(names) > 5 else ""
            self.note(severity, "gis-invented-node", names,
                      f"{count(len(names), 'junction')} {what}: {where}{more}",
                      self.nodes[names[0]].xy, fix=fix)

    # ------------------------------------------------------------------ step 6: attributes
    def elevations(self) -> None:
        missing = [n for n in self.nodes.values()
                   if n.kind != "Reservoir" and n.attrs.get("elevation") is None]
        if not missing:
            return
        spec = self.mapping.elevation
        if spec and spec.dem:
            points = gpd.GeoDataFrame(geometry=shapely.points([n.xy for n in missing]),
                                      crs=self.src.crs)
            try:
                values = wntr.gis.sample_raster(points, spec.dem, spec.band)
            except Exception as exc:  # rasterio raises its own types for a missing or bad raster
                raise LayerError(spec.dem, f"the DEM cannot be read: {exc}",
                                 "give elevation.dem as the path of a GeoTIFF (or any raster "
                                 "GDAL reads), relative to the mapping file") from exc
            for node, value in zip(missing, values, strict=True):
                if value is not None and np.isfinite(value):
                    node.attrs["elevation"] = float(value)
            missing = [n for n in missing if n.attrs.get("elevation") is None]
        known = self.src.frames.get("survey")
        if known is None or "elevation" not in known:
            with_z = [n for n in self.nodes.values() if n.attrs.get("elevation") is not None]
            source = "the nearest node with an elevation"
            survey_xy = np.array([n.xy for n in with_z]).reshape(-1, 2)
            survey_z = np.array([n.attrs["elevation"] for n in with_z], dtype=float)
        else:
            known = known[known["elevation"].notna()]
            source = "the nearest survey point"
            survey_xy = np.column_stack([known.geometry.x, known.geometry.y])
            survey_z = known["elevation"].to_numpy(dtype=float)
        if missing and len(survey_z):
            dist, idx = cKDTree(survey_xy).query([n.xy for n in missing])
            for node, _d, k in zip(missing, dist, idx, strict=True):
                node.attrs["elevation"] = float(survey_z[k])
            names = [n.name for n in missing]
            self.note(Severity.INFO, "elevation-estimated", names,
                      f"{len(missing)} node(s) took the elevation of {source} "
                      f"(up to {self.metres(float(np.max(dist))):.1f} m away): {list_ids(names)}", None,
                      fix="map a node elevation field, a DEM or survey points (mapping 'elevation:') "
                      "if these are not close enough")
        elif missing:
            for node in missing:
                node.attrs["elevation"] = 0.0
            self.note(Severity.WARNING, "no-elevation", [n.name for n in missing],
                      f"{len(missing)} node(s) have no elevation source: set to 0 m. Map a node "
                      "elevation field, a DEM or survey points (mapping 'elevation:')", None)

    def pipe_attributes(self) -> dict[str, dict]:
        unknown: dict[str, list[str]] = defaultdict(list)
        no_diameter: list[str] = []
        out = {}
        for link in self.links:
            if link.kind != "Pipe":
                continue
            a = link.attrs
            diameter = a.get("diameter")
            if diameter is None or not math.isfinite(diameter) or diameter <= 0:
                no_diameter.append(link.name)
                diameter = self.mapping.default_diameter_m
            roughness = a.get("roughness")
            if roughness is None:
                roughness = hazen_williams_c(a.get("material"), install_year=_year(a.get("install_year")),
                                             reference_year=self.year, table=self.materials)
                if roughness is None:
                    material = a.get("material")
                    unknown["(none)" if material is None else str(material)].append(link.name)
                    roughness = self.mapping.default_roughness
            length = a.get("length")
            if length is None or self.mapping.pipes.field("length") is None:
                length = self.metres(link.geometry.length)
            status = str(a.get("status") or "open").strip().lower()
            check_valve = status == "cv" or str(a.get("check_valve")).lower() in ("true", "1", "yes")
            out[link.name] = {
                "length": max(float(length), 0.01), "diameter": float(diameter),
                "roughness": float(roughness), "minor_loss": float(a.get("minor_loss") or 0.0),
                "initial_status": "Closed" if status == "closed" else "Open",
                "check_valve": bool(check_valve),
            }
        for material, names in unknown.items():
            self.note(Severity.WARNING, "unknown-material", names,
                      f"{len(names)} pipe(s) of material {material!r} have no roughness and the "
                      f"material is not in the table: C = {self.mapping.default_roughness:g} used. "
                      "Add it under 'materials:' in the mapping", None, "link")
        if no_diameter:
            self.note(Severity.WARNING, "no-diameter", no_diameter,
                      f"{len(no_diameter)} pipe(s) have no diameter ({list_ids(no_diameter)}): "
                      f"{self.mapping.default_diameter_m * MM_PER_M:g} mm used", None, "link")
        return out

    # ------------------------------------------------------------------ step 7: assembly
    def assemble(self) -> wntr.network.WaterNetworkModel:
        base = copy.deepcopy(self.stored) if self.stored else _skeleton(self.mapping.flow_units)
        stored_nodes = {n["name"]: n for n in base.get("nodes", [])}
        stored_links = {ln["name"]: ln for ln in base.get("links", [])}
        pipes = self.pipe_attributes()
        nodes = [self._node_dict(n, stored_nodes.get(n.name)) for n in self.nodes.values()]
        links = []
        for link in self.links:
            entry = {"name": link.name, "link_type": link.kind, "start_node_name": link.start,
                     "end_node_name": link.end, "vertices": [list(c) for c in link.geometry.coords[1:-1]]}
            if link.kind == "Pipe":
                entry.update(pipes[link.name])
            elif link.kind == "Valve":
                if link.attrs.get("diameter") is None:
                    self.note(Severity.WARNING, "valve-defaults", [link.name],
                              f"valve {link.name} has no diameter: 100 mm used. Map valves.diameter",
                              _mid(link.geometry), "link")
                entry.update(_valve(link))
            else:
                entry.update(_pump(link))
            stored = stored_links.get(link.name)
            if stored is not None and stored.get("link_type") == link.kind:
                merged = dict(stored)
                merged.update({k: v for k, v in entry.items() if v is not None})
                entry = merged
            links.append(entry)
        base["nodes"] = nodes
        base["links"] = links
        node_names = {n["name"] for n in nodes}
        link_names = {ln["name"] for ln in links}
        known = node_names | link_names
        kept = []
        for control in base.get("controls", []):
            gone = (_control_elements(control, _NODE_WORDS) - node_names) | (
                _control_elements(control, _LINK_WORDS) - link_names)
            if gone:
                self.note(Severity.WARNING, "control-dropped", sorted(gone),
                          f"a control refers to {list_ids(sorted(gone))}, no longer in the layers: "
                          f"dropped ({control.get('condition', control.get('name', ''))})", None,
                          "network")
            else:
                kept.append(control)
        base["controls"] = kept
        base["sources"] = [s for s in base.get("sources", []) if s.get("node_name") in known]
        return wntr.network.from_dict(base)

    def _node_dict(self, node: _Node, stored: dict | None) -> dict:
        a = node.attrs
        entry: dict[str, Any] = {"name": node.name, "node_type": node.kind,
                                 "coordinates": [node.xy[0], node.xy[1]], "tag": a.get("tag")}
        if node.kind == "Junction":
            demand = float(a.get("demand") or 0.0)
            pattern = a.get("pattern")
            series = [{"base_val": demand, "pattern_name": pattern, "category": None}]
            if stored and stored.get("demand_timeseries_list"):
                first = stored["demand_timeseries_list"][0]
                if math.isclose(first["base_val"], demand, rel_tol=1e-6, abs_tol=1e-12):
                    series = stored["demand_timeseries_list"]
            entry.update({"elevation": float(a["elevation"]), "demand_timeseries_list": series})
        elif node.kind == "Tank":
            unset = [k for k in ("max_level", "diameter") if a.get(k) is None]
            if unset:
                self.note(Severity.WARNING, "tank-defaults", [node.name],
                          f"tank {node.name} has no {' or '.join(unset)}: max level 5 m and "
                          "diameter 10 m used where missing. Map them in the mapping's tanks",
                          node.xy)
            entry.update({
                "elevation": float(a["elevation"]),
                "init_level": float(_first(a.get("init_level"), a.get("min_level"), 0.0)),
                "min_level": float(_first(a.get("min_level"), 0.0)),
                "max_level": float(_first(a.get("max_level"), 5.0)),
                "diameter": float(_first(a.get("diameter"), 10.0)),
                "min_vol": float(_first(a.get("min_vol"), 0.0)),
            })
        else:
            head = a.get("head")
            if head is None:
                raise LayerError("reservoirs", f"reservoir {node.name} has no head",
                                 "map reservoirs.head (total head in m)", layer="reservoirs",
                                 feature=node.name)
            entry.update({"base_head": float(head), "head_pattern_name": a.get("pattern")})
        if stored is not None and stored.get("node_type") == node.kind:
            merged = dict(stored)
            merged.update({k: v for k, v in entry.items() if v is not None or k == "tag"})
            return merged
        return entry

    def run(self) -> ImportResult:
        self.add_node_points()
        self.add_line_links()
        self.resolve_ends()
        self.split_pipes()
        self.drop_degenerate()
        self.report_invented()
        self.elevations()
        wn = self.assemble()
        checks = run_checks(wn, simulate=False, codes=["no-source", "isolated-node", "no-demand"])
        self.findings.extend(checks)
        refused = self.refusal(wn, checks)
        return ImportResult(wn, self.findings, self.src.crs, refused)

    def refusal(self, wn: wntr.network.WaterNetworkModel, checks: list[Finding]) -> str | None:
        """Load and solve the model once with EPANET; return why it refuses it, or None.

        A refusal is added to the findings as a ``gis-model-refused`` error.
        """
        try:
            steady_state(wn)
        except SimulationError as exc:
            errors = [f for f in checks if f.severity == Severity.ERROR]
            fix = ("correct these in the layers or the mapping: " + " ".join(str(f) for f in errors)
                   if errors else "check the layers for nodes no pipe reaches, sources (tanks, "
                   "reservoirs) that are not mapped or not connected, and pumps or valves without "
                   "settings; the findings above say what was repaired and where")
            self.note(Severity.ERROR, "gis-model-refused", [],
                      f"EPANET refuses the model built from the layers: {exc}", None, "network",
                      fix=fix)
            return (f"EPANET refuses the model built from the layers, so it is not saved: {exc}\n"
                    f"  fix: {fix}")
        return None


def _year(value: Any) -> float | None:
    """Return the install year of a number, a date or a date string (None if unreadable)."""
    if value is None:
        return None
    if hasattr(value, "year"):
        return float(value.year)
    try:
        return float(value)
    except (TypeError, ValueError):
        stamp = pd.to_datetime(str(value), errors="coerce")
        return None if pd.isna(stamp) else float(stamp.year)


def _first(*values: Any) -> Any:
    return next(v for v in values if v is not None)


def _mid(line: shapely.LineString) -> tuple[float, float]:
    point = line.interpolate(0.5, normalized=True)
    return (float(point.x), float(point.y))


def _same_pipe(a: _Link, b: _Link, tol: float) -> bool:
    da, db = a.attrs.get("diameter"), b.attrs.get("diameter")
    same_d = (da is None and db is None) or (da is not None and db is not None and abs(da - db) < 1e-3)
    la, lb = a.geometry.length, b.geometry.length
    return same_d and abs(la - lb) <= max(0.01 * max(la, lb), tol)


def _valve(link: _Link) -> dict:
    a = link.attrs
    kind = str(a.get("type") or "TCV").strip().upper()
    status = str(a.get("status") or "").strip().lower()
    if kind not in _CONTROL_VALVES:  # isolation (gate, butterfly...) valves: an open TCV
        kind = "TCV"
    setting = a.get("setting")
    return {"valve_type": kind, "diameter": float(a.get("diameter") or 0.1),
            "initial_setting": float(setting) if setting is not None else 0.0,
            "minor_loss": float(a.get("minor_loss") or 0.0),
            "initial_status": "Closed" if status == "closed" else
            ("Open" if status == "open" else "Active")}


def _pump(link: _Link) -> dict:
    a = link.attrs
    curve = a.get("curve")
    kind = str(a.get("type") or ("HEAD" if curve else "POWER")).upper()
    if kind not in ("HEAD", "POWER"):
        raise LayerError("pumps", f"pump {link.name} has type {kind!r}",
                         "pump types are HEAD (with a curve) or POWER (with a power); translate "
                         "the layer's values under the mapping's pumps.values.type",
                         layer="pumps", feature=link.name)
    if kind == "HEAD" and not curve:
        raise LayerError("pumps", f"pump {link.name} has no head curve",
                         "map pumps.curve to a curve in the model, or pumps.power",
                         layer="pumps", feature=link.name)
    if kind == "POWER" and a.get("power") is None:
        raise LayerError("pumps", f"pump {link.name} has neither a head curve nor a power",
                         "map pumps.power (kW by default) or pumps.curve", layer="pumps",
                         feature=link.name)
    return {"pump_type": kind, "pump_curve_name": curve if kind == "HEAD" else None,
            "power": float(a["power"]) if kind == "POWER" else None,
            "base_speed": float(a.get("speed") or 1.0), "speed_pattern_name": a.get("pattern"),
            "initial_status": "Closed" if str(a.get("status") or "").lower() == "closed" else "Open"}


_NODE_WORDS = {"TANK", "JUNCTION", "NODE", "RESERVOIR"}
_LINK_WORDS = {"PIPE", "PUMP", "VALVE", "LINK"}


def _control_elements(control: dict, words: set[str]) -> set[str]:
    """Names a control (WNTR dict form) gives after any of ``words`` (node or link words)."""
    texts: list[str] = []
    for value in control.values():
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            texts.extend(str(v) for v in value)
    names = set()
    for text in texts:
        tokens = text.split()
        for k, token in enumerate(tokens[:-1]):
            if token.upper() in words:
                names.add(tokens[k + 1])
    return names


def _skeleton(flow_units: str) -> dict:
    wn = wntr.network.WaterNetworkModel()
    set_options(wn, inpfile_units=flow_units, headloss="H-W", duration_s=0)
    return wntr.network.to_dict(wn)


def build_network(
    layers: str | Path,
    mapping: Mapping,
    *,
    snap_m: float | None = None,
    mapping_dir: Path | None = None,
    reference_year: int | None = None,
    drop_duplicates: bool | None = None,
) -> ImportResult:
    """Build a WNTR model from a utility's GIS layers.

    Parameters
    ----------
    layers : str or Path
        A GeoPackage, a folder of Shapefiles/GeoJSON files, or one pipe file.
    mapping : Mapping
        Which field holds what (:func:`nrwkit.gis.mapping.load_mapping`, or
        :func:`~nrwkit.gis.mapping.default_mapping` for ``nrwkit gis export`` files).
    snap_m : float, optional
        Snapping tolerance in metres, 0 to :data:`MAX_SNAP_M` (default: the mapping's
        ``snap_m``, 0.5 m). Without a CRS it is in coordinate units.
    mapping_dir : Path, optional
        Folder where relative ``source`` files and the DEM are looked for first.
    reference_year : int, optional
        Year used to age pipes for the roughness table (default: the mapping's, or this year).
    drop_duplicates : bool, optional
        Drop pipes duplicating another (same nodes, diameter and length); default the
        mapping's ``drop_duplicates``.

    Returns
    -------
    ImportResult
        The model, the findings (each with a location), the CRS, and whether EPANET
        refuses the model (:attr:`ImportResult.refused`; the model is solved once to know).

    Raises
    ------
    InputError
        For a snapping tolerance out of range.
    LayerError
        For layers or a mapping that cannot be used (the message names the file, the layer,
        the feature and the fix).
    """
    layers = Path(layers)
    if snap_m is not None and not (math.isfinite(snap_m) and 0 <= snap_m <= MAX_SNAP_M):
        msg = (f"snap_m={snap_m}: the snapping tolerance is a distance in metres between 0 and "
               f"{MAX_SNAP_M:g}; give one such as 0.5 (a negative tolerance would silently snap nothing)")
        raise InputError(msg)
    src = read_layers(layers, mapping, mapping_dir=mapping_dir)
    snap = mapping.snap_m if snap_m is None else float(snap_m)
    tolerance = snap / src.metres_per_unit if src.metres_per_unit else snap
    stored = read_model_table(layers) if layers.suffix.lower() == ".gpkg" else None
    year = reference_year or mapping.reference_year or datetime.date.today().year
    dup = mapping.drop_duplicates if drop_duplicates is None else drop_duplicates
    if mapping.elevation and mapping.elevation.dem and mapping_dir is not None:
        dem = Path(mapping.elevation.dem)
        if not dem.is_absolute() and (mapping_dir / dem).exists():
            mapping = mapping.model_copy(update={"elevation": mapping.elevation.model_copy(
                update={"dem": str(mapping_dir / dem)})})
    result = _Builder(src, mapping, tolerance, stored, year, dup).run()
    if result.wn.num_pipes == 0:
        raise LayerError(layers, "no pipe is left after snapping (every pipe's ends fell on one "
                         "node)", "use a snapping tolerance (snap_m) smaller than the pipes")
    return result
