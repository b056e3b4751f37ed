"""The served pages in a real headless Chromium (Debian's `chromium`, driven by Playwright): an entity page, a
message page, the query page running canned queries, and a crafted document whose markup must stay text.

Chromium is required: CI installs it, and without it this test fails rather than skips. Screenshots are kept in
test-output/ for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from test_serve import build_crafted, start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server(built_store, tmp_path_factory):
    served = start_server(built_store, tmp_path_factory.mktemp("browser"))
    yield served
    stop_server(served)


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists(), "Debian's chromium is required for this test: apt-get install -y chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser):
    """A fresh page that records what must never happen: script errors, console errors (a CSP violation is one)
    and dialogs (an alert() from a document would be one)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)

    def on_dialog(d):
        problems.append(f"dialog: {d.message}")
        d.dismiss()

    pg.on("dialog", on_dialog)
    pg.problems = problems  # type: ignore[attr-defined]
    yield pg
    context.close()


def test_entity_and_message_pages(server, page: Page, output_dir: Path):
    page.goto(server.url + "id/archibald-clark-kerr")
    expect(page.locator("h1")).to_have_text("Archibald Clark Kerr")
    expect(page.locator("#offices")).to_contain_text("British Ambassador to the Soviet Union")
    expect(page.locator("#offices")).to_contain_text("1942-03-14")
    assert page.locator("#timeline svg rect.bar").count() >= 3
    rows = page.locator("#mentions tr.mention-row")
    assert rows.count() >= 10
    expect(rows.first.locator("mark")).to_have_text("Kerr")
    expect(rows.first.locator("td.why")).to_contain_text('alias "Kerr"')
    assert page.locator("#co-mentioned li").count() >= 5
    page.screenshot(path=str(output_dir / "entity-archibald-clark-kerr.png"), full_page=True)

    rows.first.locator("a.snippet").click()
    page.wait_for_url(re.compile(r"/message/1942-03-29-stalin-to-churchill#m-\d+$"))
    expect(page.locator("h1")).to_contain_text("1942")
    kerr = page.locator('#text a.mention[href="/id/archibald-clark-kerr"]')
    assert kerr.count() >= 1
    expect(kerr.first).to_be_visible()
    expect(page.locator("dl.meta-list")).to_contain_text("Delivered through")
    expect(page.locator("#text")).to_contain_text("reached me through Mr Kerr")
    page.screenshot(path=str(output_dir / "message-1942-03-29-stalin-to-churchill.png"), full_page=False)
    assert page.problems == []  # type: ignore[attr-defined]


def test_query_page_runs_canned_queries(server, page: Page, output_dir: Path):
    page.goto(server.url + "sparql")
    buttons = page.locator("button.canned-query")
    assert buttons.count() == len(list((Path(__file__).resolve().parent.parent / "queries").glob("*.rq")))

    page.locator("#q-office-holder-on-date").click()
    table = page.locator("#results-table")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr").first).to_contain_text("William H. Standley")
    expect(table.locator("thead")).to_contain_text("personLabel")
    expect(page.locator("#status")).to_contain_text("1 row")
    assert "SELECT" in page.locator("#query").input_value()
    page.screenshot(path=str(output_dir / "query-office-holder-on-date.png"), full_page=False)

    page.locator("#q-messages-delivered-through").click()
    kerr_row = page.locator("#results-table tbody tr", has_text="1942-03-29").filter(has_text="Archibald Clark Kerr")
    expect(kerr_row).to_have_count(1)
    link = kerr_row.locator('a[href="/id/archibald-clark-kerr"]')
    expect(link).to_have_count(1)
    page.screenshot(path=str(output_dir / "query-messages-delivered-through.png"), full_page=False)

    page.locator("#query").fill("SELECT ?x WHERE { ?x ?y }")
    page.locator("#run").click()
    expect(page.locator("#error")).to_contain_text("does not parse")
    link_page = page.context.new_page()
    link_page.goto(server.url + "sparql#first-and-last-mention")  # a canned query one link away, too
    expect(link_page.locator("#results-table tbody tr").first).to_contain_text("1944-02-04")
    problems = [p for p in page.problems if "400" not in p]  # type: ignore[attr-defined]  # the malformed query's 400
    assert problems == []


def test_markup_in_a_document_stays_text(tmp_path, browser: Browser, output_dir: Path):
    store, seeds = build_crafted(tmp_path)
    served = start_server(store, tmp_path, env={"WARTIME_KG_SEEDS": str(seeds)})
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        pg = context.new_page()
        dialogs: list[str] = []
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.goto(served.url + "source/crafted")
        pg.locator("#messages a").first.click()
        pg.wait_for_url(re.compile(r"/message/"))
        text = pg.locator("#text .text")
        expect(text).to_contain_text("Mr <script>alert(1)</script> Molotov met Churchill")
        expect(text).to_contain_text("<img src=x onerror=alert(2)>")
        assert pg.locator("#text script, #text img").count() == 0
        expect(pg.locator('#text a.mention[href="/id/vyacheslav-molotov"]').first).to_be_visible()
        pg.screenshot(path=str(output_dir / "crafted-document-escaped.png"), full_page=False)
        pg.goto(served.url + "id/vyacheslav-molotov")
        expect(pg.locator("#mentions")).to_contain_text("<script>alert(1)</script>")
        pg.goto(served.url)
        expect(pg.locator("#sources")).to_contain_text("A crafted <script>alert(3)</script> document")
        pg.wait_for_timeout(300)
        assert dialogs == []
    finally:
        context.close()
        stop_server(served)
