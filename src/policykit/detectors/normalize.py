"""Text folding for evasion-resistant matching, with a map back to the original text.

Every detector matches against a *folded* copy of the text, never the text itself:

1. ``fold(text)`` turns any Unicode text into an ASCII string, case preserved, one character at a
   time: compatibility forms (NFKC: full-width letters, mathematical alphanumerics, ligatures,
   circled digits), confusable letters (Cyrillic/Greek and other look-alikes, from the Unicode
   confusables table shipped by ``confusable_homoglyphs``) and everything else by transliteration
   (``anyascii``: é → e, ß → ss, 中 → Zhong). Zero-width and other format characters and combining
   marks are dropped; emoji, symbols and unknown characters become spaces. Alongside comes an offset
   map from folded positions to original positions, so evidence spans always index the original text.
   Pure-ASCII text (the common case) is returned as is, with no map.
2. ``Analysis`` builds the token *streams* the matchers scan: the folded text with everything that is
   not a letter or digit turned into a space, tokens joined by single spaces and padded with a space at
   each end (so whole-word matching is a matter of matching `` word ``). When a leet character touches
   a letter, a second stream reads leetspeak (``sh1t``, ``$hit``, ``@ss``, ``f**k``); when ``!``,
   ``@``, ``#`` or ``%`` stands inside a word, a third reads ``!`` as ``i`` and the others as masks
   (``sh!t``, ``f@ck``) while the second treats ``!`` as punctuation (``shit!``).

Every step is linear in the length of the text: ``str.translate``/``bytes.translate``, ``split``,
``join`` and one pass to map token offsets. Nothing here backtracks.
"""

from __future__ import annotations

import threading
import unicodedata
from array import array
from bisect import bisect_right
from itertools import accumulate, compress, repeat
from operator import add, sub
from typing import Callable

from anyascii import anyascii

from .work import charge

__all__ = ["Analysis", "Stream", "analyse", "fold"]

# --------------------------------------------------------------------------------------------------
# Unicode → ASCII, one character at a time

_COMPLEX = "\x00"  # marks a character whose folding is not exactly one ASCII character

_confusables: dict[str, str] | None = None
_confusables_lock = threading.Lock()


def _confusable_map() -> dict[str, str]:
    """Non-ASCII look-alikes of ASCII letters and digits, from Unicode's confusables.txt (lazy)."""
    global _confusables
    if _confusables is None:
        with _confusables_lock:
            if _confusables is None:
                from confusable_homoglyphs import confusables as _cf  # loads its JSON table

                data = _cf.confusables_data
                out: dict[str, str] = {}
                # letters win over digits; an upper-case look-alike maps to the upper-case letter
                for key in "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
                    for glyph in data.get(key, ()):
                        c = glyph.get("c", "")
                        if len(c) != 1 or c.isascii():
                            continue
                        prev = out.get(c)
                        if prev is None or (prev.isdigit() and key.isalpha()):
                            out[c] = key
                        elif prev.isalpha() and key.isalpha() and c.isupper() and key.isupper():
                            out[c] = key
                _confusables = out
    return _confusables


def fold_char(c: str) -> str:
    """The ASCII folding of one character: usually one character, possibly none or several."""
    o = ord(c)
    if o < 128:
        if c.isprintable() or c in "\t\n\r":
            return c
        return " "
    cat = unicodedata.category(c)
    if cat in ("Cf", "Mn", "Me", "Cs"):
        return ""  # zero-width/format characters, combining marks: gone
    if cat[0] in "ZC":
        return " "
    k = unicodedata.normalize("NFKC", c)
    if k.isascii() and k.isprintable():
        return k
    if len(k) == 1:
        alike = _confusable_map().get(k)
        if alike is not None:
            return alike
    if cat[0] in "LN":
        a = anyascii(k)
        return a if a.isascii() else " "
    if cat[0] == "P":
        a = anyascii(c)
        return a if len(a) == 1 and a.isascii() else " "
    return " "  # symbols, emoji, anything else


