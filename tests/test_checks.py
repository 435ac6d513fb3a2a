"""Each check finds the fault planted for it, and nothing else; a clean network has none."""

from __future__ import annotations

import itertools
from typing import ClassVar

import pytest
from planted import PLANTED, combine, make_inp

from nrwkit.findings import Finding, Severity, findings_frame
from nrwkit.network import CHECKS, Check, read_inp, register, run_checks


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def test_clean_network_has_no_findings(write_inp):
    wn = read_inp(write_inp(make_inp()))
    assert run_checks(wn) == []


@pytest.mark.parametrize("fault", sorted(PLANTED))
def test_planted_fault_found_alone(fault, write_inp):
    edits, expected = PLANTED[fault]
    wn = read_inp(write_inp(make_inp(**edits)))
    assert codes(run_checks(wn)) == [expected]


#: Pairs of planted faults whose findings legitimately interact, and why.
INTERACTING = {
    # P9 ends at J22, whose coordinates are gone: its length cannot be checked
    ("length-longer", "missing-coordinates"), ("length-shorter", "missing-coordinates"),
    # one solver trial leaves the PRV's zone at an unconverged, low pressure
    ("no-convergence", "valve-without-setting"),
}


def _compatible(a: str, b: str) -> bool:
    """True when the two faults' edits touch different lines and ids."""
    edits = combine(PLANTED[a][0], PLANTED[b][0])
    if edits is None or {a, b} <= {"no-source", "no-source-closed-pipe"}:  # same new ids
        return False
    try:
        make_inp(**edits)
    except AssertionError:  # the first edit rewrote the line the second one looks for
        return False
    return True


PAIRS = [(a, b) for a, b in itertools.combinations(sorted(PLANTED), 2)
         if (a, b) not in INTERACTING and _compatible(a, b)]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_two_faults_give_exactly_their_two_findings(first, second, write_inp):
    edits = combine(PLANTED[first][0], PLANTED[second][0])
    found = {f.code for f in run_checks(read_inp(write_inp(make_inp(**edits))))}
    assert found == {PLANTED[first][1], PLANTED[second][1]}


@pytest.mark.parametrize(
    ("fault", "elements"),
    [
        ("no-source", {"J90", "J91"}),
        ("no-source-closed-pipe", {"J90", "J91"}),
        ("isolated-node", {"J99"}),
        ("dangling-node", {"J50", "J23"}),
        ("dead-end-no-demand", {"J51"}),
        ("zero-length-pipe", {"P9"}),
        ("short-pipe", {"P52"}),
        ("duplicate-pipes", {"P9", "P9b"}),
        ("length-longer", {"P9"}),
        ("length-shorter", {"P9"}),
        ("missing-coordinates", {"J22"}),
        ("coincident-nodes", {"J33", "J53"}),
        ("negative-demand", {"J22"}),
        ("implausible-diameter", {"P9"}),
        ("implausible-roughness", {"P9"}),
        ("valve-without-setting", {"V1"}),
        ("negative-pressure", {"J33"}),
        ("low-pressure", {"J33"}),
    ],
)
def test_planted_fault_names_the_elements(fault, elements, write_inp):
    edits, _ = PLANTED[fault]
    (finding,) = run_checks(read_inp(write_inp(make_inp(**edits))))
    assert set(finding.elements) == elements
    # the message names the element and says what to do
    assert any(e in finding.message for e in elements) or finding.code == "no-source"
    assert len(finding.message) > 40


def test_every_registered_check_has_a_planted_fault():
    # network-wide faults that rewrite the whole file are tested in test_inspect_warnings.py
    planted_codes = {code for _, code in PLANTED.values()} | {"simulation-failed", "no-demand",
                                                              "no-coordinates"}
    assert set(CHECKS) == planted_codes


def test_parallel_pipes_with_different_size_are_info(write_inp):
    text = make_inp(extra_pipes=" P9b  J22  J12  100  100  120")
    (finding,) = run_checks(read_inp(write_inp(text)))
    assert (finding.code, finding.severity) == ("parallel-pipes", Severity.INFO)


def test_low_pressure_threshold_is_an_option(write_inp):
    wn = read_inp(write_inp(make_inp()))
    # base pressures are about 50 m: a 60 m standard flags every junction with demand
    (finding,) = run_checks(wn, min_pressure_m=60)
    assert finding.code == "low-pressure"
    assert len(finding.elements) == 9


def test_simulation_failed_when_epanet_rejects_the_model(write_inp):
    text = make_inp(extra_junctions=" J60  10  1.0", extra_coordinates=" J60  1300  1200")
    text = text.replace("[VALVES]", "[PUMPS]\n PU1  J33  J60  HEAD  C1\n\n[VALVES]")
    text = text.replace("[OPTIONS]", "[CURVES]\n C1  5  -10\n\n[OPTIONS]")  # negative head
    (finding,) = run_checks(read_inp(write_inp(text)))
    assert finding.code == "simulation-failed"
    assert "Error 227: invalid head curve for pump PU1" in finding.message  # EPANET's report


def test_no_simulation_skips_simulation_checks(write_inp):
    edits, _ = PLANTED["negative-pressure"]
    assert run_checks(read_inp(write_inp(make_inp(**edits))), simulate=False) == []


def test_schematic_coordinates_skip_length_check(net1):
    (finding,) = run_checks(net1, simulate=False, codes=["length-mismatch"])
    assert finding.severity == Severity.INFO
    assert finding.elements == ()


