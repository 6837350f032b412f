"""A verdict served over loopback is the library's verdict: every bundled example event, every bundled
policy, one by one and in a batch; and native platform payloads item by item, as `convert` answers them."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

import policykit
from policykit.cli import read_events
from policykit.errors import EventError
from policykit.platforms import convert, from_platform

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


def _platform(payload: Path) -> str:
    """The fixture's platform: its folder, or for `partial/` (pages with refused items) its name's prefix."""
    return payload.stem.split("_", 1)[0] if payload.parent.name == "partial" else payload.parent.name


def _problems(exc: EventError) -> list[dict]:
    return [{"path": p.path, "expected": p.expected, "got": p.got} for p in exc.problems]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_platform_payload_gets_the_library_verdicts(client, payload: Path) -> None:
    """Item by item, as `convert` answers: a refused item is an error in its place, the rest are judged."""
    platform, data = _platform(payload), json.loads(payload.read_text())
    policy = policykit.load("nyc")
    answer = client.post(f"/v1/policies/nyc/platforms/{platform}", content=payload.read_bytes())
    items = convert(platform, data)
    if len(items) == 1 and items[0].index is None and items[0].error is not None:
        assert answer.status_code == 422, answer.text  # the payload itself is refused, with the same problems
        assert answer.json()["problems"] == _problems(items[0].error)
        return
    assert answer.status_code == 200, answer.text
    expected = []
    for item in items:
        try:
            if item.error is not None:
                raise item.error
            expected.append({"verdict": policy.evaluate(item.event).model_dump(mode="json")})
        except EventError as exc:
            expected.append({"error": "malformed event", "problems": _problems(exc)})
    got = [{k: v for k, v in r.items() if k != "index"} for r in answer.json()["results"]]
    assert got == expected


def test_one_refused_item_does_not_refuse_the_page(client) -> None:
    payload = ROOT / "tests" / "platforms" / "fixtures" / "partial" / "x_search_page_media_missing.json"
    results = client.post("/v1/policies/nyc/platforms/x", content=payload.read_bytes()).json()["results"]
    assert any("error" in r for r in results) and any("verdict" in r for r in results)


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
