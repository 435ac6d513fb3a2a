"""Reading a utility's GIS layers: sources, fields, geometries, CRS and units.

Every problem that stops an import is a :class:`~nrwkit.errors.LayerError` naming the
file, the layer, the feature and the fix; every repair that lets it go on is a
:class:`~nrwkit.findings.Finding` with a location.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
import shapely

from ..errors import LayerError
from ..findings import Finding, Severity
from .mapping import ALLOWED_FIELDS, UNIT_FACTORS, LayerSpec, Mapping

__all__ = ["LINE_KINDS", "POINT_KINDS", "SourceLayers", "read_layers"]

#: Layer kinds drawn as lines (pumps and valves may be either).
LINE_KINDS = {"pipes"}
#: Layer kinds drawn as points (pumps and valves may be either).
POINT_KINDS = {"junctions", "tanks", "reservoirs", "hydrants", "survey"}


@dataclass
class SourceLayers:
    """The layers of one import, in one projected CRS, with attributes in SI.

    Attributes
    ----------
    frames : dict of str to geopandas.GeoDataFrame
        By kind; columns are nrwkit's attribute names (``id``, ``diameter``...), values in
        SI, plus ``geometry`` and ``feature`` (the source row, for messages).
    crs : pyproj.CRS or None
        The CRS of every frame (None when the layers have none).
    metres_per_unit : float or None
        Metres per coordinate unit (None without a CRS).
    findings : list of Finding
        What was repaired or decided on the way (reprojection, exploded multi-parts,
        repaired geometries).
    """

    frames: dict[str, gpd.GeoDataFrame]
    crs: pyproj.CRS | None
    metres_per_unit: float | None
    findings: list[Finding] = field(default_factory=list)


_VECTOR_SUFFIXES = {".shp", ".geojson", ".json", ".gpkg", ".fgb"}


def _locate(layers_path: Path, source: str, mapping_dir: Path | None) -> tuple[Path, str | None]:
    """Return (file, layer name or None) for a source.

    A source is a layer of the GeoPackage LAYERS, or a file (by name, or by stem with a
    vector suffix) in the mapping's folder or in LAYERS' folder.
    """
    folder = layers_path if layers_path.is_dir() else layers_path.parent
    if not layers_path.is_dir() and source in (layers_path.name, layers_path.stem):
        return layers_path, None
    for base in (mapping_dir, folder):
        if base is None:
            continue
        if (base / source).is_file():
            return base / source, None
        if not (layers_path.suffix.lower() == ".gpkg" and base == folder):
            matches = sorted(p for p in base.iterdir()
                             if p.stem == source and p.suffix.lower() in _VECTOR_SUFFIXES)
            if matches:
                return matches[0], None
    if layers_path.suffix.lower() == ".gpkg":
        return layers_path, source
    raise LayerError(folder, f"no file for layer {source!r}",
                     "put the layer's file in this folder, or name its file (with its suffix) "
                     "in the mapping's 'source'")


def _read(path: Path, layer: str | None, kind: str) -> gpd.GeoDataFrame:
    if not path.exists():
        raise LayerError(path, "file not found", "check the LAYERS path and the mapping's 'source'")
    if layer is not None:
        try:
            names = [name for name, _ in pyogrio.list_layers(path)]
        except pyogrio.errors.DataSourceError as exc:
            raise LayerError(path, f"cannot open as a GeoPackage: {exc}",
                             "check that the file is a GeoPackage (.gpkg)") from exc
        if layer not in names:
            raise LayerError(path, f"has no layer {layer!r} (needed for {kind})",
                             f"name one of its layers in the mapping: {', '.join(names) or 'none'}",
                             layer=layer)
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise LayerError(path, f"cannot be read: {exc}", "open it in QGIS to check it",
                         layer=layer) from exc
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise LayerError(path, "has no geometry", f"give a point or line layer for {kind}",
                         layer=layer)
    return frame


def _read_source(layers_path: Path, spec: LayerSpec, source: str, kind: str, mapping: Mapping,
                 mapping_dir: Path | None, findings: list[Finding]
                 ) -> tuple[gpd.GeoDataFrame | None, dict[str, Any]]:
    """Read one source of a layer kind: fields picked and converted, geometry checked."""
    path, layer = _locate(layers_path, source, mapping_dir)
    where: dict[str, Any] = {"path": path, "layer": layer}
    raw = _read(path, layer, kind)
    if len(raw) == 0:
        return None, where  # no features: nothing to map (an empty pipe layer fails later)
    attrs = _fields(raw, spec, kind, where)
    if raw.geometry.has_z.any():  # heights in the geometry are not used: elevations come from fields
        raw = raw.set_geometry(shapely.force_2d(raw.geometry.to_numpy()))
    raw = _clean_geometry(raw, kind, where, attrs.get("id"), findings)
    frame = gpd.GeoDataFrame(attrs, geometry=raw.geometry.to_numpy(), crs=raw.crs)
    ids = attrs.get("id", pd.Series(None, index=raw.index))
    frame["feature"] = [str(v) if v else f"row {i}" for i, v in zip(raw.index, ids, strict=True)]
    if frame.crs is None and mapping.crs:
        frame = frame.set_crs(mapping.crs)
    return frame, where


def _fields(frame: gpd.GeoDataFrame, spec: LayerSpec, kind: str, where: dict[str, Any]) -> pd.DataFrame:
    """Pick, rename and convert the mapped fields."""
    out = pd.DataFrame(index=frame.index)
    for name in ALLOWED_FIELDS[kind]:
        source = spec.field(name)
        if source is None:
            continue
        if source.field not in frame.columns:
            available = ", ".join(c for c in frame.columns if c != frame.geometry.name)
            raise LayerError(where["path"], f"field {source.field!r} (mapped to {kind}.{name}) "
                             "does not exist", f"map {kind}.{name} to one of: {available}",
                             layer=where["layer"])
        values = frame[source.field]
        unit = source.unit or ALLOWED_FIELDS[kind][name]
        if unit is not None and name not in ("setting",):
            values = pd.to_numeric(values, errors="coerce") * UNIT_FACTORS[unit]
        elif name == "setting" and source.unit is not None:
            values = pd.to_numeric(values, errors="coerce") * UNIT_FACTORS[source.unit]
        out[name] = values
    if "id" in out:
        out["id"] = out["id"].map(lambda v: None if pd.isna(v) else str(v).strip())
    for name, translations in spec.values.items():
        if name in out:
            lookup = {str(v).upper(): key for key, vals in translations.items() for v in vals}
            out[name] = out[name].map(lambda v, lk=lookup: lk.get(str(v).upper(), v))
    return out


def _clean_geometry(frame: gpd.GeoDataFrame, kind: str, where: dict, ids: pd.Series | None,
                    findings: list[Finding]) -> gpd.GeoDataFrame:
    geom = frame.geometry
    def label(i):
        return (ids.loc[i] if ids is not None and ids.loc[i] else f"row {i}")
    null = geom.isna() | geom.is_empty
    if null.any():
        first = null.idxmax()
        raise LayerError(where["path"], f"{int(null.sum())} feature(s) have no geometry",
                         "delete them or draw them (QGIS: 'Check Geometries')",
                         layer=where["layer"], feature=str(label(first)))
    want_lines = kind in LINE_KINDS
    types = set(geom.geom_type)
    lines = {"LineString", "MultiLineString"}
    points = {"Point", "MultiPoint"}
    if want_lines and not types <= lines:
        bad = geom.geom_type[~geom.geom_type.isin(lines)]
        raise LayerError(where["path"], f"{kind} must be lines, found {', '.join(sorted(set(bad)))}",
                         "map the pipe (line) layer here", layer=where["layer"],
                         feature=str(label(bad.index[0])))
    if kind in POINT_KINDS and not types <= points:
        bad = geom.geom_type[~geom.geom_type.isin(points)]
        raise LayerError(where["path"], f"{kind} must be points, found {', '.join(sorted(set(bad)))}",
                         "map a point layer here", layer=where["layer"],
                         feature=str(label(bad.index[0])))
    # a line with all its points in one place is how pumps and valves drawn as a point come
    # out of EPANET; for pipes the builder drops it as zero-length. Neither needs repair.
    point_like = geom.geom_type.eq("LineString") & (shapely.length(geom.to_numpy()) == 0)
    invalid = ~geom.is_valid & ~point_like
    if invalid.any():
        repaired = shapely.make_valid(geom[invalid].to_numpy())
        for i, new in zip(geom.index[invalid], repaired, strict=True):
            findings.append(Finding(
                Severity.WARNING, "geometry-repaired", (str(label(i)),),
                f"{kind} {label(i)}: invalid geometry repaired ({new.geom_type}); check its shape",
                element_type="link" if want_lines else "node"))
        geom = geom.copy()
        geom[invalid] = repaired
        frame = frame.set_geometry(geom)
    return frame


def _anchor(geom: shapely.Geometry) -> tuple[float, float]:
    point = geom.representative_point() if not geom.is_empty else shapely.Point(0, 0)
    return (float(point.x), float(point.y))


def read_layers(layers_path: str | Path, mapping: Mapping, *, mapping_dir: Path | None = None
                ) -> SourceLayers:
    """Read every mapped layer, check it, convert units, bring all into one projected CRS.

    Parameters
    ----------
    layers_path : str or Path
        A GeoPackage (sources are layer names), a folder (sources are file names or stems),
        or a single Shapefile/GeoJSON file (the pipe layer).
    mapping : Mapping
        Which fields hold what.
    mapping_dir : Path, optional
        Folder of the mapping file; relative ``source`` files are looked for there first.

    Returns
    -------
    SourceLayers
        The frames, their CRS and scale, and the findings made on the way.

    Raises
    ------
    LayerError
        For a missing file or layer, an empty pipe layer, a missing mapped field, features
        without geometry, a geometry type that does not fit, or no usable CRS.
    """
    layers_path = Path(layers_path)
    findings: list[Finding] = []
    frames, sources = _read_kinds(layers_path, mapping, mapping_dir, findings)
    if "pipes" not in frames:
        where = sources["pipes"]
        raise LayerError(where["path"], "the pipe layer is empty",
                         "export the mains layer with its features", layer=where["layer"])
    target = _target_crs(frames["pipes"], sources["pipes"], mapping, findings)
    for kind in list(frames):
        frames[kind] = _to_target(frames[kind], kind, target, frames["pipes"].crs, findings)
    metres = None if target is None else float(target.axis_info[0].unit_conversion_factor)
    for kind in list(frames):
        frames[kind] = _explode(frames[kind], kind, findings)
    return SourceLayers(frames, target, metres, findings)


def _read_kinds(layers_path: Path, mapping: Mapping, mapping_dir: Path | None, findings: list[Finding]
                ) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, dict[str, Any]]]:
    """Read each mapped kind's sources into one frame (later sources in the first's CRS)."""
    frames: dict[str, gpd.GeoDataFrame] = {}
    sources: dict[str, dict[str, Any]] = {}
    for kind, spec in mapping.layers().items():
        parts: list[gpd.GeoDataFrame] = []
        for source in spec.sources():
            part, where = _read_source(layers_path, spec, source, kind, mapping, mapping_dir,
                                       findings)
            sources.setdefault(kind, where)
            if part is None:
                continue
            if parts and part.crs is not None and parts[0].crs is not None \
                    and not part.crs.equals(parts[0].crs):
                part_crs = part.crs
                part = part.to_crs(parts[0].crs)
                findings.append(Finding(Severity.INFO, "reprojected", (), f"{kind} source "
                                        f"{source!r} ({part_crs.name}) was reprojected to "
                                        f"{parts[0].crs.name}", element_type="network"))
            parts.append(part)
        if parts:
            frames[kind] = parts[0] if len(parts) == 1 else gpd.GeoDataFrame(
                pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs)
    return frames, sources


def _target_crs(pipes: gpd.GeoDataFrame, where: dict[str, Any], mapping: Mapping,
                findings: list[Finding]) -> pyproj.CRS | None:
    """Return the CRS of the import: the pipes', or their UTM zone when they are in degrees."""
    target = pipes.crs
    if target is None:
        if mapping.pipes.field("length") is None:
            raise LayerError(where["path"], "the pipe layer has no CRS, so lengths "
                             "cannot be measured", "set 'crs:' in the mapping (e.g. EPSG:32633), or "
                             "map a length field", layer=where["layer"])
        findings.append(Finding(Severity.WARNING, "no-crs", (), "the layers have no CRS: lengths "
                                "come from the length field and the snapping tolerance is in "
                                "coordinate units", element_type="network",
                                fix="set 'crs:' in the mapping (e.g. EPSG:32633)"))
    elif target.is_geographic:
        utm = pipes.estimate_utm_crs()
        findings.append(Finding(Severity.INFO, "reprojected", (), f"the pipe layer is in "
                                f"{target.name} (degrees); reprojected to {utm.name} "
                                f"(EPSG:{utm.to_epsg()}) to measure lengths in metres",
                                element_type="network"))
        target = utm
    return target


