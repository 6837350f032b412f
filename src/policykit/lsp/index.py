"""Where each name in a `.pol` file is written: the symbol table an editor needs.

The syntax tree keeps a span on every node but not on every name inside it (a rule's span is the whole
rule; a path's span covers all its parts). This module walks the tree once and finds each name's own
range in the text, so that hover, go to definition, references and rename all read one list of
`Symbol`s. It reads the tree the parser built and never changes the parser.

Positions here are 0-based (line, column) pairs counted in code points; the server converts them to
the client's encoding at the edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from .. import syntax as st
from ..compiler import EVENT_KINDS
from ..errors import Span
from .vocabulary import keywords

Pos = tuple[int, int]

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A clause id as written: a quoted string or the grammar's CLAUSE_ID.
CLAUSE_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z0-9][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*')
PLAIN_CLAUSE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*\Z")
_PATH_TEXT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[ \t]*\.[ \t]*[A-Za-z_][A-Za-z0-9_]*)*")
_DECLARED_NAME = {
    "rule": re.compile(r"(?:override[ \t]+)?rule[ \t]+([A-Za-z_][A-Za-z0-9_]*)"),
    "exception": re.compile(r"exception[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]+to\b"),
    "define": re.compile(r"define[ \t]+([A-Za-z_][A-Za-z0-9_]*)"),
    "param": re.compile(r"param[ \t]+([A-Za-z_][A-Za-z0-9_]*)"),
    "set": re.compile(r"set[ \t]+([A-Za-z_][A-Za-z0-9_]*)"),
    "action_type": re.compile(r"action[ \t]+type[ \t]+([A-Za-z_][A-Za-z0-9_]*)"),
    "applies": re.compile(r'clause[ \t]+("(?:[^"\\\n]|\\.)*"|[A-Za-z0-9][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*)'),
    "call": re.compile(r"([A-Za-z_][A-Za-z0-9_]*)"),
}


@dataclass(frozen=True)
class Range:
    start: Pos
    end: Pos

    def contains(self, pos: Pos) -> bool:
        """Inclusive of the end, so a cursor just after a word is on it (as editors place it)."""
        return self.start <= pos <= self.end


def span_range(span: Span) -> Range:
    """A syntax-tree span as a range; a span without an end is one character wide."""
    start = (span.line - 1, span.column - 1)
    if span.end_line is None or span.end_column is None:
        return Range(start, (start[0], start[1] + 1))
    return Range(start, (span.end_line - 1, span.end_column - 1))


@dataclass(frozen=True)
class Symbol:
    """One name as written. `kind`: clause, rule, define, param, field, category, action, extends, function.

    For a field, `path` is the dotted path up to and including this part, `kinds` the event kinds it is
    read for, and `element` the list a quantifier walks when the path is relative to its element."""

    kind: str
    name: str
    range: Range
    declaration: bool = False
    path: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    element: tuple[str, ...] | None = None


@dataclass
class Index:
    """Every symbol of one parsed file, in text order, with the declarations by name."""

    doc: st.PolicyDoc
    lines: list[str]
    symbols: list[Symbol] = field(default_factory=list)
    clauses: dict[str, st.Clause] = field(default_factory=dict)
    rules: dict[str, st.Rule] = field(default_factory=dict)
    defines: dict[str, st.Define] = field(default_factory=dict)
    params: dict[str, st.Param] = field(default_factory=dict)

    def at(self, pos: Pos) -> Symbol | None:
        """The innermost symbol under the cursor."""
        hits = [s for s in self.symbols if s.range.contains(pos)]
        return min(hits, key=lambda s: (s.range.end[0] - s.range.start[0], s.range.end[1] - s.range.start[1]),
                   default=None)

    def occurrences(self, kind: str, name: str) -> list[Symbol]:
        return [s for s in self.symbols if s.kind == kind and s.name == name]

    def declaration(self, kind: str, name: str) -> Symbol | None:
        return next((s for s in self.occurrences(kind, name) if s.declaration), None)

    def kinds_at(self, line: int) -> tuple[str, ...]:
        """The event kinds the rule whose text covers 0-based `line` targets (every kind outside rules)."""
        for rule in self.doc.all_rules():
            r = span_range(rule.span)
            if r.start[0] <= line <= r.end[0]:
                return tuple(dict.fromkeys(t.kind for t in rule.decision.targets)) or EVENT_KINDS
        return EVENT_KINDS


@dataclass(frozen=True)
class Inherited:
    """Names a file may use because a policy it extends declares them."""

    defines: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()


def build(doc: st.PolicyDoc, text: str, inherited: Inherited = Inherited()) -> Index:
    """The symbol index of a parsed file (its text is needed for the positions the tree does not keep)."""
    index = Index(doc, text.split("\n"))
    _Walker(index, inherited).run()
    index.symbols.sort(key=lambda s: (s.range.start, s.range.end))
    return index


class _Walker:
    def __init__(self, index: Index, inherited: Inherited) -> None:
        self.index = index
        self.lines = index.lines
        doc = index.doc
        index.defines = {d.name: d for d in doc.defines}
        index.params = {p.name: p for p in doc.params}
        self.define_names = frozenset(index.defines) | inherited.defines
        self.param_names = frozenset(index.params) | inherited.params

    def add(self, kind: str, name: str, rng: Range | None, **extra: Any) -> None:
        if rng is not None:
            self.index.symbols.append(Symbol(kind, name, rng, **extra))

    # ------------------------------------------------------------ locating names in the text
    def _named(self, pattern: str, span: Span, group: int = 1) -> Range | None:
        """The range of the name a declaration's keyword introduces, at the start of its span."""
        line = span.line - 1
        if not 0 <= line < len(self.lines):
            return None
        match = _DECLARED_NAME[pattern].match(self.lines[line], span.column - 1)
        if match is None:
            return None
        return Range((line, match.start(group)), (line, match.end(group)))

    def _path_parts(self, path: st.Path) -> list[Range]:
        """The range of each part of a dotted path."""
        line, column = path.span.line - 1, path.span.column - 1
        if not 0 <= line < len(self.lines):
            return []
        match = _PATH_TEXT.match(self.lines[line], column)
        if match is None:
            return []
        parts = [Range((line, m.start() + column), (line, m.end() + column)) for m in NAME.finditer(match.group())]
        return parts if len(parts) == len(path.parts) else []

    def _names_in(self, span: Span, skip: Iterable[str]) -> Iterator[tuple[str, Range]]:
        """NAME tokens on a one-line span, less keywords."""
        rng = span_range(span)
        line = rng.start[0]
        if not 0 <= line < len(self.lines):
            return
        end = rng.end[1] if rng.end[0] == line else len(self.lines[line])
        text = self.lines[line]
        for match in NAME.finditer(text, rng.start[1], end):
            if match.group() not in skip:
                yield match.group(), Range((line, match.start()), (line, match.end()))

    # ------------------------------------------------------------ the walk
    def run(self) -> None:
        doc = self.index.doc
        if doc.extends is not None:
            self.add("extends", doc.extends.id, span_range(doc.extends.span))
        for retention in doc.retain:
            self.refs(retention.cites)
        for name, _, span in doc.sets:
            self.add("param", name, self._named("set", span))
        for param in doc.params:
            self.add("param", param.name, self._named("param", param.span), declaration=True)
        for action in doc.action_types:
            self.add("action", action.name, self._named("action_type", action.span), declaration=True)
        for define in doc.defines:
            self.add("define", define.name, self._named("define", define.span), declaration=True)
            self.expr(define.expr, EVENT_KINDS, None)
        for clause in doc.walk_clauses():
            self.index.clauses.setdefault(clause.id, clause)
            self.add("clause", clause.id, span_range(clause.span), declaration=True)
        for rule in doc.all_rules():
            self.rule(rule)

    def refs(self, refs: Iterable[st.Ref]) -> None:
        for ref in refs:
            self.add("clause", ref.id, span_range(ref.span))

    def rule(self, rule: st.Rule) -> None:
        if rule.name is not None:
            self.index.rules.setdefault(rule.name, rule)
            found = self._named("exception" if rule.defeats else "rule", rule.span)
            self.add("rule", rule.name, found, declaration=not rule.override)
        if rule.defeats is not None:
            kind, name, span = rule.defeats
            self.add("rule" if kind == "rule" else "clause", name, span_range(span))
        d = rule.decision
        kinds = tuple(dict.fromkeys(t.kind for t in d.targets)) or EVENT_KINDS
        for target in d.targets:
            if target.actions and target.span is not None:
                for name, rng in self._names_in(target.span, {"action", "any"}):
                    self.add("action", name, rng)
        self.refs(d.cites)
        for ob in d.obligations:
            self.refs(ob.cites)
        for node in (d.when, d.unless):
            if node is not None:
                self.expr(node, kinds, None)

    def expr(self, root: Any, kinds: tuple[str, ...], element: tuple[str, ...] | None) -> None:
        """Every name in a condition; a loop, not recursion, so no nesting depth can exhaust the stack."""
        stack = [(root, element)]
        while stack:
            node, element = stack.pop()
            if isinstance(node, st.Path):
                self.path(node, kinds, element)
            elif isinstance(node, st.Has):
                if node.subject is not None:
                    self.path(node.subject, kinds, element)
                for name, span in node.categories + node.unlike:
                    self.add("category", name, span_range(span))
            elif isinstance(node, st.Quantified):
                self.path(node.path, kinds, element)
                inner = node.path.parts if element is None and not self._declared(node.path) else element
                stack.append((node.body, inner))
            elif isinstance(node, st.ClauseApplies):
                self.add("clause", node.clause, self._named("applies", node.span))
            elif isinstance(node, st.Call):
                self.add("function", node.name, self._named("call", node.span))
                stack.extend((arg, element) for arg in node.args)
            elif hasattr(node, "__dataclass_fields__"):
                for name in node.__dataclass_fields__:
                    value = getattr(node, name)
                    if hasattr(value, "__dataclass_fields__") and not isinstance(value, st.Literal):
                        stack.append((value, element))

    def _declared(self, path: st.Path) -> bool:
        return len(path.parts) == 1 and (path.parts[0] in self.define_names or path.parts[0] in self.param_names)

    def path(self, path: st.Path, kinds: tuple[str, ...], element: tuple[str, ...] | None) -> None:
        ranges = self._path_parts(path)
        if not ranges:
            return
        head = path.parts[0]
        if self._declared(path):
            self.add("define" if head in self.define_names else "param", head, ranges[0])
            return
        if head == "it" and element is not None:
            return
        for i, (part, rng) in enumerate(zip(path.parts, ranges)):
            self.add("field", part, rng, path=path.parts[: i + 1], kinds=kinds, element=element)


def written_clause_id(new_id: str) -> str:
    """How a clause id is written: bare when the grammar's CLAUSE_ID allows it, else quoted."""
    if PLAIN_CLAUSE_ID.match(new_id) and new_id not in keywords():
        return new_id
    return '"' + new_id.replace("\\", "\\\\").replace('"', '\\"') + '"'
