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
curve ``h = A - B Q^C``, open valves as pipes with n = 2; closed links and active flow
control valves carry no conductance; the node below an active PRV (above an active PSV) has
a fixed head, like tanks and reservoirs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import wntr
from scipy.optimize import OptimizeWarning
from scipy.sparse import csgraph

from ..errors import InputError

__all__ = ["LinearSystem", "linear_system", "pressure_sensitivity"]

#: Smallest link gradient, s/m2: EPANET's RQtol (1e-7 ft/cfs) in SI. It keeps a link with
#: no flow from getting an infinite conductance.
MIN_GRADIENT = 1e-7 * 0.3048 / 0.0283168466
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
        Junction whose head an active valve holds -> the junction across the valve that
        supplies (or takes) its flow.
    """

    matrix: sp.csc_matrix
    junctions: list[str]
    fixed: dict[str, str]


def _at(frame: pd.DataFrame, time_s: int) -> pd.Series:
    if time_s not in frame.index:
        msg = f"the results have no time {time_s} s (they hold {frame.index.min()}..{frame.index.max()} s)"
        raise InputError(msg)
    return frame.loc[time_s]


def linear_system(wn: wntr.network.WaterNetworkModel, results: wntr.sim.SimulationResults,
                  time_s: int) -> LinearSystem:
    """Build ``G`` at one time of a simulation's results.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network that was simulated.
    results : wntr.sim.SimulationResults
        Its results (``EpanetSimulator``): node head, pressure and demand; link flowrate and
        status.
    time_s : int
        The time to linearise at.

    Returns
    -------
    LinearSystem
    """
    head = _at(results.node["head"], time_s)
    pressure = _at(results.node["pressure"], time_s)
    flow = _at(results.link["flowrate"], time_s)
    status = (_at(results.link["status"], time_s) if "status" in results.link
              else pd.Series(1.0, index=flow.index))
    junctions = list(wn.junction_name_list)
    fixed: dict[str, str] = {}
    rows: list[tuple[str, str, float]] = []  # (start, end, conductance)
    headloss_n = 1.852 if wn.options.hydraulic.headloss == "H-W" else 2.0
    for name, link in wn.links():
        q = abs(float(flow[name]))
        a, b = link.start_node_name, link.end_node_name
        if float(status[name]) == 0.0:
            continue  # closed: no conductance
        if link.link_type == "Pipe":
            g = _pipe_gradient(link, q, float(head[a]) - float(head[b]), headloss_n)
        elif link.link_type == "Pump":
            if q <= 0:
                continue
            if link.pump_type == "HEAD":
                with warnings.catch_warnings():  # WNTR's curve fit warns on exact 3-point curves
                    warnings.simplefilter("ignore", OptimizeWarning)
                    _, coef_b, coef_c = link.get_head_curve_coefficients()
                g = float(coef_b) * float(coef_c) * q ** (float(coef_c) - 1.0)
            else:  # a power pump: gain = P / (rho g Q)
                g = float(link.power) / (1000.0 * 9.81 * q * q)
        else:  # a valve
            active = float(status[name]) == _ACTIVE
            kind = link.valve_type
            if active and kind in ("PRV", "PSV"):
                held, across = (b, a) if kind == "PRV" else (a, b)
                if held in set(junctions) and across in set(junctions):
                    fixed[held] = across
                continue
            if active and kind == "FCV":
                continue
            h = abs(float(head[a]) - float(head[b]))
            g = 2.0 * h / q if q > 0 else 0.0
        rows.append((a, b, 1.0 / max(g, MIN_GRADIENT)))
    unknown = junctions
    index = {j: k for k, j in enumerate(unknown)}
    diag = np.zeros(len(unknown))
    r_idx: list[int] = []
    c_idx: list[int] = []
    vals: list[float] = []
    for a, b, c in rows:
        ia, ib = index.get(a), index.get(b)
        if ia is not None:
            diag[ia] += c
        if ib is not None:
            diag[ib] += c
        if ia is not None and ib is not None:
            r_idx += [ia, ib]
            c_idx += [ib, ia]
            vals += [-c, -c]
    diag += _outflow_slopes(wn, unknown, pressure, time_s)
    n = len(unknown)
    offdiag = sp.csr_matrix((vals, (r_idx, c_idx)), shape=(n, n))
    offdiag, diag = _isolate_floating(offdiag, diag, [index[h] for h in fixed])
    matrix = (offdiag + sp.diags(diag, format="csr")).tolil()
    for held, across in fixed.items():
        h, x = index[held], index[across]
        matrix[x, :] = matrix[x, :] + matrix[h, :]
        matrix[h, :] = 0.0
        matrix[h, h] = 1.0
    return LinearSystem(matrix=matrix.tocsc(), junctions=unknown, fixed=dict(sorted(fixed.items())))


def _isolate_floating(offdiag: sp.csr_matrix, diag: np.ndarray, held: list[int]
                      ) -> tuple[sp.csr_matrix, np.ndarray]:
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
        return offdiag, diag
    coo = offdiag.tocoo()
    keep = ~(floating[coo.row] | floating[coo.col])
    cut = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=offdiag.shape)
    return cut, np.where(floating, 1.0, diag)


def _pipe_gradient(pipe: wntr.network.Pipe, q: float, dh: float, headloss_n: float) -> float:
    """Return d headloss / d Q of a pipe at flow ``q`` (m3/s), in s/m2.

    Hazen-Williams friction ``r Q^1.852`` (``r = 10.667 L / (C^1.852 D^4.871)``, SI) plus
    the minor loss ``K Q^2 / (2 g A^2)``, each differentiated exactly; other headloss
    formulas from the solved head difference, ``2 |h| / |Q|``.
    """
    if q <= 0:
        return 0.0
    area = np.pi * pipe.diameter ** 2 / 4.0
    minor = 2.0 * float(pipe.minor_loss or 0.0) * q / (2.0 * 9.80665 * area * area)
    if headloss_n == 1.852:
        r = 10.667 * pipe.length / (float(pipe.roughness) ** 1.852 * pipe.diameter ** 4.871)
        return 1.852 * r * q ** 0.852 + minor
    return 2.0 * abs(dh) / q


def _outflow_slopes(wn: wntr.network.WaterNetworkModel, junctions: list[str], pressure: pd.Series,
                    time_s: int) -> np.ndarray:
    """Return d outflow / d head at each junction: pressure-dependent demand and emitters."""
    slopes = np.zeros(len(junctions))
    hyd = wn.options.hydraulic
    pdd = str(hyd.demand_model).upper() in ("PDD", "PDA")
    emitter_n = float(hyd.emitter_exponent or 0.5)
    required = None
    if pdd:
        required = wntr.metrics.expected_demand(wn, start_time=time_s, end_time=time_s).iloc[0]
    for k, name in enumerate(junctions):
        node = wn.get_node(name)
        p = float(pressure[name])
        if pdd and required is not None:
            pmin = float(node.minimum_pressure if node.minimum_pressure is not None else hyd.minimum_pressure)
            preq = float(node.required_pressure if node.required_pressure is not None
                         else hyd.required_pressure)
            e = float(node.pressure_exponent if node.pressure_exponent is not None else hyd.pressure_exponent)
            d = float(required.get(name, 0.0))
            if d > 0 and pmin < p < preq:
                slopes[k] += e * d * ((p - pmin) / (preq - pmin)) ** (e - 1.0) / (preq - pmin)
        coef = float(node.emitter_coefficient or 0.0)
        if coef > 0 and p > 0:
            slopes[k] += emitter_n * coef * p ** (emitter_n - 1.0)
    return slopes


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
    lu = spla.splu(system.matrix)
    columns = list(system.junctions) if candidates is None else list(candidates)
    unknown = [c for c in columns if c not in index]
    if unknown:
        raise InputError(f"candidates {', '.join(unknown[:5])} are not junctions of the network")
    # the right-hand side of a leak at j is P e_j: e_j, or e_across for a junction held by a valve
    source = np.array([index[system.fixed.get(c, c)] for c in columns])
    out = np.zeros((len(sensors), len(columns)))
    for row, sensor in enumerate(sensors):
        if sensor not in index:
            raise InputError(f"sensor {sensor} is not a junction of the network")
        rhs = np.zeros(len(system.junctions))
        rhs[index[sensor]] = 1.0
        y = lu.solve(rhs, trans="T")  # one row of M^-1: y = M^-T e_s
        out[row] = -y[source]
    return pd.DataFrame(out, index=pd.Index(list(sensors), name="sensor"),
                        columns=pd.Index(columns, name="candidate"))
