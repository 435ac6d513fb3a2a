"""GIS layers of a network, written to one GeoPackage that opens in QGIS.

Layers come from WNTR's own :meth:`wntr.network.WaterNetworkModel.to_gis` (pipe vertices
kept); nrwkit renames the attributes so that units are in the field names (SI, as inside
the model: ``diameter_m``, ``length_m``, ``elevation_m``, ``base_demand_m3s``), adds a
``findings`` point layer so a GIS team sees each validation finding where it is, optional
steady-state results, and an aspatial ``nrwkit_model`` table holding the rest of the model
(options, patterns, curves, controls, extra demand categories) as WNTR's own JSON
(:func:`wntr.network.to_dict`), so that ``nrwkit gis import`` rebuilds the same network
from the layers after the GIS team has edited them.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
import wntr
from shapely.geometry import LineString, Point

from ..crs import parse_crs
from ..errors import InputError
from ..findings import Finding
from ..hydraulics import SteadyState
from ..network.layout import link_coordinates
from ..outputs import atomic_output, creation_time, reproducible
from ..units import METRES_PER_KM

__all__ = [
    "LAYER_GEOMETRY",
    "MODEL_TABLE",
    "findings_layer",
    "network_layers",
    "read_model_table",
    "reproducible_gpkg",
    "write_findings",
    "write_geopackage",
]

#: Name of the aspatial table with the model's non-layer data.
MODEL_TABLE = "nrwkit_model"

#: Layer name -> geometry type, in the order they are written.
LAYER_GEOMETRY = {
    "junctions": "Point", "tanks": "Point", "reservoirs": "Point",
    "pipes": "LineString", "pumps": "LineString", "valves": "LineString",
}

_RENAME = {
    "elevation": "elevation_m", "base_demand": "base_demand_m3s", "base_head": "base_head_m",
    "diameter": "diameter_m", "length": "length_m", "init_level": "init_level_m",
    "max_level": "max_level_m", "min_level": "min_level_m", "min_vol": "min_vol_m3",
    "power": "power_w", "initial_setting": "initial_setting_si",
    "start_node_name": "start_node", "end_node_name": "end_node",
}


@contextlib.contextmanager
def reproducible_gpkg() -> Iterator[None]:
    """Stamp GeoPackages written in this block with ``SOURCE_DATE_EPOCH``, when it is set.

    GDAL's GeoPackage driver writes the time of writing as ``last_change`` in
    ``gpkg_contents``; it takes it from the ``OGR_CURRENT_DATE`` configuration option when
    that is set. Within the block the option is set from :func:`nrwkit.outputs.creation_time`
    (only when ``SOURCE_DATE_EPOCH`` is set: otherwise GDAL stamps the real time), and the
    previous value is restored afterwards. With it, the same layers written twice give the
    same bytes.
    """
    if not reproducible():
        yield
        return
    stamp = creation_time().astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})


def _check_crs(crs: str | None) -> str | None:
    if crs is not None:
        parse_crs(crs)
    return crs


def network_layers(
    wn: wntr.network.WaterNetworkModel,
    *,
    crs: str | None = None,
    results: SteadyState | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Return the network as GeoDataFrames, one per element type.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    crs : str, optional
        CRS of the model's coordinates (an ``.inp`` file has none); assigned, not
        reprojected.
    results : SteadyState, optional
        A solved state whose values are added: ``pressure_m`` and ``head_m`` on nodes,
        ``flow_m3s`` and ``velocity_ms`` on links, ``unit_headloss_m_per_km`` on pipes and
        ``head_change_m`` (head at the end node minus head at the start node: the head a pump
        adds, minus the loss across a valve) on pumps and valves.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        Keys as in :data:`LAYER_GEOMETRY`; each frame has a ``name`` column with the
        element id, SI attributes with units in their names, and the element geometry
        (links with their vertices).
    """
    crs = _check_crs(crs)
    gis = wn.to_gis(crs=crs)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for layer in LAYER_GEOMETRY:
        frame = getattr(gis, layer)
        if "geometry" not in frame.columns or len(frame) == 0:
            frame = gpd.GeoDataFrame({"name": pd.Series(dtype=str)}, geometry=[], crs=crs)
        else:
            frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)
            frame = frame.rename(columns=_RENAME).rename_axis("name").reset_index()
            for column in frame.columns:
                if column != "geometry" and frame[column].dtype == object:
                    frame[column] = frame[column].map(lambda v: None if v is None else str(v))
            if results is not None:
                frame = _with_results(frame, layer, results)
        layers[layer] = frame
    return layers


def _with_results(frame: gpd.GeoDataFrame, layer: str, results: SteadyState) -> gpd.GeoDataFrame:
    names = frame["name"]
    if LAYER_GEOMETRY[layer] == "Point":
        return frame.assign(
            pressure_m=names.map(results.pressure_m).to_numpy(dtype=float),
            head_m=names.map(results.head_m).to_numpy(dtype=float),
        )
    frame = frame.assign(
        flow_m3s=names.map(results.flowrate_m3s).to_numpy(dtype=float),
        velocity_ms=names.map(results.velocity_ms).to_numpy(dtype=float),
    )
    headloss = names.map(results.headloss).to_numpy(dtype=float)
    if layer == "pipes":
        return frame.assign(unit_headloss_m_per_km=headloss * METRES_PER_KM)
    return frame.assign(head_change_m=-headloss)  # head at the end minus head at the start


