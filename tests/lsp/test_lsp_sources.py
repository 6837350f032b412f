"""With `sources` in the client's initializationOptions, quotes are checked as `lint --sources` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from policykit.lint import lint_file

pytestmark = pytest.mark.asyncio(loop_scope="module")

POLICY = '''policy quoted "Quoted"
  document "rules.txt"

clause 1 "Staff may not post profanity."
  deny post when has profanity

clause 2 "Staff may post whatever they like."
  allow post
'''


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("sources")
    (folder / "rules.txt").write_text("1. Staff may not post profanity.\n2. Staff may post on city business.\n")
    return str(folder)


async def test_a_quote_that_is_not_the_documents_words(editor, sources, tmp_path):
    path = tmp_path / "quoted.pol"
    path.write_text(POLICY)
    uri = await editor.open(path)
    published = [(d.code, d.range.start.line + 1) for d in await editor.diagnostics(uri)]
    assert published == [(d.code, d.line) for d in lint_file(path, Path(sources))]
    assert ("PK307", 7) in published and not any(code == "PK307" and line == 4 for code, line in published)
