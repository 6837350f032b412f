"""A policy explained: the one model both `policykit doc` (Markdown) and `policykit report` (HTML) render.

For every clause of the document, in the document's order: its words, the rules that encode it (as
written, and read aloud in plain words), what is left to a person, why a clause is not checkable,
which exceptions defeat which rules. `with_tests` adds what the policy's test files say about each
rule and clause. Built from the compiled policy, so neither page can drift from what is evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from .. import syntax as st
from ..compiler import CompiledRule, Policy
from ..testing import CaseResult, coverage
from . import words

_SEPARATOR = re.compile(r"^#\s*[-=~*#]{3,}")
_SLUG = re.compile(r"[^A-Za-z0-9_]+")


@dataclass(frozen=True)
class CaseView:
    """One test case as the report shows it: where it is, whether it passed, what it decided."""

    name: str
    file: str
    line: int
    passed: bool
    decision: str | None
    problems: tuple[str, ...]


@dataclass(frozen=True)
class RuleView:
    id: str
    effect: str
    role: str  # checked | left to a person | exception to rule `x` | exception to clause `x`
    written: str  # the decision line as the author wrote it
    words: str  # the same, read aloud
    because: str | None
    obligations: tuple[str, ...]
    note: str  # the author's comment above the rule
    defeats: tuple[str, str] | None  # ("rule" | "clause", id) for an exception
    defeated_by: tuple[str, ...]  # exceptions that may defeat this rule
    home: str | None  # the clause it sits under
    cites: tuple[str, ...]  # the clauses its `cite` names
    line: int
    anchor: str
    cases: tuple[CaseView, ...] = ()  # test cases in which it produced a finding or was defeated
    never_fired: bool = False  # an exception no test made fire (`policykit test --coverage`)


@dataclass(frozen=True)
class ClauseView:
    id: str
    text: str
    depth: int
    unchecked: str | None
    rules: tuple[RuleView, ...]
    citing: tuple[RuleView, ...]  # rules that stand elsewhere and cite this clause
    has_children: bool
    anchor: str
    never_cited: bool = False  # has rules, but no test case's verdict cites it (`policykit test --coverage`)

    @property
    def standing(self) -> tuple[RuleView, ...]:
        """Rules under no clause whose first citation is this clause: their page shows them here."""
        return tuple(r for r in self.citing if r.home is None and r.cites[:1] == (self.id,))

    @property
    def status(self) -> str:
        """What the clause is to a program: encoded, not checkable, grouping or stating no rule."""
        if self.rules:
            return "encoded"
        if self.unchecked:
            return "not checkable"
        return "grouping" if self.has_children else "no rule"


@dataclass(frozen=True)
class ParamView:
    name: str
    type: str
    value: str | None  # None: not filled in
    description: str


@dataclass(frozen=True)
class TermView:
    """A `define`: a name the rules use, and what it means in words."""

    name: str
    words: str


@dataclass(frozen=True)
class TestSummary:
    __test__ = False  # not a pytest test class despite its name

    files: tuple[str, ...]
    passed: int
    failed: int
    problems: tuple[str, ...]  # test files that could not be run, with why


@dataclass(frozen=True)
class PolicyView:
    name: str
    title: str
    label: str  # how citations name the file: policies/nyc.pol
    document: str | None
    notes: tuple[str, ...]
    params: tuple[ParamView, ...]
    terms: tuple[TermView, ...]
    clauses: tuple[ClauseView, ...]
    rule_count: int
    review_count: int
    tests: TestSummary | None = None

    @property
    def counts(self) -> dict[str, int]:
        found = {"encoded": 0, "not checkable": 0, "grouping": 0, "no rule": 0}
        for clause in self.clauses:
            found[clause.status] += 1
        return found

    def rules(self) -> list[RuleView]:
        """Every rule of the page once: those under a clause, then those that stand outside any clause."""
        return [rule for clause in self.clauses for rule in (*clause.rules, *clause.standing)]


def explain_policy(policy: Policy) -> PolicyView:
    """The model of one policy's own clauses (a parent's are on the parent's page)."""
    lines = policy.source.splitlines()
    compiled = {(r.span.line, r.span.column): r for r in policy.rules if r.policy == policy.name}
    vocabulary = words.Vocabulary(
        defines=frozenset(d.name for layer in policy.layers for d in layer.defines),
        params=frozenset(p.name for layer in policy.layers for p in layer.params))
    ids = {r.index: r.id for r in policy.rules}
    citing: dict[str, list[st.Rule]] = {}
    for rule in policy.doc.all_rules():
        for ref in rule.decision.cites:
            if ref.id != rule.clause:
                citing.setdefault(ref.id, []).append(rule)

    def view(rule: st.Rule) -> RuleView | None:
        found = compiled.get((rule.span.line, rule.span.column))
        return None if found is None else _rule(rule, found, lines, vocabulary, ids)

    depths: dict[str, int] = {}
    clauses = []
    for clause in policy.doc.walk_clauses():
        depths[clause.id] = depths[clause.parent] + 1 if clause.parent in depths else 0
        clauses.append(ClauseView(
            id=clause.id, text=_collapse(clause.text), depth=depths[clause.id], unchecked=clause.unchecked,
            rules=tuple(v for v in map(view, clause.rules) if v is not None),
            citing=tuple(v for v in map(view, citing.get(clause.id, [])) if v is not None),
            has_children=bool(clause.children), anchor=anchor("clause", clause.id)))
    mine = [r for r in policy.rules if r.policy == policy.name]
    document = policy.doc.header.get("document", (None, None))[0]
    return PolicyView(
        name=policy.name, title=policy.title or policy.name, label=source_label(policy), document=document,
        notes=tuple(_opening_comments(lines)), params=tuple(_params(policy)),
        terms=tuple(_terms(policy.doc, vocabulary)), clauses=tuple(clauses), rule_count=len(mine),
        review_count=sum(1 for r in mine if r.effect == "review"))


