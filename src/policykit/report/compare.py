"""Cities side by side: the same events judged by every policy, and where two decide differently.

Two cities' texts often say the same thing in different words, and sometimes they do not. Running
one set of example events through every policy shows a council where its policy parts from its
neighbours', clause by clause: each decision carries the clauses it cites.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ..compiler import Policy
from ..errors import EventError
from .model import anchor

_SUMMARY_CHARS = 240


@dataclass(frozen=True)
class Cited:
    policy: str
    clause: str
    anchor: str
    text: str  # the clause's words, as the policy quotes them


@dataclass(frozen=True)
class Judgement:
    """One policy's answer to one event: its decision and the clauses it cites, or why there is none."""

    policy: str
    decision: str | None
    cited: tuple[Cited, ...]  # the clauses of the findings that carry the decision
    also: tuple[Cited, ...]  # the clauses of the other findings (milder effects: records, archiving…)
    rules: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True)
class EventRow:
    where: str
    id: str | None
    kind: str
    summary: str
    judgements: tuple[Judgement, ...]

    @property
    def differs(self) -> bool:
        """Whether two policies that could judge the event decided it differently."""
        return len({j.decision for j in self.judgements if j.decision is not None}) > 1


def compare(policies: list[Policy], events: Iterable[tuple[str, Any]]) -> list[EventRow]:
    """Every event judged by every policy, in the order given."""
    return [_row(policies, where, event) for where, event in events]


def _row(policies: list[Policy], where: str, event: Any) -> EventRow:
    judgements = []
    for policy in policies:
        try:
            verdict = policy.evaluate(event)
        except EventError as exc:
            judgements.append(Judgement(policy.name, None, (), (), (), f"malformed event: {exc}"))
            continue
        deciding = [f for f in verdict.findings if f.effect == verdict.decision]
        cited = _cited(deciding)
        also = tuple(c for c in _cited([f for f in verdict.findings if f not in deciding]) if c not in cited)
        judgements.append(Judgement(policy.name, verdict.decision, cited, also,
                                    tuple(f.rule for f in verdict.findings)))
    data = event if isinstance(event, dict) else {}
    kind = str(data.get("kind", "?"))
    if kind == "action" and isinstance(data.get("action"), dict):
        kind += f" {data['action'].get('type', '?')}"
    return EventRow(where, str(data["id"]) if data.get("id") is not None else None, kind,
                    _summary(data), tuple(judgements))


def _cited(findings: list[Any]) -> tuple[Cited, ...]:
    citations = dict.fromkeys(c for f in findings for c in f.citations)
    return tuple(Cited(c.policy, c.clause, anchor("clause", c.clause), c.text) for c in citations)


def _summary(event: dict[str, Any]) -> str:
    """What a reader needs to recognise the event: its words, or what the action or account is."""
    text = event.get("text")
    if not text and isinstance(event.get("action"), dict):
        text = event["action"].get("text")
    if not text and isinstance(event.get("account"), dict):
        text = event["account"].get("name")
    text = " ".join(str(text or "").split())
    return text if len(text) <= _SUMMARY_CHARS else text[:_SUMMARY_CHARS - 1] + "…"
