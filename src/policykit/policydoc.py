"""A policy's clause-by-clause reference in Markdown, generated from its `.pol` file (`policykit doc`).

A city attorney reviewing an encoding wants, for every clause of the document, its words, what a
program checks and what is left to a person. Written by hand, such a page drifts from the policy the
first time a rule changes; generated, it cannot. Rules are shown as written in the policy (which is
meant to read aloud), then in plain words, with the comments their authors put above them. The page
renders `report.model.PolicyView`, the same model the HTML report (`policykit report`) renders.
"""

from __future__ import annotations

from .compiler import Policy
from .report.model import ClauseView, PolicyView, RuleView, explain_policy, source_label

__all__ = ["render", "render_view", "source_label"]


def render(policy: Policy) -> str:
    """The Markdown page for one policy (its own clauses; a parent's are on the parent's page)."""
    return render_view(explain_policy(policy))


def render_view(view: PolicyView) -> str:
    out = [f"# {view.title}", "",
           f"Generated from `{view.label}` by `policykit doc` — do not edit by hand: edit the policy "
           f"and run `policykit doc --out docs/policies {view.label}`.", ""]
    out += _summary(view)
    if view.notes:
        out += ["## How it is encoded", "", "```text", *view.notes, "```", ""]
    out += _parameters(view)
    out += ["## Clauses", ""]
    for clause in view.clauses:
        out += _clause(clause)
    return "\n".join(out).rstrip() + "\n"


def _summary(view: PolicyView) -> list[str]:
    counts = view.counts
    grouping = counts["grouping"] + counts["no rule"]
    return [f"Source document: `{view.document}`." if view.document else "", "",
            f"{len(view.clauses)} clauses: {counts['encoded']} encoded as rules, {counts['not checkable']} not "
            f"machine-checkable (each says why), {grouping} that only {'groups' if grouping == 1 else 'group'} "
            f"the clauses under {'it' if grouping == 1 else 'them'}. {view.rule_count} rules, of which "
            f"{view.review_count} leave the decision to a person (`review`).", ""]


def _parameters(view: PolicyView) -> list[str]:
    if not view.params:
        return []
    out = ["## Parameters", "", "| parameter | value | what it is |", "|---|---|---|"]
    for param in view.params:
        shown = "**not filled in**: rules that need it give `review`" if param.value is None else f"`{param.value}`"
        out.append(f"| `{param.name}` ({param.type}) | {shown} | {_cell(param.description)} |")
    return out + [""]


def _clause(clause: ClauseView) -> list[str]:
    out = [f"### {clause.id}", "", f"> {clause.text}", ""]
    if clause.unchecked:
        out += [f"Not machine-checkable: {clause.unchecked}", ""]
    for rule in clause.rules:
        out += _rule(rule)
    if clause.citing:
        out += ["Also cited by rules that stand elsewhere:", ""]
        for rule in clause.citing:
            out += _rule(rule)
    if clause.status in ("grouping", "no rule") and not clause.citing:
        out += ["Encoded by the clauses under it." if clause.has_children else "States no rule of its own.", ""]
    return out


def _rule(rule: RuleView) -> list[str]:
    out = [f"- **{rule.effect}** ({rule.role}), rule `{rule.id}`: `{rule.written}`",
           f"  — in words: {rule.words}"]
    if rule.because:
        out.append(f"  — “{rule.because}”")
    if rule.obligations:
        out.append(f"  — then: {', '.join(rule.obligations)}")
    if rule.note:
        out.append(f"  — note: {rule.note}")
    return out + [""]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