class _FoldTable(dict):
    """``str.translate`` table: ordinal → one ASCII character, or ``_COMPLEX``. Filled on demand."""

    def __missing__(self, o: int) -> str:
        f = fold_char(chr(o))
        v = f if len(f) == 1 else _COMPLEX
        self[o] = v
        return v


_TABLE = _FoldTable()
_EXPANSIONS: dict[str, str] = {}


def fold(text: str) -> tuple[str, array | None]:
    """(ASCII folding of `text`, map from folded index to original index or None for identity)."""
    charge("analysis", len(text))
    if text.isascii():
        if text.isprintable():
            return text, None
        return text.translate(_TABLE), None
    t = text.translate(_TABLE)
    if _COMPLEX not in t:
        return t, None
    # slow path: some characters expand or vanish, so keep an explicit offset map
    parts: list[str] = []
    omap = array("q")
    table = _TABLE
    for i, c in enumerate(text):
        f = table[ord(c)]
        if f == _COMPLEX:
            f = _EXPANSIONS.get(c)
            if f is None:
                f = fold_char(c)
                _EXPANSIONS[c] = f
        if f:
            charge("analysis", len(f))
            parts.append(f)
            if len(f) == 1:
                omap.append(i)
            else:
                omap.extend([i] * len(f))
    return "".join(parts), omap


# --------------------------------------------------------------------------------------------------
# Views: bytes.translate tables over the folded ASCII text (length preserving)


def _table(keep: Callable[[int], int | None]) -> bytes:
    out = bytearray()
    for b in range(256):
        v = keep(b)
        out.append(32 if v is None else v)
    return bytes(out)


def _plain(b: int) -> int | None:
    c = chr(b)
    return b if c.isascii() and c.isalnum() else None


LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
        "@": "a", "$": "s", "|": "i", "+": "t", "*": "*"}


def _leet(bang: bool) -> Callable[[int], int | None]:
    def keep(b: int) -> int | None:
        c = chr(b)
        if c.isascii() and c.isalpha():
            return ord(c.lower())
        if bang:
            if c == "!":
                return ord("i")
            if c in "@#%":  # a masking symbol inside a word: f@ck, sh#t, f%ck
                return ord("*")
        if c in LEET:
            return ord(LEET[c])
        return None

    return keep


PLAIN_TABLE = _table(_plain)        # letters and digits, case kept; everything else a space
LEET_TABLE = _table(_leet(False))   # lower-case letters, leet digits/symbols read as letters, '*' kept
LEET_BANG_TABLE = _table(_leet(True))  # the same, reading '!' as 'i' and '@', '#', '%' as masks
def _shape(b: int) -> int:
    c = chr(b)
    if c.isascii() and c.isalpha():
        return ord("a")
    if c in "0134578 9@$|+*".replace(" ", ""):
        return ord("1")
    if c in "!#%":
        return ord("!")
    return 32


# letters → 'a', leet characters → '1', '!#%' → '!', the rest → ' ': where evasions can hide
SHAPE_TABLE = bytes(_shape(b) for b in range(256))
_NOT_EVASIVE = bytes(b for b in range(256) if SHAPE_TABLE[b] in b"a ")


