"""Create a leak-detection exercise: a hidden truth, and what the trainees get.

An exercise is a folder::

    DIR/answer-key.json          the truth (nrwkit.exercise.key), never given to trainees
    DIR/trainee/network.inp      the model the trainees have (the "nominal" model)
    DIR/trainee/readings.csv     logger pressures, m, every 15 minutes
    DIR/trainee/flows.csv        inlet flows, m3/h, every 15 minutes
    DIR/trainee/BRIEF.md, BRIEF.html   what they have and what they must answer

The true network differs from the trainees' model by demand and roughness errors, and it
leaks: leaks along pipes (placed apart from each other), each starting at a seeded time and
leaking to the end of the period, abrupt or (at ``hard``) growing. Their size is a share of the
network's mean demand, so an exercise is as hard on a small network as on a large one. The
loggers read with noise and quantisation; one has a gap; at ``hard`` one drifts. The same
network, options and seed give the same files, byte for byte.
"""

from __future__ import annotations

import datetime
import html
import shutil
import string
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import wntr

from ..errors import InputError, OutputExistsError
from ..findings import list_ids
from ..leaks.cases import perturb_model, prepare_period, source_links
from ..leaks.model import Leak, simulate_leaks
from ..leaks.placement import spread_loggers
from ..network.io import write_inp
from ..outputs import write_json, write_text
from ..units import DAY_S, HOUR_S, SECONDS_PER_HOUR
from .key import AnswerKey, KeyLeak, format_time, parse_time
from .score import Distances

__all__ = ["DIFFICULTY", "Exercise", "create_exercise"]

#: What each difficulty sets: leaks (default count), their size as a share of the network's mean
#: demand, the model's demand and roughness errors, the loggers' noise (m), a drifting logger
#: (m/day), and whether one leak grows.
DIFFICULTY: dict[str, dict[str, Any]] = {
    "easy": {"leaks": 1, "size": (0.10, 0.20), "demand_error": 0.02, "roughness_error": 0.0,
             "noise_m": 0.02, "drift_m_per_day": 0.0, "growing": False},
    "medium": {"leaks": 2, "size": (0.04, 0.10), "demand_error": 0.05, "roughness_error": 0.05,
               "noise_m": 0.05, "drift_m_per_day": 0.0, "growing": False},
    "hard": {"leaks": 3, "size": (0.02, 0.05), "demand_error": 0.10, "roughness_error": 0.10,
             "noise_m": 0.10, "drift_m_per_day": 0.3, "growing": True},
}
#: Reporting step of the readings, s.
STEP_S = 900
#: Loggers' resolution, m.
QUANTISATION_M = 0.01
#: Leaks are placed at least this far apart along pipes, m (twice BattLeDIM's match distance).
SEPARATION_M = 600.0
#: A leak's pipe keeps at least this pressure without leaks at both ends, m.
MIN_PRESSURE_M = 10.0
#: A logger's gap, s.
GAP_S = 2 * HOUR_S
#: A growing leak reaches its full size after this, s.
GROWTH_S = 12 * HOUR_S
#: Permissions of the exercise's folder (as a folder made with the usual umask).
FOLDER_MODE = 0o755
#: Relative noise of the inlet flow meters.
FLOW_NOISE = 0.005


@dataclass(frozen=True)
class Exercise:
    """A written exercise.

    Attributes
    ----------
    folder : Path
        The exercise's folder.
    key : AnswerKey
        Its answer key (also in ``folder / "answer-key.json"``).
    trainee : Path
        The trainee bundle.
    files : tuple of Path
        Every file written.
    """

    folder: Path
    key: AnswerKey
    trainee: Path
    files: tuple[Path, ...]


def _mean_demand_m3s(run_demand: pd.DataFrame) -> float:
    return float(run_demand.clip(lower=0).sum(axis=1).mean())


def _perturb(nominal: wntr.network.WaterNetworkModel, rng: np.random.Generator, demand_error: float,
             roughness_error: float) -> tuple[wntr.network.WaterNetworkModel, dict[str, Any]]:
    true, d, r = perturb_model(nominal, rng, demand_error, roughness_error)
    changes = {"demand_error": demand_error, "roughness_error": roughness_error,
               "demand_factor_range": _range(d.to_numpy()), "roughness_factor_range": _range(r.to_numpy())}
    return true, changes


