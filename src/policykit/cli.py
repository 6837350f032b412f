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
from pathlib import Path
from typing import Any, Iterator, Sequence, TextIO

from .errors import Diagnostic, EventError, PolicyError, PolicyNotFound
from .plugins import PluginError
from .verdict import SEVERITY, Verdict

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
    from .lint import lint_file, policy_files
    sources = Path(args.sources) if args.sources else None
    if sources is not None and not sources.is_dir():
        raise UsageError(f"--sources {args.sources}: not a directory")
    files = policy_files(args.paths or ["policies"])
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {missing[0]}")
    results = {str(f): lint_file(f, sources) for f in files}
    errors = sum(1 for ds in results.values() for d in ds if d.severity == "error")
    warnings = sum(1 for ds in results.values() for d in ds if d.severity == "warning")
    if args.format == "json":
        json.dump([{"file": d.file, "line": d.line, "column": d.column, "code": d.code, "severity": d.severity,
                    "message": d.message, "help": d.help} for ds in results.values() for d in ds], sys.stdout, indent=2)
        print()
    elif args.format == "github":
        for ds in results.values():
            for d in ds:
                kind = "error" if d.severity == "error" else "warning"
                print(f"::{kind} file={d.file},line={d.line},col={d.column},title={d.code}::{d.message}")
    else:
        style, cache = _Style(sys.stdout), {}
        for ds in results.values():
            for d in ds:
                print(render_diagnostic(d, style, cache))
        print(f"{len(files)} file(s): {errors} error(s), {warnings} warning(s)")
    return EXIT_FAIL if errors else EXIT_OK


# ---------------------------------------------------------------- reading events

