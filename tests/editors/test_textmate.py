"""The TextMate grammar for `.pol` files, checked by tokenising lines of the bundled policies.

A small TextMate tokeniser (match, begin/end across lines, captures, includes; earliest match wins,
ties by order, as vscode-textmate does) runs the grammar's own regexes, which keep to what Python's
`re` and Oniguruma read alike. Every keyword that grammar.lark quotes must come out as a keyword.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from policykit.lsp.vocabulary import keywords

ROOT = Path(__file__).resolve().parents[2]
GRAMMAR = ROOT / "editors" / "textmate" / "policykit.tmLanguage.json"
SOURCES = sorted((ROOT / "policies").glob("*.pol")) + sorted((ROOT / "examples").glob("*.pol"))
KEYWORD_SCOPES = ("keyword.", "storage.", "constant.language.", "support.type.", "support.constant.kind.")


@lru_cache(maxsize=1)
def grammar() -> dict:
    return json.loads(GRAMMAR.read_text(encoding="utf-8"))


def _resolve(rule: dict) -> list[dict]:
    """A rule, its `include`s and `patterns` flattened to the rules that match."""
    if "include" in rule:
        return _resolve(grammar()["repository"][rule["include"][1:]])
    if "match" in rule or "begin" in rule:
        return [rule]
    return [r for sub in rule.get("patterns", []) for r in _resolve(sub)]


def tokenize(lines: list[str]) -> list[list[tuple[int, int, tuple[str, ...]]]]:
    """For each line, (start, end, scopes) of every token that has a scope; a begin/end region is one
    token from its begin to its end (or the line's edges, when it spans lines)."""
    stack: list[tuple[dict, tuple[str, ...]]] = []  # open begin/end rules, with the scopes they add
    out = []
    for line in lines:
        tokens: list[tuple[int, int, tuple[str, ...]]] = []
        opened = [0] * len(stack)  # where each open region starts on this line
        pos = 0
        while pos <= len(line):
            rules = [r for sub in (stack[-1][0].get("patterns", []) if stack else grammar()["patterns"])
                     for r in _resolve(sub)]
            outer = stack[-1][1] if stack else ()
            best, best_rule = None, None
            for rule in rules:
                match = re.compile(rule.get("match") or rule["begin"]).search(line, pos)
                if match and (best is None or match.start() < best.start()):
                    best, best_rule = match, rule
            end = re.compile(stack[-1][0]["end"]).search(line, pos) if stack else None
            if end is not None and (best is None or end.start() <= best.start()):
                rule, scopes = stack.pop()
                tokens.append((opened.pop(), end.end(), scopes))
                tokens += _captured(end, rule.get("endCaptures", {}), scopes)
                pos = max(end.end(), pos + (end.end() == pos))
                continue
            if best is None or (best.end() == best.start() and "begin" not in best_rule):
                break
            scopes = outer + ((best_rule["name"],) if "name" in best_rule else ())
            if "begin" in best_rule:
                tokens += _captured(best, best_rule.get("beginCaptures", {}), scopes)
                stack.append((best_rule, scopes))
                opened.append(best.start())
            else:
                tokens.append((best.start(), best.end(), scopes))
                tokens += _captured(best, best_rule.get("captures", {}), scopes)
            pos = best.end() if best.end() > pos else pos + 1
        tokens += [(start, len(line), scopes) for start, (_, scopes) in zip(opened, stack)]
        out.append(tokens)
    return out


def _captured(match: re.Match[str], captures: dict, scopes: tuple[str, ...]) -> list[tuple[int, int, tuple[str, ...]]]:
    return [(match.start(int(g)), match.end(int(g)), scopes + (c["name"],)) for g, c in captures.items()
            if match.group(int(g)) is not None and "name" in c]


def scope_of(line: str, word: str, occurrence: int = 0) -> tuple[str, ...]:
    """The innermost scopes of the token covering the `occurrence`-th whole-word `word` on `line`."""
    found = [m.start() for m in re.finditer(rf"(?<![\w.]){re.escape(word)}(?![\w])", line)][occurrence]
    covering = [t for t in tokenize([line])[0] if t[0] <= found and found + len(word) <= t[1]]
    return min(covering, key=lambda t: (t[1] - t[0], -len(t[2])))[2] if covering else ()


def code_lines() -> list[str]:
    return [line for path in SOURCES for line in path.read_text(encoding="utf-8").split("\n")
            if line.strip() and not line.lstrip().startswith("#")]


# Lines for keywords no bundled policy happens to use, written as the language reference shows them.
EXTRA = [
    'trust labels from "perspective" above 0.8',
    "retain only until read unless context.emergency cite 6.4",
    "retain 90 days after event cite 6.4",
    "  deny post when text starts with \"x\" or text ends with \"y\" or text matches /a+/",
    "  review post when has such as threat but not profanity",
    "  allow post when (author.role otherwise \"public\") is present and links is missing",
    "  deny post when all media where release is \"none\"",
    "param launched: date \"when\"",
    "param score: number = 1 \"how much\"",
    "param on: flag \"whether\"",
    "param names: list \"who\"",
    "param site: text \"where\"",
    "  revision \"2\"",
    "  version \"1\"",
    "  title \"T\"",
]


def _is_keyword(scopes: tuple[str, ...]) -> bool:
    return bool(scopes) and scopes[-1].startswith(KEYWORD_SCOPES)


def test_every_keyword_of_the_grammar_is_highlighted_as_one():
    lines = code_lines() + EXTRA
    missing = []
    for word in sorted(keywords()):
        candidates = [l for l in lines if re.search(rf"(?<![\w.\"]){word}(?![\w\"])", _no_strings(l))]
        if not any(_is_keyword(scope_of(l, word)) for l in candidates[:400] if _first_outside_strings(l, word)):
            missing.append(word)
    assert missing == []


def _no_strings(line: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)


def _first_outside_strings(line: str, word: str) -> bool:
    """Whether the first whole-word `word` on the line is outside strings and comments (what scope_of reads)."""
    first = next(re.finditer(rf"(?<![\w.]){re.escape(word)}(?![\w])", line), None)
    if first is None:
        return False
    before = line[:first.start()]
    return before.count('"') % 2 == 0 and "#" not in _no_strings(before)


@pytest.mark.parametrize("line, word, scope", [
    ('  deny post when has threat  # a comment', "comment", "comment.line.number-sign.policykit"),
    ('clause 3.4.3 "No profanity."', "3.4.3", "entity.name.section.clause.policykit"),
    ('clause "Introduction ¶1" "This policy…"', "Introduction", "string.quoted.double.policykit"),
    ('    cite 3.4.1, 3.5.2', "3.5.2", "entity.name.section.clause.policykit"),
    ('    cite "Freedom of Information Law (FOIL) ¶2 s1"', "Freedom", "string.quoted.double.policykit"),
    ('  effective 2020-01-31', "2020-01-31", "constant.numeric.date.policykit"),
    ('  deny post when number of links > 3', "3", "constant.numeric.policykit"),
    ('  deny post when text matches /bit\\.ly/', "bit", "string.regexp.policykit"),
    ('    because "{author.name} posted it"', "author", "variable.other.interpolation.policykit"),
    ('rule no_profanity:', "no_profanity", "entity.name.function.rule.policykit"),
    ('exception quotes to no_profanity:', "no_profanity", "entity.name.function.rule.policykit"),
    ('exception to clause 3.4:', "3.4", "entity.name.section.clause.policykit"),
    ('define staff_post = author.role is "staff"', "staff_post", "entity.name.constant.define.policykit"),
    ('  deny post when clause 3.4.3 applies', "3.4.3", "entity.name.section.clause.policykit"),
    ('policy nyc "Official"', "nyc", "entity.name.type.policy.policykit"),
    ('  deny post when author.trained is false', "false", "constant.language.boolean.policykit"),
    ('  deny post when author.age >= 18', ">=", "keyword.operator.comparison.policykit"),
])
def test_strings_comments_numbers_dates_and_clause_ids(line, word, scope):
    assert scope_of(line, word)[-1] == scope


def test_names_and_fields_are_not_keywords():
    line = "  deny action when staff_post and actor.trained and text contains \"x\" and action.type is \"login\""
    for word in ("staff_post", "actor", "text"):
        assert not _is_keyword(scope_of(line, word))
    assert scope_of(line, "x")[-1] == "string.quoted.double.policykit"
    type_at = line.index("action.type") + len("action.")
    assert not any(_is_keyword(t[2]) for t in tokenize([line])[0] if t[0] <= type_at < t[1])


def test_a_string_over_two_lines_stays_a_string():
    first, second = tokenize(['clause 1 "A clause whose words', '  go on here." # then a comment'])
    assert ((9, len('clause 1 "A clause whose words'), ("string.quoted.double.policykit",)) in first)
    assert (0, len("  go on here.\""), ("string.quoted.double.policykit",)) in second
    assert any(t[2] == ("comment.line.number-sign.policykit",) for t in second)


def test_every_bundled_line_tokenises():
    for path in SOURCES:
        assert len(tokenize(path.read_text(encoding="utf-8").split("\n"))) > 10
