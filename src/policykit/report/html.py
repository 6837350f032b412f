"""The report as a static HTML site: one page per policy, the cities compared, an overview, a search.

Everything a browser needs is written into the output folder (CSS, the search script and its index
as a plain script file, which works from `file://` where fetching JSON would not): nothing is loaded
from the network when the site is read. Templates are Jinja2 with autoescaping on, because policy
texts, comments and events are untrusted.
"""

from __future__ import annotations

import json
import re
import shutil
from importlib import resources
from pathlib import Path, PurePath

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from .model import PolicyView, TestSummary, anchor
from .site import Site

STATIC = ("style.css", "search.js")
MAX_INDEX_TEXT = 2000  # characters of one entry's text in the search index
_CODE = re.compile(r"`([^`]+)`")
_TERM = re.compile(r"“([^”]+)”")


def environment() -> Environment:
    env = Environment(loader=PackageLoader("policykit.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(anchor=anchor, test_summary=_test_summary)
    env.filters["basename"] = lambda path: PurePath(path).name
    env.filters["speak"] = speak
    return env


def speak(text: str, view: PolicyView | None = None) -> Markup:
    """Words of the model as HTML: escaped first, then `field.paths` as code and defined terms linked
    to their definition on the page."""
    html = _CODE.sub(r"<code>\1</code>", str(escape(text)))
    if view is None or not view.terms:
        return Markup(html)
    terms = {t.name.replace("_", " "): anchor("term", t.name) for t in view.terms}

    def link(found: re.Match[str]) -> str:
        target = terms.get(found.group(1))
        return f'<a class="term" href="#{target}">{found.group(0)}</a>' if target else found.group(0)

    return Markup(_TERM.sub(link, html))


def write(site: Site, out: Path) -> list[Path]:
    """Write the site into `out` (created if missing); returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "static").mkdir(exist_ok=True)
    env = environment()
    pages = frozenset(v.name for v in site.views)
    written = []

    def page(name: str, template: str, **values: object) -> None:
        target = out / name
        target.write_text(env.get_template(template).render(site=site, pages=pages, **values), encoding="utf-8")
        written.append(target)

    page("index.html", "index.html.j2", page="index")
    for view in site.views:
        page(f"{view.name}.html", "policy.html.j2", page=view.name, v=view)
    page("compare.html", "compare.html.j2", page="compare")
    for name in STATIC:
        with resources.as_file(resources.files("policykit.report") / "static" / name) as source:
            shutil.copyfile(source, out / "static" / name)
        written.append(out / "static" / name)
    index = out / "search-index.js"
    # `<` escaped too, so the index stays inert even if a page ever inlines it in a <script> element.
    data = json.dumps(search_index(site), ensure_ascii=True).replace("<", "\\u003c")
    index.write_text(f"window.POLICYKIT_SEARCH = {data};\n", encoding="utf-8")
    written.append(index)
    return written


def search_index(site: Site) -> list[dict[str, str]]:
    """One entry per clause and per rule: where it is, its title, and the words a reader may search for."""
    entries = []
    for view in site.views:
        for clause in view.clauses:
            entries.append(_entry(view, clause.anchor, f"§{clause.id}", clause.text,
                                  " ".join(filter(None, [clause.unchecked or ""]))))
            for rule in (*clause.rules, *clause.standing):
                entries.append(_entry(view, rule.anchor, f"rule {rule.id} (§{clause.id})", rule.words,
                                      " ".join(filter(None, [rule.because, rule.written, rule.note]))))
    return entries


def _entry(view: PolicyView, target: str, title: str, text: str, more: str) -> dict[str, str]:
    return {"p": view.title, "u": f"{view.name}.html#{target}", "t": title, "x": text[:MAX_INDEX_TEXT],
            "m": more[:MAX_INDEX_TEXT]}


def _test_summary(tests: TestSummary) -> str:
    text = f"{tests.passed} pass, {tests.failed} fail"
    return text + (f", {len(tests.problems)} file(s) could not be run" if tests.problems else "")
