"""The web app at the HTTP level: every page and its JSON twin on a catalog with one of everything,
bad requests answered 4xx (never 500), read-only by default, writes only with the token.

One catalog is built per module (grounded generation against a scripted endpoint, dedup, a stored
evaluation: see browse_catalog.py); tests that write build their own.
"""

from __future__ import annotations

import re
import shutil

import pytest
from starlette.testclient import TestClient

from catalog import Catalog
from catalog.web.app import create_app
from tests.catalog.browse_catalog import NOVEL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(browse_catalog):
    return browse_catalog


@pytest.fixture(scope="module")
def client(built):
    directory, _ = built
    with TestClient(create_app(directory), base_url="http://127.0.0.1") as test_client:
        yield test_client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_home_lists_every_dataset_with_counts_origin_and_tags(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = text_of(page.text)
    for name in ("seed", "notes", "chats", "customers", "gen", "seed-clean"):
        assert f'href="/datasets/{name}"' in page.text
    assert "synthetic" in text and "real" in text and "license:cc-by-4.0" in text
    api = client.get("/api/datasets").json()
    by_name = {d["name"]: d for d in api["datasets"]}
    assert by_name["gen"]["origin"] == "synthetic" and by_name["gen"]["row_count"] == 2
    assert by_name["seed"]["removed"] == 1 and by_name["customers"]["kind"] == "table"
    assert len(api["dedup_runs"]) == 1 and len(api["evaluations"]) == 1


def test_dataset_page_shows_records_fields_and_lineage(client, built):
    _, facts = built
    page = client.get("/datasets/gen")
    assert page.status_code == 200
    text = text_of(page.text)
    assert NOVEL[0][0] in text and "llm-grounded" in text
    assert 'href="/datasets/seed"' in page.text  # parent and grounding source, as links
    assert "grounded_on" in text
    for record_id in facts["generated"]:
        assert f'href="/records/{record_id}"' in page.text
    data = client.get("/api/datasets/gen").json()
    assert data["info"]["parents"] == ["seed"] and data["info"]["origin"] == "synthetic"
    assert [r["record_id"] for r in data["page"]["records"]] == facts["generated"]
    assert {f["name"]: f["role"] for f in data["fields"]} == {"prompt": "prompt", "response": "response"}
    assert data["info"]["generation_jobs"][0]["usage"]["total_tokens"] == 320


def test_records_are_paged_and_removed_ones_listed_apart(client, built):
    _, facts = built
    first = client.get("/api/datasets/seed?size=2").json()["page"]
    assert (first["page"], first["pages"], first["total"]) == (1, 2, 4)  # 5 pairs, 1 removed by dedup
    second = client.get("/api/datasets/seed?size=2&page=2").json()["page"]
    ids = [r["record_id"] for r in first["records"] + second["records"]]
    assert ids == sorted(ids) and len(set(ids)) == 4 and not set(ids) & set(facts["removed"])
    html = client.get("/datasets/seed?size=2")
    assert 'rel="next"' in html.text and "page=2" in html.text
    removed = client.get("/api/datasets/seed?status=removed").json()["page"]
    assert [r["record_id"] for r in removed["records"]] == facts["removed"]


def test_table_dataset_pages_typed_rows(client):
    data = client.get("/api/datasets/customers").json()
    assert [c["type"] for c in data["page"]["columns"]] == ["VARCHAR", "BIGINT", "DOUBLE", "BOOLEAN", "DATE"]
    assert data["page"]["rows"][0] == {"customer": "a1", "age": 31, "monthly": 29.5, "churned": False,
                                       "since": "2021-03-01"}
    assert data["page"]["rows"][2]["age"] is None
    assert "2019-11-15" in client.get("/datasets/customers").text


def test_record_page_links_its_grounding_records(client, built):
    _, facts = built
    generated = facts["generated"][0]
    page = client.get(f"/records/{generated}")
    assert page.status_code == 200
    for source in facts["grounding"]:
        assert f'href="/records/{source}"' in page.text
    data = client.get(f"/api/records/{generated}").json()
    assert [s["link"]["source_record_id"] for s in data["sources"]] == facts["grounding"]
    assert all(s["link"]["relation"] == "grounded_on" for s in data["sources"])
    assert data["record"]["fields"] == {"prompt": NOVEL[0][0], "response": NOVEL[0][1]}
    source_page = client.get(f"/records/{facts['grounding'][0]}")
    assert f'href="/records/{generated}"' in source_page.text  # and back: what was made from it


def test_removed_record_names_its_dedup_run(client, built):
    _, facts = built
    removed = facts["removed"][0]
    data = client.get(f"/api/records/{removed}").json()
    assert data["record"]["status"] == "removed"
    assert [(x["run_id"], x["stage"]) for x in data["removals"]] == [(facts["run_id"], "exact")]
    assert f'href="/dedup/{facts["run_id"]}"' in client.get(f"/records/{removed}").text


def test_search_explains_scores_and_filters(client):
    page = client.get("/search", params={"q": "wifi password router"})
    assert page.status_code == 200
    assert "<mark>" in page.text and "keyword: #" in text_of(page.text) and "vector: #" in text_of(page.text)
    data = client.get("/api/search", params={"q": "wifi password router", "k": 3}).json()
    assert len(data["hits"]) == 3
    top = data["hits"][0]
    assert top["explain"]["keyword"]["rank"] >= 1 and top["explain"]["vector"]["score"] > 0
    assert "wifi password" in top["text"]
    billing = client.get("/api/search", params={"q": "charged", "field": "category=billing", "dataset": "seed"}).json()
    assert [h["external_id"] for h in billing["hits"]] == ["p3"]
    synthetic = client.get("/api/search", params={"q": "router", "origin": "synthetic"}).json()
    assert synthetic["hits"] and {h["dataset"] for h in synthetic["hits"]} == {"gen"}
    keyword = client.get("/api/search", params={"q": "firmware", "mode": "keyword"}).json()
    assert keyword["hits"][0]["external_id"] == "n2" and keyword["hits"][0]["explain"]["vector"] is None
    assert client.get("/search").status_code == 200  # the empty form


def test_dedup_run_shows_clusters_kept_and_removed(client, built):
    _, facts = built
    run = facts["run_id"]
    page = client.get(f"/dedup/{run}")
    assert page.status_code == 200
    assert "kept" in page.text and "removed" in page.text and "exact" in page.text
    assert "undo-form" not in page.text  # read-only server: no undo button
    data = client.get(f"/api/dedup/{run}").json()
    assert data["run"]["run_id"] == run and data["total"] == 1
    cluster = data["clusters"][0]
    assert [m["record_id"] for m in cluster["removed"]] == facts["removed"]
    assert cluster["removed"][0]["stage"] == "exact" and cluster["removed"][0]["score"] == 1.0
    assert cluster["kept"]["text"] == cluster["removed"][0]["text"]
    assert client.get("/dedup").status_code == 200 and client.get("/api/dedup").json()[0]["run_id"] == run


def test_evaluation_report_page(client, built):
    _, facts = built
    eid = facts["evaluation_id"]
    page = client.get(f"/evaluations/{eid}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "distinct 2" in text and "near copy share" in text and "novelty" in text
    data = client.get(f"/api/evaluations/{eid}").json()
    assert data["kind"] == "text" and data["datasets"]["synthetic"] == "gen"
    assert 0 <= data["headline"]["distinct_2"] <= 1
    assert client.get("/evaluations").status_code == 200
    assert f'href="/evaluations/{eid}"' in client.get("/datasets/gen").text


@pytest.mark.parametrize("url, status", [
    ("/datasets/no-such-dataset", 404), ("/api/datasets/no-such-dataset", 404),
    ("/records/999999", 404), ("/records/abc", 404), ("/records/-1", 404),
    ("/records/99999999999999999999999999", 404), ("/api/records/99999999999999999999", 404),
    ("/dedup/77", 404), ("/dedup/x", 404), ("/api/dedup/77", 404), ("/evaluations/77", 404),
    ("/datasets/seed?page=0", 400), ("/datasets/seed?page=999999999", 400),
    ("/datasets/seed?page=" + "9" * 400, 400), ("/datasets/seed?page=1e9", 400), ("/datasets/seed?size=5000", 400),
    ("/datasets/seed?status=gone", 400), ("/api/dedup/1?page=99", 400),
    ("/search?q=router&k=0", 400), ("/search?q=router&k=1000", 400), ("/search?q=router&mode=fuzzy", 400),
    ("/search?q=router&dataset=nope", 400), ("/api/search?q=router&dataset=nope", 400),
    ("/search?q=router&dataset=customers", 400), ("/search?q=router&field=nofilter", 400),
    ("/search?q=router&min_quality=high", 400), ("/search?q=router&created_after=yesterday", 400),
    ("/search?q=router&alpha=2", 400), ("/search?q=router&include_removed=maybe", 400),
    ("/api/search?q=" + "x" * 10_001, 400), ("/search?q=the&mode=keyword", 400),
    ("/no/such/page", 404), ("/static/../catalog.duckdb", 404), ("/static/%2e%2e/app.py", 404),
])
def test_bad_requests_get_a_4xx_page_never_a_500(client, url, status):
    response = client.get(url)
    assert response.status_code == status, response.text[:500]
    if url.startswith("/api/"):
        assert response.json()["status"] == status and response.json()["error"]
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert "id=\"error-message\"" in response.text


def test_error_messages_name_url_parameters(client):
    text = client.get("/api/search", params={"q": "router", "field": "oops"}).json()["error"]
    assert "'field'" in text and "`" not in text
    assert "'dataset'" in client.get("/api/search", params={"q": "x", "dataset": "nope"}).json()["error"]


def test_read_only_server_refuses_writes_and_foreign_hosts(client, built):
    _, facts = built
    refused = client.post(f"/dedup/{facts['run_id']}/undo", data={"token": "anything"})
    assert refused.status_code == 403 and "--allow-writes" in refused.text
    assert client.post(f"/api/dedup/{facts['run_id']}/undo").status_code == 403
    assert client.get(f"/dedup/{facts['run_id']}/undo").status_code == 405
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400  # DNS rebinding
    page = client.get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)  # no remote assets
    with Catalog.open(built[0], read_only=True) as cat:
        assert cat.dedup_runs()[0].undone_at is None


def test_undo_needs_writes_allowed_and_the_token(built, tmp_path):
    directory = tmp_path / "cat"
    shutil.copytree(built[0], directory)
    run = built[1]["run_id"]
    token = "t" * 32
    app = create_app(directory, allow_writes=True, token=token)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        page = client.get(f"/dedup/{run}")
        assert 'id="undo-form"' in page.text and token not in page.text  # the token is never in a page
        assert client.post(f"/dedup/{run}/undo", data={"token": "wrong" * 8}).status_code == 403
        assert client.post(f"/dedup/{run}/undo").status_code == 403
        done = client.post(f"/dedup/{run}/undo", data={"token": token})
        assert done.status_code == 303 and done.headers["location"] == f"/dedup/{run}?undone=1"
        assert "restored" in client.get(done.headers["location"]).text
        assert client.get("/api/dedup").json()[0]["undone_at"] is not None
        again = client.post(f"/api/dedup/{run}/undo", headers={"x-synthcat-token": token})
        assert again.status_code == 409
        assert client.post("/api/dedup/99/undo", headers={"x-synthcat-token": token}).status_code == 404
        assert client.get("/api/datasets/seed").json()["info"]["removed"] == 0  # read again after the write
    with Catalog.open(directory, read_only=True) as cat:
        assert cat.dataset("seed").removed == 0


def test_writes_need_a_token_to_be_allowed(built):
    from catalog.errors import BadInput

    with pytest.raises(BadInput):
        create_app(built[0], allow_writes=True, token=None)
