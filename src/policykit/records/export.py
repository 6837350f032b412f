"""Answering a public-records request: select archived items and write them as JSON Lines or CSV.

Every row is one version of one item (a post, a comment, an account audit or an action) with its
content, time, URL and links, its current status (published, edited, removed, hidden, deleted,
reinstated), every verdict on it with the policy, version and citations, the actions taken on it, the
evidence documented and any appeal. Removed and deleted content is included: moderation never
deletes the record.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Iterator, TextIO

from .store import Archive, Record, normalize_time

CSV_COLUMNS = ("record", "key", "platform", "id", "kind", "version", "latest_version", "at", "recorded_at",
               "author_id", "author_name", "account_id", "account_handle", "text", "url", "links", "action",
               "target", "status", "decision", "policies", "rules", "citations", "actions", "appeals", "evidence",
               "purged", "hash", "error")


@dataclass
class ExportFilter:
    """What a request asks for. Every given field must match; text and names match case-insensitively."""

    account: str | None = None   # account id, handle (with or without @) or name
    author: str | None = None    # author (or acting person) id or name
    since: str | None = None     # ISO date or time, inclusive (event time; recorded time when it has none)
    until: str | None = None     # ISO date (inclusive: the whole day) or time (exclusive)
    text: str | None = None      # substring of the content's text
    decision: str | None = None  # allow | review | remove | deny | none (never judged)
    kind: str | None = None      # post | comment | account | action | rejected (input that was no valid event)

    def bounds(self) -> tuple[str | None, str | None]:
        since = normalize_time(self.since) if self.since else None
        until = None
        if self.until:
            text = str(self.until).strip()
            if len(text) == 10:
                until = normalize_time(date.fromisoformat(text) + timedelta(days=1))
            else:
                until = normalize_time(text)
        for name, given, got in (("since", self.since, since), ("until", self.until, until)):
            if given and got is None:
                raise ValueError(f"--{name} {given!r} is not an ISO 8601 date or time (e.g. 2024-03-01)")
        return since, until


def _low(v: Any) -> str:
    return str(v).lower() if v is not None else ""


def _match_actor(actor: Any, want: str) -> bool:
    if not isinstance(actor, dict):
        return False
    w = want.lower()
    return any(_low(actor.get(k)) == w for k in ("id", "name", "handle"))


def _match_account(account: Any, want: str) -> bool:
    if not isinstance(account, dict):
        return False
    w = want.lower().lstrip("@")
    return any(_low(account.get(k)).lstrip("@") == w for k in ("id", "handle", "name"))


def _content(event: dict) -> dict:
    """The part of an event that holds content: the event itself, or an action's target."""
    if event.get("kind") == "action":
        target = (event.get("action") or {}).get("target")
        return target if isinstance(target, dict) else {}
    return event


def _prefilter(rec: Record, event: dict | None, flt: ExportFilter) -> bool:
    if event is None:  # content erased by retention: only the record's own columns can be matched
        if flt.text or flt.kind:
            return False
        if flt.author and (rec.author or "").split(":", 1)[-1].lower() != flt.author.lower():
            return False
        if flt.account and (rec.account or "").lower().lstrip("@") != flt.account.lower().lstrip("@"):
            return False
        return True
    if flt.kind and event.get("kind") != flt.kind:
        return False
    if flt.author:
        who = event.get("actor") if event.get("kind") == "action" else event.get("author")
        if not (_match_actor(who, flt.author) or _match_actor(_content(event).get("author"), flt.author)):
            return False
    if flt.account and not (_match_account(event.get("account"), flt.account)
                            or _match_account(_content(event).get("account"), flt.account)):
        return False
    if flt.text:
        text = _content(event).get("text") or event.get("text") or ""
        if flt.text.lower() not in str(text).lower():
            return False
    return True


def _url(event: dict) -> str | None:
    extra = event.get("extra")
    if isinstance(extra, dict):
        for k in ("url", "permalink", "link"):
            if extra.get(k):
                return str(extra[k])
    return None


