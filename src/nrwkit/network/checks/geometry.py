"""Geometry checks: lengths against coordinates, missing and coincident coordinates."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from ...crs import parse_crs
from ...findings import Finding, Severity, list_ids
from .base import Check, CheckContext, register


def _geodesic_lengths(ctx: CheckContext, names: pd.Index) -> pd.Series:
    """Length (m) of each pipe's drawn line for longitude/latitude coordinates."""
    geod = parse_crs(str(ctx.crs)).get_geod()
    xy = ctx.coordinates
    lengths = []
    for name in names:
        pipe = ctx.wn.get_link(name)
        line = [tuple(xy.loc[pipe.start_node_name]), *pipe.vertices, tuple(xy.loc[pipe.end_node_name])]
        lengths.append(geod.line_length([p[0] for p in line], [p[1] for p in line]))
    return pd.Series(lengths, index=names, dtype=float)


@register
class LengthMismatchCheck(Check):
    """Pipe lengths inconsistent with the distance along their drawn line.

    The drawn line is measured in metres through the CRS, or through the coordinate scale
    inferred from the pipes (:attr:`CheckContext.scale`). Schematic coordinates (as in
    EPANET's examples) cannot be checked: the check then says so once, as info.
    """

    code = "length-mismatch"
    severity = Severity.WARNING
    title = "pipe length inconsistent with coordinates"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        drawn = ctx.drawn_lengths
        if len(drawn) < 3:
            return
        scale = ctx.scale
        if scale.geographic:
            drawn_m = _geodesic_lengths(ctx, drawn.index)
        elif scale.metres_per_unit is None:
            if not scale.schematic:
                return  # too few measurable pipes to say anything
            yield self.finding(
                [],
                "pipe lengths are not proportional to the distances between their drawn "
                "ends: the coordinates look schematic, so lengths were not checked against "
                "them. Give real coordinates (and their CRS) to enable this check.",
                element_type="network",
                severity=Severity.INFO,
            )
            return
        else:
            drawn_m = drawn * scale.metres_per_unit
        length = ctx.pipes["length_m"].reindex(drawn_m.index)
        for name in drawn_m.index:
            pipe_length, d = float(length[name]), float(drawn_m[name])
            if pipe_length <= 0:
                continue  # reported by zero-length-pipe
            diff = pipe_length - d
            too_short = d > 0 and diff < -max(0.05 * d, 1.0)
            too_long = diff > max(ctx.length_tolerance * d, 10.0)
            if too_short or too_long:
                what = "shorter" if diff < 0 else "longer"
                yield self.finding(
                    [name],
                    f"pipe {name} is {pipe_length:.1f} m long but its drawn line measures "
                    f"{d:.1f} m ({scale.note}); it is {abs(diff):.1f} m {what}. Correct the "
                    "length from the asset record or the coordinates/vertices of its ends.",
                    element_type="link",
                )


@register
class MissingCoordinatesCheck(Check):
    """Nodes without coordinates."""

    code = "missing-coordinates"
    severity = Severity.WARNING
    title = "nodes without coordinates"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        missing = ctx.missing_coordinates
        if missing and not ctx.no_coordinates:  # none at all: no-coordinates says so once
            yield self.finding(
                missing,
                f"{len(missing)} node(s) have no coordinates ({list_ids(missing)}): they cannot be "
                "mapped, exported to GIS or used in DMA design. Add them to [COORDINATES].",
            )


@register
class NoCoordinatesCheck(Check):
    """A network in which no node has coordinates (all at 0, 0 or absent from [COORDINATES])."""

    code = "no-coordinates"
    severity = Severity.WARNING
    title = "no coordinates at all"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        if ctx.no_coordinates:
            yield self.finding(
                [],
                f"none of the {len(ctx.coordinates)} nodes has coordinates (every node is at 0, 0 or "
                "absent from [COORDINATES]): the network cannot be mapped, exported to GIS, checked "
                "against its pipe lengths, or divided into DMAs with polygons",
                element_type="network",
                fix="add the node positions: export the model from the GIS or the modelling software "
                "with its [COORDINATES], or build it from the GIS layers (nrwkit.gis.build_network)",
            )


@register
class CoincidentNodesCheck(Check):
    """Different nodes drawn at exactly the same point.

    Two nodes joined by a pump or valve are not reported: many models draw such devices as
    a point (suction and discharge nodes together).
    """

    code = "coincident-nodes"
    severity = Severity.WARNING
    title = "nodes at the same location"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        xy = ctx.coordinates.drop(index=ctx.missing_coordinates).round(6)
        devices = ctx.links[ctx.links["kind"].isin(["Pump", "Valve"])]
        device_pairs = {frozenset(p) for p in zip(devices["start"], devices["end"], strict=True)}
        for _, group in xy.groupby(["x", "y"], sort=True):
            if len(group) > 1:
                names = sorted(group.index)
                if len(names) == 2 and frozenset(names) in device_pairs:
                    continue  # a pump or valve drawn as a point: normal modelling practice
                x, y = group.iloc[0]
                yield self.finding(
                    names,
                    f"{len(names)} nodes ({list_ids(names, limit=10)}) are drawn at the same point "
                    f"({x:g}, {y:g}): a duplicate node, or coordinates copied by mistake",
                    fix="merge the duplicates, or correct the positions",
                )
