"""Compiled policy + event → verdict.

The evaluator only calls the closures the compiler made, over the rules indexed for this event's kind
and action type, in dependency order. Detectors run lazily, at most once per event, detector and
field. Exceptions are settled as soon as what they defeat has fired, so `clause X applies` tests and
the final decision both see the defeat. A failing detector or condition is reported under `errors`
and lifts the decision to at least `review`: it never becomes a silent `allow`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any, Callable, Iterable, Iterator

from . import plugins as _plugins
from .compiler import CompiledRule, Policy, Program
from .detectors import Detector, Hit
from .errors import EventError, FieldProblem
from .models import parse_event
from .verdict import (EFFECTS, Defeated, EvalError, Evidence, Finding, Obligation, Verdict)

REVIEW = 1
_NO_LABELS: frozenset[str] = frozenset()
_NONE_CONTESTED: dict[int, list[int]] = {}  # shared and never written: see _Ctx
_NONE_UNDECIDED: frozenset[str] = frozenset()

_TEXT_FIELDS: dict[str, tuple[tuple[str, Callable[[Any], Any]], ...]] = {
    "post": (("text", attrgetter("text")),), "comment": (("text", attrgetter("text")),),
    "account": (("account.name", attrgetter("account.name")), ("account.bio", attrgetter("account.bio"))),
    "action": (("action.text", attrgetter("action.text")),),  # a reply's or edit's own words
}


class _View:
    """One event's labels and detector results, computed on first use and kept for the event."""

    __slots__ = ("event", "program", "errors", "labels", "_hits", "texts", "failed")

    def __init__(self, event: Any, program: Program, errors: list[EvalError]) -> None:
        self.event = event
        self.program = program
        self.errors = errors
        self.labels = self._trusted(event.labels, program.trust) if event.labels else None
        self._hits: dict[str, list[tuple[str, Hit]]] = {}
        self.texts = self._texts(event)
        self.failed: set[str] | None = None  # detectors that failed on this event: what they would say is unknown

    @staticmethod
    def _trusted(labels: list[Any], trust: dict[str, float] | None) -> dict[str, Any]:
        """Labels that count: all of them, unless the policy says which sources it trusts."""
        found: dict[str, Any] = {}
        for label in labels:
            if trust is None or label.source is None or (label.source in trust and label.score >= trust[label.source]):
                found.setdefault(label.name, label)
        return found

    @staticmethod
    def _texts(event: Any) -> list[tuple[str, str]]:
        """The event's non-empty text fields, the only places detectors look."""
        found = []
        for name, get in _TEXT_FIELDS.get(event.kind, ()):
            try:
                value = get(event)
            except AttributeError:  # a target without the field: nothing to look at
                continue
            if value:
                found.append((name, value))
        return found

    def hits(self, detector: Detector) -> list[tuple[str, Hit]]:
        found = self._hits.get(detector.name)
        if found is not None:
            return found
        found = []
        for name, value in self.texts:
            try:
                hits = detector.detect(value)
            except Exception as exc:  # a detector's failure is reported, never silent
                self.errors.append(EvalError.build(
                    source=f"detector:{detector.name}", message=f"{type(exc).__name__}: {str(exc)[:500]}"))
                self.failed = {*(self.failed or ()), detector.name}
                continue
            if hits:
                found += [(name, hit) for hit in hits]
        self._hits[detector.name] = found
        return found


