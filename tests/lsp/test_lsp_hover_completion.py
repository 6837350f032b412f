"""Hover and completion, asked by a real client of the running server."""

from __future__ import annotations

import pytest
from lsprotocol import types

from policykit.compiler import ACTION_TYPES, CATEGORIES
from policykit.parser import parse

pytestmark = pytest.mark.asyncio(loop_scope="module")

SAMPLE = '''policy sample "A sample"

define staff_post = author.role is "staff"

clause 1 "Staff may not post profanity."
  rule no_profanity:
    deny post when staff_post and has profanity

clause 2 "Comments that threaten may be removed."
  remove comment when has threat

exception allow_quotes to no_profanity:
  allow post when author.official_capacity
    cite 1
'''


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def hover(client, uri, pos) -> str:
    found = await client.text_document_hover_async(types.HoverParams(text_document=doc(uri), position=pos))
    assert found is not None
    return found.contents.value


async def test_hover_on_a_cite_shows_the_clause_words_and_who_cites_it(client, editor, policies, at):
    for path in policies:
        text = path.read_text()
        parsed = parse(text, str(path))
        rule = next(r for r in parsed.all_rules() if r.decision.cites)
        ref = rule.decision.cites[0]
        uri = await editor.open(path, wait=False)
        shown = await hover(client, uri, types.Position(line=ref.span.line - 1, character=ref.span.column))
        clause = next(c for c in parsed.walk_clauses() if c.id == ref.id)
        assert clause.text in shown and f"clause {clause.id}" in shown
        if rule.name:
            assert f"`{rule.name}`" in shown.split("**cited by:**")[1]
        editor.close(uri)


async def test_hover_on_fields_categories_and_names(client, editor, tmp_path, at):
    path = tmp_path / "sample.pol"
    uri = await editor.open(path, SAMPLE)
    role = await hover(client, uri, at(SAMPLE, "author.role", 8))
    assert "field `author.role`" in role and '"staff"' in role and "post" in role
    capacity = await hover(client, uri, at(SAMPLE, "official_capacity", 2))
    assert "yes/no" in capacity
    profanity = await hover(client, uri, at(SAMPLE, "has profanity", 6))
    assert "category `profanity`" in profanity and "`profanity`" in profanity.split("detectors:")[1]
    define = await hover(client, uri, at(SAMPLE, "staff_post and", 2))
    assert 'define staff_post = author.role is "staff"' in define
    rule = await hover(client, uri, at(SAMPLE, "to no_profanity", 5))
    assert "rule no_profanity:" in rule and "`allow_quotes`" in rule
    clause = await hover(client, uri, at(SAMPLE, 'clause 1', 7))
    assert "Staff may not post profanity." in clause and "`no_profanity`" in clause and "`allow_quotes`" in clause


async def labels_after(client, editor, uri, base: str, typed: str) -> list[str]:
    text = base + typed + "\n"
    await editor.change(uri, text, wait=False)
    found = await client.text_document_completion_async(types.CompletionParams(
        text_document=doc(uri), position=types.Position(line=text.count("\n") - 1, character=len(typed))))
    return [item.label for item in found.items]


async def test_completion_after_has_offers_the_categories(client, editor, tmp_path):
    uri = await editor.open(tmp_path / "typing.pol", SAMPLE)
    offered = await labels_after(client, editor, uri, SAMPLE, "  deny post when has ")
    assert CATEGORIES <= set(offered)
    partial = await labels_after(client, editor, uri, SAMPLE, "  deny post when has threat, prof")
    assert CATEGORIES <= set(partial)  # the client filters by what is typed; the server offers the list


async def test_completion_of_fields_clauses_rules_actions_effects(client, editor, tmp_path):
    uri = await editor.open(tmp_path / "typing.pol", SAMPLE)
    assert {"role", "trained", "official_capacity"} <= set(
        await labels_after(client, editor, uri, SAMPLE, "  deny post when author."))
    assert {"1", "2"} == set(await labels_after(client, editor, uri, SAMPLE, "    cite "))
    assert {"no_profanity", "allow_quotes", "clause"} == set(
        await labels_after(client, editor, uri, SAMPLE, "exception to "))
    assert ACTION_TYPES <= set(await labels_after(client, editor, uri, SAMPLE, "  deny action "))
    statements = set(await labels_after(client, editor, uri, SAMPLE, "  "))
    assert {"allow", "review", "remove", "deny", "rule", "clause", "because", "cite"} <= statements
    assert {'"staff"', '"public"'} <= set(await labels_after(client, editor, uri, SAMPLE, "  deny post when author.role is "))
    assert {"staff_post", "author", "text", "has"} <= set(
        await labels_after(client, editor, uri, SAMPLE, "  deny post when "))


async def test_completion_of_a_quoted_clause_id(client, editor, policies):
    path = next(p for p in policies if p.stem == "nyc")
    text = path.read_text()
    uri = await editor.open(path)  # waits for its lint, which parses the text completion takes names from
    typed = '    cite "Intro'
    new = text + typed + "\n"
    await editor.change(uri, new, wait=False)
    found = await client.text_document_completion_async(types.CompletionParams(
        text_document=doc(uri), position=types.Position(line=new.count("\n") - 1, character=len(typed))))
    item = next(i for i in found.items if i.label == "Introduction ¶1")
    assert item.text_edit.new_text == '"Introduction ¶1"' and item.text_edit.range.start.character == len("    cite ")
    editor.close(uri)
