"""Properties of the detectors on arbitrary text (Hypothesis), and linear growth of their work.

Linear time is checked by counting operations, not by timing: the number of Python-level calls (the C
parts — RE2, Aho–Corasick, translate — are linear by construction) made by all detectors on an input
and on the same input four times as long. Timing belongs in benchmarks/bench_hostile_text.py; work counts
at 1-8 units in test_linear_work.py.
"""

from __future__ import annotations

import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policykit.detectors import default_detectors, fold, links
from policykit.detectors.normalize import Analysis, analyse

DETECTORS = default_detectors()

# text that exercises the interesting paths: swear words and their evasions, digits, punctuation,
# confusables, zero-width and combining characters, emoji, long runs
FRAGMENTS = st.sampled_from([
    "fuck", "f u c k", "sh1t", "$hit", "f**k", "f---ing", "fuuuuck", "ass", "hell", "Dick Van Dyke",
    "Scunthorpe", "I will kill you", "vote for Jane Smith", "raffle", "pothole on Main St", "FOIL request",
    "(315) 448-8005", "jane@example.com", "123-45-6789", "lives at 14 Oak Lane", "http://a.co/x",
    "www.bit.ly/y", "ｆｕｃｋ", "fuсk", "\u200b", "\u0301", "🙂", "ß", "中文", "!", "@", "*", "-", ".", " ",
    "  ", "\n", "a", "é", "İ", "ﬁ",
])
TEXTS = st.one_of(
    st.text(max_size=200),
    st.lists(FRAGMENTS, max_size=30).map("".join),
    st.lists(st.one_of(FRAGMENTS, st.text(max_size=5)), max_size=30).map(" ".join),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(TEXTS)
def test_spans_always_index_the_original_text(text):
    for d in DETECTORS:
        for h in d.detect(text):
            assert 0 <= h.start <= h.end <= len(text)
            assert text[h.start:h.end] == h.match
            assert h.match, (d.name, h)
            assert h.category in d.categories
            assert 0.0 < h.score <= 1.0
    for link in links(text):
        assert 0 <= link.start < link.end <= len(text)


@SETTINGS
@given(TEXTS)
def test_detection_is_deterministic(text):
    first = [d.detect(text) for d in DETECTORS]
    analyse("")  # drop the per-thread cache: the second run starts from scratch
    second = [d.detect(("" + text + " ")[:-1]) for d in DETECTORS]
    assert first == second


@SETTINGS
@given(TEXTS)
def test_fold_is_ascii_and_its_map_is_monotonic(text):
    folded, omap = fold(text)
    assert folded.isascii()
    if omap is None:
        assert len(folded) == len(text)
    else:
        assert len(omap) == len(folded)
        assert all(0 <= i < len(text) for i in omap)
        assert list(omap) == sorted(omap)


@SETTINGS
@given(TEXTS)
def test_streams_map_back_into_the_folded_text(text):
    an = Analysis(text)
    for stream in (an.plain, an.leet, an.bang):
        if stream is None:
            continue
        s = stream.s
        for i, tok in enumerate(stream.tokens):
            start = 1 + sum(len(t) + 1 for t in stream.tokens[:i])
            a, b = stream.to_view(start, start + len(tok))
            assert stream.view[a:b] == tok
            assert s[start:start + len(tok)] == tok.decode("ascii")


# -- linear growth --------------------------------------------------------------------------------


def _operations(text: str) -> int:
    count = 0

    def profiler(frame, event, arg):
        nonlocal count
        count += 1

    analyse("")  # a fresh analysis for `text`
    sys.setprofile(profiler)
    try:
        for d in DETECTORS:
            d.detect(text)
    finally:
        sys.setprofile(None)
    return count


HOSTILE = {
    "letters": "a",
    "spaced letters": "f u c k ",
    "swearing": "fuck shit ",
    "masks": "f*ck sh!t f@ck ",
    "glued": "sh-i-t f---ing ",
    "repeats": "fuuuuuuuuuuuuck ",
    "digits": "315-555-0134 ",
    "emails": "a.b@c.co ",
    "names": "Vote for Jane Smith ",
    "threats": "I will kill you ",
    "urls": "http://a.co/",
    "non-ascii": "fuсk ｆｕｃｋ ß 中 f\u200buck 🙂 ",
    "mixed": "The pothole on Main St is huge! Call 315-447-2291 or enter our raffle. ",
}


def test_work_grows_linearly_on_hostile_input():
    for name, unit in HOSTILE.items():
        small = unit * (2000 // len(unit) + 1)
        large = unit * (4 * 2000 // len(unit) + 4)
        _operations(small)  # warm-up: lazy compilation is not the text's work
        ratio = _operations(large) / max(1, _operations(small))
        assert ratio <= 4 * 1.3, (name, ratio)


@given(st.lists(st.integers(0, 500), min_size=1, max_size=60).map(sorted), st.integers(-5, 505), st.data())
def test_galloping_offset_search_agrees_with_bisect(starts, position, data):
    from bisect import bisect_right

    from policykit.detectors.normalize import _gallop

    hint = data.draw(st.integers(0, len(starts) - 1))
    assert _gallop(starts, position, hint) == max(0, bisect_right(starts, position) - 1)


def test_capture_free_rewrite_keeps_character_classes_that_start_with_a_bracket():
    from policykit.detectors.patterns import _without_groups

    assert _without_groups("[^]x(](a)") == "[^]x(](?:a)"
    assert _without_groups("[]x(](?P<n>b)") == "[]x(](?:b)"
