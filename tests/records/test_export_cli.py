"""Public-records exports and the `moderate` / `records` commands, run for real."""

from __future__ import annotations

import csv
import io
import json

import pytest

from policykit.moderator import Moderator
from policykit.records import ExportFilter, export_rows, open_archive, write_csv

from conftest import comment, run_cli

PROFANE = "what the hell is this"


@pytest.fixture
def filled(archive_url, clinton):
    a = open_archive(archive_url)
    m = Moderator(clinton, a)
    m.handle(comment(1, text="Thanks for the concert", author="ann", at="2024-03-01T12:00:00Z",
                     extra={"url": "https://facebook.example/clinton/posts/1?c=1"}))
    m.handle(comment(2, text=PROFANE, author="bob", at="2024-03-05T08:30:00-05:00"))
    m.handle(comment(3, text="When does the POOL open?", author="ann", at="2024-04-10T09:00:00Z",
                     account={"id": "acct-2", "handle": "@clintonparks", "platform": "facebook"}))
    m.handle({"kind": "action", "id": "a1", "platform": "facebook", "at": "2024-04-11T00:00:00Z",
              "action": {"type": "hide_comment", "target": {"kind": "comment", "id": "c3"}},
              "actor": {"id": "staff", "role": "coordinator", "authorized": True}})
    yield a
    a.close()


def keys(rows):
    return [r["key"] for r in rows]


def test_export_filters(filled):
    assert keys(export_rows(filled)) == ["facebook:c1", "facebook:c2", "facebook:c3", "facebook:a1"]
    assert keys(export_rows(filled, ExportFilter(author="ann"))) == ["facebook:c1", "facebook:c3"]
    assert keys(export_rows(filled, ExportFilter(author="Person bob"))) == ["facebook:c2"]
    assert keys(export_rows(filled, ExportFilter(account="@clintonparks"))) == ["facebook:c3"]
    assert keys(export_rows(filled, ExportFilter(since="2024-03-02", until="2024-03-05"))) == ["facebook:c2"]
    assert keys(export_rows(filled, ExportFilter(until="2024-03-01"))) == ["facebook:c1"]
    assert keys(export_rows(filled, ExportFilter(text="pool"))) == ["facebook:c3"]
    assert keys(export_rows(filled, ExportFilter(decision="remove"))) == ["facebook:c2"]
    assert keys(export_rows(filled, ExportFilter(kind="action"))) == ["facebook:a1"]
    with pytest.raises(ValueError, match="not an ISO 8601"):
        list(export_rows(filled, ExportFilter(since="last tuesday")))


def test_export_rows_carry_content_time_url_verdicts_and_citations(filled):
    rows = {r["key"]: r for r in export_rows(filled)}
    one = rows["facebook:c1"]
    assert one["text"] == "Thanks for the concert" and one["at"] == "2024-03-01T12:00:00Z"
    assert one["url"] == "https://facebook.example/clinton/posts/1?c=1"
    assert one["verdicts"][0]["policy"]["name"] == "clinton" and one["verdicts"][0]["policy"]["digest"]
    removed = rows["facebook:c2"]
    assert removed["status"] == "removed" and removed["decision"] == "remove"
    assert removed["text"] == PROFANE                      # removed comments are included
    assert "clinton 3.4.3.A" in removed["citations"] and removed["evidence"]
    hidden = rows["facebook:c3"]
    assert hidden["status"] == "hidden" and hidden["actions"][0]["type"] == "hide_comment"


def test_csv_export(filled):
    buf = io.StringIO()
    n = write_csv(export_rows(filled), buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert n == len(rows) == 4
    assert rows[1]["text"] == PROFANE and rows[1]["decision"] == "remove"
    assert "clinton 3.4.3.A" in rows[1]["citations"] and rows[1]["policies"].startswith("clinton")


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example","click")', "+1+cmd|' /C calc'!A0",
                                  "-2+3", "@SUM(A1:A9)", "\tleading tab", "\rleading return"])
def test_csv_export_neutralises_formula_cells_and_json_keeps_them(tmp_path, text):
    """OWASP's CSV-injection rule: a cell starting = + - @ tab or CR gets a leading quote; JSON is exact."""
    with open_archive(str(tmp_path / "a.db")) as a:
        a.record(comment(1, text=text, author="=cmd"))
        a.record(comment(2, text="A normal comment = fine"))
        buf = io.StringIO()
        write_csv(export_rows(a), buf)
        rows = list(csv.DictReader(io.StringIO(buf.getvalue(), newline="")))
        assert rows[0]["text"] == "'" + text and rows[0]["author_id"] == "'=cmd"
        assert rows[1]["text"] == "A normal comment = fine" and rows[1]["record"] == "2"
        assert next(iter(export_rows(a)))["text"] == text          # JSON export unchanged