class _Ctx:
    """What compiled closures see while one event is evaluated."""

    __slots__ = ("event", "it", "program", "view", "target", "evidence", "outcome", "defeated", "contested",
                 "undecided", "errors")

    def __init__(self, event: Any, program: Program) -> None:
        self.event = event
        self.it: Any = None
        self.program = program
        self.errors: list[EvalError] = []
        self.view = _View(event, program, self.errors)
        self.target: _View | None = None
        self.evidence: list[Evidence] = []
        self.outcome: dict[int, bool | None] = {}  # rules that fired (True) or could not be decided (None)
        self.defeated: dict[int, int] = {}  # rule → the exception that defeated it
        # Rarely written, so they start as shared empty containers and are replaced on first write.
        self.contested: dict[int, list[int]] = _NONE_CONTESTED  # rule → undetermined exceptions that may defeat it
        self.undecided: frozenset[str] | set[str] = _NONE_UNDECIDED  # `has such as …` left to a person

    def _subject(self, subject: str | None) -> tuple[_View | None, str]:
        """The view `has` looks at: the event's, or (made on first use) the action target's."""
        if subject is None:
            return self.view, ""
        target = getattr(getattr(self.event, "action", None), "target", None)
        if target is None:
            return None, "target."
        if self.target is None:
            self.target = _View(target, self.program, self.errors)
        return self.target, "target."

    def _from_labels(self, labels: dict[str, Any] | None, prefix: str, categories: tuple[str, ...]) -> bool:
        """Whether the (trusted) labels carry one of the categories; the label found is the evidence."""
        if labels:
            for category in categories:
                label = labels.get(category)
                if label is not None:
                    self.evidence.append(_label_evidence(label, prefix + "labels", category))
                    return True
        return False

    def labelled(self, categories: tuple[str, ...], subject: str | None) -> bool | None:
        """`labelled X`: an upstream label (trusted by the policy) says so; detectors are not asked."""
        if subject == "it":
            return self._link_has(categories)
        view, prefix = self._subject(subject)
        return None if view is None else self._from_labels(view.labels, prefix, categories)

    def has(self, categories: tuple[str, ...], subject: str | None) -> bool | None:
        """True when the event (or the action's target, or the link `it`) carries one of the categories:
        an upstream label, or a detector finding it in the text."""
        if subject is None:  # the hot path: the event itself, without the lookups below
            view, prefix = self.view, ""
        elif subject == "it":
            return self._link_has(categories)
        else:
            view, prefix = self._subject(subject)
            if view is None:
                return None
        if self._from_labels(view.labels, prefix, categories):
            return True
        if not view.texts:
            return False
        for category in categories:
            for detector in self.program.detectors_for.get(category, ()):
                matched = [(f, h) for f, h in view.hits(detector) if h.category == category]
                if matched:
                    self.evidence.extend(Evidence.build(
                        detector=h.detector, field=prefix + f, start=h.start, end=h.end, match=h.match,
                        category=h.category, score=h.score) for f, h in matched)
                    return True
        if view.failed and any(d.name in view.failed for c in categories for d in self.program.detectors_for.get(c, ())):
            return None  # a detector that could have found it failed: unknown, never a silent "no"
        return False

    def _link_has(self, categories: tuple[str, ...]) -> bool:
        """A link's own labels (what an upstream classifier found behind it), under the policy's trust."""
        labels = _View._trusted(self.it.labels, self.program.trust) if self.it.labels else None
        return self._from_labels(labels, "links[*].", categories)

    def has_such_as(self, categories: tuple[str, ...], others: tuple[str, ...], subject: str | None,
                    key: str) -> bool | None:
        """`has such as …`: true for a listed category; undetermined (a person judges) when the content
        carries some other category, which may be of the kind the list illustrates; false when it
        carries none."""
        found = self.has(categories, subject)
        if found is not False:
            return found
        if self.has(others, subject):
            self.undecided = {*self.undecided, key}
            return None
        return False

    def clause_applies(self, clause: str) -> bool | None:
        unknown = False
        rules = self.program.rules
        for index in self.program.clause_rules.get(clause, ()):
            result = self.outcome.get(index, False)
            if index in self.defeated or rules[index].severity < REVIEW:
                continue
            if result is True and index not in self.contested:
                return True
            if result is not False:
                unknown = True
        return None if unknown else False


def _label_evidence(label: Any, field: str, category: str) -> Evidence:
    return Evidence.build(detector=f"label:{label.source}" if label.source else "label", field=field,
                          start=None, end=None, match=None, category=category, score=label.score)


@dataclass
class Trace:
    """What `--explain` shows: every rule looked at for the event and what became of it."""

    rule: str
    status: str  # fired | unknown | not-fired | defeated | contested | not-in-force | not-applicable
    detail: str = ""


