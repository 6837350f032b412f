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
        joiner = ",\n" + pad * 4 if wrap else ", "  # a line ending in `,` or `and` goes on
        condition = "has " + joiner.join(categories)
        if repeat:
            condition = f"({condition}) and{chr(10) + pad * 4 if wrap else ' '}author_history.removed_before >= 1"
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


def _condition(depth: int) -> hs.SearchStrategy[str]:
    """Conditions mixing category tests, a field that may be missing (unknown) and text tests."""
    atoms = hs.one_of(
        hs.lists(hs.sampled_from(CATEGORIES), min_size=1, max_size=2, unique=True).map(lambda c: "has " + ", ".join(c)),
        hs.integers(0, 2).map(lambda n: f"author_history.removed_before >= {n}"),
        hs.sampled_from(['text contains "raffle"', "text is present"]),
    )
    if depth == 0:
        return atoms
    smaller = _condition(depth - 1)
    return hs.one_of(
        atoms,
        hs.tuples(smaller, hs.sampled_from(["and", "or"]), smaller).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
        smaller.map(lambda c: f"not ({c})"),
    )


mixed_event = hs.fixed_dictionaries(
    {"kind": hs.just("comment"), "labels": hs.lists(hs.sampled_from(CATEGORIES), max_size=3, unique=True)},
    optional={"author_history": hs.fixed_dictionaries({"removed_before": hs.integers(0, 3)}),
              "text": hs.sampled_from(["Win our raffle, tag 3 friends!", "What the hell is this", "Thanks!"])})


@settings(max_examples=150, deadline=None)
@given(hs.lists(hs.tuples(hs.sampled_from(EFFECTS), _condition(2)), min_size=1, max_size=5),
       hs.lists(mixed_event, min_size=1, max_size=4))
def test_skipping_rules_by_category_never_changes_a_verdict(rules, events):
    """Differential: evaluate (which skips rules whose categories the event cannot have) against
    explain (which evaluates every applicable rule)."""
    lines = ['policy diff "Differential"']
    for number, (effect, condition) in enumerate(rules, 1):
        lines += [f'clause {number} "Clause {number}."', f"  {effect} comment when {condition}"]
    policy = policykit.compile_text("\n".join(lines) + "\n", "diff.pol")
    for event in events:
        assert policy.evaluate(event) == policy.explain(event).verdict
