"""The archive: an append-only, hash-chained store of every event, verdict and piece of evidence.

`Archive` holds everything that does not depend on the database: the record model, the write
transaction (`Writer`), ingestion of events (versions, actions, removals), verification, holds,
retention and the queries behind exports. `SQLiteArchive` (records/sqlite.py) and `PostgresArchive`
(records/postgres.py) supply a connection, the DDL, the write lock and error translation. SQL here is
written once with `?` placeholders and standard `ON CONFLICT` upserts, which both databases accept.

Tables (all prefixed `policykit_`):

- `records`: the chain. One row per record; never updated except that retention may erase `data`.
- `items`: one row per item (post, comment, account audit, action) keyed `platform:id`: latest
  version, content digest (for idempotence), author, account, status, whether it was removed.
- `item_verdicts`: the latest verdict per item and policy (what a redelivery gets back).
- `authors`: how many of each author's items were removed (what fills `author_history`).
- `holds`: holds placed and released.
- `meta`: format marker, schema version, archive id, and the chain head (detects truncation).

Everything except `records` and `meta` is an index derived from the records.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable, Iterator

from .chain import GENESIS, data_hash, record_hash
from .derived import AUTHOR, REMOVAL_ACTIONS, REMOVED, Replay, content_digest, event_facts, is_target_record, verdict_facts
from .errors import ArchiveError
from .retention import Hold, RetentionRule, utcnow

FORMAT = "policykit-archive"
SCHEMA_VERSION = 1

RECORD_COLUMNS = ("seq", "kind", "subject", "version", "recorded_at", "ev_at", "author", "account", "target",
                  "decision", "data", "data_hash", "prev", "hash")
_RECORD_SELECT = ", ".join(RECORD_COLUMNS)

#: Kinds of record. `event`: an event seen (a new item or a new version of one); `verdict`: a policy's
#: decision on an item version; `evidence`: what was documented before a removal; `appeal`; `read`;
#: `hold` / `release`; `purge`: content erased under a retention rule; `retention`: a rule declared;
#: `checkpoint`: a signed chain head (records/checkpoint.py); `rejected`: an input line that was not a
#: valid event, as received (a stream records it so that nothing received goes unrecorded).
RECORD_KINDS = ("event", "verdict", "evidence", "appeal", "read", "hold", "release", "purge", "retention",
                "checkpoint", "rejected")
CONTENT_KINDS = ("event", "verdict", "evidence", "appeal", "rejected")  # what retention may erase

_CONTENT_FIELDS = ("text", "links", "media")


try:  # orjson: the same canonical form (sorted keys, no spaces, UTF-8 as is), several times faster
    import orjson as _orjson

    _OPTS = _orjson.OPT_SORT_KEYS | _orjson.OPT_NON_STR_KEYS
    _orjson_dumps = _orjson.dumps
except ImportError:  # pragma: no cover - orjson is a dependency
    _orjson_dumps = None


def _std_dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def dumps(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text kept as is."""
    if _orjson_dumps is not None:
        try:
            return _orjson_dumps(value, default=str, option=_OPTS).decode("utf-8")
        except (TypeError, ValueError):
            pass  # e.g. an integer beyond 64 bits: the standard encoder takes it
    return _std_dumps(value)


_PLAIN = re.compile(r'[^"\\\x00-\x1f]*\Z')


def json_str(text: str) -> str:
    """A JSON string literal; plain ASCII text (every archive key in practice) without the encoder."""
    return f'"{text}"' if _PLAIN.match(text) else json.dumps(text, ensure_ascii=False)


