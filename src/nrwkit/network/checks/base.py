"""The checks framework: findings, the shared context, the registry, and running them.

Checks avoid echoing one fault through several codes: nodes cut off from every source are
reported once by ``no-source`` and left out of the pressure checks; isolated nodes are
reported by ``isolated-node``; both are removed from the copy of the model that is
simulated, and zero-length pipes get 1 cm there.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import networkx as nx
import numpy as np
import pandas as pd
import wntr

from ...crs import parse_crs
from ...errors import InputError, SimulationError
from ...findings import Finding, Severity, findings_frame, list_ids
from ...hydraulics import SteadyState, steady_state
from ..supply import permanently_closed_links, supplied_nodes

__all__ = [
    "CHECKS",
    "Check",
    "CheckContext",
    "CoordinateScale",
    "Finding",
    "Severity",
    "findings_frame",
    "count",
    "list_ids",
    "parse_crs",
    "register",
    "run_checks",
    "run_context",
]


def count(n: int, noun: str, plural: str | None = None) -> str:
    """Return ``n`` and ``noun`` in agreement: ``1 tank``, ``2 tanks``, ``0 valves``.

    Examples
    --------
    >>> count(1, "tank"), count(3, "node"), count(2, "junction", "junctions")
    ('1 tank', '3 nodes', '2 junctions')
    """
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


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
    snap_tolerance_m : float, default 0.5
        Distance (m) within which a dead end is suspected to be meant to connect to another
        node; converted to coordinate units through the CRS or the inferred scale.
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
    snap_tolerance_m: float = 0.5
    length_tolerance: float = 0.5
    crs: str | None = None
    simulate: bool = True

    @cached_property
    def links(self) -> pd.DataFrame:
        """All links (index = link names) with columns ``start``, ``end``, ``kind``."""
        rows = [(name, link.start_node_name, link.end_node_name, link.link_type)
                for name, link in self.wn.links()]
        return pd.DataFrame(rows, columns=["name", "start", "end", "kind"]).set_index("name")

    @cached_property
    def pipes(self) -> pd.DataFrame:
        """Pipes (index = pipe names) with start, end, length_m, diameter_m, roughness."""
        rows = [
            (name, p.start_node_name, p.end_node_name, p.length, p.diameter, p.roughness)
            for name, p in self.wn.pipes()
        ]
        return pd.DataFrame(
            rows, columns=["name", "start", "end", "length_m", "diameter_m", "roughness"]
        ).set_index("name")

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
        return permanently_closed_links(self.wn)

    @cached_property
    def unsupplied_components(self) -> list[list[str]]:
        """Groups of connected nodes with no tank or reservoir (through open links).

        "Supplied" is :func:`nrwkit.network.supply.supplied_nodes`, the rule DMA design uses.
        """
        supplied = supplied_nodes(self.wn)
        isolated = set(self.isolated_nodes)
        cut_off = [n for n in self.wn.node_name_list if n not in supplied and n not in isolated]
        graph = nx.Graph()
        graph.add_nodes_from(cut_off)
        shut = self.permanently_closed_links
        graph.add_edges_from((start, end) for name, start, end in
                             zip(self.links.index, self.links["start"], self.links["end"], strict=True)
                             if name not in shut and start in graph and end in graph)
        groups = [sorted(g) for g in nx.connected_components(graph)]
        return sorted(groups, key=lambda g: (-len(g), g[0]))

    def links_touching(self, nodes: set[str]) -> list[str]:
        """Links with at least one end in ``nodes``."""
        touching = self.links["start"].isin(nodes) | self.links["end"].isin(nodes)
        return sorted(self.links.index[touching])

    @cached_property
    def unsupplied_nodes(self) -> set[str]:
        """All nodes of :attr:`unsupplied_components`."""
        return {n for comp in self.unsupplied_components for n in comp}

    @cached_property
    def junctions_with_demand(self) -> list[str]:
        """Junctions that draw water at some time: a positive base demand whose pattern is not all 0.

        A demand without a pattern counts with a multiplier of 1 (EPANET's default pattern
        is not looked up: it only scales).
        """
        found = []
        for name, junction in self.wn.junctions():
            for demand in junction.demand_timeseries_list:
                pattern = demand.pattern
                peak = 1.0 if pattern is None or len(pattern.multipliers) == 0 else \
                    float(np.max(pattern.multipliers))
                if float(demand.base_value) > 0 and peak > 0:
                    found.append(name)
                    break
        return found

    @cached_property
    def coordinates(self) -> pd.DataFrame:
        """Node coordinates (index = node names; columns x, y)."""
        names = self.wn.node_name_list
        xy = np.array([self.wn.get_node(n).coordinates for n in names], dtype=float)
        return pd.DataFrame(xy.reshape(-1, 2), index=names, columns=["x", "y"])

    @cached_property
    def missing_coordinates(self) -> list[str]:
        """Nodes at exactly (0, 0), or with no number: WNTR's value for a node absent from [COORDINATES]."""
        xy = self.coordinates
        missing = ((xy["x"] == 0) & (xy["y"] == 0)) | xy["x"].isna() | xy["y"].isna()
        return list(xy.index[missing])

    @property
    def no_coordinates(self) -> bool:
        """True when the network has nodes and none has coordinates."""
        return len(self.coordinates) > 0 and len(self.missing_coordinates) == len(self.coordinates)

    @cached_property
    def drawn_lengths(self) -> pd.Series:
        """Length of each pipe's drawn line (ends and vertices), in coordinate units.

        Pipes with an end at missing coordinates are left out.
        """
        missing = set(self.missing_coordinates)
        pipes = self.pipes[~self.pipes["start"].isin(missing) & ~self.pipes["end"].isin(missing)]
        xy = self.coordinates
        lengths = []
        for name, start, end in zip(pipes.index, pipes["start"], pipes["end"], strict=True):
            line = [tuple(xy.loc[start]), *self.wn.get_link(name).vertices, tuple(xy.loc[end])]
            lengths.append(sum(math.hypot(b[0] - a[0], b[1] - a[1])
                               for a, b in itertools.pairwise(line)))
        return pd.Series(lengths, index=pipes.index, dtype=float)

    @cached_property
    def scale(self) -> CoordinateScale:
        """How coordinates relate to metres: from the CRS, inferred, or unknown (schematic).

        Without a CRS the scale is inferred from the pipes: when at least 60 % have a
        length / drawn-length ratio within 10 % of the median ratio, the coordinates are
        drawn to scale with that ratio (1 for metres, 0.3048 for feet).
        """
        if self.crs:
            crs = parse_crs(self.crs)
            if crs.is_geographic:
                return CoordinateScale(None, f"geodesic metres in {self.crs}", geographic=True)
            axis = crs.axis_info[0]
            return CoordinateScale(axis.unit_conversion_factor, f"{self.crs} ({axis.unit_name})")
        drawn = self.drawn_lengths
        length = self.pipes["length_m"].reindex(drawn.index)
        ok = (drawn > 0) & (length > 0)
        if ok.sum() < 3:
            return CoordinateScale(None, "too few pipes to infer the coordinate scale")
        ratio = length[ok] / drawn[ok]
        median = float(ratio.median())
        if (np.abs(ratio / median - 1) <= 0.10).mean() < 0.6:
            return CoordinateScale(None, "schematic coordinates (lengths not proportional)",
                                   schematic=True)
        note = "model units" if abs(median - 1) < 0.02 else f"1 unit = {median:.4g} m, inferred"
        return CoordinateScale(median, note)

    def solved(self) -> SteadyState | None:
        """Return the baseline steady state, or None if it failed (see ``simulation-failed``)."""
        sim = self.simulation
        return None if isinstance(sim, SimulationError) else sim

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


