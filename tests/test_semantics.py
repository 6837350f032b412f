"""What is not known never decides: exceptions over undetermined rules, unfilled parameters, illustrative
lists, and typos (labels, action types, test-file keys) that must not change a verdict silently."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as hs

import policykit
from policykit.lint import rule_warnings
from policykit import testing
from policykit.testing import run_file

EXCEPTION_POLICY = '''policy t "T"
clause 1 "Staff must be trained."
  rule trained:
    deny post when not author.trained
      because "Untrained."
clause 2 "Nothing in this policy prohibits personal use outside of work."
  exception personal to clause 1:
    allow post when not author.official_capacity
      because "Personal use."
'''


@pytest.fixture(scope="module")
def exception_policy():
    return policykit.compile_text(EXCEPTION_POLICY, "t.pol")


# (trained, official_capacity) → decision; None = the event does not give the field.
TRUTH_TABLE = [
    (None, None, "review"),    # both undetermined: a person decides
    (False, None, "review"),   # the rule fires, the exception is undetermined: at least review
    (True, None, "allow"),     # the rule does not fire: nothing to defeat
    (None, False, "allow"),    # the exception holds: it defeats the undetermined rule too
    (False, False, "allow"),
    (True, False, "allow"),
    (None, True, "review"),    # the exception does not apply: the rule alone, undetermined
    (False, True, "deny"),
    (True, True, "allow"),
]


@pytest.mark.parametrize("trained, official, decision", TRUTH_TABLE)
def test_exception_truth_table(exception_policy, trained, official, decision):
    author = {k: v for k, v in (("trained", trained), ("official_capacity", official)) if v is not None}
    assert exception_policy.evaluate({"kind": "post", "author": author}).decision == decision


def test_an_exception_that_holds_lists_the_undetermined_rule_it_defeats(exception_policy):
    verdict = exception_policy.evaluate({"kind": "post", "author": {"official_capacity": False}})
    assert [(f.rule, [d.rule for d in f.defeats]) for f in verdict.findings] == [("personal", ["trained"])]
    assert verdict.missing == []


def test_an_undetermined_exception_names_both_rules_and_what_it_needs(exception_policy):
    verdict = exception_policy.evaluate({"kind": "post", "author": {"trained": False}})
    (finding,) = verdict.findings
    assert finding.effect == "review"
    assert "trained" in finding.message and "personal" in finding.message
    assert finding.missing == ["author.official_capacity"]
    assert {c.clause for c in finding.citations} == {"1", "2"}


maybe_bool = hs.sampled_from([None, True, False])


@settings(max_examples=60, deadline=None)
@given(trained=maybe_bool, official=maybe_bool, fill_trained=hs.booleans(), fill_official=hs.booleans())
def test_more_facts_never_turn_an_exception_allow_into_review(exception_policy, trained, official,
                                                              fill_trained, fill_official):
    """An allow that an exception granted stays an allow when the event says more."""
    def judge(t, o):
        author = {k: v for k, v in (("trained", t), ("official_capacity", o)) if v is not None}
        return exception_policy.evaluate({"kind": "post", "author": author})

    less = judge(trained, official)
    granted = less.decision == "allow" and any(f.rule == "personal" for f in less.findings)
    more = judge(trained if trained is not None or not fill_trained else False,
                 official if official is not None or not fill_official else False)
    if granted:
        assert more.decision == "allow"


PARAM_POLICY = '''policy m "Model"
param website: text "the City's official website"
param city: text = "Anytown" "the city's name"
clause 1 "Accounts link to the official City website."
  deny account when account.website is present and account.website is not website
    because "{city} accounts link to {website}."
'''


def test_an_unfilled_parameter_decides_nothing():
    policy = policykit.compile_text(PARAM_POLICY, "m.pol")
    verdict = policy.evaluate({"kind": "account", "account": {"website": "example.org"}})
    assert verdict.decision == "review"
    assert verdict.missing == ["param:website"]
    assert "parameter `website` is not filled in" in verdict.findings[0].message
    assert policy.unfilled == ("website",)


def test_a_filled_parameter_decides():
    policy = policykit.compile_text(PARAM_POLICY, "m.pol", params={"website": "anytown.gov"})
    assert policy.evaluate({"kind": "account", "account": {"website": "example.org"}}).decision == "deny"
    assert policy.evaluate({"kind": "account", "account": {"website": "anytown.gov"}}).decision == "allow"


def test_strict_loading_rejects_unfilled_parameters(tmp_path):
    with pytest.raises(policykit.PolicyError) as caught:
        policykit.compile_text(PARAM_POLICY, "m.pol", strict=True)
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.line) == ("PK114", 2)
    assert "website" in diagnostic.message
    path = tmp_path / "m.pol"
    path.write_text(PARAM_POLICY)
    with pytest.raises(policykit.PolicyError):
        policykit.load(path, strict=True)
    assert policykit.load(path).unfilled == ("website",)


COMPLIANT_ACCOUNT = {"kind": "account", "account": {
    "official": True, "name": "City of Lakeville", "handle": "LakevilleMN", "platform": "facebook",
    "bio": "Official page of the City of Lakeville", "website": "lakevillemn.gov",
    "terms_displayed": True, "links_to_user_policy": True, "password_strength": "strong",
    "registered": True, "administrators": ["Communications Director"], "approved_by": "City Administrator"}}
LAKEVILLE = {"city": "Lakeville", "official_website": "lakevillemn.gov", "facebook_account": "LakevilleMN",
             "twitter_account": "LakevilleMN"}


def test_the_minnesota_model_without_parameters_never_denies_a_compliant_account():
    """Unfilled, the model cannot know the city's website or handles: what needs them goes to a person,
    naming the blank; nothing is denied against a placeholder, and nothing else stands in the way."""
    model = policykit.load("minnesota_model")
    assert model.unfilled, "the model's blanks are parameters without values"
    verdict = model.evaluate(COMPLIANT_ACCOUNT)
    assert all(f.effect != "deny" for f in verdict.findings)
    assert verdict.missing and all(m.startswith("param:") for m in verdict.missing)
    assert all(f.missing and all(m.startswith("param:") for m in f.missing)
               for f in verdict.findings if f.effect != "allow")


def test_the_minnesota_model_filled_in_allows_a_compliant_account():
    assert policykit.load("minnesota_model", params=LAKEVILLE).evaluate(COMPLIANT_ACCOUNT).decision == "allow"


OPEN_LIST = '''policy o "Open"
clause 1 "Otherwise, agencies may not delete comments."
  rule no_deleting:
    deny action delete_comment
clause 2 "For guidance on the narrow exceptions (e.g., obscene comments, hate speech), contact counsel."
  exception narrow to no_deleting:
    review action delete_comment when target has such as obscene, hate_speech
      then consult "agency legal counsel"
clause 3 "Hyperlinks to obscene material may be removed."
  review comment when any links where it has obscene
'''


@pytest.fixture(scope="module")
def open_policy():
    return policykit.compile_text(OPEN_LIST, "o.pol")


def delete(target):
    return {"kind": "action", "action": {"type": "delete_comment", "target": {"kind": "comment", **target}}}


def test_a_listed_example_takes_the_stated_route(open_policy):
    verdict = open_policy.evaluate(delete({"labels": ["obscene"]}))
    assert verdict.decision == "review" and [o.action for o in verdict.obligations] == ["consult"]
    assert verdict.findings[0].defeats[0].rule == "no_deleting"


def test_content_of_another_kind_goes_to_a_person_by_the_stated_route(open_policy):
    verdict = open_policy.evaluate(delete({"labels": ["threat"]}))
    assert verdict.decision == "review"
    assert [o.action for o in verdict.obligations] == ["consult"]
    assert "illustrative" in verdict.findings[0].message
    assert any(e.category == "threat" for e in verdict.findings[0].evidence)


def test_content_of_no_listed_or_other_kind_stays_denied(open_policy):
    assert open_policy.evaluate(delete({"text": "I disagree with the council's vote."})).decision == "deny"


def test_but_not_names_what_is_not_of_the_listed_kind():
    policy = policykit.compile_text(OPEN_LIST.replace(
        "target has such as obscene, hate_speech", "target has such as obscene, hate_speech but not off_topic"), "o.pol")
    assert policy.evaluate(delete({"labels": ["off_topic"]})).decision == "deny"
    assert policy.evaluate(delete({"labels": ["threat"]})).decision == "review"
    assert policy.evaluate(delete({"labels": ["off_topic", "obscene"]})).decision == "review"


def test_labelled_asks_only_upstream_labels():
    policy = policykit.compile_text('policy l "L"\nclause 1 "Private information is removed."\n'
                                    '  remove post when labelled personal_information\n'
                                    '  review post when has personal_information\n', "l.pol")
    assert policy.evaluate({"kind": "post", "labels": ["personal_information"]}).decision == "remove"
    found = policy.evaluate({"kind": "post", "text": "Call Jane Doe at 612-555-0199, her cell"})
    assert found.decision in ("review", "allow") and all(f.effect != "remove" for f in found.findings)
    assert policy.evaluate({"kind": "post", "text": "Our office hours are 9 to 5."}).decision == "allow"


def test_detectors_read_an_actions_own_words():
    policy = policykit.compile_text('policy r "R"\nclause 1 "Staff replies must be civil."\n'
                                    '  review action reply when has profanity\n', "r.pol")
    assert policy.evaluate({"kind": "action", "action": {"type": "reply", "text": "what the hell"}}).decision == "review"
    assert policy.evaluate({"kind": "action", "action": {"type": "reply", "text": "Thanks, fixed!"}}).decision == "allow"


def test_labels_on_one_link(open_policy):
    assert open_policy.evaluate({"kind": "comment", "links": [
        "https://example.org", {"url": "https://x.example", "labels": ["obscene"]}]}).decision == "review"
    assert open_policy.evaluate({"kind": "comment", "links": ["https://x.example"]}).decision == "allow"


def test_an_unknown_label_is_an_event_error_with_did_you_mean(open_policy):
    with pytest.raises(policykit.EventError) as caught:
        open_policy.evaluate({"kind": "comment", "labels": ["obscen"]})
    assert caught.value.path == "labels[0]" and "`obscene`" in str(caught.value)
    with pytest.raises(policykit.EventError) as caught:
        open_policy.evaluate(delete({"links": [{"url": "https://x", "labels": ["thret"]}]}))
    assert caught.value.path == "action.target.links[0].labels[0]"


def test_an_unknown_action_type_is_an_error_with_did_you_mean():
    with pytest.raises(policykit.PolicyError) as caught:
        policykit.compile_text('policy a "A"\nclause 1 "No sharing."\n  deny action shre_credentials\n', "a.pol")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "PK115" and "share_credentials" in (diagnostic.help or "")


def test_a_declared_action_type_is_known():
    policy = policykit.compile_text('policy a "A"\naction type appeal_removal "an appeal of a removal"\n'
                                    'clause 1 "Appeals are read."\n  review action appeal_removal\n', "a.pol")
    assert policy.evaluate({"kind": "action", "action": {"type": "appeal_removal"}}).decision == "review"


def test_an_unknown_expect_key_fails_the_case(tmp_path):
    (tmp_path / "a.pol").write_text('policy a "A"\nclause 1 "Threats are removed."\n  remove comment when has threat\n')
    (tmp_path / "a.tests.yaml").write_text(
        "policy: a.pol\ncases:\n  - name: typo\n    event: {kind: comment, labels: [threat]}\n"
        "    expect: {decison: allow}\n")
    (result,) = run_file(tmp_path / "a.tests.yaml")
    assert not result.passed and "did you mean `decision`" in result.problems[0]


def test_an_unknown_top_level_key_fails_the_file_but_x_anchors_are_free(tmp_path):
    (tmp_path / "a.pol").write_text('policy a "A"\nclause 1 "Threats are removed."\n  remove comment when has threat\n')
    case = "cases:\n  - name: t\n    event: {kind: comment, labels: [threat], author: *who}\n    expect: {decision: remove}\n"
    (tmp_path / "ok.tests.yaml").write_text("policy: a.pol\nx_who: &who {role: public}\n" + case)
    assert [r.passed for r in run_file(tmp_path / "ok.tests.yaml")] == [True]
    (tmp_path / "bad.tests.yaml").write_text("policy: a.pol\nparms: {}\nx_who: &who {role: public}\n" + case)
    with pytest.raises(testing.TestFileError, match="did you mean `params`"):
        run_file(tmp_path / "bad.tests.yaml")


def test_a_case_may_fill_in_parameters_of_its_own(tmp_path):
    (tmp_path / "m.pol").write_text(PARAM_POLICY)
    (tmp_path / "m.tests.yaml").write_text(
        "policy: m.pol\ncases:\n"
        "  - name: blank\n    event: {kind: account, account: {website: x.org}}\n"
        "    expect: {decision: review, missing: ['param:website']}\n"
        "  - name: filled\n    params: {website: anytown.gov}\n    event: {kind: account, account: {website: x.org}}\n"
        "    expect: {decision: deny}\n")
    assert [r.passed for r in run_file(tmp_path / "m.tests.yaml")] == [True, True]


def test_a_field_with_an_otherwise_default_is_never_missing():
    policy = policykit.compile_text('policy d "D"\nclause 1 "Public comments with threats are reviewed."\n'
                                    '  review comment when (author.role otherwise "public") is "public" and has threat and\n'
                                    '      author_history.removed_before > 1\n', "d.pol")
    verdict = policy.evaluate({"kind": "comment", "labels": ["threat"]})
    assert verdict.missing == ["author_history.removed_before"]


def test_a_field_read_twice_is_missing_once():
    policy = policykit.compile_text('policy d "D"\ndefine city_use = author.official_capacity\n'
                                    'clause 1 "City posts are reviewed."\n'
                                    '  review post when city_use and (city_use or has threat)\n', "d.pol")
    assert policy.evaluate({"kind": "post"}).findings[0].missing == ["author.official_capacity"]


def test_a_rule_for_comments_and_posts_may_test_which_it_is():
    policy = policykit.compile_text('policy k "K"\nclause 1 "Public comments with threats go to a person."\n'
                                    '  review comment, post when kind is "comment" and has threat\n', "k.pol")
    assert policy.evaluate({"kind": "comment", "labels": ["threat"]}).decision == "review"
    assert policy.evaluate({"kind": "post", "labels": ["threat"]}).decision == "allow"


def test_lint_warns_when_absence_sends_every_such_event_to_review():
    policy = policykit.compile_text('''policy w "W"
clause 1 "Elected officials may not comment."
  deny comment when author.role is "elected_official"
  deny comment when (author.role otherwise "public") is "elected_official"
  deny comment when author.role is present and author.role is "elected_official"
''', "w.pol")
    warnings = [d for d in rule_warnings(policy) if d.code == "PK311"]
    assert [d.line for d in warnings] == [3]
    assert "otherwise" in (warnings[0].help or "")

