"""The archive on both backends: append-only records, versions, idempotence, the hash chain."""

from __future__ import annotations

import json
import sqlite3

import pytest

from policykit.records import ArchiveError, RetentionRule, open_archive
from policykit.records.chain import GENESIS, record_hash

from conftest import comment


def test_events_versions_and_redelivery(archive_url):
    with open_archive(archive_url) as a:
        first = a.record(comment(1))
        assert (first.key, first.version, first.duplicate) == ("facebook:c1", 1, False)
        again = a.record(comment(1))
        assert again.duplicate and again.event_seq == first.event_seq
        # key order and a filled-in author_history do not make a redelivery new content
        shuffled = dict(reversed(list(comment(1).items())))
        assert a.record({**shuffled, "author_history": {"removed_before": 2}}).duplicate
        edited = a.record(comment(1, text="Thanks for fixing the park lights! (edited)"))
        assert (edited.version, edited.duplicate) == (2, False)
        assert a.item("facebook:c1").status == "edited"
        assert a.count() == 2
        versions = [r.content()["text"] for r in a.records(subject="facebook:c1")]
        assert versions == ["Thanks for fixing the park lights.", "Thanks for fixing the park lights! (edited)"]
        assert a.verify().ok


def test_deletion_is_an_event_and_the_content_stays(archive_url):
    with open_archive(archive_url) as a:
        a.record(comment(7, text="Great job", author="u9"))
        a.record({"kind": "action", "id": "a1", "platform": "facebook", "at": "2024-05-02T09:00:00Z",
                  "action": {"type": "delete_comment", "target": {"kind": "comment", "id": "c7"}},
                  "actor": {"id": "staff-1", "role": "coordinator"}})
        item = a.item("facebook:c7")
        assert item.status == "deleted" and item.removed
        assert a.removed_before("facebook:u9") == 1
        kinds = [(r.kind, r.subject, r.target) for r in a.records()]
        assert kinds == [("event", "facebook:c7", None), ("event", "facebook:a1", "facebook:c7")]
        assert a.get(1).content()["text"] == "Great job"  # never deleted by moderation


def test_action_target_with_unknown_content_is_archived(archive_url):
    with open_archive(archive_url) as a:
        a.record({"kind": "action", "id": "a2", "platform": "x",
                  "action": {"type": "hide_comment",
                             "target": {"kind": "comment", "id": "c99", "text": "first seen while hidden",
                                        "author": {"id": "u5"}}}})
        item = a.item("x:c99")
        assert item is not None and item.status == "hidden"
        assert [r.content().get("text") for r in a.records(subject="x:c99")] == ["first seen while hidden"]


def test_events_without_id_are_keyed_by_content(archive_url):
    with open_archive(archive_url) as a:
        one = a.record({"kind": "post", "text": "Road closed on Main St."})
        two = a.record({"kind": "post", "text": "Road closed on Main St."})
        three = a.record({"kind": "post", "text": "Road open again."})
        assert one.key.startswith("sha256:") and two.duplicate and not three.duplicate


def test_chain_links_every_record(archive_url):
    with open_archive(archive_url) as a:
        for i in range(5):
            a.record(comment(i))
        recs = list(a.records())
        assert recs[0].prev == GENESIS
        for before, rec in zip(recs, recs[1:]):
            assert rec.prev == before.hash and rec.seq == before.seq + 1
        r = recs[2]
        assert r.hash == record_hash(r.prev, r.seq, r.kind, r.subject, r.version, r.recorded_at, r.ev_at, r.author,
                                     r.account, r.target, r.decision, r.data_hash)
        result = a.verify()
        assert result.ok and result.records == 5 and result.head_hash == recs[-1].hash


def test_holds_are_records(archive_url):
    with open_archive(archive_url) as a:
        a.record(comment(1))
        hold = a.place_hold("FOIL request 2024-113", author="u1")
        assert [h.id for h in a.holds()] == [hold.id]
        a.release_hold(hold.id, "request answered")
        assert a.holds() == [] and len(a.holds(include_released=True)) == 1
        with pytest.raises(ArchiveError, match="already released"):
            a.release_hold(hold.id)
        assert [r.kind for r in a.records()] == ["event", "hold", "release"]
        assert a.verify().ok


