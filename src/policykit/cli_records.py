"""`policykit moderate` and `policykit records …`: the moderation stream and the public-records archive.

`register(subparsers)` adds the commands to the main `policykit` parser; `python -m
policykit.cli_records …` runs them on their own. Exit codes: 0 ok, 1 the command's findings fail it
(`records verify` found a bad record), 2 bad usage, unreadable input or an archive that cannot be
opened or written (disk full included): one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import select
import sys
import time
from contextlib import contextmanager
from typing import Any, Iterator, Sequence, TextIO

from .cli import EXIT_FAIL, EXIT_OK, EXIT_USAGE, UsageError, parse_params, platform_arg

ARCHIVE_ENV = "POLICYKIT_ARCHIVE"


def _err(command: str, message: str) -> None:
    print(f"policykit {command}: {message}", file=sys.stderr)


def _archive_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--archive", metavar="PATH|URL", default=os.environ.get(ARCHIVE_ENV),
                   help=f"SQLite file, :memory: or postgresql:// URL (default: ${ARCHIVE_ENV})")


def _checkpoints_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoints", metavar="FILE",
                   help="the checkpoint file (default: ARCHIVE.checkpoints beside an SQLite archive; none for "
                        "PostgreSQL); keep a copy where the archive's writers cannot change it")


def _policy_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--policy", required=required, metavar="NAME|PATH", help="bundled policy name or .pol file")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="fill in a model policy's parameter")


def register(subparsers: Any) -> None:
    """Add `moderate` and `records` to the `policykit` command."""

    def add(sub: Any, name: str, help: str, example: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, epilog=f"example:\n  {example}",
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = add(subparsers, "moderate",
            "Moderate a JSON Lines stream of events: judge, archive and answer each one (verdicts out, one line "
            "per event, each written only once it is durably recorded).",
            "policykit moderate --policy clinton --archive mod.db < comments.jsonl > verdicts.jsonl")
    _policy_args(p)
    _archive_arg(p)
    p.add_argument("--batch", type=int, default=1000, metavar="N",
                   help="events per durable commit at most (default 1000); a slower stream commits what it has")
    p.add_argument("--no-history", action="store_true",
                   help="do not fill author_history.removed_before from the archive")
    p.add_argument("--platform", metavar="NAME",
                   help="the lines are native payloads of this platform (webhook deliveries, Jetstream lines, "
                        "streaming API events), converted by its adapter")
    p.add_argument("--city-account", action="append", metavar="ID",
                   help="with --platform: an account id or handle that belongs to the city (its items are posts)")
    p.add_argument("--stats", action="store_true", help="print counts and throughput on stderr at the end")
    p.add_argument("input", nargs="?", default="-", metavar="FILE", help="JSON Lines file (default: stdin)")
    p.set_defaults(func=cmd_moderate, command="moderate")

    r = add(subparsers, "records", "Work with the public-records archive: verify, export, retention, holds, appeals.",
            "policykit records verify --archive mod.db")
    rs = r.add_subparsers(dest="records_command", metavar="SUBCOMMAND")
    r.set_defaults(func=lambda args: _no_sub(r), command="records")

    p = add(rs, "verify", "Prove the archive's hash chain, derived tables and signed checkpoints intact, or name "
                          "the first bad record (exit 1).",
            "policykit records verify --archive mod.db --key checkpoint.key.pub --max-age 2d")
    _archive_arg(p)
    p.add_argument("--expect-head", metavar="HASH", help="also require the chain to end at this published hash")
    p.add_argument("--key", action="append", metavar="PUB",
                   help="trusted public key (repeatable): every checkpoint must be signed by one, and one must exist")
    _checkpoints_arg(p)
    p.add_argument("--max-age", metavar="DURATION", help="fail if the newest checkpoint is older (e.g. 90m, 24h, 7d)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_verify, command="records verify")

    p = add(rs, "keygen", "Make an Ed25519 key pair for signing checkpoints: KEY (private, mode 0600) and KEY.pub.",
            "policykit records keygen --out /etc/policykit/checkpoint.key")
    p.add_argument("--out", required=True, metavar="KEY", help="where to write the private key (KEY.pub beside it)")
    p.set_defaults(func=cmd_keygen, command="records keygen")

    p = add(rs, "checkpoint", "Sign the chain head with a private key; recorded in the chain and appended to the "
                              "checkpoint file.",
            "policykit records checkpoint --archive mod.db --key /etc/policykit/checkpoint.key")
    _archive_arg(p)
    p.add_argument("--key", required=True, metavar="KEY", help="the private key (from `records keygen`)")
    _checkpoints_arg(p)
    p.set_defaults(func=cmd_checkpoint, command="records checkpoint")

    p = add(rs, "export", "Answer a public-records request: every matching item with content, time, URL, verdicts "
                          "and citations, as JSON Lines or CSV.",
            "policykit records export --archive mod.db --author u-17 --since 2024-01-01 --format csv -o request.csv")
    _archive_arg(p)
    p.add_argument("--account", help="account id, handle or name")
    p.add_argument("--author", help="author (or acting person) id or name")
    p.add_argument("--since", metavar="DATE", help="from this ISO date or time (inclusive)")
    p.add_argument("--until", metavar="DATE", help="up to this ISO date (inclusive) or time (exclusive)")
    p.add_argument("--text", help="content containing this text (case-insensitive)")
    p.add_argument("--decision", choices=("allow", "review", "remove", "deny", "none"),
                   help="items a policy judged so (none: never judged)")
    p.add_argument("--kind", choices=("post", "comment", "account", "action", "rejected"),
                   help="rejected: input lines that were not valid events, as received (not exported otherwise)")
    p.add_argument("--format", choices=("jsonl", "csv"), help="default: from -o's extension, else jsonl")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    p.set_defaults(func=cmd_export, command="records export")

    p = add(rs, "retain", "Apply a retention rule: erase the content of expired items no hold covers "
                          "(the records and their hashes stay; a purge record says what was erased).",
            "policykit records retain --archive mod.db --keep '7 years'   # or --policy minnesota_model")
    _archive_arg(p)
    p.add_argument("--keep", metavar="RULE", help="'permanently', '7 years', '90 days after event', 'until read'")
    _policy_args(p, required=False)
    p.add_argument("--now", metavar="TIME", help="judge expiry as of this ISO time (default: now)")
    p.add_argument("--dry-run", action="store_true", help="report what would be erased; change nothing")
    p.set_defaults(func=cmd_retain, command="records retain")

    p = add(rs, "hold", "Place a hold: matching items are kept whatever the retention rule.",
            "policykit records hold --archive mod.db --author u-17 --reason 'FOIL request 2024-113'")
    _archive_arg(p)
    p.add_argument("--reason", required=True)
    p.add_argument("--item", metavar="KEY", help="one item, platform:id")
    p.add_argument("--author", help="every item of this author")
    p.add_argument("--account", help="every item on this account")
    p.add_argument("--all", action="store_true", help="everything in the archive")
    p.set_defaults(func=cmd_hold, command="records hold")

    p = add(rs, "release", "Release a hold.", "policykit records release --archive mod.db 42 --reason 'request closed'")
    _archive_arg(p)
    p.add_argument("hold", type=int, metavar="HOLD_ID")
    p.add_argument("--reason", default="released")
    p.set_defaults(func=cmd_release, command="records release")

    p = add(rs, "holds", "List the holds in force.", "policykit records holds --archive mod.db")
    _archive_arg(p)
    p.add_argument("--all", action="store_true", help="include released holds")
    p.set_defaults(func=cmd_holds, command="records holds")

    p = add(rs, "appeal", "Record an appeal of a decision and re-evaluate the item; prints the new verdict.",
            "policykit records appeal --archive mod.db --policy minnesota_model c-981 'It was on topic.'")
    _archive_arg(p)
    _policy_args(p)
    p.add_argument("item", metavar="ID", help="the item's platform id, or platform:id")
    p.add_argument("text", help="the appeal, in the appellant's words")
    p.add_argument("--by", help="who appeals")
    p.set_defaults(func=cmd_appeal, command="records appeal")

    p = add(rs, "read", "Mark an item read (what 'retain until read' waits for).",
            "policykit records read --archive mod.db facebook:m-55 --by clerk")
    _archive_arg(p)
    p.add_argument("item", metavar="KEY")
    p.add_argument("--by")
    p.set_defaults(func=cmd_read, command="records read")

    p = add(rs, "show", "Print every record about one item (versions, verdicts, evidence, appeals, actions).",
            "policykit records show --archive mod.db facebook:c-981")
    _archive_arg(p)
    p.add_argument("item", metavar="KEY")
    p.set_defaults(func=cmd_show, command="records show")

    p = add(rs, "stats", "Count the archive's records and items.", "policykit records stats --archive mod.db")
    _archive_arg(p)
    p.set_defaults(func=cmd_stats, command="records stats")


def _no_sub(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


# ---------------------------------------------------------------- shared plumbing

def _guarded(fn: Any) -> Any:
    """Run a command; turn every expected failure into one line on stderr and exit 2."""

    def run(args: argparse.Namespace) -> int:
        from .records import ArchiveError

        command = getattr(args, "command", "records")
        try:
            return fn(args)
        except UsageError as exc:
            _err(command, str(exc))
        except ArchiveError as exc:
            _err(command, str(exc))
        except BrokenPipeError:
            _quiet_stdout()
            return EXIT_OK
        except OSError as exc:
            _err(command, f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}")
        return EXIT_USAGE

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def _open(args: argparse.Namespace, create: bool = False) -> Any:
    from .records import open_archive

    if not args.archive:
        raise UsageError(f"no archive: give --archive PATH|URL (or set ${ARCHIVE_ENV})")
    return open_archive(args.archive, create=create)


def _load_policy(args: argparse.Namespace) -> Any:
    from . import load
    from .errors import PolicyError, PolicyNotFound

    try:
        return load(args.policy, parse_params(args.param) or None)
    except PolicyNotFound as exc:
        raise UsageError(str(exc)) from None
    except PolicyError as exc:
        first = str(exc.diagnostics[0] if exc.diagnostics else exc).splitlines()[0]
        raise UsageError(f"policy {args.policy} does not compile (run `policykit lint {args.policy}`): {first}") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot load policy {args.policy}: {exc}") from None


@contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    if not path or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        fh = open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    try:
        yield fh
        fh.flush()
        os.fsync(fh.fileno()) if not path.startswith("/dev/") else None
    finally:
        fh.close()


# ---------------------------------------------------------------- moderate

def _read_lines(fd: int, max_bytes: int = 1 << 20) -> Iterator[list[tuple[int, Any]]]:
    """Yield the complete lines available now, numbered, as soon as they are: a fast producer gives
    big chunks (batched into few commits), an interactive one is answered line by line. A line longer
    than MAX_LINE is not kept in memory: it comes as its rejection (a LineItem) instead of bytes."""
    from .stream import MAX_LINE, too_long

    rest, number = b"", 0
    skipped, head = 0, b""   # the bytes so far of an overlong line being skipped, and its start
    while True:
        chunk = os.read(fd, max_bytes)
        out: list[tuple[int, Any]] = []
        if not chunk:
            if skipped:
                out.append((number + 1, too_long(number + 1, skipped, head)))
            elif rest.strip():
                out.append((number + 1, rest))
            if out:
                yield out
            return
        if skipped:
            cut = chunk.find(b"\n")
            if cut < 0:
                skipped += len(chunk)
                continue
            number += 1
            out.append((number, too_long(number, skipped + cut, head)))
            skipped, chunk = 0, chunk[cut + 1:]
        data = rest + chunk
        cut = data.rfind(b"\n")
        rest = data[cut + 1:]
        for line in data[:cut].split(b"\n") if cut >= 0 else ():
            number += 1
            out.append((number, line if len(line) <= MAX_LINE else too_long(number, len(line), line[:4096])))
        if len(rest) > MAX_LINE:
            skipped, head, rest = len(rest), rest[:4096], b""
        if out:
            yield out


def _input_waiting(fd: int) -> bool:
    """Whether reading `fd` now would not block (always so for a file)."""
    try:
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return False


def _moderate_stream(moderator: Any, fd: int, out: TextIO, batch: int, platform: str | None = None,
                     city_accounts: frozenset[str] = frozenset()) -> tuple[dict[str, int], float]:
    """Judge, record and answer every line of `fd`; a batch's answers are written once it is committed.

    Every line is answered, whatever it holds: a line that is not an event (or, with `platform`, a
    payload item the adapter refuses, or an event that raises while it is judged) is answered by an
    error line in its place, with its line number (and index in the page), and recorded as rejected;
    the stream goes on."""
    from .stream import LineItem, line_items

    # A long-running stream allocates many short-lived dicts and no cycles of note: move what is loaded
    # (the compiled policy, detectors) out of the collector's way and collect less often.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    counts = {"events": 0, "duplicates": 0, "errors": 0, "lines": 0, "failed_lines": 0}
    failed_lines: set[int] = set()
    t0 = time.perf_counter()

    def answer(part: list[LineItem], outcomes: list[Any]) -> None:
        buf = []
        for item, o in zip(part, outcomes):
            if o.error is not None:
                counts["errors"] += 1
                failed_lines.add(item.where["line"])
            else:
                counts["events"] += 1
                counts["duplicates"] += o.duplicate
            buf.append(o.to_json_line(item.where if platform is not None or o.error is not None else None))
        buf.append("")
        out.write("\n".join(buf))
        out.flush()   # the batch is committed: acknowledge it

    # Batch N+1 is judged while batch N's commit syncs; a batch is answered once it is committed, and
    # at once when no more input is waiting (an interactive stream is answered line by line).
    with moderator.pipeline() as pipe:
        for lines in _read_lines(fd):
            pending: list[LineItem] = []
            for number, raw in lines:
                counts["lines"] = number
                if isinstance(raw, LineItem):
                    pending.append(raw)
                elif raw.strip():
                    pending.extend(line_items(raw.strip(), number, platform=platform, city_accounts=city_accounts))
            for i in range(0, len(pending), batch):
                part = pending[i:i + batch]
                events = [it.rejected if it.rejected is not None else it.event for it in part]
                for done, outcomes in pipe.submit(events, part, [it.where for it in part]):
                    answer(done, outcomes)
            if not _input_waiting(fd):
                for done, outcomes in pipe.drain():
                    answer(done, outcomes)
        for done, outcomes in pipe.drain():
            answer(done, outcomes)
    counts["failed_lines"] = len(failed_lines)
    return counts, t0


@_guarded
def cmd_moderate(args: argparse.Namespace) -> int:
    from .moderator import Moderator

    if args.batch < 1:
        raise UsageError("--batch must be at least 1")
    if args.input == "-":
        fd, close_fd = sys.stdin.fileno(), False
    else:
        try:
            fd, close_fd = os.open(args.input, os.O_RDONLY), True
        except OSError as exc:
            raise UsageError(f"cannot read {args.input}: {exc.strerror}") from None
    try:
        platform = platform_arg(args)
        policy = _load_policy(args)
        if not args.archive:
            raise UsageError(f"no archive: give --archive PATH|URL (or set ${ARCHIVE_ENV})")
        with Moderator(policy, args.archive, fill_history=not args.no_history) as moderator:
            counts, t0 = _moderate_stream(moderator, fd, sys.stdout, args.batch, platform,
                                          frozenset(args.city_account or ()))
    finally:
        if close_fd:
            os.close(fd)
    if args.stats:
        dt = time.perf_counter() - t0
        rate = counts["events"] / dt if dt > 0 else 0.0
        print(f"moderated {counts['events']} events ({counts['duplicates']} redelivered, {counts['errors']} "
              f"rejected) into {args.archive} in {dt:.2f}s: {rate:,.0f} events/s", file=sys.stderr)
    if counts["errors"]:
        items = f" ({counts['errors']} item(s) refused)" if counts["errors"] != counts["failed_lines"] else ""
        _err("moderate", f"{counts['failed_lines']} input line(s) were not valid events{items}; see the \"error\" "
                         f"lines in the output (each recorded as rejected, nothing judged for it)")
        return EXIT_USAGE
    return EXIT_OK


# ---------------------------------------------------------------- records

@_guarded
def cmd_verify(args: argparse.Namespace) -> int:
    from .records.checkpoint import load_public_key, parse_age

    keys = [load_public_key(k) for k in args.key] if args.key else None
    try:
        max_age = parse_age(args.max_age) if args.max_age else None
    except ValueError as exc:
        raise UsageError(f"--max-age: {exc}") from None
    with _open(args) as archive:
        quick = archive.integrity_check() if hasattr(archive, "integrity_check") else "ok"
        result = archive.verify(expect_head=args.expect_head, keys=keys, checkpoints=args.checkpoints,
                                max_age=max_age)
    if quick != "ok" and result.ok:
        result.ok, result.problem = False, f"SQLite reports the file damaged: {quick}"
    if args.format == "json":
        print(json.dumps(result.to_json()))
    elif result.ok:
        latest = result.latest_checkpoint
        signed = (f"; {result.checkpoints} signed checkpoint(s), newest of record {latest['seq']} at {latest['time']}"
                  f"{' by a trusted key' if keys else ' (give --key to check who signed)'}") if latest else \
            "; no signed checkpoint (see `policykit records checkpoint`)"
        print(f"ok: {result.records} records, chain intact ({result.purged} erased under retention, hashes kept), "
              f"derived tables match{signed}; head {result.head_seq} {result.head_hash} ({result.seconds:.1f}s)")
    else:
        where = f"first bad record: {result.first_bad}: " if result.first_bad else ""
        print(f"FAILED: {where}{result.problem} ({result.bad_count} problem(s) in {result.records} records)")
    return EXIT_OK if result.ok else EXIT_FAIL


@_guarded
def cmd_keygen(args: argparse.Namespace) -> int:
    from .records.checkpoint import generate_key

    private, public, fp = generate_key(args.out)
    print(f"wrote {private} (private, mode 0600: keep it where checkpoints are signed) and {public} (public: give it "
          f"to whoever verifies); key {fp}")
    return EXIT_OK


@_guarded
def cmd_checkpoint(args: argparse.Namespace) -> int:
    from .records.checkpoint import load_private_key

    key = load_private_key(args.key)
    with _open(args) as archive:
        cp, path = archive.sign_checkpoint(key, file=args.checkpoints)
        seq = archive.count()
    print(json.dumps(cp.to_json()))
    print(f"checkpoint of record {cp.seq} ({cp.hash[:16]}...) signed by {cp.key_id}: chain record {seq}"
          + (f", appended to {path}" if path else "; no checkpoint file (give --checkpoints FILE to keep one)"),
          file=sys.stderr)
    return EXIT_OK


@_guarded
def cmd_export(args: argparse.Namespace) -> int:
    from .records import ExportFilter, export_rows, write_csv, write_jsonl

    fmt = args.format or ("csv" if (args.output or "").lower().endswith(".csv") else "jsonl")
    flt = ExportFilter(account=args.account, author=args.author, since=args.since, until=args.until,
                       text=args.text, decision=args.decision, kind=args.kind)
    try:
        flt.bounds()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with _open(args) as archive:
        with _output(args.output) as fh:
            n = (write_csv if fmt == "csv" else write_jsonl)(export_rows(archive, flt), fh)
    if args.output and args.output != "-":
        print(f"exported {n} record(s) to {args.output}", file=sys.stderr)
    return EXIT_OK


@_guarded
def cmd_retain(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from .records import RetentionRule

    if bool(args.keep) == bool(args.policy):
        raise UsageError("give either --keep RULE or --policy NAME (whose retention applies)")
    policy: Any = None
    rule: Any = None
    if args.keep:
        try:
            rule = RetentionRule.parse(args.keep)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    else:
        policy = _load_policy(args)
        if getattr(policy, "retention", None) is None:
            raise UsageError(f"policy {args.policy} declares no retention (add e.g. `retain 7 years cite CLAUSE` to its "
                         f"header, or give --keep)")
    now = None
    if args.now:
        try:
            now = datetime.fromisoformat(args.now.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--now {args.now!r} is not an ISO 8601 time") from None
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
    with _open(args) as archive:
        report = archive.apply_retention(rule, now=now, policy=policy, dry_run=args.dry_run)
    verb = "would erase" if args.dry_run else "erased"
    print(f"retention {report.rule} (cutoff {report.cutoff or 'none'}): {report.expired} item(s) expired, "
          f"{report.held} kept under hold, {report.exempt} exempt; {verb} the content of {report.purged_items} item(s) "
          f"({report.purged_records} record(s))" + (f"; purge record {report.record}" if report.record else ""))
    return EXIT_OK


@_guarded
def cmd_hold(args: argparse.Namespace) -> int:
    if not (args.item or args.author or args.account or args.all):
        raise UsageError("say what to hold: --item KEY, --author ID, --account ID or --all")
    if args.all and (args.item or args.author or args.account):
        raise UsageError("--all holds everything; do not combine it with --item/--author/--account")
    with _open(args) as archive:
        hold = archive.place_hold(args.reason, subject=args.item, author=args.author, account=args.account)
    print(f"hold {hold.id} placed: {hold.reason}")
    return EXIT_OK


@_guarded
def cmd_release(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        rec = archive.release_hold(args.hold, args.reason)
    print(f"hold {args.hold} released (record {rec.seq})")
    return EXIT_OK


@_guarded
def cmd_holds(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        holds = archive.holds(include_released=args.all)
    for h in holds:
        print(json.dumps({**h.to_json(), **h.extra}))
    return EXIT_OK


@_guarded
def cmd_appeal(args: argparse.Namespace) -> int:
    from .moderator import Moderator

    policy = _load_policy(args)
    with _open(args) as archive:
        verdict = Moderator(policy, archive).appeal(args.item, args.text, by=args.by)
    print(json.dumps(verdict.model_dump(mode="json") if hasattr(verdict, "model_dump") else verdict))
    return EXIT_OK


@_guarded
def cmd_read(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        rec = archive.mark_read(args.item, by=args.by)
    print(f"{args.item} marked read (record {rec.seq})")
    return EXIT_OK


@_guarded
def cmd_show(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        keys = archive.find_items(args.item) or ([args.item] if args.item.startswith("rejected:") else [])
        if not keys:
            raise UsageError(f"no item {args.item!r} in the archive")
        recs = archive.select_in("subject", keys) + archive.select_in("target", keys)
    for rec in sorted(recs, key=lambda r: r.seq):
        print(json.dumps(rec.to_json(), ensure_ascii=False))
    return EXIT_OK


@_guarded
def cmd_stats(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        print(json.dumps(archive.stats()))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run `moderate` / `records …` without the rest of the `policykit` command."""
    parser = argparse.ArgumentParser(prog="policykit")
    register(parser.add_subparsers(dest="command", metavar="COMMAND"))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
