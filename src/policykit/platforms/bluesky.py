"""Bluesky (AT Protocol) `app.bsky.feed.post` records to policykit events.

Accepted payloads (see docs/platforms.md for the mapping table):

* a Jetstream message (`{"did", "time_us", "kind": "commit", "commit": {"operation", "collection",
  "rkey", "record", "cid"}}`);
* a decoded firehose commit (`com.atproto.sync.subscribeRepos#commit`: `{"repo", "ops": [{"action",
  "path", "cid", "record"}], ...}`, records inlined from the commit's blocks); one commit may yield several
  events;
* a repo record (`{"uri", "cid", "value"}`, as from `com.atproto.repo.getRecord`) or a wrapper
  `{"did" | "repo", "uri", "cid", "record"}`;
* a `PostView` (`{"uri", "cid", "author", "record", "labels", ...}`) or a `FeedViewPost` (`{"post", "reason"}`);
* a `getPostThread` response (`{"thread": ThreadViewPost}`): every post of the thread, parents first,
  then the post, then its replies (depth first); `notFoundPost` and `blockedPost` yield nothing;
* a bare record (`{"$type": "app.bsky.feed.post", ...}`): its author is then unknown.

Firehose `#identity`, `#account` (and `#sync`, `#info`) bodies and Jetstream `identity` / `account`
messages are not content: they yield nothing.

`createdAt` is the author's claim: a timestamp without a time zone (which the lexicon does not allow,
but which the network carries) is read as UTC and marked `extra.time_zone_assumed: "UTC"`; one that is
no timestamp at all gives way to the time the network saw the record (Jetstream `time_us`, the
commit's `time`, a view's `indexedAt`), marked `extra.created_at_invalid`, or no `at` when there is none.
Either way the post is judged: a malformed date must not be a way around the policy.

A post whose author (the repo DID, or handle when known) is a city account is a `post`, replies included;
any other post is a `comment`. Facet `byteStart`/`byteEnd` are UTF-8 byte offsets into `text`; they are
converted to character offsets in `extra.facets` (and must fall on character boundaries). A repost
(`app.bsky.feed.repost`) by a city account is a `post` with `original: false`; a quote post by a city
account is one too. A deleted post is its owner's act (only the repo's owner can delete a record):
`delete_post` by the city account for a city post, `withdraw_comment` by its author for anyone else's
(never a city moderation action, `delete_comment`); and a thread gate's `hiddenReplies` become `hide_comment` actions by the
thread's author.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

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
    render_utc,
    withdrawal_type,
)

NAME = "bluesky"

POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
THREADGATE = "app.bsky.feed.threadgate"

FACTS = PlatformFacts(
    name=NAME,
    title="Bluesky",
    max_text_length=300,
    text_length_unit="graphemes",
    supports_edit=False,
    supports_delete=True,
    supports_hide_comments=True,
    max_media=4,
    media_types=frozenset({"photo", "video", "graphic"}),
    api_reference="https://docs.bsky.app/docs/advanced-guides/posts",
    notes=(
        "Post text is limited to 300 graphemes and 3000 UTF-8 bytes.",
        "Posts cannot be edited in the app; a record can still be rewritten through the API (an 'update').",
        "Up to 4 images, or one video, per post; GIFs are external embeds of Tenor links.",
        "A thread's author can hide replies (threadgate hiddenReplies) and limit who may reply.",
    ),
)

FACET = "app.bsky.richtext.facet#"
IMAGES = "app.bsky.embed.images"
VIDEO = "app.bsky.embed.video"
EXTERNAL = "app.bsky.embed.external"
RECORD = "app.bsky.embed.record"
RECORD_WITH_MEDIA = "app.bsky.embed.recordWithMedia"
GIF_HOSTS = frozenset({"media.tenor.com", "tenor.com"})
HIDING_LABELS = frozenset({"!hide", "!takedown", "!suspend"})
SUBSCRIBE_REPOS = "com.atproto.sync.subscribeRepos#"
THREAD_VIEW = "app.bsky.feed.defs#threadViewPost"
MAX_THREAD_POSTS = 10_000  # a thread view is bounded by the AppView (depth 1000 at most); so is this


def convert(payload: Mapping[str, Any], *, city_accounts: frozenset[str] = frozenset()) -> list[Converted]:
    """The events in one Bluesky record, record view, thread, Jetstream message or decoded firehose
    message; a commit's operations and a thread's posts are converted (and refused) one by one."""
    city = CityAccounts(city_accounts)
    root = Node(NAME, payload).as_map("a Bluesky record, PostView, Jetstream message or firehose commit")
    page = Page(NAME)
    message_type = root.opt_str("$type", "the record's $type") if root.has("$type") else None
    if message_type is not None and message_type.startswith(SUBSCRIBE_REPOS):
        if message_type != SUBSCRIBE_REPOS + "commit":
            return []  # #identity, #account, #sync, #info: not content
        _firehose(root, city, page)
    elif root.has("ops"):
        _firehose(root, city, page)
    elif root.has("kind") and root.has("did"):
        page.add(root, lambda: _jetstream(root, city), indexed=False)
    elif _is_repo_message(root):
        return []  # a firehose #identity / #account body without its header: not content
    elif message_type is not None:
        page.add(root, lambda: _record(root, _Ref(collection=message_type), op="create", city=city), indexed=False)
    elif root.has("thread"):
        _thread(root.req("thread"), city, page)
    elif root.has("post") and not root.has("record") and not root.has("value"):
        page.add(root, lambda: _feed_view(root, city), indexed=False)
    elif root.has("record") or root.has("value"):
        page.add(root, lambda: _wrapped(root, city), indexed=False)
    else:
        raise root.error('a record with "$type", a PostView, a thread, a repo record {uri, cid, value}, '
                         "a Jetstream message or a firehose commit")
    return page.results


def _is_repo_message(root: Node) -> bool:
    """A subscribeRepos body that is not a commit: `#identity` {seq, did, time, handle} or `#account`
    {seq, did, time, active, status}."""
    return root.has("did") and root.has("seq") and root.has("time") and not root.has("ops")


class _Ref:
    """Where a record lives: repo DID, collection, record key, cid, and the author's handle if known."""

    __slots__ = ("did", "collection", "rkey", "cid", "handle", "display_name", "time", "meta")

    def __init__(self, did: str | None = None, collection: str = POST, rkey: str | None = None, cid: str | None = None,
                 handle: str | None = None, display_name: str | None = None, time: str | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        self.did, self.collection, self.rkey, self.cid = did, collection, rkey, cid
        self.handle, self.display_name, self.time = handle, display_name, time
        self.meta = meta or {}

    @property
    def uri(self) -> str | None:
        if self.did and self.rkey:
            return f"at://{self.did}/{self.collection}/{self.rkey}"
        return None


def _parse_uri(node: Node) -> tuple[str, str, str]:
    """`at://did/collection/rkey` into its parts."""
    uri = node.as_str("an at:// URI")
    if not uri.startswith("at://"):
        raise node.error("an at:// URI (at://did/collection/rkey)", got=uri)
    parts = uri[len("at://"):].split("/")
    if len(parts) != 3 or not all(parts):
        raise node.error("an at:// URI (at://did/collection/rkey)", got=uri)
    return parts[0], parts[1], parts[2]


def _time_us(node: Node | None) -> str | None:
    if node is None:
        return None
    value = node.as_number("the event time in microseconds since the epoch")
    try:
        dt = datetime.fromtimestamp(value / 1e6, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise node.error("the event time in microseconds since the epoch", got=value) from None
    return render_utc(dt)


def _jetstream(root: Node, city: CityAccounts) -> list[dict]:
    did = root.req_str("did", "the repo DID", nonempty=True)
    if root.req_str("kind", "the message kind (commit, identity or account)") != "commit":
        return []
    commit = root.req("commit", "the commit object").as_map("the commit object")
    op = commit.req_str("operation", "the operation (create, update or delete)")
    if op not in ("create", "update", "delete"):
        raise commit.req("operation").error("create, update or delete", got=op)
    ref = _Ref(did=did, collection=commit.req_str("collection", "the record's collection NSID"),
               rkey=commit.req_str("rkey", "the record key", nonempty=True), cid=commit.opt_str("cid"),
               time=_time_us(root.opt("time_us")),
               meta={"time_us": root.opt("time_us").value if root.has("time_us") else None,
                     "rev": commit.opt_str("rev")})
    if op == "delete":
        return _deleted(ref, city)
    if ref.collection not in (POST, REPOST, THREADGATE):
        return []
    return _record(commit.req("record", "the created or updated record").as_map("a record"), ref, op=op, city=city)


def _firehose(root: Node, city: CityAccounts, page: Page) -> None:
    did = root.req_str("repo", "the repo DID", nonempty=True)
    time_node = root.opt("time")
    time = time_node.timestamp() if time_node is not None else None
    meta = {"seq": root.opt("seq").value if root.has("seq") else None, "rev": root.opt_str("rev")}
    for op_node in root.req("ops", "the commit's operations").items("a list of operations"):
        page.add(op_node, lambda o=op_node: _firehose_op(o, did, time, meta, city))


def _firehose_op(op_node: Node, did: str, time: str | None, meta: dict[str, Any], city: CityAccounts) -> list[dict]:
    op_node.as_map("an operation")
    op = op_node.req_str("action", "the action (create, update or delete)")
    if op not in ("create", "update", "delete"):
        raise op_node.req("action").error("create, update or delete", got=op)
    path = op_node.req_str("path", "the record path (collection/rkey)")
    collection, _, rkey = path.partition("/")
    if not collection or not rkey or "/" in rkey:
        raise op_node.req("path").error("a record path collection/rkey", got=path)
    cid = op_node.opt("cid")
    ref = _Ref(did=did, collection=collection, rkey=rkey,
               cid=cid.value if cid is not None and isinstance(cid.value, str) else None,
               time=time, meta=dict(meta))
    if op == "delete":
        return _deleted(ref, city)
    if collection in (POST, REPOST, THREADGATE):
        record = op_node.req("record", "the decoded record (inline it from the commit's blocks)")
        return _record(record.as_map("a record"), ref, op=op, city=city)
    return []


def _wrapped(root: Node, city: CityAccounts) -> list[dict]:
    record = root.opt("record") or root.req("value", "the record")
    ref = _Ref(cid=root.opt_str("cid"))
    if root.has("uri"):
        ref.did, ref.collection, ref.rkey = _parse_uri(root.req("uri"))
    if root.has("did") or root.has("repo"):
        did = root.req_str("did" if root.has("did") else "repo", "the repo DID", nonempty=True)
        if ref.did is not None and ref.did != did:
            raise root.req("uri").error(f"an at:// URI in the repo {did}", got=ref.uri)
        ref.did = did
    author = root.opt("author")
    if author is not None:
        author.as_map("the author (a ProfileViewBasic)")
        did = author.req_str("did", "the author's DID", nonempty=True)
        if ref.did is not None and ref.did != did:
            raise author.req("did").error(f"the DID of the record's repo ({ref.did})", got=did)
        ref.did = did
        ref.handle = author.opt_str("handle")
        ref.display_name = author.opt_str("displayName") or None
    record.as_map("a record")
    ref.collection = record.opt_str("$type", "the record's $type") or ref.collection
    labels = [lab.as_map("a label").req_str("val", "the label's value") for lab in root.opt_list("labels", "a list of labels")]
    if labels:
        ref.meta["moderation_labels"] = labels
        if HIDING_LABELS.intersection(labels):
            ref.meta["hidden"] = True
    indexed = root.opt("indexedAt")
    if indexed is not None:
        ref.meta["indexed_at"] = indexed.timestamp()
    return _record(record, ref, op="create", city=city)


def _thread(thread: Node, city: CityAccounts, page: Page) -> None:
    """A getPostThread `thread`: its parents (outermost first), the post, then its replies depth first.
    Iterative (a thread is as deep as its replies go) and bounded by MAX_THREAD_POSTS."""
    thread.as_map("a ThreadViewPost")
    ancestors = []
    parent = thread.opt("parent")
    while parent is not None and isinstance(parent.value, Mapping) and len(ancestors) < MAX_THREAD_POSTS:
        ancestors.append(parent)
        parent = parent.opt("parent")
    stack = [thread]
    views = list(reversed(ancestors))
    while stack and len(views) <= MAX_THREAD_POSTS:
        view = stack.pop()
        views.append(view)
        if isinstance(view.value, Mapping) and isinstance(view.value.get("replies"), list):
            stack.extend(reversed(view.req("replies").items()))
    for view in views[:MAX_THREAD_POSTS]:
        page.add(view, lambda v=view: _thread_post(v, city))
    if len(views) > MAX_THREAD_POSTS or stack:
        page.add(thread, lambda: _too_long(thread))


def _too_long(thread: Node) -> list[dict]:
    raise thread.error(f"a thread of at most {MAX_THREAD_POSTS} posts (the rest is not converted)")


def _thread_post(view: Node, city: CityAccounts) -> list[dict]:
    view.as_map("a ThreadViewPost, NotFoundPost or BlockedPost")
    vtype = view.opt_str("$type", "the view's $type")
    if vtype not in (None, THREAD_VIEW) or not view.has("post"):
        return []  # notFoundPost, blockedPost (and views this version does not know): nothing to judge
    return _wrapped(view.req("post").as_map("a PostView"), city)


def _feed_view(root: Node, city: CityAccounts) -> list[dict]:
    post = root.req("post", "the PostView").as_map("a PostView")
    reason = root.opt("reason")
    if reason is not None and reason.as_map("the reason").opt_str("$type") == "app.bsky.feed.defs#reasonRepost":
        by = reason.req("by", "the reposting account").as_map("a ProfileViewBasic")
        did = by.req_str("did", "the reposting account's DID", nonempty=True)
        handle = by.opt_str("handle")
        if not city.matches(did, handle):
            return []
        inner = _wrapped(post, CityAccounts(()))
        if not inner:
            return []
        at = reason.opt("indexedAt")
        return [_repost_event(ref=_Ref(did=did, handle=handle, display_name=by.opt_str("displayName") or None),
                              subject_uri=post.req_str("uri", "the reposted post's URI"),
                              at=at.timestamp() if at is not None else inner[0].get("at"),
                              content=inner[0], op="create")]
    return _wrapped(post, city)


# --------------------------------------------------------------------------------------------------


def _is_city(did: str | None, handle: str | None, city: CityAccounts) -> bool:
    return city.matches(did, handle)


def _author(ref: _Ref, city: CityAccounts) -> dict[str, Any] | None:
    if ref.did is None and ref.handle is None:
        return None
    return actor(ref.did, ref.display_name or ref.handle, city=_is_city(ref.did, ref.handle, city))


def _record(record: Node, ref: _Ref, *, op: str, city: CityAccounts) -> list[dict]:
    rtype = record.opt_str("$type", "the record's $type") or ref.collection
    if rtype != ref.collection and ref.collection in (POST, REPOST, THREADGATE):
        raise record.req("$type").error(f'"{ref.collection}" (the collection it was written to)', got=rtype)
    if rtype == POST:
        return [_post(record, ref, op=op, city=city)]
    if rtype == REPOST:
        subject = record.req("subject", "the reposted post {uri, cid}").as_map("a strong ref {uri, cid}")
        subject_uri = subject.req_str("uri", "the reposted post's URI")
        _parse_uri(subject.req("uri"))
        if not _is_city(ref.did, ref.handle, city):
            return []
        return [_repost_event(ref=ref, subject_uri=subject_uri, at=_created_at(record, ref), content=None, op=op)]
    if rtype == THREADGATE:
        return _threadgate(record, ref, city=city)
    return []


def _repost_event(*, ref: _Ref, subject_uri: str, at: str | None, content: dict | None, op: str) -> dict:
    extra: dict[str, Any] = {
        "native": {"uri": ref.uri, "cid": ref.cid, "did": ref.did, "rkey": ref.rkey, **ref.meta},
        "repost_of": subject_uri,
        "edited": op == "update",
        "deleted": False,
    }
    return content_event(
        kind="post", platform=NAME, id=ref.uri or f"repost:{subject_uri}", at=at,
        text=content.get("text", "") if content else "",
        links=content.get("links", []) if content else [],
        media=content.get("media", []) if content else [],
        author=actor(ref.did, ref.display_name or ref.handle, city=True),
        account=account(NAME, id=ref.did, handle=ref.handle, name=ref.display_name),
        original=False, extra=extra,
    )


def _deleted(ref: _Ref, city: CityAccounts) -> list[dict]:
    if ref.collection != POST:
        return []
    is_city = _is_city(ref.did, ref.handle, city)
    kind = "post" if is_city else "comment"
    owner = actor(ref.did, ref.handle, city=is_city)
    target = {"kind": kind, "id": ref.uri, "platform": NAME, "author": owner,
              "extra": {"native": {"uri": ref.uri, "did": ref.did, "rkey": ref.rkey}, "deleted": True}}
    return [action_event(type=withdrawal_type(kind), platform=NAME, id=f"{ref.uri}:delete", at=ref.time,
                         target=target, actor=owner,
                         extra={"native": {"uri": ref.uri, **{k: v for k, v in ref.meta.items() if v is not None}},
                                "operation": "delete", "by_author": True})]


def _threadgate(record: Node, ref: _Ref, *, city: CityAccounts) -> list[dict]:
    post_uri = record.req_str("post", "the gated post's URI")
    post_did, _, _ = _parse_uri(record.req("post"))
    if ref.did is not None and post_did != ref.did:
        raise record.req("post").error(f"a post in the thread gate's own repo ({ref.did})", got=post_uri)
    gate_owner_city = _is_city(post_did, ref.handle if ref.did == post_did else None, city)
    owner = actor(post_did, ref.handle, city=gate_owner_city)
    at = ref.time or _created_at(record, ref)
    events = []
    for hidden in record.opt_list("hiddenReplies", "a list of reply URIs"):
        reply_did, _, _ = _parse_uri(hidden)
        reply_city = _is_city(reply_did, None, city)
        kind = "post" if reply_city else "comment"
        target = {"kind": kind, "id": hidden.value, "platform": NAME,
                  "author": actor(reply_did, None, city=reply_city),
                  "account": account(NAME, id=post_did, handle=ref.handle),
                  "extra": {"native": {"uri": hidden.value, "did": reply_did}, "hidden": True,
                            "thread_root": post_uri}}
        events.append(action_event(
            type=f"hide_{kind}", platform=NAME, id=f"{hidden.value}:hide", at=at, target=target, actor=owner,
            extra={"native": {"threadgate": ref.uri, "post": post_uri},
                   "note": "a thread gate lists every hidden reply, not only newly hidden ones"}))
    return events


# --------------------------------------------------------------------------------------------------
# Posts


def _char_offset(text_bytes: bytes, node: Node) -> int:
    """A UTF-8 byte offset into the text as a character offset; it must fall on a character boundary."""
    value = node.value
    expected = f"a UTF-8 byte offset between 0 and {len(text_bytes)} on a character boundary"
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= len(text_bytes):
        raise node.error(expected, got=value)
    if value < len(text_bytes) and (text_bytes[value] & 0xC0) == 0x80:
        raise node.error(expected, got=value)
    return len(text_bytes[:value].decode("utf-8"))


def byte_span_to_chars(text: str, byte_start: int, byte_end: int) -> tuple[int, int]:
    """Character offsets of a UTF-8 byte span of `text` (ValueError when it is not a valid span)."""
    node = Node(NAME, {"byteStart": byte_start, "byteEnd": byte_end})
    data = text.encode("utf-8")
    start = _char_offset(data, node.req("byteStart"))
    end = _char_offset(data, node.req("byteEnd"))
    if end < start:
        raise node.req("byteEnd").error("an offset not before byteStart", got=byte_end)
    return start, end


def _facets(record: Node, text: str) -> tuple[list[dict], list[str], list[str], list[str]]:
    data = text.encode("utf-8")
    facets, links, mentions, tags = [], [], [], []
    for facet in record.opt_list("facets", "a list of facets"):
        facet.as_map("a facet {index, features}")
        index = facet.req("index", "the facet's byte range {byteStart, byteEnd}").as_map("a byte range")
        start = _char_offset(data, index.req("byteStart", "the start byte offset"))
        end = _char_offset(data, index.req("byteEnd", "the end byte offset"))
        if end < start:
            raise index.req("byteEnd").error("an offset not before byteStart", got=index.req("byteEnd").value)
        for feature in facet.req("features", "the facet's features").items("a list of features"):
            feature.as_map("a facet feature")
            ftype = feature.req_str("$type", "the feature's $type")
            short = ftype[len(FACET):] if ftype.startswith(FACET) else ftype
            if short == "link":
                value = feature.req_str("uri", "the link's URI", nonempty=True)
                links.append(value)
            elif short == "mention":
                value = feature.req_str("did", "the mentioned account's DID", nonempty=True)
                mentions.append(value)
            elif short == "tag":
                value = feature.req_str("tag", "the tag (without #)", nonempty=True)
                tags.append(value)
            else:
                value = None
            facets.append({"type": short, "start": start, "end": end, "text": text[start:end],
                           **({"value": value} if value is not None else {})})
    return facets, links, mentions, tags


def _blob(node: Node, kind: str) -> dict[str, Any]:
    node.as_map(f"the {kind} blob")
    mime = node.opt_str("mimeType", "the blob's MIME type")
    ref = node.opt("ref")
    cid = None
    if ref is not None:
        cid = ref.as_map("the blob's ref {$link}").req_str("$link", "the blob's CID")
    elif node.has("cid"):  # legacy blob
        cid = node.req_str("cid", "the blob's CID")
    else:
        raise node.missing("ref", "the blob's ref {$link}")
    return {k: v for k, v in {"cid": cid, "mime_type": mime}.items() if v is not None}


def _embed(embed: Node, media: list, native: list, links: list, extra: dict) -> None:
    embed.as_map("an embed")
    etype = embed.req_str("$type", "the embed's $type")
    extra.setdefault("embed_type", etype)
    if etype == IMAGES:
        for image in embed.req("images", "the embedded images").items("a list of images"):
            image.as_map("an image {image, alt}")
            info = _blob(image.req("image", "the image blob"), "image")
            media.append({"type": "photo"})
            native.append({"type": "image", **info, "alt": image.opt_str("alt", "the image's alt text")})
    elif etype == VIDEO:
        info = _blob(embed.req("video", "the video blob"), "video")
        media.append({"type": "video"})
        native.append({"type": "video", **info, "alt": embed.opt_str("alt", "the video's alt text")})
    elif etype == EXTERNAL:
        external = embed.req("external", "the external link {uri, title, description}").as_map("an external link")
        uri = external.req_str("uri", "the link's URI", nonempty=True)
        if (urlsplit(uri).hostname or "").lower() in GIF_HOSTS:
            media.append({"type": "graphic"})
            native.append({"type": "gif", "url": uri, "alt": external.opt_str("description")})
        else:
            links.append(uri)
            extra["card"] = {"url": uri, "title": external.opt_str("title"),
                             "description": external.opt_str("description")}
    elif etype == RECORD:
        strong = embed.req("record", "the embedded record {uri, cid}").as_map("a strong ref {uri, cid}")
        uri = strong.req_str("uri", "the embedded record's URI")
        _, collection, _ = _parse_uri(strong.req("uri"))
        if collection == POST:
            extra["quote_of"] = uri
        else:
            extra["embedded_record"] = uri
    elif etype == RECORD_WITH_MEDIA:
        inner = embed.req("record", "the embedded record").as_map("an app.bsky.embed.record")
        if not inner.has("$type"):  # tolerate the $type being left out of the nested embed
            inner = Node(NAME, {"$type": RECORD, **inner.value}, inner.path)
        _embed(inner, media, native, links, extra)
        _embed(embed.req("media", "the embedded media"), media, native, links, extra)
    # other (future) embed types carry no media policykit knows of; the type stays in extra.embed_type


def _created_at(record: Node, ref: _Ref, extra: dict[str, Any] | None = None) -> str | None:
    """The record's `createdAt` in UTC. Without a time zone it is read as UTC; missing or no timestamp
    at all, the time the network saw the record stands in (None when there is none). Either way the
    record is judged, and `extra` (when given) says what was assumed."""
    node = record.opt("createdAt")
    raw = node.value if node is not None else None
    if isinstance(raw, str):
        try:
            dt = datetime.fromisoformat(raw.strip())
        except ValueError:
            dt = None
        if dt is not None:
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=timezone.utc)
                if extra is not None:
                    extra["time_zone_assumed"] = "UTC"
            try:
                return render_utc(dt)
            except (OverflowError, ValueError):  # year 1 or 9999 shifted out of range by its offset
                pass
    if extra is not None:
        extra["created_at_invalid"] = ((raw[:64] if raw.strip() else "(empty)") if isinstance(raw, str) else
                                       "(missing)" if raw is None else f"(a {type(raw).__name__})")
    return ref.time or ref.meta.get("indexed_at")


def _post(record: Node, ref: _Ref, *, op: str, city: CityAccounts) -> dict:
    text = record.req_str("text", "the post text (a string)")
    extra: dict[str, Any] = {}
    at = _created_at(record, ref, extra)
    facets, links, mentions, tags = _facets(record, text)
    media: list[dict] = []
    native_media: list[dict] = []
    embed = record.opt("embed")
    if embed is not None:
        _embed(embed, media, native_media, links, extra)

    reply = record.opt("reply")
    parent_uri = root_uri = parent_did = root_did = None
    if reply is not None:
        reply.as_map("the reply refs {root, parent}")
        root_ref = reply.req("root", "the thread root {uri, cid}").as_map("a strong ref {uri, cid}")
        parent_ref = reply.req("parent", "the parent post {uri, cid}").as_map("a strong ref {uri, cid}")
        root_did, _, _ = _parse_uri(root_ref.req("uri", "the thread root's URI"))
        parent_did, _, _ = _parse_uri(parent_ref.req("uri", "the parent post's URI"))
        root_uri, parent_uri = root_ref.req_str("uri"), parent_ref.req_str("uri")

    self_labels = []
    labels = record.opt("labels")
    if labels is not None:
        for value in labels.as_map("self labels {values}").opt_list("values", "a list of labels"):
            self_labels.append(value.as_map("a label {val}").req_str("val", "the label's value"))
    langs = [lang.as_str("a language tag") for lang in record.opt_list("langs", "a list of language tags")]
    record_tags = [tag.as_str("a tag") for tag in record.opt_list("tags", "a list of tags")]

    is_city = _is_city(ref.did, ref.handle, city)
    original = "quote_of" not in extra
    if is_city:
        kind = "post"
        where = account(NAME, id=ref.did, handle=ref.handle, name=ref.display_name)
    else:
        kind = "comment"
        where = None
        if parent_did is not None:
            owner = parent_did
            if not city.matches(parent_did) and city.matches(root_did):
                owner = root_did
            where = account(NAME, id=owner)
        else:
            mentioned = next((d for d in mentions if city.matches(d)), None)
            if mentioned is not None:
                where = account(NAME, id=mentioned)

    hidden = ref.meta.pop("hidden", None)
    extra.update({
        "native": {"uri": ref.uri, "cid": ref.cid, "did": ref.did, "rkey": ref.rkey,
                   **{k: v for k, v in ref.meta.items() if v is not None and k != "moderation_labels"}},
        "operation": op,
        "edited": op == "update",
        "deleted": False,
        "hidden": hidden,
        "author_handle": ref.handle,
        "in_reply_to": parent_uri,
        "thread_root": root_uri,
        "facets": facets or None,
        "mentions": mentions or None,
        "tags": (tags + [t for t in record_tags if t not in tags]) or None,
        "langs": langs or None,
        "self_labels": self_labels or None,
        "moderation_labels": ref.meta.get("moderation_labels"),
        "media": native_media or None,
    })
    extra["native"] = {k: v for k, v in extra["native"].items() if v is not None}
    if native_media:
        extra["media"] = [{k: v for k, v in m.items() if v is not None} for m in native_media]
    return content_event(kind=kind, platform=NAME, id=ref.uri, at=at, text=text, links=links, media=media,
                         author=_author(ref, city), account=where, original=original, extra=extra)


adapter = ModuleAdapter(NAME, FACTS, convert)


def adapt(payload: Mapping[str, Any], *, city_accounts: frozenset[str] = frozenset()) -> list[dict]:
    """The events in one Bluesky payload; raises if any item of it is refused (see `convert`)."""
    return adapter.adapt(payload, city_accounts=city_accounts)
