"""Automatic DMA design: named stages from the network file to a verified design.

:func:`design` runs these stages on one open EPANET project
(:class:`nrwkit.hydraulics.HydraulicSession`, pressure-dependent demand), each timed and
summarised in :attr:`DmaDesign.stages` (the report and ``--json`` show them):

1. **graph and supply**: the size measure (connections when the model has them, else
   junction count) and a band derived from the network's size when none is given; every
   junction's path to a source; the all-open extended-period run the design is compared with;
2. **transmission**: the trunk mains from the all-open flows at peak, relative to the network
   (:mod:`nrwkit.dma.transmission`), or the engineer's diameter rule and listed links;
3. **partition**: the distribution graph cut into connected parts within the band
   (:mod:`nrwkit.dma.partition`); groups cut off by transmission mains become small DMAs, or
   are reported with the reason they cannot;
4. **boundary choice**: one inlet meter per DMA on its main feed at peak, every other
   boundary pipe a closed valve, meters wherever the closures cut junctions off
   (:mod:`nrwkit.dma.divide`);
5. **hydraulic verification**: an extended-period run with the valves closed;
6. **repair**: the bounded loop of :mod:`nrwkit.dma.repair`;
7. **final check**: before/after evaluation (:func:`nrwkit.dma.evaluate`) and the comparison
   with a standard partition into as many parts (:func:`nrwkit.dma.baseline.baseline_cut`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import wntr

from ..errors import InputError, NetworkFileError
from ..findings import Finding, list_ids, warning
from ..gis.customers import connections as stored_connections
from ..hydraulics import ExtendedPeriod, system_demand
from ..units import HOUR_S, SECONDS_PER_HOUR
from .baseline import baseline_cut
from .divide import TRANSMISSION, boundary_pipes, choose_meters, inlets_per_dma, supplied
from .evaluate import (
    DmaEvaluation,
    PhysicalBounds,
    count,
    evaluate,
    open_session,
    peak_hour,
    physical_bounds,
    run_duration,
    suspect_hours,
)
from .model import DmaDesign, as_findings
from .network import (
    ON_MAIN,
    SIZE_UNITS,
    DistributionNetwork,
    SizeBy,
    demand_junctions,
    distribution_network,
    junction_sizes,
    link_ends,
)
from .network import transmission_links as forced_transmission
from .partition import contract_fixed, partition_graph
from .repair import DEFAULT_MAX_ROUNDS, RepairOutcome, RepairState, feed_unfed, run_repairs
from .stages import Progress, StageLog
from .transmission import MAX_TRANSMISSION_SHARE, trunk_mains

__all__ = ["DEFAULT_CONNECTION_BAND", "DesignResult", "assemble", "default_band", "design", "from_assignment",
           "period_warnings"]

#: IWA DMA Guidance Notes: 500-3000 properties, 1000-2500 typical.
DEFAULT_CONNECTION_BAND = (500.0, 3000.0)
PREFERRED_CONNECTION_MAX = 2500.0
#: The repair loop starts no new round or repair after this many times the all-open run's time
#: (and at least REPAIR_BUDGET_MIN_S).
REPAIR_BUDGET_RUNS = 15
REPAIR_BUDGET_MIN_S = 3.0


#: What :func:`design` returns: the design and its before/after check. (The functional form
#: keeps the field types real classes, not strings, for the API reference.)
DesignResult = NamedTuple("DesignResult", [("design", DmaDesign), ("evaluation", DmaEvaluation)])  # noqa: UP014
DesignResult.__doc__ = "What :func:`design` returns: the design and its before/after check."


def default_band(sizes: pd.Series, size_by: str) -> tuple[tuple[float, float], str]:
    """Return a size band for the network in hand, and how it was chosen.

    With service connections: IWA's 500-3000 connections when the network holds at least
    two such DMAs' worth (1,000 connections). Otherwise the band is relative to the
    network: DMAs of at most a fifth of its junctions (between 20 and 400 junctions), at
    least a sixth of that (the ratio of IWA's 500-3000), in the measure's unit.

    >>> band, why = default_band(pd.Series(1.0, index=[f"J{i}" for i in range(800)]), "nodes")
    >>> band
    (26.0, 160.0)
    """
    total = float(sizes.sum())
    if size_by == "connections" and total >= 2 * DEFAULT_CONNECTION_BAND[0]:
        return DEFAULT_CONNECTION_BAND, "IWA DMA guidance: 500-3000 connections"
    n = max(len(sizes), 1)
    high_nodes = float(min(max(0.2 * n, 20.0), 400.0))
    low_nodes = high_nodes / 6.0  # IWA's 500-3000: the smallest a sixth of the largest
    if size_by == "nodes":
        band = (float(np.floor(low_nodes)), float(np.ceil(high_nodes)))
    else:
        band = (float(f"{total * low_nodes / n:.3g}"), float(f"{total * high_nodes / n:.3g}"))
    unit = SIZE_UNITS[size_by]
    return band, (f"relative to the network's {n} junctions: at most a fifth of them per DMA "
                  f"(20-400 junctions), at least a sixth of that: {band[0]:g}-{band[1]:g} {unit}")


def _size_by(wn: wntr.network.WaterNetworkModel, size_by: SizeBy | None,
             connections: pd.Series | None) -> tuple[SizeBy, str]:
    if size_by is not None:
        return size_by, "as asked"
    counts = stored_connections(wn) if connections is None else connections
    if float(counts.reindex(list(wn.junction_name_list)).fillna(0).sum()) > 0:
        return "connections", "the model has service connections"
    return "nodes", ("junction count: the model has no service connections (allocate customers with "
                     "nrwkit gis allocate-customers to size DMAs by connections)")


def design(
    wn: wntr.network.WaterNetworkModel,
    *,
    size: tuple[float, float] | None = None,
    size_by: SizeBy | None = None,
    max_inlets: int = 2,
    min_pressure_m: float = 15.0,
    fire_flow_m3s: float | None = None,
    fire_residual_m: float = 14.0,
    exclude_diameter_above_m: float | None = None,
    transmission: Iterable[str] = (),
    trunk: str = "auto",
    connections: pd.Series | None = None,
    seed: int = 0,
    water_age: bool = True,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    progress: Progress | None = None,
) -> DesignResult:
    """Design DMAs for a network and prove they keep the service.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not modified).
    size : (float, float), optional
        Size band per DMA in the unit of ``size_by``; default :func:`default_band`.
    size_by : {"connections", "demand", "nodes", "length"}, optional
        Size measure (:func:`nrwkit.dma.network.junction_sizes`); default connections when
        the model has them, else junction count.
    max_inlets : int
        Metered boundary pipes allowed per DMA (one is tried first).
    min_pressure_m : float
        Service pressure with the valves closed at every hour of the run, m.
    fire_flow_m3s : float, optional
        Fire flow to check at each DMA's critical node, m3/s.
    fire_residual_m : float
        Residual pressure needed during the fire flow, m.
    exclude_diameter_above_m : float or None
        Pipes wider than this (m) are transmission mains (the engineer's rule; no trunk
        mains are then found from flows).
    transmission : iterable of str
        Links named as transmission mains.
    trunk : {"auto", "none"}
        Without ``exclude_diameter_above_m``: find trunk mains from the flows at peak
        (:func:`nrwkit.dma.transmission.trunk_mains`), or keep only pumps, valves, links of
        tanks and reservoirs and the listed links out of DMAs.
    connections : pandas.Series, optional
        Connections per junction, overriding the model's ``[TAGS]``.
    seed : int
        Seed of the clustering; the design is the same for the same seed.
    water_age : bool
        Compute water age at the new dead ends (two 72-hour quality runs).
    max_rounds : int
        Repair rounds at most (each one extended-period run).
    progress : callable, optional
        ``progress(stage, done, total)`` as the stages run (the CLI draws bars from it).

    Returns
    -------
    DesignResult
        ``(design, evaluation)``.

    Raises
    ------
    InputError
        For a network without a source, a size band that is empty or that no part of the
        network can meet, or a size measure the model has no data for.
    SimulationError
        When EPANET cannot solve the network as given.
    """
    if max_inlets < 1:
        raise InputError(f"max_inlets = {max_inlets}: give at least 1, every DMA needs a metered inlet")
    if trunk not in ("auto", "none"):
        raise InputError(f"trunk={trunk!r}: use 'auto' or 'none'")
    if not (wn.num_tanks or wn.num_reservoirs):
        raise NetworkFileError(wn.name or "the network", "it has no tank or reservoir: nothing supplies it",
                               "add its source ([RESERVOIRS] or [TANKS]) to the .inp file")
    if size is not None:
        _check_band(size)
    log = StageLog(progress)
    with log.stage("graph and supply") as stage:
        used_by, why_by = _size_by(wn, size_by, connections)
        sizes = junction_sizes(wn, used_by, connections)
        if size is not None:
            band, why_band = _check_band(size), "as asked"
        else:
            band, why_band = default_band(sizes, used_by)
        unsupplied = sorted(set(wn.junction_name_list) - supplied(wn, set()))
        session = open_session(wn, min_pressure_m, water_age)
        duration = run_duration(wn)
        pipes = list(wn.link_name_list)
        clock = time.perf_counter()
        before = session.run(duration_s=duration, report_step_s=HOUR_S, links=pipes)
        run_seconds = time.perf_counter() - clock
        bounds = physical_bounds(wn, before)
        before_suspect = suspect_hours(wn, before, bounds)
        demand_nodes = demand_junctions(wn)
        stage.summary = (f"{wn.num_junctions} junctions ({len(demand_nodes)} with demand), "
                         f"{wn.num_reservoirs + wn.num_tanks} sources, {len(unsupplied)} junctions not "
                         f"connected to any; DMAs sized by {used_by} ({why_by}), "
                         f"band {band[0]:g}-{band[1]:g} "
                         f"{SIZE_UNITS[used_by]}")
        stage.figures = {"junctions": wn.num_junctions, "demand_junctions": len(demand_nodes),
                         "unsupplied": len(unsupplied), "size_by": used_by, "size_by_reason": why_by,
                         "size": list(band), "size_reason": why_band,
                         "hours_not_converged_before": [t / HOUR_S for t in before_suspect]}
    try:
        return _design(wn, session, log, before=before, before_suspect=before_suspect, bounds=bounds,
                       band=band,
                       used_by=used_by, sizes=sizes, why_by=why_by, why_band=why_band,
                       sizes_given=size is not None,
                       max_inlets=max_inlets, min_pressure_m=min_pressure_m, fire_flow_m3s=fire_flow_m3s,
                       fire_residual_m=fire_residual_m, exclude_diameter_above_m=exclude_diameter_above_m,
                       transmission=tuple(transmission), trunk=trunk, seed=seed,
                       water_age=water_age, max_rounds=max_rounds, demand_nodes=demand_nodes,
                       progress=progress,
                       time_budget_s=max(REPAIR_BUDGET_RUNS * run_seconds, REPAIR_BUDGET_MIN_S))
    finally:
        session.close()


#: Relative spread of the system demand over the run below which demands count as constant.
CONSTANT_DEMAND_SPREAD = 0.01


def period_warnings(wn: wntr.network.WaterNetworkModel) -> list[Finding]:
    """Warn when the checks' day is not the model's own: a single-period model, constant demands.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.

    Returns
    -------
    list of Finding
        ``dma-single-period`` and ``dma-constant-demand``; empty for a model with an extended
        period and demands that vary over it.
    """
    out = []
    duration = run_duration(wn)
    if int(wn.options.time.duration) <= 0:
        hours = duration / SECONDS_PER_HOUR
        out.append(warning("dma-single-period",
                           f"the model is a single period (duration 0 h): the checks ran {hours:g} h of its "
                           "demand patterns",
                           fix="set [TIMES] DURATION (e.g. 24:00) so that the model says which day the "
                               "design was checked over"))
    step = int(wn.options.time.pattern_timestep or SECONDS_PER_HOUR)
    demand = system_demand(wn, list(range(0, duration + 1, max(step, 1))))
    top = float(demand.abs().max()) if len(demand) else 0.0
    if top > 0 and float(demand.max() - demand.min()) <= CONSTANT_DEMAND_SPREAD * top:
        out.append(warning("dma-constant-demand",
                           "demands do not vary over the run (no demand patterns): peak and night are the "
                           "same demand, so the night pressures (AZNP) and the peak-hour checks describe "
                           "one instant, not a day",
                           fix="add diurnal demand patterns before trusting the design"))
    return out


def _check_band(size: tuple[float, float]) -> tuple[float, float]:
    low, high = float(size[0]), float(size[1])
    if not 0 <= low <= high or high <= 0:
        msg = f"size band {low:g}:{high:g} is empty: give size = (MIN, MAX) with 0 <= MIN <= MAX"
        raise InputError(msg)
    return low, high


def _design(wn: wntr.network.WaterNetworkModel, session: Any, log: StageLog, *, before: Any,
            before_suspect: dict[int, list[str]], bounds: PhysicalBounds, band: tuple[float, float],
            used_by: SizeBy,
            sizes: pd.Series, why_by: str,
            why_band: str, sizes_given: bool, max_inlets: int, min_pressure_m: float,
            fire_flow_m3s: float | None, fire_residual_m: float, exclude_diameter_above_m: float | None,
            transmission: tuple[str, ...], trunk: str, seed: int,
            water_age: bool, max_rounds: int, demand_nodes: set[str], progress: Progress | None,
            time_budget_s: float) -> DesignResult:
    t_peak = peak_hour(wn)
    flows_all = before.flowrate_m3s
    peak_flows = flows_all.loc[t_peak] if t_peak in flows_all.index else flows_all.iloc[0]
    warnings: list[Finding] = period_warnings(wn)
    with log.stage("transmission") as stage:
        forced = forced_transmission(wn, exclude_diameter_above_m=exclude_diameter_above_m,
                                     transmission=transmission)
        trunk_reasons: dict[str, str] = {}
        method = "diameter" if exclude_diameter_above_m is not None else trunk
        notes: list[Finding] = []
        if method == "auto":
            total = float(sizes.sum())
            share = band[1] / total if total > 0 else 1.0
            required = before.demand_m3s + before.deficit_m3s
            row = required.loc[t_peak] if t_peak in required.index else required.iloc[0]
            # a group cut off by the trunk needs about the band's minimum in junctions to be a DMA
            per_junction = total / max(len(sizes), 1)
            min_group = int(np.ceil(band[0] / per_junction)) if per_junction > 0 else 1
            found = trunk_mains(wn, peak_flows, float(row.clip(lower=0).sum()), share=share, forced=forced,
                                min_group=min_group)
            trunk_reasons, notes = found.reasons, found.notes
        dist = distribution_network(wn, size_by=used_by, exclude_diameter_above_m=exclude_diameter_above_m,
                                    transmission=transmission, trunk=trunk_reasons, size=sizes)
        on_mains = {j for j, why in dist.transmission_junctions.items() if why.startswith(ON_MAIN)}
        share_j = len(on_mains) / max(wn.num_junctions, 1)
        inside = count(len(dist.internal_links), "valve, pump or check-valve pipe",
                       "valves, pumps and check-valve pipes")
        stage.summary = (f"{len(dist.transmission_links)} transmission links ({len(trunk_reasons)} trunk "
                         f"mains found from the flows at peak), {len(on_mains)} junctions on them "
                         f"({share_j:.0%} of all); {inside} between distribution junctions kept inside DMAs")
        stage.figures = {"method": {"auto": "flows at peak", "none": "pumps, valves and tank links only",
                                    "diameter": "diameter"}[method],
                         "links": len(dist.transmission_links), "trunk_mains": len(trunk_reasons),
                         "junctions": len(on_mains), "junction_share": round(share_j, 4),
                         "notes": [note.to_dict() for note in notes],
                         "inside_dmas": len(dist.internal_links)}
        if share_j > MAX_TRANSMISSION_SHARE:
            warnings.append(_transmission_share_warning(share_j, method, exclude_diameter_above_m))
    with log.stage("partition") as stage:
        # a default band is filled to its preferred top (IWA: 2500 of 3000), leaving room for repairs
        target = None if sizes_given else band[1] * PREFERRED_CONNECTION_MAX / DEFAULT_CONNECTION_BAND[1]
        parts = partition_graph(dist.graph, min_size=band[0], max_size=band[1], target_max=target, seed=seed)
        left_out = _small_groups(wn, dist, parts.too_small, band, used_by)
        all_parts = list(parts.parts)
        if not all_parts:
            unit = SIZE_UNITS[used_by]
            total = float(dist.size.reindex(list(dist.graph.nodes)).sum())
            msg = (f"no DMA can be formed in the size band {band[0]:g}-{band[1]:g} {unit}: the "
                   f"distribution mains hold {total:g} {unit} in {len(parts.too_small)} separate groups, "
                   "each below the minimum; lower the minimum of size, or raise exclude_diameter_above_m")
            raise InputError(msg)
        stage.summary = (f"{len(all_parts)} DMAs, {len(left_out)} junctions in groups cut off by "
                         "transmission too small for a DMA")
        stage.figures = {"parts": len(all_parts), "left_out": len(left_out)}
    settings = {"size_by": used_by, "size_by_reason": why_by, "size": list(band), "size_reason": why_band,
                "max_inlets": max_inlets, "min_pressure_m": min_pressure_m, "fire_flow_m3s": fire_flow_m3s,
                "fire_residual_m": fire_residual_m, "exclude_diameter_above_m": exclude_diameter_above_m,
                "trunk": method, "seed": seed}
    with log.stage("boundary choice") as stage:
        draft = _initial_design(wn, dist, all_parts, left_out, band, used_by, settings)
        draft = replace(draft, boundary=choose_meters(draft.boundary, peak_flows, draft.dma_ids),
                        warnings=warnings + draft.warnings)
        state = RepairState(wn, draft, session, min_pressure_m=min_pressure_m, max_inlets=max_inlets,
                            band=band, dist=dist, before_pressure=before.pressure_m,
                            before_flows=before.flowrate_m3s, before_suspect=before_suspect, bounds=bounds)
        feed_unfed(state, max_rounds=max_rounds)
        stage.summary = (f"{len(state.design.meters)} meters, {len(state.design.new_valves)} boundary valves "
                         f"to close ({int((state.design.boundary.role == 'existing valve').sum())} existing "
                         "reused)")
        stage.figures = {"meters": len(state.design.meters), "valves": len(state.design.new_valves)}
    with log.stage("hydraulic verification") as stage:
        first = state.failures()
        state.first_failing = {f.key for f in first}
        stage.summary = (f"{len(first)} of {len(state.design.dma_ids)} DMAs (or transmission) fail with the "
                         "valves closed" if first else "every DMA keeps its service with the valves closed")
        stage.figures = {"failing": [f.key for f in first]}
    with log.stage("repair") as stage:
        outcome: RepairOutcome = run_repairs(state, fire_flow_m3s=fire_flow_m3s,
                                             fire_residual_m=fire_residual_m, max_rounds=max_rounds,
                                             progress=progress, initial=first, time_budget_s=time_budget_s)
        limit = (f"its time budget ({time_budget_s:.0f} s: {REPAIR_BUDGET_RUNS} all-open runs)"
                 if outcome.out_of_time else f"the limit of {max_rounds} rounds")
        stage.summary = (f"{len(outcome.changes)} changes in {outcome.rounds} rounds"
                         + (f" (stopped at {limit})" if outcome.stopped else ""))
        stage.figures = {"rounds": outcome.rounds, "changes": len(outcome.changes), "max_rounds": max_rounds,
                         "verdicts": outcome.verdicts}
    with log.stage("final check") as stage:
        final = _band_warnings(state.design, band)
        result = evaluate(wn, final, min_pressure_m=min_pressure_m, fire_flow_m3s=fire_flow_m3s,
                          fire_residual_m=fire_residual_m, water_age=water_age, session=session,
                          progress=progress, before=before)
        _add_coverage(result, final, demand_nodes, band)
        boundary_to_transmission = _pipes_to_transmission(final)
        cut = baseline_cut(contract_fixed(dist.graph)[0], len(final.dma_ids),
                           boundary_to_transmission=boundary_to_transmission,
                           seed=seed)
        ours = len(final.meters) + len(final.new_valves)
        result.metrics["baseline_cut"] = {"method": cut.method, "parts": cut.parts, "cut": cut.cut,
                                          "design_meters_and_valves": ours}
        verdict = "passes" if result.metrics["passes"] else (
            "NOT VERIFIED" if not result.metrics["verified"] else "FAILS")
        stage.summary = (f"{verdict}: {result.metrics['n_dmas']} DMAs, {ours} meters and valves "
                         f"({cut.method} cut into as many parts: {cut.cut})")
        stage.figures = {"passes": bool(result.metrics["passes"]),
                         "verified": bool(result.metrics["verified"])}
    give_ups = [found for key, found in state.gave_up.items() if _still_failing(key, result)]
    final = replace(final, warnings=final.warnings + give_ups + result.warnings, stages=log.stages,
                    verdicts=_verdicts(outcome, result))
    return DesignResult(final, result)


def _transmission_share_warning(share_j: float, method: str,
                                exclude_diameter_above_m: float | None) -> Finding:
    """Warn that transmission links take too many junctions out of the DMAs."""
    message = (f"{share_j:.0%} of the junctions are on transmission links (more than "
               f"{MAX_TRANSMISSION_SHARE:.0%}): ")
    if method != "diameter":
        return warning("dma-transmission-share",
                       message + "pumps, valves and the links of tanks and reservoirs alone touch this many")
    return warning("dma-transmission-share",
                   message + f"exclude_diameter_above_m = {exclude_diameter_above_m:g} m makes many "
                   "distribution pipes transmission mains",
                   fix="raise exclude_diameter_above_m, or leave it out to find the trunk from the flows")


def _still_failing(key: str, evaluation: DmaEvaluation) -> bool:
    """Return True when a give-up still matters (a later repair elsewhere often mends the DMA)."""
    if key == TRANSMISSION:
        return bool(evaluation.metrics.get("transmission_problems"))
    table = evaluation.dmas
    return key not in table.index or table.at[key, "status"] != "passes"


def _verdicts(outcome: RepairOutcome, evaluation: DmaEvaluation) -> dict[str, str]:
    """One verdict per DMA: the final status, with what the repair loop did."""
    out = {}
    for dma, row in evaluation.dmas.iterrows():
        history = outcome.verdicts.get(str(dma), "")
        if row.status == "passes":
            out[str(dma)] = "passes" + (" (repaired)" if history == "repaired" else "")
        else:
            out[str(dma)] = f"{row.status}: {row.problems}"
    return out


def _add_coverage(evaluation: DmaEvaluation, design: DmaDesign, demand_nodes: set[str],
                  band: tuple[float, float]) -> None:
    """Add coverage figures: demand junctions inside DMAs, DMAs within the band."""
    inside = set(design.assignment.index)
    sizes = design.dma_size()
    in_band = [band[0] - 1e-9 <= v <= band[1] + 1e-9 for v in sizes.to_numpy()]
    evaluation.metrics.update({
        "demand_junctions": len(demand_nodes),
        "demand_junctions_in_dmas": len(demand_nodes & inside),
        "coverage": (len(demand_nodes & inside) / len(demand_nodes)) if demand_nodes else 1.0,
        "dmas_in_band": int(sum(in_band)),
        "dmas_in_band_fraction": (sum(in_band) / len(in_band)) if in_band else 1.0,
    })


def _pipes_to_transmission(design: DmaDesign) -> int:
    """Pipes any partition of these DMAs must meter or close: from a DMA junction to the transmission side."""
    b = design.boundary
    return int(((b.dma_start == TRANSMISSION) | (b.dma_end == TRANSMISSION))[~b.existing].sum())


def _small_groups(wn: wntr.network.WaterNetworkModel, dist: DistributionNetwork,
                  groups: list[frozenset[str]], band: tuple[float, float], size_by: str) -> dict[str, str]:
    """Say why the junctions of groups cut off by transmission below the band's minimum are in no DMA.

    Such a group has no neighbouring DMA to merge with (transmission surrounds it), and a DMA
    below the band would be one the band rules out: its junctions are reported, each with
    the transmission links that feed the group.
    """
    unit = SIZE_UNITS[size_by]
    left_out: dict[str, str] = {}
    for group in groups:
        total = float(dist.size.reindex(list(group)).sum())
        mains = sorted({link for j in group for n in _neighbours(wn, j) if n in dist.transmission_junctions
                        for link in wn.get_links_for_node(n) if link in dist.transmission_links})
        fed = "fed only from transmission" + (f" ({', '.join(mains[:3])})" if mains else "")
        junctions = count(len(group), "junction")
        for j in group:
            left_out[j] = (f"{fed}: a group of {junctions}, {total:g} {unit} in all, too few to make a DMA "
                           f"(below the band's minimum {band[0]:g}), and no neighbouring DMA to merge with")
    return left_out


def _neighbours(wn: wntr.network.WaterNetworkModel, junction: str) -> list[str]:
    ends = (link_ends(wn, name) for name in wn.get_links_for_node(junction))
    return [b if a == junction else a for a, b in ends]


def from_assignment(
    wn: wntr.network.WaterNetworkModel,
    assignment: pd.Series,
    *,
    roles: pd.DataFrame | None = None,
    size_by: SizeBy = "nodes",
    connections: pd.Series | None = None,
    max_inlets: int = 2,
    min_pressure_m: float = 15.0,
    fire_flow_m3s: float | None = None,
    fire_residual_m: float = 14.0,
    exclude_diameter_above_m: float | None = None,
    transmission: Iterable[str] = (),
    repair: bool = True,
    water_age: bool = True,
    left_out: dict[str, str] | None = None,
    findings: Iterable[Finding | str] = (),
    size_band: tuple[float, float] | None = None,
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
    size_by, connections, max_inlets, min_pressure_m, fire_flow_m3s, fire_residual_m
        As in :func:`design`.
    exclude_diameter_above_m, transmission
        Transmission mains; junctions on them are taken out of the DMAs, with a warning.
    repair : bool
        Add inlet meters where the closures fail (only when ``roles`` is not given).
    water_age : bool
        Compute water age at new dead ends.
    left_out : dict, optional
        Junctions already known to be outside every DMA, with the reason.
    findings : iterable of Finding or str
        Findings from reading the DMAs (:func:`nrwkit.dma.polygons.assignment_from_polygons`),
        carried into the warnings; plain text becomes a ``dma-legacy`` warning.
    size_band : (float, float), optional
        The band the DMAs were designed for (a saved design's), for the coverage figures.

    Returns
    -------
    DesignResult
    """
    dist = distribution_network(wn, size_by=size_by, exclude_diameter_above_m=exclude_diameter_above_m,
                                transmission=transmission, connections=connections)
    unknown = sorted(set(assignment.index) - set(wn.junction_name_list))
    if unknown:
        msg = f"junctions {', '.join(unknown[:5])} of the design are not in the network"
        raise InputError(msg)
    held = [j for j in assignment.index if j in dist.transmission_junctions]
    warnings = as_findings(findings)
    outside = sorted(j for j, why in (left_out or {}).items()
                     if j not in dist.transmission_junctions and why.startswith("outside every polygon"))
    if outside:
        warnings.append(warning("dma-outside",
                                f"{count(len(outside), 'junction')} {'lies' if len(outside) == 1 else 'lie'} "
                                f"outside every DMA ({list_ids(outside)}); they are left in the transmission "
                                "system",
                                fix="extend a DMA to take them in", elements=outside, element_type="node"))
    if held:
        verb = "is" if len(held) == 1 else "are"
        warnings.append(warning("dma-on-transmission",
                                f"{count(len(held), 'junction')} inside DMAs {verb} on transmission links "
                                f"and left out ({list_ids(held)})",
                                elements=held, element_type="node"))
    kept = assignment.drop(held).astype(str)
    if kept.empty:
        raise InputError("no junction is left in any DMA once transmission junctions are taken out")
    sizes = dist.size.reindex(kept.index).groupby(kept.to_numpy()).sum()
    band = (float(sizes.min()), float(sizes.max()))
    settings = {"size_by": size_by, "size": None, "max_inlets": max_inlets, "min_pressure_m": min_pressure_m,
                "fire_flow_m3s": fire_flow_m3s, "fire_residual_m": fire_residual_m,
                "exclude_diameter_above_m": exclude_diameter_above_m, "user_defined": True}
    out = assemble(wn, dist, kept.sort_index(), size_by=size_by, band=band, settings=settings,
                   left_out=left_out)
    out = replace(out, warnings=warnings)
    before: ExtendedPeriod | None = None  # the all-open run, made once when meters are chosen here
    with open_session(wn, min_pressure_m, water_age) as session:
        if roles is not None:
            out = _apply_roles(out, roles)
        else:
            before = session.run(duration_s=run_duration(wn), report_step_s=HOUR_S,
                                 links=list(wn.link_name_list))
            bounds = physical_bounds(wn, before)
            work = RepairState(wn, out, session, min_pressure_m=min_pressure_m, max_inlets=max_inlets,
                               dist=dist,
                               band=(band[0], 0.0), before_pressure=before.pressure_m,
                               before_flows=before.flowrate_m3s,
                               before_suspect=suspect_hours(wn, before, bounds),
                               bounds=bounds)
            # first meters as in design(): the all-open run's flows at its peak hour
            work.design = out = replace(out, boundary=choose_meters(out.boundary, work.peak_flows(),
                                                                    out.dma_ids))
            if repair:
                feed_unfed(work)
                run_repairs(work, fire_flow_m3s=fire_flow_m3s, fire_residual_m=fire_residual_m)
                out = work.design
        result = evaluate(wn, out, min_pressure_m=min_pressure_m, fire_flow_m3s=fire_flow_m3s,
                          fire_residual_m=fire_residual_m, water_age=water_age, session=session,
                          before=before)
        if roles is None and repair:
            out = replace(out, warnings=out.warnings + [t for k, t in work.gave_up.items()
                                                        if _still_failing(k, result)])
    inlets = inlets_per_dma(out.boundary)
    extra = [warning("dma-too-many-inlets",
                     f"{d}: {int(n)} inlet meters, more than max_inlets = {max_inlets}",
                     fix="allow more inlets (max_inlets) or redraw the DMA", elements=[str(d)],
                     element_type="dma")
             for d, n in inlets.items() if d != TRANSMISSION and n > max_inlets]
    demand_nodes = demand_junctions(wn)
    _add_coverage(result, out, demand_nodes, (size_band[0], size_band[1]) if size_band else band)
    out = replace(out, warnings=out.warnings + extra + result.warnings,
                  verdicts={str(d): ("passes" if r.status == "passes" else f"{r.status}: {r.problems}")
                            for d, r in result.dmas.iterrows()})
    return DesignResult(out, result)


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
        warnings.append(warning("dma-meters-ignored",
                                f"meters on {list_ids(extra)} are not on a DMA boundary and are ignored",
                                elements=extra, element_type="link"))
    return replace(design, boundary=boundary, warnings=warnings)


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
        internal_links=pd.Series({name: reason for name, reason in dist.internal_links.items()
                                  if wn.get_link(name).start_node_name in assignment.index},
                                 dtype=object, name="reason").rename_axis("link"),
    )