@dataclass(frozen=True)
class CoordinateScale:
    """Metres per coordinate unit, where known.

    Attributes
    ----------
    metres_per_unit : float or None
        None for schematic coordinates, or a geographic CRS (no single scale).
    note : str
        Where the scale comes from, for messages.
    geographic : bool
        Coordinates are longitude/latitude in :attr:`CheckContext.crs`.
    schematic : bool
        Lengths are not proportional to drawn distances: the coordinates are a sketch.
    """

    metres_per_unit: float | None
    note: str
    geographic: bool = False
    schematic: bool = False


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
        fix: str = "",
    ) -> Finding:
        """Build a finding of this check."""
        return Finding(severity or self.severity, self.code, tuple(elements), message, element_type,
                       fix=fix)


#: The registry: code -> check class, in registration order.
CHECKS: dict[str, type[Check]] = {}


def register(cls: type[Check]) -> type[Check]:
    """Class decorator adding a check to :data:`CHECKS`."""
    if cls.code in CHECKS:
        msg = f"a check with code {cls.code!r} is already registered"
        raise ValueError(msg)
    CHECKS[cls.code] = cls
    return cls


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
        Other :class:`CheckContext` fields (``short_pipe_m``, ``snap_tolerance_m``,
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
    return run_context(ctx, codes)


def run_context(ctx: CheckContext, codes: Iterable[str] | None = None) -> list[Finding]:
    """Run the registered checks (or those in ``codes``) on an existing context.

    Use it to keep the context afterwards, e.g. its :meth:`CheckContext.solved` state.
    """
    simulate = ctx.simulate
    selected = list(CHECKS) if codes is None else list(codes)
    unknown = [c for c in selected if c not in CHECKS]
    if unknown:
        msg = f"unknown check code(s) {unknown}; known: {', '.join(CHECKS)}"
        raise InputError(msg)
    findings: list[Finding] = []
    for code in selected:
        check = CHECKS[code]()
        if check.needs_simulation and not simulate:
            continue
        findings.extend(check.run(ctx))
    return sorted(findings, key=lambda f: (f.severity.rank, f.code))