def _yaml_events(text: str, name: str) -> Iterator[Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    try:
        docs = list(YAML(typ="safe").load_all(text))
    except YAMLError as exc:
        raise UsageError(f"{name}: not valid YAML or JSON: {str(exc).splitlines()[0]}") from None
    for doc in docs:
        if isinstance(doc, list):
            yield from doc
        elif doc is not None:
            yield doc


def read_events(sources: Sequence[str]) -> Iterator[tuple[str, Any]]:
    """(where, event) pairs from YAML, JSON or JSON Lines files, directories of them, or `-` (stdin)."""
    for source in sources or ["-"]:
        if source != "-" and Path(source).is_dir():
            files = sorted(p for p in Path(source).rglob("*") if p.suffix in (".json", ".jsonl", ".yaml", ".yml"))
            yield from read_events([str(p) for p in files])
            continue
        if source == "-":
            stream: TextIO = sys.stdin
            name = "<stdin>"
        else:
            try:
                stream = open(source, encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"{source}: cannot read: {exc.strerror}") from None
            name = source
        with stream if source != "-" else _nullcontext(stream):
            yield from _stream_events(stream, name, jsonl=name.endswith(".jsonl"))


class _nullcontext:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __enter__(self) -> Any:
        return self.value

    def __exit__(self, *exc: Any) -> None:
        return None


def _stream_events(stream: TextIO, name: str, jsonl: bool) -> Iterator[tuple[str, Any]]:
    try:
        if jsonl:
            for number, line in enumerate(stream, 1):
                if line.strip():
                    yield f"{name}:{number}", _json_line(line, name, number)
            return
        first = stream.readline()
        if first.lstrip().startswith("{") and first.rstrip().endswith("}"):
            try:
                yield f"{name}:1", json.loads(first)
            except json.JSONDecodeError:
                pass
            else:
                for number, line in enumerate(stream, 2):
                    if line.strip():
                        yield f"{name}:{number}", _json_line(line, name, number)
                return
        text = first + stream.read()
    except UnicodeDecodeError:
        raise UsageError(f"{name}: not UTF-8 text") from None
    if "\x00" in text:
        raise UsageError(f"{name}: binary data, expected YAML, JSON or JSON Lines")
    for number, event in enumerate(_yaml_events(text, name), 1):
        yield f"{name}#{number}", event


def _json_line(line: str, name: str, number: int) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{name}:{number}: not valid JSON: {exc.msg}") from None


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


def _params(pairs: Sequence[str]) -> dict[str, Any]:
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
    policies = _load_policies(args.policy or ["nyc"], _params(args.param))
    threshold = SEVERITY[args.fail_on] if args.fail_on else None
    style = _Style(sys.stdout)
    progress = sys.stderr.isatty() and args.format == "text" and not args.quiet
    failed, count = False, 0
    city = frozenset(args.city_account or ())
    for where, event in _platform_events(read_events(args.files), args.platform, city):
        count += 1
        for policy in policies:
            try:
                explanation = policy.explain(event) if args.explain else None
                verdict = explanation.verdict if explanation else policy.evaluate(event)
            except EventError as exc:
                raise UsageError(f"{where}: malformed event: {exc}") from None
            if threshold is not None and SEVERITY[verdict.decision] >= threshold:
                failed = True
            if args.format == "text":
                _print_verdict(where, event, verdict, style, explanation.trace if explanation else None)
            else:
                data = verdict.model_dump(mode="json")
                print(json.dumps(data, ensure_ascii=False, indent=None if args.format == "jsonl" else 2))
        if args.format == "text":
            print()
        if progress and count % 1000 == 0:
            print(f"\r{count} events…", end="", file=sys.stderr, flush=True)
    if progress and count >= 1000:
        print(f"\r{count} events done.", file=sys.stderr)
    return EXIT_FAIL if failed else EXIT_OK


def _platform_events(events: Iterator[tuple[str, Any]], platform: str | None,
                     city_accounts: frozenset[str] = frozenset()) -> Iterator[tuple[str, Any]]:
    if platform is None:
        yield from events
        return
    from .platforms import from_platform
    for where, payload in events:
        try:
            converted = from_platform(platform, payload, city_accounts=city_accounts)
        except (ValueError, LookupError) as exc:
            raise UsageError(f"{where}: {exc}") from None
        for number, event in enumerate(converted):
            yield f"{where}[{number}]", event


# ---------------------------------------------------------------- test

def cmd_test(args: argparse.Namespace) -> int:
    from .testing import TestFileError, coverage, run_file, test_files
    files = test_files(args.paths or ["policies"])
    if not files:
        raise UsageError("no *.tests.yaml files found")
    passed = failed = 0
    for path in files:
        if not path.exists():
            raise UsageError(f"no such file: {path}")
        try:
            results = run_file(path)
        except TestFileError as exc:
            print(f"ERROR {exc}")
            failed += 1
            continue
        for r in results:
            if r.passed:
                passed += 1
                if args.verbose:
                    print(f"PASS {r.file}:{r.line} {r.name}")
                continue
            failed += 1
            print(f"FAIL {r.file}:{r.line} {r.name}")
            for problem in r.problems:
                print(f"     {problem}")
            if r.verdict is not None:
                fired = ", ".join(f"{f.rule}={f.effect}" for f in r.verdict.findings) or "no rule"
                print(f"     fired: {fired}")
        if args.coverage and results:
            from .loader import load
            policy = load(Path(results[0].file).parent / f"{results[0].policy}.pol") \
                if (Path(results[0].file).parent / f"{results[0].policy}.pol").exists() else None
            if policy is not None:
                clauses, exceptions = coverage(policy, results)
                print(f"coverage {policy.name}: clauses never cited by a test: {', '.join(clauses) or 'none'}; "
                      f"exceptions never fired: {', '.join(exceptions) or 'none'}")
    print(f"{passed} passed, {failed} failed")
    return EXIT_FAIL if failed else EXIT_OK


# ---------------------------------------------------------------- fmt

def cmd_fmt(args: argparse.Namespace) -> int:
    import difflib
    from .fmt import format_text
    from .lint import policy_files
    files = policy_files(args.paths or ["policies"])
    changed = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: cannot read: {exc}") from None
        if "\x00" in text:
            raise UsageError(f"{path}: binary data, not a policy")
        formatted = format_text(text)
        if formatted == text:
            continue
        changed += 1
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), formatted.splitlines(True),
                                                       f"{path}", f"{path} (formatted)"))
        elif args.check:
            print(f"would reformat {path}")
        else:
            path.write_text(formatted, encoding="utf-8")
            print(f"reformatted {path}")
    if args.check or args.diff:
        print(f"{changed} of {len(files)} file(s) need formatting")
        return EXIT_FAIL if changed else EXIT_OK
    return EXIT_OK


