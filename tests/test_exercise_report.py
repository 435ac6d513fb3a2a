"""The debrief of a leak-detection exercise (issue 17, item 5): the truth, the answers, the leaderboard."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nrwkit.exercise import create_exercise
from nrwkit.exercise.score import score
from nrwkit.network import read_inp
from nrwkit.networks import load
from nrwkit.report import debrief_report
from nrwkit.report.exercise import leak_point

EPOCH = "1767225600"  # 2026-01-01 00:00 UTC


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("debrief")
    key = create_exercise(load("l-town"), folder / "ex", difficulty="medium", days=1, seed=3).key
    perfect, sloppy = folder / "a.csv", folder / "b.csv"
    perfect.write_text("pipe_or_node,time\n" + "".join(
        f"{leak.pipe},{leak.start:%Y-%m-%d %H:%M}\n" for leak in key.leaks), encoding="utf-8")
    last = key.leaks[-1]
    wrong = next(p for p in ("p1", "p2", "p3") if p not in {leak.pipe for leak in key.leaks})
    middle = last.start + (last.end - last.start) / 2
    sloppy.write_text(f"pipe_or_node,time\n{wrong},{key.start:%Y-%m-%d %H:%M}\n"
                      f"{last.pipe},{middle:%Y-%m-%d %H:%M}\n", encoding="utf-8")
    result = score(key, {"team a": perfect, "team <b>": sloppy}, battledim=True)
    return key, result


def _page(key, result, monkeypatch) -> str:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    return debrief_report(key, result).to_html()


def test_debrief_writes_and_is_self_contained(scored, tmp_path, monkeypatch):
    key, result = scored
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    out = debrief_report(key, result).write(tmp_path / "debrief.html")
    page = Path(out).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    markup = re.sub(r"<script\b.*?</script>", "", page, flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert markup.count("<script") == 0 and page.count("<script") >= 2
    assert "@import" not in page and "url(http" not in page
    assert "Bokeh" in page


def test_debrief_shows_teams_leaks_and_leaderboard(scored, monkeypatch):
    key, result = scored
    page = _page(key, result, monkeypatch)
    assert "Leaderboard" in page and "BattLeDIM savings (EUR)" in page
    assert "Answers: team a" in page and "Answers: team &lt;b&gt;" in page and "<b>x" not in page
    for leak in key.leaks:
        assert f"<td>{leak.id}</td>" in page and f"<td>{leak.pipe}</td>" in page
    assert "false positive" in page and "true positive" in page
    assert "How answers are scored" in page and "within 300 m" in page
    assert "median distance (m)" in page and "mean flow (m3/h)" in page and "volume (m3)" in page
    board = page[page.index('id="leaderboard"'):]
    assert board.index("team a") < board.index("team &lt;b&gt;")     # the perfect team ranks first
    assert "best team" in page


def test_debrief_is_byte_identical(scored, monkeypatch):
    key, result = scored
    first, second = _page(key, result, monkeypatch), _page(key, result, monkeypatch)
    assert first == second
    assert "2026-01-01T00:00:00+00:00" in first


def test_leak_point_lies_along_its_pipe(scored):
    key, _ = scored
    wn = read_inp(key.network_path)
    for leak in key.leaks:
        link = wn.get_link(leak.pipe)
        (x0, y0), (x1, y1) = link.start_node.coordinates, link.end_node.coordinates
        x, y = leak_point(wn, leak)
        if not link.vertices:
            assert x == pytest.approx(x0 + leak.position * (x1 - x0))
            assert y == pytest.approx(y0 + leak.position * (y1 - y0))
        assert min(x0, x1) - 1e-6 <= x <= max(x0, x1) + 1e-6 or link.vertices
