"""``nrwkit gis``: GIS layers of a network."""

from __future__ import annotations

from pathlib import Path

import click

from nrwkit import gis as nrwgis
from nrwkit.crs import parse_crs
from nrwkit.hydraulics import steady_state
from nrwkit.network.checks import CheckContext, count, run_context
from nrwkit.networks import load, resolve
from nrwkit.outputs import check_writable
from nrwkit.units import SECONDS_PER_DAY

from .options import (
    NON_NEGATIVE,
    check_options,
    crs_option,
    echo_json,
    findings_lines,
    handle_errors,
    json_option,
    network_argument,
    overwrite_option,
    refuse_output_on_input,
    verbosity,
)


@click.group("gis")
def gis_group() -> None:
    """GIS layers: export a network to a GeoPackage, build one from a utility's layers, allocate
    customer meters."""


@gis_group.command("export")
@network_argument
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@crs_option
@click.option("--findings/--no-findings", default=True, show_default=True,
              help="Add a 'findings' layer with the validation findings (runs the checks).")
@click.option("--results", is_flag=True,
              help="Add steady-state pressure, head, flow, velocity and unit headloss at peak "
                   "demand as attributes.")
@check_options
@overwrite_option
@json_option
@handle_errors
def export_command(
    network: str, out: Path, crs: str | None, findings: bool, results: bool,
    min_pressure_m: float, simulate: bool, snap_tolerance_m: float, overwrite: bool,
    as_json: bool,
) -> None:
    """Write NETWORK to the GeoPackage OUT (.gpkg).

    Layers junctions, tanks, reservoirs, pipes, pumps and valves (SI attributes, units in
    the field names, pipe vertices kept), and a findings layer unless --no-findings.
    """
    refuse_output_on_input([out], [resolve(network)])
    if out.suffix.lower() != ".gpkg":
        raise click.UsageError(f"{out}: a GeoPackage file name ends in .gpkg")
    check_writable(out, overwrite=overwrite)
    wn = load(network)
    ctx = CheckContext(wn, crs=crs, min_pressure_m=min_pressure_m, simulate=simulate,
                       snap_tolerance_m=snap_tolerance_m)
    found = run_context(ctx) if findings else None
    solved = None
    if results:  # the checks' steady state when they ran one; else (or if it failed) solve now
        solved = (ctx.solved() if findings and simulate else None) or steady_state(wn)
    nrwgis.write_geopackage(wn, out, crs=crs, findings=found, results=solved, overwrite=overwrite)
    layers = {name: int(info["features"]) for name, info in _layer_counts(out).items()
              if name != nrwgis.MODEL_TABLE}
    if as_json:
        echo_json({"output": str(out), "crs": crs, "layers": layers})
        return
    if verbosity(click.get_current_context()) < 0:
        return
    if crs is None:
        click.echo("note: the layers have no CRS (an .inp file carries none); pass --crs to set it.",
                   err=True)
    click.echo(f"wrote {out}: " + ", ".join(f"{name} {n}" for name, n in layers.items()))


def _layer_counts(path: Path) -> dict[str, dict]:
    import pyogrio

    return {name: pyogrio.read_info(path, layer=name) for name, _ in pyogrio.list_layers(path)}


