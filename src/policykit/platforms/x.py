"""X (Twitter) API v2 tweets to policykit events.

Accepted payloads: a v2 response or stream message `{"data": Tweet | [Tweet], "includes": {"users",
"media", "tweets", "polls"}}` (one event per tweet, in order), and a v2 compliance message
`{"data": {"delete": {"tweet": {"id", "author_id"}, "event_at"}}}`. See docs/platforms.md.

* A tweet by a city account (`author_id`, or the author's `username` from `includes.users`, in
  `city_accounts`) is a `post`, replies included; any other tweet is a `comment`.
* A retweet by a city account is a `post` with `original: false` carrying the retweeted tweet's full
  content when `includes.tweets` has it (request `expansions=referenced_tweets.id`); a retweet by anyone
  else yields nothing. A quote tweet by a city account is a `post` with `original: false`.
  A retweet's media come from the retweeted tweet: request
  `expansions=referenced_tweets.id.attachments.media_keys` as well as `attachments.media_keys`.
* X escapes `&`, `<` and `>` in tweet text as `&amp;`, `&lt;`, `&gt;`; they are decoded (in `text` and
  `extra.native_text`), so what is judged, quoted and archived is what people read.
* `t.co` links in the text are replaced by their `expanded_url` (and links to the tweet's own photos or
  videos, and a truncated tweet's `i/web/status/<its id>` "show more" link, are removed, as X displays
  them); `links` holds the expanded URLs, and the `unwound_url` too when a shortener leads elsewhere.
  The text as delivered is kept in `extra.native_text`. A long tweet's `note_tweet` text is used when
  present; without it, a truncated tweet is marked `extra.truncated` (request `tweet.fields=note_tweet`).
* `edit_history_tweet_ids` lists every version, oldest first: a tweet that is not the first of them is
  an edit (`extra.edited`); an earlier version than the latest carries `extra.superseded_by`.
* One tweet of a page that cannot be converted (a media object missing from `includes`) is refused on
  its own: `convert` answers the others (see `policykit.platforms.convert`).
* A compliance `delete` of a city account's tweet is a `delete_post` action by that account; of anyone
  else's, a `withdraw_comment` action by its author: only the author can delete a tweet, so it is that
  person's own act, never a city moderation action (which would be `delete_comment`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .base import (
    Converted,
    ModuleAdapter,
    CityAccounts,
    Node,
    Page,
    PlatformFacts,
    account,
    action_event,
    actor,
    content_event,
    withdrawal_type,
)

NAME = "x"

FACTS = PlatformFacts(
    name=NAME,
    title="X (Twitter)",
    max_text_length=280,
    text_length_unit="weighted characters",
    supports_edit=True,
    edit_window_seconds=3600,
    supports_delete=True,
    supports_hide_comments=True,
    max_media=4,
    media_types=frozenset({"photo", "video", "graphic"}),
    api_reference="https://docs.x.com/x-api/fundamentals/data-dictionary",
    notes=(
        "280 weighted characters (most CJK characters and emoji count 2, every URL 23); subscribers may post "
        "up to 25,000 characters (note_tweet).",
        "Subscribers can edit a post up to 5 times within 1 hour; each edit gets a new id "
        "(edit_history_tweet_ids).",
        "Up to 4 photos, or one video or animated GIF, per post.",
        "The author of a conversation can hide replies to it.",
    ),
)

MEDIA_TYPES = {"photo": "photo", "video": "video", "animated_gif": "graphic"}
REFERENCE_TYPES = frozenset({"replied_to", "quoted", "retweeted"})
_MEDIA_LINK = re.compile(r"/status(?:es)?/\d+/(?:photo|video)/\d+/?$")
_SHOW_MORE = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/i/web/status/(\d+)/?(?:[?#].*)?$",
                        re.IGNORECASE)
_ESCAPED = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}
_FIELDS_HINT = "(request tweet.fields={field})"
_MEDIA_EXPANSION = "attachments.media_keys"
_RETWEET_MEDIA_EXPANSION = "referenced_tweets.id.attachments.media_keys"


def convert(payload: Mapping[str, Any], *, city_accounts: frozenset[str] = frozenset()) -> list[Converted]:
    """The events in one X API v2 response, stream message or compliance message, tweet by tweet."""
    city = CityAccounts(city_accounts)
    root = Node(NAME, payload).as_map("an X API v2 response (a JSON object with data)")
    data = root.req("data", "the tweet, or a list of tweets, under data")
    includes = _Includes(root.opt("includes"))
    page = Page(NAME)
    if isinstance(data.value, list):
        for tweet in data.items():
            page.add(tweet, lambda t=tweet: _tweet(t.as_map("a tweet object"), includes, city))
        return page.results
    data.as_map("a tweet object or a list of tweets")
    if not data.has("id") and not data.has("text"):
        page.add(data, lambda: _compliance(data, city), indexed=False)
    else:
        page.add(data, lambda: _tweet(data, includes, city), indexed=False)
    return page.results


def unescape(text: str) -> str:
    """Tweet text as people read it: X sends `&`, `<`, `>` as `&amp;`, `&lt;`, `&gt;` (and only those)."""
    return _ESCAPED.sub(lambda m: _UNESCAPED[m.group(1)], text) if "&" in text else text


class _Includes:
    """The expansions of a response, indexed by id (users, tweets, polls) and media_key (media)."""

    def __init__(self, node: Node | None) -> None:
        self.node = node
        self.users: dict[str, Node] = {}
        self.media: dict[str, Node] = {}
        self.tweets: dict[str, Node] = {}
        self.polls: dict[str, Node] = {}
        if node is None:
            return
        node.as_map("the includes object")
        # An expansion whose key cannot be read is skipped: a tweet that needs it is refused as missing
        # it (that tweet alone), the rest of the page does not depend on it.
        self._index(node, "users", "id", self.users)
        self._index(node, "media", "media_key", self.media)
        self._index(node, "tweets", "id", self.tweets)
        self._index(node, "polls", "id", self.polls)

    @staticmethod
    def _index(node: Node, name: str, key: str, into: dict[str, Node]) -> None:
        listed = node.opt(name)
        if listed is None or not isinstance(listed.value, list):
            return
        for entry in listed.items():
            value = entry.value.get(key) if isinstance(entry.value, Mapping) else None
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                into[str(value)] = entry

    def user(self, user_id: str | None) -> tuple[str | None, str | None]:
        """(username, name) of an included user."""
        user = self.users.get(user_id) if user_id is not None else None
        if user is None:
            return None, None
        return user.req_str("username", "the user's username", nonempty=True), user.opt_str("name")

    def missing(self, what: str, expected: str):
        if self.node is None:
            return Node(NAME, {}, "").missing("includes", expected)
        return self.node.missing(what, expected)

    def media_of(self, tweet: Node, key: str, expansion: str) -> Node:
        """The media object for `key`; missing, the error names the expansion that brings it."""
        item = self.media.get(key)
        if item is None:
            raise self.missing("media", f"an entry for media_key {key} of tweet {tweet.opt_id('id')} "
                                        f"(request expansions={expansion})")
        return item.as_map("a media object")


def _compliance(data: Node, city: CityAccounts) -> list[dict]:
    delete = data.opt("delete")
    if delete is None:
        return []  # tweet_edit, withheld, scrub_geo, ...: no content event to report
    delete.as_map("the delete event")
    tweet = delete.req("tweet", "the deleted tweet {id, author_id}").as_map("a tweet reference")
    tweet_id = tweet.req_id("id", "the deleted tweet's id")
    author_id = tweet.req_id("author_id", "the deleted tweet's author_id")
    at_node = delete.opt("event_at")
    at = at_node.timestamp() if at_node is not None else None
    is_city = city.matches(author_id)
    kind = "post" if is_city else "comment"
    owner = actor(author_id, None, city=is_city)
    target = {"kind": kind, "id": tweet_id, "platform": NAME, "author": owner,
              "extra": {"native": {"id": tweet_id, "author_id": author_id}, "deleted": True}}
    return [action_event(type=withdrawal_type(kind), platform=NAME, id=f"{tweet_id}:delete", at=at, target=target,
                         actor=owner, extra={"native": {"id": tweet_id}, "compliance_event": "delete",
                                             "by_author": True})]


def _tweet(tweet: Node, includes: _Includes, city: CityAccounts) -> dict | None:
    tweet_id = tweet.req_id("id", "the tweet id")
    tweet.req_str("text", "the tweet text")
    author_id = tweet.req_id("author_id", "the author's id " + _FIELDS_HINT.format(field="author_id"))
    at = tweet.req("created_at", "the creation time " + _FIELDS_HINT.format(field="created_at")).timestamp()
    username, name = includes.user(author_id)
    is_city = city.matches(author_id, username)

    refs: dict[str, str] = {}
    for ref in tweet.opt_list("referenced_tweets", "a list of referenced tweets"):
        ref.as_map("a referenced tweet {type, id}")
        rtype = ref.req_str("type", "replied_to, quoted or retweeted")
        if rtype not in REFERENCE_TYPES:
            raise ref.req("type").error("replied_to, quoted or retweeted", got=rtype)
        refs[rtype] = ref.req_id("id", "the referenced tweet's id")

    source = tweet
    original = True
    extra: dict[str, Any] = {"native": {"id": tweet_id, "author_id": author_id,
                                        "conversation_id": tweet.opt_id("conversation_id")}}
    if "retweeted" in refs:
        if not is_city:
            return None  # someone else's retweet is not content on a city account
        original = False
        extra["retweet_of"] = refs["retweeted"]
        included = includes.tweets.get(refs["retweeted"])
        if included is not None:
            source = included
            rt_author = included.opt_id("author_id")
            extra["retweeted_author"] = includes.user(rt_author)[0] or rt_author
    if "quoted" in refs:
        original = False
        extra["quote_of"] = refs["quoted"]

    text, native_text, links, mentions, hashtags, truncated = _text(source, source.req_id("id", "the tweet id"))
    if source is not tweet:
        native_text = unescape(tweet.req_str("text", "the tweet text"))  # "RT @user: ..." as delivered
    media, native_media = _media(source, includes,
                                 _RETWEET_MEDIA_EXPANSION if source is not tweet else _MEDIA_EXPANSION)
    polls = _polls(source, includes)
    if polls:
        text = "\n\n".join(p for p in (text, "\n".join(polls)) if p)

    history = [h.as_id("a tweet id") for h in tweet.opt_list("edit_history_tweet_ids", "a list of tweet ids")]
    reply_to_user = tweet.opt_id("in_reply_to_user_id", "the replied-to user's id")
    withheld = tweet.opt("withheld")
    extra.update({
        "edited": len(history) > 1 and tweet_id != history[0],  # the first version is the original
        "edit_history": history if len(history) > 1 else None,
        "superseded_by": history[-1] if len(history) > 1 and tweet_id != history[-1] else None,
        "truncated": truncated or None,
        "deleted": False,
        "in_reply_to": refs.get("replied_to"),
        "in_reply_to_user": reply_to_user,
        "native_text": native_text if native_text != text else None,
        "mentions": mentions or None,
        "hashtags": hashtags or None,
        "media": native_media or None,
        "lang": tweet.opt_str("lang"),
        "possibly_sensitive": tweet.opt_bool("possibly_sensitive"),
        "reply_settings": tweet.opt_str("reply_settings"),
        "withheld": dict(withheld.as_map("the withheld object").value) if withheld is not None else None,
        "author_handle": username,
    })
    extra["native"] = {k: v for k, v in extra["native"].items() if v is not None}

    if is_city:
        kind = "post"
        where = account(NAME, id=author_id, handle=username, name=name)
    else:
        kind = "comment"
        where = None
        if reply_to_user is not None:
            where = account(NAME, id=reply_to_user, handle=includes.user(reply_to_user)[0])
        else:
            for mention in mentions:
                if city.matches(mention.get("id"), mention.get("username")):
                    where = account(NAME, id=mention.get("id"), handle=mention.get("username"))
                    break
    if extra["mentions"]:
        extra["mentions"] = [m["username"] for m in mentions]
    return content_event(kind=kind, platform=NAME, id=tweet_id, at=at, text=text, links=links, media=media,
                         author=actor(author_id, name or username, city=is_city), account=where,
                         original=original, extra=extra)


def _text(tweet: Node, own_id: str) -> tuple[str, str, list[str], list[dict], list[str], bool]:
    """Display text (entities decoded, t.co links expanded), the text as delivered (decoded), links,
    mentions, hashtags, and whether the text is a truncated long tweet's."""
    note = tweet.opt("note_tweet")
    holder = tweet
    native_text = unescape(tweet.req_str("text", "the tweet text"))
    if note is not None:
        note.as_map("the note_tweet object")
        native_text = unescape(note.req_str("text", "the long tweet's text"))
        holder = note
    truncated = False
    entities = holder.opt("entities")
    links: list[str] = []
    mentions: list[dict] = []
    hashtags: list[str] = []
    text = native_text
    if entities is not None:
        entities.as_map("the entities object")
        for url in entities.opt_list("urls", "a list of URL entities"):
            url.as_map("a URL entity")
            short = url.req_str("url", "the t.co URL", nonempty=True)
            expanded = url.opt_str("expanded_url") or short
            target = url.opt_str("unwound_url") or expanded
            if url.has("media_key") or (_MEDIA_LINK.search(expanded) and f"/{own_id}/" in expanded):
                text = text.replace(short, "")  # the tweet's own photo or video: media, not a link
                continue
            show_more = _SHOW_MORE.match(expanded)
            if show_more and show_more.group(1) == own_id:
                text = text.replace(short, "")  # "show more" of a truncated long tweet: itself, not a link
                truncated = note is None
                continue
            text = text.replace(short, expanded)
            links.append(expanded)
            if target != expanded:
                links.append(target)  # where a shortener (unwound_url) really leads
        for mention in entities.opt_list("mentions", "a list of mention entities"):
            mention.as_map("a mention entity")
            mentions.append({"username": mention.req_str("username", "the mentioned username", nonempty=True),
                             "id": mention.opt_id("id")})
        for tag in entities.opt_list("hashtags", "a list of hashtag entities"):
            hashtags.append(tag.as_map("a hashtag entity").req_str("tag", "the hashtag (without #)", nonempty=True))
    return text.strip(), native_text, links, mentions, hashtags, truncated