class Stream:
    """The tokens of one view joined by single spaces and padded: ``" tok tok tok "``.

    `view` is as long as the folded text (translate is 1:1), so a position in the view is a position
    in the folded text. ``to_view`` maps a span of the joined string back to the view.
    """

    __slots__ = ("view", "tokens", "b", "_s", "_ss", "_vs", "_hint")

    def __init__(self, view: bytes) -> None:
        charge("analysis", 2 * len(view))  # split and join
        self.view = view
        self.tokens = view.split()
        self.b = b" " + b" ".join(self.tokens) + b" "
        self._s: str | None = None
        self._ss: list[int] | None = None
        self._vs: list[int] | None = None
        self._hint = 0

    @property
    def s(self) -> str:
        if self._s is None:
            self._s = self.b.decode("ascii")
        return self._s

    def _index(self) -> None:
        # token starts in the view: split on single spaces (empty parts are extra spaces), add up the
        # lengths; in the joined string: add up token lengths. C-level iterators, linear. `_vs` holds,
        # per token, its view start minus its joined-string start.
        view = self.view
        charge("analysis", 2 * len(view))
        if view[:1] != b" " and len(self.b) == len(view.rstrip(b" ")) + 2:
            # single spaces between the tokens already (only the end may be padded): a shift by one
            n = len(self.tokens)
            self._ss = list(accumulate(map(add, map(len, self.tokens), repeat(1)), initial=1))[:n]
            self._vs = [-1] * n
            return
        parts = view.split(b" ")
        starts = accumulate(map(add, map(len, parts), repeat(1)), initial=0)
        toks = self.tokens
        ss = list(accumulate(map(add, map(len, toks), repeat(1)), initial=1))
        ss.pop()
        self._vs = list(map(sub, compress(starts, parts), ss))
        self._ss = ss

    def token_at(self, pos: int) -> int:
        """Index of the token containing joined-string position `pos` (a space belongs to the left).

        Matches arrive mostly in order, so the search starts from the previous answer: a binary
        search over the distance moved, which adds up to linear time for in-order lookups."""
        ss = self._ss
        if ss is None:
            self._index()
            ss = self._ss
        k = _gallop(ss, pos, self._hint)  # type: ignore[arg-type]
        self._hint = k
        return k

    def token_view_start(self, k: int) -> int:
        """Where token `k` starts in the view: constant time, for matchers that walk tokens in a row."""
        if self._ss is None:
            self._index()
        return self._ss[k] + self._vs[k]  # type: ignore[index]

    def to_view(self, a: int, b: int) -> tuple[int, int]:
        """Map joined-string span [a, b) (spaces at either end stripped) to a view span."""
        if a >= b:
            return (0, 0)
        bb = self.b
        if bb[a] == 32 or bb[b - 1] == 32:
            while a < b and bb[a] == 32:
                a += 1
            while b > a and bb[b - 1] == 32:
                b -= 1
            if a >= b:
                return (0, 0)
        ss = self._ss
        if ss is None:
            self._index()
            ss = self._ss
        k = _gallop(ss, a, self._hint)  # type: ignore[arg-type]
        k2 = _gallop(ss, b - 1, k)  # type: ignore[arg-type]
        self._hint = k2
        vs = self._vs
        return a + vs[k], b + vs[k2]  # type: ignore[index]


def _gallop(ss: list[int], pos: int, k: int) -> int:
    """The last index i with ss[i] <= pos (0 if none), searched outward from a previous answer k.

    Steps of 1, 2, 4, … bracket the answer before a binary search inside the bracket, so a lookup costs
    the logarithm of the distance moved, not of the list's length: in-order lookups over a whole text
    add up to linear time, even for a megabyte of one-letter tokens."""
    n = len(ss)
    step = 1
    if ss[k] <= pos:
        lo = k
        while lo + step < n and ss[lo + step] <= pos:
            lo += step
            step *= 2
        charge("analysis", 2 * step.bit_length())  # the steps out, then the binary search
        return bisect_right(ss, pos, lo, min(lo + step, n)) - 1
    hi = k
    while hi - step >= 0 and ss[hi - step] > pos:
        hi -= step
        step *= 2
    charge("analysis", 2 * step.bit_length())
    return max(0, bisect_right(ss, pos, max(hi - step, 0), hi) - 1)


class LowerStream:
    """A lower-cased view of a `Stream`, sharing its offset maps."""

    __slots__ = ("_st", "s", "_b", "_tokens")

    def __init__(self, st: Stream, lower: str) -> None:
        self._st = st
        self.s = lower
        self._b: bytes | None = None
        self._tokens: list[bytes] | None = None

    @property
    def b(self) -> bytes:
        if self._b is None:
            charge("analysis", len(self._st.b))
            self._b = self._st.b.lower()
        return self._b

    @property
    def tokens(self) -> list[bytes]:
        if self._tokens is None:
            charge("analysis", len(self._st.b))
            self._tokens = [t.lower() for t in self._st.tokens]
        return self._tokens

    def to_view(self, a: int, b: int) -> tuple[int, int]:
        return self._st.to_view(a, b)

    def token_at(self, pos: int) -> int:
        return self._st.token_at(pos)

    def token_view_start(self, k: int) -> int:
        return self._st.token_view_start(k)


