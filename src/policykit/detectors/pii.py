"""Personal information: social security numbers and dates of birth, and phone numbers, e-mail
addresses and home addresses *about another person*.

The category is "private, personal information about a person published without his/her consent"
(the policies' words). No detector can see consent, but the text usually says whose details they are:

- social security numbers and dates of birth are reported always: nobody needs them in a public comment;
- phone numbers, e-mail addresses and home addresses are reported only when the text attributes them to
  someone other than the writer: a third-person cue nearer to the number than any first-person one
  ("her cell is…", "his personal email is…", "Jane's phone is…", "the councilman's personal cell:…", "my
  neighbor's address is…", "call my husband on…", "text Jim at…", "…, call him day and night", "he lives
  at…", "I know where you live: …"). The writer's own details ("call me at…", "my number is…", "email me",
  "I live at…") and contact details that nobody is named for ("Text 718-204-5592 for the group chat",
  "Contact: j.smith@aol.com") are not personal information in this sense and are not reported; nor are
  an office's or a business's numbers and mailboxes (see below).

Candidates are found by RE2 expressions over the folded text (so full-width digits, confusable
letters and zero-width characters do not hide them) and then checked:

- phone numbers are parsed and validated with ``phonenumbers`` (Google's libphonenumber metadata):
  a valid number for its region, US by default, or any region when written with ``+``. Toll-free
  and premium-rate numbers are businesses', not a person's, and are not reported. Seven-digit local
  numbers count only after a word such as "call", "text", "cell" or "number". A number is parsed only
  once the text has attributed it to another person (parsing is the expensive step);
- e-mail addresses, written plainly or spelled out (``jane at gmail dot com``, ``jane[at]gmail[.]com``);
  role addresses (``info@``, ``records@``, ``support@``…) and government domains (``.gov``) are an
  office's, not a person's, and are not reported;
- social security numbers in the ``123-45-6789`` form (or nine digits after "SSN"/"social security"),
  with the number ranges the SSA never issues (area 000, 666, 900–999; group 00; serial 0000) refused;
- street addresses only where the text says another person lives there ("lives at 14 Oak Lane", "her
  address is…", "I know where you live: …"): a bare address is usually a place — the pothole on 412 Elm
  St — and "I live at…" is the writer's own;
- dates of birth only with a full date after "DOB", "date of birth", "born on" or "birthday".

Whether the person consented is beyond any detector: a policy that cares asks for a review.
"""

from __future__ import annotations

from typing import Iterable

import ahocorasick
import phonenumbers
import re2

from .normalize import Analysis
from .patterns import _UNANCHORED, _runner
from .work import charge

__all__ = ["PersonalInfoMatcher", "ROLE_MAILBOXES"]

ROLE_MAILBOXES = frozenset("""
info information contact contactus help support helpdesk service services customerservice admin
administrator office mail postmaster webmaster hostmaster abuse noreply no-reply donotreply
do-not-reply press media news newsletter marketing sales billing accounts records foil foia
publicrecords clerk cityclerk mayor council hr jobs careers feedback hello team social communications
""".split())


def _re(src: str) -> "re2._Regexp":
    opts = re2.Options()
    opts.max_mem = 32 << 20
    return re2.compile(("(?i)" + src).encode("ascii"), opts)


_TLD = r"(?:com|net|org|edu|gov|mil|us|io|co|info|biz|me|uk|ca|au|de|fr|ly|tv|app|dev|xyz|online|site|shop|us)"
_LABELS = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.|\s?[\[({]\s?(?:dot|\.)\s?[\])}]\s?| dot )){1,6}"
# `local@domain`, or spelled out (`local at domain`, `local[at]domain`), when the domain then ends in a
# well-known top-level domain: "Contact Susan at susan.patel@yahoo.com" is not "Susan at susan.patel"
_EMAIL = _re(
    r"([a-z0-9][a-z0-9._%+-]{0,63}(?: dot [a-z0-9][a-z0-9_%+-]{0,30}){0,2})(?:@(" + _LABELS + r"[a-z]{2,24})"
    r"|(?:\s?[\[({]\s?at\s?[\])}]\s?| at )(" + _LABELS + _TLD + r"))\b"
)
_DOT = _re(r"\s?[\[({]\s?(?:dot|\.)\s?[\])}]\s?| dot ")

