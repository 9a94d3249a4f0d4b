"""``synthcat serve`` in a real headless Chromium: the home page, a search typed into the page, a
lineage link followed from a generated record to the record that grounded it, and every other page
rendered without a script error. Screenshots go to the test's temporary directory.

The browser is Debian's ``chromium`` (``apt-get install chromium``; ``SYNTHCAT_CHROMIUM`` names
another binary), driven by Playwright's Python client, which needs no browser download of its own.
A missing browser fails this test with what to install; it is never skipped.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.catalog.browse_catalog import NOVEL
from tests.generators.chat_fakes import free_port
from tests.test_cli_share import start_server, stop_server

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


def chromium_path() -> str:
    path = os.environ.get("SYNTHCAT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("headless Chromium not found: install Debian's chromium package (apt-get install chromium) "
                    "or point SYNTHCAT_CHROMIUM at a Chromium binary")
    return path


@pytest.fixture(scope="module")
def server(browse_catalog):
    directory, facts = browse_catalog
    port = free_port()
    proc = start_server(directory, port)
    yield f"http://127.0.0.1:{port}", facts
    stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    opened.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    opened.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    opened.on("response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
    opened.problems = problems  # a test that expects an error clears it
    yield opened
    context.close()
    assert problems == []


def test_home_search_and_a_lineage_link(server, page, tmp_path):
    base, facts = server
    page.goto(base + "/")
    assert page.title() == "Datasets · synthcat"
    rows = page.locator("#datasets tbody tr")
    assert rows.count() == 6
    assert page.locator("#datasets").get_by_role("link", name="gen", exact=True).is_visible()
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)

    page.fill("header form.quick input[name=q]", NOVEL[0][0])
    page.press("header form.quick input[name=q]", "Enter")
    page.wait_for_url("**/search?q=*")
    hits = page.locator("#hits .hit")
    assert hits.count() >= 1
    assert "keyword: #" in hits.first.inner_text() and "vector: #" in hits.first.inner_text()
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)

    generated = facts["generated"][0]
    page.click(f"#hits a[href='/records/{generated}']")
    page.wait_for_url(f"**/records/{generated}")
    assert NOVEL[0][1] in page.inner_text("main")
    source = facts["grounding"][0]
    page.click(f"#sources a[href='/records/{source}']")
    page.wait_for_url(f"**/records/{source}")
    assert page.locator("h1").inner_text().startswith(f"Record #{source}")
    assert page.locator(f"#derived a[href='/records/{generated}']").count() == 1  # the way back
    page.screenshot(path=str(tmp_path / "lineage.png"), full_page=True)
    assert all((tmp_path / name).stat().st_size > 10_000 for name in ("home.png", "search.png", "lineage.png"))


def test_every_page_renders(server, page, tmp_path):
    base, facts = server
    urls = ["/", "/datasets/seed", "/datasets/gen", "/datasets/chats", "/datasets/notes", "/datasets/customers",
            "/datasets/seed-clean", "/datasets/seed?status=removed", f"/records/{facts['generated'][0]}",
            f"/records/{facts['removed'][0]}", "/search", "/search?q=router&mode=keyword&dataset=seed",
            "/dedup", f"/dedup/{facts['run_id']}", "/evaluations", f"/evaluations/{facts['evaluation_id']}"]
    for number, url in enumerate(urls):
        response = page.goto(base + url)
        assert response.status == 200, url
        assert page.locator("header.top nav").is_visible() and page.locator("main h1").is_visible(), url
        page.screenshot(path=str(tmp_path / f"page-{number:02d}.png"), full_page=True)
    missing = page.goto(base + "/datasets/no-such-dataset")
    assert missing.status == 404 and "unknown dataset" in page.inner_text("#error-message")
    assert [p for p in page.problems if "404" not in p] == []
    page.problems.clear()
