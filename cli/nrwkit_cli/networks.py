"""``nrwkit networks``: the bundled benchmark networks."""

from __future__ import annotations

import click

from nrwkit import networks as bundled

from .options import echo_json, format_table, handle_errors, json_option


@click.command("networks")
@json_option
@handle_errors
def networks_command(as_json: bool) -> None:
    """List the bundled networks that NETWORK arguments accept by name."""
    table = bundled.available()
    if as_json:
        echo_json([{"name": name, **row} for name, row in table.to_dict("index").items()])
        return
    rows = [(name, r["file"], r["aliases"], r["title"]) for name, r in table.iterrows()]
    click.echo(format_table(rows, ["name", "file", "aliases", "what it is"]))
