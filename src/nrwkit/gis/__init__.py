"""GIS: GeoPackage export, building a model from a utility's layers, customer allocation."""

from . import build as build
from . import customers as customers
from . import export as export
from . import layers as layers
from . import mapping as mapping
from . import materials as materials
from .build import ImportResult, build_network
from .customers import Allocation, allocate_customers, connections
from .export import (
    LAYER_GEOMETRY,
    MODEL_TABLE,
    findings_layer,
    network_layers,
    read_model_table,
    reproducible_gpkg,
    write_findings,
    write_geopackage,
)
from .mapping import Mapping, default_mapping, load_mapping

__all__ = [
    "LAYER_GEOMETRY",
    "Allocation",
    "allocate_customers",
    "connections",
    "customers",
    "MODEL_TABLE",
    "ImportResult",
    "Mapping",
    "build",
    "build_network",
    "default_mapping",
    "export",
    "findings_layer",
    "layers",
    "load_mapping",
    "mapping",
    "materials",
    "network_layers",
    "read_model_table",
    "reproducible_gpkg",
    "write_findings",
    "write_geopackage",
]
