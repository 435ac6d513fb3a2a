"""Validation of a network model: a registry of small checks.

Each check is one class with a stable ``code``, a default ``severity`` and a ``run`` method
that returns :class:`Finding` objects naming the offending elements and saying what to do.
:func:`run_checks` runs them all on a shared :class:`CheckContext`, which computes the
graph, coordinates and the steady-state simulation once. A new check is one new class
decorated with :func:`register`; ``nrwkit inspect`` and the GIS importer pick it up.

Checks avoid echoing one fault through several codes: nodes cut off from every source are
reported once by ``no-source`` and left out of the pressure checks; isolated nodes are
reported by ``isolated-node`` and removed from the model that is simulated.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import wntr

from ..errors import CRSError, SimulationError
from ..hydraulics import SteadyState, steady_state

__all__ = [
    "CHECKS",
    "Check",
    "CheckContext",
    "Finding",
    "Severity",
    "findings_frame",
    "register",
    "run_checks",
]


class Severity(StrEnum):
    """How bad a finding is: errors make results untrustworthy, warnings may, infos inform."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for errors, 1 for warnings, 2 for infos (for sorting)."""
        return ("error", "warning", "info").index(self.value)


@dataclass(frozen=True)
class Finding:
    """One problem found in a network.

    Attributes
    ----------
    severity : Severity
        error, warning or info.
    code : str
        Stable identifier of the check (e.g. ``"no-source"``).
    elements : tuple of str
        Ids of the nodes or links concerned (may be empty for network-wide findings).
    message : str
        What is wrong and what to do about it.
    element_type : str
        ``"node"``, ``"link"`` or ``"network"``.
    """

    severity: Severity
    code: str
    elements: tuple[str, ...]
    message: str
    element_type: str = "node"

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as JSON-ready plain data."""
        return {
            "severity": self.severity.value,
            "code": self.code,
            "elements": list(self.elements),
            "message": self.message,
            "element_type": self.element_type,
        }


@dataclass
class CheckContext:
    """Everything checks share, computed lazily and once.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not modified).
    min_pressure_m : float, default 10
        Minimum service pressure at junctions with demand.
    short_pipe_m : float, default 0.1
        Pipes shorter than this are "near-zero" length.
    snap_tolerance : float, default 0.5
        Distance (coordinate units) within which a dead end is suspected to be meant to
        connect to another node.
    length_tolerance : float, default 0.5
        A pipe more than this fraction longer than the distance along its drawn line is
        reported (shorter by more than 5 % always is).
    crs : str, optional
        CRS of the coordinates; when given, lengths are compared in metres through it.
    simulate : bool, default True
        Run the steady-state simulation checks.
    """

    wn: wntr.network.WaterNetworkModel
    min_pressure_m: float = 10.0
    short_pipe_m: float = 0.1
    snap_tolerance: float = 0.5
    length_tolerance: float = 0.5
    crs: str | None = None
    simulate: bool = True
    _notes: list[str] = field(default_factory=list)

    @cached_property
    def links(self) -> pd.DataFrame:
        """All links (index = link names) with columns ``start``, ``end``, ``kind``."""
        rows = [(name, link.start_node_name, link.end_node_name, link.link_type)
                for name, link in self.wn.links()]
        return pd.DataFrame(rows, columns=["name", "start", "end", "kind"]).set_index("name")

    @cached_property
    def neighbours(self) -> dict[str, set[str]]:
        """Distinct neighbouring nodes of every node, through links of any status."""
        table: dict[str, set[str]] = {name: set() for name in self.wn.node_name_list}
        for start, end in zip(self.links["start"], self.links["end"], strict=True):
            table[start].add(end)
            table[end].add(start)
        return table

    @cached_property
    def sources(self) -> set[str]:
        """Names of tanks and reservoirs."""
        return set(self.wn.tank_name_list) | set(self.wn.reservoir_name_list)

    @cached_property
    def isolated_nodes(self) -> list[str]:
        """Nodes with no link at all."""
        return sorted(n for n, near in self.neighbours.items() if not near)

    def dead_ends(self) -> list[str]:
        """Junctions with exactly one neighbouring node."""
        return [n for n in self.wn.junction_name_list if len(self.neighbours[n]) == 1]

    @cached_property
    def permanently_closed_links(self) -> set[str]:
        """Pipes and valves closed in [STATUS]/[PIPES] that no control ever acts on."""
        controlled: set[str] = set()
        for _, control in self.wn.controls():
            for action in control.actions():
                target = action.target()[0]
                controlled.add(getattr(target, "name", str(target)))
        closed = set()
        for name, link in self.wn.links():
            is_pump = isinstance(link, wntr.network.Pump)
            if not is_pump and link.initial_status == wntr.network.LinkStatus.Closed:
                if name not in controlled:
                    closed.add(name)
        return closed

    @cached_property
    def unsupplied_components(self) -> list[list[str]]:
        """Groups of connected nodes with no tank or reservoir (through open links)."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        names = self.wn.node_name_list
        index = {name: i for i, name in enumerate(names)}
        open_links = self.links.drop(index=list(self.permanently_closed_links))
        rows = open_links["start"].map(index).to_numpy()
        cols = open_links["end"].map(index).to_numpy()
        adjacency = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(names),) * 2)
        _, labels = connected_components(adjacency, directed=False)
        supplied = {labels[index[s]] for s in self.sources}
        isolated = set(self.isolated_nodes)
        groups: dict[int, list[str]] = {}
        for name, label in zip(names, labels, strict=True):
            if label not in supplied and name not in isolated:
                groups.setdefault(int(label), []).append(name)
        return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))

    def links_touching(self, nodes: set[str]) -> list[str]:
        """Links with at least one end in ``nodes``."""
        touching = self.links["start"].isin(nodes) | self.links["end"].isin(nodes)
        return sorted(self.links.index[touching])

    @cached_property
    def unsupplied_nodes(self) -> set[str]:
        """All nodes of :attr:`unsupplied_components`."""
        return {n for comp in self.unsupplied_components for n in comp}

    @cached_property
    def coordinates(self) -> pd.DataFrame:
        """Node coordinates (index = node names; columns x, y)."""
        names = self.wn.node_name_list
        xy = np.array([self.wn.get_node(n).coordinates for n in names], dtype=float)
        return pd.DataFrame(xy.reshape(-1, 2), index=names, columns=["x", "y"])

    @cached_property
    def missing_coordinates(self) -> list[str]:
        """Nodes at exactly (0, 0): WNTR's value for a node absent from [COORDINATES]."""
        xy = self.coordinates
        return list(xy.index[(xy["x"] == 0) & (xy["y"] == 0)])

    @cached_property
    def simulation(self) -> SteadyState | SimulationError:
        """The steady state at peak demand, or the error that prevented it.

        Faults that other checks already report and that would stop EPANET are set aside in
        a copy of the model first, so one fault gives one finding: isolated nodes and
        components without a source are removed, zero-length pipes get 1 cm.
        """
        wn = self.wn
        cut_off = set(self.isolated_nodes) | self.unsupplied_nodes
        zero_length = [name for name, p in wn.pipes() if p.length <= 0]
        if cut_off or zero_length:
            wn = copy.deepcopy(wn)
            for name in zero_length:
                wn.get_link(name).length = 0.01
            for name in self.links_touching(cut_off):
                wn.remove_link(name, with_control=True)
            for name in sorted(cut_off):
                wn.remove_node(name, with_control=True)
        try:
            return steady_state(wn)
        except SimulationError as exc:
            return exc


