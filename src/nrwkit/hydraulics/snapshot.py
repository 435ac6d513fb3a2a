"""One steady-state snapshot of a network through WNTR's EpanetSimulator.

The validation checks and the GIS export use this path: the model is written to an input
file, solved by EPANET 2.2 and read back, so the result is exactly what EPANET reports for
that file. For many re-solves of one network use :class:`nrwkit.hydraulics.HydraulicSession`.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import wntr
from wntr.epanet.exceptions import EN_ERROR_CODES, EpanetException

from ..errors import SimulationError
from ..findings import Finding, Severity
from ..units import HOUR_S
from .options import changed_options

__all__ = ["EPANET_WARNINGS", "SteadyState", "epanet_warning", "peak_demand_time", "steady_state",
           "system_demand"]


#: Finding codes of EPANET's solver warnings (codes 1-6 of the EPANET 2.2 manual), with their
#: severity: an unbalanced system is no hydraulic solution; the others may still be usable.
EPANET_WARNINGS: dict[int, tuple[str, Severity]] = {
    1: ("epanet-unbalanced", Severity.ERROR),
    2: ("epanet-unstable", Severity.WARNING),
    3: ("epanet-disconnected", Severity.WARNING),
    4: ("epanet-pump-cannot-deliver", Severity.WARNING),
    5: ("epanet-valve-cannot-deliver", Severity.WARNING),
    6: ("epanet-negative-pressure", Severity.WARNING),
}


def epanet_warning(message: str) -> Finding:
    """Return EPANET's warning text as a finding, its code from the EPANET warning number.

    Parameters
    ----------
    message : str
        EPANET's text (as WNTR collects it from the toolkit).

    Returns
    -------
    Finding
        Code ``epanet-unbalanced`` (warning 1, severity error), ``epanet-unstable`` (2),
        ``epanet-disconnected`` (3), ``epanet-pump-cannot-deliver`` (4),
        ``epanet-valve-cannot-deliver`` (5), ``epanet-negative-pressure`` (6), or
        ``epanet-warning`` for a text none of these match.

    Examples
    --------
    >>> epanet_warning("At 1:00:00, system disconnected - one or more nodes with positive "
    ...                "demands were disconnected for all supply sources").code
    'epanet-disconnected'
    """
    code, severity = EPANET_WARNINGS.get(_warning_code(message), ("epanet-warning", Severity.WARNING))
    return Finding(severity, code, (), message.strip(), "network")


@dataclass(frozen=True)
class SteadyState:
    """One solved hydraulic state of a network.

    Attributes
    ----------
    time_s : int
        Pattern time of the snapshot in seconds from the model's start.
    pressure_m : pandas.Series
        Pressure head (index = node names), m.
    head_m : pandas.Series
        Hydraulic head (index = node names), m.
    demand_m3s : pandas.Series
        Delivered demand (index = node names), m3/s.
    flowrate_m3s : pandas.Series
        Flow (index = link names), m3/s, positive from start to end node.
    velocity_ms : pandas.Series
        Mean velocity (index = link names), m/s.
    headloss : pandas.Series
        EPANET's headloss (index = link names): for pipes per unit length (m/m), for pumps
        and valves the head difference across the link (m).
    warnings : tuple of Finding
        EPANET's warnings for the solve (:func:`epanet_warning`).
    """

    time_s: int
    pressure_m: pd.Series
    head_m: pd.Series
    demand_m3s: pd.Series
    flowrate_m3s: pd.Series
    velocity_ms: pd.Series
    headloss: pd.Series
    warnings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def converged(self) -> bool:
        """False when EPANET reported the system hydraulically unbalanced (warning 1)."""
        return all(w.code != "epanet-unbalanced" for w in self.warnings)


def _multipliers(wn: wntr.network.WaterNetworkModel, name: str | None) -> np.ndarray | None:
    """Multipliers of a pattern; None for no pattern (or an undefined default, as in EPANET)."""
    if name is None or name not in wn.pattern_name_list:
        return None
    mult = np.asarray(wn.get_pattern(name).multipliers, dtype=float)
    return mult if len(mult) else None


def system_demand(wn: wntr.network.WaterNetworkModel, times: Sequence[int] | None = None) -> pd.Series:
    """Total junction demand of the network over time, from base demands and patterns.

    Computed per pattern, not per junction (cheap on large models with long patterns):
    ``D(t) = m * sum_p B_p * f_p(t)`` where ``B_p`` is the summed base demand on pattern
    ``p``, ``f_p`` its multiplier at ``t`` and ``m`` the global demand multiplier.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    times : sequence of int, optional
        Times (s from the model's start) to evaluate at; default one per pattern timestep
        over the simulation duration, or over the longest pattern when the duration is 0.

    Returns
    -------
    pandas.Series
        Total demand in m3/s (index = time in seconds).
    """
    opts = wn.options.time
    step = max(int(opts.pattern_timestep or HOUR_S), 1)
    base_by_pattern: dict[str | None, float] = {}
    for _, junction in wn.junctions():
        for demand in junction.demand_timeseries_list:
            key = demand.pattern_name
            base_by_pattern[key] = base_by_pattern.get(key, 0.0) + float(demand.base_value)
    patterns = {name: _multipliers(wn, name) for name in base_by_pattern}
    longest = max((len(m) for m in patterns.values() if m is not None), default=1)
    horizon = int(opts.duration) if opts.duration else longest * step
    at = (np.arange(0, max(horizon, 1), step, dtype=np.int64) if times is None
          else np.asarray(list(times), dtype=np.int64))
    total = np.zeros(len(at))
    for pattern_name, base in base_by_pattern.items():
        mult = patterns[pattern_name]
        if mult is None:
            total += base
            continue
        idx = ((at + int(opts.pattern_start)) // step) % len(mult)
        total += base * mult[idx]
    total *= float(wn.options.hydraulic.demand_multiplier)
    return pd.Series(total, index=pd.Index(at, name="time_s"), name="demand_m3s")


def peak_demand_time(wn: wntr.network.WaterNetworkModel) -> int:
    """Return the time (s) of the highest total demand, the first one if it recurs."""
    demand = system_demand(wn)
    return int(demand.idxmax()) if len(demand) else 0


def _report_errors(rpt: Path) -> str:
    """EPANET's own error lines from its report file (they name the element)."""
    try:
        lines = rpt.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return ""
    errors = [ln.strip() for ln in lines if ln.strip().lower().startswith("error")]
    return "; ".join(errors[:5])


def _warning_code(message: str) -> int:
    for code in range(1, 7):
        text = EN_ERROR_CODES[code].split(", ", 1)[1]
        if text in message:
            return code
    return 0


def steady_state(
    wn: wntr.network.WaterNetworkModel, *, time_s: int | None = None
) -> SteadyState:
    """Solve one steady state of the network with EPANET.

    The model's patterns are shifted so that the single period represents ``time_s``
    (default: the time of peak total demand, :func:`peak_demand_time`); tank levels are their
    initial levels. The caller's model is restored afterwards.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    time_s : int, optional
        Pattern time of the snapshot in seconds; default the peak-demand time.

    Returns
    -------
    SteadyState
        Pressures, heads, demands, flows and EPANET's warnings.

    Raises
    ------
    SimulationError
        If EPANET cannot solve the network at all (e.g. error 110, or an input EPANET
        rejects); the message carries EPANET's error.
    """
    when = peak_demand_time(wn) if time_s is None else int(time_s)
    pattern_start = int(wn.options.time.pattern_start) + when
    with changed_options(wn, duration_s=0, pattern_start_s=pattern_start, report_start_s=0):
        with tempfile.TemporaryDirectory(prefix="nrwkit-") as tmp:
            sim = wntr.sim.EpanetSimulator(wn)
            prefix = Path(tmp) / "snapshot"
            try:
                results = sim.run_sim(file_prefix=str(prefix))
            except EpanetException as exc:
                # close the project: EPANET then flushes its report (which names the
                # element at fault) and deletes its scratch files
                with contextlib.suppress(Exception):
                    sim.enData.ENclose()
                report = _report_errors(prefix.with_suffix(".rpt"))
                detail = report or str(exc).replace(" %s", "")
                msg = f"EPANET could not solve the network: {detail}"
                raise SimulationError(msg) from exc
            messages = list(getattr(sim.enData, "errcodelist", []) or [])
    node = results.node
    link = results.link
    if node["pressure"].empty:
        msg = "EPANET returned no results: the network could not be solved at the first step"
        raise SimulationError(msg)
    warns = tuple(epanet_warning(m) for m in messages)
    return SteadyState(
        time_s=when,
        pressure_m=node["pressure"].iloc[0].rename("pressure_m"),
        head_m=node["head"].iloc[0].rename("head_m"),
        demand_m3s=node["demand"].iloc[0].rename("demand_m3s"),
        flowrate_m3s=link["flowrate"].iloc[0].rename("flowrate_m3s"),
        velocity_ms=link["velocity"].iloc[0].rename("velocity_ms"),
        headloss=link["headloss"].iloc[0].rename("headloss"),
        warnings=warns,
    )
