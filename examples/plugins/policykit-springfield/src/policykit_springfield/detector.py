"""A detector for a category policykit does not have: reports of dumped rubbish (`littering_report`)."""

from __future__ import annotations

import re

from policykit.detectors.base import Hit

_WORDS = re.compile(r"\b(fly[- ]?tipp(?:ing|ed)|illegal(?:ly)? dump(?:ing|ed)?|dumped (?:trash|rubbish|mattress(?:es)?|tires?)"
                    r"|litter(?:ing|ed)?|overflowing (?:bin|dumpster)s?)\b", re.IGNORECASE)


class LitterDetector:
    """Finds county words for litter and dumping; linear in the text, stateless, thread-safe."""

    name = "springfield_litter"
    categories = frozenset({"littering_report"})

    def detect(self, text: str) -> list[Hit]:
        return [Hit("littering_report", m.start(), m.end(), m.group(0), self.name) for m in _WORDS.finditer(text)]
