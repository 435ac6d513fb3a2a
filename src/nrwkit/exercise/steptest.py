"""Step tests: close a DMA's sections one after another at night and watch its inflow fall.

A step test (UK Water Industry Research, *Managing Leakage* report E; Farley & Trow, *Losses in
Water Distribution Networks*, ch. 7) isolates the sections of a DMA in turn during the night,
cumulatively, and reads the DMA's inlet meter: the fall at each step is what the section took
(its night consumption and its leakage). The section with the largest fall against its size is
where the leak detection crew goes first.

The simulation runs the night on EPANET with the zone's leakage following pressure (FAVAD,
:func:`nrwkit.pressure.background_leakage`, plus any hidden leaks), so, as in the field, closing
a section raises the pressure in the rest of the zone and its leakage with it: the falls are not
the sections' flows before the test, and a trainee learns to read them.
"""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import wntr

from ..errors import InputError, SimulationError
from ..findings import list_ids
from ..hydraulics import HydraulicSession, changed_options
from ..inputs import read_utf8
from ..leaks.model import Leak, leak_flow, place_leaks
from ..pressure import Zone, background_leakage
from ..units import DAY_S, HOUR_S, SECONDS_PER_HOUR

__all__ = ["StepTest", "read_sequence", "step_test"]

#: Reporting step of a step test's inflow, s (a logger on the inlet meter).
REPORT_STEP_S = 300
#: Service pressure of the pressure-dependent demand in the run, m.
SERVICE_PRESSURE_M = 15.0
#: The fall of a step is read over its last minutes, s.
SETTLE_S = 600


@dataclass(frozen=True)
class StepTest:
    """A simulated step test.

    Attributes
    ----------
    zone : str
        The DMA.
    inflow_m3h : pandas.Series
        The zone's inflow, m3/h, every REPORT_STEP_S (index: time, s from the model's start).
    steps : pandas.DataFrame
        One row per step: ``step``, ``closes_s`` (time the step's valves close), ``links`` (the
        valves), ``inflow_before_m3h``, ``inflow_after_m3h`` (means over the last 10 minutes
        before and of the step), ``fall_m3h``.
    reopen_s : int
        When every valve opens again.
    leaks_m3h : pandas.DataFrame
        The hidden leaks' outflow, m3/h (one column per leak node; empty without leaks): the
        trainer's truth.
    """

    zone: str
    inflow_m3h: pd.Series
    steps: pd.DataFrame
    reopen_s: int
    leaks_m3h: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """Return the test as JSON-ready data."""
        return {"zone": self.zone, "reopen_s": self.reopen_s,
                "steps": [{k: (list(v) if isinstance(v, tuple) else v) for k, v in row.items()}
                          for row in self.steps.round(3).to_dict("records")],
                "inflow_m3h": {str(int(t)): round(float(q), 3) for t, q in self.inflow_m3h.items()}}


def read_sequence(path: str | Path, wn: wntr.network.WaterNetworkModel) -> list[list[str]]:
    """Read a step test's sequence: a CSV with ``step`` (1, 2, ...) and ``link`` columns.

    Parameters
    ----------
    path : str or Path
        The file: one row per valve (a link to close), the steps in the order they are taken.
    wn : wntr.network.WaterNetworkModel
        The network (every link must be one of its links).

    Returns
    -------
    list of list of str
        The links closed at each step, in step order.

    Raises
    ------
    InputError
        For a missing or malformed file, an unknown link, or a step that is not a whole
        number; the message names the file and the row.
    """
    path = Path(path)
    text = read_utf8(path, missing=f"{path}: no such sequence file; fix: give a CSV of step and link",
                     not_text=f"{path}: not a text file; fix: save the sequence as CSV (UTF-8)")
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or not {"step", "link"} <= {str(k).strip().lower() for k in rows[0]}:
        raise InputError(f"{path}: the sequence needs a header with step and link, and one row per valve")
    steps: dict[int, list[str]] = {}
    for number, row in enumerate(rows, start=1):
        values = {str(k).strip().lower(): str(v or "").strip() for k, v in row.items()}
        where = f"{path}, row {number}"
        try:
            step = int(values["step"])
        except ValueError:
            raise InputError(f"{where}: step {values['step']!r} is not a whole number; fix: number the "
                             "steps 1, 2, ...") from None
        link = values["link"]
        if link not in wn.link_name_list:
            raise InputError(f"{where}: {link!r} is no link of the network; fix: give the valve's pipe id")
        steps.setdefault(step, []).append(link)
    return [steps[k] for k in sorted(steps)]


def _run_model(wn: wntr.network.WaterNetworkModel, sequence: Sequence[Sequence[str]], start_s: int,
               step_s: int) -> tuple[wntr.network.WaterNetworkModel, int]:
    """Return a copy of ``wn`` whose valves close step by step from ``start_s``, reopening a step after."""
    model = copy.deepcopy(wn)
    reopen = start_s + len(sequence) * step_s + step_s
    for k, links in enumerate(sequence):
        for name in links:
            link = model.get_link(name)
            close = wntr.network.controls.ControlAction(link, "status", wntr.network.LinkStatus.Closed)
            again = wntr.network.controls.ControlAction(link, "status", wntr.network.LinkStatus.Open)
            model.add_control(f"steptest-close-{k + 1}-{name}", wntr.network.controls.Control(
                wntr.network.controls.SimTimeCondition(model, "=", start_s + k * step_s), close))
            model.add_control(f"steptest-open-{name}", wntr.network.controls.Control(
                wntr.network.controls.SimTimeCondition(model, "=", reopen), again))
    return model, reopen


