"""What every platform adapter shares: the error, the platform facts, payload reading and event building.

An adapter turns one native payload (a webhook delivery, an API response, a stream message) into a list
of policykit event dicts shaped as in the public contract: only the contract's fields at the top level,
everything platform-specific under `extra`. Payload reading goes through `Node`, which remembers the
path it came from, so every malformed or missing field is reported as
`PlatformPayloadError(platform, "entry[0].changes[1].value.message", "a string")`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol, runtime_checkable

from ..errors import EventError, FieldProblem

__all__ = [
    "Adapter",
    "Converted",
    "Node",
    "Page",
    "PlatformPageError",
    "PlatformFacts",
    "PlatformPayloadError",
    "CityAccounts",
    "action_event",
    "content_event",
    "dedupe",
    "iso_from_unix",
    "iso_timestamp",
    "render_utc",
    "urls_in_text",
    "withdrawal_type",
]

class PlatformPayloadError(EventError):
    """A platform payload that is missing a field or has one of the wrong shape.

    `.platform` is the adapter's name, `.path` the field path inside the payload (for example
    `entry[0].changes[1].value.message`; the empty string means the payload itself) and `.expected`
    what the adapter needed there. It is a `policykit.EventError` (so a ValueError) whose `.problems`
    holds that one field.
    """

    def __init__(self, platform: str, path: str, expected: str, *, got: Any = ...) -> None:
        got_text = _describe(got) if got is not ... else None
        where = path or "(payload)"
        message = f"{platform} payload: {where}: expected {expected}"
        if got_text is not None:
            message += f", got {got_text}"
        super().__init__([FieldProblem(path, expected, got_text)])
        self.args = (message,)
        self.platform = platform
        self.expected = expected
        self.got = got_text
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # picklable despite the keyword-only argument
        return (_rebuild_error, (self.platform, self.path, self.expected, self.message))


def _rebuild_error(platform: str, path: str, expected: str, message: str) -> PlatformPayloadError:
    err = PlatformPayloadError(platform, path, expected)
    err.message = message
    err.args = (message,)
    err.got = message.rpartition(", got ")[2] if ", got " in message else None
    return err


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


class PlatformPageError(PlatformPayloadError):
    """Some items of a page (an X response with several tweets, a webhook delivery batching changes, a
    firehose commit with several operations) could not be converted; the others could.

    Raised by `adapt` / `from_platform`, which promise every event or an error. It describes the first
    refused item (`.path`, `.expected`, like any PlatformPayloadError); `.events` holds the events the
    other items became, in order, and `.failures` every refused item (`Converted` with its `index` and
    `error`). Streams use `policykit.platforms.convert`, which answers item by item instead.
    """

    def __init__(self, first: PlatformPayloadError, events: list[dict], failures: list["Converted"]) -> None:
        super().__init__(first.platform, first.path, first.expected)
        self.got = first.got
        self.problems = first.problems
        self.events = events
        self.failures = failures
        self.message = (f"{first.message} ({len(failures)} item(s) of the payload refused; the events of "
                        f"the others are in .events)")
        self.args = (self.message,)

    def __reduce__(self):  # the plain error's shape: the events stay with the raising side
        return (_rebuild_error, (self.platform, self.path, self.expected, self.message))


@dataclass(frozen=True, slots=True)
class Converted:
    """One result of converting a payload item by item: an event, or why one item could not be one.

    `index` is the item's position among the payload's items (the tweets of a response, the changes of
    a delivery across its entries, the operations of a commit, the posts of a thread) or None for a
    payload that is one item; `path` is where the item is in the payload (`data[17]`).
    """

    index: int | None
    path: str
    event: dict | None = None
    error: PlatformPayloadError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


#: What an adapter may raise on a payload it did not foresee (besides PlatformPayloadError): refused as
#: that item's error (see `unexpected`), never a crash of the stream.
ADAPTER_FAULTS = (ValueError, TypeError, LookupError, AttributeError, RecursionError, ArithmeticError)


def unexpected(platform: str, path: str, exc: BaseException) -> PlatformPayloadError:
    """An item that made an adapter fail in a way it did not foresee (a RecursionError on a payload
    nested absurdly deep, a bug): refused like a malformed item, never a crash of the stream."""
    return PlatformPayloadError(platform, path, f"an item the {platform} adapter can read "
                                                f"(it raised {type(exc).__name__})")


class Page:
    """The conversions of one payload's items, each item on its own: a bad item is refused alone (its
    error in its place) and the rest of the page goes on."""

    __slots__ = ("platform", "results", "count")

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.results: list[Converted] = []
        self.count = 0

    def add(self, node: Node, convert: Callable[[], Iterable[dict] | dict | None], *,
            indexed: bool = True) -> None:
        """Convert one item (`convert()` gives its events, one event or None) and keep the result."""
        index = self.count if indexed else None
        self.count += 1
        try:
            produced = convert()
        except PlatformPayloadError as exc:
            self.results.append(Converted(index, node.path, error=exc))
            return
        except ADAPTER_FAULTS as exc:
            self.results.append(Converted(index, node.path, error=unexpected(self.platform, node.path, exc)))
            return
        if produced is None:
            return
        for event in [produced] if isinstance(produced, Mapping) else produced:
            self.results.append(Converted(index, node.path, event=event))

    def extend(self, results: Iterable[Converted]) -> None:
        self.results.extend(results)



def strict(results: list[Converted]) -> list[dict]:
    """The events of a conversion; raises when any item was refused (see PlatformPageError)."""
    failures = [r for r in results if r.error is not None]
    events = [r.event for r in results if r.event is not None]
    if not failures:
        return events
    first = failures[0].error
    assert first is not None
    if failures[0].index is None and not events and len(failures) == 1:
        raise first
    raise PlatformPageError(first, events, failures)


@dataclass(frozen=True, slots=True)
class PlatformFacts:
    """What a platform allows, for policies and linters that reason about it (all limits as published)."""

    name: str
    title: str
    max_text_length: int | None
    supports_edit: bool
    text_length_unit: str = "characters"
    max_comment_length: int | None = None
    edit_window_seconds: int | None = None
    supports_delete: bool = True
    supports_hide_comments: bool = False
    max_media: int | None = None
    media_types: frozenset[str] = frozenset()
    api_reference: str = ""
    notes: tuple[str, ...] = field(default=())


@runtime_checkable
class Adapter(Protocol):
    """Turns one native payload of a platform into policykit event dicts. Must be stateless."""

    name: str
    facts: PlatformFacts

    def adapt(self, payload: Mapping[str, Any], *, city_accounts: frozenset[str] = frozenset()) -> list[dict]:
        ...


@dataclass(frozen=True)
class ModuleAdapter:
    """A built-in adapter: a platform module's `convert` function (item by item) with its name and
    facts; `adapt` is the same conversion, all or an error (PlatformPageError when only some items fail).
    Plugin adapters may offer `convert` too; `policykit.platforms.convert` uses it when they do."""

    name: str
    facts: PlatformFacts
    function: Callable[..., list[Converted]]

    def convert(self, payload: Mapping[str, Any], *, city_accounts: frozenset[str] = frozenset()) -> list[Converted]:
        CityAccounts(city_accounts)  # a caller's mistake (a single string) is a TypeError, not the payload's
        try:
            return self.function(payload, city_accounts=city_accounts)
        except PlatformPayloadError as exc:
            return [Converted(None, exc.path, error=exc)]
        except ADAPTER_FAULTS as exc:
            return [Converted(None, "", error=unexpected(self.name, "", exc))]

    def adapt(self, payload: Mapping[str, Any], *, city_accounts: frozenset[str] = frozenset()) -> list[dict]:
        results = self.convert(payload, city_accounts=city_accounts)
        return strict(results)

    def __repr__(self) -> str:
        return f"<policykit platform adapter {self.name!r}>"


# --------------------------------------------------------------------------------------------------
# Reading payloads with field paths


class Node:
    """A value inside a payload together with its path; every accessor raises PlatformPayloadError."""

    __slots__ = ("platform", "value", "path")

    def __init__(self, platform: str, value: Any, path: str = "") -> None:
        self.platform = platform
        self.value = value
        self.path = path

    def __repr__(self) -> str:
        return f"Node({self.platform!r}, {self.path or '(payload)'!r})"

    # paths
    def _key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, expected: str, *, got: Any = ...) -> PlatformPayloadError:
        return PlatformPayloadError(self.platform, self.path, expected, got=got)

    # structure
    def as_map(self, expected: str = "an object") -> Node:
        if not isinstance(self.value, Mapping):
            raise self.error(expected, got=self.value)
        return self

    def has(self, key: str) -> bool:
        return isinstance(self.value, Mapping) and self.value.get(key) is not None

    def req(self, key: str, expected: str = "a value") -> Node:
        """The child `key`; missing or null raises."""
        self.as_map()
        value = self.value.get(key)
        if value is None:
            raise self.missing(key, expected)
        return Node(self.platform, value, self._key_path(key))

    def missing(self, key: str, expected: str) -> PlatformPayloadError:
        """The error for a required child `key` that is absent."""
        return PlatformPayloadError(self.platform, self._key_path(key), expected)

    def opt(self, key: str) -> Node | None:
        """The child `key`, or None when it is missing or null."""
        self.as_map()
        value = self.value.get(key)
        if value is None:
            return None
        return Node(self.platform, value, self._key_path(key))

    def items(self, expected: str = "a list") -> list[Node]:
        if not isinstance(self.value, (list, tuple)):
            raise self.error(expected, got=self.value)
        return [Node(self.platform, v, f"{self.path}[{i}]") for i, v in enumerate(self.value)]

    # scalars
    def as_str(self, expected: str = "a string", *, nonempty: bool = False) -> str:
        if not isinstance(self.value, str) or (nonempty and not self.value.strip()):
            raise self.error(expected, got=self.value)
        return self.value

    def as_id(self, expected: str = "an id (string or integer)") -> str:
        """Native ids: strings, or integers (some APIs send numbers); always returned as a string."""
        value = self.value
        if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, str) and not value.strip()):
            raise self.error(expected, got=value)
        return str(value)

    def as_bool(self, expected: str = "a boolean") -> bool:
        value = self.value
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):  # Facebook sends published: 0/1
            return bool(value)
        raise self.error(expected, got=value)

    def as_number(self, expected: str = "a number") -> float:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(expected, got=value)
        return value

    # convenience
    def req_str(self, key: str, expected: str = "a string", *, nonempty: bool = False) -> str:
        return self.req(key, expected).as_str(expected, nonempty=nonempty)

    def opt_str(self, key: str, expected: str = "a string") -> str | None:
        node = self.opt(key)
        return None if node is None else node.as_str(expected)

    def req_id(self, key: str, expected: str = "an id (string or integer)") -> str:
        return self.req(key, expected).as_id(expected)

    def opt_id(self, key: str, expected: str = "an id (string or integer)") -> str | None:
        node = self.opt(key)
        return None if node is None else node.as_id(expected)

    def opt_list(self, key: str, expected: str = "a list") -> list[Node]:
        node = self.opt(key)
        return [] if node is None else node.items(expected)

    def opt_bool(self, key: str, expected: str = "a boolean") -> bool | None:
        node = self.opt(key)
        return None if node is None else node.as_bool(expected)

    def timestamp(self, expected: str = "an ISO 8601 timestamp with a time zone") -> str:
        return iso_timestamp(self, expected)


# --------------------------------------------------------------------------------------------------
# Timestamps, links, city accounts

_ISO_EXPECTED = "an ISO 8601 timestamp with a time zone"


def render_utc(dt: datetime) -> str:
    """A timezone-aware datetime as ISO 8601 UTC with a Z (milliseconds only when there is a fraction)."""
    dt = dt.astimezone(timezone.utc)
    spec = "milliseconds" if dt.microsecond else "seconds"
    return dt.isoformat(timespec=spec).replace("+00:00", "Z")


def iso_timestamp(node: Node, expected: str = _ISO_EXPECTED) -> str:
    """A native ISO 8601 timestamp, normalised to UTC (`2024-05-01T12:00:00.250Z`)."""
    raw = node.as_str(expected)
    try:
        dt = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise node.error(expected, got=raw) from None
    if dt.tzinfo is None:
        raise node.error(expected, got=raw)
    try:
        return render_utc(dt)
    except (OverflowError, ValueError):  # year 1 or 9999 pushed off the calendar by its UTC offset
        raise node.error(expected + " within years 1 to 9999 in UTC", got=raw) from None


def iso_from_unix(node: Node, expected: str = "a Unix time in seconds") -> str:
    """A Unix time in seconds (an integer; a numeric string is accepted) as an ISO 8601 UTC timestamp."""
    value = node.value
    if isinstance(value, str) and re.fullmatch(r"\d{1,12}(\.\d+)?", value.strip()):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e11:
        raise node.error(expected, got=node.value)
    return render_utc(datetime.fromtimestamp(value, tz=timezone.utc))


_URL = re.compile(r"https?://[^\s<>\"'\u00a0\u3000]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\"*"
_PAIRS = {")": "(", "]": "[", "}": "{"}


def urls_in_text(text: str) -> list[str]:
    """http(s) URLs written in plain text, without trailing sentence punctuation."""
    found = []
    for match in _URL.finditer(text):
        url = match.group(0)
        while url:
            last = url[-1]
            if last in _TRAILING:
                url = url[:-1]
            elif last in _PAIRS and url.count(_PAIRS[last]) < url.count(last):
                url = url[:-1]
            else:
                break
        if len(url) > len("https://"):
            found.append(url)
    return found


def dedupe(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        if value and value not in seen:
            seen.add(value)
            out.append(value)
    return out


def _norm(name: str) -> str:
    return name.strip().lstrip("@").casefold()


class CityAccounts:
    """The caller's set of city account ids and handles; matching ignores case and a leading '@'."""

    __slots__ = ("_names",)

    def __init__(self, names: Iterable[str] | None) -> None:
        if names is None:
            names = ()
        if isinstance(names, (str, bytes)):
            raise TypeError("city_accounts must be a collection of account ids or handles, not a single string")
        cleaned = set()
        for name in names:
            if isinstance(name, int) and not isinstance(name, bool):
                name = str(name)
            if not isinstance(name, str):
                raise TypeError(f"city_accounts entries must be strings, got {type(name).__name__}")
            if _norm(name):
                cleaned.add(_norm(name))
        self._names = frozenset(cleaned)

    def __bool__(self) -> bool:
        return bool(self._names)

    def matches(self, *candidates: str | None) -> bool:
        return any(c is not None and _norm(c) in self._names for c in candidates)


