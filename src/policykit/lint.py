"""Checks beyond "does it compile": what a policy reviewer would flag.

Compile errors come from the compiler; this module adds warnings (clauses not accounted for, unused
definitions and parameters, quotes that are not the source document's words, obligations with unknown
actions, rules an exception makes unreachable) and honours `# policykit: ignore[CODE]` comments.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from .compiler import Policy
from .errors import Diagnostic, PolicyError, Span
from .loader import load

_IGNORE = re.compile(r"#\s*policykit:\s*ignore\[([A-Z0-9, ]+)\]")
KNOWN_OBLIGATIONS = frozenset({
    "archive", "document", "refer", "notify", "consult", "respond", "record", "log", "remove",
    "remove_follower", "screenshot", "retain", "report", "escalate", "approve", "disclose", "train",
    "register", "hide", "review", "appeal", "correct", "backup",
})


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _warn(code: str, message: str, span: Span, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, message, span, help, "warning")


def policy_warnings(policy: Policy, sources: Path | None = None) -> list[Diagnostic]:
    """Warnings about the top file of a compiled policy (its parents are linted on their own)."""
    doc = policy.doc
    found: list[Diagnostic] = list(policy.warnings)
    for clause in doc.walk_clauses():
        if not clause.rules and not clause.children and clause.unchecked is None:
            found.append(_warn("PK301", f"clause `{clause.id}` is neither encoded nor marked not checkable",
                               clause.span, 'add rules under it, or `not checkable because "reason"`'))
    for define in doc.defines:
        if define.name not in policy.used_names:
            found.append(_warn("PK302", f"definition `{define.name}` is never used", define.span))
    for param in doc.params:
        if param.name not in policy.used_names and not _used_in_messages(policy, param.name):
            found.append(_warn("PK303", f"parameter `{param.name}` is never used", param.span))
    for rule in doc.all_rules():
        for ob in rule.decision.obligations:
            if ob.action not in KNOWN_OBLIGATIONS:
                found.append(_warn("PK304", f"obligation `{ob.action}` is not a known action", ob.span,
                                   "known: " + ", ".join(sorted(KNOWN_OBLIGATIONS))))
    found.extend(_shadowed(policy))
    if sources is not None:
        found.extend(_quotes(policy, sources))
    return found


def _used_in_messages(policy: Policy, name: str) -> bool:
    needle = "{" + name + "}"
    return any(needle in (r.decision.because or "") or any(needle in (o.detail or "") for o in r.decision.obligations)
               for r in policy.doc.all_rules())


def _shadowed(policy: Policy) -> list[Diagnostic]:
    """An unconditional exception makes what it defeats unreachable wherever both target the event."""
    found = []
    rules = policy.rules
    for rule in rules:
        if not rule.is_exception or rule.condition is not None or rule.policy != policy.name:
            continue
        for victim in rule.defeats:
            target = rules[victim]
            if target.kinds <= rule.kinds and (rule.actions is None or (target.actions or set()) <= rule.actions):
                found.append(_warn("PK305", f"rule `{target.id}` can never take effect: exception `{rule.id}` "
                                   "has no condition and always defeats it", rule.span,
                                   "give the exception a `when` condition, or remove the rule"))
    return found


def _quotes(policy: Policy, sources: Path) -> list[Diagnostic]:
    document = policy.doc.header.get("document")
    if document is None:
        return [_warn("PK306", "the policy names no `document`, so its quotes cannot be checked", policy.doc.span,
                      'add `document "file.txt"` to the header')]
    path = sources / document[0]
    if not path.is_file():
        return [_warn("PK306", f"source document {path} not found", document[1])]
    text = _collapse(path.read_text(encoding="utf-8"))
    return [Diagnostic("PK307", f"clause `{c.id}`: text is not the source document's words", c.span,
                       f"not found verbatim in {path.name} (whitespace-insensitive)")
            for c in policy.doc.walk_clauses() if _collapse(c.text) not in text]


def ignored(diagnostic: Diagnostic, lines: list[str]) -> bool:
    """True when the diagnostic's line, or the line before it, says `# policykit: ignore[CODE]`."""
    for number in (diagnostic.line, diagnostic.line - 1):
        if 1 <= number <= len(lines):
            match = _IGNORE.search(lines[number - 1])
            if match and diagnostic.code in {c.strip() for c in match.group(1).split(",")}:
                return True
    return False


def policy_files(paths: Iterable[str]) -> list[Path]:
    """Every .pol file named, or under a named directory, sorted."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        found.extend(sorted(path.rglob("*.pol")) if path.is_dir() else [path])
    return found


def lint_file(path: Path, sources: Path | None = None) -> list[Diagnostic]:
    """Every error and warning for one file, minus those its comments silence."""
    try:
        policy = load(path)
        diagnostics = policy_warnings(policy, sources)
    except PolicyError as exc:
        diagnostics = exc.diagnostics
    except OSError as exc:
        diagnostics = [Diagnostic("PK000", f"cannot read file: {exc.strerror or exc}", Span(str(path), 1, 1))]
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    return [d for d in diagnostics if not ignored(d, lines)]
