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
    assert kinds == ["retention", "event", "verdict"]   # clinton's `retain` line, declared once
    declared = mod.archive.get(1).content()
    assert (declared["policy"], declared["rule"]) == ("clinton", "permanently")
    assert declared["cites"] == ["clinton 3.4.1", "clinton 3.5.2"]
    record = mod.archive.get(3).content()
    assert record["policy"] == {"name": "clinton", "title": clinton.title, "version": clinton.version,
                                "digest": clinton.digest}
    assert record["verdict"]["decision"] == "allow" and record["event"] == "facebook:c1"
    assert {"action": "archive", "record": 2} in record.get("fulfilled", [])


def test_removal_is_documented_before_the_verdict(mod):
    verdict = mod.handle(comment(2, text=PROFANE))
    assert verdict.decision == "remove"
    recs = list(mod.archive.records(start=2))   # after clinton's retention record
    assert [r.kind for r in recs] == ["event", "evidence", "verdict"]
    evidence = recs[1].content()
    assert evidence["text"] == PROFANE
    assert evidence["event_hash"] == recs[0].hash
    assert any(e.get("match") == "hell" for f in evidence["findings"] for e in f["evidence"])
    assert any("3.4.3.A" in c for f in evidence["findings"] for c in f["clauses"])
    fulfilled = recs[2].content()["fulfilled"]
    assert {"action": "document", "record": recs[1].seq} in fulfilled
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
    assert next(mod.archive.records(kind="event")).content()["text"] == FINE


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


def _rules(verdict) -> set[str]:
    return {f.rule for f in verdict.findings}


def test_an_appeal_judges_with_the_history_as_of_the_appealed_comment(mod):
    """Removals that came after the appealed comment cannot make its appeal worse (Clinton 3.5.5's
    repeat-violator rule would otherwise fire on the author's later comments)."""
    first = mod.handle(comment(40, text=PROFANE, author="u40"))
    assert first.decision == "remove" and "repeat_violator" not in _rules(first)
    later = [mod.handle(comment(41 + i, text=PROFANE, author="u40")) for i in range(2)]
    assert all("repeat_violator" in _rules(v) for v in later)      # now a repeat violator
    mod.handle({"kind": "action", "id": "a40", "platform": "facebook",
                "action": {"type": "delete_comment", "target": {"kind": "comment", "id": "c99"}},
                "actor": {"id": "staff", "role": "coordinator", "authorized": True}})
    appealed = mod.appeal("c40", "I was quoting the mayor.")
    assert _rules(appealed) == _rules(first)
    assert {o.action for o in appealed.obligations} == {o.action for o in first.obligations}
    record = list(mod.archive.records(kind="verdict"))[-1].content()
    assert record["inputs"]["author_history"] == {"from_archive": 0, "removed_before": 0}
    # the later comments' own appeals count what came before each of them
    assert mod.appeal("c42", "me too").decision == "remove"
    assert list(mod.archive.records(kind="verdict"))[-1].content()["inputs"]["author_history"]["from_archive"] == 2
    assert mod.archive.verify().ok


def test_an_appeal_of_an_edit_counts_removals_before_the_edit(mod):
    mod.handle(comment(50, text=PROFANE, author="u50"))                  # removed
    mod.handle(comment(51, text=PROFANE, author="u50"))                  # removed, repeat
    mod.handle(comment(50, text="edited: " + PROFANE, author="u50"))     # c50 v2, after c51's removal
    appealed = mod.appeal("c50", "please")
    assert list(mod.archive.records(kind="verdict"))[-1].content()["inputs"]["author_history"]["from_archive"] == 1
    assert "repeat_violator" in _rules(appealed)


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
    assert [r.kind for r in a.records()] == ["retention", "event", "verdict", "retention", "verdict"]
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


def _stream() -> list[dict]:
    """Redeliveries, edits and a repeat violator, spread over many small batches."""
    events = []
    for i in range(40):
        author = f"u{i % 4}"
        text = PROFANE if i % 3 == 0 else FINE
        events.append(comment(i, text=text, author=author))
        if i % 5 == 4:
            events.append(comment(i - 2, text=PROFANE if i % 2 else FINE, author=f"u{(i - 2) % 4}"))  # edit
        if i % 7 == 6:
            events.append(comment(i - 1, text=PROFANE if (i - 1) % 3 == 0 else FINE, author=f"u{(i - 1) % 4}"))
    return events


def _summary(outs) -> list[tuple]:
    return [(o.key, o.version, o.duplicate, o.decision, json.loads(o.verdict_json).get("missing") == []
             if o.verdict_json else None) for o in outs]


