"""Finding policies by name or path, and compiling them (with what they extend) into `Policy` objects.

Names are looked up among the bundled policies (`policies/*.pol`, shipped in the package) and those
plugins register; anything with a path separator or a `.pol` suffix is a file. Compiled policies are
cached by name, file contents and parameters, so `policykit.evaluate(event, policy="nyc")` compiles
once.
"""

from __future__ import annotations

import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping


from . import limits as _limits
from .compiler import Policy, _Layer, compile_layers
from .errors import Diagnostic, PolicyError, PolicyNotFound, Span
from .parser import parse



def _plugin_jurisdictions() -> Mapping[str, Path]:
    """Policies that plugins register; asked on first use so importing policykit discovers nothing."""
    from .plugins import jurisdictions
    return jurisdictions()


# Extra name → file lookups: plugins' jurisdictions, and whatever `add_source` adds.
_EXTRA_SOURCES: list[Callable[[], Mapping[str, Path]]] = [_plugin_jurisdictions]
_CACHE: dict[tuple[Any, ...], Policy] = {}
_LOCK = threading.Lock()


def bundled_dir() -> Path:
    return Path(str(resources.files("policykit").joinpath("policies")))


def known_policies() -> dict[str, Path]:
    """Every policy name `load` accepts, and the file it reads."""
    found: dict[str, Path] = {}
    directory = bundled_dir()
    if directory.is_dir():
        for path in sorted(directory.glob("*.pol")):
            found[path.stem] = path
    for source in _EXTRA_SOURCES:
        found.update(source())
    return found


def policies() -> list[str]:
    """Names of every policy that `load()` accepts by name."""
    return sorted(known_policies())


def _is_path(ref: str) -> bool:
    return ref.endswith(".pol") or os.sep in ref or "/" in ref


def _label(path: Path) -> str:
    """How citations name a file: `policies/nyc.pol` for bundled ones, else relative to the cwd."""
    resolved = path.resolve()
    if resolved.parent == bundled_dir().resolve():
        return f"policies/{path.name}"
    try:
        return os.path.relpath(resolved)
    except ValueError:
        return str(resolved)


def _roots(top: Path) -> list[Path]:
    """Where a policy's `extends` may read: its own directory (and below), the bundled policies' and
    every directory a plugin or `add_source` names a policy in. Resolved, so symlinks are followed."""
    roots = {top.parent.resolve(), bundled_dir().resolve()}
    roots.update(path.parent.resolve() for path in known_policies().values())
    return sorted(roots)


def _escape(message: str, span: Span, roots: list[Path]) -> PolicyError:
    return PolicyError([Diagnostic("PK212", message, span,
                                   "policies read files only inside "
                                   + ", ".join(_label(root) or "." for root in roots)
                                   + "; name a bundled or plugin policy, or copy the file there")])


def _locate(ref: str, relative_to: Path | None, span: Span | None, roots: list[Path] | None = None) -> Path:
    """The file `ref` names. From inside a policy (`roots` given), a path must stay inside the roots:
    an absolute path, a `..` that climbs out or a symlink that points out is PK212, refused before
    anything is read, so no diagnostic can show an outside file's content."""
    if _is_path(ref):
        if roots is not None and span is not None:
            if os.path.isabs(ref):
                raise _escape(f"`extends` names an absolute path ({ref}); a policy may only extend files "
                              "beside it", span, roots)
            candidate = (relative_to.parent if relative_to is not None else Path(".")) / ref
            if not _limits.inside(candidate, roots):
                raise _escape(f"`extends {ref}` leads outside the directories policies may be read from", span, roots)
        path = (relative_to.parent / ref) if relative_to is not None and not os.path.isabs(ref) else Path(ref)
        if path.is_file():
            return path
        raise _not_found(f"no policy file {ref}", span, None)
    known = known_policies()
    if ref in known:
        return known[ref]
    import difflib
    close = difflib.get_close_matches(ref, list(known), n=1)
    raise _not_found(f"no policy named `{ref}`", span,
                     f"did you mean `{close[0]}`?" if close else f"known policies: {', '.join(known) or 'none'}")


def _not_found(message: str, span: Span | None, help: str | None) -> Exception:
    if span is None:
        return PolicyNotFound(message + (f" ({help})" if help else ""))
    return PolicyError([Diagnostic("PK210", message, span, help)])


