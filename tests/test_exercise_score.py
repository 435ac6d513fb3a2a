"""Scoring an exercise's answers (issue 17, part 2): distances, matching, BattLeDIM's euros, bad files.

Every oracle is worked out by hand on a small network whose pipe lengths are chosen here::

    R --p0 10-- J1 --p1 100-- J2 --p2 200-- J3 --p3 100-- J4 --p4 400-- J5 ==v1 (valve)== J7
                 \\            |                          /
                  \\       pipe "J6" 50 to node J6        /
                   `-------------- p6 250 ---------------'

Shortest paths used below: J1-J3 = 300 (via J2; via p6+p3 350), J2-J4 = 300 (via J3; via J1 350),
J3-J5 = 500, J2-J5 = 700, R-J2 = 110, J1-J4 = 250 (p6).

The true distance (the default) is from a node answer itself, and from a pipe answer as a whole (a crew
walks the pipe it is sent to): 0 on the leak's own pipe, else from the pipe's nearer end node.
From the nodes to L1's point: J2 50, J3 150, J1 150 (100 + 50), J4 250 (100 + 150), R 160 (110 + 50),
J6 100 (50 + 50), J5 and J7 650 (500 + 150).

Leaks: L1 on p2 at 0.25 of its 200 m from J2 (50 m from J2, 150 m from J3), 2 m3/h from
2026-01-01 10:00 to 2026-01-02 10:00; L2 on p4 at 0.5 (200 m from J4 and J5), growing 1, 2, 3, 4 m3/h
hour by hour from 2026-01-02 00:00 to 04:00. The exercise runs 2026-01-01 00:00 to 2026-01-03 00:00.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import wntr

from nrwkit.errors import InputError
from nrwkit.exercise.key import read_answer_key
from nrwkit.exercise.score import (
    Answer,
    answer_distance_m,
    read_answers,
    score,
    score_team,
)
from nrwkit.network import read_inp, write_inp

L1 = {"id": "L1", "pipe": "p2", "position": 0.25, "start": "2026-01-01 10:00", "end": "2026-01-02 10:00",
      "flow_m3_per_h": 2.0}
L2 = {"id": "L2", "pipe": "p4", "position": 0.5, "start": "2026-01-02 00:00", "end": "2026-01-02 04:00",
      "flow_m3_per_h": [1.0, 2.0, 3.0, 4.0]}


def _network() -> wntr.network.WaterNetworkModel:
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=50.0, coordinates=(-10.0, 0.0))
    for k, x in enumerate((0.0, 100.0, 300.0, 400.0, 800.0, 100.0, 800.0), start=1):
        wn.add_junction(f"J{k}", base_demand=0.0, elevation=0.0, coordinates=(x, -50.0 if k == 6 else 0.0))
    for name, a, b, length in (("p0", "R", "J1", 10.0), ("p1", "J1", "J2", 100.0), ("p2", "J2", "J3", 200.0),
                               ("p3", "J3", "J4", 100.0), ("p4", "J4", "J5", 400.0),
                               ("J6", "J2", "J6", 50.0), ("p6", "J1", "J4", 250.0)):
        wn.add_pipe(name, a, b, length=length, diameter=0.1, roughness=100.0)
    wn.add_valve("v1", "J5", "J7", diameter=0.1, valve_type="TCV", initial_setting=0.0)
    return wn


def _write_key(folder: Path, leaks: list[dict]) -> Path:
    folder.mkdir(exist_ok=True)
    if not (folder / "network.inp").exists():
        write_inp(_network(), folder / "network.inp")
    key = {"network": "network.inp", "period": {"start": "2026-01-01 00:00", "end": "2026-01-03 00:00"},
           "leaks": leaks, "model_changes": {}, "seed": 0}
    path = folder / "answer-key.json"
    path.write_text(json.dumps(key), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def exercise(tmp_path_factory):
    path = _write_key(tmp_path_factory.mktemp("exercise"), [L1, L2])
    key = read_answer_key(path)
    return key, read_inp(key.network_path)


def _t(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M")


def _answers(*pairs: tuple[str, str]) -> list[Answer]:
    return [Answer(element, _t(time), row=k) for k, (element, time) in enumerate(pairs, start=1)]


def _write(tmp_path: Path, text: str, name: str = "answers.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- distances

@pytest.mark.parametrize(("element", "true_m", "battledim_m"), [
    # true: to L1's point (50 m from J2 along p2), from a node itself, from a pipe's nearer end node (0 on
    # p2 itself); BattLeDIM: to p2's midpoint (100 m from J2 and J3), from a pipe's midpoint
    ("J2", 50.0, 100.0),     # node at the leak pipe's end: 50 | 0 + 200/2
    ("J3", 150.0, 100.0),    # 150 | 0 + 100
    ("J1", 150.0, 200.0),    # 100 + 50 | sp(J1,J2) 100 + 100
    ("J4", 250.0, 200.0),    # min(sp(J4,J2) 300 + 50, sp(J4,J3) 100 + 150) | 100 + 100
    ("R", 160.0, 210.0),     # 110 + 50 | 110 + 100
    ("p2", 0.0, 0.0),        # the leak's own pipe: 0 | same pipe: 0
    ("p1", 50.0, 150.0),     # min(J1 100 + 50, J2 0 + 50) | shared end J2: 0 + 100/2 + 200/2
    ("J6", 50.0, 125.0),     # the pipe J2-J6 (the node J6 is 100): min(J2 50, J6 50 + 50) | 0 + 25 + 100
    ("p3", 150.0, 150.0),    # min(J3 0 + 150, J4 100 + 150) | 0 + 50 + 100
    ("p4", 250.0, 400.0),    # min(J4 100 + 150, J5 500 + 150) | sp(J4,J3) 100 + 400/2 + 100
    ("p6", 150.0, 325.0),    # min(J1 100 + 50, J4 100 + 150) | min(sp(J1,J2), sp(J4,J3)) 100 + 125 + 100
    ("v1", 650.0, 600.0),    # a valve, 0 m: min(J5, J7 0 + J5) 500 + 150 | sp(J5,J3) 500 + 0 + 100
])
def test_distances_along_pipes(exercise, element, true_m, battledim_m) -> None:
    key, wn = exercise
    leak = key.leaks[0]
    assert answer_distance_m(wn, element, leak) == pytest.approx(true_m)
    assert answer_distance_m(wn, element, leak, battledim=True) == pytest.approx(battledim_m)


def test_distances_to_a_leak_in_the_middle_of_a_long_pipe(exercise) -> None:
    key, wn = exercise
    leak = key.leaks[1]  # L2: p4 at 0.5 of 400 m, 200 m from J4 and J5
    assert answer_distance_m(wn, "J7", leak) == pytest.approx(200.0)  # through the 0 m valve to J5: 200
    assert answer_distance_m(wn, "J7", leak, battledim=True) == pytest.approx(200.0)  # 0 + 400/2
    assert answer_distance_m(wn, "p4", leak) == pytest.approx(0.0)  # the leak's own pipe
    assert answer_distance_m(wn, "p3", leak) == pytest.approx(200.0)  # from its end J4: 0 + 400 x 0.5


def test_a_pipe_answer_on_the_leak_pipe_is_0_m_away_however_long(tmp_path) -> None:
    # p4 made 2 km long, the leak at 0.1 of it: 200 m from J4, 1800 m from J5; the pipe's midpoint
    # would be (0.5 - 0.1) x 2000 = 800 m from the leak, past the 300 m limit
    wn = _network()
    wn.get_link("p4").length = 2000.0
    folder = tmp_path / "long"
    folder.mkdir()
    write_inp(wn, folder / "network.inp")
    leak = {"id": "L9", "pipe": "p4", "position": 0.1, "start": "2026-01-01 10:00",
            "end": "2026-01-02 10:00", "flow_m3_per_h": 1.0}
    key = read_answer_key(_write_key(folder, [leak]))
    wn = read_inp(key.network_path)
    assert wn.get_link("p4").length == pytest.approx(2000.0)
    assert answer_distance_m(wn, "p4", key.leaks[0]) == pytest.approx(0.0)
    assert answer_distance_m(wn, "p4", key.leaks[0], battledim=True) == pytest.approx(0.0)
    assert answer_distance_m(wn, "J4", key.leaks[0]) == pytest.approx(200.0)   # 0 + 0.1 x 2000
    assert answer_distance_m(wn, "J5", key.leaks[0]) == pytest.approx(1800.0)  # 0 + 0.9 x 2000
    for battledim in (False, True):
        team = score_team(key, _answers(("p4", "2026-01-01 12:00")), battledim=battledim, network=wn)
        assert (team.true_positives, team.false_positives) == (1, 0)
        assert team.answers[0].distance_m == pytest.approx(0.0)


def test_a_node_answer_and_a_pipe_answer(exercise, tmp_path) -> None:
    key, wn = exercise
    # "J6" is a pipe and a node: the file's answer is the pipe J2-J6 (50 m, from its end J2; the node J6
    # would be 50 + 50 = 100 m); the node J2 is at 50 m
    path = _write(tmp_path, "pipe_or_node,time\nJ6,2026-01-01 12:00\nJ2,2026-01-01 12:30\n")
    answers = read_answers(path, wn, key)
    team = score_team(key, answers, network=wn, match_distance_m=1000.0)
    assert [(row.kind, row.answer.pipe_or_node, row.outcome, row.leak_id) for row in team.answers] == [
        ("pipe", "J6", "true positive", "L1"), ("node", "J2", "repeat", "L1")]
    assert [row.distance_m for row in team.answers] == pytest.approx([50.0, 50.0])


# --------------------------------------------------------------------------- matching

def test_a_match_needs_a_time_inside_the_leak(exercise) -> None:
    key, wn = exercise
    # L1 is active from 2026-01-01 10:00 (included) to 2026-01-02 10:00 (excluded)
    before = score_team(key, _answers(("p2", "2026-01-01 09:59")), network=wn)
    assert before.answers[0].outcome == "false positive" and before.answers[0].distance_m is None
    at_start = score_team(key, _answers(("p2", "2026-01-01 10:00")), network=wn)
    assert at_start.answers[0].outcome == "true positive" and at_start.answers[0].delay_h == 0.0
    at_end = score_team(key, _answers(("p2", "2026-01-02 10:00")), network=wn)
    assert at_end.answers[0].outcome == "false positive"
    last = score_team(key, _answers(("p2", "2026-01-02 09:59")), network=wn)
    # 23 h 59 min after the start
    assert last.answers[0].outcome == "true positive"
    assert last.mean_detection_delay_h == pytest.approx(23.0 + 59.0 / 60.0)


def test_the_match_distance_limit(exercise) -> None:
    key, wn = exercise
    node = _answers(("J4", "2026-01-01 12:00"))  # 250 m from L1
    assert score_team(key, node, network=wn, match_distance_m=250.0).true_positives == 1  # inclusive
    short = score_team(key, node, network=wn, match_distance_m=249.9)
    assert (short.true_positives, short.false_positives) == (0, 1)
    assert short.answers[0].distance_m == pytest.approx(250.0)  # to the nearest active leak
    far = _answers(("v1", "2026-01-01 12:00"))  # 650 m from L1 (from J5: 500 + 150)
    assert score_team(key, far, network=wn).false_positives == 1  # default 300 m
    assert score_team(key, far, network=wn, match_distance_m=650.0).true_positives == 1  # inclusive
    # a pipe answer counts from its nearer end: p4 (400 m long) is 250 m from L1 (J4 100 + 150)
    long_pipe = _answers(("p4", "2026-01-01 12:00"))
    assert score_team(key, long_pipe, network=wn).true_positives == 1  # default 300 m
    assert score_team(key, long_pipe, network=wn, match_distance_m=249.9).false_positives == 1
    # BattLeDIM: p6 is 325 m from p2 (over 300), while its true distance is 150 m (from J1: 100 + 50)
    assert score_team(key, _answers(("p6", "2026-01-01 12:00")), network=wn).true_positives == 1
    assert score_team(key, _answers(("p6", "2026-01-01 12:00")), network=wn,
                      battledim=True).false_positives == 1


def test_repeats_and_false_positives(exercise) -> None:
    key, wn = exercise
    team = score_team(key, _answers(("p2", "2026-01-01 11:00"),   # finds L1 (0 m, its pipe; 1 h)
                                    ("p1", "2026-01-01 12:00"),   # L1 again, 50 m: a repeat
                                    ("v1", "2026-01-01 12:00"),   # 650 m from L1: false positive
                                    ("p2", "2026-01-01 09:00")),  # before any leak: false positive
                      network=wn)
    assert (team.true_positives, team.false_positives, team.repeats) == (1, 2, 1)
    assert [(row.answer.row, row.outcome, row.leak_id) for row in team.answers] == [
        (4, "false positive", None), (1, "true positive", "L1"), (2, "repeat", "L1"),
        (3, "false positive", None)]
    assert team.median_distance_m == pytest.approx(0.0)  # the one true positive's
    assert team.mean_detection_delay_h == pytest.approx(1.0)
    assert team.missed == ("L2",)


def test_answers_are_taken_in_time_order(exercise, tmp_path) -> None:
    key, _ = exercise
    # row 1 (p1, 50 m) is later than row 2 (p2, 0 m): row 2 finds L1, row 1 repeats it
    path = _write(tmp_path, "pipe_or_node,time\np1,2026-01-01 12:00\np2,2026-01-01 11:00\n")
    team = score(key, {"A": path}).teams["A"]
    assert [(row.answer.row, row.outcome) for row in team.answers] == [(2, "true positive"), (1, "repeat")]
    assert [row.distance_m for row in team.answers] == pytest.approx([0.0, 50.0])
    assert team.median_distance_m == pytest.approx(0.0)  # row 2's alone


def test_an_answer_finds_the_nearest_leak_not_yet_found(tmp_path) -> None:
    l3 = {"id": "L3", "pipe": "p3", "position": 0.5, "start": "2026-01-01 10:00", "end": "2026-01-02 10:00",
          "flow_m3_per_h": 1.0}
    key = read_answer_key(_write_key(tmp_path / "two", [L1, l3]))
    # node J3: L3 is 50 m away (half of p3's 100 m), L1 150 m
    team = score_team(key, _answers(("J3", "2026-01-01 12:00"), ("J3", "2026-01-01 13:00"),
                                    ("J3", "2026-01-01 14:00")))
    assert [(row.outcome, row.leak_id, row.distance_m) for row in team.answers] == [
        ("true positive", "L3", pytest.approx(50.0)), ("true positive", "L1", pytest.approx(150.0)),
        ("repeat", "L3", pytest.approx(50.0))]
    assert team.median_distance_m == pytest.approx(100.0)  # median of 50 and 150
    assert team.mean_detection_delay_h == pytest.approx(2.5)  # (2 h + 3 h) / 2


# --------------------------------------------------------------------------- BattLeDIM

def test_battledim_savings_by_hand(exercise, tmp_path) -> None:
    key, _ = exercise
    path = _write(tmp_path, "pipe_or_node,time\n"
                  "p1,2026-01-01 16:00\n"    # L1, 150 m: 0.8 x 2 m3/h x 18 h - 500 x 150/300 = 28.8 - 250
                  "p6,2026-01-01 17:00\n"    # 325 m from p2: false positive, -500
                  "p3,2026-01-01 18:00\n"    # 150 m from the found L1: repeat, 0
                  "p4,2026-01-02 01:30\n")   # L2, 0 m: 0.8 x (2 x 0.5 h + 3 + 4) m3 = 0.8 x 8 = 6.4
    result = score(key.path, {"A": path}, battledim=True)
    team = result.teams["A"]
    assert [row.battledim_eur for row in team.answers] == pytest.approx([-221.2, -500.0, 0.0, 6.4])
    assert team.battledim_total_eur == pytest.approx(-714.8)  # -221.2 - 500 + 0 + 6.4
    data = json.loads(json.dumps(result.to_dict()))
    assert data["battledim"]["total_eur"] == pytest.approx(-714.8)
    assert data["battledim"]["teams"]["A"]["total_eur"] == pytest.approx(-714.8)
    scored = data["teams"]["A"]
    # true positives at 150 m (6 h after L1's start) and 0 m (1.5 h after L2's)
    assert (scored["true_positives"], scored["false_positives"], scored["repeats"]) == (2, 1, 1)
    assert scored["median_distance_m"] == pytest.approx(75.0)
    assert scored["mean_detection_delay_h"] == pytest.approx(3.75)
    assert scored["answers"][0]["outcome"] == "true positive" and scored["answers"][0]["leak"] == "L1"


def test_battledim_growing_leak_from_a_node(exercise) -> None:
    key, wn = exercise
    # L2 from its start: 1 + 2 + 3 + 4 = 10 m3; node J5 is 0 + 400/2 = 200 m from p4's midpoint
    # 0.8 x 10 - 500 x 200/300 = 8 - 333.333...
    team = score_team(key, _answers(("J5", "2026-01-02 00:00")), battledim=True, network=wn)
    assert team.battledim_total_eur == pytest.approx(8.0 - 1000.0 / 3.0)
    # from 02:45: 3 x 0.25 h + 4 = 4.75 m3 -> 3.8 EUR, on the pipe itself (0 m)
    late = score_team(key, _answers(("p4", "2026-01-02 02:45")), battledim=True, network=wn)
    assert late.battledim_total_eur == pytest.approx(3.8)


def test_battledim_fixes_the_match_distance(exercise) -> None:
    key, wn = exercise
    with pytest.raises(InputError, match="300 m"):
        score_team(key, [], battledim=True, match_distance_m=200.0, network=wn)


# --------------------------------------------------------------------------- leaderboard

def test_leaderboard(exercise) -> None:
    key, _ = exercise
    teams = {
        "near": _answers(("p2", "2026-01-01 12:00")),                            # 1 TP at 0 m
        "far": _answers(("p1", "2026-01-01 12:00")),                             # 1 TP at 50 m
        "busy": _answers(("p1", "2026-01-01 12:00"), ("p4", "2026-01-02 01:00"),  # 2 TP (50 m, 0 m)
                         ("v1", "2026-01-01 12:00")),                             # and 1 FP (650 m)
        "none": [],
        "twin": _answers(("p2", "2026-01-01 12:00")),                            # ties with "near"
    }
    result = score(key, teams)
    busy = result.teams["busy"]
    assert (busy.true_positives, busy.false_positives, busy.median_distance_m) == (2, 1, pytest.approx(25.0))
    assert result.leaderboard == ((1, "busy"), (2, "near"), (2, "twin"), (4, "far"), (5, "none"))
    data = result.to_dict()
    assert [entry["team"] for entry in data["leaderboard"]] == ["busy", "near", "twin", "far", "none"]
    assert "battledim" not in data and data["teams"]["none"]["missed"] == ["L1", "L2"]
    assert data["teams"]["none"]["median_distance_m"] is None

    euros = score(key, teams, battledim=True)
    # near/twin: 0.8 x 2 x 22 h = 35.2; far: 35.2 - 500 x 150/300 = -214.8; none: 0;
    # busy: -214.8 + 0.8 x (2 + 3 + 4) = -214.8 + 7.2 ... and v1 at 12:00, 600 m from p2: -500 -> -707.6
    assert euros.leaderboard == ((1, "near"), (1, "twin"), (3, "none"), (4, "far"), (5, "busy"))
    data = euros.to_dict()
    assert data["battledim"]["total_eur"] == pytest.approx(35.2)  # the first-ranked team's
    assert data["battledim"]["teams"]["busy"]["total_eur"] == pytest.approx(-707.6)
    assert data["leaderboard"][3] == {"rank": 4, "team": "far", "true_positives": 1, "false_positives": 0,
                                      "repeats": 0, "median_distance_m": 150.0,
                                      "mean_detection_delay_h": 2.0, "total_eur": -214.8}


# --------------------------------------------------------------------------- reading answers

def test_read_answers_with_a_bom_and_search_areas(exercise, tmp_path) -> None:
    key, wn = exercise
    text = "\ufeffTime,pipe_or_node,search_area,comment\r\n2026-01-01 12:00,p2,p1 p2;p3,seen\r\n\r\n" \
           "2026-01-02 01:00,J5,,\r\n"
    answers = read_answers(_write(tmp_path, text), wn, (key.start, key.end))
    assert answers == [Answer("p2", _t("2026-01-01 12:00"), ("p1", "p2", "p3"), 1),
                       Answer("J5", _t("2026-01-02 01:00"), (), 2)]
    team = score_team(key, answers, network=wn)
    assert [row.leak_in_search_area for row in team.answers] == [True, None]
    assert read_answers(_write(tmp_path, "pipe_or_node,time\n", "header.csv"), wn, key) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("pipe_or_node,time\np1,2026-01-01 12:00\np99,2026-01-01 12:00\n", ["row 2 (line 3)", "'p99'", "fix:"]),
    ("pipe_or_node,time\np1,2026-01-03 00:00\n", ["row 1 (line 2)", "outside the exercise", "fix:"]),
    ("pipe_or_node,time\np1,2025-12-31 23:59\n", ["row 1 (line 2)", "outside the exercise"]),
    ("pipe_or_node,time\np1,1/1/2026 12:00\n", ["row 1 (line 2)", "YYYY-MM-DD HH:MM", "fix:"]),
    ("pipe_or_node,time\n,2026-01-01 12:00\n", ["row 1 (line 2)", "no pipe_or_node", "fix:"]),
    ("pipe,time\np1,2026-01-01 12:00\n", ["line 1", "lacks pipe_or_node", "fix:"]),
    ("pipe_or_node;time\np1;2026-01-01 12:00\n", ["line 1", "semicolons"]),
    ("pipe_or_node,time\np1,2026-01-01 12:00,p2\n", ["row 1 (line 2)", "3 fields", "fix:"]),
    ("pipe_or_node,time,search_area\np1,2026-01-01 12:00,p2 p77\n", ["row 1 (line 2)", "'p77'", "fix:"]),
    ("pipe_or_node,time\np1,\"2026-01-01 12:00\n", ["not a CSV table", "fix:"]),
    ("", ["empty", "fix:"]),
    (" \n\n", ["empty", "fix:"]),
])
def test_bad_answers_files(exercise, tmp_path, text, expected) -> None:
    key, wn = exercise
    path = _write(tmp_path, text, "team-blue.csv")
    with pytest.raises(InputError) as caught:
        read_answers(path, wn, key)
    message = str(caught.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_bad_answers_not_text_or_missing(exercise, tmp_path) -> None:
    key, wn = exercise
    path = tmp_path / "latin.csv"
    path.write_bytes("pipe_or_node,time\nr\xe9seau,2026-01-01 12:00\n".encode("cp1252"))
    with pytest.raises(InputError, match=r"latin\.csv, line 2: not UTF-8"):
        read_answers(path, wn, key)
    with pytest.raises(InputError, match="no such answers file"):
        score(key, {"A": tmp_path / "missing.csv"})
    with pytest.raises(InputError, match="team A, row 1: 'nowhere'"):
        score(key, {"A": _answers(("nowhere", "2026-01-01 12:00"))})
    with pytest.raises(InputError, match="no team"):
        score(key, {})