def test_moderate_command_streams_verdicts(tmp_path):
    db = str(tmp_path / "mod.db")
    lines = [json.dumps(comment(i, text=PROFANE if i % 2 else "Nice work")) for i in range(20)]
    proc = run_cli("moderate", "--policy", "clinton", "--archive", db, input="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [o["decision"] for o in out] == ["allow", "remove"] * 10
    assert all(o["record"]["key"] == f"facebook:c{i}" for i, o in enumerate(out))
    # a redelivery of the whole stream: the same verdicts, nothing new recorded
    proc = run_cli("moderate", "--policy", "clinton", "--archive", db, input="\n".join(lines) + "\n")
    again = [json.loads(x) for x in proc.stdout.splitlines()]
    assert all(o["record"]["duplicate"] for o in again)
    assert [o["record"]["seq"] for o in again] == [o["record"]["seq"] for o in out]
    proc = run_cli("records", "verify", "--archive", db)
    assert proc.returncode == 0 and proc.stdout.startswith("ok:")


def test_moderate_reports_bad_lines_and_goes_on(tmp_path):
    db = str(tmp_path / "mod.db")
    text = "\n".join([json.dumps(comment(1)), "{not json", json.dumps({"kind": "comment", "txt": "typo"}),
                      json.dumps(comment(2))]) + "\n"
    proc = run_cli("moderate", "--policy", "clinton", "--archive", db, input=text)
    assert proc.returncode == 2
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(out) == 4 and "error" in out[1] and "error" in out[2] and out[3]["decision"] == "allow"
    assert "2 input line(s) were not valid events" in proc.stderr and "Traceback" not in proc.stderr


def test_moderate_usage_errors(tmp_path):
    proc = run_cli("moderate", "--policy", "no_such_policy", "--archive", str(tmp_path / "m.db"), input="")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    proc = run_cli("moderate", "--policy", "clinton", input="")
    assert proc.returncode == 2 and "no archive" in proc.stderr


def test_records_export_command(tmp_path, clinton):
    db = str(tmp_path / "mod.db")
    with open_archive(db) as a:
        m = Moderator(clinton, a)
        m.handle(comment(1, text=PROFANE, author="bob"))
        m.handle(comment(2, text="Nice", author="ann"))
    proc = run_cli("records", "export", "--archive", db, "--author", "bob")
    assert proc.returncode == 0
    rows = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [r["key"] for r in rows] == ["facebook:c1"]
    out = tmp_path / "request.csv"
    proc = run_cli("records", "export", "--archive", db, "-o", str(out))
    assert proc.returncode == 0 and "exported 2 record(s)" in proc.stderr
    assert list(csv.DictReader(out.open()))[0]["decision"] == "remove"
    proc = run_cli("records", "export", "--archive", db, "--since", "yesterday")
    assert proc.returncode == 2 and "ISO 8601" in proc.stderr


def test_records_appeal_show_stats_commands(tmp_path, clinton):
    db = str(tmp_path / "mod.db")
    with open_archive(db) as a:
        Moderator(clinton, a).handle(comment(1, text=PROFANE))
    proc = run_cli("records", "appeal", "--archive", db, "--policy", "clinton", "c1", "It was a quote.")
    assert proc.returncode == 0 and json.loads(proc.stdout)["decision"] == "remove"
    proc = run_cli("records", "show", "--archive", db, "facebook:c1")
    assert [json.loads(x)["kind"] for x in proc.stdout.splitlines()] == [
        "event", "evidence", "verdict", "appeal", "evidence", "verdict"]
    proc = run_cli("records", "stats", "--archive", db)
    stats = json.loads(proc.stdout)
    # the six about the item, and clinton's `retain` line declared once (not again by the appeal's moderator)
    assert stats["records"] == 7 and stats["by_kind"]["retention"] == 1


@pytest.mark.parametrize("command", [["moderate"], ["records"], ["records", "verify"], ["records", "export"],
                                     ["records", "retain"], ["records", "hold"], ["records", "appeal"]])
def test_help_has_an_example(command):
    proc = run_cli(*command, "--help")
    assert proc.returncode == 0 and "example:" in proc.stdout and "policykit" in proc.stdout


def test_verify_command_fails_on_tampering(tmp_path):
    import sqlite3

    db = str(tmp_path / "a.db")
    with open_archive(db) as a:
        for i in range(5):
            a.record(comment(i))
    conn = sqlite3.connect(db)
    conn.execute("UPDATE policykit_records SET data = replace(data, 'park', 'pork') WHERE seq = 3")
    conn.commit()
    conn.close()
    proc = run_cli("records", "verify", "--archive", db)
    assert proc.returncode == 1 and "first bad record: 3" in proc.stdout
    proc = run_cli("records", "verify", "--archive", db, "--format", "json")
    assert proc.returncode == 1 and json.loads(proc.stdout)["first_bad"] == 3
