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


@pytest.mark.parametrize("command", ["lint", "check", "test", "fmt", "doc", "schema", "policies"])
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
    ("\x00\x01binary", "binary"),
    ("[" * 50000, "nested too deeply"),
    ('{"kind": "comment", "extra": ' + '{"a": ' * 50000 + "1" + "}" * 50000 + "}", "nested too deeply"),
    ("", None),
])
def test_check_bad_input_is_one_line_exit_2(payload: str, message: str | None) -> None:
    result = run("check", "--policy", "clinton", "-", stdin=payload)
    if message is None:
        assert result.returncode == 0
        return
    assert result.returncode == 2, result
    # a stream's bad line is answered in its place (stdout); a bad document is one line on stderr
    assert message in result.stderr + result.stdout and "Traceback" not in result.stderr
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
    # a refused payload is answered in its place, on stdout, and the exit status says so
    assert bad.returncode == 2 and "entry: expected a list of entries" in bad.stdout and "malformed" in bad.stderr


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


# ---------------------------------------------------------------- every command, every flag

ALL_COMMANDS = [("lint",), ("check",), ("test",), ("fmt",), ("schema",), ("policies",), ("plugins",), ("moderate",),
                ("records",), *[("records", sub) for sub in ("verify", "export", "retain", "hold", "release",
                                                              "holds", "appeal", "read", "show", "stats")]]


