"""What `policykit lsp` costs per keystroke, per request and per pause in typing.

    python benchmarks/bench_lsp.py [--runs N] [--keystrokes K]

In-process, on each bundled policy, as the median of N runs:
- completion at the end of a line (what every keystroke may ask; it parses nothing);
- a parse with the symbol index (what hover, definition, references and rename need once per version);
- a lint (what each pause in typing costs: `policykit lint` on the text);
- hover on a `cite` (from the parse).

End to end, with a real LSP client (pygls's) driving `policykit lsp` over stdio on nyc.pol:
- the time from opening the file to its diagnostics;
- K changes sent 20 ms apart (faster than the debounce), then the time from the last change to its
  diagnostics, and how many times diagnostics were published for the K changes (1 means the debounce
  and the cancelling of stale runs worked).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types

from policykit.lsp.completion import complete
from policykit.lsp.document import lint_text, parse_document
from policykit.lsp.hover import hover_text

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / "policies").glob("*.pol"))


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def in_process(runs: int) -> None:
    print(f"{'policy':<18}{'completion':>12}{'parse+index':>13}{'lint':>10}{'hover':>9}   (ms, median of {runs})")
    for path in POLICIES:
        text = path.read_text(encoding="utf-8")
        parsed = parse_document(text, path)
        line = "  deny post when has "
        cite = next(s for s in parsed.index.symbols if s.kind == "clause" and not s.declaration)
        row = [
            _median_ms(lambda: complete(parsed, line, 10, len(line)), runs * 20),
            _median_ms(lambda: parse_document(text, path), runs),
            _median_ms(lambda: lint_text(text, path), runs),
            _median_ms(lambda: hover_text(parsed, cite, None), runs * 5),
        ]
        print(f"{path.stem:<18}" + "".join(f"{v:>{w}.1f}" for v, w in zip(row, (12, 13, 10, 9))))


async def end_to_end(keystrokes: int) -> None:
    from pygls.lsp.client import LanguageClient
    client = LanguageClient("bench-lsp", "1")
    published: list[float] = []

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def record(params: types.PublishDiagnosticsParams) -> None:
        published.append(time.perf_counter())

    await client.start_io(sys.executable, "-c", "import sys; from policykit.cli import main; sys.exit(main())",
                          "lsp", "--stdio")
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    path = ROOT / "policies" / "nyc.pol"
    uri, text = path.resolve().as_uri(), path.read_text(encoding="utf-8")

    async def next_publish(count: int) -> float:
        while len(published) < count:
            await asyncio.sleep(0.005)
        return published[count - 1]

    start = time.perf_counter()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="policykit", version=1, text=text)))
    opened = await next_publish(1) - start
    for version in range(2, keystrokes + 2):
        typed = text + "# " + "x" * version + "\n"
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=typed)]))
        last = time.perf_counter()
        await asyncio.sleep(0.02)
    settled = await next_publish(2) - last
    await asyncio.sleep(1.0)  # anything still to come would be a stale publish
    print(f"nyc.pol end to end: open → diagnostics {opened * 1000:.0f} ms; {keystrokes} changes 20 ms apart → "
          f"{len(published) - 1} publish(es), the last change's diagnostics {settled * 1000:.0f} ms after it")
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keystrokes", type=int, default=20)
    args = parser.parse_args()
    in_process(args.runs)
    asyncio.run(end_to_end(args.keystrokes))


if __name__ == "__main__":
    main()
