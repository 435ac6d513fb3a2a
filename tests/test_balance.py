"""The water balance against the worked example, hand calculations and invariants."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nrwkit.balance import BalanceInput, compute_balance, load_balance, monte_carlo, wbi_band
from nrwkit.errors import InputError

# The worked metric example (computed by hand from the IWA/AWWA formulas): 365 days, m3.
EXAMPLE = {
    "utility": "Example Water", "period_days": 365,
    "units": {"volume": "m3", "length": "km", "pressure": "m"},
    "system_input": {"own_sources": [{"name": "WTP-1", "volume": 10_000_000, "ci95": 0.02}]},
    "billed_metered": {"volume": 6_800_000, "ci95": 0.01},
    "billed_unmetered": {"volume": 150_000, "ci95": 0.10},
    "unbilled_metered": {"volume": 40_000, "ci95": 0.05},
    "unbilled_unmetered": {"volume": 60_000, "ci95": 0.30},
    "unauthorized": {"volume": 50_000, "ci95": 0.50},
    "customer_meter_under_registration": {"fraction": 0.025, "ci95": 0.30},
    "data_handling_errors": {"volume": 17_000, "ci95": 0.50},
    "network": {"mains_length": 500, "connections": 40_000, "private_pipe_length": 400,
                "average_pressure": 40, "pressurised_fraction": 1.0},
    "costs": {"retail_unit_cost": 1.20, "variable_production_cost": 0.30,
              "annual_operating_cost": 5_000_000},
}


@pytest.fixture
def example():
    return compute_balance(BalanceInput.model_validate(EXAMPLE))


def test_worked_example_volumes(example):
    v = {k: q.value for k, q in example.volumes.items()}
    assert v["authorized_consumption"] == pytest.approx(7_050_000)
    assert v["water_losses"] == pytest.approx(2_950_000)
    assert v["customer_metering_inaccuracies"] == pytest.approx(6_840_000 * 0.025 / 0.975)
    assert v["customer_metering_inaccuracies"] == pytest.approx(175_384.6, abs=0.05)
    assert v["data_handling_errors"] == 17_000
    assert v["apparent_losses"] == pytest.approx(242_384.6, abs=0.05)
    assert v["real_losses"] == pytest.approx(2_707_615.4, abs=0.05)
    assert v["non_revenue_water"] == pytest.approx(3_050_000)
    assert v["revenue_water"] == pytest.approx(6_950_000)


def test_worked_example_indicators(example):
    i = {k: q.value for k, q in example.indicators.items()}
    assert i["nrw_percent_of_system_input"] == pytest.approx(30.50)
    assert i["uarl"] == pytest.approx(2_040_000 * 365 / 1000)   # 2,040,000 l/day
    assert i["uarl"] == pytest.approx(744_600)
    assert i["ili"] == pytest.approx(3.636, abs=5e-4)
    assert i["real_losses_per_connection_per_day"] == pytest.approx(185.45, abs=5e-3)
    assert i["real_losses_per_km_per_day"] == pytest.approx(14.836, abs=5e-4)
    assert i["real_losses_per_connection_per_day_per_pressure"] == pytest.approx(4.636, abs=5e-4)
    assert i["apparent_losses_per_connection_per_day"] == pytest.approx(16.60, abs=5e-3)
    assert i["nrw_percent_by_cost"] == pytest.approx(22.66, abs=5e-3)
    assert example.bands == {"developed": "B", "developing": "A"}


def test_worked_example_uncertainty(example):
    rl = example.volumes["real_losses"]
    assert rl.sd * 1.959963984540054 == pytest.approx(220_551, abs=1)  # the 95 % limit
    assert rl.ci95 == pytest.approx(0.081, abs=5e-4)
    shares = example.variance_shares
    assert list(shares)[:4] == ["own:WTP-1", "billed_metered", "customer_metering_inaccuracies",
                                "unauthorized"]
    assert [round(shares[k] * 100, 1) for k in list(shares)[:4]] == [82.2, 9.5, 5.7, 1.3]
    assert sum(shares.values()) == pytest.approx(1.0)
    assert example.volumes["non_revenue_water"].ci95 == pytest.approx(0.0694, abs=5e-5)
    assert example.volumes["apparent_losses"].ci95 == pytest.approx(0.243, abs=5e-4)


def test_ili_first_order_is_the_sum_of_relative_variances(example):
    rl, ili = example.volumes["real_losses"], example.indicators["ili"]
    uarl = example.indicators["uarl"]
    rel = (rl.sd / rl.value) ** 2 + (uarl.sd / uarl.value) ** 2
    assert (ili.sd / ili.value) ** 2 == pytest.approx(rel, rel=1e-6)
    # UARL by hand: d/dLm = 18 P, d/dNc = 0.8 P, d/dLp = 25 P, d/dP = 18 Lm + 0.8 Nc + 25 Lp
    sd = {k: v * c / 1.959963984540054 for k, v, c in
          (("lm", 500, 0.05), ("nc", 40_000, 0.02), ("lp", 400, 0.20), ("p", 40, 0.10))}
    var_l_day = ((18 * 40 * sd["lm"]) ** 2 + (0.8 * 40 * sd["nc"]) ** 2
                 + (25 * 40 * sd["lp"]) ** 2 + (51_000 * sd["p"]) ** 2)
    assert uarl.sd == pytest.approx(var_l_day ** 0.5 * 365 / 1000, rel=1e-6)


def test_monte_carlo_agrees_with_the_analytic_limits(example):
    bal = BalanceInput.model_validate(EXAMPLE)
    mc = monte_carlo(bal, samples=40_000, seed=7)
    for key in ("real_losses", "non_revenue_water", "apparent_losses"):
        assert mc[key]["sd"] == pytest.approx(example.volumes[key].sd, rel=0.03)
        assert mc[key]["mean"] == pytest.approx(example.volumes[key].value, rel=0.01)
    assert mc["ili"]["sd"] == pytest.approx(example.indicators["ili"].sd, rel=0.05)
    assert monte_carlo(bal, samples=500, seed=3) == monte_carlo(bal, samples=500, seed=3)


def test_us_units_pin_the_published_constants():
    data = copy.deepcopy(EXAMPLE)
    data["units"] = {"volume": "MG", "length": "mi", "pressure": "psi"}
    data["system_input"]["own_sources"][0]["volume"] = 2_000           # MG
    for key, value in (("billed_metered", 1_400), ("billed_unmetered", 20), ("unbilled_metered", 5),
                       ("unbilled_unmetered", 10), ("unauthorized", 5), ("data_handling_errors", 3)):
        data[key]["volume"] = value
    data["network"] = {"mains_length": 300, "connections": 25_000, "private_pipe_length": 50,
                       "average_pressure": 60}
    r = compute_balance(BalanceInput.model_validate(data))
    # UARL (gal/day) = (5.41 Lm[mi] + 0.15 Nc + 7.5 Lc[mi]) x P[psi]
    uarl_gal_day = (5.41 * 300 + 0.15 * 25_000 + 7.5 * 50) * 60
    assert r.indicators["uarl"].value == pytest.approx(uarl_gal_day * 365 / 1e6)   # MG
    rl = r.volumes["real_losses"].value
    assert r.indicators["real_losses_per_connection_per_day"].value == pytest.approx(
        rl * 1e6 / (25_000 * 365))   # US gallons: 1 MG = 1,000,000 US gal
    # the same balance in acre-feet (1 acre-ft = 43,560 ft3 x 7.48051948 US gal/ft3)
    acre_ft_gal = 43_560 * 7.480_519_48
    assert acre_ft_gal == pytest.approx(325_851.43, abs=0.01)   # imperial would be 271,328
    data_af = copy.deepcopy(data)
    data_af["units"]["volume"] = "acre-ft"
    for key in ("billed_metered", "billed_unmetered", "unbilled_metered", "unbilled_unmetered",
                "unauthorized", "data_handling_errors"):
        data_af[key]["volume"] = data[key]["volume"] * 1e6 / acre_ft_gal
    data_af["system_input"]["own_sources"][0]["volume"] = 2_000 * 1e6 / acre_ft_gal
    af = compute_balance(BalanceInput.model_validate(data_af))
    assert af.indicators["real_losses_per_connection_per_day"].value == pytest.approx(
        r.indicators["real_losses_per_connection_per_day"].value, rel=1e-9)
    assert af.indicators["ili"].value == pytest.approx(r.indicators["ili"].value, rel=1e-9)


def test_defaults_and_warnings():
    data = copy.deepcopy(EXAMPLE)
    for key in ("unbilled_unmetered", "unauthorized", "data_handling_errors"):
        del data[key]
    data["network"]["connections"] = 2_000
    data["network"]["average_pressure"] = 20
    data["network"]["pressurised_fraction"] = 0.5
    r = compute_balance(BalanceInput.model_validate(data))
    assert r.volumes["unauthorized_consumption"].value == pytest.approx(0.0025 * 10_000_000)
    assert r.volumes["data_handling_errors"].value == pytest.approx(0.0025 * 6_800_000)
    assert r.volumes["unbilled_authorized"].value == pytest.approx(40_000 + 0.0125 * 10_000_000)
    assert len(r.defaults_used) == 3
    codes = [w.code for w in r.warnings]
    # 2,000 connections < 3,000; 2,000 / 500 km = 4/km < 20/km; 20 m < 25 m; half the day supplied
    assert codes == ["balance-uarl-applicability", "balance-low-connection-density",
                     "balance-pressure-outside-uarl-range", "balance-intermittent-supply"]
    text = " ".join(str(w) for w in r.warnings)
    assert "fewer than 3,000" in text and "4.0/km is below 20/km" in text and "20.0 m is below 25 m" in text
    assert all(w.fix for w in r.warnings)
    assert r.to_dict()["warnings"][0] == r.warnings[0].to_dict()
    assert r.to_dict()["warnings"][0]["code"] == "balance-uarl-applicability"
    assert [w.code for w in compute_balance(BalanceInput.model_validate(EXAMPLE)).warnings] == []
    no_network = {k: v for k, v in EXAMPLE.items() if k != "network"}
    assert [w.code for w in compute_balance(BalanceInput.model_validate(no_network)).warnings] == [
        "balance-no-network-data"]
    negative = {**copy.deepcopy(EXAMPLE), "billed_metered": {"volume": 9_500_000, "ci95": 0.01}}
    # 10,000,000 - 9,750,000 authorized = 250,000 lost, below the apparent losses
    # 9,540,000 x 0.025 / 0.975 + 50,000 + 17,000 = 311,615
    assert "balance-negative-real-losses" in [
        w.code for w in compute_balance(BalanceInput.model_validate(negative)).warnings]
    # intermittent supply halves the UARL: (18 x 500 + 0.8 x 2000 + 25 x 400) x 20 x 0.5 l/day
    assert r.indicators["uarl"].value == pytest.approx(206_000 * 365 / 1000)


def test_monthly_volumes_and_meter_error():
    data = copy.deepcopy(EXAMPLE)
    data["billed_metered"] = {"volume": [6_800_000 / 12] * 12, "ci95": 0.01}
    data["system_input"]["own_sources"][0]["meter_error_pct"] = 2.0   # reads 2 % high
    r = compute_balance(BalanceInput.model_validate(data))
    assert r.volumes["system_input"].value == pytest.approx(10_000_000 / 1.02)
    assert r.volumes["billed_authorized"].value == pytest.approx(6_950_000)


@pytest.mark.parametrize(("edit", "message"), [
    ({"period_days": 0}, "period_days: Input should be greater than 0"),
    ({"billed_metered": {"volume": -5}}, "billed_metered.volume: volumes cannot be negative"),
    ({"billed_metered": {"volume": 20_000_000}}, "authorized consumption (20,250,000) is above"),
    ({"bileld_metered": {"volume": 1}}, "bileld_metered: unknown key"),
    ({"units": {"volume": "MG", "length": "km", "pressure": "m"}}, "all metric"),
    ({"billed_metered": {"volume": [1, 2, 3]}}, "needs 12 volumes"),
    ({"system_input": {"own_sources": [{"name": "well", "volume": 6e6}, {"name": "well", "volume": 4e6}]}},
     "the name(s) well appear twice"),
])
def test_input_errors_name_the_key(tmp_path, edit, message):
    import yaml

    data = {**copy.deepcopy(EXAMPLE), **edit}
    path = tmp_path / "balance.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as info:
        load_balance(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_wbi_band_bounds():
    assert [wbi_band(x, developing=False) for x in (1.99, 2.0, 3.99, 4.0, 7.9, 8.0)] == \
        ["A", "B", "B", "C", "C", "D"]
    assert [wbi_band(x, developing=True) for x in (3.9, 4.0, 8.0, 16.0)] == ["A", "B", "C", "D"]


volume = st.floats(0, 1e6)


@settings(max_examples=60, deadline=None)
# system input above the 4e6 of authorized consumption at most
@given(siv=st.floats(5e6, 1e8), bmc=volume, buc=volume, umc=volume, uuc=volume, uc=volume,
       sdhe=volume, e=st.floats(0, 0.2), ci=st.floats(0, 1))
def test_components_sum_to_system_input_and_variances_are_not_negative(
        siv, bmc, buc, umc, uuc, uc, sdhe, e, ci):
    data = copy.deepcopy(EXAMPLE)
    data["system_input"]["own_sources"][0].update(volume=siv, ci95=ci)
    for key, value in (("billed_metered", bmc), ("billed_unmetered", buc), ("unbilled_metered", umc),
                       ("unbilled_unmetered", uuc), ("unauthorized", uc), ("data_handling_errors", sdhe)):
        data[key] = {"volume": value, "ci95": ci}
    data["customer_meter_under_registration"] = {"fraction": e, "ci95": ci}
    r = compute_balance(BalanceInput.model_validate(data))
    v = {k: q.value for k, q in r.volumes.items()}
    parts = (v["billed_authorized"] + v["unbilled_authorized"] + v["apparent_losses"]
             + v["real_losses"])
    assert parts == pytest.approx(v["system_input"], rel=1e-12, abs=1e-6)
    assert v["revenue_water"] + v["non_revenue_water"] == pytest.approx(v["water_supplied"])
    assert all(q.variance >= 0 for q in [*r.volumes.values(), *r.indicators.values()])


def test_cli_balance_json_and_report(tmp_path):
    import json

    import yaml
    from click.testing import CliRunner

    from nrwkit_cli.main import cli

    path = tmp_path / "balance.yaml"
    path.write_text(yaml.safe_dump(EXAMPLE))
    report = tmp_path / "balance.html"
    result = CliRunner().invoke(cli, ["balance", str(path), "--json", "--report", str(report),
                                      "--monte-carlo", "2000", "--seed", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data["volumes"]) == {
        "system_input", "water_supplied", "billed_authorized", "unbilled_authorized",
        "authorized_consumption", "water_losses", "unauthorized_consumption",
        "customer_metering_inaccuracies", "data_handling_errors", "apparent_losses",
        "real_losses", "revenue_water", "non_revenue_water"}
    assert set(data["ci95"]) == set(data["volumes"])
    assert {"nrw_percent_of_system_input", "nrw_percent_of_water_supplied", "nrw_percent_by_cost",
            "real_losses_per_connection_per_day", "real_losses_per_km_per_day",
            "apparent_losses_per_connection_per_day", "carl", "uarl", "ili",
            "wbi_band_developed", "wbi_band_developing"} <= set(data["indicators"])
    assert data["indicators"]["ili"] == pytest.approx(3.636, abs=5e-4)
    assert data["units"]["per_connection"] == "litres per connection per day"
    assert data["monte_carlo"]["seed"] == 1
    html = report.read_text()
    assert "Water balance: Example Water" in html and "What to measure next" in html
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**EXAMPLE, "period_days": 0}))
    result = CliRunner().invoke(cli, ["balance", str(bad)])
    assert result.exit_code == 2 and "period_days" in result.output


def test_trend_changes_and_their_limits(tmp_path):
    import math

    import yaml
    from click.testing import CliRunner

    from nrwkit.balance import trend_table
    from nrwkit_cli.main import cli

    later = copy.deepcopy(EXAMPLE)
    later["year"] = 2027
    later["system_input"]["own_sources"][0]["volume"] = 9_500_000   # 500,000 m3 less lost
    first = compute_balance(BalanceInput.model_validate({**EXAMPLE, "year": 2025}))
    second = compute_balance(BalanceInput.model_validate(later))
    table = trend_table([first, second]).set_index(["label", "indicator"])
    row = table.loc[("2027", "Non-revenue water by volume (IWA)")]
    assert row["unit"] == "% of system input volume"
    a, b = first.indicators["nrw_percent_of_system_input"], second.indicators["nrw_percent_of_system_input"]
    assert row["change"] == pytest.approx(b.value - a.value)
    assert row["change"] == pytest.approx(100 * (2_550_000 / 9_500_000 - 0.305))
    assert row["change_ci95"] == pytest.approx(1.959963984540054 * math.sqrt(a.variance + b.variance))
    assert bool(row["significant"]) == (abs(row["change"]) > row["change_ci95"])
    assert table.loc[("2025", "Infrastructure Leakage Index (ILI)"), "change"] == 0
    # the CLI, from a workspace's balances/ folder, in name order
    ws = tmp_path / "ws"
    assert CliRunner().invoke(cli, ["init", str(ws), "--network", "net1"]).exit_code == 0
    (ws / "balances").mkdir()
    (ws / "balances" / "2025.yaml").write_text(yaml.safe_dump({**EXAMPLE, "year": 2025}))
    (ws / "balances" / "2027.yaml").write_text(yaml.safe_dump(later))
    report = tmp_path / "trend.html"
    result = CliRunner().invoke(cli, ["balance", "trend", str(ws), "--json", "--report", str(report)])
    assert result.exit_code == 0, result.output
    import json

    records = json.loads(result.output)["trend"]
    assert [r["label"] for r in records][::3] == ["2025", "2027"]
    assert "NRW progress: Example Water, 2025 to 2027" in report.read_text()


def test_night_flow_by_hand():
    from nrwkit.balance import NightFlowInput, night_flow

    data = NightFlowInput(mnf_m3h=30, population=10_000, non_household_users=20, aznp_m=55,
                          hourly_azp_m=[55] * 8 + [45] * 16, n1=1.0, mains_length_km=40,
                          connections=3_000, icf=1.5)
    r = night_flow(data)
    assert r.legitimate_night_use_m3h == pytest.approx(10_000 * 0.06 * 10 / 1000 + 20 * 50 / 1000)
    assert r.net_night_flow_m3h == pytest.approx(23.0)
    assert r.ndf_h == pytest.approx(8 + 16 * 45 / 55)
    assert r.real_losses_m3_per_day == pytest.approx(23 * (8 + 16 * 45 / 55))
    rate_l_h = (20 * 40 + (1.25 + 0.5) * 3_000) * 1.5
    background = rate_l_h * (8 * (55 / 50) ** 1.5 + 16 * (45 / 50) ** 1.5) / 1000
    assert r.background_m3_per_day == pytest.approx(background)
    assert r.bursts_and_detectable_m3_per_day == pytest.approx(r.real_losses_m3_per_day - background)
    # N1 = 1.5 makes the day's lower pressure matter more
    steep = night_flow(data.model_copy(update={"n1": 1.5}))
    assert steep.ndf_h == pytest.approx(8 + 16 * (45 / 55) ** 1.5)


def test_balance_compares_top_down_with_bottom_up(tmp_path):
    data = {**copy.deepcopy(EXAMPLE), "night_flow": {"mnf_m3h": 400, "population": 100_000,
                                                       "aznp_m": 45, "ndf_h": 20}}
    r = compute_balance(BalanceInput.model_validate(data))
    out = r.to_dict()["bottom_up"]
    assert out["real_losses_m3_per_day"] == pytest.approx((400 - 60) * 20)
    assert out["top_down_real_losses_m3_per_day"] == pytest.approx(2_707_615.4 / 365, abs=0.01)
    in_ml = copy.deepcopy(data)
    in_ml["units"]["volume"] = "ML"
    for key in ("billed_metered", "billed_unmetered", "unbilled_metered", "unbilled_unmetered",
                "unauthorized", "data_handling_errors"):
        in_ml[key]["volume"] = data[key]["volume"] / 1000
    in_ml["system_input"]["own_sources"][0]["volume"] = 10_000
    r_ml = compute_balance(BalanceInput.model_validate(in_ml))
    assert r_ml.top_down_m3_per_day() == pytest.approx(2_707_615.4 / 365, abs=0.01)
    from nrwkit.report.balance import balance_report

    assert "Bottom-up check" in balance_report(r).to_html()
    with pytest.raises(ValueError, match="24 pressures"):
        BalanceInput.model_validate({**EXAMPLE, "night_flow": {"mnf_m3h": 1, "aznp_m": 40,
                                                               "hourly_azp_m": [40] * 23}})
