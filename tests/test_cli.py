"""The command line, through the real console script: every command and flag, and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = shutil.which("policykit", path=str(Path(sys.executable).parent)) or "policykit"
COMMENT = {"kind": "comment", "text": "what the hell", "author_history": {"removed_before": 0}}


def run(*args: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([SCRIPT, *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


@pytest.mark.parametrize("command", ["lint", "check", "test", "fmt", "schema", "policies"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0 and "example" in result.stdout


def test_lint_clean_and_broken(tmp_path: Path) -> None:
    assert run("lint", "policies/clinton.pol").returncode == 0
    bad = tmp_path / "bad.pol"
    bad.write_text('policy bad "Bad"\n\nclause 1 "x"\n  deny post when author.trainedd\n')
    result = run("lint", str(bad))
    assert result.returncode == 1
    assert "bad.pol:4:18: error[PK102]" in result.stdout
    assert "^^^^^^^^^^^^^^^" in result.stdout and "did you mean `trained`" in result.stdout


def test_lint_formats_and_ignore_comment(tmp_path: Path) -> None:
    path = tmp_path / "w.pol"
    path.write_text('policy w "W"\n\ndefine unused = has profanity\nclause 1 "x"\n  not checkable because "y"\n')
    as_json = json.loads(run("lint", "--format", "json", str(path)).stdout)
    assert [d["code"] for d in as_json] == ["PK302"]
    assert run("lint", "--format", "github", str(path)).stdout.startswith("::warning file=")
    path.write_text(path.read_text().replace("define unused", "# policykit: ignore[PK302]\ndefine unused"))
    assert json.loads(run("lint", "--format", "json", str(path)).stdout) == []


def test_lint_sources_checks_quotes(tmp_path: Path) -> None:
    (tmp_path / "doc.txt").write_text("Profane language or content;\n")
    path = tmp_path / "q.pol"
    path.write_text('policy q "Q"\n  document "doc.txt"\n\nclause A "Profane language or content;"\n'
                    '  not checkable because "x"\nclause B "Words the document never said."\n'
                    '  not checkable because "x"\n')
    result = run("lint", "--sources", str(tmp_path), str(path))
    assert result.returncode == 1 and "PK307" in result.stdout and "clause `B`" in result.stdout


def test_check_reads_stdin_and_prints_citations() -> None:
    result = run("check", "--policy", "clinton", "-", stdin=json.dumps(COMMENT))
    assert result.returncode == 0
    assert "REMOVE" in result.stdout and "3.4.3.A" in result.stdout and "[hell]" in result.stdout


def test_check_json_jsonl_and_fail_on(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text(json.dumps(COMMENT) + "\n" + json.dumps({"kind": "comment", "text": "thanks"}) + "\n")
    lines = run("check", "--policy", "clinton", "--format", "jsonl", str(events)).stdout.splitlines()
    assert [json.loads(l)["decision"] for l in lines] == ["remove", "allow"]
    assert json.loads(run("check", "--policy", "clinton", "--format", "json", "-",
                          stdin=json.dumps(COMMENT)).stdout)["decision"] == "remove"
    assert run("check", "--policy", "clinton", "--fail-on", "remove", str(events)).returncode == 1
    assert run("check", "--policy", "clinton", "--fail-on", "deny", str(events)).returncode == 0


def test_check_side_by_side_and_explain() -> None:
    result = run("check", "--policy", "clinton", "--policy", "nyc", "--explain", "-", stdin=json.dumps(COMMENT))
    assert "[clinton]" in result.stdout and "[nyc]" in result.stdout and ": fired" in result.stdout


def test_check_param_fills_model_policy() -> None:
    result = run("check", "--policy", "minnesota_model", "--param", "city=Lakeville", "--format", "json", "-",
                 stdin=json.dumps({"kind": "comment", "text": "hello"}))
    assert result.returncode == 0


@pytest.mark.parametrize("payload,message", [
    ("{not json", "not valid"),
    ('{"kind": "comment", "txt": "x"}', "txt: unknown field"),
    ("\x00\x01binary", "binary"),
    ("", None),
])
def test_check_bad_input_is_one_line_exit_2(payload: str, message: str | None) -> None:
    result = run("check", "--policy", "clinton", "-", stdin=payload)
    if message is None:
        assert result.returncode == 0
        return
    assert result.returncode == 2, result
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_check_unknown_policy_and_missing_file() -> None:
    assert run("check", "--policy", "atlantis", "-", stdin="{}").returncode == 2
    result = run("check", "--policy", "clinton", "no/such/file.yaml")
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_test_command_passes_fails_and_reports_coverage(tmp_path: Path) -> None:
    assert run("test", "policies/clinton.tests.yaml").returncode == 0
    failing = tmp_path / "f.tests.yaml"
    failing.write_text("policy: clinton\ncases:\n  - name: wrong on purpose\n    event: {kind: comment, labels: [profanity]}\n"
                       "    expect: {decision: allow, cites: ['3.4.3.B']}\n")
    result = run("test", str(failing))
    assert result.returncode == 1
    assert "decision: expected allow, got remove" in result.stdout and "fired:" in result.stdout
    assert "3.4.3.B" in result.stdout
    covered = run("test", "--coverage", "-v", "policies/clinton.tests.yaml")
    assert "coverage clinton" in covered.stdout and "PASS" in covered.stdout


def test_schema_and_policies() -> None:
    assert "discriminator" in run("schema", "event").stdout or "oneOf" in run("schema", "event").stdout
    assert "decision" in json.loads(run("schema", "verdict").stdout)["properties"]
    listed = json.loads(run("policies", "--format", "json").stdout)
    assert {"nyc", "clinton"} <= {p["name"] for p in listed}
    assert "clinton" in run("policies").stdout


def test_no_command_prints_help_and_exits_2() -> None:
    result = run()
    assert result.returncode == 2 and "lint" in result.stdout


def test_check_platform_payloads_and_city_accounts() -> None:
    fixture = ROOT / "tests" / "platforms" / "fixtures" / "facebook"
    payload = sorted(fixture.glob("*comment*add*.json"))[0]
    result = run("check", "--policy", "nyc", "--platform", "facebook", "--format", "jsonl", str(payload))
    assert result.returncode == 0, result.stderr
    assert all(json.loads(line)["policy"]["name"] == "nyc" for line in result.stdout.splitlines())
    bad = run("check", "--policy", "nyc", "--platform", "facebook", "-", stdin='{"object": "page"}')
    assert bad.returncode == 2 and "entry" in bad.stderr


def test_fmt_check_diff_and_write(tmp_path: Path) -> None:
    path = tmp_path / "m.pol"
    path.write_text('policy m "M"\n\n\nclause 1 "a"\n     remove comment when has profanity\n')
    assert run("fmt", "--check", str(path)).returncode == 1
    diff = run("fmt", "--diff", str(path))
    assert diff.returncode == 1 and "+  remove comment" in diff.stdout
    assert run("fmt", str(path)).returncode == 0
    assert path.read_text() == 'policy m "M"\n\nclause 1 "a"\n  remove comment when has profanity\n'
    assert run("fmt", "--check", str(path)).returncode == 0
    (tmp_path / "b.pol").write_bytes(b"\x00\x01")
    assert run("fmt", str(tmp_path / "b.pol")).returncode == 2
