"""An on-disk cache of what every process would otherwise build again: the detector engine (its
Aho–Corasick automata and the patterns' prefilter) and the Lark parser of the policy language.

Where: ``$POLICYKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/policykit``, else ``~/.cache/policykit``
(``~/Library/Caches/policykit`` on macOS, ``%LOCALAPPDATA%\\policykit\\Cache`` on Windows).
``POLICYKIT_CACHE_DIR=off`` (or ``0``, ``none``) turns the cache off.

What is trusted: an entry is loaded only when all of these hold, and is otherwise built afresh (and
written again when the directory allows):

- the directory is a real directory (not a symbolic link), owned by this user and writable by nobody
  else (no group or other write bit); a directory that does not exist is created with mode 0700;
- the file is a regular file opened without following links, owned by this user, writable by nobody
  else;
- its header names this format, the entry and its key — a hash of the data it was built from and of
  the versions of Python, policykit and the libraries that build it — so a stale entry is never used;
- the SHA-256 of its payload matches the header, so a truncated or corrupt file is never used.

Why pickle is safe here: unpickling runs code chosen by whoever wrote the file. The checks above mean
only this user (or root) can have written it, into a directory only this user can write, and the
digest means it is byte for byte what this code wrote: someone able to forge it could already run
code as this user. No other directory is ever read. An HMAC would add nothing: its key would live
where the entries live, readable by the same people.

Writes are atomic (a temporary file in the same directory, then ``os.replace``), so readers never see
half an entry; a failure to write is silent: the cache is an optimisation, never a requirement.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterable, TypeVar

__all__ = ["cache_dir", "cached", "key_of", "load", "store"]

MAGIC = b"policykit-cache 1\n"
T = TypeVar("T")
_OFF = {"off", "0", "none", "false", "no"}


def _default_dir() -> Path:
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "policykit" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "policykit"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "policykit"


def cache_dir() -> Path | None:
    """The cache directory, created when missing; None when the cache is off or the directory is
    not safe to read (see the module docstring)."""
    env = os.environ.get("POLICYKIT_CACHE_DIR")
    if env is not None and env.strip().lower() in _OFF:
        return None
    path = Path(env) if env else _default_dir()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return None
    return path if _private(info, stat.S_ISDIR) else None


def _private(info: os.stat_result, kind: Callable[[int], bool]) -> bool:
    """Of the right kind, owned by this user, writable by nobody else."""
    if not kind(info.st_mode):
        return False
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def key_of(*parts: str | bytes) -> str:
    """A key for an entry: the SHA-256 of its parts (data, versions), each length-prefixed."""
    h = hashlib.sha256()
    for p in parts:
        b = p.encode("utf-8") if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest()


def _header(name: str, key: str, payload: bytes) -> bytes:
    return MAGIC + f"{name}\n{key}\n{hashlib.sha256(payload).hexdigest()}\n".encode("ascii")


def load(name: str, key: str, directory: Path | None = None) -> bytes | None:
    """The payload stored under `name` when it was built for `key` and passes every check; else None."""
    directory = directory if directory is not None else cache_dir()
    if directory is None:
        return None
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(directory / f"{name}.cache", flags)
    except OSError:
        return None
    try:
        if not _private(os.fstat(fd), stat.S_ISREG):
            return None
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            data = fh.read()
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)
    lines = data.split(b"\n", 4)
    if len(lines) != 5 or lines[0] + b"\n" != MAGIC:
        return None
    payload = lines[4]
    if data[: len(data) - len(payload)] != _header(name, key, payload):
        return None  # another key (stale), another entry, or a payload that is not what was written
    return payload


def store(name: str, key: str, payload: bytes, directory: Path | None = None) -> bool:
    """Write an entry atomically; False (and nothing written) when the cache is off or unwritable."""
    directory = directory if directory is not None else cache_dir()
    if directory is None:
        return False
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_header(name, key, payload))
            fh.write(payload)
        os.chmod(tmp, 0o600)
        os.replace(tmp, directory / f"{name}.cache")
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False


def cached(name: str, key: str, build: Callable[[], T], dump: Callable[[T], bytes],
           restore: Callable[[bytes], T]) -> T:
    """The value stored under `name` for `key`, or `build()` (then stored). An entry that passes the
    checks but cannot be restored is rebuilt and overwritten."""
    directory = cache_dir()
    payload = load(name, key, directory)
    if payload is not None:
        try:
            return restore(payload)
        except Exception:  # noqa: BLE001 - an unreadable entry is rebuilt, never fatal
            pass
    value = build()
    if directory is not None:
        try:
            store(name, key, dump(value), directory)
        except Exception:  # noqa: BLE001 - a value that cannot be dumped is simply not cached
            pass
    return value


def versions(*distributions: str) -> Iterable[str]:
    """`name==version` of each installed distribution (and Python's), for keys."""
    from importlib import metadata

    yield f"python=={sys.version}"
    for d in distributions:
        try:
            yield f"{d}=={metadata.version(d)}"
        except metadata.PackageNotFoundError:
            yield f"{d}==?"


def lark_parser(grammar: str, postlex: object, **options: object):
    """``Lark(grammar, parser="lalr", postlex=postlex, **options)``, built once per grammar and Lark
    version and kept in the cache (Lark's own ``cache=True`` would write a pickle to the shared
    temporary directory, where anyone can put one). Uses Lark's documented ``save`` and the loader its
    own cache uses (``_load``), with the options that cannot be saved given again on load."""
    import io

    import lark
    from lark.lark import _LOAD_ALLOWED_OPTIONS

    runtime = {k: v for k, v in options.items() if k in _LOAD_ALLOWED_OPTIONS}

    def build() -> lark.Lark:
        return lark.Lark(grammar, parser="lalr", postlex=postlex, **options)  # type: ignore[arg-type]

    def dump(parser: lark.Lark) -> bytes:
        out = io.BytesIO()
        parser.save(out, _LOAD_ALLOWED_OPTIONS)
        return out.getvalue()

    def restore(payload: bytes) -> lark.Lark:
        # pickle inside: see the module docstring for why only entries this user wrote are read
        return lark.Lark.__new__(lark.Lark)._load(io.BytesIO(payload), postlex=postlex, **runtime)

    # the post-lexer's settings (an Indenter's token names) shape the tables built, so they are in the key
    # (a set's repr follows the process's hash seed: sorted, so that every process finds the entry)
    settings = sorted((k, repr(sorted(v) if isinstance(v, frozenset) else v)) for k, v in vars(type(postlex)).items()
                      if not k.startswith("__") and isinstance(v, (str, int, tuple, list, frozenset)))
    key = key_of(grammar, repr(sorted(options.items())), repr(settings), *versions("lark"))
    return cached("parser", key, build, dump, restore)
