"""The symbol index and completion in-process: every name found where it is written, and nothing that
a half-typed file can contain makes them fail."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as s

from policykit import syntax as st
from policykit.errors import Span
from policykit.lsp.completion import complete
from policykit.lsp.document import parse_document
from policykit.lsp.hover import hover_text
from policykit.lsp.navigate import definition, references
from policykit.lsp.index import build

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "policies").glob("*.pol")) + sorted((ROOT / "examples").glob("*.pol"))
NYC = (ROOT / "policies" / "nyc.pol").read_text(encoding="utf-8")
NYC_PARSED = parse_document(NYC, ROOT / "policies" / "nyc.pol")  # the last version that parsed


def test_every_symbol_is_its_name_as_written():
    for path in FILES:
        parsed = parse_document(path.read_text(encoding="utf-8"), path)
        assert parsed.index is not None and parsed.index.symbols
        for symbol in parsed.index.symbols:
            (l1, c1), (l2, c2) = symbol.range.start, symbol.range.end
            assert l1 == l2
            written = parsed.index.lines[l1][c1:c2]
            assert written == symbol.name or written[1:-1].replace('\\"', '"') == symbol.name


def test_a_child_sees_its_parents_names():
    path = ROOT / "examples" / "nyc_parks.pol"
    parsed = parse_document(path.read_text(encoding="utf-8"), path)
    assert [layer.index.doc.name for layer in parsed.parents] == ["nyc"]
    uses = {s.name for s in parsed.index.symbols if s.kind == "define"}
    assert uses <= {d.name for d in parsed.parents[0].index.doc.defines}


@settings(max_examples=60, deadline=None)
@given(cut=s.integers(min_value=0, max_value=len(NYC)), junk=s.text(max_size=20))
def test_completion_anywhere_in_a_half_typed_file(cut, junk):
    """A file cut anywhere and followed by anything: completion at its end answers, and never fails."""
    text = NYC[:cut] + junk
    lines = text.split("\n")
    for item in complete(NYC_PARSED, lines[-1], len(lines) - 1, len(lines[-1])):
        assert item.label and 0 <= item.replace_from <= len(lines[-1])


def test_a_deeply_nested_condition_is_walked_without_recursion():
    """Deeper than Python's recursion limit: a tree the parser could be made to build, walked by a loop."""
    text = 'policy deep "Deep"\n\nclause 1 "x"\n  deny post when has threat\n'
    doc = parse_document(text, ROOT / "deep.pol").index.doc
    node = st.Has(None, (("threat", Span("x", 4, 22, 4, 28)),), Span("x", 4, 18))
    for _ in range(5000):
        node = st.Not(node, Span("x", 4, 18))
    doc.defines.append(st.Define("deep", node, Span("x", 4, 1)))
    assert sum(1 for s in build(doc, text).symbols if s.kind == "category") == 2


def test_every_symbol_of_every_policy_has_a_hover_and_its_references():
    """Every clause, rule, definition and parameter used resolves to its declaration; every field path
    the policies read is a field of the schema, quantifier elements included."""
    for path in FILES:
        parsed = parse_document(path.read_text(encoding="utf-8"), path)
        for symbol in parsed.index.symbols:
            shown = hover_text(parsed, symbol, None)
            assert shown is None or shown.strip()
            if symbol.kind in ("clause", "rule", "define", "param"):
                assert shown and "no clause" not in shown, (path.name, symbol)
                assert definition(parsed, symbol) is not None, (path.name, symbol)
            if symbol.kind == "field":
                assert "not a field" not in shown, (path.name, symbol)
            assert any(p.range == symbol.range for p in references(parsed, symbol, True)) or \
                symbol.kind in ("field", "extends")


@pytest.mark.parametrize("ref", ["/etc/passwd", "../../../../etc/hostname"])
def test_a_parent_outside_the_roots_is_not_read(tmp_path, ref) -> None:
    """The editor follows `extends` the way `load` does: an absolute path or a `..` out is not read
    (lint reports it as PK212), so hover and navigation can never show an outside file's content."""
    text = f'policy a "A"\nextends "{ref}"\n'
    assert parse_document(text, tmp_path / "a.pol").parents == []


def test_a_bundled_parent_is_followed() -> None:
    path = ROOT / "examples" / "nyc_parks.pol"
    parents = parse_document(path.read_text(), path).parents
    assert [layer.path.name for layer in parents] == ["nyc.pol"]
