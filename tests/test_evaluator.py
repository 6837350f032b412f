"""Evaluation semantics: effects, exceptions, obligations, absence, time, composition, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

import policykit
from policykit.detectors import Hit

BASE = '''policy demo "Demo policy"
  version "2"
  effective 2020-01-01

param city: text = "[City]" "the city's name"
define profane = has profanity, obscene

clause 1 "Profane language or content;"
  rule profane_content:
    remove comment, post when profane
      because "{city} removes profane content."
      then document "screenshot/printout" cite 2
      then archive cite 3
clause 2 "Content deemed inappropriate shall be promptly documented"
  not checkable because "an obligation, cited by rule profane_content"
clause 3 "Contents posted on City social media sites will be considered public records."
  not checkable because "an obligation, cited by rule profane_content"
clause 4 "Otherwise, agencies may not delete or modify comments"
  rule no_deleting:
    deny action delete_comment, edit_comment
      because "{actor.name} may not delete comments."
  exception counsel to no_deleting:
    review action delete_comment when target has obscene, hate_speech
      because "A narrow exception may apply."
      then consult "agency legal counsel"
clause 5 "Repeat violators shall be removed."
  rule repeat_violator:
    remove comment when author_history.removed_before >= 2 and clause 1 applies
      because "Repeat violation."
      then remove_follower "{author.name}"
clause 6 "Authorized users shall be trained."
  rule untrained:
    deny post when not author.trained
clause 7 "Accounts need a strong password."
  rule weak_password:
    deny account when (account.password_strength otherwise "weak") is not "strong"
clause 8 "A rule that starts later."
  review comment when has contest
    effective 2024-01-01
'''


@pytest.fixture(scope="module")
def policy() -> policykit.Policy:
    return policykit.compile_text(BASE, "demo.pol")


def comment(**fields):
    return {"kind": "comment", **fields}


def test_no_finding_means_allow(policy):
    verdict = policy.evaluate(comment(text="Thanks for the update"))
    assert verdict.decision == "allow" and verdict.findings == []


def test_label_fires_rule_with_verbatim_citation_and_source_line(policy):
    verdict = policy.evaluate(comment(text="fine", labels=["obscene"], author_history={"removed_before": 0}))
    assert verdict.decision == "remove"
    (finding,) = verdict.findings
    assert finding.rule == "profane_content"
    assert finding.citations[0].text == "Profane language or content;"
    assert finding.citations[0].source == "demo.pol:8"
    assert finding.evidence[0].field == "labels" and finding.evidence[0].category == "obscene"


def test_detector_evidence_points_into_text(policy):
    text = "what the hell is this"
    verdict = policy.evaluate(comment(text=text))
    evidence = verdict.findings[0].evidence[0]
    assert text[evidence.start:evidence.end] == evidence.match == "hell"


def test_obligations_keep_policy_order_and_own_citations(policy):
    verdict = policy.evaluate(comment(labels=["profanity"]))
    assert [o.action for o in verdict.obligations] == ["document", "archive"]
    assert [c.clause for c in verdict.obligations[0].citations] == ["2"]
    assert [c.clause for c in verdict.obligations[1].citations] == ["3"]


def test_parameter_default_and_filled_in_message():
    default = policykit.compile_text(BASE, "demo.pol").evaluate(comment(labels=["profanity"]))
    filled = policykit.compile_text(BASE, "demo.pol", params={"city": "Lakeville"}).evaluate(comment(labels=["profanity"]))
    assert default.findings[0].message == "[City] removes profane content."
    assert filled.findings[0].message == "Lakeville removes profane content."


def test_unknown_parameter_is_a_policy_error():
    with pytest.raises(policykit.PolicyError, match="PK107"):
        policykit.compile_text(BASE, "demo.pol", params={"citty": "X"})


def test_exception_defeats_named_rule_and_lists_it(policy):
    event = {"kind": "action", "action": {"type": "delete_comment", "target": comment(labels=["obscene"])},
             "actor": {"name": "Robin"}}
    verdict = policy.evaluate(event)
    assert verdict.decision == "review"
    (finding,) = verdict.findings
    assert finding.rule == "counsel"
    assert finding.defeats[0].rule == "no_deleting" and finding.defeats[0].clauses == ["4"]
    assert [o.action for o in verdict.obligations] == ["consult"]


def test_exception_does_not_apply_when_its_condition_fails(policy):
    event = {"kind": "action", "action": {"type": "delete_comment", "target": comment(text="I disagree")},
             "actor": {"name": "Robin"}}
    verdict = policy.evaluate(event)
    assert verdict.decision == "deny"
    assert verdict.findings[0].message == "Robin may not delete comments."


def test_exception_is_scoped_to_its_own_targets(policy):
    event = {"kind": "action", "action": {"type": "edit_comment", "target": comment(labels=["obscene"])}}
    assert policy.evaluate(event).decision == "deny"


def test_missing_field_gives_review_and_names_it(policy):
    verdict = policy.evaluate({"kind": "post", "text": "Road closed on Main St."})
    assert verdict.decision == "review"
    assert verdict.missing == ["author.trained"]
    assert "author.trained" in verdict.findings[0].message


MISSING = '''policy gaps "Naming what is missing"
clause 1 "Photos of identifiable private individuals need a release."
  review post when any media where (identifiable_private_individuals and release is not "written")
    because "{author.name} must hold a written release."
'''


def test_missing_names_the_list_item_field_and_not_fields_used_only_in_the_message():
    policy = policykit.compile_text(MISSING, "gaps.pol")
    verdict = policy.evaluate({"kind": "post", "media": [{"type": "photo", "release": "none"}]})
    assert verdict.decision == "review"
    assert verdict.missing == ["media[*].identifiable_private_individuals"]
    assert policy.evaluate({"kind": "post", "media": [{"identifiable_private_individuals": False}]}).missing == []


def test_otherwise_default_says_what_absence_means(policy):
    verdict = policy.evaluate({"kind": "account", "account": {"handle": "x"}})
    assert verdict.decision == "deny" and verdict.missing == []


def test_three_valued_and_is_false_when_one_side_is_false(policy):
    verdict = policy.evaluate(comment(text="Thanks"))  # repeat_violator: unknown history, but clause 1 is false
    assert verdict.decision == "allow"


def test_clause_applies_uses_rules_under_that_clause(policy):
    repeat = policy.evaluate(comment(labels=["profanity"], author_history={"removed_before": 2}, author={"name": "Al"}))
    assert {f.rule for f in repeat.findings} == {"profane_content", "repeat_violator"}
    assert [o.action for o in repeat.obligations] == ["document", "archive", "remove_follower"]
    first = policy.evaluate(comment(labels=["profanity"], author_history={"removed_before": 0}))
    assert {f.rule for f in first.findings} == {"profane_content"}


def test_event_is_judged_by_rules_in_force_at_its_time(policy):
    before = policy.evaluate(comment(labels=["contest"], at="2023-06-01T00:00:00Z"))
    after = policy.evaluate(comment(labels=["contest"], at="2024-06-01T00:00:00Z"))
    assert before.decision == "allow" and after.decision == "review"


def test_event_before_policy_took_force_is_not_silently_allowed(policy):
    verdict = policy.evaluate(comment(labels=["profanity"], at="2019-12-31T23:00:00Z"))
    assert verdict.decision == "review" and "not yet in force" in verdict.errors[0].message


def test_rules_are_indexed_by_action_type(policy):
    assert policy.program.applicable("action", "login") == ()
    assert len(policy.program.applicable("action", "delete_comment")) == 2


def test_malformed_event_names_field_path(policy):
    with pytest.raises(policykit.EventError) as info:
        policy.evaluate({"kind": "comment", "author": {"trained": "maybe"}})
    assert info.value.path == "author.trained"
    with pytest.raises(policykit.EventError, match="txt: unknown field"):
        policy.evaluate({"kind": "comment", "txt": "typo"})


def test_evaluate_many_keeps_order_and_reports_index(policy):
    verdicts = list(policy.evaluate_many([comment(text="ok"), comment(labels=["obscene"])]))
    assert [v.decision for v in verdicts] == ["allow", "remove"]
    with pytest.raises(policykit.EventError) as info:
        list(policy.evaluate_many([comment(text="ok"), {"kind": "nope"}]))
    assert info.value.index == 1


class _Broken:
    name = "broken"
    categories = frozenset({"threat"})

    def detect(self, text):
        raise RuntimeError("model file missing")


class _Counting:
    name = "counting"
    categories = frozenset({"threat", "violence"})

    def __init__(self):
        self.calls = 0

    def detect(self, text):
        self.calls += 1
        return [Hit("violence", 0, 4, text[:4], self.name)]


THREAT = '''policy t "T"
clause 1 "Violent or threatening content;"
  remove comment when has threat
  review comment when has violence
  review comment when has threat, violence
'''


def _with_detectors(detectors):
    from policykit.compiler import _Layer, compile_layers
    from policykit.parser import parse
    return compile_layers([_Layer(parse(THREAT, "t.pol"), "t.pol")], detectors=detectors)


def test_failing_detector_is_reported_and_fails_safe():
    verdict = _with_detectors([_Broken()]).evaluate(comment(text="see you tomorrow"))
    assert verdict.decision == "review"
    assert verdict.errors[0].source == "detector:broken"


def test_detector_runs_once_per_event_and_field():
    counting = _Counting()
    verdict = _with_detectors([counting]).evaluate(comment(text="boom goes the thing"))
    assert counting.calls == 1
    assert verdict.decision == "review"


def test_label_trust_threshold():
    text = '''policy t "T"
trust labels from "clf" above 0.8
clause 1 "Violent or threatening content;"
  remove comment when has hate_speech
'''
    policy = policykit.compile_text(text, "t.pol")
    low = policy.evaluate(comment(labels=[{"name": "hate_speech", "score": 0.5, "source": "clf"}]))
    high = policy.evaluate(comment(labels=[{"name": "hate_speech", "score": 0.9, "source": "clf"}]))
    other = policy.evaluate(comment(labels=[{"name": "hate_speech", "score": 0.99, "source": "unknown-bot"}]))
    assert (low.decision, high.decision, other.decision) == ("allow", "remove", "allow")


def test_quantifiers_and_regex():
    text = '''policy q "Q"
clause 1 "Obtain permission before posting photos of others."
  deny post when any media where (identifiable_private_individuals and release is "none")
clause 2 "No link shorteners."
  review post when any links where it matches /^https?:\\/\\/(bit\\.ly|tinyurl\\.com)\\//
clause 3 "Every photo must be the city's own."
  review post when not (all media where ownership in ["city", "licensed"])
'''
    policy = policykit.compile_text(text, "q.pol")
    photo = {"type": "photo", "identifiable_private_individuals": True, "release": "none", "ownership": "city"}
    verdict = policy.evaluate({"kind": "post", "media": [photo], "links": ["https://bit.ly/x"]})
    assert [f.rule for f in verdict.findings] == ["1#1", "2#1"]
    assert policy.evaluate({"kind": "post", "media": [{**photo, "release": "written"}]}).decision == "allow"
    assert policy.evaluate({"kind": "post", "media": [{"type": "photo", "ownership": "third_party",
                                                       "release": "written"}]}).decision == "review"


def test_extends_adds_and_overrides_by_name(tmp_path: Path):
    (tmp_path / "base.pol").write_text(BASE)
    (tmp_path / "dept.pol").write_text('''policy dept "Department policy"
  extends "base.pol"
  set city = "Parkville"

clause d.1 "Department staff may post without the training flag during a declared emergency."
  override rule untrained:
    deny post when not author.trained and not (context.emergency otherwise false)
clause d.2 "Our account discusses parks only."
  review comment when has off_topic
''')
    dept = policykit.load(tmp_path / "dept.pol")
    assert dept.evaluate({"kind": "comment", "labels": ["off_topic"]}).findings[0].citations[0].policy == "dept"
    inherited = dept.evaluate(comment(labels=["profanity"]))
    assert inherited.findings[0].citations[0].policy == "demo"
    assert inherited.findings[0].message == "Parkville removes profane content."
    emergency = dept.evaluate({"kind": "post", "author": {"trained": False}, "context": {"emergency": True}})
    assert emergency.decision == "allow"


def test_override_of_unknown_rule_is_an_error(tmp_path: Path):
    (tmp_path / "base.pol").write_text(BASE)
    (tmp_path / "bad.pol").write_text('policy bad "B"\n  extends "base.pol"\n\nclause x "x"\n'
                                      '  override rule untrainedd:\n    deny post\n')
    with pytest.raises(policykit.PolicyError, match="PK206"):
        policykit.load(tmp_path / "bad.pol")


def test_verdict_wire_format_matches_contract(policy):
    data = policy.evaluate(comment(labels=["profanity"])).model_dump(mode="json")
    assert set(data) >= {"policy", "decision", "findings", "obligations", "errors"}
    assert data["policy"] == {"name": "demo", "title": "Demo policy", "version": "2"}
    finding = data["findings"][0]
    assert set(finding) >= {"rule", "effect", "message", "citations", "evidence"}
    assert set(finding["citations"][0]) == {"policy", "clause", "text", "source"}


def test_module_level_evaluate_compiles_once():
    first = policykit.load("clinton")
    assert policykit.load("clinton") is first
    assert policykit.evaluate(comment(labels=["profanity"]), policy="clinton").decision == "remove"
    assert set(policykit.policies()) >= {"syracuse", "nyc", "clinton", "cottonwood", "minnesota_model"}


def test_a_condition_wraps_after_and_or_and_commas_when_the_next_line_is_indented_more():
    wrapped = policykit.compile_text('policy w "W"\nclause 1 "Repeat violators shall be removed."\n'
                                     '  remove comment when has profanity,\n      threat and\n'
                                     '      author_history.removed_before >= 2\n    because "Repeat."\n', "w.pol")
    one_line = policykit.compile_text('policy w "W"\nclause 1 "Repeat violators shall be removed."\n'
                                      '  remove comment when has profanity, threat and '
                                      'author_history.removed_before >= 2\n    because "Repeat."\n', "w.pol")
    for history in (0, 3):
        event = {"kind": "comment", "labels": ["threat"], "author_history": {"removed_before": history}}
        assert wrapped.evaluate(event) == one_line.evaluate(event)
    assert wrapped.evaluate({"kind": "comment", "labels": ["threat"],
                             "author_history": {"removed_before": 3}}).decision == "remove"
