"""The embedded SQLite archive: one file (or `:memory:`), WAL journal, durable commits.

- `journal_mode=WAL` and `synchronous=FULL`: a commit returns only once it is on disk, so a record
  acknowledged to a caller survives a crash or a SIGKILL. Batching (`Moderator.handle_many`) amortises
  the sync over many records.
- Writers take SQLite's write lock up front (`BEGIN IMMEDIATE`) and wait for it (busy timeout), so
  several processes can write one file: they queue, none loses a record, the chain never forks.
- A file that is not SQLite, or is SQLite of another application, is refused with a clear message and
  left untouched; SQLite's own "malformed" and "disk full" errors become `CorruptArchive`/`DiskFull`.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any, Iterable

from .errors import ArchiveError, CorruptArchive, DiskFull, ForeignArchive
from .store import Archive, schema_sql

APPLICATION_ID = 0x706B6172  # "pkar": marks the file as a policykit archive in its header
_HEADER = b"SQLite format 3\x00"

# sqlite3 result codes (primary codes; extended codes keep them in the low byte)
SQLITE_CORRUPT, SQLITE_FULL, SQLITE_NOTADB, SQLITE_IOERR, SQLITE_CANTOPEN = 11, 13, 26, 10, 14
SQLITE_BUSY, SQLITE_READONLY = 5, 8


class SQLiteArchive(Archive):
    backend = "sqlite"

    def __init__(self, path: str, *, create: bool = True, busy_timeout: float = 60.0,
                 synchronous: str = "FULL") -> None:
        super().__init__()
        self.path = path
        self.url = path
        self._busy_timeout = busy_timeout
        memory = path == ":memory:" or path.startswith("file::memory:")
        if not memory:
            self._check_file(path, create)
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                         timeout=busy_timeout, uri=path.startswith("file:"))
        except sqlite3.Error as exc:
            raise ArchiveError(f"cannot open the archive {path}: {exc}") from exc
        with self._guard("open the archive"):
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            app_id = self._conn.execute("PRAGMA application_id").fetchone()[0]
            tables = [r[0] for r in self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
            if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables):
                self._conn.close()
                shown = ", ".join(tables[:5]) + (" ..." if len(tables) > 5 else "")
                raise ForeignArchive(f"{path} is an SQLite database but not a policykit archive "
                                     f"(application id {app_id:#x}; tables: {shown or 'none'}); refusing to touch it")
            if not memory:
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise ArchiveError(f"cannot put the archive {path} in WAL mode (got {mode})")
            self._conn.execute(f"PRAGMA synchronous = {synchronous}")
            self._conn.execute("PRAGMA cache_size = -65536")
            if not tables:
                if not create:
                    raise ArchiveError(f"{path} is not a policykit archive (it is empty)")
                self._begin_write()
                try:
                    for stmt in schema_sql(self.T, without_rowid=" WITHOUT ROWID"):
                        self._conn.execute(stmt)
                    self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    self._init_meta()
                    self._commit()
                except BaseException:
                    self._rollback()
                    raise
            else:
                if f"{self.T}meta" not in tables:
                    raise ForeignArchive(f"{path} is not a policykit archive (no {self.T}meta table); "
                                         f"refusing to touch it")
                self._check_meta(path)

    @staticmethod
    def _check_file(path: str, create: bool) -> None:
        if os.path.isdir(path):
            raise ArchiveError(f"{path} is a directory, not an archive file")
        if not os.path.exists(path):
            if not create:
                raise ArchiveError(f"no archive at {path}")
            parent = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(parent):
                raise ArchiveError(f"cannot create the archive {path}: no directory {parent}")
            return
        try:
            with open(path, "rb") as fh:
                head = fh.read(100)
        except OSError as exc:
            raise ArchiveError(f"cannot read the archive {path}: {exc.strerror}") from exc
        if not head:
            return  # an empty file: SQLite makes it a new database
        if not head.startswith(_HEADER):
            raise ForeignArchive(f"{path} is not a policykit archive: it is not an SQLite database "
                                 f"(it starts with {head[:16]!r}); refusing to touch it")
        if len(head) >= 72 and int.from_bytes(head[68:72], "big") not in (0, APPLICATION_ID):
            app = int.from_bytes(head[68:72], "big")
            raise ForeignArchive(f"{path} is an SQLite database of another application (application id "
                                 f"{app:#x}), not a policykit archive; refusing to touch it")

    # -- primitives ------------------------------------------------------------------------------

    def _exec(self, sql: str, params: Iterable[Any] = ()) -> Any:
        return self._conn.execute(sql, tuple(params))

    def _executemany(self, sql: str, rows: list[tuple]) -> None:
        self._conn.executemany(sql, rows)

    def _begin_write(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _translate(self, exc: BaseException, doing: str) -> ArchiveError | None:
        if not isinstance(exc, sqlite3.Error):
            return None
        code = getattr(exc, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        text = str(exc)
        if primary == SQLITE_FULL or "database or disk is full" in text:
            return DiskFull(f"disk full: could not {doing} in {self.path}; nothing of this batch was recorded "
                            f"({text})")
        if primary in (SQLITE_CORRUPT, SQLITE_NOTADB) or "malformed" in text or "not a database" in text:
            return CorruptArchive(f"the archive {self.path} is damaged ({text}); it cannot be read reliably. "
                                  f"Restore it from a backup; `policykit records verify` tells which records "
                                  f"of a readable copy are intact")
        if primary == SQLITE_IOERR:
            return ArchiveError(f"disk I/O error: could not {doing} in {self.path} ({text}); the disk may be "
                                f"full or failing; nothing of this batch was recorded")
        if primary == SQLITE_BUSY:
            return ArchiveError(f"the archive {self.path} stayed locked by another writer: could not {doing}")
        if primary == SQLITE_READONLY:
            return ArchiveError(f"the archive {self.path} is read-only: could not {doing}")
        if isinstance(exc, sqlite3.OperationalError) and "no such table" in text:
            return ForeignArchive(f"{self.path} is not a complete policykit archive ({text})")
        return ArchiveError(f"could not {doing} in {self.path}: {text}")

    def reader(self) -> "Archive | None":
        if self.path == ":memory:" or self.path.startswith("file::memory:"):
            return None  # another connection would see another database
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=self._busy_timeout, uri=self.path.startswith("file:"))
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            conn.execute("PRAGMA query_only = 1")
        except sqlite3.Error as exc:
            raise self._translate(exc, "open a reader of the archive") or ArchiveError(str(exc)) from exc
        return _Reader(conn, self)

    def checkpoint(self) -> None:
        with self._lock, self._guard("checkpoint the archive"):
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def integrity_check(self) -> str:
        with self._lock, self._guard("check the archive's file"):
            return str(self._conn.execute("PRAGMA quick_check").fetchone()[0])

    def close(self) -> None:
        _close(self)


class _Reader(Archive):
    """A read-only second connection to an archive file (WAL: it reads the last committed state and
    never waits for, nor blocks, the writer's commit)."""

    backend = "sqlite"

    def __init__(self, conn: sqlite3.Connection, owner: SQLiteArchive) -> None:
        super().__init__()
        self._conn, self.path, self.url, self._owner = conn, owner.path, owner.url, owner

    def _exec(self, sql: str, params: Iterable[Any] = ()) -> Any:
        return self._conn.execute(sql, tuple(params))

    def _translate(self, exc: BaseException, doing: str) -> ArchiveError | None:
        return self._owner._translate(exc, doing)

    def close(self) -> None:
        _close(self)


def _close(archive: "SQLiteArchive | _Reader") -> None:
    """Close a connection once; an error from closing a connection already lost is not worth raising."""
    if not archive.closed:
        archive.closed = True
        try:
            archive._conn.close()
        except sqlite3.Error:
            pass


__all__ = ["APPLICATION_ID", "SQLiteArchive"]
