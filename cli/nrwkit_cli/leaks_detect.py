"""``nrwkit leaks detect``: leak alarms from meter flows (minimum night flow trend and CUSUM)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal, cast

import click

from nrwkit.leaks.detect import SERVICE_BURST_M3H, DetectionResult, detect, read_flows

from .options import (
    EXIT_FINDINGS,
    NON_NEGATIVE,
    POSITIVE,
    echo_json,
    findings_lines,
    format_table,
    handle_errors,
    json_option,
    verbosity,
)

__all__ = ["detect_command"]


def _night(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, str]:
    parts = [p.strip() for p in value.split("-")]
    if len(parts) != 2 or not all(parts):
        raise click.BadParameter(f"{value!r} is not a period like 02:00-04:00")
    return parts[0], parts[1]


@click.command("detect")
@click.argument("flows_path", metavar="FLOWS.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--start", metavar="ISO",
              help="Date and time of the model's start, when FLOWS.csv gives times in seconds.")
@click.option("--unit", type=click.Choice(["m3/h", "l/s", "m3/s"]), default="m3/h", show_default=True,
              help="Unit of the flows in FLOWS.csv.")
@click.option("--night", default="02:00-04:00", show_default=True, metavar="HH:MM-HH:MM", callback=_night,
              help="Night period in which the minimum night flow is sought.")
@click.option("--window", default="1h", show_default=True, metavar="DURATION",
              help="Averaging window of the minimum night flow (UKWIR: the minimum rolling hour).")
@click.option("--threshold", "threshold_m3h", type=NON_NEGATIVE, default=SERVICE_BURST_M3H,
              show_default=True, metavar="M3H",
              help="A night alarms when its MNF exceeds the recent minimum by more than this (m3/h; "
                   "default: a service connection burst at 50 m) and by more than --threshold-fraction.")
@click.option("--threshold-fraction", type=NON_NEGATIVE, default=0.1, show_default=True,
              metavar="SHARE", help="Smallest alarming excess as a share of the recent minimum.")
@click.option("--baseline-nights", type=click.IntRange(min=1), default=7, show_default=True, metavar="N",
              help="Previous nights whose minimum is the MNF trend's baseline.")
@click.option("--cusum-baseline", "cusum_baseline_nights", type=click.IntRange(min=2), default=14,
              show_default=True, metavar="N",
              help="First nights (without new leaks) that set the CUSUM's mean and sigma.")
@click.option("--cusum-h", type=POSITIVE, default=5.0, show_default=True,
              metavar="H", help="CUSUM decision interval, in sigmas.")
@click.option("--cusum-delta", type=NON_NEGATIVE, default=1.0, show_default=True,
              metavar="DELTA", help="Shift the CUSUM is tuned to detect, in sigmas.")
@json_option
@handle_errors
def detect_command(flows_path: Path, start: str | None, unit: str, night: tuple[str, str], window: str,
                   threshold_m3h: float, threshold_fraction: float, baseline_nights: int,
                   cusum_baseline_nights: int, cusum_h: float, cusum_delta: float, as_json: bool) -> None:
    """Detect leaks from the flows of FLOWS.csv: a `time` column (seconds from the model's
    start, or dates) and one column per meter (m3/h by default).

    Per meter: the minimum night flow (MNF) of every night, an alarm ("mnf") when a night's
    MNF exceeds the minimum of the previous nights by the threshold, and an upward CUSUM of
    the nightly MNF ("cusum") set on the first nights. Exit code 1 when there is an alarm.
    """
    series = read_flows(flows_path, start=start, unit=cast(Literal["m3/h", "l/s", "m3/s"], unit))
    result = detect(series, night=night, window=window, baseline_nights=baseline_nights,
                    threshold_m3h=threshold_m3h, threshold_fraction=threshold_fraction,
                    cusum_baseline_nights=cusum_baseline_nights, cusum_h=cusum_h, cusum_delta=cusum_delta)
    ctx = click.get_current_context()
    if as_json:
        echo_json(result.to_dict())
    elif verbosity(ctx) >= 0:
        _print(result, flows_path, len(series.flows.columns))
    if len(result.alarms):
        ctx.exit(EXIT_FINDINGS)


def _print(result: DetectionResult, path: Path, n_meters: int) -> None:
    if result.findings:
        click.echo("\n".join(findings_lines(result.findings)) + "\n")
    data = result.to_dict()
    mnf = data["mnf"]
    meters = list(dict.fromkeys(row["meter"] for row in mnf))
    column = "mnf_ref_m3h" if mnf and "mnf_ref_m3h" in mnf[0] else "mnf_m3h"
    by_night: dict[Any, dict[str, Any]] = {}
    for row in mnf:
        by_night.setdefault(row["night"], {})[row["meter"]] = row[column]
    rows = [(night, *(_m3h(values.get(m)) for m in meters)) for night, values in by_night.items()]
    if rows:
        click.echo("minimum night flow (m3/h):")
        click.echo(format_table(rows, ["night", *meters]) + "\n")
    alarms = data["alarms"]
    if alarms:
        rows = [(a["night"], _time(a["time"]), a["meter"], a["method"], _m3h(a["excess_m3h"]),
                 _m3h(a["value"]), _m3h(a["threshold"]), a["onset"]) for a in alarms]
        click.echo("alarms:")
        click.echo(format_table(rows, ["night", "time", "meter", "method", "excess (m3/h)", "value (m3/h)",
                                       "threshold (m3/h)", "onset"]) + "\n")
        alarmed = sorted({a["meter"] for a in alarms})
        click.echo(f"{len(alarms)} alarm{'s' if len(alarms) != 1 else ''} on {', '.join(alarmed)} "
                   f"(first night {alarms[0]['night']})")
    else:
        click.echo(f"no alarms on {n_meters} meter{'s' if n_meters != 1 else ''} of {path.name}")


def _m3h(value: Any) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"


def _time(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value.replace("T", " ")[:16]
    return f"{value:.0f} s"
