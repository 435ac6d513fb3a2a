"""Leak localisation from pressure loggers.

Residuals against the leak-free model are matched with the sensitivity of each sensor to a
leak at each candidate junction:

1. Residuals ``r(t) = measured - model`` at the sensors (the leak-free model, same times),
   each sensor normalised by its noise ``sigma_s`` (given, or the spread of its residuals).
2. Sensitivities ``s_j(t)`` from the linearised system at each hour of the window
   (:func:`nrwkit.leaks.sensitivity_matrix`), normalised the same way.
3. A score per candidate junction ``j``:

   - ``correlation``: the correlation of the stacked residuals with the stacked signature
     (Pérez et al. 2011; angle between the vectors);
   - ``least-squares``: ``f_j = <s_j, r> / <s_j, s_j>`` (the leak flow, kept >= 0) and the
     misfit ``||r - f_j s_j||^2``;
   - ``bayes``: probabilities fused over time (Soldevila et al. 2017): at each reading time
     the likelihood ``exp(-||r_t - f_j s_j,t||^2 / 2)`` multiplies the prior, from uniform,
     with ``f_j`` the window's least-squares leak flow (one constant leak; so it ranks as
     least squares does).

   Every method reports a probability per candidate from the least-squares likelihood, so
   that the search area means the same thing whatever the ranking.
4. The search area: the candidates with the highest probabilities until their sum reaches
   the stated probability, and every pipe touching them, with their length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import wntr

from ..errors import InputError
from .readings import Readings, usable_readings
from .sensitivity import sensitivity_matrix, simulate

__all__ = ["METHODS", "Localisation", "locate"]

METHODS = ("correlation", "least-squares", "bayes")
Method = Literal["correlation", "least-squares", "bayes"]


@dataclass(frozen=True)
class Localisation:
    """Where a leak probably is.

    Attributes
    ----------
    candidates : pandas.DataFrame
        Every candidate junction, best first: ``node``, ``score`` (the method's), ``probability``,
        ``leak_flow_m3h`` (least-squares estimate).
    search_area : dict
        ``pipes`` (ids), ``length_km``, ``probability`` (what the area holds), ``nodes``.
    method : str
    sensors : list of str
        The loggers used.
    warnings : list of str
        Loggers dropped and why, times left out, and other notes.
    """

    candidates: pd.DataFrame
    search_area: dict[str, Any]
    method: str
    sensors: list[str]
    warnings: list[str]

    def to_dict(self, top: int = 10) -> dict[str, Any]:
        """JSON-ready: the best ``top`` candidates, the search area, method and warnings."""
        best = self.candidates.head(top)
        return {
            "candidates": [{"node": str(r.node), "score": float(r.score), "probability": float(r.probability),
                            "leak_flow_m3h": float(r.leak_flow_m3h)} for r in best.itertuples()],
            "search_area": self.search_area,
            "method": self.method,
            "sensors": self.sensors,
            "warnings": self.warnings,
        }


def _model_pressures(wn: wntr.network.WaterNetworkModel, times: np.ndarray
                     ) -> tuple[pd.DataFrame, wntr.sim.SimulationResults]:
    """Run the leak-free model to the readings' times (EPANET, reporting at their common step)."""
    steps = np.diff(np.unique(np.concatenate([[0], times])))
    step = int(np.gcd.reduce(steps.astype(np.int64))) if len(steps) else 3600
    results = simulate(wn, [int(times.max())], report_step_s=max(step, 1))
    return results.node["pressure"], results


def locate(
    wn: wntr.network.WaterNetworkModel,
    readings: pd.DataFrame | Readings,
    sensors: Sequence[str] | None = None,
    *,
    method: Method = "bayes",
    window: tuple[int, int] | None = None,
    noise_m: float | None = None,
    probability: float = 0.9,
    candidates: Sequence[str] | None = None,
    inflow_m3s: pd.DataFrame | None = None,
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
    method : {"correlation", "least-squares", "bayes"}
        How candidates are ranked (see the module).
    window : (int, int), optional
        First and last time (s) to use; default all readings.
    noise_m : float, optional
        The loggers' noise (standard deviation, m); default each logger's residual spread
        (median absolute deviation from its median, x 1.4826, at least 0.01 m).
    probability : float
        What the search area must hold (e.g. 0.9).
    candidates : sequence of str, optional
        Candidate junctions; default every junction.
    inflow_m3s : pandas.DataFrame, optional
        Inlet flows (m3/s, same time index); their increase over the model's gives the leak
        size, reported as a warning beside the pressure estimate.

    Returns
    -------
    Localisation
    """
    if method not in METHODS:
        raise InputError(f"method {method!r}: use one of {', '.join(METHODS)}")
    if not 0 < probability < 1:
        raise InputError(f"probability {probability}: give a value between 0 and 1, e.g. 0.9")
    values, use, warnings = usable_readings(wn, readings, sensors, window=window)
    times = values.index.to_numpy()
    model, results = _model_pressures(wn, times)
    residual = values - model.reindex(index=values.index)[use]
    sigma = _noise(residual, noise_m)
    z = residual / sigma  # normalised residuals, NaN where a reading is missing
    # linearise once per hour: at the first reading time of each hour (a time the run reports)
    first_in_hour: dict[int, int] = {}
    for t in times:
        first_in_hour.setdefault(int(t) // 3600, int(t))
    hourly = sensitivity_matrix(wn, use, sorted(set(first_in_hour.values())), results, candidates=candidates)
    assert isinstance(hourly, dict)
    cand = list(next(iter(hourly.values())).columns)
    # stack times x sensors: signature of each candidate at each reading time, normalised
    sig = np.stack([hourly[first_in_hour[int(t) // 3600]].to_numpy() for t in times])  # (T, S, J)
    sig = sig / sigma.to_numpy()[None, :, None]
    r = z.to_numpy()  # (T, S)
    mask = ~np.isnan(r)
    r0 = np.where(mask, r, 0.0)
    sig = np.where(mask[:, :, None], sig, 0.0)
    ss = np.einsum("tsj,tsj->j", sig, sig)
    sr = np.einsum("tsj,ts->j", sig, r0)
    flow = np.maximum(sr / np.where(ss > 0, ss, np.inf), 0.0)
    rss = float((r0 ** 2).sum()) - 2 * flow * sr + flow ** 2 * ss
    if not (flow > 0).any():
        warnings.append("no candidate fits a leak: the residuals do not look like one (pressures at or "
                        "above the model's); the ranking below means nothing")
    log_like = -0.5 * (rss - rss.min())
    prob = np.exp(log_like)
    prob = prob / prob.sum()
    if method == "correlation":
        norm_r = np.sqrt(float((r0 ** 2).sum()))
        score = np.zeros_like(ss)
        score[ss > 0] = sr[ss > 0] / (np.sqrt(ss[ss > 0]) * max(norm_r, 1e-12))
    elif method == "least-squares":
        score = -rss
    else:  # bayes: fuse over time, one reading time at a time
        score = _bayes(sig, r0, flow)
        prob = score
    order = np.argsort(-score, kind="stable")
    table = pd.DataFrame({"node": np.array(cand)[order], "score": score[order], "probability": prob[order],
                          "leak_flow_m3h": flow[order] * 3600.0})
    if inflow_m3s is not None and len(inflow_m3s):
        extra = inflow_m3s.reindex(values.index).sum(axis=1).mean() * 3600.0
        warnings.append(f"inlet flows: {extra:.2f} m3/h on average over the window, all columns summed "
                        "(compare with the model's inflow to see the leak plus any demand error; the "
                        "localisation uses pressures only)")
    area = _search_area(wn, table, probability)
    return Localisation(candidates=table.reset_index(drop=True), search_area=area, method=method,
                        sensors=use, warnings=warnings)


def _noise(residual: pd.DataFrame, noise_m: float | None) -> pd.Series:
    if noise_m is not None:
        if noise_m <= 0:
            raise InputError(f"noise {noise_m} m: give a positive standard deviation")
        return pd.Series(float(noise_m), index=residual.columns)
    spread = 1.4826 * (residual - residual.median()).abs().median()
    return spread.clip(lower=0.01).fillna(0.01)


def _bayes(sig: np.ndarray, r: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Posterior over candidates after each reading time (uniform prior), log-space.

    The leak flow of each candidate is the window's least-squares fit (one constant leak):
    with it, the fused posterior ranks candidates as least squares does; the two differ in
    what the probabilities mean only when a prior is given (future work).
    """
    log_post = np.zeros(sig.shape[2])
    for t in range(sig.shape[0]):
        misfit = ((r[t][:, None] - flow[None, :] * sig[t]) ** 2).sum(axis=0)
        log_post += -0.5 * misfit
        log_post -= log_post.max()
    post = np.exp(log_post)
    return post / post.sum()


def _search_area(wn: wntr.network.WaterNetworkModel, table: pd.DataFrame, probability: float
                 ) -> dict[str, Any]:
    by_prob = table.sort_values("probability", ascending=False)
    cumulative = by_prob.probability.cumsum().to_numpy()
    count = int(np.searchsorted(cumulative, probability) + 1)
    nodes = set(by_prob.node.iloc[:count])
    pipes = sorted(name for name, p in wn.pipes() if p.start_node_name in nodes or p.end_node_name in nodes)
    length = sum(float(wn.get_link(p).length) for p in pipes) / 1000.0
    return {"nodes": sorted(nodes), "pipes": pipes, "length_km": round(length, 3),
            "probability": round(float(cumulative[min(count, len(cumulative)) - 1]), 4)}
