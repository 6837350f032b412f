"""Lint warnings: a golden corpus (tests/golden/lint), ignore comments, the bundled policies, and the analysis."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import policykit
from policykit import analysis as an
from policykit import syntax as st
from policykit.errors import Span
from policykit.lint import lint_file, policy_files

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(__file__).parent / "golden" / "lint"
CASES = sorted(LINT.glob("*.pol"))


def _first_lines(path: Path) -> list[str]:
    return [str(d).splitlines()[0] for d in lint_file(path)]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_lint_case(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(LINT)
    expected = (LINT / f"{path.stem}.expected").read_text().splitlines()
    assert _first_lines(Path(path.name)) == expected


@pytest.mark.parametrize("path", [p for p in CASES if (LINT / f"{p.stem}.expected").read_text().strip()],
                         ids=lambda p: p.stem)
def test_ignore_comment_silences_each_new_warning(path: Path, tmp_path: Path) -> None:
    for extra in path.parent.glob("parent"):
        (tmp_path / "parent").mkdir()
        for f in extra.iterdir():
            (tmp_path / "parent" / f.name).write_text(f.read_text())
    lines = path.read_text().splitlines()
    copy = tmp_path / path.name
    copy.write_text(path.read_text())
    found = lint_file(copy)
    assert found
    for d in found:
        lines[d.line - 1] += f"  # policykit: ignore[{d.code}]"
    copy.write_text("\n".join(lines) + "\n")
    assert lint_file(copy) == []


def test_every_new_code_is_documented() -> None:
    errors = (ROOT / "docs" / "errors.md").read_text()
    for code in ("PK305", "PK308", "PK309", "PK310"):
        assert f"| {code} |" in errors and f"### {code}" in errors


def test_bundled_policies_lint_clean() -> None:
    files = policy_files([str(ROOT / "policies")])
    assert len(files) >= 5
    found = [str(d) for f in files for d in lint_file(f) if d.severity == "error"]
    assert found == []


def test_review_and_remove_overlap_is_not_a_conflict() -> None:
    policy = policykit.compile_text(
        'policy p "P"\n\nclause 1 "x"\n  rule r:\n    review comment when has profanity\n'
        '  rule s:\n    remove comment when has profanity\n', "p.pol")
    from policykit.lint import rule_warnings
    assert rule_warnings(policy, []) == []


def test_conflict_witness_is_confirmed_by_the_evaluator() -> None:
    policy = policykit.compile_text(
        'policy p "P"\n\nclause 1 "x"\n  rule keep_staff:\n    allow comment when author.role is "staff" and has threat\n'
        '  rule threats:\n    remove comment when has threat\n', "p.pol")
    from policykit.lint import rule_warnings
    (warning,) = rule_warnings(policy, [])
    assert warning.code == "PK308" and 'a comment labelled threat with author.role "staff"' in warning.message
    verdict = policy.evaluate({"kind": "comment", "labels": ["threat"], "author": {"role": "staff"}})
    assert {f.rule for f in verdict.findings} == {"keep_staff", "threats"} and verdict.decision == "remove"


def test_conflict_needs_the_allow_inside_the_stronger_rule() -> None:
    """Overlap alone (allow staff comments; remove threats) is the combination rule working as meant."""
    policy = policykit.compile_text(
        'policy p "P"\n\nclause 1 "x"\n  rule staff:\n    allow comment when author.role is "staff"\n'
        '  rule threats:\n    remove comment when has threat\n', "p.pol")
    from policykit.lint import rule_warnings
    assert rule_warnings(policy, []) == []


def test_clause_applies_orders_rules_so_no_conflict() -> None:
    policy = policykit.compile_text(
        'policy p "P"\n\nclause 1 "x"\n  rule threats:\n    remove comment when has threat\n'
        'clause 2 "y"\n  rule rest:\n    allow comment when has threat and not clause 1 applies\n', "p.pol")
    from policykit.lint import rule_warnings
    assert [d.code for d in rule_warnings(policy, [])] == []


def test_missing_fields_keep_a_shadowing_exception_from_applying() -> None:
    """The rule fires on `has threat`; the exception also needs author.role, which may be missing: no PK305."""
    policy = policykit.compile_text(
        'policy p "P"\n\nclause 1 "x"\n  rule threats:\n    remove comment when has threat\n'
        '  exception e to threats:\n    allow comment when author.role is "staff" or author.role is not "staff"\n',
        "p.pol")
    from policykit.lint import rule_warnings
    assert rule_warnings(policy, []) == []


def _model() -> an.Model:
    return an.Model({}, {"limit": 3})


def _cmp(path: str, op: str, value: object) -> st.Compare:
    span = Span("t", 1, 1)
    return st.Compare(op, st.Path(tuple(path.split(".")), span), st.Literal(value, span), span)


def _cmp_param(path: str, op: str, name: str) -> st.Compare:
    span = Span("t", 1, 1)
    return st.Compare(op, st.Path(tuple(path.split(".")), span), st.Path((name,), span), span)


def _and(a: st.Expr, b: st.Expr) -> st.Expr:
    return st.BoolOp("and", a, b, Span("t", 1, 1))


@pytest.mark.parametrize("a,b,never", [
    (_cmp("author.role", "is", "staff"), _cmp("author.role", "is", "vendor"), True),
    (_cmp("author.role", "in", ("staff", "vendor")), _cmp("author.role", "is not", "staff"), False),
    (_cmp("author_history.removed_before", ">", 3), _cmp("author_history.removed_before", "<=", 3), True),
    # numbers may be fractional as far as the analysis knows: no proof, so no warning
    (_cmp("author_history.removed_before", ">", 3), _cmp("author_history.removed_before", "<", 4), False),
    (_cmp("author_history.removed_before", ">", 3), _cmp("author_history.removed_before", "<", 3.5), False),
    (_cmp("author.department", "is", "Parks"), _cmp("author.department", "in", ("parks",)), False),
    (_cmp("author.department", "is", "Parks"), _cmp("author.department", "is", "parks"), True),
    (_cmp("at", ">=", date(2024, 1, 2)), _cmp("at", "<", date(2024, 1, 2)), True),
    (_cmp_param("author_history.removed_before", ">=", "limit"), _cmp("author_history.removed_before", "<", 3), True),
    (_cmp_param("author_history.removed_before", ">=", "limit"), _cmp("author_history.removed_before", "<", 4), False),
])
def test_never_true_is_exact_on_the_decidable_part(a: st.Expr, b: st.Expr, never: bool) -> None:
    model = _model()
    formula = an.f_and(model.condition(a, ["comment"]), model.condition(b, ["comment"]))
    assert an.never_true(model, formula) is never


def test_opaque_tests_are_never_assumed() -> None:
    span = Span("t", 1, 1)
    model = _model()
    regex = st.Matches(st.Path(("text",), span), "x", span)
    both = an.f_and(model.condition(regex, ["comment"]), model.condition(st.Not(regex, span), ["comment"]))
    assert an.never_true(model, both) is True  # the same test, negated: a contradiction whatever it means
    other = st.Matches(st.Path(("text",), span), "y", span)
    f = an.f_and(model.condition(regex, ["comment"]), model.condition(st.Not(other, span), ["comment"]))
    assert an.never_true(model, f) is False
    assert list(an.witnesses(model, [f])) == []  # no witness depends on what a regex matches


def test_a_count_against_a_fractional_constant_can_fire() -> None:
    """`number of` is a whole number: 3 photos exceed 2.5, so the rule is reachable (no PK309)."""
    policy = policykit.compile_text('policy c "C"\nclause 1 "Posts with many photos are removed."\n'
                                    '  remove post when number of media > 2.5\n', "c.pol")
    from policykit.lint import rule_warnings
    assert rule_warnings(policy, []) == []
    assert policy.evaluate({"kind": "post", "media": [{}, {}, {}]}).decision == "remove"


def test_a_count_that_no_whole_number_satisfies_never_fires() -> None:
    policy = policykit.compile_text('policy c "C"\nclause 1 "x"\n'
                                    '  remove post when number of media > 2.2 and number of media < 2.8\n', "c.pol")
    from policykit.lint import rule_warnings
    assert [d.code for d in rule_warnings(policy, [])] == ["PK309"]


def test_a_clause_cited_by_a_rule_elsewhere_is_accounted_for():
    from policykit.lint import policy_warnings
    policy = policykit.compile_text('policy c "C"\nclause 1 "Threats are removed."\n'
                                    'clause 2 "Spam is removed."\n'
                                    'rule spam:\n  remove comment when has commercial_solicitation\n    cite 2\n', "c.pol")
    assert [d.message for d in policy_warnings(policy) if d.code == "PK301"] == [
        "clause `1` is neither encoded nor marked not checkable"]


def _lint_text(tmp_path: Path, text: str, sources: Path | None = None) -> list:
    path = tmp_path / "p.pol"
    path.write_text(text)
    return lint_file(path, sources)


def test_pk304_suggests_the_nearest_known_obligation(tmp_path: Path) -> None:
    found = _lint_text(tmp_path, 'policy p "P"\n\nclause 1 "x"\n  remove comment when has threat\n'
                                 '    then archve "keep it"\n')
    pk304 = [d for d in found if d.code == "PK304"]
    assert len(pk304) == 1 and pk304[0].help.startswith("did you mean `archive`?")
    unlike = _lint_text(tmp_path, 'policy p "P"\n\nclause 1 "x"\n  remove comment when has threat\n'
                                  '    then zzqx "keep it"\n')
    assert [d.help for d in unlike if d.code == "PK304"][0].startswith("known: ")


def test_pk307_quotes_the_nearest_text_of_the_source_document(tmp_path: Path) -> None:
    sources = tmp_path / "texts"
    sources.mkdir()
    (sources / "doc.txt").write_text("1. Scope. This policy applies to all City accounts.\n"
                                     "2. Comments. Profane language and content;\n   threats of violence.\n")
    found = _lint_text(tmp_path, 'policy p "P"\n  document "doc.txt"\n\n'
                                 'clause 2.A "Profane language or content;"\n  not checkable because "x"\n'
                                 'clause 3 "Nothing like anything the document says, at all, anywhere."\n'
                                 '  not checkable because "x"\n', sources)
    by_clause = {d.message.split("`")[1]: d for d in found if d.code == "PK307"}
    assert by_clause["2.A"].severity == "error"
    assert "the nearest text there: “Profane language and content;”" in by_clause["2.A"].help
    assert "nearest" not in by_clause["3"].help  # nothing close: no made-up suggestion


def test_pk306_a_document_missing_from_sources_is_an_error(tmp_path: Path) -> None:
    sources = tmp_path / "texts"
    sources.mkdir()
    found = _lint_text(tmp_path, 'policy p "P"\n  document "doc.txt"\n\nclause 1 "x"\n  not checkable because "x"\n',
                       sources)
    assert [(d.code, d.severity) for d in found] == [("PK306", "error")]
    assert "no quote can be checked" in found[0].message


def test_messages_use_an_before_a_vowel(tmp_path: Path) -> None:
    found = _lint_text(tmp_path, 'policy p "P"\n\nclause 1 "x"\n  deny account when account.handel is "x"\n')
    assert "for an account event" in found[0].message
