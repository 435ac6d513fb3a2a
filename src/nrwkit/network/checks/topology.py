"""Topology checks: supply, isolated nodes, dead ends."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pandas as pd

from ...findings import Finding, Severity, list_ids
from .base import Check, CheckContext, register


@register
class NoSourceCheck(Check):
    """Groups of nodes that no tank or reservoir can reach through open links."""

    code = "no-source"
    severity = Severity.ERROR
    title = "components not connected to any source"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        for comp in ctx.unsupplied_components:
            closed = [k for k in ctx.links_touching(set(comp))
                      if k in ctx.permanently_closed_links]
            via = f"; closed links on its edge: {list_ids(closed)}" if closed else ""
            yield self.finding(
                comp,
                f"{len(comp)} node(s) ({list_ids(comp)}) are not connected to any tank or "
                f"reservoir{via}. Connect them (missing pipe, wrong node id, or a valve that "
                "should be open) or remove them from the model.",
            )


@register
class IsolatedNodeCheck(Check):
    """Nodes with no link at all."""

    code = "isolated-node"
    severity = Severity.ERROR
    title = "isolated nodes"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        if ctx.isolated_nodes:
            yield self.finding(
                ctx.isolated_nodes,
                f"{len(ctx.isolated_nodes)} node(s) have no pipe, pump or valve "
                f"({list_ids(ctx.isolated_nodes)}); EPANET refuses such a model (error 233). "
                "Connect each to the network or delete it.",
            )


@register
class DanglingNodeCheck(Check):
    """Dead ends lying within snap tolerance of another node they are not linked to."""

    code = "dangling-node"
    severity = Severity.WARNING
    title = "dead ends that almost touch another node"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        from scipy.spatial import cKDTree

        scale = ctx.scale
        xy = ctx.coordinates.drop(index=ctx.missing_coordinates)
        if len(xy) < 2:
            return
        if scale.geographic:
            # local equirectangular metres: east-west degrees shrink with cos(latitude)
            lat0 = math.radians(float(xy["y"].mean()))
            xy = pd.DataFrame({"x": xy["x"] * math.cos(lat0), "y": xy["y"]}) * 111_320.0
            metres_per_unit = 1.0
        elif scale.metres_per_unit is None:
            return  # schematic coordinates: distances mean nothing (length-mismatch says so)
        else:
            metres_per_unit = scale.metres_per_unit
        radius = ctx.snap_tolerance_m / metres_per_unit
        dead_ends = [n for n in ctx.dead_ends() if n in xy.index]
        if not dead_ends:
            return
        tree = cKDTree(xy.to_numpy())
        names = xy.index.to_numpy()
        for node in dead_ends:
            hits = tree.query_ball_point(xy.loc[node].to_numpy(), r=radius)
            near = [names[i] for i in hits if names[i] != node
                    and names[i] not in ctx.neighbours[node]]
            if near:
                x0, y0 = xy.loc[node]
                dist = min(math.hypot(xy.at[n, "x"] - x0, xy.at[n, "y"] - y0) for n in near)
                yield self.finding(
                    [node, *near],
                    f"dead end {node} lies {dist * metres_per_unit:.2f} m "
                    f"from {list_ids(near)} but "
                    "is not connected to it: probably a pipe that should join there. Connect "
                    "them, or move the node if the gap is real.",
                )


@register
class DeadEndWithoutDemandCheck(Check):
    """Dead-end junctions that serve no demand."""

    code = "dead-end-no-demand"
    severity = Severity.INFO
    title = "dead ends without demand"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        if not ctx.junctions_with_demand:
            return  # no demand anywhere: no-demand says so once
        found = [
            name for name in ctx.dead_ends()
            if all(float(d.base_value) == 0.0
                   for d in ctx.wn.get_node(name).demand_timeseries_list)
        ]
        if found:
            yield self.finding(
                sorted(found),
                f"{len(found)} dead-end junction(s) have no demand ({list_ids(sorted(found))}): "
                "a stub that serves nobody is often a digitising leftover. Check each: remove "
                "it, or give it the demand of the customers it serves.",
            )
