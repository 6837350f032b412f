"""The receipt a moderated event gets is the same from Python (`Outcome.receipt`) and from the CLI."""

from __future__ import annotations

import json

from policykit.moderator import Moderator

from conftest import comment, run_cli

PROFANE = "what the hell is this"


def test_python_receipt_is_the_cli_receipt(tmp_path, clinton):
    events = [comment(1, text=PROFANE), comment(2), comment(1, text=PROFANE)]  # the third is a redelivery
    cli_db, py_db = tmp_path / "cli.db", tmp_path / "py.db"
    result = run_cli("moderate", "--policy", "clinton", "--archive", str(cli_db),
                     input="".join(json.dumps(e) + "\n" for e in events))
    assert result.returncode == 0, result.stderr
    from_cli = [json.loads(line)["record"] for line in result.stdout.splitlines()]
    with Moderator(clinton, str(py_db)) as mod:
        outcomes = mod.handle_many(events)
    assert [o.receipt for o in outcomes] == [json.loads(o.to_json_line())["record"] for o in outcomes]
    # the same events into an empty archive: the same keys, versions, sequence numbers and duplicates
    strip = [{k: v for k, v in r.items() if k != "hash"} for r in from_cli]
    assert [{k: v for k, v in o.receipt.items() if k != "hash"} for o in outcomes] == strip
    assert [r["duplicate"] for r in from_cli] == [False, False, True]
    assert outcomes[2].receipt["seq"] == outcomes[0].receipt["seq"]  # a redelivery names the first record


def test_a_refused_event_has_the_receipt_of_its_rejected_record(tmp_path, clinton):
    with Moderator(clinton, str(tmp_path / "a.db")) as mod:
        bad, = mod.handle_many([{"kind": "comment", "text": 3}])
        again, = mod.handle_many([{"kind": "comment", "text": 3}])
    assert bad.error is not None and bad.record is not None
    assert bad.receipt == {"kind": "rejected", "seq": bad.record, "hash": bad.hash, "duplicate": False}
    assert again.receipt == {**bad.receipt, "duplicate": True}
    assert json.loads(bad.to_json_line())["record"] == bad.receipt
