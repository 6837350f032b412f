"""A real `policykit serve` process on a free loopback port, and an httpx client for it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
START = "from policykit.cli import main; import sys; sys.exit(main(sys.argv[1:]))"


class Server:
    """`policykit serve ARGS` as a subprocess; `url` once it listens; stderr kept in a file."""

    def __init__(self, args: list[str], tmp: Path, env: dict[str, str] | None = None) -> None:
        self.log = tmp / f"serve-{time.monotonic_ns()}.log"
        self.args = args
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen([sys.executable, "-c", START, "serve", "--port", "0", *args],
                                         stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT,
                                         env={**os.environ, **(env or {})})
        self.url = self._wait()

    def _wait(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = self.log.read_text()
            found = re.search(r"listening on (http://\S+)", text)
            if found:
                return found.group(1)
            if self.proc.poll() is not None:
                raise AssertionError(f"policykit serve exited {self.proc.returncode}: {text}")
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"policykit serve did not start: {self.log.read_text()}")

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def stderr(self) -> str:
        return self.log.read_text()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator:
    """Start servers with given arguments; all are stopped at the end of the test."""
    started: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Server:
        server = Server(list(args), tmp_path, env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def bundled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the read-only tests: every bundled policy, no reloading, small limits."""
    server = Server(["--reload-interval", "0", "--max-body", "65536", "--max-batch", "50"],
                    tmp_path_factory.mktemp("serve"))
    yield server
    server.stop()


@pytest.fixture
def client(bundled_server: Server) -> Iterator[httpx.Client]:
    with bundled_server.client() as http:
        yield http


def run_serve(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """`policykit serve ARGS` expected to refuse to start: its exit code and output."""
    return subprocess.run([sys.executable, "-c", START, "serve", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture
def serve_cli():
    """`run_serve`, for tests that expect the server to refuse to start."""
    return run_serve
