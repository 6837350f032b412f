"""The built-in detectors: interface, categories, evasions, traps, extension API, links, and the
dev-set bar (a regression guard; the benchmark prints the full table)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policykit.detectors import (
    BUILTIN_DETECTORS,
    Detector,
    Hit,
    LinkDetector,
    PersonalInfoDetector,
    WordListDetector,
    default_detectors,
    domain_list,
    domain_lists,
    fold,
    in_domain_list,
    links,
)
from policykit.detectors.lexicon import Lexicon, parse_terms
from policykit.detectors.patterns import parse_patterns, required_atoms

VOCABULARY = {
    "profanity", "obscene", "sexual_harassment", "harassment", "hate_speech", "discrimination", "threat",
    "violence", "illegal_activity", "commercial_solicitation", "political_endorsement", "contest",
    "personal_information", "service_request", "records_request",
}
DATA = Path(__file__).resolve().parents[1] / "data"
DETECTORS = default_detectors()


def categories(text: str, detectors=DETECTORS) -> set[str]:
    return {h.category for d in detectors for h in d.detect(text)}


def hits(text: str, detectors=DETECTORS) -> list[Hit]:
    return [h for d in detectors for h in d.detect(text)]


# -- interface -------------------------------------------------------------------------------------


def test_default_detectors_follow_the_protocol():
    names = [d.name for d in DETECTORS]
    assert len(names) == len(set(names))
    covered = set()
    for d in DETECTORS:
        assert isinstance(d, Detector)
        assert isinstance(d.categories, frozenset) and d.categories
        covered |= d.categories
        assert d.detect("") == []
    assert VOCABULARY <= covered
    assert covered <= VOCABULARY


def test_hits_carry_evidence():
    text = "What the hell, her cell is (612) 555-0198"
    found = hits(text)
    assert {h.category for h in found} == {"profanity", "personal_information"}
    for h in found:
        assert isinstance(h, Hit)
        assert text[h.start:h.end] == h.match
        assert 0.0 < h.score <= 1.0
        assert h.detector in {d.name for d in DETECTORS}


# -- each category: one clear positive, one near miss ---------------------------------------------

CASES = [
    ("profanity", "This is bullshit, fix the roads.", "This is a bull market, fix the roads."),
    ("obscene", "Free porn at the link in my bio", "The council approved the new library hours."),
    ("threat", "I will kill you if you tow my car again.", "This heat is going to kill my garden."),
    ("violence", "Those protesters should all be shot.", "Those photographers should all be thanked."),
    ("hate_speech", "Go back to Mexico, nobody wants you here.", "We went back to Mexico for vacation."),
    ("discrimination", "No Mexicans allowed in this neighborhood.", "No dogs allowed in the splash pad."),
    ("harassment", "You're an idiot, Councilman Harris.", "I'm not an idiot, I read the proposal."),
    ("sexual_harassment", "Nice tits, Councilwoman.", "Nice work, Councilwoman."),
    ("illegal_activity", "Selling weed and pills, DM me for prices", "The dispensary opened on Main Street."),
    ("commercial_solicitation", "Use promo code CITY20 for 20% off your first order!",
     "Thank you to our sponsors for making the festival possible."),
    ("political_endorsement", "Vote for Maria Gonzalez for City Council!",
     "The council will vote on the budget amendment next Tuesday."),
    ("contest", "Enter our raffle for a chance to win a $100 gift card!",
     "I want to contest my parking ticket, how do I do that?"),
    ("personal_information", "Her SSN is 078-05-1120 and she lives at 42 Birch Lane.",
     "The pothole at 412 Elm Street is on case 2023-CV-001234."),
    ("service_request", "There's a huge pothole on Genesee St near the light.",
     "Potholes are a big topic at tonight's council meeting."),
    ("records_request", "This is a FOIL request for all emails between the mayor and Acme.",
     "Wrap leftovers in aluminum foil, says the health department."),
]


@pytest.mark.parametrize("category,positive,negative", CASES, ids=[c[0] for c in CASES])
def test_category_positive_and_near_miss(category, positive, negative):
    assert category in categories(positive)
    assert category not in categories(negative)


# -- evasions ----------------------------------------------------------------------------------------

EVASIONS = [
    "f u c k this city",          # spaced
    "F.U.C.K the new meters",     # punctuated
    "f-u-c-k the meters",
    "sh-i-t decision",            # chunks glued by hyphens
    "sh1t service",               # leetspeak
    "$hit roads",
    "sh!t like this",
    "F@ck the new rules",         # masking symbols
    "the f*cking construction",
    "a f**king joke",
    "are you f---ing kidding",
    "fuuuuuuck the budget",       # repeated letters
    "shiiiiit",
    "ｆｕｃｋ the fees",          # full-width (compatibility forms)
    "fuсk (Cyrillic es)",         # confusable letter
    "𝐟𝐮𝐜𝐤 the fees",             # mathematical bold
    "f\u200buck the fees",        # zero-width space
    "f\u00adu\u200dck the fees",  # soft hyphen and zero-width joiner
    "fu\u0301ck the fees",        # combining mark
    "What the fück",              # accented letter
]


@pytest.mark.parametrize("text", EVASIONS)
def test_profanity_evasions_are_caught(text):
    found = [h for h in hits(text) if h.category == "profanity"]
    assert found, text
    for h in found:
        assert text[h.start:h.end] == h.match


def test_evidence_spans_point_into_the_original_text():
    text = "ok 👍 ｆｕｃｋ\u200b and fuсk, then f\u200bu\u200bc\u200bk!"
    found = [h for h in hits(text) if h.category == "profanity"]
    assert [h.match for h in found] == ["ｆｕｃｋ", "fuсk", "f\u200bu\u200bc\u200bk"]


def test_leet_threat_and_spaced_threat():
    assert "threat" in categories("I'll k1ll you, you bureaucratic rat.")
    assert "threat" in categories("I'm gonna k i l l the next person who parks in my spot.")


# -- threat constructions beyond "I will <harm> <person>" ---------------------------------------------

@pytest.mark.parametrize("text", [
    "gonna firebomb the tax office tomorrow",                           # explosives/arson, no subject
    "Somebody needs to plant a bomb under the county building.",        # a call to do it
    "I'll drive over to the school board office and stab somebody.",    # going somewhere to do harm
    "We're bringing our rifles to the next council meeting.",           # bringing a weapon
    "I will drive my truck into the protesters on Saturday.",
    "Keep it up and I'll break your legs, councilman.",
])
def test_threat_constructions(text):
    assert "threat" in categories(text), [(h.category, h.match) for h in hits(text)]


@pytest.mark.parametrize("text", [
    "Everyone blow up the mayor's phone lines tomorrow!",     # calls, not a bomb
    "We are going to blow up his inbox until he answers.",
    "That intersection is going to kill someone, add a light.",  # a warning, not a threat
    "Budget cuts will gut the parks department.",             # an idiom about a department
    "The fireworks will light up the whole town hall plaza.",
])
def test_threat_near_misses(text):
    assert "threat" not in categories(text), [(h.category, h.match) for h in hits(text)]


def test_contest_entry_mechanics_and_prizes():
    assert "contest" in categories("Share with a neighbor to enter!")
    assert "contest" in categories("Win one of two season passes to the zoo this weekend")
    assert "contest" not in categories("I would like to win the argument about the bike lanes.")


def test_abbreviated_swearing():
    assert "profanity" in categories("what an f-ing mess on Route 9")
    assert "profanity" not in categories("I got an F in chemistry and an A in history.")


# -- the Scunthorpe problem ----------------------------------------------------------------------------

TRAPS = [
    "I grew up in Scunthorpe.",
    "We visited Essex, Sussex and Middlesex.",
    "My daughter loves her class at the community center.",
    "I assume the parade route is the same.",
    "Dick Van Dyke was on TV last night.",
    "The high school's production of Moby Dick was outstanding.",
    "Hell's Kitchen restaurants did well at the festival.",
    "My grandson graduated summa cum laude.",
    "Coon Rapids is hosting the meeting.",
    "The cocktail reception at Hancock Airport was nice.",
    "Shiitake mushrooms are for sale at the market.",
    "The therapist at the senior center is wonderful.",
    "Tit for tat politics won't fix the roads.",
    "Saw a blue tit at the bird sanctuary.",
    "The analyst presented the budget analysis.",
    "The Penistone exchange students visited.",
    "The Cockburn family has lived here for generations.",
    "He'll be at the meeting and we'll see you there.",
    "Drop dead gorgeous sunrise this morning.",
]


@pytest.mark.parametrize("text", TRAPS)
def test_scunthorpe_traps_are_clean(text):
    assert not categories(text), [(h.category, h.match) for h in hits(text)]


def test_dick_is_still_caught_outside_a_name():
    assert "profanity" in categories("that's a dick move, closing the library")
    assert "profanity" in categories("DICK")


# -- personal information ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "My neighbor Kyle's number is (612) 555-0198, tell him to move his car.",
    "Her cell is 315 422 8876, call her and complain.",
    "Here's the councilman's personal cell: 212.639.9675, blow it up.",
    "His personal email is jenny.hobbs84@gmail.com, tell him what you think.",
    "Contact the landlord at rkellerman@hotmail.com, he ignores everyone.",
    "Contact Susan at susan.patel@yahoo.com for the PTA meeting.",
    "his email is mark dot stevens at yahoo dot com",
    "her email: tony[at]gmail[dot]com",
    "You can call my husband on 585-301-6644 about the tree.",
    "Mayor Smith: 315-422-8876, call him day and night",
    "My kid's teacher Mrs. Grant, her cell is 315 422 8876, is not answering.",
    "📞 ３１５－４４７－２２９１ is her number",
    "My social security number is 219-09-8999",   # SSNs always, whoever's they are
    "SSN 123456789 is on the form",
    "His DOB is 04/12/1979",                       # dates of birth always
    "My date of birth is 02/11/1958 and the DMV still says I'm 30.",
    "Date of birth: March 3, 1962",
    "The guy who hit my car lives at 1187 Westcott Street, apartment 3.",
    "I know where you live, 77 Harmon Rd. Watch yourself.",
    "My neighbor's address is 14 Maple Ct, go tell him.",
])
def test_personal_information_found(text):
    found = [h for h in hits(text) if h.category == "personal_information"]
    assert found, text
    for h in found:
        assert text[h.start:h.end] == h.match


@pytest.mark.parametrize("text", [
    "Call 1-800-555-0199 to report a gas leak.",          # toll free
    "Email info@cityofclinton.org for permit questions.",  # role mailbox
    "Contact the city clerk at clerk@clintoncity.gov.",    # government
    "The pothole at 412 Elm Street is still there.",       # an address, not where someone lives
    "Order #4419238812 still hasn't shipped.",             # not a phone number
    "The hearing is on 03/14/2025 at 6:30 PM.",           # a date, not a birth date
    "SSN 000-12-3456 is not a real number",                # never issued
    "Our office hours are 9-5, call (315) 448-8200 for help.",
    # the writer's own details, given freely: not personal information about another person
    "Call me at (612) 555-0198 about the zoning issue.",
    "my phone number is 212-555-0147 call anytime",
    "📞 ３１５－４４７－２２９１ call me",
    "Email me at jenny.hobbs84@gmail.com and I'll send you the petition.",
    "Reach me at tony[at]gmail[dot]com",
    "I live at 42 Birch Lane and the plow skipped us again.",
    "Meet at my place, 25 Lincoln Ave, for the neighborhood watch.",
    "My home address is 88 Grove St, please send the permit there.",
    "I told her about it, you can text me at 801-377-2190.",   # the nearest cue is the writer's
    # contact details nobody is named for
    "Text 718-204-5592 for the neighborhood group chat.",
    "Contact: j.smith1970@aol.com, 651-230-8891",
])
def test_personal_information_near_misses(text):
    assert "personal_information" not in categories(text), [(h.category, h.match) for h in hits(text)]


def test_personal_information_is_about_another_person():
    # the same number: reported when the text says it is someone else's, not when it is the writer's
    assert "personal_information" in categories("Her number is 315-420-7788, call her.")
    assert "personal_information" not in categories("My number is 315-420-7788, call me.")
    # the nearest cue decides: the writer's own number after talking about someone else
    assert "personal_information" not in categories("She asked about the tree; you can call me at 315-420-7788.")
    # a cue after the number counts when there is none before it
    assert "personal_information" in categories("Jim Baker 315-420-7788, call him day and night")
    # a sentence boundary ends the context ("her" belongs to the earlier sentence)
    assert "personal_information" not in categories("I met her at the meeting. Tickets: 315-420-7788.")
    # a possessive that names no person is not an owner
    assert "personal_information" not in categories("Here's my email: pat.lee77@gmail.com")
    (h,) = [h for h in hits("Kyle's cell is (315) 420-7788.") if h.category == "personal_information"]
    assert h.match == "(315) 420-7788"


def test_personal_information_allow_list():
    d = PersonalInfoDetector(allow=["(315) 448-8005", "mayor.smith@example.org"])
    assert d.detect("Her numbers: (315) 448-8005, or write her at mayor.smith@example.org") == []
    assert d.detect("Her number is (315) 447-2291") != []


# -- extension API ----------------------------------------------------------------------------------


def test_extra_words_and_exemptions():
    d = WordListDetector("profanity", extra_words={"profanity": ["frak", "frakking; score=0.7"]},
                         exemptions=["frak island"])
    assert d.categories == BUILTIN_DETECTORS["profanity"]
    found = d.detect("What the frakking hell, frak this")
    assert {h.match for h in found} == {"frakking", "hell", "frak"}
    assert [h.score for h in found if h.match == "frakking"] == [0.7]
    assert d.detect("We took the ferry to Frak Island.") == []
    assert d.detect("f r a k this") != []  # extra words get the evasion readings too
    # the shared built-in detector is unchanged
    assert WordListDetector("profanity").detect("frak this") == []


def test_new_detector_without_bundled_lists():
    d = WordListDetector("parks_topic", categories={"off_topic"}, builtin=False,
                         extra_words={"off_topic": ["crypto", "football scores"]},
                         extra_patterns={"off_topic": [r"who won the {W} game"]})
    assert d.name == "parks_topic" and d.categories == {"off_topic"}
    assert {h.match for h in d.detect("Who won the Bills game? Also crypto!")} == {"Who won the Bills game", "crypto"}
    assert d.detect("What the hell") == []


def test_default_detectors_with_extra_words():
    dets = default_detectors(extra_words={"contest": ["cakewalk"]})
    assert "contest" in categories("Cakewalk at the church fair!", dets)
    assert "contest" not in categories("Cakewalk at the church fair!")


def test_word_list_syntax():
    terms, exemptions = parse_terms("@category profanity\n@score 0.5\nfoo ; name\nbar baz ; also=obscene, exact\n"
                                    "@exempt\nfoo fighters ; only=profanity\n")
    assert [(t.phrase, t.categories, t.score, t.name, t.variants) for t in terms] == [
        ("foo", ("profanity",), 0.5, True, True), ("bar baz", ("profanity", "obscene"), 0.5, False, False)]
    assert [(e.phrase, e.only) for e in exemptions] == [("foo fighters", frozenset({"profanity"}))]
    with pytest.raises(ValueError):
        parse_terms("no category here")


def test_pattern_syntax_and_prefilter_atoms():
    pats = parse_patterns("@macro X (?:kill|shoot)\n@category threat\n@score 0.8\nwe will {X} you ;; check=name\n"
                          "@exempt threat\nshoot you an email\n")
    assert [(p.category, p.score, p.check, p.exempt) for p in pats] == [
        ("threat", 0.8, "name", False), ("threat", 0.8, None, True)]
    # whole words: a literal that starts or ends the pattern is required with a space around it
    assert required_atoms(pats[0].source) == [frozenset({" we will kill you ", " we will shoot you "})]
    assert required_atoms(r"(?:ill|imma) (?:{W} ){0,2}(?:kill|shoot)".replace("{W}", "[a-z0-9]+"), 2) == [
        frozenset({"kill ", "shoot "}), frozenset({" ill ", " imma "})]
    # the literal prefixes of a part that is not finite still count: "for ward" from "for ward [0-9]+"
    assert required_atoms(r"[A-Z][a-z]+ for (?:mayor|ward [0-9]+)") == [frozenset({" for mayor", " for ward "})]
    with pytest.raises(ValueError):
        parse_patterns("@category x\n{UNKNOWN}")


def test_bundled_data_files_parse_and_are_packaged():
    lex = Lexicon.from_files("words/profanity.txt")
    assert any(t.phrase == "fuck" for t in lex.terms)
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert "detectors/data/" in pyproject


# -- links ------------------------------------------------------------------------------------------


def test_links_are_extracted_and_normalised():
    text = "see https://Example.COM:443/a?b=1#frag, www.bit.ly/abc. and cheap-deals.biz/x) or mail a@b.com"
    found = links(text)
    assert [(l.url, l.domain) for l in found] == [
        ("https://example.com/a?b=1", "example.com"),
        ("http://www.bit.ly/abc", "bit.ly"),
        ("http://cheap-deals.biz/x", "cheap-deals.biz"),
    ]
    assert [text[l.start:l.end] for l in found] == [
        "https://Example.COM:443/a?b=1#frag", "www.bit.ly/abc", "cheap-deals.biz/x"]


def test_lookalike_domains_are_exposed():
    (link,) = links("log in at pаypal.com now")  # Cyrillic а
    assert link.domain == "xn--pypal-4ve.com" and link.lookalike == "paypal.com"


def test_domain_lists():
    assert {"shorteners", "adult", "government"} <= set(domain_lists())
    assert "bit.ly" in domain_list("shorteners")
    assert in_domain_list("www.bit.ly", "shorteners")
    assert in_domain_list("parks.nyc.gov", "government")
    assert not in_domain_list("notbit.ly", "shorteners")
    assert in_domain_list("x.example.org", {"example.org"})
    assert "obscene" in categories("pornhub.com/view_video.php?viewkey=1")
    d = LinkDetector(extra={"commercial_solicitation": ["spam.example"]})
    assert {h.category for h in d.detect("buy at https://shop.spam.example/x")} == {"commercial_solicitation"}


# -- folding ----------------------------------------------------------------------------------------


def test_fold_maps_back_to_the_original():
    text = "ﬁne ß 中 e\u0301 \u200b!"
    folded, omap = fold(text)
    assert folded.isascii()
    assert omap is not None and len(omap) == len(folded)
    assert list(omap) == sorted(omap)
    assert fold("plain ascii") == ("plain ascii", None)


# -- the dev set bar (the benchmark prints the whole table) ------------------------------------------

BAR = ("profanity", "threat", "personal_information", "commercial_solicitation", "political_endorsement", "contest")


def test_dev_set_meets_the_bar():
    rows = [json.loads(line) for line in (DATA / "detector_devset.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 400
    tp = dict.fromkeys(BAR, 0)
    fp = dict.fromkeys(BAR, 0)
    fn = dict.fromkeys(BAR, 0)
    for r in rows:
        assert set(r["labels"]) <= VOCABULARY
        pred = categories(r["text"])
        for c in BAR:
            gold = c in r["labels"]
            tp[c] += gold and c in pred
            fp[c] += (not gold) and c in pred
            fn[c] += gold and c not in pred
    for c in BAR:
        assert tp[c] / (tp[c] + fp[c]) >= 0.95, c
        assert tp[c] / (tp[c] + fn[c]) >= 0.90, c


# -- issue 13: what docs/detectors.md promises, tried as a new user would --------------------------

@pytest.mark.parametrize("text, category", [
    ("Fresh from the oven: 20% off cupcakes this week!", "commercial_solicitation"),
    ("Half price on all pizzas every Tuesday at Tony's.", "commercial_solicitation"),
    ("Come by the bakery tomorrow, buy 6 donuts get 6 free.", "commercial_solicitation"),
    ("You can buy weed from the guy behind the library", "illegal_activity"),
    ("The kid at the gas station sells pills, just ask him.", "illegal_activity"),
])
def test_sales_offers_and_drug_deals_without_ad_words(text, category):
    assert category in categories(text)


@pytest.mark.parametrize("text", [
    "20% of residents said the park needs more lights.",
    "Is the pool half price for seniors on weekdays?",
    "The pharmacy on Main sells allergy pills without a prescription now.",
    "The dispensary on Route 5 sells weed legally, why is the council against it?",
    "I bought a weed whacker at the hardware store, works great.",
])
def test_their_near_misses_stay_clean(text):
    assert not categories(text) & {"commercial_solicitation", "illegal_activity"}
