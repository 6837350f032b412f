"""The PostgreSQL archive, for several bot processes on several machines sharing one archive.

Opened by URL (`postgresql://user@host:port/dbname`). Writers serialise on a transaction-scoped
advisory lock, read the chain head under it, and commit with PostgreSQL's default durable
(`synchronous_commit = on`) commits. Needs `psycopg` 3, which the `postgres` extra installs
(`pip install "policykit[postgres]"`); it is imported only when a PostgreSQL archive is opened, so
SQLite users never need it.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from .errors import ArchiveError, CorruptArchive, DiskFull, ForeignArchive
from .store import Archive, schema_sql

MISSING_DRIVER = ("a postgresql:// archive needs the PostgreSQL driver, which is optional: "
                  "pip install 'policykit[postgres]'")
LOCK_KEY = 0x706B6172  # the advisory lock all policykit writers of one database share


class PostgresArchive(Archive):
    backend = "postgresql"

    def __init__(self, url: str, *, create: bool = True, connect_timeout: int = 10) -> None:
        super().__init__()
        try:
            import psycopg
        except ImportError as exc:
            raise ArchiveError(MISSING_DRIVER) from exc
        self._psycopg = psycopg
        self.url = _redact(url)
        try:
            self._conn = psycopg.connect(url, autocommit=False, connect_timeout=connect_timeout)
        except psycopg.Error as exc:
            raise ArchiveError(f"cannot connect to the archive {self.url}: {str(exc).strip()}") from exc
        with self._guard("open the archive"):
            tables = {r[0] for r in self._conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
            ours = {t for t in tables if t.startswith(self.T)}
            if not ours:
                if not create:
                    self._conn.rollback()
                    raise ArchiveError(f"no policykit archive in {self.url}")
                self._begin_write()
                try:
                    for stmt in schema_sql(self.T, "BIGINT"):
                        self._conn.execute(stmt)
                    self._init_meta()
                    self._commit()
                except BaseException:
                    self._rollback()
                    raise
            elif f"{self.T}meta" not in ours:
                self._conn.rollback()
                raise ForeignArchive(f"{self.url} has {self.T}* tables but no {self.T}meta: not a policykit "
                                     f"archive; refusing to touch it")
            self._check_meta(self.url)
            self._conn.rollback()

    def _q(self, sql: str) -> str:
        out = self._sql_cache.get(sql)
        if out is None:
            out = self._sql_cache[sql] = sql.replace("?", "%s")
        return out

    def _exec(self, sql: str, params: Iterable[Any] = ()) -> Any:
        return self._conn.execute(self._q(sql), tuple(params))

    def _executemany(self, sql: str, rows: list[tuple]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(self._q(sql), rows)

    def _iter(self, sql: str, params: Iterable[Any] = (), size: int = 5000) -> Iterator[tuple]:
        self._scans = getattr(self, "_scans", 0) + 1
        with self._conn.cursor(name=f"policykit_scan_{self._scans}") as cur:
            cur.itersize = size
            cur.execute(self._q(sql), tuple(params))
            yield from cur

    def _begin_write(self) -> None:
        # psycopg opens the transaction implicitly; the lock is held until commit or rollback.
        self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))

    def _commit(self) -> None:
        self._conn.commit()

    def _rollback(self) -> None:
        self._conn.rollback()

    def _end_read(self) -> None:
        try:
            self._conn.rollback()
        except self._psycopg.Error:
            pass

    def _translate(self, exc: BaseException, doing: str) -> ArchiveError | None:
        psycopg = self._psycopg
        if not isinstance(exc, psycopg.Error):
            return None
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, psycopg.errors.DiskFull) or getattr(exc, "sqlstate", None) == "53100":
            return DiskFull(f"disk full: could not {doing} in {self.url}; nothing of this batch was recorded "
                            f"({text})")
        if isinstance(exc, (psycopg.errors.DataCorrupted, psycopg.errors.IndexCorrupted)):
            return CorruptArchive(f"the archive {self.url} is damaged ({text})")
        if isinstance(exc, psycopg.errors.UndefinedTable):
            return ForeignArchive(f"{self.url} is not a complete policykit archive ({text})")
        if isinstance(exc, psycopg.OperationalError):
            return ArchiveError(f"lost the connection to the archive {self.url} while trying to {doing}: {text}; "
                                f"nothing of this batch was recorded")
        return ArchiveError(f"could not {doing} in {self.url}: {text}")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self._conn.close()
            except self._psycopg.Error:
                pass


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        if ":" in cred:
            cred = cred.split(":", 1)[0] + ":***"
        return f"{scheme}://{cred}@{host}"
    return url


__all__ = ["PostgresArchive"]
