"""Search: each mode, filters inside the retrievers, staleness after import/delete/dedup, bad input, CLI."""

from __future__ import annotations

import json

import pytest

from catalog.errors import BadInput, EmbedderMismatch, UnknownDataset

DOCS = [
    {"id": "a1", "topic": "router", "text": "The router reboots every night and the lights go off."},
    {"id": "a2", "topic": "billing", "text": "I was charged twice for the same month on my invoice."},
    {"id": "a3", "topic": "wifi", "text": "Wireless signal is weak upstairs in the bedroom."},
    {"id": "a4", "topic": "router", "text": "How do I factory reset my modem to default settings?"},
    {"id": "a5", "topic": "moving", "text": "We are relocating to a new flat next month; can the service move?"},
    {"id": "a6", "topic": "billing", "text": "Please refund the duplicate payment taken from my card."},
]
EXTRA = [{"id": "b1", "text": "The router keeps restarting itself at random times."}]


@pytest.fixture
def loaded(cat):
    cat.add_records("support", DOCS, origin="real", id_field="id", tags=["demo"])
    cat.add_records("synth", EXTRA, origin="synthetic", id_field="id")
    return cat


def ids(hits):
    return [h.id for h in hits]


def test_each_mode_finds_its_kind_of_match(loaded):
    assert ids(loaded.search("refund payment", mode="keyword", k=2))[0] == "a6"
    # no shared words, same meaning: only vectors find it
    assert ids(loaded.search("the wifi does not reach the upper floor", mode="vector", k=1)) == ["a3"]
    hybrid = loaded.search("router restarting", mode="hybrid", k=3, explain=True)
    assert {"a1", "b1"} <= set(ids(hybrid))
    assert hybrid[0].explain["keyword"] is not None and hybrid[0].explain["vector"] is not None
    convex = loaded.search("router restarting", mode="hybrid", fusion="convex", alpha=0.7, k=2)
    assert convex[0].score <= 1.0 and "«router»" in convex[0].snippet


def test_filters_apply_inside_each_retriever(loaded):
    for mode in ("keyword", "vector", "hybrid"):
        hits = loaded.search("router restarting", mode=mode, k=5, origin="synthetic")
        assert ids(hits) == ["b1"], mode
        hits = loaded.search("money charged", mode=mode, k=5, field_equals={"topic": "billing"})
        assert set(ids(hits)) <= {"a2", "a6"} and hits, mode
        assert set(ids(loaded.search("router", mode=mode, k=5, datasets=["support"]))) <= {d["id"] for d in DOCS}
        assert loaded.search("router", mode=mode, k=5, tags=["nope"]) == []
    assert loaded.search("router", mode="keyword", k=5, created_before="2000-01-01") == []
    assert loaded.search("router", mode="keyword", k=5, min_quality=0.5) == []


def test_search_follows_imports_deletes_and_dedup(loaded):

    assert "z1" not in ids(loaded.search("satellite dish", mode="keyword", k=3))
    loaded.add_records("late", [{"id": "z1", "text": "Can I get a satellite dish installed on the roof?"}],
                       id_field="id")
    assert ids(loaded.search("satellite dish", mode="keyword", k=3)) == ["z1"]
    assert ids(loaded.search("satellite dish on the roof", mode="vector", k=1)) == ["z1"]
    loaded.delete("late")
    for mode in ("keyword", "vector", "hybrid"):
        assert "z1" not in ids(loaded.search("satellite dish", mode=mode, k=3)), mode
    loaded.add_records("copies", [{"id": "c1", "text": DOCS[1]["text"].upper()}], id_field="id")
    run = loaded.dedup(["support", "copies"], semantic=False)
    assert run.removed == 1
    for mode in ("keyword", "vector", "hybrid"):
        found = ids(loaded.search("charged twice same month invoice", mode=mode, k=5))
        assert ("a2" in found) != ("c1" in found), mode  # exactly one of the pair is searchable
    loaded.undo_dedup(run.run_id)
    assert {"a2", "c1"} <= set(ids(loaded.search("charged twice same month invoice", mode="keyword", k=5)))


def test_bad_queries_get_clear_answers(loaded):
    with pytest.raises(BadInput, match="`query`: is empty"):
        loaded.search("   ")
    with pytest.raises(BadInput, match="only stop words"):
        loaded.search("the and of", mode="keyword")
    assert loaded.search("the and of", mode="hybrid", k=2)  # vectors still answer
    with pytest.raises(UnknownDataset):
        loaded.search("router", datasets=["missing"])
    with pytest.raises(BadInput, match="unknown mode"):
        loaded.search("router", mode="fuzzy")
    for nasty in ("'; DROP TABLE records; --", 'router" OR 1=1 --', "%_\\'\"", "SELECT * FROM datasets"):
        loaded.search(nasty, mode="hybrid", k=2)
    assert sum(d.row_count for d in loaded.datasets()) == 7


