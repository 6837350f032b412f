"""Every bound policykit puts on untrusted input, in one place, and the readers that enforce them.

Events, policy files, source documents, YAML test and event files and plugin calls all come from
somewhere policykit does not control. Each has a limit here, with a default far above anything real
and far below what would make a decision slow or exhaust memory; going over one is an error that names
the limit (an `EventError`, a diagnostic, a usage error), never a hang, a crash or a silent cut.

The defaults suit a moderation service; an embedder that needs more (a city archiving long documents as
post text) changes them once at start-up with `configure(max_text=…)`. docs/api.md ("Limits") lists
them.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

__all__ = ["Limits", "LimitExceeded", "ReadRefused", "configure", "current", "event_problem", "load_yaml",
           "read_bounded"]


@dataclass(frozen=True)
class Limits:
    """The bounds in force; every field is documented in docs/api.md ("Limits")."""

    # ---- events (dicts, JSON text)
    max_text: int = 100_000  # characters in one string field; Facebook's longest post is 63,206
    max_items: int = 10_000  # items in one list (labels, links, media, quotes, extra's lists)
    max_nodes: int = 100_000  # values in one event, all fields and nested values counted
    max_depth: int = 32  # nesting of objects and lists in one event (a real one is about 6 deep)
    max_integer: int = 2**53 - 1  # the largest integer every JSON reader holds exactly
    # ---- policy files
    max_policy_bytes: int = 4 * 2**20  # one .pol file; the largest bundled policy is ~40 KiB
    max_document_bytes: int = 16 * 2**20  # one source document a policy quotes (`document`)
    max_nesting: int = 64  # nesting of a .pol file's conditions, lists and clauses as written
    max_expansion: int = 128  # nesting of a condition with the definitions it uses put in place
    max_compiled: int = 200_000  # tests a policy compiles to, each use of a definition counted (the bundled ones: ~1,000)
    max_number_digits: int = 15  # digits of a number in a .pol file (beyond, floats lose whole units)
    # ---- YAML (test files, event files)
    max_yaml_depth: int = 64  # nesting of a YAML document
    max_yaml_nodes: int = 1_000_000  # values in a YAML document, each alias counted as what it stands for
    # ---- plugins (detectors and functions plugins register)
    plugin_budget: float = 0.5  # seconds one plugin call may take; a slower result counts as failed
    plugin_strikes: int = 3  # consecutive over-budget calls after which the plugin is suspended
    plugin_cooldown: float = 60.0  # seconds a suspended plugin is skipped (reported) before a retry


_LOCK = threading.Lock()
_CURRENT = Limits()


def current() -> Limits:
    """The limits in force (read on every check, so `configure` takes effect at once)."""
    return _CURRENT


def configure(**changes: Any) -> Limits:
    """Change some limits for the whole process; returns the previous ones (to restore in tests).

    `configure(max_text=1_000_000)`; an unknown name is a TypeError, a limit that is not a positive
    number a ValueError, so a typo cannot silently leave a limit where it was.
    """
    global _CURRENT
    for name, value in changes.items():
        if name not in Limits.__dataclass_fields__:
            raise TypeError(f"no limit named {name!r}; the limits are {', '.join(Limits.__dataclass_fields__)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"limit {name} must be a positive number, not {value!r}")
    with _LOCK:
        previous = _CURRENT
        _CURRENT = dataclasses.replace(_CURRENT, **changes)
    return previous


def restore(limits: Limits) -> None:
    """Put back limits `configure` returned."""
    global _CURRENT
    with _LOCK:
        _CURRENT = limits


class LimitExceeded(ValueError):
    """Input over one of the limits; `.limit` names it (the field of `Limits`)."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


# ---------------------------------------------------------------- events

def _path(where: tuple[Any, Any] | None) -> str:
    """The field path of a place the walk recorded as (parent place, key), root first."""
    keys: list[Any] = []
    while where is not None:
        where, key = where
        keys.append(key)
    path = ""
    for key in reversed(keys):
        if isinstance(key, int):
            path += f"[{key}]"
        else:
            key = str(key) if len(str(key)) <= 40 else str(key)[:37] + "..."
            path += f".{key}" if path else key
    return path if len(path) <= 200 else path[:197] + "..."


_TRAILING_INDICES = re.compile(r"(\[\d+\])+$")


