"""The water balance report: the IWA table drawn to scale, indicators with limits, the band."""

from __future__ import annotations

import html
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd

from ..balance.compute import BalanceResult
from ..balance.labels import Figure, input_name
from ..balance.night_flow import NightFlowResult
from .html import Card, Report, figure_svg, findings_html, table_html

__all__ = ["balance_figure", "balance_report", "trend_report"]

_EXPORTED = "Water exported"


def balance_figure(result: BalanceResult):
    """Return the IWA balance as a matplotlib figure, each block's height to scale."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    v = {k: q.value for k, q in result.volumes.items()}
    exported = v["system_input"] - v["water_supplied"]
    columns = [
        [("system_input", v["system_input"], "#0b4f6c")],
        [("water_supplied", v["water_supplied"], "#1b7fa6"), ("exported", exported, "#95a5a6")],
        [("authorized_consumption", v["authorized_consumption"], "#2e86c1"),
         ("water_losses", v["water_losses"], "#c0392b")],
        [("billed_authorized", v["billed_authorized"], "#27ae60"),
         ("unbilled_authorized", v["unbilled_authorized"], "#d68910"),
         ("apparent_losses", v["apparent_losses"], "#e67e22"),
         ("real_losses", v["real_losses"], "#a93226")],
        [("revenue_water", v["revenue_water"], "#1e8449"),
         ("non_revenue_water", v["non_revenue_water"], "#922b21")],
    ]
    total = max(v["system_input"], 1e-9)
    fig, ax = plt.subplots(figsize=(11, 5.2))
    figures = {f.key: f for f in result.figures()}
    unit = figures["system_input"].label.unit
    for c, blocks in enumerate(columns):
        top = total
        for key, value, colour in blocks:
            if value <= 0:
                continue
            height = value / total
            ax.add_patch(Rectangle((c, top / total - height), 0.96, height, facecolor=colour,
                                   edgecolor="white", linewidth=1.5))
            f = figures.get(key)
            if f is None:
                text = f"{_EXPORTED}\n{value:,.0f} {unit}"
            else:  # the name wrapped to the block's width, then the value, unit and limit
                text = "\n".join([*textwrap.wrap(f.label.name, 20), f"{f.value_text()} {unit}"]) + (
                    f"\n{f.limit_text()}" if f.ci95_percent else "")
            if height > 0.045:
                ax.text(c + 0.48, top / total - height / 2, text, ha="center", va="center",
                        color="white", fontsize=8.5 if height > 0.08 else 7)
            top -= value
    ax.set_xlim(0, len(columns))
    ax.set_ylim(0, 1)
    ax.axis("off")
    return fig


def _figure_frame(figures: list[Figure], first: str, mc: dict[str, Any] | None, *,
                  with_unit: bool) -> pd.DataFrame:
    """Tabulate figures as the CLI does: name, (unit,) value, 95 % range, ± 95 % (, Monte Carlo)."""
    rows = []
    for f in figures:
        row = [f.label.name, *([f.label.unit] if with_unit else []), f.value_text(), f.range_text(),
               f.limit_text()]
        if mc is not None:
            d, r = f.label.decimals, mc["results"].get(f.key)
            row.append("" if r is None else f"{r['low']:,.{d}f} to {r['high']:,.{d}f}")
        rows.append(row)
    columns = [first, *(["unit"] if with_unit else []), "value", "95 % range", "± 95 %",
               *(["Monte Carlo 95 % range"] if mc is not None else [])]
    return pd.DataFrame(rows, columns=columns)


def _cards(result: BalanceResult, figures: dict[str, Figure]) -> list[Card]:
    """Return the key figures, each with its name, unit and 95 % range."""
    def card(key: str, kind: str = "") -> Card:
        f = figures[key]
        return Card(f.label.title, f.value_text(), kind,
                    detail=f"95 % range {f.range_text()} ({f.limit_text()})")

    cards = [card("nrw_percent_of_system_input"), card("non_revenue_water")]
    if "ili" in figures:
        cards += [card("ili", "error" if result.bands["developed"] in "CD" else ""),
                  Card("World Bank Institute band (developed / developing)",
                       f"{result.bands['developed']} / {result.bands['developing']}"),
                  card("real_losses_per_connection_per_day")]
    return cards


def balance_report(result: BalanceResult, *, input_path: str | Path | None = None,
                   kicker: str = "IWA/AWWA water balance",
                   monte_carlo: dict[str, Any] | None = None) -> Report:
    """Build the HTML report of a water balance.

    Parameters
    ----------
    result : BalanceResult
        The balance.
    input_path : str or Path, optional
        The balance file, named in the header with its checksum.
    kicker : str
        The line above the title.
    monte_carlo : dict, optional
        ``{"samples", "seed", "results"}`` as in ``nrwkit balance --json`` (results from
        :func:`nrwkit.balance.monte_carlo`): adds the Monte Carlo 95 % range beside each figure.

    Returns
    -------
    Report
        Every figure with its name, unit, value, 95 % range and relative limit, as
        ``nrwkit balance`` prints them.
    """
    bal = result.input
    figures = result.figures()
    by_key = {f.key: f for f in figures}
    volume_unit = by_key["system_input"].label.unit
    title = f"Water balance: {bal.utility or 'utility'}" + (f", {bal.year}" if bal.year else "")
    report = Report(title=title, kicker=kicker,
                    subtitle=f"{bal.period_days:g} days, volumes in {volume_unit}; 95 % confidence "
                             "limits propagated from every input, as a range and as ± % of the value")
    if input_path is not None:
        report.add_input("Balance input", input_path)
    if monte_carlo is not None:
        report.options = {"Monte Carlo draws": f"{monte_carlo['samples']:,}", "seed": monte_carlo["seed"]}
    report.cards = _cards(result, by_key)
    report.add_section("The balance", figure_svg(balance_figure(result), caption=(
        "The IWA/AWWA water balance; each block's height is to scale. Real losses are the "
        "residual of the balance.")))
    volumes = [f for f in figures if f.key in result.volumes]
    indicators = [f for f in figures if f.key not in result.volumes]
    figures_text = ("value", "95 % range", "± 95 %", "Monte Carlo 95 % range")
    report.add_section("Volumes", table_html(_figure_frame(volumes, f"volume ({volume_unit})", monte_carlo,
                                                           with_unit=False), nowrap_columns=figures_text))
    report.add_section("Performance indicators", table_html(_figure_frame(
        indicators, "indicator", monte_carlo, with_unit=True), nowrap_columns=figures_text),
        lead="First-order propagation of the inputs' 95 % limits (see docs/analysts.md)."
             + (" WBI band (developed / developing): "
                f"{result.bands['developed']} / {result.bands['developing']}." if result.bands else ""))
    shares = pd.DataFrame([(input_name(k), s * 100) for k, s in result.variance_shares.items()],
                          columns=["input", "share of the variance of real losses (%)"])
    report.add_section("What to measure next", table_html(shares, numeric_format="{:,.1f}"),
                       lead="Inputs ranked by their share of the uncertainty of real losses: "
                            "better data on the first ones narrows the real losses most.")
    if result.bottom_up is not None:
        report.add_section("Bottom-up check", _bottom_up(result, result.bottom_up),
                           lead="Real losses from the minimum night flow (FAVAD night-day factor, "
                                "BABE background leakage) beside the balance's residual. A large "
                                "gap points at an error in the balance's volumes or the night data.")
    if result.defaults_used:
        report.add_section("Defaults", "<ul>" + "".join(
            f"<li>{html.escape(d)}</li>" for d in result.defaults_used) + "</ul>",
            lead="Components the input did not give, filled with the AWWA default.")
    if result.warnings:
        report.add_section("Warnings", findings_html(result.warnings))
    return report


def _bottom_up(result: BalanceResult, b: NightFlowResult) -> str:
    """Return the bottom-up check's table."""
    night_input = result.input.night_flow
    night: list[tuple[str, str, float]] = [
        ("Minimum night flow", "m3/h", night_input.mnf_m3h if night_input else 0.0),
        ("Legitimate night use", "m3/h", b.legitimate_night_use_m3h),
        ("Net night flow", "m3/h", b.net_night_flow_m3h),
        ("Night-day factor", "h/day", b.ndf_h),
        ("Real losses, bottom-up", "m3/day", b.real_losses_m3_per_day),
        ("Real losses, top-down balance", "m3/day", result.top_down_m3_per_day()),
        ("of which background leakage (BABE)", "m3/day", b.background_m3_per_day),
        ("Bursts and detectable leaks", "m3/day", b.bursts_and_detectable_m3_per_day)]
    return table_html(pd.DataFrame(night, columns=["figure", "unit", "value"]))


