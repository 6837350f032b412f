"""Word lists as data, and their evasion-resistant whole-word matcher (Aho–Corasick).

A word list is a text file, one term a line (a term may be a phrase):

    # comments run to the end of the line
    @category profanity        # the category of the terms below (several: "@category a, b")
    @score 1.0                 # their default score
    fuck
    damn        ; score=0.6    # per-term options after ';'
    dick        ; name         # also a proper name: "Dick Van Dyke" does not count
    ass         ; exact        # no evasion variants (no s h i t, no shiiit, no s**t)
    cumshot     ; also=profanity

Lines after ``@exempt`` are exemptions: phrases inside which a hit does not count (``hell's
kitchen``, ``dick van dyke``, ``cum laude``); ``; only=profanity|obscene`` limits one to some
categories.

Matching is whole-word on the token streams of `normalize.Analysis`, so ``Scunthorpe``, ``Essex``,
``class`` and ``assume`` never match ``cunt``, ``sex``, ``ass``. Evasions caught:

- folding (Unicode compatibility forms, confusables, zero-width characters): done by `normalize`;
- leetspeak (``sh1t``, ``$hit``, ``@ss``, ``sh!t``): the leet streams;
- masking (``f**k``, ``sh*t``, ``f@ck``, ``f#ck``): a masked token matches a term of the same length
  and first letter whose letters agree wherever the token shows one;
- letters spaced or punctuated apart (``f u c k``, ``f.u.c.k``, ``f-u-c-k``): runs of three or more
  one-letter tokens are joined and matched (whole run, or words of four letters or more inside it);
- short chunks glued by hyphens or underscores (``sh-i-t``, ``f---ing``): joined, or read as masks;
- repeated letters (``fuuuuck``, ``shiiit``, ``asss``): a token matches a term when it has the same
  letters in the same order and at least as many of each in a row (so ``as`` never matches ``ass``);
  one doubled letter (``shiit``) is listed in the automaton directly.

All of it runs in time linear in the text: one automaton pass per stream, and per-token work bounded by
the token's length.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

import ahocorasick
import re2

from .base import MAX_HITS_PER_CATEGORY
from .normalize import Analysis, Stream
from .work import charge

__all__ = ["Lexicon", "LexiconMatcher", "Term", "parse_terms", "load_data", "normalise_phrase"]

DATA_PACKAGE = "policykit.detectors"


def normalise_phrase(phrase: str) -> str:
    """A term as the plain stream shows it: lower-case letters and digits, single spaces."""
    from .normalize import PLAIN_TABLE, fold

    f, _ = fold(phrase)
    return " ".join(f.encode("ascii").translate(PLAIN_TABLE).decode("ascii").lower().split())


@dataclass(frozen=True, slots=True)
class Term:
    phrase: str  # normalised
    categories: tuple[str, ...]
    score: float = 1.0
    name: bool = False  # also a proper name: skipped next to another capitalised word
    variants: bool = True  # evasion variants (masking, spacing, repeats, doubled letters)


@dataclass(frozen=True, slots=True)
class Exemption:
    phrase: str
    only: frozenset[str] | None = None  # categories it exempts; None = all


def load_data(name: str) -> str:
    """The text of a bundled data file (``src/policykit/detectors/data/NAME``)."""
    return resources.files(DATA_PACKAGE).joinpath("data", *name.split("/")).read_text(encoding="utf-8")


def data_lines(text: str) -> Iterator[tuple[str | None, str]]:
    """The lines of a word-list or pattern file that say something: `(key, value)` for an `@key value`
    directive, `(None, line)` for an entry. Comments (`#` to the end of the line) and blank lines go."""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("@"):
            key, _, value = line[1:].partition(" ")
            yield key, value.strip()
        else:
            yield None, line


def options(spec: str) -> dict[str, str]:
    """An entry's `key=value, flag` options (after `;` in word lists, `;;` in pattern files)."""
    out: dict[str, str] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        k, _, v = part.partition("=")
        out[k.strip()] = v.strip()
    return out