def test_top_level_help_lists_every_command_with_examples() -> None:
    for flag in ("--help", "-h"):
        result = run(flag)
        assert result.returncode == 0 and "examples:" in result.stdout
        for (command, *_) in ALL_COMMANDS:
            assert command in result.stdout


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=" ".join)
def test_every_subcommand_help_has_an_example(command: tuple[str, ...]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0 and "example:\n  policykit " in result.stdout


def test_lint_default_path_is_policies_and_lints_directories(tmp_path: Path) -> None:
    result = run("lint")
    assert result.returncode == 0 and "5 file(s): 0 error(s)" in result.stdout
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.pol").write_text('policy a "A"\n\nclause 1 "x"\n  not checkable because "y"\n')
    assert "1 file(s)" in run("lint", str(tmp_path)).stdout


def test_lint_format_text_json_github_and_unknown(tmp_path: Path) -> None:
    path = tmp_path / "c.pol"
    path.write_text((ROOT / "tests/golden/lint/allow_overruled.pol").read_text())
    text = run("lint", "--format", "text", str(path))
    assert text.returncode == 0 and "warning[PK308]" in text.stdout and "   help: " in text.stdout
    as_json = json.loads(run("lint", "--format", "json", str(path)).stdout)
    assert [d["code"] for d in as_json] == ["PK308"] and as_json[0]["line"] == 8
    github = run("lint", "--format", "github", str(path)).stdout
    assert github.startswith("::warning file=") and "title=PK308" in github
    bad = run("lint", "--format", "xml", str(path))
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_lint_sources_must_be_a_directory() -> None:
    result = run("lint", "--sources", "no/such/dir", "policies/clinton.pol")
    assert result.returncode == 2 and "not a directory" in result.stderr


def test_lint_missing_path_is_exit_2() -> None:
    result = run("lint", "no/such.pol")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_check_city_account_requires_platform_payloads() -> None:
    fixture = ROOT / "tests" / "platforms" / "fixtures" / "facebook"
    payload = sorted(fixture.glob("*comment*add*.json"))[0]
    plain = run("check", "--policy", "nyc", "--platform", "facebook", "--format", "jsonl", str(payload))
    owned = run("check", "--policy", "nyc", "--platform", "facebook", "--city-account", "any-id", "--format", "jsonl",
                str(payload))
    assert plain.returncode == owned.returncode == 0 and owned.stdout.strip()


def test_check_quiet_and_progress_flags(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("".join(json.dumps({"kind": "comment", "text": f"hello {n}"}) + "\n" for n in range(50)))
    forced = run("check", "--policy", "clinton", "--format", "jsonl", "--progress", str(events))
    assert forced.returncode == 0 and "50 events" in forced.stderr and "100%" in forced.stderr
    assert "\x1b[" not in forced.stderr  # not a terminal: plain lines, no redraw codes
    assert len([json.loads(line) for line in forced.stdout.splitlines()]) == 50
    quiet = run("check", "--policy", "clinton", "--format", "jsonl", "--progress", "--quiet", str(events))
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert run("check", "--policy", "clinton", str(events)).stderr == ""  # no terminal, no flag: no bar


def _run_with_terminal_stderr(*args: str) -> tuple[int, str, str]:
    """Run the console script with stderr on a pseudo-terminal and stdout to a file (so neither can block)."""
    import pty
    import select
    import tempfile
    import time
    master, slave = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1"}
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([SCRIPT, *args], stdout=out, stderr=slave, stdin=subprocess.DEVNULL, cwd=ROOT,
                                env=env)
        os.close(slave)
        chunks = []
        deadline = time.monotonic() + 120
        while True:
            ready, _, _ = select.select([master], [], [], max(deadline - time.monotonic(), 0))
            if not ready:  # a hung child fails the test instead of hanging the suite
                proc.kill()
                pytest.fail("policykit check did not finish within 120 s")
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=120)
        os.close(master)
        out.seek(0)
        stdout = out.read()
    return proc.returncode, stdout, b"".join(chunks).decode("utf-8", "replace")


def test_check_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("".join(json.dumps({"kind": "comment", "text": f"hello {n}"}) + "\n" for n in range(200)))
    code, stdout, terminal = _run_with_terminal_stderr("check", "--policy", "clinton", "--format", "json",
                                                       str(events))
    assert code == 0
    assert "\r" in terminal and "200 events" in terminal and "100%" in terminal and "ETA" in terminal
    assert "/s" in terminal  # the rate
    decoder, text, count = json.JSONDecoder(), stdout.strip(), 0
    while text:  # --format json output is untouched by the bar: pretty-printed verdicts, one after another
        _, end = decoder.raw_decode(text)
        text, count = text[end:].strip(), count + 1
    assert count == 200
    code, _, terminal = _run_with_terminal_stderr("check", "--policy", "clinton", "--quiet", str(events))
    assert code == 0 and "events" not in terminal


def test_check_progress_without_known_size_from_a_pipe() -> None:
    lines = "".join(json.dumps({"kind": "comment", "text": "x"}) + "\n" for _ in range(5))
    result = run("check", "--policy", "clinton", "--format", "jsonl", "--progress", "-", stdin=lines)
    assert "5 events" in result.stderr and "%" not in result.stderr


def test_test_verbose_and_coverage_flags() -> None:
    quiet = run("test", "policies/clinton.tests.yaml")
    assert quiet.returncode == 0 and "PASS" not in quiet.stdout and "coverage" not in quiet.stdout
    verbose = run("test", "-v", "policies/clinton.tests.yaml")
    assert "PASS" in verbose.stdout and run("test", "--verbose", "policies/clinton.tests.yaml").stdout == verbose.stdout
    assert "coverage clinton:" in run("test", "--coverage", "policies/clinton.tests.yaml").stdout


def test_test_default_path_and_no_files(tmp_path: Path) -> None:
    assert run("test").returncode == 0
    result = run("test", str(tmp_path))
    assert result.returncode == 2 and "no *.tests.yaml" in result.stderr


def test_schema_default_is_event_and_rejects_others() -> None:
    assert run("schema").stdout == run("schema", "event").stdout
    assert run("schema", "bogus").returncode == 2


def test_plugins_text_and_json() -> None:
    listed = run("plugins", "--format", "json")
    data = json.loads(listed.stdout)
    assert set(data) == {"plugins", "errors"} and listed.returncode == (1 if data["errors"] else 0)
    assert run("plugins").returncode == listed.returncode


def test_fmt_default_path_is_policies() -> None:
    result = run("fmt", "--check")
    assert result.returncode == 0 and "0 of 5 file(s) need formatting" in result.stdout


# ---------------------------------------------------------------- bad input files: one line, exit 2

def _bad_files(tmp_path: Path, suffix: str, enormous: int) -> dict[str, Path]:
    files = {"empty": b"", "binary": b"\x00\x01\x02\xff policy", "corrupted": b'policy x "caf\xe9"\n\xc3'}
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / f"{name}{suffix}"
        paths[name].write_bytes(data)
    paths["enormous"] = tmp_path / f"enormous{suffix}"
    with open(paths["enormous"], "w") as f:
        f.write("#" * 1023 + "\n")
        for _ in range(enormous // 1024):
            f.write("x" * 1023 + "\n")
    return paths


def _one_line_exit_2(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("kind", ["empty", "binary", "corrupted", "enormous"])
def test_bad_policy_file_for_lint_and_fmt(kind: str, tmp_path: Path) -> None:
    path = _bad_files(tmp_path, ".pol", 5 * 2**20)[kind]
    for command in (("lint",), ("lint", "--format", "json"), ("fmt",), ("fmt", "--check")):
        result = run(*command, str(path))
        _one_line_exit_2(result)
        assert str(path) in result.stderr


@pytest.mark.parametrize("kind", ["empty", "binary", "corrupted", "enormous"])
def test_bad_event_file_for_check(kind: str, tmp_path: Path) -> None:
    for suffix in (".json", ".jsonl", ".yaml"):
        path = _bad_files(tmp_path, suffix, 17 * 2**20)[kind]
        result = run("check", "--policy", "clinton", str(path))
        _one_line_exit_2(result)


@pytest.mark.parametrize("kind", ["empty", "binary", "corrupted", "enormous"])
def test_bad_test_file_for_test(kind: str, tmp_path: Path) -> None:
    path = _bad_files(tmp_path, ".tests.yaml", 17 * 2**20)[kind]
    result = run("test", str(path))
    _one_line_exit_2(result)
    assert str(path) in result.stderr


def test_check_streams_a_long_json_lines_file(tmp_path: Path) -> None:
    events = tmp_path / "many.jsonl"
    with open(events, "w") as f:
        for n in range(3000):
            f.write(json.dumps({"kind": "comment", "text": f"comment {n}"}) + "\n")
    result = run("check", "--policy", "clinton", "--format", "jsonl", str(events))
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 3000


# ---------------------------------------------------------------- moderate and records, through the console script

def test_moderate_and_records_flags(tmp_path: Path) -> None:
    db = str(tmp_path / "m.db")
    events = tmp_path / "ev.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in [
        {"kind": "comment", "id": "c1", "platform": "facebook", "text": "what the hell", "at": "2020-01-02T00:00:00Z",
         "author": {"id": "u1", "name": "bob"}, "account": {"id": "a1", "handle": "city"}},
        {"kind": "comment", "id": "c2", "platform": "facebook", "text": "thanks for the park",
         "at": "2020-01-03T00:00:00Z", "author": {"id": "u2", "name": "amy"}, "account": {"id": "a1"}},
    ]))
    moderated = run("moderate", "--policy", "minnesota_model", "--param", "city=Lakeville", "--archive", db,
                    "--batch", "1", "--no-history", "--stats", str(events))
    assert moderated.returncode == 0, moderated.stderr
    assert len(moderated.stdout.splitlines()) == 2 and "moderated 2 events" in moderated.stderr
    assert "Lakeville" in moderated.stdout
    env_archive = subprocess.run([SCRIPT, "records", "stats"], capture_output=True, text=True, cwd=ROOT,
                                 env={**os.environ, "POLICYKIT_ARCHIVE": db}, timeout=120)
    assert json.loads(env_archive.stdout)["items"] == 2

    verified = json.loads(run("records", "verify", "--archive", db, "--format", "json").stdout)
    assert verified["ok"] is True
    assert run("records", "verify", "--archive", db, "--expect-head", verified["head_hash"]).returncode == 0
    assert run("records", "verify", "--archive", db, "--expect-head", "0" * 64).returncode != 0

    out = tmp_path / "out.csv"
    exported = run("records", "export", "--archive", db, "--author", "bob", "--kind", "comment", "--decision",
                   "allow", "--text", "HELL", "--since", "2020-01-01", "--until", "2020-12-31", "--account", "a1",
                   "--format", "csv", "-o", str(out))
    assert exported.returncode == 0 and out.read_text().count("facebook:c1") == 1
    assert "facebook:c2" not in out.read_text()
    as_jsonl = run("records", "export", "--archive", db, "--format", "jsonl", "--output", str(tmp_path / "o.jsonl"))
    assert as_jsonl.returncode == 0 and len((tmp_path / "o.jsonl").read_text().splitlines()) == 2

    held = run("records", "hold", "--archive", db, "--reason", "FOIL 1", "--item", "facebook:c1")
    assert held.returncode == 0
    hold_id = held.stdout.split()[1]
    for flag, value in (("--author", "amy"), ("--account", "a1")):
        assert run("records", "hold", "--archive", db, "--reason", "r", flag, value).returncode == 0
    assert run("records", "hold", "--archive", db, "--reason", "r", "--all").returncode == 0
    assert len(run("records", "holds", "--archive", db).stdout.splitlines()) == 4
    assert run("records", "release", "--archive", db, hold_id, "--reason", "closed").returncode == 0
    assert len(run("records", "holds", "--archive", db).stdout.splitlines()) == 3
    assert len(run("records", "holds", "--archive", db, "--all").stdout.splitlines()) == 4

    retained = run("records", "retain", "--archive", db, "--keep", "7 years", "--now", "2030-01-01T00:00:00Z",
                   "--dry-run")
    assert retained.returncode == 0 and "would erase" in retained.stdout
    by_policy = run("records", "retain", "--archive", db, "--policy", "minnesota_model", "--param", "city=X",
                    "--now", "2030-01-01T00:00:00Z", "--dry-run")
    # the League model's header: `retain only until read unless context.emergency cite data.3`
    assert by_policy.returncode == 0, by_policy.stderr
    assert by_policy.stdout.startswith("retention until read unless context.emergency") and "would erase" in by_policy.stdout

    assert run("records", "read", "--archive", db, "facebook:c2", "--by", "clerk").returncode == 0
    appealed = run("records", "appeal", "--archive", db, "--policy", "minnesota_model", "--param", "city=Springfield",
                   "--by", "bob", "c1", "It was a quote.")
    assert appealed.returncode == 0 and "Springfield" in appealed.stdout
    shown = [json.loads(line) for line in run("records", "show", "--archive", db, "facebook:c1").stdout.splitlines()]
    assert {"appeal", "hold"} <= {r["kind"] for r in shown}
    assert any(r["data"].get("by") == "bob" for r in shown if r["kind"] == "appeal")


