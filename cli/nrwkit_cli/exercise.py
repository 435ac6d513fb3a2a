"""``nrwkit exercise``: leak-detection training exercises (create them, score the answers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from nrwkit.errors import InputError
from nrwkit.exercise.create import DIFFICULTY, create_exercise
from nrwkit.inputs import read_id_list
from nrwkit.networks import load
from nrwkit.outputs import check_writable

from .options import (
    echo_json,
    format_table,
    handle_errors,
    json_option,
    network_argument,
    overwrite_option,
    scheduler_option,
    verbosity,
)


@click.group("exercise")
def exercise_group() -> None:
    """Leak-detection exercises for trainees: a hidden truth with noisy loggers (`create`), and
    the trainees' answers scored against it (`score`)."""


@exercise_group.command("create")
@network_argument
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, metavar="DIR",
              help="The exercise's folder: DIR/trainee/ for the trainees, DIR/answer-key.json kept apart.")
@click.option("--leaks", type=click.IntRange(0, 20), metavar="N",
              help="Number of hidden leaks [default: the difficulty's: easy 1, medium 2, hard 3].")
@click.option("--difficulty", type=click.Choice(list(DIFFICULTY)), default="medium", show_default=True,
              help="Leak sizes (a share of the network's mean demand), model errors and logger faults.")
@click.option("--loggers", type=click.IntRange(1, 500), metavar="K",
              help="Pressure loggers, spread over the map [default: one per 30 junctions, 4 to 30].")
@click.option("--sensors", "sensors_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Or the logger junctions, one id per line.")
@click.option("--days", type=click.IntRange(1, 14), default=2, show_default=True,
              help="Length of the period.")
@click.option("--start", default="2026-01-05 00:00", show_default=True, metavar="'YYYY-MM-DD HH:MM'",
              help="Start of the period.")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same exercise.")
@click.option("--count", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="Make a library of COUNT exercises in DIR/exercise-01, -02... (seeds SEED, SEED+1...), "
                   "in parallel processes; a failed one is reported and the others go on.")
@click.option("--workers", type=click.IntRange(1, 64), metavar="N",
              help="Processes for --count [default: the machine's cores].")
@scheduler_option
@overwrite_option
@json_option
@handle_errors
def create_command(network: str, out: Path, leaks: int | None, difficulty: str, loggers: int | None,
                   sensors_path: Path | None, days: int, start: str, seed: int, count: int,
                   workers: int | None, scheduler: str | None, overwrite: bool, as_json: bool) -> None:
    """Create a leak-detection exercise on NETWORK in DIR.

    The trainees get DIR/trainee/: the network as the utility knows it (demands and roughness
    a little off the truth), the loggers' pressures and the inlet flows every 15 minutes (with
    noise, a 1 cm resolution, a gap and, at hard, a drifting logger), and a brief. The hidden
    leaks are in DIR/answer-key.json, which must not be given to them: `nrwkit exercise score`
    reads it.
    """
    if loggers is not None and sensors_path is not None:
        raise click.UsageError("give --loggers or --sensors, not both")
    sensors = read_id_list(sensors_path, what="sensors") if sensors_path is not None else None
    if count > 1:
        _create_many(network, out, count, workers=workers, scheduler=scheduler, seed=seed,
                     overwrite=overwrite, as_json=as_json,
                     options={"leaks": leaks, "difficulty": difficulty, "loggers": loggers,
                              "sensors": sensors, "days": days, "start": start})
        return
    exercise = create_exercise(load(network), out, leaks=leaks, difficulty=difficulty, loggers=loggers,
                               sensors=sensors, days=days, seed=seed, start=start, overwrite=overwrite)
    if as_json:
        echo_json({"folder": str(exercise.folder), "trainee": str(exercise.trainee),
                   "answer_key": str(exercise.folder / "answer-key.json"),
                   "files": [str(p) for p in exercise.files], "leaks": len(exercise.key.leaks),
                   "difficulty": difficulty})
        return
    if verbosity(click.get_current_context()) >= 0:
        click.echo(f"exercise {exercise.folder}: {len(exercise.key.leaks)} hidden leak(s), {difficulty}, "
                   f"{days} day(s) from {start}")
        for path in exercise.files:
            click.echo(f"wrote {path}")
        click.echo(f"give the trainees {exercise.trainee}/ only; keep {exercise.folder / 'answer-key.json'} "
                   "for scoring")


