"""Step tests: closing a section that leaks takes its leak off the DMA's inflow."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from nrwkit.errors import InputError
from nrwkit.exercise.steptest import read_sequence, step_test
from nrwkit.leaks import Leak
from nrwkit.networks import load
from nrwkit.pressure import zone_from_inlets
from nrwkit_cli.main import cli

#: Pipes of L-Town's PRV-3 zone whose closure cuts a section off (bridges of the zone's graph):
#: p162 cuts n247 off, p737 cuts n253, n254 and n667 (joined by p78 and p738), p150 cuts n213.
SECTIONS = [["p162"], ["p737"], ["p150"]]


@pytest.fixture(scope="module")
def ltown():
    wn = load("l-town")
    return wn, zone_from_inlets(wn, ["PRV-3"])


def test_the_leaking_section_shows_its_leak(ltown):
    wn, zone = ltown
    dry = step_test(wn, zone, SECTIONS)
    leak = Leak("p78", on="pipe", flow_m3s=0.002, reference_pressure_m=50.0, exponent=1.0)  # in section 2
    wet = step_test(wn, zone, SECTIONS, leaks=[leak])
    assert list(dry.steps["step"]) == [1, 2, 3] and (dry.steps["fall_m3h"] > 0).all()
    # the leak's own flow just before its section closes (q = C p^N1 at its node, from EPANET's
    # pressure there), and the fall of that step carries it: the leak stops with its section
    closes = int(wet.steps["closes_s"][1])
    leak_m3h = float(wet.leaks_m3h.iloc[:, 0].loc[closes - 300])
    assert leak_m3h == pytest.approx(0.002 * 3600 * 37.0 / 50.0, rel=0.6)  # ~37 m in the zone at night
    assert float(wet.leaks_m3h.iloc[:, 0].loc[closes + 900]) == pytest.approx(0.0, abs=1e-6)
    extra = wet.steps["fall_m3h"] - dry.steps["fall_m3h"]
    # the step that isolates the leak falls by about the leak (the rest of the zone's pressure,
    # leakage and demand move a little when a section closes, as in the field)
    assert extra[1] == pytest.approx(leak_m3h, rel=0.1)
    assert abs(extra[0]) < 0.1 * leak_m3h and abs(extra[2]) < 0.1 * leak_m3h
    # after the test every valve is open again: the sections draw again (and the leak runs again)
    assert wet.inflow_m3h.loc[wet.reopen_s + 900] > wet.steps["inflow_after_m3h"].iloc[-1] + 0.8 * leak_m3h


def test_bad_inputs(ltown, tmp_path):
    wn, zone = ltown
    with pytest.raises(InputError, match="not inside zone"):
        step_test(wn, zone, [["p1"]])
    with pytest.raises(InputError, match="no valve"):
        step_test(wn, zone, [])
    with pytest.raises(InputError, match="within the day"):
        step_test(wn, zone, SECTIONS, start_s=22 * 3600)
    with pytest.raises(InputError, match="more than one step"):
        step_test(wn, zone, [["p162"], ["p162"]])
    bad = tmp_path / "seq.csv"
    bad.write_text("step,link\n1,p162\nx,p157\n")
    with pytest.raises(InputError, match=r"seq.csv, row 2"):
        read_sequence(bad, wn)
    bad.write_text("step,link\n1,nope\n")
    with pytest.raises(InputError, match="'nope' is no link"):
        read_sequence(bad, wn)


def test_cli(tmp_path):
    sequence = tmp_path / "valves.csv"
    sequence.write_text("step,link\n1,p162\n2,p157\n")
    out = tmp_path / "inflow.csv"
    result = CliRunner().invoke(cli, ["exercise", "step-test", "l-town", "--inlet", "PRV-3", "--sequence",
                                      str(sequence), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "fall (m3/h)" in result.output and out.read_text().startswith("time_s,inflow_m3h\n")