_PHONE = _re(
    r"(\+\d{1,3}[ .\-]?(?:\(\d{1,4}\)[ .\-]?)?\d{1,4}(?:[ .\-]?\d{1,4}){1,4}"
    r"|(?:\+?1[ .\-]?)?(?:\(\d{3}\) ?|\d{3}[ .\-]?)\d{3}[ .\-]?\d{4}"
    r"|\d{3}[ .\-]\d{4})"
)
_PHONE_CONTEXT = _re(r"\b(?:call|text|txt|phone|ph|tel|cell|mobile|number|num|reach|contact|whatsapp|sms|fax|dial)\b")

_SSN = _re(r"(\d{3})[ \-](\d{2})[ \-](\d{4})")
_SSN_BARE = _re(r"(?:ssn|ss#|ss #|social security(?: number| no| #)?|social)\W{0,4}(?:is\W{1,3}|was\W{1,3})?(\d{9})")

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}\.?"
_DATE = (r"(\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2}"
         r"|" + _MONTH + r" \d{1,2}(?:st|nd|rd|th)?,? \d{4}|\d{1,2}(?:st|nd|rd|th)? (?:of )?" + _MONTH + r",? \d{4})")
_DOB = _re(r"\b(?:date of birth|d\.? ?o\.? ?b\.?|birth ?date|birthday|bday|born(?: on)?)\W{0,4}"
           r"(?:is\W{1,3}|was\W{1,3}|on\W{1,3})?" + _DATE)

_STREET = (r"(?:street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|way|"
           r"terrace|ter|circle|cir|parkway|pkwy|highway|hwy|trail|trl|square|sq|loop|row|run|pike|"
           r"crescent|cres|close|alley|plaza)")
_ADDR = (r"(\d{1,6}[a-z]?(?:[ ,]+[a-z0-9.'\-]+){1,4}[ ]+" + _STREET + r"\b\.?"
         r"(?:,?\s*(?:apt|apartment|unit|suite|ste|#)\.?\s*[a-z0-9\-]{1,6})?)")
_ADDRESS = _re(
    r"\b(?:(?:lives?|living|resides?|residing|is staying|stays)\s+(?:at|on|in)"
    r"|(?:he|she|they|you|who|family|mom|mother|dad|father|wife|husband|son|daughter|girlfriend|"
    r"boyfriend|ex|neighbou?r|guy|woman|man)\s+(?:just\s+|recently\s+|now\s+)?moved\s+(?:to|into|in\s+at)"
    r"|where\s+(?:you|he|she|they)\s+lives?\W{0,3}(?:at|on|in|\-|:)?"
    r"|(?:home|house|mailing|street|residential|personal)\s+address(?:\s+is|\s+was)?\W{0,3}"
    r"|(?:his|her|their|your)\s+address(?:\s+is|\s+was)?\W{0,3}"
    r"|[a-z]+'s\s+(?:home\s+|house\s+|mailing\s+|street\s+|new\s+|real\s+)?address(?:\s+is|\s+was)?\W{0,3}"
    r"|[a-z]+'s\s+(?:house|home|apartment|apt|place|condo)\s+(?:is\s+)?(?:at|on)\s"
    r"|(?:his|her|their|your)\s+(?:house|home|apartment|apt|place|condo|residence|door|front door|driveway)"
    r"[^0-9]{0,80}?)"
    r"\s*" + _ADDR
)
_ADDRESS_WORDS = (b"live", b"resid", b"address", b"house", b"home", b"apartment", b"apt", b"place", b"condo",
                  b"moved", b"stay", b"door", b"driveway")
# the word before "live(s) at", "moved to", "home address is"… that makes it the writer's own; only
# subjects and possessives ("the officer who ticketed me lives at…" is the officer's address)
_FIRST_PERSON = frozenset((b"i", b"we", b"my", b"our", b"i've", b"we've", b"i'd", b"we'd"))
_DOB_WORDS = (b"birth", b"dob", b"d o b", b"born", b"bday")
_DIGITS = b"0123456789"
_KIND_WORDS = ahocorasick.Automaton()
for _w in _ADDRESS_WORDS:
    _KIND_WORDS.add_word(_w.decode("ascii"), "address")