def _inflow_m3h(flows: pd.DataFrame, wn: wntr.network.WaterNetworkModel, zone: Zone) -> pd.Series:
    signs = [1.0 if wn.get_link(link).end_node_name == end else -1.0
             for link, end in zip(zone.inlets, zone.inlet_ends, strict=True)]
    return (flows[list(zone.inlets)] * np.array(signs)).sum(axis=1) * SECONDS_PER_HOUR


def step_test(wn: wntr.network.WaterNetworkModel, zone: Zone, sequence: Sequence[Sequence[str]], *,
              start_s: int = HOUR_S, step_s: int = 1800, n1: float = 1.0,
              night_leakage_m3h: float | None = None, leaks: Sequence[Leak] = ()) -> StepTest:
    """Simulate a step test on a DMA.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not changed).
    zone : Zone
        The DMA (:func:`nrwkit.pressure.zone_from_dma`).
    sequence : sequence of sequence of str
        The valves closed at each step (cumulatively), in order; links inside the zone.
    start_s : int
        When the first step's valves close, s from the model's start (default 01:00).
    step_s : int
        Time between steps, s (default 30 minutes).
    n1 : float
        FAVAD exponent of the zone's leakage.
    night_leakage_m3h : float, optional
        The zone's background leakage at night [default: its unavoidable background leakage].
    leaks : sequence of Leak
        Hidden leaks in the zone (exponent N1; a leak along a pipe splits it).

    Returns
    -------
    StepTest

    Raises
    ------
    InputError
        For an empty sequence, a valve not inside the zone, or a test that runs past the day.
    SimulationError
        When EPANET cannot solve the night.
    """
    if not sequence or not all(sequence):
        raise InputError("the step test has no valve to close: give at least one valve per step")
    inside = set(zone.junctions)
    outside = [name for links in sequence for name in links
               if not {wn.get_link(name).start_node_name, wn.get_link(name).end_node_name} <= inside]
    if outside:
        raise InputError(f"valves {list_ids(outside)} are not inside zone {zone.name} (both ends in it); "
                         "a step test closes the DMA's own section valves")
    named = [name for links in sequence for name in links]
    twice = sorted({name for name in named if named.count(name) > 1})
    if twice:
        raise InputError(f"valves {list_ids(twice)} are closed at more than one step: close each once")
    if step_s < 2 * SETTLE_S:
        raise InputError(f"step = {step_s} s: give steps of at least {2 * SETTLE_S // 60} minutes, so that "
                         "the inflow settles")
    model, reopen = _run_model(wn, sequence, int(start_s), int(step_s))
    if reopen + HOUR_S > DAY_S:
        raise InputError(f"the test runs to {reopen / SECONDS_PER_HOUR:.1f} h: start it earlier, or take "
                         "fewer or shorter steps (it must end within the day)")
    wrong = [leak.location for leak in leaks if abs(leak.exponent - n1) > 1e-9]
    if wrong:
        raise InputError(f"leak at {list_ids(wrong)}: give it the exponent N1 = {n1:g} (EPANET has one "
                         "emitter exponent)")
    model, nodes = place_leaks(model, leaks) if leaks else (model, [])  # model is already a copy
    duration = reopen + HOUR_S
    with changed_options(model, emitter_exponent=n1, duration_s=duration, report_step_s=REPORT_STEP_S,
                         hydraulic_step_s=REPORT_STEP_S), \
            HydraulicSession(model, demand_model="PDD", required_pressure_m=SERVICE_PRESSURE_M,
                             minimum_pressure_m=0.0) as session:
        dry = session.run(duration_s=int(start_s), report_step_s=REPORT_STEP_S, links=list(zone.inlets))
        leakage = replace(background_leakage(model, zone, dry.pressure_m.iloc[-1], n1=n1,
                                             night_leakage_m3h=night_leakage_m3h),
                          leaks=dict(zip(nodes, leaks, strict=True)))
        run = session.run(duration_s=duration, report_step_s=REPORT_STEP_S, links=list(zone.inlets),
                          emitters=leakage.coefficients_at)
    if run.flowrate_m3s is None:
        raise SimulationError("EPANET returned no inlet flows for the step test")
    inflow = _inflow_m3h(run.flowrate_m3s, model, zone).rename("inflow_m3h")
    leak_flows = pd.DataFrame({node: [float(leak_flow(leak, p, int(t))) * SECONDS_PER_HOUR
                                      for t, p in run.pressure_m[node].items()]
                               for node, leak in leakage.leaks.items()}, index=run.pressure_m.index)
    steps = _steps(inflow, sequence, int(start_s), int(step_s))
    return StepTest(zone.name, inflow, steps, reopen, leak_flows)


def _steps(inflow: pd.Series, sequence: Sequence[Sequence[str]], start_s: int, step_s: int) -> pd.DataFrame:
    def settled(end_s: int) -> float:
        window = inflow[(inflow.index >= end_s - SETTLE_S) & (inflow.index < end_s)]  # before the next valve
        return float(window.mean())

    rows = []
    for k, links in enumerate(sequence):
        closes = start_s + k * step_s
        before, after = settled(closes), settled(closes + step_s)
        rows.append({"step": k + 1, "closes_s": closes, "links": tuple(links), "inflow_before_m3h": before,
                     "inflow_after_m3h": after, "fall_m3h": before - after})
    return pd.DataFrame(rows)
