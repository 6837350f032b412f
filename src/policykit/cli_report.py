"""`policykit report` (the policies woven with their code, as a static site) and `policykit explain`
(the path to one decision, for people)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .cli import EXIT_OK, EXIT_USAGE, EventReader, UsageError, _load_policies, parse_params
from .errors import EventError

DEFAULT_EVENTS = Path("examples") / "events"


def register(subparsers: Any) -> None:
    """Add `report` and `explain` to the `policykit` command."""

    def add(name: str, help: str, example: str) -> argparse.ArgumentParser:
        return subparsers.add_parser(name, help=help, description=help, epilog=f"example:\n  {example}",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)

    p = add("report", "Write a static HTML site: each policy's document beside the rules that encode it, their "
            "tests, and the cities compared on the same events.",
            "policykit report policies/*.pol -o site/ && open site/index.html")
    p.add_argument("policies", nargs="+", metavar="POLICY", help="bundled names or .pol files")
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="folder to write the site into")
    p.add_argument("--events", action="append", metavar="PATH",
                   help=f"event files or folders to compare the policies on (default: {DEFAULT_EVENTS}/ when present)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="fill in a model policy's parameter")
    p.add_argument("--no-tests", action="store_true", help="do not run the policies' *.tests.yaml files")
    p.set_defaults(func=cmd_report)

    p = add("explain", "Show, for people, how a policy reaches its decision on one event: the rules that were "
            "candidates, fired or were defeated, and what each missing fact would change.",
            "policykit explain clinton examples/events/comments.yaml")
    p.add_argument("policy", metavar="POLICY", help="a bundled name or a .pol file")
    p.add_argument("event", metavar="EVENT", help="a YAML or JSON file holding the event, or - for stdin")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="fill in a model policy's parameter")
    p.add_argument("--all", action="store_true", help="with a file of several events, explain every one")
    p.set_defaults(func=cmd_explain)


def cmd_report(args: argparse.Namespace) -> int:
    from .report import html, site
    policies = _load_policies(args.policies, parse_params(args.param))
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise UsageError("two of the policies have the same name; each needs its own page")
    sources = args.events or ([str(DEFAULT_EVENTS)] if DEFAULT_EVENTS.is_dir() else [])
    for source in sources:
        if not Path(source).exists():
            raise UsageError(f"--events {source}: no such file or folder")
    events = list(EventReader(sources)) if sources else []
    built = site.build(policies, events, sources, tests=not args.no_tests)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: exists and is not a folder")
    written = html.write(built, out)
    failed = sum(v.tests.failed for v in built.views if v.tests)
    print(f"wrote {len(written)} files to {out}/ ({len(built.views)} policies, {len(events)} events compared"
          + (f"; {failed} test case(s) fail, marked in the report" if failed else "") + f"): open {out / 'index.html'}")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from .report.explain import explain_decision, render
    [policy] = _load_policies([args.policy], parse_params(args.param))
    if args.event != "-" and not Path(args.event).is_file():
        raise UsageError(f"{args.event}: no such file")
    events = list(EventReader([args.event]))
    if not events:
        raise UsageError(f"{args.event}: holds no event")
    if len(events) > 1 and not args.all:
        raise UsageError(f"{args.event}: holds {len(events)} events; give one, or --all to explain each")
    malformed = 0
    for number, (where, event) in enumerate(events):
        if number:
            print()
        try:
            sys.stdout.write(render(explain_decision(policy, event), where))
        except EventError as exc:
            print(f"{where}  MALFORMED EVENT: {exc}")
            malformed += 1
    return EXIT_USAGE if malformed else EXIT_OK