# ---------------------------------------------------------------- schema, policies

def cmd_schema(args: argparse.Namespace) -> int:
    from pydantic import TypeAdapter
    from .models import Event
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
        for what in ("jurisdictions", "platforms", "detectors", "functions"):
            if row[what]:
                print(f"  {what + ':':<15}{', '.join(row[what])}")
        if row["observes_verdicts"]:
            print("  observes verdicts")
    for problem in problems:
        print(f"error: {problem}")
    return EXIT_FAIL if problems else EXIT_OK


# ---------------------------------------------------------------- parser

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policykit", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="City social-media policy as code: lint policies, check events, run policy tests.",
        epilog="examples:\n  policykit lint policies/\n  policykit check --policy clinton examples/events/\n"
               "  policykit test policies/")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help: str, example: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, epilog=f"example:\n  {example}",
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = add("lint", "Check .pol files: syntax, names, citations, unaccounted clauses, quotes.",
            "policykit lint --sources ../shared/seeds policies/")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: policies/)")
    p.add_argument("--format", choices=("text", "json", "github"), default="text")
    p.add_argument("--sources", metavar="DIR", help="check every clause quote against the source documents here")
    p.set_defaults(func=cmd_lint)

    p = add("check", "Judge events (YAML, JSON or JSON Lines; - for stdin) against one or more policies.",
            "policykit check --policy clinton --policy nyc --explain examples/events/comments.yaml")
    p.add_argument("files", nargs="*", metavar="FILE", help="event files or directories, or - (default: stdin)")
    p.add_argument("--policy", action="append", metavar="NAME|PATH", help="repeat to compare policies side by side")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="fill in a model policy's parameter")
    p.add_argument("--platform", metavar="NAME", help="read native payloads of this platform (e.g. facebook)")
    p.add_argument("--city-account", action="append", metavar="ID",
                   help="with --platform: an account id or handle that belongs to the city (its items are posts)")
    p.add_argument("--format", choices=("text", "json", "jsonl"), default="text")
    p.add_argument("--explain", action="store_true", help="show every rule considered and what became of it")
    p.add_argument("--fail-on", choices=("review", "remove", "deny"), help="exit 1 if any decision is this or worse")
    p.add_argument("--quiet", action="store_true", help="no progress line on a terminal")
    p.set_defaults(func=cmd_check)

    p = add("test", "Run policy test files (*.tests.yaml) and report failures with the rules that fired.",
            "policykit test --coverage policies/")
    p.add_argument("paths", nargs="*", metavar="PATH", help="test files or directories (default: policies/)")
    p.add_argument("--coverage", action="store_true", help="list clauses and exceptions no test exercises")
    p.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    p.set_defaults(func=cmd_test)

    p = add("fmt", "Rewrite .pol files in the canonical layout (comments and meaning kept).",
            "policykit fmt --check policies/")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: policies/)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    p.add_argument("--diff", action="store_true", help="print what would change; exit 1 if anything would")
    p.set_defaults(func=cmd_fmt)

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


def _extensions() -> list[Any]:
    """Subcommands contributed by other modules (records, moderate) when they are present."""
    found = []
    try:
        from . import cli_records
    except ImportError:
        return found
    found.append(cli_records.register)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
