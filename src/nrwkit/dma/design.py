"""Automatic DMA design: partition, choose meters and valves, then repair until it serves.

The design loop, on one open EPANET project (:class:`nrwkit.hydraulics.HydraulicSession`):

1. split transmission from distribution (:mod:`nrwkit.dma.network`);
2. cluster the distribution graph into connected parts within the size band
   (:mod:`nrwkit.dma.partition`);
3. give each DMA one inlet meter on its main feed and close every other boundary pipe
   (:mod:`nrwkit.dma.divide`);
4. re-solve with the valves closed (pressure-dependent demand) at the peak hour and repair
   every DMA whose junctions the closures push below the service pressure: a meter instead of
   the boundary valve with the most head behind it (while the DMA has fewer than
   ``max_inlets`` meters), otherwise a merge with the neighbour across that valve; then check
   the whole day and, with a fire flow, each DMA's critical node, and repair again;
5. evaluate before and after (:func:`nrwkit.dma.evaluate`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, NamedTuple

import networkx as nx
import numpy as np
import pandas as pd
import wntr

from ..errors import InputError
from ..hydraulics import HydraulicSession
from .divide import (
    TRANSMISSION,
    boundary_pipes,
    choose_meters,
    inflow,
    inlets_per_dma,
    supplied,
    unfed_dmas,
)
from .evaluate import (
    PRESSURE_TOLERANCE_M,
    DmaEvaluation,
    evaluate,
    open_session,
    peak_hour,
    run_duration,
    service_pressure,
)
from .model import DmaDesign
from .network import SIZE_UNITS, DistributionNetwork, SizeBy, distribution_network
from .partition import bisect_graph, ordered_subgraph, partition_graph

__all__ = ["DEFAULT_CONNECTION_BAND", "DesignResult", "assemble", "design", "from_assignment"]

#: IWA DMA Guidance Notes: 500-3000 properties, 1000-2500 typical.
DEFAULT_CONNECTION_BAND = (500.0, 3000.0)
PREFERRED_CONNECTION_MAX = 2500.0
_MAX_ROUNDS = 25  # repair rounds (each one extended-period run): bounds the time on hard networks
#: A merge that repairs a failing DMA may exceed the band's maximum by this factor, no more.
_OVERSIZE = 1.5


class DesignResult(NamedTuple):
    """What :func:`design` returns: the design and its before/after check."""

    design: DmaDesign
    evaluation: DmaEvaluation


def design(
    wn: wntr.network.WaterNetworkModel,
    *,
    size: tuple[float, float] | None = None,
    size_by: SizeBy = "connections",
    max_inlets: int = 2,
    min_pressure: float = 15.0,
    fire_flow_m3s: float | None = None,
    fire_residual_m: float = 14.0,
    exclude_diameter_above: float | None = 0.3,
    transmission: Iterable[str] = (),
    connections: pd.Series | None = None,
    seed: int = 0,
    water_age: bool = True,
) -> DesignResult:
    """Design DMAs for a network and prove they keep the service.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not modified).
    size : (float, float), optional
        Size band per DMA in the unit of ``size_by``; default 500-3000 connections (IWA),
        required for the other measures.
    size_by : {"connections", "demand", "nodes", "length"}
        Size measure (:func:`nrwkit.dma.network.junction_sizes`).
    max_inlets : int
        Metered boundary pipes allowed per DMA (one is tried first).
    min_pressure : float
        Service pressure at peak with the valves closed, m.
    fire_flow_m3s : float, optional
        Fire flow to check at each DMA's critical node, m3/s.
    fire_residual_m : float
        Residual pressure needed during the fire flow, m.
    exclude_diameter_above : float or None
        Pipes wider than this (m) are transmission mains.
    transmission : iterable of str
        Links named as transmission mains.
    connections : pandas.Series, optional
        Connections per junction, overriding the model's ``[TAGS]``.
    seed : int
        Seed of the clustering; the design is the same for the same seed.
    water_age : bool
        Compute water age at the new dead ends (two 72-hour quality runs).

    Returns
    -------
    DesignResult
        ``(design, evaluation)``.

    Raises
    ------
    InputError
        For a size band that is empty or that no part of the network can meet, or a size
        measure the model has no data for.
    """
    band = _band(size, size_by)
    if max_inlets < 1:
        raise InputError("--max-inlets must be at least 1: every DMA needs a metered inlet")
    dist = distribution_network(wn, size_by=size_by, exclude_diameter_above=exclude_diameter_above,
                                transmission=transmission, connections=connections)
    target = PREFERRED_CONNECTION_MAX if size_by == "connections" and size is None else None
    parts = partition_graph(dist.graph, min_size=band[0], max_size=band[1], target_max=target, seed=seed)
    if not parts.parts:
        unit = SIZE_UNITS[size_by]
        total = float(dist.size.reindex(list(dist.graph.nodes)).sum())
        msg = (f"no DMA can be formed in the size band {band[0]:g}-{band[1]:g} {unit}: the "
               f"distribution mains hold {total:g} {unit} in {len(parts.too_small)} separate groups, each "
               "below the minimum (transmission mains split them); lower the minimum with --size, "
               "or raise --exclude-diameter-above")
        raise InputError(msg)
    settings = {"size_by": size_by, "size": list(band), "max_inlets": max_inlets,
                "min_pressure_m": min_pressure, "fire_flow_m3s": fire_flow_m3s,
                "fire_residual_m": fire_residual_m, "exclude_diameter_above_m": exclude_diameter_above,
                "seed": seed}
    draft = _initial_design(wn, dist, parts.parts, parts.too_small, band, size_by, settings)
    with open_session(wn, min_pressure, water_age) as session:
        work = _Repair(wn, draft, session, min_pressure=min_pressure, max_inlets=max_inlets, band=band,
                       dist=dist)
        # each DMA's first inlet: the boundary pipe that carries most water in at the run's peak
        # hour before the design (tanks where the day has taken them, not at their initial level)
        work.design = replace(draft, boundary=choose_meters(draft.boundary, work.peak_flows(),
                                                            draft.dma_ids))
        work.feed_unfed()
        work.repair(fire_flow_m3s=fire_flow_m3s, fire_residual_m=fire_residual_m)
        final = _band_warnings(work.design, band)
        result = evaluate(wn, final, min_pressure=min_pressure, fire_flow_m3s=fire_flow_m3s,
                          fire_residual_m=fire_residual_m, water_age=water_age, session=session)
    final = replace(final, warnings=final.warnings + work.give_up_warnings(result) + result.warnings)
    return DesignResult(final, result)


def from_assignment(
    wn: wntr.network.WaterNetworkModel,
    assignment: pd.Series,
    *,
    roles: pd.DataFrame | None = None,
    size_by: SizeBy = "nodes",
    connections: pd.Series | None = None,
    max_inlets: int = 2,
    min_pressure: float = 15.0,
    fire_flow_m3s: float | None = None,
    fire_residual_m: float = 14.0,
    exclude_diameter_above: float | None = None,
    transmission: Iterable[str] = (),
    repair: bool = True,
    water_age: bool = True,
    left_out: dict[str, str] | None = None,
    findings: Iterable[str] = (),
) -> DesignResult:
    """Check (and, unless given, choose meters for) DMAs the engineer defined.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    assignment : pandas.Series
        Junction -> DMA id (e.g. from :func:`nrwkit.dma.polygons.assignment_from_polygons`).
    roles : pandas.DataFrame, optional
        Index = boundary pipe, columns ``role`` (``meter``/``valve``) and ``feeds`` (the
        DMA a meter feeds): a complete design to check as it is. Without it meters are
        chosen as in :func:`design` and repaired with meters only (DMAs are never merged).
    size_by, connections, max_inlets, min_pressure, fire_flow_m3s, fire_residual_m
        As in :func:`design`.
    exclude_diameter_above, transmission
        Transmission mains; junctions on them are taken out of the DMAs, with a warning.
    repair : bool
        Add inlet meters where the closures fail (only when ``roles`` is not given).
    water_age : bool
        Compute water age at new dead ends.
    left_out : dict, optional
        Junctions already known to be outside every DMA, with the reason.
    findings : iterable of str
        Findings from reading the DMAs, carried into the warnings.

    Returns
    -------
    DesignResult
    """
    dist = distribution_network(wn, size_by=size_by, exclude_diameter_above=exclude_diameter_above,
                                transmission=transmission, connections=connections)
    unknown = sorted(set(assignment.index) - set(wn.junction_name_list))
    if unknown:
        msg = f"junctions {', '.join(unknown[:5])} of the design are not in the network"
        raise InputError(msg)
    held = [j for j in assignment.index if j in dist.transmission_junctions]
    warnings = list(findings)
    outside = sorted(j for j, why in (left_out or {}).items()
                     if j not in dist.transmission_junctions and why.startswith("outside every polygon"))
    if outside:
        warnings.append(f"{len(outside)} junctions lie outside every DMA (e.g. {', '.join(outside[:5])}); "
                        "they are left in the transmission system: extend a DMA to take them in")
    if held:
        warnings.append(f"{len(held)} junctions inside DMAs are on transmission links and are left "
                        f"out (e.g. {', '.join(held[:5])})")
    kept = assignment.drop(held).astype(str)
    if kept.empty:
        raise InputError("no junction is left in any DMA once transmission junctions are taken out")
    for dma, nodes in kept.groupby(kept.to_numpy()):
        pieces = list(nx_components(dist, list(nodes.index)))
        if len(pieces) > 1:
            warnings.append(f"{dma}: falls in {len(pieces)} pieces that no open distribution pipe joins "
                            f"(e.g. {', '.join(sorted(pieces[1])[:3])}): a DMA must be one connected area")
    sizes = dist.size.reindex(kept.index).groupby(kept.to_numpy()).sum()
    band = (float(sizes.min()), float(sizes.max()))
    settings = {"size_by": size_by, "size": None, "max_inlets": max_inlets, "min_pressure_m": min_pressure,
                "fire_flow_m3s": fire_flow_m3s, "fire_residual_m": fire_residual_m,
                "exclude_diameter_above_m": exclude_diameter_above, "user_defined": True}
    out = assemble(wn, dist, kept.sort_index(), size_by=size_by, band=band, settings=settings,
                   left_out=left_out)
    out = replace(out, warnings=warnings)
    with open_session(wn, min_pressure, water_age) as session:
        if roles is not None:
            out = _apply_roles(out, roles)
        else:
            work = _Repair(wn, out, session, min_pressure=min_pressure, max_inlets=max_inlets, dist=dist,
                           band=(band[0], 0.0))
            # first meters as in design(): the all-open run's flows at its peak hour
            work.design = out = replace(out, boundary=choose_meters(out.boundary, work.peak_flows(),
                                                                    out.dma_ids))
            if repair:
                work.feed_unfed()
                work.repair(fire_flow_m3s=fire_flow_m3s, fire_residual_m=fire_residual_m)
                out = work.design
        result = evaluate(wn, out, min_pressure=min_pressure, fire_flow_m3s=fire_flow_m3s,
                          fire_residual_m=fire_residual_m, water_age=water_age, session=session)
        if roles is None and repair:
            out = replace(out, warnings=out.warnings + work.give_up_warnings(result))
    unfed = unfed_dmas(wn, out.assignment, set(out.new_valves))
    extra = [f"{d}: no open path to a tank or reservoir once the boundary valves are closed" for d in unfed]
    inlets = inlets_per_dma(out.boundary)
    extra += [f"{d}: {int(n)} inlet meters, more than --max-inlets {max_inlets}"
              for d, n in inlets.items() if d != TRANSMISSION and n > max_inlets]
    out = replace(out, warnings=out.warnings + extra + result.warnings)
    return DesignResult(out, result)


def nx_components(dist: DistributionNetwork, nodes: list[str]) -> list[set[str]]:
    """Return the connected pieces of a set of DMA junctions in the distribution graph."""
    present = [n for n in nodes if n in dist.graph]
    return sorted((set(c) for c in nx.connected_components(dist.graph.subgraph(present))),
                  key=lambda c: (-len(c), min(c)))


def _apply_roles(design: DmaDesign, roles: pd.DataFrame) -> DmaDesign:
    """Take boundary roles from a saved design; boundary pipes it does not list are closed."""
    boundary = design.boundary.copy()
    known = roles.reindex(boundary.index)
    meter = known["role"].astype(str).str.lower().eq("meter")
    boundary.loc[meter, "role"] = "meter"
    feeds = known["feeds"].fillna("").astype(str)
    boundary.loc[meter, "feeds"] = feeds[meter]
    # a meter without a DMA it feeds: the DMA at its end
    missing = meter & (boundary.feeds == "")
    boundary.loc[missing, "feeds"] = boundary.loc[missing, "dma_end"]
    extra = sorted(set(roles.index[roles["role"].astype(str).str.lower().eq("meter")]) - set(boundary.index))
    warnings = list(design.warnings)
    if extra:
        warnings.append(f"meters on {', '.join(extra[:5])} are not on a DMA boundary and are ignored")
    return replace(design, boundary=boundary, warnings=warnings)


def _band(size: tuple[float, float] | None, size_by: str) -> tuple[float, float]:
    if size is None:
        if size_by != "connections":
            msg = f"give the DMA size band for --size-by {size_by} as --size MIN:MAX ({SIZE_UNITS[size_by]})"
            raise InputError(msg)
        return DEFAULT_CONNECTION_BAND
    low, high = float(size[0]), float(size[1])
    if not 0 <= low <= high or high <= 0:
        msg = f"size band {low:g}:{high:g} is empty: give --size MIN:MAX with 0 <= MIN <= MAX"
        raise InputError(msg)
    return low, high


def assemble(wn: wntr.network.WaterNetworkModel, dist: DistributionNetwork, assignment: pd.Series,
             *, size_by: str, band: tuple[float, float], settings: dict[str, Any],
             left_out: dict[str, str] | None = None) -> DmaDesign:
    """Build a design (every boundary pipe a valve) from a junction -> DMA assignment."""
    boundary = boundary_pipes(wn, assignment, dist)
    boundary["role"] = np.where(boundary.existing, "existing valve", "valve")
    boundary["feeds"] = ""
    held = dict(left_out or {})
    held.update(dist.transmission_junctions)
    return DmaDesign(
        assignment=assignment.rename("dma").rename_axis("junction"),
        boundary=boundary,
        transmission_junctions=pd.Series(held, dtype=object, name="reason").rename_axis("junction"),
        transmission_links=pd.Series(dist.transmission_links, dtype=object,
                                     name="reason").rename_axis("link"),
        size=dist.size, size_by=size_by, size_band=band, settings=settings,
    )


def _initial_design(wn: wntr.network.WaterNetworkModel, dist: DistributionNetwork,
                    parts: list[frozenset[str]], too_small: list[frozenset[str]],
                    band: tuple[float, float], size_by: str, settings: dict[str, Any]) -> DmaDesign:
    width = max(2, len(str(len(parts))))
    assignment = pd.Series({j: f"DMA-{k + 1:0{width}d}" for k, part in enumerate(parts) for j in part},
                           dtype=object).sort_index()
    unit = SIZE_UNITS[size_by]
    left_out = {}
    for group in too_small:
        total = float(dist.size.reindex(list(group)).sum())
        for j in group:
            left_out[j] = (f"in a group of {len(group)} junctions cut off from other distribution "
                           f"mains by transmission junctions, {total:g} {unit} in all: below the "
                           f"minimum DMA size {band[0]:g}")
    out = assemble(wn, dist, assignment, size_by=size_by, band=band, settings=settings, left_out=left_out)
    warnings = []
    if left_out:
        warnings.append(f"{len(left_out)} junctions are left in the transmission system: their "
                        f"groups are below the minimum DMA size (see transmission junctions)")
    return replace(out, warnings=warnings)


def _band_warnings(design: DmaDesign, band: tuple[float, float]) -> DmaDesign:
    sizes = design.dma_size()
    unit = SIZE_UNITS.get(design.size_by, design.size_by)
    out = [f"{dma}: {value:g} {unit}, outside the band {band[0]:g}-{band[1]:g} (no neighbour could "
           "take it or give to it)" for dma, value in sizes.items() if not band[0] <= value <= band[1]]
    return replace(design, warnings=design.warnings + out)


class _Repair:
    """Mutable state of the repair loop: the current design and the open session."""

    def __init__(self, wn: wntr.network.WaterNetworkModel, design: DmaDesign, session: HydraulicSession,
                 *, min_pressure: float, max_inlets: int, band: tuple[float, float],
                 dist: DistributionNetwork) -> None:
        self.wn = wn
        self.dist = dist
        self.design = design
        self.session = session
        self.min_pressure = min_pressure
        self.need = service_pressure(wn, min_pressure)
        self.max_inlets = max_inlets
        self.band = band
        self.given_up: set[str] = set()
        self.gave_up: dict[str, str] = {}
        self._swaps: dict[str, int] = {}
        self._splits = 0
        self._siblings: set[frozenset[str]] = set()
        self.elevation = pd.Series({j: wn.get_node(j).elevation for j in session.junction_names})
        self.duration = run_duration(wn)
        self.session.reset_status()
        pipes = list(wn.pipe_name_list)
        run = self.session.run(duration_s=self.duration, report_step_s=3600, links=pipes)
        self.before = run.pressure_m
        self.before_flows = run.flowrate_m3s

    def peak_flows(self) -> pd.Series:
        """Link flows at the run's peak hour with every pipe open, m3/s."""
        assert self.before_flows is not None
        t = peak_hour(self.wn)
        return self.before_flows.loc[t] if t in self.before_flows.index else self.before_flows.iloc[0]

    def _close(self) -> None:
        self.session.reset_status()
        self.session.set_status(self.design.new_valves, open_=False)

    def _change(self, text: str) -> None:
        self.design = replace(self.design, changes=[*self.design.changes, text])

    def _give_up(self, key: str, reason: str) -> None:
        self.given_up.add(key)
        if key == TRANSMISSION:
            text = (f"transmission junctions: could not repair ({reason}): no outlet meter on a closed "
                    "boundary pipe next to them raises their pressure")
        elif self.band[1] <= 0:  # DMAs the engineer drew: never merged
            text = (f"{key}: could not repair ({reason}): no boundary valve left to meter within "
                    f"{self.max_inlets} inlet meters; allow more inlets (--max-inlets) or redraw the DMA")
        else:
            text = (f"{key}: could not repair ({reason}): no boundary valve left to meter within "
                    f"{self.max_inlets} inlet meters and no merge helped; allow more inlets "
                    "(--max-inlets), widen --size, or keep this area out of DMAs (--transmission)")
        self.gave_up[key] = text

    def give_up_warnings(self, evaluation: DmaEvaluation) -> list[str]:
        """Return the repairs' give-ups that still matter: for DMAs (or transmission) still failing.

        A later repair elsewhere (e.g. an outlet meter that keeps a pump's suction fed) often
        mends a DMA the repair had given up on; its old warning would then mislead.
        """
        table = evaluation.dmas
        out = []
        for key, text in self.gave_up.items():
            if key == TRANSMISSION:
                still = bool(evaluation.metrics.get("transmission_problems"))
            else:
                still = key not in table.index or bool(table.at[key, "problems"])
            if still:
                out.append(text)
        return out

    # --- repairs ------------------------------------------------------------------------
    def feed_unfed(self) -> None:
        """Meter a pipe towards a supplied side wherever the closures cut junctions off.

        Transmission junctions first (an outlet meter from the DMA that now holds their only
        path to a source, e.g. the inlet of a PRV), then DMAs (an inlet meter from a
        supplied neighbour).
        """
        before = supplied(self.wn, set())
        for _ in range(_MAX_ROUNDS):
            fed = supplied(self.wn, set(self.design.new_valves))
            starved = [j for j in self.design.transmission_junctions.index
                       if j in before and j not in fed]
            if starved and TRANSMISSION not in self.given_up:
                if self._open_towards(starved, fed):
                    continue
            unfed = [d for d in unfed_dmas(self.wn, self.design.assignment, set(self.design.new_valves))
                     if d not in self.given_up]
            if not unfed:
                return
            for dma in unfed:
                if dma in set(self.design.assignment.to_numpy()):
                    self._open_or_merge(dma, None, reason="no open path to a source")

    def _open_towards(self, starved: list[str], fed: set[str]) -> bool:
        """Outlet-meter a closed pipe joining cut-off transmission junctions to a supplied DMA."""
        b = self.design.boundary
        targets = set(starved)
        for pipe, row in b[b.role == "valve"].sort_values("diameter_m", ascending=False).iterrows():
            link = self.wn.get_link(pipe)
            ends = (link.start_node_name, link.end_node_name)
            sides = (row.dma_start, row.dma_end)
            for k in (0, 1):
                if ends[k] in targets and ends[1 - k] in fed and sides[1 - k] != TRANSMISSION:
                    self.design = self.design.with_meter(str(pipe), TRANSMISSION)
                    self._change(f"transmission: outlet meter on {pipe} (from {sides[1 - k]}) instead of a "
                                 f"boundary valve: {ends[k]} has no other open path to a source")
                    return True
        return False

    def repair(self, *, fire_flow_m3s: float | None, fire_residual_m: float) -> None:
        """Run the day with the valves closed; repair failing DMAs until none can be helped."""
        for _ in range(_MAX_ROUNDS):
            failing = self._failing_pressure()
            if not failing and fire_flow_m3s:
                failing = self._failing_fire(fire_flow_m3s, fire_residual_m)
            todo = {k: v for k, v in failing.items() if k not in self.given_up}
            if not todo:
                return
            if TRANSMISSION in todo:
                # transmission first: a starved pump suction or PRV inlet starves DMAs downstream
                heads, reason, nodes = todo[TRANSMISSION]
                before = len(self.design.changes)
                self._feed_transmission(nodes, heads, reason)
                if len(self.design.changes) > before:
                    continue
            for key, (heads, reason, _) in sorted(todo.items()):
                if key != TRANSMISSION and key in set(self.design.assignment.to_numpy()):
                    self._open_or_merge(key, heads, reason=reason)

    def _failing_pressure(self) -> dict[str, tuple[pd.Series, str, list[str]]]:
        """Junctions the closures push below the service pressure, grouped by DMA."""
        self._close()
        after = self.session.run(duration_s=self.duration, report_step_s=3600, pressure_only=True).pressure_m
        # an hour missing before (it cannot be, but never let it hide a failure) counts as fine then
        before = self.before.reindex(index=after.index, columns=after.columns).fillna(np.inf)
        need = self.need.reindex(after.columns).to_numpy()
        bad = (after < need) & (after < before - PRESSURE_TOLERANCE_M)
        if not bad.to_numpy().any():
            return {}
        label = self.design.assignment.reindex(after.columns).fillna(TRANSMISSION)
        out: dict[str, tuple[pd.Series, str, list[str]]] = {}
        failing_nodes = bad.any(axis=0)
        for key, nodes in failing_nodes[failing_nodes].groupby(label[failing_nodes].to_numpy()):
            names = list(nodes.index)
            worst_p = after[names].where(bad[names]).min()
            worst = str(worst_p.idxmin())
            t = int(after[worst].idxmin())
            heads = (after.loc[t] + self.elevation).rename(t)
            reason = (f"{after.at[t, worst]:.1f} m at {worst} at {t / 3600:g} h < {self.need[worst]:g} m "
                      f"(was {before.at[t, worst]:.1f} m)")
            out[str(key)] = (heads, reason, names)
        return out

    def _failing_fire(self, fire_flow_m3s: float, fire_residual_m: float
                      ) -> dict[str, tuple[pd.Series, str, list[str]]]:
        """DMAs whose critical node keeps less than the residual pressure during a fire flow."""
        t = peak_hour(self.wn)
        out: dict[str, tuple[pd.Series, str, list[str]]] = {}
        self._close()
        state = self.session.solve(t)
        for dma in self.design.dma_ids:
            nodes = self.design.junctions(dma)
            critical = str(state.pressure_m[nodes].idxmin())
            with self.session.extra_demand(critical, fire_flow_m3s):
                fire = self.session.solve(t)
            if fire.pressure_m[critical] >= fire_residual_m:
                continue
            self.session.reset_status()
            with self.session.extra_demand(critical, fire_flow_m3s):
                prior = self.session.solve(t).pressure_m[critical]
            self._close()
            if fire.pressure_m[critical] < prior - PRESSURE_TOLERANCE_M:
                residual = fire.pressure_m[critical]
                out[dma] = (fire.head_m.rename(t), f"fire flow leaves {residual:.1f} m at {critical} "
                                         f"< {fire_residual_m:g} m (was {prior:.1f} m)", [critical])
        return out

    def _candidates(self, dma: str, heads: pd.Series | None) -> list[tuple[float, str, str]]:
        """Rank the closed boundary pipes of ``dma``, the most useful inlet first.

        Ranked by the flow each carried into the DMA at the failing hour before the design
        (what the closure took away), then by the head difference across it with the valves
        closed (what would push water in if it were opened). Each candidate's score is
        positive when opening it would feed the DMA.
        """
        rows = self.design.boundary_of(dma)
        rows = rows[rows.role == "valve"]
        out = []
        t = heads.name if heads is not None else None
        flows = self.before_flows
        lost = (inflow(rows, flows.loc[t], dma) if flows is not None and t in flows.index
                else pd.Series(0.0, index=rows.index))
        for pipe, row in rows.iterrows():
            link = self.wn.get_link(pipe)
            inside = link.end_node_name if row.dma_end == dma else link.start_node_name
            outside = link.start_node_name if inside == link.end_node_name else link.end_node_name
            if heads is None:
                key = (0.0, float(row.diameter_m))  # no state: prefer the widest pipe
            else:
                push = float(heads.get(outside, np.nan) - heads.get(inside, np.nan))
                key = (max(float(lost[pipe]), 0.0), -np.inf if np.isnan(push) else push)
            out.append((key, str(pipe), self.design.other_side(str(pipe), dma)))
        out.sort(key=lambda c: (-c[0][0], -c[0][1], c[1]))
        return [(k[0] if k[0] > 0 else k[1], pipe, other) for k, pipe, other in out]

    def _feed_transmission(self, nodes: list[str], heads: pd.Series, reason: str) -> None:
        """Meter the closed pipe that best feeds transmission junctions the closures starved."""
        b = self.design.boundary
        rows = b[b.role == "valve"]
        best: tuple[float, str, str] | None = None
        for pipe, row in rows.iterrows():
            link = self.wn.get_link(pipe)
            for inside, outside, side in ((link.start_node_name, link.end_node_name, row.dma_end),
                                          (link.end_node_name, link.start_node_name, row.dma_start)):
                if inside in nodes and side != TRANSMISSION:
                    push = float(heads.get(outside, np.nan) - heads.get(inside, np.nan))
                    if not np.isnan(push) and (best is None or push > best[0]):
                        best = (push, str(pipe), str(side))
        if best is None or best[0] <= 0:
            self._give_up(TRANSMISSION, reason)
            return
        before = self.design
        worst_before = self._lowest(nodes)
        self.design = self.design.with_meter(best[1], TRANSMISSION)
        if self._lowest(nodes) < worst_before + PRESSURE_TOLERANCE_M:
            # the meter would not help these junctions: keep the valve and say so
            self.design = before
            self._give_up(TRANSMISSION, reason)
            return
        self._change(f"transmission: outlet meter on {best[1]} (from {best[2]}) instead of a boundary "
                     f"valve: {reason}")

    def _lowest(self, nodes: list[str], design: DmaDesign | None = None) -> float:
        """Lowest pressure over the day at ``nodes`` with a design's valves closed."""
        self.session.reset_status()
        self.session.set_status((design or self.design).new_valves, open_=False)
        run = self.session.run(duration_s=self.duration, report_step_s=3600, pressure_only=True)
        return float(run.pressure_m[nodes].min().min())

    def _open_or_merge(self, dma: str, heads: pd.Series | None, *, reason: str) -> None:
        inlets = inlets_per_dma(self.design.boundary)
        candidates = self._candidates(dma, heads)
        if int(inlets.get(dma, 0)) < self.max_inlets:
            fed = supplied(self.wn, set(self.design.new_valves))
            for push, pipe, other in candidates:
                if push <= 0 and heads is not None:
                    break
                link = self.wn.get_link(pipe)
                if heads is None and not ({link.start_node_name, link.end_node_name} & fed):
                    continue
                self.design = self.design.with_meter(pipe, dma)
                self._change(f"{dma}: inlet meter on {pipe} (from {other}) instead of a boundary valve: "
                             f"{reason}")
                return
        if heads is not None and self._swap_inlet(dma, heads, candidates, reason):
            return
        if self.band[1] <= 0:  # DMAs the engineer drew are never merged
            self._give_up(dma, reason)
            return
        sizes = self.design.dma_size()
        # never merge back two halves of a split: that only undoes it
        neighbours = [(pipe, other) for _, pipe, other in candidates
                      if other != TRANSMISSION and frozenset((dma, other)) not in self._siblings]
        for pipe, other in neighbours:
            if sizes[dma] + sizes[other] <= self.band[1]:
                self._merge(dma, other, pipe, reason)
                return
        if self._split(dma, reason):
            return
        over = [(pipe, other) for pipe, other in neighbours
                if sizes[dma] + sizes[other] <= _OVERSIZE * self.band[1]]
        if over:  # last resort: a DMA somewhat above the band that serves beats one that does not
            pipe, other = over[0]
            self._merge(dma, other, pipe, reason)
            self._change(f"{min(dma, other)} is now above the size band ({sizes[dma] + sizes[other]:g} > "
                         f"{self.band[1]:g}): no smaller repair kept the pressure")
            return
        self._give_up(dma, reason)

    def _swap_inlet(self, dma: str, heads: pd.Series, candidates: list[tuple[float, str, str]],
                    reason: str) -> bool:
        """Move a full DMA's weakest inlet meter to the closed pipe that fed it most before.

        At the failing hour, compare what each inlet and each closed boundary pipe carried
        into the DMA before the design; swap when a closed pipe carried more than the weakest
        inlet (at most twice per DMA, so that swaps never cycle).
        """
        if self._swaps.get(dma, 0) >= 2 or self.before_flows is None:
            return False
        t = heads.name
        if t not in self.before_flows.index:
            return False
        rows = self.design.boundary_of(dma)
        carried = inflow(rows, self.before_flows.loc[t], dma)
        inlets = [p for p in self.design.inlets(dma) if p in carried.index]
        closed = [pipe for _, pipe, _ in candidates if carried.get(pipe, 0.0) > 0]
        if not inlets or not closed:
            return False
        weakest = min(inlets, key=lambda p: (carried[p], p))
        best = max(closed, key=lambda p: (carried[p], p))
        if carried[best] <= carried[weakest]:
            return False
        self._swaps[dma] = self._swaps.get(dma, 0) + 1
        self.design = self.design.with_valves([weakest]).with_meter(best, dma)
        self._change(f"{dma}: inlet meter moved from {weakest} to {best} (which carried "
                     f"{carried[best] * 1000:.1f} l/s in before the design, against "
                     f"{carried[weakest] * 1000:.1f} l/s): {reason}")
        return True

    def _split(self, dma: str, reason: str) -> bool:
        """Split a DMA no meter can serve into two, each with its own inlet (if both fit the band).

        A spectral bisection of the DMA's graph; the pipes between the halves become boundary
        valves, and a half without an inlet meter gets one on the pipe that carried most water
        into it at the peak hour before the design.
        """
        nodes = set(self.design.junctions(dma))
        if self._splits >= len(self.design.dma_ids) or len(nodes) < 2:
            return False
        sub = ordered_subgraph(self.dist.graph, nodes)
        if sub.number_of_nodes() != len(nodes) or not nx.is_connected(sub):
            return False
        first, second = bisect_graph(sub)
        size = self.design.size
        smaller = min(float(size.reindex(list(first)).sum()), float(size.reindex(list(second)).sum()))
        if smaller < self.band[0]:
            return False
        numbers = [int(d.rsplit("-", 1)[-1]) for d in self.design.dma_ids if d.rsplit("-", 1)[-1].isdigit()]
        width = len(dma.rsplit("-", 1)[-1]) if dma.rsplit("-", 1)[-1].isdigit() else 2
        new_id = f"DMA-{max(numbers, default=0) + 1:0{width}d}"
        assignment = self.design.assignment.copy()
        assignment[sorted(second)] = new_id
        boundary = boundary_pipes(self.wn, assignment, self.dist)
        boundary["role"] = np.where(boundary.existing, "existing valve", "valve")
        boundary["feeds"] = ""
        old = self.design.boundary
        for pipe in boundary.index.intersection(old.index):
            if old.at[pipe, "role"] != "meter":
                continue
            feeds = str(old.at[pipe, "feeds"])
            if feeds == dma and dma not in (boundary.at[pipe, "dma_start"], boundary.at[pipe, "dma_end"]):
                feeds = new_id
            boundary.loc[pipe, ["role", "feeds"]] = ["meter", feeds]
        design = replace(self.design, assignment=assignment, boundary=boundary)
        flows = self.peak_flows()
        for half in (dma, new_id):
            if design.inlets(half):
                continue
            rows = design.boundary_of(half)
            closed = rows[rows.role == "valve"]
            if closed.empty:
                return False
            carried = inflow(closed, flows, half)
            design = design.with_meter(str(carried.idxmax()), half)
        self._splits += 1
        self._siblings.add(frozenset((dma, new_id)))
        self.design = design
        self._change(f"{dma} split in two ({dma}: {len(first)} junctions, {new_id}: {len(second)}), each "
                     f"with its own inlet meter: {reason}")
        return True

    def _merge(self, dma: str, other: str, pipe: str, reason: str) -> None:
        keep, gone = sorted([dma, other])
        assignment = self.design.assignment.where(self.design.assignment != gone, keep)
        old = self.design.boundary
        boundary = old[~(((old.dma_start == keep) & (old.dma_end == gone))
                         | ((old.dma_start == gone) & (old.dma_end == keep)))].copy()
        boundary.loc[boundary.dma_start == gone, "dma_start"] = keep
        boundary.loc[boundary.dma_end == gone, "dma_end"] = keep
        boundary.loc[boundary.feeds == gone, "feeds"] = keep
        self.design = replace(self.design, assignment=assignment, boundary=boundary)
        self._change(f"{gone} merged into {keep} across {pipe}: {reason}")
        meters = boundary[(boundary.role == "meter") & (boundary.feeds == keep)]
        drop: list[str] = []
        nodes = self.design.junctions(keep)
        kept = list(meters.index)
        while len(kept) > self.max_inlets:
            # close the inlet whose closure costs the merged DMA least (one run per inlet)
            trials = []
            for pipe_id in kept:
                trial = self.design.with_valves([*drop, pipe_id])
                trials.append((self._lowest(nodes, trial), pipe_id))
            _, worst_needed = max(trials, key=lambda t: (t[0], t[1]))
            drop.append(worst_needed)
            kept.remove(worst_needed)
        if drop:
            self.design = self.design.with_valves(drop)
            kept_text = "1 inlet meter" if self.max_inlets == 1 else f"{self.max_inlets} inlet meters"
            self._change(f"{keep}: meters on {', '.join(drop)} closed instead, to keep "
                         f"{kept_text} after the merge (the closures that cost the least pressure)")
