"""Validation of a network model: a registry of small checks.

Each check is one class with a stable ``code``, a default ``severity`` and a ``run`` method
that returns :class:`Finding` objects naming the offending elements and saying what to do.
:func:`run_checks` runs them all on a shared :class:`CheckContext`, which computes the
link tables, coordinates and the steady-state simulation once. A new check is one new class
decorated with :func:`register` in one of the modules below (or in the caller's code);
``nrwkit inspect`` and the GIS importer pick it up.

Modules: :mod:`.base` (findings, context, registry, running), :mod:`.topology`,
:mod:`.pipes`, :mod:`.geometry`, :mod:`.attributes`, :mod:`.simulation`. Registration order,
and so the order of :data:`CHECKS`, follows this import order.
"""

from . import topology as topology  # noqa: I001  (import order = registration order)
from . import pipes as pipes
from . import geometry as geometry
from . import attributes as attributes
from . import simulation as simulation
from .attributes import DIAMETER_RANGE_M, ROUGHNESS_RANGE
from .base import (
    CHECKS,
    Check,
    CheckContext,
    count,
    register,
    run_checks,
    run_context,
)

__all__ = [
    "CHECKS",
    "DIAMETER_RANGE_M",
    "ROUGHNESS_RANGE",
    "Check",
    "CheckContext",
    "attributes",
    "count",
    "geometry",
    "pipes",
    "register",
    "run_checks",
    "run_context",
    "simulation",
    "topology",
]
