"""The balance's customer meter under-registration read from a meter-population assessment."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from test_balance import EXAMPLE
from test_metering import CURVES, METERS, PROFILES

from nrwkit.balance import BalanceInput, compute_balance, load_balance
from nrwkit.errors import InputError
from nrwkit.metering import assess, read_curves, read_meters, read_profiles


@pytest.fixture
def metering(tmp_path):
    """The JSON of `nrwkit metering assess --json` for a two-meter population."""
    paths = {}
    for name, text in (("curves", CURVES), ("profiles", PROFILES), ("meters", METERS)):
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text)
    curves, profiles = read_curves(paths["curves"]), read_profiles(paths["profiles"])
    meters = read_meters(paths["meters"], curves, profiles)
    data = assess(meters, curves, profiles, year=2025, samples=200, seed=3).to_dict()
    assert 0 < data["under_registration"]["fraction"] < 1 and data["under_registration"]["ci95"] > 0
    path = tmp_path / "metering.json"
    path.write_text(json.dumps(data, indent=2))
    return path, data["under_registration"]


def _write(path, reference):
    data = copy.deepcopy(EXAMPLE)
    data["customer_meter_under_registration"] = reference
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_reference_equals_the_figures_typed_in(tmp_path, metering):
    _, under = metering
    referenced = load_balance(_write(tmp_path / "balance.yaml", {"from": "metering.json"}))
    typed = load_balance(_write(tmp_path / "typed.yaml", {"fraction": under["fraction"],
                                                           "ci95": under["ci95"]}))
    assert referenced == typed
    assert compute_balance(referenced).to_dict() == compute_balance(typed).to_dict()
    # the population's figure, not the example's guess of 2.5 %, sets CMI and real losses
    guessed = compute_balance(BalanceInput.model_validate(EXAMPLE)).to_dict()
    assert compute_balance(referenced).to_dict()["volumes"] != guessed["volumes"]


def test_the_path_is_relative_to_the_balance_file_or_absolute(tmp_path, metering, monkeypatch):
    path, under = metering
    sub = tmp_path / "balances"
    sub.mkdir()
    monkeypatch.chdir(sub)   # not the YAML's folder for the first file
    up = load_balance(_write(sub / "relative.yaml", {"from": "../metering.json"}))
    absolute = load_balance(_write(sub / "absolute.yaml", {"from": str(path)}))
    expected = (under["fraction"], under["ci95"])
    for bal in (up, absolute):
        cmu = bal.customer_meter_under_registration
        assert (cmu.fraction, cmu.ci95) == expected
    # outside a file (built in Python) a relative path is relative to the current directory
    monkeypatch.chdir(tmp_path)
    built = BalanceInput.model_validate({**EXAMPLE, "customer_meter_under_registration": {
        "from": "metering.json"}})
    assert built == up


def test_a_windows_redirect_utf16_json_is_read(tmp_path, metering):
    path, under = metering
    path.write_bytes(path.read_text().encode("utf-16"))   # with its byte-order mark
    bal = load_balance(_write(tmp_path / "balance.yaml", {"from": "metering.json"}))
    assert bal.customer_meter_under_registration.fraction == under["fraction"]


@pytest.mark.parametrize(
    ("reference", "content", "expected"),
    [
        ({"from": "missing.json"}, None, "is not found"),
        ({"from": "metering.json"}, "fraction: 0.02\n", "is not JSON"),
        ({"from": "metering.json"}, b"\x00\x9f\xff binary", "is not JSON"),
        ({"from": "metering.json"}, json.dumps({"meters": 2}), "has no `under_registration`"),
        ({"from": "metering.json"}, json.dumps([1, 2]), "has no `under_registration`"),
        ({"from": "metering.json"}, json.dumps({"under_registration": 0.02}), "is not a mapping"),
        ({"from": "metering.json"}, json.dumps({"under_registration": {"fraction": 1.2, "ci95": 0.1}}),
         "under_registration.fraction: Input should be less than 1"),
        ({"from": "metering.json"}, json.dumps({"under_registration": {"fraction": -0.01, "ci95": 0.1}}),
         "under_registration.fraction: Input should be greater than or equal to 0"),
        ({"from": "metering.json"}, json.dumps({"under_registration": {"fraction": "0.02"}}),
         "under_registration.fraction: Input should be a valid number"),
        ({"from": "metering.json"}, json.dumps({"under_registration": {"fraction": True}}),
         "under_registration.fraction: Input should be a valid number"),
        ({"from": "metering.json"}, '{"under_registration": {"fraction": NaN, "ci95": 0.1}}',
         "under_registration.fraction: Input should be a finite number"),
        ({"from": "metering.json"}, json.dumps({"under_registration": {"fraction": 0.02, "ci95": 9}}),
         "under_registration.ci95: Input should be less than or equal to 5"),
        ({"from": "metering.json"}, json.dumps({"under_registration": {"ci95": 0.1}}),
         "under_registration.fraction: required key is missing"),
        ({"from": "metering.json", "fraction": 0.02}, None, "`from:` is given with fraction"),
        ({"from": "metering.json", "ci95": 0.3}, None, "`from:` is given with ci95"),
        ({"from": 12}, None, "`from:` takes the path"),
        ({"from": ""}, None, "`from:` takes the path"),
    ],
)
def test_refusals_name_the_balance_the_metering_file_and_the_fix(tmp_path, metering, reference,
                                                                  content, expected):
    path, _ = metering
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    balance = _write(tmp_path / "balance.yaml", reference)
    with pytest.raises(InputError) as info:
        load_balance(balance)
    message = str(info.value)
    assert message.startswith(f"{balance}: customer_meter_under_registration: ")
    assert expected in message and "fix:" in message
    if "`from:`" not in expected:
        assert str(tmp_path / reference["from"]) in message


def test_cli_balance_json_with_a_reference_and_a_missing_one(tmp_path, metering):
    from click.testing import CliRunner

    from nrwkit_cli.main import cli

    _, under = metering
    balance = _write(tmp_path / "balance.yaml", {"from": "metering.json"})
    typed = _write(tmp_path / "typed.yaml", dict(under))
    runs = [CliRunner().invoke(cli, ["balance", str(p), "--json"]) for p in (balance, typed)]
    assert [r.exit_code for r in runs] == [0, 0], runs[0].output
    assert json.loads(runs[0].output) == json.loads(runs[1].output)
    missing = _write(tmp_path / "missing.yaml", {"from": "assess-2025.json"})
    result = CliRunner().invoke(cli, ["balance", str(missing), "--json"])
    assert result.exit_code == 2
    assert "missing.yaml" in result.output and "assess-2025.json" in result.output
    assert "is not found" in result.output
