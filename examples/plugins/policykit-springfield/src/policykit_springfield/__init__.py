"""policykit-springfield: a worked example of a policykit plugin (entry point group `policykit`).

Each hook below is found by name; policykit calls them lazily, the first time it needs platforms,
policies, detectors or functions. See docs/plugins.md in policykit.
"""

from __future__ import annotations

from pathlib import Path

from policykit.hookspecs import hookimpl

from .detector import LitterDetector
from .neighborboard import adapter as neighborboard

HERE = Path(__file__).resolve().parent


@hookimpl
def policykit_register_jurisdictions():
    """`policykit.load("springfield")`; `max_words` may be filled with `params=`."""
    return {"springfield": HERE / "springfield.pol"}


@hookimpl
def policykit_register_platforms():
    return [neighborboard]


@hookimpl
def policykit_register_detectors():
    return [LitterDetector()]


def word_count(text):
    """Number of whitespace-separated words in a text (a list counts the words of all its items)."""
    if isinstance(text, list):
        return sum(word_count(t) for t in text)
    return len(str(text).split())


@hookimpl
def policykit_register_functions():
    return {"word_count": word_count}
