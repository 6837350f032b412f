"""Definition, references and rename round-trip on every bundled policy; the outline; formatting = fmt."""

from __future__ import annotations

import re

import pytest
from lsprotocol import types

from policykit.fmt import format_text
from policykit.loader import compile_text
from policykit.parser import parse

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def debounce() -> float:
    """These tests open and edit a lot and read no diagnostics: nothing is linted while they run."""
    return 30.0


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


def apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.split("\n")
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        s, e = edit.range.start, edit.range.end
        merged = lines[s.line][:s.character] + edit.new_text + lines[e.line][e.character:]
        lines[s.line:e.line + 1] = merged.split("\n")
    return "\n".join(lines)


def pos(span, offset: int = 0) -> types.Position:
    return types.Position(line=span.line - 1, character=span.column - 1 + offset)


def written(text: str, rng: types.Range) -> str:
    return text.split("\n")[rng.start.line][rng.start.character:rng.end.character]


async def rename(client, uri: str, position: types.Position, new: str) -> list[types.TextEdit]:
    edit = await client.text_document_rename_async(types.RenameParams(
        text_document=doc(uri), position=position, new_name=new))
    return edit.changes[uri]


async def test_cite_definition_references_rename_round_trip(client, editor, policies):
    for path in policies:
        text = path.read_text()
        parsed = parse(text, str(path))
        rule = next(r for r in parsed.all_rules() if r.decision.cites and r.decision.cites[0].id in
                    {c.id for c in parsed.walk_clauses()})
        ref = rule.decision.cites[0]
        clause = next(c for c in parsed.walk_clauses() if c.id == ref.id)
        uri = await editor.open(path, wait=False)
        at_cite = pos(ref.span, 1)
        found = await client.text_document_definition_async(types.DefinitionParams(text_document=doc(uri),
                                                                                   position=at_cite))
        assert found.uri == uri and found.range.start == pos(clause.span)
        refs = await client.text_document_references_async(types.ReferenceParams(
            text_document=doc(uri), position=at_cite, context=types.ReferenceContext(include_declaration=True)))
        starts = {(r.range.start.line, r.range.start.character) for r in refs}
        assert (ref.span.line - 1, ref.span.column - 1) in starts and (clause.span.line - 1, clause.span.column - 1) in starts
        assert all(written(text, r.range).strip('"') == ref.id for r in refs)

        renamed = apply(text, await rename(client, uri, at_cite, "Renamed ¶99"))
        before, after = compile_text(text, str(path)), compile_text(renamed, str(path))
        assert len(before.rules) == len(after.rules) and "Renamed ¶99" in after.clauses
        assert ref.id not in {c.id for c in parse(renamed, str(path)).walk_clauses()}
        await editor.change(uri, renamed, wait=False)
        back = apply(renamed, await rename(client, uri, pos(clause.span, 1), ref.id))
        assert back == text
        editor.close(uri)


async def test_rule_and_define_rename_round_trip(client, editor, policies):
    for path in policies:
        text = path.read_text()
        parsed = parse(text, str(path))
        uri = await editor.open(path, wait=False)
        for kind, name in _a_rule_and_a_define(parsed, text):
            use = _first_use(text, kind, name)
            found = await client.text_document_definition_async(types.DefinitionParams(
                text_document=doc(uri), position=use))
            assert written(text, found.range) == name
            decl_line = text.split("\n")[found.range.start.line]
            assert re.match(rf"\s*(define|rule|override rule|exception) {name}\b", decl_line)
            edits = await rename(client, uri, use, name + "_renamed")
            renamed = apply(text, edits)
            assert len(compile_text(renamed, str(path)).rules) == len(compile_text(text, str(path)).rules)
            assert not re.search(rf"\b{name}\b", _code(renamed)) and re.search(rf"\b{name}_renamed\b", _code(renamed))
            await editor.change(uri, renamed, wait=False)
            back = apply(renamed, await rename(client, uri, found.range.start, name))
            assert back == text
            await editor.change(uri, text, wait=False)
        editor.close(uri)


