"""A real LSP client (pytest-lsp) driving `policykit lsp` in its own process, over stdio."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

ROOT = Path(__file__).resolve().parents[2]
POLICIES = sorted((ROOT / "policies").glob("*.pol"))
# The server reads POLICYKIT_SOURCES when the client gives no `sources`; `make test` sets it for the
# rest of the suite, so the server here starts without it and each test module says what it wants.
SERVER_ENV = {k: v for k, v in os.environ.items() if k != "POLICYKIT_SOURCES"}


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(
    server_command=[sys.executable, "-c", "import sys; from policykit.cli import main; sys.exit(main())", "lsp", "--stdio"],
    server_env=SERVER_ENV))
async def client(lsp_client: LanguageClient, debounce: float, sources: str | None):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"), root_uri=ROOT.as_uri(),
        initialization_options={"debounce": debounce, "sources": sources}))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def debounce() -> float:
    """The server's pause before linting a change; a module that does not look at diagnostics raises it."""
    return 0.05


@pytest.fixture(scope="module")
def sources() -> str | None:
    """The `sources` directory the client gives the server (lint --sources); none unless a module says."""
    return None


class Editor:
    """Opens documents in the client and waits for what the server publishes about them."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.versions: dict[str, int] = {}

    async def open(self, path: Path, text: str | None = None, wait: bool = True) -> str:
        uri = path.resolve().as_uri()
        self.client.diagnostics.pop(uri, None)
        self.versions[uri] = 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="policykit", version=1, text=path.read_text(encoding="utf-8") if text is None else text)))
        if wait:
            await self.diagnostics(uri)
        return uri

    async def change(self, uri: str, text: str, wait: bool = True) -> None:
        self.versions[uri] += 1
        self.client.diagnostics.pop(uri, None)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        if wait:
            await self.diagnostics(uri)

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))

    async def diagnostics(self, uri: str, timeout: float = 60) -> list[types.Diagnostic]:
        """The diagnostics published for the document's current version."""
        async def wait() -> list[types.Diagnostic]:
            while uri not in self.client.diagnostics:
                await asyncio.sleep(0.02)
            return list(self.client.diagnostics[uri])
        return await asyncio.wait_for(wait(), timeout)


@pytest.fixture
def editor(client: LanguageClient) -> Editor:
    return Editor(client)


@pytest.fixture
def at():
    """`at(text, needle, offset=0, occurrence=0)`: a position in a text."""
    return position


@pytest.fixture
def policies() -> list[Path]:
    return POLICIES


@pytest.fixture
def root() -> Path:
    return ROOT


def position(text: str, needle: str, offset: int = 0, occurrence: int = 0) -> types.Position:
    """The position `offset` characters into the `occurrence`-th appearance of `needle` (UTF-16 = code
    points for the bundled texts, which have no characters beyond the BMP)."""
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(needle, at + 1)
    at += offset
    line = text.count("\n", 0, at)
    return types.Position(line=line, character=at - (text.rfind("\n", 0, at) + 1))
