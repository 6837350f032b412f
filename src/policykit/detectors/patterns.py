"""Phrase patterns as data: RE2 expressions over the plain token stream, one RE2 set to find them.

Word lists cannot say "a first-person intent followed by a harm verb and a person", so some categories
are also described by patterns. A pattern file:

    # comments run to the end of the line (a '#' inside a pattern is written \\x23)
    @macro WILL (?:will|ll|shall|m going to|am going to|gonna)
    @category threat            # category of the patterns below
    @score 0.95
    (?:i|we) {WILL} (?:{W} ){0,2}(?:kill|shoot|stab) (?:you|him|her|them)
    vote for {NAME}  ;; check=name, score=0.9
    @exempt contest             # patterns below exempt hits of `contest` inside their match
    tax giveaways?

Patterns see the plain stream: the folded text's letters and digits, every run of anything else read as
one space (``I'll`` reads ``I ll``, ``e-mail`` reads ``e mail``), padded with a space at each end.
They are case-insensitive and whole-word (wrapped in ``\\b(?:…)\\b``); ``(?-i:…)`` makes a part
case-sensitive. Built-in macros: ``{W}`` one word, ``{NAME}`` one to three capitalised words (a
person's name; with ``check=name`` common words are refused), ``{NUM}`` a number.

RE2 guarantees time linear in the text for every pattern; a single `re2.Set` pass tells which
patterns occur at all, and only those are run for positions.
"""

from __future__ import annotations

import re as _re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import re2

from .lexicon import load_data
from .normalize import Analysis, Stream

__all__ = ["Pattern", "PatternSet", "parse_patterns", "NAME_STOPWORDS"]

BUILTIN_MACROS = {
    "W": r"[a-z0-9]+",
    "NUM": r"[0-9]+",
    "NAME": r"(?P<name>(?-i:[A-Z][a-z]+|[A-Z]{2,})(?: (?-i:[A-Z][a-z]+|[A-Z]{2,}|[A-Z])){0,2})",
}

# capitalised words that are not names, for `check=name`
NAME_STOPWORDS = frozenset("""
a an the this that these those it its them they him her his he she me my mine our ours us we you
your yours their who what which whom whose all any every each some no yes not none more most less
anyone everyone someone nobody people everybody anybody i im ill and or but if then so because
change new best better good great change city town village county state council board budget plan
park parks proposal measure project option design idea ideas name names one two three first last
next other another same real true local community neighbors neighbours residents family families
friends kids children women men love peace sanity science reason freedom justice democracy progress
common sense safety safe streets roads here there now today tomorrow please thanks thank god jesus
him her them mayor councilman councilwoman councilmember governor senator president sheriff judge
whoever whatever whomever someone something anything nothing everything myself yourself
""".split())


@dataclass(frozen=True, slots=True)
class Pattern:
    category: str
    source: str  # the expanded expression
    score: float = 1.0
    check: str | None = None  # "name": group `name` must look like a person's name
    exempt: bool = False  # an exemption: hits of `category` inside its match do not count


_MACRO_RE = _re.compile(r"\{([A-Z][A-Z0-9_]*)\}")


def _expand(expr: str, macros: Mapping[str, str], depth: int = 0) -> str:
    if depth > 10:
        raise ValueError(f"macro recursion in {expr!r}")

    def sub(m: "_re.Match[str]") -> str:
        name = m.group(1)
        if name not in macros:
            raise ValueError(f"unknown macro {{{name}}}")
        return _expand(macros[name], macros, depth + 1)

    return _MACRO_RE.sub(sub, expr)


def parse_patterns(text: str, category: str | None = None, score: float = 1.0,
                   macros: Mapping[str, str] | None = None) -> list[Pattern]:
    """Parse pattern-file text (see the module docstring)."""
    env = dict(BUILTIN_MACROS)
    env.update(macros or {})
    out: list[Pattern] = []
    exempt = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("@"):
            key, _, value = line[1:].partition(" ")
            value = value.strip()
            if key == "macro":
                name, _, expr = value.partition(" ")
                env[name.strip()] = expr.strip()
            elif key == "category":
                category, exempt = value, False
            elif key == "exempt":
                category, exempt = value, True
            elif key == "score":
                score = float(value)
            else:
                raise ValueError(f"unknown directive {line!r}")
            continue
        expr, _, spec = line.partition(";;")
        opts = {}
        for part in spec.split(","):
            k, _, v = part.strip().partition("=")
            if k:
                opts[k] = v
        if category is None:
            raise ValueError(f"pattern {expr.strip()!r} has no @category")
        src = _expand(expr.strip(), env)
        out.append(Pattern(category, src, float(opts.get("score", score)), opts.get("check"), exempt))
    return out


def _compile(src: str) -> "re2._Regexp":
    opts = re2.Options()
    opts.max_mem = 64 << 20
    return re2.compile((r"(?i)\b(?:" + src + r")\b").encode("ascii"), opts)


def _group_index(rx: "re2._Regexp", name: str) -> int | None:
    gi = rx.groupindex
    for k, v in gi.items():
        if k == name or k == name.encode("ascii"):
            return v
    return None


def _name_ok(name: str | bytes | None) -> bool:
    if not name:
        return False
    if isinstance(name, bytes):
        name = name.decode("ascii")
    words = name.split()
    return bool(words) and not any(w.lower() in NAME_STOPWORDS for w in words)


@dataclass
class PatternSet:
    """A compiled set of patterns. Immutable once built; safe to share between threads."""

    patterns: list[Pattern] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._compiled = [_compile(p.source) for p in self.patterns]
        self._name_group = [_group_index(c, "name") for c in self._compiled]
        self.categories = frozenset(p.category for p in self.patterns if not p.exempt)
        opts = re2.Options()
        opts.max_mem = 256 << 20
        self._set = None
        if self.patterns:
            st = re2.Set.SearchSet(opts)
            for p in self.patterns:
                st.Add((r"(?i)\b(?:" + p.source + r")\b").encode("ascii"))
            st.Compile()
            self._set = st

    @classmethod
    def from_files(cls, *names: str) -> "PatternSet":
        pats: list[Pattern] = []
        for n in names:
            pats.extend(parse_patterns(load_data(n)))
        return cls(pats)

    def extended(self, patterns: Iterable[Pattern]) -> "PatternSet":
        return PatternSet(list(self.patterns) + list(patterns))

    def restricted(self, categories: Iterable[str]) -> "PatternSet":
        cats = frozenset(categories)
        return PatternSet([p for p in self.patterns if p.category in cats])

    def _scan(self, st: Stream, factor: float, hits: list, exempt: list) -> None:
        if self._set is None:
            return
        found = self._set.Match(st.b)
        if not found:
            return
        for i in sorted(found):
            p = self.patterns[i]
            for m in self._compiled[i].finditer(st.b):
                if p.check == "name" and not _name_ok(m.group(self._name_group[i] or 0)):
                    continue
                a, b = st.to_view(m.start(), m.end())
                if a == b:
                    continue
                if p.exempt:
                    exempt.append((a, b, frozenset((p.category,))))
                else:
                    hits.append((p.category, a, b, p.score * factor, None))

    def match(self, an: Analysis) -> tuple[list, list]:
        hits: list = []
        exempt: list = []
        self._scan(an.plain, 1.0, hits, exempt)
        if an.leet is not None:
            self._scan(an.leet, 0.9, hits, exempt)
        return hits, exempt
