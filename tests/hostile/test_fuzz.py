"""Fuzzers at a small budget: policies only ever fail with PolicyError, events with EventError.

benchmarks/fuzz.py runs the same strategies for minutes and prints what it finds.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import policykit
from policykit.errors import EventError, PolicyError

from hostile_strategies import events, policy_texts

FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
POLICIES = [policykit.load(name) for name in ("clinton", "cottonwood", "minnesota_model", "nyc", "syracuse")]


@FUZZ
@given(policy_texts())
def test_fuzzed_policies_fail_only_with_diagnostics(text):
    try:
        policy = policykit.compile_text(text, "fuzz.pol")
    except PolicyError as exc:
        assert exc.diagnostics and all(d.line >= 1 and d.column >= 1 and d.code.startswith("PK")
                                       for d in exc.diagnostics)
        return
    policy.evaluate({"kind": "comment", "text": "hello"})


@FUZZ
@given(events())
def test_fuzzed_events_fail_only_with_event_errors(event):
    for policy in POLICIES:
        try:
            verdict = policy.evaluate(event)
        except EventError as exc:
            assert len(str(exc)) < 2000
            continue
        verdict.model_dump_json()


@pytest.mark.parametrize("text", ["policy p", "policy", "policy p \"T\"\n  extends \"/dev/zero\"\n",
                                  'policy p "T"\n  extends p\n', "\ufeffpolicy p \"T\"\n", "policy p \"T\"\r\n"])
def test_odd_policy_headers_are_diagnostics(text):
    try:
        policykit.compile_text(text, "odd.pol")
    except PolicyError as exc:
        assert exc.diagnostics
