"""``nrwkit leaks``: locate a leak from logger readings, detect leaks in flows, place loggers."""

from __future__ import annotations

from pathlib import Path

import click

from nrwkit import leaks as nrwleaks
from nrwkit.inputs import read_id_list
from nrwkit.networks import load, resolve
from nrwkit.outputs import check_writable, write_json
from nrwkit.units import LITRES_PER_M3, SECONDS_PER_HOUR
from nrwkit.workspace import is_workspace, open_workspace, save_run

from .leaks_detect import detect_command
from .options import (
    EXIT_FINDINGS,
    POSITIVE,
    FiniteRange,
    echo_json,
    findings_lines,
    format_table,
    handle_errors,
    json_option,
    network_argument,
    number_pair,
    overwrite_option,
    refuse_output_on_input,
    verbosity,
)


@click.group("leaks")
def leaks_group() -> None:
    """Leaks: locate one from pressure loggers (`locate`), detect them in inlet flows
    (`detect`), choose where loggers go (`place-loggers`)."""


leaks_group.add_command(detect_command)


@leaks_group.command("locate")
@network_argument
@click.option("--readings", "readings_path", required=True, metavar="READINGS.csv",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Pressures in m: a 'time' column (s from the model's start, or ISO date-times with "
                   "--start) and one column per logger junction; CSV, or Parquet as a library of "
                   "`nrwkit ensemble leaks` holds.")
@click.option("--flows", "flows_path", metavar="FLOWS.csv", type=click.Path(dir_okay=False, path_type=Path),
              help="Inlet flows in m3/h, laid out the same way (reported beside the estimate).")
@click.option("--start", metavar="ISO", help="The model's start, when the files hold date-times.")
@click.option("--method", type=click.Choice(nrwleaks.METHODS), default="bayes", show_default=True,
              help="How candidates are ranked.")
@click.option("--noise", "noise_m", type=POSITIVE, metavar="M",
              help="Loggers' noise (standard deviation), m [default: each logger's residual spread].")
@click.option("--window", metavar="FROM:TO", help="The hours of the readings to use, from the model's "
                                                   "start, e.g. 11:15 [default: all].")
@click.option("--demand-error", type=FiniteRange(0.0, 0.99), default=0.05, show_default=True,
              metavar="FRACTION", help="Relative error of each junction's demand in the model, carried "
                                       "into the probabilities.")
@click.option("--roughness-error", type=FiniteRange(0.0, 0.99), default=0.0, show_default=True,
              metavar="FRACTION", help="Relative error of each pipe's roughness in the model, carried "
                                       "into the probabilities (0: a calibrated model).")
@click.option("--max-leak", "max_leak_m3h", type=FiniteRange(min=0.0, min_open=True), metavar="M3/H",
              help="Largest plausible leak [default: the measured inflow with --flows, else the model's "
                   "mean total demand].")
@click.option("--resimulate", type=click.IntRange(0, 1000), default=30, show_default=True, metavar="K",
              help="Re-simulate the K most probable candidates with the full model (0: linear only).")
@click.option("--probability", type=FiniteRange(0.01, 0.999), default=0.9, show_default=True,
              help="What the search area must hold.")
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="Candidates to list.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write an HTML report with the map of probabilities, the candidates and the search "
                   "area's pipes.")
@overwrite_option
@json_option
@handle_errors
def locate_command(network: str, readings_path: Path, flows_path: Path | None, start: str | None,
                   method: str, noise_m: float | None, window: str | None, demand_error: float,
                   roughness_error: float, max_leak_m3h: float | None,
                   resimulate: int, probability: float, top: int,
                   report_path: Path | None, overwrite: bool, as_json: bool) -> None:
    """Rank the junctions where a leak in NETWORK most probably is, from logger pressures.

    Residuals against the leak-free model at the same times are matched with each logger's
    sensitivity to a leak at each junction, weighed by the loggers' noise and the model's
    demand (and roughness) error; the most probable candidates are re-simulated with the full model. Dead
    (constant), unknown and empty loggers are dropped with a warning; readings outside the
    model's run are left out. Exit 1, with warnings and no ranking, when the data cannot
    separate the candidates.
    """
    refuse_output_on_input([report_path], [resolve(network), readings_path, flows_path])
    if report_path is not None:
        check_writable(report_path, overwrite=overwrite)
    wn = load(network)
    readings = nrwleaks.read_readings(readings_path, start=start)
    flows = nrwleaks.read_readings(flows_path, start=start, unit="m3/h").values if flows_path else None
    result = nrwleaks.locate(wn, readings, method=method, noise_m=noise_m,  # type: ignore[arg-type]
                             probability=probability, inflow_m3s=flows, demand_error=demand_error,
                             roughness_error=roughness_error,
                             max_leak_m3s=None if max_leak_m3h is None else max_leak_m3h / SECONDS_PER_HOUR,
                             resimulate=resimulate, window=_hours(window))
    saved: list[Path] = []
    if report_path is not None or is_workspace(network):
        from nrwkit.report.leaks import locate_report

        report = locate_report(wn, result, network_path=resolve(network), readings_path=readings_path,
                               top=top)
        if report_path is not None:
            saved.append(report.write(report_path, overwrite=overwrite))
        if is_workspace(network):
            saved += save_run(open_workspace(network), "leaks-locate", {
                ".html": report.write, ".json": lambda p: write_json(p, result.to_dict(top=top))},
                title="Leak localisation")
    ctx = click.get_current_context()
    if as_json:
        echo_json(result.to_dict(top=top))
    elif verbosity(ctx) >= 0 and not result.separable:
        _echo_warnings(result)
        click.echo(f"no answer: the readings of {len(result.sensors)} loggers cannot separate the candidates "
                   "(see the warnings; --json lists them anyway)")
        for path in saved:
            click.echo(f"wrote {path}")
    elif verbosity(ctx) >= 0:
        _print_localisation(result, top, saved)
    if not result.separable:
        ctx.exit(EXIT_FINDINGS)


