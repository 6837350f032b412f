"""Diagnostics as you type: what `policykit lint` says, at the right ranges, with help and quick fixes."""

from __future__ import annotations

import pytest
from lsprotocol import types

from policykit.lint import lint_file, max_policy_bytes

pytestmark = pytest.mark.asyncio(loop_scope="module")

BROKEN = '''policy broken "A policy with mistakes"

clause 1 "Staff may not post profanity."
  deny post when has profanty

clause 2 "Untrained staff may not post."
  deny post when not author.trainedd

rule typo_rule:
  deny comment when has threat
    cite 3
'''


def _text_at(text: str, rng: types.Range) -> str:
    line = text.split("\n")[rng.start.line]
    assert rng.start.line == rng.end.line
    return line[rng.start.character:rng.end.character]


async def test_a_broken_policy_gets_each_mistake_at_its_word(editor, tmp_path):
    path = tmp_path / "broken.pol"
    path.write_text(BROKEN)
    found = await editor.open(path)
    diagnostics = await editor.diagnostics(found)
    by_code = {d.code: d for d in diagnostics}
    assert _text_at(BROKEN, by_code["PK105"].range) == "profanty"
    assert _text_at(BROKEN, by_code["PK102"].range) == "author.trainedd"
    assert _text_at(BROKEN, by_code["PK203"].range) == "3"
    assert all(d.severity == types.DiagnosticSeverity.Error and d.source == "policykit" for d in diagnostics)
    # the help line travels as related information, and the did-you-mean as a fix
    help_105 = by_code["PK105"].related_information[0].message
    assert help_105 == "help: did you mean `profanity`?"
    assert by_code["PK105"].code_description is None or by_code["PK105"].code_description.href.endswith("errors.md")


async def test_the_same_findings_as_policykit_lint(editor, tmp_path):
    path = tmp_path / "broken.pol"
    path.write_text(BROKEN)
    uri = await editor.open(path)
    published = {(d.code, d.range.start.line + 1, d.range.start.character + 1) for d in await editor.diagnostics(uri)}
    linted = {(d.code, d.line, d.column) for d in lint_file(path)}
    assert published == linted and len(linted) == 4


async def test_quick_fix_for_every_did_you_mean(client, editor, tmp_path):
    path = tmp_path / "broken.pol"
    path.write_text(BROKEN)
    uri = await editor.open(path)
    diagnostics = await editor.diagnostics(uri)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(
            start=types.Position(line=0, character=0), end=types.Position(line=12, character=0)),
        context=types.CodeActionContext(diagnostics=diagnostics)))
    suggested = [d for d in diagnostics if "did you mean" in d.message]
    assert len(actions) == len(suggested) == 2
    fixed = BROKEN
    for action in actions:
        assert action.kind == types.CodeActionKind.QuickFix
        (edit,) = action.edit.changes[uri]
        line = fixed.split("\n")[edit.range.start.line]
        new_line = line[:edit.range.start.character] + edit.new_text + line[edit.range.end.character:]
        fixed = fixed.replace(line, new_line)
    assert "has profanity" in fixed and "author.trained\n" in fixed
    await editor.change(uri, fixed)
    assert {d.code for d in await editor.diagnostics(uri)} == {"PK203", "PK204"}


async def test_a_syntax_error_is_reported_where_it_is(editor, tmp_path):
    text = 'policy p "P"\n\nclause 1 "x"\n  deny when has threat\n'
    path = tmp_path / "syntax.pol"
    path.write_text(text)
    uri = await editor.open(path)
    (d,) = await editor.diagnostics(uri)
    assert d.code == "PK002"
    assert (d.range.start.line, _text_at(text, d.range)) == (3, "when")


async def test_only_the_latest_version_is_published(editor, tmp_path):
    path = tmp_path / "typing.pol"
    path.write_text(BROKEN)
    uri = await editor.open(path)
    fixed = BROKEN.replace("profanty", "profanity").replace("trainedd", "trained").replace("    cite 3", "    cite 1")
    for step in range(1, 6):  # keystrokes faster than the debounce: intermediate versions are never linted
        editor.versions[uri] += 1
        editor.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=editor.versions[uri]),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=BROKEN if step < 5 else fixed)]))
    editor.client.diagnostics.pop(uri, None)
    published = [d.code for d in await editor.diagnostics(uri)]
    (tmp_path / "fixed.pol").write_text(fixed)
    assert published == [d.code for d in lint_file(tmp_path / "fixed.pol")] == ["PK311"]


async def test_an_enormous_file_gets_one_diagnostic(editor, tmp_path):
    path = tmp_path / "huge.pol"
    text = 'policy huge "Huge"\n' + "# filler\n" * (max_policy_bytes() // 9 + 1)
    uri = await editor.open(path, text)
    (d,) = await editor.diagnostics(uri)
    assert d.code == "PK000" and "too large" in d.message


async def test_closing_clears_the_diagnostics(editor, tmp_path):
    path = tmp_path / "broken.pol"
    path.write_text(BROKEN)
    uri = await editor.open(path)
    assert await editor.diagnostics(uri)
    editor.client.diagnostics.pop(uri, None)
    editor.close(uri)
    assert await editor.diagnostics(uri) == []


async def test_positions_count_utf16_units_as_the_client_does(editor, tmp_path):
    text = 'policy p "P"\n\nclause 1 "No profanity."\n  deny post when text contains "😀" and has profanty\n'
    path = tmp_path / "emoji.pol"
    path.write_text(text)
    uri = await editor.open(path)
    (d,) = await editor.diagnostics(uri)
    line = text.split("\n")[3]
    units = len(line[:line.index("profanty")].encode("utf-16-le")) // 2
    assert d.code == "PK105" and d.range.start.character == units == line.index("profanty") + 1
    assert d.range.end.character - d.range.start.character == len("profanty")
