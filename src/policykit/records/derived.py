"""The archive's derived tables, recomputed from the chain.

`items`, `item_verdicts`, `authors` and `holds` are indexes the writer keeps in step with the records
it appends (records/store.py, `Writer`): what a verdict reads (an author's earlier removals, an item's
latest content digest and status, the verdict a redelivery gets back) comes from them. The chain's
hashes do not cover them, so `verify` replays the chain through `Replay` and compares: a row someone
edited (`UPDATE policykit_authors SET removed = 0`, which would silence a repeat-violator rule) is
named. The rules here are the writer's, restated over records:

- an `event` record is a new version of its item: new items start `published`, a new version makes a
  `published` item `edited`; the record right after an action's event, in the same transaction, about
  the action's target, is the target's content archived with it (`Writer._ingest_target`);
- a `verdict` on a comment or post that says `remove` removes it; an `appeal` verdict that no longer
  says so reinstates a removed one; a verdict on an action that does not `deny` it applies a deletion
  or hide to the action's target; an action archived without a verdict in its transaction
  (`Archive.record`) is applied as it stands;
- the latest verdict per item and policy is the one on the highest version, the last among those;
- a `hold` record places a hold, a `release` record lifts it.

Retention erases content, and with it what the replay reads from an event or verdict (an item's
kind, an action's type, the policy a verdict is by). The `purge` record therefore keeps those few
facts (`facts`, per erased record; no content), so the replay still works after retention.
"""

from __future__ import annotations

import json
from json.decoder import scanstring
from typing import Any, Iterable, Iterator

from .chain import data_hash

try:  # orjson parses an event several times faster; the standard parser takes what it refuses (a lone
    from orjson import JSONDecodeError as _OrjsonError, loads as _orjson_loads  # surrogate, a huge integer)
except ImportError:  # pragma: no cover - orjson is a dependency
    _orjson_loads = None


def loads(text: str) -> Any:
    if _orjson_loads is not None:
        try:
            return _orjson_loads(text)
        except _OrjsonError:
            pass
    return json.loads(text)


REMOVAL_ACTIONS = {"delete_comment": "deleted", "delete_post": "deleted", "hide_comment": "hidden"}
_AH = '"author_history":'

# item state, as a list (hot loop): the `items` columns after the key
PLATFORM, PID, KIND, VERSION, DIGEST, EVENT_SEQ, AUTHOR, ACCOUNT, REMOVED, STATUS = range(10)


def content_digest(dh: str, data: str | None) -> str:
    """The content digest dedupe compares for an event record: its data hash, unless the event carried
    `author_history` (which a moderator fills in and the digest leaves out). The key can only be a
    real key when the text has it with an unescaped quote, so the parse is rare."""
    if data is None or _AH not in data:
        return dh
    event = loads(data)
    if isinstance(event, dict) and "author_history" in event:
        from .store import dumps

        return data_hash(dumps({k: v for k, v in event.items() if k != "author_history"}))
    return dh


def verdict_facts(data: str | None) -> tuple[str | None, str | None]:
    """(policy name, reason) of a verdict record's content. The writer lays the content out as
    `{"event":…,"version":…,"event_seq":…,"policy":{"digest":…,"name":…,…},"reason":"…"`, so both are
    found without parsing ~2 KB of JSON per verdict; anything else is parsed."""
    if data is None:
        return None, None
    if data.startswith('{"event":'):
        i = data.find('"policy":{"digest":')
        j = data.find(',"name":', i) if i > 0 else -1
        if j > 0:
            j += 8
            name: str | None
            if data.startswith('"', j):
                name, end = scanstring(data, j + 1)
            elif data.startswith("null", j):
                name, end = None, j + 4
            else:
                end = -1
            k = data.find(',"reason":"', end) if end > 0 else -1
            if k > 0:
                return str(name), data[k + 11:data.index('"', k + 11)]
    d = loads(data)
    policy = d.get("policy") if isinstance(d, dict) else None
    name = policy.get("name") if isinstance(policy, dict) else None
    return str(name), (d.get("reason") if isinstance(d, dict) else None)


def event_facts(data: str, dh: str, parent: str | None) -> dict[str, Any]:
    """What the replay needs of an event record: the item's kind, platform and platform id as the
    writer set them when it created the item, the content digest, and an action's removal status
    (`deleted`/`hidden`). `parent`: the action event's content when this record is its target's."""
    event = loads(data)
    digest = content_digest(dh, data) if _AH in data else dh
    if parent is not None:
        from .store import event_platform

        up = loads(parent)
        action = up.get("action") or {}
        facts = {"kind": str(event.get("kind") or action.get("type", "").split("_")[-1]),
                 "platform": event_platform(event, up), "pid": event.get("id") and str(event["id"])}
    else:  # store.event_key, inlined: this runs for every item verify replays
        platform = event.get("platform")
        if not platform and isinstance(event.get("account"), dict):
            platform = event["account"].get("platform")
        pid = event.get("id")
        facts = {"kind": str(event.get("kind")), "platform": str(platform or "generic"),
                 "pid": None if pid is None or pid == "" else str(pid)}
    if digest != dh:
        facts["digest"] = digest
    action = event.get("action") if facts["kind"] == "action" and parent is None else None
    if isinstance(action, dict) and action.get("type") in REMOVAL_ACTIONS:
        facts["removes"] = REMOVAL_ACTIONS[action["type"]]
    return facts


