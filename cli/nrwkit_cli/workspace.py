"""``nrwkit init`` and ``nrwkit report``: the improvement track's shared folder."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from nrwkit.report import write_index
from nrwkit.workspace import init_workspace, open_workspace

from .options import crs_option, echo_json, handle_errors, json_option


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime.date | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date: write it as YYYY-MM-DD") from exc


@click.command("init")
@click.argument("workspace", type=click.Path(file_okay=False, path_type=Path))
@click.option("--network", required=True, metavar="NETWORK",
              help="A bundled network name or an .inp file; it is copied into the workspace.")
@crs_option
@click.option("--name", help="The improvement track's name.")
@click.option("--mentor", default="", help="The mentor utility.")
@click.option("--mentee", default="", help="The mentee utility.")
@click.option("--start", callback=_date, help="Start of the partnership (YYYY-MM-DD).")
@click.option("--end", callback=_date, help="End of the partnership (YYYY-MM-DD).")
@json_option
@handle_errors
def init_command(workspace: Path, network: str, crs: str | None, name: str | None, mentor: str,
                 mentee: str, start: datetime.date | None, end: datetime.date | None,
                 as_json: bool) -> None:
    """Create WORKSPACE, the improvement track's shared folder, for NETWORK.

    Analyses given the workspace instead of a network (e.g. `nrwkit inspect WORKSPACE`)
    write their outputs into WORKSPACE/outputs with dated names, never replacing earlier runs.
    """
    ws = init_workspace(workspace, network, name=name, crs=crs, start=start, end=end,
                        mentor=mentor, mentee=mentee)
    if as_json:
        echo_json({"workspace": str(ws.root), "name": ws.name, "network": str(ws.network),
                   "crs": ws.crs})
        return
    click.echo(f"created workspace {ws.root} for {ws.network.name} ({ws.name})")


@click.command("report")
@click.argument("workspace", type=click.Path(exists=True, file_okay=False, path_type=Path))
@json_option
@handle_errors
def report_command(workspace: Path, as_json: bool) -> None:
    """Build WORKSPACE/index.html, linking every report and output of the track."""
    ws = open_workspace(workspace)
    path = write_index(ws)
    if as_json:
        echo_json({"index": str(path), "reports": [str(p) for p, _ in ws.reports()]})
        return
    click.echo(str(path))
