"""Prove a DMA design still serves the customers: before/after hydraulics and metrics.

Everything runs on one :class:`nrwkit.hydraulics.HydraulicSession` with pressure-dependent
demand (EPANET 2.2 PDA: demand in full at the minimum service pressure, none at 0 m): an
extended-period run before and after the boundary valves are closed (pressure at the
peak-demand hour and at the night hour, demand delivered), a fire flow at each DMA's
critical node, and water age at the dead ends the closures create.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import wntr

from ..gis.customers import connections as stored_connections
from ..hydraulics import ExtendedPeriod, HydraulicSession, system_demand
from .divide import TRANSMISSION, dead_ends, inflow
from .metrics import modularity, size_cv, todini_index
from .model import DmaDesign
from .network import junction_sizes

__all__ = ["DmaEvaluation", "PRESSURE_TOLERANCE_M", "evaluate", "open_session", "service_pressure"]

#: A junction fails when the design lowers it below the service pressure by more than this.
PRESSURE_TOLERANCE_M = 1.0
#: Water age is averaged over the last day of a run this long.
AGE_RUN_S = 72 * 3600


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
    warnings : list of str
        Failures and pre-existing problems, in words.
    """

    dmas: pd.DataFrame
    metrics: dict[str, Any]
    schedule: pd.DataFrame
    dead_ends: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def passes(self) -> bool:
        """True when the design pushes no junction (in a DMA or not) below the criteria."""
        return bool(self.metrics["passes"])


def service_pressure(wn: wntr.network.WaterNetworkModel, min_pressure: float) -> pd.Series:
    """Pressure each junction must keep: ``min_pressure`` where customers draw water, else 0 m.

    A junction without demand serves no one, so it fails only when the closures take it
    below 0 m (cut off or drained: a pump's suction, a PRV's inlet), not below the service
    pressure.
    """
    has_demand = {name: any(float(d.base_value) > 0 for d in j.demand_timeseries_list)
                  for name, j in wn.junctions()}
    return pd.Series({n: (min_pressure if v else 0.0) for n, v in has_demand.items()}, name="service_m")


def open_session(wn: wntr.network.WaterNetworkModel, min_pressure: float,
                 water_age: bool = False) -> HydraulicSession:
    """Open the session DMA checks run on: pressure-dependent demand, full at ``min_pressure``."""
    return HydraulicSession(wn, demand_model="PDD", required_pressure_m=min_pressure,
                            minimum_pressure_m=0.0, pressure_exponent=0.5, water_age=water_age)


#: The checks' run covers the model's duration up to this long (multi-day models whose
#: patterns do not repeat daily, like BWSN Network 2's 48 hours, are checked whole).
MAX_RUN_S = 72 * 3600


def run_duration(wn: wntr.network.WaterNetworkModel) -> int:
    """Return the length of the checks' run in s: the model's duration, up to 72 h.

    A single-period model is run for 24 h.
    """
    duration = int(wn.options.time.duration)
    return min(duration, MAX_RUN_S) if duration > 0 else 86400


def peak_hour(wn: wntr.network.WaterNetworkModel) -> int:
    """Return the hour of highest total demand within the checks' run (the first of ties), s.

    The single-period solves of a DMA check (first meter choice, fire flow, Todini) use this
    hour, so that they and the extended-period run talk about the same peak.
    """
    times = range(0, run_duration(wn) + 1, 3600)
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
    return session.run(duration_s=run_duration(wn), report_step_s=3600, links=links)


def evaluate(
    wn: wntr.network.WaterNetworkModel,
    design: DmaDesign,
    *,
    min_pressure: float = 15.0,
    fire_flow_m3s: float | None = None,
    fire_residual_m: float = 14.0,
    water_age: bool = True,
    session: HydraulicSession | None = None,
) -> DmaEvaluation:
    """Compare the network before and after the design's boundary valves are closed.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network as it is (all boundary pipes open).
    design : DmaDesign
        The design to check.
    min_pressure : float
        Minimum service pressure at peak, m (also the PDA pressure for full demand).
    fire_flow_m3s : float, optional
        Fire flow drawn at each DMA's critical node at peak (one DMA at a time).
    fire_residual_m : float
        Residual pressure the fire flow must leave at that node, m.
    water_age : bool
        Run two 72-hour water-age simulations when the closures create dead ends.
    session : HydraulicSession, optional
        An open session of ``wn`` (from :func:`open_session`) to reuse.

    Returns
    -------
    DmaEvaluation
        ``metrics`` holds ``n_dmas``, ``n_meters``, ``n_boundary_valves`` (new closures),
        ``n_existing_valves``, ``min_pressure_before_m``/``_after_m`` (lowest junction
        pressure at the peak hour), ``delivered_demand_fraction`` (after, over the run) and
        ``_before``, ``todini_before``/``_after``, ``modularity``, ``size_cv``, the peak
        and night hours.
    """
    own = session is None
    sess = open_session(wn, min_pressure, water_age) if session is None else session
    try:
        return _evaluate(wn, design, sess, min_pressure=min_pressure, fire_flow_m3s=fire_flow_m3s,
                         fire_residual_m=fire_residual_m, water_age=water_age)
    finally:
        if own:
            sess.close()