def test_scale_inferred_from_feet(write_inp):
    # the same grid drawn in feet: lengths in m are 0.3048 x the coordinate distances
    wn = read_inp(write_inp(make_inp()))
    for _, node in wn.nodes():
        x, y = node.coordinates
        node.coordinates = (x / 0.3048, y / 0.3048)
    assert run_checks(wn, simulate=False, codes=["length-mismatch"]) == []
    wn.get_link("P9").length = 180.0
    (finding,) = run_checks(wn, simulate=False, codes=["length-mismatch"])
    assert finding.elements == ("P9",)
    assert "0.3048" in finding.message


def test_crs_gives_metres(write_inp):
    wn = read_inp(write_inp(make_inp()))
    assert run_checks(wn, simulate=False, crs="EPSG:32633", codes=["length-mismatch"]) == []
    # read in US survey feet, 100 coordinate units are 30.5 m: every 100 m pipe is too long
    flagged = run_checks(wn, simulate=False, crs="EPSG:2263", codes=["length-mismatch"])
    assert len(flagged) == wn.num_pipes
    assert all("longer" in f.message for f in flagged)


def test_registry_adds_a_check_in_one_class(write_inp):
    @register
    class ManyJunctions(Check):
        code = "test-many-junctions"
        severity = Severity.INFO
        title = "more than five junctions"
        calls: ClassVar[list[int]] = []

        def run(self, ctx):
            if ctx.wn.num_junctions > 5:
                yield self.finding(ctx.wn.junction_name_list, "many junctions")

    try:
        found = run_checks(read_inp(write_inp(make_inp())))
        assert codes(found) == ["test-many-junctions"]
    finally:
        del CHECKS["test-many-junctions"]
    with pytest.raises(ValueError, match="already registered"):
        register(CHECKS["no-source"])


def test_unknown_code_is_refused(net1):
    with pytest.raises(ValueError, match="unknown check"):
        run_checks(net1, codes=["nope"])


def test_findings_sorted_errors_first_and_tabulated(write_inp):
    text = make_inp(
        replace={" J22  10  1.0": " J22  10  -1.0", " J33  10  1.0": " J33  70  1.0"},
        extra_junctions=" J51  10  0.0",
        extra_pipes=" P51  J13  J51  100  150  120",
        extra_coordinates=" J51  1300  1000",
    )
    found = run_checks(read_inp(write_inp(text)))
    assert [f.severity.value for f in found] == ["error", "warning", "info"]
    table = findings_frame(found)
    assert list(table["code"]) == ["negative-pressure", "negative-demand", "dead-end-no-demand"]
    assert list(table.columns) == ["severity", "code", "element_type", "n_elements", "elements",
                                   "message", "fix"]


def test_bundled_demo_network_is_clean_of_errors(ltown):
    found = run_checks(ltown)
    assert [f for f in found if f.severity == Severity.ERROR] == []
    # L-Town's one dead end without demand, n259, is real: see the file
    assert ("dead-end-no-demand", ("n259",)) in [(f.code, f.elements) for f in found]


def test_pump_drawn_as_a_point_is_not_coincident(write_inp):
    text = make_inp(extra_junctions=" J60  10  0.0", extra_coordinates=" J60  1200  1200",
                    extra_pipes=" P60  J60  J23  100  150  120")
    text = text.replace("[VALVES]", "[PUMPS]\n PU1  J33  J60  HEAD  C1\n\n[VALVES]")
    text = text.replace("[OPTIONS]", "[CURVES]\n C1  10  5\n\n[OPTIONS]")
    wn = read_inp(write_inp(text))
    assert run_checks(wn, simulate=False) == []
    # the same two nodes joined by a pipe are a real coincidence
    wn.remove_link("PU1")
    wn.add_pipe("P61", "J33", "J60", length=1.0, diameter=0.15, roughness=120)
    assert codes(run_checks(wn, simulate=False, codes=["coincident-nodes"])) == ["coincident-nodes"]


def test_snap_tolerance_is_in_metres(write_inp):
    edits, _ = PLANTED["dangling-node"]  # J50 lies 0.2 m from J23
    wn = read_inp(write_inp(make_inp(**edits)))
    assert codes(run_checks(wn, simulate=False, snap_tolerance_m=0.1)) == []
    (finding,) = run_checks(wn, simulate=False, snap_tolerance_m=0.5)
    assert "0.20 m from J23" in finding.message
    # drawn in feet, 0.2 m is 0.66 units: still found at 0.5 m, not at 0.1 m
    for _, node in wn.nodes():
        x, y = node.coordinates
        node.coordinates = (x / 0.3048, y / 0.3048)
    assert codes(run_checks(wn, simulate=False, snap_tolerance_m=0.5)) == ["dangling-node"]
    assert codes(run_checks(wn, simulate=False, snap_tolerance_m=0.1)) == []


def test_no_dangling_nodes_in_schematic_coordinates(net1):
    assert run_checks(net1, simulate=False, codes=["dangling-node"], snap_tolerance_m=1e6) == []


def test_geographic_coordinates_measured_in_metres(write_inp):
    import pyproj

    edits, _ = PLANTED["dangling-node"]  # J50 lies 0.20 m east of J23
    wn = read_inp(write_inp(make_inp(**edits)))
    to_lonlat = pyproj.Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    for _, node in wn.nodes():
        x, y = node.coordinates
        node.coordinates = to_lonlat.transform(500_000 + x, 6_650_000 + y)  # about 60 N
    assert codes(run_checks(wn, simulate=False, crs="EPSG:4326")) == ["dangling-node"]
    (finding,) = run_checks(wn, simulate=False, crs="EPSG:4326", codes=["dangling-node"])
    assert "0.20 m from J23" in finding.message
    assert run_checks(wn, simulate=False, crs="EPSG:4326", snap_tolerance_m=0.15) == []
