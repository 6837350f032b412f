"""Hostile events are EventErrors naming the field, never another exception (issue 14, first part)."""

from __future__ import annotations

import pytest

import policykit

def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


POISON = {
    "labels is a number": ({"kind": "comment", "labels": 5}, "labels"),
    "links is a number": ({"kind": "comment", "links": 5}, "links"),
    "text nested 1,000 deep": ({"kind": "comment", "text": _nested(1000)}, "text"),
    "a huge list as text": ({"kind": "comment", "text": list(range(100_000))}, "text"),
    "an unknown label": ({"kind": "comment", "labels": ["obscen"]}, "labels[0]"),
}


@pytest.mark.parametrize("name", POISON)
def test_poison_event_is_an_event_error_naming_the_field(name):
    event, path = POISON[name]
    with pytest.raises(policykit.EventError) as caught:
        policykit.evaluate(event, policy="clinton")
    assert caught.value.path == path
    assert len(str(caught.value)) < 400