@dataclass
class Explanation:
    verdict: Verdict
    trace: list[Trace] = field(default_factory=list)


def _in_force(rule: CompiledRule, at: date | None) -> bool:
    if at is None:
        return rule.until is None
    if rule.effective is not None and at < rule.effective:
        return False
    return rule.until is None or at < rule.until


def _labels_known(ev: Any, known: frozenset[str]) -> bool:
    """Whether every label on the event, its links and an action's target is one some detector, plugin
    or policy knows. A typo (`obscen`) would match no rule and allow silently, so it is an EventError;
    this is the per-event fast check, `_label_problems` says where."""
    for label in ev.labels:
        if label.name not in known:
            return False
    kind = ev.kind
    if kind == "post" or kind == "comment":
        for link in ev.links:
            for label in link.labels:
                if label.name not in known:
                    return False
    elif kind == "action" and ev.action.target is not None:
        return _labels_known(ev.action.target, known)
    return True


def _label_problems(ev: Any, known: frozenset[str], prefix: str = "") -> list[FieldProblem]:
    problems = [_unknown_label(f"{prefix}labels[{i}]", label.name, known)
                for i, label in enumerate(ev.labels) if label.name not in known]
    if ev.kind in ("post", "comment"):
        for j, link in enumerate(ev.links):
            problems += [_unknown_label(f"{prefix}links[{j}].labels[{i}]", label.name, known)
                         for i, label in enumerate(link.labels) if label.name not in known]
    if ev.kind == "action" and ev.action.target is not None:
        problems += _label_problems(ev.action.target, known, prefix + "action.target.")
    return problems


def _unknown_label(path: str, name: str, known: frozenset[str]) -> FieldProblem:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    hint = f"did you mean `{close[0]}`?" if close else "see the label vocabulary in docs/api.md"
    return FieldProblem(path, f"a category this policy knows ({hint})", repr(name))


def _run(policy: Policy, event: Any, trace: list[Trace] | None) -> Verdict:
    ev = parse_event(event)
    program = policy.program
    if not _labels_known(ev, program.categories):
        raise EventError(_label_problems(ev, program.categories))
    ctx = _Ctx(ev, program)
    at = ev.at.date() if ev.at is not None else None
    if program.effective is not None and at is not None and at < program.effective:
        ctx.errors.append(EvalError.build(
            source="policykit", message=f"policy {policy.name} was not yet in force on {at} "
                                        f"(effective {program.effective}); a person must decide"))
        return _verdict(policy, ev, _Outcome(), ctx.errors)
    action = ev.action.type if ev.kind == "action" else None
    rules = program.rules
    fired: list[tuple[int, bool | None, list[Evidence]]] = []
    if trace is None:
        view = ctx.view
        indices = program.candidates(ev.kind, action, frozenset(view.labels) if view.labels else _NO_LABELS,
                                     bool(view.texts))
    else:  # `--explain` reports every applicable rule, including those that could not fire
        indices = program.applicable(ev.kind, action)
    for index in indices:
        rule = rules[index]
        if rule.dated and not _in_force(rule, at):
            if trace is not None:
                trace.append(Trace(rule.id, "not-in-force", f"effective {rule.effective}, until {rule.until}"))
            continue
        if rule.is_exception and not any(j in ctx.outcome for j in rule.defeats):
            if trace is not None:
                trace.append(Trace(rule.id, "not-applicable", "what it is an exception to did not fire"))
            continue
        ctx.evidence = []
        condition = rule.condition
        if condition is None:
            result: bool | None = True
        else:
            try:
                result = condition(ctx)
            except Exception as exc:  # a plugin function or detector failed inside the condition
                ctx.errors.append(EvalError.build(source=f"rule:{rule.id}", message=f"{type(exc).__name__}: {exc}"))
                result = None
        if result is False:
            if trace is not None:
                trace.append(Trace(rule.id, "not-fired"))
            continue
        ctx.outcome[index] = result
        fired.append((index, result, ctx.evidence))
        if rule.is_exception:
            _settle(ctx, index, result)
        if trace is not None:
            trace.append(Trace(rule.id, "fired" if result else "unknown",
                               "" if result else "missing: " + ", ".join(_missing(rule, ctx))))
    if trace is not None:
        for victim, by in ctx.defeated.items():
            trace.append(Trace(rules[victim].id, "defeated", f"by exception {rules[by].id}"))
        for victim, by_list in ctx.contested.items():
            if victim not in ctx.defeated:
                trace.append(Trace(rules[victim].id, "contested",
                                   "exception " + ", ".join(rules[b].id for b in by_list) + " may apply"))
    return _verdict(policy, ev, _findings(policy, ctx, fired), ctx.errors)


