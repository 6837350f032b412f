"""A verdict served over loopback is the library's verdict: every bundled example event, every bundled
policy, one by one and in a batch; and native platform payloads through `from_platform`."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

import policykit
from policykit.cli import read_events
from policykit.errors import EventError
from policykit.platforms import from_platform

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ("syracuse", "nyc", "clinton", "cottonwood", "minnesota_model")
EXAMPLES = [event for _, event in read_events([str(ROOT / "examples" / "events")])]
PAYLOADS = sorted(p for p in (ROOT / "tests" / "platforms" / "fixtures").glob("*/*.json") if p.parent.name != "malformed")


def wire(value: object) -> bytes:
    """JSON as a caller would send it (YAML's dates become ISO strings)."""
    return json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, (date, datetime)) else str(v)).encode()


def test_examples_are_there() -> None:
    assert len(EXAMPLES) >= 8 and len(PAYLOADS) >= 20  # the parametrisations below are not empty


@pytest.mark.parametrize("name", POLICIES)
def test_every_example_event_gets_the_library_verdict(client, name: str) -> None:
    policy = policykit.load(name)
    for event in EXAMPLES:
        expected = policy.evaluate(event).model_dump(mode="json")
        answer = client.post(f"/v1/policies/{name}/evaluate", content=wire(event))
        assert answer.status_code == 200, answer.text
        assert answer.json() == expected, event.get("id")
        assert answer.headers["x-policykit-digest"] == policy.digest


@pytest.mark.parametrize("name", POLICIES)
def test_a_batch_of_the_examples_gets_the_library_verdicts_in_order(client, name: str) -> None:
    policy = policykit.load(name)
    answer = client.post(f"/v1/policies/{name}/batch", content=wire({"events": EXAMPLES}))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["policy"] == name and body["digest"] == policy.digest and body["errors"] == 0
    assert [r["index"] for r in body["results"]] == list(range(len(EXAMPLES)))
    assert [r["verdict"] for r in body["results"]] == [policy.evaluate(e).model_dump(mode="json") for e in EXAMPLES]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_platform_payload_gets_the_library_verdicts(client, payload: Path) -> None:
    platform, data = payload.parent.name, json.loads(payload.read_text())
    policy = policykit.load("nyc")
    answer = client.post(f"/v1/policies/nyc/platforms/{platform}", content=payload.read_bytes())
    try:
        events = from_platform(platform, data)
    except EventError as exc:  # the library refuses it: so does the server, with the same problems
        assert answer.status_code == 422, answer.text
        assert answer.json()["problems"] == [{"path": p.path, "expected": p.expected, "got": p.got}
                                             for p in exc.problems]
        return
    assert answer.status_code == 200, answer.text
    expected = []
    for event in events:
        try:
            expected.append({"verdict": policy.evaluate(event).model_dump(mode="json")})
        except EventError as exc:
            expected.append({"error": "malformed event", "problems": [
                {"path": p.path, "expected": p.expected, "got": p.got} for p in exc.problems]})
    got = [{k: v for k, v in r.items() if k != "index"} for r in answer.json()["results"]]
    assert got == expected


def test_city_accounts_reach_the_adapter(client) -> None:
    payload = ROOT / "tests" / "platforms" / "fixtures" / "mastodon" / "city_post_with_media.json"
    data = json.loads(payload.read_text())
    handle = data["account"]["acct"]
    as_city = from_platform("mastodon", data, city_accounts=frozenset({handle}))
    answer = client.post("/v1/policies/nyc/platforms/mastodon", params={"city_account": handle},
                         content=payload.read_bytes())
    assert answer.status_code == 200, answer.text
    policy = policykit.load("nyc")
    assert [r["verdict"] for r in answer.json()["results"]] == [policy.evaluate(e).model_dump(mode="json")
                                                                 for e in as_city]
