"""Scoring trainees' answers to a leak-detection exercise against its answer key.

An answers file is a CSV table with a header, one row per leak a team reports::

    pipe_or_node,time,search_area
    p123,2026-01-01 09:00,p122 p123;p124
    n45,2026-01-02 14:30,

``pipe_or_node`` is a pipe (or pump, valve) or a node of the exercise's network (an id that
is both is taken as the pipe); ``time`` ("YYYY-MM-DD HH:MM") is when the team would send a
crew, inside the exercise's period; the optional ``search_area`` lists the pipes the crew would
search (separated by spaces or semicolons).

Answers are taken in time order. An answer *matches* the nearest leak that is active at its
time (``start <= time < end``), not yet found, within ``match_distance_m`` (300 m by default,
BattLeDIM's limit) along the pipes: a true positive. An answer whose only leaks within reach
(active, within the distance) were already found is a *repeat*; any other unmatched answer is
a *false positive*. Distances (:func:`answer_distance_m`) are along the pipes, length-weighted,
in both directions, pumps and valves counting 0 m:

- by default from the answer to the leak's true point (``position`` along its pipe): from a
  node itself, and from a pipe as a whole (a crew walks the pipe it is sent to: from its
  nearer end node, 0 on the leak's own pipe);
- with ``battledim=True``, BattLeDIM 2020's rule (see :func:`answer_distance_m`), which knows
  only the leak's pipe.

With ``battledim=True`` each answer also gets BattLeDIM's savings in euros: a true positive
earns 0.80 EUR per m3 the leak loses from the answer's time to the leak's end and pays
500 EUR x distance / 300 m for the crew's search; a false positive costs 500 EUR; a repeat 0.
"""

from __future__ import annotations

import csv
import datetime
import difflib
import io
import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import wntr

from ..errors import InputError
from ..network import read_inp
from ..units import SECONDS_PER_HOUR
from .key import TIME_FORMAT, AnswerKey, KeyLeak, format_time, read_answer_key

__all__ = [
    "BATTLEDIM_CREW_EUR",
    "BATTLEDIM_EUR_PER_M3",
    "BATTLEDIM_MAX_DISTANCE_M",
    "OUTCOMES",
    "Answer",
    "AnswerScore",
    "ScoreResult",
    "TeamScore",
    "answer_distance_m",
    "read_answers",
    "score",
    "score_team",
]

#: BattLeDIM 2020: the price of a cubic metre of water saved (EUR).
BATTLEDIM_EUR_PER_M3 = 0.80
#: BattLeDIM 2020: the cost of a crew sent for nothing, and of a search of the full distance (EUR).
BATTLEDIM_CREW_EUR = 500.0
#: BattLeDIM 2020: the farthest an answer may be from a leak and still find it (m).
BATTLEDIM_MAX_DISTANCE_M = 300.0
#: What an answer turns out to be.
TRUE_POSITIVE, FALSE_POSITIVE, REPEAT = "true positive", "false positive", "repeat"
OUTCOMES = (TRUE_POSITIVE, FALSE_POSITIVE, REPEAT)

_COLUMNS = ("pipe_or_node", "time", "search_area")
_HEADER_FIX = "start the file with the header line pipe_or_node,time (and optionally ,search_area)"
_AREA_SEPARATORS = re.compile(r"[\s;]+")


