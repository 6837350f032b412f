"""Every adapter, every fixture: contract-shaped output, field paths on malformed input, the registry."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policykit.platforms import (
    BUILTIN_ADAPTERS,
    PlatformFacts,
    PlatformPayloadError,
    UnknownPlatformError,
    convert,
    from_platform,
    get_adapter,
)
from policykit.platforms.base import Adapter, CityAccounts, urls_in_text

FIXTURES = Path(__file__).parent / "fixtures"
PLATFORMS = ("facebook", "mastodon", "bluesky", "x")
CITY = {
    "facebook": frozenset(),  # the page itself (entry[].id) is always a city account
    "mastodon": frozenset({"cityofexample@social.example.gov", "109876543210990000"}),
    "bluesky": frozenset({"did:plc:cityofexamplegov2345abcd"}),
    "x": frozenset({"@CityOfExample"}),
}
VALID = [(p, path) for p in PLATFORMS for path in sorted((FIXTURES / p).glob("*.json"))]
MALFORMED = [
    (p, case) for p in PLATFORMS
    for case in json.loads((FIXTURES / "malformed" / f"{p}.json").read_text(encoding="utf-8"))
]


@pytest.mark.parametrize(("platform", "path"), VALID, ids=[f"{p}/{path.stem}" for p, path in VALID])
def test_fixture_adapts_to_contract_shaped_events(platform, path, contract):
    payload = json.loads(path.read_text(encoding="utf-8"))
    before = copy.deepcopy(payload)
    events = from_platform(platform, payload, city_accounts=CITY[platform])
    assert isinstance(events, list)
    for i, event in enumerate(events):
        contract(event, platform, f"events[{i}]")
    assert payload == before, "adapters must not modify the payload"
    assert from_platform(platform, payload, city_accounts=CITY[platform]) == events, "deterministic"


def test_every_platform_has_edited_deleted_or_hidden_and_media_fixtures():
    for platform in PLATFORMS:
        seen = {"edited": False, "gone": False, "media": False}
        for path in sorted((FIXTURES / platform).glob("*.json")):
            for event in from_platform(platform, json.loads(path.read_text()), city_accounts=CITY[platform]):
                extra = event.get("extra", {})
                seen["edited"] |= bool(extra.get("edited"))
                target = event.get("action", {}).get("target", {})
                seen["gone"] |= event["kind"] == "action" and target.get("kind") in ("comment", "post")
                seen["media"] |= bool(event.get("media"))
        assert all(seen.values()), (platform, seen)


@pytest.mark.parametrize(("platform", "case"), MALFORMED, ids=[f"{p}/{c['name']}" for p, c in MALFORMED])
def test_malformed_payload_names_the_field(platform, case):
    with pytest.raises(PlatformPayloadError) as info:
        from_platform(platform, case["payload"], city_accounts=CITY[platform])
    err = info.value
    assert err.platform == platform
    assert err.path == case["path"], str(err)
    assert isinstance(err, ValueError)
    assert err.expected and err.expected in str(err)
    if "expected_contains" in case:
        assert case["expected_contains"] in err.expected
    assert (case["path"] or "(payload)") in str(err)


def test_error_is_an_event_error_with_one_field_problem():
    from policykit import EventError

    err = PlatformPayloadError("x", "data[1].text", "the tweet text", got=42)
    assert isinstance(err, EventError) and isinstance(err, ValueError)
    assert err.path == "data[1].text"
    [problem] = err.problems
    assert (problem.path, problem.expected, problem.got) == ("data[1].text", "the tweet text", "the number 42")


def test_error_pickles_and_reads_well():
    err = PlatformPayloadError("facebook", "entry[0].changes[1].value.message", "a string", got=12)
    assert str(err) == "facebook payload: entry[0].changes[1].value.message: expected a string, got the number 12"
    again = pickle.loads(pickle.dumps(err))
    assert (again.platform, again.path, again.expected, str(again)) == (err.platform, err.path, err.expected, str(err))


def test_registry_lists_the_builtins_with_facts():
    assert set(BUILTIN_ADAPTERS) == set(PLATFORMS)
    for name, adapter in BUILTIN_ADAPTERS.items():
        assert isinstance(adapter, Adapter)
        assert adapter.name == name
        assert isinstance(adapter.facts, PlatformFacts) and adapter.facts.name == name
        assert adapter.facts.media_types <= {"photo", "video", "graphic", "document", "audio"}
    assert BUILTIN_ADAPTERS["x"].facts.max_text_length == 280
    assert BUILTIN_ADAPTERS["bluesky"].facts.supports_edit is False
    assert BUILTIN_ADAPTERS["mastodon"].facts.max_text_length == 500


def test_module_facts_and_adapt_are_exposed():
    from policykit.platforms import bluesky, facebook, mastodon, x

    for module in (facebook, mastodon, bluesky, x):
        assert module.FACTS is module.adapter.facts
        assert callable(module.adapt)


def test_unknown_platform_lists_the_known_ones():
    with pytest.raises(UnknownPlatformError) as info:
        from_platform("myspace", {})
    message = str(info.value)
    assert "myspace" in message and all(p in message for p in PLATFORMS)
    assert isinstance(info.value, ValueError) and isinstance(info.value, LookupError)
    assert set(PLATFORMS) <= set(info.value.known)  # plugins may add more


def test_platform_names_are_case_insensitive_with_aliases():
    assert get_adapter("Twitter") is BUILTIN_ADAPTERS["x"]
    assert get_adapter(" Facebook ") is BUILTIN_ADAPTERS["facebook"]
    assert get_adapter("bsky") is BUILTIN_ADAPTERS["bluesky"]


def test_unknown_options_are_rejected():
    with pytest.raises(TypeError):
        from_platform("x", {"data": []}, city_acounts=frozenset())


def test_city_accounts_must_be_a_collection():
    with pytest.raises(TypeError, match="not a single string"):
        from_platform("x", {"data": []}, city_accounts="CityOfExample")
    assert CityAccounts(["@CityOfExample", 1234]).matches("cityofexample")
    assert CityAccounts(["1234"]).matches("1234")
    assert not CityAccounts(None).matches("x", None)


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("see https://example.gov/a.", ["https://example.gov/a"]),
        ("(https://en.wikipedia.org/wiki/Foo_(bar)) ok", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
        ("two: http://a.example/x, https://b.example/y?q=1!", ["http://a.example/x", "https://b.example/y?q=1"]),
        ("nothing here http:// or www.example.gov", []),
    ],
)
def test_urls_in_text(text, urls):
    assert urls_in_text(text) == urls


def test_events_validate_against_the_core_event_models():
    models = pytest.importorskip("policykit.models")
    parse_event = getattr(models, "parse_event", None)
    if parse_event is None:
        pytest.skip("policykit.models has no parse_event yet")
    for platform, path in VALID:
        for event in from_platform(platform, json.loads(path.read_text()), city_accounts=CITY[platform]):
            parse_event(event)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, prefix + (i,))


def _replaced(value, path, new):
    if not path:
        return new
    copy_ = copy.copy(value)
    copy_[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy_


@pytest.mark.parametrize(("platform", "path"), VALID, ids=[f"{p}/{path.stem}" for p, path in VALID])
def test_any_corrupted_field_is_a_payload_error_or_ignored(platform, path):
    """Replacing any node of a valid payload never crashes an adapter with anything but PlatformPayloadError."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    for where in _paths(payload):
        for new in (None, 7, -1.5, True, "", "x", [], {}, [None], {"": None}):
            corrupted = _replaced(payload, where, new)
            try:
                events = from_platform(platform, corrupted, city_accounts=CITY[platform])
            except PlatformPayloadError:
                continue
            except Exception as exc:  # pragma: no cover - the assertion explains
                raise AssertionError(f"{platform}/{path.stem}: {where} = {new!r} raised {exc!r}") from exc
            assert isinstance(events, list)
            json.dumps(events)


