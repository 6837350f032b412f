"""Bluesky records, views, Jetstream messages and firehose commits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policykit.platforms import PlatformPayloadError, bluesky

CITY_DID = "did:plc:cityofexamplegov2345abcd"
JDOE = "did:plc:jdoe7xk2mq4vp3hwz5ylrt6a"
SPAM = "did:plc:spam4bot2zz7qq5ww3ee6rr7"
CITY = frozenset({CITY_DID})


def adapt(payload, city=CITY):
    return bluesky.adapt(payload, city_accounts=city)


def test_reply_is_a_comment_with_facets_in_character_offsets(fixture):
    [event] = adapt(fixture("bluesky", "jetstream_reply_comment"))
    assert event["kind"] == "comment"
    assert event["id"] == f"at://{JDOE}/app.bsky.feed.post/3kre3xbpwkc2k"
    assert event["author"] == {"id": JDOE, "role": "public"}
    assert event["account"] == {"id": CITY_DID, "platform": "bluesky"}
    # the shortened display text stays in `text`; the real URI is the link
    assert event["links"] == ["https://example.gov/roadwork/detours/elm-street"]
    text = event["text"]
    facets = {f["type"] + ":" + text[f["start"]:f["end"]] for f in event["extra"]["facets"]}
    assert facets == {"mention:@example.gov", "link:example.gov/roadwork/de...", "tag:#roadwork", "tag:#Straße"}
    assert event["extra"]["mentions"] == [CITY_DID]
    assert event["extra"]["tags"] == ["roadwork", "Straße"]
    assert event["extra"]["thread_root"].startswith(f"at://{CITY_DID}/")
    assert event["extra"]["native"]["time_us"] == 1714572207519342


def test_update_is_an_edit(fixture):
    [event] = adapt(fixture("bluesky", "jetstream_update_edited"))
    assert event["extra"]["edited"] is True and event["extra"]["operation"] == "update"
    assert "wrong way again" in event["text"]


def test_a_public_delete_is_the_authors_own_withdrawal_not_moderation(fixture):
    [event] = adapt(fixture("bluesky", "jetstream_delete"))
    assert event["kind"] == "action" and event["action"]["type"] == "withdraw_comment"
    assert event["actor"] == {"id": SPAM, "role": "public"}
    assert event["action"]["target"]["id"] == f"at://{SPAM}/app.bsky.feed.post/3kre3spamxx2k"
    assert event["at"] == "2024-05-01T16:13:20Z"


def test_city_delete_is_delete_post():
    payload = {"did": CITY_DID, "time_us": 1714580000000000, "kind": "commit",
               "commit": {"operation": "delete", "collection": "app.bsky.feed.post", "rkey": "3kabc"}}
    [event] = adapt(payload)
    assert event["action"]["type"] == "delete_post" and event["actor"]["role"] == "staff"


def test_city_post_with_images(fixture):
    [event] = adapt(fixture("bluesky", "jetstream_city_post_images"))
    assert event["kind"] == "post" and event["original"] is True
    assert event["media"] == [{"type": "photo"}, {"type": "photo"}]
    assert event["extra"]["media"][0] == {"type": "image", "cid": "bafkreidetourmap000000000000000000000000000000000000000000",
                                          "mime_type": "image/jpeg", "alt": "Map of the Elm Street detour via Oak Avenue."}
    assert event["account"] == {"id": CITY_DID, "platform": "bluesky"}


def test_threadgate_hidden_replies_are_hide_actions_by_the_city(fixture):
    events = adapt(fixture("bluesky", "jetstream_threadgate_hidden"))
    assert [e["action"]["type"] for e in events] == ["hide_comment", "hide_comment"]
    assert all(e["actor"] == {"id": CITY_DID, "role": "staff"} for e in events)
    assert events[1]["action"]["target"]["id"].endswith("3kre3spamyy2k")
    assert events[0]["action"]["target"]["extra"]["hidden"] is True


def test_city_repost_is_a_non_original_post(fixture):
    [event] = adapt(fixture("bluesky", "jetstream_city_repost"))
    assert event["kind"] == "post" and event["original"] is False
    assert event["extra"]["repost_of"].endswith("/3kre5flood22k")
    assert adapt(fixture("bluesky", "jetstream_city_repost"), frozenset()) == []  # not a city account


def test_feed_view_repost_carries_the_reposted_content(fixture):
    [event] = adapt(fixture("bluesky", "feedview_city_repost"))
    assert event["kind"] == "post" and event["original"] is False
    assert event["author"]["role"] == "staff" and event["account"]["handle"] == "example.gov"
    assert event["links"] == ["https://weather.gov/safety/flood"]
    assert event["at"] == "2024-05-01T18:00:00.100Z"


def test_repo_record_with_video_and_offset_time(fixture):
    [event] = adapt(fixture("bluesky", "repo_record_video"))
    assert event["kind"] == "comment" and "account" not in event  # neither a reply nor mentioning the city
    assert event["media"] == [{"type": "video"}]
    assert event["at"] == "2024-05-02T11:12:00Z"  # normalised to UTC


def test_post_view_quote_with_media_by_the_city(fixture):
    [event] = adapt(fixture("bluesky", "postview_city_quote_with_media"))
    assert event["kind"] == "post" and event["original"] is False
    assert event["extra"]["quote_of"].endswith("/3krecleanup2k")
    assert event["media"] == [{"type": "photo"}]
    assert event["author"]["name"] == "City of Example"
    assert adapt(fixture("bluesky", "postview_city_quote_with_media"), frozenset({"example.gov"}))[0]["kind"] == "post"


def test_labeler_hide_marks_hidden(fixture):
    [event] = adapt(fixture("bluesky", "postview_labeled_hidden"))
    assert event["extra"]["hidden"] is True
    assert event["extra"]["moderation_labels"] == ["!hide"]
    assert event["extra"]["self_labels"] == ["graphic-media"]
    assert event["account"] == {"id": CITY_DID, "platform": "bluesky"}  # the mentioned city account


def test_bare_record_with_a_tenor_gif(fixture):
    [event] = adapt(fixture("bluesky", "bare_record_external_gif"))
    assert event["kind"] == "comment" and "author" not in event and "id" not in event
    assert event["media"] == [{"type": "graphic"}] and event["links"] == []


def test_firehose_commit_yields_one_event_per_relevant_op(fixture):
    events = adapt(fixture("bluesky", "firehose_commit_multi"))
    assert [e["kind"] for e in events] == ["comment", "action"]
    assert events[0]["account"] == {"id": CITY_DID, "platform": "bluesky"}
    assert events[1]["action"]["type"] == "withdraw_comment"


def test_non_commit_jetstream_messages_yield_nothing(fixture):
    assert adapt(fixture("bluesky", "jetstream_identity")) == []


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12), min_size=3, max_size=7),
       st.data())
def test_byte_offsets_become_character_offsets(pieces, data):
    text = "".join(pieces)
    i = data.draw(st.integers(0, len(pieces) - 1))
    j = data.draw(st.integers(i, len(pieces) - 1))
    char_start = len("".join(pieces[:i]))
    char_end = len("".join(pieces[:j + 1]))
    byte_start = len(text[:char_start].encode())
    byte_end = len(text[:char_end].encode())
    assert bluesky.byte_span_to_chars(text, byte_start, byte_end) == (char_start, char_end)
    record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": "2024-05-01T00:00:00Z",
              "facets": [{"index": {"byteStart": byte_start, "byteEnd": byte_end},
                          "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.gov/"}]}]}
    [event] = adapt(record)
    [facet] = event["extra"]["facets"]
    assert facet["text"] == text[char_start:char_end]


def test_offsets_inside_a_character_are_rejected():
    with pytest.raises(PlatformPayloadError) as info:
        bluesky.byte_span_to_chars("é", 1, 2)
    assert info.value.path == "byteStart" and "character boundary" in info.value.expected


# ---------------------------------------------------------------- issue 15: real payload shapes (lexicons)

def test_created_at_without_a_time_zone_is_judged_as_utc(fixture):
    [event] = adapt(fixture("bluesky", "jetstream_created_at_without_zone"))
    assert event["at"] == "2024-05-01T21:46:40Z" and event["extra"]["time_zone_assumed"] == "UTC"
    assert event["kind"] == "comment" and event["account"]["id"] == CITY_DID


@pytest.mark.parametrize("created", ["yesterday", "", 12345, None, "0001-01-01T00:00:00+01:00"])
def test_an_invalid_created_at_falls_back_to_the_time_the_network_saw_it(fixture, created):
    payload = fixture("bluesky", "jetstream_created_at_without_zone")
    if created is None:
        del payload["commit"]["record"]["createdAt"]
    else:
        payload["commit"]["record"]["createdAt"] = created
    [event] = adapt(payload)
    assert event["at"] == "2024-05-01T21:46:40Z"  # time_us of the Jetstream message
    assert event["extra"]["created_at_invalid"]
    assert event["text"] == "Is the pool open on Sunday?"  # judged, not refused


@pytest.mark.parametrize("name", ["firehose_identity", "firehose_account"])
def test_firehose_identity_and_account_bodies_yield_nothing(fixture, name):
    assert adapt(fixture("bluesky", name)) == []
    typed = {"$type": f"com.atproto.sync.subscribeRepos#{name.split('_')[1]}", **fixture("bluesky", name)}
    assert adapt(typed) == []


def test_get_post_thread_yields_every_post_parents_first_then_replies(fixture):
    events = adapt(fixture("bluesky", "get_post_thread"))
    assert [e["kind"] for e in events] == ["post", "comment", "post"]
    assert events[1]["text"] == "Which detour should buses take?"
    assert events[1]["account"] == {"id": CITY_DID, "platform": "bluesky"}
    assert events[2]["extra"]["in_reply_to"] == f"at://{JDOE}/app.bsky.feed.post/3kre8rep1y2k"


def test_a_thread_view_with_a_parent_chain_lists_the_ancestors_first(fixture):
    thread = fixture("bluesky", "get_post_thread")["thread"]
    reply = thread["replies"][0]
    child = reply["replies"][0]
    payload = {"thread": {**child, "parent": {**reply, "replies": None, "parent": {**thread, "replies": None}}}}
    texts = [e["text"] for e in adapt(payload)]
    assert texts == ["Elm Street is closed for repaving until Friday.", "Which detour should buses take?",
                     "Buses use Oak Avenue."]


def test_a_deep_thread_is_read_without_recursion():
    view = {"$type": "app.bsky.feed.defs#notFoundPost", "uri": f"at://{JDOE}/app.bsky.feed.post/x", "notFound": True}
    for _ in range(5000):
        view = {"$type": "app.bsky.feed.defs#threadViewPost", "parent": view,
                "post": {"uri": f"at://{JDOE}/app.bsky.feed.post/3k", "cid": "c", "author": {"did": JDOE},
                         "record": {"$type": "app.bsky.feed.post", "text": "t", "createdAt": "2024-05-01T00:00:00Z"}}}
    assert len(adapt({"thread": view})) == 5000


def test_one_bad_operation_of_a_commit_is_refused_alone(fixture):
    from policykit.platforms import convert

    commit = fixture("bluesky", "firehose_commit_multi")
    commit["ops"][1]["record"]["text"] = 42
    results = convert("bluesky", commit, city_accounts=CITY)
    bad = [r for r in results if not r.ok]
    assert len(bad) == 1 and bad[0].index == 1 and bad[0].error.path == "ops[1].record.text"
    assert any(r.ok for r in results)