def _histories(a) -> list:
    return [(r.subject, r.version, (r.content().get("inputs") or {}).get("author_history"))
            for r in a.records(kind="verdict")]


def test_pipelined_batches_judge_and_record_exactly_as_batch_by_batch(archive_url, tmp_path, clinton):
    """`policykit moderate` judges batch N+1 while batch N syncs; the result must be the same as one
    batch after the other: same decisions, versions, redeliveries and author histories."""
    events = _stream()
    batches = [events[i:i + 3] for i in range(0, len(events), 3)]
    reference = open_archive(str(tmp_path / "reference.db"))
    ref_mod = Moderator(clinton, reference)
    expected = [o for b in batches for o in ref_mod.handle_many(b)]
    a = open_archive(archive_url)
    mod = Moderator(clinton, a)
    got, tags = [], []
    with mod.pipeline() as pipe:
        for n, b in enumerate(batches):
            for tag, outs in pipe.submit(b, n):
                tags.append(tag)
                got.extend(outs)
        for tag, outs in pipe.drain():
            tags.append(tag)
            got.extend(outs)
    assert tags == list(range(len(batches)))          # every batch answered, in order
    assert _summary(got) == _summary(expected)
    assert any(o.duplicate for o in got) and any(o.version == 2 for o in got)
    assert _histories(a) == _histories(reference)
    assert [r.kind for r in a.records()] == [r.kind for r in reference.records()]
    assert a.verify().ok
    # a batch handed back is committed: another connection sees all of it
    with open_archive(archive_url) as other:
        assert other.count() == a.count()
    a.close()
    reference.close()


def test_a_pipelined_batch_is_redone_when_another_writer_got_in_between(tmp_path, clinton):
    path = str(tmp_path / "shared.db")
    a = open_archive(path)
    other = open_archive(path)
    mod = Moderator(clinton, a)
    with mod.pipeline() as pipe:
        assert pipe.reader is not None
        assert pipe.submit([comment(1, text=PROFANE, author="t")], "first") == []   # its commit in flight
        other.record(comment(2, text=PROFANE, author="t"))   # another bot (waits for the lock), not judged
        other.append("read", {"event": "facebook:c2"}, subject="facebook:c2")
        done = pipe.submit([comment(3, text=FINE, author="t"), comment(1, text=PROFANE, author="t")], "second")
        done += pipe.drain()
    assert pipe.redone == 1   # "second" was judged against a head that had moved: judged again
    assert [t for t, _ in done] == ["first", "second"]
    outs = done[1][1]
    assert outs[1].duplicate and outs[1].decision == "remove"
    assert a.verify().ok
    seqs = [r.seq for r in a.records()]
    assert seqs == list(range(1, len(seqs) + 1))
    kinds = [r.kind for r in a.records(start=2)]
    assert kinds[:3] == ["event", "evidence", "verdict"] and kinds[3:5] == ["event", "read"]
    a.close()
    other.close()


def test_a_pipelined_batch_whose_commit_fails_is_not_lost_silently(tmp_path, clinton, monkeypatch):
    import sqlite3

    archive = open_archive(str(tmp_path / "a.db"))

    def failing_commit() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    moderator = Moderator(clinton, archive)  # records the policy's retention first
    monkeypatch.setattr(archive, "_commit", failing_commit)
    with pytest.raises(ArchiveError, match="disk I/O error"):
        with moderator.pipeline() as pipe:
            pipe.submit([comment(1), comment(2)], "batch")
    monkeypatch.undo()
    assert [r.kind for r in archive.records()] == ["retention"]


def test_another_session_waits_for_a_pipelined_commit_instead_of_sharing_it(tmp_path, clinton, monkeypatch):
    import threading
    import time

    archive = open_archive(str(tmp_path / "a.db"))
    commit = archive._commit

    def slow_commit() -> None:
        time.sleep(0.3)  # a slow disk sync, so the other session arrives while the batch is in flight
        commit()

    monkeypatch.setattr(archive, "_commit", slow_commit)
    errors: list[str] = []
    with Moderator(clinton, archive).pipeline() as pipe:
        pipe.submit([comment(1)], "first")
        other = threading.Thread(target=lambda: _handle_or_note(Moderator(clinton, archive), comment(2), errors))
        other.start()
        other.join()
        assert [tag for tag, _ in pipe.drain()] == ["first"]
    assert errors == []
    assert {r.subject for r in archive.records() if r.kind == "event"} == {"facebook:c1", "facebook:c2"}
    assert archive.verify().ok


def _handle_or_note(moderator: Moderator, event: dict, errors: list[str]) -> None:
    try:
        moderator.handle(event)
    except Exception as exc:  # the assertion above reports it
        errors.append(repr(exc))
