"""A rule read aloud: its decision and condition in plain words, from the syntax tree.

A `.pol` rule is meant to read aloud already (`remove comment when has threat`), but a council
member reading `(author.role otherwise "public") in agency_staff_roles` needs the words: "the
author's role (taken as "public" when the event does not say) is one of the agency staff roles".
These sentences are mechanical on purpose: every construct has one phrasing, so the words never
claim more than the rule does. Field paths stay visible (`author.role`) because they are what an
event must carry; defined terms and parameters are named in quotes, as a legal text names its
defined terms, and each page lists what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .. import syntax as st

_EFFECTS = {"allow": "Allow", "review": "Send to a person to decide", "remove": "Remove", "deny": "Refuse"}
_KINDS = {"post": "a post", "comment": "a comment", "account": "an account"}
_COMPARE = {"<": "is less than", "<=": "is at most", ">": "is more than", ">=": "is at least", "==": "is",
            "is": "is", "!=": "is not", "is not": "is not", "in": "is one of", "not in": "is not one of",
            "contains": "contains", "starts with": "starts with", "ends with": "ends with"}
_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "is": "is not", "!=": "==",
            "is not": "is", "in": "not in", "not in": "in"}
_TEXT_NEGATED = {"contains": "does not contain", "starts with": "does not start with",
                 "ends with": "does not end with"}
_QUANTIFIERS = {"any": "some item of", "all": "every item of", "no": "no item of"}


@dataclass(frozen=True)
class Vocabulary:
    """The names a condition may use that are not event fields: the policy's definitions and parameters."""

    defines: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()


def decision(rule: st.Rule, vocabulary: Vocabulary) -> str:
    """The whole rule as one sentence: what it decides, for which events, when and unless what."""
    d = rule.decision
    sentence = f"{_EFFECTS.get(d.effect, d.effect.capitalize())} {_targets(d.targets)}"
    if d.when is not None:
        sentence += f" when {condition(d.when, vocabulary)}"
    if d.unless is not None:
        sentence += f", unless {condition(d.unless, vocabulary)}"
    return sentence + "."


def _targets(targets: list[st.Target]) -> str:
    parts = []
    for target in targets:
        if target.kind != "action":
            parts.append(_KINDS.get(target.kind, target.kind))
        elif target.actions:
            parts.append("the action " + _alternatives([_humane(a) for a in target.actions]))
        else:
            parts.append("any action")
    return _alternatives(parts)


def condition(expr: st.Expr, vocabulary: Vocabulary) -> str:
    """One condition in words; `and` inside `or` (and the reverse) is bracketed, as the rule groups it."""
    return _Speaker(vocabulary).say(expr)


def value(expr: st.Expr, vocabulary: Vocabulary) -> str:
    """A value in words (a definition that is a list, say): not a test."""
    return _Speaker(vocabulary).value(expr)


