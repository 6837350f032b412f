"""The moderation session against the real bundled Clinton policy, on both backends."""

from __future__ import annotations

import json

import pytest

import policykit
from policykit.moderator import Moderator
from policykit.records import ArchiveError, open_archive

from conftest import comment

PROFANE = "what the hell is this"
FINE = "Thanks for fixing the park lights."


@pytest.fixture
def mod(archive_url, clinton):
    m = Moderator(clinton, open_archive(archive_url))
    yield m
    m.archive.close()


def test_handle_evaluates_records_and_returns_the_verdict(mod, clinton):
    verdict = mod.handle(comment(1, text=FINE))
    assert isinstance(verdict, policykit.Verdict) and verdict.decision == "allow"
    kinds = [r.kind for r in mod.archive.records()]
    assert kinds == ["event", "verdict"]
    record = mod.archive.get(2).content()
    assert record["policy"] == {"name": "clinton", "title": clinton.title, "version": clinton.version,
                                "digest": clinton.digest}
    assert record["verdict"]["decision"] == "allow" and record["event"] == "facebook:c1"
    assert {"action": "archive", "record": 1} in record.get("fulfilled", [])


def test_removal_is_documented_before_the_verdict(mod):
    verdict = mod.handle(comment(2, text=PROFANE))
    assert verdict.decision == "remove"
    recs = list(mod.archive.records())
    assert [r.kind for r in recs] == ["event", "evidence", "verdict"]
    evidence = recs[1].content()
    assert evidence["text"] == PROFANE
    assert evidence["event_hash"] == recs[0].hash
    assert any(e.get("match") == "hell" for f in evidence["findings"] for e in f["evidence"])
    assert any("3.4.3.A" in c for f in evidence["findings"] for c in f["clauses"])
    fulfilled = recs[2].content()["fulfilled"]
    assert {"action": "document", "record": 2} in fulfilled
    assert mod.archive.item("facebook:c2").status == "removed"


def test_redelivery_is_recorded_once_and_gets_the_same_verdict(mod):
    first = mod.handle(comment(3, text=PROFANE))
    n = mod.archive.count()
    again = mod.handle(comment(3, text=PROFANE))
    assert mod.archive.count() == n
    assert again.model_dump(mode="json") == first.model_dump(mode="json")
    outs = mod.handle_many([comment(3, text=PROFANE), comment(4, text=FINE), comment(4, text=FINE)])
    assert [o.duplicate for o in outs] == [True, False, True]
    assert outs[1].record == outs[2].record and outs[0].decision == "remove"


def test_an_edit_is_a_new_version_judged_again(mod):
    assert mod.handle(comment(5, text=FINE)).decision == "allow"
    assert mod.handle(comment(5, text=PROFANE)).decision == "remove"
    item = mod.archive.item("facebook:c5")
    assert item.version == 2 and item.removed
    texts = [r.content()["text"] for r in mod.archive.records(kind="event")]
    assert texts == [FINE, PROFANE]


def test_author_history_is_filled_from_the_archive(mod):
    """Clinton 3.5.5: repeat violators are removed, without the caller counting."""
    first = mod.handle(comment(10, text=PROFANE, author="troll"))
    rules = {f.rule for f in first.findings}
    assert "repeat_violator" not in rules
    mod.handle(comment(11, text=PROFANE, author="troll"))
    third = mod.handle(comment(12, text=FINE, author="troll"))
    verdict_rec = list(mod.archive.records(kind="verdict"))[-1].content()
    assert verdict_rec["inputs"]["author_history"]["removed_before"] == 2
    assert "author_history.removed_before" not in third.missing
    assert mod.archive.removed_before("facebook:troll") == 2
    # another author starts clean; a larger count from the caller is kept
    mod.handle(comment(13, text=FINE, author="newcomer", author_history={"removed_before": 5}))
    rec = list(mod.archive.records(kind="verdict"))[-1].content()
    assert rec["inputs"]["author_history"] == {"removed_before": 5, "from_archive": 0}


def test_deletions_count_as_removals_unless_denied(mod):
    mod.handle(comment(20, text=FINE, author="u20"))
    mod.handle({"kind": "action", "id": "del-1", "platform": "facebook",
                "action": {"type": "delete_comment", "target": {"kind": "comment", "id": "c20"}},
                "actor": {"id": "staff", "role": "coordinator", "authorized": True}})
    item = mod.archive.item("facebook:c20")
    action_verdict = list(mod.archive.records(kind="verdict"))[-1]
    if action_verdict.decision != "deny":
        assert item.status == "deleted" and mod.archive.removed_before("facebook:u20") == 1
    assert mod.archive.records(kind="event")  # the comment's content is still there
    assert mod.archive.get(1).content()["text"] == FINE


def test_appeal_is_recorded_and_re_evaluated(mod):
    mod.handle(comment(30, text=PROFANE))
    verdict = mod.appeal("c30", "I was quoting the mayor.", by="Person u1")
    assert verdict.decision == "remove"
    recs = list(mod.archive.records())
    assert [r.kind for r in recs[-3:]] == ["appeal", "evidence", "verdict"]
    assert recs[-3].content()["text"] == "I was quoting the mayor."
    assert recs[-1].content()["reason"] == "appeal" and recs[-1].content()["appeal"] == recs[-3].seq
    with pytest.raises(ArchiveError, match="no archived item"):
        mod.appeal("c-nope", "?")
    assert mod.archive.verify().ok


def test_a_malformed_event_is_refused_and_nothing_is_recorded(mod):
    with pytest.raises(policykit.EventError):
        mod.handle({"kind": "comment", "id": "bad", "txt": "typo"})
    outs = mod.handle_many([{"kind": "comment", "id": "bad", "txt": "typo"}, comment(40, text=FINE)])
    assert outs[0].error and "txt" in outs[0].error and outs[1].decision == "allow"
    assert [r.subject for r in mod.archive.records(kind="event")] == ["facebook:c40"]


def test_a_second_policy_judges_the_same_archive(archive_url, clinton):
    a = open_archive(archive_url)
    Moderator(clinton, a).handle(comment(50, text=FINE))
    nyc = policykit.load("nyc")
    out = Moderator(nyc, a).handle_many([comment(50, text=FINE)])[0]
    assert out.duplicate and out.verdict.policy.name == "nyc"
    assert [r.kind for r in a.records()] == ["event", "verdict", "verdict"]
    a.close()


def test_retention_declared_by_the_policy_is_recorded(archive_url, clinton):
    class WithRetention:
        def __init__(self, policy, retention):
            self._p, self.retention = policy, retention

        def __getattr__(self, name):
            return getattr(self._p, name)

        def evaluate(self, event):
            return self._p.evaluate(event)

    a = open_archive(archive_url)
    Moderator(WithRetention(clinton, "permanently"), a)
    Moderator(WithRetention(clinton, "permanently"), a)   # the same rule again: not re-recorded
    Moderator(WithRetention(clinton, "7 years"), a)
    rules = [json.loads(r.data)["rule"] for r in a.records(kind="retention")]
    assert rules == ["permanently", "7 years after recorded"]
    a.close()
