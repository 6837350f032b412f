"""The built-in detectors, and the constructor API for extending them.

All word-list and pattern detectors share one engine by default: one Aho–Corasick automaton over
every bundled word list and one RE2 set over every bundled pattern, run once per text (the analysis
is cached per thread) and filtered by each detector's categories. A detector built with extra words,
exemptions or patterns gets an engine of its own.
"""

from __future__ import annotations

import itertools
import pickle
import threading
from typing import Callable, Iterable, Mapping, Sequence

from .base import MAX_HITS_PER_CATEGORY, Hit, make_hit
from .lexicon import Lexicon, LexiconMatcher, apply_exemptions, is_name_context, load_data
from .links import LinkDetector
from .normalize import Analysis, analyse
from .normalize import _local as _LOCAL
from .patterns import Pattern, PatternSet, parse_patterns
from .pii import PersonalInfoMatcher
from .work import charge

__all__ = [
    "BUILTIN_DETECTORS", "Engine", "PersonalInfoDetector", "WordListDetector", "default_detectors",
    "bundled_lexicon", "bundled_patterns", "MAX_HITS_PER_CATEGORY",
]

# detector name → the categories it reports
BUILTIN_DETECTORS: dict[str, frozenset[str]] = {
    "profanity": frozenset({"profanity", "obscene"}),
    "hate_speech": frozenset({"hate_speech", "discrimination"}),
    "harassment": frozenset({"harassment", "sexual_harassment"}),
    "threat": frozenset({"threat", "violence"}),
    "illegal_activity": frozenset({"illegal_activity"}),
    "solicitation": frozenset({"commercial_solicitation"}),
    "political": frozenset({"political_endorsement"}),
    "contest": frozenset({"contest"}),
    "service_request": frozenset({"service_request"}),
    "records_request": frozenset({"records_request"}),
}

WORD_FILES = (
    "words/profanity.txt", "words/obscene.txt", "words/hate_speech.txt", "words/harassment.txt",
    "words/violence.txt", "words/illegal_activity.txt", "words/solicitation.txt", "words/political.txt",
    "words/contest.txt", "words/service_request.txt", "words/records_request.txt", "words/threat.txt",
    "words/exemptions.txt",
)
PATTERN_FILES = (
    "patterns/threat.txt", "patterns/abuse.txt", "patterns/illegal_activity.txt",
    "patterns/solicitation.txt", "patterns/political.txt", "patterns/contest.txt",
    "patterns/service_request.txt", "patterns/records_request.txt",
)

_ENGINE_IDS = itertools.count(1)
_EMPTY: list = []


def bundled_lexicon() -> Lexicon:
    """The bundled word lists and exemptions (a fresh, mutable copy)."""
    return Lexicon.from_files(*WORD_FILES)


_SOURCES = ("base.py", "builtin.py", "lexicon.py", "normalize.py", "patterns.py", "work.py")


def bundled_key() -> str:
    """The on-disk cache key of the shared engine: the bundled data, the code that builds and reads
    it, and the versions of the libraries whose objects it holds."""
    from importlib import resources

    from ..cache import key_of, versions

    here = resources.files(__package__)
    data = [load_data(n) for n in WORD_FILES + PATTERN_FILES]
    code = [here.joinpath(n).read_bytes() for n in _SOURCES]
    return key_of(*data, *code, *versions("pyahocorasick", "google-re2"))


def bundled_patterns() -> list[Pattern]:
    """The bundled patterns (a fresh list; parsed, not compiled)."""
    out: list[Pattern] = []
    for name in PATTERN_FILES:
        out.extend(parse_patterns(load_data(name)))
    return out


