"""The policies a server answers for, and their reloading when a file changes.

A `PolicySet` publishes an immutable name → `Served` mapping; a request takes the `Served` it needs
once, at its start, and uses that compiled policy to the end. Reloading compiles the changed files in
the watcher's thread and then swaps the whole mapping in one assignment, so a request never sees half
a reload, an in-flight request (a long batch included) keeps the policy it started with, and none is
dropped or waits for a compile. A changed file that does not compile is reported (`/healthz`, the
metrics, the log) and the last good version stays in service: a typo saved in an editor must not
take the city's moderation down.

Policies are compiled with `policykit.load`, so a served verdict is the library's verdict.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

from ..compiler import Policy
from ..errors import PolicyError, PolicyNotFound
from ..loader import bundled_dir, clear_cache, known_policies, load

log = logging.getLogger("policykit.serve")

Signature = tuple[tuple[str, int, int] | tuple[str, None, None], ...]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Served:
    """One compiled policy version, the files it was compiled from, and when."""

    policy: Policy
    path: Path
    files: tuple[Path, ...]
    loaded_at: str


@dataclass(frozen=True)
class ReloadError:
    file: str
    error: str
    diagnostics: tuple[Any, ...]
    at: str


@dataclass
class _Source:
    """One policy file to serve: where it is, its parameters, and the stat signature last compiled."""

    path: Path
    params: dict[str, Any]
    signature: Signature = ()
    name: str | None = None  # the policy's name once it has compiled
    files: tuple[Path, ...] = ()


def _layer_path(label: str) -> Path:
    """The file a layer was read from, from its citation label (`policies/NAME.pol` for bundled ones)."""
    path = Path(label)
    bundled = bundled_dir() / path.name
    if label == f"policies/{path.name}" and bundled.is_file():
        return bundled
    return path


def signature(files: Sequence[Path]) -> Signature:
    """What reloading compares: each file's modification time and size (None when it is gone)."""
    out = []
    for file in files:
        try:
            info = file.stat()
        except OSError:
            out.append((str(file), None, None))
        else:
            out.append((str(file), info.st_mtime_ns, info.st_size))
    return tuple(out)  # type: ignore[return-value]


