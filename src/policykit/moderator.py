"""The moderation session for bots: evaluate, record and answer in one call.

    import policykit
    from policykit.moderator import Moderator

    mod = Moderator(policykit.load("clinton"), "moderation.db")    # or an Archive, or a postgresql:// URL
    verdict = mod.handle({"kind": "comment", "id": "c-981", "platform": "facebook", "text": "...",
                          "author": {"id": "u-17", "name": "Pat"}})
    mod.appeal("c-981", "My comment was about the park, not a solicitation.")

`handle(event)`:

1. looks the event up in the archive by `platform:id`. The same content delivered again (a webhook
   retry) is not recorded twice: it gets back the verdict recorded the first time. The same id with
   new content is an edit, recorded as a new version and judged again;
2. fills `author_history.removed_before` for a comment from the archive: how many of this author's
   earlier items were removed (by a `remove` verdict, or by a deletion or hide that was not denied),
   so "repeat violator" rules work without the caller counting (a larger count given by the caller
   is kept);
3. evaluates the policy, and in one durable transaction records the event, the evidence documented
   before a removal (the content, the findings and their evidence: Clinton 3.5.4's "document, then
   remove"), and the verdict with the policy's name, version and digest;
4. returns the verdict only once all that is committed.

`handle_many(events)` does the same for a batch in one transaction (one disk sync): what bots and
`policykit moderate` use for throughput. A bad item never stops a batch: whatever it raises while
being prepared, validated or judged (an `EventError`, or anything else a hostile event provokes), it
gets an `Outcome` with `error`, and a `rejected` record (the input as received, the error, where it
came from) is written in the same transaction. The same input rejected again (a replay after a crash)
is recognised by its digest: it is answered again, as a duplicate, and not recorded twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, Iterable

from .records import Archive, ArchiveError, RetentionRule, open_archive
from .records.store import Ingested, Writer, author_key, dumps, event_digest, event_key, json_str
from .stream import Rejected

_ARCHIVING = ("archive", "record", "log")


@dataclass(slots=True)
class Outcome:
    """What `handle_many` did with one event."""

    verdict: Any = None          # the policy's Verdict (a pydantic model), or None on error
    verdict_json: str | None = None
    key: str | None = None       # the item's archive key, `platform:id`
    version: int | None = None   # the item version judged
    record: int | None = None    # the verdict record's sequence number
    hash: str | None = None      # ... and its chain hash (a receipt)
    duplicate: bool = False      # a redelivery: nothing new was recorded
    error: str | None = None     # the event was refused; only a `rejected` record was written
    error_path: str | None = None
    where: dict[str, Any] | None = None  # where the input came from (`line`, `index`), when given

    @property
    def decision(self) -> str | None:
        if self.verdict_json is None:
            return None
        return json.loads(self.verdict_json).get("decision")

    @property
    def receipt(self) -> dict[str, Any] | None:
        """The `record` object `policykit moderate` adds to each answer line, key for key: for a verdict
        `{key, version, seq, hash, duplicate}` (`seq` is this Outcome's `record`); for a refused event
        `{kind: "rejected", seq, hash, duplicate}`, or None when not even that was recorded."""
        if self.error is not None:
            if self.record is None:
                return None
            return {"kind": "rejected", "seq": self.record, "hash": self.hash, "duplicate": self.duplicate}
        return {"key": self.key or "", "version": self.version, "seq": self.record, "hash": self.hash,
                "duplicate": self.duplicate}

    def to_json_line(self, where: dict[str, Any] | None = None) -> str:
        """The verdict as one JSON line, with a `record` receipt added; or an `error` object. `where`
        (e.g. `{"line": 7, "index": 2}`) is added to either, to match the answer up with its input."""
        if self.error is not None:
            answer: dict[str, Any] = {"error": self.error, "path": self.error_path, "key": self.key,
                                      **(where or self.where or {})}
            if self.record is not None:
                answer["record"] = self.receipt
            return json.dumps(answer, ensure_ascii=False)
        receipt = (f'{{"key":{json_str(self.key or "")},"version":{self.version},"seq":{self.record},'
                   f'"hash":"{self.hash}","duplicate":{"true" if self.duplicate else "false"}}}')
        body = self.verdict_json or "{}"
        located = "".join(f',"{k}":{json.dumps(v)}' for k, v in where.items()) if where else ""
        return body[:-1] + ("," if len(body) > 2 else "") + '"record":' + receipt + located + "}"


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    return value


class _Inputs(dict):
    """What the moderator filled in, serialised without the general JSON encoder (hot path)."""

    def __init__(self, value: int, from_archive: int) -> None:
        super().__init__(author_history={"removed_before": value, "from_archive": from_archive})
        self.json = f'{{"author_history":{{"from_archive":{from_archive},"removed_before":{value}}}}}'


class _AttrView:
    """Attribute access over a verdict given as a plain mapping."""

    def __init__(self, data: Any) -> None:
        self._d = data

    def __getattr__(self, name: str) -> Any:
        value = self._d.get(name) if isinstance(self._d, dict) else None
        if isinstance(value, dict):
            return _AttrView(value)
        if isinstance(value, list):
            return [_AttrView(v) if isinstance(v, dict) else v for v in value]
        return value


def _verdict_class() -> Any:
    try:
        from .verdict import Verdict

        return Verdict
    except ImportError:  # pragma: no cover - the core always has it
        return None


def policy_ref(policy: Any) -> dict[str, Any]:
    """Name, title, version and digest of a compiled policy, as verdict records carry them."""
    digest = getattr(policy, "digest", None)
    if not digest:
        source = getattr(policy, "source", None) or getattr(policy, "source_text", None)
        if isinstance(source, str) and source:
            digest = sha256(source.encode("utf-8")).hexdigest()
    return {"name": getattr(policy, "name", None), "title": getattr(policy, "title", None),
            "version": getattr(policy, "version", None), "digest": digest}


_Batch = tuple[list[Any], list[tuple | None], list[str], list[dict[str, Any] | None]]


def _serialised(verdict: Any) -> tuple[Any, str, str, list]:
    """(verdict, its JSON, decision, obligation actions)."""
    if hasattr(verdict, "model_dump_json"):  # the fast path: pydantic serialises in Rust
        return (verdict, verdict.model_dump_json(), str(verdict.decision),
                [o.action for o in verdict.obligations])
    verdict = dict(verdict)
    return (verdict, dumps(verdict), str(verdict.get("decision")),
            [o.get("action") for o in verdict.get("obligations") or []])


class Moderator:
    """A stateful moderation session over one policy and one archive. Not for sharing between
    threads: give each thread (or process) its own Moderator; the archive keeps them consistent."""

    def __init__(self, policy: Any, archive: Archive | str, *, fill_history: bool = True,
                 document: bool = True) -> None:
        self.policy = policy
        self._owns_archive = isinstance(archive, str)
        self.archive: Archive = open_archive(archive) if isinstance(archive, str) else archive
        self.fill_history = fill_history
        self.document = document
        self.ref = policy_ref(policy)
        self.name = str(self.ref["name"])
        self._verdict_cls = _verdict_class()
        retention = getattr(policy, "retention", None)
        self.retention: RetentionRule | None = (
            None if retention is None else RetentionRule.parse(retention, source=self.name))
        if self.retention is not None:
            self._declare_retention(self.retention)

    # -- public API ------------------------------------------------------------------------------

    def handle(self, event: Any) -> Any:
        """Evaluate, record and return the verdict. Raises `EventError` for a malformed event (nothing
        is recorded then) and `ArchiveError` (e.g. `DiskFull`) when the archive cannot record."""
        out = self.handle_many([event], raise_errors=True)[0]
        return out.verdict

    def handle_many(self, events: Iterable[Any], *, raise_errors: bool = False,
                    sources: list[dict[str, Any] | None] | None = None) -> list[Outcome]:
        """Handle a batch in one transaction; outcomes in input order. An item that is refused (a
        malformed event, anything that raises while it is judged, or a `Rejected` given in the batch)
        gets an Outcome with `error` and a `rejected` record (or, with `raise_errors`, raises); the
        others are recorded. `sources` (one per event, e.g. `{"line": 12}`) goes into rejected records
        and error outcomes, so the caller's input can be matched up."""
        batch = self._prepare(events, sources)
        with self.archive.writing("record a batch of events") as w:
            return self._run(w, batch, raise_errors)

    def pipeline(self) -> "Pipeline":
        """Batches judged while the previous batch's commit is syncing to disk (see `Pipeline`)."""
        return Pipeline(self)

    def _prepare(self, events: Iterable[Any], sources: list[dict[str, Any] | None] | None = None) -> "_Batch":
        """Events as plain dicts, with their canonical JSON, digest, key and author worked out; an
        event for which that fails (it cannot be put in canonical form) becomes a `Rejected`."""
        events = [e.model_dump(mode="json", exclude_none=True) if hasattr(e, "model_dump") else e for e in events]
        wheres = list(sources) if sources is not None else [None] * len(events)
        if len(wheres) != len(events):
            raise ValueError(f"{len(wheres)} sources for {len(events)} events")
        pres: list[tuple | None] = []
        authors: list[str] = []
        for i, e in enumerate(events):
            pre = None
            if isinstance(e, dict):
                try:
                    canon, digest = event_digest(e)
                    a = author_key(e)
                    pre = (canon, digest, *event_key(e, digest), a)
                except ArchiveError:
                    raise
                except Exception as exc:
                    events[i] = Rejected.of(exc, e, wheres[i])
                else:
                    if a and self.fill_history and e.get("kind") == "comment":
                        authors.append(a)
            pres.append(pre)
        return events, pres, authors, wheres

    def _run(self, w: Writer, batch: "_Batch", raise_errors: bool = False) -> list[Outcome]:
        events, pres, authors, wheres = batch
        outcomes: list[Outcome] = []
        w.prefetch([p[4] for p in pres if p is not None], authors, self.name)
        for event, pre, where in zip(events, pres, wheres):
            if isinstance(event, Rejected):
                if raise_errors and event.cause is not None:
                    raise event.cause
                outcomes.append(self._reject(w, event))
                continue
            try:
                outcomes.append(self._handle(w, event, pre))
            except ArchiveError:
                raise
            except Exception as exc:
                if raise_errors:
                    raise
                outcomes.append(self._reject(w, Rejected.of(exc, event, where)))
        return outcomes

    def _reject(self, w: Writer, rejected: Rejected) -> Outcome:
        """Record a rejected input (once: the same input again is answered from its first record)."""
        subject = f"rejected:{rejected.digest()}"
        seq, hash_ = w.rejected_record(subject)
        duplicate = seq is not None
        if not duplicate:
            rec = w.append("rejected", rejected.record(), subject=subject)
            seq, hash_ = rec.seq, rec.hash
        return Outcome(error=rejected.error, error_path=rejected.path, record=seq, hash=hash_,
                       duplicate=duplicate, where=rejected.where)

    def appeal(self, event_id: str, text: str, *, by: str | None = None) -> Any:
        """Record an appeal of the decision on an item (its `platform:id` key, or its platform id) and
        re-evaluate its latest version; returns the new verdict, which is recorded too. The author's
        history is as of that version's event: only removals recorded before it count, so what the
        author did later cannot make the appeal's outcome worse."""
        with self.archive.writing("record an appeal") as w:
            keys = w.find_keys(str(event_id))
            if not keys:
                raise ArchiveError(f"no archived item {event_id!r} to appeal")
            if len(keys) > 1:
                raise ArchiveError(f"{event_id!r} names several items ({', '.join(keys)}); give platform:id")
            item = w.item(keys[0])
            assert item is not None
            data = w.data_of(item.event_seq)
            if data is None:
                raise ArchiveError(f"the content of {item.key} was erased under retention; it cannot be re-evaluated")
            event = json.loads(data)
            rec = w.append("appeal", {"event": item.key, "version": item.version, "text": text, "by": by},
                           subject=item.key, version=item.version, author=item.author, account=item.account)
            ing = Ingested(item.key, item.version, item.event_seq, True, item, event)
            out = self._evaluate_and_record(w, ing, event, reason="appeal", extra={"appeal": rec.seq},
                                            as_of=item.event_seq)
        return out.verdict

    def close(self) -> None:
        if self._owns_archive:
            self.archive.close()

    def __enter__(self) -> "Moderator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------------

    def _handle(self, w: Writer, event: Any, pre: tuple | None = None) -> Outcome:
        if hasattr(event, "model_dump"):
            event = event.model_dump(mode="json", exclude_none=True)
        if not isinstance(event, dict):
            from .errors import EventError, FieldProblem

            raise EventError([FieldProblem("", "an event object (a JSON mapping)", type(event).__name__)])
        p = w.lookup(event, pre)
        if p.duplicate and p.item is not None and p.seen is not None:
            version, event_seq = p.seen   # the version this content was recorded as (maybe not the latest)
            seq = self._verdict_on(w, p.key, version, p.item.version)
            data = w.data_of(seq) if seq is not None else None
            if data is not None:
                verdict = json.loads(data).get("verdict")
                vjson = dumps(verdict)
                return Outcome(self._rebuild(verdict), vjson, p.key, version, seq, self._hash_of(w, seq), True)
            # seen, but not judged by this policy (or its verdict was erased): judge it now
            ing = Ingested(p.key, version, event_seq, True, p.item, event)
            return self._evaluate_and_record(w, ing, event, reason="evaluate")
        inputs_event, inputs = self._with_history(w, event, p.item, p.author)
        verdict = self.policy.evaluate(inputs_event)  # raises EventError before anything is recorded
        judged = _serialised(verdict)  # ... and a verdict that cannot be written fails here, before too
        ing = w.ingest(event, p)
        return self._record(w, ing, verdict, inputs, reason="evaluate", judged=judged)

    def _verdict_on(self, w: Writer, key: str, version: int, latest: int) -> int | None:
        """The record of this policy's verdict on `version` of `key`: for the latest version the
        `item_verdicts` index has it; an older version (a stream replayed) is looked up in the chain."""
        if version == latest:
            prior = w.latest_verdict(key, self.name)
            return prior[1] if prior is not None and prior[0] == version else None
        return w.verdict_on(key, version, self.name)

    def _with_history(self, w: Writer, event: dict, item: Any, author: str | None = None,
                      as_of: int | None = None) -> tuple[dict, dict | None]:
        """The event with `author_history.removed_before` filled from the archive: the author's removals
        now, or (`as_of`, a record number: an appeal) those that stood before that record."""
        if not self.fill_history or event.get("kind") != "comment":
            return event, None
        author = author or author_key(event)
        if author is None:
            return event, None
        if as_of is not None:
            removed = w.removed_as_of(author, as_of, item.key if item is not None else None)
        else:
            removed = w.removed_count(author)
            if item is not None and item.removed:
                removed -= 1  # an edit of an item that was itself removed: count only earlier ones
        given = event.get("author_history") if isinstance(event.get("author_history"), dict) else {}
        try:
            given_n = int(given.get("removed_before") or 0)
        except (TypeError, ValueError):
            given_n = 0  # let the policy's own validation report it
            return event, None
        value = max(removed, given_n)
        history = {**given, "removed_before": value}
        return {**event, "author_history": history}, _Inputs(value, removed)

    def _evaluate_and_record(self, w: Writer, ing: Ingested, event: dict, *, reason: str,
                             extra: dict | None = None, as_of: int | None = None) -> Outcome:
        inputs_event, inputs = self._with_history(w, event, ing.item, as_of=as_of)
        verdict = self.policy.evaluate(inputs_event)
        return self._record(w, ing, verdict, inputs, reason=reason, extra=extra)

    def _record(self, w: Writer, ing: Ingested, verdict: Any, inputs: dict | None, *, reason: str,
                extra: dict | None = None, judged: tuple[Any, str, str, list] | None = None) -> Outcome:
        verdict, vjson, decision, actions = judged or _serialised(verdict)
        fulfilled: list[str] = []
        if self.document and (decision == "remove" or "document" in actions):
            seq = self._evidence(w, ing, verdict, decision)
            if "document" in actions:
                fulfilled.append(f'{{"action":"document","record":{seq}}}')
        for action in actions:
            if action in _ARCHIVING:
                fulfilled.append(f'{{"action":"{action}","record":{ing.event_seq}}}')
        more = ("," + dumps(extra)[1:-1]) if extra else ""
        if fulfilled:
            more += ',"fulfilled":[' + ",".join(fulfilled) + "]"
        rec = w.record_verdict(ing, self.ref, vjson, decision, inputs=inputs, reason=reason, extra_json=more)
        return Outcome(verdict, vjson, ing.key, ing.version, rec.seq, rec.hash, ing.duplicate and reason != "appeal")

    def _evidence(self, w: Writer, ing: Ingested, verdict: Any, decision: str) -> int:
        """Document before removing: the content as it stood (bound by its record's hash) and what the
        policy found in it, with the detectors' evidence and the clauses."""
        if not hasattr(verdict, "findings"):
            verdict = _AttrView(verdict)
        findings = [{"rule": f.rule, "effect": f.effect, "message": f.message,
                     "clauses": [f"{c.policy} {c.clause}" for c in f.citations],
                     "evidence": [_plain(e) for e in f.evidence]}
                    for f in verdict.findings]
        documents = [{"action": o.action, "detail": o.detail,
                      "clauses": [f"{c.policy} {c.clause}" for c in o.citations]}
                     for o in verdict.obligations if o.action == "document"]
        event, item = ing.event, ing.item
        data = {"event": ing.key, "version": ing.version, "event_seq": ing.event_seq,
                "event_hash": self._hash_of(w, ing.event_seq), "policy": self.name, "decision": decision,
                "text": event.get("text"), "findings": findings, "obligations": documents}
        if event.get("links"):
            data["links"] = event["links"]
        return w.append("evidence", data, subject=ing.key, version=ing.version, author=item.author,
                        account=item.account, decision=decision).seq

    @staticmethod
    def _hash_of(w: Writer, seq: int) -> str | None:
        return w.hash_of(seq)

    def _rebuild(self, verdict: dict | None) -> Any:
        if verdict is None or self._verdict_cls is None:
            return verdict
        try:
            return self._verdict_cls.model_validate(verdict)
        except Exception:
            return verdict

    def _declare_retention(self, rule: RetentionRule) -> None:
        with self.archive.writing("declare the policy's retention") as w:
            rows = w.archive._all(f"SELECT data FROM {w.archive.T}records WHERE kind = 'retention' "
                                  f"ORDER BY seq DESC")
            for (data,) in rows:
                if data is None:
                    continue
                d = json.loads(data)
                if d.get("policy") == self.name:
                    if d.get("rule") == str(rule):
                        return
                    break
            w.append("retention", {"policy": self.name, **rule.to_json()})


class Pipeline:
    """`handle_many` for a stream: batch N+1 is judged while batch N's commit syncs to disk.

        pipe = moderator.pipeline()
        for done_tag, outcomes in pipe.submit(events, tag): ...   # earlier batches, now durable
        for done_tag, outcomes in pipe.drain(): ...               # when no more input is at hand
        pipe.close()

    A batch's outcomes are handed back only once its transaction is committed, so whoever answers
    them answers nothing that is not on disk. Batch N+1 is judged against what the archive holds plus
    what batch N recorded; under the write lock the chain head must still be the one batch N left,
    else another writer got in between and batch N+1 is judged again, the ordinary way (`handle_many`).
    Backends without a second reader (PostgreSQL, `:memory:`) simply run batch by batch. While a
    pipeline is open it owns its moderator's archive connection: do not call `handle` meanwhile."""

    def __init__(self, moderator: Moderator) -> None:
        self.mod = moderator
        self.archive = moderator.archive
        self.reader = self.archive.reader()
        self._inflight: tuple[Any, Any, list[Outcome], Writer] | None = None  # (thread result, tag, outcomes, writer)
        self._pool = None
        if self.reader is not None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1, thread_name_prefix="policykit-commit")
        self.redone = 0  # batches judged again because another writer got in between

    def submit(self, events: Iterable[Any], tag: Any = None,
               sources: list[dict[str, Any] | None] | None = None) -> list[tuple[Any, list[Outcome]]]:
        """Judge and record a batch; returns the batches now durably committed, with their tags."""
        if self.reader is None:
            return [(tag, self.mod.handle_many(events, sources=sources))]
        done: list[tuple[Any, list[Outcome]]] = []
        try:
            batch = self.mod._prepare(events, sources)
            with self.reader._guard("read the archive"):
                prev = self._inflight[3] if self._inflight is not None else None
                w = self.archive.prepare(self.reader, prev)
                outcomes = self.mod._run(w, batch)
        except BaseException:
            self._settle()
            raise
        done.extend(self.drain())
        if not self.archive.begin_prepared(w):
            self.redone += 1
            done.append((tag, self.mod.handle_many(batch[0], sources=batch[3])))
            return done
        self._inflight = (self._pool.submit(self.archive.commit_prepared), tag, outcomes, w)
        return done

    def drain(self) -> list[tuple[Any, list[Outcome]]]:
        """Wait for the batch in flight; returns it once it is durable (raises if its commit failed)."""
        if self._inflight is None:
            return []
        future, tag, outcomes, _ = self._inflight
        self._inflight = None
        future.result()
        return [(tag, outcomes)]

    def _settle(self) -> None:
        """While another error propagates: let a commit in flight finish, so the connection is free.

        Its outcomes were never handed out; if its commit failed too, that failure is secondary to the
        error already on its way up, which is the one the caller sees."""
        if self._inflight is not None:
            future = self._inflight[0]
            self._inflight = None
            try:
                future.result()
            except Exception:
                pass

    def close(self) -> None:
        """Wait for the batch in flight; a failed commit raises here, so no batch is lost silently."""
        try:
            self.drain()
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self.reader is not None:
            self.reader.close()

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, kind: Any, *exc: Any) -> None:
        if kind is None:
            self.close()
            return
        try:
            self._settle()
        finally:
            self._shutdown()


__all__ = ["Moderator", "Outcome", "Pipeline", "Rejected", "policy_ref"]
