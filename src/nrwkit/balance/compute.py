"""The IWA/AWWA water balance, its performance indicators and their uncertainty.

Every result is a function of a flat set of independent inputs (each source, each
consumption component, the customer metering inaccuracies, the network data), each with a
95 % confidence limit. :func:`compute_balance` evaluates the results at the inputs and
propagates the variances to first order through the exact gradient (central differences of
:func:`evaluate`), which for the volumes is the sum of the inputs' variances and for ratios
(NRW %, ILI) the usual sum of relative variances, with correlations through shared inputs
taken into account. :func:`monte_carlo` samples the same inputs (normal, seeded) instead.

Formulas and sources are in docs/analysts.md: IWA Water Loss Task Force (Alegre et al.,
*Performance Indicators for Water Supply Services*), AWWA M36 and the AWWA Free Water Audit
Software, Lambert et al. (1999) for the UARL, Liemberger, Kingdom & Marin (2006) for the
World Bank Institute bands, and *Water Loss Control* (Thornton, Sturm & Kunkel) ch. 10 for
the variance analysis.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..findings import Finding, Severity, warning
from ..units import (
    LITRES_PER_M3,
    M3_PER_US_GALLON,
    M_HEAD_PER_PSI,
    METRES_PER_KM,
    METRES_PER_MILE,
    VOLUME_TO_M3,
)
from .labels import INDICATOR_ORDER, Figure, figure_labels
from .night_flow import NightFlowResult, night_flow
from .schema import BalanceInput, Measured, NetworkData

__all__ = [
    "AWWA_DEFAULTS",
    "BalanceResult",
    "Quantity",
    "compute_balance",
    "evaluate",
    "monte_carlo",
    "wbi_band",
]

#: AWWA defaults when a utility has no data: fraction of the base, and the 95 % limit used.
AWWA_DEFAULTS = {
    "unauthorized": ("water_supplied", 0.0025, 0.5),
    "unbilled_unmetered": ("water_supplied", 0.0125, 0.5),
    "data_handling_errors": ("billed_metered", 0.0025, 0.5),
}
#: Cubic metres in one unit of each volume unit of a balance (US gallon = 3.785411784 l exactly).
M3_PER_UNIT = {unit: VOLUME_TO_M3[unit] for unit in ("m3", "ML", "MG", "acre-ft")}
#: Litres (metric) or US gallons in one unit of each volume unit.
SMALL_UNITS = {"m3": LITRES_PER_M3, "ML": VOLUME_TO_M3["ML"] * LITRES_PER_M3,
               "MG": VOLUME_TO_M3["MG"] / M3_PER_US_GALLON,
               "acre-ft": VOLUME_TO_M3["acre-ft"] / M3_PER_US_GALLON}
#: WBI bands: upper ILI bounds of A, B, C (D above), for developed and developing countries.
WBI_BOUNDS = {"developed": (2.0, 4.0, 8.0), "developing": (4.0, 8.0, 16.0)}
Z95 = 1.959963984540054

VOLUMES = ("system_input", "water_supplied", "billed_authorized", "unbilled_authorized",
           "authorized_consumption", "water_losses", "unauthorized_consumption",
           "customer_metering_inaccuracies", "data_handling_errors", "apparent_losses",
           "real_losses", "revenue_water", "non_revenue_water")


@dataclass(frozen=True)
class Quantity:
    """A result with its first-order uncertainty."""

    value: float
    variance: float

    @property
    def sd(self) -> float:
        """Return the standard deviation."""
        return float(np.sqrt(max(self.variance, 0.0)))

    @property
    def ci95(self) -> float:
        """Return the 95 % confidence limit as a fraction of the value (0 for a value of 0)."""
        return Z95 * self.sd / abs(self.value) if self.value else 0.0

    @property
    def low(self) -> float:
        """Return the value minus its 95 % limit."""
        return self.value - Z95 * self.sd

    @property
    def high(self) -> float:
        """Return the value plus its 95 % limit."""
        return self.value + Z95 * self.sd


@dataclass
class BalanceResult:
    """A computed water balance.

    Attributes
    ----------
    input : BalanceInput
        What it was computed from.
    volumes : dict of str to Quantity
        The IWA tree in the input's volume unit for the period (keys :data:`VOLUMES`).
    indicators : dict of str to Quantity
        Performance indicators (see :func:`evaluate`); bands separately.
    bands : dict of str to str
        World Bank Institute band for developed and developing countries.
    inputs : dict of str to tuple
        The independent inputs: name -> (value, standard deviation).
    variance_shares : dict of str to float
        Share of each input in the variance of real losses (sums to 1), largest first.
    defaults_used : list of str
        Components filled with the AWWA default.
    warnings : list of Finding
        Applicability and data warnings, each with a stable code (``balance-...``) and a fix.
    bottom_up : NightFlowResult, optional
        The bottom-up check from the night flow, when the input has a ``night_flow`` section.
    """

    input: BalanceInput
    volumes: dict[str, Quantity]
    indicators: dict[str, Quantity]
    bands: dict[str, str]
    inputs: dict[str, tuple[float, float]]
    variance_shares: dict[str, float]
    defaults_used: list[str] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    bottom_up: NightFlowResult | None = None

    def top_down_m3_per_day(self) -> float:
        """Return the balance's real losses per day in m3 (for the bottom-up comparison)."""
        return self.volumes["real_losses"].value * M3_PER_UNIT[self.input.units.volume] / \
            self.input.period_days

    def figures(self) -> list[Figure]:
        """Return every volume and indicator with its name, unit and 95 % limits.

        Volumes come first, in the IWA table's order, then the indicators the balance has
        (see :func:`nrwkit.balance.labels.figure_labels`). The CLI table, the JSON
        (``figures``) and the HTML report all show these.
        """
        labels = figure_labels(self.input.units, self.input.period_days)
        quantities = {**self.volumes, **self.indicators}
        keys = [*self.volumes, *(k for k in INDICATOR_ORDER if k in self.indicators),
                *(k for k in self.indicators if k not in INDICATOR_ORDER)]
        return [Figure(labels[k], q.value, q.low, q.high, 100.0 * q.ci95)
                for k in keys if k in labels for q in (quantities[k],)]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of ``nrwkit balance --json``.

        ``volumes``, ``indicators``, ``ci95`` (relative, a fraction) and ``low_high`` keep their
        keys; ``figures`` gives each figure's name and unit beside its value, absolute 95 %
        bounds and relative limit in percent, as the terminal table and the report show them.
        ``warnings`` are findings (``code``, ``message``, ``fix``).
        """
        units = self.input.units
        small = "litres" if units.metric else "gallons"
        return {
            "utility": self.input.utility, "year": self.input.year,
            "period_days": self.input.period_days,
            "volumes": {k: q.value for k, q in self.volumes.items()},
            "ci95": {k: q.ci95 for k, q in self.volumes.items()},
            "low_high": {k: [q.low, q.high] for k, q in {**self.volumes, **self.indicators}.items()},
            "indicators": {**{k: q.value for k, q in self.indicators.items()},
                           "wbi_band_developed": self.bands.get("developed"),
                           "wbi_band_developing": self.bands.get("developing")},
            "indicators_ci95": {k: q.ci95 for k, q in self.indicators.items()},
            "variance_shares_real_losses": self.variance_shares,
            "units": {"volume": units.volume, "length": units.length, "pressure": units.pressure,
                      "per_connection": f"{small} per connection per day",
                      "per_length": ("m3 per km per day" if units.metric
                                     else "gallons per mile per day"),
                      "uarl_carl": f"{units.volume} per period"},
            "figures": {f.key: f.to_dict() for f in self.figures()},
            "defaults_used": list(self.defaults_used),
            "warnings": [w.to_dict() for w in self.warnings],
            "bottom_up": None if self.bottom_up is None else {
                **asdict(self.bottom_up),
                "top_down_real_losses_m3_per_day": self.top_down_m3_per_day()},
        }


def wbi_band(ili: float, *, developing: bool) -> str:
    """Return the World Bank Institute band (A-D) of an ILI.

    Examples
    --------
    >>> wbi_band(3.6, developing=False), wbi_band(3.6, developing=True)
    ('B', 'A')
    """
    bounds = WBI_BOUNDS["developing" if developing else "developed"]
    for band, bound in zip("ABC", bounds, strict=True):
        if ili < bound:
            return band
    return "D"


def _measured(m: Measured) -> tuple[float, float]:
    return m.total, m.total * m.ci95 / Z95


def independent_inputs(bal: BalanceInput) -> tuple[dict[str, tuple[float, float]], list[str]]:
    """Return the independent inputs (name -> (value, sd)) and the defaults used."""
    x: dict[str, tuple[float, float]] = {}
    for kind, sources in (("own", bal.system_input.own_sources), ("imported", bal.system_input.imported),
                          ("exported", bal.system_input.exported)):
        for s in sources:
            value = s.corrected  # every meter may carry a known error
            x[f"{kind}:{s.name}"] = (value, value * s.ci95 / Z95)
    siv = sum(v for k, (v, _) in x.items() if not k.startswith("exported:"))
    supplied = siv - sum(v for k, (v, _) in x.items() if k.startswith("exported:"))
    x["billed_metered"] = _measured(bal.billed_metered)
    x["billed_unmetered"] = _measured(bal.billed_unmetered)
    x["unbilled_metered"] = _measured(bal.unbilled_metered)
    defaults = []
    bases = {"water_supplied": supplied, "billed_metered": x["billed_metered"][0]}
    for key in ("unbilled_unmetered", "unauthorized", "data_handling_errors"):
        given = getattr(bal, key)
        if given is not None:
            x[key] = _measured(given)
        else:
            base, fraction, ci = AWWA_DEFAULTS[key]
            value = bases[base] * fraction
            x[key] = (value, value * ci / Z95)
            defaults.append(f"{key}: {fraction:.2%} of {base.replace('_', ' ')} (AWWA default)")
    e = bal.customer_meter_under_registration
    cmi = (x["billed_metered"][0] + x["unbilled_metered"][0]) * e.fraction / (1.0 - e.fraction)
    x["customer_metering_inaccuracies"] = (cmi, cmi * e.ci95 / Z95)
    if bal.network is not None:
        n = bal.network
        for key in ("mains_length", "connections", "private_pipe_length", "average_pressure"):
            value = getattr(n, key)
            x[f"network:{key}"] = (value, value * getattr(n, f"{key}_ci95") / Z95)
    return x, defaults


def evaluate(x: dict[str, Any], bal: BalanceInput) -> dict[str, Any]:
    """Evaluate every volume and indicator at input values ``x`` (floats or numpy arrays).

    Indicators (names as in the JSON output): ``nrw_percent_of_system_input``,
    ``nrw_percent_of_water_supplied``, ``nrw_percent_by_cost``,
    ``real_losses_per_connection_per_day`` (l or gal), ``real_losses_per_km_per_day``
    (m3/km or gal/mi), ``apparent_losses_per_connection_per_day``,
    ``real_losses_per_connection_per_day_per_pressure`` (per m or psi), ``carl``, ``uarl``
    (volume unit for the period), ``ili``.
    """
    own = sum((v for k, v in x.items() if k.startswith("own:")), 0.0)
    imported = sum((v for k, v in x.items() if k.startswith("imported:")), 0.0)
    exported = sum((v for k, v in x.items() if k.startswith("exported:")), 0.0)
    siv = own + imported
    ws = siv - exported
    bac = x["billed_metered"] + x["billed_unmetered"]
    uac = x["unbilled_metered"] + x["unbilled_unmetered"]
    ac = bac + uac
    wl = ws - ac
    al = x["unauthorized"] + x["customer_metering_inaccuracies"] + x["data_handling_errors"]
    rl = wl - al
    out: dict[str, Any] = {
        "system_input": siv, "water_supplied": ws, "billed_authorized": bac,
        "unbilled_authorized": uac, "authorized_consumption": ac, "water_losses": wl,
        "unauthorized_consumption": x["unauthorized"],
        "customer_metering_inaccuracies": x["customer_metering_inaccuracies"],
        "data_handling_errors": x["data_handling_errors"], "apparent_losses": al,
        "real_losses": rl, "revenue_water": bac, "non_revenue_water": ws - bac,
        "nrw_percent_of_system_input": 100.0 * (ws - bac) / siv,
        "nrw_percent_of_water_supplied": 100.0 * (ws - bac) / ws,
        "carl": rl,
    }
    if bal.costs is not None:
        c = bal.costs
        r = c.variable_production_cost if c.real_losses_valued_at == "variable_production_cost" \
            else c.retail_unit_cost
        out["nrw_percent_by_cost"] = 100.0 * (al * c.retail_unit_cost + (rl + uac) * r) / \
            c.annual_operating_cost
    if bal.network is not None:
        days, share = bal.period_days, bal.network.pressurised_fraction
        small = SMALL_UNITS[bal.units.volume]
        lm, nc = x["network:mains_length"], x["network:connections"]
        lp, p = x["network:private_pipe_length"], x["network:average_pressure"]
        if bal.units.metric:
            uarl_small_per_day = (18.0 * lm + 0.8 * nc + 25.0 * lp) * p * share   # litres/day
            per_length = rl * (small / LITRES_PER_M3) / (lm * days * share)       # m3/km/day
        else:
            uarl_small_per_day = (5.41 * lm + 0.15 * nc + 7.5 * lp) * p * share   # gallons/day
            per_length = rl * small / (lm * days * share)                         # gal/mi/day
        rl_conn = rl * small / (nc * days * share)
        uarl = uarl_small_per_day * days / small
        out.update({
            "real_losses_per_connection_per_day": rl_conn,
            "real_losses_per_km_per_day": per_length,
            "apparent_losses_per_connection_per_day": al * small / (nc * days),
            "real_losses_per_connection_per_day_per_pressure": rl_conn / p,
            "uarl": uarl, "ili": rl / uarl,
        })
    return out


def _propagate(x: dict[str, tuple[float, float]], bal: BalanceInput
               ) -> tuple[dict[str, float], dict[str, float], dict[str, dict[str, float]]]:
    """First-order propagation: values, variances, and each input's variance contribution."""
    base = {k: v for k, (v, _) in x.items()}
    values = evaluate(base, bal)
    contributions: dict[str, dict[str, float]] = {k: {} for k in values}
    for name, (value, sd) in x.items():
        if sd == 0:
            continue
        step = max(abs(value), 1.0) * 1e-6
        up = evaluate({**base, name: value + step}, bal)
        down = evaluate({**base, name: value - step}, bal)
        for key in values:
            gradient = (up[key] - down[key]) / (2 * step)
            contributions[key][name] = float(gradient * gradient * sd * sd)
    variances = {k: float(sum(contributions[k].values())) for k in values}
    return {k: float(v) for k, v in values.items()}, variances, contributions