def parse_terms(text: str, category: str | None = None, score: float = 1.0) -> tuple[list[Term], list[Exemption]]:
    """Parse word-list text (see the module docstring). Lines under ``@exempt`` are exemptions."""
    terms: list[Term] = []
    exemptions: list[Exemption] = []
    cats: tuple[str, ...] = (category,) if category else ()
    exempt_mode = False
    for key, line in data_lines(text):
        if key is not None:
            if key == "category":
                cats = tuple(c.strip() for c in line.split(",") if c.strip())
                exempt_mode = False
            elif key == "score":
                score = float(line)
            elif key == "exempt":
                exempt_mode = True
            else:
                raise ValueError(f"unknown directive '@{key}'")
            continue
        phrase, _, spec = line.partition(";")
        opts = options(spec)
        norm = normalise_phrase(phrase)
        if not norm:
            continue
        if exempt_mode:
            only = opts.get("only")
            exemptions.append(Exemption(norm, frozenset(c.strip() for c in only.split("|")) if only else None))
            continue
        if not cats:
            raise ValueError(f"term {phrase.strip()!r} has no @category")
        tc = cats + tuple(c for c in opts.get("also", "").split("|") if c and c not in cats)
        terms.append(Term(norm, tc, float(opts.get("score", score)), "name" in opts, "exact" not in opts))
    return terms, exemptions


@dataclass
class Lexicon:
    """Terms and exemptions; build a `LexiconMatcher` from it with `compile()`."""

    terms: list[Term] = field(default_factory=list)
    exemptions: list[Exemption] = field(default_factory=list)

    @classmethod
    def from_files(cls, *names: str) -> "Lexicon":
        lex = cls()
        for n in names:
            lex.add_text(load_data(n))
        return lex

    def add_text(self, text: str, category: str | None = None) -> "Lexicon":
        t, e = parse_terms(text, category)
        self.terms.extend(t)
        self.exemptions.extend(e)
        return self

    def add_file(self, path: str | Path, category: str | None = None) -> "Lexicon":
        return self.add_text(Path(path).read_text(encoding="utf-8"), category)

    def add_words(self, words: Mapping[str, Iterable[str]] | None) -> "Lexicon":
        """Extra terms by category: ``{"profanity": ["frak", "frakking; score=0.8"]}``."""
        for category, items in (words or {}).items():
            if isinstance(items, str):
                items = [items]
            self.add_text("\n".join(items), category)
        return self

    def add_exemptions(self, phrases: Iterable[str] | None, only: Iterable[str] | None = None) -> "Lexicon":
        o = frozenset(only) if only else None
        for p in phrases or ():
            phrase, _, spec = p.partition(";")
            n = normalise_phrase(phrase)
            opt = options(spec).get("only")
            if n:
                self.exemptions.append(Exemption(n, frozenset(opt.split("|")) if opt else o))
        return self

    def restricted(self, categories: Iterable[str]) -> "Lexicon":
        cats = frozenset(categories)
        terms = []
        for t in self.terms:
            keep = tuple(c for c in t.categories if c in cats)
            if keep:
                terms.append(Term(t.phrase, keep, t.score, t.name, t.variants))
        return Lexicon(terms, list(self.exemptions))

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(c for t in self.terms for c in t.categories)

    def compile(self) -> "LexiconMatcher":
        return LexiconMatcher(self)


def rle(word: str) -> tuple[str, tuple[int, ...]]:
    """Run-length encoding: ("fuuck" → ("fuck", (1, 2, 1, 1)))."""
    letters = []
    counts = []
    for ch, grp in itertools.groupby(word):
        letters.append(ch)
        counts.append(sum(1 for _ in grp))
    return "".join(letters), tuple(counts)


_TRIPLE_MARK = ("triple",)
_SPACED_MARK = ("spaced",)

# a raw hit: (category, start, end, score, term) in folded-text coordinates
RawHit = tuple[str, int, int, float, Term]

EVASION = 0.9  # score factor for a hit found only through an evasion reading
_SPACED = re2.compile(rb" ([a-z*](?: [a-z*]){2,}) ")
# one word of 1-3 letter chunks joined by punctuation; group 1 is the word
_GLUED = re2.compile(rb"(?i)(?:^|[^a-z0-9@$!*.\-_~])((?:[a-z0-9@$!*]{1,3}[.\-_~]+)+[a-z0-9@$!*]{1,3})(?:[^a-z0-9@$!*.\-_~]|$)")
GLUE_SEPARATORS = b".-_~"