def _evaluate(wn: wntr.network.WaterNetworkModel, design: DmaDesign, session: HydraulicSession, *,
              min_pressure: float, fire_flow_m3s: float | None, fire_residual_m: float,
              water_age: bool) -> DmaEvaluation:
    closed = set(design.new_valves)
    pipes = list(design.boundary.index)
    session.reset_status()
    before = _eps(session, wn, pipes)
    peak_snapshot = peak_hour(wn)
    snap_before = session.solve(peak_snapshot, full=True)
    fire_before = _fire(session, design, before, fire_flow_m3s, peak_snapshot)
    session.set_status(closed, open_=False)
    after = _eps(session, wn, pipes)
    snap_after = session.solve(peak_snapshot, full=True)
    fire_after = _fire(session, design, after, fire_flow_m3s, peak_snapshot)
    peak, night = _peak_and_night(wn, before)
    warnings: list[str] = []
    if not (before.converged and after.converged):
        warnings.append("EPANET reported an unbalanced step; pressures at those steps are unreliable")

    need = service_pressure(wn, min_pressure)
    table = _dma_table(wn, design, before, after, peak, night, min_pressure, need)
    if fire_flow_m3s:
        table["fire_residual_before_m"] = pd.Series(fire_before)
        table["fire_residual_m"] = pd.Series(fire_after)
        for dma, residual in fire_after.items():
            prior = fire_before.get(dma, np.inf)
            if residual < fire_residual_m and residual < prior - PRESSURE_TOLERANCE_M:
                text = f"fire flow leaves {residual:.1f} m < {fire_residual_m:g} m"
                table.loc[dma, "problems"] = _join(table.loc[dma, "problems"], text)
            elif residual < fire_residual_m:
                warnings.append(f"{dma}: the fire flow left {prior:.1f} m before the design already "
                                f"(< {fire_residual_m:g} m)")
    for dma, row in table.iterrows():
        if row.problems:
            warnings.append(f"{dma}: {row.problems}")
        elif row.min_pressure_m < min_pressure:
            warnings.append(f"{dma}: {row.min_pressure_m:.1f} m at {row.critical_node} at peak, "
                            f"below {min_pressure:g} m before the design too "
                            f"({row.min_pressure_before_m:.1f} m)")

    held = [j for j in design.transmission_junctions.index if j in after.pressure_m.columns]
    low_after = after.pressure_m[held].min()
    low_before = before.pressure_m[held].min()
    starved = low_after[(low_after < need.reindex(held)) & (low_after < low_before - PRESSURE_TOLERANCE_M)]
    transmission_problems = ""
    if len(starved):
        worst = str(starved.idxmin())
        transmission_problems = (f"{_count(len(starved), 'transmission junction')} fall below their service "
                                 f"pressure ({min_pressure:g} m, 0 m without demand) "
                                 f"(lowest {starved[worst]:.1f} m at {worst}, was {low_before[worst]:.1f} m)")
        warnings.append(f"transmission: {transmission_problems}")

    new_dead = sorted(set(dead_ends(wn, closed)) - set(dead_ends(wn, set())))
    dead = _dead_end_ages(session, wn, design, new_dead, closed, water_age)
    session.reset_status()

    dist_graph = nx.Graph()
    dist_graph.add_nodes_from(design.assignment.index)
    dist_graph.add_edges_from((p.start_node_name, p.end_node_name) for _, p in wn.pipes()
                              if str(p.initial_status).lower() != "closed")
    metrics: dict[str, Any] = {
        "n_dmas": len(design.dma_ids),
        "n_meters": len(design.meters),
        "n_boundary_valves": len(design.new_valves),
        "n_existing_valves": int((design.boundary.role == "existing valve").sum()),
        "n_transmission_junctions": len(design.transmission_junctions),
        "min_pressure_before_m": float(before.pressure_m.loc[peak].min()),
        "min_pressure_after_m": float(after.pressure_m.loc[peak].min()),
        "delivered_demand_fraction_before": before.delivered_fraction,
        "delivered_demand_fraction": after.delivered_fraction,
        "todini_before": _todini(wn, snap_before, min_pressure),
        "todini_after": _todini(wn, snap_after, min_pressure),
        "modularity": modularity(dist_graph, [design.junctions(d) for d in design.dma_ids]),
        "size_cv": size_cv(design.dma_size().to_numpy()),
        "peak_time_s": peak,
        "night_time_s": night,
        "transmission_problems": transmission_problems,
        "passes": bool((table["problems"] == "").all()) and not transmission_problems,
    }
    schedule = _schedule(wn, design, before, after, peak, night)
    return DmaEvaluation(dmas=table, metrics=metrics, schedule=schedule, dead_ends=dead,
                         warnings=warnings)


