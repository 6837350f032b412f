"""Retention rules: how long a policy says its content is kept.

The concept belongs to the policy language (a header's `retain …` line) and is applied by the archive
(`policykit.records`), so it lives here, where the compiler can use it without loading the archive.

A `RetentionRule` says how long the content of an archived item is kept. Applying it never deletes a
record: the content of each expired item (its versions, verdicts, evidence and appeals) is erased,
its hashes stay, and a `purge` record saying what was erased, when and under which rule is appended
to the chain. Items under a *hold* (a litigation hold or a pending records request) are never purged,
whatever the rule says (`policykit.records.Hold`); an appealed item is held until its appeal is
resolved (`release`).

Rules are written the way a policy states them, and `RetentionRule.parse` reads that text:

    permanently                       keep everything, forever (the default)
    7 years                           7 years after the item's last activity
    90 days after event               after the time the item was published (its `at`)
    1 year after recorded             after the archive last recorded something about it
    until read                        Minnesota: "retain all social media messages only until read"
    30 days after read                ... or a grace period after it was marked read
    until read unless context.emergency   ... but keep what was done during a declared disaster

A policy declares its rule in its header (`retain 7 years cite 6.4`, see docs/language.md); the
compiler reads the words after `retain` with `RetentionRule.parse`, so the policy language and
`policykit records retain --keep` accept exactly the same rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
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


_UNITS = {"day": "days", "days": "days", "d": "days", "month": "months", "months": "months",
          "year": "years", "years": "years", "y": "years"}
_AFTER = ("recorded", "event", "publication", "published", "read", "last activity")


class RetentionError(ValueError):
    """A retention rule that cannot be applied. `part` says which word is wrong (`amount`, `unit`,
    `after` or the whole `rule`), so the compiler can point at it; `help` says what to write."""

    def __init__(self, message: str, part: str = "rule", help: str | None = None) -> None:
        super().__init__(message)
        self.part = part
        self.help = help or ("write e.g. `permanently`, `7 years`, `90 days after event`, `until read` or "
                             "`until read unless context.emergency`")


def _diagnose(text: str) -> RetentionError:
    """Why `text` is not a retention rule, as precisely as the words allow."""
    words = re.sub(r"^\s*(?:retain|keep)\s+", "", text, flags=re.I).split()
    if words and re.fullmatch(r"[-+]?\d+(?:\.\d+)?", words[0]):
        amount = float(words[0])
        if amount < 0:
            return RetentionError(f"a retention period cannot be negative ({words[0]})", "amount",
                                  "write how long content is kept, e.g. `7 years`; `until read` erases it once read")
        if amount != int(amount):
            return RetentionError(f"a retention period is a whole number of days, months or years, not {words[0]}",
                                  "amount", f"e.g. `{int(amount * 12)} months`" if words[1:2] and
                                  words[1].lower().startswith("y") else "e.g. `18 months`")
        if len(words) < 2:
            return RetentionError(f"`{words[0]}` of what? a retention period needs a unit", "amount",
                                  "write days, months or years: e.g. `7 years`")
        if words[1].lower() not in _UNITS:
            return RetentionError(f"unknown unit `{words[1]}` in a retention period", "unit",
                                  "write days, months or years (e.g. `7 years`, `90 days`)")
        if len(words) > 2 and words[2].lower() == "after":
            anchor = " ".join(words[3:5]) if words[3:4] == ["last"] else " ".join(words[3:4])
            if anchor.lower() not in _AFTER:
                return RetentionError(f"unknown starting point `after {anchor}` in a retention period", "after",
                                      "write `after event` (the item's own time), `after read`, or `after recorded` "
                                      "(the default: the item's last recorded activity)")
    return RetentionError(f"retention {text.strip()!r} is not understood; write e.g. 'permanently', '7 years', "
                          "'90 days after event' or 'until read'")


@dataclass(frozen=True)
class RetentionRule:
    """How long archived content is kept. `amount=None` keeps it permanently."""

    amount: int | None = None
    unit: Unit = "days"
    after: After = "recorded"
    source: str | None = None  # who says so, e.g. "minnesota_model" or a clause id
    unless: tuple[str, ...] = ()  # event fields that, when true, keep the item (e.g. context.emergency)
    cites: tuple[str, ...] = ()  # the clauses that state the rule, e.g. ("minnesota_model data.3",)

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
            raise _diagnose(str(text))
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
        out = {"rule": str(self), "amount": self.amount, "unit": self.unit, "after": self.after,
               "unless": list(self.unless), "source": self.source}
        if self.cites:
            out["cites"] = list(self.cites)
        return out


def _days_in_month(year: int, month: int) -> int:
    nxt = datetime(year + (month == 12), month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


__all__ = ["RetentionError", "RetentionRule"]