def _glue_table(mask: bool) -> bytes:
    from .normalize import LEET

    out = bytearray(range(256))
    for b in range(256):
        c = chr(b)
        if c.isascii() and c.isalpha():
            out[b] = ord(c.lower())
        elif c in LEET:
            out[b] = ord(LEET[c])
        elif c == "!":
            out[b] = ord("i")
        elif c in ".-_~":
            out[b] = ord("*") if mask else b
    return bytes(out)


GLUE_TABLE = _glue_table(False)  # used with the separators deleted
GLUE_MASK_TABLE = _glue_table(True)  # separators read as masked letters: f---ing = f***ing
_TRIPLE = re2.compile(b"(?:" + b"|".join(bytes([c]) * 3 for c in range(97, 123)) + b")")


class LexiconMatcher:
    """Compiled matcher for one `Lexicon`. Immutable after construction; safe to share."""

    def __init__(self, lexicon: Lexicon, atoms: Mapping[str, int] | None = None) -> None:
        """`atoms`: further strings (substrings, not words) to report by id during the plain scan —
        a pattern set's prefilter atoms, so that one automaton pass serves both."""
        self.lexicon = lexicon
        self.categories = lexicon.categories
        phrases = {t.phrase for t in lexicon.terms}
        payload: dict[str, list] = {}
        for t in lexicon.terms:
            payload.setdefault(" " + t.phrase + " ", []).append((t, 1.0))
        for e in lexicon.exemptions:
            payload.setdefault(" " + e.phrase + " ", []).append((e, 1.0))
        # doubled-letter variants of single words ("shiit", "fuckk"), unless that is a term itself
        self._by_collapsed: dict[str, list[tuple[Term, tuple[int, ...]]]] = {}
        self._by_shape: dict[tuple[int, str], list[Term]] = {}
        sub: dict[str, list[Term]] = {}
        exempt_words = {e.phrase for e in lexicon.exemptions}
        for t in lexicon.terms:
            if not t.variants or " " in t.phrase or not t.phrase.isalpha():
                continue
            w = t.phrase
            collapsed, counts = rle(w)
            self._by_collapsed.setdefault(collapsed, []).append((t, counts))
            self._by_shape.setdefault((len(w), w[0]), []).append(t)
            if len(w) >= 4:
                sub.setdefault(w, []).append(t)
            if len(w) >= 3:
                for i in range(len(w)):
                    v = w[: i + 1] + w[i:]
                    if v not in phrases and v not in exempt_words:
                        payload.setdefault(" " + v + " ", []).append((t, EVASION))
        self._ac = ahocorasick.Automaton()
        entries: dict[str, tuple] = {key: (len(key), tuple(items), ()) for key, items in payload.items()}
        for atom, n in (atoms or {}).items():
            k, it, ids = entries.get(atom, (len(atom), (), ()))
            entries[atom] = (k, it, ids + (n,))
        for key, value in entries.items():
            self._ac.add_word(key, value)
        if entries:
            # markers that switch on the token-level readings, found in the same pass
            letters = "abcdefghijklmnopqrstuvwxyz"
            for c in letters:
                if c * 3 not in entries:
                    self._ac.add_word(c * 3, (0, _TRIPLE_MARK, ()))
            for x in letters + "*":
                for y in letters + "*":
                    key = f" {x} {y} "
                    if key not in entries:
                        self._ac.add_word(key, (0, _SPACED_MARK, ()))
            self._ac.make_automaton()
        self._sub = ahocorasick.Automaton()
        for key, items in sub.items():
            self._sub.add_word(key, (key, tuple(items)))
        if sub:
            self._sub.make_automaton()
        self._empty = not entries

    # ----------------------------------------------------------------------------------------------

    def _scan(self, st: Stream, factor: float, hits: list, exempt: list, atoms: set | None = None) -> set:
        marks = set()
        found = 0
        for found, (end, (klen, items, ids)) in enumerate(self._ac.iter(st.s), 1):
            if not klen:
                marks.add(items)
                continue
            if ids and atoms is not None:
                atoms.update(ids)
            if not items:
                continue
            a, b = st.to_view(end - klen + 2, end)  # the key without its padding spaces
            for obj, f in items:
                if isinstance(obj, Exemption):
                    exempt.append((a, b, obj.only))
                else:
                    sc = obj.score * f * factor
                    for c in obj.categories:
                        hits.append((c, a, b, sc, obj))
        charge("engine", len(st.s) + found)
        return marks

    def _token(self, tok: str) -> Iterator[tuple[Term, float]]:
        """Evasion readings of one token that the automaton cannot see: masks and long runs."""
        charge("engine", 2 * len(tok))
        if "*" in tok:
            if len(tok) < 3 or tok[0] == "*":
                return
            for t in self._by_shape.get((len(tok), tok[0]), ()):
                for x, y in zip(tok, t.phrase):
                    if x != "*" and x != y:
                        break
                else:
                    yield t, 0.8
            return
        if _TRIPLE.search(tok.encode("ascii")):
            collapsed, counts = rle(tok)
            for t, need in self._by_collapsed.get(collapsed, ()):
                if all(x >= y for x, y in zip(counts, need)):
                    yield t, EVASION

    def _scan_tokens(self, st: Stream, hits: list) -> None:
        pos = 1
        # the readings of a token depend on the token alone: a repeated one is read once
        memo: dict[bytes, list[tuple[Term, float]]] = {}
        charge("engine", len(st.tokens))
        for tb in st.tokens:
            n = len(tb)
            if n >= 3:
                found = memo.get(tb)
                if found is None:
                    found = memo[tb] = list(self._token(tb.decode("ascii"))) if (
                        b"*" in tb or _TRIPLE.search(tb)) else []
                for t, f in found:
                    charge("engine", 1)
                    a, b = st.to_view(pos, pos + n)
                    for c in t.categories:
                        hits.append((c, a, b, t.score * f, t))
            pos += n + 1

    def _scan_spaced(self, st: Stream, hits: list) -> None:
        charge("engine", len(st.b))
        for m in _SPACED.finditer(st.b):
            run_start = m.start(1)
            letters = m.group(1)[::2].decode("ascii")
            charge("engine", 4 * len(letters))  # the run copied, and scanned by both automata
            found: set[tuple[int, int, Term]] = set()
            # the whole run: words and phrases (run "a s s" → "ass")
            for end, (klen, items, _) in self._ac.iter(" " + letters + " "):
                if klen == len(letters) + 2:
                    for obj, f in items:
                        if isinstance(obj, Term):
                            found.add((0, len(letters), obj))
            # words of four letters or more inside the run ("y o u f u c k" → "fuck")
            if len(letters) > 4:
                # a term found this often in one run is evidence enough: a megabyte of "f u c k" is one run
                # of 250,000 letters, and only the first hits of a category are kept as evidence
                per_term: dict[int, int] = {}
                for end, (key, items) in self._sub.iter(letters):
                    charge("engine", len(items))
                    for t in items:
                        n = per_term.get(id(t), 0)
                        if n < MAX_HITS_PER_CATEGORY:
                            per_term[id(t)] = n + 1
                            found.add((end - len(key) + 1, end + 1, t))
            # a long run of a repeated letter inside ("f u u u c k")
            if "*" in letters or _TRIPLE.search(letters.encode("ascii")):
                for t, f in self._token(letters):
                    found.add((0, len(letters), t))
            if not found:
                continue
            # letter i of the run is token k0 + i: its place in the view is one lookup, not a search
            k0 = st.token_at(run_start)
            view_start = st.token_view_start
            charge("engine", len(found))
            for i, j, t in found:
                a = view_start(k0 + i)
                b = view_start(k0 + j - 1) + 1
                for c in t.categories:
                    hits.append((c, a, b, t.score * EVASION, t))

    def _scan_glued(self, an: Analysis, hits: list) -> None:
        """Letters joined by punctuation inside one word: sh-i-t, f---ing, s.h.i.t, f_u_c_k."""
        nb = an.nb
        if not (b"-" in nb or b"_" in nb or b"~" in nb):
            return  # dots alone: s.h.i.t reads "s h i t" in the streams, which the spaced reading covers
        charge("engine", len(nb))
        for m in _GLUED.finditer(nb):
            a, b = m.start(1), m.end(1)
            raw = m.group(1)
            charge("engine", 4 * len(raw))
            found: set[tuple[Term, float]] = set()
            joined = raw.translate(GLUE_TABLE, GLUE_SEPARATORS).decode("ascii")
            masked = raw.translate(GLUE_MASK_TABLE).decode("ascii")
            if len(joined) >= 3:
                for end, (klen, items, _) in self._ac.iter(" " + joined + " "):
                    if klen == len(joined) + 2:
                        for obj, f in items:
                            if isinstance(obj, Term):
                                found.add((obj, EVASION))
                for t, f in self._token(joined):
                    found.add((t, f))
            for t, f in self._token(masked):
                found.add((t, f))
            charge("engine", len(found))
            for t, f in found:
                for c in t.categories:
                    hits.append((c, a, b, t.score * f, t))

    def match(self, an: Analysis, atoms: set | None = None
              ) -> tuple[list[RawHit], list[tuple[int, int, frozenset[str] | None]]]:
        """(raw hits, exemption spans) for one analysed text, in folded-text coordinates. Ids of the
        extra atoms found in the plain stream are added to `atoms`."""
        hits: list[RawHit] = []
        exempt: list[tuple[int, int, frozenset[str] | None]] = []
        if self._empty:
            return hits, exempt
        lower = an.lower_stream
        marks = self._scan(lower, 1.0, hits, exempt, atoms)
        leet, bang = an.leet, an.bang
        if leet is None and bang is None:  # the common case: no leet or mask character in the text
            if marks:
                if _TRIPLE_MARK in marks:
                    self._scan_tokens(lower, hits)
                if _SPACED_MARK in marks:
                    self._scan_spaced(lower, hits)
            self._scan_glued(an, hits)
            return hits, exempt
        streams = [st for st in (leet, bang) if st is not None]
        for st in streams:
            marks |= self._scan(st, EVASION, hits, exempt)
        targets = streams or [lower]
        triple = _TRIPLE_MARK in marks
        for st in targets:
            if triple or "*" in st.s:
                self._scan_tokens(st, hits)
        if _SPACED_MARK in marks:
            for st in targets:
                self._scan_spaced(st, hits)
        self._scan_glued(an, hits)
        return hits, exempt


