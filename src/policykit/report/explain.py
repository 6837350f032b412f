"""`policykit explain`: the path to one decision, told for people.

`check --explain` lists every rule and a status word; a communications officer asking "why was this
comment sent to review?" needs the story: which rules were candidates, which fired and with what
effect, which an exception defeated (and which exception), which could not be decided for want of
a fact — and, for each missing fact, what the decision would be if the event gave it. The path is
the evaluator's own trace (`Policy.explain`); the what-ifs re-evaluate a copy of the event with the
fact filled in (every yes/no, every value of a field with a fixed set of values), unobserved by
plugins because those events never happened.
"""

from __future__ import annotations

import copy
import textwrap
from dataclasses import dataclass, field
from typing import Any

from ..analysis import _put as put  # lint's witness events are built the same way: a field set, parents made
from ..compiler import Policy
from ..errors import EventError
from ..evaluator import Trace, evaluate_unobserved
from ..schema import expand, resolve, root_type
from ..verdict import Finding, Verdict

MAX_TRIES = 8  # values tried for one missing field (an enum's first eight)
MAX_FACTS = 12  # missing facts tried for one event
_WIDTH = 100


@dataclass(frozen=True)
class WhatIf:
    value: Any
    decision: str | None  # None: the event with this value is not a valid event
    deciding: tuple[str, ...]  # the rules whose findings carry the decision
    problem: str | None = None


@dataclass(frozen=True)
class MissingFact:
    name: str  # an event field (`author.official_capacity`) or `param:NAME`
    kind: str  # what sort of value it is, in words
    tries: tuple[WhatIf, ...]
    note: str | None = None  # why no value was tried


@dataclass
class DecisionPath:
    policy: Policy
    event: Any
    verdict: Verdict
    trace: list[Trace]
    missing: list[MissingFact] = field(default_factory=list)
    untried: list[str] = field(default_factory=list)  # missing facts beyond MAX_FACTS, named but not tried

    def with_status(self, *statuses: str) -> list[Trace]:
        return [t for t in self.trace if t.status in statuses]

    def finding(self, rule: str) -> Finding | None:
        return next((f for f in self.verdict.findings if f.rule == rule), None)


def explain_decision(policy: Policy, event: Any) -> DecisionPath:
    """The decision on `event` and how it was reached; raises EventError for a malformed event."""
    explanation = policy.explain(event)
    path = DecisionPath(policy, event, explanation.verdict, explanation.trace)
    names = list(dict.fromkeys([*explanation.verdict.missing,
                                *(m for f in explanation.verdict.findings for m in f.missing)]))
    names = [name for name in names if not name.startswith("(")]
    path.missing = [_what_if(policy, event, name) for name in names[:MAX_FACTS]]
    path.untried = names[MAX_FACTS:]
    return path


def _what_if(policy: Policy, event: Any, name: str) -> MissingFact:
    if name.startswith("param:"):
        param = name.removeprefix("param:")
        return MissingFact(name, "a parameter of the policy", (),
                           f"the policy leaves it blank: fill it in (`--param {param}=VALUE`) and explain again")
    if not isinstance(event, dict):
        return MissingFact(name, "a field", (), "only an event given as data can be varied")
    parts = expand(tuple(name.split(".")))
    if any("[" in part for part in parts):
        return MissingFact(name, "a field of every item of a list", (), "give the items to see what follows")
    kind = event.get("kind")
    found, _, _ = resolve(parts, root_type(kind)) if kind in ("post", "comment", "account", "action") else (None, None, [])
    if found is None or found.kind not in ("bool", "enum"):
        what = found.describe() if found is not None else "a field"
        return MissingFact(name, what, (), "a value of this kind cannot be tried one by one: give it to see what follows")
    values: list[Any] = [True, False] if found.kind == "bool" else list(found.options[:MAX_TRIES])
    return MissingFact(name, found.describe(), tuple(_try(policy, event, parts, v) for v in values))


def _try(policy: Policy, event: dict[str, Any], parts: tuple[str, ...], value: Any) -> WhatIf:
    varied = copy.deepcopy(event)
    put(varied, list(parts), value)
    try:
        verdict = evaluate_unobserved(policy, varied)
    except EventError as exc:
        return WhatIf(value, None, (), str(exc))
    deciding = tuple(f.rule for f in verdict.findings if f.effect == verdict.decision)
    return WhatIf(value, verdict.decision, deciding)


# ---------------------------------------------------------------- text

