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
person's name; with ``check=name`` common words are refused), ``{NUM}`` a number, ``{PRE}`` up to
five words (put before an exemption so that its match covers the hit it exempts).

RE2 guarantees time linear in the text for every pattern. A prefilter keeps the per-text cost low:
the literal atoms every match of a pattern must contain are extracted once, one Aho–Corasick pass over
the text finds which atoms occur, and only patterns with an atom present are run; exemption patterns
run only for categories that have a hit.
"""

from __future__ import annotations

import functools
import re as _re  # for macro expansion of pattern files only; input text only ever meets RE2
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import ahocorasick
import re2

from .lexicon import data_lines, load_data, options
from .normalize import Analysis, Stream
from .work import charge

__all__ = ["Pattern", "PatternSet", "parse_patterns", "NAME_STOPWORDS"]

BUILTIN_MACROS = {
    "W": r"[a-z0-9]+",
    "NUM": r"[0-9]+",
    "PRE": r"(?:[a-z0-9]+ ){0,5}",
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
whoever whatever whomever someone something anything nothing everything myself yourself
small business businesses shop shopping local support saturday sunday monday tuesday wednesday
thursday friday january february march april june july august september october november december
spring summer fall autumn winter christmas halloween thanksgiving easter pride earth day week month
year option proposition prop measure question amendment charter referendum bond levy the library
school schools district main street avenue road pool center library museum festival fair parade
kids veterans teachers nurses farmers police fire firefighters troops our cops ems dpw staff team
""".split())

