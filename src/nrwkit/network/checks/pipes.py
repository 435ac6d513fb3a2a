"""Pipe checks: zero and near-zero length, duplicate and parallel pipes."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ...findings import Finding, Severity, list_ids
from .base import Check, CheckContext, register


@register
class ZeroLengthPipeCheck(Check):
    """Pipes of zero or negative length."""

    code = "zero-length-pipe"
    severity = Severity.ERROR
    title = "zero-length pipes"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        pipes = ctx.pipes
        bad = list(pipes.index[pipes["length_m"] <= 0])
        if bad:
            yield self.finding(
                bad,
                f"{len(bad)} pipe(s) have zero or negative length ({list_ids(bad)}). Set the "
                "length from the GIS geometry, or merge the two end nodes and delete the pipe.",
                element_type="link",
            )


@register
class ShortPipeCheck(Check):
    """Pipes shorter than ``short_pipe_m`` (near-zero length)."""

    code = "short-pipe"
    severity = Severity.WARNING
    title = "near-zero length pipes"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        pipes = ctx.pipes
        short = pipes[(pipes["length_m"] > 0) & (pipes["length_m"] < ctx.short_pipe_m)]
        if len(short):
            names = list(short.index)
            yield self.finding(
                names,
                f"{len(names)} pipe(s) are shorter than {ctx.short_pipe_m:g} m ({list_ids(names)}); "
                "such stubs are usually snapping artefacts and slow the solver. Merge their end "
                "nodes, or correct the length.",
                element_type="link",
            )


@register
class ParallelPipesCheck(Check):
    """Two or more pipes joining the same pair of nodes."""

    code = "parallel-pipes"
    severity = Severity.WARNING
    title = "duplicate or parallel pipes"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        pipes = ctx.pipes
        if pipes.empty:
            return
        pair = [tuple(sorted(t)) for t in zip(pipes["start"], pipes["end"], strict=True)]
        pipes = pipes.assign(pair=pair)
        shared = pipes[pipes.duplicated("pair", keep=False)]
        for (a, b), group in shared.groupby("pair", sort=True):
            names = sorted(group.index)
            same = (np.ptp(group["diameter_m"]) < 1e-3
                    and np.ptp(group["length_m"]) <= 0.01 * group["length_m"].max())
            if same:
                yield self.finding(
                    names,
                    f"pipes {list_ids(names)} join {a} and {b} with the same diameter and length: "
                    "probably the same main digitised twice. Delete the copy (a real twin main "
                    "should be confirmed in the asset register).",
                    element_type="link",
                )
            else:
                yield self.finding(
                    names,
                    f"pipes {list_ids(names)} both join {a} and {b} (different diameter or length): "
                    "confirm the parallel mains exist; if they do, this is fine.",
                    element_type="link",
                    severity=Severity.INFO,
                )
