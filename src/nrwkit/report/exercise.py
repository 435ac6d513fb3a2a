"""The debrief of a leak-detection exercise: the true leaks, each team's answers, the leaderboard.

Written from the answer key's side only (it shows the hidden truth), never into the trainee
bundle. One self-contained HTML file (:class:`~nrwkit.report.html.Report`): key figures; a map
of the true leaks at their points along their pipes and of each team's answers in the team's
colour (hover for the outcome, the distance and the delay); the leaderboard; each team's
answers; the true leaks; and how answers are scored.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import wntr

from ..exercise.key import AnswerKey, KeyLeak, format_time
from ..exercise.score import (
    BATTLEDIM_CREW_EUR,
    BATTLEDIM_EUR_PER_M3,
    BATTLEDIM_MAX_DISTANCE_M,
    FALSE_POSITIVE,
    REPEAT,
    TRUE_POSITIVE,
    AnswerScore,
    ScoreResult,
    TeamScore,
)
from ..network import read_inp
from ..network.layout import link_coordinates, link_midpoint
from ..units import HOURS_PER_DAY, SECONDS_PER_HOUR
from .html import Card, Report, table_html
from .maps import network_map

__all__ = ["TEAM_COLOURS", "debrief_map", "debrief_report", "leak_point"]

#: The colour of each team on the map and in the tables, in the order the teams were given
#: (repeated past the eighth team); none is the red of the true leaks or the grey of the pipes.
TEAM_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
_LEAK_COLOUR = "#c0392b"
#: An empty cell (a figure that does not apply, e.g. the delay of a false positive).
_NONE = "–"
_BATTLEDIM_COLUMN = "BattLeDIM savings (EUR)"


def debrief_report(key: AnswerKey, result: ScoreResult, *, kicker: str = "Leak-detection exercise") -> Report:
    """Build the HTML debrief of a scored leak-detection exercise.

    Parameters
    ----------
    key : AnswerKey
        The exercise's truth (its network is read from ``key.network_path``).
    result : ScoreResult
        The teams' scores, from :func:`nrwkit.exercise.score.score` with the same key.
    kicker : str
        The line above the title.

    Returns
    -------
    Report
        Key figures (period, true leaks, teams, best team), a map of the true leaks and of
        every team's answers, the leaderboard, each team's answers, the true leaks and how
        answers are scored; units in every header (m, h, m3/h, m3, EUR). It shows the answer
        key: hand it out after the exercise, never with the trainee bundle.
    """
    wn = read_inp(key.network_path)
    name = key.path.parent.name if key.path is not None else key.network_path.stem
    teams = list(result.teams.values())
    rule = "BattLeDIM 2020 rules" if result.battledim else (
        f"distances along the pipes, matched within {result.match_distance_m:g} m")
    report = Report(title=f"Exercise debrief: {name}", kicker=kicker,
                    subtitle=(f"{len(key.leaks)} true {_plural(len(key.leaks), 'leak')}, "
                              f"{len(teams)} {_plural(len(teams), 'team')}, "
                              f"{format_time(key.start)} to {format_time(key.end)}; scored with {rule}. "
                              "This page shows the answer key: never hand it out with the trainee bundle."))
    for role, path in (("Answer key", key.path), ("Network", key.network_path)):
        if path is not None and path.is_file():
            report.add_input(role, path)
    report.options = {"match distance (m)": f"{result.match_distance_m:g}",
                      "distances": "BattLeDIM" if result.battledim else "along the pipes to the leak's point",
                      "seed": key.seed}
    report.cards = _cards(key, result)
    colours = _colours(result)
    report.add_map("True leaks and answers", debrief_map(wn, key, result),
                   lead="Red stars are the true leaks, at their points along their pipes. Each team's "
                        "answers are in its colour: a filled circle found a leak (a true positive), an open "
                        "circle found one again (a repeat), a cross found none (a false positive). Node "
                        "answers sit at the node, pipe answers at the pipe's midpoint; a dashed line joins "
                        "an answer to the leak it matched (the distances in the tables are along the pipes, "
                        "not this straight line). Hover for the outcome, the distance (m) and the delay "
                        "(h); click a legend entry to hide a team.")
    board = table_html(_leaderboard(result, colours), numeric_format="{:,.1f}", raw_columns=("team",))
    report.add_section("Leaderboard", _dash(board), lead=_ranking_words(result))
    for team in _ranked(result):
        report.add_section(f"Answers: {team.name}", _answers_body(team, result.battledim, colours),
                           lead=_team_words(team, len(key.leaks)))
    report.add_section("The true leaks", _dash(table_html(_leaks_table(key, wn, result),
                                                          numeric_format="{:,.1f}",
                                                          nowrap_columns=("position", "start", "end"))),
                       lead="Each leak is active from its start (included) to its end (excluded). Position "
                            "is the fraction of the pipe's length from its start node; the mean flow is "
                            "over the hours the leak is active, m3/h; the volume is what it loses in that "
                            "time, m3.")
    report.add_section("How answers are scored", _method(result))
    return report


def debrief_map(wn: wntr.network.WaterNetworkModel, key: AnswerKey, result: ScoreResult, *,
                height: int = 640) -> Any:
    """Return the map of the true leaks and of every team's answers.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The exercise's network (the trainees').
    key : AnswerKey
        The truth.
    result : ScoreResult
        The teams' scores.
    height : int
        Height of the map in pixels (it stretches to the page's width).

    Returns
    -------
    bokeh.plotting.figure
        :func:`~nrwkit.report.maps.network_map` with a star at each true leak and, per team (one
        legend entry that hides or shows it), its answers and a dashed line from each matched
        answer to its leak.
    """
    from bokeh.models import ColumnDataSource, HoverTool

    fig = network_map(wn, height=height)
    colours = _colours(result)
    points = {leak.id: leak_point(wn, leak) for leak in key.leaks}
    if key.leaks:  # under the answers, which are smaller: a perfect answer sits on its star
        found = _found_by(result)
        star = fig.scatter("x", "y", source=ColumnDataSource({
            "x": [points[leak.id][0] for leak in key.leaks], "y": [points[leak.id][1] for leak in key.leaks],
            "id": [leak.id for leak in key.leaks], "pipe": [leak.pipe for leak in key.leaks],
            "position": [f"{leak.position:.3f}" for leak in key.leaks],
            "active": [f"{format_time(leak.start)} to {format_time(leak.end)}" for leak in key.leaks],
            "flow": [f"{_mean_flow_m3_per_h(leak):.2f}" for leak in key.leaks],
            "found": [found.get(leak.id) or "no team" for leak in key.leaks]}),
            marker="star", size=34, fill_color=_LEAK_COLOUR, line_color="white", line_width=1.5,
            legend_label="True leaks")
        fig.add_tools(HoverTool(renderers=[star], tooltips=[
            ("true leak", "@id"), ("pipe", "@pipe (position @position)"), ("active", "@active"),
            ("mean flow (m3/h)", "@flow"), ("found by", "@found")]))
    for k, team in enumerate(result.teams.values()):
        colour, label = colours[team.name], f"{team.name} ({_short_score(team)})"
        size = max(16 - 3 * k, 6)  # each team's circles inside the previous team's: all show
        rows = [row for row in team.answers if row.leak_id in points]
        if rows:
            xs = [[_answer_point(wn, row)[0], points[str(row.leak_id)][0]] for row in rows]
            ys = [[_answer_point(wn, row)[1], points[str(row.leak_id)][1]] for row in rows]
            fig.multi_line(xs, ys, line_color=colour, line_width=1.5, line_dash="dashed", line_alpha=0.9,
                           legend_label=label)
        for outcome, marker, fill in ((TRUE_POSITIVE, "circle", colour), (REPEAT, "circle", None),
                                      (FALSE_POSITIVE, "x", colour)):
            chosen = [row for row in team.answers if row.outcome == outcome]
            if not chosen:
                continue
            glyph = fig.scatter("x", "y", source=ColumnDataSource(_answer_data(wn, team.name, chosen,
                                                                               result.battledim)),
                                marker=marker, size=size if marker == "circle" else 16, fill_color=fill,
                                line_color="white" if outcome == TRUE_POSITIVE else colour,
                                line_width=1.0 if outcome == TRUE_POSITIVE else 3.0, legend_label=label)
            tips = [("team", "@team"), ("answer", "@answer (@kind)"), ("time", "@time"),
                    ("outcome", "@outcome"), ("leak", "@leak"), ("distance (m)", "@distance"),
                    ("delay (h)", "@delay")]
            if result.battledim:
                tips.append(("BattLeDIM (EUR)", "@eur"))
            fig.add_tools(HoverTool(renderers=[glyph], tooltips=tips))
    return fig


def leak_point(wn: wntr.network.WaterNetworkModel, leak: KeyLeak) -> tuple[float, float]:
    """Return where a leak is drawn: ``position`` of the way along its pipe's drawn line.

    The fraction is taken along the line from the start node through the pipe's vertices (if
    any) to its end node; without vertices it is the point between the end nodes.
    """
    line = np.array(link_coordinates(wn.get_link(leak.pipe)), dtype=float)
    steps = np.hypot(*np.diff(line, axis=0).T)
    total = float(steps.sum())
    if total <= 0.0:
        return float(line[0, 0]), float(line[0, 1])
    along = min(max(leak.position, 0.0), 1.0) * total
    reached = np.concatenate([[0.0], np.cumsum(steps)])
    k = min(int(np.searchsorted(reached, along, side="right")) - 1, len(steps) - 1)
    t = (along - reached[k]) / steps[k] if steps[k] > 0 else 0.0
    x, y = line[k] + t * (line[k + 1] - line[k])
    return float(x), float(y)


# --------------------------------------------------------------------------- helpers


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def _colours(result: ScoreResult) -> dict[str, str]:
    return {name: TEAM_COLOURS[k % len(TEAM_COLOURS)] for k, name in enumerate(result.teams)}


def _ranked(result: ScoreResult) -> list[TeamScore]:
    return [result.teams[name] for _, name in result.leaderboard]


def _number(value: float | None, digits: int = 1) -> str:
    return _NONE if value is None or not math.isfinite(value) else f"{value:,.{digits}f}"


def _optional(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _dash(table: str) -> str:
    """Show the figures that do not apply (NaN in a numeric column) as a dash."""
    return table.replace('<td class="num">nan</td>', f'<td class="num">{_NONE}</td>')


def _mean_flow_m3_per_h(leak: KeyLeak) -> float:
    hours = (leak.end - leak.start).total_seconds() / SECONDS_PER_HOUR
    return leak.volume_m3() / hours if hours > 0 else 0.0


def _answer_point(wn: wntr.network.WaterNetworkModel, row: AnswerScore) -> tuple[float, float]:
    where = row.answer.pipe_or_node
    if row.kind == "node":
        x, y = wn.get_node(where).coordinates
        return float(x), float(y)
    x, y = link_midpoint(wn.get_link(where))
    return float(x), float(y)


def _answer_data(wn: wntr.network.WaterNetworkModel, team: str, rows: Sequence[AnswerScore],
                 battledim: bool) -> dict[str, list]:
    xy = [_answer_point(wn, row) for row in rows]
    data: dict[str, list] = {
        "x": [p[0] for p in xy], "y": [p[1] for p in xy], "team": [team] * len(rows),
        "answer": [row.answer.pipe_or_node for row in rows], "kind": [row.kind for row in rows],
        "time": [format_time(row.answer.time) for row in rows], "outcome": [row.outcome for row in rows],
        "leak": [row.leak_id or _NONE for row in rows],
        "distance": [_number(row.distance_m) for row in rows],
        "delay": [_number(row.delay_h, 2) for row in rows]}
    if battledim:
        data["eur"] = [_number(row.battledim_eur, 0) for row in rows]
    return data


def _found_by(result: ScoreResult) -> dict[str, str]:
    """Each found leak's finders: "team a (07:45, 12 m); team b (...)", in the leaderboard's order."""
    found: dict[str, list[str]] = {}
    for team in _ranked(result):
        for row in team.answers:
            if row.outcome == TRUE_POSITIVE and row.leak_id is not None:
                found.setdefault(row.leak_id, []).append(
                    f"{team.name} ({row.answer.time:%m-%d %H:%M}, {_number(row.distance_m, 0)} m)")
    return {leak: "; ".join(names) for leak, names in found.items()}


def _short_score(team: TeamScore) -> str:
    words = f"{team.true_positives} found, {team.false_positives} false"
    if team.battledim:
        words += f", {_number(team.battledim_total_eur, 0)} EUR"
    return words


def _period_words(key: AnswerKey) -> str:
    hours = (key.end - key.start).total_seconds() / SECONDS_PER_HOUR
    if hours % HOURS_PER_DAY == 0:
        days = int(hours // HOURS_PER_DAY)
        return f"{days} {_plural(days, 'day')}"
    return f"{hours:g} h"


def _cards(key: AnswerKey, result: ScoreResult) -> list[Card]:
    volume = math.fsum(leak.volume_m3() for leak in key.leaks)
    found = {row.leak_id for team in result.teams.values() for row in team.answers
             if row.outcome == TRUE_POSITIVE}
    cards = [Card("period", _period_words(key), detail=f"{format_time(key.start)} to {format_time(key.end)}"),
             Card("true leaks", str(len(key.leaks)), detail=f"losing {volume:,.0f} m3 in all"),
             Card("teams", str(len(result.teams))),
             Card("leaks found by a team", f"{len(found)} of {len(key.leaks)}",
                  kind="ok" if len(found) == len(key.leaks) else "warning")]
    board = result.leaderboard
    if board:
        best = [result.teams[name] for rank, name in board if rank == 1]
        first = best[0]
        if result.battledim:
            score = f"BattLeDIM savings {_number(first.battledim_total_eur, 0)} EUR"
        else:
            score = (f"{first.true_positives} of {len(key.leaks)} found, {first.false_positives} false "
                     f"{_plural(first.false_positives, 'positive')}, "
                     f"median {_number(first.median_distance_m, 0)} m")
        cards.append(Card("best team" + (" (tied)" if len(best) > 1 else ""),
                          ", ".join(team.name for team in best), kind="ok", detail=score))
    return cards


def _swatch(name: str, colour: str) -> str:
    return f'<span style="color:{colour}">&#9679;</span> {html.escape(name)}'


def _leaderboard(result: ScoreResult, colours: dict[str, str]) -> pd.DataFrame:
    rows = []
    for rank, name in result.leaderboard:
        team = result.teams[name]
        row: dict[str, Any] = {
            "rank": rank, "team": _swatch(name, colours[name]), "true_positives": team.true_positives,
            "false_positives": team.false_positives, "repeats": team.repeats, "missed": len(team.missed),
            "median_distance_m": _optional(team.median_distance_m),
            "mean_detection_delay_h": _optional(team.mean_detection_delay_h)}
        if result.battledim:
            row[_BATTLEDIM_COLUMN] = _optional(team.battledim_total_eur)
        rows.append(row)
    return pd.DataFrame(rows)


def _ranking_rule(result: ScoreResult) -> str:
    if result.battledim:
        return "Ranked by BattLeDIM savings, highest first; teams equal on it share a rank."
    return ("Ranked by true positives (most first), then false positives (fewest first), then the median "
            "distance of the true positives to their leaks (shortest first); teams equal on all three share "
            "a rank.")


def _ranking_words(result: ScoreResult) -> str:
    return (f"{_ranking_rule(result)} Distances in m, delays in h (from each found leak's start to the "
            "answer).")


def _team_words(team: TeamScore, leaks: int) -> str:
    missed = ", ".join(team.missed) if team.missed else "none"
    words = (f"{len(team.answers)} {_plural(len(team.answers), 'answer')} in time order: "
             f"{team.true_positives} of {leaks} leaks found, {team.false_positives} false "
             f"{_plural(team.false_positives, 'positive')}, {team.repeats} "
             f"{_plural(team.repeats, 'repeat')}; missed: {missed}.")
    if team.battledim:
        words += f" BattLeDIM savings {_number(team.battledim_total_eur, 0)} EUR."
    return words


def _answers_body(team: TeamScore, battledim: bool, colours: dict[str, str]) -> str:
    if not team.answers:
        return '<p class="note">No answers.</p>'
    areas = any(row.answer.search_area for row in team.answers)
    rows = []
    for row in team.answers:
        entry: dict[str, Any] = {
            "row": _NONE if row.answer.row is None else str(row.answer.row),
            "time": format_time(row.answer.time), "pipe_or_node": row.answer.pipe_or_node, "kind": row.kind,
            "outcome": row.outcome, "leak": row.leak_id or _NONE, "distance_m": _optional(row.distance_m),
            "delay_h": _optional(row.delay_h)}
        if battledim:
            entry["BattLeDIM (EUR)"] = _optional(row.battledim_eur)
        if areas:
            holds = row.leak_in_search_area
            entry["search area holds the leak"] = _NONE if holds is None else ("yes" if holds else "no")
        rows.append(entry)
    swatch = f'<p class="note">{_swatch(team.name, colours[team.name])} on the map.</p>'
    table = table_html(pd.DataFrame(rows), numeric_format="{:,.1f}", nowrap_columns=("time",))
    return swatch + _dash(table)


def _leaks_table(key: AnswerKey, wn: wntr.network.WaterNetworkModel, result: ScoreResult) -> pd.DataFrame:
    found = _found_by(result)
    rows = []
    for leak in key.leaks:
        length = float(wn.get_link(leak.pipe).length) if leak.pipe in wn.pipe_name_list else math.nan
        rows.append({"id": leak.id, "pipe": leak.pipe, "position": f"{leak.position:.3f}",
                     "from_start_node_m": leak.position * length, "start": format_time(leak.start),
                     "end": format_time(leak.end), "mean_flow_m3h": _mean_flow_m3_per_h(leak),
                     "volume_m3": leak.volume_m3(), "found by": found.get(leak.id) or "no team"})
    return pd.DataFrame(rows, columns=["id", "pipe", "position", "from_start_node_m", "start", "end",
                                       "mean_flow_m3h", "volume_m3", "found by"])


def _method(result: ScoreResult) -> str:
    reach = f"{result.match_distance_m:g}"
    if result.battledim:
        distance = ("<b>Distances (BattLeDIM 2020).</b> The rule knows only the leak's pipe: from a pipe "
                    "answer, the shortest path along the pipes between the two pipes' nearest end nodes plus "
                    "half of each pipe's length (midpoint to midpoint), 0 m on the leak's own pipe; from a "
                    "node answer, the path to the leak pipe's nearer end node plus half its length. Pumps "
                    "and valves count 0 m.")
    else:
        distance = ("<b>Distances.</b> Along the pipes (the shortest path, length-weighted, in both "
                    "directions; pumps and valves count 0 m) to the leak's true point (its position along "
                    "its pipe): from a node answer, the node; from a pipe answer, the pipe's nearer end "
                    "node, since the crew walks the whole pipe (0 m when the leak is on it).")
    items = [
        "<b>Time order.</b> Each team's answers are taken in time order (ties in the file's order); an "
        "answer's time is when the team would send a crew.",
        f"<b>Matching.</b> An answer finds the nearest leak that is active at its time (from its start, "
        f"included, to its end, excluded), not yet found by the team, within {reach} m: a true positive. "
        "Its delay is the answer's time minus the leak's start, h.",
        distance,
        "<b>Repeats.</b> An answer whose only leaks within reach were already found by the team is a "
        "repeat: it neither scores nor counts as false.",
        "<b>False positives.</b> Any other answer is a false positive; its distance is to the nearest leak "
        "active at its time (none when no leak is active).",
    ]
    if result.battledim:
        items.append(
            f"<b>BattLeDIM savings.</b> A true positive earns {BATTLEDIM_EUR_PER_M3:.2f} EUR per m3 the "
            f"leak loses from the answer's time to the leak's end, less {BATTLEDIM_CREW_EUR:,.0f} EUR × "
            "distance / "
            f"{BATTLEDIM_MAX_DISTANCE_M:g} m for the crew's search; a false positive costs "
            f"{BATTLEDIM_CREW_EUR:,.0f} EUR; a repeat 0 EUR. A team's score is the sum.")
    items.append(f"<b>Ranking.</b> {html.escape(_ranking_rule(result))}")
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"
