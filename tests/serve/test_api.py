"""The endpoints, the error shape, the limits and the OpenAPI document, on a real server process."""

from __future__ import annotations

import json
import re
import socket
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

import policykit


def test_healthz_names_the_policies(client) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["policies"] == sorted(policykit.policies())
    assert body["reload_errors"] == [] and body["decision_log"] is None


def test_policies_are_listed_with_their_digests(client) -> None:
    rows = client.get("/v1/policies").json()
    assert [r["name"] for r in rows] == sorted(policykit.policies())
    clinton = next(r for r in rows if r["name"] == "clinton")
    policy = policykit.load("clinton")
    assert clinton["digest"] == policy.digest and clinton["clauses"] == len(policy.clauses)
    assert clinton["rules"] == len(policy.rules) and clinton["unfilled"] == list(policy.unfilled)


def test_a_policy_shows_its_clauses_in_their_own_words(client) -> None:
    body = client.get("/v1/policies/clinton").json()
    policy = policykit.load("clinton")
    clauses = {c["id"]: c for c in body["clauses"]}
    assert list(clauses) == list(policy.clauses)
    assert clauses["3.4.3.A"]["text"] == "Profane language or content;"
    assert clauses["3.4.3.A"]["source"] == policy.clauses["3.4.3.A"].source and clauses["3.4.3.A"]["checked"]
    assert body["retention"] == str(policy.retention)
    assert {r["id"] for r in body["rules"]} == {r.id for r in policy.rules}


def test_a_malformed_event_gets_the_library_problems(client) -> None:
    event = {"kind": "comment", "text": 5, "colour": "red", "labels": ["obscen"]}
    answer = client.post("/v1/policies/clinton/evaluate", json=event)
    assert answer.status_code == 422
    try:
        policykit.load("clinton").evaluate(event)
    except policykit.EventError as exc:
        expected = [{"path": p.path, "expected": p.expected, "got": p.got} for p in exc.problems]
    assert answer.json() == {"error": "malformed event", "problems": expected}
    paths = [p["path"] for p in expected]
    assert "text" in paths and "colour" in paths


def test_an_unknown_label_is_refused_with_a_suggestion(client) -> None:
    answer = client.post("/v1/policies/clinton/evaluate", json={"kind": "comment", "labels": ["obscen"]})
    assert answer.status_code == 422
    (problem,) = answer.json()["problems"]
    assert problem["path"] == "labels[0]" and "obscene" in problem["expected"]


def test_bad_requests_are_4xx_in_the_one_error_shape(client) -> None:
    cases = [
        (client.post("/v1/policies/clinton/evaluate", content=b"{not json"), 400),
        (client.post("/v1/policies/clinton/evaluate", content=b""), 400),
        (client.post("/v1/policies/clinton/evaluate", content=b"[1, 2]"), 422),
        (client.post("/v1/policies/clintn/evaluate", json={"kind": "comment"}), 404),
        (client.get("/v1/policies/clintn"), 404),
        (client.post("/v1/nothing", json={}), 404),
        (client.delete("/v1/policies/clinton"), 405),
        (client.post("/v1/policies/clinton/batch", json={"events": "x"}), 422),
        (client.post("/v1/policies/clinton/batch", json={"events": [], "more": 1}), 422),
        (client.post("/v1/policies/clinton/platforms/myspace", json={}), 404),
        (client.post("/v1/policies/clinton/platforms/mastodon", json={"id": "1"}), 422),
        (client.post("/v1/policies/clinton/evaluate", content=b"[" * 5000), 400),
    ]
    for answer, status in cases:
        assert answer.status_code == status, (answer.request.url, answer.text)
        body = answer.json()
        assert set(body) <= {"error", "problems", "diagnostics"} and body["error"], body
    suggestion = cases[3][0].json()
    assert "did you mean `clinton`" in suggestion["error"]
    assert suggestion["problems"] == [{"path": "policy", "expected": suggestion["problems"][0]["expected"],
                                       "got": "'clintn'"}]


def test_a_batch_answers_a_bad_event_in_its_place_and_goes_on(client) -> None:
    events = [{"kind": "comment", "labels": ["obscene"]}, {"kind": "coment"}, {"kind": "comment"}]
    body = client.post("/v1/policies/clinton/batch", json={"events": events}).json()
    assert body["errors"] == 1
    first, bad, last = body["results"]
    assert first["verdict"]["decision"] == "remove" and last["verdict"]["decision"] == "allow"
    assert bad == {"index": 1, "error": "malformed event", "problems": [
        {"path": "kind", "expected": "kind to be one of post, comment, account, action", "got": "{'kind': 'coment'}"}]}


def test_body_and_batch_limits(client) -> None:
    big = {"kind": "comment", "text": "x" * 70000}
    answer = client.post("/v1/policies/clinton/evaluate", json=big)
    assert answer.status_code == 413 and "65,536 bytes" in answer.json()["error"]
    answer = client.post("/v1/policies/clinton/batch", json={"events": [{"kind": "comment"}] * 51})
    assert answer.status_code == 413 and answer.json()["problems"][0]["path"] == "events"