class _Speaker:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary

    def say(self, expr: st.Expr) -> str:
        method = getattr(self, f"_{type(expr).__name__.lower()}")
        return method(expr)

    def _grouped(self, expr: st.Expr, within: str) -> str:
        text = self.say(expr)
        if isinstance(expr, st.BoolOp) and expr.op != within:
            return f"({text})"
        return text

    def _boolop(self, expr: st.BoolOp) -> str:
        return f"{self._grouped(expr.left, expr.op)} {expr.op} {self._grouped(expr.right, expr.op)}"

    def _not(self, expr: st.Not) -> str:
        inner = expr.operand
        if isinstance(inner, (st.Path, st.Otherwise, st.Call)):
            return self._test(inner, negated=True)
        if isinstance(inner, st.Compare) and inner.op in _NEGATED:
            return self._compare(st.Compare(_NEGATED[inner.op], inner.left, inner.right, inner.span))
        if isinstance(inner, st.Compare) and inner.op in _TEXT_NEGATED:
            return f"{self.value(inner.left)} {_TEXT_NEGATED[inner.op]} {self.value(inner.right)}"
        if isinstance(inner, st.Presence):
            return self._presence(st.Presence(inner.operand, not inner.present, inner.span))
        if isinstance(inner, st.Matches):
            return f"{self.value(inner.operand)} does not match the pattern /{inner.pattern}/"
        if isinstance(inner, st.Has):
            return self._has(inner, negated=True)
        if isinstance(inner, st.ClauseApplies):
            return f"clause {inner.clause} does not apply"
        return f"not ({self.say(inner)})"

    def _test(self, expr: st.Path | st.Otherwise | st.Call, negated: bool = False) -> str:
        """A yes/no value used as a test: a field, a defined term, a parameter, a function's answer."""
        if isinstance(expr, st.Path) and len(expr.parts) == 1 and expr.parts[0] in self.vocabulary.defines:
            return f"{self.value(expr)} {'does not hold' if negated else 'holds'}"
        return f"{self.value(expr)} is {'no' if negated else 'yes'}"

    def _path(self, expr: st.Path) -> str:
        return self._test(expr)

    def value(self, expr: st.Expr) -> str:
        """A value (not a test): a field, a defined term, a parameter, a literal, a count."""
        if isinstance(expr, st.Path):
            name = expr.parts[0]
            if len(expr.parts) == 1 and name in self.vocabulary.defines:
                return f"“{_humane(name)}”"
            if len(expr.parts) == 1 and name in self.vocabulary.params:
                return f"the parameter “{_humane(name)}”"
            if expr.parts == ("it",):
                return "it"
            return f"`{expr.dotted}`"
        if isinstance(expr, st.Literal):
            return _literal(expr.value)
        if isinstance(expr, st.Otherwise):
            return f"{self.value(expr.path)} ({_literal(expr.default.value)} when the event does not say)"
        if isinstance(expr, st.Count):
            return f"the number of {self.value(expr.path)}"
        if isinstance(expr, st.Call):
            return f"{expr.name}({', '.join(self.value(a) for a in expr.args)})"
        return f"({self.say(expr)})"

    def _literal(self, expr: st.Literal) -> str:
        return f"{_literal(expr.value)} is yes" if not isinstance(expr.value, bool) else \
            ("always" if expr.value else "never")

    def _otherwise(self, expr: st.Otherwise) -> str:
        return self._test(expr)

    def _count(self, expr: st.Count) -> str:
        return f"{self.value(expr)} is not zero"

    def _call(self, expr: st.Call) -> str:
        return self._test(expr)

    def _compare(self, expr: st.Compare) -> str:
        return f"{self.value(expr.left)} {_COMPARE.get(expr.op, expr.op)} {self.value(expr.right)}"

    def _presence(self, expr: st.Presence) -> str:
        return f"{self.value(expr.operand)} is {'given' if expr.present else 'not given'}"

    def _matches(self, expr: st.Matches) -> str:
        return f"{self.value(expr.operand)} matches the pattern /{expr.pattern}/"

    def _has(self, expr: st.Has, negated: bool = False) -> str:
        whose = _subject(expr.subject)
        names = _alternatives([_humane(name) for name, _ in expr.categories])
        if len(expr.categories) > 1 and not expr.open:
            names = f"any of {', '.join(_humane(name) for name, _ in expr.categories)}"
        if expr.labels_only:
            verb = "is not labelled" if negated else "is labelled"
            return f"{whose} {verb} {names} by a trusted upstream label"
        if expr.open:
            text = f"{whose} {'does not contain' if negated else 'contains'} content such as {names}"
            if expr.unlike:
                text += f" (but not {_alternatives([_humane(n) for n, _ in expr.unlike])})"
            return text + " (other content of that kind goes to a person)"
        return f"{whose} {'does not contain' if negated else 'contains'} {names}"

    def _quantified(self, expr: st.Quantified) -> str:
        return f"{_QUANTIFIERS[expr.quantifier]} {self.value(expr.path)} has: {self.say(expr.body)}"

    def _clauseapplies(self, expr: st.ClauseApplies) -> str:
        return f"clause {expr.clause} applies"


def _subject(subject: st.Path | None) -> str:
    if subject is None:
        return "the content"
    if subject.parts == ("it",):
        return "it"
    return "the content acted on" if subject.parts[0] == "target" else f"`{subject.dotted}`"


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return _alternatives([_literal(v) for v in value])
    if isinstance(value, (int, float, date)):
        return str(value)
    return f"“{value}”"


def _alternatives(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _humane(name: str) -> str:
    return name.replace("_", " ")
