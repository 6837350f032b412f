"""The example plugin, installed as a real package, proves every hook end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import policykit
from policykit import plugins
from policykit.cli import main
from policykit.platforms import from_platform
from policykit.testing import run_file

REPLY = {"type": "reply", "post": {"id": "nb-9", "body": "Somebody dumped tires by the creek, illegal dumping again",
                                   "created": "2024-05-01T10:00:00Z",
                                   "author": {"id": "u7", "display_name": "Sam"}}}


def test_entry_point_plugin_registers_every_hook(springfield):
    rows = {row["name"]: row for row in plugins.list_plugins()}
    row = rows["springfield"]
    assert row["jurisdictions"] == ["springfield"]
    assert row["platforms"] == ["neighborboard"]
    assert row["detectors"] == ["springfield_litter"]
    assert row["functions"] == ["word_count"]
    assert row["version"] == "0.1.0"
    assert not [p for p in plugins.plugin_errors() if p.plugin == "springfield"]


def test_jurisdiction_loads_by_name_with_params(springfield):
    assert "springfield" in policykit.policies()
    policy = policykit.load("springfield")
    assert policy.jurisdiction == "Springfield County" and policy.params["max_words"] == 250
    assert policykit.load("springfield", params={"max_words": 3}).params["max_words"] == 3


def test_plugin_detector_category_and_function_in_conditions(springfield):
    verdict = policykit.evaluate({"kind": "comment", "text": "Illegal dumping behind the library"}, policy="springfield")
    assert verdict.decision == "review"
    finding = verdict.findings[0]
    assert finding.rule == "springfield_litter" and finding.evidence[0].detector == "springfield_litter"
    assert [o.action for o in verdict.obligations] == ["refer"]
    short = policykit.load("springfield", params={"max_words": 3})
    assert short.evaluate({"kind": "comment", "text": "one two three four"}).findings[0].rule == "springfield_long_comment"
    assert short.evaluate({"kind": "comment", "text": "one two three"}).decision == "allow"


def test_policy_tests_shipped_with_the_plugin_pass(springfield):
    results = run_file(Path(springfield.__file__).parent / "springfield.tests.yaml")
    assert results and all(r.passed for r in results), [(r.name, r.problems) for r in results if not r.passed]


def test_plugin_platform_through_from_platform(springfield):
    (event,) = from_platform("neighborboard", REPLY)
    assert event["kind"] == "comment" and event["platform"] == "neighborboard"
    assert policykit.evaluate(event, policy="springfield").decision == "review"


def test_cli_check_policies_and_plugins(springfield, tmp_path, capsys):
    payload = tmp_path / "reply.json"
    payload.write_text(json.dumps(REPLY))
    assert main(["check", "--policy", "springfield", "--platform", "neighborboard", "--format", "jsonl",
                 str(payload)]) == 0
    verdict = json.loads(capsys.readouterr().out.strip())
    assert verdict["decision"] == "review" and verdict["policy"]["name"] == "springfield"
    assert main(["policies"]) == 0
    assert "Springfield County" in capsys.readouterr().out
    main(["plugins"])
    out = capsys.readouterr().out
    assert "springfield 0.1.0" in out and "neighborboard" in out and "word_count" in out


def test_fresh_process_discovers_the_installed_plugin(springfield):
    done = subprocess.run([sys.executable, "-m", "policykit.cli", "plugins", "--format", "json"],
                          capture_output=True, text=True, timeout=60)
    names = [row["name"] for row in json.loads(done.stdout)["plugins"]]
    assert "springfield" in names
