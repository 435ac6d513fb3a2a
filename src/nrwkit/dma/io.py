"""Write a DMA design for QGIS, EPANET and scripts, and read one back.

- GeoPackage: ``dmas`` (polygons with the per-DMA figures), ``boundary`` (a point at the
  middle of each boundary pipe: meter or valve, for the field crew), ``junctions`` and
  ``pipes`` (tagged with their DMA or ``transmission``).
- ``.inp``: the network with the new boundary valves closed and ``[TAGS]`` carrying
  ``dma=ID`` on every junction (kept next to other tags such as ``connections=N``) and
  ``meter``/``boundary-valve`` on the boundary pipes.
- JSON: the structure documented in ``docs/mentors.md``.
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import wntr

from ..errors import InputError, LayerError
from ..findings import Finding, Severity
from ..gis.export import reproducible_gpkg
from ..network.io import read_inp, write_inp
from ..network.layout import link_coordinates, link_midpoint
from ..outputs import atomic_output
from ..units import MM_PER_M
from .design import from_assignment
from .evaluate import DmaEvaluation
from .model import DmaDesign
from .polygons import dma_polygons, has_coordinates

__all__ = ["SETTINGS_TABLE", "design_json", "design_layers", "dma_tags", "read_design", "read_settings",
           "tag_network", "write_design_geopackage", "write_design_inp"]

_TAG_KEY = "dma="
#: Aspatial table of a design GeoPackage holding the settings it was made with.
SETTINGS_TABLE = "nrwkit_dma_settings"


def _finite(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    return value


def design_json(design: DmaDesign, evaluation: DmaEvaluation) -> dict[str, Any]:
    """Return the design and its check as JSON-ready data (keys in ``docs/mentors.md``)."""
    table = evaluation.dmas
    dmas = []
    for dma in design.dma_ids:
        row = table.loc[dma]
        dmas.append({
            "id": dma,
            "junctions": design.junctions(dma),
            "connections": int(row.connections),
            "size": _finite(row["size"]),
            "demand_m3_per_day": _finite(row.demand_m3_per_day),
            "length_km": _finite(row.length_km),
            "inlets": list(row.inlets),
            "outlets": list(row.outlets),
            "boundary_valves": list(row.boundary_valves),
            "min_pressure_m": _finite(row.min_pressure_m),
            "min_pressure_before_m": _finite(row.min_pressure_before_m),
            "aznp_m": _finite(row.aznp_m),
            "aznp_before_m": _finite(row.aznp_before_m),
            "critical_node": row.critical_node,
            "elevation_range_m": _finite(row.elevation_range_m),
            "fire_residual_m": _finite(row.get("fire_residual_m", float("nan"))),
            "problems": row.problems,
            "status": row.status,
            "verdict": design.verdicts.get(dma, row.status),
        })
    metrics = {k: _finite(v) for k, v in evaluation.metrics.items() if k != "baseline_cut"}
    on_mains = design.on_transmission
    return {
        "dmas": dmas,
        "transmission": {
            "junctions": sorted(on_mains.index),
            "junction_reasons": {k: str(v) for k, v in on_mains.sort_index().items()},
            "pipes": sorted(p for p in design.transmission_links.index),
            "reasons": {str(k): str(v) for k, v in design.transmission_links.sort_index().items()},
            "junction_share": _finite(len(on_mains) / max(len(design.size), 1)),
        },
        "internal_links": {str(k): str(v) for k, v in design.internal_links.sort_index().items()},
        "unassigned": [{"junction": str(k), "reason": str(v)}
                       for k, v in design.unassigned.sort_index().items()],
        "passes": bool(evaluation.metrics["passes"]),
        "verified": bool(evaluation.metrics.get("verified", True)),
        "baseline_cut": evaluation.metrics.get("baseline_cut"),
        "stages": [stage.to_dict() for stage in design.stages],
        "metrics": metrics,
        "schedule": [{k: _finite(v) for k, v in r.items()} for r in evaluation.schedule.to_dict("records")],
        "dead_ends": [{k: _finite(v) for k, v in r.items()} for r in evaluation.dead_ends.to_dict("records")],
        "settings": {k: _finite(v) for k, v in design.settings.items()},
        "changes": list(design.changes),
        "warnings": [finding.to_dict() for finding in design.warnings],
    }


def design_layers(wn: wntr.network.WaterNetworkModel, design: DmaDesign, evaluation: DmaEvaluation,
                  *, crs: str | None = None) -> dict[str, gpd.GeoDataFrame]:
    """GeoDataFrames of the design: ``dmas``, ``boundary``, ``junctions``, ``pipes``."""
    label = design.assignment.to_dict()
    reason = design.transmission_junctions.to_dict()
    junctions = gpd.GeoDataFrame(
        {"name": list(wn.junction_name_list),
         "dma": [label.get(j, "transmission") for j in wn.junction_name_list],
         "reason": [reason.get(j, "") for j in wn.junction_name_list]},
        geometry=[shapely.Point(wn.get_node(j).coordinates) for j in wn.junction_name_list], crs=crs)
    role = design.boundary.role.to_dict()
    links = design.transmission_links.to_dict()
    pipe_rows = []
    for name, pipe in wn.pipes():
        a = label.get(pipe.start_node_name)
        b = label.get(pipe.end_node_name)
        where = a if a is not None and a == b else ("boundary" if name in role else "transmission")
        pipe_rows.append({"name": name, "dma": where, "role": role.get(name, ""),
                          "reason": links.get(name, ""), "diameter_mm": pipe.diameter * MM_PER_M,
                          "geometry": shapely.LineString(link_coordinates(pipe))})
    pipes = gpd.GeoDataFrame(pipe_rows, geometry="geometry", crs=crs)
    schedule = evaluation.schedule
    points = [shapely.Point(link_midpoint(wn.get_link(p))) for p in schedule["pipe"]] if len(schedule) else []
    feeds = design.boundary.feeds.reindex(schedule["pipe"]).fillna("").to_numpy() if len(schedule) else []
    roles = [role[p] for p in schedule["pipe"]] if len(schedule) else []
    boundary = gpd.GeoDataFrame(schedule.assign(role=roles, feeds=feeds), geometry=points, crs=crs)
    polygons = dma_polygons(wn, design, crs=crs)
    table = evaluation.dmas.drop(columns=["inlets", "outlets", "boundary_valves"], errors="ignore")
    table = table.assign(inlets=[", ".join(v) for v in evaluation.dmas["inlets"]],
                         outlets=[", ".join(v) for v in evaluation.dmas["outlets"]],
                         boundary_valves=[", ".join(v) for v in evaluation.dmas["boundary_valves"]])
    dmas = polygons.merge(table, left_on="dma", right_index=True, how="left")
    return {"dmas": gpd.GeoDataFrame(dmas, geometry="geometry", crs=crs), "boundary": boundary,
            "junctions": junctions, "pipes": pipes}


def write_design_geopackage(wn: wntr.network.WaterNetworkModel, design: DmaDesign,
                            evaluation: DmaEvaluation, path: str | Path, *, crs: str | None = None,
                            overwrite: bool = False) -> tuple[Path, list[Finding]]:
    """Write the design's layers to one GeoPackage, atomically.

    Returns
    -------
    (Path, list of Finding)
        The file, and notes about it (info ``dma-no-coordinates``: a network without
        coordinates gets no polygons).
    """
    notes = []
    layers = design_layers(wn, design, evaluation, crs=crs)
    if not has_coordinates(wn):
        notes.append(Finding(Severity.INFO, "dma-no-coordinates", (),
                             "the network has no coordinates: the GeoPackage has no DMA polygons and its "
                             "points all lie at the origin", "network"))
    kinds = {"dmas": "MultiPolygon", "boundary": "Point", "junctions": "Point", "pipes": "LineString"}
    with atomic_output(path, overwrite=overwrite) as tmp, warnings.catch_warnings(), reproducible_gpkg():
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        for layer, frame in layers.items():
            if layer == "dmas" and frame.empty:
                continue
            pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG", geometry_type=kinds[layer],
                                    promote_to_multi=layer == "dmas")
        settings = pd.DataFrame({"key": list(design.settings), "value": [json.dumps(v) for v in
                                                                          design.settings.values()]})
        pyogrio.write_dataframe(settings, tmp, layer=SETTINGS_TABLE, driver="GPKG")
    return Path(path), notes


def tag_network(wn: wntr.network.WaterNetworkModel, design: DmaDesign) -> wntr.network.WaterNetworkModel:
    """Return a copy of the network with the design applied: new valves closed, tags set."""
    out = copy.deepcopy(wn)
    label = design.assignment.to_dict()
    for name, junction in out.junctions():
        parts = [p for p in str(junction.tag or "").split("|") if p and not p.startswith(_TAG_KEY)]
        parts.append(_TAG_KEY + label.get(name, "transmission"))
        junction.tag = "|".join(parts)
    for name in design.transmission_links.index:
        if name in out.link_name_list and not out.get_link(name).tag:
            out.get_link(name).tag = "transmission"
    for pipe, row in design.boundary.iterrows():
        link = out.get_link(pipe)
        if row.role == "meter":
            link.tag = f"meter={row.feeds}"
        else:
            link.tag = "boundary-valve"
            link.initial_status = wntr.network.LinkStatus.Closed
    return out


def write_design_inp(wn: wntr.network.WaterNetworkModel, design: DmaDesign, path: str | Path, *,
                     overwrite: bool = False) -> Path:
    """Write the network with the design applied (see :func:`tag_network`), atomically."""
    return write_inp(tag_network(wn, design), path, overwrite=overwrite)


def read_settings(path: str | Path) -> dict[str, Any]:
    """Return the settings a design GeoPackage was made with ({} for other files).

    Raises
    ------
    LayerError
        If a ``.gpkg`` cannot be read as a GeoPackage, or its settings table is damaged.
    """
    path = Path(path)
    if path.suffix.lower() != ".gpkg" or not path.is_file():
        return {}
    if SETTINGS_TABLE not in _layer_names(path):
        return {}
    try:
        table = pyogrio.read_dataframe(path, layer=SETTINGS_TABLE)
        return {str(k): json.loads(v) for k, v in zip(table["key"], table["value"], strict=True)}
    except (KeyError, ValueError, TypeError) as exc:
        raise LayerError(path, f"the settings table is damaged ({exc})",
                         "write the design again with nrwkit dma design (or delete the table to use the "
                         "options given)", layer=SETTINGS_TABLE) from exc


def _layer_names(path: Path) -> set[str]:
    """Return the layers of a GeoPackage; a file that is not one is a LayerError."""
    try:
        return {str(name) for name, _ in pyogrio.list_layers(path)}
    except Exception as exc:
        raise LayerError(path, f"not a design GeoPackage ({exc})",
                         "give the .gpkg or the tagged .inp written by nrwkit dma design") from exc


def read_design(wn: wntr.network.WaterNetworkModel, path: str | Path, **check: Any) -> Any:
    """Re-check a saved design: a GeoPackage from ``nrwkit dma design`` or a tagged ``.inp``.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network as it is (boundary pipes open).
    path : str or Path
        The design.
    **check
        Passed to :func:`nrwkit.dma.from_assignment`.

    Returns
    -------
    DesignResult

    Raises
    ------
    InputError
        If the file is missing, a folder, not a readable .inp or GeoPackage, or lacks the
        design's tags, layers or fields; the message names the file and the fix.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such design file\n  fix: check the path of the design (.gpkg or .inp)")
    if path.is_dir():
        raise InputError(f"{path}: is a folder\n  fix: give the design's .gpkg or tagged .inp file")
    if path.suffix.lower() == ".inp":
        return _read_tagged_inp(wn, path, check)
    return _read_design_geopackage(wn, path, check)


