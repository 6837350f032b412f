"""The hash chain that makes the archive tamper-evident.

Every record carries `prev`, the hash of the record before it (64 zeros for the first), and `hash`,
the SHA-256 of its own fields and `prev`. The content itself (`data`, exact JSON text as stored) is
hashed separately into `data_hash`, which the record hash covers: retention may later erase `data`
(a *purge*, itself recorded) and the chain still verifies, because the hash of what was erased stays.

    hash = sha256( prev | seq | kind | subject | version | recorded_at | ev_at | author | account
                   | target | decision | data_hash )          # "|" is the unit separator U+001F

Absent fields hash as the empty string. Changing any field of any record, deleting or reordering
records, or editing the content changes a hash that `policykit records verify` recomputes.
"""

from __future__ import annotations

from hashlib import sha256

GENESIS = "0" * 64
SEP = "\x1f"

#: The record columns, in the order the record hash covers them (after `prev`).
HASHED_FIELDS = ("seq", "kind", "subject", "version", "recorded_at", "ev_at", "author", "account",
                 "target", "decision", "data_hash")


def data_hash(data: str) -> str:
    """SHA-256 of a record's content, exactly as stored."""
    return sha256(data.encode("utf-8")).hexdigest()


def _s(value: object) -> str:
    return "" if value is None else str(value)


def record_hash(prev: str, seq: int, kind: str, subject: str | None, version: int | None,
                recorded_at: str, ev_at: str | None, author: str | None, account: str | None,
                target: str | None, decision: str | None, dhash: str) -> str:
    """The chain hash of one record."""
    # the same as SEP.join of the fields with None as "" (the text fields are never "" when set)
    text = (f"{prev}\x1f{seq}\x1f{kind}\x1f{subject or ''}\x1f{'' if version is None else version}\x1f"
            f"{recorded_at}\x1f{ev_at or ''}\x1f{author or ''}\x1f{account or ''}\x1f{target or ''}\x1f"
            f"{decision or ''}\x1f{dhash}")
    return sha256(text.encode("utf-8")).hexdigest()


__all__ = ["GENESIS", "HASHED_FIELDS", "data_hash", "record_hash"]