# --------------------------------------------------------------------------------------------------
# Building contract-shaped events

_ACCOUNT_KEYS = ("id", "platform", "handle", "name")


def _clean(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


def _clean_extra(extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """`extra` without null entries, its `native` ids included."""
    cleaned = _clean(extra or {})
    if isinstance(cleaned.get("native"), Mapping):
        cleaned["native"] = _clean(cleaned["native"])
    return cleaned


def actor(id: str | None, name: str | None, *, city: bool) -> dict[str, Any]:
    """An Actor: the contract's `role` is `staff` for a city account, `public` otherwise."""
    return _clean({"id": id, "name": name, "role": "staff" if city else "public"})


def account(platform: str, id: str | None = None, handle: str | None = None, name: str | None = None) -> dict[str, Any]:
    return _clean({"id": id, "platform": platform, "handle": handle, "name": name})


def content_event(
    *,
    kind: str,
    platform: str,
    id: str | None,
    at: str | None,
    text: str | None,
    links: list[str] | None = None,
    media: list[dict[str, Any]] | None = None,
    author: dict[str, Any] | None = None,
    account: dict[str, Any] | None = None,
    original: bool | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A `post` or `comment` event; `original` is only emitted for posts."""
    if kind not in ("post", "comment"):
        raise ValueError(f"content events are posts or comments, not {kind!r}")
    event: dict[str, Any] = {"kind": kind, "id": id, "platform": platform, "at": at, "text": text}
    if links is not None:
        event["links"] = dedupe(links)
    if media is not None:
        event["media"] = media
    event["author"] = author
    event["account"] = account
    if kind == "post" and original is not None:
        event["original"] = original
    event["extra"] = _clean_extra(extra)
    return _clean(event)


#: A member of the public deleting their own comment (post, reply) on the platform. It is that person's
#: own act, not the city's: a city moderation action on a comment is `delete_comment` (by the city).
#: No bundled policy has a rule on it, so it is allowed; a policy can judge it (`action type`).
WITHDRAW_COMMENT = "withdraw_comment"


def withdrawal_type(kind: str) -> str:
    """The action type of an author deleting their own content: `delete_post` for the city's own post
    (a city act policies judge: records, retention), `withdraw_comment` for anyone else's."""
    return "delete_post" if kind == "post" else WITHDRAW_COMMENT


def action_event(
    *,
    type: str,
    platform: str,
    target: dict[str, Any] | None,
    actor: dict[str, Any] | None,
    id: str | None = None,
    at: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    action = _clean({"type": type, "target": target})
    event = {"kind": "action", "id": id, "platform": platform, "at": at, "action": action, "actor": actor}
    event["extra"] = _clean_extra(extra)
    return _clean(event)
