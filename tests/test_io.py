"""Bad input files: one clear error naming the file, the line and the fix.

The first three cases are WNTR's own bad test inputs (tests/data/bad_*.inp, copied from
WNTR's test suite); the line numbers are looked up in the files, not computed by nrwkit.
"""

from __future__ import annotations

import pytest
from conftest import DATA
from planted import make_inp

from nrwkit.errors import InputError, NetworkFileError, NrwkitError
from nrwkit.network import lint_inp, read_inp


def line_of(path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


@pytest.mark.parametrize(
    ("name", "needle", "problem"),
    [
        ("bad_syntax.inp", "[FOO]", "unknown section [FOO]"),
        ("bad_values.inp", "pipe2", "node 'node1', which is not defined"),
        ("bad_times.inp", "0:00:00:00", "invalid option value"),
    ],
)
def test_wntr_bad_inputs(name, needle, problem):
    path = DATA / name
    with pytest.raises(NetworkFileError) as info:
        read_inp(path)
    err = info.value
    assert err.path == str(path)
    assert err.line == line_of(path, needle)
    assert problem in err.problem
    assert err.fix
    text = str(err)
    assert text.startswith(f"{path}, line {err.line}: ")
    assert "fix: " in text


def test_error_is_a_value_error_and_an_nrwkit_error():
    with pytest.raises(ValueError):
        read_inp(DATA / "bad_syntax.inp")
    assert issubclass(NetworkFileError, NrwkitError)
    assert issubclass(NetworkFileError, InputError)


def test_missing_file(tmp_path):
    with pytest.raises(NetworkFileError, match="file not found") as info:
        read_inp(tmp_path / "nope.inp")
    assert "nrwkit networks" in info.value.fix


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(NetworkFileError, match="is a folder"):
        read_inp(tmp_path)


def test_empty_file(write_inp):
    with pytest.raises(NetworkFileError, match="defines no junctions") as info:
        read_inp(write_inp(""))
    assert info.value.line is None


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "binary.inp"
    path.write_bytes(b"[JUNCTIONS]\n J1 10\n\xff\xfe\x00\x81 garbage\n")
    with pytest.raises(NetworkFileError, match="not text") as info:
        read_inp(path)
    assert info.value.line == 3


def test_windows_1252_file_is_read(tmp_path):
    # EPANET's Windows GUI writes the system code page: accented ids and comments are common
    path = tmp_path / "cp1252.inp"
    text = make_inp().replace(" J33  10  1.0", " J33  10  1.0  ;Calle Peñón, válvula")
    text = text.replace("J31", "Jé31")
    path.write_bytes(text.encode("cp1252"))
    wn = read_inp(path)
    assert "Jé31" in wn.junction_name_list
    assert wn.name == str(path)


def test_data_before_first_section(write_inp):
    path = write_inp("stray words\n" + make_inp())
    with pytest.raises(NetworkFileError, match="data before the first section") as info:
        read_inp(path)
    assert info.value.line == 1


def test_duplicate_node_id(write_inp):
    text = make_inp(extra_junctions=" J22  12  1.0")
    path = write_inp(text)
    with pytest.raises(NetworkFileError, match="duplicate node id 'J22'") as info:
        read_inp(path)
    err = info.value
    assert err.line == line_of(path, " J22  12  1.0")
    assert f"first defined at line {line_of(path, ' J22  10  1.0')}" in err.problem


def test_duplicate_link_id(write_inp):
    path = write_inp(make_inp(extra_pipes=" P9   J11  J33  100  150  120"))
    with pytest.raises(NetworkFileError, match="duplicate link id 'P9'"):
        read_inp(path)


def test_link_to_missing_node(write_inp):
    path = write_inp(make_inp(extra_pipes=" P77  J11  J77  100  150  120"))
    with pytest.raises(NetworkFileError, match="'J77', which is not defined") as info:
        read_inp(path)
    assert info.value.line == line_of(path, "P77")
    assert "[JUNCTIONS]" in info.value.fix


def test_self_loop(write_inp):
    path = write_inp(make_inp(extra_pipes=" P77  J11  J11  100  150  120"))
    with pytest.raises(NetworkFileError, match="starts and ends at the same node"):
        read_inp(path)


def test_too_few_fields(write_inp):
    path = write_inp(make_inp(extra_pipes=" P77  J11  J22  100"))
    with pytest.raises(NetworkFileError, match="has 4 fields, at least 6") as info:
        read_inp(path)
    assert "Length Diameter Roughness" in info.value.fix


def test_missing_flow_units(write_inp):
    path = write_inp(make_inp(drop=(" Units  LPS",)))
    with pytest.raises(NetworkFileError, match="no '\\[OPTIONS\\] Units' line"):
        read_inp(path)


def test_unknown_flow_units(write_inp):
    path = write_inp(make_inp(replace={" Units  LPS": " Units  XYZ"}))
    with pytest.raises(NetworkFileError, match="unknown flow unit 'XYZ'"):
        read_inp(path)


def test_value_wntr_cannot_parse_is_located(write_inp):
    path = write_inp(make_inp(replace={" P9   J12  J22  100 ": " P9   J12  J22  abc "}))
    with pytest.raises(NetworkFileError, match="abc") as info:
        read_inp(path)
    assert info.value.line == line_of(path, " P9 ")
    assert "[PIPES] format" in info.value.fix


def test_several_problems_are_counted(write_inp):
    path = write_inp(make_inp(extra_pipes=" P77  J11  J77  100  150  120\n P78  J11  J78  100  150  120"))
    problems = lint_inp(path)
    assert len(problems) == 2
    with pytest.raises(NetworkFileError, match="1 more problem in the file"):
        read_inp(path)


def test_clean_file_has_no_lint(write_inp):
    assert lint_inp(write_inp(make_inp())) == []


def test_a_utf8_byte_order_mark_is_dropped(tmp_path):
    """Notepad's "UTF-8 with BOM": the mark is not data before the first section."""
    text = make_inp()
    path = tmp_path / "bom.inp"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    plain = tmp_path / "plain.inp"
    plain.write_text(text, encoding="utf-8")
    assert lint_inp(path) == []
    assert sorted(read_inp(path).node_name_list) == sorted(read_inp(plain).node_name_list)


@pytest.mark.parametrize(("section", "line", "kind"), [("[COORDINATES]", "32 5 5", "node"),
                                                         ("[DEMANDS]", "32 1.0", "node"),
                                                         ("[VERTICES]", "P99 1 1", "link")])
def test_lines_about_undefined_elements_are_named(write_inp, section, line, kind):
    text = make_inp().replace("[END]", "") + f"\n{section}\n{line}\n[END]\n"
    path = write_inp(text)
    lnum = text.splitlines().index(line) + 1
    with pytest.raises(NetworkFileError) as info:
        read_inp(path)
    assert info.value.line == lnum
    assert f"{section} line for {kind} {line.split()[0]!r}, which is not defined" in str(info.value)


def test_write_inp_gives_the_same_bytes_and_honours_source_date_epoch(tmp_path, monkeypatch):
    from nrwkit.network.io import write_inp
    from nrwkit.networks import load

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")  # one day after 1970-01-01T00:00Z
    wn = load("net1")
    first, second = write_inp(wn, tmp_path / "a.inp"), write_inp(wn, tmp_path / "b.inp")
    assert first.read_bytes() == second.read_bytes()
    assert "; Created: 1970-01-02 00:00:00\n" in first.read_text(encoding="utf-8")