def _hours(window: str | None) -> tuple[int, int] | None:
    """Parse ``--window FROM:TO`` (hours from the model's start) into seconds."""
    pair = number_pair(window, shape="two hours from the model's start", example="11:15",
                       param_hint="--window")
    if pair is None:
        return None
    first, last = pair
    if not 0 <= first < last:
        raise click.BadParameter(f"{window!r}: the first hour must be at least 0 and before the last",
                                 param_hint="--window")
    return round(first * SECONDS_PER_HOUR), round(last * SECONDS_PER_HOUR)


def _print_localisation(result: nrwleaks.Localisation, top: int, saved: list[Path]) -> None:
    best = result.candidates.head(top)
    rows = [(k + 1, r.node, f"{r.probability:.3f}", f"{r.score:.4g}", f"{r.leak_flow_m3h:.2f}")
            for k, r in enumerate(best.itertuples())]
    click.echo(format_table(rows, ["rank", "junction", "probability", "score", "leak (m3/h)"]))
    area = result.search_area
    click.echo(f"\nsearch area: {len(area['pipes'])} pipes, {area['length_km']:.2f} km, holding "
               f"{area['probability']:.0%} ({result.method}, {len(result.sensors)} loggers)")
    _echo_warnings(result)
    for path in saved:
        click.echo(f"wrote {path}")


def _echo_warnings(result: nrwleaks.Localisation) -> None:
    """Print the warnings (severity, code, message and fix) on stderr."""
    if result.warnings:
        click.echo("\n".join(findings_lines(result.warnings)), err=True)


@leaks_group.command("place-loggers")
@network_argument
@click.option("--count", type=click.IntRange(1, 500), required=True, help="Loggers to place.")
@click.option("--candidates", "candidates_path", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Junction ids where a logger can go, one per line [default: all].")
@click.option("--existing", multiple=True, metavar="JUNCTION", help="A logger already installed (repeat).")
@click.option("--leak-flow", "leak_flow_lps", type=FiniteRange(min=0.01, max=1e5), default=2.0,
              show_default=True,
              metavar="L/S", help="The leak size to design for.")
@click.option("--noise", "noise_m", type=FiniteRange(min=1e-4, max=100.0), default=0.05,
              show_default=True,
              metavar="M", help="Loggers' noise, m.")
@click.option("--seed", type=int, default=0, show_default=True)
@json_option
@handle_errors
def place_loggers_command(network: str, count: int, candidates_path: Path | None, existing: tuple[str, ...],
                          leak_flow_lps: float, noise_m: float, seed: int, as_json: bool) -> None:
    """Choose COUNT logger junctions that make leaks most distinguishable in NETWORK.

    Greedy on the expected search area (km of mains a crew must survey to hold 90 % of the
    probability for a leak of --leak-flow seen through --noise), compared with random and
    evenly spread loggers.
    """
    wn = load(network)
    candidates = None
    if candidates_path is not None:
        candidates = read_id_list(candidates_path, what="candidates")
    placement = nrwleaks.place_loggers(wn, count, candidates=candidates, existing=existing,
                                       leak_flow_m3s=leak_flow_lps / LITRES_PER_M3, noise_m=noise_m,
                                       seed=seed)
    data = {"loggers": placement.loggers, "expected_search_km": placement.expected_search_km,
            "random_km": placement.random_km, "spread_km": placement.spread_km,
            "spread_loggers": placement.spread_loggers,
            "options": {"count": count, "existing": list(existing), "leak_flow_lps": leak_flow_lps,
                        "noise_m": noise_m, "seed": seed,
                        "candidates": str(candidates_path) if candidates_path else None}}
    saved = []
    if is_workspace(network):
        saved = save_run(open_workspace(network), "leaks-place-loggers",
                         {".json": lambda p: write_json(p, data)}, title=f"Logger placement ({count})")
    if as_json:
        echo_json(data)
        return
    click.echo("loggers: " + ", ".join(placement.loggers))
    click.echo(format_table([
        ("chosen (greedy)", f"{placement.expected_search_km:.2f}"),
        (f"{count} random (mean of 5)", f"{placement.random_km:.2f}"),
        (f"{count} evenly spread", f"{placement.spread_km:.2f}"),
    ], ["loggers", "expected search area (km)"]))
    for path in saved:
        click.echo(f"wrote {path}")