def _range(values: np.ndarray) -> list[float]:
    return [round(float(values.min()), 4), round(float(values.max()), 4)] if len(values) else []


def _choose_pipes(wn: wntr.network.WaterNetworkModel, free_pressure: pd.DataFrame, count: int,
                  rng: np.random.Generator) -> list[str]:
    """Pick ``count`` pipes with pressure at both ends, at least SEPARATION_M apart."""
    low = free_pressure.min()
    candidates = [name for name, pipe in wn.pipes() if float(pipe.length) > 0
                  and pipe.start_node_name in low.index and pipe.end_node_name in low.index
                  and low[pipe.start_node_name] > MIN_PRESSURE_M and low[pipe.end_node_name] > MIN_PRESSURE_M]
    distances = Distances(wn)  # BattLeDIM's distance between pipes, as the scoring measures it
    chosen: list[str] = []
    for index in rng.permutation(len(candidates)):
        name = candidates[int(index)]
        if all(distances.between_pipes_m(name, other) >= SEPARATION_M for other in chosen):
            chosen.append(name)
            if len(chosen) == count:
                return chosen
    if not candidates:
        msg = (f"{wn.name or 'the network'}: no pipe keeps {MIN_PRESSURE_M:g} m at both ends without leaks, "
               "so no leak can be hidden where loggers would see it; an exercise needs a network that "
               "serves its demands (check it with nrwkit's inspection)")
        raise InputError(msg)
    msg = (f"{wn.name or 'the network'}: only {len(chosen)} of the {count} leaks asked can be placed "
           f"{SEPARATION_M:g} m apart on pipes that keep {MIN_PRESSURE_M:g} m; ask for fewer leaks")
    raise InputError(msg)


