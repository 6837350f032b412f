"""The derived tables (items, item_verdicts, authors, holds) are recomputed from the chain by verify."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policykit.moderator import Moderator
from policykit.records import ArchiveError, open_archive

from conftest import comment, run_cli

PROFANE = "what the hell is this"


def _action(i, kind: str, target: str, authorized: bool = True) -> dict:
    return {"kind": "action", "id": f"a{i}", "platform": "facebook", "at": "2024-05-02T09:00:00Z",
            "action": {"type": kind, "target": {"kind": "comment", "id": target}},
            "actor": {"id": "staff-1", "role": "coordinator", "authorized": authorized}}


@pytest.fixture
def moderated(tmp_path, clinton):
    path = str(tmp_path / "a.db")
    with open_archive(path) as a:
        mod = Moderator(clinton, a)
        mod.handle(comment(1, text=PROFANE, author="u1"))
        mod.handle(comment(2, text="what the hell, again", author="u1"))
        mod.handle(comment(3, text="When is the pool open?", author="u2"))
        mod.handle(_action(1, "hide_comment", "c3"))
        a.place_hold("FOIL 2024-113", author="u1")
        assert a.verify().ok
    return path


@pytest.mark.parametrize("tamper, words", [
    ("UPDATE policykit_authors SET removed = 0", "policykit_authors row facebook:u1"),
    ("DELETE FROM policykit_authors", "policykit_authors has no row for facebook:u1"),
    ("INSERT INTO policykit_authors VALUES ('facebook:u9', 3)", "policykit_authors row facebook:u9"),
    ("UPDATE policykit_items SET removed = 0, status = 'published' WHERE key = 'facebook:c1'",
     "policykit_items row facebook:c1"),
    ("UPDATE policykit_items SET digest = 'feed' WHERE key = 'facebook:c3'", "digest"),
    ("UPDATE policykit_items SET status = 'reinstated' WHERE key = 'facebook:c3'", "status"),
    ("DELETE FROM policykit_items WHERE key = 'facebook:c2'", "no row for facebook:c2"),
    ("UPDATE policykit_item_verdicts SET decision = 'allow' WHERE key = 'facebook:c1'", "item_verdicts row"),
    ("DELETE FROM policykit_item_verdicts", "item_verdicts has no row"),
    ("UPDATE policykit_holds SET released_seq = 99", "holds row"),
    ("DELETE FROM policykit_holds", "holds has no row"),
])
def test_verify_catches_an_edited_derived_table(moderated, tamper, words):
    conn = sqlite3.connect(moderated)
    conn.execute(tamper)
    conn.commit()
    conn.close()
    with open_archive(moderated) as a:
        result = a.verify()
    assert not result.ok and words in result.problem, result.problem
    proc = run_cli("records", "verify", "--archive", moderated)
    assert proc.returncode == 1 and "FAILED" in proc.stdout and words in proc.stdout


def test_the_silenced_repeat_violator_is_caught(moderated, clinton):
    """The attack the issue names: zeroing an author's removals makes the next verdict milder."""
    conn = sqlite3.connect(moderated)
    conn.execute("UPDATE policykit_authors SET removed = 0 WHERE author = 'facebook:u1'")
    conn.commit()
    conn.close()
    with open_archive(moderated) as a:
        result = a.verify()
    assert not result.ok
    assert "removed is 0, the records say 2" in result.problem


def test_derived_tables_still_verify_after_retention(tmp_path, clinton):
    path = str(tmp_path / "a.db")
    with open_archive(path) as a:
        mod = Moderator(clinton, a)
        mod.handle(comment(1, text=PROFANE, author="u1"))
        mod.handle(comment(1, text="edited: " + PROFANE, author="u1", author_history={"removed_before": 0}))
        mod.handle(comment(2, text="Nice work", author="u2"))
        mod.handle(_action(1, "delete_comment", "c2"))
        mod.appeal("c1", "I was quoting the mayor.")
        report = a.apply_retention("1 days", now=datetime.now(timezone.utc) + timedelta(days=3))
        assert report.purged_records > 0
        assert a.verify().ok, a.verify().problem
        conn = sqlite3.connect(path)
        conn.execute("UPDATE policykit_items SET removed = 0 WHERE key = 'facebook:c2'")
        conn.commit()
        conn.close()
        result = a.verify()
        assert not result.ok and "facebook:c2" in result.problem


