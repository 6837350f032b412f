"""Properties over generated policies and events: layout-independence, determinism, exception precedence."""

from __future__ import annotations

from hypothesis import given, settings, strategies as hs

import policykit

CATEGORIES = ["profanity", "threat", "contest", "obscene", "hate_speech", "off_topic"]
EFFECTS = ["allow", "review", "remove", "deny"]

rule_spec = hs.tuples(hs.sampled_from(EFFECTS), hs.lists(hs.sampled_from(CATEGORIES), min_size=1, max_size=3,
                                                         unique=True), hs.booleans())
policy_spec = hs.lists(rule_spec, min_size=1, max_size=6)
event_spec = hs.fixed_dictionaries({
    "kind": hs.just("comment"),
    "labels": hs.lists(hs.sampled_from(CATEGORIES), max_size=3, unique=True),
    "author_history": hs.fixed_dictionaries({"removed_before": hs.integers(0, 3)}),
})


def render(spec, indent: int, blank: bool, comments: bool, wrap: bool) -> str:
    """One policy, laid out in one of many equivalent ways."""
    pad = " " * indent
    out = ['policy gen "Generated policy"', f'{pad}version "1"', ""]
    for number, (effect, categories, repeat) in enumerate(spec, 1):
        text = f"Clause number {number} says what it says."
        quoted = f'"Clause number {number}\n{pad * 3}says what it says."' if wrap else f'"{text}"'
        if comments:
            out.append(f"# clause {number}")
        out.append(f"clause {number} {quoted}")
        condition = "has " + ", ".join(categories)
        if repeat:
            condition = f"({condition}) and author_history.removed_before >= 1"
        out.append(f"{pad}rule r{number}:{'  # named' if comments else ''}")
        out.append(f"{pad * 2}{effect} comment when {condition}")
        out.append(f'{pad * 3}because "Rule {number} fired."')
        out.append(f"{pad * 3}then archive")
        if blank:
            out.append("")
    return "\n".join(out) + "\n"


def meaning(policy: policykit.Policy, events) -> list:
    return [policy.evaluate(e).model_dump(mode="json", exclude={"findings": {"__all__": {"citations"}},
                                                                "obligations": {"__all__": {"citations"}}})
            for e in events]


@settings(max_examples=60, deadline=None)
@given(policy_spec, hs.lists(event_spec, min_size=1, max_size=5), hs.integers(1, 4), hs.booleans(),
       hs.booleans(), hs.booleans())
def test_layout_does_not_change_meaning(spec, events, indent, blank, comments, wrap):
    plain = policykit.compile_text(render(spec, 2, False, False, False), "a.pol")
    other = policykit.compile_text(render(spec, indent, blank, comments, wrap), "b.pol")
    assert meaning(plain, events) == meaning(other, events)
    assert [c.text for c in plain.clauses.values()] == [c.text for c in other.clauses.values()]


@settings(max_examples=60, deadline=None)
@given(policy_spec, hs.lists(event_spec, min_size=1, max_size=6))
def test_evaluation_is_deterministic_and_order_independent(spec, events):
    policy = policykit.compile_text(render(spec, 2, False, False, False), "a.pol")
    forward = meaning(policy, events)
    assert forward == meaning(policy, events)
    assert list(reversed(forward)) == meaning(policy, list(reversed(events)))
    for verdict in forward:
        strongest = max((EFFECTS.index(f["effect"]) for f in verdict["findings"]), default=0)
        assert verdict["decision"] == EFFECTS[strongest]


@settings(max_examples=80, deadline=None)
@given(hs.sampled_from(EFFECTS), hs.sampled_from(EFFECTS), hs.sampled_from(CATEGORIES),
       hs.sampled_from(CATEGORIES), hs.lists(hs.sampled_from(CATEGORIES), max_size=3, unique=True))
def test_exception_wins_over_what_it_defeats_whatever_the_effects(base, override, category, unless, labels):
    text = f'''policy ex "Exceptions"
clause 1 "The base rule."
  rule base:
    {base} comment when has {category}
clause 2 "The exception."
  exception narrow to base:
    {override} comment when has {unless}
'''
    verdict = policykit.compile_text(text, "ex.pol").evaluate({"kind": "comment", "labels": labels})
    fired = {f.rule: f for f in verdict.findings}
    if category not in labels:
        assert fired == {}
    elif unless in labels:
        assert set(fired) == {"narrow"} and verdict.decision == override
        assert fired["narrow"].defeats[0].rule == "base" and fired["narrow"].defeats[0].clauses == ["1"]
    else:
        assert set(fired) == {"base"} and verdict.decision == base