def _verdict_summary(rec: Record) -> dict[str, Any]:
    data = rec.content()
    if data is None:
        return {"record": rec.seq, "recorded_at": rec.recorded_at, "decision": rec.decision, "purged": True}
    verdict = data.get("verdict") or {}
    findings = [{"rule": f.get("rule"), "effect": f.get("effect"), "message": f.get("message"),
                 "citations": [{"policy": c.get("policy"), "clause": c.get("clause"), "text": c.get("text")}
                               for c in f.get("citations", [])]}
                for f in verdict.get("findings", [])]
    return {"record": rec.seq, "recorded_at": rec.recorded_at, "policy": data.get("policy"),
            "reason": data.get("reason"), "decision": verdict.get("decision", rec.decision),
            "findings": findings,
            "obligations": [{"action": o.get("action"), "detail": o.get("detail")}
                            for o in verdict.get("obligations", [])]}


def export_rows(archive: Archive, flt: ExportFilter | None = None, *, chunk: int = 500) -> Iterator[dict[str, Any]]:
    """The rows a request selects, in chain order."""
    flt = flt or ExportFilter()
    since, until = flt.bounds()
    if flt.kind == "rejected":
        yield from _rejected_rows(archive, flt, since, until)
        return
    want_decision = flt.decision.lower() if flt.decision else None
    batch: list[tuple[Record, dict | None]] = []

    def emit() -> Iterator[dict[str, Any]]:
        keys = sorted({r.subject for r, _ in batch if r.subject})
        about = archive.select_in("subject", keys, ("verdict", "evidence", "appeal"))
        acts = archive.select_in("target", keys, ("event",))
        act_verdicts = archive.select_in("subject", sorted({a.subject for a in acts if a.subject}), ("verdict",))
        status = archive.item_status(keys)
        by_subject: dict[str, list[Record]] = {}
        for r in about:
            by_subject.setdefault(r.subject or "", []).append(r)
        acts_by: dict[str, list[Record]] = {}
        for a in acts:
            acts_by.setdefault(a.target or "", []).append(a)
        act_decision: dict[str, str] = {}
        for v in act_verdicts:
            act_decision[v.subject or ""] = v.decision or ""
        for rec, event in batch:
            key = rec.subject or ""
            related = [r for r in by_subject.get(key, []) if r.version == rec.version]
            verdicts = [_verdict_summary(r) for r in related if r.kind == "verdict"]
            latest: dict[str, str | None] = {}
            for v in verdicts:
                pol = (v.get("policy") or {}).get("name") if v.get("policy") else None
                latest[str(pol)] = v.get("decision")
            decisions = set(latest.values())
            if want_decision and not ((want_decision == "none" and not verdicts) or want_decision in decisions):
                continue
            decision = None
            for d in ("deny", "remove", "review", "allow"):
                if d in decisions:
                    decision = d
                    break
            ev = event or {}
            content = _content(ev)
            author = ev.get("actor") if ev.get("kind") == "action" else ev.get("author")
            account = ev.get("account") or content.get("account") or {}
            citations: dict[str, None] = {}
            for v in verdicts:
                for f in v.get("findings", []):
                    for c in f.get("citations", []):
                        citations.setdefault(f"{c.get('policy')} {c.get('clause')}", None)
            action = ev.get("action") if ev.get("kind") == "action" else None
            st, latest_version = status.get(key, ("unknown", rec.version))
            yield {
                "record": rec.seq, "key": key, "platform": key.split(":", 1)[0] if ":" in key else None,
                "id": ev.get("id"), "kind": ev.get("kind"), "version": rec.version, "latest_version": latest_version,
                "at": ev.get("at"), "recorded_at": rec.recorded_at, "url": _url(ev),
                "links": list(ev.get("links") or content.get("links") or []),
                "text": ev.get("text") if ev.get("kind") != "action" else content.get("text"),
                "author": author if isinstance(author, dict) else None,
                "account": account if isinstance(account, dict) and account else None,
                "action": None if not isinstance(action, dict) else
                {"type": action.get("type"), "via": action.get("via"), "target": rec.target},
                "status": st, "decision": decision, "verdicts": verdicts, "citations": list(citations),
                "actions": [{"record": a.seq, "key": a.subject, "at": (a.content() or {}).get("at"),
                             "type": ((a.content() or {}).get("action") or {}).get("type"),
                             "by": _ident((a.content() or {}).get("actor")),
                             "decision": act_decision.get(a.subject or "")} for a in acts_by.get(key, [])],
                "appeals": [{"record": r.seq, "recorded_at": r.recorded_at, **(r.content() or {"purged": True})}
                            for r in related if r.kind == "appeal"],
                "evidence": [r.seq for r in related if r.kind == "evidence"],
                "purged": event is None, "hash": rec.hash,
            }

    for rec in archive.event_records(since=since, until=until):
        event = rec.content()
        if not _prefilter(rec, event, flt):
            continue
        batch.append((rec, event))
        if len(batch) >= chunk:
            yield from emit()
            batch = []
    if batch:
        yield from emit()