def with_tests(view: PolicyView, policy: Policy, results: list[CaseResult], files: list[str],
               problems: list[str]) -> PolicyView:
    """The model with what the test cases say: each rule's cases and whether they pass, and coverage
    exactly as `policykit test --coverage` reports it."""
    never_cited, never_fired = coverage(policy, results) if results else ([], [])
    by_rule: dict[str, list[CaseView]] = {}
    for result in results:
        case = CaseView(result.name, result.file, result.line, result.passed,
                        result.verdict.decision if result.verdict else None, tuple(result.problems))
        involved = {f.rule for f in result.verdict.findings} | {
            d.rule for f in result.verdict.findings for d in f.defeats} if result.verdict else set()
        for rule in involved:
            by_rule.setdefault(rule, []).append(case)

    def tested(rule: RuleView) -> RuleView:
        return replace(rule, cases=tuple(by_rule.get(rule.id, ())), never_fired=rule.id in never_fired)

    clauses = tuple(replace(c, rules=tuple(map(tested, c.rules)), citing=tuple(map(tested, c.citing)),
                            never_cited=c.id in never_cited) for c in view.clauses)
    passed = sum(1 for r in results if r.passed)
    summary = TestSummary(tuple(files), passed, len(results) - passed, tuple(problems))
    return replace(view, clauses=clauses, tests=summary)


def anchor(kind: str, name: str) -> str:
    """A stable HTML id for a clause or rule (`3.4.3.A` → `clause-3-4-3-A`)."""
    return f"{kind}-{_SLUG.sub('-', name).strip('-') or 'x'}"


def source_label(policy: Policy) -> str:
    """How citations name the policy's file (`policies/nyc.pol`): the same on every machine."""
    for clause in policy.clauses.values():
        if clause.policy == policy.name:
            return clause.source.rsplit(":", 1)[0]
    return Path(policy.file).name


def _rule(rule: st.Rule, compiled: CompiledRule, lines: list[str], vocabulary: words.Vocabulary,
          ids: dict[int, str]) -> RuleView:
    defeats = None
    if rule.defeats is not None:
        kind, ref, _ = rule.defeats
        defeats = (kind, ref)
        role = f"exception to {'clause ' if kind == 'clause' else 'rule '}`{ref}`"
    elif compiled.effect == "review":
        role = "left to a person"
    else:
        role = "checked"
    obligations = tuple(o.action + (f" ({_collapse(o.detail)})" if o.detail else "") for o in rule.decision.obligations)
    return RuleView(
        id=compiled.id, effect=compiled.effect, role=role, written=_decision(rule, lines),
        words=words.decision(rule, vocabulary),
        because=_collapse(rule.decision.because) if rule.decision.because else None, obligations=obligations,
        note=_comments_above(rule.span.line, lines), defeats=defeats,
        defeated_by=tuple(ids[i] for i in compiled.defeated_by if i in ids), home=rule.clause,
        cites=tuple(ref.id for ref in rule.decision.cites),
        line=rule.span.line, anchor=anchor("rule", compiled.id))


def _params(policy: Policy) -> list[ParamView]:
    found = []
    for param in (p for doc in policy.layers for p in doc.params):
        value = policy.params.get(param.name)
        shown = None if value is None else (", ".join(map(str, value)) if isinstance(value, tuple) else str(value))
        found.append(ParamView(param.name, param.type, shown, _collapse(param.description or "")))
    return found


def _terms(doc: st.PolicyDoc, vocabulary: words.Vocabulary) -> list[TermView]:
    found = []
    for define in doc.defines:
        expr = define.expr
        said = (words.condition(expr, vocabulary) if not isinstance(expr, st.Literal)
                else words.value(expr, vocabulary))
        found.append(TermView(define.name, said))
    return found


def _decision(rule: st.Rule, lines: list[str]) -> str:
    """The decision line as the author wrote it, continuation lines joined."""
    start = rule.span.line - 1
    if lines[start].lstrip().startswith(("rule ", "exception ", "override ")):
        start += 1
    indent = len(lines[start]) - len(lines[start].lstrip())
    parts = [lines[start].strip()]
    for line in lines[start + 1:]:
        stripped = line.strip()
        deeper = len(line) - len(line.lstrip()) > indent
        if not stripped or not deeper or stripped.split()[0] in ("because", "then", "cite", "effective", "until"):
            break
        if not stripped.startswith("#"):
            parts.append(stripped)
    return _collapse(" ".join(parts)).replace("`", "'")


def _opening_comments(lines: list[str]) -> list[str]:
    """The file's first top-level comment block after the header: where authors explain the encoding."""
    found: list[str] = []
    for line in lines[1:]:
        if line.startswith("#") and not _SEPARATOR.match(line):
            found.append(line[1:].removeprefix(" ").rstrip())
        elif found and not line.strip():
            found.append("")
        elif line.strip() and not line.startswith((" ", "\t")):
            break
    while found and not found[-1]:
        found.pop()
    return found


def _comments_above(line: int, lines: list[str]) -> str:
    found: list[str] = []
    index = line - 2
    while index >= 0 and lines[index].strip().startswith("#"):
        text = lines[index].strip()
        if _SEPARATOR.match(text) or "policykit: ignore" in text:
            break
        found.append(text.lstrip("#").strip())
        index -= 1
    return _collapse(" ".join(reversed(found)))


def _collapse(text: str) -> str:
    return " ".join(text.split())
