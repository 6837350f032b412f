"""`policykit lsp`: the language server, on pygls, over stdio.

Work per keystroke is bounded: a change is linted only after the author pauses (`DEBOUNCE` seconds),
a newer change cancels a lint not yet started and discards one that finishes for an old version, and
files over lint's size limit get one diagnostic and nothing else. All policykit work (parse, compile,
lint, rename checks) runs on one worker thread, in order, so the event loop stays free to answer the
editor and the parser is never entered twice at once.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from .. import __version__
from ..errors import Diagnostic
from ..fmt import format_text
from . import completion, navigate
from .document import Linted, Parsed, lint_text, parse_document, too_large
from .fixes import did_you_mean, diagnostic_range
from .hover import hover_text
from .index import Pos, Range, Symbol

DEBOUNCE = 0.3  # seconds of quiet after a change before it is linted
T = TypeVar("T")

_COMPLETION_KINDS = {
    "field": types.CompletionItemKind.Field, "category": types.CompletionItemKind.EnumMember,
    "clause": types.CompletionItemKind.Reference, "rule": types.CompletionItemKind.Function,
    "keyword": types.CompletionItemKind.Keyword, "value": types.CompletionItemKind.Value,
    "parameter": types.CompletionItemKind.Variable, "define": types.CompletionItemKind.Constant,
    "policy": types.CompletionItemKind.Module, "action": types.CompletionItemKind.Event,
}
_SYMBOL_KINDS = {
    "clause": types.SymbolKind.Namespace, "rule": types.SymbolKind.Function, "exception": types.SymbolKind.Method,
    "define": types.SymbolKind.Constant, "param": types.SymbolKind.Variable, "action": types.SymbolKind.Event,
}


@dataclass
class _State:
    """What is known about one open document; `parsed` may be from an older version that parsed."""

    parsed: Parsed | None = None
    parsed_version: int | None = None
    linted: Linted | None = None
    lint_task: asyncio.Task[None] | None = None


@dataclass
class Settings:
    """From the client's initializationOptions: `sources` (lint --sources DIR) and `debounce` (seconds)."""

    sources: Path | None = None
    debounce: float = DEBOUNCE

    @classmethod
    def read(cls, options: Any) -> "Settings":
        options = options if isinstance(options, dict) else {}
        sources = options.get("sources") or os.environ.get("POLICYKIT_SOURCES")
        debounce = options.get("debounce", DEBOUNCE)
        return cls(Path(sources) if sources and Path(sources).is_dir() else None,
                   float(debounce) if isinstance(debounce, (int, float)) and 0 <= debounce <= 10 else DEBOUNCE)


class PolicyServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("policykit", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policykit-lsp")
        self.states: dict[str, _State] = {}
        self.settings = Settings()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn, *args)

    def state(self, uri: str) -> _State:
        return self.states.setdefault(uri, _State())

    # ------------------------------------------------------------ parsing (for every request)
    async def parsed(self, uri: str) -> tuple[TextDocument, Parsed | None]:
        """The document and its latest parse; when the current text does not parse, the last that did."""
        doc = self.workspace.get_text_document(uri)
        state = self.state(uri)
        if state.parsed_version != doc.version:
            version, text = doc.version, doc.source
            fresh = None if too_large(text) else await self.run(parse_document, text, _path(doc))
            if fresh is not None and (fresh.index is not None or state.parsed is None):
                state.parsed = fresh
            state.parsed_version = version
        return doc, state.parsed

    async def symbol_at(self, uri: str, position: types.Position) -> tuple[TextDocument, Parsed | None, Symbol | None]:
        doc, parsed = await self.parsed(uri)
        if parsed is None or parsed.index is None:
            return doc, parsed, None
        pos = _from_client(doc, position)
        symbol = parsed.index.at(pos)
        if symbol is None or not _still_written(doc, symbol):
            return doc, parsed, None
        return doc, parsed, symbol

    # ------------------------------------------------------------ diagnostics
    def schedule_lint(self, uri: str, delay: float) -> None:
        state = self.state(uri)
        if state.lint_task is not None:
            state.lint_task.cancel()
        state.lint_task = asyncio.ensure_future(self._lint_later(uri, delay))

    async def _lint_later(self, uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        doc, _ = await self.parsed(uri)  # keeps the last parse that worked, for completion while typing
        version, text = doc.version, doc.source
        linted = await self.run(lint_text, text, _path(doc), self.settings.sources)
        current = self.workspace.get_text_document(uri)
        if current.version != version or uri not in self.states:
            return  # a newer version is on its way; this result describes text no longer there
        self.state(uri).linted = linted
        lines = text.split("\n")
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=[_diagnostic(doc, lines, d) for d in linted.diagnostics]))


def _path(doc: TextDocument) -> Path:
    return Path(doc.path or to_fs_path(doc.uri) or "untitled.pol")


def _lines(doc: TextDocument) -> Sequence[str]:
    return doc.lines or [""]


