"""The syntax tree of a `.pol` file: what the author wrote, with a source position on every node.

The parser builds it; the compiler checks it and turns it into closures; `fmt` prints it back. Nothing
at evaluation time ever looks at these nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Union

from .errors import Span


# ---------------------------------------------------------------- expressions

@dataclass(frozen=True)
class Path:
    parts: tuple[str, ...]
    span: Span

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Literal:
    value: object  # str | float | int | bool | date | tuple of literals
    span: Span


@dataclass(frozen=True)
class Otherwise:
    path: Path
    default: Literal
    span: Span


@dataclass(frozen=True)
class Count:
    path: Path
    span: Span


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class Not:
    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class Compare:
    """A binary test: `<`, `<=`, `>`, `>=`, `==`, `!=`, `is`, `is not`, `in`, `not in`, `contains`,
    `starts with`, `ends with`."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class Presence:
    operand: "Expr"
    present: bool
    span: Span


@dataclass(frozen=True)
class Matches:
    operand: "Expr"
    pattern: str
    span: Span


@dataclass(frozen=True)
class Has:
    subject: Path | None
    categories: tuple[tuple[str, Span], ...]
    span: Span
    open: bool = False  # `has such as …`: the list illustrates a kind of content and does not close it
    unlike: tuple[tuple[str, Span], ...] = ()  # `… but not X, Y`: categories that are not of that kind
    labels_only: bool = False  # `labelled X`: an upstream label says so; detectors are not asked


@dataclass(frozen=True)
class Quantified:
    quantifier: str  # any | all | no
    path: Path
    body: "Expr"
    span: Span


@dataclass(frozen=True)
class ClauseApplies:
    clause: str
    span: Span


@dataclass(frozen=True)
class Call:
    """`name(arg, …)`: a function a plugin registers (policykit_register_functions)."""

    name: str
    args: tuple["Expr", ...]
    span: Span


Expr = Union[Path, Literal, Otherwise, Count, BoolOp, Not, Compare, Presence, Matches, Has, Quantified, ClauseApplies,
             Call]


# ---------------------------------------------------------------- rules and clauses

@dataclass(frozen=True)
class Target:
    kind: str  # post | comment | account | action
    actions: tuple[str, ...] = ()  # empty for "any action" and for non-action kinds
    span: Span | None = None


@dataclass(frozen=True)
class Ref:
    """A reference to a clause id, kept with where it was written."""

    id: str
    span: Span


@dataclass(frozen=True)
class Obligation:
    action: str
    detail: str | None
    cites: tuple[Ref, ...]
    span: Span


@dataclass
class Decision:
    effect: str
    targets: list[Target]
    when: Expr | None
    unless: Expr | None
    span: Span
    because: str | None = None
    obligations: list[Obligation] = field(default_factory=list)
    cites: list[Ref] = field(default_factory=list)
    effective: date | None = None
    until: date | None = None


@dataclass
class Rule:
    """A rule or an exception. `defeats` is set for exceptions: ("rule", name) or ("clause", id)."""

    name: str | None
    decision: Decision
    span: Span
    override: bool = False
    defeats: tuple[str, str, Span] | None = None
    clause: str | None = None  # the clause it sits under, if any


@dataclass
class Clause:
    id: str
    text: str
    span: Span
    children: list["Clause"] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    unchecked: str | None = None
    effective: date | None = None
    until: date | None = None
    parent: str | None = None


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Literal | None
    description: str | None
    span: Span


@dataclass(frozen=True)
class Define:
    name: str
    expr: Expr
    span: Span


@dataclass(frozen=True)
class Trust:
    source: str
    above: float | None
    span: Span


@dataclass(frozen=True)
class ActionType:
    """`action type NAME "what it is"`: a policy's own action type, beyond the contract's vocabulary."""

    name: str
    description: str | None
    span: Span


@dataclass(frozen=True)
class Retention:
    """A header's `retain …` line: how long the archive keeps content, and the clauses that say so.

    `text` is the rule as written after `retain` (what `RetentionRule.parse` reads); the spans of its
    amount, unit and `after` anchor let a diagnostic point at the wrong word."""

    text: str
    cites: tuple[Ref, ...]
    span: Span
    amount: Span | None = None
    unit: Span | None = None
    after: Span | None = None
    unless: tuple[Path, ...] = ()


@dataclass
class PolicyDoc:
    """One parsed `.pol` file."""

    name: str
    title: str | None
    span: Span
    file: str
    header: dict[str, tuple[str, Span]] = field(default_factory=dict)
    effective: date | None = None
    extends: Ref | None = None
    retain: list[Retention] = field(default_factory=list)  # normally one; the compiler reports a second
    sets: list[tuple[str, Literal, Span]] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    defines: list[Define] = field(default_factory=list)
    clauses: list[Clause] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    trusts: list[Trust] = field(default_factory=list)
    action_types: list[ActionType] = field(default_factory=list)
    items: list[object] = field(default_factory=list)  # every top-level item, in file order (for fmt)

    def walk_clauses(self):
        """Every clause, depth first, parents before children."""
        stack = list(reversed(self.clauses))
        while stack:
            clause = stack.pop()
            yield clause
            stack.extend(reversed(clause.children))

    def all_rules(self) -> list[Rule]:
        """Every rule and exception, top-level ones and those under clauses, in file order."""
        found = [(r.span.line, r) for r in self.rules]
        found += [(r.span.line, r) for c in self.walk_clauses() for r in c.rules]
        return [r for _, r in sorted(found, key=lambda pair: pair[0])]
