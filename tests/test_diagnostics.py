"""Compiler and parser diagnostics: a golden corpus of broken files, and no traceback from any input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as hs

import policykit
from policykit.errors import PolicyError

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*.pol"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_file_gives_one_clear_diagnostic(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    expected = (GOLDEN / f"{path.stem}.expected").read_text().strip()
    with pytest.raises(PolicyError) as info:
        policykit.load(path.name)
    diagnostics = info.value.diagnostics
    assert len(diagnostics) == 1, [str(d) for d in diagnostics]
    assert str(diagnostics[0]).startswith(expected), str(diagnostics[0])


def test_every_golden_case_has_a_help_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    without_help = []
    for path in CASES:
        try:
            policykit.load(path.name)
        except PolicyError as exc:
            without_help += [str(d) for d in exc.diagnostics if not d.help]
    assert len(without_help) <= 3, without_help


def test_twenty_syntax_errors_are_all_reported() -> None:
    blocks = "".join(f'clause {n} "text {n}"\n  remove comment when\n' for n in range(1, 21))
    with pytest.raises(PolicyError) as info:
        policykit.compile_text('policy many "Many"\n\n' + blocks, "many.pol")
    lines = [d.line for d in info.value.diagnostics]
    assert lines == [4 + 2 * n for n in range(20)]


def test_twenty_compile_errors_are_all_reported() -> None:
    blocks = "".join(f'clause {n} "text {n}"\n  deny post when author.nope{n}\n' for n in range(1, 21))
    with pytest.raises(PolicyError) as info:
        policykit.compile_text('policy many "Many"\n\n' + blocks, "many.pol")
    assert len(info.value.diagnostics) == 20
    assert {d.code for d in info.value.diagnostics} == {"PK102"}


def test_binary_file_is_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "x.pol"
    path.write_bytes(b"\x00\x01\x02policy")
    with pytest.raises(PolicyError) as info:
        policykit.load(path)
    assert info.value.diagnostics[0].code == "PK000"


def test_unknown_policy_name_suggests_one() -> None:
    with pytest.raises(policykit.PolicyNotFound, match="clinton"):
        policykit.load("clintn")


@settings(max_examples=150, deadline=None)
@given(hs.text(alphabet=hs.sampled_from(list('policy clause rule "x" when and or not has 1.2 :\n  #[](),=<>/\\-')),
               max_size=200))
def test_no_input_raises_anything_but_policy_error(text: str) -> None:
    try:
        policykit.compile_text("policy p \"P\"\n" + text, "fuzz.pol")
    except PolicyError as exc:
        assert all(d.line >= 1 and d.column >= 1 and d.code.startswith("PK") for d in exc.diagnostics)


def test_a_dangling_and_before_a_new_statement_is_reported_at_its_own_line() -> None:
    with pytest.raises(PolicyError) as info:
        policykit.compile_text('policy d "D"\nclause 1 "a"\n  remove comment when has threat and\n'
                               'clause 2 "b"\n  not checkable because "x"\n', "d.pol")
    assert info.value.diagnostics[0].line == 3
