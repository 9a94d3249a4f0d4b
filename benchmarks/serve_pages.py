"""Open every page of ``synthcat serve`` over a catalog in headless Chromium; print JSON.

    python benchmarks/serve_pages.py --catalog synthcat-demo --screenshots /tmp/pages

Pages: the home page, each dataset (and its removed records), the first record of each text dataset
with each record it was made from, search (a query from each text dataset), every dedup run and
every evaluation. A page passes when it answers 200, shows its heading and raises no script error,
failed request or 4xx/5xx sub-resource. Chromium is Debian's (``SYNTHCAT_CHROMIUM`` names another).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from serve_search import free_port, start_server  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update"]


def page_urls(catalog: Path) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from catalog import Catalog

    urls = ["/", "/search", "/dedup", "/evaluations"]
    with Catalog.open(catalog, read_only=True) as cat:
        for ds in cat.datasets():
            name = urllib.parse.quote(ds.name)
            urls.append(f"/datasets/{name}")
            if ds.kind == "table":
                continue
            if ds.removed:
                urls.append(f"/datasets/{name}?status=removed")
            first = next(cat.records(ds.name, limit=1), None)
            if first is None:
                continue
            urls.append(f"/records/{first.record_id}")
            urls += [f"/records/{link.source_record_id}" for link in cat.lineage(first.record_id).sources[:3]]
            urls.append("/search?" + urllib.parse.urlencode({"q": first.text[:80], "dataset": ds.name}))
        urls += [f"/dedup/{run.run_id}" for run in cat.dedup_runs()]
        urls += [f"/evaluations/{e.evaluation_id}" for e in cat.evaluations()]
    return list(dict.fromkeys(urls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--screenshots", type=Path, help="save a full-page PNG of each page here")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("SYNTHCAT_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        raise SystemExit("no chromium: apt-get install chromium, or set SYNTHCAT_CHROMIUM")
    urls = page_urls(args.catalog)
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_server(args.catalog, port)
    results = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
            page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
            page.on("response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
            for number, url in enumerate(urls):
                problems.clear()
                started = time.perf_counter()
                response = page.goto(f"http://127.0.0.1:{port}{url}")
                seconds = time.perf_counter() - started
                ok = response is not None and response.status == 200 and page.locator("main h1").is_visible()
                if args.screenshots:
                    page.screenshot(path=str(args.screenshots / f"{number:03d}.png"), full_page=True)
                results.append({"url": url, "status": response.status if response else None,
                                "ok": ok and not problems, "problems": list(problems), "seconds": round(seconds, 3)})
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps({"benchmark": "serve_pages", "catalog": str(args.catalog), "pages": len(results),
                      "all_ok": all(r["ok"] for r in results), "failed": [r for r in results if not r["ok"]],
                      "slowest": sorted(results, key=lambda r: -r["seconds"])[:3]}, indent=2))


if __name__ == "__main__":
    main()