def _read(path: Path) -> str:
    limit = _limits.current().max_policy_bytes
    try:
        data = _limits.read_bounded(path, limit, "a policy", "max_policy_bytes")
    except _limits.ReadRefused as exc:
        raise PolicyError([Diagnostic("PK000", str(exc), Span(str(path), 1, 1))]) from None
    if b"\x00" in data:
        raise PolicyError([Diagnostic("PK000", "this is a binary file, not a policy", Span(str(path), 1, 1),
                                      "policies are UTF-8 text files ending in .pol")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError([Diagnostic("PK000", f"this file is not UTF-8 text (byte {exc.start})",
                                      Span(str(path), 1, 1))]) from None


def read_document(sources: Path, ref: str, span: Span) -> str | Diagnostic:
    """The text of the source document a policy's `document "…"` names, inside `sources` only; or the
    diagnostic that says why not: outside `sources` (PK212, nothing read), missing (PK306),
    unreadable, binary, not UTF-8 or over `max_document_bytes` (PK213)."""
    root = sources.resolve()
    if os.path.isabs(ref) or not _limits.inside(sources / ref, [root]):
        return Diagnostic("PK212", f"`document {ref}` leads outside the --sources directory", span,
                          "name the document by its path inside --sources, without `..`")
    path = sources / ref
    if not path.is_file():
        # the quotes were asked to be checked and cannot be: an error, not a skip
        return Diagnostic("PK306", f"source document {path} not found, so no quote can be checked", span,
                          f"put {ref} in {sources}, or give --sources the directory that has it")
    try:
        data = _limits.read_bounded(path, _limits.current().max_document_bytes, "a source document",
                                    "max_document_bytes")
        if b"\x00" in data:
            raise _limits.ReadRefused("a binary file, not a text document")
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte {exc.start})"
    except _limits.ReadRefused as exc:
        problem = str(exc)
    return Diagnostic("PK213", f"source document {path.name} cannot be read: {problem}", span,
                      "save the document as UTF-8 text (convert a PDF or Word file to .txt first)")


def _layers(path: Path, text: str | None = None) -> tuple[list[_Layer], list[str]]:
    """The policy at `path` and every policy it extends, parents first."""
    layers: list[_Layer] = []
    texts: list[str] = []
    seen: list[Path] = []
    current: Path | None = path
    span: Span | None = None
    roots = _roots(path)
    while current is not None:
        resolved = current.resolve()
        if resolved in seen:
            raise PolicyError([Diagnostic("PK210", "policies extend each other in a cycle: "
                                          + " → ".join(p.stem for p in seen + [resolved]), span or Span(str(path), 1, 1))])
        seen.append(resolved)
        source = text if (text is not None and not layers) else _read(current)
        label = _label(current)
        doc = parse(source, label)
        layers.append(_Layer(doc, label))
        texts.append(source)
        if doc.extends is None:
            break
        span = doc.extends.span
        current = _locate(doc.extends.id, current, span, roots)
    layers.reverse()
    texts.reverse()
    return layers, texts


def load(ref: str | os.PathLike[str], params: Mapping[str, Any] | None = None, *, strict: bool = False) -> Policy:
    """A bundled or plugin policy by name, or a path to a `.pol` file, compiled (and cached).

    A model policy may leave parameters blank; rules that need them then yield `review`. `strict=True`
    refuses that instead (PK114): for a city's production set-up, where every blank must be filled in.
    """
    path = Path(ref) if isinstance(ref, os.PathLike) else _locate(str(ref), None, None)
    key_params = (strict, *sorted((k, repr(v)) for k, v in (params or {}).items()))
    try:
        stat = path.stat()
    except OSError as exc:
        raise PolicyError([Diagnostic("PK000", f"cannot read file: {exc.strerror}", Span(str(path), 1, 1))]) from None
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, key_params)
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    layers, texts = _layers(path)
    policy = compile_layers(layers, params, texts=texts, strict=strict)
    with _LOCK:
        _CACHE[key] = policy
    return policy


def compile_text(text: str, file: str = "<string>", params: Mapping[str, Any] | None = None, *,
                 strict: bool = False) -> Policy:
    """Compile policy source held in memory (tests, editors); `extends` resolves by name or from the cwd."""
    layers, texts = _layers(Path(file), text)
    return compile_layers(layers, params, texts=texts, strict=strict)


def evaluate(event: Any, policy: str | Policy = "nyc", params: Mapping[str, Any] | None = None) -> Any:
    """Convenience: compile the named policy once (cached) and judge one event."""
    compiled = policy if isinstance(policy, Policy) else load(policy, params)
    return compiled.evaluate(event)


def add_source(source: Callable[[], Mapping[str, Path]]) -> None:
    """Let a plugin contribute named policies (name → .pol file)."""
    _EXTRA_SOURCES.append(source)
    with _LOCK:
        _CACHE.clear()


def clear_cache() -> None:
    """Forget compiled policies: plugins changed, and a policy compiled before holds the old detectors."""
    with _LOCK:
        _CACHE.clear()


__all__ = ["add_source", "clear_cache", "bundled_dir", "compile_text", "evaluate", "known_policies", "load", "policies"]