def _leaks(wn: wntr.network.WaterNetworkModel, pipes: list[str], free: pd.DataFrame, preset: dict[str, Any],
           rng: np.random.Generator, duration_s: int, mean_demand_m3s: float) -> list[Leak]:
    leaks = []
    latest = max(int(0.6 * duration_s) // STEP_S, 1)
    for k, name in enumerate(pipes):
        pipe = wn.get_link(name)
        start = int(rng.integers(HOUR_S * 6 // STEP_S, max(latest, HOUR_S * 6 // STEP_S + 1))) * STEP_S
        at = free.index[free.index <= start][-1]
        reference = 0.5 * float(free.at[at, pipe.start_node_name] + free.at[at, pipe.end_node_name])
        flow = float(rng.uniform(*preset["size"])) * mean_demand_m3s
        growing = bool(preset["growing"]) and k == len(pipes) - 1
        leaks.append(Leak(name, on="pipe", position=round(float(rng.uniform(0.2, 0.8)), 3), flow_m3s=flow,
                          reference_pressure_m=reference, exponent=0.5, start_s=start,
                          growth="incipient" if growing else "abrupt",
                          full_at_s=min(start + GROWTH_S, duration_s) if growing else None))
    return leaks


def _key_leaks(leaks: list[Leak], outflow: pd.DataFrame, t0: datetime.datetime,
               duration_s: int) -> tuple[KeyLeak, ...]:
    out = []
    for k, leak in enumerate(leaks):
        series = outflow.iloc[:, k]
        active = series[(series.index >= leak.start_s) & (series.index < duration_s)]
        start = t0 + datetime.timedelta(seconds=leak.start_s)
        end = t0 + datetime.timedelta(seconds=duration_s)
        flow: float | tuple[float, ...]
        if leak.growth == "incipient":
            hours = ((active.index - leak.start_s) // HOUR_S).astype(int)
            flow = tuple(round(float(v) * SECONDS_PER_HOUR, 4) for v in active.groupby(hours).mean())
        else:
            flow = round(float(active.mean()) * SECONDS_PER_HOUR, 4)
        out.append(KeyLeak(f"L{k + 1}", leak.location, leak.position, start, end, flow))
    return tuple(out)


def _readings(pressure: pd.DataFrame, rng: np.random.Generator, noise_m: float, drift_m_per_day: float,
              t0: datetime.datetime) -> tuple[pd.DataFrame, dict[str, Any]]:
    noisy = pressure + rng.normal(0.0, noise_m, size=pressure.shape)
    faults: dict[str, Any] = {}
    if drift_m_per_day > 0 and pressure.shape[1] > 1:
        drifting = str(pressure.columns[int(rng.integers(pressure.shape[1]))])
        noisy[drifting] = noisy[drifting] + drift_m_per_day * pressure.index.to_numpy() / DAY_S
        faults["drifting_logger"] = {"logger": drifting, "drift_m_per_day": drift_m_per_day}
    noisy = np.round(noisy / QUANTISATION_M) * QUANTISATION_M
    gap_logger = str(pressure.columns[int(rng.integers(pressure.shape[1]))])
    gap_start = int(rng.integers(0, max(len(pressure.index) - GAP_S // STEP_S, 1)))
    rows = pressure.index[gap_start:gap_start + GAP_S // STEP_S]
    noisy.loc[rows, gap_logger] = np.nan
    faults["gap"] = {"logger": gap_logger, "from": format_time(t0 + datetime.timedelta(seconds=int(rows[0]))),
                     "hours": GAP_S / SECONDS_PER_HOUR}
    return noisy, faults


def _csv(frame: pd.DataFrame, t0: datetime.datetime, digits: int) -> str:
    out = frame.copy()
    out.index = [(t0 + datetime.timedelta(seconds=int(t))).strftime("%Y-%m-%d %H:%M") for t in frame.index]
    out.index.name = "time"
    return out.to_csv(float_format=f"%.{digits}f", lineterminator="\n")


def _brief(t0: datetime.datetime, t1: datetime.datetime, loggers: list[str], inlets: list[str],
           difficulty: str) -> str:
    """Fill the trainees' brief (``brief.md`` beside this module: text for people, with commands)."""
    template = string.Template((Path(__file__).with_name("brief.md")).read_text(encoding="utf-8"))
    return template.substitute(
        loggers=len(loggers), inlets=len(inlets), start=format_time(t0), end=format_time(t1),
        difficulty=difficulty, example_time=format_time(t0 + (t1 - t0) / 2),
        logger_list=", ".join(loggers), inlet_list=", ".join(inlets) or "none")


def _brief_html(markdown: str) -> str:
    body = []
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            body.append("</pre>" if in_code else "<pre>")
            in_code = not in_code
        elif in_code:
            body.append(html.escape(line))
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.strip():
            text = html.escape(line).replace("**", "")
            body.append(f"<p>{text}</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Leak-detection exercise"
            "</title><style>body{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.45}"
            "pre{background:#f4f4f4;padding:.6em}</style></head><body>\n" + "\n".join(body)
            + "\n</body></html>\n")


def create_exercise(wn: wntr.network.WaterNetworkModel, out: str | Path, *, leaks: int | None = None,
                    difficulty: str = "medium", loggers: int | None = None,
                    sensors: Sequence[str] | None = None,
                    days: int = 2, seed: int = 0, start: str = "2026-01-05 00:00",
                    overwrite: bool = False) -> Exercise:
    """Create a leak-detection exercise in folder ``out``.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not changed).
    out : str or Path
        The exercise's folder (written whole, or not at all).
    leaks : int, optional
        Number of leaks [default: the difficulty's].
    difficulty : {"easy", "medium", "hard"}
        Leak sizes, model errors and logger faults (:data:`DIFFICULTY`).
    loggers : int, optional
        Number of loggers, spread over the map [default: one per 30 junctions, 4 to 30].
    sensors : sequence of str, optional
        The logger junctions (instead of ``loggers``).
    days : int
        Length of the period, days (1-14).
    seed : int
        Every random draw comes from it.
    start : str
        The period's start, "YYYY-MM-DD HH:MM".
    overwrite : bool
        Replace an existing folder ``out``.

    Returns
    -------
    Exercise

    Raises
    ------
    InputError
        For a bad option, unknown sensors, or more leaks than the network can place apart.
    OutputExistsError
        When ``out`` exists and ``overwrite`` is False.
    """
    out = Path(out)
    if difficulty not in DIFFICULTY:
        raise InputError(f"difficulty {difficulty!r}: use one of {', '.join(DIFFICULTY)}")
    if not 1 <= int(days) <= 14:
        raise InputError(f"days = {days}: give 1 to 14 days")
    if out.exists() and not overwrite:
        raise OutputExistsError(out)
    preset = DIFFICULTY[difficulty]
    count = int(preset["leaks"] if leaks is None else leaks)
    if count < 0:
        raise InputError(f"leaks = {count}: give 0 or more leaks")
    t0 = parse_time(start, "start")
    duration = int(days) * DAY_S
    rng = np.random.default_rng(seed)
    nominal = prepare_period(wn, duration, STEP_S)
    junctions = list(nominal.junction_name_list)
    if sensors is not None:
        unknown = [s for s in sensors if s not in junctions]
        if unknown:
            raise InputError(f"sensors {list_ids(unknown)} are not junctions of the network; give "
                             "junction ids")
        chosen = [str(s) for s in sensors]
    else:
        k = int(loggers) if loggers is not None else int(np.clip(len(junctions) // 30, 4, 30))
        if not 1 <= k <= len(junctions):
            raise InputError(f"loggers = {k}: give 1 to {len(junctions)} loggers")
        chosen = spread_loggers(nominal, junctions, k, int(rng.integers(2**31)))
    true, changes = _perturb(nominal, rng, preset["demand_error"], preset["roughness_error"])
    inlets = source_links(true)
    free = simulate_leaks(true, [], duration_s=duration, report_step_s=STEP_S)
    pipes = _choose_pipes(true, free.pressure_m, count, rng) if count else []
    leak_list = _leaks(true, pipes, free.pressure_m, preset, rng, duration, _mean_demand_m3s(free.demand_m3s))
    run = simulate_leaks(true, leak_list, duration_s=duration, report_step_s=STEP_S, links=inlets)
    pressure = run.pressure_m[chosen].loc[lambda f: f.index < duration]
    readings, faults = _readings(pressure, rng, preset["noise_m"], preset["drift_m_per_day"], t0)
    flows = pd.DataFrame(index=pressure.index)
    if run.flowrate_m3s is not None and inlets:
        q = run.flowrate_m3s[inlets].loc[pressure.index] * SECONDS_PER_HOUR
        flows = q * (1.0 + FLOW_NOISE * rng.standard_normal(q.shape))
    t1 = t0 + datetime.timedelta(seconds=duration)
    key = AnswerKey(out / "answer-key.json", "trainee/network.inp", t0, t1,
                    _key_leaks(leak_list, run.leak_m3s, t0, duration),
                    {**changes, "difficulty": difficulty, "logger_faults": faults,
                     "leak_model": "EPANET emitters, exponent 0.5, sized at their pipe's pressure at the "
                                   "start"},
                    int(seed))
    return _write(out, key, nominal, readings, flows, chosen, inlets, difficulty, overwrite=overwrite)


def _write(out: Path, key: AnswerKey, nominal: wntr.network.WaterNetworkModel, readings: pd.DataFrame,
           flows: pd.DataFrame, loggers: list[str], inlets: list[str], difficulty: str, *,
           overwrite: bool) -> Exercise:
    """Write the exercise into a folder beside ``out``, then move it in place (all or nothing)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        trainee = staging / "trainee"
        trainee.mkdir()
        nominal.name = "network.inp"
        write_inp(nominal, trainee / "network.inp", created=key.start)
        write_text(trainee / "readings.csv", _csv(readings, key.start, 2))
        write_text(trainee / "flows.csv", _csv(flows, key.start, 3))
        brief = _brief(key.start, key.end, loggers, inlets, difficulty)
        write_text(trainee / "BRIEF.md", brief)
        write_text(trainee / "BRIEF.html", _brief_html(brief))
        write_json(staging / "answer-key.json", key.to_dict())
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        staging.chmod(FOLDER_MODE)  # mkdtemp makes it private; an exercise is shared
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = tuple(sorted(p for p in out.rglob("*") if p.is_file()))
    return Exercise(out, key, out / "trainee", files)