def findings_layer(
    wn: wntr.network.WaterNetworkModel, findings: Iterable[Finding], *, crs: str | None = None
) -> gpd.GeoDataFrame:
    """Return one point per (finding, element): nodes at their position, links at their middle.

    Elements no longer in the network (a pipe dropped on import) are placed at the finding's
    ``location``; network-wide findings at their location or the mean position of the nodes.
    """
    rows = []
    xy = [n.coordinates for _, n in wn.nodes()]
    centre = Point(sum(p[0] for p in xy) / max(len(xy), 1), sum(p[1] for p in xy) / max(len(xy), 1))
    link_lines = None
    nodes, links = set(wn.node_name_list), set(wn.link_name_list)
    for finding in findings:
        for element in finding.elements or ("",):
            if element and finding.element_type == "link" and element in links:
                if link_lines is None:
                    link_lines = {name: link_coordinates(link) for name, link in wn.links()}
                geom = LineString(link_lines[element]).interpolate(0.5, normalized=True)
            elif element and finding.element_type == "node" and element in nodes:
                geom = Point(wn.get_node(element).coordinates)
            elif finding.location is not None:
                geom = Point(finding.location)
            elif not element or finding.element_type == "network":
                geom = centre
            else:
                msg = (f"finding {finding.code!r} names {element!r}, which is not in the network: "
                       "run the checks again on the network being exported")
                raise InputError(msg)
            rows.append({
                "severity": finding.severity.value, "code": finding.code, "element": element,
                "element_type": finding.element_type, "message": finding.message, "fix": finding.fix,
                "geometry": geom,
            })
    columns = ["severity", "code", "element", "element_type", "message", "fix", "geometry"]
    frame = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=_check_crs(crs))


def write_geopackage(
    wn: wntr.network.WaterNetworkModel,
    path: str | Path,
    *,
    crs: str | None = None,
    findings: Iterable[Finding] | None = None,
    results: SteadyState | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the network (and optionally its findings and results) to one GeoPackage.

    The file is written to a temporary name and renamed when complete. The same inputs
    give the same layers, in the same order; with ``SOURCE_DATE_EPOCH`` set, the same bytes
    (:func:`reproducible_gpkg`).

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    path : str or Path
        Destination ``.gpkg``.
    crs : str, optional
        CRS to assign to the layers (an ``.inp`` file has none; without it the layers have
        no CRS and QGIS asks for one).
    findings : iterable of Finding, optional
        Validation findings, written as a ``findings`` point layer.
    results : SteadyState, optional
        Steady-state results added as attributes (see :func:`network_layers`).
    overwrite : bool, default False
        Replace an existing file.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile, pyogrio
    >>> from nrwkit.networks import load
    >>> out = write_geopackage(load("net1"), tempfile.mkdtemp() + "/net1.gpkg", crs="EPSG:3857")
    >>> [name for name, _ in pyogrio.list_layers(out)][:3]
    ['junctions', 'tanks', 'reservoirs']
    """
    layers = network_layers(wn, crs=crs, results=results)
    if findings is not None:
        layers["findings"] = findings_layer(wn, findings, crs=crs)
    model = pd.DataFrame({"key": ["wntr_dict"], "json": [json.dumps(wntr.network.to_dict(wn))]})
    with atomic_output(path, overwrite=overwrite) as tmp, warnings.catch_warnings(), reproducible_gpkg():
        # without a CRS pyogrio warns on every layer; the caller has been told once already
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        for layer, frame in layers.items():
            geom_type = LAYER_GEOMETRY.get(layer, "Point")
            pyogrio.write_dataframe(
                frame, tmp, layer=layer, driver="GPKG", geometry_type=geom_type,
                promote_to_multi=False,
            )
        pyogrio.write_dataframe(model, tmp, layer=MODEL_TABLE, driver="GPKG")
    return Path(path)


def write_findings(
    wn: wntr.network.WaterNetworkModel,
    findings: Iterable[Finding],
    path: str | Path,
    *,
    crs: str | pyproj.CRS | None = None,
    overwrite: bool = False,
) -> Path:
    """Write findings as a point layer ``findings`` in a GeoPackage, atomically.

    Stamped with ``SOURCE_DATE_EPOCH`` when it is set (:func:`reproducible_gpkg`).
    """
    layer = findings_layer(wn, findings, crs=None)
    if crs is not None:
        layer = layer.set_crs(crs)
    with atomic_output(path, overwrite=overwrite) as tmp, warnings.catch_warnings(), reproducible_gpkg():
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        pyogrio.write_dataframe(layer, tmp, layer="findings", driver="GPKG", geometry_type="Point")
    return Path(path)


def read_model_table(path: str | Path) -> dict | None:
    """Return the WNTR model dict stored by :func:`write_geopackage`, or None if absent."""
    names = [name for name, _ in pyogrio.list_layers(path)]
    if MODEL_TABLE not in names:
        return None
    table = pyogrio.read_dataframe(path, layer=MODEL_TABLE)
    row = table[table["key"] == "wntr_dict"]
    return json.loads(row["json"].iloc[0]) if len(row) else None
