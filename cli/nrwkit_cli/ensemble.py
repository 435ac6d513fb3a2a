"""``nrwkit ensemble``: many seeded scenarios on a process pool or a Dask cluster, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from nrwkit.ensemble import Task, network_source, parse_scheduler, run, task_id
from nrwkit.errors import OutputError
from nrwkit.networks import load
from nrwkit.outputs import write_text

from .options import (
    EXIT_RUNTIME,
    ProgressBars,
    dashboard_printer,
    echo_json,
    format_table,
    handle_errors,
    json_option,
    scheduler_option,
    verbosity,
)

_WORKERS = click.option("--workers", type=click.IntRange(1, 1024), metavar="N", help="Processes of the pool.")
_COUNT = click.option("--count", type=click.IntRange(1, 10_000_000), required=True, help="Scenarios.")
_SEED = click.option("--seed", type=int, default=0, show_default=True, help="Scenario k has seed SEED + k.")
_HOURS = click.option(
    "--hours",
    "duration_h",
    type=click.FloatRange(1.0, 168.0),
    default=24.0,
    show_default=True,
    help="Length of each scenario.",
)


def _out(help_text: str) -> Any:
    return click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        required=True,
        metavar="DIR",
        help=help_text,
    )


_BATCH = click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=1,
    show_default=True,
    metavar="N",
    help="Scenarios a worker runs in one go: for very large ensembles on a cluster, fewer units for "
    "the scheduler and one Parquet file per batch (the rows are the same).",
)
_TIMEOUT = click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(0.0, min_open=True),
    metavar="SECONDS",
    help="Stop a scenario still running after SECONDS; its row says 'timed out' and it runs again "
    "on resume [default: no limit].",
)


@click.group("ensemble")
def ensemble_group() -> None:
    """Scenario ensembles: a library of leak scenarios (`leaks`), a pressure sweep over DMAs
    (`pressure`), Monte Carlo over uncertain demands (`demands`), on this machine or a Dask
    cluster; an interrupted ensemble resumes."""


def _run(
    tasks: list[Task],
    out: Path,
    scheduler: str | None,
    workers: int | None,
    timeout_s: float | None,
    batch_size: int,
    as_json: bool,
) -> Any:
    ctx = click.get_current_context()
    quiet = verbosity(ctx) < 0 or as_json
    if scheduler is not None:
        parse_scheduler(scheduler)  # refuse a bad address before any work
    if out.is_dir() and any(out.iterdir()) and not (out / "results").is_dir():
        raise OutputError(
            out,
            "it holds other files and is not an ensemble's folder (it has no results/)",
            "give a new folder, or the folder of the ensemble to resume",
        )
    bars = ProgressBars(enabled=not quiet)
    try:
        table = run(
            tasks,
            executor=scheduler,
            out=out,
            workers=workers,
            timeout_s=timeout_s,
            batch_size=batch_size,
            progress=bars,
            on_start=dashboard_printer(quiet),
        )
    finally:
        bars.close()
    listed = [
        c
        for c in table.columns
        if table[c].map(lambda v: isinstance(v, list | tuple) or hasattr(v, "shape")).any()
    ]
    summary = table.drop(columns=listed)  # per-junction lists stay in the Parquet results
    write_text(out / "summary.csv", summary.to_csv(index=False, lineterminator="\n"), overwrite=True)
    return table


def _report(table: Any, out: Path, as_json: bool, columns: list[str]) -> None:
    ctx = click.get_current_context()
    failed = table[table["status"] != "ok"]
    if as_json:
        echo_json(
            {
                "out": str(out),
                "tasks": len(table),
                "ok": int((table["status"] == "ok").sum()),
                "failed": [
                    {"task_id": r.task_id, "status": r.status, "error": r.error} for r in failed.itertuples()
                ],
            }
        )
    elif verbosity(ctx) >= 0:
        shown = table[["task_id", "status", *[c for c in columns if c in table.columns]]].head(20)
        click.echo(
            format_table(
                [tuple("" if v != v else v for v in row) for row in shown.itertuples(index=False)],
                list(shown.columns),
            )
        )
        if len(table) > len(shown):
            click.echo(f"... {len(table) - len(shown)} more in {out / 'summary.csv'}")
        click.echo(f"{len(table) - len(failed)} of {len(table)} scenarios ok; results in {out}")
        for row in failed.head(5).itertuples():
            click.echo(f"{row.status} {row.task_id}: {row.error}", err=True)
    if len(failed):
        ctx.exit(EXIT_RUNTIME)


@ensemble_group.command("leaks")
@click.argument("network", metavar="NETWORK")
@_COUNT
@_SEED
@_out(
    "The library: DIR/scenarios/<id>/ (readings.parquet, flows.parquet, truth.json), DIR/results/ "
    "(Parquet, one file per scenario) and DIR/summary.csv."
)
@_HOURS
@click.option("--loggers", type=click.IntRange(1, 500), default=20, show_default=True, help="Loggers.")
@scheduler_option
@_WORKERS
@_TIMEOUT
@_BATCH
@json_option
@handle_errors
def leaks_command(
    network: str,
    count: int,
    seed: int,
    out: Path,
    duration_h: float,
    loggers: int,
    scheduler: str | None,
    workers: int | None,
    timeout_s: float | None,
    batch_size: int,
    as_json: bool,
) -> None:
    """Make a library of COUNT single-leak scenarios on NETWORK: readings, flows and the truth.

    Each scenario's readings and flows are the files `nrwkit leaks locate` reads; its truth
    (leak junction, flow, start) is in truth.json beside them. Run the same command again to
    resume: finished scenarios are kept.
    """
    load(network)  # refuse an unreadable network before starting workers
    source = network_source(network)
    tasks = [
        Task(
            task_id("leak", k),
            "nrwkit.ensemble.tasks:leak_library_scenario",
            {
                "network": source,
                "folder": str((out / "scenarios" / task_id("leak", k)).resolve()),
                "duration_h": duration_h,
                "loggers": loggers,
            },
            seed=seed + k,
        )
        for k in range(count)
    ]
    table = _run(tasks, out, scheduler, workers, timeout_s, batch_size, as_json)
    _report(table, out, as_json, ["node", "flow_m3h", "start_s", "seconds"])


@ensemble_group.command("pressure")
@click.argument("network", metavar="NETWORK")
@click.option(
    "--target",
    "target_m",
    type=click.FloatRange(0.0, 200.0, min_open=True),
    required=True,
    metavar="PRESSURE_M",
    help="Pressure each DMA's critical point must keep, m.",
)
@click.option(
    "--modes",
    default="fixed,time,flow,critical",
    show_default=True,
    help="PRV modes to sweep, comma-separated.",
)
@click.option(
    "--n1",
    type=click.FloatRange(0.0, 3.0, min_open=True),
    default=1.0,
    show_default=True,
    help="FAVAD exponent of the leakage.",
)
@_out("Results (Parquet per scenario) and DIR/summary.csv.")
@scheduler_option
@_WORKERS
@_TIMEOUT
@_BATCH
@json_option
@handle_errors
def pressure_command(
    network: str,
    target_m: float,
    modes: str,
    n1: float,
    out: Path,
    scheduler: str | None,
    workers: int | None,
    timeout_s: float | None,
    batch_size: int,
    as_json: bool,
) -> None:
    """Sweep pressure management over every DMA of NETWORK (a network written by `nrwkit dma design`).

    One scenario per DMA and mode; a DMA that cannot take a PRV is a failed row with the reason.
    """
    from nrwkit.dma import dma_tags

    wn = load(network)
    labels, _, _ = dma_tags(wn)
    if not labels:
        raise click.UsageError(
            f"{network}: no junction carries a dma= tag; give the .inp written by `nrwkit dma design`"
        )
    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    source = network_source(network)
    tasks = [
        Task(
            f"{dma}-{mode}",
            "nrwkit.ensemble.tasks:pressure_scenario_task",
            {"network": source, "zone": dma, "target_m": target_m, "mode": mode, "n1": n1},
            seed=0,
        )
        for dma in sorted(set(labels.values()))
        for mode in chosen
    ]
    table = _run(tasks, out, scheduler, workers, timeout_s, batch_size, as_json)
    _report(
        table,
        out,
        as_json,
        ["leakage_before_m3_per_day", "leakage_after_m3_per_day", "leakage_reduction_percent"],
    )


@ensemble_group.command("demands")
@click.argument("network", metavar="NETWORK")
@_COUNT
@_SEED
@click.option(
    "--junction-cv",
    type=click.FloatRange(0.0, 2.0),
    default=0.1,
    show_default=True,
    help="Coefficient of variation of each junction's own demand factor.",
)
@click.option(
    "--common-cv",
    type=click.FloatRange(0.0, 2.0),
    default=0.05,
    show_default=True,
    help="Coefficient of variation of the factor common to every junction.",
)
@click.option(
    "--min-pressure",
    "min_pressure_m",
    type=click.FloatRange(0.0, 200.0),
    default=15.0,
    show_default=True,
    metavar="PRESSURE_M",
    help="Service pressure, m.",
)
@_HOURS
@_out("DIR/junctions.csv (risk per junction), DIR/results/ (Parquet per scenario), DIR/summary.csv.")
@scheduler_option
@_WORKERS
@_TIMEOUT
@_BATCH
@json_option
@handle_errors
def demands_command(
    network: str,
    count: int,
    seed: int,
    junction_cv: float,
    common_cv: float,
    min_pressure_m: float,
    duration_h: float,
    out: Path,
    scheduler: str | None,
    workers: int | None,
    timeout_s: float | None,
    batch_size: int,
    as_json: bool,
) -> None:
    """Monte Carlo over uncertain demands on NETWORK: which junctions risk low pressure.

    Each scenario multiplies every junction's demands by a factor common to the network and one
    of its own (lognormal, mean 1), runs the network and keeps each junction's lowest pressure.
    DIR/junctions.csv gives, per junction, quantiles of that lowest pressure and the probability
    of falling below the service pressure with its 95 % interval. Run again to resume.
    """
    from nrwkit.ensemble import demand_risk, demand_tasks, new_shortfalls, wilson_interval
    from nrwkit.ensemble.tasks import demand_baseline

    load(network)  # refuse an unreadable network before starting workers
    source = network_source(network)
    params = {
        "junction_cv": junction_cv,
        "common_cv": common_cv,
        "duration_h": duration_h,
        "min_pressure_m": min_pressure_m,
    }
    tasks = demand_tasks(source, count, seed=seed, **params)
    table = _run(tasks, out, scheduler, workers, timeout_s, batch_size, as_json)
    ok = table[table["status"] == "ok"]
    if ok.empty:
        _report(table, out, as_json, [])
        return
    baseline = demand_baseline(source, duration_h)
    risk = demand_risk(table, baseline, min_pressure_m)
    write_text(
        out / "junctions.csv", risk.reset_index().to_csv(index=False, lineterminator="\n"), overwrite=True
    )
    unbalanced = int((ok["unbalanced_steps"] > 0).sum())
    hits, used = new_shortfalls(table, baseline, min_pressure_m)
    low, high = (float(v[0]) for v in wilson_interval([hits], used))
    already = risk.index[risk["below_in_model"]].tolist()
    failed = table[table["status"] != "ok"]
    ctx = click.get_current_context()
    if as_json:
        echo_json(
            {
                "out": str(out),
                "scenarios_used": used,
                "unbalanced_scenarios": unbalanced,
                "probability_new_shortfall": round(hits / used, 4),
                "probability_new_shortfall_ci95": [round(low, 4), round(high, 4)],
                "below_in_model": already,
                "junctions_at_risk": [
                    {"junction": j, **row.to_dict()}
                    for j, row in risk[(risk["probability_below"] > 0) & ~risk["below_in_model"]]
                    .head(50)
                    .iterrows()
                ],
                "failed": [
                    {"task_id": r.task_id, "status": r.status, "error": r.error} for r in failed.itertuples()
                ],
            }
        )
    elif verbosity(ctx) >= 0:
        top = risk.head(10).reset_index()
        click.echo(format_table([tuple(r) for r in top.itertuples(index=False)], list(top.columns)))
        click.echo(
            f"{hits} of {used} scenarios ({hits / used:.0%}, 95 % interval {low:.0%}-{high:.0%}) put a "
            f"junction the model keeps above {min_pressure_m:g} m below it; per-junction risk in "
            f"{out / 'junctions.csv'}"
        )
        if already:
            click.echo(
                f"warning: {len(already)} junction(s) are below {min_pressure_m:g} m with the model's own "
                f"demands ({', '.join(already[:5])}{', ...' if len(already) > 5 else ''}): check the model "
                "or the network there first",
                err=True,
            )
        if unbalanced:
            click.echo(
                f"warning: {unbalanced} scenario(s) left out: EPANET did not balance their run "
                "(demands beyond what the network can carry?)",
                err=True,
            )
        for row in failed.head(5).itertuples():
            click.echo(f"{row.status} {row.task_id}: {row.error}", err=True)
    if len(failed):
        ctx.exit(EXIT_RUNTIME)
