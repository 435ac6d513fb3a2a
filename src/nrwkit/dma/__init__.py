"""District metered areas: design, user-drawn DMAs, checks, metrics and outputs.

>>> from nrwkit.networks import load
>>> from nrwkit import dma
>>> wn = load("net3")   # mostly large mains: keep only pumps, valves and tank links out
>>> design, evaluation = dma.design(wn, size=(10, 40), size_by="nodes", exclude_diameter_above=None,
...                                 water_age=False)
>>> len(design.assignment) + len(design.transmission_junctions) == len(wn.junction_name_list)
True
"""

from .design import DEFAULT_CONNECTION_BAND, DesignResult, design, from_assignment
from .evaluate import DmaEvaluation, evaluate
from .io import (
    design_json,
    design_layers,
    read_design,
    read_settings,
    tag_network,
    write_design_geopackage,
    write_design_inp,
)
from .metrics import modularity, size_cv, todini_index
from .model import ROLES, DmaDesign
from .network import SIZE_UNITS, DistributionNetwork, distribution_network, junction_sizes
from .polygons import assignment_from_polygons, dma_polygons

__all__ = [
    "DEFAULT_CONNECTION_BAND",
    "ROLES",
    "SIZE_UNITS",
    "DesignResult",
    "DistributionNetwork",
    "DmaDesign",
    "DmaEvaluation",
    "assignment_from_polygons",
    "design",
    "design_json",
    "design_layers",
    "dma_polygons",
    "from_assignment",
    "read_design",
    "read_settings",
    "tag_network",
    "write_design_geopackage",
    "write_design_inp",
    "distribution_network",
    "evaluate",
    "junction_sizes",
    "modularity",
    "size_cv",
    "todini_index",
]
