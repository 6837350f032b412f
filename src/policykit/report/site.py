"""What the report shows, gathered: each policy explained with its tests, and the cities compared.

A policy's tests are the `*.tests.yaml` files beside its `.pol` that name it (`nyc.tests.yaml`,
`nyc.blind.tests.yaml`), run with `policykit.testing` exactly as `policykit test` runs them, so the
report's pass counts and coverage are the ones CI sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..compiler import Policy
from ..testing import CaseResult, TestFileError, run_file
from .compare import EventRow, compare
from .model import PolicyView, explain_policy, with_tests


@dataclass(frozen=True)
class Site:
    views: tuple[PolicyView, ...]
    rows: tuple[EventRow, ...]
    events_from: tuple[str, ...]  # where the compared events were read, as given


def test_files_for(policy: Policy) -> list[Path]:
    """The test files beside a policy's file that carry its name: NAME.tests.yaml, NAME.*.tests.yaml."""
    folder, stem = Path(policy.file).parent, Path(policy.file).stem
    found = [folder / f"{stem}.tests.yaml", *sorted(folder.glob(f"{stem}.*.tests.yaml"))]
    return [path for path in found if path.is_file()]


def run_tests(policy: Policy, files: list[Path]) -> tuple[list[CaseResult], list[str]]:
    """Every case of the files that test this policy; a file that cannot be run is a problem, not a crash."""
    results: list[CaseResult] = []
    problems: list[str] = []
    for path in files:
        try:
            found = run_file(path)
        except TestFileError as exc:
            problems.append(str(exc))
            continue
        if found and found[0].policy != policy.name:
            problems.append(f"{path}: tests policy {found[0].policy}, not {policy.name}")
            continue
        results += found
    return results, problems


def build(policies: list[Policy], events: Iterable[tuple[str, Any]], events_from: Iterable[str] = (),
          tests: bool = True) -> Site:
    views = []
    for policy in policies:
        view = explain_policy(policy)
        if tests:
            files = test_files_for(policy)
            results, problems = run_tests(policy, files)
            view = with_tests(view, policy, results, [_shown(f) for f in files], problems)
        views.append(view)
    return Site(tuple(views), tuple(compare(policies, events)), tuple(events_from))


def _shown(path: Path) -> str:
    """A test file's name as a reader can find it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name
