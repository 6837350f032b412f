"""Policies are reloaded when their files change, without dropping a request; a request keeps the policy
version it started with; a file that does not compile leaves the last good version in service."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx

from policykit.serve import PolicySet


def town(version: int, effect: str = "remove", broken: bool = False) -> str:
    category = "nonsense_category" if broken else "profanity"
    return (f'policy town "Town policy, revision {version}"\n  version "{version}"\n'
            f'clause 1 "Profane language or content;"\n  {effect} comment when has {category}\n')


def write(path: Path, text: str) -> None:
    """Replace the file whole, as a deployment does (an editor writing in place may be caught half
    written: that is one more failed reload, then the whole file, and would make the counts vary)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    while True:
        staged = path.with_suffix(".tmp")
        staged.write_text(text)
        os.replace(staged, path)
        if path.stat().st_mtime_ns != before:
            return
        time.sleep(0.01)


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_held_version_keeps_judging_after_a_reload(tmp_path) -> None:
    path = tmp_path / "town.pol"
    path.write_text(town(1))
    policies = PolicySet([str(tmp_path)])
    policies.load()
    held = policies.current()["town"]
    write(path, town(2, "deny"))
    assert policies.check() == 1
    event = {"kind": "comment", "labels": ["profanity"]}
    assert held.policy.evaluate(event).decision == "remove"  # the version a request started with
    assert policies.current()["town"].policy.evaluate(event).decision == "deny"
    assert policies.check() == 0  # nothing changed since


def test_a_changed_parent_is_reloaded_too(tmp_path) -> None:
    parent, child = tmp_path / "base.pol", tmp_path / "child.pol"
    parent.write_text(town(1).replace("policy town", "policy base"))
    child.write_text('policy child "Child"\n  extends "base.pol"\n')
    policies = PolicySet([str(child)])
    policies.load()
    assert policies.current()["child"].files == (child.resolve(), parent.resolve())
    write(parent, town(2, "deny").replace("policy town", "policy base"))
    assert policies.check() == 1
    assert policies.current()["child"].policy.evaluate({"kind": "comment", "labels": ["profanity"]}).decision == "deny"


def test_reloading_under_load_drops_no_request(start_server, tmp_path) -> None:
    policy = tmp_path / "town.pol"
    policy.write_text(town(1))
    server = start_server("--policy", str(tmp_path), "--reload-interval", "0.1")
    event = {"kind": "comment", "labels": ["profanity"]}
    seen: list[tuple[int, str, str]] = []  # (status, version, decision)
    batches: list[set[str]] = []
    stop = threading.Event()
    failures: list[str] = []

    def load() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while not stop.is_set():
                try:
                    one = http.post("/v1/policies/town/evaluate", json=event)
                    body = one.json()
                    seen.append((one.status_code, body["policy"]["version"], body["decision"]))
                    many = http.post("/v1/policies/town/batch", json={"events": [event] * 200})
                    batches.append({r["verdict"]["policy"]["version"] for r in many.json()["results"]})
                except Exception as exc:  # a dropped connection, a bad answer: the test fails below
                    failures.append(repr(exc))

    threads = [threading.Thread(target=load) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: len(seen) > 5)
        write(policy, town(2, "deny") + "# a longer file\n")
        wait_for(lambda: seen and seen[-1][1] == "2")
        with server.client() as http:
            write(policy, town(3, broken=True))
            wait_for(lambda: http.get("/healthz").json()["status"] == "degraded")
            health = http.get("/healthz").json()
            (problem,) = health["reload_errors"]
            assert problem["file"] == str(policy) and problem["diagnostics"][0]["code"].startswith("PK")
            count = len(seen)
            wait_for(lambda: len(seen) > count + 5)
            assert seen[-1][1:] == ("2", "deny")  # the last good version is still served
            write(policy, town(4))
            wait_for(lambda: seen[-1][1] == "4")
            assert http.get("/healthz").json()["status"] == "ok"
            (tmp_path / "village.pol").write_text(town(1).replace("policy town", "policy village"))
            wait_for(lambda: "village" in http.get("/healthz").json()["policies"])
            metrics = http.get("/metrics").text.splitlines()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not failures, failures[:3]
    assert {status for status, _, _ in seen} == {200}
    versions = [int(version) for _, version, _ in seen]
    assert set(versions) == {1, 2, 4}
    assert all(len(versions_in_batch) == 1 for versions_in_batch in batches)  # one version per request
    assert 'policykit_policy_reloads_total{policy="town",result="ok"} 2.0' in metrics
    assert 'policykit_policy_reloads_total{policy="town",result="error"} 1.0' in metrics
