"""Geometry checks: lengths against coordinates, missing and coincident coordinates."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from ...errors import CRSError
from .base import Check, CheckContext, Finding, Severity, list_ids, register


def _metric_distance(ctx: CheckContext, pipes: pd.DataFrame) -> tuple[pd.Series, str]:
    """Distance along each pipe's drawn line, in metres when the scale is known."""
    wn = ctx.wn
    lines = [
        [wn.get_node(s).coordinates, *wn.get_link(n).vertices, wn.get_node(e).coordinates]
        for n, s, e in zip(pipes.index, pipes["start"], pipes["end"], strict=True)
    ]
    if ctx.crs:
        import pyproj

        try:
            crs = pyproj.CRS.from_user_input(ctx.crs)
        except pyproj.exceptions.CRSError as exc:
            msg = f"unknown CRS {ctx.crs!r}: give an EPSG code such as EPSG:32633 ({exc})"
            raise CRSError(msg) from exc
        if crs.is_geographic:
            geod = crs.get_geod()
            if geod is not None:
                geodesic = [geod.line_length([p[0] for p in ln], [p[1] for p in ln]) for ln in lines]
                return pd.Series(geodesic, index=pipes.index), f"geodesic metres in {ctx.crs}"
        factor = crs.axis_info[0].unit_conversion_factor
        scale_note = f"{ctx.crs} ({crs.axis_info[0].unit_name})"
    else:
        factor, scale_note = 1.0, ""
    dist = np.array([
        sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(ln))
        for ln in lines
    ])
    return pd.Series(dist * factor, index=pipes.index), scale_note


@register
class LengthMismatchCheck(Check):
    """Pipe lengths inconsistent with the distance between their drawn ends.

    Without a CRS the coordinate scale is inferred: when at least 60 % of pipes have a
    length/distance ratio within 10 % of the median ratio, the coordinates are taken as
    drawn to scale with that ratio (1 for metres, 0.3048 for feet). Otherwise they are
    schematic (as in EPANET's examples) and the check reports that it was skipped.
    """

    code = "length-mismatch"
    severity = Severity.WARNING
    title = "pipe length inconsistent with coordinates"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        pipes = ctx.pipes
        missing = set(ctx.missing_coordinates)
        pipes = pipes[~pipes["start"].isin(missing) & ~pipes["end"].isin(missing)
                      & (pipes["length_m"] > 0)]
        if len(pipes) < 3:
            return
        dist, note = _metric_distance(ctx, pipes)
        ok = dist > 0
        ratio = pipes["length_m"][ok] / dist[ok]
        if ctx.crs:
            scale = 1.0
        else:
            scale = float(ratio.median())
            to_scale = (np.abs(ratio / scale - 1) <= 0.10).mean() >= 0.6
            if not to_scale:
                yield self.finding(
                    [],
                    "pipe lengths are not proportional to the distances between their drawn "
                    "ends: the coordinates look schematic, so lengths were not checked against "
                    "them. Give real coordinates (and --crs) to enable this check.",
                    element_type="network",
                    severity=Severity.INFO,
                )
                return
            note = "model units" if abs(scale - 1) < 0.02 else f"1 unit = {scale:.4g} m, inferred"
        drawn = dist * scale
        for name in pipes.index:
            length, d = float(pipes.at[name, "length_m"]), float(drawn[name])
            diff = length - d
            if (d > 0 and diff < -max(0.05 * d, 1.0)) or diff > max(ctx.length_tolerance * d, 10.0):
                what = "shorter" if diff < 0 else "longer"
                yield self.finding(
                    [name],
                    f"pipe {name} is {length:.1f} m long but its drawn line measures {d:.1f} m "
                    f"({note}); it is {abs(diff):.1f} m {what}. Correct the length from the "
                    "asset record or the coordinates/vertices of its ends.",
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
        if missing:
            yield self.finding(
                missing,
                f"{len(missing)} node(s) have no coordinates ({list_ids(missing)}): they cannot be "
                "mapped, exported to GIS or used in DMA design. Add them to [COORDINATES].",
            )


@register
class CoincidentNodesCheck(Check):
    """Different nodes drawn at exactly the same point."""

    code = "coincident-nodes"
    severity = Severity.WARNING
    title = "nodes at the same location"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        xy = ctx.coordinates.drop(index=ctx.missing_coordinates).round(6)
        for _, group in xy.groupby(["x", "y"], sort=True):
            if len(group) > 1:
                names = sorted(group.index)
                yield self.finding(
                    names,
                    f"nodes {list_ids(names)} are drawn at the same point: a duplicate node, or "
                    "coordinates copied by mistake. Merge the duplicates or correct the position.",
                )
