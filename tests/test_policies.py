"""The bundled policies: their own test cases, their quotes against the sources, their differences."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import policykit
from policykit.testing import run_file

ROOT = Path(__file__).resolve().parent.parent
# The official texts live beside the project, not in it; POLICYKIT_SOURCES points elsewhere (as `make
# test SEEDS=…` does for lint).
SEEDS = Path(os.environ.get("POLICYKIT_SOURCES") or ROOT.parent / "shared" / "seeds")

POLICIES = ["syracuse", "nyc", "clinton", "cottonwood", "minnesota_model"]
TEST_FILES = sorted((ROOT / "policies").glob("*.tests.yaml")) + sorted((ROOT / "examples").glob("*.tests.yaml"))


@pytest.mark.parametrize("path", TEST_FILES, ids=[p.name for p in TEST_FILES])
def test_policy_cases_pass(path: Path) -> None:
    results = run_file(path)
    assert results, f"{path} has no cases"
    failures = [f"{r.line} {r.name}: {r.problems}" for r in results if not r.passed]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", POLICIES)
def test_every_encoded_clause_is_fired_by_a_test(name: str) -> None:
    from policykit.testing import coverage
    path = ROOT / "policies" / f"{name}.tests.yaml"
    if not path.exists():
        pytest.skip(f"{name} has no tests yet")
    clauses, _ = coverage(policykit.load(name), run_file(path))
    assert clauses == [], f"clauses with rules that no case cites: {clauses}"


@pytest.mark.parametrize("name", POLICIES)
def test_every_clause_is_accounted_for(name: str) -> None:
    """Encoded (rules under it or citing it), grouping other clauses, or marked not checkable: lint's PK301."""
    from policykit.lint import policy_warnings
    assert [d.message for d in policy_warnings(policykit.load(name)) if d.code == "PK301"] == []


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the source documents are not present (../shared/seeds, or set POLICYKIT_SOURCES)")
@pytest.mark.parametrize("name", POLICIES)
def test_every_quote_is_the_source_documents_words(name: str) -> None:
    policy = policykit.load(name)
    source = " ".join((SEEDS / policy.doc.header["document"][0]).read_text(encoding="utf-8").split())
    wrong = [c.id for c in policy.doc.walk_clauses() if " ".join(c.text.split()) not in source]
    assert wrong == []


def test_same_profane_comment_differs_by_city() -> None:
    event = {"kind": "comment", "text": "This is crap", "labels": ["profanity"],
             "author": {"role": "public"}, "author_history": {"removed_before": 0}}
    decisions = {name: policykit.load(name).evaluate(event) for name in POLICIES}
    assert decisions["clinton"].decision == "remove"
    for name in ("nyc", "minnesota_model"):
        assert decisions[name].decision in ("allow", "review"), name
        assert not any(f.effect in ("remove", "deny") for f in decisions[name].findings)


def test_minnesota_loads_without_parameters_and_with_them() -> None:
    blank = policykit.load("minnesota_model")
    assert blank.params
    name = next(iter(blank.params))
    assert policykit.load("minnesota_model").params == blank.params
    assert name