def _settle(ctx: _Ctx, exception: int, result: bool | None) -> None:
    """What an exception that was looked at does to the rules it defeats (see the truth table in
    docs/language.md): one that holds defeats every target that fired or was undetermined, so an event
    that says less never ends up worse off than one that says `false`; one that is itself undetermined
    contests them, leaving each at least `review` for a person."""
    for victim in ctx.program.rules[exception].defeats:
        if victim not in ctx.outcome or victim in ctx.defeated:
            continue
        if result is True:
            ctx.defeated[victim] = exception
        else:
            if ctx.contested is _NONE_CONTESTED:
                ctx.contested = {}
            ctx.contested.setdefault(victim, []).append(exception)


def _missing(rule: CompiledRule, ctx: _Ctx) -> list[str]:
    gone = list(dict.fromkeys(dotted for dotted, get in rule.reads if get(ctx) is None))  # a definition used twice
    return gone or ["(a value the condition needs could not be determined)"]


class _Outcome:
    """The findings and obligations being gathered from the rules that fired, with the decision so far."""

    __slots__ = ("findings", "obligations", "severity", "missing")

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.obligations: dict[tuple[str, str | None], Obligation] = {}
        self.severity = 0
        self.missing: dict[str, None] = {}

    def add(self, finding: Finding, severity: int) -> None:
        self.findings.append(finding)
        if severity > self.severity:
            self.severity = severity


def _findings(policy: Policy, ctx: _Ctx, fired: list[tuple[int, bool | None, list[Evidence]]]) -> _Outcome:
    rules = policy.program.rules
    defeated = ctx.defeated
    defeated_by: dict[int, list[int]] = {}
    for victim, by in defeated.items():
        defeated_by.setdefault(by, []).append(victim)
    out = _Outcome()
    for index, result, evidence in fired:
        if index in defeated:
            continue
        rule = rules[index]
        if result is None and (rule.is_exception or rule.severity < REVIEW):
            continue  # an undetermined exception speaks through the finding of the rule it contests
        contest = ctx.contested.get(index)
        if contest:
            found = evidence + [e for other, _, ev in fired if other in contest for e in ev]
            out.add(*_contested_finding(rule, result, [rules[e] for e in contest], ctx, found, out))
            continue
        if result is None:
            out.add(_unknown_finding(rule, ctx, evidence, out), REVIEW)
            continue
        defeats = [Defeated.build(rule=rules[v].id, clauses=list(rules[v].clauses))
                   for v in defeated_by.get(index, ())]
        out.add(Finding.build(rule=rule.id, effect=rule.effect, message=rule.message(ctx),
                              citations=list(rule.citations), evidence=evidence, defeats=defeats, missing=[]),
                rule.severity)
        _oblige(out, rule, ctx)
    return out


def _oblige(out: _Outcome, rule: CompiledRule, ctx: _Ctx) -> None:
    for spec in rule.obligations:
        detail = spec.detail(ctx)
        key = (spec.action, detail)
        if key not in out.obligations:
            out.obligations[key] = Obligation.build(action=spec.action, detail=detail, citations=list(spec.citations))


