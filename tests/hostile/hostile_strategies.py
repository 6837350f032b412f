"""Hypothesis strategies for hostile policies and events, shared by the suite's fuzz tests (small budget)
and benchmarks/fuzz.py (long runs)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

POLICIES = Path(__file__).resolve().parents[2] / "policies"

# Words and symbols of the language, and things that are almost them.
_WORDS = ["policy", "clause", "rule", "exception", "to", "define", "param", "set", "extends", "document",
          "effective", "until", "allow", "review", "remove", "deny", "comment", "post", "account", "action",
          "when", "unless", "and", "or", "not", "is", "in", "has", "such", "as", "labelled", "any", "all",
          "no", "where", "matches", "contains", "otherwise", "number", "of", "cite", "because", "then",
          "trust", "labels", "from", "above", "retain", "years", "after", "override", "text", "author.role",
          "author_history.removed_before", "profanity", "threat", "\"x\"", "\"unclosed", "/re(/", "/a+/",
          "2024-02-30", "2024-1-1", "99999999999999999999999", "1.5", "-3", "[", "]", "(", ")", ",", ":",
          "=", "<", ">=", "==", "\n", "\n  ", "\n    ", "\n\t", "#", "\x00", "\ud800", "é", "…", "\r\n",
          "\"../../etc/passwd\"", "\"/etc/passwd\""]

_LINES = [line for path in sorted(POLICIES.glob("*.pol")) for line in path.read_text().splitlines()[:400]]


def policy_texts() -> st.SearchStrategy[str]:
    """Token soup, real policy lines shuffled and cut, and deep or long nesting."""
    soup = st.lists(st.sampled_from(_WORDS), max_size=60).map(" ".join)
    real = st.lists(st.sampled_from(_LINES), min_size=1, max_size=30).map("\n".join)
    spliced = st.tuples(real, soup, real).map(lambda parts: "\n".join(parts))
    header = st.just('policy p "T"\nclause 1 "x"\n  deny comment when ')
    nested = st.tuples(header, st.sampled_from(["not ", "(", "[", "has profanity and ", "text in ["]),
                       st.integers(0, 2000)).map(lambda t: t[0] + t[1] * t[2] + "has profanity\n")
    return st.one_of(soup, real, spliced, nested, st.text(max_size=200))


_FIELDS = ["kind", "id", "text", "labels", "links", "media", "author", "account", "context", "extra", "at",
           "action", "type", "target", "name", "score", "source", "url", "role", "removed_before",
           "author_history", "credential_holders", "emergency", "official", "quotes", "platform"]
_HOSTILE_STRINGS = ["", "comment", "post", "account", "action", "reply", "profanity", "threat", "obscen",
                    "\ud800", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2024-02-30",
                    "http://x", "a" * 5000, "fuck you", "public", "staff"]
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**400), max_value=10**400),
                     st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(_HOSTILE_STRINGS),
                     st.text(max_size=30))


def _value(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.lists(children, max_size=5),
                     st.dictionaries(st.sampled_from(_FIELDS) | st.text(max_size=5), children, max_size=5))


def events() -> st.SearchStrategy:
    """Event-shaped dicts with hostile values, deep values, and JSON text of them."""
    values = st.recursive(_SCALARS, _value, max_leaves=30)
    shaped = st.fixed_dictionaries({"kind": st.sampled_from(["comment", "post", "account", "action", "x"])},
                                   optional={f: values for f in _FIELDS if f != "kind"})
    deep = st.tuples(st.sampled_from(["text", "extra", "labels", "action"]), st.integers(0, 3000)).map(
        lambda t: {"kind": "comment", t[0]: _deep(t[1])})
    return st.one_of(shaped, deep, values)


def _deep(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value