# titles that may stand before a name ("Mayor Walsh", "Judge Harmon"): stripped before the check
NAME_TITLES = frozenset("""
mayor councilman councilwoman councilmember councilor councillor council member governor senator
president sheriff judge justice commissioner alderman alderwoman supervisor assemblyman assemblywoman
assemblymember congressman congresswoman rep representative dr mr mrs ms miss sen gov candidate
trustee legislator chief comptroller clerk treasurer
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
    for key, line in data_lines(text):
        if key is not None:
            if key == "macro":
                name, _, expr = line.partition(" ")
                env[name.strip()] = expr.strip()
            elif key == "category":
                category, exempt = line, False
            elif key == "exempt":
                category, exempt = line, True
            elif key == "score":
                score = float(line)
            else:
                raise ValueError(f"unknown directive '@{key}'")
            continue
        expr, _, spec = line.partition(";;")
        opts = options(spec)
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


def required_atoms(src: str, limit: int = 1) -> list[frozenset[str]] | None:
    """What every match of `src` must contain: a list of sets of literal strings (lower-cased), each
    set meaning "one of these", all sets required. None when nothing useful is known.

    A prefilter in the manner of RE2's FilteredRE2: one Aho–Corasick pass finds which atoms occur,
    and only patterns whose every set has an atom present are run. Derived from the expression's parse
    tree (consecutive finite parts are multiplied out, so ``vote for (a|b)`` gives ``vote for a``,
    ``vote for b``; a part that is not finite contributes the literal prefixes its matches must start
    with, so ``for (?:mayor|ward \\d+)`` gives ``for mayor``, ``for ward``); any construct it does not
    understand adds no requirement. Patterns match whole words of a stream padded with spaces, so a
    literal that starts (ends) the pattern with a letter or digit is required with a space before
    (after) it: ``ill`` does not switch on a pattern for "will". The most selective `limit` sets are
    kept.
    """
    try:
        from re import _constants as C  # type: ignore[attr-defined]

        tree = _tree(src)
    except Exception:  # noqa: BLE001 - a prefilter may always fall back to running the pattern
        return None
    # alternatives multiplied out up to this many strings: at 3,000 the bundled patterns gave 92,000 atoms (a
    # 29 MB automaton, 0.23 s to load from the cache); at 300, 24,000 (8 MB, 0.06 s) for 0.3 more pattern
    # searches per clean comment of the dev set (1.4 → 1.7): an atom set is a necessary condition either way
    cap = 300
    repeats = (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT))
    NOTHING: tuple[set[str], bool] = ({""}, False)

    def times(x: set[str], y: set[str]) -> set[str] | None:
        if len(x) * len(y) > cap:
            return None
        return {a + b for a in x for b in y}

    def seq(nodes) -> tuple[set[str], bool]:
        """(literal prefixes every match of `nodes` starts with, whether they are the whole matches)."""
        out = {""}
        for op, av in nodes:
            e, complete = node(op, av)
            nxt = times(out, e)
            if nxt is None:
                return out, False
            out = nxt
            if not complete:
                return out, False
        return out, True

    def node(op, av) -> tuple[set[str], bool]:
        if op is C.LITERAL:
            return {chr(av).lower()}, True
        if op is C.AT:
            return {""}, True
        if op is C.SUBPATTERN:
            return seq(av[-1])
        if op is C.BRANCH:
            out: set[str] = set()
            complete = True
            for alt in av[1]:
                f, c = seq(alt)
                out |= f
                complete &= c
                if len(out) > cap:
                    return NOTHING
            return out, complete
        if op in repeats:
            lo, hi, child = av
            f, c = seq(child)
            if hi <= 1 and c:
                return (f | {""} if lo == 0 else f), True
            if lo == 0:
                return NOTHING
            return f, False
        if op is C.IN:
            chars = [chr(v).lower() for o, v in av if o is C.LITERAL]
            if len(chars) == len(av) and 0 < len(chars) <= 4:
                return set(chars), True
        return NOTHING

    def weight(strings: frozenset[str]) -> float:
        def w(a: str) -> float:
            t = a.strip()
            return len(t) / 4 if t in COMMON_WORDS else len(t)

        return min(map(w, strings))

    def reqs(nodes, at_start: bool, at_end: bool) -> list[frozenset[str]]:
        out: list[frozenset[str]] = []
        run: set[str] = {""}
        starts = at_start  # whether `run` begins where the match begins

        def flush(ends: bool) -> None:
            nonlocal run, starts
            if "" not in run and run:
                atoms = run
                if starts:
                    atoms = {" " + a if a[:1].isalnum() else a for a in atoms}
                if ends:
                    atoms = {a + " " if a[-1:].isalnum() else a for a in atoms}
                out.append(frozenset(atoms))
            run = {""}
            starts = False

        last = len(nodes) - 1
        for k, (op, av) in enumerate(nodes):
            e, complete = node(op, av)
            if complete:
                nxt = times(run, e)
                if nxt is None:
                    flush(False)
                    run = set(e)
                else:
                    run = nxt
                continue
            # not finite: what is known so far, then the literal prefixes of this part
            nxt = times(run, e)
            if nxt is not None and "" not in e:
                run = nxt
            flush(False)
            if op is C.SUBPATTERN:
                out.extend(reqs(av[-1], False, at_end and k == last))
            elif op is C.BRANCH:
                alts = [reqs(alt, False, False) for alt in av[1]]
                if alts and all(alts):
                    out.append(frozenset().union(*(max(x, key=weight) for x in alts)))
            elif op in repeats and av[0] >= 1:
                out.extend(reqs(av[2], False, False))
        flush(at_end)
        return out

    sets = [x for x in reqs(list(tree), True, True) if x and weight(x) >= 1.0]
    if not sets:
        return None
    sets.sort(key=weight, reverse=True)
    return sets[:limit]


def _compile(src: str) -> "re2._Regexp":
    opts = re2.Options()
    opts.max_mem = 64 << 20
    return re2.compile((r"(?i)\b(?:" + src + r")\b").encode("ascii"), opts)


_UNANCHORED = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)
_ANCHOR_BOTH = getattr(getattr(re2, "_Anchor", None), "ANCHOR_BOTH", None)


def _runner(find: "re2._Regexp", capture: "re2._Regexp | None"):
    """(find, capture) for one pattern: ``find(anchor, data, pos, end)`` returns ``[(start, end)]`` of
    the leftmost match at or after `pos` (``(-1, -1)`` when there is none); ``capture(anchor, data,
    start, end)`` the spans of every group of the pattern matched exactly on ``data[start:end]`` (the
    text around still counts for ``\\b``), or None when no group is needed. The C methods of google-re2
    are used directly where they are there (the Python wrappers cost more than a short search);
    otherwise the public API."""
    cfind = getattr(find, "_regexp", None)
    ccap = getattr(capture, "_regexp", None) if capture is not None else None
    if cfind is not None and _UNANCHORED is not None and (capture is None or ccap is not None):
        return cfind.Match, (ccap.Match if ccap is not None else None)

    def wrap(rx: "re2._Regexp", full: bool):
        ngroups = rx.groups + 1

        def match(anchor, data, pos, end):  # noqa: ARG001 - same signature as the C method
            m = rx.fullmatch(data, pos, end) if full else rx.search(data, pos, end)
            if m is None:
                return [(-1, -1)] * ngroups
            return [m.span(g) for g in range(ngroups)]

        return match

    return wrap(find, False), (wrap(capture, True) if capture is not None else None)


def _min_width(src: str) -> int:
    """The fewest characters any match of `src` has (at least 1; 1 when unknown)."""
    try:
        return max(1, _tree(src).getwidth()[0])
    except Exception:  # noqa: BLE001 - only an optimisation: 1 is always safe
        return 1


@functools.lru_cache(maxsize=1024)
def _tree(src: str):
    """Python's parse tree of a pattern (for the prefilter and the minimum width only: text is never
    matched with Python's re)."""
    from re import _parser as P  # type: ignore[attr-defined]

    return P.parse(src.replace("(?-i:", "(?:"))


def _without_groups(src: str) -> str:
    """`src` with every capturing group made non-capturing (``(x)``, ``(?P<n>x)`` → ``(?:x)``)."""
    out = []
    i, n = 0, len(src)
    in_class = False
    while i < n:
        c = src[i]
        if c == "\\":
            out.append(src[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            opening = "[^" if src.startswith("[^", i) else "["
            if src.startswith("]", i + len(opening)):  # "[]…]", "[^]…]": a literal ] first
                out.append(opening + "]")
                i += len(opening) + 1
                continue
        elif c == "(":
            if src.startswith("(?P<", i):
                out.append("(?:")
                i = src.index(">", i) + 1
                continue
            if src[i + 1:i + 2] != "?":
                out.append("(?:")
                i += 1
                continue
        out.append(c)
        i += 1
    return "".join(out)


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
    while words and words[0].lower() in NAME_TITLES:
        words = words[1:]
    return bool(words) and not any(w.lower() in NAME_STOPWORDS or w.lower() in NAME_TITLES for w in words)


@dataclass
class PatternSet:
    """A compiled set of patterns. Immutable once built (but for the regexes compiled on first use
    when `lazy`); safe to share between threads.

    `lazy`: compile each pattern's regexes when the prefilter first asks for it, not up front — most
    texts switch on few patterns, and compiling all of them is most of a cold start. Only for patterns
    known to compile (the bundled ones): an error in a lazily compiled pattern would surface only when
    a text needs it. A lazy set can be pickled (see `policykit.cache`); the regexes are compiled again.
    """

    patterns: list[Pattern] = field(default_factory=list)
    lazy: bool = False

    def __post_init__(self) -> None:
        n = len(self.patterns)
        self._runners: list = [None] * n
        self._name_group: list[int | None] = [None] * n
        for i in range(0 if self.lazy else n):
            self._prepare(i)
        # the fewest characters a match can have (plus the space before it): a search for a further
        # match is skipped when less than that is left of the text
        self._min_rest = [_min_width(p.source) + 1 for p in self.patterns]
        self.categories = frozenset(p.category for p in self.patterns if not p.exempt)
        # prefilter: an Aho-Corasick automaton over the required atoms of every pattern
        self._always: list[int] = []
        self._exempt_by_cat: dict[str, list[int]] = {}
        atoms: dict[str, list[tuple[int, int]]] = {}
        self._need: dict[int, int] = {}  # pattern → number of atom sets it requires
        for i, p in enumerate(self.patterns):
            if p.exempt:
                self._exempt_by_cat.setdefault(p.category, []).append(i)
            req = required_atoms(p.source, 2)
            if req is None:
                self._always.append(i)
                continue
            self._need[i] = len(req)
            for k, alts in enumerate(req):
                for a in alts:
                    atoms.setdefault(a, []).append((i, k))
        self._atom_ids = {a: n for n, a in enumerate(atoms)}
        self._ac: ahocorasick.Automaton | None = None  # built on first use (`_atoms`)
        self._atom_patterns: list[tuple[tuple[int, int], ...]] = [tuple(idx) for idx in atoms.values()]
        # atom id → the patterns it may switch on (deduplicated), for the common one-set case
        self._atom_pidx = [tuple(sorted({i for i, _ in idx})) for idx in self._atom_patterns]
        # with two required sets: atom id → patterns whose first (second) set it belongs to
        self._atom_set0 = [tuple({i for i, k in idx if k == 0}) for idx in self._atom_patterns]
        self._atom_set1 = [tuple({i for i, k in idx if k == 1}) for idx in self._atom_patterns]
        self._two = all(k <= 2 for k in self._need.values())
        # the same as bit masks over pattern indices (Python ints: a union is one `|`)
        self._mask0 = [sum(1 << i for i in idx) for idx in self._atom_set0]
        self._mask1 = [sum(1 << i for i in idx) for idx in self._atom_set1]
        self._need1 = sum(1 << i for i, k in self._need.items() if k == 1)
        self._always_mask = sum(1 << i for i in self._always)
        self._plain_mask = sum(1 << i for i, p in enumerate(self.patterns) if not p.exempt)
        self._exempt_mask_by_cat = {c: sum(1 << i for i in idx) for c, idx in self._exempt_by_cat.items()}
        self._has_atoms = bool(atoms)
        self._single = all(k == 1 for k in self._need.values())

    def _prepare(self, i: int) -> tuple:
        """Compile pattern `i`: how it is run (see `_run`). Matches are found by the pattern without
        capturing groups (asking RE2 for the whole match only lets it use its DFAs); a pattern that
        needs a group (`check=name`) is then matched again, anchored, on the few characters of each
        match. Two threads preparing one pattern at once build the same thing twice, harmlessly."""
        p = self.patterns[i]
        c = _compile(p.source)
        self._name_group[i] = _group_index(c, "name")
        runner = _runner(_compile(_without_groups(p.source)) if c.groups else c,
                         c if p.check == "name" and c.groups else None)
        self._runners[i] = runner
        return runner

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        n = len(self.patterns)
        state.update(_runners=[None] * n, _name_group=[None] * n, _ac=None, lazy=True)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

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
        charge("engine", len(s))
        ac = self._ac
        if ac is None:
            ac = ahocorasick.Automaton()
            for a, n in self._atom_ids.items():
                ac.add_word(a, n)
            ac.make_automaton()
            self._ac = ac
        return {n for _, n in ac.iter(s)}

    def _candidates(self, atoms: Iterable[int], always: bool) -> list[int]:
        ap = self._atom_patterns
        need = self._need
        if self._single:
            if not atoms:
                found = []
            else:
                found = list(set().union(*map(self._atom_pidx.__getitem__, atoms)))
        elif self._two:
            if not atoms:
                found = []
            else:
                first = set().union(*map(self._atom_set0.__getitem__, atoms))
                second = set().union(*map(self._atom_set1.__getitem__, atoms))
                found = [i for i in first if need[i] == 1 or i in second]
        else:
            sat: set[tuple[int, int]] = set()
            for n in atoms:
                sat.update(ap[n])
            have: dict[int, int] = {}
            for i, _ in sat:
                have[i] = have.get(i, 0) + 1
            found = [i for i, k in have.items() if k == need[i]]
        if always:
            found += self._always
        found.sort()
        return found

    def _run(self, st: Stream, indices: Iterable[int], factor: float, hits: list, exempt: list) -> None:
        data = st.b
        end = len(data)
        patterns = self.patterns
        runners = self._runners
        min_rest = self._min_rest
        for i in indices:
            find, capture = runners[i] or self._prepare(i)
            p = patterns[i]
            ng = self._name_group[i] if capture is not None else None
            pos = 0
            scanned = 0  # what RE2 reads: from each search's start to its match's end, forward and back
            while pos <= end:
                s0, e0 = find(_UNANCHORED, data, pos, end)[0]
                if s0 < 0:
                    scanned += end - pos
                    break
                scanned += 2 * (e0 - pos) + 1
                # the next search starts at the end of this match; a match needs at least a word and
                # the space after it, so a text that ends within two characters holds no other
                pos = e0 if e0 > pos else pos + 1
                if end - pos < min_rest[i]:
                    pos = end + 1
                if ng is not None:
                    gs, ge = capture(_ANCHOR_BOTH, data, s0, e0)[ng]
                    if gs < 0 or not _name_ok(data[gs:ge]):
                        continue
                a, b = st.to_view(s0, e0)
                if a == b:
                    continue
                if p.exempt:
                    exempt.append((a, b, frozenset((p.category,))))
                else:
                    hits.append((p.category, a, b, p.score * factor, None))
            charge("engine", scanned)

    def atom_ids(self) -> dict[str, int]:
        """The prefilter atoms and their ids, for an automaton shared with a word list."""
        return dict(self._atom_ids)

    def _candidate_mask(self, atoms: Iterable[int]) -> int:
        """The patterns whose every required atom set has an atom among `atoms`, as a bit mask."""
        if not self._two:
            m = 0
            for i in self._candidates(atoms, False):
                m |= 1 << i
            return m | self._always_mask
        m0 = m1 = 0
        mask0, mask1 = self._mask0, self._mask1
        for n in atoms:
            m0 |= mask0[n]
            m1 |= mask1[n]
        return (m0 & (self._need1 | m1)) | self._always_mask

    def match(self, an: Analysis, atoms: set | None = None, hit_categories: Iterable[str] = ()
              ) -> tuple[list, list]:
        """Hits and exemption spans in folded-text coordinates. `atoms`: the ids of the prefilter atoms
        present in the plain stream, when a shared automaton already found them; `hit_categories`:
        categories that other matchers found, whose exemption patterns must run too."""
        hits: list = []
        exempt: list = []
        # patterns read the plain stream only; leetspeak and other evasions of the phrases that matter
        # most are word-list terms (words/threat.txt and the like), which the lexicon matches evasively
        cands = self._candidate_mask(self._atoms(an.lower) if atoms is None else atoms)
        if not cands:
            return hits, exempt
        todo = cands & self._plain_mask
        if todo:
            self._run(an.plain, _bits(todo), 1.0, hits, exempt)
        if self._exempt_mask_by_cat:
            cats = {h[0] for h in hits}
            cats.update(hit_categories)
            # exemption patterns run only for categories that have a hit
            ex = 0
            for c in cats:
                ex |= self._exempt_mask_by_cat.get(c, 0)
            ex &= cands
            if ex:
                self._run(an.plain, _bits(ex), 1.0, hits, exempt)
        return hits, exempt


def _bits(m: int) -> list[int]:
    """The indices of the set bits of `m`, ascending."""
    out = []
    while m:
        low = m & -m
        out.append(low.bit_length() - 1)
        m ^= low
    return out
