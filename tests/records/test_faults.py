"""Faults, for real: foreign and corrupted files, disk full, concurrent writers, SIGKILL mid-batch."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from policykit.records import ArchiveError, CorruptArchive, DiskFull, ForeignArchive, open_archive

from conftest import PYTHON, ROOT, comment, run_cli


# -- foreign and corrupted files ---------------------------------------------------------------------

def test_a_foreign_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("These are my meeting notes, not a database.\n")
    with pytest.raises(ForeignArchive, match="not an SQLite database"):
        open_archive(str(path))
    assert path.read_text() == "These are my meeting notes, not a database.\n"
    proc = run_cli("records", "verify", "--archive", str(path))
    assert proc.returncode == 2
    assert "not a policykit archive" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_another_applications_sqlite_database_is_refused(tmp_path):
    path = str(tmp_path / "other.db")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    conn.commit()
    conn.close()
    with pytest.raises(ForeignArchive, match="invoices"):
        open_archive(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("invoices",)]
    conn.close()


def test_an_empty_file_becomes_an_archive(tmp_path):
    path = tmp_path / "new.db"
    path.touch()
    with open_archive(str(path)) as a:
        a.record(comment(1))
        assert a.verify().ok


def test_a_missing_archive_is_not_created_by_readers(tmp_path):
    path = tmp_path / "nowhere.db"
    proc = run_cli("records", "export", "--archive", str(path))
    assert proc.returncode == 2 and "no archive at" in proc.stderr and not path.exists()


def test_a_corrupted_database_file_is_refused_with_a_clear_message(tmp_path):
    path = str(tmp_path / "a.db")
    with open_archive(path) as a:
        for i in range(300):
            a.record(comment(i, text="x" * 200))
        a.checkpoint()
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:  # smash pages in the middle of the file, keep the header
        fh.seek(4096 * 3)
        fh.write(os.urandom(min(4096 * 8, size - 4096 * 3)))
    with pytest.raises(ArchiveError) as info:
        with open_archive(path) as a:
            a.verify()
            for i in range(300, 400):
                a.record(comment(i))
    assert isinstance(info.value, (CorruptArchive, ArchiveError))
    assert "damaged" in str(info.value) or "malformed" in str(info.value)
    proc = run_cli("records", "verify", "--archive", path)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr + proc.stdout
    assert ("damaged" in proc.stderr + proc.stdout) or ("FAILED" in proc.stdout)


def test_disk_full_is_reported_and_nothing_of_the_batch_is_recorded(tmp_path):
    """SQLite's real SQLITE_FULL, produced by capping the file's pages (as a full disk does)."""
    path = str(tmp_path / "a.db")
    a = open_archive(path)
    a.record(comment(0))
    before = a.count()
    a._conn.execute("PRAGMA max_page_count = %d" % a._conn.execute("PRAGMA page_count").fetchone()[0])
    with pytest.raises(DiskFull, match="disk full"):
        with a.writing() as w:
            for i in range(1, 500):
                w.ingest(comment(i, text="y" * 500))
    assert a.count() == before
    a._conn.execute("PRAGMA max_page_count = 1073741823")
    a.record(comment(1))
    assert a.count() == before + 1 and a.verify().ok
    a.close()


def test_disk_full_on_output_is_reported(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    path = str(tmp_path / "a.db")
    with open_archive(path) as a:
        for i in range(50):
            a.record(comment(i))
    proc = run_cli("records", "export", "--archive", path, "-o", "/dev/full")
    assert proc.returncode == 2
    assert "No space left on device" in proc.stderr and "Traceback" not in proc.stderr


# -- concurrent writers ------------------------------------------------------------------------------

_WRITER = """
import sys
from policykit.records import open_archive
path, tag, n, overlap = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
a = open_archive(path)
for i in range(0, n, 10):
    with a.writing() as w:
        for j in range(i, min(i + 10, n)):
            w.ingest({"kind": "comment", "id": f"{tag}-{j}", "text": f"from {tag} {j}"})
            if j < overlap:
                w.ingest({"kind": "comment", "id": f"shared-{j}", "text": f"shared {j}"})
