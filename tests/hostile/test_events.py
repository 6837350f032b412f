"""Hostile events are EventErrors naming the field, never another exception (issue 14)."""

from __future__ import annotations

import json

import pytest

import policykit
from policykit import limits
from policykit.models import parse_event


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _nested_dicts(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


POISON = {
    "labels is a number": ({"kind": "comment", "labels": 5}, "labels"),
    "links is a number": ({"kind": "comment", "links": 5}, "links"),
    "text nested 1,000 deep": ({"kind": "comment", "text": _nested(1000)}, "text"),
    "extra nested 100,000 deep": ({"kind": "comment", "extra": {"x": _nested(100_000)}}, "extra.x"),
    "objects nested deep in extra": ({"kind": "comment", "extra": _nested_dicts(5000)}, "extra.a.a.a.a.a.a.a.a.a.a.a"
                                     ".a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a"),
    "a huge list as text": ({"kind": "comment", "text": list(range(100_000))}, "text"),
    "an unknown label": ({"kind": "comment", "labels": ["obscen"]}, "labels[0]"),
    "a time that overflows in UTC": ({"kind": "comment", "at": "9999-12-31T23:59:59-23:59"}, "at"),
    "a time before year 1 in UTC": ({"kind": "comment", "at": "0001-01-01T00:00:00+23:59"}, "at"),
    "a lone surrogate": ({"kind": "comment", "text": "ok \ud800 ok"}, "text"),
    "a lone surrogate in a label": ({"kind": "comment", "labels": [{"name": "threat", "source": "\udfff"}]},
                                    "labels[0].source"),
    "an integer of 4,301 digits": ({"kind": "comment", "author_history": {"removed_before": 10**4300}},
                                   "author_history.removed_before"),
    "an integer past 2**53": ({"kind": "account", "account": {"credential_holders": 2**60}},
                              "account.credential_holders"),
    "a NaN score": ({"kind": "comment", "labels": [{"name": "threat", "score": float("nan")}]}, "labels[0].score"),
    "an infinite number in extra": ({"kind": "comment", "extra": {"n": float("inf")}}, "extra.n"),
    "text of 20 MiB": ({"kind": "comment", "text": "a" * (20 * 2**20)}, "text"),
    "a million labels": ({"kind": "comment", "labels": ["threat"] * 1_000_000}, "labels"),
    "many small lists": ({"kind": "comment", "extra": {str(i): [1] * 9000 for i in range(20)}}, "extra.*"),
    "a target nested too deep": ({"kind": "action", "action": {"type": "reply", "target": {
        "kind": "comment", "extra": {"x": _nested(50)}}}}, "action.target.extra.x"),
    "a huge key": ({"kind": "comment", "extra": {"k" * 200_000: 1}}, "extra"),
    "not an object": ([1, 2, 3], ""),
    "an integer of 5,000 digits as the event": (10**5000, ""),
    "an integer of 5,000 digits as a list item": ({"kind": "comment", "extra": {"n": [10**5000]}}, "extra.n[0]"),
}


@pytest.mark.parametrize("name", POISON)
def test_poison_event_is_an_event_error_naming_the_field(name):
    event, path = POISON[name]
    with pytest.raises(policykit.EventError) as caught:
        policykit.evaluate(event, policy="clinton")
    found = caught.value.path
    assert found.startswith(path[:-1]) if path.endswith("*") else found == path
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize("policy", policykit.policies())
def test_every_policy_refuses_poison_the_same_way(policy):
    with pytest.raises(policykit.EventError) as caught:
        policykit.load(policy).evaluate({"kind": "comment", "text": "\ud800"})
    assert caught.value.path == "text"


def test_the_error_names_the_limit_to_change():
    with pytest.raises(policykit.EventError) as caught:
        parse_event({"kind": "comment", "text": "a" * 100_001})
    assert "max_text" in str(caught.value) and "100,000" in str(caught.value)


def test_limits_are_configurable_and_restored():
    previous = limits.configure(max_text=200_000)
    try:
        assert parse_event({"kind": "comment", "text": "a" * 150_000}).text
    finally:
        limits.restore(previous)
    with pytest.raises(policykit.EventError):
        parse_event({"kind": "comment", "text": "a" * 150_000})


@pytest.mark.parametrize("bad", [{"max_txt": 5}, {"max_text": 0}, {"max_text": "big"}, {"max_depth": True}])
def test_a_bad_limit_is_refused(bad):
    with pytest.raises((TypeError, ValueError)):
        limits.configure(**bad)
    assert limits.current() == limits.Limits()


JSON_POISON = {
    "an integer of 5,000 digits": '{"kind": "comment", "author_history": {"removed_before": ' + "9" * 5000 + "}}",
    "a lone surrogate escape": '{"kind": "comment", "text": "\\ud800"}',
    "nested 100,000 deep": '{"kind": "comment", "extra": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}",
    "not JSON": "{kind: comment",
    "not UTF-8": b'{"kind": "comment", "text": "\xff"}',
    "a JSON list": "[1, 2]",
    "empty": "",
}


@pytest.mark.parametrize("name", JSON_POISON)
def test_json_text_is_accepted_and_its_poison_is_an_event_error(name):
    with pytest.raises(policykit.EventError) as caught:
        policykit.load("nyc").evaluate(JSON_POISON[name])
    assert len(str(caught.value)) < 400


def test_json_text_is_judged_like_the_dict_it_holds():
    event = {"kind": "comment", "text": "You are an idiot", "labels": ["harassment"]}
    policy = policykit.load("clinton")
    expected = policy.evaluate(event).model_dump(mode="json")
    assert policy.evaluate(json.dumps(event)).model_dump(mode="json") == expected
    assert policy.evaluate(json.dumps(event).encode()).model_dump(mode="json") == expected


def test_evaluate_many_names_the_poison_events_index():
    events = [{"kind": "comment", "text": "fine"}, {"kind": "comment", "text": "\ud800"}]
    with pytest.raises(policykit.EventError) as caught:
        list(policykit.load("nyc").evaluate_many(events))
    assert caught.value.index == 1 and caught.value.path == "text"
