"""Replaying a stream with edits is idempotent: content recorded as any version of an item is recognised."""

from __future__ import annotations

import json

from policykit.moderator import Moderator
from policykit.records import open_archive

from conftest import comment, run_cli
from test_faults import _kill_mid_stream

PROFANE = "what the hell is this"


def test_an_older_version_delivered_again_is_recognised(archive_url):
    with open_archive(archive_url) as a:
        v1 = a.record(comment(1, text="first words"))
        v2 = a.record(comment(1, text="second words"))
        again1, again2 = a.record(comment(1, text="first words")), a.record(comment(1, text="second words"))
        assert (again1.duplicate, again1.version, again1.event_seq) == (True, 1, v1.event_seq)
        assert (again2.duplicate, again2.version, again2.event_seq) == (True, 2, v2.event_seq)
        assert a.item("facebook:c1").version == 2                   # the latest stays the latest
        v3 = a.record(comment(1, text="third words"))
        assert (v3.duplicate, v3.version) == (False, 3)
        assert [r.version for r in a.records(kind="event")] == [1, 2, 3]
        assert a.verify().ok


def test_versions_of_one_batch_are_recognised_within_it(archive_url, clinton):
    with open_archive(archive_url) as a:
        outs = Moderator(clinton, a).handle_many([comment(1, text="one"), comment(1, text=PROFANE),
                                                  comment(1, text="one"), comment(1, text=PROFANE)])
        assert [(o.version, o.duplicate) for o in outs] == [(1, False), (2, False), (1, True), (2, True)]
        assert outs[2].record == outs[0].record and outs[3].record == outs[1].record
        assert outs[3].decision == "remove" and outs[2].decision != "remove"
        assert len(list(a.records(kind="event"))) == 2 and a.verify().ok


def test_a_replayed_old_version_gets_the_verdict_recorded_on_it(archive_url, clinton):
    with open_archive(archive_url) as a:
        mod = Moderator(clinton, a)
        first = mod.handle_many([comment(5, text=PROFANE)])[0]
        mod.handle_many([comment(5, text="Sorry, I meant: when is the pool open?")])
        replay = mod.handle_many([comment(5, text=PROFANE)])[0]
        assert replay.duplicate and (replay.version, replay.record) == (1, first.record)
        assert replay.decision == "remove" and json.loads(replay.verdict_json) == json.loads(first.verdict_json)
        # a second policy that never judged version 1 judges it now, once
        other = Moderator(_renamed(clinton, "clinton_copy"), a)
        judged = other.handle_many([comment(5, text=PROFANE)])[0]
        assert judged.version == 1 and judged.record != first.record
        assert other.handle_many([comment(5, text=PROFANE)])[0].record == judged.record
        assert a.verify().ok


def _renamed(policy, name):
    import copy

    clone = copy.copy(policy)
    clone.name = name
    return clone


def _edited_stream(n_items: int = 150) -> list[dict]:
    """Every item posted, then edited twice, the edits interleaved with later items' posts."""
    texts = ["Thanks for the concert", PROFANE, "When is the pool open?", "Nice work, crew"]
    out: list[dict] = []
    for i in range(n_items):
        out.append(comment(i, text=texts[i % 4], author=f"u{i % 7}"))
        if i >= 2:
            out.append(comment(i - 2, text=f"{texts[(i - 2) % 4]} (edit 1)", author=f"u{(i - 2) % 7}"))
        if i >= 4:
            out.append(comment(i - 4, text=f"{texts[(i - 4) % 4]} (edit 2)", author=f"u{(i - 4) % 7}"))
    return out


def _kill_replay_with_edits(archive: str) -> None:
    events = _edited_stream()
    contents = {(e["id"], e["text"]) for e in events}
    acked = _kill_mid_stream(archive, events, kill_after=120)
    assert len(acked) >= 120
    with open_archive(archive) as a:
        recorded = [(r.subject, r.content()["text"]) for r in a.records(kind="event")]
        assert len(recorded) < len(contents) and len(recorded) == len(set(recorded))   # died mid-stream
    proc = run_cli("moderate", "--policy", "clinton", "--archive", archive,
                   input="".join(json.dumps(e) + "\n" for e in events), timeout=180)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == len(events)
    first_ack = {}
    for v in acked:
        first_ack.setdefault((v["record"]["key"], v["record"]["version"]), v)
    for v in out:   # what was acknowledged before the kill is answered again with the same record
        before = first_ack.get((v["record"]["key"], v["record"]["version"]))
        if before is not None:
            assert v["record"]["duplicate"] and v["record"]["seq"] == before["record"]["seq"]
    with open_archive(archive) as a:
        result = a.verify()
        assert result.ok, result.problem
        recorded = [(r.subject, r.content()["text"]) for r in a.records(kind="event")]
        assert len(recorded) == len(set(recorded))                                       # 0 duplicated
        assert set(recorded) == {(f"facebook:{i}", t) for i, t in contents}               # 0 lost
        verdicts = [(r.subject, r.version) for r in a.records(kind="verdict")]
        assert len(verdicts) == len(set(verdicts)) == len(contents)
        for i in range(150):   # each item's latest version is its last edit
            assert a.item(f"facebook:c{i}").version == sum(1 for pid, _ in contents if pid == f"c{i}")


def test_kill_mid_stream_with_edits_then_replay_records_nothing_twice_sqlite(tmp_path):
    _kill_replay_with_edits(str(tmp_path / "mod.db"))


def test_kill_mid_stream_with_edits_then_replay_records_nothing_twice_postgres(pg_url):
    _kill_replay_with_edits(pg_url)
