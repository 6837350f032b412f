"""docs/policies/*.md are generated from the .pol files, so they cannot drift from what is encoded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import policykit
from policykit.policydoc import render

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ("syracuse", "nyc", "clinton", "cottonwood", "minnesota_model")


@pytest.mark.parametrize("name", BUNDLED)
def test_policy_page_is_up_to_date(name):
    page = (ROOT / "docs" / "policies" / f"{name}.md").read_text(encoding="utf-8")
    assert page == render(policykit.load(name)), (
        f"docs/policies/{name}.md is out of date: run `policykit doc --out docs/policies policies/{name}.pol`")


def test_page_shows_every_clause_its_words_and_what_is_left_to_a_person():
    policy = policykit.compile_text('''policy p "P"
param website: text "the City's website"
clause 1 "Staff may not post threats."
  # the text names staff only
  rule no_threats:
    remove post when has threat
clause 2 "Replies should be reviewed."
  review action reply
clause 3 "The City values engagement."
  not checkable because "states no rule"
''', "p.pol")
    page = render(policy)
    for expected in ("### 1", "> Staff may not post threats.", "**remove** (checked), rule `no_threats`: "
                     "`remove post when has threat`", "in words: Remove a post when the content contains threat.",
                     "note: the text names staff only",
                     "**review** (left to a person)", "Not machine-checkable: states no rule",
                     "`website` (text) | **not filled in**"):
        assert expected in page


def test_doc_check_reports_a_stale_page(tmp_path):
    pol = tmp_path / "p.pol"
    pol.write_text('policy p "P"\nclause 1 "Threats are removed."\n  remove comment when has threat\n')
    command = [sys.executable, "-m", "policykit.cli", "doc", "--out", str(tmp_path / "docs"), str(pol)]
    assert subprocess.run(command + ["--check"], capture_output=True).returncode == 1
    assert subprocess.run(command, capture_output=True).returncode == 0
    assert subprocess.run(command + ["--check"], capture_output=True).returncode == 0
