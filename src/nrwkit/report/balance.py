"""The water balance report: the IWA table drawn to scale, indicators with limits, the band."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from ..balance.compute import BalanceResult
from .html import Card, Report, figure_svg, table_html

__all__ = ["balance_figure", "balance_report", "trend_report"]

_LABELS = {
    "system_input": "System input volume", "water_supplied": "Water supplied",
    "authorized_consumption": "Authorized consumption", "water_losses": "Water losses",
    "billed_authorized": "Billed authorized", "unbilled_authorized": "Unbilled authorized",
    "apparent_losses": "Apparent losses", "real_losses": "Real losses",
    "revenue_water": "Revenue water", "non_revenue_water": "Non-revenue water",
    "unauthorized_consumption": "Unauthorized consumption",
    "customer_metering_inaccuracies": "Customer metering inaccuracies",
    "data_handling_errors": "Systematic data handling errors",
}


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
    unit = result.input.units.volume
    for c, blocks in enumerate(columns):
        top = total
        for key, value, colour in blocks:
            if value <= 0:
                continue
            height = value / total
            ax.add_patch(Rectangle((c, top / total - height), 0.96, height, facecolor=colour,
                                   edgecolor="white", linewidth=1.5))
            label = _LABELS.get(key, "Water exported")
            ci = result.volumes[key].ci95 if key in result.volumes else 0.0
            text = f"{label}\n{value:,.0f} {unit}" + (f" ± {ci:.0%}" if ci else "")
            if height > 0.045:
                ax.text(c + 0.48, top / total - height / 2, text, ha="center", va="center",
                        color="white", fontsize=8.5 if height > 0.08 else 7)
            top -= value
    ax.set_xlim(0, len(columns))
    ax.set_ylim(0, 1)
    ax.axis("off")
    return fig


def balance_report(result: BalanceResult, *, input_path: str | Path | None = None,
                   kicker: str = "IWA/AWWA water balance") -> Report:
    """Build the HTML report of a water balance."""
    bal = result.input
    units = bal.units
    ind = result.indicators
    small = "l" if units.metric else "gal"
    title = f"Water balance: {bal.utility or 'utility'}" + (f", {bal.year}" if bal.year else "")
    report = Report(title=title, kicker=kicker,
                    subtitle=f"{bal.period_days:g} days, volumes in {units.volume}, 95 % "
                             "confidence limits propagated from every input")
    if input_path is not None:
        report.add_input("Balance input", input_path)
    nrw = result.volumes["non_revenue_water"]
    cards = [Card("NRW, % of system input",
                  f"{ind['nrw_percent_of_system_input'].value:.1f} ± "
                  f"{1.96 * ind['nrw_percent_of_system_input'].sd:.1f}"),
             Card(f"non-revenue water, {units.volume}", f"{nrw.value:,.0f}")]
    if "ili" in ind:
        cards += [Card("ILI", f"{ind['ili'].value:.2f} ± {1.96 * ind['ili'].sd:.2f}",
                       "error" if result.bands["developed"] in "CD" else ""),
                  Card("WBI band (developed / developing)",
                       f"{result.bands['developed']} / {result.bands['developing']}"),
                  Card(f"real losses, {small}/connection/day",
                       f"{ind['real_losses_per_connection_per_day'].value:,.0f}")]
    report.cards = cards
    report.add_section("The balance", figure_svg(balance_figure(result), caption=(
        "The IWA/AWWA water balance; each block's height is to scale. Real losses are the "
        "residual of the balance.")))
    rows = [(_LABELS[k], q.value, f"± {q.ci95:.1%}", q.low, q.high)
            for k, q in result.volumes.items()]
    table = pd.DataFrame(rows, columns=["component", f"volume ({units.volume})", "95 % limit",
                                        "low", "high"])
    report.add_section("Volumes", table_html(table, numeric_format="{:,.0f}"))
    names = {
        "nrw_percent_of_system_input": "NRW, % of system input (IWA)",
        "nrw_percent_of_water_supplied": "NRW, % of water supplied (AWWA)",
        "nrw_percent_by_cost": "NRW, % of annual operating cost",
        "real_losses_per_connection_per_day": f"Real losses, {small}/connection/day",
        "real_losses_per_km_per_day": ("Real losses, m3/km of mains/day" if units.metric
                                       else "Real losses, gal/mile of mains/day"),
        "real_losses_per_connection_per_day_per_pressure":
            f"Real losses, {small}/connection/day per {units.pressure} of pressure",
        "apparent_losses_per_connection_per_day": f"Apparent losses, {small}/connection/day",
        "carl": f"CARL, {units.volume} for the period",
        "uarl": f"UARL, {units.volume} for the period",
        "ili": "Infrastructure Leakage Index (ILI)",
    }
    rows = [(names[k], q.value, f"± {q.ci95:.1%}", q.low, q.high)
            for k, q in ind.items() if k in names]
    report.add_section("Performance indicators", table_html(pd.DataFrame(
        rows, columns=["indicator", "value", "95 % limit", "low", "high"])),
        lead="First-order propagation of the inputs' 95 % limits (see docs/analysts.md).")
    shares = pd.DataFrame([(k, s * 100) for k, s in result.variance_shares.items()],
                          columns=["input", "share of the variance of real losses (%)"])
    report.add_section("What to measure next", table_html(shares, numeric_format="{:,.1f}"),
                       lead="Inputs ranked by their share of the uncertainty of real losses: "
                            "better data on the first ones narrows the real losses most.")
    if result.bottom_up is not None:
        b = result.bottom_up
        top_down = result.top_down_m3_per_day()
        night: list[tuple[str, float]] = [
                ("minimum night flow (m3/h)", bal.night_flow.mnf_m3h if bal.night_flow else 0.0),
                ("legitimate night use (m3/h)", b.legitimate_night_use_m3h),
                ("net night flow (m3/h)", b.net_night_flow_m3h),
                ("night-day factor (h/day)", b.ndf_h),
                ("real losses, bottom-up (m3/day)", b.real_losses_m3_per_day),
                ("real losses, top-down balance (m3/day)", top_down),
                ("of which background leakage, BABE (m3/day)", b.background_m3_per_day),
                ("bursts and detectable leaks (m3/day)", b.bursts_and_detectable_m3_per_day)]
        report.add_section("Bottom-up check", table_html(pd.DataFrame(night, columns=["", "value"])),
                           lead="Real losses from the minimum night flow (FAVAD night-day factor, "
                                "BABE background leakage) beside the balance's residual. A large "
                                "gap points at an error in the balance's volumes or the night data.")
    notes = [*[f"Default: {d}" for d in result.defaults_used], *result.warnings]
    if notes:
        report.add_section("Defaults and warnings", "<ul>" + "".join(
            f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    return report


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
        report.cards.append(Card(f"{row['indicator']} ({arrow} {abs(row['change']):,.2f})",
                                 f"{row['value']:,.2f}",
                                 "ok" if row["significant"] and row["change"] < 0 else ""))
    report.add_section("Trend", figure_svg(trend_figure(table), caption=(
        "Each point with its 95 % confidence limits; the first balance is the baseline.")))
    shown = table.assign(significant=table["significant"].map({True: "yes", False: "no"}))
    report.add_section("Table", table_html(shown))
    return report
