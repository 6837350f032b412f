"""Plugins are contained: bad results, slow calls and meddling observers never allow silently (issue 14)."""

from __future__ import annotations

import time

import pytest

import policykit
from policykit import limits, plugins
from policykit.detectors import Hit
from policykit.hookspecs import hookimpl

# Clause 1 removes threats; its exception allows a quoted threat unless the widget detector flags it.
POLICY = '''policy contain "Containment"
clause 1 "Threats are removed, unless quoted from the news without widgets."
  rule threats:
    remove comment when has threat
  exception quoted to threats:
    allow comment when text contains "news:" unless has widget
clause 2 "Comments about widgets are reviewed."
  review comment when has widget
clause 3 "Scored comments are removed."
  remove comment when score(text) > 0.5
'''


class _Detector:
    name = "widget_finder"
    categories = frozenset({"widget"})

    def __init__(self, result=None, sleep=0.0):
        self.result, self.sleep = result, sleep

    def detect(self, text):
        if self.sleep:
            time.sleep(self.sleep)
        return self.result(text) if callable(self.result) else self.result


class _Plugin:
    def __init__(self, detector, score=lambda text: 0.0, observer=None):
        self.detector, self.score, self.observer = detector, score, observer

    @hookimpl
    def policykit_register_detectors(self):
        return [self.detector]

    @hookimpl
    def policykit_register_functions(self):
        return {"score": self.score}

    @hookimpl
    def policykit_observe_verdict(self, policy, event, verdict):
        if self.observer:
            self.observer(policy, event, verdict)


@pytest.fixture
def install():
    names: list[str] = []

    def add(plugin):
        names.append(plugins.register(plugin, name=f"hostile{len(names)}"))
        return policykit.compile_text(POLICY, "contain.pol")
    yield add
    for name in names:
        plugins.unregister(name=name)
    plugins._changed()


BAD_RESULTS = {
    "None": None,
    "a dict": {"widget": True},
    "a hit in an undeclared category": [Hit("obscene", 0, 4, "news", "widget_finder")],
    "a NaN score": [Hit("widget", 0, 4, "news", "widget_finder", float("nan"))],
    "offsets outside the text": [Hit("widget", 0, 10**9, "news", "widget_finder")],
    "an unserialisable match": [Hit("widget", 0, 4, object(), "widget_finder")],  # type: ignore[arg-type]
    "a string": "widget",
}

THREAT = {"kind": "comment", "text": "news: I will hurt you", "labels": ["threat"]}


@pytest.mark.parametrize("name", BAD_RESULTS)
def test_a_bad_detector_result_is_reported_and_never_turns_remove_into_allow(install, name):
    policy = install(_Plugin(_Detector(BAD_RESULTS[name])))
    verdict = policy.evaluate(THREAT)
    assert verdict.decision in ("review", "remove")
    assert any(e.source == "detector:widget_finder" for e in verdict.errors)
    verdict.model_dump_json()  # the verdict is still valid JSON
    plain = policy.evaluate({"kind": "comment", "text": "hello"})
    assert plain.decision == "review" and plain.errors


def test_a_good_detector_still_decides(install):
    policy = install(_Plugin(_Detector(lambda text: [])))
    assert policy.evaluate(THREAT).decision == "allow"  # the exception holds: quoted, no widget
    assert policy.evaluate({"kind": "comment", "text": "hello"}).decision == "allow"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [float("nan")], object(), {"a": 1}])
def test_a_function_returning_garbage_is_reported_and_review(install, value):
    policy = install(_Plugin(_Detector(lambda text: []), score=lambda text: value))
    verdict = policy.evaluate({"kind": "comment", "text": "hello"})
    assert verdict.decision == "review"
    assert any("score()" in e.message for e in verdict.errors)


def test_a_slow_plugin_is_reported_then_suspended(install):
    previous = limits.configure(plugin_budget=0.05, plugin_strikes=2, plugin_cooldown=60)
    try:
        policy = install(_Plugin(_Detector(lambda text: [], sleep=0.2)))
        started = time.perf_counter()
        verdicts = [policy.evaluate({"kind": "comment", "text": f"hello {i}"}) for i in range(10)]
        elapsed = time.perf_counter() - started
    finally:
        limits.restore(previous)
    assert all(v.decision == "review" for v in verdicts)
    assert "over its budget" in verdicts[0].errors[0].message
    assert "suspended" in verdicts[-1].errors[0].message
    assert elapsed < 0.2 * 4  # two slow calls, then skipped: not 10 × 0.2 s


def test_observers_cannot_change_the_verdict(install):
    def meddle(policy, event, verdict):
        verdict.findings.clear()
        verdict.errors.append("forged")
        object.__setattr__(verdict, "decision", "allow")

    policy = install(_Plugin(_Detector(lambda text: []), observer=meddle))
    verdict = policy.evaluate({"kind": "comment", "text": "I will hurt you", "labels": ["threat"]})
    assert verdict.decision == "remove" and verdict.findings and not verdict.errors
