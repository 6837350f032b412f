"""One line of a JSON Lines stream in; what to answer for it out: its events, or why it has none.

`policykit moderate` and `policykit check` read streams a line at a time, and a stream must never stop
at a line: not JSON, nested 1,000 deep, an integer of 5,000 digits, a lone surrogate, a platform
payload an adapter refuses (or, in a page of 112 tweets, one tweet it refuses). `line_items` turns
any line into `LineItem`s: an event to judge, or a `Rejected` to answer (with the line number and,
inside a page, the item's index) and to record, and never raises for what the line holds.

    for item in line_items(raw, 7, platform="x", city_accounts=frozenset({"CityOfExample"})):
        ...   # item.event (a dict) or item.rejected (why), item.where == {"line": 7, "index": 2}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

#: The longest line that is read as an event (16 MiB); a longer one is rejected without being parsed.
MAX_LINE = 16 * 2**20
#: The most of a rejected input kept in its record.
REJECTED_INPUT_LIMIT = MAX_LINE

try:
    from orjson import loads as _loads  # bounded depth (1024), and no integers beyond what JSON numbers hold
except ImportError:  # pragma: no cover - orjson is a dependency
    _loads = json.loads

__all__ = ["LineItem", "MAX_LINE", "Rejected", "as_text", "decode", "decode_line", "line_items", "not_json", "payload_items",
           "too_long"]


@dataclass(slots=True)
class Rejected:
    """An input that is not an event policykit can judge: a line that is not JSON, a payload or one
    item of it that an adapter refused, an event that raised. It is answered with an error in its
    place and recorded as `rejected` (`Moderator.handle_many`); `input` is what was received (text),
    `where` where it was (`line`, `index`)."""

    error: str
    path: str | None = None
    input: str | None = None
    where: dict[str, Any] | None = None
    cause: BaseException | None = field(default=None, repr=False)

    @classmethod
    def of(cls, exc: BaseException, value: Any = None, where: dict[str, Any] | None = None) -> "Rejected":
        """The rejection of `value`, which raised `exc`: an EventError says what and where; anything
        else is named by its type (the event provoked a fault, and is refused rather than judged)."""
        from .errors import EventError

        if isinstance(exc, EventError):
            message, path = str(exc), getattr(exc, "path", None)
        else:
            message, path = f"this event could not be judged ({type(exc).__name__}: {_short(exc)})", None
        return cls(message, path, as_text(value), where, exc)

    def digest(self) -> str:
        """What identifies the same rejection again (a replay): the input and the item's index in it."""
        index = (self.where or {}).get("index")
        basis = self.input if self.input is not None else f"{self.error}\0{self.path}"
        if index is not None:
            basis += f"\0{index}"
        return sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()

    def record(self) -> dict[str, Any]:
        """The content of its `rejected` record."""
        return {"error": self.error, "path": self.path, **(self.where or {}), "input": self.input}


@dataclass(slots=True)
class LineItem:
    """What one line (or one item of the page on it) comes to: an event, or a rejection."""

    where: dict[str, Any]
    event: Any = None
    rejected: Rejected | None = None


def _short(exc: BaseException, limit: int = 200) -> str:
    try:
        text = str(exc)
    except Exception:  # an exception whose message itself fails
        text = ""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def as_text(value: Any) -> str | None:
    """An input as text for its record: as received when it is text or bytes, else its JSON (ASCII, so
    a lone surrogate survives); None when even that fails (too deep, an integer too long to print)."""
    if value is None or isinstance(value, str):
        text = value
    elif isinstance(value, (bytes, bytearray, memoryview)):
        text = bytes(value[:REJECTED_INPUT_LIMIT]).decode("utf-8", "replace")
    else:
        try:
            text = json.dumps(value, ensure_ascii=True, default=repr)
        except (ValueError, TypeError, RecursionError, OverflowError):
            return None
    return text[:REJECTED_INPUT_LIMIT] if text is not None else None


def decode(raw: bytes | str) -> Any:
    """A line's JSON value (raises ValueError when it is not JSON within the limits)."""
    return _loads(raw)


def decode_line(raw: bytes | str, number: int) -> Any:
    """Line `number`'s JSON value, or its Rejected when it is not JSON within the limits: whatever a
    hostile line provokes while it is decoded is answered, never raised."""
    try:
        return decode(raw)
    except Exception as exc:  # orjson.JSONDecodeError, too deep, a number out of range, a lone surrogate ...
        return Rejected(not_json(exc), input=as_text(raw), where={"line": number}, cause=exc)


def not_json(exc: BaseException) -> str:
    """Why a line is not an event's JSON, in words."""
    detail = _short(exc)
    if isinstance(exc, RecursionError) or "depth limit" in detail or "recursion" in detail:
        return "not valid JSON: nested too deeply to be an event (more than 1,024 levels)"
    return f"not valid JSON: {detail}"


def too_long(number: int, size: int, head: bytes = b"") -> LineItem:
    """The answer for a line longer than MAX_LINE (its first bytes are kept for the record)."""
    where = {"line": number}
    return LineItem(where, rejected=Rejected(
        f"a line of {size:,} bytes, longer than the {MAX_LINE // 2**20} MiB an event may be; not read",
        input=as_text(head[:4096]), where=where))


def line_items(raw: bytes | str, number: int, *, platform: str | None = None,
               city_accounts: frozenset[str] = frozenset()) -> list[LineItem]:
    """The events on line `number` (a native payload of `platform` may hold none or several), each
    with where it came from, or their rejections. Raises only UnknownPlatformError (check the name
    first: `policykit.platforms.get_adapter`)."""
    value = decode_line(raw, number)
    if isinstance(value, Rejected):
        return [LineItem(value.where, rejected=value)]
    where: dict[str, Any] = {"line": number}
    if platform is None:
        return [LineItem(where, event=value)]
    return payload_items(value, platform, city_accounts=city_accounts, where=where, raw=raw)


def payload_items(value: Any, platform: str, *, city_accounts: frozenset[str] = frozenset(),
                  where: dict[str, Any] | None = None, raw: bytes | str | None = None) -> list[LineItem]:
    """The events of one native payload of `platform`, item by item (an item's index in `where`), or
    their rejections; `raw` is the payload as received, kept in a rejection (else its JSON)."""
    from .platforms import UnknownPlatformError, convert
    from .platforms.base import Converted, unexpected

    try:
        results = convert(platform, value, city_accounts=city_accounts)
    except UnknownPlatformError:
        raise
    except Exception as exc:  # a plugin adapter that fails: reported for this line, never a crash
        results = [Converted(None, "", error=unexpected(platform, "", exc))]
    where = where or {}
    items: list[LineItem] = []
    text: str | None = None
    for result in results:
        here = where if result.index is None else {**where, "index": result.index}
        if result.error is None:
            items.append(LineItem(here, event=result.event))
            continue
        if text is None:
            text = as_text(raw if raw is not None else value)
        items.append(LineItem(here, rejected=Rejected(str(result.error), result.error.path or None, text, here,
                                                      result.error)))
    return items
