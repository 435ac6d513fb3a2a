"""A report opened in headless Chromium with networking off: the map draws, no JavaScript error.

Skipped (and so reported) where Chromium and its driver are not installed; `.ci/run` installs
them with apt-get.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from browser import AVAILABLE, REASON, offline_browser, open_report
from click.testing import CliRunner

from nrwkit_cli.main import cli

pytestmark = pytest.mark.skipif(not AVAILABLE, reason=REASON)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "ltown.html"
    result = CliRunner().invoke(cli, ["inspect", "l-town", "--report", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_report_map_renders_offline_without_errors(report, tmp_path):
    import matplotlib.image as mpimg

    with offline_browser() as driver:
        seconds = open_report(driver, report)
        glyphs = driver.execute_script(
            "return Bokeh.documents[0].roots()[0].renderers"
            ".map(r => [r.glyph.type, r.data_source.get_length()]);")
        counts = {}
        for kind, n in glyphs:
            counts.setdefault(kind, []).append(n)
        assert 905 in counts["MultiLine"]        # every pipe drawn
        assert 782 in counts["Scatter"]          # every junction drawn
        element = driver.find_element("css selector", ".map")
        shot = element.screenshot_as_png
        (tmp_path / "map.png").write_bytes(shot)
        driver.save_screenshot(str(tmp_path / "report.png"))
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    assert seconds < 10
    # the map's pixels: drawn features, not an empty canvas
    image = mpimg.imread(io.BytesIO(shot))[..., :3]
    background = np.array([0xfb, 0xfc, 0xfd]) / 255
    drawn = np.abs(image - background).sum(axis=2) > 0.15
    assert drawn.mean() > 0.03
    assert len(np.unique((image * 255).astype(int).reshape(-1, 3), axis=0)) > 50
    print(f"screenshots in {tmp_path}")


def test_workspace_index_links_open(tmp_path):
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(ws), "--network", "net1"]).exit_code == 0
    assert runner.invoke(cli, ["inspect", str(ws)]).exit_code == 0
    index = ws / "index.html"
    assert runner.invoke(cli, ["report", str(ws)]).exit_code == 0
    with offline_browser() as driver:
        driver.get(index.resolve().as_uri())
        links = driver.find_elements("css selector", "a")
        assert links
        links[0].click()
        assert "Network inspection: Net1.inp" in driver.title
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
