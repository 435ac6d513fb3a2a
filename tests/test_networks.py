"""Bundled networks: loading by name equals loading by path; counts match WNTR's own."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import wntr

from nrwkit.errors import InputError
from nrwkit.networks import available, is_bundled, load, path, resolve

WNTR_LIBRARY = Path(str(resources.files("wntr.library") / "networks"))


@pytest.mark.parametrize(("name", "wntr_file"), [("net1", "Net1.inp"), ("net3", "Net3.inp"),
                                                 ("ky4", "ky4.inp")])
def test_bundled_copy_matches_wntr_library(name, wntr_file):
    ours = load(name)
    theirs = wntr.network.WaterNetworkModel(str(WNTR_LIBRARY / wntr_file))
    assert ours.describe(level=1) == theirs.describe(level=1)
    assert ours.query_link_attribute("length").sum() == pytest.approx(
        theirs.query_link_attribute("length").sum())


def test_ltown_counts_as_published():
    # BattLeDIM 2020 (Vrachimis et al.): 782 junctions, 905 pipes, 1 tank, 2 reservoirs,
    # 3 PRVs, 1 pump
    d = load("l-town").describe(level=1)
    assert d["Nodes"] == {"Junctions": 782, "Tanks": 1, "Reservoirs": 2}
    assert d["Links"] == {"Pipes": 905, "Pumps": 1, "Valves": 3}


@pytest.mark.parametrize("name", ["l-town", "L-Town", "ltown", "demo", "battledim"])
def test_names_and_aliases(name):
    assert is_bundled(name)
    assert path(name).name == "L-TOWN.inp"


def test_load_by_name_equals_load_by_path():
    by_name = load("net1")
    by_path = load(path("net1"))
    assert by_name.describe(level=2) == by_path.describe(level=2)


def test_existing_file_wins_over_bundled_name(tmp_path, monkeypatch):
    local = tmp_path / "net1"
    local.write_text(path("net3").read_text())
    monkeypatch.chdir(tmp_path)
    assert resolve("net1") == Path("net1")
    assert load("net1").num_junctions == 92


def test_unknown_name():
    with pytest.raises(InputError, match="no bundled network is called 'nowhere'"):
        path("nowhere")


def test_available_table():
    table = available()
    assert list(table.index) == ["net1", "net3", "ky4", "l-town"]
    assert all(path(name).exists() for name in table.index)
