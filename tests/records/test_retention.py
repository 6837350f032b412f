"""Retention rules, holds, and purges that keep the chain verifiable."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from policykit.records import RetentionRule, export_rows, open_archive

from conftest import comment, run_cli

NOW = datetime(2031, 6, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, expected", [
    ("permanently", "permanently"),
    ("retain permanently", "permanently"),
    ("7 years", "7 years after recorded"),
    ("90 days after event", "90 days after event"),
    ("1 year after publication", "1 year after event"),
    ("until read", "until read"),
    ("only until read", "until read"),
    ("30 days after read", "30 days after read"),
    ("6 months after last activity", "6 months after recorded"),
    ("until read unless context.emergency", "until read unless context.emergency"),
])
def test_rules_parse(text, expected):
    assert str(RetentionRule.parse(text)) == expected


def test_bad_rule_is_rejected():
    with pytest.raises(ValueError, match="not understood"):
        RetentionRule.parse("until the cows come home")


def test_cutoffs():
    assert RetentionRule.parse("permanently").cutoff(NOW) is None
    assert RetentionRule.parse("7 years").cutoff(NOW) == datetime(2024, 6, 1, tzinfo=timezone.utc)
    assert RetentionRule.parse("90 days").cutoff(NOW) == NOW - timedelta(days=90)
    leap = datetime(2024, 2, 29, tzinfo=timezone.utc)
    assert RetentionRule.parse("1 year").cutoff(leap) == datetime(2023, 2, 28, tzinfo=timezone.utc)


def _old_and_new(a):
    a.record(comment(1, text="old comment", author="u1", at="2020-01-01T00:00:00Z"))
    a.record(comment(2, text="old comment by a held author", author="u2", at="2020-01-01T00:00:00Z"))
    a.record(comment(3, text="recent comment", author="u1", at="2031-05-30T00:00:00Z"))


def test_permanent_retention_erases_nothing(archive_url):
    with open_archive(archive_url) as a:
        _old_and_new(a)
        report = a.apply_retention(RetentionRule.permanent(), now=NOW)
        assert report.purged_records == 0 and a.count() == 3


def test_expired_content_is_erased_except_under_hold(archive_url):
    with open_archive(archive_url) as a:
        _old_and_new(a)
        hold = a.place_hold("litigation hold", author="u2")
        report = a.apply_retention(RetentionRule.parse("7 years after event"), now=NOW)
        assert (report.expired, report.held, report.purged_items) == (2, 1, 1)
        assert report.held_items == ["facebook:c2"]
        assert a.get(1).purged and not a.get(2).purged and not a.get(3).purged
        purge = a.get(report.record)
        assert purge.kind == "purge" and purge.content()["records"] == [[1, 1]]
        result = a.verify()
        assert result.ok and result.purged == 1, result.problem
        rows = list(export_rows(a))
        assert [r["purged"] for r in rows] == [True, False, False]
        assert rows[0]["text"] is None and rows[0]["key"] == "facebook:c1"
        # releasing the hold lets the rule apply
        a.release_hold(hold.id)
        report = a.apply_retention(RetentionRule.parse("7 years after event"), now=NOW)
        assert report.purged_items == 1 and a.get(2).purged
        assert a.verify().ok


def test_until_read_waits_for_the_read_mark(archive_url):
    with open_archive(archive_url) as a:
        _old_and_new(a)
        rule = RetentionRule.parse("until read", source="minnesota_model")
        assert a.apply_retention(rule).purged_items == 0  # nothing read yet
        a.mark_read("facebook:c3", by="clerk")
        report = a.apply_retention(rule, now=datetime.now(timezone.utc) + timedelta(seconds=1))
        assert report.purged_items == 1 and a.get(3).purged and not a.get(1).purged
        assert a.verify().ok


def test_dry_run_changes_nothing(archive_url):
    with open_archive(archive_url) as a:
        _old_and_new(a)
        report = a.apply_retention(RetentionRule.parse("1 year after event"), now=NOW, dry_run=True)
        assert report.purged_items == 2 and report.record is None
        assert a.count() == 3 and not a.get(1).purged


def test_cli_retain_hold_release(tmp_path):
    path = str(tmp_path / "a.db")
    with open_archive(path) as a:
        _old_and_new(a)
    proc = run_cli("records", "hold", "--archive", path, "--item", "facebook:c1", "--reason", "FOIL 2031-7")
    assert proc.returncode == 0 and "hold 4 placed" in proc.stdout
    proc = run_cli("records", "retain", "--archive", path, "--keep", "1 year after event", "--now", "2031-06-01")
    assert proc.returncode == 0, proc.stderr
    assert "2 item(s) expired, 1 kept under hold" in proc.stdout
    proc = run_cli("records", "holds", "--archive", path)
    assert '"reason": "FOIL 2031-7"' in proc.stdout
    proc = run_cli("records", "release", "--archive", path, "4")
    assert proc.returncode == 0
    proc = run_cli("records", "retain", "--archive", path, "--keep", "forever and ever")
    assert proc.returncode == 2 and "not understood" in proc.stderr
    proc = run_cli("records", "verify", "--archive", path)
    assert proc.returncode == 0 and proc.stdout.startswith("ok:")


def test_unless_keeps_what_happened_during_a_disaster(archive_url):
    """Minnesota: messages are kept only until read, but business done during a disaster is kept."""
    rule = RetentionRule.parse("until read unless context.emergency", source="minnesota_model")
    assert str(rule) == "until read unless context.emergency"
    with open_archive(archive_url) as a:
        a.record(comment(1, text="Is the shelter open?", context={"emergency": True}))
        a.record(comment(2, text="Nice park"))
        a.mark_read("facebook:c1")
        a.mark_read("facebook:c2")
        report = a.apply_retention(rule, now=datetime.now(timezone.utc) + timedelta(seconds=1))
        assert (report.exempt, report.purged_items) == (1, 1)
        assert not a.get(1).purged and a.get(2).purged
        assert a.verify().ok
