"""The mapping file: which field of a utility's GIS layer holds what, and in which unit.

A mapping is a YAML file validated with pydantic. Every layer names its ``source`` (a layer
of a GeoPackage, or a file beside the mapping) and maps nrwkit's attribute names to the
utility's field names, with units where they matter::

    crs: EPSG:32633                # only if the layers carry none
    pipes:
      source: water_mains          # required: a line layer
      fields:
        id: ASSET_ID
        diameter: {field: DIAM, unit: mm}
        material: MATERIAL
        install_year: YEAR_LAID
        status: STATUS
      values:
        status: {closed: [CLOSED, SHUT]}
    junctions:
      source: nodes
      fields: {id: NODE_ID, elevation: {field: Z, unit: m}}
    valves:
      source: valves               # points on pipes become valves
      fields: {id: VALVE_ID, type: KIND, setting: {field: SET_M, unit: m}}
    elevation:
      dem: terrain.tif             # used where a node has no elevation
    materials:                     # override the default roughness table
      AC: {c_new: 140}

:func:`default_mapping` reads the layers that ``nrwkit gis export`` writes, so an exported
GeoPackage, edited in QGIS, imports back without a mapping file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..crs import parse_crs
from ..errors import LayerError
from ..inputs import load_yaml_model
from ..units import (
    CM_PER_M,
    FLOW_TO_M3S,
    LENGTH_TO_M,
    M3_PER_US_GALLON,
    M_HEAD_PER_BAR,
    M_HEAD_PER_KPA,
    M_HEAD_PER_PSI,
    METRES_PER_INCH,
    MM_PER_M,
    VOLUME_TO_M3,
    WATTS_PER_HP,
    WATTS_PER_KW,
)

__all__ = [
    "ALLOWED_FIELDS",
    "UNIT_FACTORS",
    "ElevationSpec",
    "FieldSpec",
    "LayerSpec",
    "Mapping",
    "MaterialSpec",
    "default_mapping",
    "load_mapping",
]

#: Attribute names each layer kind accepts in ``fields``, and their default units.
ALLOWED_FIELDS: dict[str, dict[str, str | None]] = {
    "pipes": {"id": None, "diameter": "mm", "material": None, "install_year": None,
              "roughness": None, "status": None, "length": "m", "minor_loss": None,
              "check_valve": None, "start_node": None, "end_node": None},
    "junctions": {"id": None, "elevation": "m", "demand": "m3/s", "pattern": None},
    "tanks": {"id": None, "elevation": "m", "init_level": "m", "min_level": "m",
              "max_level": "m", "diameter": "m", "min_vol": "m3"},
    "reservoirs": {"id": None, "head": "m", "pattern": None},
    "valves": {"id": None, "type": None, "diameter": "mm", "setting": None, "status": None,
               "minor_loss": None, "start_node": None, "end_node": None},
    "pumps": {"id": None, "type": None, "curve": None, "power": "kW", "speed": None,
              "pattern": None, "status": None, "start_node": None, "end_node": None},
    "hydrants": {"id": None},
    "survey": {"elevation": "m"},
}

#: Factor to SI (m, m3, m3/s, W) for each unit a field may be given in.
UNIT_FACTORS: dict[str, float] = {
    **LENGTH_TO_M, "mm": 1.0 / MM_PER_M, "cm": 1.0 / CM_PER_M, "in": METRES_PER_INCH,
    "m3": 1.0, "l": VOLUME_TO_M3["l"], "gal": M3_PER_US_GALLON,
    **{unit: FLOW_TO_M3S[unit] for unit in ("m3/s", "l/s", "m3/h", "m3/day", "gpm")},
    "W": 1.0, "kW": WATTS_PER_KW, "hp": WATTS_PER_HP,
    "psi": M_HEAD_PER_PSI, "kPa": M_HEAD_PER_KPA, "bar": M_HEAD_PER_BAR,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """A source field and the unit its values are in."""

    field: str
    unit: str | None = None

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, unit: str | None) -> str | None:
        if unit is not None and unit not in UNIT_FACTORS:
            msg = f"unknown unit {unit!r}; use one of {', '.join(UNIT_FACTORS)}"
            raise ValueError(msg)
        return unit


class LayerSpec(_Strict):
    """One source layer: where it is, which fields hold what, and value translations.

    ``source`` may list several layers (e.g. distribution and transmission mains); they are
    read with the same fields and joined, each reprojected to the first one's CRS.
    """

    source: str | list[str] = Field(min_length=1)
    fields: dict[str, str | FieldSpec] = Field(default_factory=dict)
    values: dict[str, dict[str, list[str]]] = Field(default_factory=dict)

    def sources(self) -> list[str]:
        """Return the source layer(s) as a list."""
        return [self.source] if isinstance(self.source, str) else list(self.source)

    def field(self, name: str) -> FieldSpec | None:
        """Return the source field of attribute ``name`` (None when not mapped)."""
        spec = self.fields.get(name)
        if spec is None:
            return None
        return FieldSpec(field=spec) if isinstance(spec, str) else spec


class ElevationSpec(_Strict):
    """Where node elevations come from when the node layer has none."""

    dem: str | None = None
    band: int = 1
    survey: LayerSpec | None = None


class MaterialSpec(_Strict):
    """Hazen-Williams C of a material: new, lost per year of age, and the floor."""

    c_new: float
    c_loss_per_year: float = 0.0
    c_min: float | None = None


class Mapping(_Strict):
    """A whole mapping file. Only ``pipes`` is required."""

    crs: str | None = None
    snap_m: float = Field(0.5, gt=0, le=100)
    reference_year: int | None = None
    flow_units: Literal["LPS", "LPM", "MLD", "CMH", "CMD", "CFS", "GPM", "MGD", "IMGD", "AFD"] = "LPS"
    default_roughness: float = Field(130.0, gt=0)
    default_diameter_m: float = Field(0.1, gt=0)
    drop_duplicates: bool = True
    split_mains_at_nodes: bool = True
    pipes: LayerSpec
    junctions: LayerSpec | None = None
    tanks: LayerSpec | None = None
    reservoirs: LayerSpec | None = None
    valves: LayerSpec | None = None
    pumps: LayerSpec | None = None
    hydrants: LayerSpec | None = None
    elevation: ElevationSpec | None = None
    materials: dict[str, MaterialSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_fields(self) -> Mapping:
        for kind in ALLOWED_FIELDS:
            spec = getattr(self, kind, None) if kind != "survey" else (
                self.elevation.survey if self.elevation else None)
            if spec is None:
                continue
            unknown = sorted(set(spec.fields) - set(ALLOWED_FIELDS[kind]))
            if unknown:
                msg = (f"{kind}.fields: unknown key(s) {', '.join(unknown)}; allowed: "
                       f"{', '.join(ALLOWED_FIELDS[kind])}")
                raise ValueError(msg)
        return self

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, crs: str | None) -> str | None:
        if crs is not None:
            parse_crs(crs)  # a CRSError is a ValueError: pydantic reports it under 'crs'
        return crs

    def layers(self) -> dict[str, LayerSpec]:
        """Return the layers that are mapped, by kind."""
        kinds = ("pipes", "junctions", "tanks", "reservoirs", "valves", "pumps", "hydrants")
        found = {kind: getattr(self, kind) for kind in kinds if getattr(self, kind) is not None}
        if self.elevation and self.elevation.survey:
            found["survey"] = self.elevation.survey
        return found


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file.

    Parameters
    ----------
    path : str or Path
        A YAML file.

    Returns
    -------
    Mapping
        The validated mapping.

    Raises
    ------
    LayerError
        If the file is missing, not YAML, or does not follow the schema; the message names
        the bad key.
    """
    return load_yaml_model(path, Mapping, error=LayerError, what="mapping file",
                           reference="docs/gis-teams.md")