def _rejected_rows(archive: Archive, flt: ExportFilter, since: str | None, until: str | None) -> Iterator[dict[str, Any]]:
    """Input that was not a valid event, as received (`rejected` records): it names no author or
    account the archive can trust, so only the time and text filters apply, and it has no verdict."""
    if flt.author or flt.account or (flt.decision and flt.decision != "none"):
        return
    for rec in archive.records(kind="rejected"):
        if (since and rec.recorded_at < since) or (until and rec.recorded_at >= until):
            continue
        data = rec.content()
        data = data if isinstance(data, dict) else {}
        text = data.get("input")
        if flt.text and flt.text.lower() not in str(text or "").lower():
            continue
        yield {"record": rec.seq, "key": rec.subject, "platform": None, "id": None, "kind": "rejected",
               "version": None, "latest_version": None, "at": None, "recorded_at": rec.recorded_at, "url": None,
               "links": [], "text": text, "author": None, "account": None, "action": None, "status": "rejected",
               "decision": None, "verdicts": [], "citations": [], "actions": [], "appeals": [], "evidence": [],
               "error": data.get("error"), "path": data.get("path"), "line": data.get("line"),
               "purged": rec.data is None, "hash": rec.hash}


def _ident(actor: Any) -> str | None:
    if isinstance(actor, dict):
        v = actor.get("id") or actor.get("name")
        return None if v is None else str(v)
    return None


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, default=str))
        out.write("\n")
        n += 1
    out.flush()
    return n


def csv_row(row: dict[str, Any]) -> dict[str, Any]:
    author = row.get("author") or {}
    account = row.get("account") or {}
    action = row.get("action") or {}
    verdicts = row.get("verdicts") or []
    return {
        "record": row["record"], "key": row["key"], "platform": row["platform"], "id": row["id"],
        "kind": row["kind"], "version": row["version"], "latest_version": row["latest_version"], "at": row["at"],
        "recorded_at": row["recorded_at"], "author_id": author.get("id"), "author_name": author.get("name"),
        "account_id": account.get("id"), "account_handle": account.get("handle"), "text": row["text"],
        "url": row["url"], "links": " ".join(row["links"]), "action": action.get("type"),
        "target": action.get("target"), "status": row["status"], "decision": row["decision"],
        "policies": "; ".join(sorted({f"{(v.get('policy') or {}).get('name')} "
                                      f"{(v.get('policy') or {}).get('version') or ''}".strip()
                                      for v in verdicts if v.get("policy")})),
        "rules": "; ".join(f.get("rule") or "" for v in verdicts for f in v.get("findings", [])),
        "citations": "; ".join(row["citations"]),
        "actions": "; ".join(f"{a['type']}@{a['at'] or ''}#{a['record']}" for a in row["actions"]),
        "appeals": "; ".join(str(a.get("text", "")) for a in row["appeals"]),
        "evidence": " ".join(str(s) for s in row["evidence"]),
        "purged": "yes" if row["purged"] else "", "hash": row["hash"], "error": row.get("error"),
    }


#: What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading `'`, which makes it text.

    A records clerk opens the export in Excel or LibreOffice; a comment reading `=HYPERLINK(...)` or
    `@SUM(...)` must show as what was written, not run. Numbers the export writes itself (record
    numbers, versions) are not text and are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Rows as CSV, one per item version; text cells that would start a formula are neutralised."""
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), extrasaction="ignore")
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow({k: neutralise(v) for k, v in csv_row(row).items()})
        n += 1
    out.flush()
    return n


__all__ = ["CSV_COLUMNS", "FORMULA_STARTS", "ExportFilter", "export_rows", "neutralise", "write_csv", "write_jsonl"]