def _contested_finding(rule: CompiledRule, result: bool | None, exceptions: list[CompiledRule], ctx: _Ctx,
                       evidence: list[Evidence], out: _Outcome) -> tuple[Finding, int]:
    """A rule that an undetermined exception may defeat: both outcomes are possible, so the finding takes
    the mildest of them, and never less than `review` unless every outcome is the same. It names the rule,
    the exceptions and what they need, and carries the exceptions' obligations: that is the route the
    person deciding takes if the exception applies."""
    missing = list(dict.fromkeys(m for r in ([rule] if result is None else []) + exceptions for m in _missing(r, ctx)))
    out.missing.update(dict.fromkeys(m for m in missing if not m.startswith("(")))
    outcomes = {REVIEW if result is None else rule.severity} | {e.severity for e in exceptions}
    severity = outcomes.pop() if len(outcomes) == 1 else max(REVIEW, min(outcomes))
    names = ", ".join(e.id for e in exceptions)
    would = "may apply" if result is None else f"would {rule.effect}"
    message = (f"Rule {rule.id} {would} ({rule.message(ctx)}), but exception {names} may defeat it: "
               f"{_describe_missing(missing)}. A person must decide.")
    citations = list(dict.fromkeys((*rule.citations, *(c for e in exceptions for c in e.citations))))
    for exception in exceptions:
        _oblige(out, exception, ctx)
    return Finding.build(rule=rule.id, effect=EFFECTS[severity], message=message, citations=citations,
                         evidence=evidence, defeats=[], missing=missing), severity


def _unknown_finding(rule: CompiledRule, ctx: _Ctx, evidence: list[Evidence], out: _Outcome) -> Finding:
    """A rule that could not be decided: `review`, naming what the event does not give."""
    missing = _missing(rule, ctx)
    out.missing.update(dict.fromkeys(m for m in missing if not m.startswith("(")))
    return Finding.build(
        rule=rule.id, effect="review", citations=list(rule.citations), evidence=evidence, defeats=[],
        missing=missing,
        message=f"Cannot tell whether this rule applies: {_describe_missing(missing)}. "
                f"A person must decide. (If it applies: {rule.message(ctx)})")


def _describe_missing(missing: list[str]) -> str:
    """What could not be determined, in words: event fields, unfilled parameters, open lists."""
    fields = [m for m in missing if not m.startswith(("param:", "("))]
    params = [m.removeprefix("param:") for m in missing if m.startswith("param:")]
    other = [m.strip("()") for m in missing if m.startswith("(")]
    parts = []
    if fields:
        parts.append("the event does not give " + ", ".join(fields))
    parts += [f"the policy's parameter `{p}` is not filled in" for p in params]
    parts += other
    return "; ".join(parts) or "a value the condition needs could not be determined"


def _verdict(policy: Policy, ev: Any, out: _Outcome, errors: list[EvalError]) -> Verdict:
    severity = max(out.severity, REVIEW) if errors else out.severity
    return Verdict.build(policy=policy.ref, decision=EFFECTS[severity], findings=out.findings,
                         obligations=list(out.obligations.values()), errors=errors, missing=list(out.missing),
                         event_id=ev.id)


def _observed(policy: Policy, event: Any, verdict: Verdict) -> Verdict:
    """Show the verdict to plugin observers (logging, metrics); they cannot change it or break evaluation.

    Only a module flag is checked when no observer is registered, so the hot path stays fast.
    """
    if _plugins.observing:
        _plugins.observe(policy, event, verdict)
    return verdict


def evaluate(policy: Policy, event: Any) -> Verdict:
    verdict = _run(policy, event, None)
    if _plugins.observing:  # as in _observed, inline: this is the per-decision hot path
        _plugins.observe(policy, event, verdict)
    return verdict


def evaluate_unobserved(policy: Policy, event: Any) -> Verdict:
    """A verdict plugin observers are not told about: for tools that judge events that never happened
    (lint's witness events), so logs and metrics see only real decisions."""
    return _run(policy, event, None)


def explain(policy: Policy, event: Any) -> Explanation:
    trace: list[Trace] = []
    verdict = _observed(policy, event, _run(policy, event, trace))
    return Explanation(verdict, trace)


def evaluate_many(policy: Policy, events: Iterable[Any]) -> Iterator[Verdict]:
    for number, event in enumerate(events):
        try:
            yield _observed(policy, event, _run(policy, event, None))
        except EventError as exc:
            raise EventError(exc.problems, index=number) from None
