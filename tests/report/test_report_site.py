"""`policykit report`'s site, read as files: every clause's words, tests and coverage, exceptions
linked to what they defeat, the cities compared, the search index, nothing from the network."""

from __future__ import annotations

import html as htmlib
import json
import re
import subprocess
import sys
from pathlib import Path

import policykit
from policykit.report import html, site
from policykit.report.model import anchor, explain_policy
from policykit.testing import coverage, run_file

ROOT = Path(__file__).resolve().parents[2]


def _text(page: Path) -> str:
    """A page's visible words: tags dropped, entities decoded, white space collapsed."""
    raw = re.sub(r"<script\b.*?</script>", " ", page.read_text(encoding="utf-8"), flags=re.S)
    return " ".join(htmlib.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def test_every_clause_of_every_bundled_policy_appears_in_its_words(bundled, site_dir):
    for policy in bundled:
        text = _text(site_dir / f"{policy.name}.html")
        for clause in policy.doc.walk_clauses():
            assert " ".join(clause.text.split()) in text, f"{policy.name} §{clause.id} is missing"


def test_clauses_appear_in_the_documents_order(bundled, site_dir):
    for policy in bundled:
        page = (site_dir / f"{policy.name}.html").read_text(encoding="utf-8")
        positions = [page.index(f'id="{anchor("clause", c.id)}"') for c in policy.doc.walk_clauses()]
        assert positions == sorted(positions), policy.name


def test_not_checkable_clauses_carry_their_reason(bundled, site_dir):
    for policy in bundled:
        text = _text(site_dir / f"{policy.name}.html")
        for clause in policy.doc.walk_clauses():
            if clause.unchecked:
                assert f"not checkable {' '.join(clause.unchecked.split())}" in text


def test_each_rule_shows_its_tests_and_the_counts_are_those_of_policykit_test(bundled, bundled_site):
    for policy, view in zip(bundled, bundled_site.views):
        if policy.name not in ("syracuse", "clinton"):  # two policies' tests run again suffice (and are fast)
            assert view.tests is not None and view.tests.passed > 0
            continue
        results = [r for f in site.test_files_for(policy) for r in run_file(f)]
        assert view.tests is not None and view.tests.passed + view.tests.failed == len(results) > 0
        assert view.tests.passed == sum(r.passed for r in results)
        never_cited, never_fired = coverage(policy, results)
        assert [c.id for c in view.clauses if c.never_cited] == never_cited
        assert sorted(r.id for r in view.rules() if r.never_fired) == sorted(never_fired)
        fired = {f.rule for r in results if r.verdict for f in r.verdict.findings}
        for rule in view.rules():
            assert bool(rule.cases) == (rule.id in fired or any(
                d.rule == rule.id for r in results if r.verdict for f in r.verdict.findings for d in f.defeats))


def test_a_failing_test_is_shown_as_failing(tmp_path):
    (tmp_path / "p.pol").write_text('policy p "P"\nclause 1 "Threats are removed."\n  rule no_threats:\n'
                                    '    remove comment when has threat\n')
    (tmp_path / "p.tests.yaml").write_text(
        "policy: p.pol\ncases:\n  - name: wrong on purpose\n    event: {kind: comment, text: hi, labels: [threat]}\n"
        "    expect: {decision: allow}\n  - name: right\n    event: {kind: comment, text: hi, labels: [threat]}\n"
        "    expect: {decision: remove}\n")
    policy = policykit.load(tmp_path / "p.pol")
    built = site.build([policy], [])
    html.write(built, tmp_path / "out")
    page = (tmp_path / "out" / "p.html").read_text(encoding="utf-8")
    assert built.views[0].tests.failed == 1 and built.views[0].tests.passed == 1
    assert "1 pass, <strong class=\"fail\">1 fail</strong>" in page
    assert "decision: expected allow, got remove" in page


def test_exceptions_link_to_what_they_defeat_and_back(tmp_path):
    policy = policykit.compile_text('''policy p "P"
clause 1 "Comments may not be deleted."
  rule no_deleting:
    deny action delete_comment
clause 2 "Threats may be deleted."
  exception threats_go to no_deleting:
    allow action delete_comment when target has threat
clause 3 "Spam may be deleted."
  exception spam_goes to clause 1:
    allow action delete_comment when target has commercial_solicitation
''', "p.pol")
    view = explain_policy(policy)
    built = site.Site((view,), (), ())
    html.write(built, tmp_path)
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert 'exception to rule <a href="#rule-no_deleting"><code>no_deleting</code></a>' in page
    assert 'exception to clause <a href="#clause-1">1</a>' in page
    assert view.clauses[0].rules[0].defeated_by == ("threats_go", "spam_goes")
    assert '<a href="#rule-threats_go"><code>threats_go</code></a>' in page
    for target in re.findall(r'href="#([^"]+)"', page):
        assert f'id="{target}"' in page, f"#{target} points nowhere"


def test_policy_text_is_escaped(tmp_path):
    policy = policykit.compile_text('''policy p "P <b>bold</b>"
clause 1 "Never <script>alert(1)</script> here & there."
  rule r:
    remove comment when text contains "<img src=x onerror=alert(1)>"
''', "p.pol")
    html.write(site.Site((explain_policy(policy),), (), ()), tmp_path)
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>bold" not in page
    assert "Never &lt;script&gt;alert(1)&lt;/script&gt; here &amp; there." in page
    index = (tmp_path / "search-index.js").read_text(encoding="utf-8")
    assert "<" not in index  # JSON with < escaped: no markup, even if a page ever inlined it


def test_cities_compared_on_the_bundled_events(bundled, bundled_site, site_dir):
    rows = bundled_site.rows
    assert len(rows) >= 8 and all(len(r.judgements) == len(bundled) for r in rows)
    for row in rows:
        decisions = {j.decision for j in row.judgements}
        assert row.differs == (len(decisions - {None}) > 1)
    assert any(r.differs for r in rows), "the bundled examples are meant to show where cities part"
    page = (site_dir / "compare.html").read_text(encoding="utf-8")
    assert page.count('class="differs"') == sum(r.differs for r in rows)
    # every cited clause links to its clause on that policy's page
    for name, target in re.findall(r'href="([a-z_]+)\.html#(clause-[^"]+)"', page):
        assert f'id="{target}"' in (site_dir / f"{name}.html").read_text(encoding="utf-8")


def test_search_index_holds_every_clause_and_rule(bundled, site_dir):
    raw = (site_dir / "search-index.js").read_text(encoding="utf-8")
    entries = json.loads(raw.removeprefix("window.POLICYKIT_SEARCH = ").rstrip().removesuffix(";"))
    urls = {e["u"] for e in entries}
    for policy in bundled:
        for clause in policy.doc.walk_clauses():
            assert f"{policy.name}.html#{anchor('clause', clause.id)}" in urls
        for rule in policy.rules:
            if rule.policy == policy.name:
                assert f"{policy.name}.html#{anchor('rule', rule.id)}" in urls


def test_nothing_is_loaded_from_the_network(site_dir):
    for page in site_dir.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        for attribute in re.findall(r'\b(?:src|href)="([^"]*)"', text):
            assert not re.match(r"[a-z]+:|//", attribute), f"{page.name}: {attribute}"
        for local in re.findall(r'\b(?:src|href)="([^"#?]+)', text):
            assert (site_dir / local).is_file(), f"{page.name} links to missing {local}"
    assert not re.search(r"url\(|@import", (site_dir / "static" / "style.css").read_text(encoding="utf-8"))


def test_the_command_writes_the_site(tmp_path):
    out = tmp_path / "site"
    command = [sys.executable, "-m", "policykit.cli", "report", "syracuse", "clinton", "-o", str(out), "--no-tests"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "2 policies" in result.stdout and "events compared" in result.stdout
    assert {p.name for p in out.iterdir()} >= {"index.html", "syracuse.html", "clinton.html", "compare.html",
                                               "search-index.js", "static"}


def test_the_command_refuses_bad_usage(tmp_path):
    (tmp_path / "file").write_text("x")
    base = [sys.executable, "-m", "policykit.cli", "report", "syracuse", "--no-tests"]
    for extra, message in ((["-o", str(tmp_path / "file")], "is not a folder"),
                           (["-o", str(tmp_path / "o"), "--events", str(tmp_path / "nope")], "no such file"),
                           (["-o", str(tmp_path / "o"), "no_such_policy"], "no_such_policy")):
        result = subprocess.run(base + extra, capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_every_link_within_a_page_has_its_target_and_ids_are_unique(site_dir):
    for page in site_dir.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        ids = re.findall(r'\bid="([^"]+)"', text)
        assert len(ids) == len(set(ids)), f"{page.name}: an id is used twice"
        missing = [t for t in re.findall(r'href="#([^"]+)"', text) if t not in set(ids)]
        assert missing == [], f"{page.name}: links to nothing: {missing[:5]}"


def test_the_markdown_pages_and_the_site_say_the_same_words(bundled, site_dir):
    """docs/policies/*.md and the HTML pages render one model: each rule's sentence is in both."""
    for policy in bundled:
        markdown = (ROOT / "docs" / "policies" / f"{policy.name}.md").read_text(encoding="utf-8")
        squeezed = "".join(_text(site_dir / f"{policy.name}.html").split())  # markup splits words from links
        for rule in explain_policy(policy).rules():
            assert f"in words: {rule.words}" in markdown
            assert "".join(rule.words.replace("`", "").split()) in squeezed, f"{policy.name}: {rule.id}"
