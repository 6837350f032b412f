"""A minimal whole-word keyword detector: enough for the core to be tested end to end.

The detectors issue replaces the word lists and matching with evasion-resistant, linear-time ones.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import re2

from .base import Hit

_STARTER_WORDS: Mapping[str, Sequence[str]] = {
    "profanity": ("damn", "hell", "shit", "fuck", "fucking", "bastard", "crap"),
    "threat": ("kill you", "shoot you", "burn down", "hurt you"),
    "commercial_solicitation": ("buy now", "discount code", "limited offer"),
    "contest": ("raffle", "giveaway", "sweepstakes"),
}


class KeywordDetector:
    """Whole-word, case-insensitive matching of word lists, one RE2 alternation per category."""

    def __init__(self, name: str, words: Mapping[str, Sequence[str]]) -> None:
        self.name = name
        self.categories = frozenset(words)
        self._patterns = {
            category: re2.compile(r"(?i)\b(?:" + "|".join(re2.escape(w) for w in terms) + r")\b")
            for category, terms in words.items()
        }

    def detect(self, text: str) -> list[Hit]:
        hits: list[Hit] = []
        for category, pattern in self._patterns.items():
            for m in pattern.finditer(text):
                hits.append(Hit(category, m.start(), m.end(), m.group(0), self.name))
        return hits


def default_detectors() -> list[KeywordDetector]:
    """The detectors every policy gets unless it says otherwise."""
    return [KeywordDetector("keywords", _STARTER_WORDS)]