def is_target_record(prev: tuple | None, seq: int, subject: str | None, recorded_at: str) -> bool:
    """Whether an event record is the content of the action recorded just before it (same
    transaction, the action's target): `prev` is (seq, kind, target, recorded_at) of that record."""
    return (prev is not None and prev[1] == "event" and prev[2] is not None and prev[2] == subject
            and prev[0] == seq - 1 and prev[3] == recorded_at)


class Replay:
    """Derived state from records fed in chain order (`feed`), then `finish()`.

    `facts`: {seq: facts} for records whose content retention erased, from the purge records.
    Items whose state depends on erased content with no facts (a purge made before purges kept them)
    are listed in `unknown` and not compared."""

    def __init__(self, facts: dict[int, dict] | None = None) -> None:
        self.facts = facts or {}
        self.items: dict[str, list] = {}
        self.verdicts: dict[tuple[str, str], tuple[int, int, str]] = {}
        self.authors: dict[str, int] = {}
        self.holds: dict[int, list] = {}
        self.unknown: set[str] = set()
        self._actions: dict[tuple[str, int], tuple[str, str]] = {}  # (action key, version) -> (status, target)
        self._pending: tuple | None = None  # an action awaiting its verdict: (key, version, seq, recorded_at, target)
        self._prev: tuple | None = None     # (seq, kind, target, recorded_at, data) of the last record

    def feed(self, seq: int, kind: str, subject: str | None, version: int | None, recorded_at: str,
             author: str | None, account: str | None, target: str | None, decision: str | None,
             data: str | None, dh: str) -> None:
        p = self._pending
        if p is not None and not (recorded_at == p[3] and (
                (kind == "event" and subject == p[4] and seq == p[2] + 1)
                or (kind == "evidence" and subject == p[0])
                or (kind == "verdict" and subject == p[0] and version == p[1]))):
            self._resolve()
        if kind == "event" and subject is not None:
            self._event(seq, subject, version or 1, recorded_at, author, account, target, data, dh)
        elif kind == "verdict" and subject is not None:
            self._verdict(seq, subject, version or 0, decision, data)
        elif kind == "hold":
            d = json.loads(data) if data else {"subject": subject, "author": author, "account": account}
            self.holds[seq] = [d.get("reason"), d.get("subject"), d.get("author"), d.get("account"), seq,
                               recorded_at, None]
        elif kind == "release" and data:
            hold = self.holds.get(json.loads(data).get("hold"))
            if hold is not None:
                hold[6] = seq
        self._prev = (seq, kind, target, recorded_at, data)

    def finish(self) -> "Replay":
        if self._pending is not None:
            self._resolve()
        return self

    # -- the writer's rules ------------------------------------------------------------------------

    def _event(self, seq: int, key: str, version: int, recorded_at: str, author: str | None,
               account: str | None, target: str | None, data: str | None, dh: str) -> None:
        prev = self._prev
        as_target = (prev is not None and prev[2] == key and prev[0] == seq - 1 and prev[1] == "event"
                     and prev[3] == recorded_at)  # is_target_record, inlined (hot)
        item = self.items.get(key)
        if data is None:
            facts = self.facts.get(seq)
            if facts is None:
                self.unknown.add(key)
                facts = {"kind": "?", "platform": "?", "pid": None}
        elif item is None or target is not None or _AH in data:
            facts = event_facts(data, dh, prev[4] if as_target and prev and prev[4] else None)
        else:
            facts = None
        digest = facts.get("digest", dh) if facts else dh
        if item is None:
            self.items[key] = [facts["platform"], facts["pid"], facts["kind"], version, digest, seq, author, account,  # type: ignore[index]
                               False, "published"]
        else:
            item[VERSION], item[DIGEST], item[EVENT_SEQ] = version, digest, seq
            if not as_target:
                item[AUTHOR], item[ACCOUNT] = author or item[AUTHOR], account or item[ACCOUNT]
            if item[STATUS] == "published":
                item[STATUS] = "edited"
        if target is not None and facts and facts.get("removes"):
            self._actions[(key, version)] = (facts["removes"], target)
            self._pending = (key, version, seq, recorded_at, target)

    def _verdict(self, seq: int, key: str, version: int, decision: str | None, data: str | None) -> None:
        if data is None:
            facts = self.facts.get(seq)
            if facts is None:
                self.unknown.add(key)
                return
            policy, reason = facts.get("policy"), facts.get("reason")
        else:
            policy, reason = verdict_facts(data)
        item = self.items.get(key)
        if item is None:
            return
        k = (key, str(policy))
        cur = self.verdicts.get(k)
        if version >= item[VERSION] or cur is None or cur[0] <= version:
            self.verdicts[k] = (version, seq, str(decision))
        p = self._pending
        if p is not None and p[0] == key and p[1] == version:
            self._pending = None
        if item[KIND] in ("comment", "post"):
            if decision == "remove":
                if not item[REMOVED]:
                    item[STATUS] = "removed"
                    self._set_removed(item, True)
            elif reason == "appeal" and item[REMOVED] and item[STATUS] == "removed":
                item[STATUS] = "reinstated"
                self._set_removed(item, False)
        elif decision != "deny":
            self._apply(key, version)

    def _resolve(self) -> None:
        """An action archived without a verdict in its transaction takes effect as it stands."""
        key, version = self._pending[0], self._pending[1]  # type: ignore[index]
        self._pending = None
        self._apply(key, version)

    def _apply(self, key: str, version: int) -> None:
        act = self._actions.get((key, version))
        titem = self.items.get(act[1]) if act else None
        if titem is not None:
            titem[STATUS] = act[0]  # type: ignore[index]
            self._set_removed(titem, True)

    def _set_removed(self, item: list, removed: bool) -> None:
        if item[REMOVED] == removed:
            return
        item[REMOVED] = removed
        if item[AUTHOR]:
            self.authors[item[AUTHOR]] = max(0, self.authors.get(item[AUTHOR], 0) + (1 if removed else -1))

    # -- comparing with the stored tables ----------------------------------------------------------

    def compare(self, items: Iterable[tuple], verdicts: Iterable[tuple], authors: Iterable[tuple],
                holds: Iterable[tuple], T: str = "policykit_") -> Iterator[str]:
        """Problems: every stored row that differs from the replay, and every row the replay has that
        is missing (`items` rows as `SELECT key, platform, pid, kind, version, digest, event_seq,
        author, account, removed, status`; the others likewise in column order)."""
        names = ("platform", "pid", "kind", "version", "digest", "event_seq", "author", "account", "removed",
                 "status")
        expected, unknown, seen = self.items, self.unknown, set()
        for row in items:
            key = row[0]
            exp = expected.get(key)
            if exp is not None:
                seen.add(key)
                got = list(row[1:])
                if got == exp or key in unknown:  # `removed` is stored 0/1: equal to False/True
                    continue
                col = next(i for i in range(len(names)) if got[i] != exp[i])
                yield (f"{T}items row {key} does not match the chain: {names[col]} is "
                       f"{_show(got[col], names[col])}, the records say {_show(exp[col], names[col])}")
            elif key not in unknown:
                yield f"{T}items has a row for {key}, which no record of the chain archived"
        if len(seen) != len(expected):
            for key in expected.keys() - seen - unknown:
                yield f"{T}items has no row for {key}, which record {self.items[key][EVENT_SEQ]} archived"
        vwant = dict(self.verdicts)
        for key, policy, version, seq, decision in verdicts:
            exp = vwant.pop((key, policy), None)
            if key in self.unknown:
                continue
            if exp != (version, seq, decision):
                yield (f"{T}item_verdicts row ({key}, {policy}) does not match the chain: it keeps "
                       f"{_verdict(version, seq, decision)}, the records say {_verdict(*exp) if exp else 'none'}")
        for (key, policy), exp in vwant.items():
            if key not in self.unknown:
                yield f"{T}item_verdicts has no row for ({key}, {policy}): the records say {_verdict(*exp)}"
        unsure = {self.items[k][AUTHOR] for k in self.unknown if k in self.items}
        awant = {a: n for a, n in self.authors.items() if n}
        for author, n in authors:
            exp = awant.pop(author, 0)
            if n != exp and author not in unsure:
                yield (f"{T}authors row {author} does not match the chain: removed is {n}, the records say "
                       f"{exp} of this author's items were removed")
        for author, n in awant.items():
            if author not in unsure:
                yield f"{T}authors has no row for {author}: the records say {n} of this author's items were removed"
        hwant = dict(self.holds)
        for row in holds:
            exp = hwant.pop(row[0], None)
            if exp is None or list(row[1:]) != exp:
                yield f"{T}holds row {row[0]} does not match the hold and release records of the chain"
        for hold_id in hwant:
            yield f"{T}holds has no row for hold {hold_id}, which record {hold_id} placed"


def _show(value: Any, column: str = "") -> str:
    if column == "removed":  # stored 0/1
        return "true" if value else "false"
    return "none" if value is None else repr(value) if isinstance(value, str) else str(value)


def _verdict(version: int, seq: int, decision: str) -> str:
    return f"{decision} on version {version} (record {seq})"


__all__ = ["REMOVAL_ACTIONS", "Replay", "content_digest", "event_facts", "is_target_record", "verdict_facts"]
