"""Hostile policy text: every problem is a positioned diagnostic with a stable code, never a crash (issue 14)."""

from __future__ import annotations

import pytest

import policykit
from policykit import limits
from policykit.errors import PolicyError

HEAD = 'policy p "T"\nclause 1 "x"\n'


def _rule(condition: str) -> str:
    return HEAD + f"  deny comment when {condition}\n"


def _chain(op: str, n: int) -> str:
    return f" {op} ".join(f"author_history.removed_before > {i}" for i in range(n))


# name → (policy text, code, line, column)
CASES = {
    "not × 327": (_rule("not " * 327 + "has profanity"), "PK007", 3, None),
    "not × 5,000": (_rule("not " * 5000 + "has profanity"), "PK007", 3, None),
    "a list nested 330 deep": (_rule("text in " + "[" * 330 + '"a"' + "]" * 330), "PK007", 3, None),
    "a list nested 100,000 deep": (_rule("text in " + "[" * 100_000 + '"a"' + "]" * 100_000), "PK007", 3, None),
    "no title, a header": ('policy p\n  effective 2024-02-30\nclause 1 "x"\n  deny comment when has profanity\n',
                           "PK005", 2, 13),
    "an impossible date": ('policy p "T"\n  effective 2024-02-30\n' + HEAD.split("\n", 1)[1]
                           + "  deny comment when has profanity\n", "PK005", 2, 13),
    "month 13 on a rule": (HEAD + "  deny comment when has profanity\n    effective 2024-13-01\n", "PK005", 4, 15),
    "a date that is not one": (HEAD + "  effective 2024-7-1\n  deny comment when has profanity\n", "PK005", 3, 13),
    "an impossible date in a condition": (_rule("at < 2023-02-29"), "PK005", 3, 26),
    "an integer of 5,000 digits": (_rule("author_history.removed_before > " + "9" * 5000), "PK006", 3, 53),
    "a float of 400 integer digits": (_rule("author_history.removed_before > " + "9" * 400 + ".5"), "PK006", 3, 53),
    "a trust threshold too long": ('policy p "T"\ntrust labels from "x" above ' + "1" * 30 + "\n" + HEAD.split("\n", 1)[1]
                                   + "  deny comment when has profanity\n", "PK006", 2, 29),
    "a retention period too long": ('policy p "T"\n  retain ' + "9" * 5000 + " years cite 1\n" + HEAD.split("\n", 1)[1]
                                    + "  deny comment when has profanity\n", "PK006", 2, 10),
    "a tab-indented rule": (HEAD + "\tdeny comment when has profanity\n", "PK004", 3, 1),
    "a tab after spaces before `because`": (HEAD + "  deny comment when has profanity\n  \tbecause \"x\"\n",
                                            "PK004", 4, 3),
    "clauses nested 100 deep": ("policy p \"T\"\n" + "".join("  " * i + f'clause c{i} "x"\n' for i in range(100))
                                + "  " * 100 + "deny comment when has profanity\n", "PK007", None, None),
    "a NUL byte": ("policy p \"T\"\x00\n", "PK000", 1, 1),
}


@pytest.mark.parametrize("name", CASES)
def test_hostile_policy_text_is_a_positioned_diagnostic(name):
    text, code, line, column = CASES[name]
    with pytest.raises(PolicyError) as caught:
        policykit.compile_text(text, "hostile.pol")
    first = caught.value.diagnostics[0]
    assert first.code == code, str(caught.value)
    if line is not None:
        assert first.line == line, str(caught.value)
    if column is not None:
        assert first.column == column, str(caught.value)
    assert first.file == "hostile.pol" and first.help
    assert "internal" not in str(caught.value) and "cannot read this value" not in str(caught.value)
    assert len(str(caught.value)) < 2000


def test_a_policy_without_a_title_compiles():
    policy = policykit.compile_text('policy p\nclause 1 "x"\n  deny comment when has profanity\n')
    assert policy.title is None and policy.name == "p"


@pytest.mark.parametrize("op", ["and", "or"])
@pytest.mark.parametrize("terms", [328, 5000])
def test_long_and_or_chains_compile_and_decide_as_written(op, terms):
    policy = policykit.compile_text(_rule(_chain(op, terms)))
    low, high = {"kind": "comment", "author_history": {"removed_before": 1}}, {
        "kind": "comment", "author_history": {"removed_before": terms + 1}}
    expected = {"and": ("allow", "deny"), "or": ("deny", "deny")}[op]
    assert (policy.evaluate(low).decision, policy.evaluate(high).decision) == expected
    unknown = policy.evaluate({"kind": "comment"})
    assert unknown.decision == "review" and unknown.missing == ["author_history.removed_before"]


def test_a_chain_mixed_with_unknowns_keeps_three_valued_logic():
    policy = policykit.compile_text(_rule(" and ".join(["author.trained", "author_history.removed_before > 2"] * 200)))
    assert policy.evaluate({"kind": "comment", "author": {"trained": False}}).decision == "allow"
    assert policy.evaluate({"kind": "comment", "author": {"trained": True},
                            "author_history": {"removed_before": 3}}).decision == "deny"
    assert policy.evaluate({"kind": "comment", "author": {"trained": True}}).decision == "review"


def test_definitions_that_nest_too_deep_are_reported_where_the_limit_is_passed():
    defines = "".join(f"define d{i} = not d{i + 1}\n" for i in range(200)) + "define d200 = has profanity\n"
    with pytest.raises(PolicyError) as caught:
        policykit.compile_text('policy p "T"\n' + defines + 'clause 1 "x"\n  deny comment when d0\n')
    assert [d.code for d in caught.value.diagnostics] == ["PK116"]
    assert caught.value.diagnostics[0].line > 2


def test_definitions_that_multiply_are_refused_quickly():
    defines = "define d0 = has profanity\n" + "".join(
        f"define d{i + 1} = d{i} or d{i}\n" for i in range(40))
    with pytest.raises(PolicyError) as caught:
        policykit.compile_text('policy p "T"\n' + defines + 'clause 1 "x"\n  deny comment when d40\n')
    assert [d.code for d in caught.value.diagnostics] == ["PK117"]


def test_nesting_limit_is_configurable():
    text = _rule("not " * 80 + "has profanity")
    with pytest.raises(PolicyError):
        policykit.compile_text(text)
    previous = limits.configure(max_nesting=200)
    try:
        assert policykit.compile_text(text).evaluate({"kind": "comment", "text": "fine"}).decision == "allow"
    finally:
        limits.restore(previous)
