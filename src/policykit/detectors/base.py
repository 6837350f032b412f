"""The one small interface between the evaluator and anything that finds categories in text.

A detector looks at one text and reports hits: which category, where (character offsets into the
original text, so evidence can be highlighted), what matched, and how sure it is. The evaluator
decides when to call it (lazily, at most once per event and field) and what a failure means (an error
in the verdict and at least `review`), so detectors stay simple and stateless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable


@dataclass(frozen=True, slots=True)
class Hit:
    """One finding of a category in a text; offsets index the original (un-normalised) text."""

    category: str
    start: int
    end: int
    match: str
    detector: str
    score: float = 1.0


@runtime_checkable
class Detector(Protocol):
    """Finds some categories in a text. Must be thread-safe and run in time linear in the text."""

    name: str
    categories: frozenset[str]

    def detect(self, text: str) -> Sequence[Hit]:
        """Every hit of any of this detector's categories in `text`."""
        ...
