"""Go to definition, find references, rename, and the clause outline.

A name is declared once (a clause, rule, definition, parameter or action type) in this file or a
policy it extends, and used wherever the index found it. Rename changes only names declared in this
file, refuses a new name that is not one or that is taken, and proves itself safe: the renamed text
must compile with no new error and the same rules.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import syntax as st
from ..compiler import EVENT_KINDS
from ..errors import PolicyError
from ..loader import compile_text
from ..schema import root_type
from . import vocabulary
from .document import Parsed
from .index import NAME, Index, Range, Symbol, span_range, written_clause_id

RENAMEABLE = ("clause", "rule", "define")


@dataclass(frozen=True)
class Place:
    """A range in a file: `path` None is the document itself."""

    path: Path | None
    range: Range
    lines: list[str] | None = None  # that file's lines, to convert positions for the client


def definition(parsed: Parsed, symbol: Symbol) -> Place | None:
    if symbol.kind == "extends":
        parent = parsed.parents[0] if parsed.parents else None
        return Place(parent.path, Range((0, 0), (0, 0)), parent.index.lines) if parent else None
    for layer in parsed.layers():
        decl = layer.index.declaration(symbol.kind, symbol.name)
        if decl is not None:
            return Place(layer.path, decl.range, layer.index.lines)
    return None


def references(parsed: Parsed, symbol: Symbol, include_declaration: bool) -> list[Place]:
    if parsed.index is None or symbol.kind not in ("clause", "rule", "define", "param", "action", "category",
                                                   "function"):
        return []
    found = [Place(None, s.range) for s in parsed.index.occurrences(symbol.kind, symbol.name)
             if include_declaration or not s.declaration]
    if include_declaration and parsed.index.declaration(symbol.kind, symbol.name) is None:
        place = definition(parsed, symbol)
        if place is not None:
            found.insert(0, place)
    return found


class RenameError(ValueError):
    """Why a rename was refused, in words for the editor to show."""


def rename_target(parsed: Parsed, symbol: Symbol | None) -> Symbol:
    """The symbol a rename at the cursor would change, or RenameError saying why there is none."""
    if parsed.index is None:
        raise RenameError("the file does not parse; fix its syntax errors first")
    if symbol is None or symbol.kind not in RENAMEABLE:
        raise RenameError("only clauses, rules and definitions can be renamed")
    if parsed.index.declaration(symbol.kind, symbol.name) is None:
        raise RenameError(f"`{symbol.name}` is declared in a policy this one extends; rename it there")
    return symbol


def rename(parsed: Parsed, symbol: Symbol, new_name: str, text: str, path: Path) -> list[tuple[Range, str]]:
    """The edits that rename `symbol` everywhere in this file, or RenameError."""
    index = parsed.index
    assert index is not None
    _check_name(parsed, symbol, new_name)
    edits = []
    for s in index.occurrences(symbol.kind, symbol.name):
        edits.append((s.range, written_clause_id(new_name) if symbol.kind == "clause" else new_name))
    _check_meaning(text, apply(text, edits), path)
    return edits


def _check_name(parsed: Parsed, symbol: Symbol, new: str) -> None:
    layers = parsed.layers()
    if symbol.kind == "clause":
        if not new.strip() or "\n" in new:
            raise RenameError("a clause id is one line of text")
        if any(new in layer.index.clauses for layer in layers):
            raise RenameError(f"there is already a clause `{new}`")
        return
    if not NAME.fullmatch(new):
        raise RenameError(f"`{new}` is not a name: letters, digits and _, not starting with a digit")
    if new in vocabulary.keywords():
        raise RenameError(f"`{new}` is a keyword of the language")
    if symbol.kind == "rule" and any(new in layer.index.rules for layer in layers):
        raise RenameError(f"there is already a rule `{new}`")
    if symbol.kind == "define":
        taken = {d.name for layer in layers for d in layer.index.doc.defines} | \
            {p.name for layer in layers for p in layer.index.doc.params}
        fields = {name for kind in EVENT_KINDS for name in root_type(kind).fields()} | {"it", "target"}
        if new in taken:
            raise RenameError(f"`{new}` is already a definition or parameter")
        if new in fields:
            raise RenameError(f"`{new}` is an event field; a definition of that name would hide it")


def _check_meaning(before: str, after: str, path: Path) -> None:
    """The renamed text compiles with the same errors (by code) and the same number of rules."""
    old_codes, old_rules = _outcome(before, str(path))
    new_codes, new_rules = _outcome(after, str(path))
    if new_codes - old_codes or new_rules != old_rules:
        raise RenameError("the renamed policy would not mean the same: " + (
            ", ".join(sorted((new_codes - old_codes).elements())) or "its rules change"))


@lru_cache(maxsize=4)  # a rename and its undo compile the same two texts
def _outcome(text: str, path: str) -> tuple[Counter[str], int | None]:
    try:
        return Counter(), len(compile_text(text, path).rules)
    except PolicyError as exc:
        return Counter(d.code for d in exc.diagnostics if d.severity == "error"), None


def apply(text: str, edits: list[tuple[Range, str]]) -> str:
    """The text with non-overlapping edits applied (last first, so earlier positions stay valid)."""
    lines = text.split("\n")
    for rng, new in sorted(edits, key=lambda e: e[0].start, reverse=True):
        (l1, c1), (l2, c2) = rng.start, rng.end
        head, tail = lines[l1][:c1], lines[l2][c2:]
        lines[l1:l2 + 1] = (head + new + tail).split("\n")
    return "\n".join(lines)


# ---------------------------------------------------------------- the outline

@dataclass
class Outline:
    """One entry of the document's outline: `kind` clause, rule, define, param or action."""

    name: str
    detail: str | None
    kind: str
    range: Range
    selection: Range
    children: list["Outline"]


