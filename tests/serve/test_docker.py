"""The Dockerfile builds an image whose server answers over HTTP; only where a docker engine runs."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "docker-test-token-0123456789abcdef"


def _docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = pytest.mark.skipif(not _docker_works(), reason="no docker engine here (`docker info` fails)")


def test_the_image_serves_decisions_and_refuses_to_run_without_a_token() -> None:
    tag = f"policykit-test:{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=900)
    name = f"policykit-test-{uuid.uuid4().hex[:8]}"
    try:
        refused = subprocess.run(["docker", "run", "--rm", tag], capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2 and "give a bearer token" in refused.stderr
        subprocess.run(["docker", "run", "-d", "--name", name, "-e", f"POLICYKIT_SERVE_TOKEN={TOKEN}",
                        "-p", "127.0.0.1::8411", tag], check=True, timeout=120)
        port = subprocess.run(["docker", "port", name, "8411/tcp"], capture_output=True, text=True,
                              check=True).stdout.split(":")[-1].strip()
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the container's server did not come up"
            time.sleep(0.5)
        event = {"kind": "comment", "text": "what the hell"}
        assert httpx.post(f"{url}/v1/policies/clinton/evaluate", json=event).status_code == 401
        answer = httpx.post(f"{url}/v1/policies/clinton/evaluate", json=event,
                            headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200 and answer.json()["decision"] == "remove"
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
