"""A policy's clause-by-clause reference, generated from its `.pol` file (`policykit doc`).

A city attorney reviewing an encoding wants, for every clause of the document, its words, what a
program checks and what is left to a person. Written by hand, such a page drifts from the policy the
first time a rule changes; generated, it cannot. Rules are shown as written in the policy (which is
meant to read aloud), with the comments their authors put above them.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import syntax as st
from .compiler import CompiledRule, Policy

_SEPARATOR = re.compile(r"^#\s*[-=~*#]{3,}")


def render(policy: Policy) -> str:
    """The Markdown page for one policy (its own clauses; a parent's are on the parent's page)."""
    lines = policy.source.splitlines()
    compiled = {(r.span.line, r.span.column): r for r in policy.rules if r.policy == policy.name}
    clauses = list(policy.doc.walk_clauses())
    citing: dict[str, list[st.Rule]] = {}  # rules that stand elsewhere and cite a clause
    for rule in policy.doc.all_rules():
        for ref in rule.decision.cites:
            if ref.id != rule.clause:
                citing.setdefault(ref.id, []).append(rule)
    label = source_label(policy)
    out = [f"# {policy.title or policy.name}", "",
           f"Generated from `{label}` by `policykit doc` — do not edit by hand: edit the policy "
           f"and run `policykit doc --out docs/policies {label}`.", ""]
    out += _summary(policy, clauses)
    notes = _opening_comments(lines)
    if notes:
        out += ["## How it is encoded", "", "```text", *notes, "```", ""]
    out += _parameters(policy)
    out += ["## Clauses", ""]
    for clause in clauses:
        out += _clause(clause, citing.get(clause.id, []), compiled, lines)
    return "\n".join(out).rstrip() + "\n"


def source_label(policy: Policy) -> str:
    """How citations name the policy's file (`policies/nyc.pol`): the same on every machine."""
    for clause in policy.clauses.values():
        if clause.policy == policy.name:
            return clause.source.rsplit(":", 1)[0]
    return Path(policy.file).name


def _summary(policy: Policy, clauses: list[st.Clause]) -> list[str]:
    encoded = sum(1 for c in clauses if c.rules)
    unchecked = sum(1 for c in clauses if c.unchecked)
    grouping = len(clauses) - encoded - unchecked
    mine = [r for r in policy.rules if r.policy == policy.name]
    people = sum(1 for r in mine if r.effect == "review")
    document = policy.doc.header.get("document", (None, None))[0]
    return [f"Source document: `{document}`." if document else "", "",
            f"{len(clauses)} clauses: {encoded} encoded as rules, {unchecked} not machine-checkable (each says why), "
            f"{grouping} that only {'groups' if grouping == 1 else 'group'} the clauses under {'it' if grouping == 1 else 'them'}. "
            f"{len(mine)} rules, of which {people} leave the decision to a person (`review`).", ""]


def _parameters(policy: Policy) -> list[str]:
    params = [p for doc in policy.layers for p in doc.params]
    if not params:
        return []
    out = ["## Parameters", "", "| parameter | value | what it is |", "|---|---|---|"]
    for param in params:
        value = policy.params.get(param.name)
        shown = "**not filled in**: rules that need it give `review`" if value is None else f"`{_show(value)}`"
        out.append(f"| `{param.name}` ({param.type}) | {shown} | {_cell(param.description or '')} |")
    return out + [""]


def _clause(clause: st.Clause, citing: list[st.Rule], compiled: dict[tuple[int, int], CompiledRule],
            lines: list[str]) -> list[str]:
    out = [f"### {clause.id}", "", f"> {clause.text}", ""]
    if clause.unchecked:
        out += [f"Not machine-checkable: {clause.unchecked}", ""]
    for rule in clause.rules:
        found = compiled.get((rule.span.line, rule.span.column))
        if found is not None:
            out += _rule(rule, found, lines)
    if citing:
        out += ["Also cited by rules that stand elsewhere:", ""]
        for rule in citing:
            found = compiled.get((rule.span.line, rule.span.column))
            if found is not None:
                out += _rule(rule, found, lines)
    if not clause.rules and not clause.unchecked and not citing:
        out += ["Encoded by the clauses under it." if clause.children else "States no rule of its own.", ""]
    return out


def _rule(rule: st.Rule, compiled: CompiledRule, lines: list[str]) -> list[str]:
    if rule.defeats is not None:
        kind, ref, _ = rule.defeats
        role = f"exception to {'clause ' if kind == 'clause' else 'rule '}`{ref}`"
    elif compiled.effect == "review":
        role = "left to a person"
    else:
        role = "checked"
    head = f"- **{compiled.effect}** ({role}), rule `{compiled.id}`: `{_decision(rule, lines)}`"
    out = [head]
    if rule.decision.because:
        out.append(f"  — “{_collapse(rule.decision.because)}”")
    obligations = ", ".join(o.action + (f" ({_collapse(o.detail)})" if o.detail else "") for o in rule.decision.obligations)
    if obligations:
        out.append(f"  — then: {obligations}")
    notes = _comments_above(rule.span.line, lines)
    if notes:
        out.append(f"  — note: {notes}")
    return out + [""]


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


def _cell(text: str) -> str:
    return _collapse(text).replace("|", "\\|")


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
