"""Reports, static maps and workspaces."""

from __future__ import annotations

import datetime
import json
import re

import matplotlib
import pytest
from click.testing import CliRunner

from nrwkit.errors import InputError, OutputExistsError
from nrwkit.network import inspect_network
from nrwkit.networks import load, path
from nrwkit.plot import nice_length, plot_network
from nrwkit.report import Report, file_checksum, inspection_report, table_html
from nrwkit.workspace import init_workspace, open_workspace
from nrwkit_cli.main import cli

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def ltown_report():
    wn = load("l-town")
    result = inspect_network(wn)
    return inspection_report(wn, result, network_path=path("l-town")).to_html()


def test_report_is_self_contained(ltown_report):
    # nothing to fetch: no external script, style, image or font in the page's markup
    # (BokehJS's own code mentions a MathJax CDN it would use only for LaTeX labels, which
    # nrwkit never draws; the offline browser test proves the page needs nothing)
    markup = re.sub(r"<script\b.*?</script>", "", ltown_report, flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert markup.count("<script") == 0 and ltown_report.count("<script") >= 2
    assert "@import" not in ltown_report and "url(http" not in ltown_report
    assert "Bokeh" in ltown_report and "<svg" in ltown_report


def test_report_header_names_inputs_version_and_options(ltown_report):
    import hashlib

    digest = hashlib.sha256(path("l-town").read_bytes()).hexdigest()
    assert file_checksum(path("l-town")) == digest
    assert f"SHA-256 {digest[:16]}" in ltown_report
    assert "nrwkit" in ltown_report and "min_pressure_m = 10.0" in ltown_report
    assert "Network inspection: L-TOWN.inp" in ltown_report
    assert "dead-end-no-demand" in ltown_report


def test_report_escapes_text(tmp_path):
    report = Report(title="<script>alert(1)</script>")
    report.add_section("Table", table_html(__import__("pandas").DataFrame({"a": ["<b>x</b>"]})))
    html = report.to_html()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    out = report.write(tmp_path / "r.html")
    with pytest.raises(OutputExistsError):
        report.write(out)


def test_nice_length():
    assert [nice_length(x) for x in (7, 130, 2600, 0.9)] == [5, 100, 2000, 0.5]


def test_static_map_scale_bar_and_legend():
    wn = load("l-town")
    ax = plot_network(wn, node_values=wn.query_node_attribute("elevation"), node_label="m",
                      title="elevation")
    texts = [t.get_text() for t in ax.figure.findobj(matplotlib.text.Text)]
    assert "500 m" in texts                      # L-Town is about 2.7 km wide
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"pipes", "tanks", "reservoirs", "pumps and valves"} <= set(labels)
    schematic = plot_network(load("net1"))
    assert "not to scale (schematic coordinates)" in [t.get_text() for t in schematic.texts]


def test_static_map_categories():
    wn = load("net1")
    zones = {n: ("A" if n.startswith("1") else "B") for n in wn.junction_name_list}
    ax = plot_network(wn, node_values=__import__("pandas").Series(zones), categorical=True)
    assert {"A", "B"} <= {t.get_text() for t in ax.get_legend().get_texts()}


def test_workspace_init_and_dated_outputs(tmp_path):
    ws = init_workspace(tmp_path / "ws", "net1", name="Track", crs="EPSG:32633",
                        start=datetime.date(2026, 1, 1), end=datetime.date(2027, 12, 31),
                        mentor="M", mentee="E")
    again = open_workspace(tmp_path / "ws")
    assert again == ws and again.network.read_bytes() == path("net1").read_bytes()
    when = datetime.datetime(2026, 11, 23, 9, 5)
    first = ws.output_path("inspect", ".html", when=when)
    first.write_text("x")
    second = ws.output_path("inspect", ".html", when=when)
    assert (first.name, second.name) == ("2026-11-23T0905-inspect.html", "2026-11-23T0905-inspect-2.html")
    with pytest.raises(InputError, match="is a workspace already"):
        init_workspace(tmp_path / "ws", "net1")
    # a workspace stands for its network wherever a NETWORK is expected
    assert load(tmp_path / "ws").describe() == load("net1").describe()
    with pytest.raises(InputError, match=r"ends .* before it starts"):
        init_workspace(tmp_path / "w2", "net1", start=datetime.date(2027, 1, 1),
                       end=datetime.date(2026, 1, 1))


def test_workspace_errors(tmp_path):
    with pytest.raises(InputError, match="not a workspace"):
        open_workspace(tmp_path)
    (tmp_path / "workspace.toml").write_text("[track]\nname = 'x'\n")
    with pytest.raises(InputError, match="missing key 'network'"):
        open_workspace(tmp_path)
    (tmp_path / "workspace.toml").write_text("[track\n")
    with pytest.raises(InputError, match="not valid TOML"):
        open_workspace(tmp_path)


def test_cli_workspace_flow(tmp_path):
    ws = tmp_path / "ws"
    runner = CliRunner()
    result = runner.invoke(cli, ["init", str(ws), "--network", "l-town", "--name", "Demo track",
                                 "--start", "2026-01-15", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["name"] == "Demo track"
    for _ in range(2):
        assert runner.invoke(cli, ["inspect", str(ws)]).exit_code == 0
    outputs = sorted(p.name for p in (ws / "outputs").iterdir())
    assert len([p for p in outputs if p.endswith(".html")]) == 2   # the second run did not overwrite
    assert len([p for p in outputs if p.endswith(".gpkg")]) == 2
    index = runner.invoke(cli, ["report", str(ws)])
    assert index.exit_code == 0 and index.output.strip() == str(ws / "index.html")
    text = (ws / "index.html").read_text()
    assert text.count('href="outputs/') == 6 and "Demo track" in text  # 2 reports, 4 data files
    bad = runner.invoke(cli, ["init", str(tmp_path / "w3"), "--network", "net1", "--start", "15/01/2026"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
