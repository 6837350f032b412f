"""Poison lines never stop a stream (issue 14, Deliver 1; issue 15, Streams end to end).

Each hostile line is answered for itself, in its place, with its line number (and its index inside a
page); `moderate` records it as `rejected`, once, and a replay (a restart after a crash) answers it
again without dying on it or recording anything twice; the exit status says some lines failed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policykit
from policykit.moderator import Moderator
from policykit.platforms import BUILTIN_ADAPTERS
from policykit.records import open_archive
from policykit.stream import Rejected, line_items

SCRIPT = shutil.which("policykit", path=str(Path(sys.executable).parent)) or "policykit"
FIXTURES = Path(__file__).resolve().parents[1] / "platforms" / "fixtures"


def _comment(n: int, text: str = "Thanks for fixing the park fence.") -> str:
    return json.dumps({"kind": "comment", "id": f"c{n}", "platform": "facebook", "text": text,
                       "author": {"id": f"u{n}", "name": "Pat"}})


#: One line each, as an attacker (or a broken producer) would send them.
POISON = {
    "not JSON": "{not json",
    "labels is a number": json.dumps({"kind": "comment", "id": "p1", "labels": 5}),
    "a time past the end of the calendar": json.dumps({"kind": "comment", "id": "p2", "text": "x",
                                                       "at": "9999-12-31T23:59:59-23:59"}),
    "text nested 1,000 deep": '{"kind": "comment", "id": "p3", "text": ' + "[" * 1000 + "]" * 1000 + "}",
    "an integer of 4,400 digits": '{"kind": "comment", "id": "p4", "text": "x", "extra": {"n": ' + "9" * 4400 + "}}",
    "a lone surrogate": '{"kind": "comment", "id": "p5", "text": "\\ud800"}',
    "a JSON scalar": "5",
    "binary": "\x00\x01\x02",
}


def _stream() -> tuple[str, list[int]]:
    """Good lines around every poison line; returns the text and the line numbers of the poison."""
    lines, bad = [_comment(0)], []
    for i, line in enumerate(POISON.values(), 1):
        lines.append(line)
        bad.append(len(lines))
        lines.append(_comment(i))
    return "\n".join(lines) + "\n", bad


def _run(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_moderate_answers_every_poison_line_records_it_once_and_survives_a_replay(tmp_path):
    text, bad = _stream()
    db = str(tmp_path / "m.db")
    first = _run("moderate", "--policy", "clinton", "--archive", db, stdin=text)
    assert first.returncode == 2 and "Traceback" not in first.stderr
    answers = [json.loads(line) for line in first.stdout.splitlines()]
    assert len(answers) == len(text.splitlines())          # every line answered, in order
    errors = [a for a in answers if "error" in a]
    assert [a["line"] for a in errors] == bad
    assert all(a["record"]["kind"] == "rejected" and not a["record"]["duplicate"] for a in errors)
    assert [a["decision"] for a in answers if "error" not in a] == ["allow"] * (len(POISON) + 1)
    assert f"{len(POISON)} input line(s) were not valid events" in first.stderr

    # a restart feeding the same stream again: the same answers, nothing recorded twice
    again = _run("moderate", "--policy", "clinton", "--archive", db, stdin=text)
    assert again.returncode == 2
    replay = [json.loads(line) for line in again.stdout.splitlines()]
    assert [a.get("line") for a in replay] == [a.get("line") for a in answers]
    assert all(a["record"]["duplicate"] for a in replay)
    assert [a["record"]["seq"] for a in replay] == [a["record"]["seq"] for a in answers]
    with open_archive(db) as archive:
        kinds = [r.kind for r in archive.records()]
        assert kinds.count("rejected") == len(POISON) and kinds.count("event") == len(POISON) + 1
        rejected = [r.content() for r in archive.records(kind="rejected")]
        assert archive.verify().ok
    assert [r["line"] for r in rejected] == bad
    assert rejected[0]["input"] == POISON["not JSON"]   # what was received is kept, for the record


def test_check_answers_every_poison_line_and_goes_on(tmp_path):
    text, bad = _stream()
    path = tmp_path / "events.jsonl"
    path.write_text(text, encoding="utf-8")
    proc = _run("check", "--policy", "clinton", "--format", "jsonl", str(path), stdin="")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(answers) == len(text.splitlines())
    refused = [int(a["where"].rsplit(":", 1)[1]) for a in answers if "where" in a]
    # A time past the calendar's end only overflows when the archive converts it to UTC: `check` may
    # judge it (as a time given with an offset) or refuse it (when event validation bounds times).
    calendar = bad[list(POISON).index("a time past the end of the calendar")]
    assert set(refused) | {calendar} == set(bad)
    assert f"{len(refused)} of {len(answers)} event(s) malformed" in proc.stderr


def test_a_line_longer_than_the_limit_is_rejected_and_the_stream_goes_on(tmp_path, monkeypatch):
    from policykit import cli_records, stream

    monkeypatch.setattr(stream, "MAX_LINE", 1000)
    chunks = [(_comment(1) + "\n").encode(), b'{"kind": "comment", "text": "' + b"a" * 3000, b'"}\n',
              (_comment(2) + "\n").encode()]
    read_path = tmp_path / "in.jsonl"
    read_path.write_bytes(b"".join(chunks))
    import os

    fd = os.open(read_path, os.O_RDONLY)
    try:
        got = [item for batch in cli_records._read_lines(fd, max_bytes=700) for item in batch]
    finally:
        os.close(fd)
    assert [n for n, _ in got] == [1, 2, 3]
    assert got[1][1].rejected is not None and "3,0" in got[1][1].rejected.error
    assert json.loads(got[2][1])["id"] == "c2"


def test_moderate_platform_answers_a_page_item_by_item(tmp_path):
    page = json.loads((FIXTURES / "partial" / "x_search_page_media_missing.json").read_text())
    delete = json.loads((FIXTURES / "x" / "compliance_delete.json").read_text())
    text = "\n".join([json.dumps(page), "{broken", json.dumps(delete)]) + "\n"
    db = str(tmp_path / "m.db")
    proc = _run("moderate", "--policy", "nyc", "--archive", db, "--platform", "x", "--city-account", "CityOfExample",
                stdin=text)
    assert proc.returncode == 2, proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(a["line"], a.get("index"), "error" in a) for a in answers] == [
        (1, 0, False), (1, 1, True), (1, 2, False), (2, None, True), (3, None, False)]
    assert "referenced_tweets" not in answers[1]["error"] and "media_key" in answers[1]["error"]
    assert answers[4]["decision"] == "allow"   # the author's own deletion: not a city moderation action
    assert "2 input line(s) were not valid events" in proc.stderr


def test_check_platform_does_not_stop_at_the_first_bad_line(tmp_path):
    good = json.loads((FIXTURES / "x" / "reply_comment.json").read_text())
    text = "\n".join([json.dumps(good), '{"data": 5}', json.dumps(good)]) + "\n"
    path = tmp_path / "tweets.jsonl"
    path.write_text(text)
    proc = _run("check", "--policy", "nyc", "--platform", "x", "--city-account", "CityOfExample", "--format", "jsonl",
                str(path), stdin="")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(answers) == 3 and answers[1]["where"].endswith(":2[0]")
    assert answers[1]["problems"][0]["path"] == "data" and answers[2]["policy"]["name"] == "nyc"


class _Faulty:
    """A policy that raises what a hostile event can provoke deep inside evaluation."""

    name, title, version, digest = "faulty", "Faulty", "1", "0" * 64

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def evaluate(self, event):
        if event.get("text") == "boom":
            raise self.exc
        return policykit.load("clinton").evaluate(event)


@pytest.mark.parametrize("exc", [TypeError("x"), OverflowError("x"), RecursionError("x"), KeyError("x")])
def test_handle_many_rejects_whatever_an_event_raises_and_records_the_rest(exc):
    mod = Moderator(_Faulty(exc), ":memory:")
    events = [json.loads(_comment(1)), {**json.loads(_comment(2)), "text": "boom"}, json.loads(_comment(3))]
    outs = mod.handle_many(events, sources=[{"line": n} for n in (1, 2, 3)])
    assert [o.error is None for o in outs] == [True, False, True]
    assert type(exc).__name__ in outs[1].error and outs[1].where == {"line": 2}
    assert [r.kind for r in mod.archive.records()].count("rejected") == 1
    with pytest.raises(type(exc)):          # the one-event API raises, as it always did
        mod.handle({**json.loads(_comment(4)), "text": "boom"})
    assert mod.archive.verify().ok


def test_two_refused_items_of_one_page_are_two_rejections():
    page = json.loads((FIXTURES / "partial" / "x_search_page_media_missing.json").read_text())
    page["data"][0]["attachments"] = {"media_keys": ["3_missing"]}
    items = line_items(json.dumps(page).encode(), 9, platform="x")
    rejected = [i.rejected for i in items if i.rejected is not None]
    assert [r.where for r in rejected] == [{"line": 9, "index": 0}, {"line": 9, "index": 1}]
    assert rejected[0].digest() != rejected[1].digest()
    mod = Moderator(policykit.load("nyc"), ":memory:")
    outs = mod.handle_many(rejected, sources=[r.where for r in rejected])
    assert [o.duplicate for o in outs] == [False, False] and outs[0].record != outs[1].record


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(platform=st.sampled_from([None, *sorted(BUILTIN_ADAPTERS)]),
       line=st.one_of(st.binary(max_size=200), JSON_VALUES.map(lambda v: json.dumps(v).encode())))
def test_no_line_makes_the_stream_layer_raise(platform, line):
    items = line_items(line, 1, platform=platform, city_accounts=frozenset({"CityOfExample"}))
    for item in items:
        assert item.rejected is not None or item.event is not None or platform is None  # (JSON null is an event)
        if item.rejected is not None:
            assert isinstance(item.rejected, Rejected) and item.rejected.error and item.where["line"] == 1


def test_check_on_stdin_goes_on_when_the_very_first_line_is_bad():
    text = "{bad first}\n" + _comment(1) + "\n" + _comment(2) + "\n"
    proc = _run("check", "--policy", "clinton", "--format", "jsonl", "-", stdin=text)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert answers[0]["where"] == "<stdin>:1" and [a["decision"] for a in answers[1:]] == ["allow", "allow"]
    document = _run("check", "--policy", "clinton", "--format", "jsonl", "-", stdin='{"kind": "comment",\n "text": "hi"}\n')
    assert document.returncode == 0 and json.loads(document.stdout)["decision"] == "allow"  # still a document


@pytest.mark.parametrize("command", [["check", "--policy", "nyc"], ["moderate", "--policy", "nyc", "--archive", ":memory:"]])
def test_city_account_without_platform_is_bad_usage_for_both_commands(command) -> None:
    from policykit.cli import main

    assert main([*command, "--city-account", "nycgov", "-"]) == 2
