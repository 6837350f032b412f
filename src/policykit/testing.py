"""Policy test files (`*.tests.yaml`): cases that pin down the right decision for the right reasons.

A case passes only if the decision, the cited clauses, the obligations (in order), the defeated rules
and the missing fields all match what it expects, so a test cannot pass by luck of the outcome alone.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ruamel.yaml.error import YAMLError

from .compiler import Policy
from .errors import EventError, PolicyError
from .limits import ReadRefused, load_yaml, read_bounded
from .loader import load
from .verdict import Verdict


@dataclass
class CaseResult:
    file: str
    line: int
    name: str
    policy: str
    passed: bool
    problems: list[str] = field(default_factory=list)
    verdict: Verdict | None = None


class TestFileError(Exception):
    """A test file that cannot be run (not the expected shape, its policy does not compile)."""


class UnreadableTestFile(TestFileError):
    """A test file that cannot be read at all: missing, binary, not UTF-8, empty, enormous or not YAML."""


MAX_TEST_FILE_BYTES = 16 * 2**20


def _load_yaml(path: Path) -> Any:
    try:  # bounded on the open file, so a FIFO or a device named *.tests.yaml cannot block or fill memory
        data = read_bounded(path, MAX_TEST_FILE_BYTES, "a test file", "MAX_TEST_FILE_BYTES")
    except ReadRefused as exc:
        raise UnreadableTestFile(f"{path}: {exc}") from None
    if b"\x00" in data:
        raise UnreadableTestFile(f"{path}: this is a binary file, not a YAML test file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableTestFile(f"{path}: this file is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise UnreadableTestFile(f"{path}: empty file, no test cases")
    try:
        return load_yaml(text, round_trip=True)  # aliases and nesting bounded (policykit.limits)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UnreadableTestFile(f"{path}: not valid YAML: {problem}{where}") from None
    except RecursionError:
        raise UnreadableTestFile(f"{path}: not valid YAML: nested too deeply") from None


def _policy(spec: dict[str, Any], path: Path, params: dict[str, Any] | None = None) -> Policy:
    """The file's policy, with the file's `params:` and (for one case) the case's own on top."""
    ref = str(spec.get("policy", ""))
    if not ref:
        raise TestFileError(f"{path}: no `policy:` key")
    target: str | Path = path.parent / ref if ref.endswith(".pol") else ref
    merged = {**_plain(spec.get("params") or {}), **(params or {})}
    try:
        return load(target, merged or None)
    except PolicyError as exc:
        raise TestFileError(f"{path}: policy {ref} does not compile:\n{exc}") from None
    except LookupError as exc:
        raise TestFileError(f"{path}: {exc}") from None


def _plain(value: Any) -> Any:
    """ruamel's round-trip containers → plain dicts and lists (events are validated as plain data)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


EXPECT_KEYS = ("decision", "cites", "not_cites", "obligations", "defeated", "missing")
CASE_KEYS = ("name", "event", "expect", "at", "params")


def unknown_keys(given: Iterable[Any], allowed: Sequence[str], where: str) -> list[str]:
    """A misspelt key (`decison:`) would make a case check less than it says: it fails the case."""
    problems = []
    for key in given:
        if str(key) not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`?" if close else "known keys: " + ", ".join(allowed)
            problems.append(f"unknown key `{key}` {where} ({hint})")
    return problems


def check_case(verdict: Verdict, expect: dict[str, Any]) -> list[str]:
    """What differs between a verdict and a case's expectations (empty when it passes)."""
    problems: list[str] = unknown_keys(expect, EXPECT_KEYS, "under `expect:`")
    if "decision" in expect and verdict.decision != expect["decision"]:
        problems.append(f"decision: expected {expect['decision']}, got {verdict.decision}")
    cited = set(verdict.cited_clauses())
    for clause in expect.get("cites") or []:
        if str(clause) not in cited:
            problems.append(f"expected a finding citing clause {clause}; cited: {sorted(cited) or 'nothing'}")
    for clause in expect.get("not_cites") or []:
        if str(clause) in cited:
            problems.append(f"clause {clause} should not be cited, but is")
    actions = [o.action for o in verdict.obligations]
    wanted = [str(a) for a in expect.get("obligations") or []]
    position = 0
    for action in wanted:
        try:
            position = actions.index(action, position) + 1
        except ValueError:
            problems.append(f"obligations: expected {wanted} in this order, got {actions}")
            break
    defeated = {d.rule for f in verdict.findings for d in f.defeats} | {
        c for f in verdict.findings for d in f.defeats for c in d.clauses}
    for name in expect.get("defeated") or []:
        if str(name) not in defeated:
            problems.append(f"expected {name} to be defeated; defeated: {sorted(defeated) or 'nothing'}")
    for name in expect.get("missing") or []:
        if str(name) not in verdict.missing:
            problems.append(f"expected missing field {name}; missing: {verdict.missing or 'nothing'}")
    return problems


FILE_KEYS = ("policy", "params", "cases")


def run_file(path: Path) -> list[CaseResult]:
    spec = _load_yaml(path)
    if not isinstance(spec, dict) or not isinstance(spec.get("cases"), list):
        raise TestFileError(f"{path}: expected a mapping with `policy:` and a list of `cases:`")
    # Keys starting with x_ hold shared YAML anchors (as in docker-compose); any other is a typo.
    typos = unknown_keys([k for k in spec if not str(k).startswith(("x_", "x-"))], FILE_KEYS, "at the top level")
    if typos:
        raise TestFileError(f"{path}: " + "; ".join(typos))
    policy = _policy(spec, path)
    results = []
    for number, case in enumerate(spec["cases"]):
        line = (case.lc.line + 1) if hasattr(case, "lc") else 0
        name = str(case.get("name", f"case {number + 1}")) if isinstance(case, dict) else f"case {number + 1}"
        result = CaseResult(str(path), line, name, policy.name, False)
        typos = unknown_keys(case, CASE_KEYS, "in a case") if isinstance(case, dict) else []
        if not isinstance(case, dict) or "event" not in case:
            result.problems.append("a case needs an `event:` and an `expect:`")
        elif typos:
            result.problems += typos
        else:
            event = _plain(case["event"])
            if "at" in case:
                event["at"] = str(case["at"])
            try:
                judge = _policy(spec, path, _plain(case["params"])) if case.get("params") else policy
                result.verdict = judge.evaluate(event)
                result.problems = check_case(result.verdict, _plain(case.get("expect") or {}))
            except EventError as exc:
                result.problems.append(f"malformed event: {exc}")
            except TestFileError as exc:  # this case's own `params:` do not compile
                result.problems.append(str(exc))
        result.passed = not result.problems
        results.append(result)
    return results


def test_files(paths: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        found.extend(sorted(path.rglob("*.tests.yaml")) if path.is_dir() else [path])
    return found


def coverage(policy: Policy, results: list[CaseResult]) -> tuple[list[str], list[str]]:
    """Clauses with rules and exceptions that no passing case made fire: (clauses, exceptions)."""
    cited = {c for r in results if r.verdict for c in r.verdict.cited_clauses()}
    fired = {f.rule for r in results if r.verdict for f in r.verdict.findings}
    clauses = [c.id for c in policy.doc.walk_clauses() if c.rules and c.id not in cited]
    exceptions = [r.id for r in policy.rules if r.is_exception and r.policy == policy.name and r.id not in fired]
    return clauses, exceptions


test_files.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name