class Engine:
    """Word lists + patterns (+ optionally personal information), compiled lazily, run once per text."""

    def __init__(self, lexicon: Lexicon | Callable[[], Lexicon] | None = None,
                 patterns: Sequence[Pattern] | Callable[[], Sequence[Pattern]] | None = None,
                 pii: PersonalInfoMatcher | None = None, *, bundled: bool = False) -> None:
        """`lexicon` and `patterns` may be given as zero-argument callables, loaded on first use.
        `bundled`: they are the bundled data, so the built engine is kept in the on-disk cache
        (`policykit.cache`, keyed by `bundled_key()`) and its patterns are compiled on first use."""
        self._lexicon = lexicon
        self._patterns = patterns
        self._pii = pii
        self._bundled = bundled
        self._key = next(_ENGINE_IDS)  # never reused, unlike id(self)
        self._lock = threading.Lock()
        self._compiled: tuple[LexiconMatcher | None, PatternSet | None] | None = None

    def _build(self) -> tuple[LexiconMatcher | None, PatternSet | None]:
        lexicon = self._lexicon() if callable(self._lexicon) else self._lexicon
        patterns = list(self._patterns() if callable(self._patterns) else (self._patterns or ()))
        ps = PatternSet(patterns, lazy=self._bundled) if patterns else None
        lm = None
        if lexicon is not None and lexicon.terms:
            # one automaton pass finds both the words and the patterns' prefilter atoms
            lm = LexiconMatcher(lexicon, ps.atom_ids() if ps is not None else None)
        return lm, ps

    def _compile(self) -> tuple[LexiconMatcher | None, PatternSet | None]:
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    if self._bundled:
                        from ..cache import cached

                        # pickle: see policykit.cache for why only entries this user wrote are read
                        self._compiled = cached("detector-engine", bundled_key(), self._build,
                                                pickle.dumps, pickle.loads)
                    else:
                        self._compiled = self._build()
        return self._compiled

    def run(self, an: Analysis) -> list[tuple[str, int, int, float]]:
        """(category, start, end, score) in original-text coordinates, filtered and deduplicated."""
        key = self._key
        cached = an.results.get(key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        compiled = self._compiled
        lm, ps = compiled if compiled is not None else self._compile()
        hits: list = []
        exempt: list = []
        atoms: set | None = None
        if lm is not None:
            atoms = set() if ps is not None else None
            h, e = lm.match(an, atoms)
            hits += h
            exempt += e
        if ps is not None:
            h, e = ps.match(an, atoms, {x[0] for x in hits})
            hits += h
            exempt += e
        if self._pii is not None:
            h, _ = self._pii.match(an)
            hits += h
        if not hits:
            an.results[key] = _EMPTY
            return _EMPTY
        charge("engine", len(hits))  # each loop below; the sort is near linear (hits come in runs in text order)
        if exempt:
            hits = apply_exemptions(hits, exempt)
        if len(hits) == 1:  # the common case for a flagged comment: one hit, nothing to merge or order
            c, a, b, score, term = hits[0]
            if term is not None and term.name and is_name_context(an.norm, a, b):
                an.results[key] = _EMPTY
                return _EMPTY
            out = _Results()
            if an.omap is not None:
                a, b = an.to_original(a, b)
            out.append((c, a, b, round(score, 3) if score < 1.0 else 1.0))
            out.categories = frozenset((c,))
            an.results[key] = out
            return out
        norm = an.norm
        # keyed (start, -end, category): sorted, the keys come in text order, longest first
        best: dict[tuple[int, int, str], float] = {}
        get = best.get
        for c, a, b, score, term in hits:
            if term is not None and term.name and is_name_context(norm, a, b):
                continue
            k = (a, -b, c)
            if get(k, -1.0) < score:
                best[k] = score
        if not best:
            an.results[key] = _EMPTY
            return _EMPTY
        cats = {k[2] for k in best}
        if "violence" in cats and "threat" in cats:
            # a threat of violence is reported as a threat; violent words overlapping it are not a second finding
            threats = [(a, -nb) for a, nb, c in best if c == "threat"]
            for k in [k for k in best if k[2] == "violence"]:
                if any(ta < -k[1] and k[0] < tb for ta, tb in threats):
                    del best[k]
        out = _Results()
        # drop a hit lying inside a longer one of the same category ("bitch" in "son of a bitch")
        last: dict[str, int] = {}
        counts: dict[str, int] = {}
        omap = an.omap
        for k in sorted(best):
            a, b, c = k[0], -k[1], k[2]
            if last.get(c, -1) >= b:
                continue
            last[c] = b
            n = counts.get(c, 0)
            if n >= MAX_HITS_PER_CATEGORY:
                continue
            counts[c] = n + 1
            score = best[k]
            if omap is not None:
                a, b = an.to_original(a, b)
            out.append((c, a, b, round(score, 3) if score < 1.0 else 1.0))
        out.categories = frozenset(counts)
        an.results[key] = out
        return out


class _Results(list):
    """An engine's hits for one text, with the set of their categories (most detectors see none of theirs)."""

    __slots__ = ("categories",)


_shared: Engine | None = None
_shared_lock = threading.Lock()


def _shared_engine() -> Engine:
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = Engine(bundled_lexicon, bundled_patterns, bundled=True)  # built on first use
    return _shared


class WordListDetector:
    """A detector of word lists and patterns: a built-in one by name, extended, or a new one.

    ``WordListDetector("profanity")`` is the built-in profanity detector.
    ``WordListDetector("profanity", extra_words={"profanity": ["frak", "frakking; score=0.8"]},
    exemptions=["frak island"])`` extends it: extra terms use the word-list line syntax (options
    after ``;``), exemptions are phrases inside which no hit of this detector counts (``"phrase;
    only=profanity"`` limits one to some categories). ``extra_patterns={"threat": [r"..."]}`` adds RE2
    patterns over the plain stream, ``word_files``/``pattern_files`` add whole files (paths).
    ``WordListDetector("parks_topic", categories={"off_topic"}, extra_words={...}, builtin=False)``
    is a new detector with no bundled lists at all.
    """

    def __init__(self, name: str, categories: Iterable[str] | None = None, *,
                 extra_words: Mapping[str, Iterable[str]] | None = None,
                 exemptions: Iterable[str] | None = None,
                 extra_patterns: Mapping[str, Iterable[str]] | None = None,
                 word_files: Iterable[str] = (), pattern_files: Iterable[str] = (),
                 builtin: bool = True) -> None:
        self.name = name
        if categories is None:
            if name in BUILTIN_DETECTORS:
                categories = BUILTIN_DETECTORS[name]
            else:
                categories = set((extra_words or {}).keys()) | set((extra_patterns or {}).keys())
        self.categories = frozenset(categories)
        if not self.categories:
            raise ValueError(f"detector {name!r} has no categories")
        extended = bool(extra_words or exemptions or extra_patterns or word_files or pattern_files)
        if builtin and not extended:
            self._engine = _shared_engine()
            return
        lex = bundled_lexicon().restricted(self.categories) if builtin else Lexicon()
        for f in word_files:
            lex.add_file(f)
        lex.add_words(extra_words)
        lex.add_exemptions(exemptions)
        pats = [p for p in bundled_patterns() if p.category in self.categories] if builtin else []
        for f in pattern_files:
            with open(f, encoding="utf-8") as fh:
                pats += parse_patterns(fh.read())
        for cat, exprs in (extra_patterns or {}).items():
            if isinstance(exprs, str):
                exprs = [exprs]
            pats += parse_patterns("@category " + cat + "\n" + "\n".join(exprs))
        self._engine = Engine(lex, pats)

    def detect(self, text: str) -> list[Hit]:
        if not text:
            return []
        an = _LOCAL.__dict__.get("last")  # analyse(text), inlined: this runs once per detector and text
        if an is None or (an.text is not text and an.text != text):
            an = analyse(text)
        engine = self._engine
        raw = an.results.get(engine._key)
        if raw is None:
            raw = engine.run(an)
        if not raw:
            return []
        cats = self.categories
        if cats.isdisjoint(raw.categories):
            return []
        name = self.name
        return [make_hit(c, a, b, text[a:b], name, s) for c, a, b, s in raw if c in cats]

    def __repr__(self) -> str:
        return f"WordListDetector({self.name!r}, categories={sorted(self.categories)})"


class PersonalInfoDetector:
    """Social security numbers and dates of birth; phone numbers, e-mail addresses and home addresses
    that the text attributes to someone other than the writer (see `pii` and docs/detectors.md,
    "Consent and ownership").

    ``PersonalInfoDetector(region="GB", allow=["311", "(315) 448-8005", "clerk@example.org"])``:
    `region` is where numbers without a ``+`` are read; `allow` lists numbers and addresses that are
    never reported (the city's own).
    """

    def __init__(self, name: str = "personal_information", *, region: str = "US",
                 allow: Iterable[str] = ()) -> None:
        self.name = name
        self.categories = frozenset({"personal_information"})
        self._pii = PersonalInfoMatcher(region, allow)
        self._key = next(_ENGINE_IDS)

    def detect(self, text: str) -> list[Hit]:
        if not text:
            return []
        an = _LOCAL.__dict__.get("last")
        if an is None or (an.text is not text and an.text != text):
            an = analyse(text)
        raw = an.results.get(self._key)
        if raw is None:
            # the matcher's hits do not overlap and come in text order (see PersonalInfoMatcher.match)
            found, _ = self._pii.match(an)
            raw = []
            for c, a, b, score, _term in found[:MAX_HITS_PER_CATEGORY]:
                a, b = an.to_original(a, b)
                raw.append((c, a, b, round(score, 3) if score < 1.0 else 1.0))
            an.results[self._key] = raw
        if not raw:
            return []
        name = self.name
        return [make_hit(c, a, b, text[a:b], name, s) for c, a, b, s in raw]


_default_pii: PersonalInfoDetector | None = None


def default_detectors(*, extra_words: Mapping[str, Iterable[str]] | None = None,
                      exemptions: Iterable[str] | None = None) -> list:
    """The built-in detectors, one instance each.

    With `extra_words` (category → terms) or `exemptions`, the detectors whose categories they touch
    are built extended; the rest stay shared.
    """
    global _default_pii
    out: list = []
    extra_words = dict(extra_words or {})
    for name, cats in BUILTIN_DETECTORS.items():
        mine = {c: w for c, w in extra_words.items() if c in cats}
        if mine or exemptions:
            out.append(WordListDetector(name, extra_words=mine or None, exemptions=exemptions))
        else:
            out.append(WordListDetector(name))
    if _default_pii is None:
        _default_pii = PersonalInfoDetector()
    out.append(_default_pii)
    out.append(LinkDetector())
    return out
