"""``nrwkit exercise``: leak-detection training exercises (create them, score the answers)."""

from __future__ import annotations

from pathlib import Path

import click

from nrwkit.errors import InputError
from nrwkit.exercise.create import DIFFICULTY, create_exercise
from nrwkit.networks import load

from .options import echo_json, handle_errors, json_option, network_argument, overwrite_option, verbosity


@click.group("exercise")
def exercise_group() -> None:
    """Leak-detection exercises for trainees: a hidden truth with noisy loggers (`create`), and
    the trainees' answers scored against it (`score`)."""


def _read_sensors(path: Path) -> list[str]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such sensors file\n  fix: check the path") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file of junction ids\n  fix: one id per line") from None
    names = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    names = [n for n in names if n]
    if not names:
        raise InputError(f"{path}: lists no junction\n  fix: one junction id per line")
    return names


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
@overwrite_option
@json_option
@handle_errors
def create_command(network: str, out: Path, leaks: int | None, difficulty: str, loggers: int | None,
                   sensors_path: Path | None, days: int, start: str, seed: int, overwrite: bool,
                   as_json: bool) -> None:
    """Create a leak-detection exercise on NETWORK in DIR.

    The trainees get DIR/trainee/: the network as the utility knows it (demands and roughness
    a little off the truth), the loggers' pressures and the inlet flows every 15 minutes (with
    noise, a 1 cm resolution, a gap and, at hard, a drifting logger), and a brief. The hidden
    leaks are in DIR/answer-key.json, which must not be given to them: `nrwkit exercise score`
    reads it.
    """
    if loggers is not None and sensors_path is not None:
        raise click.UsageError("give --loggers or --sensors, not both")
    sensors = _read_sensors(sensors_path) if sensors_path is not None else None
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