def dma_tags(wn: wntr.network.WaterNetworkModel) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Read the DMA a tagged network (:func:`tag_network`) gives each junction, and its meters.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        A network read from an ``.inp`` written by a DMA design (``dma=ID`` in ``[TAGS]``).

    Returns
    -------
    (dict, dict, list)
        Junction -> DMA id; meter link -> the DMA it feeds (``meter=ID``); the junctions
        tagged ``dma=transmission`` (in no DMA).
    """
    labels: dict[str, str] = {}
    transmission: list[str] = []
    for name, junction in wn.junctions():
        for part in str(junction.tag or "").split("|"):
            if part.startswith(_TAG_KEY) and part[len(_TAG_KEY):] != "transmission":
                labels[name] = part[len(_TAG_KEY):]
            elif part == _TAG_KEY + "transmission":
                transmission.append(name)
    meters = {name: str(link.tag)[len("meter="):] for name, link in wn.links()
              if str(link.tag or "").startswith("meter=")}
    return labels, meters, transmission


def _read_tagged_inp(wn: wntr.network.WaterNetworkModel, path: Path, check: dict[str, Any]) -> Any:
    """Re-check the design carried by the ``[TAGS]`` of an ``.inp`` (see :func:`tag_network`)."""
    tagged = read_inp(path)
    labels, _, transmission = dma_tags(tagged)
    outside = dict.fromkeys(transmission, "left out of every DMA by the design (tag dma=transmission)")
    check.setdefault("left_out", outside)
    if not labels:
        msg = (f"{path}: no junction carries a dma= tag in [TAGS]\n  fix: give the .inp written by "
               "nrwkit dma design (or its .gpkg)")
        raise InputError(msg)
    listed = [name for name, link in tagged.links() if str(link.tag or "") == "transmission"]
    check["transmission"] = tuple(check.get("transmission", ())) + tuple(listed)
    rows = {}
    for name, link in tagged.links():
        tag = str(link.tag or "")
        if tag.startswith("meter="):
            rows[name] = ("meter", tag[len("meter="):])
        elif tag == "boundary-valve":
            rows[name] = ("valve", "")
    roles = pd.DataFrame.from_dict(rows, orient="index", columns=["role", "feeds"])
    return from_assignment(wn, pd.Series(labels, dtype=object), roles=roles, **check)


def _read_layer(path: Path, layer: str, need: set[str]) -> pd.DataFrame:
    """Read one attribute table of a design GeoPackage, checking it has the fields ``need``."""
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    except Exception as exc:
        raise LayerError(path, f"not a design GeoPackage ({exc})",
                         "give the .gpkg of nrwkit dma design (layers junctions and boundary)") from exc
    if not need <= set(frame.columns):
        missing = ", ".join(sorted(need - set(frame.columns)))
        raise LayerError(path, f"the layer lacks the fields {missing}",
                         "keep the fields nrwkit dma design wrote", layer=layer)
    return frame


def _read_design_geopackage(wn: wntr.network.WaterNetworkModel, path: Path, check: dict[str, Any]) -> Any:
    """Re-check the design held by the layers of a GeoPackage (see :func:`design_layers`)."""
    names = _layer_names(path)
    junctions = _read_layer(path, "junctions", {"name", "dma"})
    boundary = _read_layer(path, "boundary", {"pipe", "role"})
    # the design's own transmission links (a design without them: the options given decide)
    if "pipes" in names:
        pipes = pyogrio.read_dataframe(path, layer="pipes", read_geometry=False)
        if {"name", "dma", "reason"} <= set(pipes.columns):
            on_main = (pipes.dma.astype(str) == "transmission") & pipes.reason.fillna("").astype(bool)
            listed = pipes.name[on_main]
            check["transmission"] = tuple(check.get("transmission", ())) + tuple(listed.astype(str))
    inside = junctions[junctions.dma.astype(str) != "transmission"]
    assignment = pd.Series(inside.dma.astype(str).to_numpy(), index=inside.name.astype(str).to_numpy())
    if "reason" in junctions:  # junctions the design left out, with the reason it gave
        out = junctions[(junctions.dma.astype(str) == "transmission") & junctions.reason.notna()]
        check.setdefault("left_out", dict(zip(out.name.astype(str), out.reason.astype(str), strict=True)))
    roles = boundary.set_index(boundary["pipe"].astype(str))[["role"]].assign(
        feeds=boundary["feeds"].fillna("").astype(str).to_numpy() if "feeds" in boundary else "")
    return from_assignment(wn, assignment, roles=roles, **check)
