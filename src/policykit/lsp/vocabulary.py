"""The words of the language an editor offers and protects: keywords (read from grammar.lark itself,
so a new keyword cannot be forgotten here), effects, targets, parameter types, statement openers,
and the categories and action types the compiler accepts."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from ..compiler import ACTION_TYPES, CATEGORIES, EVENT_KINDS
from ..lint import KNOWN_OBLIGATIONS

EFFECTS = ("allow", "review", "remove", "deny")
TARGETS = ("post", "comment", "account", "action", "any action")
PARAM_TYPES = ("text", "number", "flag", "list", "date")
# What may begin a line, with a short note on what it does (shown beside the completion).
STATEMENTS: dict[str, str] = {
    "clause": "a clause of the source document: `clause ID \"its words\"`",
    "rule": "a named rule: `rule NAME:` then its decision, indented",
    "override rule": "replace a rule of the policy this one extends",
    "exception": "`exception [NAME] to RULE:` or `exception to clause ID:`",
    "define": "a named condition or list: `define NAME = …`",
    "param": "a blank the adopting city fills in: `param NAME: TYPE [= default] \"meaning\"`",
    "action type": "an action type beyond the contract's: `action type NAME \"what it is\"`",
    "trust labels from": "accept upstream labels from a source: `trust labels from \"source\" [above N]`",
    "because": "the plain-language reason given to the person affected",
    "then": "an obligation: `then ACTION [\"detail\"] [cite ID]`",
    "cite": "further clauses this rule cites",
    "effective": "in force from this date (YYYY-MM-DD)",
    "until": "in force before this date (YYYY-MM-DD)",
    "not checkable because": "a clause no event can show: say why",
    **{effect: f"a decision: `{effect} TARGETS [when …] [unless …]`" for effect in EFFECTS},
}
EXPRESSION_WORDS = ("not", "has", "has such as", "labelled", "number of", "clause", "any", "all", "no", "true", "false")


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """Every keyword grammar.lark quotes: words a rule or definition may not be renamed to."""
    grammar = resources.files("policykit").joinpath("grammar.lark").read_text(encoding="utf-8")
    return frozenset(re.findall(r'"([A-Za-z_]+)"', grammar)) | {"only"}


def categories() -> frozenset[str]:
    """The contract's categories and those the installed detectors report."""
    return CATEGORIES | {c for d in detectors() for c in d.categories}


@lru_cache(maxsize=1)
def _builtin_detectors() -> tuple:
    from ..detectors import default_detectors
    return tuple(default_detectors())


def detectors() -> list:
    """Built-in and plugin detectors (each has `name` and `categories`)."""
    from ..plugins import detectors as plugin_detectors
    return [*_builtin_detectors(), *plugin_detectors()]


def action_types() -> frozenset[str]:
    from ..plugins import action_types as plugin_action_types
    return ACTION_TYPES | frozenset(plugin_action_types())


__all__ = ["EFFECTS", "EVENT_KINDS", "EXPRESSION_WORDS", "KNOWN_OBLIGATIONS", "PARAM_TYPES", "STATEMENTS", "TARGETS",
           "action_types", "categories", "detectors", "keywords"]