def split_params(pairs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """`NAME` → every policy; `POLICY:NAME` → only the policy read from POLICY (a name or a file's stem)."""
    common: dict[str, Any] = {}
    scoped: dict[str, dict[str, Any]] = {}
    for key, value in pairs.items():
        if ":" in key:
            policy, name = key.split(":", 1)
            scoped.setdefault(policy, {})[name] = value
        else:
            common[key] = value
    return common, scoped


class PolicySet:
    """Named policies compiled from names, `.pol` files and directories of them, reloaded on change.

    `refs` are what `policykit.load` accepts (bundled or plugin names, file paths) or directories
    (every `*.pol` directly in them, rescanned at each check, so a file added later is served too).
    No refs: every policy `policykit.policies()` lists.
    """

    def __init__(self, refs: Sequence[str] = (), params: Mapping[str, Any] | None = None,
                 on_reload: Callable[[str, str], None] | None = None) -> None:
        self.refs = list(refs)
        self.common, self.scoped = split_params(params or {})
        self.on_reload = on_reload or (lambda name, result: None)
        self._sources: dict[Path, _Source] = {}
        self._current: Mapping[str, Served] = MappingProxyType({})
        self.errors: dict[str, ReloadError] = {}
        self.reloads = 0
        self._lock = threading.Lock()  # one check at a time (the watcher, or a test calling check())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what requests read ------------------------------------------------------------------------

    def current(self) -> Mapping[str, Served]:
        """The policies in service now: an immutable mapping, replaced whole by a reload."""
        return self._current

    # -- loading -----------------------------------------------------------------------------------

    def load(self) -> None:
        """Compile every policy; at start-up any error is fatal (PolicyError / PolicyNotFound / ValueError)."""
        with self._lock:
            for path in self._paths():
                source = self._source(path)
                served = self._compile(source)
                self._publish(source, served, initial=True)

    def _paths(self) -> list[Path]:
        """The files the refs name now (directories are listed afresh on each call)."""
        if not self.refs:
            return list(known_policies().values())
        paths: list[Path] = []
        known = None
        for ref in self.refs:
            path = Path(ref)
            if path.is_dir():
                paths.extend(sorted(p for p in path.glob("*.pol") if p.is_file()))
            elif path.is_file() or ref.endswith(".pol") or "/" in ref:
                paths.append(path)
            else:
                known = known if known is not None else known_policies()
                if ref not in known:
                    load(ref)  # raises PolicyNotFound with its did-you-mean
                paths.append(known[ref])
        return paths

    def _source(self, path: Path) -> _Source:
        key = path.resolve() if path.exists() else path.absolute()
        source = self._sources.get(key)
        if source is None:
            source = _Source(path, {**self.common, **self.scoped.get(path.stem, {})})
            self._sources[key] = source
        return source

    def _compile(self, source: _Source) -> Served:
        known = source.files or (source.path,)
        before = signature(known)  # taken before reading: a write during the compile shows at the next check
        clear_cache()  # load() caches by the top file's stat; a parent it extends may be what changed
        policy = load(source.path, source.params or None)
        parents = (_layer_path(layer.file) for layer in policy.layers)
        files = tuple(dict.fromkeys(p.resolve() for p in (source.path, *parents)))
        source.files = files
        source.signature = before if files == tuple(p.resolve() for p in known) else signature(files)
        return Served(policy, source.path, files, _now())

    def _publish(self, source: _Source, served: Served, initial: bool = False) -> None:
        name = served.policy.name
        current = dict(self._current)
        clash = current.get(name)
        if clash is not None and clash.path.resolve() != source.path.resolve():
            raise ValueError(f"{source.path} and {clash.path} both define policy `{name}`; serve one of them")
        current[name] = served
        source.name = name
        self._current = MappingProxyType(current)
        # Replaced, not changed in place: /healthz reads it from the server's thread meanwhile.
        self.errors = {k: v for k, v in self.errors.items() if k != str(source.path)}
        if not initial:
            self.reloads += 1
            log.info("reloaded policy %s from %s (digest %s)", name, source.path, served.policy.digest[:12])
            self.on_reload(name, "ok")

    # -- reloading ---------------------------------------------------------------------------------

    def check(self) -> int:
        """Recompile what changed since the last check (and compile new files in served directories);
        returns how many policies were replaced or added. Never raises for a bad file: it is recorded
        in `errors` and the last good version stays in service."""
        changed = 0
        with self._lock:
            try:
                paths = self._paths()
            except (PolicyError, PolicyNotFound, OSError) as exc:
                log.warning("cannot list the policies to serve: %s", exc)
                return 0
            for path in paths:
                source = self._source(path)
                files = source.files or (path,)
                if source.signature and signature(files) == source.signature:
                    continue
                changed += self._reload(source)
        return changed

    def _reload(self, source: _Source) -> int:
        try:
            served = self._compile(source)
            self._publish(source, served)
            return 1
        except (PolicyError, PolicyNotFound, OSError, ValueError) as exc:
            source.signature = signature(source.files or (source.path,))  # retry when it changes again
            diagnostics = tuple(getattr(exc, "diagnostics", ()))
            problem = ReloadError(str(source.path), str(exc).splitlines()[0], diagnostics, _now())
            self.errors = {**self.errors, str(source.path): problem}
            log.warning("policy file %s changed but cannot be served; still serving the last good "
                        "version:\n%s", source.path, exc)
            self.on_reload(source.name or source.path.stem, "error")
            return 0

    def watch(self, interval: float) -> None:
        """Check for changed files every `interval` seconds, in a daemon thread, until `stop()`."""
        if interval <= 0 or self._thread is not None:
            return

        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.check()
                except Exception:  # a bug of ours must not stop reloading for good
                    log.exception("policy reload check failed")

        self._thread = threading.Thread(target=run, name="policykit-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


__all__ = ["PolicySet", "ReloadError", "Served", "signature", "split_params"]