def _code(text: str) -> str:
    """The text less its strings and comments."""
    return re.sub(r'"(?:[^"\\]|\\.)*"|#[^\n]*', "", text)


def _a_rule_and_a_define(parsed, text):
    """A rule some exception names, and a definition used somewhere, when the policy has them."""
    targets = [r.defeats[1] for r in parsed.all_rules() if r.defeats and r.defeats[0] == "rule"]
    if targets:
        yield "rule", targets[0]
    used = [d.name for d in parsed.defines if len(re.findall(rf"\b{d.name}\b", text)) > 1]
    if used:
        yield "define", used[0]


def _first_use(text: str, kind: str, name: str) -> types.Position:
    pattern = rf"\bto {name}\b" if kind == "rule" else rf"(?<!define )\b{name}\b"
    for number, line in enumerate(text.split("\n")):
        if line.lstrip().startswith("#"):
            continue
        match = re.search(pattern, line)
        if match and not line.lstrip().startswith(f"define {name} "):
            return types.Position(line=number, character=match.end() - 1)
    raise AssertionError(f"no use of {name}")


async def test_rename_refuses_what_is_not_safe(client, editor, policies):
    path = next(p for p in policies if p.stem == "nyc")
    text = path.read_text()
    parsed = parse(text, str(path))
    define = parsed.defines[0]
    uri = await editor.open(path, wait=False)
    at_define = types.Position(line=define.span.line - 1, character=len("define "))
    for bad in ("text", "not a name", "when", parsed.defines[1].name):
        with pytest.raises(Exception):
            await rename(client, uri, at_define, bad)
    field = text.index("actor.role")
    with pytest.raises(Exception):
        await client.text_document_prepare_rename_async(types.PrepareRenameParams(
            text_document=doc(uri), position=types.Position(line=text.count("\n", 0, field), character=
                                                            field - text.rfind("\n", 0, field))))
    editor.close(uri)


async def test_extends_goes_to_the_parent_and_its_names(client, editor, root):
    path = root / "examples" / "nyc_parks.pol"
    text = path.read_text()
    uri = await editor.open(path, wait=False)
    line = next(i for i, l in enumerate(text.split("\n")) if l.strip().startswith("extends"))
    found = await client.text_document_definition_async(types.DefinitionParams(
        text_document=doc(uri), position=types.Position(line=line, character=text.split("\n")[line].index("extends") + 9)))
    assert found.uri.endswith("/nyc.pol")
    parsed = parse(text, str(path))
    parent_ids = {c.id for c in parse((root / "policies" / "nyc.pol").read_text()).walk_clauses()}
    ref = next(r for rule in parsed.all_rules() for r in rule.decision.cites if r.id in parent_ids)
    found = await client.text_document_definition_async(types.DefinitionParams(
        text_document=doc(uri), position=pos(ref.span, 1)))
    assert found.uri.endswith("/nyc.pol")
    with pytest.raises(Exception):  # declared in the parent: renaming it here would break the parent
        await rename(client, uri, pos(ref.span, 1), "elsewhere")
    editor.close(uri)


async def test_outline_is_the_clause_tree(client, editor, policies):
    for path in policies:
        uri = await editor.open(path, wait=False)
        symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc(uri)))
        parsed = parse(path.read_text(), str(path))
        clauses = [s.name for s in symbols if s.kind == types.SymbolKind.Namespace]
        assert clauses == [c.id for c in parsed.clauses]

        def count(items) -> int:
            return sum(1 + count(s.children or []) for s in items if s.kind == types.SymbolKind.Namespace)
        assert count(symbols) == len(list(parsed.walk_clauses()))
        editor.close(uri)


async def test_formatting_is_policykit_fmt(client, editor, policies, tmp_path):
    messy = 'policy m "M"   \n\n\n\nclause 1 "x"\n      deny post when has threat   \n'
    for path, text in [(p, p.read_text()) for p in policies] + [(tmp_path / "messy.pol", messy)]:
        uri = await editor.open(path, text, wait=False)
        edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
            text_document=doc(uri), options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
        assert apply(text, edits or []) == format_text(text)
        editor.close(uri)
    assert format_text(messy) != messy