def compute_balance(bal: BalanceInput) -> BalanceResult:
    """Compute the water balance, its indicators and their 95 % confidence limits.

    Parameters
    ----------
    bal : BalanceInput
        From :func:`nrwkit.balance.load_balance` or built in Python.

    Returns
    -------
    BalanceResult
        Volumes and indicators with first-order uncertainty, WBI bands, the variance ranking
        of real losses, defaults used and warnings.
    """
    x, defaults = independent_inputs(bal)
    values, variances, contributions = _propagate(x, bal)
    volumes = {k: Quantity(values[k], variances[k]) for k in VOLUMES}
    indicators = {k: Quantity(values[k], variances[k]) for k in values if k not in VOLUMES}
    total = variances["real_losses"]
    shares = {k: v / total for k, v in sorted(contributions["real_losses"].items(),
                                              key=lambda kv: -kv[1]) if v > 0} if total > 0 else {}
    warnings = _warnings(bal, values)
    bands = {}
    if "ili" in values:
        bands = {"developed": wbi_band(values["ili"], developing=False),
                 "developing": wbi_band(values["ili"], developing=True)}
    bottom_up = night_flow(bal.night_flow) if bal.night_flow is not None else None
    return BalanceResult(bal, volumes, indicators, bands, x, shares, defaults, warnings, bottom_up)


