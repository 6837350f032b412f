"""Errors that reach users: every one names where the problem is and what would fix it.

`PolicyError` carries diagnostics with file, line, column, a stable code (documented in
docs/errors.md), a message and a help line, the way Cedar and rustc report. `EventError` names the
field path of a malformed event and what was expected there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Span:
    """A position in a policy file; lines and columns count from 1."""

    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about a policy file, with the stable code tools and docs key on."""

    code: str
    message: str
    span: Span
    help: str | None = None
    severity: Severity = "error"

    @property
    def file(self) -> str:
        return self.span.file

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    def __str__(self) -> str:
        text = f"{self.span}: {self.severity}[{self.code}]: {self.message}"
        return f"{text}\n  help: {self.help}" if self.help else text


class PolicyError(Exception):
    """A `.pol` file that does not parse or compile; `.diagnostics` lists every problem found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics) or "invalid policy")


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One bad field of an event: where it is, and what should have been there."""

    path: str
    expected: str | None
    got: str | None = None

    def __str__(self) -> str:
        if self.expected is None:
            return f"{self.path}: unknown field (unknown fields are rejected; see `policykit schema event`)"
        got = f" (got {self.got})" if self.got is not None else ""
        return f"{self.path or '<event>'}: expected {self.expected}{got}"


class EventError(ValueError):
    """An event that does not fit the schema; `.problems` lists each bad field path."""

    def __init__(self, problems: Iterable[FieldProblem], *, index: int | None = None) -> None:
        self.problems: list[FieldProblem] = list(problems)
        self.index = index
        where = f"event #{index}: " if index is not None else ""
        super().__init__(where + "; ".join(str(p) for p in self.problems))

    @property
    def path(self) -> str:
        """The first bad field's path (the one to fix first)."""
        return self.problems[0].path if self.problems else ""


class PolicyNotFound(LookupError):
    """`load()` was given a name no bundled, plugin or file policy answers to."""


__all__ = ["Diagnostic", "EventError", "FieldProblem", "PolicyError", "PolicyNotFound", "Severity", "Span"]