def test_a_body_sent_without_length_is_still_bounded(client) -> None:
    chunks = (b'{"kind": "comment", "text": "' + b"x" * 1000 + b'"' for _ in range(100))
    answer = client.post("/v1/policies/clinton/evaluate", content=chunks)
    assert answer.status_code == 413


def test_a_slow_body_is_cut_off_at_the_time_limit(start_server) -> None:
    server = start_server("--policy", "clinton", "--time-limit", "0.5", "--reload-interval", "0")
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /v1/policies/clinton/evaluate HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{")
        start = time.monotonic()
        answer = sock.recv(65536)
        waited = time.monotonic() - start
        length = int(re.search(rb"content-length: (\d+)", answer).group(1))
        while len(answer.split(b"\r\n\r\n", 1)[1]) < length:
            answer += sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"time limit" in answer and waited < 5


def test_metrics_count_decisions_by_policy_and_outcome(start_server) -> None:
    server = start_server("--policy", "clinton", "--policy", "nyc", "--reload-interval", "0")
    with server.client() as http:
        for _ in range(3):
            http.post("/v1/policies/clinton/evaluate", json={"kind": "comment", "labels": ["obscene"]})
        http.post("/v1/policies/clinton/evaluate", json={"kind": "comment"})
        http.post("/v1/policies/clinton/evaluate", json={"kind": "comment", "labels": ["obscen"]})
        http.post("/v1/policies/nyc/batch", json={"events": [{"kind": "comment"}] * 2})
        page = http.get("/metrics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    lines = page.text.splitlines()
    assert 'policykit_decisions_total{outcome="remove",policy="clinton"} 3.0' in lines
    assert 'policykit_decisions_total{outcome="allow",policy="clinton"} 1.0' in lines
    assert 'policykit_decisions_total{outcome="malformed",policy="clinton"} 1.0' in lines
    assert 'policykit_decisions_total{outcome="allow",policy="nyc"} 2.0' in lines
    route = 'route="/v1/policies/{policy}/evaluate"'
    count = next(line for line in lines if line.startswith("policykit_request_duration_seconds_count")
                 and route in line and 'status="200"' in line)
    assert count.endswith(" 4.0")
    assert any(line.startswith("policykit_request_duration_seconds_bucket") and 'le="0.005"' in line
               for line in lines)
    assert "policykit_policies_served 2.0" in lines


def test_the_openapi_document_validates(client) -> None:
    doc = client.get("/openapi.json").json()
    validate(doc)
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(doc)))
    assert refs <= set(doc["components"]["schemas"]), refs - set(doc["components"]["schemas"])
    paths = doc["paths"]
    assert set(paths) >= {"/healthz", "/metrics", "/v1/policies", "/v1/policies/{policy}",
                          "/v1/policies/{policy}/evaluate", "/v1/policies/{policy}/batch",
                          "/v1/policies/{policy}/platforms/{platform}"}
    evaluate = paths["/v1/policies/{policy}/evaluate"]["post"]
    assert evaluate["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Event"}
    schemas = doc["components"]["schemas"]
    assert {"Event", "Comment", "Post", "Verdict", "ErrorBody", "BatchRequest", "BatchResponse"} <= set(schemas)
    assert "422" in evaluate["responses"] and "security" not in evaluate


# Any JSON at all, and some bytes that are not JSON: never a 5xx.
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                           max_leaves=20)
event_like = st.fixed_dictionaries({"kind": st.sampled_from(["post", "comment", "account", "action", "x"])},
                                   optional={"text": json_values, "labels": json_values, "links": json_values,
                                             "media": json_values, "author": json_values, "at": json_values,
                                             "action": json_values, "account": json_values, "extra": json_values})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(json_values.map(json.dumps), event_like.map(json.dumps), st.binary(max_size=50)),
       route=st.sampled_from(["evaluate", "batch", "platforms/mastodon", "platforms/x", "platforms/bluesky",
                              "platforms/facebook"]))
def test_no_input_is_a_server_error(client, body, route) -> None:
    content = body if isinstance(body, bytes) else body.encode()
    answer = client.post(f"/v1/policies/nyc/{route}", content=content)
    assert answer.status_code < 500, (content, answer.text)
    if answer.status_code != 200:
        assert answer.json()["error"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=event_like)
def test_a_batch_of_anything_is_answered_item_by_item(client, event) -> None:
    answer = client.post("/v1/policies/clinton/batch", json={"events": [event, {"kind": "comment"}]})
    assert answer.status_code == 200, answer.text
    first, second = answer.json()["results"]
    assert ("verdict" in first) != ("problems" in first)
    assert second["verdict"]["decision"] == "allow"
