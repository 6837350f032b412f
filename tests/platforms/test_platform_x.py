"""X API v2 tweets and compliance messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policykit.platforms import PlatformPageError, PlatformPayloadError, convert, x

FIXTURES = Path(__file__).parent / "fixtures"

CITY_ID = "1234567890"
CITY = frozenset({"@CityOfExample"})


def adapt(payload, city=CITY):
    return x.adapt(payload, city_accounts=city)


def test_reply_is_a_comment_with_expanded_links(fixture):
    [event] = adapt(fixture("x", "reply_comment"))
    assert event["kind"] == "comment"
    assert event["at"] == "2024-05-01T14:03:27Z"
    assert event["author"] == {"id": "1500000000000000001", "name": "Jane Doe", "role": "public"}
    assert event["account"] == {"id": CITY_ID, "platform": "x", "handle": "CityOfExample"}
    assert "https://maps.app.goo.gl/Qw3rTy" in event["text"] and "t.co" not in event["text"]
    assert event["links"] == ["https://maps.app.goo.gl/Qw3rTy", "https://www.google.com/maps/place/5th+%26+Main"]
    assert "https://t.co/AbC123xYz0" in event["extra"]["native_text"]
    assert event["extra"]["hashtags"] == ["Example311"] and event["extra"]["mentions"] == ["CityOfExample"]
    assert event["extra"]["in_reply_to"] == "1785600000000000000"


def test_city_post_with_photos_drops_the_media_link(fixture):
    [event] = adapt(fixture("x", "city_post_photos"))
    assert event["kind"] == "post" and event["original"] is True
    assert event["account"] == {"id": CITY_ID, "platform": "x", "handle": "CityOfExample", "name": "City of Example"}
    assert event["text"].endswith("Schedule: https://www.example.gov/sweeping")
    assert event["links"] == ["https://www.example.gov/sweeping"]
    assert event["media"] == [{"type": "photo"}, {"type": "photo"}]
    assert event["extra"]["media"][0]["alt"] == "Street sweeping schedule by neighborhood."


def test_city_matches_by_author_id_too(fixture):
    assert adapt(fixture("x", "city_post_photos"), frozenset({CITY_ID}))[0]["kind"] == "post"
    assert adapt(fixture("x", "city_post_photos"), frozenset())[0]["kind"] == "comment"


def test_city_retweet_uses_the_included_original(fixture):
    [event] = adapt(fixture("x", "city_retweet"))
    assert event["kind"] == "post" and event["original"] is False
    assert not event["text"].startswith("RT ") and not event["text"].endswith("…")
    assert event["media"] == [{"type": "video"}]
    assert event["links"] == ["https://www.weather.gov/safety/flood"]
    assert event["extra"]["retweet_of"] == "1785790000000000077"
    assert event["extra"]["retweeted_author"] == "ExampleCountyOEM"
    assert event["extra"]["native_text"].startswith("RT @ExampleCountyOEM:")


def test_retweet_without_expansion_falls_back_to_its_own_text(fixture):
    payload = fixture("x", "city_retweet")
    del payload["includes"]["tweets"]
    [event] = adapt(payload)
    assert event["text"].startswith("RT @ExampleCountyOEM:") and event["original"] is False


def test_public_retweet_yields_nothing(fixture):
    assert adapt(fixture("x", "public_retweet")) == []


def test_city_quote_with_gif(fixture):
    [event] = adapt(fixture("x", "city_quote_gif"))
    assert event["original"] is False and event["extra"]["quote_of"] == "1785700000000000001"
    assert event["media"] == [{"type": "graphic"}]


def test_edited_tweet(fixture):
    [event] = adapt(fixture("x", "edited_tweet"))
    assert event["extra"]["edited"] is True
    assert event["extra"]["edit_history"] == ["1785610000000000100", "1785610000000000111"]


def test_search_results_note_tweet_and_poll(fixture):
    long_reply, poll = adapt(fixture("x", "search_results_note_poll"))
    assert long_reply["kind"] == "comment" and len(long_reply["text"]) > 280
    assert long_reply["links"] == ["https://docs.example.com/noise-timeline"]
    assert long_reply["account"]["handle"] == "CityOfExample"  # no reply: the mentioned city account
    assert poll["kind"] == "post" and poll["text"].endswith("\n\nCastle\nSpaceship")


def test_compliance_delete(fixture):
    [event] = adapt(fixture("x", "compliance_delete"))
    assert event["action"]["type"] == "withdraw_comment"
    assert event["actor"] == {"id": "1600000000000000009", "role": "public"}
    assert event["action"]["target"]["extra"]["deleted"] is True
    other = {"data": {"tweet_edit": {"tweet": {"id": "1", "author_id": "2"}, "initial_tweet_id": "0"}}}
    assert adapt(other) == []


def test_withheld_reply(fixture):
    [event] = adapt(fixture("x", "withheld_reply"))
    assert event["kind"] == "comment"
    assert event["extra"]["withheld"]["country_codes"] == ["DE", "FR"]
    assert event["extra"]["possibly_sensitive"] is True


# ---------------------------------------------------------------- issue 15: real payload shapes (X API v2 docs)

PARTIAL = FIXTURES / "partial"


def _partial(name):
    return json.loads((PARTIAL / f"{name}.json").read_text(encoding="utf-8"))


def test_retweet_media_missing_names_the_expansion_that_brings_it():
    payload = _partial("x_city_retweet_media_not_expanded")
    with pytest.raises(PlatformPayloadError) as info:
        adapt(payload)
    assert "expansions=referenced_tweets.id.attachments.media_keys" in str(info.value)
    assert info.value.path == "includes.media"


def test_retweet_with_its_media_expanded_carries_them(fixture):
    [event] = adapt(fixture("x", "city_retweet"))
    assert event["original"] is False and event["media"] == [{"type": "video"}]


def test_one_tweet_missing_its_media_refuses_that_tweet_only():
    payload = _partial("x_search_page_media_missing")
    results = convert("x", payload, city_accounts=CITY)
    assert [(r.index, r.ok) for r in results] == [(0, True), (1, False), (2, True)]
    assert results[1].path == "data[1]" and "3_1785899999999999003" in str(results[1].error)
    assert "expansions=attachments.media_keys" in str(results[1].error)
    with pytest.raises(PlatformPageError) as info:  # the all-or-error API says so, and keeps the rest
        adapt(payload)
    assert [e["id"] for e in info.value.events] == ["1785900000000000001", "1785900000000000003"]
    assert [f.index for f in info.value.failures] == [1]


def test_text_is_html_unescaped_and_the_own_show_more_link_is_not_a_link(fixture):
    [event] = adapt(fixture("x", "escaped_truncated_reply"))
    assert event["text"].startswith("@CityOfExample Parking & permits: fees went from <$20 to >$40")
    assert "&amp;" not in event["text"] and "&lt;" not in event["extra"]["native_text"]
    assert event.get("links", []) == [] and "i/web/status" not in event["text"]
    assert event["extra"]["truncated"] is True


def test_unescape_decodes_only_what_x_escapes():
    assert x.unescape("a &amp;lt; b &lt;3 &quot;x&quot; &gt;") == "a &lt; b <3 &quot;x&quot; >"


def test_the_first_version_of_an_edited_tweet_is_not_marked_edited(fixture):
    [first] = adapt(fixture("x", "edited_tweet_first_version"))
    assert first["extra"]["edited"] is False
    assert first["extra"]["superseded_by"] == "1785610000000000111"
    [latest] = adapt(fixture("x", "edited_tweet"))
    assert latest["extra"]["edited"] is True and "superseded_by" not in latest["extra"]