def is_name_context(norm: str, a: int, b: int) -> bool:
    """Whether the capitalised word at [a, b) stands next to another capitalised word (a name)."""
    w = norm[a:b]
    if not (w[:1].isupper() and (len(w) == 1 or w[1:].islower())):
        return False
    left = norm[max(0, a - 40):a].split()
    right = norm[b:b + 40].split()

    def title(tok: str) -> bool:
        tok = tok.strip(".,;:!?\"'()[]")
        return len(tok) > 1 and tok[0].isupper() and tok[1:].replace("'", "").replace(".", "").islower()

    if left and title(left[-1]) and not left[-1].endswith((".", "!", "?")):
        return True
    if right and title(right[0]) and not w.endswith("."):
        # "Dick Van Dyke", "Dick Smith" (but not "Dick." at the end of a sentence)
        gap = norm[b:b + 2]
        return not gap[:1] in ".!?"
    if left and left[-1].rstrip(".") in ("Mr", "Mrs", "Ms", "Dr", "Sen", "Rep", "Councilman", "Councilwoman"):
        return True
    return False


def apply_exemptions(hits: Sequence[RawHit], exempt: Sequence[tuple[int, int, frozenset[str] | None]]) -> list[RawHit]:
    """Drop hits lying inside an exemption span that covers their category. O((h + e) log e)."""
    if not exempt:
        return list(hits)
    from bisect import bisect_right as _br

    ex = sorted(exempt)
    charge("engine", len(ex) + len(hits))
    starts = [e[0] for e in ex]
    out = []
    # exemptions are few per text; a hit is checked against those starting at or before it, scanning
    # back only while they could still cover it (bounded by the longest exemption phrase)
    for h in hits:
        c, a, b = h[0], h[1], h[2]
        i = _br(starts, a) - 1
        covered = False
        while i >= 0 and a - ex[i][0] <= 200:
            charge("engine", 1)
            ea, eb, only = ex[i]
            if ea <= a and b <= eb and (only is None or c in only):
                covered = True
                break
            i -= 1
        if not covered:
            out.append(h)
    return out
