"""Attribute checks: demands, diameters, roughness, valve settings."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import ClassVar

from ...findings import Finding, Severity, list_ids
from ...units import MM_PER_M
from .base import Check, CheckContext, register


@register
class NegativeDemandCheck(Check):
    """Junctions with a negative base demand (an inflow)."""

    code = "negative-demand"
    severity = Severity.WARNING
    title = "negative demands"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        found = sorted(
            name for name, j in ctx.wn.junctions()
            if any(float(d.base_value) < 0 for d in j.demand_timeseries_list)
        )
        if found:
            yield self.finding(
                found,
                f"{len(found)} junction(s) have a negative demand, i.e. water entering there "
                f"({list_ids(found)}). If it is a source, model it as a reservoir or tank with a "
                "pattern; if it is a sign error, correct the demand.",
            )


#: Plausible pipe diameters (m): 20 mm service pipe to 3.5 m trunk main.
DIAMETER_RANGE_M = (0.02, 3.5)
#: Plausible roughness by headloss formula (H-W C; D-W epsilon in m as WNTR stores it; Manning n).
ROUGHNESS_RANGE = {"H-W": (40.0, 160.0), "D-W": (1e-6, 0.01), "C-M": (0.008, 0.035)}


@register
class DiameterCheck(Check):
    """Pipe diameters outside what is built (usually a unit mistake)."""

    code = "implausible-diameter"
    severity = Severity.WARNING
    title = "implausible diameters"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        pipes = ctx.pipes
        lo, hi = DIAMETER_RANGE_M
        small = sorted(pipes.index[pipes["diameter_m"] < lo])
        large = sorted(pipes.index[pipes["diameter_m"] > hi])
        si = str(ctx.wn.options.hydraulic.inpfile_units) in {"LPS", "LPM", "MLD", "CMH", "CMD"}
        unit = "mm" if si else "inches"
        if small:
            yield self.finding(
                small,
                f"{len(small)} pipe(s) are narrower than {lo * MM_PER_M:g} mm ({list_ids(small)}). "
                f"Diameters in this file are in {unit}: check for a unit mix-up "
                f"({'inches entered as mm' if si else 'feet or metres entered as inches'}).",
                element_type="link",
            )
        if large:
            yield self.finding(
                large,
                f"{len(large)} pipe(s) are wider than {hi:g} m ({list_ids(large)}). Diameters in "
                f"this file are in {unit}: check for a unit mix-up "
                f"({'a typing error such as an extra digit' if si else 'mm entered as inches'}).",
                element_type="link",
            )


@register
class RoughnessCheck(Check):
    """Roughness values outside the plausible range for the file's headloss formula."""

    code = "implausible-roughness"
    severity = Severity.WARNING
    title = "implausible roughness"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        formula = str(ctx.wn.options.hydraulic.headloss)
        lo, hi = ROUGHNESS_RANGE.get(formula, (0.0, math.inf))
        pipes = ctx.pipes
        bad = pipes[(pipes["roughness"] < lo) | (pipes["roughness"] > hi)]
        if bad.empty:
            return
        names = sorted(bad.index)
        if formula == "D-W":
            shown = f"{lo * MM_PER_M:g}-{hi * MM_PER_M:g} mm"
        else:
            shown = f"{lo:g}-{hi:g}"
        what = {"H-W": "Hazen-Williams C", "D-W": "Darcy-Weisbach roughness",
                "C-M": "Manning n"}.get(formula, formula)
        yield self.finding(
            names,
            f"{len(names)} pipe(s) have a {what} outside {shown} ({list_ids(names)}; range found "
            f"{bad['roughness'].min():g} to {bad['roughness'].max():g} in SI). Check that the "
            f"roughness matches the headloss formula {formula} and the pipe material and age.",
            element_type="link",
        )


@register
class ValveSettingCheck(Check):
    """Control valves without a meaningful setting."""

    code = "valve-without-setting"
    severity = Severity.WARNING
    title = "valves without settings"

    NEEDS_SETTING: ClassVar[dict[str, str]] = {
        "PRV": "a downstream pressure", "PSV": "an upstream pressure",
        "PBV": "a pressure drop", "FCV": "a flow",
    }

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        for name, valve in ctx.wn.valves():
            vtype = str(valve.valve_type)
            setting = valve.initial_setting
            if vtype in self.NEEDS_SETTING and (setting is None or float(setting) <= 0):
                yield self.finding(
                    [name],
                    f"{vtype} {name} has no setting (0): it needs {self.NEEDS_SETTING[vtype]}. "
                    "Enter the setting from the valve's field record.",
                    element_type="link",
                )
            elif vtype == "TCV" and (setting is None or float(setting) <= 0):
                yield self.finding(
                    [name],
                    f"TCV {name} has a loss coefficient of 0, so it does nothing. Enter its "
                    "throttled loss coefficient, or replace it with a pipe.",
                    element_type="link",
                    severity=Severity.INFO,
                )
            elif vtype == "GPV" and getattr(valve, "headloss_curve_name", None) is None:
                yield self.finding(
                    [name], f"GPV {name} has no headloss curve. Assign one in [CURVES].",
                    element_type="link",
                )


@register
class NoDemandCheck(Check):
    """A network in which no junction draws any water (e.g. built from GIS layers without customers)."""

    code = "no-demand"
    severity = Severity.WARNING
    title = "no demand anywhere"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        junctions = ctx.wn.junction_name_list
        if not junctions or ctx.junctions_with_demand:
            return
        yield self.finding(
            [],
            f"none of the {len(junctions)} junctions has a demand (every base demand is 0, or its "
            "pattern is 0 throughout): the model carries no water to customers, so its pressures are "
            "static heads and flows, DMA sizes, water balances and leak analyses describe an empty "
            "network",
            element_type="network",
            fix="give the junctions their demands: allocate the customers' billed consumption "
            "(nrwkit.gis.allocate_customers), or fill the base demands in the model",
        )
