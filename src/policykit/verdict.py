"""The verdict: the decision, every finding with its clause's own words, and what must be done.

`Verdict.model_dump(mode="json")` is the wire format of the contract. The evaluator builds verdicts
with `model_construct` (no re-validation of what it produced itself), which keeps a decision within a
few microseconds.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

Effect = Literal["allow", "review", "remove", "deny"]
EFFECTS: tuple[Effect, ...] = ("allow", "review", "remove", "deny")
SEVERITY: dict[str, int] = {name: rank for rank, name in enumerate(EFFECTS)}


_SLOTS = BaseModel.__dict__
_set_dict = _SLOTS["__dict__"].__set__
_set_fields_set = _SLOTS["__pydantic_fields_set__"].__set__
_set_extra = _SLOTS["__pydantic_extra__"].__set__
_set_private = _SLOTS["__pydantic_private__"].__set__
_new = object.__new__


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)

    @classmethod
    def build(cls, **values: object) -> "Self":
        """Construct from values the evaluator produced itself, skipping validation.

        Like `model_construct`, but without its per-call introspection, and writing pydantic's slots
        through their descriptors rather than `object.__setattr__`: a verdict is built on every decision,
        and this keeps each object well under a microsecond. Every field must be given.
        """
        obj = _new(cls)
        _set_dict(obj, values)
        _set_fields_set(obj, set(values))
        _set_extra(obj, None)
        _set_private(obj, None)
        return obj


class PolicyRef(_Out):
    name: str
    title: str | None = None
    version: str | None = None


class Citation(_Out):
    """A clause, quoted in its own words, with the `file:line` where the policy file states it."""

    policy: str
    clause: str
    text: str
    source: str


class Evidence(_Out):
    """What in the event made a category test true: a detector's match, or an upstream label."""

    detector: str
    field: str
    start: int | None = None
    end: int | None = None
    match: str | None = None
    category: str | None = None
    score: float | None = None


class Defeated(_Out):
    """A rule an exception overrode for this event, and the clauses that rule cites."""

    rule: str
    clauses: list[str] = Field(default_factory=list)


class Finding(_Out):
    rule: str
    effect: Effect
    message: str
    citations: list[Citation]
    evidence: list[Evidence] = Field(default_factory=list)
    defeats: list[Defeated] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)


class Obligation(_Out):
    action: str
    detail: str | None = None
    citations: list[Citation] = Field(default_factory=list)


class EvalError(_Out):
    source: str
    message: str


class Verdict(_Out):
    policy: PolicyRef
    decision: Effect
    findings: list[Finding] = Field(default_factory=list)
    obligations: list[Obligation] = Field(default_factory=list)
    errors: list[EvalError] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    event_id: str | None = None

    def cited_clauses(self) -> list[str]:
        """Every clause id cited by a finding, in order, without repeats."""
        seen: dict[str, None] = {}
        for finding in self.findings:
            for citation in finding.citations:
                seen.setdefault(citation.clause, None)
        return list(seen)


__all__ = ["Citation", "Defeated", "EFFECTS", "Effect", "EvalError", "Evidence", "Finding", "Obligation",
           "PolicyRef", "SEVERITY", "Verdict"]