def _to_target(frame: gpd.GeoDataFrame, kind: str, target: pyproj.CRS | None,
               pipes_crs: pyproj.CRS | None, findings: list[Finding]) -> gpd.GeoDataFrame:
    """Bring one kind's frame into the import's CRS, saying what was assumed or reprojected."""
    if target is None:
        if frame.crs is not None:
            findings.append(Finding(Severity.WARNING, "crs-ignored", (), f"the {kind} layer "
                                    f"is in {frame.crs.name} but the pipes have no CRS: its "
                                    "coordinates are used as they are", element_type="network",
                                    fix="give the pipe layer its CRS (or 'crs:' in the mapping)"))
        return frame
    if frame.crs is None:
        findings.append(Finding(Severity.WARNING, "crs-assumed", (), f"the {kind} layer has "
                                f"no CRS; taken to be the pipes' ({getattr(pipes_crs, 'name', target.name)})",
                                element_type="network",
                                fix="if it is not, assign the layer's CRS in QGIS"))
        frame = frame.set_crs(pipes_crs or target)
    if frame.crs.equals(target) or (kind == "pipes" and not frame.crs.is_geographic):
        return frame
    if kind != "pipes":
        findings.append(Finding(Severity.INFO, "reprojected", (), f"the {kind} layer "
                                f"({frame.crs.name}) was reprojected to the pipes' CRS "
                                f"({target.name})", element_type="network"))
    return frame.to_crs(target)


