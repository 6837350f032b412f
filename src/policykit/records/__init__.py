"""policykit.records: the public-records archive.

    from policykit.records import open_archive
    archive = open_archive("moderation.db")            # SQLite file (created if missing), or ":memory:"
    archive = open_archive("postgresql://bot@db/records")  # PostgreSQL, shared by several bots
    archive.verify()                                   # prove the hash chain intact, or name the first bad record

Append-only: events (new items and new versions), verdicts, evidence documented before a removal,
appeals, holds and purges are records in one hash chain. See docs/records.md.
"""

from __future__ import annotations

from .errors import ArchiveError, CheckpointError, CorruptArchive, DiskFull, ForeignArchive
from .export import ExportFilter, export_rows, write_csv, write_jsonl
from .retention import Hold, RetentionError, RetentionRule
from .store import Archive, Ingested, ItemState, Record, RetentionReport, VerifyResult


def open_archive(url: str, *, create: bool = True) -> Archive:
    """Open (or, with `create`, make) an archive: a `postgresql://` or `postgres://` URL, a
    `sqlite:///path` URL, a file path, or `:memory:`."""
    if not isinstance(url, str) or not url:
        raise ArchiveError("no archive given: pass a file path, ':memory:' or a postgresql:// URL")
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresArchive

        return PostgresArchive(url, create=create)
    if url.startswith("sqlite:///"):  # sqlite:///relative.db, sqlite:////absolute/path.db
        url = url[len("sqlite:///"):] or ":memory:"
    elif url.startswith("sqlite://"):
        url = url[len("sqlite://"):] or ":memory:"
    from .sqlite import SQLiteArchive

    return SQLiteArchive(url, create=create)


__all__ = ["Archive", "ArchiveError", "CheckpointError", "CorruptArchive", "DiskFull", "ExportFilter", "ForeignArchive", "Hold",
           "Ingested", "ItemState", "Record", "RetentionError", "RetentionReport", "RetentionRule", "VerifyResult", "export_rows",
           "open_archive", "write_csv", "write_jsonl"]
