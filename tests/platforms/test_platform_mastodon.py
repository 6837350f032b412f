"""Mastodon statuses, streaming messages and webhooks."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from policykit.platforms import mastodon

CITY = frozenset({"cityofexample@social.example.gov", "109876543210990000"})


def adapt(payload, city=CITY):
    return mastodon.adapt(payload, city_accounts=city)


def test_reply_by_the_public_is_a_comment_on_the_city_account(fixture):
    [event] = adapt(fixture("mastodon", "reply_comment"))
    assert event["kind"] == "comment"
    assert event["at"] == "2024-05-01T14:03:27.412Z"
    # tags stripped, invisible URL parts kept so the full URL is in the text, entities decoded
    assert event["text"] == ("@cityofexample the bike lane on 5th is blocked again by delivery trucks. Map: "
                             "https://www.openstreetmap.org/way/123456789 #BikeLanes & safety")
    assert event["links"] == ["https://www.openstreetmap.org/way/123456789"]  # not mentions or hashtags
    assert event["author"] == {"id": "110000000000000042", "name": "Jane Doe :bike:", "role": "public"}
    assert event["account"] == {"id": "109876543210987654", "platform": "mastodon",
                                "handle": "cityofexample@social.example.gov"}
    extra = event["extra"]
    assert extra["in_reply_to"] == "112345600000000001"
    assert extra["tags"] == ["bikelanes"] and extra["mentions"] == ["cityofexample@social.example.gov"]
    assert extra["author_handle"] == "jdoe@mastodon.social"
    assert extra["application"] == "Ivory for iOS"


def test_city_status_is_a_post_with_media_and_card(fixture):
    [event] = adapt(fixture("mastodon", "city_post_with_media"))
    assert event["kind"] == "post" and event["original"] is True
    assert event["author"]["role"] == "staff"
    # a local acct matches by its full address, taken from the profile URL
    assert event["account"]["handle"] == "cityofexample@social.example.gov"
    assert event["text"].split("\n\n") == ["New protected bike lanes open on 5th Avenue today! 🚲",
                                           "Project page: https://www.example.gov/bikes/5th-ave"]
    assert event["links"] == ["https://www.example.gov/bikes/5th-ave"]  # the card's URL is not repeated
    assert event["media"] == [{"type": "photo"}, {"type": "video"}]
    assert event["extra"]["media"][0]["description"].startswith("A green-painted bike lane")
    assert event["extra"]["card"]["title"] == "5th Avenue Protected Bike Lanes"


def test_city_matching_by_id_or_short_acct(fixture):
    status = fixture("mastodon", "city_post_with_media")
    assert adapt(status, frozenset({"109876543210987654"}))[0]["kind"] == "post"
    assert adapt(status, frozenset({"@CityOfExample"}))[0]["kind"] == "post"
    assert adapt(status, frozenset())[0]["kind"] == "comment"


def test_edited_status_with_content_warning(fixture):
    [event] = adapt(fixture("mastodon", "edited_status"))
    assert event["kind"] == "comment"
    assert event["extra"]["edited"] is True
    assert event["extra"]["edited_at"] == "2024-05-02T09:21:44.003Z"
    assert event["text"] == "rant, language\n\n@cityofexample this is a waste of money.\nFix the roads first."
    assert event["extra"]["spoiler_text"] == "rant, language"
    assert event["author"]["name"] == "grumpy@hachyderm.io"  # no display name: the acct


def test_city_boost_is_a_non_original_post_with_the_boosted_content(fixture):
    [event] = adapt(fixture("mastodon", "city_boost"))
    assert event["kind"] == "post" and event["original"] is False
    assert event["id"] == "112345700000000010"
    assert event["text"].startswith("Flood watch for Example County")
    assert event["media"] == [{"type": "photo"}]
    assert event["extra"]["reblog_of"] == "112345690000000077"
    assert event["extra"]["reblogged_account"] == "examplecountyoem@mastodon.social"


def test_public_boost_yields_nothing(fixture):
    assert adapt(fixture("mastodon", "public_boost")) == []


def test_streaming_status_update_is_edited(fixture):
    [event] = adapt(fixture("mastodon", "streaming_status_update"))
    assert event["extra"]["edited"] is True and "cleared" in event["text"]


def test_streaming_delete_carries_only_the_id(fixture):
    [event] = adapt(fixture("mastodon", "streaming_delete"))
    assert event["kind"] == "action" and event["action"]["type"] == "delete_post"
    assert event["action"]["target"]["id"] == "112345678901299999"
    assert "actor" not in event and event["extra"]["target_known"] is False


def test_notification_mention_with_gifv_audio_and_unknown_media(fixture):
    [event] = adapt(fixture("mastodon", "streaming_notification_mention"))
    assert event["kind"] == "comment"
    assert event["media"] == [{"type": "graphic"}, {"type": "audio"}, {"type": "document"}]
    assert event["extra"]["media"][2]["url"] == "https://elsewhere.example/agenda.pdf"  # remote_url
    assert event["extra"]["hidden_by_filter"] is True
    assert event["account"]["id"] == "109876543210987654"  # the mentioned city account


def test_webhook_with_poll_options_in_text(fixture):
    [event] = adapt(fixture("mastodon", "webhook_status_created_poll"))
    assert event["kind"] == "post"  # cityparks is listed by id
    assert event["text"].endswith("Vote below!\n\nCastle\nSpaceship\nTreehouse")
    assert event["extra"]["application"] == "Hootsuite"


def test_other_stream_events_yield_nothing():
    assert adapt({"stream": ["user"], "event": "filters_changed"}) == []
    note = {"id": "1", "type": "favourite", "created_at": "2024-05-01T00:00:00Z", "account": {}}
    assert adapt({"event": "notification", "payload": json.dumps(note)}) == []


def test_anchor_text_that_is_not_its_url_keeps_the_href():
    status = {"id": "1", "created_at": "2024-05-01T00:00:00Z", "account": {"id": "2", "acct": "a@b.example"},
              "content": '<p>Pay your bill at <a href="https://evil.example/pay">example.gov</a> or '
                         '<a href="https://example.gov/pay">https://example.gov/pay</a></p>'
                         "<ul><li>one</li><li>two</li></ul>"}
    [event] = adapt(status)
    assert event["text"] == ("Pay your bill at example.gov (https://evil.example/pay) or https://example.gov/pay"
                             "\n\none\ntwo")
    assert event["links"] == ["https://evil.example/pay", "https://example.gov/pay"]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=80))
def test_html_escaped_text_round_trips(text):
    import html

    status = {"id": "1", "created_at": "2024-05-01T00:00:00Z", "account": {"id": "2", "acct": "a@b.example"},
              "content": f"<p>{html.escape(text)}</p>"}
    [event] = adapt(status)
    assert event["text"] == text.strip()
