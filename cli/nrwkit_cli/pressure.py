"""``nrwkit pressure``: pressure-management scenarios on a zone (PRV modes, FAVAD leakage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from nrwkit import pressure as nrwpressure
from nrwkit.networks import load, resolve
from nrwkit.outputs import check_writable, write_json
from nrwkit.units import DAYS_PER_YEAR, LITRES_PER_M3
from nrwkit.workspace import is_workspace, open_workspace, save_run

from .options import (
    FiniteRange,
    echo_json,
    findings_lines,
    format_table,
    handle_errors,
    json_option,
    network_argument,
    overwrite_option,
    refuse_output_on_input,
    verbosity,
)

#: How a mode's settings read in the terminal.
_MODE_WORDS = {
    "fixed": "fixed outlet",
    "time": "time-modulated",
    "flow": "flow-modulated",
    "critical": "critical-point control",
}


@click.group("pressure")
def pressure_group() -> None:
    """Pressure management: a PRV at a zone's inlets, its control mode, and the leakage, bursts
    and money it saves (`scenario`)."""


@pressure_group.command("scenario")
@network_argument
@click.option("--zone", "dma_id", metavar="DMA_ID",
              help="The zone: a DMA of a network written by `nrwkit dma design` (dma= tags).")
@click.option("--inlet", "inlets", multiple=True, metavar="PIPE",
              help="Or the zone's inlet pipe (repeat for each): the zone is every junction that "
                   "loses its supply without them.")
@click.option("--mode", type=click.Choice(list(nrwpressure.MODES)), default="fixed", show_default=True,
              help="PRV control: fixed outlet, time-modulated (day/night), flow-modulated (outlet "
                   "rising with the inflow), or critical-point control.")
@click.option("--target", "target_m", type=FiniteRange(min=0.0, min_open=True, max=200.0), required=True,
              metavar="PRESSURE_M", help="Pressure the critical point must keep at every step, m.")
@click.option("--night-target", "night_target_m", type=FiniteRange(min=0.0, min_open=True, max=200.0),
              metavar="PRESSURE_M", help="Pressure it must keep from 00:00 to 06:00, m [default: --target].")
@click.option("--n1", type=FiniteRange(min=0.0, min_open=True, max=3.0), default=1.0, show_default=True,
              help="FAVAD exponent of the zone's leakage (0.5 fixed orifices, 1.0 large mixed systems, "
                   "1.5 background leakage).")
@click.option("--background-leakage", "night_leakage_m3h", type=FiniteRange(min=0.0), metavar="M3/H",
              help="The zone's leakage at the night hour today, from a night-flow test or the water "
                   "balance [default: its unavoidable background leakage].")
@click.option("--min-service-pressure", "min_service_pressure_m", type=FiniteRange(min=0.0),
              metavar="M", help="Pressure below which a customer counts as not served [default: the "
                                "lower of the targets].")
@click.option("--cost", "variable_cost_per_m3", type=FiniteRange(min=0.0), metavar="PER_M3",
              help="Variable production cost per m3, to value the water saved.")
@click.option("--fire-flow", "fire_flow_lps", type=FiniteRange(min=0.0, min_open=True, max=1e4),
              metavar="L/S",
              help="Also draw this fire flow at the critical node for 2 h from the peak hour, before and "
                   "with the PRV, and report the pressure it leaves there.")
@click.option("--fire-residual", "fire_residual_m", type=FiniteRange(min=0.0), default=14.0,
              show_default=True, metavar="M", help="Residual pressure the fire flow must leave, m.")
@click.option("--compare", is_flag=True,
              help="Also compare the four modes, each at its lowest settings for the target.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write an HTML report (zone map, pressure over the day, the modes compared).")
@overwrite_option
@json_option
@handle_errors
def scenario_command(network: str, dma_id: str | None, inlets: tuple[str, ...], mode: str, target_m: float,
                     night_target_m: float | None, n1: float, night_leakage_m3h: float | None,
                     min_service_pressure_m: float | None, variable_cost_per_m3: float | None,
                     fire_flow_lps: float | None, fire_residual_m: float, compare: bool,
                     report_path: Path | None, overwrite: bool, as_json: bool) -> None:
    """Put a PRV at the inlet(s) of a zone of NETWORK and compare the day before and after.

    Leakage follows pressure (FAVAD, exponent --n1), as emitters spread over the zone's mains
    and calibrated to the night leakage. The PRV's settings are the lowest that keep --target
    at the zone's critical point at every step of a 24-hour run. Prints the zone's average and
    night pressure, maximum pressure, critical node, leakage, night-day factor, the predicted
    cut in new bursts (burst frequency factor 1.4, range 0.7-2.8) and customers below the
    service pressure.
    """
    if (dma_id is None) == (not inlets):
        raise click.UsageError("give the zone either by --zone DMA_ID or by --inlet PIPE (not both)")
    refuse_output_on_input([report_path], [resolve(network)])
    if report_path is not None:
        check_writable(report_path, overwrite=overwrite)
    wn = load(network)
    zone = (nrwpressure.zone_from_dma(wn, dma_id) if dma_id is not None
            else nrwpressure.zone_from_inlets(wn, inlets))
    common: dict[str, Any] = {"target_m": target_m, "night_target_m": night_target_m, "n1": n1,
                              "night_leakage_m3h": night_leakage_m3h}
    fire_m3s = None if fire_flow_lps is None else fire_flow_lps / LITRES_PER_M3
    result = nrwpressure.scenario(wn, zone, mode=mode, min_service_pressure_m=min_service_pressure_m,
                                  variable_cost_per_m3=variable_cost_per_m3, fire_flow_m3s=fire_m3s,
                                  fire_residual_m=fire_residual_m, compare=compare, **common)
    comparison = result.comparison
    data = result.to_dict()
    if comparison is not None:
        data["modes"] = {name: {k: _plain(v) for k, v in row.items()} for name, row in comparison.iterrows()}
    saved = _write(wn, network, result, comparison, data, report_path, overwrite=overwrite)
    if as_json:
        echo_json(data)
        return
    if verbosity(click.get_current_context()) >= 0:
        click.echo("\n".join(_text(result, comparison)))
        for path in saved:
            click.echo(f"wrote {path}")
    if result.warnings:
        click.echo("\n".join(findings_lines(result.warnings)), err=True)


def _plain(value: Any) -> Any:
    return round(float(value), 3) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _write(wn: Any, network: str, result: Any, comparison: Any, data: dict[str, Any],
           report_path: Path | None, *, overwrite: bool) -> list[Path]:
    """Write the report and, on a workspace, the run; return the files written."""
    if report_path is None and not is_workspace(network):
        return []
    from nrwkit.report.pressure import pressure_report

    report = pressure_report(wn, result, comparison=comparison, network_path=resolve(network))
    saved: list[Path] = []
    if report_path is not None:
        saved.append(report.write(report_path, overwrite=overwrite))
    if is_workspace(network):
        saved += save_run(open_workspace(network), "pressure-scenario",
                          {".html": report.write, ".json": lambda p: write_json(p, data)},
                          title=f"Pressure management: {result.zone.name} ({result.prv.mode})")
    return saved


def _settings_text(plan: Any) -> str:
    s = plan.settings
    if plan.mode == "fixed":
        return f"outlet head {s['outlet_head_m']:.1f} m"
    if plan.mode == "time":
        return f"outlet head {s['day_head_m']:.1f} m by day, {s['night_head_m']:.1f} m at night"
    if plan.mode == "flow":
        return f"outlet head {s['a_m']:.1f} m + {s['b_m_per_m3s2']:.4g} Q^2 (Q the inflow in m3/s)"
    night = s.get("night_target_m")
    return f"the critical point held at {s['target_m']:g} m" + (f" ({night:g} m at night)" if night else "")


def _text(result: Any, comparison: Any) -> list[str]:
    before, after = result.before, result.after
    lines = [f"zone {result.zone.name}: {len(result.zone.junctions)} junctions, inlet(s) "
             f"{', '.join(result.zone.inlets)}; PRV {', '.join(result.prv.links)}, "
             f"{_MODE_WORDS[result.prv.mode]}: {_settings_text(result.prv)}",
             f"leakage: N1 {result.leakage.n1:g}, {result.leakage.night_leakage_m3h:.2f} m3/h at night today "
             f"({result.leakage.source})", ""]
    rows = [
        ("average zone pressure (m)", f"{before.azp_m:.1f}", f"{after.azp_m:.1f}"),
        ("average zone night pressure (m)", f"{before.aznp_m:.1f}", f"{after.aznp_m:.1f}"),
        ("maximum pressure (m)", f"{before.max_pressure_m:.1f}", f"{after.max_pressure_m:.1f}"),
        ("critical node", before.critical_node, after.critical_node),
        ("critical node's lowest pressure (m)", f"{before.critical_pressure_m:.1f}",
         f"{after.critical_pressure_m:.1f}"),
        ("leakage (m3/day)", f"{before.leakage_m3_per_day:,.1f}", f"{after.leakage_m3_per_day:,.1f}"),
        ("leakage (m3/year)", f"{before.leakage_m3_per_day * DAYS_PER_YEAR:,.0f}",
         f"{after.leakage_m3_per_day * DAYS_PER_YEAR:,.0f}"),
        ("night-day factor (h/day)", f"{before.ndf_hours:.1f}", f"{after.ndf_hours:.1f}"),
    ]
    lines.append(format_table(rows, ["", "before", "after"]))
    bursts = result.burst_reduction_percent
    lines += ["", f"leakage cut by {result.leakage_reduction_percent:.1f} %; new bursts cut by "
              f"{bursts['central']:.0f} % (burst frequency factor 1.4; {bursts['low']:.0f} to "
              f"{bursts['high']:.0f} % for 0.7 to 2.8)"]
    if result.value_saved_per_year is not None:
        lines.append(f"water saved worth {result.value_saved_per_year:,.0f} per year at the variable cost "
                     "given")
    low = result.service_violations
    example = f" (e.g. {low[0]['junction']}, {low[0]['min_pressure_m']:.1f} m)" if low else ""
    lines.append(f"customers below the service pressure after: {len(low)}{example}")
    fire = result.fire_flow
    if fire is not None:
        verdict = "passes" if fire["passes"] else "FAILS"
        lines.append(f"fire flow {fire['flow_lps']:g} l/s at {fire['node']} for {fire['duration_h']:g} h "
                     f"from the peak: {fire['before_min_pressure_m']:.1f} m before, "
                     f"{fire['after_min_pressure_m']:.1f} m with the PRV ({verdict}: "
                     f"{fire['residual_m']:g} m needed)")
    if comparison is not None:
        table = comparison[["azp_m", "max_pressure_m", "critical_pressure_m", "leakage_m3_per_day",
                            "leakage_reduction_percent", "burst_reduction_percent"]]
        lines += ["", "the modes, each at its lowest settings for the target:",
                  format_table([(name, *(f"{float(v):,.1f}" for v in row)) for name, row in table.iterrows()],
                               ["mode", "AZP (m)", "max pressure (m)", "critical (m)",
                                "leakage (m3/day)", "leakage cut (%)", "burst cut (%)"])]
    return lines
