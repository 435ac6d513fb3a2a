"""The shared hydraulics layer.

Every capability that needs a solved network (validation, DMA checks, leaks, pressure
management) goes through this package rather than writing its own EPANET loop:

- :mod:`nrwkit.hydraulics.snapshot`: one steady state through WNTR's
  :class:`wntr.sim.EpanetSimulator` (files written and read back; the simplest, most
  traceable path);
- :mod:`nrwkit.hydraulics.session`: one EPANET project kept open in memory through WNTR's
  :class:`wntr.epanet.toolkit.ENepanet`, for many quick re-solves with statuses or demands
  changed (DMA verification, fire flows, leak scenarios);
- :mod:`nrwkit.hydraulics.options`: the one place run options are changed
  (:func:`set_options`, :func:`changed_options`).

No module outside this package calls an engine (``EpanetSimulator``, ``WNTRSimulator``,
``wntr.epanet.toolkit``) or assigns ``wn.options``; ``make lint`` enforces it.
"""

from .options import changed_options, set_options
from .session import (
    ExtendedPeriod,
    HydraulicSession,
    HydraulicState,
    SessionState,
    StepControl,
    StepReading,
    epanet_version,
)
from .snapshot import (
    EPANET_WARNINGS,
    SteadyState,
    epanet_warning,
    peak_demand_time,
    steady_state,
    system_demand,
)

__all__ = [
    "EPANET_WARNINGS",
    "ExtendedPeriod",
    "HydraulicSession",
    "HydraulicState",
    "SessionState",
    "SteadyState",
    "StepControl",
    "StepReading",
    "changed_options",
    "epanet_version",
    "epanet_warning",
    "peak_demand_time",
    "set_options",
    "steady_state",
    "system_demand",
]