def _from_client(doc: TextDocument, position: types.Position) -> Pos:
    p = doc.position_codec.position_from_client_units(_lines(doc), position)
    return p.line, p.character


def _to_client(lines: Sequence[str], codec: Any, rng: Range) -> types.Range:
    """A code-point range as the client counts (lines given with or without their newlines)."""
    lines = lines or [""]

    def convert(pos: Pos) -> types.Position:
        if pos[0] >= len(lines):
            return types.Position(line=pos[0], character=0)
        return codec.position_to_client_units(lines, types.Position(line=pos[0], character=pos[1]))
    return types.Range(start=convert(rng.start), end=convert(rng.end))


def _still_written(doc: TextDocument, symbol: Symbol) -> bool:
    """Whether the text at a (possibly older) parse's symbol still says its name."""
    lines = doc.source.split("\n")
    (l1, c1), (l2, c2) = symbol.range.start, symbol.range.end
    if l1 != l2 or l1 >= len(lines):
        return False
    written = lines[l1][c1:c2]
    return written == symbol.name or (written.startswith('"') and symbol.name in written)


# Every code is explained in docs/errors.md; in a checkout (an editable install) the diagnostic links it.
_ERRORS_DOC = Path(__file__).resolve().parents[3] / "docs" / "errors.md"


def _diagnostic(doc: TextDocument, lines: list[str], d: Diagnostic) -> types.Diagnostic:
    rng = diagnostic_range(d, lines)
    client_range = _to_client(lines, doc.position_codec, rng)
    fix = did_you_mean(d, lines, rng)
    data = None
    if fix is not None:
        fix_range = _to_client(lines, doc.position_codec, fix.range)
        data = {"title": fix.title, "newText": fix.text,
                "range": {"start": {"line": fix_range.start.line, "character": fix_range.start.character},
                          "end": {"line": fix_range.end.line, "character": fix_range.end.character}}}
    related = [types.DiagnosticRelatedInformation(location=types.Location(uri=doc.uri, range=client_range),
                                                  message=f"help: {d.help}")] if d.help else None
    return types.Diagnostic(
        range=client_range, message=d.message + (f"\nhelp: {d.help}" if d.help else ""), code=d.code,
        severity=types.DiagnosticSeverity.Error if d.severity == "error" else types.DiagnosticSeverity.Warning,
        source="policykit",
        code_description=types.CodeDescription(href=_ERRORS_DOC.as_uri())
        if _ERRORS_DOC.is_file() else None,
        related_information=related, data=data)


SERVER = PolicyServer()


@SERVER.feature(types.INITIALIZE)
def _initialize(server: PolicyServer, params: types.InitializeParams) -> None:
    server.settings = Settings.read(params.initialization_options)


@SERVER.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _did_open(server: PolicyServer, params: types.DidOpenTextDocumentParams) -> None:
    # Debounced too: an editor restoring a session opens many files at once, and the first request
    # (a hover, the outline) should not wait behind all their lints.
    server.state(params.text_document.uri)
    server.schedule_lint(params.text_document.uri, server.settings.debounce)


@SERVER.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _did_change(server: PolicyServer, params: types.DidChangeTextDocumentParams) -> None:
    server.schedule_lint(params.text_document.uri, server.settings.debounce)


@SERVER.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _did_save(server: PolicyServer, params: types.DidSaveTextDocumentParams) -> None:
    server.schedule_lint(params.text_document.uri, 0)


@SERVER.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(server: PolicyServer, params: types.DidCloseTextDocumentParams) -> None:
    state = server.states.pop(params.text_document.uri, None)
    if state is not None and state.lint_task is not None:
        state.lint_task.cancel()
    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                            diagnostics=[]))


@SERVER.feature(types.TEXT_DOCUMENT_HOVER)
async def _hover(server: PolicyServer, params: types.HoverParams) -> types.Hover | None:
    doc, parsed, symbol = await server.symbol_at(params.text_document.uri, params.position)
    if symbol is None or parsed is None:
        return None
    linted = server.state(doc.uri).linted
    text = await server.run(hover_text, parsed, symbol, linted.policy if linted else None)
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                       range=_to_client(_lines(doc), doc.position_codec, symbol.range))


@SERVER.feature(types.TEXT_DOCUMENT_COMPLETION,
                types.CompletionOptions(trigger_characters=[".", " ", ",", '"']))
async def _completion(server: PolicyServer, params: types.CompletionParams) -> types.CompletionList:
    # Per keystroke: no parse here. The names come from the last parse (kept fresh by the debounced
    # lint); the context comes from the line as it is now.
    doc = server.workspace.get_text_document(params.text_document.uri)
    parsed = server.state(doc.uri).parsed or (await server.parsed(doc.uri))[1]
    line, column = _from_client(doc, params.position)
    lines = doc.source.split("\n")
    text = lines[line] if line < len(lines) else ""
    items = await server.run(completion.complete, parsed, text, line, column)
    out = []
    for item in items:
        rng = _to_client(_lines(doc), doc.position_codec, Range((line, item.replace_from), (line, column)))
        out.append(types.CompletionItem(
            label=item.label, kind=_COMPLETION_KINDS.get(item.kind), detail=item.detail,
            text_edit=types.TextEdit(range=rng, new_text=item.insert), filter_text=item.insert))
    return types.CompletionList(is_incomplete=False, items=out)