def test_retention_declaration_and_stats(archive_url):
    with open_archive(archive_url) as a:
        a.declare_retention(RetentionRule.parse("7 years"), policy="cottonwood")
        stats = a.stats()
        assert stats["records"] == 1 and stats["by_kind"] == {"retention": 1}
        assert json.loads(a.get(1).data)["rule"] == "7 years after recorded"


# -- tampering: verify names the first bad record ------------------------------------------------

def _sqlite(path):
    conn = sqlite3.connect(path)
    conn.isolation_level = None
    return conn


def _fill(path, n=10):
    with open_archive(path) as a:
        for i in range(n):
            a.record(comment(i, text=f"comment number {i}"))


@pytest.mark.parametrize("tamper, first_bad, words", [
    ("UPDATE policykit_records SET data = replace(data, 'number 3', 'number 33') WHERE seq = 4", 4, "altered"),
    ("UPDATE policykit_records SET author = 'facebook:someone-else' WHERE seq = 6", 6, "altered"),
    ("UPDATE policykit_records SET recorded_at = '2020-01-01T00:00:00.000000Z' WHERE seq = 3", 3, "altered"),
    ("DELETE FROM policykit_records WHERE seq = 5", 5, "missing"),
    ("DELETE FROM policykit_records WHERE seq >= 9", 9, "removed"),
    ("UPDATE policykit_records SET data = NULL WHERE seq = 2", 2, "no purge record"),
])
def test_verify_names_the_first_bad_record(tmp_path, tamper, first_bad, words):
    path = str(tmp_path / "a.db")
    _fill(path)
    _sqlite(path).execute(tamper)
    with open_archive(path) as a:
        result = a.verify()
    assert not result.ok
    assert result.first_bad == first_bad, result.problem
    assert words in result.problem


def test_verify_detects_a_rewritten_tail(tmp_path):
    """Rewriting a record and recomputing its hash still breaks the link from the next record."""
    path = str(tmp_path / "a.db")
    _fill(path)
    conn = _sqlite(path)
    row = conn.execute("SELECT seq, kind, subject, version, recorded_at, ev_at, author, account, target, decision, "
                       "data, prev FROM policykit_records WHERE seq = 7").fetchone()
    from policykit.records.chain import data_hash

    data = row[10].replace("number 6", "number 66")
    dh = data_hash(data)
    h = record_hash(row[11], *row[:10], dh)
    conn.execute("UPDATE policykit_records SET data = ?, data_hash = ?, hash = ? WHERE seq = 7", (data, dh, h))
    with open_archive(path) as a:
        result = a.verify()
    assert not result.ok and result.first_bad == 8 and "does not follow" in result.problem


def test_verify_expect_head(tmp_path):
    path = str(tmp_path / "a.db")
    _fill(path, 3)
    with open_archive(path) as a:
        head = a.verify().head_hash
        assert a.verify(expect_head=head).ok
        assert a.verify(expect_head=head[:16]).ok
        assert not a.verify(expect_head="0" * 64).ok


def test_open_archive_url_forms(tmp_path):
    path = tmp_path / "u.db"
    with open_archive(f"sqlite:///{path}") as a:
        a.record(comment(1))
    with open_archive(str(path)) as a:
        assert a.count() == 1
    with open_archive(":memory:") as a:
        a.record(comment(1))
        assert a.verify().ok
    with pytest.raises(ArchiveError, match="no archive given"):
        open_archive("")


def test_canonical_json_is_stable():
    from policykit.records.store import dumps, event_digest

    assert dumps({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    assert dumps({"n": 2 ** 70}) == '{"n":1180591620717411303424}'   # beyond orjson: the standard encoder
    assert event_digest({"kind": "post", "id": "1"})[1] == event_digest({"id": "1", "kind": "post"})[1]
