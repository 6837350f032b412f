"""Fixtures for the archive tests: SQLite files in tmp dirs, and a real, throw-away PostgreSQL server.

The PostgreSQL server is started here (initdb + pg_ctl on a free loopback port, in a temp dir, as the
`postgres` user when the tests run as root, since initdb refuses root) and stopped at the end of the
session. Its tests skip only when the binaries are not installed; `.ci/run` installs them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def pg_bindir() -> str | None:
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]) if
                    p.split("/")[-2].isdigit() else 0, reverse=True):
        if os.path.exists(os.path.join(d, "initdb")) and os.path.exists(os.path.join(d, "pg_ctl")):
            return d
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return os.path.dirname(os.path.realpath(initdb))
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        # as root the server runs as `postgres`, which must reach the directory: keep it under /tmp
        where = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
        self.base = tempfile.mkdtemp(prefix="policykit-pg-", dir=where)
        self.data = os.path.join(self.base, "data")
        self.log = os.path.join(self.base, "server.log")
        self.port = _free_port()
        self.user = None
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and there is no `postgres` user to run the server as")
            self.user = "postgres"
            os.chown(self.base, pw.pw_uid, pw.pw_gid)

    def _run(self, *args: str) -> None:
        kwargs = {"user": self.user} if self.user else {}
        proc = subprocess.run([os.path.join(self.bindir, args[0]), *args[1:]], capture_output=True, text=True,
                              cwd=self.base, timeout=120, **kwargs)
        if proc.returncode != 0:
            log = Path(self.log).read_text() if os.path.exists(self.log) else ""
            raise RuntimeError(f"{args[0]} failed: {proc.stdout}\n{proc.stderr}\n{log}")

    def start(self) -> None:
        self._run("initdb", "-D", self.data, "-U", "policykit", "--auth=trust", "-E", "UTF8", "--no-sync",
                  "--locale=C")
        opts = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c max_connections=40 "
                f"-c shared_buffers=32MB")
        self._run("pg_ctl", "-D", self.data, "-o", opts, "-l", self.log, "-w", "-t", "60", "start")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        except Exception:
            pass
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://policykit@127.0.0.1:{self.port}/{db}"

    def create_db(self) -> str:
        import psycopg

        name = "pk_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def pg_server():
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed; "
                    "`apt-get install postgresql` (as .ci/run does) to run these tests")
    pytest.importorskip("psycopg")
    server = PgServer(bindir)
    try:
        server.start()
    except Exception:
        server.stop()
        raise
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    return pg_server.create_db()


@pytest.fixture(params=["sqlite", "postgres"])
def archive_url(request, tmp_path) -> str:
    """An empty archive location on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "archive.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def clinton():
    import policykit

    return policykit.load("clinton")


def run_cli(*args: str, input: str | None = None, timeout: float = 60, env: dict | None = None):
    """Run `python -m policykit.cli_records ARGS` for real; returns the CompletedProcess."""
    return subprocess.run([PYTHON, "-m", "policykit.cli_records", *args], input=input, capture_output=True,
                          text=True, timeout=timeout, cwd=str(ROOT), env=env)


def comment(i: int | str, text: str = "Thanks for fixing the park lights.", author: str = "u1", **more) -> dict:
    ev = {"kind": "comment", "id": f"c{i}", "platform": "facebook", "at": "2024-05-01T10:00:00Z", "text": text,
          "author": {"id": author, "name": f"Person {author}"},
          "account": {"id": "acct-1", "handle": "@clintoncity", "platform": "facebook"}}
    ev.update(more)
    return ev