def render(path: DecisionPath, where: str) -> str:
    """The path as text for a terminal or a ticket: plain words, one section per step."""
    verdict, policy = path.verdict, path.policy
    event = path.event if isinstance(path.event, dict) else {}
    kind = str(event.get("kind", "?"))
    if kind == "action" and isinstance(event.get("action"), dict):
        kind += f" {event['action'].get('type', '?')}"
    out = [f"{where}  {kind}  [{policy.name}] → {verdict.decision.upper()}"]
    if event.get("text"):
        out.append(_wrap(f"“{' '.join(str(event['text']).split())}”", "  "))
    looked = [t for t in path.trace if t.status != "not-in-force"]
    fired = path.with_status("fired")
    counts = [f"{len(fired)} fired"]
    for status, words in (("defeated", "defeated by an exception"), ("contested", "contested by an exception"),
                          ("unknown", "could not be decided"), ("not-fired", "did not fire"),
                          ("not-applicable", "exception{s} not looked at"), ("not-in-force", "not in force then")):
        number = len(path.with_status(status))
        if number:
            counts.append(f"{number} {words.format(s='' if number == 1 else 's')}")
    out += ["", _wrap(f"Candidates: {len(looked)} rules of {policy.name} apply to this {kind} ({', '.join(counts)}).",
                      "", "  ")]
    out += _fired(path, fired)
    out += _defeated(path)
    out += _undecided(path)
    out += _missing(path)
    quiet = [t.rule for t in path.with_status("not-fired")]
    if quiet:
        out += ["", _wrap("Did not fire: " + ", ".join(quiet) + ".", "", "  ")]
    out += ["", _conclusion(verdict)]
    return "\n".join(out) + "\n"


def _fired(path: DecisionPath, fired: list[Trace]) -> list[str]:
    if not fired:
        return []
    out = ["", "Fired:"]
    for t in fired:
        finding = path.finding(t.rule)
        if finding is None:  # an exception whose effect is milder than what it defeated, or an allow outweighed
            out.append(f"  ✓ {t.rule}")
            continue
        out.append(f"  ✓ {t.rule} → {finding.effect}")
        out.append(_wrap(finding.message, "      "))
        for c in finding.citations:
            out.append(_wrap(f"§{c.clause} ({c.source}): “{c.text}”", "      ", "        "))
        for d in finding.defeats:
            out.append(f"      defeats {d.rule}" + (f" (§{', §'.join(d.clauses)})" if d.clauses else ""))
    return out


def _defeated(path: DecisionPath) -> list[str]:
    found = path.with_status("defeated", "contested")
    if not found:
        return []
    out = ["", "Defeated or contested by exceptions:"]
    for t in found:
        mark = "✗" if t.status == "defeated" else "~"
        out.append(_wrap(f"{mark} {t.rule}: {t.detail}" + ("" if t.status == "defeated" else
                         " (the exception cannot be settled: a person decides)"), "  ", "      "))
    return out


def _undecided(path: DecisionPath) -> list[str]:
    found = path.with_status("unknown")
    if not found:
        return []
    out = ["", "Could not be decided (the event does not say enough):"]
    for t in found:
        out.append(_wrap(f"? {t.rule}: {t.detail}", "  ", "      "))
    return out


def _missing(path: DecisionPath) -> list[str]:
    if not path.missing:
        return []
    out = ["", "Missing facts, and what each would change:"]
    decision = path.verdict.decision
    for fact in path.missing:
        out.append(_wrap(f"{fact.name} ({fact.kind})", "  ", "      "))
        if fact.note:
            out.append(_wrap(fact.note, "      "))
        for attempt in fact.tries:
            shown = str(attempt.value).lower() if isinstance(attempt.value, bool) else f'"{attempt.value}"'
            if attempt.decision is None:
                out.append(_wrap(f"if {shown}: not a valid event ({attempt.problem})", "      ", "        "))
                continue
            if attempt.decision == decision:
                out.append(f"      if {shown}: {attempt.decision} — the same")
                continue
            rules = f" (rule {', '.join(attempt.deciding)})" if attempt.deciding else ""
            out.append(_wrap(f"if {shown}: {attempt.decision}{rules} — changes the decision", "      ", "        "))
    if path.untried:
        out.append(_wrap("Also missing (not tried): " + ", ".join(path.untried) + ".", "  ", "    "))
    return out


def _conclusion(verdict: Verdict) -> str:
    deciding = [f.rule for f in verdict.findings if f.effect == verdict.decision]
    if verdict.errors:
        return _wrap(f"Decision: {verdict.decision}, at least review because something failed: "
                     + "; ".join(f"{e.source}: {e.message}" for e in verdict.errors), "")
    if not deciding:
        return "Decision: allow — no rule fired that restricts this event."
    return _wrap(f"Decision: {verdict.decision}, the strongest effect among the findings, from rule "
                 f"{', '.join(deciding)}.", "")


def _wrap(text: str, indent: str, then: str | None = None) -> str:
    return textwrap.fill(text, _WIDTH, initial_indent=indent, subsequent_indent=then if then is not None else indent,
                         break_long_words=False, break_on_hyphens=False)
