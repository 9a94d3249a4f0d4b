"""Export: round trips, formats, chat layout, sidecar; delete; read-only SQL; index consistency."""

from __future__ import annotations

import gzip
import itertools
import json

import pandas as pd
import pytest

from catalog.errors import BadInput, SynthcatError, UnknownDataset
from catalog.vector_index import VectorIndex
from tests.conftest import SHARED_DATASETS


@pytest.fixture
def scifact_sample(tmp_path):
    """The first 200 documents of the shared SciFact corpus."""
    src = SHARED_DATASETS / "scifact" / "corpus.jsonl.gz"
    path = tmp_path / "scifact-sample.jsonl.gz"
    with gzip.open(src, "rt", encoding="utf-8") as fin, gzip.open(path, "wt", encoding="utf-8") as fout:
        fout.writelines(itertools.islice(fin, 200))
    return path


def test_scifact_sample_round_trips_ids_and_texts(cat, scifact_sample, tmp_path):
    cat.import_file(scifact_sample, "scifact", origin="real", id_field="_id", text_fields=["title", "text"],
                    embed=False)
    out = tmp_path / "out.jsonl"
    summary = cat.export("scifact", out)
    assert summary.rows == 200
    with gzip.open(scifact_sample, "rt", encoding="utf-8") as fh:
        original = [json.loads(line) for line in fh]
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(d["_id"], d["title"], d["text"]) for d in exported] == \
        [(d["_id"], d["title"], d["text"]) for d in original]
    meta = json.loads((tmp_path / "out.jsonl.meta.json").read_text())
    assert meta["origin"] == "real" and meta["rows"] == 200 and len(meta["records"]) == 200


def test_csv_parquet_and_chat_exports(cat, pairs_file, tmp_path):
    cat.import_file(pairs_file, "support", origin="synthetic", id_field="id", embed=False)
    cat.export("support", tmp_path / "s.csv")
    cat.export("support", tmp_path / "s.parquet")
    assert pd.read_csv(tmp_path / "s.csv")["id"].tolist() == ["p1", "p2", "p3", "p4", "p5"]
    assert pd.read_parquet(tmp_path / "s.parquet")["prompt"].iloc[2] == "I was billed twice this month."
    cat.export("support", tmp_path / "chat.jsonl", format="chat")
    first = json.loads((tmp_path / "chat.jsonl").read_text().splitlines()[0])
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]
    assert first["messages"][0]["content"] == "My internet keeps dropping every evening."
    meta = json.loads((tmp_path / "chat.jsonl.meta.json").read_text())
    assert meta["origin"] == "synthetic" and meta["format"] == "chat"


def test_export_refuses_bad_requests(cat, tmp_path):
    cat.add_records("texts", [{"text": "a"}], embed=False)
    with pytest.raises(BadInput, match="chat needs pairs"):
        cat.export("texts", tmp_path / "x.jsonl", format="chat")
    with pytest.raises(BadInput, match="extension"):
        cat.export("texts", tmp_path / "x.txt")
    with pytest.raises(UnknownDataset, match="unknown dataset 'nope'"):
        cat.export("nope", tmp_path / "x.jsonl")


def test_table_export_keeps_rows(cat, tmp_path):
    cat.add_table("t", pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    cat.export("t", tmp_path / "t.parquet")
    assert pd.read_parquet(tmp_path / "t.parquet").to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}


def test_delete_removes_records_vectors_and_index_entries(cat, pairs_file, tmp_path):
    cat.import_file(pairs_file, "keep", embed=True)
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"text": "a text only the second dataset holds"}) + "\n")
    cat.import_file(other, "drop", embed=True)
    assert cat.index_status()[0].records_in_index == 6
    cat.delete("drop")
    assert not cat.has_dataset("drop")
    assert cat.con.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 4  # the schema itself
    status = cat.index_status()[0]
    assert status.in_sync and status.records_in_index == 5


def test_stale_or_tampered_index_is_rebuilt_from_duckdb(cat, pairs_file):
    cat.import_file(pairs_file, "support", embed=True)
    index = VectorIndex(cat, "all-MiniLM-L6-v2")
    manifest = json.loads(index.manifest_path.read_text())
    manifest["count"] = 99
    index.manifest_path.write_text(json.dumps(manifest))
    assert not cat.index_status()[0].in_sync
    fresh = VectorIndex(cat, "all-MiniLM-L6-v2").load()
    assert fresh.ntotal == 5 and cat.index_status()[0].in_sync
    index.index_path.write_bytes(b"garbage")
    assert VectorIndex(cat, "all-MiniLM-L6-v2").load().ntotal == 5


def test_sql_is_read_only(catalog_dir, pairs_file):
    from catalog import open_catalog

    with open_catalog(catalog_dir, create=True) as cat:
        cat.import_file(pairs_file, "support", embed=False)
    with open_catalog(catalog_dir, read_only=True) as ro:
        assert ro.sql("SELECT count(*) AS n FROM records").rows == [[5]]
        assert ro.sql('SELECT prompt FROM "support" ORDER BY record_id LIMIT 1').rows == [
            ["My internet keeps dropping every evening."]]
        with pytest.raises(SynthcatError, match="SQL error"):
            ro.sql("DELETE FROM records")
        with pytest.raises(SynthcatError, match="SQL error"):
            ro.sql("SELEKT 1")
    with open_catalog(catalog_dir, read_only=True) as ro:
        assert ro.sql("SELECT count(*) FROM records").rows == [[5]]