@dataclass(frozen=True)
class Answer:
    """One leak a team reports.

    Attributes
    ----------
    pipe_or_node : str
        A pipe (pump, valve) or node id of the exercise's network; an id that is both is the pipe.
    time : datetime.datetime
        When the team would send a crew.
    search_area : tuple of str
        Pipes the crew would search (may be empty); reported, not scored.
    row : int or None
        Its 1-based data row in the answers file (the header is not counted), when read from one.
    """

    pipe_or_node: str
    time: datetime.datetime
    search_area: tuple[str, ...] = ()
    row: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the answer as JSON-ready data."""
        return {"row": self.row, "pipe_or_node": self.pipe_or_node, "time": format_time(self.time),
                "search_area": list(self.search_area)}


# --------------------------------------------------------------------------- reading answers


def _period(period: AnswerKey | tuple[datetime.datetime, datetime.datetime]
            ) -> tuple[datetime.datetime, datetime.datetime]:
    if isinstance(period, AnswerKey):
        return period.start, period.end
    return period[0], period[1]


def _suggest(name: str, wn: wntr.network.WaterNetworkModel) -> str:
    close = difflib.get_close_matches(name, list(wn.link_name_list) + list(wn.node_name_list), n=3)
    return f" (close: {', '.join(close)})" if close else ""


def _decode_answers(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such answers file; fix: give the team's answers CSV") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder; fix: give the team's answers CSV file") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"{path}, line {line}: not UTF-8 text; fix: save the answers as CSV UTF-8") from None
    if not text.strip():
        raise InputError(f"{path}: the answers file is empty; fix: {_HEADER_FIX}, "
                         "then one row per leak found")
    return text


def _header(path: Path, fields: Sequence[str] | None) -> list[str]:
    names = [str(name).strip().lower() for name in fields or []]
    missing = [name for name in _COLUMNS[:2] if name not in names]
    if missing:
        hint = " (the file seems to separate columns with semicolons: use commas)" if (
            len(names) == 1 and ";" in names[0]) else ""
        raise InputError(f"{path}, line 1: the header lacks {', '.join(missing)}{hint}; fix: {_HEADER_FIX}")
    duplicated = sorted({name for name in names if names.count(name) > 1 and name in _COLUMNS})
    if duplicated:
        raise InputError(f"{path}, line 1: the column {duplicated[0]} appears twice; fix: {_HEADER_FIX}")
    return names


def _answer_time(text: str, where: str, period: tuple[datetime.datetime, datetime.datetime]
                 ) -> datetime.datetime:
    try:
        time = datetime.datetime.strptime(text.strip(), TIME_FORMAT)
    except ValueError:
        raise InputError(f"{where}: time {text!r} is not YYYY-MM-DD HH:MM; fix: write it as "
                         f"YYYY-MM-DD HH:MM, e.g. {format_time(period[0])}") from None
    if not period[0] <= time < period[1]:
        raise InputError(f"{where}: time {text.strip()} is outside the exercise "
                         f"({format_time(period[0])} to {format_time(period[1])}); fix: give a time "
                         "inside the exercise's period (end excluded)")
    return time


def _answer_row(values: list[str], names: list[str], where: str, wn: wntr.network.WaterNetworkModel,
                period: tuple[datetime.datetime, datetime.datetime], row: int) -> Answer:
    cells = dict(zip(names, values, strict=False))
    element = cells.get("pipe_or_node", "").strip()
    if not element:
        raise InputError(f"{where}: no pipe_or_node; fix: give the pipe or node where the leak is")
    if element not in wn.link_name_list and element not in wn.node_name_list:
        raise InputError(f"{where}: {element!r} is no pipe or node of the exercise's network"
                         f"{_suggest(element, wn)}; fix: give a pipe or node id of the trainees' network")
    time = _answer_time(cells.get("time", ""), where, period)
    area = tuple(name for name in _AREA_SEPARATORS.split(cells.get("search_area", "").strip()) if name)
    unknown = [name for name in area if name not in wn.link_name_list]
    if unknown:
        raise InputError(f"{where}: search_area names {unknown[0]!r}, no pipe of the exercise's network"
                         f"{_suggest(unknown[0], wn)}; fix: list pipe ids separated by spaces or semicolons")
    return Answer(element, time, area, row)


def read_answers(path: str | Path, network: wntr.network.WaterNetworkModel | str | Path,
                 period: AnswerKey | tuple[datetime.datetime, datetime.datetime]) -> list[Answer]:
    """Read and check a team's answers file.

    Parameters
    ----------
    path : str or Path
        The CSV file (UTF-8, a byte-order mark allowed; comma-separated; a header line with
        ``pipe_or_node`` and ``time``, optionally ``search_area``; other columns are ignored).
    network : wntr.network.WaterNetworkModel or str or Path
        The exercise's network (or its ``.inp`` file): every id must be one of its pipes,
        pumps, valves or nodes.
    period : AnswerKey or (datetime, datetime)
        The exercise's period (from the key): every time must be inside it, end excluded.

    Returns
    -------
    list of Answer
        In file order, each with its data row; a file with only the header gives no answers.

    Raises
    ------
    InputError
        For a missing, empty or malformed file, an unknown id or a time outside the exercise:
        the message names the file, the row (1-based, the header not counted) and its line,
        and the fix.
    """
    path = Path(path)
    wn = network if isinstance(network, wntr.network.WaterNetworkModel) else read_inp(network)
    bounds = _period(period)
    reader = csv.reader(io.StringIO(_decode_answers(path), newline=""), strict=True)
    answers: list[Answer] = []
    try:
        names = _header(path, next(reader, None))
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            row = len(answers) + 1
            where = f"{path}, row {row} (line {reader.line_num})"
            if len(values) > len(names):
                raise InputError(f"{where}: {len(values)} fields, the header has {len(names)}; fix: one "
                                 "pipe_or_node and one time per row, pipes of a search area separated by "
                                 "spaces or semicolons (not commas)")
            answers.append(_answer_row(values, names, where, wn, bounds, row))
    except csv.Error as exc:
        raise InputError(f"{path}, line {reader.line_num}: not a CSV table ({exc}); fix: save the answers "
                         "as CSV (comma-separated, UTF-8)") from None
    return answers


# --------------------------------------------------------------------------- distances


class Distances:
    """Shortest paths along the pipes of a network, from the end nodes of leak pipes (cached)."""

    def __init__(self, wn: wntr.network.WaterNetworkModel) -> None:
        self.wn = wn
        self.ends: dict[str, tuple[str, str]] = {}
        self.length_m: dict[str, float] = {}
        graph = nx.Graph()
        graph.add_nodes_from(wn.node_name_list)
        for name, link in wn.links():
            length = float(link.length) if link.link_type == "Pipe" else 0.0
            self.ends[name] = (link.start_node_name, link.end_node_name)
            self.length_m[name] = length
            u, v = self.ends[name]
            if u != v and (not graph.has_edge(u, v) or graph[u][v]["weight"] > length):
                graph.add_edge(u, v, weight=length)
        self.graph = graph
        self._from: dict[str, dict[str, float]] = {}

    def between_nodes_m(self, node: str, source: str) -> float:
        """Shortest path from ``source`` to ``node``, m (inf when not connected)."""
        if source not in self._from:
            self._from[source] = nx.single_source_dijkstra_path_length(self.graph, source, weight="weight")
        return float(self._from[source].get(node, math.inf))

    def leak_pipe(self, leak: KeyLeak, key_path: Path | None) -> tuple[str, str, float]:
        if leak.pipe not in self.ends:
            raise InputError(f"{key_path}: leak {leak.id} is on {leak.pipe!r}, no pipe of the exercise's "
                             "network; fix: restore the answer key written by nrwkit exercise create")
        u, v = self.ends[leak.pipe]
        return u, v, self.length_m[leak.pipe]

    def node_to_point_m(self, node: str, leak: KeyLeak) -> float:
        u, v = self.ends[leak.pipe]
        length = self.length_m[leak.pipe]
        return min(self.between_nodes_m(node, u) + leak.position * length,
                   self.between_nodes_m(node, v) + (1.0 - leak.position) * length)

    def true_m(self, element: str, kind: str, leak: KeyLeak) -> float:
        if kind == "node":
            return self.node_to_point_m(element, leak)
        if element == leak.pipe:
            return 0.0  # the crew walks the pipe it is sent to: the leak is on it
        return min(self.node_to_point_m(end, leak) for end in self.ends[element])

    def between_pipes_m(self, a: str, b: str) -> float:
        """Return BattLeDIM's distance between two pipes, m.

        The shortest path between their nearest end nodes plus half of each pipe's length; 0 for
        the same pipe, inf when they are not connected.
        """
        if a == b:
            return 0.0
        nearest = min(self.between_nodes_m(x, y) for x in self.ends[a] for y in self.ends[b])
        return nearest + (self.length_m[a] + self.length_m[b]) / 2.0

    def battledim_m(self, element: str, kind: str, leak: KeyLeak) -> float:
        if kind == "pipe":
            return self.between_pipes_m(element, leak.pipe)
        nearest = min(self.between_nodes_m(element, b) for b in self.ends[leak.pipe])
        return nearest + self.length_m[leak.pipe] / 2.0


def _kind(element: str, wn: wntr.network.WaterNetworkModel) -> str:
    return "pipe" if element in wn.link_name_list else "node"


def answer_distance_m(network: wntr.network.WaterNetworkModel, pipe_or_node: str, leak: KeyLeak, *,
                      battledim: bool = False) -> float:
    """Return the distance along the pipes from an answer to a leak, m.

    The network is taken as an undirected graph whose edges are its links, weighted by length
    (pumps and valves 0 m, open or closed alike: a crew walks along the mains whatever their
    status). ``inf`` when the two are not connected.

    Parameters
    ----------
    network : wntr.network.WaterNetworkModel
        The exercise's network.
    pipe_or_node : str
        The answer: a pipe (pump, valve) id, or a node id (an id that is both is the pipe).
    leak : KeyLeak
        A leak of the answer key.
    battledim : bool, default False
        False: the true distance, from the answer's place to the leak's point ``position`` x
        length from its pipe's start node, the shorter way round. A node answer is the node; a
        pipe answer is the whole pipe (the crew walks it), so the distance is from its nearer
        end node, and 0 on the leak's own pipe.
        True: BattLeDIM 2020's rule, which knows only the leak's pipe. Between two pipes, the
        shortest path between their nearest end nodes (the least of the four end-to-end paths)
        plus half of each pipe's length, i.e. from midpoint to midpoint; 0 on the leak's own
        pipe. A node answer is taken as a pipe of length 0 at that node: the shortest path from
        the node to the leak pipe's nearer end node plus half the leak pipe's length (from the
        node to the leak pipe's midpoint; half its length when the node is one of its ends).

    Returns
    -------
    float
    """
    distances = Distances(network)
    distances.leak_pipe(leak, None)
    kind = _kind(pipe_or_node, network)
    if kind == "node" and pipe_or_node not in network.node_name_list:
        raise InputError(f"{pipe_or_node!r} is no pipe or node of the network; fix: give one of its ids")
    rule = distances.battledim_m if battledim else distances.true_m
    return rule(pipe_or_node, kind, leak)


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class AnswerScore:
    """How one answer scored.

    Attributes
    ----------
    answer : Answer
    kind : str
        ``"pipe"`` (any link) or ``"node"``.
    outcome : str
        ``"true positive"``, ``"false positive"`` or ``"repeat"``.
    leak_id : str or None
        The leak found (true positive) or found again (repeat); None for a false positive.
    distance_m : float or None
        To that leak; for a false positive, to the nearest leak active at the answer's time
        (None when none is active or none is connected).
    delay_h : float or None
        Detection delay of a true positive: the answer's time minus the leak's start, hours.
    battledim_eur : float or None
        BattLeDIM's savings (None unless scored with ``battledim=True``).
    leak_in_search_area : bool or None
        Whether the search area holds the leak's pipe (None without a search area or a leak).
    """

    answer: Answer
    kind: str
    outcome: str
    leak_id: str | None
    distance_m: float | None
    delay_h: float | None
    battledim_eur: float | None
    leak_in_search_area: bool | None

    def to_dict(self) -> dict[str, Any]:
        """Return the row as JSON-ready data."""
        return {**self.answer.to_dict(), "kind": self.kind, "outcome": self.outcome, "leak": self.leak_id,
                "distance_m": _rounded(self.distance_m), "delay_h": _rounded(self.delay_h),
                "battledim_eur": _rounded(self.battledim_eur),
                "leak_in_search_area": self.leak_in_search_area}


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class TeamScore:
    """A team's score.

    Attributes
    ----------
    name : str
    answers : tuple of AnswerScore
        In time order (ties in file order).
    missed : tuple of str
        Ids of the leaks no answer found, in the key's order.
    battledim : bool
        Scored with BattLeDIM's distances and savings.
    match_distance_m : float
        The farthest an answer may be from a leak and still find it.
    """

    name: str
    answers: tuple[AnswerScore, ...]
    missed: tuple[str, ...]
    battledim: bool
    match_distance_m: float

    def _count(self, outcome: str) -> int:
        return sum(1 for row in self.answers if row.outcome == outcome)

    @property
    def true_positives(self) -> int:
        """Answers that found a leak."""
        return self._count(TRUE_POSITIVE)

    @property
    def false_positives(self) -> int:
        """Answers near no leak active at their time."""
        return self._count(FALSE_POSITIVE)

    @property
    def repeats(self) -> int:
        """Answers whose only leaks within reach were already found."""
        return self._count(REPEAT)

    @property
    def median_distance_m(self) -> float | None:
        """Median distance of the true positives to their leaks, m (None without any)."""
        found = [row.distance_m for row in self.answers if row.outcome == TRUE_POSITIVE]
        return statistics.median(d for d in found if d is not None) if found else None

    @property
    def mean_detection_delay_h(self) -> float | None:
        """Mean delay of the true positives after their leaks' starts, hours (None without any)."""
        delays = [row.delay_h for row in self.answers if row.outcome == TRUE_POSITIVE]
        return statistics.fmean(d for d in delays if d is not None) if delays else None

    @property
    def battledim_total_eur(self) -> float | None:
        """BattLeDIM's total savings, EUR (None unless scored with ``battledim=True``)."""
        if not self.battledim:
            return None
        return math.fsum(row.battledim_eur or 0.0 for row in self.answers)

    def to_dict(self) -> dict[str, Any]:
        """Return the score as JSON-ready data."""
        data: dict[str, Any] = {
            "true_positives": self.true_positives, "false_positives": self.false_positives,
            "repeats": self.repeats, "median_distance_m": _rounded(self.median_distance_m),
            "mean_detection_delay_h": _rounded(self.mean_detection_delay_h), "missed": list(self.missed),
            "answers": [row.to_dict() for row in self.answers]}
        if self.battledim:
            data["battledim_total_eur"] = _rounded(self.battledim_total_eur)
        return data


def _row(answer: Answer, kind: str, active: list[tuple[float, int, KeyLeak]], found: set[str],
         reach_m: float, battledim: bool) -> AnswerScore:
    """Score one answer against the leaks active at its time, sorted by distance."""
    within = [(d, leak) for d, _, leak in active if d <= reach_m]
    fresh = [(d, leak) for d, leak in within if leak.id not in found]
    area = set(answer.search_area)
    if fresh:
        distance, leak = fresh[0]
        found.add(leak.id)
        delay = (answer.time - leak.start).total_seconds() / SECONDS_PER_HOUR
        eur = (BATTLEDIM_EUR_PER_M3 * leak.volume_m3(answer.time)
               - BATTLEDIM_CREW_EUR * distance / BATTLEDIM_MAX_DISTANCE_M) if battledim else None
        return AnswerScore(answer, kind, TRUE_POSITIVE, leak.id, distance, delay, eur,
                           leak.pipe in area if area else None)
    if within:
        distance, leak = within[0]
        return AnswerScore(answer, kind, REPEAT, leak.id, distance, None, 0.0 if battledim else None,
                           leak.pipe in area if area else None)
    nearest = active[0][0] if active and math.isfinite(active[0][0]) else None
    return AnswerScore(answer, kind, FALSE_POSITIVE, None, nearest, None,
                       -BATTLEDIM_CREW_EUR if battledim else None, None)


def _check_answer(answer: Answer, wn: wntr.network.WaterNetworkModel, team: str) -> str:
    if answer.pipe_or_node not in wn.link_name_list and answer.pipe_or_node not in wn.node_name_list:
        row = f", row {answer.row}" if answer.row is not None else ""
        raise InputError(f"team {team}{row}: {answer.pipe_or_node!r} is no pipe or node of the exercise's "
                         f"network{_suggest(answer.pipe_or_node, wn)}; fix: give a pipe or node id of it")
    return _kind(answer.pipe_or_node, wn)


def _team(key: AnswerKey, answers: Sequence[Answer], distances: Distances, name: str, battledim: bool,
          match_distance_m: float) -> TeamScore:
    for leak in key.leaks:
        distances.leak_pipe(leak, key.path)
    rule = distances.battledim_m if battledim else distances.true_m
    ordered = sorted(enumerate(answers), key=lambda item: (item[1].time, item[0]))
    found: set[str] = set()
    rows = []
    for _, answer in ordered:
        kind = _check_answer(answer, distances.wn, name)
        active = sorted(((rule(answer.pipe_or_node, kind, leak), k, leak) for k, leak in enumerate(key.leaks)
                         if leak.start <= answer.time < leak.end), key=lambda item: (item[0], item[1]))
        rows.append(_row(answer, kind, active, found, match_distance_m, battledim))
    missed = tuple(leak.id for leak in key.leaks if leak.id not in found)
    return TeamScore(name, tuple(rows), missed, battledim, match_distance_m)


def _reach_m(battledim: bool, match_distance_m: float) -> float:
    if not match_distance_m > 0 or not math.isfinite(match_distance_m):
        raise InputError(f"match_distance_m = {match_distance_m!r}: give a distance above 0 m")
    if battledim and match_distance_m != BATTLEDIM_MAX_DISTANCE_M:
        raise InputError(f"match_distance_m = {match_distance_m:g} m: BattLeDIM's rules fix it at "
                         f"{BATTLEDIM_MAX_DISTANCE_M:g} m; fix: leave match_distance_m at its default")
    return float(match_distance_m)


def score_team(key: AnswerKey, answers: Sequence[Answer], *, battledim: bool = False,
               match_distance_m: float = BATTLEDIM_MAX_DISTANCE_M, name: str = "team",
               network: wntr.network.WaterNetworkModel | None = None) -> TeamScore:
    """Score one team's answers.

    Parameters
    ----------
    key : AnswerKey
        The exercise's truth.
    answers : sequence of Answer
        The team's answers, in any order: they are taken in time order (ties in the given order).
    battledim : bool, default False
        Use BattLeDIM 2020's distances (:func:`answer_distance_m`) and give each answer its
        savings in euros (the module's docstring); the match distance is then 300 m.
    match_distance_m : float, default 300
        The farthest an answer may be from a leak and still find it (inclusive).
    name : str, default "team"
        The team's name.
    network : wntr.network.WaterNetworkModel, optional
        The exercise's network, when already read (default: read ``key.network_path``).

    Returns
    -------
    TeamScore

    Raises
    ------
    InputError
        For an answer on no pipe or node of the network, a leak of the key on no pipe of it, or
        a match distance that is not positive (or not 300 m with ``battledim``).
    """
    reach = _reach_m(battledim, match_distance_m)
    wn = network if network is not None else read_inp(key.network_path)
    return _team(key, answers, Distances(wn), name, battledim, reach)


def _ranking(team: TeamScore) -> tuple[float, ...]:
    if team.battledim:
        return (-(team.battledim_total_eur or 0.0),)
    median = team.median_distance_m
    return (-team.true_positives, team.false_positives, math.inf if median is None else median)


@dataclass(frozen=True)
class ScoreResult:
    """The scores of all teams of an exercise.

    Attributes
    ----------
    teams : dict of str to TeamScore
        In the order given.
    battledim : bool
        Scored with BattLeDIM's rules.
    match_distance_m : float
    """

    teams: dict[str, TeamScore]
    battledim: bool
    match_distance_m: float

    @property
    def leaderboard(self) -> tuple[tuple[int, str], ...]:
        """(rank, team), best first.

        By BattLeDIM total (highest first) with ``battledim``, else by true positives (most
        first), then false positives (fewest first), then median distance (shortest first, none
        last). Teams equal on these share a rank (1, 1, 3), listed by name.
        """
        ordered = sorted(self.teams.values(), key=lambda team: (_ranking(team), team.name))
        ranks: list[tuple[int, str]] = []
        for place, team in enumerate(ordered, start=1):
            tied = ranks and _ranking(self.teams[ranks[-1][1]]) == _ranking(team)
            ranks.append((ranks[-1][0] if tied else place, team.name))
        return tuple(ranks)

    def to_dict(self) -> dict[str, Any]:
        """Return the scores as JSON-ready data.

        ``{"rules": {...}, "teams": {name: {...}}, "leaderboard": [{"rank", "team", ...}],
        "battledim": {"total_eur", "teams": {name: {"total_eur"}}}}``, the last only when scored
        with ``battledim``: its ``total_eur`` is the first-ranked team's total (the only team's
        when there is one), each team's is under ``teams``.
        """
        board = []
        for rank, name in self.leaderboard:
            team = self.teams[name]
            entry = {"rank": rank, "team": name, "true_positives": team.true_positives,
                     "false_positives": team.false_positives, "repeats": team.repeats,
                     "median_distance_m": _rounded(team.median_distance_m),
                     "mean_detection_delay_h": _rounded(team.mean_detection_delay_h)}
            if self.battledim:
                entry["total_eur"] = _rounded(team.battledim_total_eur)
            board.append(entry)
        rules = {"distance": "battledim" if self.battledim else "along pipes to the leak's point",
                 "match_distance_m": self.match_distance_m}
        data: dict[str, Any] = {"rules": rules,
                                "teams": {name: team.to_dict() for name, team in self.teams.items()},
                                "leaderboard": board}
        if self.battledim:
            first = self.teams[self.leaderboard[0][1]] if self.teams else None
            data["battledim"] = {
                "total_eur": _rounded(first.battledim_total_eur) if first else None,
                "teams": {name: {"total_eur": _rounded(team.battledim_total_eur)}
                          for name, team in self.teams.items()}}
        return data


def score(key: AnswerKey | str | Path, teams: Mapping[str, str | Path | Sequence[Answer]], *,
          battledim: bool = False, match_distance_m: float = BATTLEDIM_MAX_DISTANCE_M) -> ScoreResult:
    """Score one or several teams and rank them.

    Parameters
    ----------
    key : AnswerKey or str or Path
        The exercise's answer key (or its ``answer-key.json``).
    teams : mapping of str to Path or sequence of Answer
        Each team's answers file (read with :func:`read_answers`) or answers.
    battledim : bool, default False
        Score with BattLeDIM 2020's rules (:func:`score_team`).
    match_distance_m : float, default 300
        The farthest an answer may be from a leak and still find it.

    Returns
    -------
    ScoreResult

    Raises
    ------
    InputError
        For no team, a bad key, a bad answers file (naming it, the row and the fix) or a bad
        match distance.
    """
    if not teams:
        raise InputError("no team to score; fix: give at least one answers file")
    reach = _reach_m(battledim, match_distance_m)
    key = key if isinstance(key, AnswerKey) else read_answer_key(key)
    wn = read_inp(key.network_path)
    distances = Distances(wn)
    scores = {}
    for name, given in teams.items():
        answers = read_answers(given, wn, key) if isinstance(given, str | Path) else list(given)
        scores[name] = _team(key, answers, distances, name, battledim, reach)
    return ScoreResult(scores, battledim, reach)
