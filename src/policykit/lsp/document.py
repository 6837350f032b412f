"""What the server knows about one open `.pol` document: its parse, its parents, and its lint findings.

Everything here is plain policykit: the parser, `lint`'s findings (`findings_in_text`) and
`# policykit: ignore[…]` handling, so the editor shows what `policykit lint` prints. None of it is
thread-safe against itself (the parser's indenter keeps state), so the server runs it on one worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import syntax as st
from ..compiler import Policy
from ..errors import Diagnostic, PolicyError, Span
from ..lint import findings_in_text, ignored, max_policy_bytes
from ..loader import _label, _locate, _read, _roots
from ..parser import parse
from .index import Index, Inherited, build

MAX_PARENTS = 16  # an `extends` chain longer than this is a cycle or a mistake; the compiler says which


@dataclass
class Layer:
    """A parsed file and the index of its names."""

    path: Path | None
    index: Index


@dataclass
class Parsed:
    """A document's parse: its own index, and its parents' (nearest first); `index` is None when the
    text does not parse."""

    index: Index | None
    parents: list[Layer] = field(default_factory=list)

    def layers(self) -> list[Layer]:
        own = [Layer(None, self.index)] if self.index is not None else []
        return own + self.parents


def too_large(text: str) -> Diagnostic | None:
    """The same bound `policykit lint` puts on a file, so no keystroke makes the server read megabytes."""
    size, limit = len(text.encode("utf-8")), max_policy_bytes()
    if size > limit:
        return Diagnostic("PK000", f"too large for a policy ({size / 2**20:.1f} MiB; at most "
                          f"{limit / 2**20:g} MiB, limit max_policy_bytes)", Span("", 1, 1),
                          "policies are UTF-8 text files ending in .pol")
    return None


def locate_parent(ref: str, child: Path, roots: list[Path]) -> Path | None:
    """The file an `extends` names, found the way `load` finds it: a path relative to the child that
    stays inside the roots (no absolute path, `..` or symlink out), or a policy name `load` knows."""
    try:
        return _locate(ref, child, Span(str(child), 1, 1), roots)
    except PolicyError:
        return None


def parse_document(text: str, path: Path) -> Parsed:
    """Parse a document and the files it extends; a parent that does not parse ends the chain."""
    try:
        doc = parse(text, str(path))
    except PolicyError:
        return Parsed(None)
    parents: list[tuple[Path, st.PolicyDoc, str]] = []
    current, seen = doc, {path.resolve()}
    child, roots = path, _roots(path)
    while current.extends is not None and len(parents) < MAX_PARENTS:
        found = locate_parent(current.extends.id, child, roots)
        if found is None or found.resolve() in seen:
            break
        seen.add(found.resolve())
        try:
            parent_text = _read(found)  # size-bounded, UTF-8 text only, as `load` reads it
            parent = parse(parent_text, str(found))
        except PolicyError:
            break
        parents.append((found, parent, parent_text))
        current, child = parent, found
    layers: list[Layer] = []
    inherited = Inherited()
    for parent_path, parent, parent_text in reversed(parents):  # farthest first, so names flow down
        layers.insert(0, Layer(parent_path, build(parent, parent_text, inherited)))
        inherited = _inherit(inherited, parent)
    return Parsed(build(doc, text, inherited), layers)


def _inherit(inherited: Inherited, doc: st.PolicyDoc) -> Inherited:
    return Inherited(inherited.defines | {d.name for d in doc.defines}, inherited.params | {p.name for p in doc.params})


@dataclass
class Linted:
    """Lint findings for one version of a document; `policy` when it compiled (for rule ids in hovers)."""

    diagnostics: list[Diagnostic]
    policy: Policy | None = None


def lint_text(text: str, path: Path, sources: Path | None = None) -> Linted:
    """What `policykit lint [--sources DIR] FILE` reports for this text, without reading FILE from disk.

    Findings in a parent file are reported at this file's `extends` line, naming where they are."""
    problem = too_large(text)
    if problem is not None:
        return Linted([problem])
    if not text.strip():
        return Linted([Diagnostic("PK000", "empty file, not a policy", Span(str(path), 1, 1),
                                  "policies are UTF-8 text files ending in .pol")])
    found, policy = findings_in_text(text, str(path), sources)
    own = {_label(path), str(path)}
    kept = [d if d.file in own else _from_parent(d, text, path) for d in found]
    lines = text.splitlines()
    return Linted([d for d in kept if not ignored(d, lines)], policy)


def _from_parent(d: Diagnostic, text: str, path: Path) -> Diagnostic:
    """A finding in a file this one extends, moved to this file's `extends` line."""
    try:
        extends = parse(text, str(path)).extends
    except PolicyError:
        extends = None
    span = extends.span if extends is not None else Span(str(path), 1, 1)
    return Diagnostic(d.code, f"in {d.span}: {d.message}", span, d.help, d.severity)