def _media(tweet: Node, includes: _Includes, expansion: str) -> tuple[list[dict], list[dict]]:
    attachments = tweet.opt("attachments")
    if attachments is None:
        return [], []
    attachments.as_map("the attachments object")
    media, native = [], []
    for key_node in attachments.opt_list("media_keys", "a list of media keys"):
        key = key_node.as_str("a media key")
        item = includes.media_of(tweet, key, expansion)
        mtype = item.req_str("type", "photo, video or animated_gif")
        if mtype not in MEDIA_TYPES:
            raise item.req("type").error("photo, video or animated_gif", got=mtype)
        media.append({"type": MEDIA_TYPES[mtype]})
        info = {"type": mtype, "media_key": key, "url": item.opt_str("url") or item.opt_str("preview_image_url"),
                "alt": item.opt_str("alt_text", "the alt text (a string)")}
        native.append({k: v for k, v in info.items() if v is not None})
    return media, native


def _polls(tweet: Node, includes: _Includes) -> list[str]:
    attachments = tweet.opt("attachments")
    if attachments is None:
        return []
    labels = []
    for poll_id in attachments.opt_list("poll_ids", "a list of poll ids"):
        poll = includes.polls.get(poll_id.as_id("a poll id"))
        if poll is None:
            continue  # the poll's options were not expanded; the poll id stays in the native payload
        for option in poll.req("options", "the poll's options").items("a list of poll options"):
            labels.append(unescape(option.as_map("a poll option").req_str("label", "the option's label")))
    return labels


adapter = ModuleAdapter(NAME, FACTS, convert)


def adapt(payload: Mapping[str, Any], *, city_accounts: frozenset[str] = frozenset()) -> list[dict]:
    """The events in one X API v2 payload; raises if any tweet is refused (see `convert`)."""
    return adapter.adapt(payload, city_accounts=city_accounts)
