"""Mastodon statuses (REST API v1 `Status` entity) to policykit events.

Accepted payloads: a `Status`; a streaming API message (`{"event": "update" | "status.update" |
"delete" | "notification", "payload": ...}`, the payload JSON-encoded or already decoded); or a server
webhook (`{"event": "status.created" | "status.updated", "object": Status}`). See docs/platforms.md.

* A status by a city account (its id, `acct`, or full `user@host` address in `city_accounts`) is a
  `post`, replies included (the city publishes it); any other status is a `comment`. A boost (`reblog`)
  by a city account is a `post` with `original: false` carrying the boosted status's content; a boost
  by anyone else is not content on a city account and yields nothing.
* `content` is HTML: it becomes plain text (paragraphs separated by a blank line, `<br>` a line break),
  the content warning (`spoiler_text`) goes first and poll options last, one per line. Link hrefs (not
  mentions or hashtags) become `links`; an anchor whose text is not its own URL keeps the href in the
  text, as `text (href)`.
* `edited_at` set, or a `status.update` event, marks `extra.edited`.
* A streaming `delete` only carries the id: it becomes a `delete_post` action with that target id and
  no actor (the stream does not say who deleted or what kind of status it was; `extra.target_known`
  is false).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from .base import (
    Converted,
    ModuleAdapter,
    Page,
    CityAccounts,
    Node,
    PlatformFacts,
    account,
    action_event,
    actor,
    content_event,
)

NAME = "mastodon"

FACTS = PlatformFacts(
    name=NAME,
    title="Mastodon",
    max_text_length=500,
    supports_edit=True,
    supports_delete=True,
    supports_hide_comments=False,
    max_media=4,
    media_types=frozenset({"photo", "video", "graphic", "audio", "document"}),
    api_reference="https://docs.joinmastodon.org/entities/Status/",
    notes=(
        "500 characters is the default; each server may configure its own limit "
        "(instance configuration.statuses.max_characters). Links count as 23 characters.",
        "Statuses can be edited (edited_at is set; earlier versions are kept in the status history).",
        "An account cannot hide replies to its statuses; it can only block, mute or report their authors.",
    ),
)

MEDIA_TYPES = {"image": "photo", "video": "video", "gifv": "graphic", "audio": "audio", "unknown": "document"}
STATUS_EVENTS = {"update": False, "status.update": True, "status.created": False, "status.updated": True}
NOTIFICATION_TYPES = {"mention": False, "status": False, "update": True}


def convert(payload: Mapping[str, Any], *, city_accounts: frozenset[str] = frozenset()) -> list[Converted]:
    """The events in one Mastodon status, streaming message or webhook (one item), or a list of
    statuses (a timeline or a context's descendants, status by status)."""
    city = CityAccounts(city_accounts)
    page = Page(NAME)
    if isinstance(payload, list):
        for status in Node(NAME, payload).items():
            page.add(status, lambda s=status: _status(s, city, edited=False))
        return page.results
    root = Node(NAME, payload).as_map("a Status, a streaming message or a webhook (a JSON object)")
    if root.has("event") and not root.has("id"):
        page.add(root, lambda: _envelope(root, city), indexed=False)
    else:
        page.add(root, lambda: _status(root, city, edited=False), indexed=False)
    return page.results


def _envelope(root: Node, city: CityAccounts) -> list[dict]:
    event = root.req_str("event", "the event name")
    body = root.opt("object") or root.opt("payload")
    if event in STATUS_EVENTS:
        return _status(_decoded(body, root, "a Status"), city, edited=STATUS_EVENTS[event])
    if event == "notification":
        note = _decoded(body, root, "a Notification").as_map("a Notification")
        kind = note.req_str("type", "the notification type")
        if kind not in NOTIFICATION_TYPES:
            return []
        return _status(note.req("status", "the notification's status").as_map("a Status"), city,
                       edited=NOTIFICATION_TYPES[kind])
    if event == "delete":
        if body is None:
            raise root.missing("payload", "the deleted status's id")
        status_id = body.as_id("the deleted status's id")
        target = {"kind": "post", "id": status_id, "platform": NAME,
                  "extra": {"native": {"id": status_id}, "deleted": True}}
        return [action_event(type="delete_post", platform=NAME, id=f"{status_id}:delete", target=target,
                             actor=None, extra={"streaming_event": "delete", "target_known": False})]
    return []


def _decoded(body: Node | None, root: Node, what: str) -> Node:
    if body is None:
        raise root.missing("payload", what)
    if isinstance(body.value, str):
        try:
            return Node(NAME, json.loads(body.value), body.path).as_map(what)
        except ValueError:
            raise body.error(f"{what} (JSON-encoded)", got=body.value) from None
    return body.as_map(what)


def _handle(acct: str, url: str | None) -> str:
    """The full `user@host` address: remote accounts have it in `acct`, local ones take the host of `url`."""
    if "@" in acct or not url:
        return acct
    host = urlsplit(url).hostname
    return f"{acct}@{host}" if host else acct


def _status(status: Node, city: CityAccounts, *, edited: bool) -> list[dict]:
    status.as_map("a Status")
    status_id = status.req_id("id", "the status id")
    at = status.req("created_at", "the creation time").timestamp()
    acc = status.req("account", "the author's Account").as_map("an Account")
    acc_id = acc.req_id("id", "the account id")
    acct = acc.req_str("acct", "the account's acct (user or user@host)", nonempty=True)
    url = acc.opt_str("url", "the account's profile URL")
    display = acc.opt_str("display_name") or None
    handle = _handle(acct, url)
    is_city = city.matches(acc_id, acct, handle)
    author = actor(acc_id, display or acct, city=is_city)

    reblog = status.opt("reblog")
    source = status
    original = True
    extra: dict[str, Any] = {"native": {"id": status_id, "account_id": acc_id, "uri": status.opt_str("uri"),
                                        "url": status.opt_str("url")}}
    if reblog is not None:
        if not is_city:
            return []  # someone else's boost is not content on a city account
        source = reblog.as_map("the boosted Status")
        inner_acc = source.req("account", "the boosted status's Account").as_map("an Account")
        extra["reblog_of"] = source.req_id("id", "the boosted status's id")
        extra["reblogged_account"] = inner_acc.req_str("acct", "the account's acct", nonempty=True)
        original = False

    text, links, mention_urls = _content(source)
    media, media_extra = _media(source)
    mentions = []
    for m in source.opt_list("mentions", "a list of Mentions"):
        m.as_map("a Mention")
        murl = m.opt_str("url")
        macct = m.req_str("acct", "the mentioned account's acct", nonempty=True)
        mentions.append({"id": m.req_id("id", "the mentioned account's id"), "acct": _handle(macct, murl),
                         "short": macct})
        if murl:
            mention_urls.add(murl)
    tag_urls = set()
    tags = []
    for t in source.opt_list("tags", "a list of Tags"):
        t.as_map("a Tag")
        tags.append(t.req_str("name", "the tag's name"))
        turl = t.opt_str("url")
        if turl:
            tag_urls.add(turl)
    links = [link for link in links if link not in mention_urls and link not in tag_urls]
    card = source.opt("card")
    if card is not None:
        card.as_map("a PreviewCard")
        card_url = card.req_str("url", "the card's URL")
        links.append(card_url)
        extra["card"] = {"url": card_url, "title": card.opt_str("title"), "type": card.opt_str("type")}

    quote = source.opt("quote")
    if quote is not None and isinstance(quote.value, Mapping):
        quoted = quote.opt("quoted_status")
        quoted_id = quoted.req_id("id", "the quoted status's id") if quoted is not None else quote.opt_id("quoted_status_id")
        if quoted_id is not None:
            extra["quote_of"] = quoted_id
            original = False

    edited_at_node = status.opt("edited_at")
    edited_at = edited_at_node.timestamp() if edited_at_node is not None else None
    in_reply_to = status.opt_id("in_reply_to_id", "the replied-to status's id")
    reply_account = status.opt_id("in_reply_to_account_id", "the replied-to account's id")
    hidden_by_filter = False  # the viewing (city) account's own filters hide it
    for result in status.opt_list("filtered", "a list of FilterResults"):
        flt = result.as_map("a FilterResult").opt("filter")
        if flt is not None and flt.as_map("a Filter").opt_str("filter_action") == "hide":
            hidden_by_filter = True
    application = status.opt("application")
    extra.update({
        "edited": edited or edited_at is not None,
        "edited_at": edited_at,
        "deleted": False,
        "in_reply_to": in_reply_to,
        "in_reply_to_account": reply_account,
        "visibility": status.opt_str("visibility"),
        "sensitive": status.opt_bool("sensitive"),
        "spoiler_text": source.opt_str("spoiler_text") or None,
        "language": source.opt_str("language"),
        "mentions": [m["acct"] for m in mentions] or None,
        "tags": tags or None,
        "media": media_extra or None,
        "hidden_by_filter": hidden_by_filter or None,
        "application": application.as_map().opt_str("name") if application is not None else None,
        "author_handle": handle,
    })

    if is_city:
        kind = "post"
        where = account(NAME, id=acc_id, handle=handle, name=display)
    else:
        kind = "comment"
        where = None
        if reply_account is not None:
            known = next((m for m in mentions if m["id"] == reply_account), None)
            where = account(NAME, id=reply_account, handle=known["acct"] if known else None)
        else:
            city_mention = next((m for m in mentions if city.matches(m["id"], m["acct"], m["short"])), None)
            if city_mention is not None:
                where = account(NAME, id=city_mention["id"], handle=city_mention["acct"])
    return [content_event(kind=kind, platform=NAME, id=status_id, at=at, text=text, links=links, media=media,
                          author=author, account=where, original=original, extra=extra)]


def _content(status: Node) -> tuple[str, list[str], set[str]]:
    html = status.req_str("content", "the status content (HTML)")
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    body = parser.text()
    parts = []
    spoiler = status.opt_str("spoiler_text", "the content warning (a string)")
    if spoiler and spoiler.strip():
        parts.append(spoiler.strip())
    if body:
        parts.append(body)
    poll = status.opt("poll")
    if poll is not None:
        poll.as_map("a Poll")
        options = [o.as_map("a poll option").req_str("title", "the option's title")
                   for o in poll.req("options", "the poll's options").items("a list of poll options")]
        if options:
            parts.append("\n".join(options))
    return "\n\n".join(parts), parser.links, parser.mention_urls


def _media(status: Node) -> tuple[list[dict], list[dict]]:
    media, native = [], []
    for att in status.opt_list("media_attachments", "a list of MediaAttachments"):
        att.as_map("a MediaAttachment")
        kind = att.req_str("type", "the attachment type (image, video, gifv, audio or unknown)")
        if kind not in MEDIA_TYPES:
            raise att.req("type").error("image, video, gifv, audio or unknown", got=kind)
        media.append({"type": MEDIA_TYPES[kind]})
        info = {"type": kind, "id": att.opt_id("id"), "url": att.opt_str("url") or att.opt_str("remote_url"),
                "description": att.opt_str("description", "the alt text (a string)")}
        native.append({k: v for k, v in info.items() if v is not None})
    return media, native


_BLOCK = frozenset({"p", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "div"})
_SKIP = frozenset({"script", "style"})


class _HTMLText(HTMLParser):
    """Mastodon's sanitised status HTML to plain text, collecting link hrefs on the way."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pending = ""
        self.links: list[str] = []
        self.mention_urls: set[str] = set()
        self.anchor: tuple[str, bool, int] | None = None  # href, is a mention or hashtag, start in out
        self.skipping = 0

    def _break(self, sep: str) -> None:
        if len(sep) > len(self.pending):
            self.pending = sep

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag in _BLOCK:
            self._break("\n\n")
        elif tag == "li":
            self._break("\n")
        elif tag == "a":
            a = dict(attrs)
            classes = (a.get("class") or "").split()
            rels = (a.get("rel") or "").split()
            social = "mention" in classes or "hashtag" in classes or "tag" in rels
            self.anchor = (a.get("href") or "", social, len(self.out))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIP:
            self.skipping -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self._break("\n\n")
        elif tag == "li":
            self._break("\n")
        elif tag == "a" and self.anchor is not None:
            href, social, start = self.anchor
            self.anchor = None
            if not href:
                return
            if social:
                self.mention_urls.add(href)
                return
            self.links.append(href)
            shown = "".join(self.out[start:]).strip()
            if not _same_url(shown, href):
                self.out.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.skipping or not data:
            return
        if self.pending and self.out:
            self.out.append(self.pending)
        self.pending = ""
        self.out.append(data)

    def text(self) -> str:
        return "".join(self.out).strip()


def _bare(url: str) -> str:
    url = url.strip()
    for scheme in ("https://", "http://"):
        if url.lower().startswith(scheme):
            url = url[len(scheme):]
    if url.lower().startswith("www."):
        url = url[4:]
    return url.rstrip("/")


def _same_url(shown: str, href: str) -> bool:
    """Whether an anchor's visible text is its href (possibly shortened, as Mastodon and Pleroma do)."""
    shown = shown.strip()
    shortened = shown.endswith(("…", "..."))
    a, b = _bare(shown.rstrip("…").rstrip(".")), _bare(href)
    return bool(a) and (a == b or (shortened and b.startswith(a)))


adapter = ModuleAdapter(NAME, FACTS, convert)


def adapt(payload: Mapping[str, Any], *, city_accounts: frozenset[str] = frozenset()) -> list[dict]:
    """The events in one Mastodon payload; raises if it (or, in a list, any status) is refused."""
    return adapter.adapt(payload, city_accounts=city_accounts)
