"""Hostile comments, by name: each a function of the size wanted (in characters).

Shared by tests/detectors/test_linear_work.py (operation counts) and benchmarks/bench_hostile_text.py
(time per megabyte). Each one aims at a place where a detector could do more than linear work: a
megabyte of dotted host names or of ``www.`` (one host of 250,000 labels), spaced letters (one run of
a quarter of a million one-letter tokens), runs of leet characters, of ``@`` and ``#``, of digits in
phone and SSN shapes, one huge token, many URLs and e-mail addresses, deep combining marks,
confusables, and floods of what the detectors report.
"""

from __future__ import annotations

from typing import Callable


def _repeat(unit: str) -> Callable[[int], str]:
    # whole units only: a text cut inside a unit ends differently at each size ("hell's k" ends in two
    # one-letter tokens, which switches on the spaced-letter reading), and its work is then no ratio
    def build(n: int) -> str:
        return unit * max(1, n // len(unit))

    return build


def _after(prefix: str, unit: str) -> Callable[[int], str]:
    def build(n: int) -> str:
        return prefix + _repeat(unit)(max(0, n - len(prefix)))

    return build


HOSTILE: dict[str, Callable[[int], str]] = {
    "dotted host names": _repeat("mail.city-hall.example.com."),
    "dotted letters": _repeat("a.b.c.d.e.f.g.h.i.j.com."),
    "www. repeated": _repeat("www."),
    "host names": _repeat("mail.example.com "),
    "urls": _repeat("http://a.co/x?y=1 "),
    "url then brackets": _after("http://a.co/", ")"),
    "url then punctuation": _after("http://a.co/", ".,;"),
    "spaced letters": _repeat("f u c k "),
    "spaced words": _repeat("y o u a r e a s h i t "),
    "dotted swear": _repeat("s.h.i.t "),
    "glued": _repeat("sh-i-t f---ing "),
    "hyphen run": _repeat("a-"),
    "leet run": _repeat("4$$h0l3"),
    "leet characters": _repeat("1337@$$|+*"),
    "at signs": _repeat("@"),
    "hashes": _repeat("#"),
    "mentions and entities": _repeat("@mayor #city &amp; "),
    "masks": _repeat("f*ck sh!t f@ck "),
    "stars": _repeat("f*"),
    "repeated letters": _repeat("fuuuuuuuuuuuuck "),
    "triples": _repeat("www "),
    "digits": _repeat("1"),
    "phone numbers": _repeat("her cell is 315-555-0134 "),
    "bare phone numbers": _repeat("315-555-0134 "),
    "ssn shapes": _repeat("123-45-6789 "),
    "bare ssns": _repeat("ssn 123456789 "),
    "emails": _repeat("a.b@c.co "),
    "spelled emails": _repeat("jane at gmail dot com "),
    "dates of birth": _repeat("dob 01/02/1990 "),
    "addresses": _repeat("her address is 14 Oak Lane "),
    "one huge token": _repeat("x"),
    "swearing": _repeat("fuck "),
    "exempt phrases": _repeat("hell's kitchen "),
    "threats": _repeat("I will kill you "),
    "names": _repeat("Vote for Jane Smith "),
    "combining marks": _repeat("a" + "\u0301\u0302\u0303\u0304" * 8),
    "confusables": _repeat("fuсk ｆｕｃｋ раураl.com "),
    "zero width": _repeat("f\u200bu\u200bc\u200bk "),
    "emoji": _repeat("🙂"),
    "cjk": _repeat("中文"),
    "newlines": _repeat("a\n"),
    "mixed": _repeat("The pothole on Main St is huge! Call 315-447-2291 or enter our raffle. "),
}
