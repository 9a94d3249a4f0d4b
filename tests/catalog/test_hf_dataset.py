"""Hugging Face export and import: the round trip export -> ``datasets.load_dataset`` -> import keeps
rows and fields identical for pairs, texts, conversations and tables; the card says what the
catalog knows; bad targets and inputs are refused before anything is written.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
import yaml

from catalog.errors import BadInput
from catalog.hf_dataset import EXTERNAL_ID, RECORD_ID
from tests.catalog.browse_catalog import CONVERSATIONS, TEXTS, customers
from tests.conftest import SUPPORT_PAIRS

PAIRS = [dict(p, category="billing" if p["id"] == "p3" else "tech", votes=i) for i, p in enumerate(SUPPORT_PAIRS)]
# fields that do not fit one Arrow type, fields some records lack, explicit nulls beside absent ones
IRREGULAR = [
    {"id": "r1", "text": "first", "score": 1, "meta": {"a": 1}, "note": None},
    {"id": "r2", "text": "second", "score": 2.5, "meta": {"a": 2, "b": "x"}},
    {"id": "r3", "text": "third", "score": 3, "flag": True, "code": "A1", "tags": ["a", "b"]},
    {"id": "r4", "text": "fourth", "score": None, "flag": False, "note": "kept", "code": 7, "tags": []},
]


def load_rows(directory, cache, *, builder: bool = True) -> list[dict]:
    from datasets import load_dataset

    if builder:
        loaded = load_dataset("parquet", data_dir=str(directory), split="train", cache_dir=str(cache))
    else:
        loaded = load_dataset(str(directory), split="train", cache_dir=str(cache))
    return loaded.to_list()


def card(directory) -> dict:
    text = (directory / "README.md").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---")[1])


def decoded(row: dict, columns: list[dict]) -> dict:
    """A loaded row as the record's fields, following the card's column encodings."""
    out = {}
    for column in columns:
        name, value = column["name"], row[column["name"]]
        if column["role"] != "field" or (value is None and column["encoding"] != "typed"):
            continue
        out[name] = json.loads(value) if column["encoding"] == "json" else value
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name, rows, kind", [("pairs", PAIRS, "pairs"), ("notes", TEXTS, "text"),
                                              ("chats", CONVERSATIONS, "conversations"),
                                              ("irregular", IRREGULAR, "text")])
def test_text_like_round_trip_keeps_rows_fields_and_ids(cat, tmp_path, name, rows, kind):
    cat.add_records(name, rows, origin="synthetic", id_field="id", description=f"{name} for the round trip",
                    tags=["round-trip"], generator="hand-written", model="none", seed=5, embed=False)
    records = list(cat.records(name))
    out = tmp_path / "hf"
    result = cat.export(name, out, format="hf")
    assert result.rows == len(rows) and result.shards == ["data/train-00000-of-00001.parquet"]
    assert result.origin == "synthetic" and (out / "README.md").is_file()

    loaded = load_rows(out, tmp_path / "cache")
    columns = card(out)["synthcat"]["columns"]
    assert [row[RECORD_ID] for row in loaded] == [r.record_id for r in records]
    assert [row[EXTERNAL_ID] for row in loaded] == [r.external_id for r in records] == [r["id"] for r in rows]
    assert [decoded(row, columns) for row in loaded] == [r.fields for r in records] == rows
    if kind == "conversations":
        assert loaded[0]["messages"] == CONVERSATIONS[0]["messages"]  # a list of structs, not JSON text
        assert next(c for c in columns if c["name"] == "messages")["encoding"] == "typed"
    assert load_rows(out, tmp_path / "cache2", builder=False) == loaded  # load_dataset(DIR) too

    back = cat.import_file(out, f"{name}-back", embed=False)
    assert (back.kind, back.origin, back.rows) == (kind, "synthetic", len(rows))
    again = list(cat.records(f"{name}-back"))
    assert [r.fields for r in again] == [r.fields for r in records]
    assert [r.external_id for r in again] == [r.external_id for r in records]
    assert [r.text for r in again] == [r.text for r in records]
    ds, original = cat.dataset(f"{name}-back"), cat.dataset(name)
    assert ds.parameters["mapping"] == original.parameters["mapping"]
    assert (ds.description, ds.tags, ds.generator, ds.model, ds.seed) == \
        (original.description, original.tags, "hand-written", "none", 5)
    assert ds.parameters["imported_from"]["dataset"] == name


def test_irregular_fields_are_encoded_losslessly(cat, tmp_path):
    cat.add_records("irregular", IRREGULAR, id_field="id", embed=False)
    cat.export("irregular", tmp_path / "hf", format="hf")
    encodings = {c["name"]: (c["encoding"], c["type"]) for c in card(tmp_path / "hf")["synthcat"]["columns"]}
    assert encodings["text"] == ("typed", "string")
    assert encodings["score"][0] == "json"  # ints beside a float: no one Arrow type gives both back
    assert encodings["meta"][0] == "json"  # structs with different keys
    assert encodings["code"][0] == "json"  # text in one record, a number in another
    assert encodings["flag"] == ("optional", "bool")  # absent in two records, never null
    assert encodings["note"][0] == "json"  # null in one record, absent in others: kept apart
    assert encodings["tags"] == ("optional", "list<item: string>")


@pytest.mark.slow
def test_table_round_trip_keeps_typed_columns(cat, tmp_path):
    frame = customers()
    cat.add_table("customers", frame, origin="real", description="customers", tags=["crm"])
    out = tmp_path / "hf"
    result = cat.export("customers", out, format="hf", license="cc-by-4.0", language=["en"])
    assert result.rows == 4
    loaded = load_rows(out, tmp_path / "cache")
    assert loaded[0] == {"customer": "a1", "age": 31, "monthly": 29.5, "churned": False, "since": dt.date(2021, 3, 1)}
    assert loaded[2]["age"] is None
    assert [r["customer"] for r in loaded] == list(frame["customer"])
    back = cat.import_file(out, "customers-back")
    assert back.kind == "table" and back.origin == "real"
    original, again = cat.table("customers"), cat.table("customers-back")
    pd.testing.assert_frame_equal(original, again)
    # the typed columns survive, not just the values
    assert [c.type for c in cat.show("customers-back").columns] == [c.type for c in cat.show("customers").columns]
    assert set(cat.dataset("customers-back").tags) == {"crm", "license:cc-by-4.0", "language:en"}


def test_tables_are_sharded_in_order(cat, tmp_path):
    frame = pd.DataFrame({"i": range(25), "s": [f"row {i}" for i in range(25)]})
    cat.add_table("numbers", frame)
    from catalog.hf_dataset import export_hf

    result = export_hf(cat, "numbers", tmp_path / "hf", shard_rows=10)
    assert result.shards == [f"data/train-0000{i}-of-00003.parquet" for i in range(3)]
    back = cat.import_file(tmp_path / "hf", "numbers-back")
    assert back.rows == 25 and list(cat.table("numbers-back")["i"]) == list(range(25))


def test_text_records_are_sharded_and_removed_ones_left_out(cat, tmp_path):
    rows = [{"id": f"x{i}", "text": f"note number {i}"} for i in range(25)] + [{"id": "dup", "text": "note number 3"}]
    cat.add_records("many", rows, id_field="id")
    cat.dedup("many", minhash=False, semantic=False)
    from catalog.hf_dataset import export_hf

    result = export_hf(cat, "many", tmp_path / "hf", shard_rows=10)
    assert result.rows == 25 and len(result.shards) == 3
    back = cat.import_file(tmp_path / "hf", "many-back", embed=False)
    assert [r.external_id for r in cat.records("many-back")] == [f"x{i}" for i in range(25)]
    assert back.rows == 25


@pytest.mark.slow
def test_card_is_generated_from_the_catalog(browse_catalog, tmp_path):
    directory, facts = browse_catalog
    from catalog import Catalog

    with Catalog.open(directory, read_only=True) as cat:
        cat.export("gen", tmp_path / "gen", format="hf", language=["en"])
        cat.export("seed", tmp_path / "seed", format="hf")
        cat.export("seed-clean", tmp_path / "clean", format="hf")
    meta = card(tmp_path / "gen")
    assert meta["task_categories"] == ["text-generation"] and meta["size_categories"] == ["n<1K"]
    assert meta["language"] == ["en"] and "synthetic" in meta["tags"]
    assert meta["synthcat"]["origin"] == "synthetic" and meta["synthcat"]["generator"] == "llm-grounded"
    body = (tmp_path / "gen" / "README.md").read_text().split("---", 2)[2]
    assert "**synthetic**" in body and "llm-grounded" in body and '"seed": 7' in body
    assert "Grounding datasets" in body and "| `seed` |" in body
    assert f"Evaluation {facts['evaluation_id']}" in body and "distinct 2" in body
    assert "## Tokens and cost" in body and "| total tokens | 320 |" in body
    seed = (tmp_path / "seed" / "README.md").read_text()
    assert card(tmp_path / "seed")["license"] == "cc-by-4.0"  # from the dataset's license: tag
    assert "## Deduplication" in seed and "checked this dataset" in seed and "exact: 1" in seed
    clean = (tmp_path / "clean" / "README.md").read_text()
    assert "this dataset holds its survivors" in clean and "deduplicated_from" in clean


def test_export_target_is_checked_before_anything_is_written(cat, tmp_path):
    cat.add_records("notes", TEXTS, id_field="id", embed=False)
    with pytest.raises(BadInput, match="inside the catalog"):
        cat.export("notes", cat.directory / "hf", format="hf")
    (tmp_path / "file").write_text("x")
    with pytest.raises(BadInput, match="is a file"):
        cat.export("notes", tmp_path / "file", format="hf")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep me")
    with pytest.raises(BadInput, match="not empty"):
        cat.export("notes", busy, format="hf")
    with pytest.raises(BadInput, match="not a synthcat export"):
        cat.export("notes", busy, format="hf", force=True)
    assert (busy / "mine.txt").read_text() == "keep me"
    with pytest.raises(BadInput, match="license"):
        cat.export("notes", tmp_path / "x", format="hf", license="not a licence!")
    with pytest.raises(BadInput, match="format hf"):
        cat.export("notes", tmp_path / "x.jsonl", license="mit")
    empty = tmp_path / "empty"
    empty.mkdir()
    cat.export("notes", empty, format="hf")  # an empty directory is fine
    with pytest.raises(BadInput, match="not empty"):
        cat.export("notes", empty, format="hf")
    cat.export("notes", empty, format="hf", force=True)  # an earlier export is replaced with force
    assert sorted(p.name for p in empty.iterdir()) == ["README.md", "data"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_import_refuses_bad_directories(cat, tmp_path):
    cat.add_records("notes", TEXTS, origin="synthetic", id_field="id", embed=False)
    cat.export("notes", tmp_path / "hf", format="hf")
    with pytest.raises(BadInput, match="mislabel"):
        cat.import_file(tmp_path / "hf", "x", origin="real")
    assert not cat.has_dataset("x")
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    with pytest.raises(BadInput, match="no Parquet files"):
        cat.import_file(nothing, "x")
    splits = tmp_path / "splits" / "data"
    splits.mkdir(parents=True)
    for split in ("train", "test"):
        (splits / f"{split}-00000-of-00001.parquet").write_bytes(
            (tmp_path / "hf" / "data" / "train-00000-of-00001.parquet").read_bytes())
    with pytest.raises(BadInput, match="splits test, train"):
        cat.import_file(splits.parent, "x")
    broken = tmp_path / "broken"
    (broken / "data").mkdir(parents=True)
    (broken / "data" / "train-00000-of-00001.parquet").write_bytes(
        (tmp_path / "hf" / "data" / "train-00000-of-00001.parquet").read_bytes())
    (broken / "README.md").write_text("---\nsynthcat: [unclosed\n---\n")
    with pytest.raises(BadInput, match="does not parse"):
        cat.import_file(broken, "x")
    (broken / "README.md").write_text("---\nsynthcat:\n  format: 99\n---\n")
    with pytest.raises(BadInput, match="format 99"):
        cat.import_file(broken, "x")
    assert not cat.has_dataset("x")


def test_a_foreign_parquet_directory_imports_as_a_table_or_as_text(cat, tmp_path):
    data = tmp_path / "foreign" / "data"
    data.mkdir(parents=True)
    pd.DataFrame({"question": ["why?", "how?"], "answer": ["because", "like this"]}).to_parquet(
        data / "train-00000-of-00001.parquet")
    assert cat.import_file(tmp_path / "foreign", "as-table").kind == "table"
    pairs = cat.import_file(tmp_path / "foreign", "as-pairs", kind="pairs", embed=False)
    assert pairs.kind == "pairs" and pairs.origin == "real"
    assert [r.fields for r in cat.records("as-pairs")] == [{"question": "why?", "answer": "because"},
                                                            {"question": "how?", "answer": "like this"}]


EVAL_SENTENCE = "the quick brown fox jumps over the lazy dog near the old river bank at dawn"


def test_card_shows_decontamination_runs_and_redaction(cat, tmp_path):
    rows = [{"id": "a", "text": f"Intro words first. {EVAL_SENTENCE}. And more words after it."},
            {"id": "b", "text": "Write to jane.doe@example.com about the refund for order 4411."},
            {"id": "c", "text": "A clean note about routers and their firmware updates."}]
    cat.add_records("train", rows, id_field="id", embed=False)
    cat.add_records("bench", [{"id": "q1", "text": EVAL_SENTENCE}], id_field="id", embed=False)
    report = cat.decontaminate("train", "bench", mode="drop")
    assert report.contaminated == 1
    result = cat.export("train", tmp_path / "hf", format="hf", redact_pii=True)
    assert result.rows == 2  # the contaminated record was dropped
    text = (tmp_path / "hf" / "README.md").read_text()
    assert "## Decontamination" in text and "| bench | 1 |" in text
    assert "## Deduplication" not in text  # a decontamination run is not listed as a dedup run
    assert "## Personal data" in text and "email: 1" in text
    loaded = load_rows(tmp_path / "hf", tmp_path / "cache")
    assert "[EMAIL]" in loaded[0]["text"] and "jane.doe" not in json.dumps(loaded)
    kept = next(r for r in cat.records("train") if r.external_id == "b")
    assert "jane.doe@example.com" in kept.fields["text"]  # the catalog keeps what it holds


def test_import_runs_the_pii_guard(cat, tmp_path):
    cat.add_records("mails", [{"id": "m", "text": "Mail jane.doe@example.com today."}], id_field="id",
                    embed=False, pii="off")
    cat.export("mails", tmp_path / "hf", format="hf")
    with pytest.raises(BadInput):
        cat.import_file(tmp_path / "hf", "mails-back", pii="refuse", embed=False)
    assert not cat.has_dataset("mails-back")
    redacted = cat.import_file(tmp_path / "hf", "mails-back", pii="redact", embed=False)
    assert redacted.pii is not None and "[EMAIL]" in next(cat.records("mails-back")).text
