"""A small clean network and the faults planted in it, for the check tests.

The base network is drawn to scale in metres (so pipe lengths equal the distances between
their ends), fed by one reservoir, with every junction on a loop and pressures near 50 m:
every check must find nothing in it. Each planted fault is a text edit of the base file.
"""

from __future__ import annotations

BASE_INP = """\
[TITLE]
nrwkit clean test grid: 3 x 3 junctions, 100 m apart, one reservoir

[JUNCTIONS]
;ID  Elev  Demand
 J11  10  1.0
 J12  10  1.0
 J13  10  1.0
 J21  10  1.0
 J22  10  1.0
 J23  10  1.0
 J31  10  1.0
 J32  10  1.0
 J33  10  1.0
{extra_junctions}
[RESERVOIRS]
 R1  60
{extra_reservoirs}
[PIPES]
;ID  Node1  Node2  Length  Diameter  Roughness
 P0   R1   J11  100  300  120
 P1   J11  J12  100  150  120
 P2   J12  J13  100  150  120
 P3   J21  J22  100  150  120
 P4   J22  J23  100  150  120
 P5   J31  J32  100  150  120
 P6   J32  J33  100  150  120
 P7   J11  J21  100  150  120
 P8   J21  J31  100  150  120
 P9   J12  J22  100  150  120
 P10  J22  J32  100  150  120
 P11  J13  J23  100  150  120
 P12  J23  J33  100  150  120
{extra_pipes}
[VALVES]
{extra_valves}
[OPTIONS]
 Units  LPS
 Headloss  H-W
{extra_options}
[TIMES]
 Duration  0

[COORDINATES]
 R1   1000  900
 J11  1000  1000
 J12  1100  1000
 J13  1200  1000
 J21  1000  1100
 J22  1100  1100
 J23  1200  1100
 J31  1000  1200
 J32  1100  1200
 J33  1200  1200
{extra_coordinates}
[END]
"""

SLOTS = ("extra_junctions", "extra_reservoirs", "extra_pipes", "extra_valves",
         "extra_options", "extra_coordinates")


def make_inp(replace: dict[str, str] | None = None, drop: tuple[str, ...] = (), **extra: str) -> str:
    """Return the base file with extra lines in the named slots, lines replaced or dropped."""
    unknown = set(extra) - set(SLOTS)
    if unknown:
        raise KeyError(unknown)
    text = BASE_INP.format(**{slot: extra.get(slot, "") for slot in SLOTS})
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    for line in drop:
        assert line in text, line
        text = text.replace(line + "\n", "")
    return text


#: name -> (edits to the base file, the one check code that must fire)
PLANTED: dict[str, tuple[dict, str]] = {
    "no-source": (dict(
        extra_junctions=" J90  10  1.0\n J91  10  1.0",
        extra_pipes=" P90  J90  J91  100  150  120",
        extra_coordinates=" J90  2000  2000\n J91  2100  2000",
    ), "no-source"),
    "no-source-closed-pipe": (dict(
        extra_junctions=" J90  10  1.0\n J91  10  1.0",
        extra_pipes=" P90  J90  J91  100  150  120\n P91  J33  J90  100  150  120  0  Closed",
        extra_coordinates=" J90  1300  1200\n J91  1400  1200",
    ), "no-source"),
    "isolated-node": (dict(
        extra_junctions=" J99  10  1.0", extra_coordinates=" J99  1500  1500",
    ), "isolated-node"),
    "dangling-node": (dict(
        extra_junctions=" J50  10  1.0",
        extra_pipes=" P50  J22  J50  99.8  150  120",
        extra_coordinates=" J50  1199.8  1100",
    ), "dangling-node"),
    "dead-end-no-demand": (dict(
        extra_junctions=" J51  10  0.0",
        extra_pipes=" P51  J13  J51  100  150  120",
        extra_coordinates=" J51  1300  1000",
    ), "dead-end-no-demand"),
    "zero-length-pipe": (dict(replace={" P9   J12  J22  100 ": " P9   J12  J22  0 "}),
                         "zero-length-pipe"),
    "short-pipe": (dict(
        extra_junctions=" J52  10  1.0",
        extra_pipes=" P52  J13  J52  0.03  150  120",
        extra_coordinates=" J52  1200.03  1000",
    ), "short-pipe"),
    "duplicate-pipes": (dict(extra_pipes=" P9b  J22  J12  100  150  120"), "parallel-pipes"),
    "length-longer": (dict(replace={" P9   J12  J22  100 ": " P9   J12  J22  180 "}),
                      "length-mismatch"),
    "length-shorter": (dict(replace={" P9   J12  J22  100 ": " P9   J12  J22  60 "}),
                       "length-mismatch"),
    "missing-coordinates": (dict(drop=(" J22  1100  1100",)), "missing-coordinates"),
    "coincident-nodes": (dict(
        extra_junctions=" J53  10  1.0",
        extra_pipes=" P53  J33  J53  1  150  120",
        extra_coordinates=" J53  1200  1200",
    ), "coincident-nodes"),
    "negative-demand": (dict(replace={" J22  10  1.0": " J22  10  -1.0"}), "negative-demand"),
    "implausible-diameter": (dict(replace={" P9   J12  J22  100  150 ": " P9   J12  J22  100  6 "}),
                             "implausible-diameter"),
    "implausible-roughness": (
        dict(replace={" P9   J12  J22  100  150  120": " P9   J12  J22  100  150  250"}),
        "implausible-roughness"),
    "valve-without-setting": (dict(
        extra_junctions=" J54  10  1.0",
        extra_pipes=" P54  J32  J54  141.42  150  120",
        extra_valves=" V1  J33  J54  150  PRV  0",
        extra_coordinates=" J54  1200  1300",
    ), "valve-without-setting"),
    "negative-pressure": (dict(replace={" J33  10  1.0": " J33  70  1.0"}), "negative-pressure"),
    "low-pressure": (dict(replace={" J33  10  1.0": " J33  55  1.0"}), "low-pressure"),
    "no-convergence": (dict(extra_options=" Trials  1\n Unbalanced  Continue"), "no-convergence"),
}


def combine(first: dict, second: dict) -> dict | None:
    """Merge the edits of two planted faults; None when they edit the same line or ids."""
    merged: dict = {}
    for key in set(first) | set(second):
        if key == "replace":
            replace = dict(first.get("replace", {}))
            for old, new in second.get("replace", {}).items():
                if old in replace:
                    return None
                replace[old] = new
            merged[key] = replace
        elif key == "drop":
            merged[key] = (*first.get("drop", ()), *second.get("drop", ()))
        else:
            merged[key] = "\n".join(x for x in (first.get(key, ""), second.get(key, "")) if x)
    return merged