# -- the writer and the replay agree, whatever the mix of operations ---------------------------------

class _Coin:
    """A policy whose next decision the test sets: it denies actions, removes, and reinstates on
    appeal in any order, which the bundled policies rarely do."""

    name, title, version, digest = "coin", "Coin", "1", "0" * 64
    decision = "allow"

    def evaluate(self, event: dict) -> dict:
        return {"policy": {"name": self.name}, "decision": self.decision, "findings": [], "obligations": [],
                "errors": []}


TEXTS = ["Thanks for the concert", PROFANE, "When is the pool open?", "you idiot", "Nice work, crew"]
DECISIONS = st.sampled_from(["allow", "remove", "deny", "review"])
ops = st.lists(st.one_of(
    st.tuples(st.just("handle"), st.integers(0, 2), st.sampled_from(TEXTS), st.integers(0, 1), DECISIONS),
    st.tuples(st.just("record"), st.integers(0, 2), st.sampled_from(TEXTS), st.integers(0, 1)),
    st.tuples(st.just("second"), st.integers(0, 2), st.sampled_from(TEXTS), st.integers(0, 1), DECISIONS),
    st.tuples(st.just("act"), st.integers(0, 2), st.sampled_from(["delete_comment", "hide_comment", "reply"]),
              st.integers(0, 2), st.booleans(), DECISIONS),
    st.tuples(st.just("appeal"), st.integers(0, 2), DECISIONS),
    st.tuples(st.just("hold"), st.integers(0, 1)),
    st.tuples(st.just("release")),
    st.tuples(st.just("retain")),
), min_size=1, max_size=16)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops, st.booleans())
@example([("handle", 1, PROFANE, 0, "allow"), ("act", 0, "delete_comment", 1, True, "deny")], True)
@example([("handle", 1, PROFANE, 0, "remove"), ("appeal", 1, "allow"), ("appeal", 1, "remove")], True)
@example([("record", 2, "hi", 0), ("act", 0, "hide_comment", 2, False, "allow"), ("retain",)], False)
@example([("handle", 0, "a", 1, "remove"), ("handle", 0, "b", 1, "allow"), ("handle", 0, "a", 1, "review"),
          ("appeal", 0, "allow"), ("hold", 1), ("release",)], True)
@example([("handle", 0, "a", 1, "allow"), ("handle", 0, "b", 1, "allow"), ("second", 0, "b", 1, "remove"),
          ("second", 0, "a", 1, "allow")], True)
def test_verify_agrees_with_the_writer_for_any_mix_of_operations(clinton, steps, coin):
    """`act` steps are judged or archived unjudged (`Archive.record`); `second` is another policy."""
    policy, other = (_Coin() if coin else clinton), _Coin()
    other.name = "second"
    with open_archive(":memory:") as a:
        mod, mod2 = Moderator(policy, a), Moderator(other, a)
        holds: list[int] = []
        for step in steps:
            kind = step[0]
            if kind in ("handle", "act", "appeal") and coin:
                policy.decision = step[-1]
            if kind == "second":
                other.decision = step[-1]
                mod2.handle(comment(step[1], text=step[2], author=f"u{step[3]}"))
            elif kind == "handle":
                mod.handle(comment(step[1], text=step[2], author=f"u{step[3]}"))
            elif kind == "record":
                a.record(comment(step[1], text=step[2], author=f"u{step[3]}"))
            elif kind == "act":
                _, i, action, target, judged, _ = step
                event = _action(i, action, f"c{target}")
                mod.handle(event) if judged else a.record(event)
            elif kind == "appeal":
                try:
                    mod.appeal(f"c{step[1]}", "please look again")
                except ArchiveError:
                    pass   # nothing of that id archived yet
            elif kind == "hold":
                holds.append(a.place_hold("request", author=f"facebook:u{step[1]}").id)
            elif kind == "release" and holds:
                a.release_hold(holds.pop(0))
            elif kind == "retain":
                a.apply_retention("1 days", now=datetime.now(timezone.utc) + timedelta(days=2))
        result = a.verify()
        assert result.ok, (result.problem, steps)
        assert result.unchecked_items == 0
