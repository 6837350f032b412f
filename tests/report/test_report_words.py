"""Rules read aloud: one phrasing per construct, and nothing a rule reads left out of its words."""

from __future__ import annotations

from dataclasses import fields, is_dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as hyp

import policykit
from policykit import syntax as st
from policykit.errors import Span
from policykit.report import words
from policykit.report.model import explain_policy

BUNDLED = ("syracuse", "nyc", "clinton", "cottonwood", "minnesota_model")


def _said(source: str) -> str:
    policy = policykit.compile_text('policy p "P"\nparam site: text "the site"\ndefine staffer = author.role is "staff"\n'
                                    f'clause 1 "Text."\n  {source}\n', "p.pol")
    return explain_policy(policy).clauses[0].rules[0].words


@pytest.mark.parametrize("source, expected", [
    ("remove post when has threat", "Remove a post when the content contains threat."),
    ("remove comment, post when has threat, violence",
     "Remove a comment or a post when the content contains any of threat, violence."),
    ("deny action delete_comment, hide_comment unless target has obscene",
     "Refuse the action delete comment or hide comment, unless the content acted on contains obscene."),
    ("review post when not author.authorized", "Send to a person to decide a post when `author.authorized` is no."),
    ("review post when staffer and not (author.trained otherwise true)",
     "Send to a person to decide a post when “staffer” holds and `author.trained` (yes when the event does not "
     "say) is no."),
    ("deny account when account.website is missing or not (account.website contains site)",
     "Refuse an account when `account.website` is not given or `account.website` does not contain the parameter "
     "“site”."),
    ("review post when (has threat or has violence) and number of media >= 2",
     "Send to a person to decide a post when (the content contains threat or the content contains violence) and "
     "the number of `media` is at least 2."),
    ("review post when any links where it has threat", "Send to a person to decide a post when some item of "
     "`links` has: it contains threat."),
    ("remove comment when has such as obscene, threat but not off_topic",
     "Remove a comment when the content contains content such as obscene or threat (but not off topic) "
     "(other content of that kind goes to a person)."),
    ("review post when labelled defamation", "Send to a person to decide a post when the content is labelled "
     "defamation by a trusted upstream label."),
])
def test_each_construct_has_its_phrasing(source, expected):
    assert _said(source) == expected


def _paths(node: object, vocabulary: words.Vocabulary) -> set[str]:
    """Every event field path a condition reads (not the policy's own names, nor `it`)."""
    if isinstance(node, st.Path):
        named = len(node.parts) == 1 and (node.parts[0] in vocabulary.defines or node.parts[0] in vocabulary.params)
        return set() if named or node.parts == ("it",) else {node.dotted}
    found: set[str] = set()
    if isinstance(node, tuple):
        for item in node:
            found |= _paths(item, vocabulary)
    elif is_dataclass(node) and not isinstance(node, st.Has):
        for f in fields(node):
            found |= _paths(getattr(node, f.name), vocabulary)
    return found


@pytest.mark.parametrize("name", BUNDLED)
def test_every_field_a_bundled_rule_reads_is_named_in_its_words(name):
    policy = policykit.load(name)
    vocabulary = words.Vocabulary(frozenset(d.name for d in policy.doc.defines),
                                  frozenset(p.name for p in policy.doc.params))
    for rule in policy.doc.all_rules():
        said = words.decision(rule, vocabulary)
        for part in (rule.decision.when, rule.decision.unless):
            for path in _paths(part, vocabulary):
                assert f"`{path}`" in said, f"{name}: {path} missing from: {said}"
        for has in _categories(rule.decision.when) | _categories(rule.decision.unless):
            assert has.replace("_", " ") in said
        assert said.startswith(("Allow", "Refuse", "Remove", "Send to a person")) and said.endswith(".")


def _categories(node: object) -> set[str]:
    if isinstance(node, st.Has):
        return {name for name, _ in node.categories}
    found: set[str] = set()
    if isinstance(node, tuple):
        for item in node:
            found |= _categories(item)
    elif is_dataclass(node):
        for f in fields(node):
            found |= _categories(getattr(node, f.name))
    return found


_AT = Span("p.pol", 1, 1)
_paths_s = hyp.sampled_from(["author.role", "author.authorized", "account.official", "text", "media"]).map(
    lambda dotted: st.Path(tuple(dotted.split(".")), _AT))
_literals = hyp.one_of(hyp.booleans(), hyp.integers(0, 9), hyp.sampled_from(["staff", "x y"])).map(
    lambda v: st.Literal(v, _AT))
_leaves = hyp.one_of(
    _paths_s,
    hyp.builds(lambda p, v: st.Compare("is", p, v, _AT), _paths_s, _literals),
    hyp.builds(lambda p, v: st.Compare(">=", p, v, _AT), _paths_s, _literals),
    hyp.builds(lambda p, present: st.Presence(p, present, _AT), _paths_s, hyp.booleans()),
    hyp.builds(lambda c: st.Has(None, tuple((name, _AT) for name in c), _AT),
               hyp.lists(hyp.sampled_from(["threat", "hate_speech", "obscene"]), min_size=1, max_size=3, unique=True)),
)
_conditions = hyp.recursive(_leaves, lambda inner: hyp.one_of(
    hyp.builds(lambda a, b, op: st.BoolOp(op, a, b, _AT), inner, inner, hyp.sampled_from(["and", "or"])),
    hyp.builds(lambda a: st.Not(a, _AT), inner)), max_leaves=8)


@given(_conditions)
def test_any_condition_reads_aloud_naming_every_field_with_groups_kept(expr):
    said = words.condition(expr, words.Vocabulary())
    for path in _paths(expr, words.Vocabulary()):
        assert f"`{path}`" in said
    assert said.count("(") == said.count(")")
    if isinstance(expr, st.BoolOp):
        for side in (expr.left, expr.right):
            if isinstance(side, st.BoolOp) and side.op != expr.op:
                assert f"({words.condition(side, words.Vocabulary())})" in said
