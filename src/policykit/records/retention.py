"""Holds: what the archive keeps whatever the retention rule says.

Retention rules themselves are `policykit.retention` (the policy language declares them); they are
re-exported here because the archive applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..retention import RetentionError, RetentionRule


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


__all__ = ["Hold", "RetentionError", "RetentionRule", "utcnow"]