def _location(doc: TextDocument, place: navigate.Place) -> types.Location:
    if place.path is None:
        return types.Location(uri=doc.uri, range=_to_client(_lines(doc), doc.position_codec, place.range))
    return types.Location(uri=from_fs_path(str(place.path.resolve())) or str(place.path),
                          range=_to_client(place.lines or [""], doc.position_codec, place.range))


@SERVER.feature(types.TEXT_DOCUMENT_DEFINITION)
async def _definition(server: PolicyServer, params: types.DefinitionParams) -> types.Location | None:
    doc, parsed, symbol = await server.symbol_at(params.text_document.uri, params.position)
    if symbol is None or parsed is None:
        return None
    place = navigate.definition(parsed, symbol)
    return _location(doc, place) if place is not None else None


@SERVER.feature(types.TEXT_DOCUMENT_REFERENCES)
async def _references(server: PolicyServer, params: types.ReferenceParams) -> list[types.Location]:
    doc, parsed, symbol = await server.symbol_at(params.text_document.uri, params.position)
    if symbol is None or parsed is None:
        return []
    places = navigate.references(parsed, symbol, params.context.include_declaration)
    return [_location(doc, p) for p in places]


@SERVER.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
async def _prepare_rename(server: PolicyServer, params: types.PrepareRenameParams) -> types.PrepareRenamePlaceholder:
    doc, parsed, symbol = await server.symbol_at(params.text_document.uri, params.position)
    try:
        target = navigate.rename_target(parsed or Parsed(None), symbol)
    except navigate.RenameError as exc:
        raise JsonRpcInvalidRequest(str(exc)) from None
    return types.PrepareRenamePlaceholder(range=_to_client(_lines(doc), doc.position_codec, target.range),
                                          placeholder=target.name)


@SERVER.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
async def _rename(server: PolicyServer, params: types.RenameParams) -> types.WorkspaceEdit:
    doc, parsed, symbol = await server.symbol_at(params.text_document.uri, params.position)
    text = doc.source
    try:
        target = navigate.rename_target(parsed or Parsed(None), symbol)
        edits = await server.run(navigate.rename, parsed, target, params.new_name, text, _path(doc))
    except navigate.RenameError as exc:
        raise JsonRpcInvalidRequest(str(exc)) from None
    return types.WorkspaceEdit(changes={doc.uri: [
        types.TextEdit(range=_to_client(_lines(doc), doc.position_codec, rng), new_text=new) for rng, new in edits]})


def _symbol(doc: TextDocument, entry: navigate.Outline) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=entry.name, detail=entry.detail, kind=_SYMBOL_KINDS.get(entry.kind, types.SymbolKind.Object),
        range=_to_client(_lines(doc), doc.position_codec, entry.range),
        selection_range=_to_client(_lines(doc), doc.position_codec, entry.selection),
        children=[_symbol(doc, c) for c in entry.children])


@SERVER.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
async def _document_symbols(server: PolicyServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    doc, parsed = await server.parsed(params.text_document.uri)
    if parsed is None or parsed.index is None or server.state(doc.uri).parsed_version != doc.version:
        return []
    return [_symbol(doc, entry) for entry in navigate.outline(parsed.index)]


@SERVER.feature(types.TEXT_DOCUMENT_FORMATTING)
async def _formatting(server: PolicyServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
    doc = server.workspace.get_text_document(params.text_document.uri)
    text = doc.source
    if too_large(text):
        return []
    formatted = await server.run(format_text, text)
    if formatted == text:
        return []
    lines = text.split("\n")
    end = _to_client(lines, doc.position_codec, Range((len(lines) - 1, len(lines[-1])), (len(lines) - 1, len(lines[-1]))))
    return [types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=end.end),
                           new_text=formatted)]


@SERVER.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
def _code_actions(server: PolicyServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    actions = []
    for d in params.context.diagnostics:
        data = d.data if isinstance(d.data, dict) else None
        if not data or not {"title", "newText", "range"} <= data.keys():
            continue
        rng = types.Range(start=types.Position(**data["range"]["start"]), end=types.Position(**data["range"]["end"]))
        actions.append(types.CodeAction(
            title=data["title"], kind=types.CodeActionKind.QuickFix, diagnostics=[d], is_preferred=True,
            edit=types.WorkspaceEdit(changes={params.text_document.uri: [types.TextEdit(range=rng,
                                                                                        new_text=data["newText"])]})))
    return actions


def serve() -> None:
    """Run the server on stdin/stdout until the client says exit."""
    SERVER.start_io()