@exercise_group.command("score")
@click.argument("key_path", metavar="ANSWER-KEY.json", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("answers", metavar="ANSWERS.csv...", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--battledim", is_flag=True,
              help="Also score as BattLeDIM 2020: 0.80 EUR per m3 of leak volume from detection to the "
                   "leak's end, minus 500 EUR x distance/300 m; a match within 300 m; 500 EUR per false "
                   "positive.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write the scores as an HTML debrief (never into the trainee bundle).")
@overwrite_option
@json_option
@handle_errors
def score_command(key_path: Path, answers: tuple[Path, ...], battledim: bool, report_path: Path | None,
                  overwrite: bool, as_json: bool) -> None:
    """Score the answers of one or more teams (ANSWERS.csv: pipe_or_node,time rows) against the key.

    Each answer is matched, in time order, to the nearest leak active at its time, not yet found and
    within 300 m along the pipes (true positive); an answer whose only leaks in reach were already found
    is a repeat; any other is a false positive. Several files make a leaderboard (a team is named by
    its file).
    """
    from nrwkit.exercise.key import read_answer_key
    from nrwkit.exercise.score import score

    key = read_answer_key(key_path)
    if report_path is not None:
        trainee = (key_path.parent / "trainee").resolve()
        if trainee in report_path.resolve().parents:
            raise InputError(f"{report_path}: inside the trainee bundle\n  fix: write the debrief beside "
                             "the answer key, never where trainees can read it")
        check_writable(report_path, overwrite=overwrite)
    names = _team_names(answers)
    result = score(key, dict(zip(names, answers, strict=True)), battledim=battledim)
    data = result.to_dict()
    if report_path is not None:
        from nrwkit.report.exercise import debrief_report

        debrief_report(key, result).write(report_path, overwrite=overwrite)
    if as_json:
        echo_json(data)
        return
    if verbosity(click.get_current_context()) >= 0:
        click.echo("\n".join(_score_lines(data, battledim)))
        if report_path is not None:
            click.echo(f"wrote {report_path}")


def _team_names(paths: tuple[Path, ...]) -> list[str]:
    """A team is named by its file's stem (with its folder when two stems are the same)."""
    stems = [p.stem for p in paths]
    return [p.stem if stems.count(p.stem) == 1 else f"{p.parent.name}/{p.stem}" for p in paths]


def _score_lines(data: dict[str, Any], battledim: bool) -> list[str]:
    headers = ["rank", "team", "true positives", "false positives", "repeats", "median distance (m)",
               "mean detection delay (h)", *(["BattLeDIM (EUR)"] if battledim else [])]
    rows = []
    for row in data["leaderboard"]:
        rows.append((row["rank"], row["team"], row["true_positives"], row["false_positives"], row["repeats"],
                     "" if row["median_distance_m"] is None else f"{row['median_distance_m']:,.0f}",
                     "" if row["mean_detection_delay_h"] is None else f"{row['mean_detection_delay_h']:.1f}",
                     *([f"{row['total_eur']:,.0f}"] if battledim else [])))
    lines = [format_table(rows, headers)]
    for name, team in data["teams"].items():
        if team["missed"]:
            lines.append(f"{name}: missed {len(team['missed'])} leak(s)")
    return lines


@exercise_group.command("step-test")
@network_argument
@click.option("--dma", "dma_id", metavar="DMA_ID",
              help="The DMA, in a network written by `nrwkit dma design` (dma= tags).")
@click.option("--inlet", "inlets", multiple=True, metavar="PIPE",
              help="Or the zone's inlet pipe(s): the zone is every junction fed only through them.")
@click.option("--sequence", "sequence_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              metavar="VALVES.csv", help="The valves to close: a CSV with step and link columns, one row per "
                                         "valve; the steps are taken in order, cumulatively.")
@click.option("--start", "start_h", type=click.FloatRange(0.0, 23.0), default=1.0, show_default=True,
              metavar="HOUR", help="Hour of the model's first day when the first valves close.")
@click.option("--step-minutes", type=click.IntRange(20, 240), default=30, show_default=True,
              help="Time between steps.")
@click.option("--n1", type=click.FloatRange(min=0.0, min_open=True, max=3.0), default=1.0, show_default=True,
              help="FAVAD exponent of the zone's leakage.")
@click.option("--background-leakage", "night_leakage_m3h", type=click.FloatRange(min=0.0), metavar="M3/H",
              help="The zone's background leakage at night [default: its unavoidable background leakage].")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write the inflow series (time, inflow in m3/h) as CSV, as the trainees' logger "
                   "gives it.")
