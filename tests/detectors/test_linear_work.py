"""Every detector's work grows linearly with the text, on hostile input (issue 13).

Work is counted, not timed (`policykit.detectors.work`: loop iterations and bytes handed to RE2,
Aho–Corasick and the other C calls), for each hostile text of tests/detectors/hostile_texts.py at
1, 2, 4 and 8 units of size, and per part: the shared analysis, the word-list and pattern engine,
personal information and links. Doubling the text may at most double the work (with 10% for rounding
at the edges of the repeated units).

The unit is 32 KiB so that the suite stays fast; ``POLICYKIT_HOSTILE_UNIT=1048576`` runs the same
test at 1, 2, 4 and 8 MiB (benchmarks/bench_hostile_text.py prints the time per MB at those sizes).
"""

from __future__ import annotations

import os

import pytest
from hostile_texts import HOSTILE
from hypothesis import given, settings
from hypothesis import strategies as st

from policykit.detectors import default_detectors
from policykit.detectors.normalize import analyse
from policykit.detectors.work import counting

DETECTORS = default_detectors()
UNIT = int(os.environ.get("POLICYKIT_HOSTILE_UNIT", 32 * 1024))
SCALES = (1, 2, 4, 8)
SLACK = 1.10


def work(text: str) -> dict[str, int]:
    """The work of every default detector on `text`, by part, from a fresh analysis."""
    analyse("")  # the per-thread cache holds the previous text's analysis: start from nothing
    with counting() as counts:
        for d in DETECTORS:
            d.detect(text)
    return dict(counts)


def assert_linear(build, unit: int, label: str) -> None:
    build(16)
    work(build(unit // 16))  # warm-up: lazy compilation is no part of the text's work
    counts = [work(build(k * unit)) for k in SCALES]
    for part, base in counts[0].items():
        for k, c in zip(SCALES[1:], counts[1:]):
            assert c.get(part, 0) <= k * base * SLACK, (
                f"{label}: {part} did {c.get(part, 0) / base:.1f}x the work for {k}x the text")


def test_the_counter_sees_every_part():
    counts = work("Her cell is 315-555-0134, what the hell, see http://a.co/x")
    assert set(counts) == {"analysis", "engine", "personal_information", "links"}
    assert all(v > 0 for v in counts.values())


def test_the_counter_sees_work_that_grows_with_the_text():
    small, large = work("a.b " * 1000), work("a.b " * 4000)
    for part in ("analysis", "engine", "links"):
        assert 3.5 * small[part] <= large[part] <= 4 * SLACK * small[part], part


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_work_is_linear_on_hostile_text(name):
    assert_linear(HOSTILE[name], UNIT, name)


FRAGMENTS = st.sampled_from([
    "fuck", "f u c k ", "sh1t", "$", "@", "#", "*", "-", ".", " ", "www.", "http://", ".com", "a", "1",
    "315-555-0134", "123-45-6789", "her cell is ", "at ", " dot ", "lives at 14 Oak Lane", "\u0301",
    "ｆ", "с", "\u200b", "🙂", "\n", "(", ")", "I will kill you ", "hell's kitchen ",
])


@settings(max_examples=25, deadline=None)
@given(st.lists(FRAGMENTS, min_size=1, max_size=8).map("".join))
def test_work_is_linear_on_any_repeated_fragment(unit):
    def build(n: int) -> str:
        return unit * max(1, n // len(unit))

    assert_linear(build, 8 * 1024, repr(unit))
