"""`rejected` records (input that was not a valid event, recorded by the stream as received): the chain,
the derived tables, exports and retention treat them sanely."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from policykit.records import ExportFilter, export_rows, open_archive, write_csv

from conftest import comment, run_cli

LATER = datetime.now(timezone.utc) + timedelta(days=3)


def _reject(a, n: int, text: str):
    """What the stream records for a poison line (subject: a digest of the input)."""
    return a.append("rejected", {"error": "labels: expected a list of strings, got 5", "path": "labels", "line": n,
                                 "input": text}, subject=f"rejected:{n:040d}")


def test_rejected_lines_verify_and_are_exported_only_when_asked(archive_url):
    with open_archive(archive_url) as a:
        a.record(comment(1))
        rec = _reject(a, 2, '{"kind": "comment", "labels": 5, "text": "=HYPERLINK(\\"x\\")"}')
        assert a.verify().ok
        assert [r["key"] for r in export_rows(a)] == ["facebook:c1"]           # not an item
        rows = list(export_rows(a, ExportFilter(kind="rejected")))
        assert [(r["record"], r["status"], r["line"], r["error"]) for r in rows] == [
            (rec.seq, "rejected", 2, "labels: expected a list of strings, got 5")]
        assert list(export_rows(a, ExportFilter(kind="rejected", author="u1"))) == []
        assert len(list(export_rows(a, ExportFilter(kind="rejected", text="hyperlink")))) == 1
        buf = io.StringIO()
        write_csv(export_rows(a, ExportFilter(kind="rejected")), buf)
        row = next(csv.DictReader(io.StringIO(buf.getvalue())))
        assert row["kind"] == "rejected" and row["text"].startswith('{"kind"') and row["error"].startswith("labels")


def test_retention_erases_rejected_lines_unless_held(archive_url):
    with open_archive(archive_url) as a:
        _reject(a, 1, "not json at all")
        hold = a.place_hold("everything, for a request", )
        assert a.apply_retention("1 days", now=LATER).purged_records == 0        # held
        a.release_hold(hold.id)
        report = a.apply_retention("1 days", now=LATER)
        assert report.purged_records == 1
        assert next(a.records(kind="rejected")).data is None and a.verify().ok
        assert next(iter(export_rows(a, ExportFilter(kind="rejected"))))["purged"]


def test_until_read_erases_a_rejected_line_once_read(tmp_path):
    path = str(tmp_path / "a.db")
    with open_archive(path) as a:
        rec = _reject(a, 1, "{broken")
        assert a.apply_retention("until read", now=LATER).purged_records == 0
    proc = run_cli("records", "read", "--archive", path, rec.subject, "--by", "clerk")
    assert proc.returncode == 0, proc.stderr
    with open_archive(path) as a:
        assert a.apply_retention("until read", now=LATER).purged_records == 1 and a.verify().ok
