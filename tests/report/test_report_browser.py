"""The report rendered in headless Chromium (Debian's `chromium`): no console errors or network use,
every clause on screen, search, keyboard focus, contrast, print layout, and a screenshot a person can
look at. Skipped, saying why, only when chromium is not installed."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest

from chromium_driver import Browser, executable

pytestmark = pytest.mark.skipif(executable() is None, reason="chromium is not installed (the report's rendering "
                                "tests need Debian's `chromium`; .ci/run installs it)")

PAGES = ("index", "syracuse", "nyc", "clinton", "cottonwood", "minnesota_model", "compare")

# Each text element's colour against the first opaque background behind it (WCAG 2 relative luminance).
_CONTRAST = """(() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => { for (; el; el = el.parentElement) { const c = parse(getComputedStyle(el).backgroundColor);
    if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    const fg = parse(getComputedStyle(el).color), bg = background(el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    if (ratio < 4.5) bad.push(el.tagName + '.' + el.className + ' ' + ratio.toFixed(2) + ': ' + el.textContent.trim().slice(0, 40));
  }
  return bad.slice(0, 20);
})()"""


@pytest.fixture(scope="module")
def browser():
    chromium = Browser(width=1400, height=1000)
    yield chromium
    chromium.close()


@pytest.mark.parametrize("page", PAGES)
def test_each_page_renders_without_console_errors_or_network(browser, site_dir, page):
    browser.open(site_dir / f"{page}.html")
    # the local style sheet applied (the banner's colour is set only there)
    assert browser.evaluate("getComputedStyle(document.querySelector('.banner')).backgroundColor") == "rgb(31, 58, 95)"
    assert browser.evaluate("Array.isArray(window.POLICYKIT_SEARCH) && window.POLICYKIT_SEARCH.length > 100")
    assert browser.problems() == []
    assert browser.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), \
        "the page scrolls sideways"


def test_every_clause_is_on_screen(browser, site_dir, bundled):
    for policy in bundled:
        browser.open(site_dir / f"{policy.name}.html")
        shown = browser.evaluate("document.querySelector('main').innerText.replace(/\\s+/g, ' ')")
        missing = [c.id for c in policy.doc.walk_clauses() if " ".join(c.text.split()) not in shown]
        assert missing == [], f"{policy.name}: clauses not shown: {missing}"


def test_search_finds_a_clause_from_any_page(browser, site_dir):
    browser.open(site_dir / "index.html")
    browser.evaluate("""(() => { const box = document.getElementById('search-box');
        box.value = 'profane'; box.dispatchEvent(new Event('input')); })()""")
    assert not browser.evaluate("document.querySelector('[data-search-results]').hidden")
    links = browser.evaluate("Array.from(document.querySelectorAll('[data-search-results] a')).map(a => a.getAttribute('href'))")
    assert "clinton.html#clause-3-4-3-A" in links
    assert "match" in browser.evaluate("document.getElementById('search-status').textContent")
    browser.evaluate("""(() => { const box = document.getElementById('search-box');
        box.value = 'zzzz-nothing'; box.dispatchEvent(new Event('input')); })()""")
    assert browser.evaluate("document.getElementById('search-status').textContent").startswith("No clause")
    assert browser.problems() == []


def test_keyboard_first_stop_is_the_skip_link_and_focus_is_visible(browser, site_dir):
    browser.open(site_dir / "clinton.html")
    browser.send("Input.dispatchKeyEvent", type="keyDown", key="Tab", code="Tab", windowsVirtualKeyCode=9)
    browser.send("Input.dispatchKeyEvent", type="keyUp", key="Tab", code="Tab", windowsVirtualKeyCode=9)
    focused = browser.evaluate("""(() => { const el = document.activeElement; const s = getComputedStyle(el);
        const box = el.getBoundingClientRect();
        return [el.className, el.getAttribute('href'), s.outlineStyle, parseFloat(s.outlineWidth), box.top >= 0]; })()""")
    assert focused[:2] == ["skip", "#main"]
    assert focused[2] != "none" and focused[3] >= 2 and focused[4], "the focused skip link must show and be outlined"


def test_landmarks_headings_and_labels(browser, site_dir):
    for page in PAGES:
        browser.open(site_dir / f"{page}.html")
        found = browser.evaluate("""(() => ({
            main: document.querySelectorAll('main').length, banner: document.querySelectorAll('body > header').length,
            nav: document.querySelectorAll('nav[aria-label], nav[aria-labelledby]').length,
            search: document.querySelectorAll('[role=search]').length, h1: document.querySelectorAll('h1').length,
            unlabelled: Array.from(document.querySelectorAll('input')).filter(i => !i.labels.length).length,
            skipped: Array.from(document.querySelectorAll('main h1, main h2, main h3, main h4')).map(h => +h.tagName[1])
              .filter((level, i, all) => i > 0 && level > all[i - 1] + 1).length,
            lang: document.documentElement.lang }))()""")
        assert found == {"main": 1, "banner": 1, "nav": found["nav"], "search": 1, "h1": 1, "unlabelled": 0,
                         "skipped": 0, "lang": "en"} and found["nav"] >= 1, (page, found)


@pytest.mark.parametrize("page", ["index", "clinton", "compare"])
def test_text_contrast_is_at_least_4_5_to_1(browser, site_dir, page):
    browser.open(site_dir / f"{page}.html")
    assert browser.evaluate(_CONTRAST) == []


def test_print_layout_is_a_council_packet(browser, site_dir):
    browser.open(site_dir / "nyc.html")
    browser.send("Emulation.setEmulatedMedia", media="print")
    try:
        hidden = browser.evaluate("['.banner', '.toc', '.footer', '.skip'].map(s => getComputedStyle(document.querySelector(s)).display)")
        assert hidden == ["none"] * 4
        assert browser.evaluate("getComputedStyle(document.querySelector('.clause')).breakInside") in ("avoid-page", "avoid")
    finally:
        browser.send("Emulation.setEmulatedMedia", media="")
    pdf = base64.b64decode(browser.send("Page.printToPDF", printBackground=True)["data"])
    assert pdf.startswith(b"%PDF") and len(pdf) > 50_000


def test_screenshot_of_the_woven_layout(browser, site_dir, tmp_path_factory):
    """The policy page as a council member first sees the weave; the PNG is kept to look at."""
    browser.open(site_dir / "clinton.html")
    browser.evaluate("document.getElementById('clause-3-4-3').scrollIntoView()")
    target = tmp_path_factory.mktemp("screenshots") / "clinton-3.4.3.png"
    browser.screenshot(target)
    width, height, colours = _png_summary(target.read_bytes())
    assert (width, height) == (1400, 1000)
    assert colours > 50, "the screenshot is (nearly) blank"
    # the two columns are side by side: the clause's words to the left of its rules
    law, rule = browser.evaluate("""['#clause-3-4-3 .law', '#clause-3-4-3 .rule'].map(
        s => document.querySelector(s).getBoundingClientRect()).map(r => [r.left, r.right, r.top])""")
    assert law[1] < rule[0] and abs(law[2] - rule[2]) < 40
    print(f"screenshot: {target}")


def _png_summary(data: bytes) -> tuple[int, int, int]:
    """Width, height and how many distinct byte values the first rows of pixels hold (PNG, 8-bit RGB(A))."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    chunks, position = [], 8
    while position < len(data):
        length = struct.unpack(">I", data[position:position + 4])[0]
        kind = data[position + 4:position + 8]
        if kind == b"IDAT":
            chunks.append(data[position + 8:position + 8 + length])
        position += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    return width, height, len(set(pixels[: len(pixels) // 2]))