for _w in _DOB_WORDS:
    _KIND_WORDS.add_word(_w.decode("ascii"), "dob")
_KIND_WORDS.make_automaton()
_ENOUGH = 200  # candidates past this many hits are not checked (the evidence kept is capped lower)
_PARSE_BUDGET = 500  # full libphonenumber checks per text; past it, a structural check (hostile input)


def _nanp_plausible(digits: str) -> str | bool:
    """A structural check of a North American number, for candidates past the parse budget."""
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) != 10:
        return False
    npa, nxx = digits[:3], digits[3:6]
    if npa[0] in "01" or nxx[0] in "01" or npa[1:] == "11" or npa == "555" or npa[0] == "8" and npa[1] == npa[2]:
        return False
    return "plausible"
# a number given by an office or a business, not a person
_ORG_CONTEXT = _re(
    r"\b(?:call|text|contact|reach|phone|dial|message) us\b|\bour (?:office|offices|number|phone|hotline|line|"
    r"team|store|shop|staff|customer)\b|\b(?:business|office|opening) hours\b|\bhotline\b|\binc\b|\bllc\b|"
    r"\bcustomer service\b|\bfree (?:quote|quotes|estimate|estimates|consultation)\b|\bdepartment\b|"
    r"\bcity hall\b|\b311\b|\bdispatch\b|\bnon emergency\b|\bnon-emergency\b"
)
# -- whose details: the nearest personal cue before a number or address (or, failing that, the first
# one just after it) says whose it is. Third-person alternatives come first, so that "my neighbor" is
# read as the neighbor, not as "my".
_RELATIVES = (r"(?:neighbou?rs?|landlord|landlady|boss|ex|ex-?wife|ex-?husband|wife|husband|spouse|partner|mom|"
              r"mum|mother|dad|father|son|daughter|brother|sister|kid|kids|child|teacher|coworker|co-worker|"
              r"roommate|tenant|friend|girlfriend|boyfriend|cousin|aunt|uncle|grandma|grandmother|grandpa|"
              r"grandfather|nephew|niece|guy|man|woman|lady|dude|driver|owner|officer|cop|deputy|councilman|"
              r"councilwoman|councilmember|councilor|mayor|manager|supervisor|inspector|principal|coach|pastor|"
              r"contractor|nanny|babysitter|employee|worker|director|commissioner|judge|clerk|chief|sheriff|"
              r"superintendent|trustee|alderman|senator|politician|candidate|"
              r"gentleman|creep|thief|jerk|idiot|moron|scumbag|clown)")
_CONTACT_NOUN = (r"(?:number|phone|phone number|cell|cell number|cellphone|mobile|digits|e-?mail|e-?mail address|"
                 r"address|home address|addy|home|house|contact info|info|whatsapp|socials)")
_CUE = _re(
    r"(?P<third>"
    r"\b(?P<owner>[a-z]+)'s\s+(?:(?:personal|private|home|cell|work|mobile|phone|e-?mail|real|direct|new|old|"
    r"actual|house|street|mailing)\s+){0,2}" + _CONTACT_NOUN + r"\b"
    r"|\b(?:my|our|your|the|a|an|this|that|that\s+[a-z]+|this\s+[a-z]+)\s+(?:[a-z]+'s\s+)?" + _RELATIVES + r"\b"
    r"|\b(?:call|text|txt|reach|contact|email|e-mail|message|ring|phone|dm|ask for|ask)\s+"
    r"(?-i:(?:Mr|Mrs|Ms|Dr)\.?\s+)?(?-i:[A-Z][a-z]+)(?:\s+(?-i:[A-Z][a-z]+))?\s+(?:at|on)\b"
    r"|\b(?:his|her|hers|him|he|she|their)\b"
    r")"
    r"|(?P<self>\b(?:me|my|mine|myself|i|im|we|us|our|ours)\b)"
)
_AFTER_CUE = _re(r"\b(?:(?P<third>his|her|him|he|she|hers)|(?P<self>me|my|mine|i|im|we|us|our))\b")
# possessors that are no person ("it's number", "here's email" are not somebody's)
_NOT_OWNERS = frozenset("""
it that what here there who let he she where how one everyone everybody someone somebody today
tonight name s this
""".split())


