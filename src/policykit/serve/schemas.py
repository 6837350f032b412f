"""The wire shapes of `policykit serve` that are not the library's own: errors, batches, policy listings.

Verdicts and events are the library's pydantic models (`policykit.verdict.Verdict`,
`policykit.models.Event`); these models only wrap them, so the OpenAPI document is generated from the
same models the library validates with. An error body has the shape of the library's errors: an
`EventError`'s problems (`path`, `expected`, `got`), a `PolicyError`'s diagnostics.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import Diagnostic, EventError
from ..models import Event
from ..verdict import Verdict


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(_Wire):
    """One bad field, as `policykit.EventError.problems` names it (`expected` null: an unknown field)."""

    path: str = Field(description="field path, like `action.target.labels[0]`; empty for the whole body")
    expected: str | None = Field(description="what should have been there; null for a field that is not allowed")
    got: str | None = Field(default=None, description="a bounded picture of what was there")


class DiagnosticOut(_Wire):
    """One `policykit.PolicyError` diagnostic: where in the `.pol` file, its stable code and the fix."""

    file: str
    line: int
    column: int
    code: str
    severity: str
    message: str
    help: str | None = None


class ErrorBody(_Wire):
    """Every 4xx and 5xx answer: what went wrong, and for bad input each field or policy line concerned."""

    error: str = Field(description="one line: what went wrong")
    problems: list[Problem] = Field(default_factory=list)
    diagnostics: list[DiagnosticOut] = Field(default_factory=list)


class BatchRequest(_Wire):
    """Events judged in order by one policy; a malformed one is answered in its place and the rest go on."""

    events: list[Event]


class Receipt(_Wire):
    """Where the decision log recorded the verdict (`policykit moderate`'s receipt; docs/records.md)."""

    key: str
    version: int | None
    seq: int | None
    hash: str | None
    duplicate: bool


class ItemError(_Wire):
    """A batch item that could not be judged: the library's `EventError`, for this item alone."""

    index: int
    error: str
    problems: list[Problem]


class ItemVerdict(_Wire):
    index: int
    verdict: Verdict
    record: Receipt | None = Field(default=None, description="with a decision log: where it was recorded")


class BatchResponse(_Wire):
    """One result per event, in order: a verdict, or the error that event alone had."""

    policy: str
    digest: str = Field(description="sha256 of the policy sources and parameters that judged every item")
    results: list[ItemVerdict | ItemError]
    errors: int = Field(description="how many items were malformed")


class RecordedVerdict(Verdict):
    """A verdict with the decision log's receipt (only when the server runs with `--archive`)."""

    record: Receipt | None = None


class _PolicyInfo(_Wire):
    name: str
    title: str | None
    version: str | None
    jurisdiction: str | None
    effective: date | None
    digest: str = Field(description="sha256 of the policy sources and parameters (what an archive records)")
    file: str
    unfilled: list[str] = Field(description="parameters without a value: what they decide is `review`")
    loaded_at: str = Field(description="when this version was compiled (ISO 8601, UTC)")


class PolicySummary(_PolicyInfo):
    clauses: int
    rules: int


class ClauseOut(_Wire):
    """A clause in its own words, where the policy file states it, and what the policy does with it."""

    id: str
    text: str
    source: str
    parent: str | None
    effective: date | None
    until: date | None
    checked: bool = Field(description="some rule sits under this clause")
    unchecked: str | None = Field(description="why the policy leaves this clause to a person, when it says")


class RuleOut(_Wire):
    id: str
    effect: str
    kinds: list[str]
    actions: list[str] | None = Field(description="the action types it judges; null: any")
    clauses: list[str]
    source: str


class PolicyDetail(_PolicyInfo):
    retention: str | None = Field(description="the policy's `retain …` rule; null when it states none")
    clauses: list[ClauseOut]
    rules: list[RuleOut]


class ReloadProblem(_Wire):
    file: str
    error: str
    diagnostics: list[DiagnosticOut]
    at: str


class Health(_Wire):
    status: str = Field(description="`ok`; `degraded` while a changed policy file does not compile (the "
                                    "last good version is still served)")
    policies: list[str]
    reloads: int = Field(description="policy versions loaded since start, after the first")
    reload_errors: list[ReloadProblem]
    decision_log: str | None = Field(description="the archive decisions are recorded in, if any")


def event_problems(exc: EventError) -> list[dict[str, Any]]:
    return [{"path": p.path, "expected": p.expected, "got": p.got} for p in exc.problems]


def diagnostic_out(d: Diagnostic) -> dict[str, Any]:
    return {"file": d.file, "line": d.line, "column": d.column, "code": d.code, "severity": d.severity,
            "message": d.message, "help": d.help}


__all__ = ["BatchRequest", "BatchResponse", "ClauseOut", "DiagnosticOut", "ErrorBody", "Health", "ItemError",
           "ItemVerdict", "PolicyDetail", "PolicySummary", "Problem", "Receipt", "RecordedVerdict",
           "ReloadProblem", "RuleOut", "diagnostic_out", "event_problems"]