def now_iso() -> str:
    return utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize_time(value: Any) -> str | None:
    """An ISO 8601 time (or date) as sortable UTC text `YYYY-MM-DDTHH:MM:SS.ffffffZ`; None if unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, date):
        return to_iso(datetime(value.year, value.month, value.day))
    text = str(value).strip()
    if len(text) == 20 and text[10] == "T" and text[19] in "Zz" and text[4] == "-" and text[13] == ":":
        return text[:19] + ".000000Z"  # the common form, already UTC
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return to_iso(datetime(d.year, d.month, d.day))
        return to_iso(datetime.fromisoformat(text.replace("z", "Z")))
    except ValueError:
        return None


def _ident(actor: Any) -> str | None:
    if not isinstance(actor, dict):
        return None
    value = actor.get("id")
    if value is None:
        value = actor.get("name") if actor.get("name") is not None else actor.get("handle")
    return None if value is None else str(value)


def event_platform(event: dict, parent: dict | None = None) -> str:
    platform = event.get("platform")
    if not platform and isinstance(event.get("account"), dict):
        platform = event["account"].get("platform")
    if not platform and parent is not None:
        return event_platform(parent)
    return str(platform or "generic")


def event_key(event: dict, digest: str, parent: dict | None = None) -> tuple[str, str | None, str]:
    """(platform, platform id, key). Without an id the key is the content digest: an identical
    redelivery is still recognised."""
    platform = event_platform(event, parent)
    pid = event.get("id")
    if pid is None or pid == "":
        return platform, None, "sha256:" + digest[:40]
    return platform, str(pid), f"{platform}:{pid}"


def event_digest(event: dict) -> tuple[str, str]:
    """(canonical JSON of the event, digest of its content). The digest leaves out `author_history`,
    which a moderator fills in, so a redelivery with or without it is the same content."""
    canon = dumps(event)
    if "author_history" in event:
        return canon, data_hash(dumps({k: v for k, v in event.items() if k != "author_history"}))
    return canon, data_hash(canon)


def author_key(event: dict) -> str | None:
    ident = _ident(event.get("author") if event.get("kind") != "action" else event.get("actor"))
    return None if ident is None else f"{event_platform(event)}:{ident}"


def account_key(event: dict) -> str | None:
    return _ident(event.get("account"))


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ is several times slower (hot path)
class Record:
    """One record of the chain, as stored. Treat it as read-only."""

    seq: int
    kind: str
    subject: str | None
    version: int | None
    recorded_at: str
    ev_at: str | None
    author: str | None
    account: str | None
    target: str | None
    decision: str | None
    data: str | None
    data_hash: str
    prev: str
    hash: str

    @property
    def purged(self) -> bool:
        return self.data is None

    def content(self) -> Any:
        return None if self.data is None else json.loads(self.data)

    def to_json(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in RECORD_COLUMNS if name != "data"}
        out["data"] = self.content()
        return out


@dataclass(slots=True)
class ItemState:
    key: str
    platform: str
    pid: str | None
    kind: str
    version: int
    digest: str
    event_seq: int
    author: str | None
    account: str | None
    removed: bool = False
    status: str = "published"

    def row(self) -> tuple:
        return (self.key, self.platform, self.pid, self.kind, self.version, self.digest, self.event_seq,
                self.author, self.account, int(self.removed), self.status)


@dataclass(slots=True)
class Ingested:
    """What recording one event did: its item, the version, and whether it had been seen already."""

    key: str
    version: int
    event_seq: int
    duplicate: bool
    item: ItemState
    event: dict
    record: Record | None = None


@dataclass(slots=True)
class Prepared:
    canon: str
    digest: str
    platform: str
    pid: str | None
    key: str
    item: ItemState | None
    duplicate: bool
    author: str | None = None
    seen: tuple[int, int] | None = None  # (version, event record seq) this content was recorded as


@dataclass
class VerifyResult:
    ok: bool
    records: int
    head_seq: int
    head_hash: str
    first_bad: int | None = None
    problem: str | None = None
    bad_count: int = 0
    purged: int = 0
    seconds: float = 0.0
    unchecked_items: int = 0   # items whose derived rows depend on content erased before purges kept facts
    checkpoints: int = 0       # valid signed checkpoints (in the chain and in the checkpoint file)
    latest_checkpoint: dict | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RetentionReport:
    rule: str
    cutoff: str | None
    expired: int = 0
    held: int = 0
    exempt: int = 0
    purged_items: int = 0
    purged_records: int = 0
    record: int | None = None
    held_items: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Writer:
    """One write transaction. Created by `Archive.writing()`, which holds the archive's write lock (a
    SQLite `BEGIN IMMEDIATE` or a PostgreSQL advisory lock) from start to commit, so the chain head
    read at the start is still the head when the records are inserted, whoever else is writing.

    A *prepared* writer (`Archive.prepare`) is built before the lock is taken: it reads through a
    separate read-only connection (`source`) and, when `after` is the previous batch's writer whose
    commit may still be in flight, starts from that writer's head and takes what it changed from it
    (nothing else can differ). `Archive.begin_prepared` then checks, under the lock, that the chain
    head is still the one it started from; if another writer got in between, the batch is redone."""

    def __init__(self, archive: "Archive", source: "Archive | None" = None, after: "Writer | None" = None) -> None:
        self.archive = archive
        self.src = source if source is not None else archive  # where the writer reads
        self.seq, self.hash = (after.seq, after.hash) if after is not None else self.src._head()
        self.start_seq, self.start_hash = self.seq, self.hash
        self.rows: list[tuple] = []
        self.pending: dict[int, str] = {}
        self._items: dict[str, ItemState | None] = {}
        self._dirty_items: set[str] = set()
        self._authors: dict[str, int] = {}
        self._dirty_authors: set[str] = set()
        self._verdicts: dict[tuple[str, str], tuple[int, int, str] | None] = {}
        self._dirty_verdicts: set[tuple[str, str]] = set()
        self._versions: dict[tuple[str, str], tuple[int, int]] = {}  # (key, digest) -> (version, seq) written here
        self.prior_rows: list[tuple] = []  # the previous batch's records (maybe not yet readable)
        self.prior_pending: dict[int, str] = {}
        if after is not None:  # only what that batch changed: older batches are committed and readable
            self._items.update((k, after._items[k]) for k in after._dirty_items)
            self._authors.update((k, after._authors[k]) for k in after._dirty_authors)
            self._verdicts.update((k, after._verdicts[k]) for k in after._dirty_verdicts)
            self._versions.update(after._versions)
            self.prior_rows, self.prior_pending = after.rows, after.pending
        self._holds: list[tuple] = []
        self._releases: list[tuple] = []
        self.recorded_at = now_iso()
        self._policy_json: dict[int, tuple[Any, str]] = {}

    # -- the chain -------------------------------------------------------------------------------

    def append(self, kind: str, data: Any, *, subject: str | None = None, version: int | None = None,
               ev_at: str | None = None, author: str | None = None, account: str | None = None,
               target: str | None = None, decision: str | None = None, dhash: str | None = None) -> Record:
        """Add a record to the chain (`dhash`: the content's SHA-256 when the caller has it already)."""
        text = data if isinstance(data, str) else dumps(data)
        seq = self.seq + 1
        dh = dhash or data_hash(text)
        h = record_hash(self.hash, seq, kind, subject, version, self.recorded_at, ev_at, author, account,
                        target, decision, dh)
        rec = Record(seq, kind, subject, version, self.recorded_at, ev_at, author, account, target, decision,
                     text, dh, self.hash, h)
        self.rows.append((seq, kind, subject, version, self.recorded_at, ev_at, author, account, target,
                          decision, text, dh, self.hash, h))
        self.pending[seq] = text
        self.seq, self.hash = seq, h
        return rec

    def data_of(self, seq: int) -> str | None:
        if seq in self.pending:
            return self.pending[seq]
        if seq in self.prior_pending:
            return self.prior_pending[seq]
        row = self.src._one(f"SELECT data FROM {self.archive.T}records WHERE seq = ?", (seq,))
        return row[0] if row else None

    def hash_of(self, seq: int) -> str | None:
        """The chain hash of record `seq` (one of this transaction's, or already stored)."""
        for rows in (self.rows, self.prior_rows):
            for row in reversed(rows):
                if row[0] == seq:
                    return row[-1]
                if row[0] < seq:
                    break
        got = self.src._one(f"SELECT hash FROM {self.archive.T}records WHERE seq = ?", (seq,))
        return got[0] if got else None

    # -- derived state, cached for the transaction -----------------------------------------------

    def item(self, key: str) -> ItemState | None:
        if key in self._items:
            return self._items[key]
        row = self.src._one(
            f"SELECT key, platform, pid, kind, version, digest, event_seq, author, account, removed, status "
            f"FROM {self.archive.T}items WHERE key = ?", (key,))
        state = None if row is None else ItemState(row[0], row[1], row[2], row[3], row[4], row[5], row[6],
                                                    row[7], row[8], bool(row[9]), row[10])
        self._items[key] = state
        return state

    def prefetch(self, keys: Iterable[str], authors: Iterable[str] = (), verdicts_for: str | None = None) -> None:
        """Load the items, authors' counts and (with `verdicts_for`, a policy name) latest verdicts for a
        whole batch in a few queries instead of one query per event."""
        a, T = self.src, self.archive.T
        want = [k for k in dict.fromkeys(keys) if k not in self._items]
        for i in range(0, len(want), 500):
            chunk = want[i:i + 500]
            marks = ", ".join("?" for _ in chunk)
            for k in chunk:
                self._items[k] = None
            for row in a._all(f"SELECT key, platform, pid, kind, version, digest, event_seq, author, account, "
                              f"removed, status FROM {T}items WHERE key IN ({marks})", chunk):
                self._items[row[0]] = ItemState(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                                                row[8], bool(row[9]), row[10])
            if verdicts_for is not None:
                found = [k for k in chunk if self._items.get(k) is not None and (k, verdicts_for) not in self._verdicts]
                for k in found:
                    self._verdicts[(k, verdicts_for)] = None
                if found:
                    marks = ", ".join("?" for _ in found)
                    for k, version, seq, decision in a._all(
                            f"SELECT key, version, seq, decision FROM {T}item_verdicts WHERE policy = ? "
                            f"AND key IN ({marks})", [verdicts_for, *found]):
                        self._verdicts[(k, verdicts_for)] = (version, seq, decision)
        want_a = [x for x in dict.fromkeys(authors) if x not in self._authors]
        for i in range(0, len(want_a), 500):
            chunk = want_a[i:i + 500]
            marks = ", ".join("?" for _ in chunk)
            for x in chunk:
                self._authors[x] = 0
            for x, n in a._all(f"SELECT author, removed FROM {T}authors WHERE author IN ({marks})", chunk):
                self._authors[x] = n

    def removed_as_of(self, author: str, before: int, exclude: str | None = None) -> int:
        """How many of `author`'s items (other than `exclude`) stood removed just before record `before`:
        the history an appeal judges with, so that nothing recorded later can make it worse. Replays the
        records of the author's items and of the actions on them (`derived.Replay`), up to `before`."""
        T, src = self.archive.T, self.src
        keys = [r[0] for r in src._all(f"SELECT DISTINCT subject FROM {T}records WHERE kind = 'event' AND "
                                       f"author = ? AND seq < ?", (author, before))]
        subjects = set(keys)
        for chunk in _chunks(keys, 400):
            subjects.update(r[0] for r in src._all(
                f"SELECT DISTINCT subject FROM {T}records WHERE kind = 'event' AND seq < ? AND target IN "
                f"({', '.join('?' for _ in chunk)})", [before, *chunk]))
        rows: list[tuple] = []
        for chunk in _chunks(sorted(subjects), 400):
            rows.extend(src._all(f"SELECT seq, kind, subject, version, recorded_at, author, account, target, decision, "
                                 f"data, data_hash FROM {T}records WHERE seq < ? AND subject IN "
                                 f"({', '.join('?' for _ in chunk)})", [before, *chunk]))
        replay = Replay(self.archive._purge_facts())
        for row in sorted(rows):
            replay.feed(*row)
        replay.finish()
        return sum(1 for k in keys if k != exclude and (it := replay.items.get(k)) is not None
                   and it[REMOVED] and it[AUTHOR] == author)

    def put_item(self, state: ItemState) -> None:
        self._items[state.key] = state
        self._dirty_items.add(state.key)

    def removed_count(self, author: str) -> int:
        if author not in self._authors:
            row = self.src._one(f"SELECT removed FROM {self.archive.T}authors WHERE author = ?", (author,))
            self._authors[author] = row[0] if row else 0
        return self._authors[author]

    def set_removed(self, item: ItemState, removed: bool) -> None:
        if item.removed == removed:
            return
        item.removed = removed
        self.put_item(item)
        if item.author:
            self._authors[item.author] = max(0, self.removed_count(item.author) + (1 if removed else -1))
            self._dirty_authors.add(item.author)

    def latest_verdict(self, key: str, policy: str) -> tuple[int, int, str] | None:
        """(item version, verdict record seq, decision) of the latest verdict by `policy` on `key`."""
        k = (key, policy)
        if k not in self._verdicts:
            row = self.src._one(f"SELECT version, seq, decision FROM {self.archive.T}item_verdicts "
                                    f"WHERE key = ? AND policy = ?", k)
            self._verdicts[k] = None if row is None else (row[0], row[1], row[2])
        return self._verdicts[k]

    def put_verdict(self, key: str, policy: str, version: int, seq: int, decision: str, latest: bool = True) -> None:
        """Keep the verdict as the item's latest by this policy unless it judges an older version than
        the one already kept (a replayed old version judged for the first time): `item_verdicts` holds
        the verdict on the highest version, the last recorded among those (what `derived` recomputes)."""
        if not latest:
            cur = self.latest_verdict(key, policy)
            if cur is not None and cur[0] > version:
                return
        self._verdicts[(key, policy)] = (version, seq, decision)
        self._dirty_verdicts.add((key, policy))

    def verdict_on(self, key: str, version: int, policy: str) -> int | None:
        """The seq of `policy`'s last verdict on version `version` of `key`, or None."""
        for rows in (self.rows, self.prior_rows):
            for row in reversed(rows):
                if row[1] == "verdict" and row[2] == key and row[3] == version \
                        and verdict_facts(row[10])[0] == policy:
                    return row[0]
        for seq, data in self.src._all(f"SELECT seq, data FROM {self.archive.T}records WHERE subject = ? AND "
                                       f"kind = 'verdict' AND version = ? ORDER BY seq DESC", (key, version)):
            if data is not None and verdict_facts(data)[0] == policy:
                return seq
        return None

    def rejected_record(self, subject: str) -> tuple[int | None, str | None]:
        """(seq, hash) of the first `rejected` record of `subject` (the same refused input again): in this
        transaction, the batch before it (whose commit may be in flight), or the archive; (None, None)."""
        for rows in (self.rows, self.prior_rows):
            for row in rows:
                if row[1] == "rejected" and row[2] == subject:
                    return row[0], row[-1]
        found = self.src._one(f"SELECT seq, hash FROM {self.archive.T}records WHERE subject = ? AND "
                              f"kind = 'rejected' ORDER BY seq LIMIT 1", (subject,))
        return (found[0], found[1]) if found else (None, None)

    def find_version(self, key: str, digest: str) -> tuple[int, int] | None:
        """(version, event record seq) under which this exact content of `key` was recorded, if any
        version of it was: what makes replaying a stream with edits idempotent."""
        got = self._versions.get((key, digest))
        if got is not None:
            return got
        for version, seq, dh, data in self.src._all(
                f"SELECT version, seq, data_hash, data FROM {self.archive.T}records WHERE subject = ? AND "
                f"kind = 'event' ORDER BY seq", (key,)):
            if content_digest(dh, data) == digest:
                return version, seq
        return None

    # -- events ----------------------------------------------------------------------------------

    def lookup(self, event: dict, pre: tuple | None = None) -> "Prepared":
        """What the archive knows of this event's item, without recording anything. `pre` is
        `(canon, digest, platform, pid, key)` when the caller computed them already."""
        if pre is None:
            canon, digest = event_digest(event)
            platform, pid, key = event_key(event, digest)
        else:
            canon, digest, platform, pid, key = pre[:5]
        item = self.item(key)
        seen = None
        if item is not None:
            seen = (item.version, item.event_seq) if item.digest == digest else self.find_version(key, digest)
        return Prepared(canon, digest, platform, pid, key, item, seen is not None,
                        author_key(event) if pre is None or len(pre) < 6 else pre[5], seen)

    def ingest(self, event: dict, prepared: "Prepared | None" = None) -> Ingested:
        """Record an event unless this exact content was recorded under its key before, as any version
        (a redelivery, or a stream replayed after a crash). The same key with content never recorded
        is an edit: a new version of the item."""
        p = prepared or self.lookup(event)
        canon, digest, platform, pid, key, item = p.canon, p.digest, p.platform, p.pid, p.key, p.item
        if item is not None and p.seen is not None:
            return Ingested(key, p.seen[0], p.seen[1], True, item, event)
        version = item.version + 1 if item is not None else 1
        kind = str(event.get("kind"))
        author, account = (p.author if prepared is not None else author_key(event)), account_key(event)
        target_key = None
        action = event.get("action") if kind == "action" else None
        target = action.get("target") if isinstance(action, dict) else None
        if isinstance(target, dict) and target.get("id") not in (None, ""):
            target_key = f"{event_platform(target, event)}:{target['id']}"
        rec = self.append("event", canon, subject=key, version=version, ev_at=normalize_time(event.get("at")),
                          author=author, account=account, target=target_key,
                          dhash=None if "author_history" in event else digest)  # then digest = sha256(canon)
        if item is None:
            item = ItemState(key, platform, pid, kind, version, digest, rec.seq, author, account)
        else:
            item.version, item.digest, item.event_seq = version, digest, rec.seq
            item.author, item.account = author or item.author, account or item.account
            if item.status == "published":
                item.status = "edited"
        self.put_item(item)
        self._versions[(key, digest)] = (version, rec.seq)
        if target_key is not None:
            self._ingest_target(target, target_key, event, action)
        return Ingested(key, version, rec.seq, False, item, event, rec)

    def find_keys(self, ident: str) -> list[str]:
        rows = self.archive._all(f"SELECT key FROM {self.archive.T}items WHERE key = ? OR pid = ? ORDER BY key",
                                 (ident, ident))
        return [r[0] for r in rows]

    def _ingest_target(self, target: dict, key: str, parent: dict, action: dict) -> None:
        """An action's target is content too: archive it as a version of its item when it brings content
        the archive does not have (an edit, or a comment first seen as it is deleted)."""
        titem = self.item(key)
        has_content = any(target.get(f) for f in _CONTENT_FIELDS)
        if not has_content:
            return
        canon, digest = event_digest(target)
        if titem is not None and (titem.digest == digest or self.find_version(key, digest) is not None):
            return
        platform = event_platform(target, parent)
        version = titem.version + 1 if titem is not None else 1
        author, account = author_key(target) or (titem.author if titem else None), \
            account_key(target) or (titem.account if titem else None)
        rec = self.append("event", canon, subject=key, version=version, ev_at=normalize_time(target.get("at")),
                          author=author, account=account)
        if titem is None:
            titem = ItemState(key, platform, target.get("id") and str(target["id"]),
                              str(target.get("kind") or action.get("type", "").split("_")[-1]),
                              version, digest, rec.seq, author, account)
        else:
            titem.version, titem.digest, titem.event_seq = version, digest, rec.seq
            if titem.status == "published":
                titem.status = "edited"
        self.put_item(titem)
        self._versions[(key, digest)] = (version, rec.seq)

    def apply_action(self, ing: Ingested, decision: str | None) -> None:
        """A deletion or hide that is allowed to proceed marks its target removed (the content stays)."""
        event = ing.event
        if event.get("kind") != "action" or decision == "deny":
            return
        action = event.get("action") or {}
        status = REMOVAL_ACTIONS.get(action.get("type"))
        target = action.get("target")
        if status is None or not isinstance(target, dict) or target.get("id") in (None, ""):
            return
        titem = self.item(f"{event_platform(target, event)}:{target['id']}")
        if titem is None:
            return
        titem.status = status
        self.put_item(titem)
        self.set_removed(titem, True)

    def record_verdict(self, ing: Ingested, policy: dict[str, Any], verdict_json: str, decision: str, *,
                       inputs: dict | None = None, reason: str = "evaluate", extra: dict | None = None,
                       extra_json: str = "") -> Record:
        """Record a verdict on the item version `ing` and keep removal counts in step with it."""
        pjson = self._policy_json.get(id(policy))
        if pjson is None or pjson[0] is not policy:
            pjson = self._policy_json[id(policy)] = (policy, dumps(policy))
        text = (f'{{"event":{json_str(ing.key)},"version":{ing.version},"event_seq":{ing.event_seq},'
                f'"policy":{pjson[1]},"reason":"{reason}"')
        if inputs:
            text += ',"inputs":' + (getattr(inputs, "json", None) or dumps(inputs))
        if extra:
            text += "," + dumps(extra)[1:-1]
        text += extra_json + ',"verdict":' + verdict_json + "}"
        item = ing.item
        rec = self.append("verdict", text, subject=ing.key, version=ing.version, author=item.author,
                          account=item.account, decision=decision)
        self.put_verdict(ing.key, str(policy.get("name")), ing.version, rec.seq, decision,
                         latest=ing.version >= item.version)
        if item.kind in ("comment", "post"):
            if decision == "remove":
                if not item.removed:
                    item.status = "removed"
                    self.set_removed(item, True)
            elif reason == "appeal" and item.removed and item.status == "removed":
                item.status = "reinstated"
                self.set_removed(item, False)
        else:
            self.apply_action(ing, decision)
        return rec

    # -- holds -----------------------------------------------------------------------------------

    def place_hold(self, reason: str, subject: str | None = None, author: str | None = None,
                   account: str | None = None) -> Hold:
        data = {"reason": reason, "subject": subject, "author": author, "account": account}
        rec = self.append("hold", data, subject=subject, author=author, account=account)
        self._holds.append((rec.seq, reason, subject, author, account, rec.seq, rec.recorded_at))
        return Hold(rec.seq, reason, subject, author, account, rec.seq, rec.recorded_at)

    def release_hold(self, hold_id: int, reason: str) -> Record:
        row = self.archive._one(f"SELECT id, released_seq FROM {self.archive.T}holds WHERE id = ?", (hold_id,))
        if row is None:
            raise ArchiveError(f"no hold {hold_id} in {self.archive.url}")
        if row[1] is not None:
            raise ArchiveError(f"hold {hold_id} was already released (record {row[1]})")
        rec = self.append("release", {"hold": hold_id, "reason": reason})
        self._releases.append((rec.seq, hold_id))
        return rec

    # -- commit ----------------------------------------------------------------------------------

    def flush(self) -> None:
        a, T = self.archive, self.archive.T
        if self.rows:
            a._executemany(f"INSERT INTO {T}records ({_RECORD_SELECT}) VALUES "
                           f"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self.rows)
        if self._dirty_items:
            a._executemany(
                f"INSERT INTO {T}items (key, platform, pid, kind, version, digest, event_seq, author, account, "
                f"removed, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                f"version = excluded.version, digest = excluded.digest, event_seq = excluded.event_seq, "
                f"author = excluded.author, account = excluded.account, removed = excluded.removed, "
                f"status = excluded.status",
                [self._items[k].row() for k in self._dirty_items])  # type: ignore[union-attr]
        if self._dirty_authors:
            a._executemany(f"INSERT INTO {T}authors (author, removed) VALUES (?, ?) ON CONFLICT (author) "
                           f"DO UPDATE SET removed = excluded.removed",
                           [(k, self._authors[k]) for k in self._dirty_authors])
        if self._dirty_verdicts:
            a._executemany(f"INSERT INTO {T}item_verdicts (key, policy, version, seq, decision) VALUES "
                           f"(?, ?, ?, ?, ?) ON CONFLICT (key, policy) DO UPDATE SET version = excluded.version, "
                           f"seq = excluded.seq, decision = excluded.decision",
                           [(k[0], k[1], *self._verdicts[k]) for k in self._dirty_verdicts])  # type: ignore[misc]
        if self._holds:
            a._executemany(f"INSERT INTO {T}holds (id, reason, subject, author, account, placed_seq, placed_at) "
                           f"VALUES (?, ?, ?, ?, ?, ?, ?)", self._holds)
        for seq, hold_id in self._releases:
            a._exec(f"UPDATE {T}holds SET released_seq = ? WHERE id = ?", (seq, hold_id))
        if self.seq != self.start_seq:
            a._executemany(f"UPDATE {T}meta SET value = ? WHERE key = ?",
                           [(str(self.seq), "head_seq"), (self.hash, "head_hash")])


class Archive:
    """Base class of the archive backends. Use `policykit.records.open_archive(url)`."""

    T = "policykit_"
    url: str = ""
    backend: str = ""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        # A pipelined batch commits from another thread without holding the lock; until it is done,
        # everyone else who would use the connection waits on this (see begin_prepared).
        self._idle = threading.Condition(self._lock)
        self._prepared = False
        self._sql_cache: dict[str, str] = {}
        self._depth = 0  # > 0 while a write transaction is open
        self._rdepth = 0  # nesting of reads (a read ends when the outermost does)
        self.closed = False

    # -- backend primitives (overridden) ---------------------------------------------------------

    def _q(self, sql: str) -> str:
        return sql

    def _exec(self, sql: str, params: Iterable[Any] = ()) -> Any:
        raise NotImplementedError

    def _executemany(self, sql: str, rows: list[tuple]) -> None:
        raise NotImplementedError

    def _begin_write(self) -> None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def _end_read(self) -> None:
        """Finish a read (PostgreSQL ends its transaction; SQLite autocommits)."""

    def _iter(self, sql: str, params: Iterable[Any] = (), size: int = 5000) -> Iterator[tuple]:
        cur = self._exec(sql, params)
        while True:
            rows = cur.fetchmany(size)
            if not rows:
                return
            yield from rows

    def _translate(self, exc: BaseException, doing: str) -> ArchiveError | None:
        return None

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- helpers ---------------------------------------------------------------------------------

    def _one(self, sql: str, params: Iterable[Any] = ()) -> tuple | None:
        return self._exec(sql, params).fetchone()

    def _all(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        return self._exec(sql, params).fetchall()

    def _head(self) -> tuple[int, str]:
        row = self._one(f"SELECT seq, hash FROM {self.T}records ORDER BY seq DESC LIMIT 1")
        return (0, GENESIS) if row is None else (row[0], row[1])

    def meta(self) -> dict[str, str]:
        with self.reading("read the archive's metadata"):
            return {k: v for k, v in self._all(f"SELECT key, value FROM {self.T}meta")}

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        try:
            yield
        except ArchiveError:
            raise
        except Exception as exc:  # database errors become one clear ArchiveError
            err = self._translate(exc, doing)
            if err is None:
                raise
            raise err from exc

    @contextmanager
    def reading(self, doing: str = "read the archive") -> Iterator[None]:
        with self._lock, self._guard(doing):
            self._idle.wait_for(lambda: not self._prepared)
            self._rdepth += 1
            try:
                yield
            finally:
                self._rdepth -= 1
                if not self._depth and not self._rdepth:
                    self._end_read()

    @contextmanager
    def writing(self, doing: str = "write to the archive") -> Iterator[Writer]:
        """A write transaction: everything appended inside is committed together, durably, or not at
        all. The chain head is read under the write lock, so concurrent writers never fork the chain."""
        if self.closed:
            raise ArchiveError(f"the archive {self.url} is closed")
        with self._lock, self._guard(doing):
            self._idle.wait_for(lambda: not self._prepared)
            if self._depth:
                raise ArchiveError("nested write transactions are not supported")
            self._depth += 1
            try:
                self._begin_write()
                with self._rolled_back_on_error():
                    writer = Writer(self)
                    yield writer
                    writer.flush()
                    self._commit()
            finally:
                self._depth -= 1

    @contextmanager
    def _rolled_back_on_error(self) -> Iterator[None]:
        """On any error, roll the open transaction back and re-raise that error (a failing rollback
        must not hide the reason the transaction failed)."""
        try:
            yield
        except BaseException:
            try:
                self._rollback()
            except Exception:
                pass
            raise

    # -- prepared (pipelined) writes -------------------------------------------------------------

    def reader(self) -> "Archive | None":
        """A second, read-only view of the archive that stays usable while this connection commits
        (what lets `Moderator.pipeline` judge the next batch during the previous batch's disk sync).
        None when the backend cannot offer one; callers then write batch by batch."""
        return None

    def prepare(self, source: "Archive", after: Writer | None = None) -> Writer:
        """A writer built without the write lock, reading through `source` (see `Writer`)."""
        if self.closed:
            raise ArchiveError(f"the archive {self.url} is closed")
        return Writer(self, source, after)

    def begin_prepared(self, w: Writer, doing: str = "record a batch of events") -> bool:
        """Take the write lock and insert a prepared writer's records, if the chain head is still the one
        it started from. False (nothing written, lock released): another writer got in between, and the
        batch must be done again. Then `commit_prepared()` (from any one thread) makes it durable; until
        it has, other users of this archive object wait instead of sharing the open transaction."""
        with self._lock, self._guard(doing):
            self._idle.wait_for(lambda: not self._prepared)
            if self._depth:
                raise ArchiveError("a prepared batch cannot be written inside another write transaction")
            self._begin_write()
            with self._rolled_back_on_error():
                if self._head() != (w.start_seq, w.start_hash):
                    self._rollback()
                    return False
                w.flush()
            self._prepared = True
        return True

    def commit_prepared(self, doing: str = "record a batch of events") -> None:
        try:
            with self._guard(doing), self._rolled_back_on_error():
                self._commit()
        finally:
            with self._lock:
                self._prepared = False
                self._idle.notify_all()

    # -- simple appends --------------------------------------------------------------------------

    def record(self, event: dict) -> Ingested:
        """Archive one event without judging it (a post the city published, an account audit ...)."""
        with self.writing() as w:
            ing = w.ingest(event)
            if not ing.duplicate:
                w.apply_action(ing, None)
            return ing

    def append(self, kind: str, data: Any, **columns: Any) -> Record:
        with self.writing() as w:
            return w.append(kind, data, **columns)

    def mark_read(self, key: str, by: str | None = None) -> Record:
        """Note that a person has read an item, or a rejected input (`rejected:…`): what `retain until
        read` waits for."""
        with self.writing() as w:
            if w.item(key) is None and self._one(f"SELECT 1 FROM {self.T}records WHERE subject = ? AND "
                                                 f"kind = 'rejected' LIMIT 1", (key,)) is None:
                raise ArchiveError(f"no item {key!r} in {self.url}")
            return w.append("read", {"event": key, "by": by}, subject=key)

    def declare_retention(self, rule: RetentionRule, policy: str | None = None) -> Record:
        with self.writing() as w:
            return w.append("retention", {"policy": policy, **rule.to_json()})

    def place_hold(self, reason: str, *, subject: str | None = None, author: str | None = None,
                   account: str | None = None) -> Hold:
        with self.writing() as w:
            return w.place_hold(reason, subject, author, account)

    def release_hold(self, hold_id: int, reason: str = "released") -> Record:
        with self.writing() as w:
            return w.release_hold(hold_id, reason)

    def holds(self, *, include_released: bool = False) -> list[Hold]:
        with self.reading():
            where = "" if include_released else " WHERE released_seq IS NULL"
            rows = self._all(f"SELECT id, reason, subject, author, account, placed_seq, placed_at, released_seq "
                             f"FROM {self.T}holds{where} ORDER BY id")
        return [Hold(r[0], r[1], r[2], r[3], r[4], r[5], r[6], {"released_seq": r[7]} if r[7] else {})
                for r in rows]

    # -- reading ---------------------------------------------------------------------------------

    def _record(self, row: tuple) -> Record:
        return Record(*row)

    def get(self, seq: int) -> Record | None:
        with self.reading():
            row = self._one(f"SELECT {_RECORD_SELECT} FROM {self.T}records WHERE seq = ?", (seq,))
        return None if row is None else Record(*row)

    def records(self, *, start: int = 1, kind: str | None = None, subject: str | None = None) -> Iterator[Record]:
        """Records in chain order (read lazily)."""
        sql = f"SELECT {_RECORD_SELECT} FROM {self.T}records WHERE seq >= ?"
        params: list[Any] = [start]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        if subject:
            sql += " AND subject = ?"
            params.append(subject)
        with self.reading():
            for row in self._iter(sql + " ORDER BY seq", params):
                yield Record(*row)

    def count(self) -> int:
        with self.reading():
            return self._head()[0]

    def item(self, key: str) -> ItemState | None:
        with self.reading():
            row = self._one(
                f"SELECT key, platform, pid, kind, version, digest, event_seq, author, account, removed, status "
                f"FROM {self.T}items WHERE key = ?", (key,))
        return None if row is None else ItemState(*row[:9], bool(row[9]), row[10])

    def find_items(self, pid: str) -> list[str]:
        """Keys of the items with this platform id (on any platform), or the key itself if it is one."""
        with self.reading():
            rows = self._all(f"SELECT key FROM {self.T}items WHERE key = ? OR pid = ? ORDER BY key", (pid, pid))
        return [r[0] for r in rows]

    def removed_before(self, author: str) -> int:
        with self.reading():
            row = self._one(f"SELECT removed FROM {self.T}authors WHERE author = ?", (author,))
        return row[0] if row else 0

    # -- verification ----------------------------------------------------------------------------

    def verify(self, *, expect_head: str | None = None, progress: Callable[[int], None] | None = None,
               keys: list[bytes] | None = None, checkpoints: str | None = None,
               max_age: Any = None) -> VerifyResult:
        """Walk the whole chain: contiguous sequence numbers, each `prev` the hash before, each hash
        recomputed, each content hash recomputed, every erased content accounted for by a purge record,
        the head equal to the one the archive last committed, and the derived tables equal to what the
        records say. Names the first bad record.

        Checkpoints (records/checkpoint.py), from the chain and from the checkpoint file (`checkpoints`,
        else the one beside an SQLite archive), are checked too: each signs a record the chain still
        holds with that hash, for this archive. With `keys` (trusted raw Ed25519 public keys) each must
        be signed by one of them and at least one must exist; `max_age` (a timedelta) fails an archive
        whose newest checkpoint is older."""
        import time
        from pathlib import Path

        from . import checkpoint as ck

        t0 = time.perf_counter()
        cp_file = Path(checkpoints) if checkpoints else ck.default_file(self)
        from_file, file_problems = ck.read_file(cp_file) if cp_file is not None else ([], [])
        if checkpoints and not cp_file.exists():  # type: ignore[union-attr]
            file_problems.append(f"there is no checkpoint file {checkpoints}")
        wanted = {cp.seq for cp in from_file}
        hashes: dict[int, str] = {}
        in_chain: list[tuple[int, str, str | None]] = []
        problems: list[tuple[int | None, str]] = []
        purged_missing: dict[int, None] = {}
        purge_listed: set[int] = set()
        expected, prev, n, purged = 1, GENESIS, 0, 0
        sha = __import__("hashlib").sha256
        with self.reading("verify the archive"), _no_gc():
            meta = {k: v for k, v in self._all(f"SELECT key, value FROM {self.T}meta")}
            replay = Replay(self._purge_facts())
            feed = replay.feed
            for row in self._iter(f"SELECT {_RECORD_SELECT} FROM {self.T}records ORDER BY seq", (), 20000):
                (seq, kind, subject, version, recorded_at, ev_at, author, account, target, decision, data,
                 dh, rprev, rhash) = row
                n += 1
                if seq != expected:
                    problems.append((expected, f"record {expected} is missing (the chain jumps from "
                                               f"{expected - 1} to {seq})"))
                    expected = seq
                if rprev != prev:
                    problems.append((seq, f"record {seq} does not follow record {seq - 1}: its prev hash "
                                          f"{rprev[:12]}... is not {prev[:12]}..."))
                if data is None:
                    purged += 1
                    purged_missing[seq] = None
                elif sha(data.encode("utf-8")).hexdigest() != dh:
                    problems.append((seq, f"record {seq} ({kind} {subject or ''}) has been altered: its content "
                                          f"does not match its content hash"))
                h = record_hash(rprev, seq, kind, subject, version, recorded_at, ev_at, author, account, target,
                                decision, dh)
                if h != rhash:
                    problems.append((seq, f"record {seq} ({kind} {subject or ''}) has been altered: its hash "
                                          f"does not match its fields"))
                if seq in wanted:
                    hashes[seq] = rhash
                if kind == "checkpoint":
                    in_chain.append((seq, rprev, data))
                elif kind == "purge" and data is not None:
                    try:
                        for a, b in json.loads(data).get("records", []):
                            purge_listed.update(range(a, b + 1))
                    except (ValueError, TypeError, AttributeError):
                        problems.append((seq, f"purge record {seq} is unreadable"))
                try:
                    feed(seq, kind, subject, version, recorded_at, author, account, target, decision, data, dh)
                except (ValueError, TypeError, AttributeError, KeyError) as exc:
                    problems.append((seq, f"record {seq} ({kind} {subject or ''}) cannot be replayed: {exc}"))
                prev = rhash
                expected = seq + 1
                if progress is not None and n % 100000 == 0:
                    progress(n)
            problems.extend((None, p) for p in self._compare_derived(replay.finish()))
        for seq in purged_missing:
            if seq not in purge_listed:
                problems.append((seq, f"record {seq}'s content was erased, but no purge record says so"))
                break
        head_seq, head_hash = expected - 1, prev
        if meta.get("head_seq") is not None and (int(meta["head_seq"]) != head_seq or meta.get("head_hash") != head_hash):
            bad = min(int(meta["head_seq"]), head_seq) + 1
            problems.append((bad, f"the chain ends at record {head_seq}, but the archive last committed record "
                                  f"{meta['head_seq']} (hash {str(meta.get('head_hash'))[:12]}...): records were "
                                  f"removed or the head was altered"))
        if expect_head is not None and expect_head not in (head_hash, head_hash[:len(expect_head)]):
            problems.append((head_seq + 1, f"the chain head is {head_hash}, not the expected {expect_head}"))
        cc = ck.check(meta.get("archive_id"), in_chain, hashes, head_seq, from_file, file_problems, keys, max_age)
        problems.extend(cc.problems)
        problems.sort(key=lambda p: (p[0] is None, p[0] or 0))
        result = VerifyResult(not problems, n, head_seq, head_hash, purged=purged,
                              seconds=round(time.perf_counter() - t0, 3), unchecked_items=len(replay.unknown),
                              checkpoints=cc.count, latest_checkpoint=cc.latest.to_json() if cc.latest else None)
        if problems:
            result.first_bad, result.problem, result.bad_count = problems[0][0], problems[0][1], len(problems)
        return result

    def _purge_facts(self) -> dict[int, dict]:
        """{seq: facts} kept by the purge records for the records they erased (see `derived`)."""
        facts: dict[int, dict] = {}
        for (data,) in self._all(f"SELECT data FROM {self.T}records WHERE kind = 'purge' AND data IS NOT NULL"):
            try:
                kept = json.loads(data).get("facts") or {}
                facts.update((int(k), v) for k, v in kept.items() if isinstance(v, dict))
            except (ValueError, TypeError, AttributeError):
                continue  # an unreadable purge record is reported by the chain walk
        return facts

    def _compare_derived(self, replay: Replay) -> list[str]:
        """Every derived-table row that differs from what the chain says it must be (at most 20 named)."""
        T = self.T
        found = replay.compare(
            self._iter(f"SELECT key, platform, pid, kind, version, digest, event_seq, author, account, removed, "
                       f"status FROM {T}items"),
            self._all(f"SELECT key, policy, version, seq, decision FROM {T}item_verdicts"),
            self._all(f"SELECT author, removed FROM {T}authors"),
            self._all(f"SELECT id, reason, subject, author, account, placed_seq, placed_at, released_seq "
                      f"FROM {T}holds"), T)
        out: list[str] = []
        for problem in found:
            out.append(problem)
            if len(out) >= 20:
                break
        return out

    def _facts_for(self, seqs: list[int]) -> dict[str, dict]:
        """What the replay needs of records about to be erased (their kind, an action's type, a verdict's
        policy; no content), for the purge record to keep."""
        T, out = self.T, {}
        for i in range(0, len(seqs), 400):
            chunk = seqs[i:i + 400]
            marks = ", ".join("?" for _ in chunk)
            rows = self._all(f"SELECT seq, kind, subject, data, data_hash, recorded_at FROM {T}records "
                             f"WHERE seq IN ({marks}) AND kind IN ('event', 'verdict')", chunk)
            before = [r[0] - 1 for r in rows if r[1] == "event"]
            prevs = {r[0]: r for r in self._all(
                f"SELECT seq, kind, target, recorded_at, data FROM {T}records WHERE seq IN "
                f"({', '.join('?' for _ in before)})", before)} if before else {}
            for seq, kind, subject, data, dh, recorded_at in rows:
                if data is None:
                    continue
                if kind == "verdict":
                    policy, reason = verdict_facts(data)
                    out[str(seq)] = {"policy": policy, "reason": reason}
                else:
                    p = prevs.get(seq - 1)
                    as_target = p is not None and is_target_record(p[:4], seq, subject, recorded_at)
                    out[str(seq)] = event_facts(data, dh, (p[4] or "{}") if as_target else None)
        return out

    def sign_checkpoint(self, key: Any, *, file: str | None = None, when: datetime | None = None) -> tuple[Any, Any]:
        """Sign the chain head with `key` (an Ed25519 private key), record the checkpoint in the chain and
        append it to the checkpoint file (`file`, else the one beside an SQLite archive). Returns the
        checkpoint and the file written (None for none)."""
        from pathlib import Path

        from . import checkpoint as ck

        path = Path(file) if file else ck.default_file(self)
        with self.writing("record a checkpoint") as w:
            if w.seq == 0:
                raise ArchiveError(f"the archive {self.url} is empty: there is no head to checkpoint yet")
            row = self._one(f"SELECT value FROM {self.T}meta WHERE key = 'archive_id'")
            cp = ck.sign(row[0] if row else "", w.seq, w.hash, key, when)
            w.append("checkpoint", cp.to_json())
        if path is not None:
            ck.append_to_file(path, cp)
        return cp, path

    # -- retention -------------------------------------------------------------------------------

    def apply_retention(self, rule: RetentionRule | str | None = None, *, now: datetime | None = None,
                        policy: Any = None, dry_run: bool = False) -> RetentionReport:
        """Erase the content of every item whose retention has run out and that no hold covers.

        `rule` is a `RetentionRule` or its text (`"7 years"`). Without one, `policy` (a compiled policy)
        supplies its own: the `retain …` line of its header (`policy.retention`). `policy` may also be
        just a name, recorded in the purge record."""
        name = policy if isinstance(policy, str) or policy is None else getattr(policy, "name", None)
        if rule is None:
            declared = getattr(policy, "retention", None) if not isinstance(policy, str) else None
            if declared is None:
                raise ArchiveError(f"policy {name} declares no retention (no `retain …` line): give a rule"
                                   if name else "no retention rule given, and no policy to take one from")
            rule = declared
        rule = RetentionRule.parse(rule, source=name)
        policy = name
        now = now or utcnow()
        cutoff = rule.cutoff(now)
        report = RetentionReport(str(rule), None if cutoff is None else to_iso(cutoff))
        if cutoff is None:
            return report
        cut = to_iso(cutoff)
        T = self.T
        with self.writing("apply retention") as w:
            holds = [Hold(r[0], r[1], r[2], r[3], r[4]) for r in
                     self._all(f"SELECT id, reason, subject, author, account FROM {T}holds "
                               f"WHERE released_seq IS NULL")]
            kinds = ", ".join(f"'{k}'" for k in CONTENT_KINDS)
            has_content = (f"EXISTS (SELECT 1 FROM {T}records c WHERE c.subject = r.subject AND c.kind IN ({kinds}) "
                           f"AND c.data IS NOT NULL)")
            if rule.after == "read":
                ref_sql = (f"SELECT subject, MAX(recorded_at) FROM {T}records r WHERE kind = 'read' "
                           f"AND {has_content} GROUP BY subject")
            elif rule.after == "event":
                ref_sql = (f"SELECT subject, MAX(COALESCE(ev_at, recorded_at)) FROM {T}records r "
                           f"WHERE kind IN ('event', 'rejected') AND subject IS NOT NULL AND {has_content} "
                           f"GROUP BY subject")
            else:
                ref_sql = (f"SELECT subject, MAX(recorded_at) FROM {T}records r WHERE subject IS NOT NULL "
                           f"AND kind IN ('event', 'verdict', 'evidence', 'appeal', 'read', 'rejected') AND "
                           f"{has_content} GROUP BY subject")
            expired = [s for s, ref in self._all(ref_sql) if s is not None and ref is not None and ref < cut]
            report.expired = len(expired)
            to_purge: list[str] = []
            for key in expired:
                item = w.item(key)
                author, account = (item.author, item.account) if item else (None, None)
                if any(h.matches(key, author, account) for h in holds):
                    report.held += 1
                    report.held_items.append(key)
                elif rule.unless and item is not None and rule.exempts(_loads(w.data_of(item.event_seq))):
                    report.exempt += 1
                else:
                    to_purge.append(key)
            seqs: list[int] = []
            for i in range(0, len(to_purge), 500):
                chunk = to_purge[i:i + 500]
                marks = ", ".join("?" for _ in chunk)
                seqs.extend(r[0] for r in self._all(
                    f"SELECT seq FROM {T}records WHERE subject IN ({marks}) AND kind IN ({kinds}) "
                    f"AND data IS NOT NULL", chunk))
            seqs.sort()
            report.purged_items = len({k for k in to_purge})
            report.purged_records = len(seqs)
            if dry_run or not seqs:
                if dry_run:
                    self._rollback_pending(w)
                return report
            facts = self._facts_for(seqs)
            for i in range(0, len(seqs), 500):
                chunk = seqs[i:i + 500]
                marks = ", ".join("?" for _ in chunk)
                self._exec(f"UPDATE {T}records SET data = NULL WHERE seq IN ({marks})", chunk)
            rec = w.append("purge", {"rule": rule.to_json(), "policy": policy, "cutoff": cut,
                                     "items": len(to_purge), "records": _ranges(seqs),
                                     "held": report.held, "exempt": report.exempt, "facts": facts})
            report.record = rec.seq
        return report

    def _rollback_pending(self, w: Writer) -> None:
        w.rows.clear()
        w._dirty_items.clear()
        w._dirty_authors.clear()
        w._dirty_verdicts.clear()
        w._versions.clear()
        w.seq = w.start_seq

    # -- export ----------------------------------------------------------------------------------

    def select_in(self, column: str, values: list[str], kinds: tuple[str, ...] | None = None) -> list[Record]:
        """Records whose `column` (subject or target) is one of `values`, in chain order."""
        if column not in ("subject", "target"):
            raise ValueError(column)
        out: list[Record] = []
        extra = "" if not kinds else " AND kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"
        with self.reading("read the archive"):
            for i in range(0, len(values), 400):
                chunk = values[i:i + 400]
                marks = ", ".join("?" for _ in chunk)
                out.extend(Record(*r) for r in self._all(
                    f"SELECT {_RECORD_SELECT} FROM {self.T}records WHERE {column} IN ({marks}){extra}", chunk))
        out.sort(key=lambda r: r.seq)
        return out

    def item_status(self, keys: list[str]) -> dict[str, tuple[str, int]]:
        """{key: (status, latest version)}."""
        out: dict[str, tuple[str, int]] = {}
        with self.reading("read the archive"):
            for i in range(0, len(keys), 400):
                chunk = keys[i:i + 400]
                marks = ", ".join("?" for _ in chunk)
                for k, status, version in self._all(
                        f"SELECT key, status, version FROM {self.T}items WHERE key IN ({marks})", chunk):
                    out[k] = (status, version)
        return out

    def event_records(self, *, since: str | None = None, until: str | None = None) -> Iterator[Record]:
        sql = f"SELECT {_RECORD_SELECT} FROM {self.T}records WHERE kind = 'event'"
        params: list[Any] = []
        if since:
            sql += " AND COALESCE(ev_at, recorded_at) >= ?"
            params.append(since)
        if until:
            sql += " AND COALESCE(ev_at, recorded_at) < ?"
            params.append(until)
        with self.reading("export from the archive"):
            for row in self._iter(sql + " ORDER BY seq", params):
                yield Record(*row)

    def stats(self) -> dict[str, Any]:
        with self.reading():
            kinds = dict(self._all(f"SELECT kind, COUNT(*) FROM {self.T}records GROUP BY kind"))
            items = self._one(f"SELECT COUNT(*) FROM {self.T}items")[0]
            head = self._head()
            meta = {k: v for k, v in self._all(f"SELECT key, value FROM {self.T}meta")}
        return {"archive": self.url, "backend": self.backend, "archive_id": meta.get("archive_id"),
                "records": head[0], "head": head[1], "items": items, "by_kind": kinds}

    # -- schema ----------------------------------------------------------------------------------

    def _init_meta(self) -> None:
        rows = [("format", FORMAT), ("schema", str(SCHEMA_VERSION)), ("archive_id", str(uuid.uuid4())),
                ("created", now_iso()), ("head_seq", "0"), ("head_hash", GENESIS)]
        self._executemany(f"INSERT INTO {self.T}meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", rows)

    def _check_meta(self, what: str) -> None:
        meta = {k: v for k, v in self._all(f"SELECT key, value FROM {self.T}meta")}
        if meta.get("format") != FORMAT:
            from .errors import ForeignArchive
            raise ForeignArchive(f"{what} is not a policykit archive (its metadata names "
                                 f"{meta.get('format')!r}); refusing to touch it")
        try:
            schema = int(meta.get("schema", "0"))
        except ValueError:
            schema = -1
        if schema != SCHEMA_VERSION:
            from .errors import ForeignArchive
            raise ForeignArchive(f"{what} is a policykit archive of schema {meta.get('schema')!r}; this policykit "
                                 f"reads schema {SCHEMA_VERSION} only")


def _loads(data: str | None) -> Any:
    return None if data is None else json.loads(data)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: the replay builds one small list per item and creates no
    cycles, and collections that rescan a million live lists again and again would triple verify's time."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _chunks(values: list, size: int) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _ranges(seqs: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for s in seqs:
        if out and out[-1][1] == s - 1:
            out[-1][1] = s
        else:
            out.append([s, s])
    return out


def schema_sql(T: str, bigint: str = "INTEGER", without_rowid: str = "") -> list[str]:
    """DDL; SQLite passes `without_rowid=" WITHOUT ROWID"` so keyed tables are one B-tree each."""
    W = without_rowid
    return [
        f"CREATE TABLE IF NOT EXISTS {T}meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"""CREATE TABLE IF NOT EXISTS {T}records (
            seq {bigint} PRIMARY KEY, kind TEXT NOT NULL, subject TEXT, version INTEGER,
            recorded_at TEXT NOT NULL, ev_at TEXT, author TEXT, account TEXT, target TEXT, decision TEXT,
            data TEXT, data_hash TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL)""",
        f"CREATE INDEX IF NOT EXISTS {T}records_subject ON {T}records (subject)",
        f"CREATE INDEX IF NOT EXISTS {T}records_target ON {T}records (target) WHERE target IS NOT NULL",
        f"""CREATE TABLE IF NOT EXISTS {T}items (
            key TEXT PRIMARY KEY, platform TEXT NOT NULL, pid TEXT, kind TEXT NOT NULL, version INTEGER NOT NULL,
            digest TEXT NOT NULL, event_seq {bigint} NOT NULL, author TEXT, account TEXT,
            removed INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL){W}""",
        f"CREATE INDEX IF NOT EXISTS {T}items_pid ON {T}items (pid)",
        f"""CREATE TABLE IF NOT EXISTS {T}item_verdicts (
            key TEXT NOT NULL, policy TEXT NOT NULL, version INTEGER NOT NULL, seq {bigint} NOT NULL,
            decision TEXT NOT NULL, PRIMARY KEY (key, policy)){W}""",
        f"CREATE TABLE IF NOT EXISTS {T}authors (author TEXT PRIMARY KEY, removed INTEGER NOT NULL){W}",
        f"""CREATE TABLE IF NOT EXISTS {T}holds (
            id {bigint} PRIMARY KEY, reason TEXT NOT NULL, subject TEXT, author TEXT, account TEXT,
            placed_seq {bigint} NOT NULL, placed_at TEXT NOT NULL, released_seq {bigint})""",
    ]


__all__ = ["Archive", "ItemState", "Ingested", "Record", "RetentionReport", "VerifyResult", "Writer",
           "author_key", "dumps", "event_digest", "event_key", "normalize_time", "schema_sql"]