class Analysis:
    """Everything the matchers need to know about one text, computed once and shared."""

    __slots__ = ("text", "norm", "omap", "nb", "plain", "_leet", "_bang", "_lower", "_lower_stream", "results",
                 "__weakref__")

    def __init__(self, text: str) -> None:
        self.text = text
        self.norm, self.omap = fold(text)
        charge("analysis", 2 * len(self.norm))  # encode, translate
        self.nb = self.norm.encode("ascii")
        self.plain = Stream(self.nb.translate(PLAIN_TABLE))
        self._leet: Stream | None | bool = False
        self._bang: Stream | None | bool = False
        self._lower: str | None = None
        self._lower_stream: LowerStream | None = None
        self.results: dict[int, object] = {}

    @property
    def lower_stream(self) -> "LowerStream":
        """The plain stream lower-cased, sharing its offset maps."""
        if self._lower_stream is None:
            self._lower_stream = LowerStream(self.plain, self.lower)
        return self._lower_stream

    @property
    def lower(self) -> str:
        """The plain stream as a lower-case str (same offsets as ``plain.b``)."""
        if self._lower is None:
            charge("analysis", len(self.plain.b))
            self._lower = self.plain.b.lower().decode("ascii")
        return self._lower

    def _shapes(self) -> None:
        # the common answer, "no leet or mask character at all", in one C call: the text with every
        # byte deleted whose shape is a letter or a space
        charge("analysis", len(self.nb))
        if not self.nb.translate(None, _NOT_EVASIVE):
            self._leet = self._bang = None
            return
        shape = self.nb.translate(SHAPE_TABLE)
        charge("analysis", 12 * len(shape))  # the translations and the searches below
        has1 = b"1" in shape
        # a leet character touching a letter (sh1t, $hit, f**k, @ss) makes the leet reading worth it
        self._leet = Stream(self.nb.translate(LEET_TABLE)) if has1 and (b"a1" in shape or b"1a" in shape) else None
        # '!', '@', '#' or '%' between letters (sh!t, f@ck, f#ck) makes the masked reading worth it
        inner = (b"!a" in shape or (has1 and b"1a" in shape)) and (
            b"a!a" in shape or b"a!!a" in shape or b"a!!!a" in shape or b"a1a" in shape)
        self._bang = Stream(self.nb.translate(LEET_BANG_TABLE)) if inner and (
            b"!" in self.nb or b"@" in self.nb or b"#" in self.nb or b"%" in self.nb) else None

    @property
    def leet(self) -> Stream | None:
        """Leetspeak stream, or None when no leet character touches a letter."""
        if self._leet is False:
            self._shapes()
        return self._leet  # type: ignore[return-value]

    @property
    def bang(self) -> Stream | None:
        """Leetspeak stream reading '!' as 'i' and '@', '#', '%' as masks; None when none is inside a word."""
        if self._bang is False:
            self._shapes()
        return self._bang  # type: ignore[return-value]

    def to_original(self, a: int, b: int) -> tuple[int, int]:
        """Map a span of the folded text to the original text."""
        m = self.omap
        if m is None:
            return a, b
        if a >= b:
            i = m[a] if a < len(m) else len(self.text)
            return i, i
        return m[a], m[b - 1] + 1


_local = threading.local()


def analyse(text: str) -> Analysis:
    """The analysis of `text`, shared by every detector that looks at the same text in a row.

    A one-entry cache per thread: the evaluator runs several detectors over one field in turn, and
    each of them needs the same folding and streams.
    """
    last = _local.__dict__.get("last")
    if last is not None and (last.text is text or last.text == text):
        return last
    a = Analysis(text)
    _local.last = a
    return a