def _warnings(bal: BalanceInput, values: dict[str, float]) -> list[Finding]:
    """Return the data and applicability warnings of a balance, as findings."""
    found = []
    if values["real_losses"] < 0:
        found.append(warning(
            "balance-negative-real-losses",
            f"real losses are negative ({values['real_losses']:,.0f} {bal.units.volume}): an input "
            "volume is wrong, and the indicators based on real losses are meaningless",
            fix="check the units, the period and the meter errors of the system input and of the "
                "billed volumes"))
    if bal.network is None:
        found.append(warning(
            "balance-no-network-data",
            "no network data: UARL, ILI and the per-connection indicators are not computed",
            fix="add a network section with mains_length, connections and average_pressure"))
        return found
    return found + _applicability(bal.network, metric=bal.units.metric)


def _applicability(n: NetworkData, *, metric: bool) -> list[Finding]:
    """Return where the UARL formula is outside its range (Lambert et al., AWWA)."""
    length_km = n.mains_length if metric else n.mains_length * METRES_PER_MILE / METRES_PER_KM
    pressure_m = n.average_pressure if metric else n.average_pressure * M_HEAD_PER_PSI
    density = n.connections / length_km
    with_care = "treat ILI with care and compare real losses per connection per day instead"
    found = []
    if n.connections < 3000:
        found.append(warning(
            "balance-uarl-applicability",
            f"UARL applicability: {n.connections:,.0f} connections, fewer than 3,000 (Lambert et al.)",
            fix=with_care))
    if not metric and n.connections + 32 * n.mains_length < 3000:
        found.append(warning(
            "balance-awwa-ili-not-applicable",
            f"connections + 32 x mains miles is {n.connections + 32 * n.mains_length:,.0f}, below "
            "3,000: the AWWA Free Water Audit Software leaves ILI blank",
            fix="report real losses per connection per day rather than ILI"))
    if density < 20:
        found.append(warning(
            "balance-low-connection-density",
            f"connection density {density:.1f}/km is below 20/km: UARL is outside its range",
            fix="read real losses per km of mains per day as the primary indicator, not ILI"))
    if not 25 <= pressure_m <= 100:
        side = "above 100 m" if pressure_m > 100 else "below 25 m"
        found.append(warning(
            "balance-pressure-outside-uarl-range",
            f"average pressure {pressure_m:.1f} m is {side}: UARL is outside its calibrated range",
            fix=with_care))
    if n.pressurised_fraction < 1:
        found.append(Finding(
            Severity.INFO, "balance-intermittent-supply", (),
            f"intermittent supply: UARL and per-connection real losses scaled by the pressurised "
            f"fraction {n.pressurised_fraction:g}", element_type="network",
            fix="compare per-connection figures only with systems of similar supply hours"))
    return found


def monte_carlo(bal: BalanceInput, *, samples: int = 20000, seed: int = 0
                ) -> dict[str, dict[str, float]]:
    """Sample the independent inputs (normal, truncated at 0) and summarise every result.

    Parameters
    ----------
    bal : BalanceInput
        The balance.
    samples : int
        Number of draws.
    seed : int
        Seed of the random generator (results are reproducible).

    Returns
    -------
    dict
        For each volume and indicator: ``mean``, ``sd``, ``low`` and ``high`` (2.5 and 97.5
        percentiles).
    """
    rng = np.random.default_rng(seed)
    x, _ = independent_inputs(bal)
    draws = {k: np.maximum(rng.normal(v, sd, samples), 0.0) if sd > 0 else np.full(samples, v)
             for k, (v, sd) in x.items()}
    results = evaluate(draws, bal)
    summary = {}
    for key, values in results.items():
        arr = np.asarray(values, dtype=float)
        summary[key] = {"mean": float(arr.mean()), "sd": float(arr.std(ddof=1)),
                        "low": float(np.percentile(arr, 2.5)), "high": float(np.percentile(arr, 97.5))}
    return summary
