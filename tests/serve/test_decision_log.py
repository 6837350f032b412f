"""With `--archive`, every verdict served is first recorded in the public-records archive."""

from __future__ import annotations

import policykit
from policykit.records import open_archive


def test_verdicts_are_recorded_before_they_are_answered(start_server, tmp_path) -> None:
    db = tmp_path / "decisions.db"
    server = start_server("--policy", "clinton", "--archive", str(db), "--reload-interval", "0")
    policy = policykit.load("clinton")
    comment = {"kind": "comment", "id": "c-1", "platform": "facebook", "text": "what the hell",
               "author": {"id": "u-1"}}
    with server.client() as http:
        assert http.get("/healthz").json()["decision_log"] == str(db)
        first = http.post("/v1/policies/clinton/evaluate", json=comment).json()
        again = http.post("/v1/policies/clinton/evaluate", json=comment).json()
        events = [{"kind": "comment", "id": f"c-{n}", "platform": "facebook", "labels": ["obscene"]} for n in (2, 3)]
        batch = http.post("/v1/policies/clinton/batch", json={"events": [events[0], {"kind": "x"}, events[1]]}).json()
        bad = http.post("/v1/policies/clinton/evaluate", json={"kind": "comment", "labels": ["obscen"]})
    record = first.pop("record")
    assert first == policy.evaluate(comment).model_dump(mode="json")  # the verdict itself is the library's
    assert record["key"] == "facebook:c-1" and record["version"] == 1 and not record["duplicate"]
    assert again["record"]["duplicate"] and again["record"]["seq"] == record["seq"]  # a redelivery
    assert batch["errors"] == 1 and [r["index"] for r in batch["results"]] == [0, 1, 2]
    assert batch["results"][0]["record"]["key"] == "facebook:c-2"
    assert batch["results"][2]["record"]["key"] == "facebook:c-3"
    assert bad.status_code == 422
    with open_archive(str(db)) as archive:
        assert archive.verify().ok
        verdicts = list(archive.records(kind="verdict"))
    assert [r.subject for r in verdicts] == ["facebook:c-1", "facebook:c-2", "facebook:c-3"]
    stored = verdicts[0].content()
    assert stored["verdict"] == first and stored["policy"]["digest"] == policy.digest


def test_an_archive_that_cannot_be_opened_is_refused_at_start(serve_cli, tmp_path) -> None:
    foreign = tmp_path / "not-an-archive.db"
    foreign.write_bytes(b"this is not a database" * 100)
    done = serve_cli("--policy", "clinton", "--archive", str(foreign), "--port", "0")
    assert done.returncode == 2 and f"--archive {foreign}" in done.stderr and "Traceback" not in done.stderr
