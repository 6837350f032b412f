"""Counts of the work the detectors do on a text, so that tests can show it grows linearly.

Time on a shared machine is noise; operation counts are not. Every loop of the detectors whose length
depends on the text charges one unit per iteration, and every call into C that scans part of the text
(RE2, Aho–Corasick, ``translate``, ``split``, ``urlsplit``) charges the bytes it is handed; a regex
search charges the bytes from where it starts to where its match ends (or to the end of the text when
there is none), which is what RE2's DFA reads. A loop that copied the rest of the text once per
iteration, or searched the whole text once per match, shows up here as quadratic growth.

Counting is off unless a `counting()` block is active: a charge is then one global test. The counts
are per part, named for what does the work: ``analysis`` (folding and streams, shared by all),
``engine`` (word lists and patterns: every word-list detector), ``personal_information`` and ``links``.
Counting is not thread-safe; it is for tests and benchmarks, one text at a time.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

__all__ = ["charge", "counting"]

_counts: dict[str, int] | None = None


def charge(part: str, n: int) -> None:
    """Add `n` units of work to `part` (nothing unless counting)."""
    counts = _counts
    if counts is not None:
        counts[part] = counts.get(part, 0) + n


@contextmanager
def counting() -> Iterator[dict[str, int]]:
    """``with counting() as counts: detector.detect(text)`` fills `counts` (part → units)."""
    global _counts
    previous = _counts
    _counts = {}
    try:
        yield _counts
    finally:
        _counts = previous
