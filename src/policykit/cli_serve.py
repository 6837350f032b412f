"""`policykit serve`: run the HTTP decision API (docs/serve.md).

It listens on 127.0.0.1 unless told otherwise, and refuses to listen anywhere else without a bearer
token (from `--token-file` or `$POLICYKIT_SERVE_TOKEN`; never a command-line argument, which any user
of the machine can read in the process list). Everything that can be wrong at start-up (a policy that
does not compile, a port in use, an archive that cannot be opened, the `serve` extra missing) is one
line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import socket

from .cli import EXIT_OK, UsageError, parse_params

TOKEN_ENV = "POLICYKIT_SERVE_TOKEN"
DEFAULT_PORT = 8411
MIN_TOKEN = 16


def register(subparsers: Any) -> None:
    """Add `serve` to the `policykit` command."""
    p = subparsers.add_parser(
        "serve", formatter_class=argparse.RawDescriptionHelpFormatter,
        help="Serve decisions over HTTP: evaluate events, batches and platform payloads; /metrics, /healthz.",
        description="Serve decisions over HTTP (FastAPI on uvicorn): evaluate events, batches and platform "
                    "payloads, list policies and their clauses; Prometheus /metrics; policies reloaded when "
                    "their files change. Needs the serve extra: pip install 'policykit[serve]'.",
        epilog="examples:\n  policykit serve --policy clinton --policy nyc\n"
               "  curl -s localhost:8411/v1/policies/clinton/evaluate -d '{\"kind\": \"comment\", \"text\": \"hell\"}'\n"
               f"  {TOKEN_ENV}=$(cat token) policykit serve --host 0.0.0.0 --archive decisions.db")
    p.add_argument("--policy", action="append", metavar="NAME|PATH|DIR",
                   help="a policy to serve (repeat; a directory serves every .pol in it; default: every policy "
                        "`policykit policies` lists)")
    p.add_argument("--param", action="append", metavar="[POLICY:]NAME=VALUE",
                   help="fill in a parameter, for every policy or (POLICY:) only the one read from POLICY")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other needs a token)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free port)")
    p.add_argument("--token-file", metavar="FILE",
                   help=f"file holding the bearer token clients must send (default: ${TOKEN_ENV})")
    p.add_argument("--archive", metavar="PATH|URL",
                   help="decision log: record every verdict in this archive (SQLite file or postgresql:// URL) "
                        "before answering it")
    p.add_argument("--max-body", type=int, default=1 << 20, metavar="BYTES", help="largest request body (default 1 MiB)")
    p.add_argument("--max-batch", type=int, default=1000, metavar="N", help="most events in one request (default 1000)")
    p.add_argument("--time-limit", type=float, default=10.0, metavar="SECONDS",
                   help="time a request may take, body upload included (default 10)")
    p.add_argument("--max-connections", type=int, default=512, metavar="N",
                   help="concurrent connections and requests beyond which the server answers 503 (default 512)")
    p.add_argument("--reload-interval", type=float, default=1.0, metavar="SECONDS",
                   help="how often to look for changed policy files (default 1; 0: never reload)")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    p.set_defaults(func=cmd_serve, command="serve")


def _require_extra() -> None:
    """One line naming the extra when the server's libraries are not installed."""
    for module in ("fastapi", "uvicorn", "prometheus_client"):
        try:
            __import__(module)
        except ModuleNotFoundError:
            raise UsageError(f"needs the serve extra, which is not installed (no module {module!r}): "
                             "pip install 'policykit[serve]'") from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        import ipaddress  # here, not at the top: `policykit --help` should not pay for the server's imports

        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def read_token(path: str | None) -> str | None:
    """The bearer token from `path` or the environment; refused when it is too short to be a secret."""
    if path is not None:
        try:
            token = open(path, encoding="utf-8").read().strip()
        except OSError as exc:
            raise UsageError(f"--token-file {path}: cannot read: {exc.strerror}") from None
    else:
        token = os.environ.get(TOKEN_ENV, "").strip() or None  # type: ignore[assignment]
    if token is not None:
        if len(token) < MIN_TOKEN or any(c.isspace() for c in token) or not token.isprintable():
            raise UsageError(f"the bearer token must be at least {MIN_TOKEN} printable characters without spaces "
                             "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
    return token


def _check_limits(args: argparse.Namespace) -> None:
    for name in ("max_body", "max_batch", "max_connections"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if args.time_limit <= 0:
        raise UsageError("--time-limit must be more than 0 seconds")
    if args.reload_interval < 0:
        raise UsageError("--reload-interval must be 0 (never) or more")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: not a port number")


def _listen(host: str, port: int) -> socket.socket:
    """Bind here, so a port in use is one clear line (and port 0 tells which port it got)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def cmd_serve(args: argparse.Namespace) -> int:
    _require_extra()
    _check_limits(args)
    token = read_token(args.token_file)
    if token is None and not is_loopback(args.host):
        raise UsageError(f"--host {args.host} is reachable from other machines: give a bearer token "
                         f"(--token-file FILE or ${TOKEN_ENV}), or listen on 127.0.0.1")
    import logging

    import uvicorn

    from .errors import PolicyError, PolicyNotFound
    from .records import ArchiveError
    from .serve import DecisionLog, Limits, PolicySet, create_app

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    policies = PolicySet(args.policy or (), parse_params(args.param))
    try:
        policies.load()
    except PolicyNotFound as exc:
        raise UsageError(str(exc)) from None
    except PolicyError as exc:
        raise UsageError(f"a policy does not compile (run `policykit lint`):\n{exc}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not policies.current():
        raise UsageError("no policies to serve (give --policy NAME|PATH|DIR)")
    decision_log = None
    if args.archive:
        decision_log = DecisionLog(args.archive)
        try:
            decision_log.start()
        except ArchiveError as exc:
            raise UsageError(f"--archive {args.archive}: {exc}") from None
    sock = _listen(args.host, args.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host

    def ready() -> None:
        print(f"policykit serve: listening on http://{shown}:{port} ({len(policies.current())} policies: "
              f"{', '.join(sorted(policies.current()))}; token {'required' if token else 'not required'}"
              f"{'; decision log ' + args.archive if args.archive else ''})", file=sys.stderr, flush=True)

    app = create_app(policies, limits=Limits(args.max_body, args.max_batch, args.time_limit), token=token,
                     decision_log=decision_log, reload_interval=args.reload_interval, on_ready=ready)
    config = uvicorn.Config(app, log_level=args.log_level, access_log=False, server_header=False,
                            limit_concurrency=args.max_connections, timeout_keep_alive=5, proxy_headers=False,
                            loop=_best("uvloop", "asyncio"), http=_best("httptools", "h11"), lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
    return EXIT_OK


def _best(module: str, fallback: str) -> str:
    """uvloop and httptools when installed (the serve extra has them where they build), else pure Python."""
    try:
        __import__(module)
    except ImportError:
        return fallback
    return module


__all__ = ["cmd_serve", "is_loopback", "read_token", "register"]
