"""`policykit lsp`: start the language server on stdin/stdout (editors run it; see docs/editors.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .cli import EXIT_USAGE


def register(subparsers: Any) -> None:
    """Add `lsp` to the `policykit` command."""
    help = "Run the policykit language server on stdin/stdout, for an editor (see docs/editors.md)."
    p = subparsers.add_parser("lsp", help=help, description=help, epilog="example (what an editor runs):\n"
                              "  policykit lsp --stdio", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default and only transport; "
                   "accepted because editors pass it)")
    p.set_defaults(func=cmd_lsp, command="lsp")


def cmd_lsp(args: argparse.Namespace) -> int:
    try:
        from .lsp.server import serve
    except ModuleNotFoundError as exc:
        if exc.name not in ("pygls", "lsprotocol", "cattrs") and not (exc.name or "").startswith(("pygls.", "lsprotocol.")):
            raise
        print("policykit lsp: the language server needs the `lsp` extra: pip install 'policykit[lsp]'", file=sys.stderr)
        return EXIT_USAGE
    serve()
    return 0