def _explode(frame: gpd.GeoDataFrame, kind: str, findings: list[Finding]) -> gpd.GeoDataFrame:
    """Multi-part features become one feature per part (ids suffixed -1, -2 ...)."""
    multi = frame.geom_type.isin(["MultiLineString", "MultiPoint"])
    if not multi.any():
        return frame.reset_index(drop=True)
    rows = []
    for i, row in frame.iterrows():
        geom = row.geometry
        if not multi.loc[i]:
            rows.append(row)
            continue
        parts = list(geom.geoms)
        if len(parts) == 1:
            rows.append(_with_geom(row, parts[0]))
            continue
        findings.append(Finding(Severity.INFO, "multipart-split", (str(row["feature"]),),
                                f"{kind} {row['feature']} has {len(parts)} parts: each became its "
                                "own element (ids suffixed -1, -2 ...)",
                                element_type="link" if kind in LINE_KINDS else "node",
                                location=_anchor(geom)))
        for k, part in enumerate(parts, start=1):
            new = _with_geom(row, part)
            if new.get("id"):
                new["id"] = f"{new['id']}-{k}"
            new["feature"] = f"{row['feature']}-{k}"
            rows.append(new)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=frame.crs).reset_index(drop=True)


def _with_geom(row: pd.Series, geom: shapely.Geometry) -> pd.Series:
    new = row.copy()
    new["geometry"] = geom
    return new

