"""The `policykit` command: lint, check, test, schema, policies, plugins (and other modules' commands).

Exit codes follow the contract: 0 success, 1 when the command's findings fail it (lint errors, failed
tests, `--fail-on` reached), 2 for bad usage or unreadable input. No traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence, TextIO

from . import __version__
from .errors import Diagnostic, EventError, PolicyError, PolicyNotFound
from .stream import MAX_LINE  # one JSON Lines event; longer is not an event but a broken or hostile file

if TYPE_CHECKING:  # the heavy modules are imported by the commands that use them: `--help` stays instant
    from .verdict import Verdict

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage or unreadable input: one line on stderr, exit 2."""


# ---------------------------------------------------------------- output helpers

class _Style:
    def __init__(self, stream: TextIO) -> None:
        self.on = stream.isatty() and os.environ.get("NO_COLOR") is None

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.on else text


def render_diagnostic(d: Diagnostic, style: _Style, lines_of: dict[str, list[str]]) -> str:
    """rustc-style: location, severity and code, the source line, a caret under the span, help."""
    colour = "1;31" if d.severity == "error" else "1;33"
    out = [f"{d.span}: {style(d.severity, colour)}[{d.code}]: {d.message}"]
    if d.file not in lines_of:
        try:
            lines_of[d.file] = Path(d.file).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines_of[d.file] = []
    lines = lines_of[d.file]
    if 1 <= d.line <= len(lines):
        source = lines[d.line - 1]
        width = 1
        if d.span.end_line == d.line and d.span.end_column and d.span.end_column > d.column:
            width = d.span.end_column - d.column
        gutter = f"{d.line:>5} | "
        out.append(gutter + source)
        out.append(" " * (len(gutter) + d.column - 1) + style("^" * width, colour))
    if d.help:
        out.append(f"   help: {d.help}")
    return "\n".join(out)


# ---------------------------------------------------------------- lint

def cmd_lint(args: argparse.Namespace) -> int:
    import time
    from .lint import lint_file, lint_text, policy_files
    sources = Path(args.sources) if args.sources else None
    if sources is not None and not sources.is_dir():
        raise UsageError(f"--sources {args.sources}: not a directory")
    started = time.perf_counter()
    cache: dict[str, list[str]] = {}
    if args.paths == ["-"]:
        name, text = _stdin_policy(args.stdin_filename)
        cache[name] = text.splitlines()
        results = {name: lint_text(text, name, sources, args.strict)}
    else:
        files = policy_files(_no_stdin(args.paths) or ["policies"])
        missing = [str(f) for f in files if not f.exists()]
        if missing:
            raise UsageError(f"no such file or directory: {missing[0]}")
        results = {str(f): lint_file(f, sources, args.strict) for f in files}
    # A file that cannot be read at all (binary, not UTF-8, empty, enormous) is bad input: one line, exit 2.
    unreadable = [d for ds in results.values() for d in ds if d.code == "PK000"]
    for d in unreadable:
        print(f"policykit lint: {d.file}: {d.message}", file=sys.stderr)
    errors = sum(1 for ds in results.values() for d in ds if d.severity == "error" and d.code != "PK000")
    warnings = sum(1 for ds in results.values() for d in ds if d.severity == "warning")
    _print_lint(args.format, results, cache, time.perf_counter() - started)
    if args.format == "text":
        print(f"{len(results)} file(s): {errors} error(s), {warnings} warning(s)"
              + (f", {len(unreadable)} unreadable" if unreadable else ""))
    if unreadable:
        return EXIT_USAGE
    return EXIT_FAIL if errors else EXIT_OK


def _print_lint(fmt: str, results: dict[str, list[Diagnostic]], cache: dict[str, list[str]], seconds: float) -> None:
    """Every finding in the chosen format (the text format's totals line is the caller's)."""
    findings = [d for ds in results.values() for d in ds]
    if fmt == "json":
        json.dump([{"file": d.file, "line": d.line, "column": d.column, "code": d.code, "severity": d.severity,
                    "message": d.message, "help": d.help} for d in findings], sys.stdout, indent=2)
        print()
    elif fmt == "sarif":
        from .reporting import lint_sarif
        json.dump(lint_sarif(results), sys.stdout, indent=2, ensure_ascii=False)
        print()
    elif fmt == "junit":
        from .reporting import junit_xml, lint_suites
        sys.stdout.write(junit_xml("policykit lint", lint_suites(results, seconds)))
    elif fmt == "github":
        from .reporting import github_annotation
        for d in findings:
            print(github_annotation(d))
    else:
        style = _Style(sys.stdout)
        for d in findings:
            if d.code != "PK000":
                print(render_diagnostic(d, style, cache))


