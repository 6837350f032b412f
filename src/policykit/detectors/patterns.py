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

RE2 guarantees time linear in the text for every pattern. A prefilter keeps the per-text cost low:
the literal atoms every match of a pattern must contain are extracted once, one Aho–Corasick pass over
the text finds which atoms occur, and only patterns with an atom present are run; exemption patterns
run only for categories that have a hit.
"""

from __future__ import annotations

import re as _re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import ahocorasick
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


# frequent words make poor prefilter atoms: a pattern keyed on "for" would run on most texts
COMMON_WORDS = frozenset("""
a about after all also am an and any are as at back be been being but by can could d did do does
don down each even every for from get go going gonna got had has have he her here him his how i if
in into is it its just know like ll m make me more my need new no not now of off on one only or our
out over people please re really right s said say see she should so some still t take than that the
their them then there these they this those through time to too up us very want was way we well
were what when where which who why will with would ya yall you your u ur ve best top call get got
""".split())


def required_atoms(src: str) -> frozenset[str] | None:
    """Literal strings one of which every match of `src` contains (lower-cased), or None if unknown.

    A prefilter in the manner of RE2's FilteredRE2: an Aho–Corasick pass finds which atoms occur,
    and only patterns with an atom present are run. Derived from the expression's parse tree; any
    construct it does not understand makes it give up (None: always run the pattern).
    """
    try:
        from re import _constants as C  # type: ignore[attr-defined]
        from re import _parser as P  # type: ignore[attr-defined]

        tree = P.parse(src.replace("(?-i:", "(?:"))
    except Exception:  # noqa: BLE001 - a prefilter may always fall back to running the pattern
        return None

    def weight(atom: str) -> float:
        a = atom.strip()
        return len(a) / 4 if a in COMMON_WORDS else len(a)

    def best(cands: list[frozenset[str]]) -> frozenset[str] | None:
        if not cands:
            return None
        return max(cands, key=lambda c: (min(map(weight, c)), -len(c)))

    def seq(nodes) -> frozenset[str] | None:
        cands: list[frozenset[str]] = []
        run: list[str] = []

        def flush() -> None:
            if run:
                cands.append(frozenset(["".join(run).lower()]))
                run.clear()

        for op, av in nodes:
            if op is C.LITERAL:
                run.append(chr(av))
                continue
            flush()
            if op is C.SUBPATTERN:
                r = seq(av[-1])
            elif op is C.BRANCH:
                alts = [seq(a) for a in av[1]]
                r = None if any(a is None for a in alts) else frozenset().union(*alts)  # type: ignore[arg-type]
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
                r = seq(av[2]) if av[0] >= 1 else None
            else:
                r = None
            if r:
                cands.append(r)
        flush()
        return best(cands)

    atoms = seq(list(tree))
    if not atoms or min(map(len, atoms)) < 2:
        return None
    return atoms


def _compile(src: str) -> "re2._Regexp":
    opts = re2.Options()
    opts.max_mem = 64 << 20
    return re2.compile((r"(?i)\b(?:" + src + r")\b").encode("ascii"), opts)


def _quick_search(rx: "re2._Regexp", b: bytes) -> bool:
    """Whether `rx` matches anywhere in `b`: RE2's match without the Python match object."""
    try:
        return rx._regexp.Match(_UNANCHORED, b, 0, len(b))[0][0] != -1  # type: ignore[attr-defined]
    except AttributeError:  # another google-re2 version: the public API
        return rx.search(b) is not None


_UNANCHORED = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)


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
        # prefilter: an Aho-Corasick automaton over the required atoms of every pattern
        self._always: list[int] = []
        self._exempt_by_cat: dict[str, list[int]] = {}
        atoms: dict[str, list[int]] = {}
        for i, p in enumerate(self.patterns):
            if p.exempt:
                self._exempt_by_cat.setdefault(p.category, []).append(i)
                continue
            req = required_atoms(p.source)
            if req is None:
                self._always.append(i)
            else:
                for a in req:
                    atoms.setdefault(a, []).append(i)
        self._ac = ahocorasick.Automaton()
        self._atom_patterns: list[tuple[int, ...]] = []
        for n, (a, idx) in enumerate(atoms.items()):
            self._ac.add_word(a, n)
            self._atom_patterns.append(tuple(idx))
        self._has_atoms = bool(atoms)
        if atoms:
            self._ac.make_automaton()

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

    def _atoms(self, s: str) -> set[int]:
        if not self._has_atoms:
            return set()
        return {n for _, n in self._ac.iter(s)}

    def _candidates(self, atoms: Iterable[int], always: bool) -> list[int]:
        found: set[int] = set(self._always) if always else set()
        ap = self._atom_patterns
        for n in atoms:
            found.update(ap[n])
        return sorted(found)

    def _run(self, st: Stream, indices: Iterable[int], factor: float, hits: list, exempt: list) -> None:
        data = st.b
        for i in indices:
            rx = self._compiled[i]
            if not _quick_search(rx, data):
                continue
            p = self.patterns[i]
            for m in rx.finditer(data):
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
        plain_atoms = self._atoms(an.lower)
        self._run(an.plain, self._candidates(plain_atoms, True), 1.0, hits, exempt)
        leet = an.leet
        if leet is not None:
            # the leet reading can only add matches through atoms the plain reading lacks
            extra = self._atoms(leet.s) - plain_atoms
            if extra:
                self._run(leet, self._candidates(extra, False), 0.9, hits, exempt)
        if hits and self._exempt_by_cat:
            # exemption patterns run only for categories that have a hit
            for cat in {h[0] for h in hits}:
                idx = self._exempt_by_cat.get(cat)
                if idx:
                    self._run(an.plain, idx, 1.0, hits, exempt)
                    if leet is not None:
                        self._run(leet, idx, 1.0, hits, exempt)
        return hits, exempt
