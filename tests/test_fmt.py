"""`policykit fmt`: idempotent, comment-preserving, and never changes what a policy means."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings, strategies as hs

import policykit
from policykit.fmt import format_text

from test_properties import event_spec, meaning, policy_spec, render

ROOT = Path(__file__).resolve().parent.parent


@settings(max_examples=60, deadline=None)
@given(policy_spec, hs.lists(event_spec, min_size=1, max_size=4), hs.integers(1, 6), hs.booleans(), hs.booleans(),
       hs.booleans())
def test_fmt_keeps_meaning_and_is_idempotent(spec, events, indent, blank, comments, wrap):
    source = render(spec, indent, blank, comments, wrap)
    formatted = format_text(source)
    assert format_text(formatted) == formatted
    assert meaning(policykit.compile_text(source, "a.pol"), events) == \
        meaning(policykit.compile_text(formatted, "a.pol"), events)
    assert [l.strip() for l in source.splitlines() if l.strip().startswith("#")] == \
        [l.strip() for l in formatted.splitlines() if l.strip().startswith("#")]


def test_fmt_canonical_layout() -> None:
    messy = ('policy p "P"   \n      version "1"\n\n\n\n# about clause 1\nclause 1 "a"\n'
             '        remove comment when has profanity   # trailing\n'
             '                because "x"\n        # a note inside clause 1\n\n\n# section\nclause 2 "b"\n'
             '   not checkable because "y"\n')
    assert format_text(messy) == (
        'policy p "P"\n  version "1"\n\n# about clause 1\nclause 1 "a"\n'
        '  remove comment when has profanity   # trailing\n    because "x"\n  # a note inside clause 1\n\n'
        '# section\nclause 2 "b"\n  not checkable because "y"\n')


def test_bundled_policies_are_formatted() -> None:
    unformatted = [p.name for p in (ROOT / "policies").glob("*.pol")
                   if format_text(p.read_text(encoding="utf-8")) != p.read_text(encoding="utf-8")]
    assert unformatted == []
