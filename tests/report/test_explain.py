"""`policykit explain`: the path to one decision, and what each missing fact would change."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import policykit
from policykit.report.explain import explain_decision, render

ROOT = Path(__file__).resolve().parents[2]
POLICY = '''policy p "P"
clause 1 "Comments may not be deleted."
  rule no_deleting:
    deny action delete_comment
clause 2 "Threats may be deleted by authorized staff."
  exception threats_go to no_deleting:
    allow action delete_comment when target has threat and actor.authorized
clause 3 "Staff must say which office they hold."
  rule office_given:
    review action delete_comment when actor.role is "staff" and actor.office is missing
'''


def _explain(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "policykit.cli", "explain", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_a_defeat_is_told_with_the_exception_that_won():
    policy = policykit.compile_text(POLICY, "p.pol")
    event = {"kind": "action", "action": {"type": "delete_comment", "target": {"kind": "comment", "text": "x",
             "labels": ["threat"]}}, "actor": {"authorized": True, "role": "public"}}
    text = render(explain_decision(policy, event), "e")
    assert "→ ALLOW" in text
    assert "✓ threats_go → allow" in text and "defeats no_deleting (§1)" in text
    assert "✗ no_deleting: by exception threats_go" in text
    assert "Did not fire: office_given." in text


def test_each_missing_fact_is_tried_and_its_decision_said():
    policy = policykit.compile_text(POLICY, "p.pol")
    event = {"kind": "action", "action": {"type": "delete_comment", "target": {"kind": "comment", "text": "x",
             "labels": ["threat"]}}, "actor": {"role": "public"}}
    path = explain_decision(policy, event)
    assert path.verdict.decision == "review"  # the exception may or may not apply: a person decides
    [authorized] = path.missing
    assert authorized.name == "actor.authorized"
    assert [(t.value, t.decision) for t in authorized.tries] == [(True, "allow"), (False, "deny")]
    text = render(path, "e")
    assert "~ no_deleting: exception threats_go may apply" in text
    assert "? threats_go: missing: actor.authorized" in text
    assert "actor.authorized (yes/no)" in text
    assert "if true: allow (rule threats_go) — changes the decision" in text
    assert "if false: deny (rule no_deleting) — changes the decision" in text


def test_a_field_with_a_fixed_set_of_values_is_tried_with_each():
    policy = policykit.compile_text(POLICY, "p.pol")
    event = {"kind": "action", "action": {"type": "delete_comment", "target": {"kind": "comment", "text": "x",
             "labels": ["threat"]}}, "actor": {"authorized": True}}
    facts = {f.name: f for f in explain_decision(policy, event).missing}
    tries = {t.value: t.decision for t in facts["actor.role"].tries}
    assert tries["staff"] == "review" and tries["public"] == "allow" and len(tries) >= 5
    assert facts["actor.office"].tries == () and "cannot be tried" in facts["actor.office"].note


def test_a_parameter_left_blank_says_how_to_fill_it():
    policy = policykit.load("clinton")
    text = render(explain_decision(policy, {"kind": "account", "account": {"platform": "instagram"}}), "e")
    assert "param:approved_networks (a parameter of the policy)" in text
    assert "--param approved_networks=VALUE" in text


def test_the_command_reads_a_file_or_stdin_and_refuses_bad_input(tmp_path):
    event = {"kind": "comment", "text": "what the hell", "author_history": {"removed_before": 0}}
    result = _explain("clinton", "-", stdin=json.dumps(event))
    assert result.returncode == 0, result.stderr
    assert "[clinton] → REMOVE" in result.stdout and "profane_content → remove" in result.stdout
    assert "Decision: remove" in result.stdout
    many = _explain("clinton", "examples/events/comments.yaml")
    assert many.returncode == 2 and "--all" in many.stderr
    every = _explain("clinton", "examples/events/comments.yaml", "--all")
    assert every.returncode == 0 and every.stdout.count("[clinton] →") >= 4
    bad = _explain("clinton", "-", stdin='{"kind": "comment", "text": 5}')
    assert bad.returncode == 2 and "MALFORMED EVENT: text:" in bad.stdout and "Traceback" not in bad.stderr
    missing = _explain("clinton", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_both_commands_have_help_with_an_example():
    for command in ("report", "explain"):
        result = subprocess.run([sys.executable, "-m", "policykit.cli", command, "--help"], capture_output=True,
                                text=True, cwd=ROOT, timeout=120)
        assert result.returncode == 0 and "example:" in result.stdout
