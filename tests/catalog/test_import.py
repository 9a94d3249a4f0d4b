"""Import: formats, field mapping, bad input (all or nothing), --skip-bad, embeddings."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from catalog.errors import BadInput, DatasetExists
from tests.conftest import SUPPORT_PAIRS, write_jsonl


def test_pairs_are_detected_and_embedded_once_per_distinct_text(cat, pairs_file):
    result = cat.import_file(pairs_file, "support", origin="real", id_field="id")
    assert (result.kind, result.rows) == ("pairs", 5)
    # p2 and p5 hold the same text: five records, four vectors
    assert result.embedded == 4
    assert cat.con.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 4
    assert cat.con.execute("SELECT count(*) FROM record_embeddings").fetchone()[0] == 5
    ds = cat.dataset("support")
    assert ds.parameters["mapping"] == {"kind": "pairs", "prompt_field": "prompt", "response_field": "response",
                                        "id_field": "id"}
    records = list(cat.records("support"))
    assert [r.external_id for r in records] == ["p1", "p2", "p3", "p4", "p5"]
    assert records[2].fields == SUPPORT_PAIRS[2] and records[1].content_hash == records[4].content_hash


def test_reimporting_same_texts_reuses_vectors(cat, pairs_file):
    cat.import_file(pairs_file, "a", embed=True)
    second = cat.import_file(pairs_file, "b", embed=True)
    assert second.embedded == 0
    assert cat.index_status()[0].records_in_index == 10


@pytest.mark.parametrize("names", [("instruction", "output"), ("question", "answer")])
def test_common_pair_names_are_detected(cat, tmp_path, names):
    p, r = names
    path = write_jsonl(tmp_path / "x.jsonl", [{p: "What is 2+2?", r: "4"}, {p: "Capital of France?", r: "Paris"}])
    result = cat.import_file(path, "qa", embed=False)
    assert result.kind == "pairs"
    assert cat.dataset("qa").parameters["mapping"]["prompt_field"] == p


def test_text_fields_are_joined_with_a_space(cat, tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl", [{"_id": "7", "title": "Aspirin", "text": "Reduces fever."}])
    cat.import_file(path, "docs", id_field="_id", text_fields=["title", "text"], embed=False)
    (record,) = cat.records("docs")
    assert (record.text, record.external_id) == ("Aspirin Reduces fever.", "7")


def test_conversations_gzip_and_json_array(cat, tmp_path):
    convo = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello!"}]}
    gz = tmp_path / "c.jsonl.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write(json.dumps(convo) + "\n")
    assert cat.import_file(gz, "convos", embed=False).kind == "conversations"
    assert next(cat.records("convos")).text == "user: hi\nassistant: hello!"
    arr = tmp_path / "a.json"
    arr.write_text(json.dumps([{"text": "one"}, {"text": "two"}]))
    assert cat.import_file(arr, "arr", embed=False).rows == 2


def test_csv_and_parquet_become_typed_tables(cat, tmp_path):
    frame = pd.DataFrame({"age": [30, 41], "fee": [19.5, 25.0], "plan": ["basic", "max"],
                          "since": pd.to_datetime(["2024-01-02", "2023-05-06"])})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    for name, path in (("csv_table", tmp_path / "t.csv"), ("pq_table", tmp_path / "t.parquet")):
        result = cat.import_file(path, name)
        assert (result.kind, result.rows) == ("table", 2)
        types = {c.name: c.type for c in cat.show(name).columns}
        assert types["age"] in ("BIGINT", "INTEGER")
        assert types["fee"] == "DOUBLE"
        assert types["since"].startswith("TIMESTAMP") or types["since"] == "DATE"
        assert cat.table(name)["plan"].tolist() == ["basic", "max"]


def _snapshot(cat):
    """What an import adds: datasets, their rows, and stored vectors (the last read from the schema)."""
    return ([(d.name, d.row_count) for d in cat.datasets()],
            cat.con.execute("SELECT count(*) FROM embeddings").fetchone()[0])


@pytest.mark.parametrize("bad_line, line_no, field, reason", [
    ('{"prompt": "ok", "response": ', 3, None, "malformed JSON"),
    ('{"prompt": "ok"}', 3, "response", "missing field"),
    ('{"prompt": 12, "response": "x"}', 3, "prompt", "expected a string"),
    ('[1, 2]', 3, None, "expected a JSON object"),
])
def test_a_bad_line_names_line_and_field_and_changes_nothing(cat, tmp_path, bad_line, line_no, field, reason):
    rows = [json.dumps(p) for p in SUPPORT_PAIRS[:2]] + [bad_line] + [json.dumps(SUPPORT_PAIRS[3])]
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    before = _snapshot(cat)
    with pytest.raises(BadInput) as info:
        cat.import_file(path, "broken", embed=False)
    err = info.value
    assert err.line == line_no and err.field == field and reason in err.reason
    assert str(path) in str(err)
    assert _snapshot(cat) == before
    assert not cat.has_dataset("broken")


def test_skip_bad_imports_the_rest_and_reports_the_rejects(cat, tmp_path):
    rows = [json.dumps(p) for p in SUPPORT_PAIRS[:3]] + ['{"prompt": "x"}', "not json"]
    path = write_jsonl(tmp_path / "some-bad.jsonl", rows)
    rejects = tmp_path / "rejects.jsonl"
    result = cat.import_file(path, "partial", embed=False, skip_bad=rejects)
    assert (result.rows, result.rejected) == (3, 2)
    lines = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert [(x["line"], x["field"]) for x in lines] == [(4, "response"), (5, None)]


def test_duplicate_ids_empty_files_unknown_formats_and_taken_names(cat, tmp_path, pairs_file):
    dup = write_jsonl(tmp_path / "dup.jsonl", [{"id": 1, "text": "a"}, {"id": 1, "text": "b"}])
    with pytest.raises(BadInput, match="duplicate id '1'") as info:
        cat.import_file(dup, "dup", id_field="id", embed=False)
    assert info.value.line == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(BadInput, match="file is empty"):
        cat.import_file(empty, "e", embed=False)
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n")
    with pytest.raises(BadInput, match="no records"):
        cat.import_file(blank, "e", embed=False)
    odd = tmp_path / "data.xml"
    odd.write_text("<a/>")
    with pytest.raises(BadInput, match="unknown file format"):
        cat.import_file(odd, "x", embed=False)
    cat.import_file(pairs_file, "taken", embed=False)
    with pytest.raises(DatasetExists, match="already exists"):
        cat.import_file(pairs_file, "taken", embed=False)


def test_add_records_and_add_table_from_python(cat):
    res = cat.add_records("from-dicts", [{"text": "alpha"}, {"text": "beta"}], origin="synthetic", embed=False)
    assert res.rows == 2 and cat.dataset("from-dicts").origin == "synthetic"
    result = cat.add_table("frame", pd.DataFrame({"x": [1, 2, 3]}), origin="synthetic")
    assert (result.kind, result.rows) == ("table", 3) and cat.table("frame")["x"].sum() == 6
