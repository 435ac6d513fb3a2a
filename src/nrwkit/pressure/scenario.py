"""Pressure-management scenarios: a PRV at a zone's inlets, four control modes, FAVAD leakage.

How a scenario is computed (every step through :mod:`nrwkit.hydraulics`; formulas in
:mod:`nrwkit.pressure.favad` and docs/mentors.md):

1. **Leakage that follows pressure.** Background leakage is spread over the zone's junctions
   in proportion to the pipe length they serve (half of every pipe at the junction) and
   modelled as EPANET emitters ``q = C p^N1`` (EPANET's emitter exponent set to N1 for the
   run). The coefficients are calibrated so that the zone leaks ``night_leakage_m3h`` at the
   night hour (the hour of least zone demand) of the current network; by default that is
   the unavoidable background leakage of the zone (20 l/km/h of mains and 1.75 l/h per
   connection at 50 m, scaled by (AZNP/50)^1.5; Lambert et al. 1999).
2. **Before**: the network as it is, for 24 h at 15-minute steps.
3. **A PRV at every inlet** (an existing PRV is re-set; on a pipe, a PRV is added at its zone
   end). All PRVs hold the same outlet head (HGL), so the zone is fed evenly.
4. **Critical-point control first**: at every hydraulic step the outlet head is moved until the
   lowest pressure at a zone junction with demand equals the target (within 0.05 m), by
   re-solving the step in the open EPANET session. This gives the head the zone needs at each
   step, ``H_t``, and the inlet flow ``Q_t``.
5. **The other modes from it, at their lowest settings**: fixed (the highest ``H_t``),
   time-modulated (the highest ``H_t`` by day and by night), flow-modulated
   (``H = a + b Q^2``, fitted to ``(Q_t, H_t)`` and raised to cover every point: outlet =
   target + elevation difference + headloss rising with demand). So every mode keeps the
   target at every step; a fixed outlet (the highest head all day) leaks at least as much as
   time or flow modulation, and critical-point control (the least head at every step) least.
   Which of time and flow modulation saves more depends on what sets the zone's need: its
   own headloss (flow) or the hour (time).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import wntr

from ..balance.night_flow import BACKGROUND_AT_50M
from ..dma.network import demand_junctions
from ..errors import InputError, SimulationError
from ..findings import Finding, Severity, list_ids, warning
from ..hydraulics import ExtendedPeriod, HydraulicSession, StepReading, changed_options
from ..leaks.model import Leak, leak_flow, place_leaks
from ..network.supply import controlled_links
from ..units import (
    DAY_S,
    DAYS_PER_YEAR,
    HOUR_S,
    HOURS_PER_DAY,
    LITRES_PER_M3,
    METRES_PER_KM,
    MINUTE_S,
    SECONDS_PER_HOUR,
)
from .favad import burst_reduction_percent, check_n1
from .zone import Zone

__all__ = ["MODES", "LeakageModel", "PrvPlan", "ScenarioResult", "ZoneState", "background_leakage",
           "compare_modes", "scenario"]

#: The PRV control modes.
MODES = ("fixed", "time", "flow", "critical")
#: Reporting step of scenario runs, s.
STEP_S = 900
#: Hours of the night setting of a time-modulated PRV (00:00 to 06:00).
NIGHT_HOURS = (0, 1, 2, 3, 4, 5)
#: Critical-point control holds the target to within this, m.
CONTROL_TOLERANCE_M = 0.05
#: A target missed by more than this at some step is unreachable, m.
REACH_TOLERANCE_M = 0.5
#: A zone inflow through its PRVs below this is none, m3/h.
FED_ELSEWHERE_M3H = 0.01
#: EPANET's convergence accuracy in scenario runs (sum of flow changes over the sum of flows).
EPANET_ACCURACY = 1e-5
#: How long a fire flow is drawn from the peak hour, s.
FIRE_DURATION_S = 2 * HOUR_S
#: Pressures beyond this are no physical solution, m.
MAX_PHYSICAL_M = 1e4
#: An inlet flow out of the zone above this is a reversal, m3/s.
REVERSE_FLOW_M3S = 1e-4
#: Slopes tried when fitting the flow-modulation curve.
MAX_SLOPES = 2000
#: How far above the highest source head critical-point control may ask a PRV, m (pumps).
SOURCE_MARGIN_M = 200.0
#: Reference pressure of the unavoidable background leakage rates, m.
UBL_PRESSURE_M = 50.0
#: Exponent of the unavoidable background leakage's pressure correction (Lambert et al. 1999).
UBL_EXPONENT = 1.5


@dataclass(frozen=True)
class LeakageModel:
    """Background leakage as emitters.

    Attributes
    ----------
    n1 : float
        FAVAD exponent (EPANET's emitter exponent in the runs).
    coefficients : dict
        Junction -> emitter coefficient, m3/s per m^N1.
    night_leakage_m3h : float
        The zone's background leakage at the night hour of the network as it is, m3/h.
    source : str
        Where that figure comes from.
    leaks : dict
        Leak node -> :class:`nrwkit.leaks.Leak` (its own size and start; exponent N1), on top of
        the background leakage.
    """

    n1: float
    coefficients: dict[str, float]
    night_leakage_m3h: float
    source: str
    leaks: dict[str, Leak] = field(default_factory=dict)

    def coefficients_at(self, time_s: int) -> dict[str, float]:
        """Emitter coefficient of every leaking node at a time, m3/s per m^N1 (leaks included)."""
        out = dict(self.coefficients)
        for node, leak in self.leaks.items():
            out[node] = out.get(node, 0.0) + leak.coefficient * leak.size_at(time_s)
        return out

    def rate_m3s(self, pressure_m: pd.DataFrame, *, background_only: bool = False) -> pd.Series:
        """Leakage at each time of a run, m3/s: ``sum_j C_j max(p_j, 0)^N1`` (and the leaks')."""
        names = list(self.coefficients)
        coef = np.array([self.coefficients[n] for n in names])
        p = np.clip(pressure_m[names].to_numpy(dtype=float), 0.0, None)
        rate = (p ** self.n1) @ coef
        if not background_only:
            for node, leak in self.leaks.items():
                rate = rate + np.array([float(leak_flow(leak, pressure_m.at[t, node], t))
                                        for t in pressure_m.index])
        return pd.Series(rate, index=pressure_m.index, name="leakage_m3s")


@dataclass(frozen=True)
class PrvPlan:
    """The PRV(s) of a scenario and how they are set.

    Attributes
    ----------
    links : tuple of str
        The PRVs (existing ones re-set, or added on the inlet pipes).
    mode : str
        One of :data:`MODES`.
    settings : dict
        The mode's settings as outlet heads (HGL), m: ``outlet_head_m`` (fixed),
        ``day_head_m``/``night_head_m``/``night_hours`` (time), ``a_m``/``b_m_per_m3s2``
        (flow: ``H = a + b Q^2`` with Q the zone's inflow), ``target_m`` (critical), and
        ``outlet_elevation_m`` of each PRV (its setting is the head minus it).
    """

    links: tuple[str, ...]
    mode: str
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Return the plan as JSON-ready data."""
        return {"link": list(self.links), "mode": self.mode, "settings": self.settings}


@dataclass(frozen=True)
class ZoneState:
    """A zone over a 24-hour run.

    Attributes
    ----------
    azp_m, aznp_m : float
        Average zone pressure over the day and at the night hour (connection-weighted), m.
    max_pressure_m : float
        Highest pressure at a zone junction over the day, m.
    critical_node : str
        The zone junction with demand that has the lowest pressure at the peak hour.
    critical_pressure_m : float
        Its lowest pressure over the day, m.
    leakage_m3_per_day : float
        The zone's leakage over the day, m3.
    ndf_hours : float
        Night-day factor: the day's leakage over the night leakage rate, h.
    hourly : pandas.DataFrame
        Per reporting time (index, s): ``azp_m``, ``min_pressure_m``, ``leakage_m3h``,
        ``inflow_m3h`` and ``outlet_head_m`` (NaN without a PRV).
    """

    azp_m: float
    aznp_m: float
    max_pressure_m: float
    critical_node: str
    critical_pressure_m: float
    leakage_m3_per_day: float
    ndf_hours: float
    hourly: pd.DataFrame = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the figures as JSON-ready data (the keys of the ``before``/``after`` JSON)."""
        return {"azp_m": round(self.azp_m, 3), "aznp_m": round(self.aznp_m, 3),
                "max_pressure_m": round(self.max_pressure_m, 3), "critical_node": self.critical_node,
                "critical_pressure_m": round(self.critical_pressure_m, 3),
                "leakage_m3_per_day": round(self.leakage_m3_per_day, 3),
                "ndf_hours": round(self.ndf_hours, 3)}


@dataclass(frozen=True)
class ScenarioResult:
    """A pressure-management scenario, before and after.

    Attributes
    ----------
    zone : Zone
    before, after : ZoneState
    prv : PrvPlan
    leakage : LeakageModel
    target_m : float
        Pressure the critical point must keep, m.
    service_violations : list of dict
        Zone junctions with demand below ``min_service_pressure_m`` after: ``junction``,
        ``min_pressure_m``, ``time_s``.
    warnings : list of Finding
        ``pressure-*`` findings.
    value_saved_per_year : float or None
        Leakage saved times the variable production cost (when a cost was given).
    fire_flow : dict or None
        The fire-flow check (when a fire flow was given): ``node``, ``flow_lps``,
        ``duration_h``, ``residual_m``, ``before_min_pressure_m``, ``after_min_pressure_m``,
        ``passes``.
    comparison : pandas.DataFrame or None
        The modes compared (``scenario(..., compare=True)``), as :func:`compare_modes` gives them.
    """

    zone: Zone
    before: ZoneState
    after: ZoneState
    prv: PrvPlan
    leakage: LeakageModel
    target_m: float
    service_violations: list[dict[str, Any]]
    warnings: list[Finding]
    value_saved_per_year: float | None = None
    fire_flow: dict[str, Any] | None = None
    comparison: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def leakage_reduction_percent(self) -> float:
        """Reduction of the zone's daily leakage, %."""
        before = self.before.leakage_m3_per_day
        return 100.0 * (before - self.after.leakage_m3_per_day) / before if before > 0 else 0.0

    @property
    def burst_reduction_percent(self) -> dict[str, float]:
        """Predicted reduction of new bursts (low, central, high BFF), %."""
        return burst_reduction_percent(self.before.max_pressure_m, self.after.max_pressure_m)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as the JSON of ``nrwkit pressure scenario --json``."""
        saved_m3 = (self.before.leakage_m3_per_day - self.after.leakage_m3_per_day) * DAYS_PER_YEAR
        return {
            "zone": {"name": self.zone.name, "junctions": len(self.zone.junctions),
                     "inlets": list(self.zone.inlets)},
            "target_m": self.target_m, "n1": self.leakage.n1,
            "before": self.before.to_dict(), "after": self.after.to_dict(),
            "leakage_reduction_percent": round(self.leakage_reduction_percent, 3),
            "leakage_saved_m3_per_year": round(saved_m3, 1),
            "burst_reduction_percent": self.burst_reduction_percent,
            "prv": self.prv.to_dict(),
            "leakage": {"night_leakage_m3h": round(self.leakage.night_leakage_m3h, 4),
                        "source": self.leakage.source},
            "value_saved_per_year": None if self.value_saved_per_year is None
            else round(self.value_saved_per_year, 2),
            "service_violations": self.service_violations,
            "fire_flow": self.fire_flow,
            "warnings": [w.to_dict() for w in self.warnings],
        }


# --------------------------------------------------------------------------- leakage
def _served_length_m(wn: wntr.network.WaterNetworkModel, zone: Zone) -> pd.Series:
    """Half the length of every pipe at each zone junction, m (a pipe inside counts whole)."""
    inside = set(zone.junctions)
    served = dict.fromkeys(zone.junctions, 0.0)
    for _, pipe in wn.pipes():
        for end in (pipe.start_node_name, pipe.end_node_name):
            if end in inside:
                served[end] += 0.5 * float(pipe.length)
    return pd.Series(served, dtype=float)


def _connections(wn: wntr.network.WaterNetworkModel, zone: Zone) -> tuple[pd.Series, bool]:
    """Service connections per zone junction (stored by customer allocation), and whether stored."""
    from ..gis import connections

    stored = connections(wn).reindex(list(zone.junctions)).fillna(0.0)
    if float(stored.sum()) > 0:
        return stored.astype(float), True
    with_demand = _demand_junctions(wn, zone)
    ones = [1.0 if j in with_demand else 0.0 for j in zone.junctions]
    return pd.Series(ones, index=list(zone.junctions)), False


def _demand_junctions(wn: wntr.network.WaterNetworkModel, zone: Zone) -> set[str]:
    return demand_junctions(wn) & set(zone.junctions)


def background_leakage(wn: wntr.network.WaterNetworkModel, zone: Zone, night_pressure_m: pd.Series, *,
                       n1: float, night_leakage_m3h: float | None = None,
                       infrastructure_condition_factor: float = 1.0) -> LeakageModel:
    """Return emitters that leak ``night_leakage_m3h`` from the zone at its night pressures.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    zone : Zone
        The zone.
    night_pressure_m : pandas.Series
        Pressure at each zone junction at the night hour, m.
    n1 : float
        FAVAD exponent.
    night_leakage_m3h : float, optional
        The zone's leakage at that hour (from a night-flow measurement or the water balance);
        default the unavoidable background leakage at the zone's night pressure times
        ``infrastructure_condition_factor``.
    infrastructure_condition_factor : float
        ICF of the default (0.5 good, 1 average, 1.5-2 poor).

    Returns
    -------
    LeakageModel
    """
    check_n1(n1)
    weights = _served_length_m(wn, zone)
    connections, stored = _connections(wn, zone)
    pressure = night_pressure_m.reindex(weights.index).fillna(0.0).clip(lower=0.0)
    if night_leakage_m3h is None:
        mains_km = float(weights.sum()) / METRES_PER_KM
        per_connection = BACKGROUND_AT_50M["per_connection"] + BACKGROUND_AT_50M["private_per_connection"]
        aznp = _weighted(pressure, connections)
        rate_l_h = (BACKGROUND_AT_50M["mains_per_km"] * mains_km + per_connection * float(connections.sum()))
        night_leakage_m3h = (rate_l_h / LITRES_PER_M3 * infrastructure_condition_factor
                             * (max(aznp, 0.0) / UBL_PRESSURE_M) ** UBL_EXPONENT)
        source = (f"unavoidable background leakage at AZNP {aznp:.1f} m (ICF "
                  f"{infrastructure_condition_factor:g}, {mains_km:.2f} km of mains, "
                  f"{float(connections.sum()):.0f} {'connections' if stored else 'junctions with demand'})")
    else:
        source = "given"
    if night_leakage_m3h < 0 or not np.isfinite(night_leakage_m3h):
        raise InputError(f"night leakage = {night_leakage_m3h} m3/h: give a leakage of 0 or more")
    shape = weights * pressure ** n1
    total = float(shape.sum())
    if total <= 0:
        msg = (f"zone {zone.name}: no junction has both pipes and a positive pressure at night, so "
               "no leakage can be placed; check the zone's supply")
        raise InputError(msg)
    scale = night_leakage_m3h / SECONDS_PER_HOUR / total
    coefficients = {j: float(w * scale) for j, w in weights.items() if w > 0}
    return LeakageModel(n1, coefficients, float(night_leakage_m3h), source)


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    w = weights.reindex(values.index).fillna(0.0).to_numpy(dtype=float)
    if w.sum() <= 0:
        return float(values.mean())
    return float(np.average(values.to_numpy(dtype=float), weights=w))


# --------------------------------------------------------------------------- PRVs
Network: TypeAlias = wntr.network.WaterNetworkModel
#: What a run gives each mode: its plan, its run and the outlet head at each step.
ModeRun: TypeAlias = tuple["PrvPlan", ExtendedPeriod, dict[int, float]]


def _add_prvs(wn: Network, zone: Zone) -> tuple[Network, tuple[str, ...]]:
    """Return a copy with a PRV at each inlet (an existing PRV is kept), and the PRVs' names."""
    out = copy.deepcopy(wn)
    controlled = controlled_links(out)
    prvs = []
    for inlet, end in zip(zone.inlets, zone.inlet_ends, strict=True):
        link = out.get_link(inlet)
        if isinstance(link, wntr.network.Valve) and link.valve_type == "PRV":
            prvs.append(inlet)
            continue
        if not isinstance(link, wntr.network.Pipe) or link.check_valve:
            msg = (f"inlet {inlet} is a {type(link).__name__.lower()}, not a pipe: nrwkit adds a PRV on an "
                   "inlet pipe (or re-sets an existing PRV); give the pipe next to it")
            raise InputError(msg)
        if inlet in controlled:
            raise InputError(f"inlet {inlet} is acted on by a control: give another inlet pipe of the zone")
        outside = link.end_node_name if link.start_node_name == end else link.start_node_name
        node = out.get_node(end)
        new_node, prv = f"{inlet}-prv-in", f"PRV-{inlet}"
        for name in (new_node, prv):
            if name in out.node_name_list or name in out.link_name_list:
                raise InputError(f"the network already has an element named {name}: rename it first")
        out.add_junction(new_node, base_demand=0.0, elevation=float(node.elevation),
                         coordinates=tuple(node.coordinates))
        props = (float(link.length), float(link.diameter), float(link.roughness), float(link.minor_loss),
                 link.initial_status)
        out.remove_link(inlet)
        start, stop = (outside, new_node) if link.start_node_name == outside else (new_node, outside)
        out.add_pipe(inlet, start, stop, length=props[0], diameter=props[1], roughness=props[2],
                     minor_loss=props[3], initial_status=props[4])
        out.add_valve(prv, new_node, end, diameter=props[1], valve_type="PRV", minor_loss=0.0,
                      initial_setting=0.0)
        prvs.append(prv)
    return out, tuple(prvs)


class _OutletHead:
    """A :class:`~nrwkit.hydraulics.StepControl` holding the PRVs' outlet head by a rule."""

    def __init__(self, prvs: Sequence[str], elevations: Sequence[float] | np.ndarray, nodes: Sequence[str],
                 inlets: Sequence[str], rule: Callable[[StepReading, float], float],
                 start_head_m: float) -> None:
        self.links: Sequence[str] = list(inlets)
        self.nodes: Sequence[str] = list(nodes)
        self.prvs = list(prvs)
        self.elevations = np.asarray(elevations, dtype=float)
        self.rule = rule
        self.head_m = float(start_head_m)
        self.heads: dict[int, float] = {}
        self.applied = False

    def settings(self) -> dict[str, float]:
        """Return the PRV settings (pressure at each outlet, m) for the current outlet head."""
        return {prv: max(self.head_m - z, 0.0) for prv, z in zip(self.prvs, self.elevations, strict=True)}

    def __call__(self, reading: StepReading) -> dict[str, float] | None:
        new = self.rule(reading, self.head_m)
        changed = abs(new - self.head_m) >= CONTROL_TOLERANCE_M / 5
        self.head_m = new if changed else self.head_m
        self.heads[reading.time_s] = self.head_m
        if self.applied and not changed:
            return None
        self.applied = True
        return self.settings()


@dataclass(frozen=True)
class _Prvs:
    """The network with its PRVs, and how each mode drives them."""

    network: Network
    links: tuple[str, ...]
    elevations: np.ndarray
    rules: dict[str, Callable[[StepReading, float], float]]
    start_head_m: float


@dataclass(frozen=True)
class _Targets:
    """The pressure the critical point must keep: by day, and in the night hours."""

    day_m: float
    night_m: float
    start_clock_s: int

    def at(self, time_s: int) -> float:
        night = _hour_of_day(time_s, self.start_clock_s) in NIGHT_HOURS
        return self.night_m if night else self.day_m


def _critical_rule(targets: _Targets, ceiling_m: float,
                   floor_m: float) -> Callable[[StepReading, float], float]:
    """Move the outlet head by the critical point's miss, between ``floor_m`` (closed) and ``ceiling_m``."""
    def rule(reading: StepReading, head_m: float) -> float:
        target = targets.at(reading.time_s)
        low = float(np.min(reading.pressure_m)) if len(reading.pressure_m) else target
        if abs(low - target) <= CONTROL_TOLERANCE_M:
            return head_m
        return float(np.clip(head_m + (target - low), floor_m, ceiling_m))
    return rule


def _hour_of_day(time_s: int, start_clock_s: int) -> int:
    return int((time_s + start_clock_s) // HOUR_S) % HOURS_PER_DAY


# --------------------------------------------------------------------------- runs
@dataclass
class _Setup:
    wn: wntr.network.WaterNetworkModel
    zone: Zone
    demand_nodes: list[str]
    weights: pd.Series
    leakage: LeakageModel
    service_m: float
    night_time_s: int
    peak_time_s: int
    start_clock_s: int


def _session(wn: wntr.network.WaterNetworkModel, n1: float, service_m: float) -> HydraulicSession:
    """Open a session with the leakage exponent, steps of 15 minutes at most, pressure-dependent demand.

    EPANET's accuracy is :data:`EPANET_ACCURACY` (or the model's, when tighter): at a loose
    accuracy (L-Town's is 0.01) EPANET stops before emitter flows follow their law (5 % off at
    25 m on L-Town). Demand is pressure-dependent (full at ``service_m``, none at 0 m): a customer below the
    service pressure gets less water, as on the street, and a zone short of head gives low
    pressures rather than EPANET's meaningless negative ones.
    """
    step = min(int(wn.options.time.hydraulic_timestep or STEP_S), STEP_S)
    accuracy = min(float(wn.options.hydraulic.accuracy or EPANET_ACCURACY), EPANET_ACCURACY)
    with changed_options(wn, emitter_exponent=n1, hydraulic_step_s=step, accuracy=accuracy):
        return HydraulicSession(wn, demand_model="PDD", required_pressure_m=service_m, minimum_pressure_m=0.0)


def _run(session: HydraulicSession, setup: _Setup, control: _OutletHead | None = None) -> ExtendedPeriod:
    leakage = setup.leakage
    run = session.run(duration_s=DAY_S, report_step_s=STEP_S, emitters=leakage.coefficients_at,
                      links=list(setup.zone.inlets) if control is None else control.links,
                      control=control)
    return run


def _state(run: ExtendedPeriod, setup: _Setup, heads: dict[int, float] | None = None) -> ZoneState:
    zone = list(setup.zone.junctions)
    pressure = run.pressure_m[zone].loc[lambda f: f.index < DAY_S]
    azp = pressure.apply(lambda row: _weighted(row, setup.weights), axis=1)
    leak = setup.leakage.rate_m3s(pressure) * SECONDS_PER_HOUR
    night = setup.night_time_s if setup.night_time_s in azp.index else int(azp.index[0])
    peak = setup.peak_time_s if setup.peak_time_s in pressure.index else int(pressure.index[0])
    demand = setup.demand_nodes or zone
    critical = str(pressure.loc[peak, demand].idxmin())
    inflow = run.flowrate_m3s.loc[pressure.index].abs().sum(axis=1) * SECONDS_PER_HOUR \
        if run.flowrate_m3s is not None else pd.Series(np.nan, index=pressure.index)
    head = pd.Series(heads or {}, dtype=float).reindex(pressure.index)
    hourly = pd.DataFrame({"azp_m": azp, "min_pressure_m": pressure[demand].min(axis=1),
                           "leakage_m3h": leak, "inflow_m3h": inflow, "outlet_head_m": head})
    daily_m3 = float(leak.mean()) * HOURS_PER_DAY
    night_rate = float(leak.loc[night])
    return ZoneState(
        azp_m=float(azp.mean()), aznp_m=float(azp.loc[night]),
        max_pressure_m=float(pressure.to_numpy().max()), critical_node=critical,
        critical_pressure_m=float(pressure[critical].min()), leakage_m3_per_day=daily_m3,
        ndf_hours=daily_m3 / night_rate if night_rate > 0 else float("nan"), hourly=hourly)


def _prepare(wn: wntr.network.WaterNetworkModel, zone: Zone, *, n1: float, night_leakage_m3h: float | None,
             service_m: float, leaks: dict[str, Leak]) -> tuple[_Setup, ExtendedPeriod]:
    check_n1(n1)
    with_demand = _demand_junctions(wn, zone)
    demand_nodes = [j for j in zone.junctions if j in with_demand]
    weights, _ = _connections(wn, zone)
    with _session(wn, n1, service_m) as session:
        dry = session.run(duration_s=DAY_S, report_step_s=STEP_S, links=list(zone.inlets))
        _check_physical(dry, zone)
        _check_one_way(wn, dry, zone)
        zone_demand = dry.demand_m3s[list(zone.junctions)].clip(lower=0).sum(axis=1)
        zone_demand = zone_demand[zone_demand.index < DAY_S]
        night_time, peak_time = int(zone_demand.idxmin()), int(zone_demand.idxmax())
        leakage = replace(background_leakage(wn, zone, dry.pressure_m.loc[night_time], n1=n1,
                                             night_leakage_m3h=night_leakage_m3h), leaks=leaks)
        setup = _Setup(wn, zone, demand_nodes, weights, leakage, service_m, night_time, peak_time,
                       int(wn.options.time.start_clocktime or 0))
        for _ in range(2):  # leakage lowers the pressures it was calibrated at: rescale twice
            before = _run(session, setup)
            night = before.pressure_m.loc[[night_time]]
            actual = float(leakage.rate_m3s(night, background_only=True).iloc[0]) * SECONDS_PER_HOUR
            if actual <= 0 or abs(actual / leakage.night_leakage_m3h - 1.0) < 1e-3:
                break
            factor = leakage.night_leakage_m3h / actual
            leakage = replace(leakage, coefficients={j: c * factor for j, c in leakage.coefficients.items()})
            setup.leakage = leakage
        else:  # rescaled at the last pass: the run of the network as it is comes after
            before = _run(session, setup)
    if not before.converged:
        times = list_ids([clock_hhmm(t, setup.start_clock_s) for t in before.unbalanced_s])
        raise SimulationError(f"zone {zone.name}: EPANET did not converge on the network as it is (at "
                              f"{times}): check it with nrwkit's inspection first")
    return setup, before


def _ceiling(with_prv: Network, elevations: np.ndarray, targets: _Targets) -> float:
    """Return the highest outlet head worth asking (a setting above the inlet head opens a PRV)."""
    return max([float(r.base_head) for _, r in with_prv.reservoirs()]
               + [float(t.elevation + t.max_level) for _, t in with_prv.tanks()]
               + [float(np.max(elevations)) + targets.day_m]) + SOURCE_MARGIN_M


def _check_physical(run: ExtendedPeriod, zone: Zone) -> None:
    """Refuse a zone whose pressures EPANET cannot give as numbers a PRV could act on."""
    pressure = run.pressure_m[list(zone.junctions)].to_numpy(dtype=float)
    if not np.all(np.isfinite(pressure)) or np.abs(pressure).max() > MAX_PHYSICAL_M:
        worst = float(np.nanmax(np.abs(pressure)))
        msg = (f"zone {zone.name}: EPANET gives no physical pressures in it (up to {worst:.3g} m) for the "
               "network as it is: check the network's supply first (nrwkit's inspection)")
        raise SimulationError(msg)


def _check_one_way(wn: Network, run: ExtendedPeriod, zone: Zone) -> None:
    """Refuse an inlet that carries water out of the zone at some time: a PRV would stop it."""
    if run.flowrate_m3s is None:
        return
    for inlet, end in zip(zone.inlets, zone.inlet_ends, strict=True):
        into = run.flowrate_m3s[inlet] * (1.0 if wn.get_link(inlet).end_node_name == end else -1.0)
        out = into[into < -REVERSE_FLOW_M3S]
        if len(out):
            msg = (f"zone {zone.name}: inlet {inlet} carries water out of the zone at {len(out)} of "
                   f"{len(into)} times (up to {-float(out.min()) * LITRES_PER_M3:.1f} l/s): a tank or "
                   "another zone is fed through it, and a PRV would stop that flow; choose a zone fed one "
                   "way")
            raise InputError(msg)


def _critical_run(setup: _Setup, targets: _Targets
                  ) -> tuple[ExtendedPeriod, dict[int, float], Network, tuple[str, ...], np.ndarray]:
    with_prv, prvs = _add_prvs(setup.wn, setup.zone)
    elevations = np.array([with_prv.get_node(with_prv.get_link(p).end_node_name).elevation for p in prvs])
    demand = setup.demand_nodes or list(setup.zone.junctions)
    start = float(np.max(elevations)) + targets.day_m + 10.0
    rule = _critical_rule(targets, _ceiling(with_prv, elevations, targets), float(np.max(elevations)))
    control = _OutletHead(prvs, elevations, demand, list(setup.zone.inlets), rule, start)
    try:
        session = _session(with_prv, setup.leakage.n1, setup.service_m)
    except (InputError, SimulationError) as exc:
        first = str(exc).splitlines()[0].split(": ", 1)[-1]
        msg = (f"zone {setup.zone.name}: EPANET refuses the network with a PRV at {list_ids(prvs)} "
               f"({first}); "
               "EPANET allows no PRV next to a tank, a reservoir or another valve: choose other inlet pipes")
        raise InputError(msg) from exc
    with session:
        run = _run(session, setup, control)
    return run, dict(control.heads), with_prv, prvs, elevations


def _plan(mode: str, heads: pd.Series, inflow_m3s: pd.Series, setup: _Setup, target_m: float,
          night_target_m: float) -> dict[str, Any]:
    """Return the lowest settings of ``mode`` that keep the critical run's heads at every step."""
    if mode == "fixed":
        return {"outlet_head_m": round(float(heads.max()), 3)}
    if mode == "time":
        hours = np.array([_hour_of_day(int(t), setup.start_clock_s) for t in heads.index])
        night = np.isin(hours, NIGHT_HOURS)
        day_head = float(heads[~night].max()) if (~night).any() else float(heads.max())
        night_head = float(heads[night].max()) if night.any() else day_head
        return {"day_head_m": round(day_head, 3), "night_head_m": round(night_head, 3),
                "night_hours": list(NIGHT_HOURS)}
    if mode == "flow":
        a, b = _flow_curve(inflow_m3s.reindex(heads.index).to_numpy(dtype=float), heads.to_numpy(dtype=float))
        return {"a_m": round(a, 4), "b_m_per_m3s2": round(b, 4)}
    return {"target_m": target_m, "night_target_m": night_target_m, "night_hours": list(NIGHT_HOURS)}


def _flow_curve(flow_m3s: np.ndarray, head_m: np.ndarray) -> tuple[float, float]:
    """Fit ``H = a + b Q^2`` (b >= 0) above every ``(Q_t, H_t)``, with the least mean head.

    For a given b the lowest covering a is ``max(H_t - b Q_t^2)``; the mean head
    ``a(b) + b mean(Q^2)`` is convex in b, and it is minimised over the slopes at which the
    covering point changes (every slope between two points, and 0).
    """
    q2 = np.nan_to_num(flow_m3s, nan=0.0) ** 2
    if np.ptp(q2) <= 0:
        return float(np.max(head_m)), 0.0
    dq = q2[:, None] - q2[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        slopes = (head_m[:, None] - head_m[None, :]) / dq
    candidates = np.unique(np.concatenate([[0.0], slopes[np.isfinite(slopes) & (slopes > 0)]]))
    if len(candidates) > MAX_SLOPES:
        candidates = np.quantile(candidates, np.linspace(0.0, 1.0, MAX_SLOPES))
    covering = np.max(head_m[None, :] - candidates[:, None] * q2[None, :], axis=1)
    mean_head = covering + candidates * float(q2.mean())
    best = int(np.argmin(mean_head))
    return float(covering[best]), float(candidates[best])


def _plan_rule(mode: str, settings: dict[str, Any],
               start_clock_s: int) -> Callable[[StepReading, float], float]:
    if mode == "fixed":
        return lambda _r, _h: float(settings["outlet_head_m"])
    if mode == "time":
        def time_rule(reading: StepReading, _head_m: float) -> float:
            night = _hour_of_day(reading.time_s, start_clock_s) in settings["night_hours"]
            return float(settings["night_head_m"] if night else settings["day_head_m"])
        return time_rule
    def flow_rule(reading: StepReading, _head_m: float) -> float:
        q = float(np.abs(reading.flow_m3s).sum())
        return float(settings["a_m"] + settings["b_m_per_m3s2"] * q * q)
    return flow_rule


def _violations(run: ExtendedPeriod, setup: _Setup, min_service_pressure_m: float) -> list[dict[str, Any]]:
    demand = setup.demand_nodes or list(setup.zone.junctions)
    pressure = run.pressure_m[demand]
    low = pressure.min()
    out = []
    for junction in low[low < min_service_pressure_m - REACH_TOLERANCE_M].sort_values().index:
        out.append({"junction": str(junction), "min_pressure_m": round(float(low[junction]), 3),
                    "time_s": int(pressure[junction].idxmin())})
    return out


def _check_reachable(run: ExtendedPeriod, setup: _Setup, targets: _Targets) -> None:
    demand = setup.demand_nodes or list(setup.zone.junctions)
    low = run.pressure_m[demand].min(axis=1)
    wanted = pd.Series([targets.at(int(t)) for t in low.index], index=low.index)
    short = (wanted - low)[low < wanted - REACH_TOLERANCE_M]
    if len(short) and float(low.min()) <= 0:
        msg = (f"zone {setup.zone.name}: even with its PRV(s) wide open the lowest pressure is "
               f"{float(low.min()):.1f} m at {clock_hhmm(int(low.idxmin()), setup.start_clock_s)}: the zone "
               "lacks "
               "supply head before any pressure management; check the network's supply first")
        raise InputError(msg)
    if len(short):
        worst = short.idxmax()
        msg = (f"zone {setup.zone.name}: with its PRV(s) wide open the lowest pressure at "
               f"{clock_hhmm(int(worst), setup.start_clock_s)} is {float(low[worst]):.1f} m, below the "
               "target "
               f"{float(wanted[worst]):g} m (at {len(short)} of {len(low)} times): the inlet head cannot "
               f"hold it; give a target of at most {float(low.min()):.1f} m")
        raise InputError(msg)


def clock_hhmm(time_s: int, start_clock_s: int) -> str:
    """Return the clock time (hh:mm) of a model time, s, for a model starting at ``start_clock_s``."""
    t = (int(time_s) + start_clock_s) % DAY_S
    return f"{t // HOUR_S:02d}:{t % HOUR_S // MINUTE_S:02d}"


def _scenario_runs(wn: Network, zone: Zone, modes: Sequence[str], *, target_m: float, n1: float,
                   night_leakage_m3h: float | None, night_target_m: float | None = None,
                   leaks: Sequence[Leak] = ()) -> tuple[_Setup, ZoneState, dict[str, ModeRun], _Prvs]:
    for mode in modes:
        if mode not in MODES:
            raise InputError(f"mode {mode!r}: use one of {', '.join(MODES)}")
    for name, value in (("target", target_m), ("night target", night_target_m)):
        if value is not None and (not np.isfinite(value) or value <= 0):
            raise InputError(f"{name} = {value} m: give the pressure the critical point must keep, above 0 m")
    service = min(target_m, target_m if night_target_m is None else night_target_m)
    wn, zone, placed = _with_leaks(wn, zone, leaks, n1)
    setup, before_run = _prepare(wn, zone, n1=n1, night_leakage_m3h=night_leakage_m3h, service_m=service,
                                 leaks=placed)
    before = _state(before_run, setup)
    if "time" in modes:
        _check_patterns(wn, setup)
    targets = _Targets(target_m, target_m if night_target_m is None else night_target_m, setup.start_clock_s)
    critical, heads, with_prv, prvs, elevations = _critical_run(setup, targets)
    _check_reachable(critical, setup, targets)
    head_series = pd.Series(heads, dtype=float).sort_index()
    head_series = head_series[head_series.index < DAY_S]
    inflow = (critical.flowrate_m3s.abs().sum(axis=1) if critical.flowrate_m3s is not None
              else pd.Series(dtype=float))
    out: dict[str, ModeRun] = {}
    rules = {"critical": _critical_rule(targets, _ceiling(with_prv, elevations, targets),
                                        float(np.max(elevations)))}
    for mode in modes:
        settings = _plan(mode, head_series, inflow, setup, target_m, targets.night_m)
        settings["outlet_elevation_m"] = [round(float(z), 3) for z in elevations]
        plan = PrvPlan(prvs, mode, settings)
        if mode == "critical":
            out[mode] = (plan, critical, heads)
            continue
        rules[mode] = _plan_rule(mode, settings, setup.start_clock_s)
        control = _OutletHead(prvs, elevations, [], list(zone.inlets), rules[mode], float(head_series.max()))
        with _session(with_prv, n1, setup.service_m) as session:
            run = _run(session, setup, control)
        out[mode] = (plan, run, dict(control.heads))
    return setup, before, out, _Prvs(with_prv, prvs, elevations, rules, float(head_series.max()))


def _with_leaks(wn: Network, zone: Zone, leaks: Sequence[Leak],
                n1: float) -> tuple[Network, Zone, dict[str, Leak]]:
    """Place the leaks (a pipe leak splits its pipe) and check they are in the zone, at exponent N1."""
    if not leaks:
        return wn, zone, {}
    wrong = [leak.location for leak in leaks if abs(leak.exponent - n1) > 1e-9]
    if wrong:
        msg = (f"leak at {list_ids(wrong)} has another exponent than N1 = {n1:g}: EPANET has one emitter "
               "exponent for a run; give the leaks exponent N1")
        raise InputError(msg)
    placed, nodes = place_leaks(wn, leaks)
    inside = set(zone.junctions)
    added = []
    for node in nodes:
        if node in inside:
            continue
        near = {link.start_node_name if link.end_node_name == node else link.end_node_name
                for link in (placed.get_link(name) for name in placed.get_links_for_node(node))}
        if node in wn.node_name_list or not near <= inside:
            raise InputError(f"leak at {node} is outside zone {zone.name}: give leaks inside the zone")
        added.append(node)
    zone = replace(zone, junctions=(*zone.junctions, *added))
    return placed, zone, dict(zip(nodes, leaks, strict=True))


def _check_patterns(wn: wntr.network.WaterNetworkModel, setup: _Setup) -> None:
    if setup.night_time_s == setup.peak_time_s:
        msg = (f"{wn.name or 'the network'}: the zone's demand is the same at every hour (no demand "
               "pattern), so a time-modulated PRV has no night to lower; give the model its demand "
               "patterns, or use the fixed mode")
        raise InputError(msg)


def _findings(setup: _Setup, before: ZoneState, after: ZoneState, lowest_target_m: float) -> list[Finding]:
    found = []
    hourly = after.hourly
    fed_elsewhere = hourly[(hourly["inflow_m3h"] < FED_ELSEWHERE_M3H)
                           & (hourly["min_pressure_m"] > lowest_target_m + REACH_TOLERANCE_M)]
    if len(fed_elsewhere):
        zone = setup.zone
        others = f" (e.g. through {list_ids(zone.outlets)})" if zone.outlets else ""
        if len(fed_elsewhere) == len(hourly):  # the PRV never acts: nothing here is its effect
            raise InputError(f"zone {zone.name}: its PRV(s) close at every step and it keeps more than the "
                             f"target: it is fed another way{others}, so PRVs at its inlets cannot manage "
                             "it; choose a zone fed only through its inlets")
        found.append(warning(
            "pressure-fed-elsewhere",
            f"at {len(fed_elsewhere)} of {len(hourly)} times the PRV(s) of zone {zone.name} close and the "
            f"zone still keeps more than the target: it is fed another way{others}, so the PRV does not set "
            "its pressure there",
            fix="give every pipe that can feed the zone as an inlet", elements=zone.inlets,
            element_type="link"))
    if any(setup.wn.get_node(j).emitter_coefficient for j in setup.wn.junction_name_list):
        found.append(warning("pressure-model-emitters", "the model has emitters of its own: the runs give "
                             f"them the exponent N1 = {setup.leakage.n1:g} (EPANET has one emitter exponent)",
                             fix="remove them, or set N1 to the model's emitter exponent"))
    if after.leakage_m3_per_day > before.leakage_m3_per_day * (1 + 1e-6):
        found.append(warning("pressure-leakage-up", f"leakage rises from {before.leakage_m3_per_day:.1f} to "
                             f"{after.leakage_m3_per_day:.1f} m3/day: the target is above today's pressures",
                             fix="lower the target to the minimum service pressure"))
    zone = setup.zone
    if zone.downstream:
        found.append(Finding(Severity.INFO, "pressure-downstream-zone", zone.downstream,
                             f"zone {zone.name} alone feeds {len(zone.downstream)} junctions beyond it "
                             f"({list_ids(zone.downstream)}): the PRV serves them too, so they are in the "
                             "zone",
                             "node"))
    if zone.outlets:
        found.append(warning("pressure-outlets", f"zone {zone.name} also feeds other DMAs through "
                             f"{list_ids(zone.outlets)}, which have inlets of their own: the PRV lowers "
                             "their pressure too, and this scenario does not check them",
                             fix="give every pipe that feeds both as inlets, or check those DMAs' pressures",
                             elements=zone.outlets, element_type="link"))
    if not setup.demand_nodes:
        found.append(warning("pressure-no-demand", f"zone {setup.zone.name} has no junction with demand: the "
                             "critical point is taken over every junction", fix="give the model its demands"))
    return found


def scenario(wn: wntr.network.WaterNetworkModel, zone: Zone, *, mode: str = "fixed", target_m: float,
             night_target_m: float | None = None, n1: float = 1.0, night_leakage_m3h: float | None = None,
             min_service_pressure_m: float | None = None, variable_cost_per_m3: float | None = None,
             fire_flow_m3s: float | None = None, fire_residual_m: float = 14.0,
             leaks: Sequence[Leak] = (), compare: bool = False) -> ScenarioResult:
    """Run one pressure-management scenario on a zone, before and after its PRV(s).

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not changed).
    zone : Zone
        From :func:`~nrwkit.pressure.zone_from_dma` or :func:`~nrwkit.pressure.zone_from_inlets`.
    mode : {"fixed", "time", "flow", "critical"}
        PRV control mode, at its lowest settings that keep ``target_m`` at the critical point
        at every step of the day.
    target_m : float
        Pressure the critical point (the lowest-pressure junction with demand) must keep, m.
    night_target_m : float, optional
        The pressure it must keep in the night hours (00:00-06:00), m (default ``target_m``).
    n1 : float
        FAVAD exponent of the zone's leakage (0 < N1 <= 3).
    night_leakage_m3h : float, optional
        The zone's leakage at the night hour today, m3/h (default: its unavoidable background
        leakage, :func:`background_leakage`).
    min_service_pressure_m : float, optional
        Pressure below which a customer is not served (default ``target_m``).
    variable_cost_per_m3 : float, optional
        Variable production cost, to value the water saved.
    fire_flow_m3s : float, optional
        Also draw this fire flow at the critical node for FIRE_DURATION_S from the peak hour,
        before and with the PRV(s) in ``mode``, and report the lowest pressure it leaves there.
    fire_residual_m : float
        The residual pressure the fire flow must leave, m.
    leaks : sequence of nrwkit.leaks.Leak
        Leaks in the zone on top of the background leakage (exponent N1; a leak along a pipe
        splits it), e.g. the bursts a leak survey found.
    compare : bool
        Also compare the modes (:func:`compare_modes`) from the same runs: the network as it
        is and the critical-point control are run once for both.

    Returns
    -------
    ScenarioResult

    Raises
    ------
    InputError
        For a mode or N1 out of range, a target the inlet head cannot hold, a time-modulated
        mode on a model without demand patterns, or an inlet nrwkit cannot put a PRV on.
    SimulationError
        When EPANET cannot solve the network as it is.
    """
    modes = list(dict.fromkeys([*_comparison_modes(wn, zone), mode])) if compare else [mode]
    setup, before, runs, prvs = _scenario_runs(wn, zone, modes, target_m=target_m, n1=n1,
                                               night_leakage_m3h=night_leakage_m3h,
                                               night_target_m=night_target_m, leaks=leaks)
    plan, run, heads = runs[mode]
    after = _state(run, setup, heads)
    fire = None
    if fire_flow_m3s is not None:
        fire = _fire_check(setup, prvs, mode, after.critical_node, fire_flow_m3s, fire_residual_m)
    saved = (before.leakage_m3_per_day - after.leakage_m3_per_day) * DAYS_PER_YEAR
    return ScenarioResult(
        zone=setup.zone, before=before, after=after, prv=plan, leakage=setup.leakage, target_m=target_m,
        service_violations=_violations(run, setup, min(target_m, night_target_m or target_m)
                                       if min_service_pressure_m is None else min_service_pressure_m),
        warnings=(_findings(setup, before, after, min(target_m, night_target_m or target_m))
                  + _fire_findings(fire)),
        value_saved_per_year=None if variable_cost_per_m3 is None else saved * variable_cost_per_m3,
        fire_flow=fire, comparison=_modes_table(setup, before, runs) if compare else None)


def _fire_check(setup: _Setup, prvs: _Prvs, mode: str, node: str, flow_m3s: float,
                residual_m: float) -> dict[str, Any]:
    """Draw a fire flow at ``node`` from the peak hour, before and with the PRVs; the lowest pressures."""
    if not np.isfinite(flow_m3s) or flow_m3s <= 0:
        raise InputError(f"fire flow = {flow_m3s} m3/s: give a fire flow above 0")
    start = setup.peak_time_s
    window = slice(start, start + FIRE_DURATION_S)
    lows = []
    for network, control in ((setup.wn, None), (prvs.network, _OutletHead(
            prvs.links, prvs.elevations, setup.demand_nodes or list(setup.zone.junctions),
            list(setup.zone.inlets), prvs.rules[mode], prvs.start_head_m))):
        with _session(network, setup.leakage.n1, setup.service_m) as session, \
                session.extra_demand(node, flow_m3s, start_s=start):
            run = _run(session, setup, control)
        lows.append(float(run.pressure_m[node].loc[window].min()))
    return {"node": node, "flow_lps": round(flow_m3s * LITRES_PER_M3, 3),
            "duration_h": FIRE_DURATION_S / SECONDS_PER_HOUR, "start_s": int(start), "residual_m": residual_m,
            "before_min_pressure_m": round(lows[0], 3), "after_min_pressure_m": round(lows[1], 3),
            "passes": bool(lows[1] >= residual_m)}


def _fire_findings(fire: dict[str, Any] | None) -> list[Finding]:
    if fire is None or fire["passes"]:
        return []
    return [warning("pressure-fire-flow",
                    f"a fire flow of {fire['flow_lps']:g} l/s at {fire['node']} leaves "
                    f"{fire['after_min_pressure_m']:.1f} m with the PRV(s) (before: "
                    f"{fire['before_min_pressure_m']:.1f} m), below the {fire['residual_m']:g} m it must "
                    "leave",
                    fix="raise the target, use critical-point or flow-modulated control, or check the "
                        "hydrant's supply", elements=[fire["node"]], element_type="node")]


def compare_modes(wn: wntr.network.WaterNetworkModel, zone: Zone, *, target_m: float, n1: float = 1.0,
                  night_leakage_m3h: float | None = None,
                  night_target_m: float | None = None) -> pd.DataFrame:
    """Compare the four modes on a zone, each at its lowest settings for ``target_m``.

    Parameters are those of :func:`scenario`. The time-modulated mode is left out on a model
    whose zone demands have no pattern (it would equal the fixed mode).

    Returns
    -------
    pandas.DataFrame
        One row per mode (``before`` first): ``azp_m``, ``aznp_m``, ``max_pressure_m``,
        ``critical_pressure_m``, ``leakage_m3_per_day``, ``leakage_reduction_percent``,
        ``burst_reduction_percent`` (central BFF), ``ndf_hours``.
    """
    setup, before, runs, _ = _scenario_runs(wn, zone, _comparison_modes(wn, zone), target_m=target_m, n1=n1,
                                            night_leakage_m3h=night_leakage_m3h,
                                            night_target_m=night_target_m)
    return _modes_table(setup, before, runs)


def _comparison_modes(wn: wntr.network.WaterNetworkModel, zone: Zone) -> list[str]:
    """Return the four modes, without the time-modulated one on demands without a pattern."""
    return [m for m in MODES if not (m == "time" and _flat_demand(wn, zone))]


def _modes_table(setup: _Setup, before: ZoneState, runs: dict[str, ModeRun]) -> pd.DataFrame:
    """Return one row per mode run (``before`` first), as :func:`compare_modes` gives them."""
    rows = {"before": before}
    rows.update({mode: _state(run, setup, heads) for mode, (_, run, heads) in runs.items()})
    table = pd.DataFrame({name: state.to_dict() for name, state in rows.items()}).T
    table = table.drop(columns=["critical_node"]).astype(float)
    base = before.leakage_m3_per_day
    table["leakage_reduction_percent"] = [100.0 * (base - s.leakage_m3_per_day) / base if base > 0 else 0.0
                                          for s in rows.values()]
    table["burst_reduction_percent"] = [
        burst_reduction_percent(before.max_pressure_m, s.max_pressure_m)["central"] for s in rows.values()]
    return table


def _flat_demand(wn: wntr.network.WaterNetworkModel, zone: Zone) -> bool:
    multipliers = [np.asarray(wn.get_pattern(d.pattern_name).multipliers) for j in zone.junctions
                   for d in wn.get_node(j).demand_timeseries_list if d.pattern_name in wn.pattern_name_list]
    return not any(np.ptp(m) > 0 for m in multipliers if len(m))