def _initial_design(wn: wntr.network.WaterNetworkModel, dist: DistributionNetwork,
                    parts: list[frozenset[str]], left_out: dict[str, str],
                    band: tuple[float, float], size_by: str, settings: dict[str, Any]) -> DmaDesign:
    ordered = sorted(parts, key=lambda p: (-len(p), sorted(p)[0]))
    width = max(2, len(str(len(ordered))))
    assignment = pd.Series({j: f"DMA-{k + 1:0{width}d}" for k, part in enumerate(ordered) for j in part},
                           dtype=object).sort_index()
    out = assemble(wn, dist, assignment, size_by=size_by, band=band, settings=settings, left_out=left_out)
    warnings = []
    if left_out:
        one = len(left_out) == 1
        warnings.append(warning("dma-left-out",
                                f"{count(len(left_out), 'junction')} {'is' if one else 'are'} in no DMA: "
                                f"{'its group is' if one else 'their groups are'} too small for a DMA "
                                "(see unassigned junctions)",
                                elements=sorted(left_out), element_type="node"))
    return replace(out, warnings=warnings)


def _band_warnings(design: DmaDesign, band: tuple[float, float]) -> DmaDesign:
    sizes = design.dma_size()
    unit = SIZE_UNITS.get(design.size_by, design.size_by)
    out = [warning("dma-outside-band",
                   f"{dma}: {value:g} {unit}, outside the band {band[0]:g}-{band[1]:g} (no neighbour could "
                   "take it or give to it)", elements=[str(dma)], element_type="dma")
           for dma, value in sizes.items() if not band[0] <= value <= band[1]]
    return replace(design, warnings=design.warnings + out)