def _gi(rx: "re2._Regexp", name: str) -> int:
    for k, v in rx.groupindex.items():
        if k in (name, name.encode("ascii")):
            return v
    raise KeyError(name)


_CUE_THIRD, _CUE_OWNER = _gi(_CUE, "third"), _gi(_CUE, "owner")
_AFTER_THIRD = _gi(_AFTER_CUE, "third")
_BEFORE = 70  # characters of context read before a candidate
_AFTER = 40   # and after it


_SENT_TABLE = bytes(
    ord(".") if chr(c) in ".!?;" else ord("N") if chr(c) == "\n" else ord(" ") if chr(c) in " \t\r\f\v" else ord("x")
    for c in range(256))
_TITLES = frozenset(b"mr mrs ms dr st jr sr lt sgt rev gov sen rep apt ave no".split())
_CUE_FIND = _runner(_CUE, None)[0]
_EMAIL_FIND = _runner(_EMAIL, None)[0]  # google-re2's C method where it is there: no Match objects
_AFTER_FIND = _runner(_AFTER_CUE, None)[0]


def _sentence_start(window: bytes) -> int:
    """Where the last sentence of `window` starts: after the last ".", "!", "?" or ";" followed by white
    space (not a title's full stop: "Mrs. Grant, her cell is…") or after the last line break."""
    t = window.translate(_SENT_TABLE)
    start = t.rfind(b"N") + 1
    k = len(t)
    while True:
        i = t.rfind(b". ", start, k)
        if i < 0:
            return start
        word = window[:i].rsplit(None, 1)[-1:] or [b""]
        if word[0].lower().lstrip(b"(\"'") not in _TITLES:
            return i + 2
        k = i


def _attributed(nb: bytes, a: int, b: int) -> bool:
    """Whether the text attributes the details at [a, b) to somebody other than the writer: the nearest
    personal cue in the same sentence before them is a third-person one (or, when there is none, the
    first one just after them is). Constant work per candidate: the context read is bounded."""
    lo = max(0, a - _BEFORE)
    window = nb[lo:a]
    charge("personal_information", 4 * (len(window) + _AFTER))
    before = window[_sentence_start(window):]
    third = None
    pos, end = 0, len(before)
    while pos <= end:
        spans = _CUE_FIND(_UNANCHORED, before, pos, end)
        s0, e0 = spans[0]
        if s0 < 0:
            break
        pos = e0 if e0 > pos else pos + 1
        if spans[_CUE_THIRD][0] >= 0:
            os_, oe = spans[_CUE_OWNER]
            if os_ >= 0 and before[os_:oe].lower().decode("ascii") in _NOT_OWNERS:
                continue
            third = True
        else:
            third = False
    if third is not None:
        return third
    after = nb[b:b + _AFTER]
    t = after.translate(_SENT_TABLE)
    cut = min((i for i in (t.find(b". "), t.find(b"N")) if i >= 0), default=-1)
    if cut >= 0:
        after = after[:cut]
    spans = _AFTER_FIND(_UNANCHORED, after, 0, len(after))
    return spans[0][0] >= 0 and spans[_AFTER_THIRD][0] >= 0


_EMAIL_CONTEXT = _re(r"\b(?:e-?mail|contact|reach|write|message|send|questions?)\b(?: (?:me|him|her|us|them))?(?: at| to)?\W*$")


