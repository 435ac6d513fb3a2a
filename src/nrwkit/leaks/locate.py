"""Leak localisation from pressure loggers, with the model's own error in the probabilities.

The leak-free model is run once in memory (:class:`nrwkit.hydraulics.HydraulicSession`) at
the readings' times; a leak of flow ``f`` at junction ``j`` is expected to change the
loggers' pressures by ``f s_j(t)``, ``s_j(t)`` the sensitivities of the linearised system
at the solved state of time ``t`` (:func:`nrwkit.leaks.sensitivity_matrix`).

1. **Bins.** The window is cut into at most :data:`MAX_BINS` equal bins of whole reading
   steps; in each bin the residual ``r = measured - model`` of every logger is averaged and
   the sensitivities are taken at the bin's first reading time.
2. **Covariance.** The residual is not sensor noise alone. The model's demands are wrong by
   a relative ``demand_error`` (default 5 %) per junction, persistent over the window, so
   ``r = f s_j + U e + noise`` with ``U = J_t diag(d_t)`` stacked over the bins (``J_t`` the
   sensitivities of the loggers to every junction's demand, ``d_t`` the demands) and
   ``e ~ N(0, demand_error^2 I)``. The covariance ``C = diag(sigma_s^2 / n) + demand_error^2
   U U^T`` whitens residuals and signatures (generalised least squares).
3. **Fit per candidate.** ``f_j = s_j^T C^-1 r / s_j^T C^-1 s_j`` and the misfit
   ``rss_j = r^T C^-1 r - (s_j^T C^-1 r)^2 / s_j^T C^-1 s_j``. Only leak flows that are
   positive and at most the bound (the measured inflow when inflows are given, else the
   model's mean total demand over the window) are plausible: a candidate's leak flow is its
   best plausible one.
4. **Variance factor.** When even the best candidate misfits more than its degrees of
   freedom allow, the covariance is scaled by ``rss_min / dof`` (the a-posteriori variance
   factor of least squares), so that a model that fits badly gives wide, not sharp, answers.
5. **Posterior.** Uniform prior over candidates, log-uniform prior of the leak flow on
   ``(bound / 10^4, bound]``: the marginal likelihood ``integral exp(-(rss_j + b_j (f -
   f_j)^2) / (2 T)) p(f) df`` with ``b_j = s_j^T C^-1 s_j``, summed on a log grid of flows,
   ``T`` = :data:`TEMPERATURE` (the signatures' own error among near-alike candidates). A
   candidate whose best plausible flow misfits by more than :data:`REJECT_CHI2` beyond its
   own best fit is rejected. The search area holds the most probable junctions until their
   probabilities sum to the stated probability.
6. **Re-simulation.** The ``resimulate`` most probable candidates are run again through the
   full non-linear model (a constant extra demand of ``f_j`` at ``j`` from the window's start,
   tanks draining as they would), and their fit, leak flow and probability recomputed from the
   simulated change of pressure instead of the linear one.

Methods rank the candidates differently (the probability and the search area are the
posterior's whatever the method):

- ``bayes`` (default): by posterior probability;
- ``least-squares``: by the generalised-least-squares misfit alone (a leak as large as it
  needs to be; prefers candidates that a large leak far away would explain);
- ``correlation``: by the correlation of the residual with the signature after removing, in
  each bin, the change common to every logger (Pérez et al. 2011): insensitive to a uniform
  offset such as a wrong source level, which the other two would take for a leak.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.linalg as sla
import wntr
from scipy.special import logsumexp

from ..errors import InputError
from ..findings import Finding, warning
from ..hydraulics import HydraulicSession
from ..hydraulics.linear import linear_system, pressure_sensitivity, resistance_spread, tank_response
from ..hydraulics.session import ExtendedPeriod, HydraulicState
from ..units import HOUR_S, METRES_PER_KM, SECONDS_PER_HOUR
from .readings import Readings, usable_readings
from .sensitivity import level_switches, linear_systems, tank_drain

__all__ = ["MAX_BINS", "MAX_VARIANCE_FACTOR", "METHODS", "ROUGHNESS_EXPONENT", "Localisation", "locate"]

METHODS = ("bayes", "least-squares", "correlation")
Method = Literal["bayes", "least-squares", "correlation"]

#: Relative change of a pipe's resistance per relative change of its roughness coefficient:
#: Hazen-Williams h ~ C^-1.852, Chezy-Manning h ~ n^2, Darcy-Weisbach h ~ f, and f ~ e^0.25
#: about (fully rough flow, e/D ~ 1e-3, Colebrook-White).
ROUGHNESS_EXPONENT = {"H-W": 1.852, "C-M": 2.0, "D-W": 0.25}
#: Hours before the window over which the model error's tank drift is integrated. Pumps and
#: valves switched on tank levels bound the drift (a tank that fills slower keeps its pump on
#: longer: :func:`nrwkit.leaks.sensitivity.level_switches`); with their shifts the predicted
#: spread no longer grows with the horizon past about half a day's fill and draw cycle (Net3, 5 %
#: demand error, 30 EPANET runs: observed / predicted variance 1.22 at 8-12 h, 0.95 at
#: 140-144 h; without the shifts 0.39 and 0.46, and 0.05 from the model's start).
DRIFT_HOURS = 12
#: A reading this many noise deviations (and at least 0.5 m) off both its neighbours is a
#: spike, left out (:func:`_drop_spikes`).
SPIKE_SIGMAS = 10.0
#: Relative error of a leak's modelled effect at each logger and bin (independent), after the
#: non-linear correction: a leak is not exactly a constant orifice at a junction, and its
#: effect is modelled with the leak-free tank levels and demands. Taken from the most probable
#: candidate's effect and added to the covariance before the candidates are compared.
SIGNATURE_ERROR = 0.05
#: Most candidates whose linear signature is corrected for the size of their leak
#: (:func:`_secant`, one steady solve each: about 3 s on L-Town's 782 junctions), the most
#: probable first.
MAX_SECANT = 1000
#: Of those, how many (the most probable) are also corrected at the window's end: the ratio
#: changes over the window as flows and tank levels do (L-Town, 16 seeded cases: the 90 %
#: area held the leak in 11 with the ratio of the start alone, 13 with the end's too).
SECANT_LATER = 300
#: Smallest linear change at a logger, m, whose non-linear ratio is taken (below it: 1).
SECANT_MIN_M = 1e-3
#: The candidates' chi-squares are divided by this before they become probabilities (a
#: tempered likelihood). Candidates whose signatures are nearly alike are told apart by small
#: differences, and there the linearised signatures err more than the covariance says (the
#: re-simulated few are exact, the rest are not; a leak is not exactly an orifice at a
#: junction). Measured on 16 seeded cases each of L-Town and ky4 (the benchmark's): the share
#: of the posterior above the true junction had a median of 0.72 and 0.80 where a calibrated
#: posterior gives 0.5, and the 90 % area held the leak in 13 and 11 cases; divided by 1.5, in
#: 14 and 15 (the ranking is unchanged). Checked on the benchmark's other networks.
TEMPERATURE = 1.5
#: A candidate is rejected (probability 0) when its best plausible leak flow (positive, at most
#: the bound) misfits the readings by more than this chi-square beyond its unconstrained best
#: fit: 3 standard deviations, the data exclude every plausible leak there.
REJECT_CHI2 = 9.0
#: Most bins the window is cut into (each bin: one linearisation, one averaged residual).
MAX_BINS = 48
#: Smallest logger noise assumed, m (a pressure logger's resolution).
MIN_NOISE_M = 0.01
#: The search area is "not separating" when it holds more than this share of the mains.
WIDE_AREA_SHARE = 0.25
#: Largest variance factor at which one constant leak is taken to explain the readings: above
#: it the misfit is more than twice what the noise and the demand error allow (in standard
#: deviations), the errors are systematic, and scaling the covariance no longer makes the
#: probabilities honest (ky6 over 24 h: factor 9.5, probability 1.0 at a junction 7.8 km off).
MAX_VARIANCE_FACTOR = 4.0


@dataclass(frozen=True)
class Localisation:
    """Where a leak probably is.

    Attributes
    ----------
    candidates : pandas.DataFrame
        Every candidate junction, ranked by the method: ``node``, ``score`` (the method's),
        ``probability`` (posterior), ``leak_flow_m3h`` (the fitted leak flow), ``plausible``
        (False: the implied leak flow is not positive or above the bound, probability 0),
        ``resimulated`` (True: fitted on a non-linear re-simulation).
    search_area : dict
        ``nodes``, ``pipes`` (ids), ``length_km``, ``probability`` (the posterior mass the
        area holds: the share of cases in which it should contain the leak).
    method : str
    sensors : list of str
        The loggers used.
    warnings : list of Finding
        Loggers dropped and why, times left out, and when the answer should not be trusted;
        each a warning :class:`~nrwkit.findings.Finding` with a stable ``leaks-`` code (see
        :func:`~nrwkit.leaks.usable_readings` and, for an answer that is no answer,
        ``leaks-readings-spikes``, ``leaks-no-signal``, ``leaks-not-separable``,
        ``leaks-no-single-leak``, ``leaks-uniform-change``).
    separable : bool
        False when the data cannot separate the candidates (a wide search area, a residual a
        uniform pressure change explains as well, or no leak signal above the errors): the
        ranking is then no answer.
    details : dict
        Numbers behind the answer: noise per logger, demand error, bins, variance factor,
        leak-flow bound, evidence for a leak.
    """

    candidates: pd.DataFrame
    search_area: dict[str, Any]
    method: str
    sensors: list[str]
    warnings: list[Finding]
    separable: bool = True
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, top: int = 10) -> dict[str, Any]:
        """JSON-ready: the best ``top`` candidates, the search area, method and warnings (as dicts)."""
        best = self.candidates.head(top)
        return {
            "candidates": [{"node": str(r.node), "score": float(r.score), "probability": float(r.probability),
                            "leak_flow_m3h": float(r.leak_flow_m3h), "plausible": bool(r.plausible),
                            "resimulated": bool(r.resimulated)} for r in best.itertuples()],
            "search_area": self.search_area,
            "method": self.method,
            "sensors": self.sensors,
            "warnings": [w.to_dict() for w in self.warnings],
            "separable": self.separable,
            "details": self.details,
        }


@dataclass(frozen=True)
class _Bins:
    """The window cut into bins: per bin, its linearisation time and the readings in it."""

    times: list[int]  # linearisation time of each bin (its first reading time)
    residual: np.ndarray  # (B, S) mean residual, NaN where a logger has no reading in the bin
    count: np.ndarray  # (B, S) readings averaged
    reading_times: np.ndarray  # (T,) s
    key: np.ndarray  # (T,) bin of each reading
    mean_times: np.ndarray  # (B,) mean reading time of each bin, s

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Average (T, S) values over the bins, NaN-aware, (B, S)."""
        return _bin_mean(values, self.key, len(self.times))[0]


def _bin_mean(values: np.ndarray, key: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the NaN-aware mean of (T, S) values per bin ``key`` and the count of values, (B, S)."""
    present = ~np.isnan(values)
    total = np.zeros((n_bins, values.shape[1]))
    count = np.zeros((n_bins, values.shape[1]), dtype=np.int64)
    np.add.at(total, key, np.where(present, values, 0.0))
    np.add.at(count, key, present)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan), count


def locate(
    wn: wntr.network.WaterNetworkModel,
    readings: pd.DataFrame | Readings,
    sensors: Sequence[str] | None = None,
    *,
    method: Method = "bayes",
    window: tuple[int, int] | None = None,
    noise_m: float | None = None,
    demand_error: float = 0.05,
    roughness_error: float = 0.0,
    probability: float = 0.9,
    candidates: Sequence[str] | None = None,
    inflow_m3s: pd.DataFrame | None = None,
    max_leak_m3s: float | None = None,
    resimulate: int = 30,
    progress: Callable[[str], None] | None = None,
) -> Localisation:
    """Rank candidate junctions for one leak from pressure logger readings.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The leak-free model (the utility's calibrated model).
    readings : pandas.DataFrame or Readings
        Pressure in m, index = seconds from the model's start, one column per logger junction.
    sensors : sequence of str, optional
        Loggers to use; default every column. Unknown, dead (constant) or nearly empty loggers
        are dropped with a warning, never used.
    method : {"bayes", "least-squares", "correlation"}
        How candidates are ranked (see the module).
    window : (int, int), optional
        First and last time (s) to use; default all readings. The leak is assumed present
        and constant over the window.
    noise_m : float, optional
        The loggers' noise (standard deviation, m); default estimated per logger from the
        differences of successive residuals (at least :data:`MIN_NOISE_M`).
    demand_error : float
        Relative standard error of each junction's demand in the model (0.05: 5 %).
    roughness_error : float
        Relative standard error of each pipe's roughness coefficient in the model (0.1: a
        Hazen-Williams C of 100 may be 90 or 110); 0 (default) for a calibrated model.
    probability : float
        What the search area must hold (e.g. 0.9).
    candidates : sequence of str, optional
        Candidate junctions; default every junction.
    inflow_m3s : pandas.DataFrame, optional
        Measured inlet flows (m3/s, one column per inlet, same time index): their mean total
        over the window bounds the leak flow.
    max_leak_m3s : float, optional
        A stated bound on the leak flow, m3/s (default: the measured inflow, else the model's
        mean total demand over the window).
    resimulate : int
        How many of the most probable candidates to re-simulate with the non-linear model
        (0: none).
    progress : callable, optional
        Called with a short text at each stage.

    Returns
    -------
    Localisation

    Raises
    ------
    InputError
        For bad arguments, fewer than two usable loggers, a single-period model, or readings
        that no plausible leak explains.
    """
    if method not in METHODS:
        raise InputError(f"method {method!r}: use one of {', '.join(METHODS)}")
    if not 0 < probability < 1:
        raise InputError(f"probability {probability}: give a value between 0 and 1, e.g. 0.9")
    if not 0 <= demand_error < 1:
        raise InputError(f"demand error {demand_error}: give a relative error between 0 and 1, e.g. 0.05")
    if not 0 <= roughness_error < 1:
        raise InputError(f"roughness error {roughness_error}: give a relative error between 0 and 1, "
                         "e.g. 0.1")
    if noise_m is not None and noise_m <= 0:
        raise InputError(f"noise {noise_m} m: give a positive standard deviation")
    say = progress or (lambda _text: None)
    values, use, warnings = usable_readings(wn, readings, sensors, window=window)
    if len(use) < 2:
        raise InputError(f"only {len(use)} usable logger ({', '.join(use)}): a leak cannot be located "
                         "with fewer than 2 live loggers; add the readings of more loggers")
    junctions = list(wn.junction_name_list)
    cand = junctions if candidates is None else [str(c) for c in candidates]
    unknown = sorted(set(cand) - set(junctions))
    if unknown:
        raise InputError(f"candidates {', '.join(unknown[:5])} are not junctions of the network")

    say("leak-free model")
    times = values.index.to_numpy().astype(np.int64)
    step = _reading_step(times)
    end = int(times.max())
    with HydraulicSession(wn) as session:
        nominal = session.run(duration_s=end, report_step_s=step)
        model = nominal.pressure_m.reindex(values.index, method="ffill")[use]
        residual = (values - model).astype(float)
        sigma = _noise(_history(readings, use, nominal.pressure_m, end), noise_m)
        residual, spikes = _drop_spikes(residual, sigma)
        bins = _bin(residual, times, step)
        say(f"sensitivities at {len(bins.times)} times")
        signature, spread, col, direct, states = _signatures(
            wn, session, nominal, use, bins, step, demand_error=demand_error, roughness_error=roughness_error)
        say("generalised least squares")
        fit = _gls(bins, signature, spread, sigma, [col[c] for c in cand])
        # junctions with a negative demand are sources (Net2's inflow junction): count what is drawn
        mean_demand = float(nominal.demand_m3s.loc[times.min():end].clip(lower=0.0).sum(axis=1).mean())
        bound, bound_why = _leak_bound(max_leak_m3s, inflow_m3s, values.index, mean_demand)
        post = _posterior(fit, bound)
        if SIGNATURE_ERROR > 0 and np.isfinite(post.log_p).any():
            best = int(np.argmax(post.log_p))
            effect = float(post.flow[best]) * signature[:, :, col[cand[best]]]  # (B, S) the best leak's
            fit = _gls(bins, signature, spread, sigma, [col[c] for c in cand],
                       extra_var=(SIGNATURE_ERROR * effect) ** 2)
            post = _posterior(fit, bound)
        order = np.argsort(-post.log_p, kind="stable")
        chosen = order[np.isfinite(post.log_p[order])][:MAX_SECANT]
        n_secant = len(chosen)
        if len(chosen):
            say(f"non-linear correction of {len(chosen)} candidates")
            _secant(session, wn, fit, _sized(fit, post, bound), chosen, [cand[k] for k in chosen],
                    [col[cand[k]] for k in chosen], signature, direct, bins, use, states)
            post = _posterior(fit, bound)
        n_resim = min(int(resimulate), int(np.isfinite(post.log_p).sum()))
        resimulated = np.zeros(len(cand), dtype=bool)
        if n_resim > 0:
            say(f"re-simulating {n_resim} candidates")
            top = np.argsort(-post.log_p, kind="stable")[:n_resim]
            done = _resimulate(session, fit, _sized(fit, post, bound), top, [cand[k] for k in top],
                               nominal.pressure_m, use, bins, step, end,
                               float(wn.options.hydraulic.emitter_exponent or 0.5), wn)
            resimulated[done] = True
            post = _posterior(fit, bound)

    if not np.isfinite(post.log_p).any():
        raise InputError("no plausible leak explains the readings: every candidate needs a leak flow that "
                         f"is not positive or above {bound * SECONDS_PER_HOUR:.1f} m3/h ({bound_why}); check "
                         "that the readings are pressures in m at the logger junctions and the model's times "
                         "match")
    prob = np.exp(post.log_p - post.log_p[np.isfinite(post.log_p)].max())
    prob = prob / prob.sum()
    score = _score(method, post, fit, prob, fit.white_s)
    order = np.lexsort((-prob, -score))
    table = pd.DataFrame({
        "node": np.array(cand, dtype=object)[order], "score": score[order], "probability": prob[order],
        "leak_flow_m3h": post.flow[order] * SECONDS_PER_HOUR, "plausible": np.isfinite(post.log_p)[order],
        "resimulated": resimulated[order]}).reset_index(drop=True)
    area = _search_area(wn, table, probability)
    separable, why = _separability(wn, area, fit, post, spikes)
    warnings += why
    details = {
        "noise_m": {s: round(float(v), 4) for s, v in zip(use, sigma, strict=True)},
        "demand_error": demand_error, "roughness_error": roughness_error, "bins": len(bins.times),
        "reading_step_s": step,
        "variance_factor": round(post.variance_factor, 3), "temperature": TEMPERATURE,
        "leak_flow_bound_m3h": round(bound * SECONDS_PER_HOUR, 3),
        "leak_flow_bound": bound_why, "leak_evidence": round(post.evidence, 2), "resimulated": n_resim,
        "size_corrected": n_secant,
    }
    return Localisation(candidates=table, search_area=area, method=method, sensors=use, warnings=warnings,
                        separable=separable, details=details)


def _signatures(wn: wntr.network.WaterNetworkModel, session: HydraulicSession, nominal: ExtendedPeriod,
                sensors: list[str], bins: _Bins, step: int, *, demand_error: float, roughness_error: float
                ) -> tuple[np.ndarray, np.ndarray, dict[str, int], np.ndarray, dict[int, HydraulicState]]:
    """Leak signatures and the model error's spread at the loggers, tanks as states.

    Returns the change of each logger's pressure in each bin per m3/s of a leak at each
    junction from the window's start (m3/s at the start; it then flows as an orifice,
    :func:`_leak_scale`; the tanks that supply it draining meanwhile), ``(B, S, N)``; the
    change for one standard error of each junction's demand held over the window and the
    :data:`DRIFT_HOURS` before it (its direct effect and the tank levels it has shifted),
    and, when ``roughness_error`` > 0, of each pipe's roughness, ``(B, S, N [+ L])``; the
    junctions' columns; the part of the signatures with the tanks held, ``(B, S, N)``; and
    the solved states at the bins' times (and the hours before the window) they come from.
    """
    start = bins.times[0]
    every = max(step, (HOUR_S // step) * step)  # tank drift before the window: about hourly
    since = max(0, start - DRIFT_HOURS * HOUR_S)
    before = [t for t in range(since - since % every, start, every)]
    grid = before + bins.times
    states = session.states(grid)
    systems = linear_systems(wn, grid, session, states=states)
    junctions = list(systems[start].junctions)
    col = {j: k for k, j in enumerate(junctions)}
    direct = np.stack([pressure_sensitivity(systems[t], sensors).to_numpy() for t in bins.times])  # (B, S, N)
    tanks = [tank_response(systems[t], sensors) for t in grid]
    load = nominal.demand_m3s.reindex(grid, method="ffill")[junctions].to_numpy()  # (G, N)
    spread = direct * load[len(before):, None, :]
    scale = _leak_scale(wn, nominal.pressure_m[junctions], bins.times)  # (B, N)
    signature = direct * scale[:, None, :]
    if tanks[0].tanks:
        to_sensor = np.stack([r.to_sensor for r in tanks[len(before):]])  # (B, S, T)
        switches = level_switches(wn, states, tanks[0].tanks)
        leak = tank_drain(tanks[len(before):], bins.times, bins.mean_times, scale, start_s=start,
                          switches=switches)
        drift = tank_drain(tanks, grid, bins.mean_times, load, start_s=grid[0], switches=switches)
        signature = signature + np.einsum("bst,btn->bsn", to_sensor, leak)
        spread = spread + np.einsum("bst,btn->bsn", to_sensor, drift)
    spread = spread * demand_error
    if roughness_error > 0:
        factor = ROUGHNESS_EXPONENT.get(str(wn.options.hydraulic.headloss).upper(), 1.0) * roughness_error
        blank = np.zeros((len(sensors), len(col)))
        pieces = [resistance_spread(systems[t], direct[k - len(before)] if k >= len(before) else blank,
                                    tanks[k]) for k, t in enumerate(grid)]
        pipes = np.stack([p[0] for p in pieces[len(before):]])  # (B, S, L)
        if tanks[0].tanks:
            moved = [dataclasses.replace(r, outflow=p[1]) for r, p in zip(tanks, pieces, strict=True)]
            # switching times held: a roughness error shifts them beyond the linear range (Net3,
            # 10 %, 8-12 h: observed / predicted variance 1.2 held, 2.1 with the shifts)
            drift = tank_drain(moved, grid, bins.mean_times, np.ones((len(grid), pipes.shape[2])),
                               start_s=grid[0])
            pipes = pipes + np.einsum("bst,btl->bsl", to_sensor, drift)
        spread = np.concatenate([spread, pipes * factor], axis=2)
    return signature, spread, col, direct * scale[:, None, :], states


def _leak_scale(wn: wntr.network.WaterNetworkModel, pressure: pd.DataFrame, times: Sequence[int]
                ) -> np.ndarray:
    """Return a leak's flow at each time per unit of its flow at the first, (B, N).

    A leak is an orifice (FAVAD with N1 the model's emitter exponent, 0.5 by default): its
    flow follows the pressure where it is, ``(p(t) / p(t0))^N1``, with the leak-free model's
    pressures (a junction without pressure at the start: 1).
    """
    exponent = float(wn.options.hydraulic.emitter_exponent or 0.5)
    at = pressure.reindex(list(times), method="ffill").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(at[:1] > 0, np.clip(at, 0.0, None) / np.where(at[:1] > 0, at[:1], 1.0), 1.0)
    return np.asarray(np.nan_to_num(ratio, nan=1.0, posinf=1.0) ** exponent)


def _reading_step(times: np.ndarray) -> int:
    """Return the readings' common step, s (the greatest common divisor of their differences)."""
    steps = np.diff(np.unique(np.concatenate([[0], times])))
    return max(int(np.gcd.reduce(steps.astype(np.int64))) if len(steps) else HOUR_S, 1)


def _bin(residual: pd.DataFrame, times: np.ndarray, step: int) -> _Bins:
    """Cut the window into at most :data:`MAX_BINS` bins of whole reading steps."""
    span = int(times.max() - times.min()) + step
    width = max(step, math.ceil(span / MAX_BINS / step) * step)
    _, key = np.unique((times - times.min()) // width, return_inverse=True)
    values = residual.to_numpy()
    first = [int(times[key == k].min()) for k in range(int(key.max()) + 1)]
    mean, count = _bin_mean(values, key, len(first))
    mean_times = np.bincount(key, weights=times.astype(float)) / np.bincount(key)
    return _Bins(times=first, residual=mean, count=count, reading_times=times, key=key,
                 mean_times=mean_times)


def _history(readings: pd.DataFrame | Readings, sensors: list[str], model: pd.DataFrame, end: int
             ) -> np.ndarray:
    """Residuals of the loggers at every reading up to the window's end (before it too), (T, S)."""
    frame = readings.values if isinstance(readings, Readings) else readings
    frame = frame.loc[(frame.index >= 0) & (frame.index <= end), sensors]
    frame = frame.apply(pd.to_numeric, errors="coerce")
    at = model[sensors].reindex(frame.index.astype(np.int64), method="ffill").to_numpy()
    return np.asarray(frame.to_numpy(dtype=float) - at)


def _drop_spikes(residual: pd.DataFrame, sigma: np.ndarray) -> tuple[pd.DataFrame, list[Finding]]:
    """Leave out single readings that jump away from both neighbours and back (spikes).

    A leak changes a residual by a step that stays; a reading more than
    :data:`SPIKE_SIGMAS` noise deviations (and 0.5 m) above or below both the reading before
    and after it is a transient the model does not have (a pump or valve switching a step
    earlier or later than in the model, a logger glitch). Kept, one such reading can outweigh
    hours of readings (Net3: a pump switching 15 minutes off the model's time left one
    reading 27.6 m off and a 7.5 m3/h leak read as 156 m3/h, "100 %" at the wrong junction).
    The answer is then no answer (:func:`_separability`): a switch the model does not have
    may be the leak's own doing (ky10: a 6 m3/h leak made a pump cycle, 17 m swings at the
    logger beside it, and without those readings the best fit was 1.2 km off the leak).
    """
    values = residual.to_numpy(dtype=float)
    threshold = np.maximum(SPIKE_SIGMAS * sigma, 0.5)[None, :]
    before = values[1:-1] - values[:-2]
    after = values[1:-1] - values[2:]
    spike = np.zeros_like(values, dtype=bool)
    spike[1:-1] = ((np.abs(before) > threshold) & (np.abs(after) > threshold)
                   & (np.sign(before) == np.sign(after)))
    if not spike.any():
        return residual, []
    rows, cols = np.nonzero(spike)
    worst = int(np.argmax(np.abs(values[rows, cols])))
    at, logger = int(residual.index[rows[worst]]), str(residual.columns[cols[worst]])
    cleaned = residual.mask(pd.DataFrame(spike, index=residual.index, columns=residual.columns))
    loggers = sorted({str(residual.columns[c]) for c in cols})
    return cleaned, [warning(
        "leaks-readings-spikes", f"{len(rows)} reading(s) jump away from the readings before and after them "
        f"and back (the largest {values[rows[worst], cols[worst]]:+.2f} m against the model at logger "
        f"{logger}, {at / HOUR_S:.2f} h): left out; a pump or valve switched at another time than in the "
        "model (a leak can make it switch), or a logger glitch; the ranking is no answer",
        fix="cut the window to avoid the switch, or give the model the control", elements=loggers,
        element_type="node")]


def _noise(residual: np.ndarray, noise_m: float | None) -> np.ndarray:
    """Noise per logger, m: given, or from successive differences of its residuals.

    The leak and the demand error change the residual slowly; the difference of two
    successive readings is dominated by the noise (its spread is ``sqrt(2) sigma``), so the
    median absolute difference x 1.4826 / sqrt(2) estimates ``sigma`` robustly. Every reading
    up to the window's end counts (the readings before the window too). A logger's estimate
    from a few dozen readings is itself uncertain by 15-25 %, and one that comes out low
    would make its logger weigh too much: no logger is taken as quieter than the loggers'
    median (loggers of one network are usually of one kind), a noisier one keeps its own.
    """
    if noise_m is not None:
        return np.full(residual.shape[1], float(noise_m))
    out = np.full(residual.shape[1], np.nan)
    for s in range(residual.shape[1]):
        column = residual[:, s]
        diff = np.diff(column[~np.isnan(column)])
        if len(diff):
            out[s] = 1.4826 * float(np.median(np.abs(diff - np.median(diff)))) / math.sqrt(2)
    pooled = float(np.nanmedian(out)) if np.isfinite(out).any() else MIN_NOISE_M
    return np.maximum(np.where(np.isfinite(out), out, pooled), max(pooled, MIN_NOISE_M))


@dataclass
class _Fit:
    """Whitened fit of one constant leak per candidate (arrays over the candidates)."""

    rr: float  # r^T C^-1 r
    a: np.ndarray  # s^T C^-1 r
    b: np.ndarray  # s^T C^-1 s
    dof: int
    white_r: np.ndarray  # L^-1 r
    white_s: np.ndarray  # L^-1 s per candidate, (M, J)
    whiten: Callable[[np.ndarray], np.ndarray]
    observed: np.ndarray  # (B, S) mask of bins x loggers with readings

    @property
    def flow(self) -> np.ndarray:
        """Fitted leak flow per candidate, m3/s (NaN where the signature is zero)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.b > 0, self.a / self.b, np.nan)

    @property
    def rss(self) -> np.ndarray:
        """Whitened misfit per candidate with its fitted flow."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.b > 0, self.rr - self.a ** 2 / self.b, self.rr)


def _gls(bins: _Bins, full: np.ndarray, spread: np.ndarray, sigma: np.ndarray, cand: list[int],
         extra_var: np.ndarray | None = None) -> _Fit:
    """Whiten residuals and signatures with the covariance of noise and model error.

    ``full`` (B, S, N): leak signatures; ``spread`` (B, S, N [+ L]): the loggers' change for
    one standard error of each junction's demand (and pipe's roughness); ``extra_var`` (B, S):
    a further independent variance per bin and logger (the error of the leak's own effect).
    """
    observed = ~np.isnan(bins.residual)
    r = bins.residual[observed]  # stacked (bin, logger) with a reading
    noise_var = (sigma[None, :] ** 2 / np.maximum(bins.count, 1))[observed]
    if extra_var is not None:
        noise_var = noise_var + extra_var[observed]
    u = spread[observed]  # (M, N)
    cov = u @ u.T
    cov[np.diag_indices_from(cov)] += noise_var
    chol = sla.cholesky(cov, lower=True, check_finite=False)

    def whiten(x: np.ndarray) -> np.ndarray:
        return np.asarray(sla.solve_triangular(chol, x, lower=True, check_finite=False))

    white_r = whiten(r)
    white_s = whiten(full[:, :, cand][observed])  # (M, J)
    return _Fit(rr=float(white_r @ white_r), a=white_s.T @ white_r, b=np.einsum("mj,mj->j", white_s, white_s),
                dof=max(int(r.size) - 1, 1), white_r=white_r, white_s=white_s, whiten=whiten,
                observed=observed)


@dataclass(frozen=True)
class _Posterior:
    log_p: np.ndarray  # log posterior per candidate (-inf: rejected)
    variance_factor: float
    evidence: float  # chi-square drop of the best plausible leak against no leak, after scaling
    flow: np.ndarray  # the best plausible leak flow per candidate, m3/s (NaN: no signature)


def _posterior(fit: _Fit, bound: float) -> _Posterior:
    """Marginal likelihood of each candidate, leak flow log-uniform on (bound / 10^4, bound].

    A log-uniform prior says a leak is as likely to be 1 as 10 or 100 l/s: a candidate whose
    fit needs a huge leak (a junction beside a reservoir, where almost any leak changes no
    pressure) is not preferred over one that needs a small leak, as a flat prior would. Only
    plausible flows count: a candidate whose best fit is a negative leak or one above the bound
    keeps the likelihood of the plausible flows (small when the data are clear, not when they
    are weak: on Net3 a leak below the noise fitted -21 m3/h at its own junction), and is
    rejected when even the best plausible flow misfits the readings by more than
    :data:`REJECT_CHI2` beyond its own best fit.
    """
    f_hat, rss = fit.flow, fit.rss
    has = np.isfinite(f_hat) & (fit.b > 0)
    low = bound * 1e-4
    flow = np.where(has, np.clip(np.nan_to_num(f_hat, nan=low), low, bound), np.nan)
    penalty = np.where(has, fit.b * (np.nan_to_num(flow) - np.nan_to_num(f_hat)) ** 2, np.inf)
    constrained = np.where(has, rss + penalty, np.inf)  # misfit with the best plausible flow
    if not has.any():
        return _Posterior(np.full(len(f_hat), -np.inf), 1.0, 0.0, flow)
    plausible = has & (penalty / max(1.0, float(constrained.min()) / fit.dof) <= REJECT_CHI2)
    if not plausible.any():
        return _Posterior(np.full(len(f_hat), -np.inf), 1.0, 0.0, flow)
    factor = max(1.0, float(constrained[plausible].min()) / fit.dof)  # from the candidates kept
    grid = np.geomspace(low, bound, 97)
    step = np.log(grid[1] / grid[0])
    tempered = factor * TEMPERATURE
    b = np.where(plausible, fit.b, 0.0) / tempered
    centre = np.where(plausible, f_hat, 0.0)
    misfit = -0.5 * b[:, None] * (grid[None, :] - centre[:, None]) ** 2  # (J, K)
    log_p = -0.5 * rss / tempered + logsumexp(misfit, axis=1) + math.log(step / math.log(1e4))
    log_p = np.where(plausible, log_p, -np.inf)
    evidence = (fit.rr - float(constrained[plausible].min())) / factor
    return _Posterior(log_p, factor, evidence, flow)


def _leak_bound(max_leak_m3s: float | None, inflow_m3s: pd.DataFrame | None, index: pd.Index,
                mean_demand_m3s: float) -> tuple[float, str]:
    """Largest plausible leak flow, m3/s, and where it comes from."""
    if max_leak_m3s is not None:
        if max_leak_m3s <= 0:
            raise InputError(f"leak-flow bound {max_leak_m3s} m3/s: give a positive flow")
        return float(max_leak_m3s), "the bound given"
    if inflow_m3s is not None and len(inflow_m3s):
        measured = float(inflow_m3s.reindex(index).sum(axis=1).mean())
        if np.isfinite(measured) and measured > 0:
            return measured, "the measured inflow over the window"
    if not mean_demand_m3s > 1e-6:
        raise InputError("the model draws no demand over the window, so nothing bounds a leak's flow: give "
                         "the largest plausible leak (max_leak_m3s) or the measured "
                         "inflows (flows)")
    return mean_demand_m3s, "the model's mean total demand over the window"


def _sized(fit: _Fit, post: _Posterior, bound: float) -> np.ndarray:
    """Return the leak flow per candidate for the non-linear steps.

    Its best plausible flow, NaN where that is the smallest the prior allows (a best fit not
    positive: the linear signature is exact there).
    """
    return np.where(np.nan_to_num(fit.flow, nan=0.0) > bound * 1e-4, post.flow, np.nan)


def _resimulate(session: HydraulicSession, fit: _Fit, flows: np.ndarray, top: np.ndarray, nodes: list[str],
                nominal: pd.DataFrame, sensors: list[str], bins: _Bins, step: int, end: int,
                exponent: float, wn: wntr.network.WaterNetworkModel) -> np.ndarray:
    """Refit the top candidates on the non-linear model's change of pressure (in place).

    Each candidate's leak is an emitter from the window's start (on top of an emitter the
    model has there), sized to flow ``f_j`` at the leak-free pressure there and then. A
    candidate without pressure then, without a size (NaN: its plausible leak is the smallest,
    where the linear fit is exact), or whose run does not converge, keeps its linear fit.
    Returns the candidates re-simulated.
    """
    base = _binned(nominal, sensors, bins)
    start = bins.times[0]
    done = []
    for k, node in zip(top, nodes, strict=True):
        flow = float(flows[k])
        p0 = float(nominal[node].reindex([start], method="ffill").iloc[0])
        if not (p0 > 0 and flow > 0):
            continue  # no pressure, no orifice: keep the linear fit
        own = float(wn.get_node(node).emitter_coefficient or 0.0)
        coefficient = own + flow / p0 ** exponent

        def leak(t: int, node: str = node, coefficient: float = coefficient, own: float = own
                 ) -> dict[str, float]:
            return {node: coefficient if t >= start else own}

        run = session.run(duration_s=end, report_step_s=step, pressure_only=True, emitters=leak,
                          junctions=sensors)
        if not run.converged:
            continue
        done.append(int(k))
        change = (_binned(run.pressure_m, sensors, bins) - base) / flow  # per m3/s
        white = fit.whiten(change[fit.observed])
        fit.a[k] = float(white @ fit.white_r)
        fit.b[k] = float(white @ white)
        fit.white_s[:, k] = white
    return np.array(done, dtype=int)


def _secant(session: HydraulicSession, wn: wntr.network.WaterNetworkModel, fit: _Fit, flows: np.ndarray,
            chosen: np.ndarray,
            nodes: list[str], columns: list[int], signature: np.ndarray, direct: np.ndarray, bins: _Bins,
            sensors: list[str], states: Mapping[int, HydraulicState]) -> None:
    """Correct the linear signatures of the chosen candidates for the size of their leak (in place).

    Head losses grow with the square of the flow, so a leak of ``f_j`` lowers the loggers by
    more than ``f_j`` times its sensitivity: 10 % more at 3 l/s in L-Town's main zone, 26 %
    below its PRV-3. At the window's start (and, for the :data:`SECANT_LATER` most probable,
    at its end), one steady solve per candidate with ``f_j`` at ``j`` gives the ratio of the
    non-linear to the linear change at each logger, at the extended period's operating point
    then (its tank levels and pump and pipe statuses held; the ratio, not the change, is
    carried over; a solve that does not converge leaves the linear signature); the tanks-held
    part of the candidate's signature is scaled in each bin by the ratio interpolated in time.
    """
    when = sorted({bins.times[0], bins.times[-1]})  # solved already: states of the bins' times
    ratios = np.ones((len(when), len(chosen), len(sensors)))
    for w, t in enumerate(when):
        with session.hold(states[t]):
            steady = session.steady_state(t)
            linear = pressure_sensitivity(linear_system(wn, steady), sensors).to_numpy()  # (S, N)
            position = [steady.node_names.index(s) for s in sensors]
            base = steady.pressure_m[position]
            for k, (node, column) in enumerate(zip(nodes, columns, strict=True)):
                if w > 0 and k >= SECANT_LATER:
                    ratios[w, k] = ratios[0, k]  # the less probable: the ratio at the start all along
                    continue
                flow = float(flows[chosen[k]])
                if not flow > 0:
                    continue  # the smallest leak: linear (ratio 1)
                with session.extra_demand(node, flow):
                    change = session.pressures(t, sensors) - base
                predicted = linear[:, column] * flow
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratios[w, k] = np.where(np.abs(predicted) > SECANT_MIN_M, change / predicted, 1.0)
    ratios = np.clip(np.nan_to_num(ratios, nan=1.0), 0.5, 3.0)
    # each bin's ratio: linear in time between the solved times
    at = np.asarray(bins.mean_times, dtype=float)
    grid = np.asarray(when, dtype=float)
    if len(grid) == 1:
        per_bin = np.repeat(ratios[:1], len(at), axis=0)  # (B, K, S)
    else:
        weight = np.clip(np.interp(at, grid, np.arange(len(grid))), 0, len(grid) - 1)
        lower = np.floor(weight).astype(int)
        upper = np.minimum(lower + 1, len(grid) - 1)
        frac = (weight - lower)[:, None, None]
        per_bin = ratios[lower] * (1 - frac) + ratios[upper] * frac
    corrected = signature[:, :, columns] + (np.transpose(per_bin, (0, 2, 1)) - 1.0) * direct[:, :, columns]
    white = fit.whiten(corrected[fit.observed])
    fit.a[chosen] = white.T @ fit.white_r
    fit.b[chosen] = np.einsum("mk,mk->k", white, white)
    fit.white_s[:, chosen] = white


def _binned(pressure: pd.DataFrame, sensors: list[str], bins: _Bins) -> np.ndarray:
    """Model pressures at the reading times averaged over the readings' bins, (B, S)."""
    at = pressure[sensors].reindex(bins.reading_times, method="ffill").to_numpy()
    return bins.mean(at)


def _score(method: str, post: _Posterior, fit: _Fit, prob: np.ndarray, white_s: np.ndarray) -> np.ndarray:
    """Return the method's ranking score per candidate (higher is better)."""
    plausible = np.isfinite(post.log_p)
    if method == "bayes":
        return prob
    if method == "least-squares":
        return np.where(plausible, -fit.rss / post.variance_factor, -np.inf)
    # correlation: whitened residual and signatures less a constant offset at every logger
    offset = fit.whiten(np.ones(int(fit.observed.sum())))
    offset = offset / max(float(np.sqrt(offset @ offset)), 1e-300)
    r = fit.white_r - offset * float(offset @ fit.white_r)
    sig = white_s - offset[:, None] * (offset @ white_s)[None, :]
    den = np.sqrt(np.einsum("mj,mj->j", sig, sig)) * max(float(np.sqrt(r @ r)), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.where(den > 0, (sig.T @ r) / den, 0.0)
    return np.where(plausible, corr, -np.inf)


def _separability(wn: wntr.network.WaterNetworkModel, area: dict[str, Any], fit: _Fit, post: _Posterior,
                  spikes: list[Finding]) -> tuple[bool, list[Finding]]:
    """Whether the answer separates candidates; warnings saying why not.

    Every warning returned makes the answer no answer (``separable`` False): the spikes
    left out (``leaks-readings-spikes``), ``leaks-no-signal``, ``leaks-not-separable`` (a
    wide search area), ``leaks-no-single-leak`` (a misfit no constant leak explains) and
    ``leaks-uniform-change``.
    """
    why: list[Finding] = list(spikes)
    total_km = sum(float(p.length) for _, p in wn.pipes()) / METRES_PER_KM
    if post.evidence < 9.0:  # a leak improves the fit by less than 3 standard deviations
        why.append(warning(
            "leaks-no-signal", "the readings show no leak signal above the loggers' noise and the model's "
            f"demand error (evidence {post.evidence:.1f} < 9): the ranking is no answer",
            fix="check for a leak with more loggers, a longer window or a night window"))
    if total_km > 0 and area["length_km"] > WIDE_AREA_SHARE * total_km:
        why.append(warning(
            "leaks-not-separable", f"the data cannot separate the candidates: the search area is "
            f"{area['length_km']:.1f} km, {area['length_km'] / total_km:.0%} of the mains; do not send a "
            "crew on this ranking", fix="add loggers near the suspected area or lower the demand error by "
            "calibrating"))
    if post.variance_factor > MAX_VARIANCE_FACTOR:
        why.append(warning(
            "leaks-no-single-leak", f"no single constant leak explains the readings: the best fit misfits "
            f"{math.sqrt(post.variance_factor):.1f} times what the loggers' noise and the demand error allow "
            "(a leak that started inside the window, several leaks, tank levels or a valve that differ from "
            "the model's)", fix="cut the window to a few hours after the leak appeared, or calibrate the "
            "model"))
    uniform = _uniform_fit(fit)
    best = float(np.min(np.where(np.isfinite(post.log_p), fit.rss, np.inf)))
    if np.isfinite(best) and uniform <= best + 1.0:
        why.append(warning(
            "leaks-uniform-change", "a change of pressure common to every logger (e.g. a source level or "
            "pump change) explains the readings as well as a leak does: the data cannot separate the "
            "candidates",
            fix="check the model's source levels and pump schedules against the readings' times"))
    return not why, why


def _uniform_fit(fit: _Fit) -> float:
    """Whitened misfit of the best uniform drop: one offset at every logger over the window."""
    white = fit.whiten(np.ones(int(fit.observed.sum())))
    coef = float(white @ fit.white_r) / max(float(white @ white), 1e-300)
    resid = fit.white_r - coef * white
    return float(resid @ resid)


def _search_area(wn: wntr.network.WaterNetworkModel, table: pd.DataFrame, probability: float
                 ) -> dict[str, Any]:
    by_prob = table.sort_values("probability", ascending=False, kind="stable")
    cumulative = by_prob.probability.cumsum().to_numpy()
    count = min(int(np.searchsorted(cumulative, probability - 1e-12) + 1), len(cumulative))
    nodes = set(by_prob.node.iloc[:count])
    pipes = sorted(name for name, p in wn.pipes() if p.start_node_name in nodes or p.end_node_name in nodes)
    length = sum(float(wn.get_link(p).length) for p in pipes) / METRES_PER_KM
    return {"nodes": sorted(nodes), "pipes": pipes, "length_km": round(length, 3),
            "probability": round(float(cumulative[count - 1]), 4)}
