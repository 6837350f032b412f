"""Facebook Page webhooks (`object: "page"`, `entry[].changes[]` with `field: "feed"`) to policykit events.

One delivery may batch several entries and changes; each feed change about content becomes one event,
in delivery order. See docs/platforms.md for the full mapping table. In short:

* `add` / `edited` of a comment, post, status, photo, video or share becomes a `comment` or a `post`:
  a `post` when the author (`from.id`) is the page itself (`entry[].id`) or one of `city_accounts`, a
  `comment` otherwise (a visitor post on the page is public content, so it is a comment too).
* `hide`, `unhide` and `remove` become an `action` by the page (`hide_comment`, `unhide_comment`,
  `delete_comment`, or `..._post` when the hidden or removed item is the city's own content) whose
  `target` is the affected item as far as the webhook describes it. Only a page can hide, so `hide` and
  `unhide` are always the page's. The webhook does not say who removed an item: policykit assumes the
  page did (the cautious reading for records and moderation rules) and marks `extra.actor_inferred`.
* Other feed items (reactions, likes, ratings, ...) and other fields (mention, name, ...) yield nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    iso_from_unix,
    iso_timestamp,
    urls_in_text,
)

NAME = "facebook"

FACTS = PlatformFacts(
    name=NAME,
    title="Facebook Pages",
    max_text_length=63206,
    max_comment_length=8000,
    supports_edit=True,
    supports_delete=True,
    supports_hide_comments=True,
    max_media=None,
    media_types=frozenset({"photo", "video"}),
    api_reference="https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed",
    notes=(
        "Page posts and comments can be edited at any time; edits keep the same id.",
        "A page can hide a comment (hidden from everyone but its author and friends) or delete it.",
        "The webhook's created_time is a Unix time in seconds.",
    ),
)

CONTENT_ITEMS = frozenset({"comment", "post", "status", "photo", "video", "share"})
CONTENT_VERBS = {"add": False, "edited": True, "edit": True, "update": True}  # verb -> edited
ACTION_VERBS = {"hide": "hide", "unhide": "unhide", "remove": "delete"}
SKIPPED_VERBS = frozenset({"block", "unblock", "mute", "unmute"})
_VERBS = ", ".join(sorted({*CONTENT_VERBS, *ACTION_VERBS, *SKIPPED_VERBS}))


def convert(payload: Mapping[str, Any], *, city_accounts: frozenset[str] = frozenset()) -> list[Converted]:
    """Every content event in one Page webhook delivery, in delivery order, change by change: a change
    that cannot be read is refused alone (its index counts the changes across entries)."""
    city = CityAccounts(city_accounts)
    root = Node(NAME, payload).as_map("a Page webhook delivery (a JSON object)")
    obj = root.req_str("object", 'the string "page"')
    if obj != "page":
        raise root.req("object").error('"page" (a Page webhook; other objects are not supported)', got=obj)
    page = Page(NAME)
    for entry in root.req("entry", "a list of entries").items("a list of entries"):
        entry.as_map("an entry object")
        page_id = entry.req_id("id", "the page id")
        entry_time = entry.opt("time")
        for change in entry.req("changes", "a list of changes").items("a list of changes"):
            page.add(change, lambda c=change: _feed_change(c, page_id, entry_time, city))
    return page.results


def _feed_change(change: Node, page_id: str, entry_time: Node | None, city: CityAccounts) -> dict | None:
    change.as_map("a change object")
    if change.req_str("field", "the changed field's name") != "feed":
        return None
    return _change(change.req("value", "the change's value object").as_map(), page_id, entry_time, city)


def _change(value: Node, page_id: str, entry_time: Node | None, city: CityAccounts) -> dict | None:
    item = value.req_str("item", "the feed item type")
    verb = value.req_str("verb", "the feed verb")
    if item not in CONTENT_ITEMS:
        return None
    if verb in SKIPPED_VERBS:
        return None
    if verb not in CONTENT_VERBS and verb not in ACTION_VERBS:
        raise value.req("verb").error(f"one of {_VERBS}", got=verb)

    author_node = value.opt("from")
    author_id = author_name = None
    if author_node is not None:
        author_node.as_map("the author object {id, name}")
        author_id = author_node.req_id("id", "the author's id")
        author_name = author_node.opt_str("name")
    is_city = author_id is not None and (author_id == page_id or city.matches(author_id))
    kind = "post" if is_city else "comment"

    native = _native_ids(value, page_id)
    message = value.opt_str("message", "the message text (a string)")
    page_account = account(NAME, id=page_id, name=author_name if author_id == page_id else None)
    author = actor(author_id, author_name, city=is_city) if author_id is not None else None

    if verb in CONTENT_VERBS:
        id_field = "comment_id" if item == "comment" else "post_id"
        content_id = value.req_id(id_field, f"the {id_field} of the {item}")
        at = _time(value.req("created_time", "the creation time (Unix seconds)"))
        text = message or ""
        media, media_extra, links = _attachments(value, item)
        extra: dict[str, Any] = {
            "native": native,
            "item": item,
            "verb": verb,
            "edited": CONTENT_VERBS[verb],
            "deleted": False,
            "hidden": False,
            "media": media_extra or None,
        }
        if item == "comment":
            parent = native.get("parent_id")
            extra["in_reply_to"] = parent
            extra["reply_to_comment"] = parent is not None and parent != native.get("post_id")
        published = value.opt_bool("published", "published as 0 or 1")
        if published is not None:
            extra["published"] = published
        post_info = value.opt("post")
        if post_info is not None:
            post_info.as_map("the post object")
            extra["permalink"] = post_info.opt_str("permalink_url")
            extra["status_type"] = post_info.opt_str("status_type")
        original = not (item == "share" or extra.get("status_type") == "shared_story")
        return content_event(
            kind=kind,
            platform=NAME,
            id=content_id,
            at=at,
            text=text,
            links=links + urls_in_text(text),
            media=media,
            author=author,
            account=page_account,
            original=original,
            extra=extra,
        )

    # hide / unhide / remove: an action by the page on the item
    op = ACTION_VERBS[verb]
    id_field = "comment_id" if item == "comment" else "post_id"
    target_id = value.req_id(id_field, f"the {id_field} of the {item}")
    target_extra = {
        "native": native,
        "item": item,
        "deleted": op == "delete",
        "hidden": op == "hide",
    }
    target: dict[str, Any] = {"kind": kind, "id": target_id, "platform": NAME}
    if message is not None:
        target["text"] = message
    if author is not None:
        target["author"] = author
    target["account"] = page_account
    target["extra"] = target_extra
    time_node = value.opt("created_time") or entry_time
    at = _time(time_node) if time_node is not None else None
    inferred = op == "delete" and not is_city
    return action_event(
        type=f"{op}_{kind}",
        platform=NAME,
        id=f"{target_id}:{verb}",
        at=at,
        target=target,
        actor=actor(page_id, None, city=True),
        extra={"native": native, "item": item, "verb": verb, "actor_inferred": inferred},
    )


_TIME_EXPECTED = "a Unix time in seconds (or a Graph API ISO 8601 timestamp)"


def _time(node: Node) -> str:
    """Webhooks send Unix seconds; Graph API objects ISO 8601 with +0000. Both are accepted."""
    if isinstance(node.value, str) and "T" in node.value:
        return iso_timestamp(node, _TIME_EXPECTED)
    return iso_from_unix(node, _TIME_EXPECTED)


def _native_ids(value: Node, page_id: str) -> dict[str, str]:
    native = {"page_id": page_id}
    for key in ("post_id", "comment_id", "parent_id", "photo_id", "video_id", "share_id"):
        ident = value.opt_id(key, f"the {key}")
        if ident is not None:
            native[key] = ident
    return native


def _attachments(value: Node, item: str) -> tuple[list[dict], list[dict], list[str]]:
    """Media (contract shape), native media details (for extra) and links of one feed item."""
    media: list[dict] = []
    native: list[dict] = []
    links: list[str] = []
    link = value.opt_str("link", "the link URL (a string)")
    if item == "photo":
        media.append({"type": "photo"})
        native.append({"type": "photo", "url": link, "photo_id": value.opt_id("photo_id")})
    elif item == "video":
        media.append({"type": "video"})
        native.append({"type": "video", "url": link, "video_id": value.opt_id("video_id")})
    elif link is not None:
        links.append(link)
    for photo in value.opt_list("photos", "a list of photo URLs"):
        media.append({"type": "photo"})
        native.append({"type": "photo", "url": photo.as_str("a photo URL")})
    # a comment carrying a photo, sticker or GIF, or a video
    photo = value.opt_str("photo", "the attached photo's URL")
    if photo is not None and item != "photo":
        media.append({"type": "photo"})
        native.append({"type": "photo", "url": photo})
    video = value.opt_str("video", "the attached video's URL")
    if video is not None and item != "video":
        media.append({"type": "video"})
        native.append({"type": "video", "url": video})
    return media, [{k: v for k, v in m.items() if v is not None} for m in native], links


adapter = ModuleAdapter(NAME, FACTS, convert)


def adapt(payload: Mapping[str, Any], *, city_accounts: frozenset[str] = frozenset()) -> list[dict]:
    """Every content event in one delivery; raises if any change is refused (see `convert`)."""
    return adapter.adapt(payload, city_accounts=city_accounts)
