"""Seeded localisation cases: a nominal model, a perturbed "true" network with one leak, readings.

A case is what an analyst faces after a leak: the model they have (``nominal``), logger
readings from the real network (``true``: every junction's demand and every pipe's roughness
off the model by a seeded multiplicative error, plus one leak), the inlet flows, and, kept
apart for scoring, the truth (where, how big, from when). Everything random comes from one
:func:`numpy.random.default_rng` seeded by ``seed``: the same arguments give the same case.

The leak is an emitter (EPANET, through :func:`nrwkit.leaks.simulate_leaks` and so through
:class:`nrwkit.hydraulics.HydraulicSession`) sized so that it loses ``leak_flow_m3h`` at the
leak-free pressure of the true network at its start.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import wntr

from ..errors import InputError
from ..hydraulics import HydraulicSession, set_options
from ..units import DAY_S, HOUR_S, SECONDS_PER_HOUR
from .model import Leak, emitter_schedule, simulate_leaks

__all__ = ["DIURNAL", "LocalisationCase", "draw_factors", "leak_candidates", "make_case", "perturb_model",
           "prepare_period", "source_links"]

#: Hourly demand multipliers (mean 1) used when a model has no demand pattern.
DIURNAL = (0.55, 0.5, 0.45, 0.45, 0.5, 0.65, 0.95, 1.3, 1.45, 1.35, 1.2, 1.1,
           1.1, 1.05, 1.0, 1.0, 1.05, 1.2, 1.4, 1.45, 1.3, 1.05, 0.8, 0.65)
_DIURNAL_NAME = "nrwkit-diurnal"


@dataclass(frozen=True)
class LocalisationCase:
    """One seeded localisation case.

    Attributes
    ----------
    seed : int
        The seed that made it.
    nominal : wntr.network.WaterNetworkModel
        The model the analyst has (time options set to the case's; a diurnal pattern added
        if the model had none).
    true : wntr.network.WaterNetworkModel or None
        The "real" network: demands and roughness perturbed, without the leak (None for a case
        made in an open session: the nominal model with ``demand_factors``).
    sensors : list of str
        Logger junctions.
    readings : pandas.DataFrame
        Logger pressures, m (noise and quantisation added), index = time s.
    clean : pandas.DataFrame
        The same without noise and quantisation.
    inflow_m3s : pandas.DataFrame or None
        Flows of the inlet links (m3/s), true network with the leak.
    leak_node, leak_flow_m3s, leak_start_s
        The truth: junction, flow at the leak-free pressure at its start, start time.
    leak : Leak
        The leak as simulated.
    demand_factors, roughness_factors : pandas.Series
        The multiplicative errors of the true network (per junction, per pipe).
    noise_m, quantisation_m : float
        What was added to ``clean``.
    """

    seed: int
    nominal: wntr.network.WaterNetworkModel
    true: wntr.network.WaterNetworkModel | None
    sensors: list[str]
    readings: pd.DataFrame
    clean: pd.DataFrame
    inflow_m3s: pd.DataFrame | None
    leak_node: str
    leak_flow_m3s: float
    leak_start_s: int
    leak: Leak
    demand_factors: pd.Series = field(repr=False)
    roughness_factors: pd.Series = field(repr=False)
    noise_m: float = 0.0
    quantisation_m: float = 0.0

    @property
    def leak_flow_m3h(self) -> float:
        """Leak flow at its start, m3/h."""
        return self.leak_flow_m3s * SECONDS_PER_HOUR


def _has_pattern(wn: wntr.network.WaterNetworkModel) -> bool:
    for _, junction in wn.junctions():
        for demand in junction.demand_timeseries_list:
            pattern = demand.pattern
            if pattern is not None and len(pattern.multipliers) > 1:
                return True
    default = wn.options.hydraulic.pattern
    return bool(default) and default in wn.pattern_name_list and len(wn.get_pattern(default).multipliers) > 1


def _prepare(wn: wntr.network.WaterNetworkModel, duration_s: int, report_step_s: int
             ) -> wntr.network.WaterNetworkModel:
    model = copy.deepcopy(wn)
    if not _has_pattern(model):
        model.add_pattern(_DIURNAL_NAME, list(DIURNAL))
        set_options(model, pattern_step_s=HOUR_S)
        for _, junction in model.junctions():
            for demand in junction.demand_timeseries_list:
                demand.pattern_name = _DIURNAL_NAME
    set_options(model, duration_s=duration_s, report_step_s=report_step_s,
                hydraulic_step_s=min(int(model.options.time.hydraulic_timestep or report_step_s),
                                     int(report_step_s)))
    return model


def prepare_period(wn: wntr.network.WaterNetworkModel, duration_s: int,
                   report_step_s: int) -> wntr.network.WaterNetworkModel:
    """Return a copy of the model set up for a leak run: its duration, steps and a day's demand.

    A model whose demands have no pattern gets nrwkit's diurnal pattern (:data:`DIURNAL`),
    so that a run shows a night; the hydraulic step is at most the reporting step.
    """
    return _prepare(wn, duration_s, report_step_s)


def perturb_model(nominal: wntr.network.WaterNetworkModel, rng: np.random.Generator, demand_error: float,
                  roughness_error: float) -> tuple[wntr.network.WaterNetworkModel, pd.Series, pd.Series]:
    """Return the "true" network: a copy whose demands and roughness are off the model's.

    Every junction's base demands and every pipe's roughness are multiplied by ``1 + e N(0, 1)``
    (clipped at 0.05), with ``e`` the demand or roughness error, drawn from ``rng`` in that order.

    Returns
    -------
    (WaterNetworkModel, pandas.Series, pandas.Series)
        The true network, the demand factor of each junction and the roughness factor of each pipe.
    """
    d_factor, r_factor = draw_factors(nominal, rng, demand_error, roughness_error)
    true = copy.deepcopy(nominal)
    for name, factor in d_factor.items():
        for demand in true.get_node(name).demand_timeseries_list:
            demand.base_value = demand.base_value * float(factor)
    for name, factor in r_factor.items():
        pipe = true.get_link(name)
        pipe.roughness = pipe.roughness * float(factor)
    return true, d_factor, r_factor


def draw_factors(nominal: wntr.network.WaterNetworkModel, rng: np.random.Generator, demand_error: float,
                 roughness_error: float) -> tuple[pd.Series, pd.Series]:
    """Draw the demand factor of every junction and the roughness factor of every pipe.

    ``1 + e N(0, 1)`` clipped at 0.05, demands first (in the model's junction order), then
    roughness (pipe order): the draws :func:`perturb_model` applies.
    """
    junctions, pipes = list(nominal.junction_name_list), list(nominal.pipe_name_list)
    d_factor = np.maximum(1.0 + demand_error * rng.standard_normal(len(junctions)), 0.05)
    r_factor = np.maximum(1.0 + roughness_error * rng.standard_normal(len(pipes)), 0.05)
    return (pd.Series(d_factor, index=pd.Index(junctions, name="junction"), name="demand_factor"),
            pd.Series(r_factor, index=pd.Index(pipes, name="pipe"), name="roughness_factor"))


def source_links(wn: wntr.network.WaterNetworkModel) -> list[str]:
    """Return the links at the reservoirs: the inlet meters of a network."""
    return _inlets(wn)


def _inlets(wn: wntr.network.WaterNetworkModel) -> list[str]:
    sources = set(wn.reservoir_name_list)
    return [name for name, link in wn.links()
            if link.start_node_name in sources or link.end_node_name in sources]


def leak_candidates(wn: wntr.network.WaterNetworkModel) -> list[str]:
    """Junctions a seeded leak may be put at: those with demand or a pipe (sorted as in the model).

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.

    Returns
    -------
    list of str
    """
    piped: set[str] = set()
    for _, pipe in wn.pipes():
        if float(pipe.length) > 0:
            piped.update((pipe.start_node_name, pipe.end_node_name))
    out = []
    for name, junction in wn.junctions():
        demand = sum(abs(float(d.base_value)) for d in junction.demand_timeseries_list)
        if demand > 0 or name in piped:
            out.append(name)
    return out


@dataclass(frozen=True)
class _Runs:
    """The two runs of a case.

    On ``model``, the true network's copy; or, with a session, in the session open on the nominal
    ``model`` with ``demand_factors`` set in memory.
    """

    model: wntr.network.WaterNetworkModel
    session: HydraulicSession | None
    demand_factors: pd.Series
    duration_s: int
    report_step_s: int
    links: list[str]

    def leak_free(self) -> pd.DataFrame:
        if self.session is None:
            return simulate_leaks(self.model, [], duration_s=self.duration_s,
                                  report_step_s=self.report_step_s).pressure_m
        with self.session.scaled_demands(self.demand_factors.to_dict()):
            return self.session.run(duration_s=self.duration_s, report_step_s=self.report_step_s,
                                    pressure_only=True).pressure_m

    def with_leak(self, leak: Leak) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Return the pressures and the inlet flows with the leak."""
        if self.session is None:
            run = simulate_leaks(self.model, [leak], duration_s=self.duration_s,
                                 report_step_s=self.report_step_s, links=self.links)
            return run.pressure_m, run.flowrate_m3s
        with self.session.scaled_demands(self.demand_factors.to_dict()):
            period = self.session.run(duration_s=self.duration_s, report_step_s=self.report_step_s,
                                      links=self.links,
                                      emitters=emitter_schedule(self.model, [leak], [leak.location]))
        return period.pressure_m, period.flowrate_m3s


def make_case(
    wn: wntr.network.WaterNetworkModel,
    sensors: Sequence[str],
    *,
    seed: int,
    leak_flow_m3h: float | None = None,
    size_range_m3h: tuple[float, float] = (3.6, 14.4),
    node: str | None = None,
    start_s: int | None = None,
    demand_error: float = 0.05,
    roughness_error: float = 0.0,
    noise_m: float = 0.05,
    quantisation_m: float = 0.01,
    duration_s: int = DAY_S,
    report_step_s: int = 900,
    inlets: Sequence[str] | None = None,
    min_pressure_m: float = 5.0,
    session: HydraulicSession | None = None,
) -> LocalisationCase:
    """Make one seeded localisation case.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not changed).
    sensors : sequence of str
        Logger junctions.
    seed : int
        Seed of :func:`numpy.random.default_rng`; every random draw comes from it.
    leak_flow_m3h : float, optional
        Leak flow at the leak-free pressure at its start; default drawn uniformly in
        ``size_range_m3h``.
    size_range_m3h : (float, float)
        Range of leak flows when ``leak_flow_m3h`` is not given.
    node : str, optional
        Leak junction; default drawn among :func:`leak_candidates` whose leak-free pressure
        stays above ``min_pressure_m``.
    start_s : int, optional
        Leak start; default a whole hour drawn in the first half of the run.
    demand_error, roughness_error : float
        Standard deviation of the multiplicative errors ``1 + e N(0, 1)`` (clipped at 0.05)
        of every junction's base demands and every pipe's roughness in the true network.
    noise_m : float
        Gaussian noise of the loggers (standard deviation, m).
    quantisation_m : float
        Resolution of the loggers (readings rounded to multiples of it; 0 = none).
    duration_s, report_step_s : int
        Length of the run and logging step, s.
    inlets : sequence of str, optional
        Links whose flows are returned; default the links at reservoirs.
    min_pressure_m : float
        Lowest leak-free pressure at a drawn leak junction.
    session : HydraulicSession, optional
        An open session on ``wn``, which must then be the model as :func:`prepare_period` gives
        it for ``duration_s`` and ``report_step_s`` (a worker making many cases keeps both):
        the true network's demands are set in the session and restored, the leak is an emitter
        there, and no copy of the model or ``.inp`` file is made. The same seed gives the same
        draws as without a session (pressures agree to EPANET's precision). ``true`` is then
        None; ``roughness_error`` must be 0.

    Returns
    -------
    LocalisationCase

    Raises
    ------
    InputError
        On an unknown sensor or leak node, or a bad size.
    """
    sensors = [str(s) for s in sensors]
    unknown = [s for s in sensors if s not in wn.junction_name_list]
    if unknown:
        raise InputError(f"sensors {unknown[:5]} are not junctions of the network")
    if node is not None and node not in wn.junction_name_list:
        raise InputError(f"leak node {node!r} is not a junction of the network")
    if report_step_s <= 0 or duration_s < report_step_s:
        raise InputError("give a positive report step no longer than the duration")
    rng = np.random.default_rng(seed)
    if session is None:
        nominal = _prepare(wn, duration_s, report_step_s)
        true, d_factor, r_factor = perturb_model(nominal, rng, demand_error, roughness_error)
        truth_model = true
    else:
        if roughness_error:
            raise InputError("a case made in an open session takes no roughness error: give 0, or no session")
        nominal, true = wn, None
        d_factor, r_factor = draw_factors(nominal, rng, demand_error, roughness_error)
        truth_model = nominal
    flow_m3h = float(leak_flow_m3h if leak_flow_m3h is not None else rng.uniform(*size_range_m3h))
    if flow_m3h <= 0:
        raise InputError(f"leak flow {flow_m3h} m3/h: give a positive flow")
    last_start_h = max(int(duration_s) // 2 // HOUR_S, 0)
    start = int(start_s if start_s is not None else int(rng.integers(0, last_start_h + 1)) * HOUR_S)
    link_names = list(inlets) if inlets is not None else _inlets(truth_model)
    runs = _Runs(truth_model, session, d_factor, duration_s, report_step_s, link_names)
    free = runs.leak_free()
    if node is None:
        ok = [n for n in leak_candidates(truth_model) if float(free[n].min()) > min_pressure_m]
        if not ok:
            raise InputError(f"no junction keeps {min_pressure_m} m without a leak: none can leak")
        node = str(ok[int(rng.integers(0, len(ok)))])
    at = free.index[free.index <= start][-1]
    p0 = float(free.loc[at, node])
    if p0 <= 0:
        raise InputError(f"leak node {node}: no pressure ({p0:.2f} m) at the leak's start")
    flow_m3s = flow_m3h / SECONDS_PER_HOUR
    leak = Leak(node, on="junction", flow_m3s=flow_m3s, reference_pressure_m=p0, start_s=start,
                exponent=float(truth_model.options.hydraulic.emitter_exponent or 0.5))
    pressure, inflow = runs.with_leak(leak)
    clean = pressure[sensors].copy()
    noisy = clean + rng.normal(0.0, 1.0, size=clean.shape) * noise_m
    if quantisation_m > 0:
        noisy = np.round(noisy / quantisation_m) * quantisation_m
    return LocalisationCase(
        seed=seed, nominal=nominal, true=true, sensors=sensors, readings=noisy.astype(float),
        clean=clean, inflow_m3s=inflow, leak_node=node, leak_flow_m3s=flow_m3s,
        leak_start_s=start, leak=leak,
        demand_factors=d_factor, roughness_factors=r_factor,
        noise_m=float(noise_m), quantisation_m=float(quantisation_m),
    )