@gis_group.command("import")
@click.argument("layers", type=click.Path(exists=True, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_path", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML file saying which field holds what (default: the layers of "
                   "`nrwkit gis export`).")
@click.option("--snap", "snap_m", type=NON_NEGATIVE, metavar="M",
              help="Snapping tolerance in metres (default: the mapping's, 0.5 m).")
@click.option("--findings", "findings_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every repair and finding, with its location, to this GeoPackage.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Also write a self-contained HTML report with a map of the repairs.")
@click.option("--year", "reference_year", type=click.IntRange(1800, 2200),
              help="Year the model represents, for ageing pipes in the roughness table.")
@click.option("--crs", metavar="CRS",
              help="CRS of layers that carry none, e.g. EPSG:32633 (overrides the mapping's crs).")
@overwrite_option
@json_option
@handle_errors
def import_command(
    layers: Path, out: Path, mapping_path: Path | None, snap_m: float | None,
    findings_path: Path | None, report_path: Path | None, reference_year: int | None,
    crs: str | None, overwrite: bool, as_json: bool,
) -> None:
    """Build the EPANET model OUT (.inp) from a utility's GIS LAYERS.

    LAYERS is a GeoPackage, a folder of Shapefiles/GeoJSON files, or one pipe file. Pipe
    ends within the snapping tolerance are joined, T-junctions split the main, valve and
    pump points on a pipe become valves and pumps, and every repair, and every node nrwkit
    creates, is reported. The model is solved once with EPANET: if EPANET refuses it, OUT
    is not written, the findings are (with --findings), and the exit code is 3.
    """
    from nrwkit.gis.mapping import default_mapping, load_mapping
    from nrwkit.network import write_inp

    refuse_output_on_input([out, findings_path, report_path], [layers, mapping_path])
    if out.suffix.lower() != ".inp":
        raise click.UsageError(f"{out}: the model is written as an EPANET file ending in .inp")
    check_writable(out, overwrite=overwrite)
    for extra in (findings_path, report_path):
        if extra is not None:
            check_writable(extra, overwrite=overwrite)
    if crs is not None:
        parse_crs(crs)
    if mapping_path is not None:
        mapping = load_mapping(mapping_path)
        if crs:
            mapping = mapping.model_copy(update={"crs": crs})
        mapping_dir = mapping_path.parent
    else:
        if layers.suffix.lower() != ".gpkg":
            raise click.UsageError(f"{layers}: without --mapping, LAYERS must be a GeoPackage "
                                   "written by `nrwkit gis export`; give a mapping file for "
                                   "other layers (docs/gis-teams.md)")
        mapping, mapping_dir = default_mapping(crs=crs), None
    result = nrwgis.build_network(layers, mapping, snap_m=snap_m, mapping_dir=mapping_dir,
                                  reference_year=reference_year)
    if result.refused is None:
        write_inp(result.wn, out, overwrite=overwrite)
    if findings_path is not None:
        nrwgis.write_findings(result.wn, result.findings, findings_path, crs=result.crs,
                              overwrite=overwrite)
    if report_path is not None and result.refused is None:
        from nrwkit.report import import_report

        import_report(result, layers=layers, mapping=mapping_path).write(report_path,
                                                                         overwrite=overwrite)
    _print_import(result, out, findings_path, as_json)
    result.raise_if_refused()  # exit 3: the model is no result (the findings say why and where)


def _print_import(result: nrwgis.ImportResult, out: Path, findings_path: Path | None,
                  as_json: bool) -> None:
    counts = result.wn.describe(level=1)
    written = result.refused is None
    if as_json:
        echo_json({"output": str(out) if written else None,
                   "crs": result.crs.to_string() if result.crs else None,
                   "network": counts, "findings": [f.to_dict() for f in result.findings],
                   **({} if written else {"refused": result.refused})})
        return
    nodes, links = counts["Nodes"], counts["Links"]
    elements = ", ".join([count(nodes["Junctions"], "junction"), count(nodes["Tanks"], "tank"),
                          count(nodes["Reservoirs"], "reservoir"), count(links["Pipes"], "pipe"),
                          count(links["Pumps"], "pump"), count(links["Valves"], "valve")])
    click.echo(f"wrote {out}: {elements}" if written else
               f"built, but not written ({out}): {elements}")
    if result.crs is not None:
        epsg = result.crs.to_epsg()
        click.echo(f"coordinates in {result.crs.name}" + (f" (EPSG:{epsg})" if epsg else ""))
    if result.findings:
        click.echo(f"\nRepairs and findings ({len(result.findings)}):")
        click.echo("\n".join(findings_lines(result.findings)))
    if findings_path is not None:
        click.echo(f"\nwrote {findings_path} (layer 'findings': open it in QGIS beside your layers)")


@gis_group.command("allocate-customers")
@network_argument
@click.argument("customers", type=click.Path(exists=True, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--layer", help="Layer of CUSTOMERS when it is a GeoPackage with several.")
@click.option("--id-field", help="Field with the customer id (default: row number).")
@click.option("--demand-field", help="Field with billed consumption (default: connections only).")
@click.option("--demand-unit", default="m3/year", show_default=True,
              type=click.Choice(["m3/year", "m3/month", "m3/day", "l/s", "m3/s", "m3/h", "gal/day"]),
              help="Unit of --demand-field.")
@click.option("--max-distance", "max_distance_m", default=50.0, show_default=True,
              type=NON_NEGATIVE,
              metavar="M", help="Customers farther from every pipe are reported, not allocated.")
@click.option("--add-demands", is_flag=True,
              help="Add the consumption to the existing demands instead of replacing them.")
@click.option("--table", "table_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the per-customer allocation as CSV.")
@crs_option
@overwrite_option
@json_option
@handle_errors
def allocate_command(
    network: str, customers: Path, out: Path, layer: str | None, id_field: str | None,
    demand_field: str | None, demand_unit: str, max_distance_m: float, add_demands: bool,
    table_path: Path | None, crs: str | None, overwrite: bool, as_json: bool,
) -> None:
    """Allocate CUSTOMERS (meter points) to NETWORK's junctions and write OUT (.inp).

    Each customer goes to the nearer end junction of its nearest pipe: its consumption
    becomes demand there and it counts as one service connection (stored in the junction's
    tag as connections=N).
    """
    import geopandas as gpd

    from nrwkit.errors import LayerError
    from nrwkit.network import write_inp
    from nrwkit.outputs import write_text

    refuse_output_on_input([out, table_path], [resolve(network), customers])
    check_writable(out, overwrite=overwrite)
    if table_path is not None:
        check_writable(table_path, overwrite=overwrite)
    wn = load(network)
    try:
        points = gpd.read_file(customers, layer=layer)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise LayerError(customers, f"cannot be read: {exc}", "check the file and --layer",
                         layer=layer) from exc
    result = nrwgis.allocate_customers(
        wn, points, crs=crs, id_field=id_field, demand_field=demand_field,
        demand_unit=demand_unit, max_distance_m=max_distance_m, replace_demands=not add_demands)
    write_inp(result.wn, out, overwrite=overwrite)
    if table_path is not None:
        write_text(table_path, result.customers.drop(columns="geometry").to_csv(),
                   overwrite=overwrite)
    allocated = int(result.customers["junction"].notna().sum())
    with_customers = int((result.junctions["connections"] > 0).sum())
    summary = {
        "output": str(out), "customers": len(result.customers), "allocated": allocated,
        "not_allocated": len(result.customers) - allocated,
        "junctions_with_customers": with_customers,
        "demand_m3_per_day": float(result.junctions["demand_m3s"].sum() * SECONDS_PER_DAY),
        "findings": [f.to_dict() for f in result.findings],
    }
    if as_json:
        echo_json(summary)
        return
    click.echo(f"wrote {out}: {allocated} of {count(len(result.customers), 'customer')} allocated "
               f"to {count(with_customers, 'junction')}, "
               f"{summary['demand_m3_per_day']:,.1f} m3/day")
    if result.findings:
        click.echo("\n".join(findings_lines(result.findings)))
