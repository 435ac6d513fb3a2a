"""``nrwkit balance``: the IWA/AWWA water balance and its indicators."""

from __future__ import annotations

from pathlib import Path

import click

from nrwkit.balance import compute_balance, load_balance, monte_carlo
from nrwkit.outputs import check_writable

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
    """`nrwkit balance INPUT.yaml` computes; `nrwkit balance trend FILE...` compares."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["compute", *args]
        return super().parse_args(ctx, args)


@click.group("balance", cls=_BalanceGroup)
def balance_group() -> None:
    """The IWA/AWWA water balance: `nrwkit balance INPUT.yaml` computes one balance,
    `nrwkit balance trend FILE...` follows NRW %, real losses per connection and ILI over a
    partnership."""


@balance_group.command("compute")
@click.argument("input_path", metavar="INPUT.yaml", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Also write a self-contained HTML report.")
@click.option("--monte-carlo", "samples", type=click.IntRange(min=0), default=0, metavar="N",
              help="Also estimate the limits from N Monte Carlo draws (normal inputs).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the Monte Carlo draws.")
@overwrite_option
@handle_errors
def balance_command(input_path: Path, as_json: bool, report_path: Path | None, samples: int,
                    seed: int, overwrite: bool) -> None:
    """Compute the IWA/AWWA water balance of INPUT.yaml, its indicators and their limits."""
    refuse_output_on_input([report_path], [input_path])
    if report_path is not None:
        check_writable(report_path, overwrite=overwrite)
    result = compute_balance(load_balance(input_path))
    data = result.to_dict()
    if samples:
        data["monte_carlo"] = {"samples": samples, "seed": seed,
                               "results": monte_carlo(result.input, samples=samples, seed=seed)}
    if report_path is not None:
        from nrwkit.report.balance import balance_report

        balance_report(result, input_path=input_path).write(report_path, overwrite=overwrite)
    if as_json:
        echo_json(data)
        return
    if verbosity(click.get_current_context()) < 0:
        return
    unit = result.input.units.volume
    rows = [(k.replace("_", " "), f"{q.value:,.0f}", f"± {q.ci95:.1%}")
            for k, q in result.volumes.items()]
    click.echo(f"{result.input.utility or input_path.name}: {result.input.period_days:g} days, "
               f"volumes in {unit}\n")
    click.echo(format_table(rows, ["component", "volume", "95 % limit"]))
    rows = [(k.replace("_", " "), f"{q.value:,.3f}", f"± {q.ci95:.1%}")
            for k, q in result.indicators.items()]
    click.echo("\n" + format_table(rows, ["indicator", "value", "95 % limit"]))
    if result.bands:
        click.echo(f"\nWBI band: {result.bands['developed']} (developed), "
                   f"{result.bands['developing']} (developing)")
    top = list(result.variance_shares.items())[:3]
    click.echo("measure next: " + ", ".join(f"{k} ({s:.0%})" for k, s in top))
    for line in [*result.defaults_used, *result.warnings]:
        click.echo(f"note: {line}")


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
    from nrwkit.workspace import is_workspace

    refuse_output_on_input([report_path], list(inputs))
    if report_path is not None:
        check_writable(report_path, overwrite=overwrite)
    files: list[Path] = []
    for item in inputs:
        if item.is_dir() and is_workspace(item):
            files.extend(sorted((item / "balances").glob("*.y*ml")))
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
    rows = [(r.label, r.indicator, f"{r.value:,.2f}", f"{r.low:,.2f} to {r.high:,.2f}",
             "" if r.change_ci95 == 0 else f"{r.change:+,.2f} ± {r.change_ci95:,.2f}",
             "yes" if r.significant else "") for r in table.itertuples()]
    click.echo(format_table(rows, ["balance", "indicator", "value", "95 % range",
                                   "change from baseline", "significant"]))
