"""Prove a DMA design still serves the customers: before/after hydraulics and metrics.

Everything runs on one :class:`nrwkit.hydraulics.HydraulicSession` with pressure-dependent
demand (EPANET 2.2 PDA: demand in full at the minimum service pressure, none at 0 m): an
extended-period run before and after the boundary valves are closed (pressure at the
peak-demand hour and at the night hour, demand delivered), a fire flow at each DMA's
critical node, and water age at the dead ends the closures create.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import wntr

from ..findings import Finding, list_ids, warning
from ..gis.customers import connections as stored_connections
from ..hydraulics import ExtendedPeriod, HydraulicSession, system_demand
from ..units import DAY_S, HOUR_S, LITRES_PER_M3, METRES_PER_KM, MM_PER_M
from .divide import TRANSMISSION, dead_ends, unfed_dmas
from .metrics import modularity, size_cv, todini_index
from .model import DmaDesign
from .network import demand_junctions, junction_sizes

Progress = Callable[[str, int, int], None]

__all__ = ["DmaEvaluation", "PRESSURE_TOLERANCE_M", "evaluate", "open_session",
           "service_pressure", "suspect_hours", "PhysicalBounds", "physical_bounds", "duty_heads",
           "pump_lifts", "head_ceiling"]

#: A junction fails when the design lowers it below the service pressure by more than this.
PRESSURE_TOLERANCE_M = 1.0
#: Water age is averaged over the last day of a run this long.
AGE_RUN_S = 72 * HOUR_S
#: A new dead end whose mean age over the last day is this high was never renewed in the run.
AGE_CEILING_H = 48.0


@dataclass(frozen=True)
class DmaEvaluation:
    """Before/after hydraulics of a DMA design.

    Attributes
    ----------
    dmas : pandas.DataFrame
        One row per DMA (index = DMA id) with sizes, pressures before and after, AZNP,
        critical node, fire-flow residuals, and ``problems`` (empty when it passes).
    metrics : dict
        Network-wide figures (see :func:`evaluate`).
    schedule : pandas.DataFrame
        One row per boundary pipe: what a field crew does there, with flows a meter must
        register (night) and pass (peak), l/s.
    dead_ends : pandas.DataFrame
        Junctions the closures leave at a dead end, with water age before and after (h).
    warnings : list of Finding
        Failures and pre-existing problems, each with a stable ``dma-...`` code.
    """

    dmas: pd.DataFrame
    metrics: dict[str, Any]
    schedule: pd.DataFrame
    dead_ends: pd.DataFrame
    warnings: list[Finding] = field(default_factory=list)

    @property
    def passes(self) -> bool:
        """True when the design pushes no junction (in a DMA or not) below the criteria."""
        return bool(self.metrics["passes"])


def service_pressure(wn: wntr.network.WaterNetworkModel, min_pressure_m: float) -> pd.Series:
    """Pressure each junction must keep: ``min_pressure_m`` where customers draw water, else 0 m.

    A junction without demand serves no one, so it fails only when the closures take it
    below 0 m (cut off or drained: a pump's suction, a PRV's inlet), not below the service
    pressure.
    """
    customers = demand_junctions(wn)
    return pd.Series({n: (min_pressure_m if n in customers else 0.0) for n in wn.junction_name_list},
                     name="service_m")


#: A pump given by a head curve adds at most this times the curve's highest head.
CURVE_LIFT_FACTOR = 1.5
#: A pump given by its power (EPANET: head = power / (rho g flow), unbounded as the flow
#: falls) adds at most this times its duty head, the median head it adds while running in
#: the network as given: a real centrifugal pump's shut-off head is 1.1-1.6 times its duty
#: head (Karassik et al., *Pump Handbook*, 4th ed., ch. 2).
POWER_LIFT_FACTOR = 2.0
#: Lift of a power pump that never runs in the reference run (nor any other power pump), m.
UNKNOWN_LIFT_M = 300.0


def duty_heads(wn: wntr.network.WaterNetworkModel, pressure_m: pd.DataFrame | None = None,
               flows_m3s: pd.DataFrame | None = None) -> dict[str, float]:
    """Return the duty head of each pump given by power, m: the median head it adds while running.

    Taken from a reference run (``pressure_m`` of the junctions and ``flows_m3s`` of the links, as
    :class:`~nrwkit.hydraulics.ExtendedPeriod` holds them; a tank or reservoir end counts at
    its initial head). Pumps with a head curve, and power pumps that never run in the
    reference, are left out.
    """
    out: dict[str, float] = {}
    for name, pump in wn.pumps():
        if not _is_power_pump(pump):
            continue
        duty = _duty_head(wn, name, pressure_m, flows_m3s)
        if duty is not None:
            out[name] = duty
    return out


def _is_power_pump(pump: Any) -> bool:
    return not (getattr(pump, "pump_type", "HEAD") == "HEAD" and getattr(pump, "pump_curve_name", None))


def pump_lifts(wn: wntr.network.WaterNetworkModel, duty: dict[str, float] | None = None) -> dict[str, float]:
    """Return the most head each pump can add, m.

    A pump with a head curve: :data:`CURVE_LIFT_FACTOR` times the curve's highest head. A
    pump given by power: :data:`POWER_LIFT_FACTOR` times its duty head (see
    :func:`duty_heads`); for one without a duty head, the largest such lift among the other
    power pumps, else :data:`UNKNOWN_LIFT_M`.
    """
    duty = duty or {}
    lifts: dict[str, float] = {}
    for name, pump in wn.pumps():
        if not _is_power_pump(pump):
            points = wn.get_curve(pump.pump_curve_name).points
            lifts[name] = CURVE_LIFT_FACTOR * max((float(h) for _, h in points), default=0.0)
        elif name in duty:
            lifts[name] = POWER_LIFT_FACTOR * duty[name]
    known = [POWER_LIFT_FACTOR * h for h in duty.values()]
    for name in wn.pump_name_list:
        lifts.setdefault(name, max(known, default=UNKNOWN_LIFT_M))
    return lifts


def _duty_head(wn: wntr.network.WaterNetworkModel, pump: str, pressure: pd.DataFrame | None,
               flows: pd.DataFrame | None) -> float | None:
    """Median head a pump adds while it runs in a reference run, m (None if it never runs)."""
    if pressure is None or flows is None or pump not in flows.columns:
        return None
    link = wn.get_link(pump)
    running = flows[pump].reindex(pressure.index) > 1e-6
    if not running.any():
        return None
    heads = [_node_head(wn, n, pressure.loc[running]) for n in (link.start_node_name, link.end_node_name)]
    gain = (heads[1] - heads[0]).to_numpy(dtype=float)
    gain = gain[np.isfinite(gain)]
    return float(np.median(gain)) if gain.size and np.median(gain) > 0 else None


def _node_head(wn: wntr.network.WaterNetworkModel, name: str, pressure: pd.DataFrame) -> pd.Series:
    node = wn.get_node(name)
    if name in pressure.columns:
        return pressure[name] + float(node.elevation)
    head = getattr(node, "base_head", None)
    if head is None:  # a tank, at its initial level
        head = float(node.elevation) + float(getattr(node, "init_level", 0.0))
    return pd.Series(float(head), index=pressure.index)


def _source_heads(wn: wntr.network.WaterNetworkModel) -> dict[str, float]:
    """Highest head of each reservoir (with its pattern) and tank (full), m."""
    heads = {}
    for name, reservoir in wn.reservoirs():
        mult = 1.0
        timeseries = getattr(reservoir, "head_timeseries", None)
        pattern = getattr(timeseries, "pattern", None)
        if pattern is not None and len(pattern.multipliers):
            mult = float(np.max(pattern.multipliers))
        heads[name] = float(reservoir.base_head) * max(mult, 1.0)
    for name, tank in wn.tanks():
        heads[name] = float(tank.elevation) + float(getattr(tank, "max_level", 0.0))
    return heads


def head_ceiling(wn: wntr.network.WaterNetworkModel, lifts: dict[str, float]) -> float:
    """Return the highest head any junction can reach, m.

    Energy only dissipates along pipes and valves, so within a group of junctions joined by
    them the head stays below the highest head fed in: a source's (reservoir, full tank) or
    a pump's discharge, which is at most the head on its suction side plus its lift. Pumps
    in series add their lifts; pumps in parallel do not. When pumps feed each other in a
    loop the bound falls back to the highest source plus every pump's lift.
    """
    sources = _source_heads(wn)
    graph = nx.Graph()
    graph.add_nodes_from(wn.junction_name_list)
    for _, link in wn.links():
        ends = (link.start_node_name, link.end_node_name)
        if link.link_type != "Pump" and all(e not in sources for e in ends):
            graph.add_edge(*ends)
    group = {n: k for k, part in enumerate(nx.connected_components(graph)) for n in part}
    ceiling = np.full(len(set(group.values())), -np.inf)
    for _, link in wn.links():
        if link.link_type == "Pump":
            continue
        for a, b in ((link.start_node_name, link.end_node_name), (link.end_node_name, link.start_node_name)):
            if a in sources and b in group:
                ceiling[group[b]] = max(ceiling[group[b]], sources[a])
    pumps = [(link.start_node_name, link.end_node_name, lifts.get(name, UNKNOWN_LIFT_M))
             for name, link in wn.pumps()]
    top = max(sources.values(), default=-np.inf)
    for _ in range(len(ceiling) + 1):
        changed = False
        for start, end, lift in pumps:
            if end not in group:
                continue  # a pump filling a tank: the tank's top bounds it
            suction = sources[start] if start in sources else ceiling[group[start]]
            if suction + lift > ceiling[group[end]] + 1e-9:
                ceiling[group[end]] = suction + lift
                changed = True
        if not changed:
            break
    else:
        return top + sum(lift for _, _, lift in pumps)
    finite = ceiling[np.isfinite(ceiling)]
    return float(max(top, finite.max() if finite.size else -np.inf))


@dataclass(frozen=True)
class PhysicalBounds:
    """What a trusted run of a network can show.

    Attributes
    ----------
    low_m, high_m : float
        Range of physically possible junction pressures, m.
    duty_head_m : dict
        Duty head of each power pump (:func:`duty_heads`), m: a run that drives one beyond
        :data:`POWER_LIFT_FACTOR` times it is not trusted.
    """

    low_m: float
    high_m: float
    duty_head_m: dict[str, float] = field(default_factory=dict)


def physical_bounds(wn: wntr.network.WaterNetworkModel, reference: ExtendedPeriod | None = None
                    ) -> PhysicalBounds:
    """Return what a trusted run of a network can show, from a reference run of it as given.

    No junction head can exceed :func:`head_ceiling` (sources, and pumps in series with the
    lifts of :func:`pump_lifts`), and no junction sits more than that ceiling above the
    lowest junction below it: pressures within ``(-span, span)``, ``span`` = the ceiling
    minus the lowest junction elevation, plus 50 m of margin. A pump given by power may add
    at most :data:`POWER_LIFT_FACTOR` times its duty head in ``reference``: EPANET's
    head = power / (rho g flow) grows without bound as its flow falls, which no real pump
    does. A run outside these did not converge to anything physical, whatever EPANET's
    status said.
    """
    pressure = reference.pressure_m if reference is not None else None
    flows = reference.flowrate_m3s if reference is not None else None
    duty = duty_heads(wn, pressure, flows)
    elevations = [float(j.elevation) for _, j in wn.junctions()]
    lifts = pump_lifts(wn, duty)
    if not wn.num_reservoirs + wn.num_tanks:
        ceiling = max(elevations, default=0.0) + sum(lifts.values())
    else:
        ceiling = head_ceiling(wn, lifts)
    ceiling = max(ceiling, max(elevations, default=0.0))
    span = ceiling - min(elevations, default=0.0) + 50.0
    return PhysicalBounds(-span, span, duty)


def _overdriven(wn: wntr.network.WaterNetworkModel, run: ExtendedPeriod,
                duty: dict[str, float]) -> pd.DataFrame:
    """Hours x pump end junctions where a running power pump adds more than its bound allows.

    A pump is judged only at hours the run says it is open: EPANET reports a flow of
    exactly zero for a closed pump, which holds any head across its check valve, while an
    open one that can draw almost nothing (a suction pocket cut off from every source)
    still adds power / flow.
    """
    pressure = run.pressure_m
    flags = pd.DataFrame(False, index=pressure.index, columns=pressure.columns)
    flows = run.flowrate_m3s
    for name, head in duty.items():
        if flows is None or name not in flows.columns:
            continue
        link = wn.get_link(name)
        ends = (link.start_node_name, link.end_node_name)
        gain = _node_head(wn, ends[1], pressure) - _node_head(wn, ends[0], pressure)
        running = flows[name].reindex(pressure.index).fillna(0.0).abs() > 0.0
        over = ((gain > POWER_LIFT_FACTOR * head) & running).to_numpy()
        for end in ends:
            if end in flags.columns:
                flags.loc[over, end] = True
    return flags


def suspect_hours(wn: wntr.network.WaterNetworkModel, run: ExtendedPeriod,
                  bounds: PhysicalBounds | None = None) -> dict[int, list[str]]:
    """Return the reporting hours of a run that cannot be trusted, with the junctions involved.

    An hour is suspect when EPANET reported a step unbalanced since the previous report, or
    when the run leaves ``bounds`` (default: :func:`physical_bounds` with the run itself as
    reference; pass the bounds of the network as given when judging a changed one): a
    junction's pressure outside them or not a number, or a power pump driven beyond its
    lift. The junctions named are those outside the bounds (the pump's ends), else the
    three lowest pressures then.

    Returns
    -------
    dict
        Hour (s) -> junction names (empty list when EPANET names no element).
    """
    pressure = run.pressure_m
    if pressure.empty:
        return {}
    bounds = bounds if bounds is not None else physical_bounds(wn, run)
    values = pressure.to_numpy()
    wild = (~np.isfinite(values) | (values < bounds.low_m) | (values > bounds.high_m)
            | _overdriven(wn, run, bounds.duty_head_m).to_numpy())
    times = pressure.index.to_numpy()
    out: dict[int, list[str]] = {}
    for k in np.flatnonzero(wild.any(axis=1)):
        cols = pressure.columns[wild[k]]
        order = np.argsort(-np.abs(np.nan_to_num(values[k, wild[k]], nan=np.inf)), kind="stable")
        out[int(times[k])] = [str(cols[i]) for i in order]
    for t in run.unbalanced_s:
        # the report at or after the unbalanced step carries its result
        later = times[times >= t]
        if not len(later):
            continue
        hour = int(later[0])
        if hour not in out:
            row = pressure.loc[hour]
            out[hour] = [str(n) for n in row.nsmallest(3).index]
    return dict(sorted(out.items()))


def check_step(wn: wntr.network.WaterNetworkModel) -> int:
    """Return the hydraulic step of the checks' runs, s.

    The model's own step, but at least its pattern step up to one hour: the checks report
    hourly and demands change only at pattern steps, while EPANET still stops at every
    control time and at every tank that fills or empties. A model stepped by the minute
    (ky15 in the benchmark sweep) otherwise makes each check run 60 times the work for the
    same hourly pressures.
    """
    times = wn.options.time
    step = int(times.hydraulic_timestep or HOUR_S)
    return max(step, min(int(times.pattern_timestep or HOUR_S), HOUR_S))


def open_session(wn: wntr.network.WaterNetworkModel, min_pressure_m: float,
                 water_age: bool = False) -> HydraulicSession:
    """Open the session DMA checks run on: pressure-dependent demand, full at ``min_pressure_m``.

    Its hydraulic step is :func:`check_step`.
    """
    return HydraulicSession(wn, demand_model="PDD", required_pressure_m=min_pressure_m,
                            minimum_pressure_m=0.0, pressure_exponent=0.5, water_age=water_age,
                            hydraulic_step_s=check_step(wn))


#: The checks' run covers the model's duration up to this long (multi-day models whose
#: patterns do not repeat daily, like BWSN Network 2's 48 hours, are checked whole).
MAX_RUN_S = 72 * HOUR_S


def run_duration(wn: wntr.network.WaterNetworkModel) -> int:
    """Return the length of the checks' run in s: the model's duration, up to 72 h.

    A single-period model is run for 24 h.
    """
    duration = int(wn.options.time.duration)
    return min(duration, MAX_RUN_S) if duration > 0 else DAY_S


def peak_hour(wn: wntr.network.WaterNetworkModel) -> int:
    """Return the hour of highest total demand within the checks' run (the first of ties), s.

    The single-period solves of a DMA check (first meter choice, fire flow, Todini) use this
    hour, so that they and the extended-period run talk about the same peak.
    """
    times = range(0, run_duration(wn) + 1, HOUR_S)
    return int(system_demand(wn, times=times).round(12).idxmax())


def _peak_and_night(wn: wntr.network.WaterNetworkModel, run: ExtendedPeriod) -> tuple[int, int]:
    """Return the run's hours of highest and lowest total demand (the first of ties).

    From the patterns (:func:`nrwkit.hydraulics.system_demand`), not from the solved demands,
    so that rounding in the solver never picks one of two equal hours.
    """
    demand = system_demand(wn, times=run.pressure_m.index)
    demand = demand.round(12)
    return int(demand.idxmax()), int(demand.idxmin())


def _eps(session: HydraulicSession, wn: wntr.network.WaterNetworkModel, links: list[str]) -> ExtendedPeriod:
    return session.run(duration_s=run_duration(wn), report_step_s=HOUR_S, links=links)


def evaluate(
    wn: wntr.network.WaterNetworkModel,
    design: DmaDesign,
    *,
    min_pressure_m: float = 15.0,
    fire_flow_m3s: float | None = None,
    fire_residual_m: float = 14.0,
    water_age: bool = True,
    session: HydraulicSession | None = None,
    progress: Progress | None = None,
    before: ExtendedPeriod | None = None,
) -> DmaEvaluation:
    """Compare the network before and after the design's boundary valves are closed.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network as it is (all boundary pipes open).
    design : DmaDesign
        The design to check.
    min_pressure_m : float
        Minimum service pressure at peak, m (also the PDA pressure for full demand).
    fire_flow_m3s : float, optional
        Fire flow drawn at each DMA's critical node at peak (one DMA at a time).
    fire_residual_m : float
        Residual pressure the fire flow must leave at that node, m.
    water_age : bool
        Run two 72-hour water-age simulations when the closures create dead ends.
    session : HydraulicSession, optional
        An open session of ``wn`` (from :func:`open_session`) to reuse.
    progress : callable, optional
        ``progress("verification", done, total)`` after each run.
    before : ExtendedPeriod, optional
        The all-open run of this session over the checks' duration, hourly, with the flows of
        (at least) the boundary pipes, when the caller has it already; else it is run here.

    Returns
    -------
    DmaEvaluation
        ``metrics`` holds ``n_dmas``, ``n_meters``, ``n_boundary_valves`` (new closures),
        ``n_existing_valves``, ``min_pressure_before_m``/``_after_m`` (lowest junction
        pressure at the peak hour), ``delivered_demand_fraction`` (after, over the run) and
        ``_before``, ``todini_before``/``_after`` (also ``resilience_index``; NaN when the
        state did not converge), ``modularity``, ``size_cv``, the peak and night hours,
        ``verified`` (False when the run with the valves closed did not converge at some
        hour: then ``unconverged_hours`` lists them and ``passes`` is False) and ``passes``
        (every DMA's ``status`` is ``"passes"`` and no transmission junction is starved).
    """
    own = session is None
    sess = open_session(wn, min_pressure_m, water_age) if session is None else session
    try:
        return _evaluate(wn, design, sess, min_pressure_m=min_pressure_m, fire_flow_m3s=fire_flow_m3s,
                         fire_residual_m=fire_residual_m, water_age=water_age, progress=progress,
                         before=before)
    finally:
        if own:
            sess.close()


def _evaluate(wn: wntr.network.WaterNetworkModel, design: DmaDesign, session: HydraulicSession, *,
              min_pressure_m: float, fire_flow_m3s: float | None, fire_residual_m: float,
              water_age: bool, progress: Progress | None = None,
              before: ExtendedPeriod | None = None) -> DmaEvaluation:
    closed = set(design.new_valves)
    pipes = list(design.boundary.index) + [p for p in wn.pump_name_list if p not in design.boundary.index]
    steps = 4 + (2 if fire_flow_m3s else 0)
    tick = _ticker(progress, "verification", steps)
    session.reset_status()
    if before is None:
        before = _eps(session, wn, pipes)
    tick()
    peak_snapshot = peak_hour(wn)
    snap_before = session.solve(peak_snapshot, full=True)
    fire_before = _fire(session, design, before, fire_flow_m3s, peak_snapshot)
    if fire_flow_m3s:
        tick()
    session.set_status(closed, open_=False)
    after = _eps(session, wn, pipes)
    tick()
    snap_after = session.solve(peak_snapshot, full=True)
    fire_after = _fire(session, design, after, fire_flow_m3s, peak_snapshot)
    if fire_flow_m3s:
        tick()
    peak, night = _peak_and_night(wn, before)
    warnings: list[Finding] = []

    # hours that cannot be trusted: before (the network as given) and after (the design's doing)
    bounds = physical_bounds(wn, before)
    suspect_before = suspect_hours(wn, before, bounds)
    suspect_after = {t: e for t, e in suspect_hours(wn, after, bounds).items() if t not in suspect_before}
    if suspect_before:
        warnings.append(_not_converged_warning(suspect_before))
    masked = sorted(set(suspect_before) | set(suspect_after))
    trusted_before = _mask(before, masked)
    trusted_after = _mask(after, masked)

    need = service_pressure(wn, min_pressure_m)
    table = _dma_table(wn, design, trusted_before, trusted_after, peak, night, min_pressure_m, need)
    unverified_all = _mark_unverified(table, design, suspect_after)
    _mark_structure(table, _structure_problems(wn, design))
    if fire_flow_m3s:
        warnings += _mark_fire(table, fire_before, fire_after, fire_residual_m)
    warnings += _dma_warnings(table, min_pressure_m)
    transmission_problems = _join(_starved_transmission(design, after, trusted_before, trusted_after, need,
                                                        min_pressure_m), unverified_all)
    if transmission_problems:
        warnings.append(warning("dma-transmission-fails", f"transmission: {transmission_problems}"))

    new_dead = sorted(set(dead_ends(wn, closed)) - set(dead_ends(wn, set())))
    dead = _dead_end_ages(session, wn, design, new_dead, closed, water_age)
    tick()
    session.reset_status()
    warnings += _stale_dead_end_warnings(dead)

    dist_graph = nx.Graph()
    dist_graph.add_nodes_from(design.assignment.index)
    dist_graph.add_edges_from((p.start_node_name, p.end_node_name) for _, p in wn.pipes()
                              if str(p.initial_status).lower() != "closed")
    peak_ok = peak not in masked
    verified = not suspect_after
    statuses = table["status"] if len(table) else pd.Series(dtype=object)
    metrics: dict[str, Any] = {
        "n_dmas": len(design.dma_ids),
        "n_meters": len(design.meters),
        "n_boundary_valves": len(design.new_valves),
        "n_existing_valves": int((design.boundary.role == "existing valve").sum()),
        "n_transmission_junctions": len(design.transmission_junctions),
        "min_pressure_before_m": float(before.pressure_m.loc[peak].min()) if peak_ok else float("nan"),
        "min_pressure_after_m": float(after.pressure_m.loc[peak].min()) if peak_ok else float("nan"),
        "delivered_demand_fraction_before": trusted_before.delivered_fraction,
        "delivered_demand_fraction": trusted_after.delivered_fraction,
        "todini_before": _todini(wn, snap_before, min_pressure_m),
        "todini_after": _todini(wn, snap_after, min_pressure_m),
        "modularity": modularity(dist_graph, [design.junctions(d) for d in design.dma_ids]),
        "size_cv": size_cv(design.dma_size().to_numpy()),
        "peak_time_s": peak,
        "night_time_s": night,
        "transmission_problems": transmission_problems,
        "verified": verified,
        "unconverged_hours": [t / HOUR_S for t in suspect_after],
        "hours_left_out": [t / HOUR_S for t in suspect_before],
        "passes": bool((statuses == "passes").all()) and not transmission_problems and verified,
    }
    metrics["resilience_index"] = metrics["todini_after"]
    metrics["resilience_index_before"] = metrics["todini_before"]
    schedule = _schedule(wn, design, before, after, peak, night)
    return DmaEvaluation(dmas=table, metrics=metrics, schedule=schedule, dead_ends=dead,
                         warnings=warnings)


def _not_converged_warning(suspect_before: dict[int, list[str]]) -> Finding:
    """Warn that the network as given does not converge at some hours (left out of the comparison)."""
    hours = ", ".join(f"{t / HOUR_S:g}" for t in suspect_before)
    junctions = sorted({j for names in suspect_before.values() for j in names})
    named = f" (at {list_ids(junctions)})" if junctions else ""
    return warning("dma-not-converged",
                   f"the network as given does not converge at hour(s) {hours} with every pipe open{named}: "
                   "those hours are left out of the before/after comparison",
                   fix="check the model (nrwkit inspect)", elements=junctions, element_type="node")


def _mark_unverified(table: pd.DataFrame, design: DmaDesign, suspect_after: dict[int, list[str]]) -> str:
    """Mark DMAs whose run with the valves closed did not converge; return the network-wide text."""
    label = design.assignment.to_dict()
    unverified_all = ""
    for t, elements in suspect_after.items():
        names = ", ".join(elements[:5]) or "EPANET names no element"
        text = f"did not converge at hour {t / HOUR_S:g} ({names})"
        if not elements or any(e not in label for e in elements):
            unverified_all = unverified_all or text
        for dma in sorted({label[e] for e in elements if e in label}):
            if dma in table.index and "did not converge" not in table.at[dma, "problems"]:
                table.loc[dma, "problems"] = _join(table.at[dma, "problems"], text)
                table.loc[dma, "status"] = "not verified"
    return unverified_all


def _fail(table: pd.DataFrame, dma: str, why: str) -> None:
    """Add a problem to a DMA's row; a DMA that passed now fails."""
    table.loc[dma, "problems"] = _join(table.at[dma, "problems"], why)
    if table.at[dma, "status"] == "passes":
        table.loc[dma, "status"] = "fails"


def _mark_structure(table: pd.DataFrame, problems: dict[str, str]) -> None:
    """Fail DMAs in pieces or cut off from every source."""
    for dma, why in problems.items():
        _fail(table, dma, why)


def _mark_fire(table: pd.DataFrame, fire_before: dict[str, float], fire_after: dict[str, float],
               fire_residual_m: float) -> list[Finding]:
    """Record fire-flow residuals; fail DMAs the design leaves short; warn where it was short before."""
    table["fire_residual_before_m"] = pd.Series(fire_before)
    table["fire_residual_m"] = pd.Series(fire_after)
    warnings = []
    for dma, residual in fire_after.items():
        prior = fire_before.get(dma, np.inf)
        if residual < fire_residual_m and residual < prior - PRESSURE_TOLERANCE_M:
            _fail(table, dma, f"fire flow leaves {residual:.1f} m < {fire_residual_m:g} m")
        elif residual < fire_residual_m:
            warnings.append(warning("dma-fire-flow",
                                    f"{dma}: the fire flow left {prior:.1f} m before the design already "
                                    f"(< {fire_residual_m:g} m)", elements=[str(dma)], element_type="dma"))
    return warnings


def _dma_warnings(table: pd.DataFrame, min_pressure_m: float) -> list[Finding]:
    """One warning per DMA with problems, or with a peak pressure already low before the design.

    Codes: ``dma-fails``, ``dma-not-verified`` (the run with the valves closed did not
    converge), ``dma-low-pressure`` (low before the design too).
    """
    warnings = []
    for dma, row in table.iterrows():
        if row.problems:
            code = "dma-not-verified" if row.status == "not verified" else "dma-fails"
            warnings.append(warning(code, f"{dma}: {row.problems}", elements=[str(dma)], element_type="dma"))
        elif row.min_pressure_m < min_pressure_m:
            warnings.append(warning("dma-low-pressure",
                                    f"{dma}: {row.min_pressure_m:.1f} m at {row.critical_node} at peak, "
                                    f"below {min_pressure_m:g} m before the design too "
                                    f"({row.min_pressure_before_m:.1f} m)",
                                    elements=[str(dma)], element_type="dma"))
    return warnings


def _starved_transmission(design: DmaDesign, after: ExtendedPeriod, trusted_before: ExtendedPeriod,
                          trusted_after: ExtendedPeriod, need: pd.Series, min_pressure_m: float) -> str:
    """Transmission junctions the design leaves below their service pressure (empty when none)."""
    held = [j for j in design.transmission_junctions.index if j in after.pressure_m.columns]
    low_after = trusted_after.pressure_m[held].min()
    low_before = trusted_before.pressure_m[held].min()
    starved = low_after[(low_after < need.reindex(held)) & (low_after < low_before - PRESSURE_TOLERANCE_M)]
    if not len(starved):
        return ""
    worst = str(starved.idxmin())
    return (f"{count(len(starved), 'transmission junction')} fall below their service "
            f"pressure ({min_pressure_m:g} m, 0 m without demand) "
            f"(lowest {starved[worst]:.1f} m at {worst}, was {low_before[worst]:.1f} m)")


def _stale_dead_end_warnings(dead: pd.DataFrame) -> list[Finding]:
    """Warn about new dead ends whose water reaches the age ceiling."""
    if not len(dead):
        return []
    stale = dead[dead.age_after_h.notna() & (dead.age_after_h >= AGE_CEILING_H)
                 & (dead.age_after_h > dead.age_before_h.fillna(0) + 1.0)]
    if not len(stale):
        return []
    names = [str(j) for j in stale.junction]
    verb = "reaches" if len(stale) == 1 else "reach"
    return [warning("dma-stale-dead-end",
                    f"{count(len(stale), 'new dead end')} {verb} a water age of {AGE_CEILING_H:g} h or more "
                    f"(the run's ceiling: never renewed in {AGE_RUN_S // HOUR_S} h): {list_ids(names)}",
                    fix="flush them, meter the boundary pipe instead of closing it, or loop the main",
                    elements=names, element_type="node")]


def _ticker(progress: Progress | None, stage: str, total: int) -> Callable[[], None]:
    count = [0]

    def tick() -> None:
        count[0] += 1
        if progress is not None:
            progress(stage, min(count[0], total), total)

    return tick


def _mask(run: ExtendedPeriod, hours: list[int]) -> ExtendedPeriod:
    """Return the run without the hours that cannot be trusted."""
    if not hours:
        return run
    keep = ~run.pressure_m.index.isin(hours)
    return ExtendedPeriod(pressure_m=run.pressure_m[keep], demand_m3s=run.demand_m3s[keep],
                          deficit_m3s=run.deficit_m3s[keep],
                          flowrate_m3s=None if run.flowrate_m3s is None else run.flowrate_m3s[keep],
                          converged=run.converged, unbalanced_s=run.unbalanced_s)


def _structure_problems(wn: wntr.network.WaterNetworkModel, design: DmaDesign) -> dict[str, str]:
    """DMAs in pieces (no open link inside joins them) or cut off from every source after closure.

    Links inside a DMA are its pipes not closed in the model and the valves and pumps with
    both ends in it (never closed by the design).
    """
    label = design.assignment.to_dict()
    inside = nx.Graph()
    inside.add_nodes_from(design.assignment.index)
    for _, link in wn.links():
        a, b = link.start_node_name, link.end_node_name
        closed_pipe = link.link_type == "Pipe" and str(link.initial_status).lower() == "closed"
        if a in label and label[a] == label.get(b) and not closed_pipe:
            inside.add_edge(a, b)
    out: dict[str, str] = {}
    for dma in design.dma_ids:
        pieces = sorted(nx.connected_components(inside.subgraph(design.junctions(dma))),
                        key=lambda c: (-len(c), min(c)))
        if len(pieces) > 1:
            out[dma] = (f"falls in {len(pieces)} pieces that no open link inside the DMA joins "
                        f"(e.g. {', '.join(sorted(pieces[1])[:3])}): a DMA must be one connected area")
    for dma in unfed_dmas(wn, design.assignment, set(design.new_valves)):
        out[dma] = _join(out.get(dma, ""), "no open path to a tank or reservoir once the boundary valves "
                                           "are closed")
    return out


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``"1 junction"``, ``"3 junctions"`` (``plural`` when adding an s will not do)."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _todini(wn: wntr.network.WaterNetworkModel, state: Any, p_star: float) -> float:
    if not state.converged:
        return float("nan")  # an unbalanced state breaks the energy balance the index rests on
    return todini_index(wn, state.node_head_m, state.node_demand_m3s, state.flowrate_m3s,
                        required_pressure_m=p_star)


def _dma_table(wn: wntr.network.WaterNetworkModel, design: DmaDesign, before: ExtendedPeriod,
               after: ExtendedPeriod, peak: int, night: int, min_pressure_m: float,
               need: pd.Series) -> pd.DataFrame:
    conns = design.size if design.size_by == "connections" else stored_connections(wn)
    elevation = pd.Series({j: wn.get_node(j).elevation for j in wn.junction_name_list})
    size = design.dma_size()
    daily = junction_sizes(wn, "demand")  # base demands x mean pattern multiplier, m3/day
    label = design.assignment.to_dict()
    length_km: dict[str, float] = {}
    for _, pipe in wn.pipes():
        a = label.get(pipe.start_node_name)
        if a is not None and a == label.get(pipe.end_node_name):
            length_km[a] = length_km.get(a, 0.0) + float(pipe.length) / METRES_PER_KM
    rows = []
    for dma in design.dma_ids:
        nodes = design.junctions(dma)
        weights = conns.reindex(nodes).fillna(0).to_numpy(dtype=float)
        weights = weights if weights.sum() > 0 else np.ones(len(nodes))
        # an hour left out (did not converge) gives no figure, never a number from a bad run
        p_after = after.pressure_m.reindex(index=[peak], columns=nodes).iloc[0]
        p_before = before.pressure_m.reindex(index=[peak], columns=nodes).iloc[0]
        night_after = after.pressure_m.reindex(index=[night], columns=nodes).iloc[0]
        night_before = before.pressure_m.reindex(index=[night], columns=nodes).iloc[0]
        lowest_after = after.pressure_m[nodes].min()
        lowest_before = before.pressure_m[nodes].min()
        frac_after = _delivered(after, nodes)
        frac_before = _delivered(before, nodes)
        boundary = design.boundary_of(dma)
        length = length_km.get(dma, 0.0)
        critical = str(p_after.idxmin()) if p_after.notna().any() else ""
        failing = (lowest_after < need.reindex(nodes)) & (lowest_after < lowest_before - PRESSURE_TOLERANCE_M)
        problems = ""
        if failing.any():
            worst = str(lowest_after[failing].idxmin())
            problems = (f"{count(int(failing.sum()), 'junction')} fall below their service pressure "
                        f"({min_pressure_m:g} m; 0 m without demand) "
                        f"(lowest {lowest_after[worst]:.1f} m at {worst}, was {lowest_before[worst]:.1f} m)")
        if frac_after < frac_before - 0.01:
            problems = _join(problems, f"delivers {frac_after:.1%} of demand (was {frac_before:.1%})")
        rows.append({
            "dma": dma,
            "junctions": len(nodes),
            "size": float(size[dma]),
            "connections": int(conns.reindex(nodes).fillna(0).sum()),
            "demand_m3_per_day": float(daily.reindex(nodes).sum()),
            "length_km": length,
            "inlets": design.inlets(dma),
            "outlets": design.outlets(dma),
            "boundary_valves": sorted(boundary.index[boundary.role != "meter"]),
            "elevation_range_m": float(elevation[nodes].max() - elevation[nodes].min()),
            "min_pressure_before_m": float(p_before.min()),
            "min_pressure_m": float(p_after.min()),
            "avg_pressure_m": float(np.average(p_after, weights=weights)),
            "max_pressure_m": float(p_after.max()),
            "aznp_before_m": float(np.average(night_before, weights=weights)),
            "aznp_m": float(np.average(night_after, weights=weights)),
            "critical_node": critical,
            "lowest_pressure_day_m": float(lowest_after.min()),
            "lowest_time_s": (int(after.pressure_m[nodes].min(axis=1).idxmin())
                              if len(after.pressure_m) else -1),
            "delivered_fraction": frac_after,
            "problems": problems,
            "status": "fails" if problems else "passes",
        })
    return pd.DataFrame(rows).set_index("dma") if rows else pd.DataFrame(
        columns=["problems", "status", "min_pressure_m"]).rename_axis("dma")


def _delivered(run: ExtendedPeriod, nodes: list[str]) -> float:
    """Fraction of the customers' demand delivered at ``nodes`` over a run (inflows left out)."""
    part = ExtendedPeriod(pressure_m=run.pressure_m[nodes], demand_m3s=run.demand_m3s[nodes],
                          deficit_m3s=run.deficit_m3s[nodes], flowrate_m3s=None, converged=run.converged)
    return part.delivered_fraction


def _fire(session: HydraulicSession, design: DmaDesign, run: ExtendedPeriod, fire_flow_m3s: float | None,
          peak_time: int) -> dict[str, float]:
    """Residual pressure at each DMA's critical node with the fire flow drawn there, at peak.

    The critical node is the DMA's lowest junction at the peak hour of ``run``; the fire
    flow is drawn in a single-period solve at that same hour.
    """
    if not fire_flow_m3s:
        return {}
    peak = peak_time if peak_time in run.pressure_m.index else int(run.pressure_m.index[0])
    residual = {}
    for dma in design.dma_ids:
        nodes = design.junctions(dma)
        critical = str(run.pressure_m.loc[peak, nodes].idxmin())
        with session.extra_demand(critical, fire_flow_m3s):
            state = session.solve(peak_time)
        residual[dma] = float(state.pressure_m[critical])
    return residual


def _dead_end_ages(session: HydraulicSession, wn: wntr.network.WaterNetworkModel, design: DmaDesign,
                   new_dead: list[str], closed: set[str], water_age: bool) -> pd.DataFrame:
    columns = ["junction", "dma", "age_before_h", "age_after_h"]
    if not new_dead:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame({"junction": new_dead,
                          "dma": [design.assignment.get(j, TRANSMISSION) for j in new_dead]})
    if water_age:
        age_before, age_after = water_age_before_after(session, closed)
        frame["age_before_h"] = age_before.reindex(new_dead).to_numpy()
        frame["age_after_h"] = age_after.reindex(new_dead).to_numpy()
    else:
        frame["age_before_h"] = np.nan
        frame["age_after_h"] = np.nan
    return frame[columns]


def _age_run(inp: str, closed: list[str]) -> pd.Series:
    with HydraulicSession.from_file(inp) as session:
        session.set_status(closed, open_=False)
        return session.water_age(duration_s=AGE_RUN_S)


def water_age_before_after(session: HydraulicSession, closed: set[str]) -> tuple[pd.Series, pd.Series]:
    """Mean water age (h) over the last day of a 72-hour run, before and after the closures.

    The two runs are independent EPANET projects on the session's file, run side by side in
    two processes (quality routing dominates a DMA check's time on large networks).
    """
    from concurrent.futures import ProcessPoolExecutor

    try:
        with ProcessPoolExecutor(max_workers=2) as pool:
            jobs = [pool.submit(_age_run, str(session.inp_path), names) for names in ([], sorted(closed))]
            before, after = (job.result() for job in jobs)
    except (OSError, RuntimeError):  # no processes here (e.g. a sandbox): one after the other
        session.reset_status()
        before = session.water_age(duration_s=AGE_RUN_S)
        session.set_status(closed, open_=False)
        after = session.water_age(duration_s=AGE_RUN_S)
    return before, after


def _schedule(wn: wntr.network.WaterNetworkModel, design: DmaDesign, before: ExtendedPeriod,
              after: ExtendedPeriod, peak: int, night: int) -> pd.DataFrame:
    """Say what happens at each boundary pipe, with the flows a meter must handle."""
    rows = []
    flows = after.flowrate_m3s
    for pipe, row in design.boundary.iterrows():
        link = wn.get_link(pipe)
        entry = {
            "pipe": pipe,
            "action": {"meter": "install meter", "valve": "close valve",
                       "existing valve": "keep closed (existing)"}[row.role],
            "dma_start": row.dma_start,
            "dma_end": row.dma_end,
            "start_node": link.start_node_name,
            "end_node": link.end_node_name,
            "diameter_mm": row.diameter_m * MM_PER_M,
            "peak_flow_lps": np.nan,
            "night_flow_lps": np.nan,
            "max_flow_lps": np.nan,
        }
        if row.role == "meter" and flows is not None and pipe in flows:
            q = flows[pipe].abs() * LITRES_PER_M3
            entry.update(peak_flow_lps=float(q.loc[peak]), night_flow_lps=float(q.loc[night]),
                         max_flow_lps=float(q.max()))
        elif before.flowrate_m3s is not None and pipe in before.flowrate_m3s:
            entry["peak_flow_lps"] = float(abs(before.flowrate_m3s.loc[peak, pipe]) * LITRES_PER_M3)
        rows.append(entry)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    order = {"install meter": 0, "close valve": 1, "keep closed (existing)": 2}
    return frame.sort_values(by=["action", "pipe"], key=lambda s: s.map(order) if s.name == "action"
                             else s).reset_index(drop=True)

