"""``inspect``: a network's summary and its validation findings, together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import wntr

from ..findings import Finding, Severity
from ..hydraulics import SteadyState
from .checks import CheckContext, run_context
from .summary import NetworkSummary, summarize

__all__ = ["Inspection", "inspect_network"]


@dataclass(frozen=True)
class Inspection:
    """The result of inspecting a network.

    Attributes
    ----------
    summary : NetworkSummary
        What the network is.
    findings : list of Finding
        What is wrong with it, errors first.
    options : dict
        The options the checks ran with (for the record).
    state : SteadyState or None
        The baseline steady state the simulation checks used (None without simulation, or
        when it failed).
    """

    summary: NetworkSummary
    findings: list[Finding]
    options: dict[str, Any]
    state: SteadyState | None = None

    def count(self, severity: Severity | str) -> int:
        """Return the number of findings of a severity."""
        return sum(1 for f in self.findings if f.severity == Severity(severity))

    def to_dict(self) -> dict[str, Any]:
        """``{"network": {...summary...}, "findings": [...], "options": {...}}``."""
        return {
            "network": self.summary.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "options": dict(self.options),
        }


def inspect_network(
    wn: wntr.network.WaterNetworkModel,
    *,
    crs: str | None = None,
    min_pressure_m: float = 10.0,
    simulate: bool = True,
    snap_tolerance_m: float = 0.5,
    name: str | None = None,
) -> Inspection:
    """Summarise and validate a network.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not modified).
    crs : str, optional
        CRS of the coordinates, if known.
    min_pressure_m : float, default 10
        Minimum service pressure at junctions with demand (the ``low-pressure`` check).
    simulate : bool, default True
        Run the baseline steady-state simulation checks.
    snap_tolerance_m : float, default 0.5
        A dead end this close (m) to a node it is not linked to is reported (dangling-node).
    name : str, optional
        Name to report; default the model's file name.

    Returns
    -------
    Inspection
        Summary and findings.

    Examples
    --------
    >>> from nrwkit.networks import load
    >>> result = inspect_network(load("l-town"))
    >>> result.summary.counts["junctions"], result.count("error")
    (782, 0)
    """
    summary = summarize(wn, crs=crs, name=name)
    ctx = CheckContext(wn, min_pressure_m=min_pressure_m, simulate=simulate, crs=crs,
                       snap_tolerance_m=snap_tolerance_m)
    findings = run_context(ctx)
    options = {"crs": crs, "min_pressure_m": min_pressure_m, "simulate": simulate,
               "snap_tolerance_m": snap_tolerance_m}
    return Inspection(summary, findings, options, ctx.solved() if simulate else None)
