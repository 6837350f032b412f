"""Where a diagnostic is in the text, and the quick fix its did-you-mean carries.

The compiler's help lines say `did you mean `X`?`; the wrong word is the last one the message quotes
(`has no field `trainedd``, `unknown category `profanty``, `"weakk" is not a possible value`). The
fix replaces that word, inside the diagnostic's range, with X (quoted when a clause id needs it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Diagnostic
from .index import PLAIN_CLAUSE_ID, Range

_SUGGESTION = re.compile(r"did you mean `([^`]+)`\?")
_QUOTED = re.compile(r'`([^`]+)`|"((?:[^"\\]|\\.)*)"')
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"?|[\w.¶\-]+|\S')
_WORD_CHAR = re.compile(r"[\w¶\-]")


def diagnostic_range(d: Diagnostic, lines: list[str]) -> Range:
    """The span on one line: as given; a span over several lines is cut at the end of its first; a
    point is widened to the token there."""
    line = min(max(d.line - 1, 0), max(len(lines) - 1, 0))
    text = lines[line] if lines else ""
    column = min(max(d.column - 1, 0), len(text))
    if d.span.end_line is not None and d.span.end_column is not None:
        if d.span.end_line == d.line and d.span.end_column - 1 > column:
            return Range((line, column), (line, min(d.span.end_column - 1, len(text))))
        if d.span.end_line > d.line and len(text.rstrip()) > column:
            return Range((line, column), (line, len(text.rstrip())))
    match = _TOKEN.match(text, column)
    return Range((line, column), (line, match.end() if match else column))


@dataclass(frozen=True)
class Fix:
    """Replace `range` with `text`; `title` is what the editor's menu says."""

    title: str
    range: Range
    text: str


def did_you_mean(d: Diagnostic, lines: list[str], rng: Range) -> Fix | None:
    """The quick fix for a diagnostic whose help suggests a name, if the wrong name is in its range."""
    suggestion = _SUGGESTION.search(d.help or "")
    if suggestion is None or rng.start[0] != rng.end[0]:
        return None
    new = suggestion.group(1)
    line, (start, end) = rng.start[0], (rng.start[1], rng.end[1])
    text = lines[line]
    quoted = [m.group(1) or m.group(2) for m in _QUOTED.finditer(d.message)]
    for wrong in reversed([w for w in quoted if w and w != new]):
        at = _find_word(text, wrong, start, end)
        if at is None:
            continue
        inside_quotes = at > 0 and text[at - 1] == '"' and text[at + len(wrong):at + len(wrong) + 1] == '"'
        written = new if inside_quotes or PLAIN_CLAUSE_ID.match(new) else '"' + new.replace('"', '\\"') + '"'
        return Fix(f"Change `{wrong}` to `{new}`", Range((line, at), (line, at + len(wrong))), written)
    return None


def _find_word(text: str, word: str, start: int, end: int) -> int | None:
    """Where `word` stands as a whole word within text[start:end]."""
    at = text.find(word, start, end)
    while at != -1:
        after = at + len(word)
        if (at == 0 or not _WORD_CHAR.match(text[at - 1])) and (after >= len(text) or not _WORD_CHAR.match(text[after])):
            return at
        at = text.find(word, at + 1, end)
    return None
