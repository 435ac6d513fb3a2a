"""The linearised hydraulic system at a solved state, and pressure sensitivities to demands.

At a solved state of the global gradient algorithm (Todini & Pilati 1988, EPANET's solver),
a small extra outflow ``dq`` at the junctions changes the heads by ``dH = -G^-1 dq`` with

    G = A21 D^-1 A12 + diag(d outflow / d H),

``D = diag(d headloss / d Q)`` over the open links, ``A12`` the link-node incidence of the
unknown-head nodes, and the diagonal terms the pressure-dependent demand and emitter slopes
(``docs/leaks.md``; DOMAIN.md section 7). ``G`` is symmetric, so the sensitivities of a few
sensor junctions to every candidate junction come from one sparse factorisation and one solve
per sensor, instead of one simulation per candidate.

Every gradient is computed from the model and the solved flows and heads (public WNTR
results): Hazen-Williams pipes from the formula with their minor loss, other pipes
``2 |h| / |Q|``, head pumps from their
curve ``h = A - B Q^C``, power pumps ``h / Q`` (``h Q`` constant), open valves as pipes with
n = 2; closed links and active flow
control valves carry no conductance; the node below an active PRV (above an active PSV) has
a fixed head, like tanks and reservoirs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import wntr
from scipy.optimize import OptimizeWarning
from scipy.sparse import csgraph

from ..errors import InputError
from ..findings import Finding, Severity, list_ids, warning
from ..units import METRES_PER_FOOT
from .session import HydraulicState

__all__ = ["LinearSystem", "LinkTable", "TankResponse", "link_table", "linear_system", "pressure_sensitivity",
           "resistance_spread", "tank_response"]

#: Smallest link gradient, s/m2: EPANET's RQtol (1e-7 ft/cfs) in SI. It keeps a link with
#: no flow from getting an infinite conductance.
MIN_GRADIENT = 1e-7 * METRES_PER_FOOT / METRES_PER_FOOT**3
_ACTIVE = 2  # wntr.network.LinkStatus.Active


@dataclass(frozen=True)
class LinearSystem:
    """The linearised system of a solved state over the junctions: ``M dH = -P dq``.

    Attributes
    ----------
    matrix : scipy.sparse.csc_matrix
        ``M``: ``G`` (in (m3/s) per m), except that an active PRV's outlet junction keeps
        its head (its row is the identity) and its mass balance is added to the PRV's inlet
        junction's row, since the PRV passes whatever flow its zone draws (an active PSV the
        other way round). Without active PRVs or PSVs, ``M = G`` is symmetric.
    junctions : list of str
        Every junction, in the matrix's order.
    fixed : dict
        Junction whose head an active valve holds -> the node across the valve that
        supplies (or takes) its flow (a junction, or a tank or reservoir: then a leak at the
        held junction changes no junction's head).
    isolated : frozenset of str
        Junctions with no path to a fixed head (behind closed links): sensitivity 0.
    notes : tuple of Finding
        What was done to keep the system solvable: ``linear-floating-junctions`` (an info
        naming the junctions with no path to a fixed head, given sensitivity 0) and
        ``linear-regularised`` (a warning: the factor was singular and was regularised);
        empty for a regular system.
    tanks : list of str
        The tanks, whose heads are held in ``M`` but change over a period (see
        :func:`tank_response`).
    tank_coupling : numpy.ndarray
        ``C`` (junctions x tanks): the conductance of the open links between each junction
        and each tank, (m3/s) per m.
    tank_block : numpy.ndarray
        ``K_TT`` (tanks x tanks): d (outflow of tank k) / d (head of tank l) with every other
        head held: the conductance of the open links at tank k on the diagonal, minus that of
        tank-to-tank links off it.
    tank_area_m2 : numpy.ndarray
        Each tank's surface area at its solved level (from its diameter, or the slope of
        its volume curve).
    pipe_terms : (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        For every link, in the state's link order: the matrix columns of its start and end
        nodes (-1 for a tank or reservoir) and, for an open pipe, ``conductance x (head at
        start - head at end)`` (m3/s): the flow from start to end it would lose if its
        resistance rose by 100 % at fixed heads (0 for other links; see
        :func:`resistance_spread`).
    pipe_tanks : (numpy.ndarray, numpy.ndarray)
        For every link: the index in ``tanks`` of its start and end node (-1: not a tank).
    """

    matrix: sp.csc_matrix
    junctions: list[str]
    fixed: dict[str, str]
    notes: tuple[Finding, ...] = ()
    isolated: frozenset[str] = frozenset()
    lu: Any = field(default=None, repr=False, compare=False)
    tanks: list[str] = field(default_factory=list)
    tank_coupling: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False, compare=False)
    tank_block: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False, compare=False)
    tank_area_m2: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    pipe_terms: tuple[np.ndarray, np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0)),
        repr=False, compare=False)
    pipe_tanks: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, dtype=int), np.zeros(0, dtype=int)), repr=False, compare=False)


def _at(frame: pd.DataFrame, time_s: int) -> pd.Series:
    if time_s not in frame.index:
        msg = f"the results have no time {time_s} s (they hold {frame.index.min()}..{frame.index.max()} s)"
        raise InputError(msg)
    return frame.loc[time_s]


@dataclass
class LinkTable:
    """The model's links as arrays, in a given link order (from :func:`link_table`).

    Build it once for many states of the same model (the states of one session).
    """

    kind: np.ndarray  # 0 CV pipe, 1 pipe, 2 pump, 3 PRV, 4 PSV, 5 PBV, 6 FCV, 7 TCV, 8 GPV
    start: list[str]
    end: list[str]
    hw_r: np.ndarray  # Hazen-Williams resistance (0 for other formulas / links)
    minor: np.ndarray  # minor-loss coefficient K / (2 g A^2), s2/m5
    pump_b: np.ndarray
    pump_c: np.ndarray
    power: np.ndarray  # W, power pumps (0 for head pumps)


_VALVE_CODES = {"PRV": 3, "PSV": 4, "PBV": 5, "FCV": 6, "TCV": 7, "GPV": 8}


def link_table(wn: wntr.network.WaterNetworkModel, names: Sequence[str] | None = None) -> LinkTable:
    """Read the link data the gradients need from the model, in the order ``names``.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    names : sequence of str, optional
        Link order; default the model's.

    Returns
    -------
    LinkTable
    """
    names = list(wn.link_name_list) if names is None else list(names)
    n = len(names)
    kind = np.zeros(n, dtype=int)
    hw_r, minor, pump_b, pump_c, power = (np.zeros(n) for _ in range(5))
    start: list[str] = []
    end: list[str] = []
    hw = wn.options.hydraulic.headloss == "H-W"
    get = wn.get_link
    for k, name in enumerate(names):
        link = get(name)
        start.append(link.start_node_name)
        end.append(link.end_node_name)
        typ = link.link_type
        if typ == "Pipe":
            kind[k] = 0 if link.check_valve else 1
            d = float(link.diameter)
            area = np.pi * d * d / 4.0
            minor[k] = float(link.minor_loss or 0.0) / (2.0 * 9.80665 * area * area)
            if hw:
                hw_r[k] = 10.667 * float(link.length) / (float(link.roughness) ** 1.852 * d ** 4.871)
        elif typ == "Pump":
            kind[k] = 2
            if link.pump_type == "HEAD":
                with warnings.catch_warnings():  # WNTR's curve fit warns on exact 3-point curves
                    warnings.simplefilter("ignore", OptimizeWarning)
                    _, coef_b, coef_c = link.get_head_curve_coefficients()
                pump_b[k], pump_c[k] = float(coef_b), float(coef_c)
            else:
                power[k] = float(link.power)
        else:
            kind[k] = _VALVE_CODES.get(str(link.valve_type), 8)
    return LinkTable(kind, start, end, hw_r, minor, pump_b, pump_c, power)


def linear_system(wn: wntr.network.WaterNetworkModel,
                  results: wntr.sim.SimulationResults | HydraulicState,
                  time_s: int | None = None, *, links: LinkTable | None = None) -> LinearSystem:
    """Build ``G`` at one solved state.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network that was simulated.
    results : wntr.sim.SimulationResults or HydraulicState
        A state from :meth:`nrwkit.hydraulics.HydraulicSession.states`, or the results of an
        ``EpanetSimulator`` run (node head, pressure and demand; link flowrate and status).
    time_s : int, optional
        The time to linearise at (needed with results; ignored with a state).
    links : LinkTable, optional
        :func:`link_table` of ``wn`` in the order of the state's links (saves reading the
        model again for every state); default read here.

    Returns
    -------
    LinearSystem
        Never raises on a solvable network: floating junctions get a unit row and a
        singular factor a tiny diagonal shift, both said in ``notes``.
    """
    if isinstance(results, HydraulicState):
        state = results
        link_names = list(state.link_names)
        node_pos = {n: k for k, n in enumerate(state.node_names)}
        head, pressure, flow = state.head_m, state.pressure_m, state.flow_m3s
        open_, active = state.open_, state.active
        required = state.demand_m3s + state.deficit_m3s
        pdd = (state.demand_model == "PDA", state.minimum_pressure_m, state.required_pressure_m,
               state.pressure_exponent)
    else:
        if time_s is None:
            raise InputError("give the time to linearise the results at")
        t = int(time_s)
        head_s = _at(results.node["head"], t)
        flow_s = _at(results.link["flowrate"], t)
        node_names = list(head_s.index)
        node_pos = {n: k for k, n in enumerate(node_names)}
        link_names = list(flow_s.index)
        head = head_s.to_numpy(dtype=float)
        pressure = _at(results.node["pressure"], t).reindex(node_names).to_numpy(dtype=float)
        flow = flow_s.to_numpy(dtype=float)
        status = (_at(results.link["status"], t).reindex(link_names).to_numpy(dtype=float)
                  if "status" in results.link else np.ones(len(link_names)))
        open_ = status != 0.0
        active = status == _ACTIVE
        hyd = wn.options.hydraulic
        is_pdd = str(hyd.demand_model).upper() in ("PDD", "PDA")
        required = np.zeros(len(node_names))
        if is_pdd:
            exp = wntr.metrics.expected_demand(wn, start_time=t, end_time=t).iloc[0]
            required = exp.reindex(node_names).fillna(0.0).to_numpy(dtype=float)
        pdd = (is_pdd, float(hyd.minimum_pressure), float(hyd.required_pressure),
               float(hyd.pressure_exponent))
    if links is None or len(links.kind) != len(link_names):
        links = link_table(wn, link_names)
    return _assemble(wn, links, node_pos, head, pressure, flow, open_, active, required, pdd)


def _assemble(wn: wntr.network.WaterNetworkModel, links: LinkTable, node_pos: dict[str, int],
              head: np.ndarray, pressure: np.ndarray, flow: np.ndarray, open_: np.ndarray,
              active: np.ndarray, required: np.ndarray, pdd: tuple[bool, float, float, float]
              ) -> LinearSystem:
    """Assemble ``M`` from the solved arrays, vectorised over links."""
    junctions = list(wn.junction_name_list)
    n = len(junctions)
    jnode = np.array([node_pos[j] for j in junctions], dtype=int)
    col = np.full(len(node_pos), -1)
    col[jnode] = np.arange(n)
    a = np.array([node_pos[x] for x in links.start], dtype=int)
    b = np.array([node_pos[x] for x in links.end], dtype=int)
    head = np.nan_to_num(np.asarray(head, dtype=float))
    q = np.abs(np.nan_to_num(np.asarray(flow, dtype=float)))
    dh = np.abs(head[a] - head[b])
    kind = links.kind
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(q > 0, 2.0 * dh / np.where(q > 0, q, 1.0), 0.0)  # n = 2 from the solved head loss
        pipe = kind <= 1
        hw = pipe & (links.hw_r > 0)
        g = np.where(hw, 1.852 * links.hw_r * q ** 0.852 + 2.0 * links.minor * q, g)
        head_pump = (kind == 2) & (links.power == 0)
        qpos = np.where(q > 0, q, 1.0)
        g = np.where(head_pump, links.pump_b * links.pump_c * qpos ** (links.pump_c - 1.0), g)
        power_pump = (kind == 2) & (links.power > 0)
        g = np.where(power_pump, dh / qpos, g)  # h Q = P / (rho g): dh/dQ = -h/Q, from the solved gain
    g = np.nan_to_num(g, nan=0.0, posinf=1.0 / MIN_GRADIENT)
    use = open_.astype(bool).copy()
    use &= ~((kind == 2) & (q <= 0))  # a pump with no flow is off
    held_valve = active & ((kind == 3) | (kind == 4))
    use &= ~(active & ((kind == 3) | (kind == 4) | (kind == 6)))
    cond = 1.0 / np.maximum(g[use], MIN_GRADIENT)
    ca, cb = col[a[use]], col[b[use]]
    notes: list[Finding] = []
    diag = np.bincount(ca[ca >= 0], weights=cond[ca >= 0], minlength=n)
    diag += np.bincount(cb[cb >= 0], weights=cond[cb >= 0], minlength=n)
    both = (ca >= 0) & (cb >= 0)
    offdiag = sp.csr_matrix((np.concatenate([-cond[both], -cond[both]]),
                             (np.concatenate([ca[both], cb[both]]), np.concatenate([cb[both], ca[both]]))),
                            shape=(n, n))
    diag += _slopes(wn, junctions, pressure[jnode], required[jnode], pdd)
    # active PRV: outlet held, its flow from the inlet; active PSV the other way round
    fixed: dict[str, str] = {}
    names = list(node_pos)
    for k in np.flatnonzero(held_valve):
        held, across = (b[k], a[k]) if kind[k] == 3 else (a[k], b[k])
        if col[held] >= 0:
            fixed[names[held]] = names[across]
    held_idx = [int(col[node_pos[h]]) for h in fixed]
    offdiag, diag, floating = _isolate_floating(offdiag, diag, held_idx)
    n_floating = int(floating.sum())
    if n_floating:
        ids = [junctions[k] for k in np.flatnonzero(floating)]
        notes.append(Finding(Severity.INFO, "linear-floating-junctions", tuple(ids),
                             f"{n_floating} junctions with no path to a fixed head (closed or isolated) "
                             f"have sensitivity 0: {list_ids(ids)}", "node"))
    matrix = (offdiag + sp.diags(diag, format="csr")).tocsr()
    if fixed:
        src: list[int] = []
        dst: list[int] = []
        for h, x in fixed.items():
            seen = {h}
            while x in fixed and x not in seen:  # valves in series: the flow comes from the first
                seen.add(x)
                x = fixed[x]
            if col[node_pos[x]] >= 0:
                src.append(int(col[node_pos[h]]))
                dst.append(int(col[node_pos[x]]))
        move = sp.csr_matrix((np.ones(len(src)), (dst, src)), shape=(n, n))
        matrix = matrix + move @ matrix
        keep = np.ones(n)
        keep[held_idx] = 0.0
        matrix = sp.diags(keep) @ matrix + sp.diags(1.0 - keep)
    matrix = sp.csc_matrix(matrix)
    lu = None
    try:
        lu = spla.splu(matrix)
    except RuntimeError:
        scale = float(np.abs(matrix.diagonal()).max() or 1.0)
        matrix = sp.csc_matrix(matrix + sp.identity(n, format="csc") * (1e-10 * scale))
        notes.append(warning("linear-regularised", "the linear system was singular: regularised by a "
                             "diagonal shift of 1e-10 of its largest diagonal term",
                             fix="check the network for junctions or zones only joined through closed or "
                             "zero-flow links"))
        lu = spla.splu(matrix)
    tanks, coupling, block, area = _tank_terms(wn, node_pos, col, a[use], b[use], cond, head, n)
    pipe_flow = np.zeros(len(kind))
    pipe_flow[use] = cond * (head[a] - head[b])[use]
    pipe_terms = (col[a], col[b], np.where(kind <= 1, pipe_flow, 0.0))
    tank_col = np.full(len(node_pos), -1)
    tank_col[[node_pos[t] for t in tanks]] = np.arange(len(tanks))
    return LinearSystem(matrix=matrix, junctions=junctions, fixed=dict(sorted(fixed.items())),
                        notes=tuple(notes), lu=lu,
                        isolated=frozenset(junctions[k] for k in np.flatnonzero(floating)),
                        tanks=tanks, tank_coupling=coupling, tank_block=block, tank_area_m2=area,
                        pipe_terms=pipe_terms, pipe_tanks=(tank_col[a], tank_col[b]))


def _tank_terms(wn: wntr.network.WaterNetworkModel, node_pos: dict[str, int], col: np.ndarray,
                a: np.ndarray, b: np.ndarray, cond: np.ndarray, head: np.ndarray, n: int
                ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Return the tanks, ``C`` (junctions x tanks), ``K_TT`` and the tanks' areas at their levels."""
    tanks = [t for t in wn.tank_name_list if t in node_pos]
    coupling = np.zeros((n, len(tanks)))
    block = np.zeros((len(tanks), len(tanks)))
    area = np.zeros(len(tanks))
    if not tanks:
        return tanks, coupling, block, area
    tank_col = np.full(len(node_pos), -1)
    tank_col[[node_pos[t] for t in tanks]] = np.arange(len(tanks))
    ta, tb = tank_col[a], tank_col[b]
    for here, other, other_tank in ((ta, col[b], tb), (tb, col[a], ta)):
        at = here >= 0
        np.add.at(block, (here[at], here[at]), cond[at])
        to_junction = at & (other >= 0)
        np.add.at(coupling, (other[to_junction], here[to_junction]), cond[to_junction])
        between = at & (other_tank >= 0)
        np.add.at(block, (here[between], other_tank[between]), -cond[between])
    for k, name in enumerate(tanks):
        area[k] = _tank_area(wn.get_node(name), float(head[node_pos[name]]))
    return tanks, coupling, block, area


