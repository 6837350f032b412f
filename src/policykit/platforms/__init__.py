"""Built-in platform adapters: a platform's native payload in, contract-shaped policykit event dicts out.

    >>> from policykit.platforms import from_platform
    >>> events = from_platform("mastodon", status, city_accounts=frozenset({"cityofexample@mastodon.social"}))

Each adapter has a `name`, its platform `facts` (a `PlatformFacts`) and
`adapt(payload, *, city_accounts=frozenset()) -> list[dict]`; one payload may hold several events (a
webhook delivery batches changes), or none (a like, a boost by someone else). Malformed payloads raise
`PlatformPayloadError` naming the field path. The mapping of every platform is in docs/platforms.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import bluesky, facebook, mastodon, x
from .base import Adapter, PlatformFacts, PlatformPayloadError

__all__ = [
    "Adapter",
    "BUILTIN_ADAPTERS",
    "PlatformFacts",
    "PlatformPayloadError",
    "UnknownPlatformError",
    "available_adapters",
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