def outline(index: Index) -> list[Outline]:
    """Clauses in document order with their sub-clauses and rules; definitions, parameters and
    top-level rules beside them."""
    doc = index.doc
    entries = [_named(index, "param", p.name, p.description, p.span) for p in doc.params]
    entries += [_named(index, "define", d.name, None, d.span) for d in doc.defines]
    entries += [_named(index, "action", a.name, a.description, a.span) for a in doc.action_types]
    entries += [_clause(index, c) for c in doc.clauses]
    entries += [_rule(index, r) for r in doc.rules]
    return sorted(entries, key=lambda e: e.range.start)


def _named(index: Index, kind: str, name: str, detail: str | None, span) -> Outline:
    whole = _block(index, span_range(span).start[0])
    decl = index.declaration(kind, name)
    return Outline(name, detail, kind, whole, decl.range if decl else Range(whole.start, whole.start), [])


def _clause(index: Index, clause: st.Clause) -> Outline:
    selection = span_range(clause.span)
    children = [_clause(index, c) for c in clause.children] + [_rule(index, r) for r in clause.rules]
    text = clause.text if len(clause.text) <= 80 else clause.text[:79] + "…"
    return Outline(clause.id, text, "clause", _block(index, selection.start[0]), selection,
                   sorted(children, key=lambda e: e.range.start))


def _rule(index: Index, rule: st.Rule) -> Outline:
    whole = _block(index, span_range(rule.span).start[0])
    decl = index.declaration("rule", rule.name) if rule.name else None
    selection = decl.range if decl is not None and whole.start <= decl.range.start else Range(whole.start, whole.start)
    first = index.lines[whole.start[0]].strip()
    label = rule.name or re.sub(r":\Z", "", first)[:60]
    kind = "exception" if rule.defeats is not None else "rule"
    return Outline(label, rule.decision.effect, kind, whole, selection, [])


def _block(index: Index, first: int) -> Range:
    """From a statement's line through the lines indented under it (trailing blank lines excluded)."""
    lines = index.lines
    indent = len(lines[first]) - len(lines[first].lstrip(" \t"))
    last = first
    for number in range(first + 1, len(lines)):
        line = lines[number]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if len(line) - len(line.lstrip(" \t")) <= indent:
            break
        last = number
    return Range((first, indent), (last, len(lines[last])))
