"""Machine-readable output for CI (SARIF, JUnit), stdin for lint and fmt, and shell completion.

`tests/data/sarif-schema-2.1.0.json` is the OASIS SARIF 2.1.0 (errata 01) JSON Schema, vendored so the
validation runs offline; it is the schema file as published with the standard.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = shutil.which("policykit", path=str(Path(sys.executable).parent)) or "policykit"
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

BROKEN = 'policy bad "Bad"\n\nclause 1 "x"\n  deny post when author.trainedd\n'
WARNS = 'policy w "W"\n\ndefine unused = has profanity\nclause 1 "x"\n  not checkable because "y"\n'


def run(*args: str, stdin: str | bytes | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([SCRIPT, *args], input=stdin, capture_output=True, text=not isinstance(stdin, bytes),
                          cwd=cwd, env=env, timeout=120)


@pytest.fixture
def policies(tmp_path: Path) -> dict[str, Path]:
    files = {"bad": tmp_path / "bad.pol", "warns": tmp_path / "warns.pol", "binary": tmp_path / "binary.pol"}
    files["bad"].write_text(BROKEN)
    files["warns"].write_text(WARNS)
    files["binary"].write_bytes(b"\x00\x01policy")
    return files


def _validate_sarif(document: dict) -> None:
    jsonschema.Draft4Validator.check_schema(SARIF_SCHEMA)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)


# ---------------------------------------------------------------- SARIF

def test_lint_sarif_is_valid_and_carries_every_finding(policies: dict[str, Path]) -> None:
    result = run("lint", "--format", "sarif", str(policies["bad"]), str(policies["warns"]))
    assert result.returncode == 1
    document = json.loads(result.stdout)
    _validate_sarif(document)
    sarif_run = document["runs"][0]
    found = {(r["ruleId"], r["level"]) for r in sarif_run["results"]}
    assert found == {("PK102", "error"), ("PK302", "warning")}
    error = next(r for r in sarif_run["results"] if r["ruleId"] == "PK102")
    location = error["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("bad.pol")
    assert location["region"] == {"startLine": 4, "startColumn": 18, "endLine": 4, "endColumn": 33}
    assert "did you mean `trained`" in error["message"]["text"]
    rules = [rule["id"] for rule in sarif_run["tool"]["driver"]["rules"]]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in sarif_run["results"])
    assert sarif_run["invocations"][0]["executionSuccessful"] is True


def test_lint_sarif_of_clean_policies_is_valid_and_empty() -> None:
    result = run("lint", "--format", "sarif", "policies/clinton.pol")
    assert result.returncode == 0
    document = json.loads(result.stdout)
    _validate_sarif(document)
    assert document["runs"][0]["results"] == []


def test_lint_sarif_reports_an_unreadable_file_as_a_tool_failure(policies: dict[str, Path]) -> None:
    result = run("lint", "--format", "sarif", str(policies["binary"]), str(policies["warns"]))
    assert result.returncode == 2 and "binary file" in result.stderr
    document = json.loads(result.stdout)
    _validate_sarif(document)
    invocation = document["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert "binary" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    assert [r["ruleId"] for r in document["runs"][0]["results"]] == ["PK302"]


def test_the_schema_check_can_fail() -> None:
    with pytest.raises(jsonschema.ValidationError):
        _validate_sarif({"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]})


# ---------------------------------------------------------------- JUnit

def test_lint_junit_has_a_case_per_file_failed_by_its_errors(policies: dict[str, Path]) -> None:
    result = run("lint", "--format", "junit", str(policies["bad"]), str(policies["warns"]))
    assert result.returncode == 1
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "1"
    cases = {Path(c.get("name")).name: c for c in root.iter("testcase")}
    failure = cases["bad.pol"].find("failure")
    assert failure is not None and failure.get("type") == "PK102" and "bad.pol:4:18" in failure.text
    assert cases["warns.pol"].find("failure") is None
    assert "PK302" in cases["warns.pol"].find("system-out").text


def test_lint_junit_marks_an_unreadable_file_as_an_error(policies: dict[str, Path]) -> None:
    result = run("lint", "--format", "junit", str(policies["binary"]))
    assert result.returncode == 2
    root = ET.fromstring(result.stdout)
    assert root.get("errors") == "1" and root.get("failures") == "0"
    assert "binary" in next(root.iter("error")).get("message")


def _test_file(tmp_path: Path, expected: str) -> Path:
    shutil.copy(ROOT / "policies" / "clinton.pol", tmp_path / "clinton.pol")
    path = tmp_path / "clinton.tests.yaml"
    path.write_text(
        "policy: clinton\ncases:\n"
        "  - name: profanity is removed\n"
        "    event: {kind: comment, text: what the hell, author_history: {removed_before: 0}}\n"
        "    expect: {decision: remove}\n"
        f"  - name: a greeting\n"
        "    event: {kind: comment, text: thanks for the update, author_history: {removed_before: 0}}\n"
        f"    expect: {{decision: {expected}}}\n")
    return path


def test_test_junit_has_a_case_per_test_with_failures_explained(tmp_path: Path) -> None:
    path = _test_file(tmp_path, "deny")
    result = run("test", "--format", "junit", str(path))
    assert result.returncode == 1
    root = ET.fromstring(result.stdout)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "0")
    suite = root.find("testsuite")
    assert suite.get("name") == str(path)
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["profanity is removed"].find("failure") is None
    assert cases["profanity is removed"].get("classname") == "clinton"
    assert cases["profanity is removed"].get("line") == "3"
    failure = cases["a greeting"].find("failure")
    assert failure is not None and "deny" in failure.text and "fired:" in failure.text
    passing = ET.fromstring(run("test", "--format", "junit", str(_test_file(tmp_path, "allow"))).stdout)
    assert passing.get("failures") == "0" and passing.get("tests") == "2"


def test_test_junit_reports_a_file_that_cannot_run_as_an_error(tmp_path: Path) -> None:
    path = tmp_path / "x.tests.yaml"
    path.write_text("policy: no_such_policy\ncases: []\n")
    result = run("test", "--format", "junit", str(path))
    assert result.returncode == 1
    root = ET.fromstring(result.stdout)
    assert root.get("errors") == "1" and "no_such_policy" in next(root.iter("error")).text


# ---------------------------------------------------------------- stdin

def test_lint_reads_stdin_and_names_it_as_asked() -> None:
    result = run("lint", "-", "--stdin-filename", "policies/mine.pol", stdin=BROKEN)
    assert result.returncode == 1
    assert result.stdout.startswith("policies/mine.pol:4:18: error[PK102]")
    assert "author.trainedd" in result.stdout  # the source line comes from the text piped in, not from disk
    anonymous = run("lint", "--format", "json", "-", stdin=BROKEN)
    assert json.loads(anonymous.stdout)[0]["file"] == "<stdin>"
    assert run("lint", "-", stdin=(ROOT / "policies" / "clinton.pol").read_text()).returncode == 0


def test_lint_stdin_resolves_extends_beside_the_stdin_filename() -> None:
    text = (ROOT / "examples" / "nyc_parks.pol").read_text(encoding="utf-8")
    result = run("lint", "-", "--stdin-filename", "examples/nyc_parks.pol", stdin=text)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("data, why", [(b"", "empty"), (b"\x00\x01", "binary"), (b"\xff\xfe policy", "UTF-8")])
def test_lint_and_fmt_refuse_stdin_that_is_no_policy_in_one_line(data: bytes, why: str) -> None:
    for command in ("lint", "fmt"):
        result = run(command, "-", stdin=data)
        assert result.returncode == 2 and why in result.stderr.decode()
        assert result.stderr.decode().count("\n") == 1


def test_stdin_must_be_the_only_path() -> None:
    result = run("lint", "-", "policies/clinton.pol", stdin=BROKEN)
    assert result.returncode == 2 and "only path" in result.stderr


def test_fmt_formats_stdin_to_stdout() -> None:
    messy = 'policy b "B"\n\n\n\nclause 1 "x"\n      not checkable because "y"   \n'
    tidy = 'policy b "B"\n\nclause 1 "x"\n  not checkable because "y"\n'
    result = run("fmt", "-", stdin=messy)
    assert result.returncode == 0 and result.stdout == tidy
    check = run("fmt", "--check", "-", "--stdin-filename", "b.pol", stdin=messy)
    assert check.returncode == 1 and "would reformat b.pol" in check.stdout
    assert run("fmt", "--check", "-", stdin=tidy).returncode == 0
    diff = run("fmt", "--diff", "-", "--stdin-filename", "b.pol", stdin=messy)
    assert diff.returncode == 1 and "--- b.pol" in diff.stdout and '+  not checkable because "y"' in diff.stdout


# ---------------------------------------------------------------- shell completion

def _commands() -> list[str]:
    from policykit.cli import build_parser
    from policykit.cli_completion import _subcommands
    return list(_subcommands(build_parser()))


def _bash_complete(script: str, *words: str) -> list[str]:
    """What bash offers after `policykit WORDS…` (the last word is the one being completed)."""
    line = " ".join(("policykit", *words))
    program = (f"{script}\nCOMP_WORDS=(policykit {' '.join(repr(w) if w else repr('') for w in words)})\n"
               f"COMP_CWORD={len(words)}\nCOMP_LINE={line!r}\nCOMP_POINT={len(line)}\n"
               "_shtab_policykit\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    result = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_offers_every_command_and_each_commands_choices() -> None:
    result = run("completion", "bash")
    assert result.returncode == 0
    script = result.stdout
    commands = _commands()
    assert {"lint", "check", "test", "fmt", "records", "completion"} <= set(commands)
    assert set(_bash_complete(script, "")) >= set(commands)  # subcommands other modules add included
    assert _bash_complete(script, "li") == ["lint"]
    assert _bash_complete(script, "lint", "--format", "") == ["text", "json", "github", "sarif", "junit"]
    assert "--stdin-filename" in _bash_complete(script, "fmt", "--")
    assert set(_bash_complete(script, "completion", "")) == {"bash", "zsh", "tcsh", "fish"}


@pytest.mark.parametrize("shell", ["zsh", "fish", "tcsh"])
def test_every_shell_gets_a_script_naming_every_command(shell: str, tmp_path: Path) -> None:
    result = run("completion", shell)
    assert result.returncode == 0
    for command in _commands():
        assert command in result.stdout
    checker = {"zsh": ["zsh", "-n"], "fish": ["fish", "--no-execute"]}.get(shell)
    if checker and shutil.which(checker[0]):
        script = tmp_path / f"policykit-completion.{shell}"
        script.write_text(result.stdout)
        syntax = subprocess.run([*checker, str(script)], capture_output=True, text=True, timeout=60)
        assert syntax.returncode == 0, syntax.stderr


def test_fish_script_completes_options_and_choices_per_command() -> None:
    script = run("completion", "fish").stdout
    assert "complete -c policykit -n '__fish_use_subcommand' -a lint" in script
    assert ("complete -c policykit -n '__fish_seen_subcommand_from lint' -l format -x -a "
            "'text json github sarif junit'") in script
    assert "complete -c policykit -n '__fish_seen_subcommand_from lint' -l sources -r -F" in script
    # a subcommand's own subcommands are offered only under it
    assert "complete -c policykit -n '__fish_seen_subcommand_from records && not __fish_seen_subcommand_from" in script


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_offers_commands_choices_and_nested_commands(tmp_path: Path) -> None:
    script = tmp_path / "policykit.fish"
    script.write_text(run("completion", "fish").stdout)

    def offered(line: str) -> list[str]:
        result = subprocess.run(["fish", "--no-config", "-c", f"source {script}; complete -C {line!r}"],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return [row.split("\t")[0] for row in result.stdout.splitlines()]

    assert offered("policykit li") == ["lint"]
    assert sorted(offered("policykit lint --format ")) == ["github", "json", "junit", "sarif", "text"]
    assert "verify" in offered("policykit records ") and "lint" not in offered("policykit records ")
    assert "--expect-head" in offered("policykit records verify --")