class Check:
    """Base class of a validation check.

    Subclasses set ``code``, ``severity`` and ``title`` and implement :meth:`run`; set
    ``needs_simulation = True`` if the check reads :attr:`CheckContext.simulation`.
    """

    code: ClassVar[str]
    severity: ClassVar[Severity]
    title: ClassVar[str]
    needs_simulation: ClassVar[bool] = False

    def run(self, ctx: CheckContext) -> Iterable[Finding]:  # pragma: no cover - abstract
        """Return the findings of this check."""
        raise NotImplementedError

    def finding(
        self,
        elements: Iterable[str],
        message: str,
        *,
        element_type: str = "node",
        severity: Severity | None = None,
    ) -> Finding:
        """Build a finding of this check."""
        return Finding(severity or self.severity, self.code, tuple(elements), message, element_type)


#: The registry: code -> check class, in registration order.
CHECKS: dict[str, type[Check]] = {}


def register(cls: type[Check]) -> type[Check]:
    """Class decorator adding a check to :data:`CHECKS`."""
    if cls.code in CHECKS:
        msg = f"a check with code {cls.code!r} is already registered"
        raise ValueError(msg)
    CHECKS[cls.code] = cls
    return cls


def _ids(names: Iterable[str], limit: int = 5) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# --------------------------------------------------------------------------- topology
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
            via = f"; closed links on its edge: {_ids(closed)}" if closed else ""
            yield self.finding(
                comp,
                f"{len(comp)} node(s) ({_ids(comp)}) are not connected to any tank or "
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
                f"({_ids(ctx.isolated_nodes)}); EPANET refuses such a model (error 233). "
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

        xy = ctx.coordinates.drop(index=ctx.missing_coordinates)
        if len(xy) < 2:
            return
        dead_ends = [n for n in ctx.dead_ends() if n in xy.index]
        if not dead_ends:
            return
        tree = cKDTree(xy.to_numpy())
        names = xy.index.to_numpy()
        for node in dead_ends:
            hits = tree.query_ball_point(xy.loc[node].to_numpy(), r=ctx.snap_tolerance)
            near = [names[i] for i in hits if names[i] != node
                    and names[i] not in ctx.neighbours[node]]
            if near:
                x0, y0 = xy.loc[node]
                dist = min(math.hypot(xy.at[n, "x"] - x0, xy.at[n, "y"] - y0) for n in near)
                yield self.finding(
                    [node, *near],
                    f"dead end {node} lies {dist:.2f} (coordinate units) from {_ids(near)} but "
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
        found = [
            name for name in ctx.dead_ends()
            if all(float(d.base_value) == 0.0
                   for d in ctx.wn.get_node(name).demand_timeseries_list)
        ]
        if found:
            yield self.finding(
                sorted(found),
                f"{len(found)} dead-end junction(s) have no demand ({_ids(sorted(found))}): "
                "a stub that serves nobody is often a digitising leftover. Check each: remove "
                "it, or give it the demand of the customers it serves.",
            )


# --------------------------------------------------------------------------- pipes
def _pipe_table(wn: wntr.network.WaterNetworkModel) -> pd.DataFrame:
    rows = [
        (name, p.start_node_name, p.end_node_name, p.length, p.diameter, p.roughness)
        for name, p in wn.pipes()
    ]
    return pd.DataFrame(
        rows, columns=["name", "start", "end", "length_m", "diameter_m", "roughness"]
    ).set_index("name")


@register
class ZeroLengthPipeCheck(Check):
    """Pipes of zero or negative length."""

    code = "zero-length-pipe"
    severity = Severity.ERROR
    title = "zero-length pipes"

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        pipes = _pipe_table(ctx.wn)
        bad = list(pipes.index[pipes["length_m"] <= 0])
        if bad:
            yield self.finding(
                bad,
                f"{len(bad)} pipe(s) have zero or negative length ({_ids(bad)}). Set the "
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
        pipes = _pipe_table(ctx.wn)
        short = pipes[(pipes["length_m"] > 0) & (pipes["length_m"] < ctx.short_pipe_m)]
        if len(short):
            names = list(short.index)
            yield self.finding(
                names,
                f"{len(names)} pipe(s) are shorter than {ctx.short_pipe_m:g} m ({_ids(names)}); "
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
        pipes = _pipe_table(ctx.wn)
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
                    f"pipes {_ids(names)} join {a} and {b} with the same diameter and length: "
                    "probably the same main digitised twice. Delete the copy (a real twin main "
                    "should be confirmed in the asset register).",
                    element_type="link",
                )
            else:
                yield self.finding(
                    names,
                    f"pipes {_ids(names)} both join {a} and {b} (different diameter or length): "
                    "confirm the parallel mains exist; if they do, this is fine.",
                    element_type="link",
                    severity=Severity.INFO,
                )


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
        pipes = _pipe_table(ctx.wn)
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


# --------------------------------------------------------------------------- coordinates
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
                f"{len(missing)} node(s) have no coordinates ({_ids(missing)}): they cannot be "
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
                    f"nodes {_ids(names)} are drawn at the same point: a duplicate node, or "
                    "coordinates copied by mistake. Merge the duplicates or correct the position.",
                )


# --------------------------------------------------------------------------- attributes
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
                f"({_ids(found)}). If it is a source, model it as a reservoir or tank with a "
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
        pipes = _pipe_table(ctx.wn)
        lo, hi = DIAMETER_RANGE_M
        small = sorted(pipes.index[pipes["diameter_m"] < lo])
        large = sorted(pipes.index[pipes["diameter_m"] > hi])
        si = str(ctx.wn.options.hydraulic.inpfile_units) in {"LPS", "LPM", "MLD", "CMH", "CMD"}
        unit = "mm" if si else "inches"
        if small:
            yield self.finding(
                small,
                f"{len(small)} pipe(s) are narrower than {lo * 1000:g} mm ({_ids(small)}). "
                f"Diameters in this file are in {unit}: check for a unit mix-up "
                f"({'inches entered as mm' if si else 'feet or metres entered as inches'}).",
                element_type="link",
            )
        if large:
            yield self.finding(
                large,
                f"{len(large)} pipe(s) are wider than {hi:g} m ({_ids(large)}). Diameters in "
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
        pipes = _pipe_table(ctx.wn)
        bad = pipes[(pipes["roughness"] < lo) | (pipes["roughness"] > hi)]
        if bad.empty:
            return
        names = sorted(bad.index)
        if formula == "D-W":
            shown = f"{lo * 1000:g}-{hi * 1000:g} mm"
        else:
            shown = f"{lo:g}-{hi:g}"
        what = {"H-W": "Hazen-Williams C", "D-W": "Darcy-Weisbach roughness",
                "C-M": "Manning n"}.get(formula, formula)
        yield self.finding(
            names,
            f"{len(names)} pipe(s) have a {what} outside {shown} ({_ids(names)}; range found "
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


# --------------------------------------------------------------------------- simulation
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
        sim = ctx.simulation
        if isinstance(sim, SimulationError):
            return
        for warning in sim.warnings:
            if warning.code == 1:
                yield self.finding(
                    [], f"EPANET: {warning.message}. Results are not a hydraulic solution. "
                    "Look for pumps and valves that switch back and forth, very short or very "
                    "rough pipes, and disconnected zones.", element_type="network",
                )
            elif warning.code == 3 and ctx.unsupplied_nodes:
                continue  # already reported by no-source
            elif warning.code in (2, 3, 4, 5):
                yield self.finding(
                    [], f"EPANET: {warning.message}. Review the pumps, valves and controls "
                    "involved.", element_type="network", severity=Severity.WARNING,
                )


def _peak_note(sim: SteadyState) -> str:
    return f"at peak demand (model time {sim.time_s / 3600:.2f} h, tanks at initial level)"


@register
class NegativePressureCheck(Check):
    """Junctions with negative pressure in the baseline simulation."""

    code = "negative-pressure"
    severity = Severity.ERROR
    title = "negative pressures"
    needs_simulation = True

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        sim = ctx.simulation
        if isinstance(sim, SimulationError):
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
        sim = ctx.simulation
        if isinstance(sim, SimulationError):
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


# --------------------------------------------------------------------------- running
def run_checks(
    wn: wntr.network.WaterNetworkModel,
    *,
    min_pressure_m: float = 10.0,
    simulate: bool = True,
    crs: str | None = None,
    codes: Iterable[str] | None = None,
    **options: Any,
) -> list[Finding]:
    """Run the registered checks on a network.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not modified).
    min_pressure_m : float, default 10
        Minimum service pressure for ``low-pressure``.
    simulate : bool, default True
        Run the checks that need the baseline steady-state simulation.
    crs : str, optional
        CRS of the coordinates (lengths are then compared in metres through it).
    codes : iterable of str, optional
        Run only these checks (default: all of :data:`CHECKS`).
    **options
        Other :class:`CheckContext` fields (``short_pipe_m``, ``snap_tolerance``,
        ``length_tolerance``).

    Returns
    -------
    list of Finding
        Sorted by severity (errors first), then code.

    Examples
    --------
    >>> from nrwkit.networks import load
    >>> [f.code for f in run_checks(load("net1"), simulate=False)]
    ['length-mismatch']
    """
    ctx = CheckContext(wn, min_pressure_m=min_pressure_m, simulate=simulate, crs=crs, **options)
    selected = list(CHECKS) if codes is None else list(codes)
    unknown = [c for c in selected if c not in CHECKS]
    if unknown:
        msg = f"unknown check code(s) {unknown}; known: {', '.join(CHECKS)}"
        raise ValueError(msg)
    findings: list[Finding] = []
    for code in selected:
        check = CHECKS[code]()
        if check.needs_simulation and not simulate:
            continue
        findings.extend(check.run(ctx))
    return sorted(findings, key=lambda f: (f.severity.rank, f.code))


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """Tabulate findings.

    Returns
    -------
    pandas.DataFrame
        One row per finding with columns severity, code, element_type, n_elements,
        elements (comma-separated) and message.
    """
    rows = [
        {"severity": f.severity.value, "code": f.code, "element_type": f.element_type,
         "n_elements": len(f.elements), "elements": ",".join(f.elements), "message": f.message}
        for f in findings
    ]
    columns = ["severity", "code", "element_type", "n_elements", "elements", "message"]
    return pd.DataFrame(rows, columns=columns)