def _stdin_policy(filename: str | None) -> tuple[str, str]:
    """(name, text) of a policy piped in: bounded like a file, named by `--stdin-filename` in messages."""
    from .lint import decode_policy, max_policy_bytes
    name = filename or "<stdin>"
    text, problem = decode_policy(sys.stdin.buffer.read(max_policy_bytes() + 1))
    if problem is not None:
        raise UsageError(f"{name}: {problem}")
    return name, text  # type: ignore[return-value]


def _no_stdin(paths: Sequence[str]) -> list[str]:
    """Paths with `-` refused unless it stands alone: one stream cannot be read as several files."""
    if "-" in paths:
        raise UsageError("`-` (stdin) must be the only path")
    return list(paths)


# ---------------------------------------------------------------- reading events

MAX_DOCUMENT = 16 * 2**20  # a YAML/JSON document is read whole; beyond this, use JSON Lines


def _yaml_events(text: str, name: str) -> Iterator[Any]:
    from ruamel.yaml.error import YAMLError

    from .limits import load_yaml
    try:
        for doc in load_yaml(text, every=True):  # aliases and nesting bounded (policykit.limits)
            if isinstance(doc, list):
                yield from doc
            elif doc is not None:
                yield doc
    except YAMLError as exc:
        raise UsageError(f"{name}: not valid YAML or JSON: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise UsageError(f"{name}: nested too deeply to be an event") from None


def event_sources(sources: Sequence[str]) -> list[str]:
    """Files named, or under named directories (sorted), or `-`; missing ones fail when read."""
    found: list[str] = []
    for source in sources or ["-"]:
        if source != "-" and Path(source).is_dir():
            found.extend(str(p) for p in sorted(Path(source).rglob("*"))
                         if p.suffix in (".json", ".jsonl", ".yaml", ".yml") and p.is_file())
        else:
            found.append(source)
    return found


class EventReader:
    """(where, event) pairs from YAML, JSON or JSON Lines files or `-` (stdin), one file at a time.

    JSON Lines (and JSON files whose lines are objects) are read a line at a time, so memory stays
    constant however long the input; `position()` and `total` say how far through the bytes it is, for
    the progress bar. With `answer_bad_lines`, a JSON Lines line that is not JSON (or is too long) comes
    as a `policykit.stream.Rejected` in its place, so a stream goes on; without, it is a UsageError.
    """

    def __init__(self, sources: Sequence[str], *, answer_bad_lines: bool = False) -> None:
        self.sources = event_sources(sources)
        self.answer_bad_lines = answer_bad_lines
        self.total: int | None = 0
        for source in self.sources:
            size = _size(source)
            self.total = None if size is None or self.total is None else self.total + size
        self._done = 0
        self._stream: Any = None

    def position(self) -> int:
        if self._stream is None:
            return self._done
        try:
            return self._done + self._stream.buffer.tell()
        except (AttributeError, OSError, ValueError):
            return self._done

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        for source in self.sources:
            if source == "-":
                stream: TextIO = sys.stdin
                name = "<stdin>"
            else:
                try:
                    stream = open(source, encoding="utf-8")
                except OSError as exc:
                    raise UsageError(f"{source}: cannot read: {exc.strerror}") from None
                name = source
            self._stream = stream
            try:
                yield from _stream_events(stream, name, jsonl=name.endswith(".jsonl"), lenient=self.answer_bad_lines)
            finally:
                self._stream = None
                if source != "-":
                    stream.close()
                    self._done += _size(source) or 0


def read_events(sources: Sequence[str]) -> Iterator[tuple[str, Any]]:
    """(where, event) pairs from YAML, JSON or JSON Lines files, directories of them, or `-` (stdin)."""
    return iter(EventReader(sources))


def _size(source: str) -> int | None:
    """The byte size of a regular file (stdin too, when it is one), else None."""
    try:
        info = os.fstat(sys.stdin.fileno()) if source == "-" else os.stat(source)
    except (OSError, ValueError, AttributeError):
        return None
    import stat
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _line(stream: TextIO, name: str, number: int) -> str:
    line = stream.readline(MAX_LINE)
    if len(line) >= MAX_LINE and not line.endswith("\n"):
        raise UsageError(f"{name}:{number}: a line longer than {MAX_LINE // 2**20} MiB; not an event")
    if "\x00" in line:
        raise UsageError(f"{name}: binary data, expected YAML, JSON or JSON Lines")
    return line


def _stream_events(stream: TextIO, name: str, jsonl: bool, lenient: bool = False) -> Iterator[tuple[str, Any]]:
    try:
        first = _line(stream, name, 1) if not jsonl else ""
        if jsonl or (first.lstrip().startswith("{") and first.rstrip().endswith("}")):
            number = 1
            if first and lenient:
                peeked = yield from _lenient_start(stream, name, first)
                if peeked is None:  # JSON Lines: lines 1 and 2 are answered, the rest follows
                    yield from _lenient_lines(stream, name, 3)
                    return
                first, jsonl = peeked, False
            elif first:
                try:
                    event = json.loads(first)
                except json.JSONDecodeError:
                    event = None
                    jsonl = False
                except RecursionError:
                    raise UsageError(f"{name}:1: JSON nested too deeply") from None
                else:
                    yield f"{name}:1", event
                    number = 2
            if jsonl or number == 2:
                if lenient:
                    yield from _lenient_lines(stream, name, number)
                    return
                while True:
                    line = _line(stream, name, number)
                    if not line:
                        if number == 1 and name != "<stdin>":
                            raise UsageError(f"{name}: empty file, no events")
                        return
                    if line.strip():
                        yield f"{name}:{number}", _json_line(line, name, number)
                    number += 1
        if not first and name != "<stdin>":
            raise UsageError(f"{name}: empty file, no events")
        if len(first) >= MAX_LINE:
            raise UsageError(f"{name}: larger than {MAX_DOCUMENT // 2**20} MiB; give large inputs as JSON Lines, "
                             "which are read one line at a time")
        rest = stream.read(MAX_DOCUMENT - len(first) + 1)
        text = first + rest
    except UnicodeDecodeError:
        raise UsageError(f"{name}: not UTF-8 text") from None
    if len(text) > MAX_DOCUMENT:
        raise UsageError(f"{name}: larger than {MAX_DOCUMENT // 2**20} MiB; give large inputs as JSON Lines, "
                         "which are read one line at a time")
    if "\x00" in text:
        raise UsageError(f"{name}: binary data, expected YAML, JSON or JSON Lines")
    if not text.strip() and name != "<stdin>":
        raise UsageError(f"{name}: empty file, no events")
    for number, event in enumerate(_yaml_events(text, name), 1):
        yield f"{name}#{number}", event


def _lenient_start(stream: TextIO, name: str, first: str) -> Iterator[tuple[str, Any]]:
    """The first line looks like a JSON object: JSON Lines, unless neither it nor the next line is
    JSON. Yields lines 1 and 2 (a bad one as its Rejected) and returns None for JSON Lines; for a
    multi-line document, yields nothing and returns the text read so far, to be read whole."""
    from .stream import Rejected, decode_line

    one = decode_line(first, 1)
    second = _line(stream, name, 2)
    if isinstance(one, Rejected) and second.strip():
        two = decode_line(second, 2)
        if isinstance(two, Rejected) or not isinstance(two, dict):
            return first + second   # e.g. a pretty-printed JSON or YAML document
    yield f"{name}:1", one
    if second.strip():
        yield f"{name}:2", decode_line(second, 2)
    return None


def _lenient_lines(stream: TextIO, name: str, number: int) -> Iterator[tuple[str, Any]]:
    """JSON Lines from line `number` on, a bad line answered in its place (a Rejected), never the end."""
    from .stream import decode_line, too_long

    first = number
    while True:
        line = stream.readline(MAX_LINE)
        if not line:
            if number == 1 and first == 1 and name != "<stdin>":
                raise UsageError(f"{name}: empty file, no events")
            return
        where = f"{name}:{number}"
        if len(line) >= MAX_LINE and not line.endswith("\n"):
            size = len(line) + _skip_rest_of_line(stream)
            yield where, too_long(number, size, line[:4096].encode("utf-8", "replace")).rejected
        elif line.strip():
            yield where, decode_line(line, number)
        number += 1


def _skip_rest_of_line(stream: TextIO) -> int:
    skipped = 0
    while True:
        part = stream.readline(MAX_LINE)
        skipped += len(part)
        if not part or part.endswith("\n"):
            return skipped


def _json_line(line: str, name: str, number: int) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{name}:{number}: not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise UsageError(f"{name}:{number}: JSON nested too deeply") from None


# ---------------------------------------------------------------- progress

class Progress:
    """A one-line progress bar on stderr: count, rate, elapsed; with a known size, percentage and ETA.

    Drawn at most ten times a second, and only when asked to (a terminal, or `--progress`); it never
    writes to stdout, so `--format json|jsonl` output stays clean.
    """

    WIDTH = 24

    def __init__(self, stream: TextIO, total: int | None, position: Any, enabled: bool, clock: Any = None) -> None:
        import time
        self.stream, self.total, self.position, self.enabled = stream, total or None, position, enabled
        self.clock = clock or time.monotonic
        self.start = self.clock()
        try:
            self.terminal = stream.isatty()
        except (AttributeError, ValueError):
            self.terminal = False
        # On a terminal the line redraws in place; in a log (`--progress`) a plain line a second.
        self.interval = 0.1 if self.terminal else 1.0
        utf8 = (getattr(stream, "encoding", "") or "").lower().replace("-", "") == "utf8"
        self.full, self.empty = ("█", "░") if utf8 else ("#", "-")
        self.last = -1.0
        self.shown = False

    def render(self, count: int, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = count / elapsed
        parts = [f"{count:,} events", f"{rate:,.0f}/s", _clock(elapsed)]
        if self.total:
            done = min(self.position(), self.total)
            fraction = done / self.total
            filled = int(fraction * self.WIDTH)
            bar = self.full * filled + self.empty * (self.WIDTH - filled)
            eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
            parts = [f"{bar} {fraction:4.0%}"] + parts + ([f"ETA {_clock(eta)}"] if eta is not None else [])
        return "  ".join(parts)

    def update(self, count: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if now - self.last < self.interval:
            return
        self.last = now
        if self.terminal:
            self.stream.write("\r" + self.render(count, now) + "\x1b[K")
            self.shown = True
        else:
            self.stream.write(self.render(count, now) + "\n")
        self.stream.flush()

    def clear(self) -> None:
        if self.shown and self.terminal:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False
            self.last = -1.0

    def close(self, count: int) -> None:
        if not self.enabled or self.last < 0:
            return  # finished before the first redraw: nothing to tidy up
        line = self.render(count, self.clock())
        self.stream.write(("\r" + line + "\x1b[K\n") if self.terminal else line + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


# ---------------------------------------------------------------- check

def _load_policies(refs: Sequence[str], params: dict[str, Any]) -> list[Any]:
    from .loader import load
    policies = []
    for ref in refs:
        try:
            policies.append(load(ref, params or None))
        except PolicyNotFound as exc:
            raise UsageError(str(exc)) from None
        except PolicyError as exc:
            raise UsageError(f"policy {ref} does not compile (run `policykit lint {ref}`):\n{exc}") from None
    return policies


def parse_params(pairs: Sequence[str] | None) -> dict[str, Any]:
    """`--param NAME=VALUE` pairs: VALUE as JSON when it parses, else as text (for `check` and `moderate`)."""
    params: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise UsageError(f"--param {pair}: expected NAME=VALUE")
        name, value = pair.split("=", 1)
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    return params


def _highlight(text: str, verdict: Verdict, style: _Style) -> str:
    spans = sorted({(e.start, e.end) for f in verdict.findings for e in f.evidence
                    if e.field == "text" and e.start is not None and e.end is not None})
    out, last = [], 0
    for start, end in spans:
        if start < last:
            continue
        out.append(text[last:start])
        out.append(style(text[start:end], "1;4;35") if style.on else f"[{text[start:end]}]")
        last = end
    out.append(text[last:])
    return "".join(out)


def _print_verdict(where: str, event: Any, verdict: Verdict, style: _Style, trace: Any = None) -> None:
    colours = {"allow": "32", "review": "33", "remove": "31", "deny": "1;31"}
    summary = event.get("text") if isinstance(event, dict) else None
    head = f"{where}  {event.get('kind', '?') if isinstance(event, dict) else '?'}"
    if isinstance(event, dict) and event.get("kind") == "action":
        head += f" {(event.get('action') or {}).get('type', '?')}"
    print(f"{head}  [{verdict.policy.name}] → {style(verdict.decision.upper(), colours[verdict.decision])}")
    if summary:
        print("  " + textwrap.shorten(_highlight(summary, verdict, style), 300, placeholder=" …")
              if not style.on else "  " + _highlight(summary, verdict, style))
    for f in verdict.findings:
        print(f"  • {f.effect}: {f.message}  (rule {f.rule})")
        for c in f.citations:
            print(f"      {c.policy} §{c.clause} ({c.source}): “{textwrap.shorten(c.text, 160, placeholder=' …')}”")
        for d in f.defeats:
            print(f"      defeats {d.rule} (§{', §'.join(d.clauses)})")
    for number, o in enumerate(verdict.obligations, 1):
        cites = ", ".join(f"§{c.clause}" for c in o.citations)
        print(f"  {number}. then {o.action}{': ' + o.detail if o.detail else ''}  [{cites}]")
    for e in verdict.errors:
        print(f"  ! {e.source}: {e.message}")
    if trace is not None:
        for t in trace:
            print(f"    · {t.rule}: {t.status}{' — ' + t.detail if t.detail else ''}")


def cmd_check(args: argparse.Namespace) -> int:
    from .verdict import SEVERITY
    policies = _load_policies(args.policy or ["nyc"], parse_params(args.param))
    threshold = SEVERITY[args.fail_on] if args.fail_on else None
    platform = platform_arg(args)
    style = _Style(sys.stdout)
    reader = EventReader(args.files, answer_bad_lines=True)
    show = not args.quiet and (args.progress or sys.stderr.isatty())
    progress = Progress(sys.stderr, reader.total, reader.position, show)
    shared_terminal = show and sys.stdout.isatty()  # the bar and the verdicts share the screen
    failed, count, malformed = False, 0, 0
    tally: dict[str, Counter[str]] = {policy.name: Counter() for policy in policies}
    city = frozenset(args.city_account or ())
    for where, event in _platform_events(iter(reader), platform, city):
        count += 1
        if shared_terminal:
            progress.clear()
        decisions = _check_one(where, event, policies, args, style)
        if decisions is None:
            malformed += 1
            decisions = []
        for policy, decision in zip(policies, decisions):
            tally[policy.name][decision] += 1
        if threshold is not None and any(SEVERITY[d] >= threshold for d in decisions):
            failed = True
        if args.format == "text":
            print()
        if show:
            if shared_terminal:
                sys.stdout.flush()
            progress.update(count)
    progress.close(count)
    if args.format == "summary":
        _print_summary(tally)
    if malformed:
        print(f"policykit check: {malformed} of {count} event(s) malformed", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_FAIL if failed else EXIT_OK


def _print_summary(tally: dict[str, Counter[str]]) -> None:
    """`--format summary`: decisions per policy and in total, a table a person takes in at a glance."""
    columns = ("allow", "review", "remove", "deny")
    width = max([len("total"), *map(len, tally)])
    print(f"{'policy':<{width}}  {'decisions':>9}" + "".join(f"  {c:>7}" for c in columns))
    total: Counter[str] = Counter()
    for name, counts in [*tally.items(), ("total", total)]:
        print(f"{name:<{width}}  {sum(counts.values()):>9}" + "".join(f"  {counts[c]:>7}" for c in columns))
        if name != "total":
            total.update(counts)


def _check_one(where: str, event: Any, policies: list[Any], args: argparse.Namespace, style: Any) -> list[str] | None:
    """Judge one event under every policy and print the verdicts; the decisions, or None (its error
    printed in its place) when it is malformed or raises anything while it is judged or written down:
    the stream goes on either way."""
    from .stream import Rejected

    if isinstance(event, Rejected):
        _print_malformed(where, event, args.format)
        return None
    judged: list[tuple[Verdict, Any]] = []
    out: list[str] = []
    try:
        for policy in policies:
            explanation = policy.explain(event) if args.explain else None
            verdict = explanation.verdict if explanation else policy.evaluate(event)
            judged.append((verdict, explanation.trace if explanation else None))
            if args.format not in ("text", "summary"):
                data = verdict.model_dump(mode="json")
                out.append(json.dumps(data, ensure_ascii=False, indent=None if args.format == "jsonl" else 2))
    except Exception as exc:  # an EventError, or a fault a hostile event provokes: answered for itself
        _print_malformed(where, Rejected.of(exc, None), args.format)
        return None
    if args.format == "text":
        for verdict, trace in judged:
            _print_verdict(where, event, verdict, style, trace)
    elif out:
        print("\n".join(out))
    return [verdict.decision for verdict, _ in judged]


def _print_malformed(where: str, rejected: Any, fmt: str) -> None:
    """A malformed event's answer, in the stream's own format, in its place: the caller can match it up."""
    cause = getattr(rejected, "cause", None)
    if fmt == "text":
        print(f"{where}  MALFORMED EVENT: {rejected.error}")
        return
    if isinstance(cause, EventError):
        problems = [{"path": p.path, "expected": p.expected, "got": p.got} for p in cause.problems]
    else:
        problems = [{"path": rejected.path or "", "expected": rejected.error, "got": None}]
    print(json.dumps({"where": where, "error": "malformed event", "problems": problems}, ensure_ascii=False,
                     indent=None if fmt == "jsonl" else 2))


def platform_arg(args: argparse.Namespace) -> str | None:
    """The adapter name for `--platform NAME` (built-in or plugin), checked before any input is read:
    an unknown one is bad usage, listing the known ones, and so is `--city-account` without it."""
    name = args.platform
    if args.city_account and not name:
        raise UsageError("--city-account only means something with --platform NAME")
    if name is None:
        return None
    from .platforms import UnknownPlatformError, available_adapters, get_adapter
    try:
        return get_adapter(name, available_adapters()).name
    except UnknownPlatformError as exc:
        raise UsageError(str(exc)) from None


def _platform_events(events: Iterator[tuple[str, Any]], platform: str | None,
                     city_accounts: frozenset[str] = frozenset()) -> Iterator[tuple[str, Any]]:
    """(where, event) for each event of each native payload (`where[index]` inside a page); an item
    the adapter refuses comes as its Rejected, in its place."""
    if platform is None:
        yield from events
        return
    from .stream import Rejected, payload_items
    for where, payload in events:
        if isinstance(payload, Rejected):
            yield where, payload
            continue
        for ordinal, item in enumerate(payload_items(payload, platform, city_accounts=city_accounts)):
            index = item.where.get("index", ordinal)
            yield f"{where}[{index}]", item.rejected if item.rejected is not None else item.event


# ---------------------------------------------------------------- test

def cmd_test(args: argparse.Namespace) -> int:
    import time
    from .reporting import Case, Suite, junit_xml
    from .testing import TestFileError, UnreadableTestFile, run_file, test_files
    files = test_files(args.paths or ["policies"])
    if not files:
        raise UsageError("no *.tests.yaml files found")
    junit = args.format == "junit"
    passed = failed = unreadable = 0
    suites: list[Suite] = []
    for path in files:
        if not path.exists():
            raise UsageError(f"no such file: {path}")
        suite = Suite(str(path))
        suites.append(suite)
        started = time.perf_counter()
        try:
            results = run_file(path)
        except UnreadableTestFile as exc:  # bad input, not a failed test: one line, and exit 2 at the end
            print(f"policykit test: {exc}", file=sys.stderr)
            unreadable += 1
            suite.cases.append(Case(str(path), "policykit.test", str(path), error=("unreadable test file", str(exc))))
            continue
        except TestFileError as exc:
            if not junit:
                print(f"ERROR {exc}")
            failed += 1
            suite.cases.append(Case(str(path), "policykit.test", str(path), error=("test file cannot run", str(exc))))
            continue
        finally:
            suite.seconds = time.perf_counter() - started
        for r in results:
            details = _failure_details(r)
            suite.cases.append(Case(r.name, r.policy, r.file, r.line, failure=None if r.passed else
                                    ("wrong verdict", details[0] if details else "failed", "\n".join(details))))
            if r.passed:
                passed += 1
                if args.verbose and not junit:
                    print(f"PASS {r.file}:{r.line} {r.name}")
                continue
            failed += 1
            if not junit:
                print(f"FAIL {r.file}:{r.line} {r.name}")
                for line in details:
                    print(f"     {line}")
        if args.coverage and results:
            _print_coverage(results, sys.stderr if junit else sys.stdout)
    if junit:
        sys.stdout.write(junit_xml("policykit test", suites))
    else:
        print(f"{passed} passed, {failed} failed" + (f", {unreadable} unreadable" if unreadable else ""))
    if unreadable:
        return EXIT_USAGE
    return EXIT_FAIL if failed else EXIT_OK


def _failure_details(result: Any) -> list[str]:
    """What a failed case got wrong, and which rules fired: the same lines for the terminal and JUnit."""
    if result.passed:
        return []
    lines = list(result.problems)
    if result.verdict is not None:
        lines.append("fired: " + (", ".join(f"{f.rule}={f.effect}" for f in result.verdict.findings) or "no rule"))
    return lines


def _print_coverage(results: Sequence[Any], stream: TextIO) -> None:
    from .loader import load
    from .testing import coverage
    source = Path(results[0].file).parent / f"{results[0].policy}.pol"
    if not source.exists():
        return
    policy = load(source)
    clauses, exceptions = coverage(policy, results)
    print(f"coverage {policy.name}: clauses never cited by a test: {', '.join(clauses) or 'none'}; "
          f"exceptions never fired: {', '.join(exceptions) or 'none'}", file=stream)


# ---------------------------------------------------------------- fmt

def cmd_fmt(args: argparse.Namespace) -> int:
    from .fmt import format_text
    from .lint import policy_files
    if args.paths == ["-"]:
        name, text = _stdin_policy(args.stdin_filename)
        formatted = format_text(text)
        if not (args.check or args.diff):
            sys.stdout.write(formatted)  # a filter, as editors and `black -` use it: the text in, formatted out
            return EXIT_OK
        changed = _report_format(name, text, formatted, args.diff)
        print(f"{int(changed)} of 1 file(s) need formatting")
        return EXIT_FAIL if changed else EXIT_OK
    files = policy_files(_no_stdin(args.paths) or ["policies"])
    changed = 0
    for path in files:
        text = _policy_text(path)
        formatted = format_text(text)
        if formatted == text:
            continue
        changed += 1
        if args.check or args.diff:
            _report_format(str(path), text, formatted, args.diff)
        else:
            path.write_text(formatted, encoding="utf-8")
            print(f"reformatted {path}")
    if args.check or args.diff:
        print(f"{changed} of {len(files)} file(s) need formatting")
        return EXIT_FAIL if changed else EXIT_OK
    return EXIT_OK


def _report_format(name: str, text: str, formatted: str, diff: bool) -> bool:
    """For --check and --diff: say what would change (a line, or the unified diff); True if anything would."""
    import difflib
    if formatted == text:
        return False
    if diff:
        sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), formatted.splitlines(True),
                                                   name, f"{name} (formatted)"))
    else:
        print(f"would reformat {name}")
    return True


def _policy_text(path: Path) -> str:
    """A policy file's text, or a one-line UsageError when it cannot be one (see lint.read_problem)."""
    from .lint import read_problem
    text, problem = read_problem(path)
    if problem is not None:
        raise UsageError(f"{path}: {problem}")
    return text  # type: ignore[return-value]


# ---------------------------------------------------------------- doc

def cmd_doc(args: argparse.Namespace) -> int:
    from .lint import policy_files
    from .loader import load
    from .policydoc import render
    files = policy_files(args.paths or ["policies"])
    if args.check and not args.out:
        raise UsageError("--check compares with the pages in --out DIR; give --out")
    stale = 0
    for path in files:
        _policy_text(path)
        page = render(load(path))
        if not args.out:
            sys.stdout.write(page)
            continue
        target = Path(args.out) / f"{path.stem}.md"
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == page:
            continue
        stale += 1
        if args.check:
            print(f"out of date: {target} (run `policykit doc --out {args.out} {path}`)")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(page, encoding="utf-8")
            print(f"wrote {target}")
    return EXIT_FAIL if args.check and stale else EXIT_OK


# ---------------------------------------------------------------- schema, policies

def cmd_schema(args: argparse.Namespace) -> int:
    from pydantic import TypeAdapter
    from .models import Event
    from .verdict import Verdict
    schema = TypeAdapter(Event).json_schema() if args.what == "event" else Verdict.model_json_schema()
    print(json.dumps(schema, indent=2))
    return EXIT_OK


def cmd_policies(args: argparse.Namespace) -> int:
    from .loader import known_policies, load
    rows = []
    for name, path in known_policies().items():
        try:
            policy = load(name)
            rows.append((name, policy.title or "", policy.jurisdiction or "", policy.version or ""))
        except (PolicyError, OSError):
            rows.append((name, f"(does not compile: run `policykit lint {path}`)", "", ""))
    if args.format == "json":
        print(json.dumps([dict(zip(("name", "title", "jurisdiction", "version"), r)) for r in rows], indent=2))
        return EXIT_OK
    for name, title, jurisdiction, version in rows:
        print(f"{name:<18} {version:<10} {jurisdiction:<24} {title}")
    return EXIT_OK


def cmd_plugins(args: argparse.Namespace) -> int:
    """List plugins and what each registers; discovery errors are printed, not raised, so users see them."""
    from .plugins import PluginError, list_plugins, plugin_errors
    try:
        rows = list_plugins()
        conflict = None
    except PluginError as exc:
        rows, conflict = [], str(exc)
    problems = [str(p) for p in plugin_errors()] + ([conflict] if conflict else [])
    if args.format == "json":
        print(json.dumps({"plugins": rows, "errors": problems}, indent=2))
        return EXIT_FAIL if problems else EXIT_OK
    if not rows:
        print("no plugins installed (packages register them under the `policykit` entry-point group)")
    for row in rows:
        print(f"{row['name']}" + (f" {row['version']}" if row.get("version") else ""))
        for what in ("jurisdictions", "platforms", "detectors", "functions", "action_types"):
            if row[what]:
                print(f"  {what + ':':<15}{', '.join(row[what])}")
        if row["observes_verdicts"]:
            print("  observes verdicts")
    for problem in problems:
        print(f"error: {problem}")
    return EXIT_FAIL if problems else EXIT_OK


# ---------------------------------------------------------------- parser

def _stdin_filename(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stdin-filename", metavar="NAME",
                        help="with - : the file name to report in messages (and to find `extends` paths from)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policykit", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="City social-media policy as code: lint policies, check events, run policy tests.",
        epilog="examples:\n  policykit lint policies/\n  policykit check --policy clinton examples/events/\n"
               "  policykit test policies/")
    parser.add_argument("--version", action="version", version=f"policykit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help: str, example: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, epilog=f"example:\n  {example}",
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = add("lint", "Check .pol files: syntax, names, citations, unaccounted clauses, quotes.",
            "policykit lint --sources ../shared/seeds policies/")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories, or - for stdin (default: policies/)")
    p.add_argument("--format", choices=("text", "json", "github", "sarif", "junit"), default="text",
                   help="github: workflow annotations; sarif: SARIF 2.1.0 for code scanning; junit: JUnit XML")
    _stdin_filename(p)
    p.add_argument("--sources", metavar="DIR", help="check every clause quote against the source documents here")
    p.add_argument("--strict", action="store_true",
                   help="a parameter without a value is an error (PK114), not a `review` at evaluation")
    p.set_defaults(func=cmd_lint)

    p = add("check", "Judge events (YAML, JSON or JSON Lines; - for stdin) against one or more policies.",
            "policykit check --policy clinton --policy nyc --explain examples/events/comments.yaml")
    p.add_argument("files", nargs="*", metavar="FILE", help="event files or directories, or - (default: stdin)")
    p.add_argument("--policy", action="append", metavar="NAME|PATH", help="repeat to compare policies side by side")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="fill in a model policy's parameter")
    p.add_argument("--platform", metavar="NAME", help="read native payloads of this platform (e.g. facebook)")
    p.add_argument("--city-account", action="append", metavar="ID",
                   help="with --platform: an account id or handle that belongs to the city (its items are posts)")
    p.add_argument("--format", choices=("text", "json", "jsonl", "summary"), default="text",
                   help="summary: only the number of decisions of each kind, per policy and in total")
    p.add_argument("--explain", action="store_true", help="show every rule considered and what became of it")
    p.add_argument("--fail-on", choices=("review", "remove", "deny"), help="exit 1 if any decision is this or worse")
    p.add_argument("--quiet", action="store_true", help="no progress bar, even on a terminal")
    p.add_argument("--progress", action="store_true",
                   help="show the progress bar on stderr even when it is not a terminal (e.g. in CI logs)")
    p.set_defaults(func=cmd_check)

    p = add("test", "Run policy test files (*.tests.yaml) and report failures with the rules that fired.",
            "policykit test --coverage policies/")
    p.add_argument("paths", nargs="*", metavar="PATH", help="test files or directories (default: policies/)")
    p.add_argument("--coverage", action="store_true", help="list clauses and exceptions no test exercises")
    p.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    p.add_argument("--format", choices=("text", "junit"), default="text",
                   help="junit: JUnit XML on stdout, a testcase per case, for CI test reports")
    p.set_defaults(func=cmd_test)

    p = add("fmt", "Rewrite .pol files in the canonical layout (comments and meaning kept).",
            "policykit fmt --check policies/")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or directories (default: policies/), or - to format stdin to stdout")
    _stdin_filename(p)
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    p.add_argument("--diff", action="store_true", help="print what would change; exit 1 if anything would")
    p.set_defaults(func=cmd_fmt)

    p = add("doc", "Write each policy's clause-by-clause page: its words, what is checked, what is left to a person.",
            "policykit doc --out docs/policies policies/")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: policies/)")
    p.add_argument("--out", metavar="DIR", help="write DIR/NAME.md for each policy (default: print)")
    p.add_argument("--check", action="store_true", help="with --out: change nothing; exit 1 if a page is out of date")
    p.set_defaults(func=cmd_doc)

    p = add("schema", "Print the JSON Schema of events or verdicts.", "policykit schema event > event.schema.json")
    p.add_argument("what", choices=("event", "verdict"), nargs="?", default="event")
    p.set_defaults(func=cmd_schema)

    p = add("policies", "List the policies load() accepts by name.", "policykit policies --format json")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_policies)

    p = add("plugins", "List installed plugins, what each registers, and plugins that failed to load.",
            "policykit plugins --format json")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_plugins)

    for extension in _extensions():
        extension(sub)
    return parser


# Modules that add subcommands, each with a `register(subparsers)`: this module does not import what
# they need (a web server, a language server, templates) until one of them runs.
EXTENSION_MODULES = (
    "cli_records",   # moderate, records
    "cli_serve",     # serve
    "cli_lsp",       # lsp
    "cli_report",    # report, explain
    "cli_completion",  # completion (last: it describes the commands the others add)
)


def _extensions() -> list[Any]:
    import importlib
    return [importlib.import_module(f"{__package__}.{name}").register for name in EXTENSION_MODULES]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .plugins import PluginError
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"policykit {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PolicyError as exc:
        print(f"policykit {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PluginError as exc:  # two plugins claim one name, or one registered something unusable
        print(f"policykit {args.command}: plugin error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug of ours: still one clear line, never a traceback
        print(f"policykit {args.command}: internal error ({type(exc).__name__}: {exc}); "
              "please report it with the command you ran", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