def _count(n: int, noun: str) -> str:
    """``"1 junction"``, ``"3 junctions"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _todini(wn: wntr.network.WaterNetworkModel, state: Any, p_star: float) -> float:
    return todini_index(wn, state.node_head_m, state.node_demand_m3s, state.flowrate_m3s,
                        required_pressure_m=p_star)


def _dma_table(wn: wntr.network.WaterNetworkModel, design: DmaDesign, before: ExtendedPeriod,
               after: ExtendedPeriod, peak: int, night: int, min_pressure: float,
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
            length_km[a] = length_km.get(a, 0.0) + float(pipe.length) / 1000.0
    rows = []
    for dma in design.dma_ids:
        nodes = design.junctions(dma)
        weights = conns.reindex(nodes).fillna(0).to_numpy(dtype=float)
        weights = weights if weights.sum() > 0 else np.ones(len(nodes))
        p_after = after.pressure_m.loc[peak, nodes]
        p_before = before.pressure_m.loc[peak, nodes]
        lowest_after = after.pressure_m[nodes].min()
        lowest_before = before.pressure_m[nodes].min()
        frac_after = _delivered(after, nodes)
        frac_before = _delivered(before, nodes)
        boundary = design.boundary_of(dma)
        length = length_km.get(dma, 0.0)
        critical = str(p_after.idxmin())
        failing = (lowest_after < need.reindex(nodes)) & (lowest_after < lowest_before - PRESSURE_TOLERANCE_M)
        problems = ""
        if failing.any():
            worst = str(lowest_after[failing].idxmin())
            problems = (f"{_count(int(failing.sum()), 'junction')} fall below their service pressure "
                        f"({min_pressure:g} m; 0 m without demand) "
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
            "aznp_before_m": float(np.average(before.pressure_m.loc[night, nodes], weights=weights)),
            "aznp_m": float(np.average(after.pressure_m.loc[night, nodes], weights=weights)),
            "critical_node": critical,
            "lowest_pressure_day_m": float(lowest_after.min()),
            "lowest_time_s": int(after.pressure_m[nodes].min(axis=1).idxmin()),
            "delivered_fraction": frac_after,
            "problems": problems,
        })
    return pd.DataFrame(rows).set_index("dma") if rows else pd.DataFrame(
        columns=["problems", "min_pressure_m"]).rename_axis("dma")


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
            "diameter_mm": row.diameter_m * 1000.0,
            "peak_flow_lps": np.nan,
            "night_flow_lps": np.nan,
            "max_flow_lps": np.nan,
        }
        if row.role == "meter" and flows is not None and pipe in flows:
            q = flows[pipe].abs() * 1000.0
            entry.update(peak_flow_lps=float(q.loc[peak]), night_flow_lps=float(q.loc[night]),
                         max_flow_lps=float(q.max()))
        elif before.flowrate_m3s is not None and pipe in before.flowrate_m3s:
            entry["peak_flow_lps"] = float(abs(before.flowrate_m3s.loc[peak, pipe]) * 1000.0)
        rows.append(entry)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    order = {"install meter": 0, "close valve": 1, "keep closed (existing)": 2}
    return frame.sort_values(by=["action", "pipe"], key=lambda s: s.map(order) if s.name == "action"
                             else s).reset_index(drop=True)


def inflows(design: DmaDesign, flows: pd.Series, dma: str) -> pd.Series:
    """Flow into a DMA through each of its boundary pipes in a state (m3/s)."""
    return inflow(design.boundary, flows, dma)
