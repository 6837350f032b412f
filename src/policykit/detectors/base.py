"""The one small interface between the evaluator and anything that finds categories in text.

A detector looks at one text and reports hits: which category, where (character offsets into the
original text, so evidence can be highlighted), what matched, and how sure it is. The evaluator
decides when to call it (lazily, at most once per event and field) and what a failure means (an error
in the verdict and at least `review`), so detectors stay simple and stateless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable


MAX_HITS_PER_CATEGORY = 50  # evidence kept per category and text; detection itself is not capped


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


_new = object.__new__
_SETTERS = tuple(Hit.__dict__[f].__set__ for f in ("category", "start", "end", "match", "detector", "score"))


def make_hit(category: str, start: int, end: int, match: str, detector: str, score: float) -> Hit:
    """``Hit(category, start, end, match, detector, score)``, built about twice as fast (a frozen
    dataclass's ``__init__`` goes through ``object.__setattr__`` field by field; the built-in detectors
    make many hits). The same object in every respect."""
    h = _new(Hit)
    s0, s1, s2, s3, s4, s5 = _SETTERS
    s0(h, category)
    s1(h, start)
    s2(h, end)
    s3(h, match)
    s4(h, detector)
    s5(h, score)
    return h