a.close()
"""


def _concurrent_writers(url: str, n: int = 300, overlap: int = 50) -> None:
    procs = [subprocess.Popen([PYTHON, "-c", _WRITER, url, tag, str(n), str(overlap)], cwd=str(ROOT),
                              stderr=subprocess.PIPE, text=True) for tag in ("p1", "p2")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with open_archive(url) as a:
        keys = [r.subject for r in a.records(kind="event")]
        assert len(keys) == len(set(keys)) == 2 * n + overlap  # nothing lost, nothing twice
        result = a.verify()
        assert result.ok, result.problem


def test_two_processes_write_one_sqlite_file(tmp_path):
    path = str(tmp_path / "shared.db")
    open_archive(path).close()
    _concurrent_writers(path)


def test_two_processes_write_one_postgres_archive(pg_url):
    open_archive(pg_url).close()
    _concurrent_writers(pg_url)


# -- SIGKILL mid-batch ----------------------------------------------------------------------------------

def _kill_mid_stream(archive: str, events: list[dict], kill_after: int) -> list[dict]:
    """Stream events into `policykit moderate`, SIGKILL it once `kill_after` verdicts were acknowledged
    (while it is still being fed), and return the acknowledged verdicts."""
    proc = subprocess.Popen([PYTHON, "-m", "policykit.cli_records", "moderate", "--policy", "clinton",
                             "--archive", archive, "--batch", "25"], cwd=str(ROOT), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stop = threading.Event()

    def feed() -> None:
        try:
            for i in range(0, len(events), 10):
                if stop.is_set():
                    return
                proc.stdin.write("".join(json.dumps(e) + "\n" for e in events[i:i + 10]).encode())
                proc.stdin.flush()
                time.sleep(0.002)
        except (BrokenPipeError, OSError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    acked: list[dict] = []
    deadline = time.time() + 60
    while len(acked) < kill_after and time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acked.append(json.loads(line))
    proc.send_signal(signal.SIGKILL)
    stop.set()
    proc.wait(timeout=30)
    feeder.join(timeout=10)
    # lines already written to the pipe before the kill were acknowledged too
    for line in proc.stdout.read().splitlines():
        if line.strip():
            acked.append(json.loads(line))
    assert proc.returncode == -signal.SIGKILL
    return acked


def _kill_and_restart(archive: str, clinton) -> None:
    texts = ["Thanks for the concert", "what the hell is this", "When is the pool open?", "Nice work, crew"]
    events = [comment(i, text=texts[i % 4], author=f"u{i % 7}") for i in range(600)]
    acked = _kill_mid_stream(archive, events, kill_after=120)
    assert len(acked) >= 120
    with open_archive(archive) as a:
        result = a.verify()
        assert result.ok, result.problem
        recorded = [r.subject for r in a.records(kind="event")]
        assert len(recorded) == len(set(recorded))              # nothing twice
        for v in acked:                                          # nothing acknowledged is lost
            assert v["record"]["key"] in set(recorded)
            assert a.get(v["record"]["seq"]).hash == v["record"]["hash"]
        assert len(recorded) < len(events)                       # it really died mid-stream
    # restart with the whole stream (a redelivery of everything): each event ends up recorded once
    proc = run_cli("moderate", "--policy", "clinton", "--archive", archive,
                   input="".join(json.dumps(e) + "\n" for e in events), timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == len(events)
    before = {v["record"]["key"]: v for v in acked}
    for v in out:
        if v["record"]["key"] in before:
            assert v["record"]["duplicate"] and v["decision"] == before[v["record"]["key"]]["decision"]
            assert v["record"]["seq"] == before[v["record"]["key"]]["record"]["seq"]
    with open_archive(archive) as a:
        assert a.verify().ok
        recorded = [r.subject for r in a.records(kind="event")]
        assert sorted(recorded) == sorted(f"facebook:c{i}" for i in range(600))
        verdict_keys = [r.subject for r in a.records(kind="verdict")]
        assert len(verdict_keys) == len(set(verdict_keys)) == 600


def test_sigkill_mid_batch_loses_nothing_acknowledged_sqlite(tmp_path, clinton):
    _kill_and_restart(str(tmp_path / "mod.db"), clinton)


def test_sigkill_mid_batch_loses_nothing_acknowledged_postgres(pg_url, clinton):
    _kill_and_restart(pg_url, clinton)


def test_two_moderate_processes_share_one_archive(tmp_path):
    """Two bots on one SQLite file, with overlapping deliveries: every event once, the same verdict
    (the same record) for an event whichever bot got it."""
    path = str(tmp_path / "bots.db")
    open_archive(path).close()
    texts = ["Nice work", "what the hell", "When is trash pickup?"]
    streams = [[comment(i, text=texts[i % 3], author=f"u{i % 5}") for i in range(lo, lo + 150)] for lo in (0, 100)]
    procs = [subprocess.Popen([PYTHON, "-m", "policykit.cli_records", "moderate", "--policy", "clinton",
                               "--archive", path, "--batch", "10"], cwd=str(ROOT), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in streams]
    outs = [p.communicate("".join(json.dumps(e) + "\n" for e in s), timeout=120) for p, s in zip(procs, streams)]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err
    by_key: dict[str, set] = {}
    for out, _ in outs:
        for line in out.splitlines():
            v = json.loads(line)
            by_key.setdefault(v["record"]["key"], set()).add((v["record"]["seq"], v["decision"]))
    assert len(by_key) == 250 and all(len(s) == 1 for s in by_key.values())
    with open_archive(path) as a:
        assert a.verify().ok
        events = [r.subject for r in a.records(kind="event")]
        assert len(events) == len(set(events)) == 250
