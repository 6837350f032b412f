"""Personal information: phone numbers, e-mail addresses, US social security numbers, residential
street addresses and dates of birth.

Candidates are found by RE2 expressions over the folded text (so full-width digits, confusable
letters and zero-width characters do not hide them) and then checked:

- phone numbers are parsed and validated with ``phonenumbers`` (Google's libphonenumber metadata):
  a valid number for its region, US by default, or any region when written with ``+``. Toll-free
  and premium-rate numbers are businesses', not a person's, and are not reported. Seven-digit local
  numbers count only after a word such as "call", "text", "cell" or "number";
- e-mail addresses, written plainly or spelled out (``jane at gmail dot com``, ``jane[at]gmail[.]com``);
  role addresses (``info@``, ``records@``, ``support@``…) and government domains (``.gov``) are an
  office's, not a person's, and are not reported;
- social security numbers in the ``123-45-6789`` form (or nine digits after "SSN"/"social security"),
  with the number ranges the SSA never issues (area 000, 666, 900–999; group 00; serial 0000) refused;
- street addresses only where the text says a person lives there ("lives at 14 Oak Lane", "her address
  is…", "I know where you live: …"): a bare address is usually a place — the pothole on 412 Elm St —
  and not personal information;
- dates of birth only with a full date after "DOB", "date of birth", "born on" or "birthday".

Whether the person consented is beyond any detector: a policy that cares asks for a review.
"""

from __future__ import annotations

from typing import Iterable

import phonenumbers
import re2

from .normalize import Analysis

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
_EMAIL = _re(
    r"([a-z0-9][a-z0-9._%+-]{0,63})(?:@|\s?[\[({]\s?at\s?[\])}]\s?| at )"
    r"((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.|\s?[\[({]\s?(?:dot|\.)\s?[\])}]\s?| dot ))"
    r"{1,6}[a-z]{2,24})\b"
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
    r"|(?:he|she|they|you|i|we|who|family|mom|mother|dad|father|wife|husband|son|daughter|girlfriend|"
    r"boyfriend|ex|neighbou?r|guy|woman|man)\s+(?:just\s+|recently\s+|now\s+)?moved\s+(?:to|into|in\s+at)"
    r"|where\s+(?:you|he|she|they)\s+lives?\W{0,3}(?:at|on|in|\-|:)?"
    r"|(?:home|house|mailing|street|residential|personal)\s+address(?:\s+is|\s+was)?\W{0,3}"
    r"|(?:his|her|their|my|your)\s+address(?:\s+is|\s+was)?\W{0,3}"
    r"|(?:his|her|their|my|your)\s+(?:house|home|apartment|apt|place|condo|residence|door|front door|driveway)"
    r"[^0-9]{0,80}?)"
    r"\s*" + _ADDR
)
_ADDRESS_WORDS = (b"live", b"resid", b"address", b"house", b"home", b"apartment", b"apt", b"place", b"condo",
                  b"moved", b"stay", b"door", b"driveway")
_DOB_WORDS = (b"birth", b"dob", b"d o b", b"born", b"bday")
_DIGITS = b"0123456789"
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
        for m in _EMAIL.finditer(nb):
            if len(hits) >= _ENOUGH:
                return
            local = m.group(1).decode("ascii").lower()
            raw_domain = m.group(2).decode("ascii").lower()
            domain = _DOT.sub(".", raw_domain)
            if "." not in domain:
                continue
            joint = nb[m.end(1):m.start(2)]
            if joint == b" at " and " dot " not in raw_domain:
                # "look at gmail.com" is not an address; "email bob.smith at gmail.com" is
                if "." not in local and not _EMAIL_CONTEXT.search(nb[max(0, m.start() - 30):m.start()]):
                    continue
            if local in ROLE_MAILBOXES or local.split("+")[0] in ROLE_MAILBOXES:
                continue
            if domain.endswith(".gov") or domain.endswith(".mil"):
                continue
            if f"{local}@{domain}" in self.allow or domain in self.allow:
                continue
            spelled = b"@" not in m.group(0)
            hits.append(("personal_information", m.start(), m.end(), 0.85 if spelled else 0.95, "email"))

    def _validate(self, cand: str) -> bool:
        """A valid number of a person (not toll-free, premium or shared-cost), per libphonenumber."""
        try:
            num = phonenumbers.parse(cand, self.region)
        except phonenumbers.NumberParseException:
            return False
        if not phonenumbers.is_valid_number(num):
            return False
        kind = phonenumbers.number_type(num)
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
        budget = _PARSE_BUDGET
        for m in _PHONE.finditer(nb):
            if len(hits) >= _ENOUGH:
                return  # evidence is capped anyway; do not parse thousands of numbers
            a, b = m.start(1), m.end(1)
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
                if not _PHONE_CONTEXT.search(ctx):
                    continue
                hits.append(("personal_information", a, b, 0.8, "phone"))
                continue
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
        for m in _SSN.finditer(nb):
            a, b = m.start(), m.end()
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
            if b < n and chr(nb[b]).isdigit():
                continue
            d = m.group(1).decode("ascii")
            if d[:3] in ("000", "666") or d[0] == "9" or d[3:5] == "00" or d[5:] == "0000":
                continue
            hits.append(("personal_information", a, b, 1.0, "ssn"))

    def _dobs(self, an: Analysis, hits: list) -> None:
        for m in _DOB.finditer(an.nb):
            hits.append(("personal_information", m.start(1), m.end(1), 0.9, "date_of_birth"))

    def _addresses(self, an: Analysis, hits: list) -> None:
        for m in _ADDRESS.finditer(an.nb):
            hits.append(("personal_information", m.start(1), m.end(1), 0.85, "address"))

    def match(self, an: Analysis) -> tuple[list, list]:
        hits: list = []
        nb = an.nb
        self._emails(an, hits)
        digits = len(nb) - len(nb.translate(None, _DIGITS))
        if digits:
            low = nb.lower()
            if digits >= 7:
                self._phones(an, hits)
                if digits >= 9:
                    self._ssns(an, hits)
            if digits >= 4 and any(w in low for w in _DOB_WORDS):
                self._dobs(an, hits)
            if any(w in low for w in _ADDRESS_WORDS):
                self._addresses(an, hits)
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
