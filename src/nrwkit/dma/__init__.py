"""District metered areas: design, user-drawn DMAs, checks, metrics and outputs.

>>> from nrwkit.networks import load
>>> from nrwkit import dma
>>> wn = load("net3")
>>> design, evaluation = dma.design(wn, water_age=False)   # size measure, band and trunk from the network
>>> design.settings["size_by"], [s.name for s in design.stages][:3]
('nodes', ['graph and supply', 'transmission', 'partition'])
>>> len(design.assignment) + len(design.transmission_junctions) == len(wn.junction_name_list)
True
"""

from .baseline import BaselineCut, baseline_cut
from .design import DEFAULT_CONNECTION_BAND, DesignResult, default_band, design, from_assignment
from .evaluate import DmaEvaluation, evaluate
from .io import (
    design_json,
    design_layers,
    dma_tags,
    read_design,
    read_settings,
    tag_network,
    write_design_geopackage,
    write_design_inp,
)
from .metrics import TodiniComponents, modularity, size_cv, todini_components, todini_index
from .model import ROLES, DmaDesign, as_findings
from .network import SIZE_UNITS, DistributionNetwork, distribution_network, junction_sizes
from .polygons import assignment_from_polygons, dma_polygons
from .repair import DMA_STRATEGIES, RepairOutcome, run_repairs
from .stages import STAGE_NAMES, Stage
from .transmission import Trunk, trunk_mains

__all__ = [
    "DEFAULT_CONNECTION_BAND",
    "DMA_STRATEGIES",
    "STAGE_NAMES",
    "BaselineCut",
    "RepairOutcome",
    "Stage",
    "TodiniComponents",
    "Trunk",
    "baseline_cut",
    "default_band",
    "run_repairs",
    "todini_components",
    "trunk_mains",
    "ROLES",
    "SIZE_UNITS",
    "DesignResult",
    "DistributionNetwork",
    "DmaDesign",
    "DmaEvaluation",
    "as_findings",
    "assignment_from_polygons",
    "design",
    "design_json",
    "design_layers",
    "dma_tags",
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
