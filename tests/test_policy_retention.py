"""`retain …` in a policy's header: parsed, checked, compiled to `policy.retention`, inherited, applied."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import policykit
from policykit.records import RetentionRule, open_archive

ROOT = Path(__file__).resolve().parent.parent

CLAUSES = '''
clause 6.4 "Records are subject to City retention schedules."
  not checkable because "defers to the schedules"
clause 6.4.1 "The City archives all posts."
  not checkable because "says who archives"
'''


def policy_with(*header: str, name: str = "demo") -> str:
    return f'policy {name} "Demo"\n' + "".join(f"  {line}\n" for line in header) + CLAUSES


def diagnostics(text: str, file: str = "demo.pol") -> list:
    with pytest.raises(policykit.PolicyError) as info:
        policykit.compile_text(text, file)
    return info.value.diagnostics


@pytest.mark.parametrize("line, rule", [
    ("retain permanently cite 6.4.1", "permanently"),
    ("retain 7 years cite 6.4", "7 years after recorded"),
    ("retain 90 days after event cite 6.4", "90 days after event"),
    ("retain 1 year after publication cite 6.4", "1 year after event"),
    ("retain until read cite 6.4", "until read"),
    ("retain only until read unless context.emergency cite 6.4, 6.4.1", "until read unless context.emergency"),
    ("retain 30 days after read cite 6.4", "30 days after read"),
])
def test_retain_line_compiles_to_the_archive_rule(line, rule):
    policy = policykit.compile_text(policy_with(line), "demo.pol")
    assert isinstance(policy.retention, RetentionRule)
    assert str(policy.retention) == rule
    # the same words mean the same rule to `policykit records retain --keep`
    assert str(RetentionRule.parse(line.split(" cite ")[0])) == rule
    assert policy.retention.source == "demo"
    assert policy.retention.cites[0].startswith("demo 6.4")


def test_a_policy_without_retain_has_no_retention():
    assert policykit.compile_text(policy_with(), "demo.pol").retention is None


def test_the_bundled_policies_encode_what_their_documents_say():
    found = {name: policykit.load(name).retention for name in
             ("syracuse", "nyc", "clinton", "cottonwood", "minnesota_model")}
    assert {name: str(rule) for name, rule in found.items()} == {
        "syracuse": "permanently", "nyc": "permanently", "clinton": "permanently", "cottonwood": "permanently",
        "minnesota_model": "until read unless context.emergency"}
    assert found["minnesota_model"].cites == ("minnesota_model data.3",)
    assert found["cottonwood"].cites == ("cottonwood 6.4.1", "cottonwood 6.4")
    clause = policykit.load("minnesota_model").clauses["data.3"]
    assert "retain all social media messages only until read" in clause.text


@pytest.mark.parametrize("line, code, column, words", [
    ("retain 7 fortnights cite 6.4", "PK113", 12, "unknown unit `fortnights`"),
    ("retain -3 years cite 6.4", "PK113", 10, "cannot be negative"),
    ("retain 2.5 years cite 6.4", "PK113", 10, "whole number"),
    ("retain 7 years after lunch cite 6.4", "PK113", 24, "unknown starting point `after lunch`"),
    ("retain until the cows come home cite 6.4", "PK002", None, ""),
    ("retain indefinitely cite 6.4", "PK113", 3, "not understood"),
    ("retain 7 years", "PK204", 3, "`retain` cites no clause"),
    ("retain 7 years cite 9.9", "PK203", 23, "no clause `9.9`"),
    ("retain until read unless context.emergencyy cite 6.4", "PK102", 28, "has no field `emergencyy`"),
    ("retain until read unless text cite 6.4", "PK103", 28, "not a yes/no field"),
])
def test_bad_retention_is_a_diagnostic_with_position_code_and_help(line, code, column, words):
    found = diagnostics(policy_with(line))
    assert [d.code for d in found] == [code], [str(d) for d in found]
    d = found[0]
    assert d.file == "demo.pol" and d.line == 2
    if column is not None:
        assert d.column == column
    assert words in d.message
    if code == "PK113":
        assert d.help


def test_two_retain_lines_are_refused():
    found = diagnostics(policy_with("retain permanently cite 6.4.1", "retain 7 years cite 6.4"))
    assert [(d.code, d.line) for d in found] == [("PK113", 3)]
    assert "second `retain`" in found[0].message and "demo.pol:2:3" in found[0].message


def test_extends_inherits_or_overrides_retention(tmp_path):
    (tmp_path / "parent.pol").write_text(policy_with("retain 7 years cite 6.4", name="parent"))
    inherit = tmp_path / "inherit.pol"
    inherit.write_text('policy inherit "Child"\n  extends "parent.pol"\n')
    override = tmp_path / "override.pol"
    override.write_text('policy override "Child"\n  extends "parent.pol"\n  retain permanently cite 6.4.1\n')
    got = policykit.load(str(inherit)).retention
    assert (str(got), got.source, got.cites) == ("7 years after recorded", "parent", ("parent 6.4",))
    got = policykit.load(str(override)).retention
    assert (str(got), got.source, got.cites) == ("permanently", "override", ("parent 6.4.1",))
    # the bundled example: Lakeville adopts the League model and with it Minnesota's rule
    assert str(policykit.load(str(ROOT / "examples" / "lakeville.pol")).retention) == \
        "until read unless context.emergency"


def test_the_retain_line_changes_the_policy_digest():
    a = policykit.compile_text(policy_with("retain permanently cite 6.4.1"), "demo.pol")
    b = policykit.compile_text(policy_with("retain 7 years cite 6.4"), "demo.pol")
    assert a.digest != b.digest


def _comment(i: int, **more) -> dict:
    ev = {"kind": "comment", "id": f"c{i}", "platform": "facebook", "at": "2024-05-01T10:00:00Z",
          "text": f"comment {i}", "author": {"id": f"u{i}"}}
    ev.update(more)
    return ev


def test_the_archive_applies_the_policys_own_rule_and_never_erases_a_held_item(tmp_path):
    """Minnesota: messages are kept only until read, except business done during a disaster, and
    nothing under a hold is ever erased."""
    minnesota = policykit.load("minnesota_model")
    later = datetime.now(timezone.utc) + timedelta(seconds=1)
    with open_archive(str(tmp_path / "a.db")) as a:
        a.record(_comment(1))
        a.record(_comment(2, context={"emergency": True}))
        a.record(_comment(3))
        a.record(_comment(4))
        for key in ("facebook:c1", "facebook:c2", "facebook:c3"):
            a.mark_read(key, by="clerk")
        a.place_hold("data practices request 24-7", subject="facebook:c3")
        report = a.apply_retention(policy=minnesota, now=later)
        assert (report.rule, report.expired, report.exempt, report.held) == (
            "until read unless context.emergency", 3, 1, 1)
        assert report.purged_items == 1 and report.held_items == ["facebook:c3"]
        by_subject = {r.subject: r for r in a.records(kind="event")}
        assert by_subject["facebook:c1"].purged                 # read: erased
        assert not by_subject["facebook:c2"].purged             # read, but during a disaster
        assert not by_subject["facebook:c3"].purged             # read, but on hold
        assert not by_subject["facebook:c4"].purged             # not read yet
        purge = a.get(report.record).content()
        assert purge["policy"] == "minnesota_model" and purge["rule"]["cites"] == ["minnesota_model data.3"]
        assert a.verify().ok
        # a permanent policy erases nothing
        assert a.apply_retention(policy=policykit.load("clinton"), now=later).purged_records == 0


def test_a_policy_without_retention_cannot_drive_the_retention_pass(tmp_path):
    from policykit.records import ArchiveError

    with open_archive(str(tmp_path / "a.db")) as a, pytest.raises(ArchiveError, match="declares no retention"):
        a.apply_retention(policy=policykit.compile_text(policy_with(), "demo.pol"))


def test_cli_retain_with_the_policys_rule(tmp_path):
    db = str(tmp_path / "a.db")
    with open_archive(db) as a:
        a.record(_comment(1))
        a.mark_read("facebook:c1")
    later = (datetime.now(timezone.utc) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    proc = subprocess.run([sys.executable, "-m", "policykit.cli_records", "records", "retain", "--archive", db,
                           "--policy", "minnesota_model", "--now", later], capture_output=True, text=True,
                          cwd=str(ROOT), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("retention until read unless context.emergency")
    assert "erased the content of 1 item(s)" in proc.stdout


def test_cli_retain_refuses_a_policy_that_declares_no_retention(tmp_path):
    db = str(tmp_path / "a.db")
    open_archive(db).close()
    pol = tmp_path / "silent.pol"
    pol.write_text(policy_with(name="silent"))
    proc = subprocess.run([sys.executable, "-m", "policykit.cli_records", "records", "retain", "--archive", db,
                           "--policy", str(pol)], capture_output=True, text=True, cwd=str(ROOT), timeout=120)
    assert proc.returncode == 2 and "declares no retention" in proc.stderr and "Traceback" not in proc.stderr
