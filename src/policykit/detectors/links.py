"""Links in text: extracted, normalised, and checked against named domain lists.

``links(text)`` finds ``http(s)://`` and ``ftp://`` URLs, ``www.`` addresses and bare domains with a
well-known top-level domain (``cheap-deals.biz/offer``), but not e-mail addresses. Each `Link` has:

- ``url``: normalised — scheme lower-cased (``http`` assumed when absent), host lower-cased and
  IDNA-encoded (``xn--``), default port dropped, empty path written ``/``, fragment dropped,
  trailing punctuation of the sentence (and an unbalanced closing bracket) left out;
- ``domain``: the host without a leading ``www.``;
- ``lookalike``: when the host uses confusable characters (a Cyrillic ``а`` in ``pаypal.com``), the
  ASCII host it imitates; otherwise None;
- ``start``/``end``: the span in the original text.

Domain lists are data (``data/domains/NAME.txt``, one domain a line; a listed domain covers its
subdomains). ``domain_lists()`` names them, ``domain_list(name)`` returns one, and
``in_domain_list(domain, name)`` tests a domain. A list whose file starts with ``@category NAME``
also makes `LinkDetector` report that category for links into it (``adult`` → ``obscene``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

import ahocorasick
import re2

from .base import Hit
from .normalize import Analysis, analyse
from .work import charge

__all__ = ["Link", "links", "domain_lists", "domain_list", "in_domain_list", "LinkDetector"]

# bare domains (no scheme, no www.) count only with these top-level domains: common ones, and none that
# reads as a word after a missing space ("done.it", "job.me", "today.live")
_TLDS = (
    "com|net|org|edu|gov|mil|info|biz|io|co|us|uk|au|eu|ru|cn|jp|br|mx|nz|za|ly|gl|tv|cc|gg|app|dev|"
    "xyz|online|site|shop|store|club|casino|vip|porn|xxx|adult|dating|nyc|ai|tk|ml|ga|cf|gq"
)

_URL = re2.compile(
    (
        r"(?i)(?:\b(?:https?|ftp)://[^\s<>\"'`{}|\\^]+"
        r"|\bwww\.[a-z0-9\-]+(?:\.[a-z0-9\-]+)+(?:[:/?#][^\s<>\"'`{}|\\^]*)?"
        r"|\b(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.){1,8}(?:" + _TLDS + r")\b(?:[:/?#][^\s<>\"'`{}|\\^]*)?)"
    ).encode("ascii")
)
_TRAIL = ".,;:!?'\"*"
MAX_HOST = 253  # the longest DNS name (RFC 1035), dots included
_DEFAULT_PORTS = {"http": "80", "https": "443", "ftp": "21"}


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    domain: str
    start: int
    end: int
    lookalike: str | None = None

    def __str__(self) -> str:
        return self.url


def _trim(s: str) -> str:
    """Drop sentence punctuation after a URL, and a closing bracket it did not open."""
    # the brackets are counted once, then kept up to date: counting them again for each character
    # cut would make a URL followed by a megabyte of ")" quadratic
    charge("links", 4 * len(s))
    opened = {")": s.count("("), "]": s.count("[")}
    closed = {")": s.count(")"), "]": s.count("]")}
    end = len(s)
    while end:
        c = s[end - 1]
        if c in _TRAIL:
            end -= 1
        elif c in ")]" and opened[c] < closed[c]:
            closed[c] -= 1
            end -= 1
        else:
            break
    return s[:end]


def _idna(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return host


def normalise_url(raw: str) -> tuple[str, str] | None:
    """(normalised URL, domain) for one URL as written, or None when it has no usable host."""
    charge("links", 4 * len(raw))  # split, lower-cased, IDNA-encoded, joined
    s = raw.strip()
    if "://" not in s[:10]:
        s = "http://" + s
    try:
        parts = urlsplit(s)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    host = _idna(host.rstrip(".").lower())
    scheme = parts.scheme.lower()
    netloc = host
    if port is not None and str(port) != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    path = parts.path or "/"
    url = urlunsplit((scheme, netloc, path, parts.query, ""))
    domain = host[4:] if host.startswith("www.") else host
    return url, domain


_MARKERS = ahocorasick.Automaton()
for _w in ("http", "https", "ftp", "www", *_TLDS.split("|")):
    _MARKERS.add_word(f" {_w} ", _w)
_MARKERS.make_automaton()


def _extract(an: Analysis) -> list[Link]:
    nb = an.nb
    if b"." not in nb:
        return []
    # a scheme, "www" or a top-level domain must stand as a word of the plain stream
    charge("links", 2 * len(nb))
    if next(_MARKERS.iter(an.lower), None) is None:
        return []
    out: list[Link] = []
    text = an.text
    charge("links", len(nb))
    last = 0
    for m in _URL.finditer(nb):
        a, b = m.start(), m.end()
        charge("links", 2 * (b - last) + 1)
        last = b
        if a > 0 and nb[a - 1] in b"@.-_":
            continue  # part of an e-mail address or a longer name
        if b < len(nb) and nb[b] == ord("@"):
            continue
        folded = _trim(m.group(0).decode("ascii"))
        if not folded:
            continue
        b = a + len(folded)
        oa, ob = an.to_original(a, b)
        raw = text[oa:ob]
        norm = normalise_url(raw)
        if norm is None:
            continue
        url, domain = norm
        look = None
        if not raw.isascii():
            fn = normalise_url(folded)
            if fn is not None and fn[1] != domain:
                look = fn[1]
        out.append(Link(url, domain, oa, ob, look))
    return out


def _links(text: str) -> list[Link]:
    """The links of `text`, shared (do not modify): computed once per analysed text."""
    an = analyse(text)
    cached = an.results.get(_KEY)
    if cached is None:
        cached = _extract(an)
        an.results[_KEY] = cached
    return cached  # type: ignore[return-value]


_KEY = id(_extract)


def links(text: str) -> list[Link]:
    """Every link in `text`, normalised, in order. Linear time (one RE2 pass)."""
    if not text:
        return []
    return list(_links(text))


# --------------------------------------------------------------------------------------------------
# domain lists


def _parse_domains(text: str) -> tuple[frozenset[str], str | None]:
    cat = None
    out = set()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("@category"):
            cat = line.split(None, 1)[1].strip()
            continue
        norm = normalise_url(line)
        if norm:
            out.add(norm[1])
    return frozenset(out), cat


@functools.lru_cache(maxsize=None)
def _bundled() -> dict[str, tuple[frozenset[str], str | None]]:
    root = resources.files("policykit.detectors").joinpath("data", "domains")
    lists = {}
    for entry in root.iterdir():
        if entry.name.endswith(".txt"):
            lists[entry.name[:-4]] = _parse_domains(entry.read_text(encoding="utf-8"))
    return lists


def domain_lists() -> list[str]:
    """Names of the bundled domain lists (``shorteners``, ``adult``, …)."""
    return sorted(_bundled())


def domain_list(name: str) -> frozenset[str]:
    """The domains of one bundled list. KeyError for an unknown name."""
    return _bundled()[name][0]


def _in(domain: str, domains: frozenset[str] | set[str]) -> bool:
    d = domain.lower().rstrip(".")
    if d.startswith("www."):
        d = d[4:]
    if len(d) > MAX_HOST:
        # no DNS name is longer, so no listed one: only the suffixes that fit can match (a megabyte of
        # "www." is one host of 250,000 labels; cutting one label at a time would copy it 250,000 times)
        dot = d.find(".", len(d) - MAX_HOST - 1)
        if dot < 0:
            return False
        d = d[dot + 1:]
    # the domain itself or any parent domain: at most one lookup per label
    while True:
        charge("links", len(d))
        if d in domains:
            return True
        dot = d.find(".")
        if dot < 0:
            return False
        d = d[dot + 1:]


def in_domain_list(domain: str, name_or_domains: str | Iterable[str]) -> bool:
    """Whether `domain` (or a parent domain of it) is in a bundled list or a given set of domains."""
    if isinstance(name_or_domains, str):
        doms = domain_list(name_or_domains)
    else:
        doms = frozenset(name_or_domains)
    return _in(domain, doms)


class LinkDetector:
    """Reports links into categorised domain lists (``adult`` → ``obscene``).

    ``LinkDetector(extra={"obscene": ["example-adult.test"]})`` adds domains to a category;
    ``LinkDetector(lists={"commercial_solicitation": ["spamlist"]})`` maps further bundled lists.
    """

    def __init__(self, name: str = "links", extra: Mapping[str, Iterable[str]] | None = None,
                 lists: Mapping[str, Iterable[str]] | None = None) -> None:
        self.name = name
        by_cat: dict[str, set[str]] = {}
        for lname, (doms, cat) in _bundled().items():
            if cat:
                by_cat.setdefault(cat, set()).update(doms)
        for cat, names in (lists or {}).items():
            for lname in names:
                by_cat.setdefault(cat, set()).update(domain_list(lname))
        for cat, doms in (extra or {}).items():
            for d in doms:
                n = normalise_url(d)
                if n:
                    by_cat.setdefault(cat, set()).add(n[1])
        self._by_cat = {c: frozenset(d) for c, d in by_cat.items()}
        self.categories = frozenset(self._by_cat)

    def detect(self, text: str) -> list[Hit]:
        if not text:
            return []
        found = _links(text)
        if not found:
            return []
        hits = []
        charge("links", len(found) * len(self._by_cat))
        for link in found:
            for cat, doms in self._by_cat.items():
                if _in(link.domain, doms) or (link.lookalike and _in(link.lookalike, doms)):
                    hits.append(Hit(cat, link.start, link.end, text[link.start:link.end], self.name, 0.9))
        return hits