class PersonalInfoMatcher:
    """Finds personal information in an analysed text. Immutable; safe to share."""

    categories = frozenset({"personal_information"})

    def __init__(self, region: str = "US", allow: Iterable[str] = ()) -> None:
        self.region = region
        allowed = set()
        for a in allow:
            a = a.strip().lower()
            digits = "".join(ch for ch in a if ch.isdigit())
            allowed.add(a)
            if digits and "@" not in a:
                allowed.add(digits)
        self.allow = frozenset(allowed)

    # -- each kind -----------------------------------------------------------------------------

    def _emails(self, an: Analysis, hits: list) -> None:
        nb = an.nb
        if b"@" not in nb:
            low = an.lower
            if " at " not in low or not (" dot " in low or " com " in low or " net " in low
                                         or " org " in low or " edu " in low):
                return
        pos, n = 0, len(nb)
        while pos <= n:
            if len(hits) >= _ENOUGH:
                return
            spans = _EMAIL_FIND(_UNANCHORED, nb, pos, n)  # C-level: no Match objects in an e-mail flood
            ms, me = spans[0]
            if ms < 0:
                charge("personal_information", n - pos)
                return
            charge("personal_information", 3 * (me - pos) + 30)  # the search, the groups, the context
            pos = me if me > pos else pos + 1
            (ls, le), (d2s, d2e), (d3s, d3e) = spans[1], spans[2], spans[3]
            ds, de = (d2s, d2e) if d2s >= 0 else (d3s, d3e)
            local = nb[ls:le].decode("ascii").lower()
            raw_domain = nb[ds:de].decode("ascii").lower()
            domain = _DOT.sub(".", raw_domain) if d3s >= 0 or not raw_domain.replace(".", "").replace("-", "").isalnum() \
                else raw_domain
            if "." not in domain:
                continue
            joint = nb[le:ds]
            if joint == b" at " and " dot " not in raw_domain:
                # "look at gmail.com" is not an address; "email bob.smith at gmail.com" is
                if "." not in local and not _EMAIL_CONTEXT.search(nb[max(0, ms - 30):ms]):
                    continue
            if local in ROLE_MAILBOXES or local.split("+")[0] in ROLE_MAILBOXES:
                continue
            if domain.endswith(".gov") or domain.endswith(".mil"):
                continue
            if f"{local}@{domain}" in self.allow or domain in self.allow:
                continue
            if not _attributed(nb, ms, me):
                continue  # the writer's own address, or nobody's in particular
            spelled = d3s >= 0
            hits.append(("personal_information", ms, me, 0.85 if spelled else 0.95, "email"))

    def _validate(self, cand: str) -> bool:
        """A valid number of a person (not toll-free, premium or shared-cost), per libphonenumber."""
        try:
            num = phonenumbers.parse(cand, self.region)
        except phonenumbers.NumberParseException:
            return False
        kind = phonenumbers.number_type(num)  # UNKNOWN for an invalid number (is_valid_number's own test)
        if kind == phonenumbers.PhoneNumberType.UNKNOWN:
            return False
        if kind in (phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE,
                    phonenumbers.PhoneNumberType.SHARED_COST, phonenumbers.PhoneNumberType.UAN):
            return False
        if self.allow and phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164).lstrip("+") in {
                x.lstrip("+") for x in self.allow}:
            return False
        return True

    def _phones(self, an: Analysis, hits: list) -> None:
        nb = an.nb
        n = len(nb)
        seen: dict[str, object] = {}  # candidate digits → verdict, within this text
        attributions: dict[tuple[int, int], bool] = {}
        budget = _PARSE_BUDGET
        last = 0
        for m in _PHONE.finditer(nb):
            if len(hits) >= _ENOUGH:
                return  # evidence is capped anyway; do not parse thousands of numbers
            a, b = m.start(1), m.end(1)
            charge("personal_information", 2 * (b - last) + 160)  # the search, the context windows
            last = b
            # not part of a longer number, a date, a price or a code
            if a > 0 and (chr(nb[a - 1]).isalnum() or nb[a - 1] in b"$/#"):
                continue
            if b < n and (chr(nb[b]).isalnum() or (nb[b] in b"/" )):
                continue
            cand = m.group(1).decode("ascii")
            digits = "".join(ch for ch in cand if ch.isdigit())
            if digits in self.allow or cand.lower() in self.allow:
                continue
            if _ORG_CONTEXT.search(nb[max(0, a - 80):min(n, b + 40)]):
                continue  # an office's or a business's number
            if len(digits) == 7:  # a local number: only where the text says it is one
                ctx = nb[max(0, a - 40):a]
                if not _PHONE_CONTEXT.search(ctx) or not _attributed(nb, a, b):
                    continue
                hits.append(("personal_information", a, b, 0.8, "phone"))
                continue
            attributed = attributions.get((a, b))
            if attributed is None:
                attributed = attributions[(a, b)] = _attributed(nb, a, b)
            if not attributed:
                continue  # the writer's own number, or nobody's in particular: not parsed at all
            key = digits if not cand.startswith("+") else "+" + digits
            verdict = seen.get(key)
            if verdict is None:
                if budget > 0:
                    budget -= 1
                    verdict = self._validate(cand)
                else:
                    verdict = _nanp_plausible(digits)  # past the budget: structure only
                seen[key] = verdict
            if not verdict:
                continue
            score = 0.9 if verdict is True else 0.6
            hits.append(("personal_information", a, b, score, "phone"))

    def _ssns(self, an: Analysis, hits: list) -> None:
        nb = an.nb
        n = len(nb)
        charge("personal_information", 2 * n)  # both searches read the whole text
        for m in _SSN.finditer(nb):
            a, b = m.start(), m.end()
            charge("personal_information", 1)
            if (a > 0 and (chr(nb[a - 1]).isalnum() or nb[a - 1] in b"-")) or (b < n and (chr(nb[b]).isalnum() or nb[b] in b"-")):
                continue
            area, group, serial = (int(x) for x in m.groups())
            if area == 0 or area == 666 or area >= 900 or group == 0 or serial == 0:
                continue
            if m.group(0).decode("ascii") in self.allow:
                continue
            hits.append(("personal_information", a, b, 0.95, "ssn"))
        for m in _SSN_BARE.finditer(nb):
            a, b = m.start(1), m.end(1)
            charge("personal_information", 1)
            if b < n and chr(nb[b]).isdigit():
                continue
            d = m.group(1).decode("ascii")
            if d[:3] in ("000", "666") or d[0] == "9" or d[3:5] == "00" or d[5:] == "0000":
                continue
            hits.append(("personal_information", a, b, 1.0, "ssn"))

    def _dobs(self, an: Analysis, hits: list) -> None:
        charge("personal_information", len(an.nb))
        for m in _DOB.finditer(an.nb):
            charge("personal_information", 1)
            hits.append(("personal_information", m.start(1), m.end(1), 0.9, "date_of_birth"))

    def _addresses(self, an: Analysis, hits: list) -> None:
        nb = an.nb
        charge("personal_information", len(nb))
        for m in _ADDRESS.finditer(nb):
            charge("personal_information", 24)
            # "I live at…", "we just moved to…", "my home address is…": the writer's own
            words = nb[max(0, m.start() - 24):m.start()].split()
            if words and words[-1].lower().strip(b",;:") in _FIRST_PERSON and b"'s" not in nb[m.start():m.start(1)]:
                continue
            hits.append(("personal_information", m.start(1), m.end(1), 0.85, "address"))

    def match(self, an: Analysis) -> tuple[list, list]:
        hits: list = []
        nb = an.nb
        charge("personal_information", len(nb))
        self._emails(an, hits)
        digits = len(nb) - len(nb.translate(None, _DIGITS))
        if digits:
            if digits >= 7:
                self._phones(an, hits)
                if digits >= 9:
                    self._ssns(an, hits)
            # which of the worded kinds can be there at all: one automaton pass over the stream
            charge("personal_information", len(an.lower))
            kinds = {k for _, k in _KIND_WORDS.iter(an.lower)}
            if digits >= 4 and "dob" in kinds:
                self._dobs(an, hits)
            if "address" in kinds:
                self._addresses(an, hits)
        if not hits:
            return hits, []
        # a phone number inside an SSN-shaped or e-mail-shaped match, etc.: keep the first kind only
        hits.sort(key=lambda h: (h[1], -h[2]))
        out = []
        last_end = -1
        for h in hits:
            if h[1] < last_end:
                continue
            out.append((h[0], h[1], h[2], h[3], None))
            last_end = h[2]
        return out, []