def default_mapping(*, crs: str | None = None, snap_m: float = 0.5) -> Mapping:
    """Return the mapping of the layers written by ``nrwkit gis export``.

    Lengths come from ``length_m`` (so schematic coordinates round-trip), and pipe ends
    are matched to the node ids in ``start_node``/``end_node`` where several nodes lie
    within the snapping tolerance.
    """
    si = {"unit": "m"}
    return Mapping.model_validate({
        "crs": crs,
        "snap_m": snap_m,
        "drop_duplicates": False,  # the exported model is authoritative: twin mains stay,
        "split_mains_at_nodes": False,  # and dead ends stay dead ends
        "pipes": {"source": "pipes", "fields": {
            "id": "name", "diameter": {"field": "diameter_m", **si}, "roughness": "roughness",
            "length": {"field": "length_m", **si}, "minor_loss": "minor_loss",
            "status": "initial_status", "check_valve": "check_valve",
            "start_node": "start_node", "end_node": "end_node"}},
        "junctions": {"source": "junctions", "fields": {
            "id": "name", "elevation": {"field": "elevation_m", **si},
            "demand": {"field": "base_demand_m3s", "unit": "m3/s"}, "pattern": "demand_pattern"}},
        "tanks": {"source": "tanks", "fields": {
            "id": "name", "elevation": {"field": "elevation_m", **si},
            "init_level": {"field": "init_level_m", **si}, "min_level": {"field": "min_level_m", **si},
            "max_level": {"field": "max_level_m", **si}, "diameter": {"field": "diameter_m", **si},
            "min_vol": {"field": "min_vol_m3", "unit": "m3"}}},
        "reservoirs": {"source": "reservoirs", "fields": {
            "id": "name", "head": {"field": "base_head_m", **si}, "pattern": "head_pattern_name"}},
        "valves": {"source": "valves", "fields": {
            "id": "name", "type": "valve_type", "diameter": {"field": "diameter_m", **si},
            "setting": "initial_setting_si", "status": "initial_status", "minor_loss": "minor_loss",
            "start_node": "start_node", "end_node": "end_node"}},
        "pumps": {"source": "pumps", "fields": {
            "id": "name", "type": "pump_type", "curve": "pump_curve_name",
            "power": {"field": "power_w", "unit": "W"}, "speed": "base_speed",
            "pattern": "speed_pattern_name", "status": "initial_status",
            "start_node": "start_node", "end_node": "end_node"}},
    })