def _field(where: tuple[Any, Any] | None) -> str:
    """The field a too-deep value sits in (`text`, not `text[0][0]…[0]`), at most 120 characters."""
    path = _TRAILING_INDICES.sub("", _path(where))
    return path if len(path) <= 120 else path[:117] + "..."


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def event_problem(data: Any) -> tuple[str, str] | None:
    """(field path, what was expected) for the first value of a raw event over a limit, else None.

    Walks the event iteratively (a value nested a million deep cannot overflow the stack) and stops at
    the first problem, so a hostile event costs at most `max_nodes` steps; paths are only spelled out
    for the problem found, which keeps the walk to about a microsecond for a typical event. Strings are
    checked for lone surrogates too: they are not text, and no JSON writer can put them out again.
    """
    limits = _CURRENT
    max_text, max_items, max_depth, max_int = limits.max_text, limits.max_items, limits.max_depth, limits.max_integer
    budget = limits.max_nodes
    stack: list[tuple[Any, int, Any]] = [(data, 0, None)]
    while stack:
        value, depth, where = stack.pop()
        if depth >= max_depth:
            return _field(where), f"values nested at most {max_depth} deep (limit max_depth)"
        if len(value) > max_items:
            return _path(where) or "", f"at most {max_items:,} items (limit max_items; got {len(value):,})"
        budget -= len(value)
        if budget < 0:
            return _path(where), f"an event of at most {limits.max_nodes:,} values (limit max_nodes)"
        for key, item in (value.items() if isinstance(value, (dict, Mapping)) else enumerate(value)):
            kind = type(item)
            if kind is str:
                if len(item) > max_text:
                    return (_path((where, key)),
                            f"text of at most {max_text:,} characters (limit max_text; got {len(item):,})")
                if not item.isascii() and _has_surrogate(item):
                    return _path((where, key)), "text without lone surrogates (\\ud800-\\udfff are not characters)"
            elif kind is int:
                if not -max_int <= item <= max_int:
                    return _path((where, key)), f"an integer of at most {max_int:,} in size (limit max_integer)"
            elif kind is float:
                if not math.isfinite(item):
                    return _path((where, key)), "a finite number (not NaN or infinity)"
            elif isinstance(item, (dict, list, tuple)):
                stack.append((item, depth + 1, (where, key)))
            if type(key) is str and len(key) > max_text:
                return _path(where), f"keys of at most {max_text:,} characters (limit max_text)"
    return None


# ---------------------------------------------------------------- files

class ReadRefused(OSError):
    """A file policykit will not read: too large, not a regular file, or unreadable."""


def read_bounded(path: str | os.PathLike[str], limit: int, what: str, limit_name: str) -> bytes:
    """A regular file's bytes, refusing one larger than `limit` with a message naming the limit.

    The size is checked on the open file and the read is bounded too, so a file that grows after the
    check, or a device such as /dev/zero, cannot be read without end; a FIFO is refused without
    blocking (opened non-blocking, checked with fstat).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ReadRefused(f"cannot read file: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ReadRefused(f"not a regular file, so not {what}")
        if info.st_size > limit:
            raise ReadRefused(f"too large for {what} ({info.st_size / 2**20:.1f} MiB; "
                              f"at most {limit / 2**20:g} MiB, limit {limit_name})")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ReadRefused(f"too large for {what} (more than {limit / 2**20:g} MiB, limit {limit_name})")
    return data


def inside(path: Path, roots: list[Path]) -> bool:
    """Whether `path`, with every symlink followed, lies in one of the (resolved) roots."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(root) for root in roots)


# ---------------------------------------------------------------- YAML

def _bounded_composer() -> type:
    """A ruamel composer that counts what a document stands for, aliases expanded, as it composes.

    An alias is only a reference while loading, so a 500-byte "billion laughs" loads in a millisecond
    and then makes whatever walks it (validation, evaluation, printing) run for hours. Counting each
    node's expanded size as it is composed costs one addition per node and refuses such a document
    before anything walks it.
    """
    from ruamel.yaml.composer import Composer, ComposerError
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    class BoundedComposer(Composer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._sizes: dict[int, int] = {}
            self._level = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self._level >= _CURRENT.max_yaml_depth:
                raise ComposerError(None, None, f"nested too deeply: more than {_CURRENT.max_yaml_depth} "
                                    f"levels (limit max_yaml_depth)", self.parser.peek_event().start_mark)
            self._level += 1
            try:
                node = super().compose_node(parent, index)
            finally:
                self._level -= 1
            key = id(node)
            if key in self._sizes:  # an alias: its size is that of the node it names
                return node
            size = 1
            if isinstance(node, SequenceNode):
                size += sum(self._sizes.get(id(child), 1) for child in node.value)
            elif isinstance(node, MappingNode):
                size += sum(self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value)
            limit = _CURRENT.max_yaml_nodes
            if size > limit:
                raise ComposerError(None, None, f"this document stands for more than {limit:,} values once its "
                                    f"aliases are expanded (limit max_yaml_nodes)", node.start_mark)
            self._sizes[key] = size
            return node

    return BoundedComposer


_COMPOSER: list[type] = []


def load_yaml(text: str, *, round_trip: bool = False, every: bool = False) -> Any:
    """YAML text → data, within `max_yaml_depth` and `max_yaml_nodes` (aliases counted expanded).

    `round_trip` keeps line numbers (what test files report failures with); `every` returns a list of
    every document in the stream. Errors are ruamel's `YAMLError`s with a mark, as for any bad YAML.
    """
    from ruamel.yaml import YAML
    if not _COMPOSER:
        _COMPOSER.append(_bounded_composer())
    yaml = YAML(typ="rt" if round_trip else "safe", pure=True)
    yaml.Composer = _COMPOSER[0]
    return list(yaml.load_all(text)) if every else yaml.load(text)
