"""``nrwkit inspect``: what a network is and what is wrong with it."""

from __future__ import annotations

from pathlib import Path

import click

from nrwkit.findings import Severity, findings_frame
from nrwkit.gis import write_geopackage
from nrwkit.network import Inspection, inspect_network
from nrwkit.networks import load, resolve
from nrwkit.outputs import check_writable, write_json, write_text
from nrwkit.workspace import is_workspace, open_workspace, save_run

from .options import (
    EXIT_FINDINGS,
    check_options,
    crs_option,
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

#: Files written by --out, in the order they are written.
OUT_FILES = ("inspect.json", "inspect.txt", "findings.csv", "network.gpkg")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def summary_text(result: Inspection) -> str:
    """The human-readable report printed by `nrwkit inspect`."""
    s = result.summary
    c = s.counts
    valves = ", ".join(f"{k.split('_', 1)[1]} {v}" for k, v in c.items() if k.startswith("valves_"))
    lines = [
        f"{s.name}: flow units {s.flow_units}, headloss {s.headloss_formula}, "
        f"demand model {s.demand_model}",
        "",
        format_table([
            ("junctions", c["junctions"], "tanks", c["tanks"], "reservoirs", c["reservoirs"]),
            ("pipes", c["pipes"], "pumps", c["pumps"],
             "valves", f"{c['valves']}" + (f" ({valves})" if valves else "")),
            ("patterns", c["patterns"], "curves", c["curves"], "controls", c["controls"]),
        ]),
        "",
        f"mains length       {_fmt(s.mains_length_km, 2)} km",
    ]
    for label, km in s.length_by_diameter_km.items():
        if km > 0:
            lines.append(f"  {label:<16} {km:,.2f} km")
    lines += [
        f"elevation          {_fmt(s.elevation_min_m)} to {_fmt(s.elevation_max_m)} m",
        f"base demand        {_fmt(s.base_demand_m3_per_day)} m3/day",
        f"peak demand        {_fmt(s.peak_demand_m3_per_day)} m3/day at {s.peak_time_h:.2f} h",
        f"duration           {s.duration_h:g} h (hydraulic step {s.hydraulic_timestep_s} s, "
        f"pattern {s.pattern_timestep_s} s, report {s.report_timestep_s} s)",
    ]
    if s.extent:
        e = s.extent
        lines.append(f"extent             x {e['xmin']:,.1f} to {e['xmax']:,.1f}, "
                     f"y {e['ymin']:,.1f} to {e['ymax']:,.1f}")
    lines.append(f"CRS                {s.crs or 'unknown (an .inp file carries none; use --crs)'}")
    n_err, n_warn, n_info = (result.count(sev) for sev in ("error", "warning", "info"))
    lines += ["", f"Findings: {n_err} error(s), {n_warn} warning(s), {n_info} info"]
    lines += findings_lines(result.findings)
    return "\n".join(lines)


@click.command("inspect")
@network_argument
@json_option
@crs_option
@check_options
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Also write " + ", ".join(OUT_FILES) + " into DIR.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Also write a self-contained HTML report (map, findings, charts).")
@overwrite_option
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]),
              default="never", show_default=True,
              help="Exit with code 1 when a finding of this severity or worse is found.")
@handle_errors
def inspect_command(
    network: str, as_json: bool, crs: str | None, min_pressure_m: float, simulate: bool,
    snap_tolerance_m: float, out: Path | None, report_path: Path | None, overwrite: bool,
    fail_on: str,
) -> None:
    """Summarise NETWORK and check it for faults.

    Checks topology (components without a source, isolated and dangling nodes), pipes
    (zero or near-zero length, duplicates, length against coordinates), coordinates,
    demands, diameters, roughness, valve settings, and a baseline EPANET steady state at
    peak demand (convergence, negative and low pressures).
    """
    ctx = click.get_current_context()
    workspace = open_workspace(network) if is_workspace(network) else None
    if workspace is not None:
        network, crs = str(workspace.network), crs or workspace.crs
    if out is not None:
        for name in OUT_FILES:
            check_writable(out / name, overwrite=overwrite)
    refuse_output_on_input([report_path, *(out / n for n in OUT_FILES)] if out else [report_path],
                           [resolve(network)])
    if report_path is not None:
        check_writable(report_path, overwrite=overwrite)
    wn = load(network)
    result = inspect_network(
        wn, crs=crs, min_pressure_m=min_pressure_m, simulate=simulate,
        snap_tolerance_m=snap_tolerance_m, name=resolve(network).name,
    )
    text = summary_text(result)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "inspect.json", result.to_dict(), overwrite=overwrite)
        write_text(out / "inspect.txt", text + "\n", overwrite=overwrite)
        write_text(out / "findings.csv", findings_frame(result.findings).to_csv(index=False),
                   overwrite=overwrite)
        write_geopackage(wn, out / "network.gpkg", crs=crs, findings=result.findings,
                         overwrite=overwrite)
    saved = []
    if report_path is not None or workspace is not None:
        from nrwkit.report import inspection_report

        kicker = workspace.name if workspace is not None else "Network inspection"
        report = inspection_report(wn, result, network_path=resolve(network), state=result.state,
                                   kicker=kicker)
        if report_path is not None:
            saved.append(report.write(report_path, overwrite=overwrite))
        if workspace is not None:
            saved += save_run(workspace, "inspect", {
                ".html": report.write,
                ".json": lambda p: write_json(p, result.to_dict()),
                ".gpkg": lambda p: write_geopackage(wn, p, crs=crs, findings=result.findings,
                                                    results=result.state),
            }, title="Network inspection")
    if as_json:
        echo_json(result.to_dict())
    elif verbosity(ctx) >= 0:
        click.echo(text)
        if out is not None:
            click.echo(f"\nwrote {', '.join(str(out / n) for n in OUT_FILES)}")
        for path in saved:
            click.echo(f"wrote {path}")
    if fail_on != "never":
        worst = Severity(fail_on).rank
        if any(f.severity.rank <= worst for f in result.findings):
            ctx.exit(EXIT_FINDINGS)