def trend_report(results: list, *, inputs: list | None = None,
                 kicker: str = "Progress over the partnership") -> Report:
    """Build the HTML report of the trend of several balances (the first is the baseline)."""
    from ..balance.trend import trend_figure, trend_table

    table = trend_table(results)
    first, last = results[0].input, results[-1].input
    span = " to ".join(str(x.year) for x in (first, last) if x.year) or f"{len(results)} balances"
    report = Report(title=f"NRW progress: {first.utility or 'utility'}, {span}", kicker=kicker,
                    subtitle="Changes from the baseline with 95 % limits; a change larger than "
                             "its limit is significant")
    for path in inputs or []:
        report.add_input("Balance", path)
    latest = table[table["label"] == table["label"].iloc[-1]]
    for _, row in latest.iterrows():
        arrow = "down" if row["change"] < 0 else "up"
        report.cards.append(Card(f"{row['indicator']}, {row['unit']} ({arrow} {abs(row['change']):,.2f})",
                                 f"{row['value']:,.2f}",
                                 "ok" if row["significant"] and row["change"] < 0 else ""))
    report.add_section("Trend", figure_svg(trend_figure(table), caption=(
        "Each point with its 95 % confidence limits; the first balance is the baseline.")))
    shown = table.assign(significant=table["significant"].map({True: "yes", False: "no"}))
    report.add_section("Table", table_html(shown))
    return report
