"""The documentation site as a reader finds it. The site is built (tools/docs.py, what `make docs` runs; an up-to-date
build is reused) and opened from the file system, as `build/site/index.html` is opened by hand, in headless Chromium
(Debian's, `$NER_DISTILL_CHROMIUM`) with every request that leaves the site's folder refused and recorded:

- every page renders: it has a title and content, and no JavaScript error or failed request shows in its console;
- a crawl from the home page reaches every page, and every same-site link points at a page that exists and, where it
  names an anchor, at an element with that id on it;
- the search works with no network: typing a query into the search box lists results.

Screenshots of the home page, the recipe table, a notebook page's plot and the search's results go to
build/docs-screenshots/."""
import importlib.util
import os
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "docs-screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
pytestmark = pytest.mark.slow


def docs_tool():
    spec = importlib.util.spec_from_file_location("ner_distill_docs_tool", ROOT / "tools" / "docs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def site() -> Path:
    return docs_tool().build()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    exe = os.environ.get("NER_DISTILL_CHROMIUM", "/usr/bin/chromium")
    assert Path(exe).exists(), f"no Chromium at {exe}: apt-get install chromium, or set NER_DISTILL_CHROMIUM"
    with sync_playwright() as pw:           # Playwright starts it with a fresh, temporary profile
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Reader:
    "One browser tab on the site: what it loaded, refused and logged."
    def __init__(self, browser, site: Path):
        self.site = site.resolve()
        self.refused, self.problems = [], []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"error: {e}"))
        self.page.on("requestfailed", self._failed)

    def _failed(self, request):
        "A request that failed, unless the browser dropped it for leaving the page (a favicon still loading)."
        target = self.local(request.url)
        if not ("ERR_ABORTED" in (request.failure or "") and target is not None and target.exists()):
            self.problems.append(f"failed: {request.url} {request.failure}")

    def _route(self, route):
        url = route.request.url
        if self.local(url) is not None or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def local(self, url: str) -> Path | None:
        "The file a site URL names, or None for a URL outside the site."
        u = urlparse(url)
        if u.scheme != "file": return None
        p = Path(unquote(u.path))
        if not str(p.resolve()).startswith(str(self.site)): return None
        return p / "index.html" if url.endswith("/") else p

    def open(self, path: Path):
        self.problems.clear()
        self.page.goto(path.as_uri(), wait_until="load")
        return self.page


@pytest.fixture(scope="module")
def crawl(site, browser):
    """Every page reached from index.html by following same-site links: its title, text length, ids, links and
    problems, and the requests refused on the way."""
    r = Reader(browser, site)
    pages, todo = {}, [site / "index.html"]
    while todo:
        path = todo.pop()
        if path in pages: continue
        page = r.open(path)
        info = page.evaluate("""() => ({
            title: document.title,
            h1: (document.querySelector('article h1') || {}).textContent || '',
            text: (document.querySelector('article') || document.body).innerText.length,
            ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id)
                  .concat(Array.from(document.querySelectorAll('a[name]')).map(e => e.name)),
            links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
        })""")
        info["problems"] = list(r.problems)
        pages[path] = info
        for href in info["links"]:
            target = r.local(urldefrag(href)[0])
            if target is not None and target.suffix == ".html" and target.exists() and target not in pages:
                todo.append(target)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path, where in [("home", site / "index.html", None),
                              ("recipe-table", site / "docs" / "guides" / "recipes.html", "#by-gold-size-and-teacher"),
                              ("notebook-with-outputs", site / "nbs" / "04_mixing.html", ".jp-OutputArea-output img")]:
        page = r.open(path)
        if where: page.evaluate("s => { const e = document.querySelector(s); e.scrollIntoView({block: e.tagName == 'IMG' ? 'center' : 'start'}); "
                                "if (e.tagName != 'IMG') window.scrollBy(0, -64) }", where)
        page.wait_for_timeout(800)                   # the header's title settles after a scroll
        page.screenshot(path=str(SHOTS / f"{name}.png"))
    r.context.close()
    return dict(pages=pages, refused=r.refused, reader=r)


def test_every_page_renders(site, crawl):
    pages = crawl["pages"]
    html = {p.resolve() for p in site.rglob("*.html") if p.name != "404.html" and "assets" not in p.parts}
    assert html - {p.resolve() for p in pages} == set(), "pages no link leads to"
    bad = {str(p.relative_to(site)): i["problems"] for p, i in pages.items() if i["problems"]}
    assert not bad, f"pages with JavaScript errors or failed requests: {bad}"
    empty = [str(p.relative_to(site)) for p, i in pages.items() if not i["h1"].strip() or i["text"] < 200]
    assert not empty, f"pages without a heading or content: {empty}"
    assert not crawl["refused"], f"requests that left the site: {sorted(set(crawl['refused']))[:20]}"
    assert len(pages) >= 45


def test_no_internal_link_is_broken(site, crawl):
    pages = {p.resolve(): i for p, i in crawl["pages"].items()}
    reader, broken = crawl["reader"], []
    for path, info in pages.items():
        for href in info["links"]:
            url, anchor = urldefrag(href)
            target = reader.local(url)
            if target is None: continue                       # outside the site: not followed, never fetched
            if not target.exists():
                broken.append(f"{path.relative_to(site)} -> {href} (no such file)")
            elif anchor and target.suffix == ".html":
                ids = pages[target.resolve()]["ids"] if target.resolve() in pages else []
                if unquote(anchor) not in ids:
                    broken.append(f"{path.relative_to(site)} -> {href} (no element with id {anchor!r})")
    assert not broken, "\n".join(broken[:50])


def test_search_works_offline(site, browser):
    r = Reader(browser, site)
    page = r.open(site / "index.html")
    box = page.locator("input.md-search__input")
    results = page.locator(".md-search-result__item")
    for attempt in range(3):             # the index loads after the page: a reader who types early types again
        box.click()
        box.fill("")
        box.type("wheelhouse", delay=40)
        try:
            results.first.wait_for(timeout=20_000)
            break
        except Exception:
            if attempt == 2: raise
    meta = page.locator(".md-search-result__meta").inner_text()
    links = [results.nth(i).locator("a").first.get_attribute("href") for i in range(results.count())]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "search.png"))
    assert results.count() > 0 and "matching" in meta, meta
    assert any("shipping" in (h or "") for h in links), links
    assert not r.problems and not r.refused, (r.problems, r.refused)
    r.context.close()