def test_mixing_embedders_is_refused(loaded):
    from catalog.embedders import Embedder, register_embedder

    class Tiny(Embedder):
        id = "tiny-test"
        dimension = 3

        def embed_batch(self, texts):
            import numpy as np

            return np.tile(np.array([1.0, 0.0, 0.0], dtype=np.float32), (len(texts), 1))

    register_embedder(Tiny())
    loaded.add_records("tiny", [{"text": "router"}], embedder="tiny-test")
    with pytest.raises(EmbedderMismatch, match="different embedders"):
        loaded.search("router", mode="vector")
    assert ids(loaded.search("router", mode="vector", datasets=["tiny"], k=1))


def test_batch_search(loaded):
    results = loaded.searcher(mode="hybrid").run(["refund", "relocating flat"], k=1)
    assert [ids(r) for r in results] == [["a6"], ["a5"]]


def test_cli_search_and_batch(invoke, tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in DOCS) + "\n")
    assert invoke("import", str(path), "--dataset", "support", "--id-field", "id").exit_code == 0
    result = invoke("search", "refund payment", "--k", "2", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["id"] == "a6"
    shown = invoke("search", "router reboots", "--explain", "--field", "topic=router")
    assert "keyword #1" in shown.output
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"_id": "q1", "text": "refund"}\n{"id": 7, "text": "modem reset"}\n')
    out = tmp_path / "results.jsonl"
    assert invoke("search", "--queries", str(queries), "--k", "1", "--out", str(out)).exit_code == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(x["query_id"], x["hits"][0]["id"]) for x in lines] == [("q1", "a6"), ("7", "a4")]
    for args, expected in ((["search", ""], "QUERY: is empty"),
                           (["search", "x", "--dataset", "nope"], "unknown dataset"),
                           (["search"], "either a QUERY")):
        bad = invoke(*args)
        assert bad.exit_code == 1 and expected in bad.output and "Traceback" not in bad.output


def test_bm25_over_postings_scores_like_the_fts_macro(cat):
    """BM25 over the in-memory postings ranks and scores exactly as DuckDB's match_bm25, filters (and
    removed records) included; ties are broken by record id."""
    from catalog.search import keyword
    from catalog.search.bm25 import PostingsBM25
    from catalog.search.filters import SearchFilters
    from synthcat_demo import demo_file

    cat.import_file(demo_file("demo_pairs.jsonl"), "demo", origin="real", embed=False)
    cat.con.execute("UPDATE records SET status = 'removed' WHERE record_id % 7 = 0")
    keyword.ensure_index(cat)
    queries = ["router lights blinking red", "refund for a double charge", "moving house", "'; DROP TABLE x; --",
               "wifi wifi wifi speed", "the of and", "error 651 on the modem", "password"]
    for filters in (SearchFilters(), SearchFilters(field_equals={"category": "billing"}),
                    SearchFilters(include_removed=True)):
        where, params = filters.sql(cat)
        in_memory = PostingsBM25(cat, where, params)
        for q in queries:
            for k in (1, 3, 20):
                slow = keyword.keyword_search_macro(cat, q, k, where, params)
                mem = in_memory.search(in_memory.analyse(q), k)
                assert [r for r, _ in mem] == [r for r, _ in slow], (q, k)
                assert [s for _, s in mem] == pytest.approx([s for _, s in slow], rel=1e-9), q
    everything = PostingsBM25(cat, *SearchFilters().sql(cat))
    assert everything.search(everything.analyse("router"), 5)
    terms = list(everything.terms)  # the dictionary is sorted for searchsorted, as Python orders str
    assert terms == sorted(terms) and everything.lookup(["router", "zzzz-not-a-term"])[1] == -1
    assert PostingsBM25(cat, *SearchFilters().sql(cat)).analyse("the of and").words == []


def test_keyword_search_keeps_digits_and_non_latin_letters(cat):
    """Error codes, gene names and non-Latin words are terms of their own, not separators."""
    cat.add_records("tickets", [
        {"id": "e651", "text": "Modem shows error 651 after the update."},
        {"id": "e678", "text": "Modem shows error 678 after the update."},
        {"id": "il6", "text": "IL-6 levels rise in β-cells under stress."},
        {"id": "ru", "text": "Роутер не включается после грозы."},
    ], id_field="id", embed=False)
    assert ids(cat.search("error 651", mode="keyword", k=1)) == ["e651"]
    assert ids(cat.search("678", mode="keyword", k=5)) == ["e678"]
    assert ids(cat.search("β cells", mode="keyword", k=5)) == ["il6"]
    assert ids(cat.search("роутер", mode="keyword", k=5)) == ["ru"]
    hit = cat.search("error 651", mode="keyword", k=1)[0]
    assert "«651»" in hit.snippet


def test_keyword_index_built_with_other_settings_is_rebuilt(cat):
    from catalog.search import keyword

    cat.add_records("notes", [{"text": "error 651"}], embed=False)
    keyword.ensure_index(cat)
    assert keyword.is_fresh(cat)
    cat.set_meta("fts_fingerprint", cat.get_meta("fts_fingerprint").replace(keyword.INDEX_SETTINGS, "old"))
    assert not keyword.is_fresh(cat)
    assert keyword.ensure_index(cat) > 0 and keyword.is_fresh(cat)
