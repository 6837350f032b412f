"""Built-in content detectors. See `base.Detector` for the interface and docs/detectors.md for what
each detector catches, what word lists cannot catch, and how to extend them."""

from __future__ import annotations

from .base import Detector, Hit
from .builtin import (
    BUILTIN_DETECTORS,
    PersonalInfoDetector,
    WordListDetector,
    bundled_lexicon,
    bundled_patterns,
    default_detectors,
)
from .lexicon import Lexicon
from .links import Link, LinkDetector, domain_list, domain_lists, in_domain_list, links
from .normalize import fold

__all__ = [
    "BUILTIN_DETECTORS",
    "Detector",
    "Hit",
    "Lexicon",
    "Link",
    "LinkDetector",
    "PersonalInfoDetector",
    "WordListDetector",
    "bundled_lexicon",
    "bundled_patterns",
    "default_detectors",
    "domain_list",
    "domain_lists",
    "fold",
    "in_domain_list",
    "links",
]
