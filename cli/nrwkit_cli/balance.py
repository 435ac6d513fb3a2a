"""``nrwkit balance``: the IWA/AWWA water balance and its indicators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from nrwkit.balance import BalanceResult, compute_balance, load_balance, monte_carlo
from nrwkit.balance.labels import Figure, input_name
from nrwkit.outputs import check_writable, write_json
from nrwkit.workspace import Workspace, is_workspace, keep_balance, open_workspace, save_run

from .options import (
    echo_json,
    format_table,
    handle_errors,
    json_option,
    overwrite_option,
    refuse_output_on_input,
    verbosity,
)


class _BalanceGroup(click.Group):
    """`nrwkit balance INPUT.yaml` computes; `nrwkit balance trend FILE...` compares.

    The compute command is the default, so the group's help shows its usage and options
    (every option of `nrwkit balance INPUT.yaml` is in `nrwkit balance --help`).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["compute", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] INPUT.yaml")
        formatter.write_usage(ctx.command_path, "trend [OPTIONS] FILE...", prefix="   or: ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        compute = self.commands["compute"]
        with click.Context(compute, info_name="compute", parent=ctx) as sub:
            compute.format_options(sub, formatter)
        self.format_commands(ctx, formatter)


@click.group("balance", cls=_BalanceGroup)
def balance_group() -> None:
    """The IWA/AWWA water balance: `nrwkit balance INPUT.yaml` computes one balance (the
    options below), `nrwkit balance trend FILE...` follows NRW %, real losses per connection
    and ILI over a partnership (`nrwkit balance trend --help`).

    Every figure is shown with its name, its unit and its 95 % confidence limits: the range
    (lower and upper bound, in the figure's unit) and the limit relative to the value (± %).
    """


@balance_group.command("compute")
@click.argument("input_path", metavar="INPUT.yaml", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Also write a self-contained HTML report.")
@click.option("--monte-carlo", "samples", type=click.IntRange(min=0), default=0, metavar="N",
              help="Also estimate the 95 % ranges from N Monte Carlo draws (normal inputs), "
                   "shown beside the first-order ones.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the Monte Carlo draws.")
@click.option("--out", "workspace_path", type=click.Path(file_okay=False, path_type=Path),
              metavar="WORKSPACE",
              help="Also save the run in WORKSPACE: a dated HTML report and JSON in outputs/, an entry "
                   "in runs.json, and a copy of INPUT.yaml in balances/ for `nrwkit balance trend "
                   "WORKSPACE`.")
@overwrite_option
@handle_errors
def balance_command(input_path: Path, as_json: bool, report_path: Path | None, samples: int,
                    seed: int, workspace_path: Path | None, overwrite: bool) -> None:
    """Compute the IWA/AWWA water balance of INPUT.yaml, its indicators and their limits."""
    refuse_output_on_input([report_path], [input_path])
    if report_path is not None:
        check_writable(report_path, overwrite=overwrite)
    workspace = open_workspace(workspace_path) if workspace_path is not None else None
    result = compute_balance(load_balance(input_path))
    if workspace is not None:
        kept = workspace.balances / input_path.name
        if kept.is_file() and kept.resolve() != input_path.resolve() \
                and kept.read_bytes() != input_path.read_bytes():
            check_writable(kept, overwrite=overwrite)  # a different balance of that name: refuse now
    data = result.to_dict()
    mc = None
    if samples:
        mc = monte_carlo(result.input, samples=samples, seed=seed)
        data["monte_carlo"] = {"samples": samples, "seed": seed, "results": mc}
    saved: list[Path] = []
    if report_path is not None or workspace is not None:
        from nrwkit.report.balance import balance_report

        report = balance_report(result, input_path=input_path, monte_carlo=data.get("monte_carlo"))
        if report_path is not None:
            saved.append(report.write(report_path, overwrite=overwrite))
        if workspace is not None:
            saved += _save_in_workspace(workspace, input_path, report, data, overwrite=overwrite)
    if as_json:
        echo_json(data)
        return
    if verbosity(click.get_current_context()) < 0:
        return
    click.echo("\n".join(_text(result, input_path, mc, samples, seed)))
    for path in saved:
        click.echo(f"wrote {path}")


def _save_in_workspace(workspace: Workspace, input_path: Path, report: Any, data: dict[str, Any], *,
                       overwrite: bool) -> list[Path]:
    """Save a balance run in a workspace and keep its input for the trend; return the files written."""
    title = f"Water balance: {input_path.stem}"
    saved = save_run(workspace, "balance", {".html": report.write, ".json": lambda p: write_json(p, data)},
                     title=title)
    kept, written = keep_balance(workspace, input_path, overwrite=overwrite)
    return [*saved, *([kept] if written else [])]


def _figure_table(figures: list[Figure], first: str, mc: dict[str, dict[str, float]] | None,
                  *, with_unit: bool) -> str:
    """Return a table of figures: name, (unit,) value, 95 % range, relative limit (, Monte Carlo)."""
    headers = [first, *(["unit"] if with_unit else []), "value", "95 % range", "± 95 %",
               *(["Monte Carlo 95 % range"] if mc else [])]
    rows = []
    for f in figures:
        row = [f.label.name, *([f.label.unit] if with_unit else []), f.value_text(), f.range_text(),
               f.limit_text()]
        if mc:
            d = f.label.decimals
            row.append(f"{mc[f.key]['low']:,.{d}f} to {mc[f.key]['high']:,.{d}f}" if f.key in mc else "")
        rows.append(row)
    return format_table(rows, headers)


def _text(result: BalanceResult, input_path: Path, mc: dict[str, dict[str, float]] | None,
          samples: int, seed: int) -> list[str]:
    """Return the terminal report of a balance (the same names, units and limits as the HTML)."""
    figures = result.figures()
    volumes = [f for f in figures if f.key in result.volumes]
    indicators = [f for f in figures if f.key not in result.volumes]
    unit = volumes[0].label.unit
    lines = [f"{result.input.utility or input_path.name}: {result.input.period_days:g} days, "
             f"volumes in {unit}; 95 % confidence limits as a range and as ± % of the value"
             + (f"; Monte Carlo from {samples:,} draws, seed {seed}" if mc else ""), "",
             _figure_table(volumes, f"volume ({unit})", mc, with_unit=False), "",
             _figure_table(indicators, "indicator", mc, with_unit=True)]
    if result.bands:
        lines += ["", f"World Bank Institute band (from ILI): {result.bands['developed']} (developed), "
                  f"{result.bands['developing']} (developing)"]
    top = list(result.variance_shares.items())[:3]
    lines.append("measure next: " + ", ".join(f"{input_name(k)} ({s:.0%} of the variance of real "
                                              "losses)" if i == 0 else f"{input_name(k)} ({s:.0%})"
                                              for i, (k, s) in enumerate(top)))
    lines += [f"default: {d}" for d in result.defaults_used]
    lines += [f"{w.severity.value}: {w.code}: {w}" for w in result.warnings]
    return lines


@balance_group.command("trend")
@click.argument("inputs", metavar="FILE...", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@json_option
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Also write a self-contained HTML report with the chart.")
@overwrite_option
@handle_errors
def trend_command(inputs: tuple[Path, ...], as_json: bool, report_path: Path | None,
                  overwrite: bool) -> None:
    """Compare balances over a partnership: the first FILE is the baseline.

    FILE may be balance YAML files, or a workspace whose balances/ folder holds them (read in
    name order).
    """
    from nrwkit.balance import trend_table

    refuse_output_on_input([report_path], list(inputs))
    if report_path is not None:
        check_writable(report_path, overwrite=overwrite)
    files: list[Path] = []
    for item in inputs:
        if item.is_dir() and is_workspace(item):
            files.extend(open_workspace(item).balance_files())
        else:
            files.append(item)
    if not files:
        raise click.UsageError("no balance files found (a workspace keeps them in balances/)")
    results = [compute_balance(load_balance(f)) for f in files]
    table = trend_table(results)
    if report_path is not None:
        from nrwkit.report.balance import trend_report

        trend_report(results, inputs=files).write(report_path, overwrite=overwrite)
    if as_json:
        echo_json({"balances": [str(f) for f in files], "trend": table.to_dict("records")})
        return
    rows = [(r.label, r.indicator, r.unit, f"{r.value:,.2f}", f"{r.low:,.2f} to {r.high:,.2f}",
             "" if r.change_ci95 == 0 else f"{r.change:+,.2f} ± {r.change_ci95:,.2f}",
             "yes" if r.significant else "") for r in table.itertuples()]
    click.echo(format_table(rows, ["balance", "indicator", "unit", "value", "95 % range",
                                   "change from baseline (± 95 %)", "significant"]))