def test_from_platform_is_exported_at_the_top_level():
    import policykit
    import policykit.platforms

    assert policykit.from_platform is policykit.platforms.from_platform
    assert "from_platform" in policykit.__all__


OWN_DELETIONS = [("x", "compliance_delete"), ("bluesky", "jetstream_delete")]


@pytest.mark.parametrize(("platform", "name"), OWN_DELETIONS)
def test_an_authors_own_deletion_is_theirs_and_no_bundled_policy_judges_it_as_moderation(platform, name):
    import policykit

    payload = json.loads((FIXTURES / platform / f"{name}.json").read_text(encoding="utf-8"))
    [event] = from_platform(platform, payload, city_accounts=CITY[platform])
    assert event["action"]["type"] == "withdraw_comment"          # not delete_comment: the city did nothing
    assert event["actor"] == event["action"]["target"]["author"] and event["actor"]["role"] == "public"
    for policy in policykit.policies():
        verdict = policykit.load(policy, _params(policy)).evaluate(event)
        assert verdict.decision == "allow", (policy, [f.rule for f in verdict.findings])


def _params(policy):
    """What a model policy needs filled in to load."""
    import policykit

    try:
        policykit.load(policy)
    except policykit.PolicyError:
        return {"city": "Example"}
    return None


def _paths(value, prefix=()):
    """Every path to a value inside a payload."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _replaced(payload, path, new):
    if not path:
        return new
    out = copy.deepcopy(payload)
    holder = out
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = new
    return out


ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70), st.floats(),
    st.text(max_size=30), st.sampled_from(["", "at://", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00",
                                           "&amp;", "https://x.com/i/web/status/1", "\ud800"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_field_of_a_real_payload_replaced_converts_or_is_refused_for_that_item(data):
    """The issue's bar: every payload converts or is refused for that item alone; 0 other exceptions."""
    platform, path = data.draw(st.sampled_from(VALID))
    payload = json.loads(path.read_text(encoding="utf-8"))
    where = data.draw(st.sampled_from(list(_paths(payload))))
    mutated = _replaced(payload, where, data.draw(ODD_VALUES))
    results = convert(platform, mutated, city_accounts=CITY[platform])
    for result in results:
        assert (result.event is None) != (result.error is None)
        if result.error is not None:
            assert isinstance(result.error, PlatformPayloadError) and result.error.expected
            assert "adapter can read (it raised" not in result.error.expected, result.error  # no safety net needed
        else:
            assert isinstance(result.event, dict) and result.event["platform"] == platform


def test_convert_reports_a_plugin_adapter_that_fails_instead_of_raising(monkeypatch):
    import policykit.platforms as platforms

    class Broken:
        name = "broken"
        facts = BUILTIN_ADAPTERS["x"].facts

        def adapt(self, payload, *, city_accounts=frozenset()):
            raise RuntimeError("the plugin's own bug")

    monkeypatch.setattr(platforms, "available_adapters", lambda: {**BUILTIN_ADAPTERS, "broken": Broken()})
    [result] = convert("broken", {"anything": 1})
    assert result.event is None and "RuntimeError" in str(result.error) and result.error.platform == "broken"
