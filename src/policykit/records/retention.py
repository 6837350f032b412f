"""Retention rules and holds.

A `RetentionRule` says how long the content of an archived item is kept. Applying it never deletes a
record: the content of each expired item (its versions, verdicts, evidence and appeals) is erased,
its hashes stay, and a `purge` record saying what was erased, when and under which rule is appended
to the chain. Items under a *hold* (a litigation hold or a pending records request) are never purged,
whatever the rule says; an appealed item is held until its appeal is resolved (`release`).

Rules are written the way a policy states them, and `RetentionRule.parse` reads that text:

    permanently                       keep everything, forever (the default)
    7 years                           7 years after the item's last activity
    90 days after event               after the time the item was published (its `at`)
    1 year after recorded             after the archive last recorded something about it
    until read                        Minnesota: "retain all social media messages only until read"
    30 days after read                ... or a grace period after it was marked read
    until read unless context.emergency   ... but keep what was done during a declared disaster
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

After = Literal["recorded", "event", "read"]
Unit = Literal["days", "months", "years"]

_RULE = re.compile(
    r"^\s*(?:retain\s+|keep\s+)?(?:"
    r"(?P<perm>permanently|forever)"
    r"|(?P<untilread>(?:only\s+)?until\s+read)"
    r"|(?P<n>\d+)\s*(?P<unit>days?|d|months?|years?|y)(?:\s+after\s+(?P<after>recorded|event|publication|"
    r"published|read|last\s+activity))?"
    r")(?:\s+unless\s+(?P<unless>[A-Za-z_][\w.]*(?:\s+or\s+[A-Za-z_][\w.]*)*))?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RetentionRule:
    """How long archived content is kept. `amount=None` keeps it permanently."""

    amount: int | None = None
    unit: Unit = "days"
    after: After = "recorded"
    source: str | None = None  # who says so, e.g. "minnesota_model" or a clause id
    unless: tuple[str, ...] = ()  # event fields that, when true, keep the item (e.g. context.emergency)

    @classmethod
    def permanent(cls, source: str | None = None) -> "RetentionRule":
        return cls(None, source=source)

    @classmethod
    def until_read(cls, source: str | None = None) -> "RetentionRule":
        return cls(0, "days", "read", source)

    @classmethod
    def parse(cls, text: "str | RetentionRule | None", source: str | None = None) -> "RetentionRule":
        """Read `permanently`, `7 years`, `90 days after event`, `until read`, ... (see module doc)."""
        if text is None:
            return cls.permanent(source)
        if isinstance(text, RetentionRule):
            return text
        m = _RULE.match(str(text))
        if not m:
            raise ValueError(f"retention {text!r} is not understood; write e.g. 'permanently', '7 years', "
                             "'90 days after event' or 'until read'")
        unless = tuple(p.strip() for p in re.split(r"\s+or\s+", m["unless"], flags=re.I)) if m["unless"] else ()
        if m["perm"]:
            return cls.permanent(source)
        if m["untilread"]:
            return cls(0, "days", "read", source, unless)
        unit = m["unit"].lower()
        unit = "days" if unit.startswith("d") else "months" if unit.startswith("m") else "years"
        after = (m["after"] or "recorded").lower()
        after = {"publication": "event", "published": "event"}.get(after, after)
        if after.startswith("last"):
            after = "recorded"
        return cls(int(m["n"]), unit, after, source, unless)  # type: ignore[arg-type]

    @property
    def is_permanent(self) -> bool:
        return self.amount is None

    def cutoff(self, now: datetime) -> datetime | None:
        """Items whose reference time is before the cutoff have expired; None: nothing ever expires."""
        if self.amount is None:
            return None
        if self.unit == "days":
            return now - timedelta(days=self.amount)
        months = self.amount * (12 if self.unit == "years" else 1)
        y, m = divmod(now.month - 1 - months, 12)
        year, month = now.year + y, m + 1
        day = min(now.day, _days_in_month(year, month))
        return now.replace(year=year, month=month, day=day)

    def __str__(self) -> str:
        if self.amount is None:
            return "permanently"
        if self.after == "read" and self.amount == 0:
            text = "until read"
        else:
            unit = self.unit[:-1] if self.amount == 1 else self.unit
            text = f"{self.amount} {unit} after {self.after}"
        return text + (" unless " + " or ".join(self.unless) if self.unless else "")

    def exempts(self, event: Any) -> bool:
        """Whether the item's event keeps it whatever the period (an `unless` field is true)."""
        for path in self.unless:
            value: Any = event
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value:
                return True
        return False

    def to_json(self) -> dict[str, Any]:
        return {"rule": str(self), "amount": self.amount, "unit": self.unit, "after": self.after,
                "unless": list(self.unless), "source": self.source}


def _days_in_month(year: int, month: int) -> int:
    nxt = datetime(year + (month == 12), month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


@dataclass(frozen=True)
class Hold:
    """Keeps matching items whatever the retention rule: by item, author, account, or everything."""

    id: int
    reason: str
    subject: str | None = None
    author: str | None = None
    account: str | None = None
    placed_seq: int = 0
    placed_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def covers_everything(self) -> bool:
        return self.subject is None and self.author is None and self.account is None

    def matches(self, subject: str | None, author: str | None, account: str | None) -> bool:
        if self.covers_everything:
            return True
        return ((self.subject is not None and self.subject == subject)
                or (self.author is not None and author is not None
                    and self.author in (author, author.split(":", 1)[-1]))
                or (self.account is not None and account is not None
                    and self.account.lstrip("@").lower() == account.lstrip("@").lower()))

    def to_json(self) -> dict[str, Any]:
        return {"hold": self.id, "reason": self.reason, "subject": self.subject, "author": self.author,
                "account": self.account, "placed_seq": self.placed_seq, "placed_at": self.placed_at}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


__all__ = ["Hold", "RetentionRule", "utcnow"]