@overwrite_option
@json_option
@handle_errors
def step_test_command(network: str, dma_id: str | None, inlets: tuple[str, ...], sequence_path: Path,
                      start_h: float, step_minutes: int, n1: float, night_leakage_m3h: float | None,
                      out_path: Path | None, overwrite: bool, as_json: bool) -> None:
    """Simulate a night step test on a zone of NETWORK: close its sections in turn, read its inflow.

    Leakage follows pressure (FAVAD), so closing a section raises the pressure and the leakage of
    the rest, as in the field. Prints each step's valves and the fall of the inflow.
    """
    from nrwkit import pressure as nrwpressure
    from nrwkit.exercise.steptest import read_sequence, step_test
    from nrwkit.outputs import write_text
    from nrwkit.units import SECONDS_PER_HOUR

    if (dma_id is None) == (not inlets):
        raise click.UsageError("give the zone either by --dma DMA_ID or by --inlet PIPE (not both)")
    if out_path is not None:
        check_writable(out_path, overwrite=overwrite)
    wn = load(network)
    zone = nrwpressure.zone_from_dma(wn, dma_id) if dma_id else nrwpressure.zone_from_inlets(wn, inlets)
    sequence = read_sequence(sequence_path, wn)
    test = step_test(wn, zone, sequence, start_s=int(start_h * SECONDS_PER_HOUR), step_s=step_minutes * 60,
                     n1=n1, night_leakage_m3h=night_leakage_m3h)
    if out_path is not None:
        frame = test.inflow_m3h.round(3).rename_axis("time_s").reset_index()
        write_text(out_path, frame.to_csv(index=False, lineterminator="\n"), overwrite=overwrite)
    if as_json:
        echo_json(test.to_dict())
        return
    if verbosity(click.get_current_context()) >= 0:
        rows = [(int(r.step), f"{r.closes_s / SECONDS_PER_HOUR:.2f} h", " ".join(r.links),
                 f"{r.inflow_before_m3h:.2f}", f"{r.inflow_after_m3h:.2f}", f"{r.fall_m3h:.2f}")
                for r in test.steps.itertuples()]
        click.echo(f"step test of zone {test.zone}: {len(sequence)} steps, all valves open again at "
                   f"{test.reopen_s / SECONDS_PER_HOUR:.2f} h")
        click.echo(format_table(rows, ["step", "closes at", "valves", "inflow before (m3/h)",
                                       "inflow after (m3/h)", "fall (m3/h)"]))
        if out_path is not None:
            click.echo(f"wrote {out_path}")


def _create_many(network: str, out: Path, count: int, *, workers: int | None, scheduler: str | None,
                 seed: int, overwrite: bool, as_json: bool, options: dict[str, Any]) -> None:
    """Make a library of exercises in parallel; exit 3 when any of them failed."""
    from nrwkit.ensemble import parse_scheduler
    from nrwkit.exercise import create_exercises

    from .options import EXIT_RUNTIME, ProgressBars, dashboard_printer

    ctx = click.get_current_context()
    quiet = verbosity(ctx) < 0 or as_json
    if scheduler is not None:
        parse_scheduler(scheduler)  # refuse a bad address before any work
    bars = ProgressBars(enabled=not quiet)
    try:
        rows = create_exercises(network, out, count, seed=seed, executor=scheduler, workers=workers,
                                progress=bars, on_start=dashboard_printer(quiet), overwrite=overwrite,
                                **options)
    finally:
        bars.close()
    if as_json:
        echo_json({"folder": str(out), "exercises": [row.to_dict() for row in rows]})
    elif verbosity(ctx) >= 0:
        click.echo(format_table([(r.name, r.seed, r.status, r.leaks if r.status == "ok" else "", r.error)
                                 for r in rows], ["exercise", "seed", "status", "leaks", "why it failed"]))
        ok = sum(r.status == "ok" for r in rows)
        click.echo(f"{ok} of {len(rows)} exercises made in {out}; give each trainee group its exercise's "
                   "trainee/ folder only")
    if any(r.status != "ok" for r in rows):
        ctx.exit(EXIT_RUNTIME)
