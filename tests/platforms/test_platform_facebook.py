"""Facebook Page feed webhooks: what each change becomes."""

from __future__ import annotations

import pytest

from policykit.platforms import PlatformPayloadError, facebook, from_platform

PAGE = "104857362981234"


def adapt(payload, **options):
    return facebook.adapt(payload, **options)


def test_public_comment_is_a_comment_on_the_page(fixture):
    [event] = adapt(fixture("facebook", "comment_add"))
    assert event["kind"] == "comment"
    assert event["id"] == "712345678901234_998877665544332"
    assert event["at"] == "2024-05-01T12:51:30Z"
    assert event["author"] == {"id": "6789012345678901", "name": "Dana Whitfield", "role": "public"}
    assert event["account"] == {"id": PAGE, "platform": "facebook"}
    assert event["links"] == ["https://imgur.com/a/Xy12Ab"]  # sentence punctuation is not part of the URL
    assert event["media"] == []
    assert "original" not in event  # a post-only field
    extra = event["extra"]
    assert extra["native"]["post_id"] == "104857362981234_712345678901234"
    assert extra["edited"] is False and extra["reply_to_comment"] is False
    assert extra["permalink"].startswith("https://www.facebook.com/")


def test_reply_with_photo(fixture):
    [event] = adapt(fixture("facebook", "comment_reply_with_photo"))
    assert event["kind"] == "comment"
    assert event["media"] == [{"type": "photo"}]
    assert event["extra"]["media"][0]["url"].startswith("https://scontent.xx.fbcdn.net/")
    assert event["extra"]["in_reply_to"] == "712345678901234_998877665544332"
    assert event["extra"]["reply_to_comment"] is True


def test_edited_comment_is_flagged(fixture):
    [event] = adapt(fixture("facebook", "comment_edited"))
    assert event["kind"] == "comment" and event["extra"]["edited"] is True
    assert "damaged my tire" in event["text"]


def test_hide_is_a_hide_comment_action_by_the_page(fixture):
    [event] = adapt(fixture("facebook", "comment_hide"))
    assert event["kind"] == "action"
    assert event["action"]["type"] == "hide_comment"
    assert event["actor"] == {"id": PAGE, "role": "staff"}
    target = event["action"]["target"]
    assert target["kind"] == "comment" and target["id"] == "712345678901234_998877665544555"
    assert target["author"]["role"] == "public"
    assert target["extra"]["hidden"] is True
    assert event["extra"]["actor_inferred"] is False


def test_remove_of_a_public_comment_is_assumed_to_be_the_page(fixture):
    [event] = adapt(fixture("facebook", "comment_remove"))
    assert event["action"]["type"] == "delete_comment"
    assert event["actor"]["id"] == PAGE
    assert event["extra"]["actor_inferred"] is True
    assert event["action"]["target"]["extra"]["deleted"] is True


def test_page_removing_its_own_post(fixture):
    [event] = adapt(fixture("facebook", "page_post_remove"))
    assert event["action"]["type"] == "delete_post"
    assert event["action"]["target"]["kind"] == "post"
    assert event["extra"]["actor_inferred"] is False


def test_page_photo_is_a_post_with_photo_media_not_a_link(fixture):
    [event] = adapt(fixture("facebook", "page_photo_post"))
    assert event["kind"] == "post" and event["original"] is True
    assert event["author"]["role"] == "staff"
    assert event["account"] == {"id": PAGE, "platform": "facebook", "name": "City of Example"}
    assert event["media"] == [{"type": "photo"}]
    assert event["links"] == ["https://www.example.gov/roadwork"]
    assert event["extra"]["published"] is True
    assert event["extra"]["media"][0]["photo_id"] == "712345678901230"


def test_page_video(fixture):
    [event] = adapt(fixture("facebook", "page_video_post"))
    assert event["kind"] == "post" and event["media"] == [{"type": "video"}]
    assert event["links"] == []


def test_visitor_post_is_public_content_so_a_comment(fixture):
    [event] = adapt(fixture("facebook", "visitor_post"))
    assert event["kind"] == "comment"
    assert event["id"] == "104857362981234_712345600000001"
    assert event["account"]["id"] == PAGE


def test_batch_delivery_keeps_order_and_skips_reactions(fixture):
    events = adapt(fixture("facebook", "batch_delivery"))
    assert [(e["kind"], e.get("action", {}).get("type")) for e in events] == [
        ("post", None),  # the page's own reply: city content
        ("comment", None),
        ("post", None),  # a share
        ("post", None),  # an edited status with two photos
        ("action", "unhide_comment"),
    ]
    reply, comment, share, edited, unhide = events
    assert reply["extra"]["item"] == "comment" and reply["author"]["role"] == "staff"
    assert share["original"] is False and share["links"] == ["https://www.weather.gov/safety/heat"]
    assert edited["extra"]["edited"] is True and edited["media"] == [{"type": "photo"}, {"type": "photo"}]
    assert unhide["action"]["target"]["id"] == comment["id"]


def test_city_accounts_make_other_authors_staff(fixture):
    [event] = adapt(fixture("facebook", "comment_add"), city_accounts=frozenset({"6789012345678901"}))
    assert event["kind"] == "post" and event["author"]["role"] == "staff"


def test_other_fields_and_items_yield_nothing():
    payload = {"object": "page", "entry": [{"id": PAGE, "time": 1, "changes": [
        {"field": "mention", "value": {"post_id": "1_2", "sender_id": "3", "item": "post", "verb": "add"}},
        {"field": "feed", "value": {"item": "like", "verb": "add", "post_id": "1_2", "created_time": 1}},
        {"field": "feed", "value": {"item": "comment", "verb": "block", "comment_id": "1_3", "created_time": 1}},
    ]}]}
    assert adapt(payload) == []


def test_iso_created_time_and_numeric_ids_are_accepted():
    payload = {"object": "page", "entry": [{"id": int(PAGE), "changes": [{"field": "feed", "value": {
        "item": "comment", "verb": "add", "comment_id": "1_3", "post_id": "1", "from": {"id": 42, "name": "N"},
        "created_time": "2018-03-08T21:33:36+0000", "message": "hi"}}]}]}
    [event] = adapt(payload)
    assert event["at"] == "2018-03-08T21:33:36Z" and event["author"]["id"] == "42"


def test_missing_from_means_unknown_public_author():
    payload = {"object": "page", "entry": [{"id": PAGE, "changes": [{"field": "feed", "value": {
        "item": "comment", "verb": "add", "comment_id": "1_3", "post_id": "1", "created_time": 1714567890}}]}]}
    [event] = adapt(payload)
    assert event["kind"] == "comment" and "author" not in event and event["text"] == ""


def test_error_path_points_into_the_batch(fixture):
    payload = fixture("facebook", "batch_delivery")
    payload["entry"][1]["changes"][2]["value"]["from"] = "Sam"
    with pytest.raises(PlatformPayloadError) as info:
        from_platform("facebook", payload)
    assert info.value.path == "entry[1].changes[2].value.from"
