"""A misbehaving plugin is reported, never silently ignored, and never takes policykit down."""

from __future__ import annotations

import logging

import pytest

import policykit
from policykit import plugins
from policykit.detectors import Hit
from policykit.hookspecs import hookimpl

POLICY = '''policy iso "Isolation"
clause 1 "Comments about widgets are reviewed."
  review comment when has widget
clause 2 "Shouting comments are removed."
  remove comment when shouting(text)
'''


class _Detector:
    name = "widget_finder"
    categories = frozenset({"widget"})

    def __init__(self, fail=False):
        self.fail = fail

    def detect(self, text):
        if self.fail:
            raise RuntimeError("widget model unavailable")
        return [Hit("widget", 0, 6, text[:6], self.name)] if text.startswith("widget") else []


class _Plugin:
    def __init__(self, detector=None, shouting=None, observer=None):
        self.detector, self.shouting, self.observer = detector, shouting, observer

    @hookimpl
    def policykit_register_detectors(self):
        return [self.detector] if self.detector else []

    @hookimpl
    def policykit_register_functions(self):
        return {"shouting": self.shouting} if self.shouting else {}

    @hookimpl
    def policykit_observe_verdict(self, policy, event, verdict):
        if self.observer:
            self.observer(policy, event, verdict)


def _compile():
    return policykit.compile_text(POLICY, "iso.pol")


def test_registered_detector_and_function_work(register):
    register(_Plugin(_Detector(), lambda text: text.isupper()), "good")
    policy = _compile()
    assert policy.evaluate({"kind": "comment", "text": "widget sale"}).decision == "review"
    assert policy.evaluate({"kind": "comment", "text": "STOP IT"}).decision == "remove"
    assert policy.evaluate({"kind": "comment", "text": "fine"}).decision == "allow"


def test_detector_that_raises_gives_error_and_review(register):
    register(_Plugin(_Detector(fail=True), lambda text: False), "bad_detector")
    verdict = _compile().evaluate({"kind": "comment", "text": "widget"})
    assert verdict.decision == "review"
    assert verdict.errors[0].source == "detector:widget_finder" and "unavailable" in verdict.errors[0].message


@pytest.mark.parametrize("shouting, words", [(lambda text: 1 / 0, "ZeroDivisionError"),
                                             (lambda text: object(), "returned object")])
def test_function_that_raises_or_returns_garbage_gives_error_and_review(register, shouting, words):
    register(_Plugin(_Detector(), shouting), "bad_function")
    verdict = _compile().evaluate({"kind": "comment", "text": "hello"})
    assert verdict.decision == "review"
    assert "shouting()" in verdict.errors[0].message and words in verdict.errors[0].message


def test_unknown_argument_makes_the_call_unknown_without_calling(register):
    calls = []
    register(_Plugin(_Detector(), lambda text: calls.append(text) or True), "counting")
    verdict = _compile().evaluate({"kind": "comment"})
    assert calls == [] and verdict.decision == "review" and not verdict.errors


def test_unknown_function_is_pk112_with_did_you_mean(register):
    register(_Plugin(_Detector(), lambda text: True), "spell")
    with pytest.raises(policykit.PolicyError) as caught:
        policykit.compile_text(POLICY.replace("shouting(text)", "shoutin(text)"), "iso.pol")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "PK112" and "shouting" in diagnostic.help


def test_duplicate_names_are_a_clear_error_naming_both_plugins(register):
    register(_Plugin(_Detector(), lambda text: True), "first")
    register(_Plugin(_Detector(), lambda text: True), "second")
    with pytest.raises(plugins.PluginConflict) as caught:
        plugins.functions()
    assert "'first'" in str(caught.value) and "'second'" in str(caught.value)
    with pytest.raises(plugins.PluginConflict, match="detector `widget_finder`"):
        _compile()


def test_broken_plugin_at_discovery_is_reported_and_skipped(register, capsys):
    class _EntryPoint:
        def __init__(self, name, target):
            self.name, self.target = name, target

        def load(self):
            if isinstance(self.target, Exception):
                raise self.target
            return self.target

    good = _Plugin(_Detector(), lambda text: False)
    problems = plugins.discover([_EntryPoint("broken_plugin", ImportError("No module named 'nope'")),
                                 _EntryPoint("fine_plugin", good)])
    try:
        assert [p.plugin for p in problems] == ["broken_plugin"] and "nope" in problems[0].message
        assert "broken_plugin" in [p.plugin for p in plugins.plugin_errors()]
        assert _compile().evaluate({"kind": "comment", "text": "widget"}).decision == "review"
        from policykit.cli import main
        assert main(["plugins"]) == 1
        assert "error: broken_plugin: could not be loaded (ImportError" in capsys.readouterr().out
    finally:
        plugins.unregister(name="fine_plugin")
        plugins._PROBLEMS[:] = [p for p in plugins._PROBLEMS if p.plugin != "broken_plugin"]


def test_observer_sees_verdicts_and_cannot_break_evaluation(register, caplog):
    seen = []
    register(_Plugin(_Detector(), lambda text: False, lambda p, e, v: seen.append(v.decision)), "watcher")
    register(_Plugin(observer=lambda p, e, v: 1 / 0), "crasher")
    before = plugins.observer_failures()
    with caplog.at_level(logging.WARNING, logger="policykit.plugins"):
        verdict = _compile().evaluate({"kind": "comment", "text": "widget"})
    assert verdict.decision == "review" and seen == ["review"]
    assert plugins.observer_failures() == before + 1
    assert "crasher" in caplog.text


def test_no_observer_means_the_flag_is_off(register):
    assert plugins.observing is False
    register(_Plugin(observer=lambda p, e, v: None), "obs")
    assert plugins.observing is True


def test_a_failing_function_is_reported_even_where_the_rule_needs_an_absent_category(register):
    """A rule that calls a plugin function is never skipped by category: skipping it would hide the
    failure (evaluate would say allow, explain would say review)."""
    register(_Plugin(_Detector(), lambda text: 1 / 0), "broken")
    policy = policykit.compile_text('policy f "F"\nclause 1 "Shouting threats are removed."\n'
                                    '  remove comment when shouting(author.name) and has threat\n', "f.pol")
    event = {"kind": "comment", "author": {"name": "bob"}}
    verdict = policy.evaluate(event)
    assert verdict.decision == "review" and verdict.errors
    assert verdict == policy.explain(event).verdict


class _ActionTypes:
    @hookimpl
    def policykit_register_action_types(self):
        return {"pin_comment": "a moderator pins a comment"}


def test_a_plugin_declares_action_types_policies_may_target(register):
    source = 'policy pins "Pins"\nclause 1 "Pinned comments are reviewed."\n  review action pin_comment\n'
    with pytest.raises(policykit.PolicyError, match="PK115"):
        policykit.compile_text(source, "pins.pol")
    register(_ActionTypes(), "pins")
    policy = policykit.compile_text(source, "pins.pol")
    assert policy.evaluate({"kind": "action", "action": {"type": "pin_comment"}}).decision == "review"
    assert any(row["action_types"] == ["pin_comment"] for row in plugins.list_plugins())