def test_lint_strict_rejects_a_blank_parameter(tmp_path: Path) -> None:
    model = tmp_path / "model.pol"
    model.write_text('policy model "Model"\nparam website: text "the City\'s website"\n'
                     'clause 1 "Sites link to the City website."\n'
                     '  deny account when account.website is present and account.website is not website\n')
    assert run("lint", str(model)).returncode == 0
    strict = run("lint", "--strict", str(model))
    assert strict.returncode == 1 and "PK114" in strict.stdout and "website" in strict.stdout


def test_check_answers_a_malformed_event_in_its_place_and_goes_on(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text('{"kind": "comment", "text": "thanks!"}\n{"kind": "comment", "labels": 5}\n'
                      '{"kind": "comment", "labels": ["threat"]}\n')
    result = run("check", "--policy", "clinton", "--format", "jsonl", str(events))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.get("decision", line.get("error")) for line in lines] == ["allow", "malformed event", "remove"]
    assert lines[1]["where"].endswith(":2") and lines[1]["problems"][0]["path"] == "labels"
    assert result.returncode == 2 and "1 of 3 event(s) malformed" in result.stderr


def test_check_names_a_malformed_events_field_in_text_too() -> None:
    result = run("check", "--policy", "clinton", "-", stdin='{"kind": "comment", "txt": "x"}')
    assert result.returncode == 2 and "MALFORMED EVENT: txt: unknown field" in result.stdout
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
