"""Checks on the baseline EPANET steady state at peak demand."""

from __future__ import annotations

from collections.abc import Iterator

from ...errors import SimulationError
from ...findings import Finding, Severity
from ...hydraulics import SteadyState
from ...units import SECONDS_PER_HOUR
from .base import Check, CheckContext, register


@register
class SimulationFailedCheck(Check):
    """EPANET could not solve the network at all."""

    code = "simulation-failed"
    severity = Severity.ERROR
    title = "baseline simulation failed"
    needs_simulation = True

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        if isinstance(ctx.simulation, SimulationError):
            yield self.finding(
                [], f"the baseline steady-state simulation failed: {ctx.simulation}. Fix the "
                "errors above first; if none are listed, open the model in EPANET to see its "
                "report.", element_type="network",
            )


@register
class ConvergenceCheck(Check):
    """EPANET reported the system hydraulically unbalanced, or another solver warning."""

    code = "no-convergence"
    severity = Severity.ERROR
    title = "baseline simulation did not converge"
    needs_simulation = True

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        sim = ctx.solved()
        if sim is None:
            return
        for warning in sim.warnings:
            if warning.code == "epanet-unbalanced":
                yield self.finding(
                    [], f"EPANET: {warning.message}. Results are not a hydraulic solution. "
                    "Look for pumps and valves that switch back and forth, very short or very "
                    "rough pipes, and disconnected zones.", element_type="network",
                )
            elif warning.code == "epanet-disconnected" and ctx.unsupplied_nodes:
                continue  # already reported by no-source
            elif warning.code in ("epanet-unstable", "epanet-disconnected", "epanet-pump-cannot-deliver",
                                  "epanet-valve-cannot-deliver"):
                yield self.finding(
                    [], f"EPANET: {warning.message}. Review the pumps, valves and controls "
                    "involved.", element_type="network", severity=Severity.WARNING,
                )


def _peak_note(sim: SteadyState) -> str:
    return (f"at peak demand (model time {sim.time_s / SECONDS_PER_HOUR:.2f} h; tank levels, pump and valve "
            "statuses as at the start of the simulation)")


@register
class NegativePressureCheck(Check):
    """Junctions with negative pressure in the baseline simulation."""

    code = "negative-pressure"
    severity = Severity.ERROR
    title = "negative pressures"
    needs_simulation = True

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        sim = ctx.solved()
        if sim is None:
            return
        pressure = sim.pressure_m.reindex(ctx.wn.junction_name_list).drop(
            labels=list(ctx.unsupplied_nodes), errors="ignore")
        neg = pressure[pressure < -0.01].sort_values()
        if len(neg):
            names = list(neg.index)
            yield self.finding(
                names,
                f"{len(names)} junction(s) have negative pressure {_peak_note(sim)}; lowest "
                f"{names[0]} at {neg.iloc[0]:.1f} m. The network cannot deliver the demand "
                "there: check elevations, demands, diameters, closed valves and source levels.",
            )


@register
class LowPressureCheck(Check):
    """Junctions with demand whose pressure is below the minimum service pressure."""

    code = "low-pressure"
    severity = Severity.WARNING
    title = "pressure below the service standard"
    needs_simulation = True

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        sim = ctx.solved()
        if sim is None:
            return
        wn = ctx.wn
        with_demand = [
            n for n, j in wn.junctions()
            if any(float(d.base_value) > 0 for d in j.demand_timeseries_list)
            and n not in ctx.unsupplied_nodes
        ]
        pressure = sim.pressure_m.reindex(with_demand)
        low = pressure[(pressure >= -0.01) & (pressure < ctx.min_pressure_m)].sort_values()
        if len(low):
            names = list(low.index)
            yield self.finding(
                names,
                f"{len(names)} junction(s) with customers are below {ctx.min_pressure_m:g} m "
                f"{_peak_note(sim)}; lowest {names[0]} at {low.iloc[0]:.1f} m. Check the "
                "model's elevations and demands; if the model is right, customers there get "
                "poor service.",
            )