def _tank_area(tank: Any, head_m: float) -> float:
    """Surface area of a tank at a head, m2: its diameter's circle, or its volume curve's slope."""
    level = head_m - float(tank.elevation)
    curve = getattr(tank, "vol_curve", None)
    if curve is not None and len(curve.points) >= 2:
        levels = np.array([p[0] for p in curve.points], dtype=float)
        volumes = np.array([p[1] for p in curve.points], dtype=float)
        k = int(np.clip(np.searchsorted(levels, level) - 1, 0, len(levels) - 2))
        rise = levels[k + 1] - levels[k]
        if rise > 0:
            return max(float((volumes[k + 1] - volumes[k]) / rise), 1e-6)
    d = float(tank.diameter or 0.0)
    return max(np.pi * d * d / 4.0, 1e-6)


def _isolate_floating(offdiag: sp.csr_matrix, diag: np.ndarray, held: list[int]
                      ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Give junctions with no path to any fixed head a unit diagonal and cut their links.

    Junctions cut off by closed links have no defined head (EPANET reports an arbitrary
    one); without this their rows would make the system singular. They get a sensitivity of
    0. A junction is anchored when some of its conductance goes to a tank or reservoir, it
    has an outflow slope, or a valve holds its head.
    """
    to_fixed = diag + np.asarray(offdiag.sum(axis=1)).ravel()  # conductance not to junctions
    anchored = to_fixed > 1e-12 * np.maximum(diag, 1e-300)
    anchored[held] = True
    _, labels = csgraph.connected_components(offdiag, directed=False)
    good = np.zeros(int(labels.max()) + 1 if len(labels) else 0, dtype=bool)
    good[np.unique(labels[anchored])] = True
    floating = ~good[labels]
    if not floating.any():
        return offdiag, diag, floating
    coo = offdiag.tocoo()
    keep = ~(floating[coo.row] | floating[coo.col])
    cut = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=offdiag.shape)
    return cut, np.where(floating, 1.0, diag), floating


def _slopes(wn: wntr.network.WaterNetworkModel, junctions: list[str], pressure: np.ndarray,
            required: np.ndarray, pdd: tuple[bool, float, float, float]) -> np.ndarray:
    """Return d outflow / d head at each junction: pressure-dependent demand and emitters."""
    is_pdd, pmin, preq, e = pdd
    p = np.nan_to_num(np.asarray(pressure, dtype=float))
    slopes = np.zeros(len(junctions))
    if is_pdd and preq > pmin:
        on = (required > 0) & (p > pmin) & (p < preq)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = e * required * (np.clip(p - pmin, 1e-300, None) / (preq - pmin)) ** (e - 1.0) / (preq - pmin)
        slopes += np.where(on, np.nan_to_num(s), 0.0)
    emitter_n = float(wn.options.hydraulic.emitter_exponent or 0.5)
    coef = np.array([float(wn.get_node(j).emitter_coefficient or 0.0) for j in junctions])
    if coef.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            s = emitter_n * coef * np.clip(p, 1e-300, None) ** (emitter_n - 1.0)
        slopes += np.where((coef > 0) & (p > 0), np.nan_to_num(s), 0.0)
    return slopes


def _supplier(fixed: dict[str, str], node: str) -> str:
    seen = {node}
    while node in fixed and fixed[node] not in seen:
        node = fixed[node]
        seen.add(node)
    return node


def pressure_sensitivity(system: LinearSystem, sensors: Sequence[str],
                         candidates: Sequence[str] | None = None) -> pd.DataFrame:
    """Return ``d pressure(sensor) / d outflow(candidate)`` in m per (m3/s), one solve per sensor.

    Parameters
    ----------
    system : LinearSystem
        From :func:`linear_system`.
    sensors : sequence of str
        Junctions with a pressure logger.
    candidates : sequence of str, optional
        Junctions where the extra outflow (a leak) may be; default every junction.

    Returns
    -------
    pandas.DataFrame
        Index = sensors, columns = candidates; values are negative (a leak lowers pressure).
    """
    index = {j: k for k, j in enumerate(system.junctions)}
    lu = system.lu if system.lu is not None else spla.splu(system.matrix)
    columns = list(system.junctions) if candidates is None else list(candidates)
    unknown = [c for c in columns if c not in index]
    if unknown:
        raise InputError(f"candidates {', '.join(unknown[:5])} are not junctions of the network")
    source = _sources(system, index, columns)
    bad = [s for s in sensors if s not in index]
    if bad:
        raise InputError(f"sensor {bad[0]} is not a junction of the network")
    rhs = np.zeros((len(system.junctions), len(sensors)))
    rhs[[index[s] for s in sensors], np.arange(len(sensors))] = 1.0
    y = np.atleast_2d(lu.solve(rhs, trans="T").T) if len(sensors) else np.zeros((0, len(system.junctions)))
    out = np.where(source >= 0, -y[:, np.maximum(source, 0)], 0.0)  # rows of M^-1: y = M^-T e_s
    out[[k for k, s in enumerate(sensors) if s in system.isolated], :] = 0.0
    return pd.DataFrame(out, index=pd.Index(list(sensors), name="sensor"),
                        columns=pd.Index(columns, name="candidate"))


@dataclass(frozen=True)
class TankResponse:
    """How a demand at a junction reaches the loggers through the tanks over a period.

    With the tanks' heads held, an extra outflow ``dq`` at the junctions changes the heads by
    ``dH = -M^-1 P dq`` (:func:`pressure_sensitivity`). Over a period the tanks that supply
    it drain: their outflows change by ``dQ_T = W dq + K dH_T`` and their heads by
    ``A dH_T/dt = -dQ_T``, and a change of tank head changes the junctions' heads by
    ``dH = M^-1 P C dH_T``.

    Attributes
    ----------
    tanks : list of str
    area_m2 : numpy.ndarray
        ``A``, each tank's surface area, (T,).
    to_sensor : numpy.ndarray
        d pressure(sensor) / d head(tank), (S, T).
    outflow : numpy.ndarray
        ``W``: d outflow(tank) / d demand(candidate), (T, J), dimensionless (the share of a
        junction's extra demand each tank supplies while the heads of tanks are held).
    feedback : numpy.ndarray
        ``K = K_TT - C^T M^-1 P C``: d outflow(tank) / d head(tank), (T, T), (m3/s) per m.
    """

    tanks: list[str]
    area_m2: np.ndarray
    to_sensor: np.ndarray
    outflow: np.ndarray
    feedback: np.ndarray


def tank_response(system: LinearSystem, sensors: Sequence[str],
                  candidates: Sequence[str] | None = None) -> TankResponse:
    """Return the tank terms of the linearised system for sensors and candidate junctions.

    Parameters
    ----------
    system : LinearSystem
        From :func:`linear_system`.
    sensors : sequence of str
        Junctions with a pressure logger.
    candidates : sequence of str, optional
        Junctions where an extra demand (a leak) may be; default every junction.

    Returns
    -------
    TankResponse
    """
    index = {j: k for k, j in enumerate(system.junctions)}
    columns = list(system.junctions) if candidates is None else list(candidates)
    n_tanks = len(system.tanks)
    if n_tanks == 0:
        return TankResponse([], np.zeros(0), np.zeros((len(sensors), 0)), np.zeros((0, len(columns))),
                            np.zeros((0, 0)))
    lu = system.lu if system.lu is not None else spla.splu(system.matrix)
    coupling = _to_rhs(system, index, system.tank_coupling)  # P C
    heads = lu.solve(coupling)  # M^-1 P C: junction heads per unit tank head, (N, T)
    rows = [index[s] for s in sensors]
    isolated_rows = [k for k, s in enumerate(sensors) if s in system.isolated]
    to_sensor = heads[rows, :].copy()
    to_sensor[isolated_rows, :] = 0.0
    z = lu.solve(system.tank_coupling, trans="T")  # M^-T C, (N, T)
    source = _sources(system, index, columns)
    outflow = np.where(source[None, :] >= 0, z[np.maximum(source, 0), :].T, 0.0)
    feedback = system.tank_block - system.tank_coupling.T @ heads
    return TankResponse(list(system.tanks), system.tank_area_m2.copy(), to_sensor, outflow, feedback)


def _sources(system: LinearSystem, index: dict[str, int], columns: list[str]) -> np.ndarray:
    """Return the matrix row each candidate's injection enters at (-1: no junction's head moves).

    The right-hand side of a leak at j is ``P e_j``: ``e_j``, or ``e_supplier`` for a junction
    held by a valve; a junction held by a valve fed from a tank or reservoir, or isolated, has
    none.
    """
    return np.array([-1 if c in system.isolated else index.get(_supplier(system.fixed, c), -1)
                     for c in columns], dtype=int)


def _to_rhs(system: LinearSystem, index: dict[str, int], injection: np.ndarray) -> np.ndarray:
    """Apply ``P``: an injection at a junction held by a valve enters at the junction supplying it."""
    out = np.array(injection, dtype=float, copy=True)
    for held in system.fixed:
        row = out[index[held]].copy()
        out[index[held]] = 0.0
        supplier = index.get(_supplier(system.fixed, held), -1)
        if supplier >= 0:
            out[supplier] += row
    return out


def resistance_spread(system: LinearSystem, to_sensor: np.ndarray,
                      tanks: TankResponse | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return the loggers' and tanks' response to a relative error of each pipe's resistance.

    A pipe whose resistance is off by a relative ``rho`` (its head loss at a given flow off by
    ``rho h``) carries ``w rho`` less flow from its start to its end at the solved heads
    (``w``: :attr:`LinearSystem.pipe_terms`): an extra outflow ``w rho`` at its end junction
    and an inflow at its start; where an end is a tank, the tank's outflow changes by it
    directly.

    Parameters
    ----------
    system : LinearSystem
        From :func:`linear_system`.
    to_sensor : numpy.ndarray
        (S, N) :func:`pressure_sensitivity` of the loggers to every junction of the system.
    tanks : TankResponse, optional
        :func:`tank_response` for every junction of the system; default no tank terms.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        (S, L) m and (T, L) (m3/s) per unit relative resistance error, one column per link
        (0 but for open pipes).
    """
    start, end, flow = system.pipe_terms
    at_start = np.where(start >= 0, to_sensor[:, np.maximum(start, 0)], 0.0)
    at_end = np.where(end >= 0, to_sensor[:, np.maximum(end, 0)], 0.0)
    sensors = np.asarray((at_end - at_start) * flow[None, :])
    if tanks is None or not tanks.tanks:
        return sensors, np.zeros((0, len(flow)))
    out_start = np.where(start >= 0, tanks.outflow[:, np.maximum(start, 0)], 0.0)
    out_end = np.where(end >= 0, tanks.outflow[:, np.maximum(end, 0)], 0.0)
    outflow = (out_end - out_start) * flow[None, :]
    tank_start, tank_end = system.pipe_tanks
    at = np.flatnonzero(tank_start >= 0)
    np.add.at(outflow, (tank_start[at], at), -flow[at])  # less water leaves a tank at the start
    at = np.flatnonzero(tank_end >= 0)
    np.add.at(outflow, (tank_end[at], at), flow[at])
    return sensors, outflow
