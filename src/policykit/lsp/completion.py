"""What to offer at the cursor, read from the words before it on its line.

A document being typed rarely parses, so the context comes from the line's text (after `has `:
categories; after `cite `: clause ids; after a dot: the fields of the path before it; …) and the
names come from the last version that did parse, with the policies it extends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..compiler import EVENT_KINDS
from ..loader import known_policies
from ..schema import FieldType, expand, resolve, root_type
from . import vocabulary as vocab
from .document import Parsed
from .index import written_clause_id

_WORD = re.compile(r"[A-Za-z0-9_\-]*\Z")
_QUOTED_TAIL = re.compile(r'"[^"]*\Z')
_NAME_LIST = r"(?:[A-Za-z_]\w*\s*,\s*)*"
_CLAUSE_LIST = r'(?:(?:"(?:[^"\\]|\\.)*"|[^\s,"]+)\s*,\s*)*'
_CONTEXTS: list[tuple[str, re.Pattern[str]]] = [
    ("field", re.compile(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\.\Z")),
    ("clause", re.compile(rf"\bcite\s+{_CLAUSE_LIST}\Z")),
    ("clause", re.compile(r"\bexception\s+(?:[A-Za-z_]\w*\s+)?to\s+clause\s+\Z")),
    ("clause", re.compile(r"\S.*\bclause\s+\Z")),  # `clause X applies` inside a condition
    ("category", re.compile(rf"(?:\bhas|\blabelled|\bhas\s+such\s+as|\bbut\s+not)\s+{_NAME_LIST}\Z")),
    ("rule", re.compile(r"\bexception\s+(?:[A-Za-z_]\w*\s+)?to\s+\Z")),
    ("rule", re.compile(r"^\s*override\s+rule\s+\Z")),
    ("enum", re.compile(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s+(?:is|is\s+not|==|!=)\s+\Z")),
    ("action", re.compile(rf"^\s*(?:allow|review|remove|deny)\b.*\baction\s+{_NAME_LIST}\Z")),
    ("target", re.compile(r"^\s*(?:allow|review|remove|deny)\s+(?:[\w ]+,\s*)*\Z")),
    ("obligation", re.compile(r"^\s*then\s+\Z")),
    ("param", re.compile(r"^\s*set\s+\Z")),
    ("type", re.compile(r"^\s*param\s+\w+\s*:\s*\Z")),
    ("policy", re.compile(r"^\s*extends\s+\Z")),
    ("statement", re.compile(r"^\s*\Z")),
    ("expression", re.compile(r"(?:\bwhen|\bunless|\band|\bor|\bnot|\bwhere|\(|=)\s+\Z")),
]


@dataclass(frozen=True)
class Item:
    """One completion: what is inserted (replacing `replace_from` .. cursor on the line) and a note."""

    label: str
    kind: str  # field, category, clause, rule, keyword, value, parameter, policy, action, define
    insert: str
    detail: str | None = None
    replace_from: int = 0


def complete(parsed: Parsed | None, line_text: str, line: int, column: int) -> list[Item]:
    """Completions at 0-based (line, column) of a line whose text is `line_text`."""
    prefix = line_text[:column]
    quoted = _QUOTED_TAIL.search(prefix) if prefix.count('"') % 2 else None
    start = quoted.start() if quoted else column - len(_WORD.search(prefix).group())  # type: ignore[union-attr]
    before = prefix[:start]
    for context, pattern in _CONTEXTS:
        match = pattern.search(before)
        if match is None:
            continue
        items = _offer(context, match, parsed, line)
        if items is not None:
            return [Item(i.label, i.kind, i.insert, i.detail, start) for i in items]
    return []


def _offer(context: str, match: re.Match[str], parsed: Parsed | None, line: int) -> list[Item] | None:
    layers = parsed.layers() if parsed is not None else []
    index = parsed.index if parsed is not None else None
    kinds = index.kinds_at(line) if index is not None else EVENT_KINDS
    if context == "field":
        return _fields(match.group(1), kinds)
    if context == "clause":
        return [Item(cid, "clause", written_clause_id(cid), clause.text[:80])
                for layer in layers for cid, clause in layer.index.clauses.items()]
    if context == "category":
        return [Item(c, "category", c) for c in sorted(vocab.categories())] + \
            [Item("such as", "keyword", "such as", "an illustrative list (\"such as\", \"e.g.\")")]
    if context == "rule":
        items = [Item(name, "rule", name) for layer in layers for name in layer.index.rules]
        return items + ([Item("clause", "keyword", "clause", "an exception to every rule under a clause")]
                        if "exception" in match.group() else [])
    if context == "enum":
        return _enum_values(match.group(1), kinds)
    if context == "action":
        declared = {name for layer in layers for name in (a.name for a in layer.index.doc.action_types)}
        return [Item(a, "action", a) for a in sorted(vocab.action_types() | declared)]
    if context == "target":
        return [Item(t, "keyword", t) for t in vocab.TARGETS]
    if context == "obligation":
        return [Item(o, "keyword", o) for o in sorted(vocab.KNOWN_OBLIGATIONS)]
    if context == "param":
        return [Item(p.name, "parameter", p.name, p.description) for layer in layers[1:] + layers[:1]
                for p in layer.index.doc.params]
    if context == "type":
        return [Item(t, "keyword", t) for t in vocab.PARAM_TYPES]
    if context == "policy":
        return [Item(name, "policy", name, str(path)) for name, path in sorted(known_policies().items())]
    if context == "statement":
        return [Item(word, "keyword", word, note) for word, note in vocab.STATEMENTS.items()]
    return _expression(layers, kinds)


def _fields(dotted: str, kinds: tuple[str, ...]) -> list[Item] | None:
    parts = tuple(dotted.split("."))
    found: dict[str, FieldType] = {}
    for kind in kinds:
        typ, _, _ = resolve(expand(parts), root_type(kind))
        if typ is not None and typ.kind == "object":
            for name, sub in typ.fields().items():
                found.setdefault(name, sub)
    return [Item(name, "field", name, sub.describe()) for name, sub in sorted(found.items())] or None


def _enum_values(dotted: str, kinds: tuple[str, ...]) -> list[Item] | None:
    values: dict[str, None] = {}
    for kind in kinds:
        typ, _, _ = resolve(expand(tuple(dotted.split("."))), root_type(kind))
        if typ is not None and typ.kind == "enum":
            values.update(dict.fromkeys(typ.options))
    return [Item(f'"{v}"', "value", f'"{v}"') for v in values] or None


def _expression(layers: list, kinds: tuple[str, ...]) -> list[Item]:
    items = [Item(d.name, "define", d.name, "definition") for layer in layers for d in layer.index.doc.defines]
    items += [Item(p.name, "parameter", p.name, p.description) for layer in layers for p in layer.index.doc.params]
    roots: dict[str, FieldType] = {}
    for kind in kinds:
        roots.update(root_type(kind).fields())
    if "action" in kinds:
        roots.setdefault("target", FieldType("object"))
    items += [Item(name, "field", name, typ.describe()) for name, typ in sorted(roots.items())]
    return items + [Item(word, "keyword", word) for word in vocab.EXPRESSION_WORDS]
