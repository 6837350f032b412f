"""Built-in platform adapters: a platform's native payload in, contract-shaped policykit event dicts out.

    >>> from policykit.platforms import from_platform
    >>> events = from_platform("mastodon", status, city_accounts=frozenset({"cityofexample@mastodon.social"}))

Each adapter has a `name`, its platform `facts` (a `PlatformFacts`) and
`adapt(payload, *, city_accounts=frozenset()) -> list[dict]`; one payload may hold several events (a
webhook delivery batches changes), or none (a like, a boost by someone else). Malformed payloads raise
`PlatformPayloadError` naming the field path; a page of which only some items are malformed raises
`PlatformPageError`, which carries the other items' events. `convert()` answers item by item instead
(`Converted` results: an event, or one item's error with its index): what streams use, so one bad tweet
does not refuse a page of 112. The mapping of every platform is in docs/platforms.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import bluesky, facebook, mastodon, x
from .base import Adapter, Converted, PlatformFacts, PlatformPageError, PlatformPayloadError, unexpected

__all__ = [
    "Adapter",
    "BUILTIN_ADAPTERS",
    "Converted",
    "PlatformFacts",
    "PlatformPageError",
    "PlatformPayloadError",
    "UnknownPlatformError",
    "available_adapters",
    "convert",
    "from_platform",
    "get_adapter",
]

BUILTIN_ADAPTERS: dict[str, Adapter] = {
    adapter.name: adapter
    for adapter in (facebook.adapter, mastodon.adapter, bluesky.adapter, x.adapter)
}

#: Other names people use for a built-in platform.
ALIASES: dict[str, str] = {"twitter": "x", "fb": "facebook", "bsky": "bluesky"}


class UnknownPlatformError(LookupError, ValueError):
    """`from_platform` was asked for a platform no adapter handles; `.known` lists the ones that exist."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"no platform adapter named {name!r}; known platforms: {', '.join(known)}")

    def __str__(self) -> str:
        return str(self.args[0])


def get_adapter(name: str, adapters: Mapping[str, Adapter] | None = None) -> Adapter:
    """The adapter for `name` (case-insensitive; `twitter` is `x`) among `adapters` (default: the built-ins)."""
    table = BUILTIN_ADAPTERS if adapters is None else adapters
    if not isinstance(name, str):
        raise TypeError(f"a platform name must be a string, got {type(name).__name__}")
    key = name.strip().lower()
    key = ALIASES.get(key, key) if key not in table else key
    try:
        return table[key]
    except KeyError:
        raise UnknownPlatformError(name, sorted(table)) from None


def available_adapters() -> dict[str, Adapter]:
    """The built-in adapters and those plugins register (policykit_register_platforms)."""
    from ..plugins import platforms
    return {**BUILTIN_ADAPTERS, **platforms()}


def from_platform(name: str, payload: Mapping[str, Any], **options: Any) -> list[dict]:
    """Adapt one native payload of platform `name` (built-in or from a plugin); options go to the adapter."""
    return get_adapter(name, available_adapters()).adapt(payload, **options)


def convert(name: str, payload: Any, **options: Any) -> list[Converted]:
    """Adapt one native payload item by item: a `Converted` per event, and one per refused item (its
    `index` in the page and its `PlatformPayloadError`), in payload order. Never raises for the
    payload's content, whatever it is; an unknown platform name raises UnknownPlatformError."""
    adapter = get_adapter(name, available_adapters())
    by_item = getattr(adapter, "convert", None)
    if callable(by_item):
        return by_item(payload, **options)
    try:  # a plugin adapter with only `adapt`: the payload converts whole, or is refused whole
        return [Converted(None, "", event=event) for event in adapter.adapt(payload, **options)]
    except PlatformPageError as exc:
        return [*(Converted(None, "", event=event) for event in exc.events), *exc.failures]
    except PlatformPayloadError as exc:
        return [Converted(None, exc.path, error=exc)]
    except Exception as exc:  # a plugin's fault, whatever it is: refused for this payload, reported
        return [Converted(None, "", error=unexpected(adapter.name, "", exc))]
