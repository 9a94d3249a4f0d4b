"""The bulk JSON Lines path stores exactly what the row-by-row path stores, and hands bad files back."""

from __future__ import annotations

import gzip
import json

import pytest

import catalog.importer as importer
from catalog.errors import BadInput
from catalog.jsonl_bulk import bulk_import_jsonl
from catalog.writer import RecordWriter

ROWS = (
    '{"id": "a1", "prompt": "Router \\u00e9t\\u00e9 light is red", "response": "Restart it.\\nThen wait.", '
    '"n": 123456789012345678901234567890}\n'
    '\n'
    '   {"id": "a2", "prompt": "Quote \\" and \' and ; DROP TABLE records; --", "response": "  padded  "}  \n'
    '{"id": "a3", "prompt": "emoji \\ud83d\\ude00 and tab\\t", "response": "ok", "extra": {"nested": [1, 2]}}\n'
    '{"id": "a4", "prompt": "\\u00a0x", "response": "last line has no newline"}'
)

COLUMNS = "external_id, content_hash, text, fields, quality_score, status"


def _records(cat, dataset: str) -> list[tuple]:
    return cat.con.execute(
        f"SELECT {COLUMNS} FROM records JOIN datasets USING (dataset_id) WHERE name = ? ORDER BY record_id",
        [dataset]).fetchall()


def _row_by_row(monkeypatch) -> None:
    monkeypatch.setattr(importer, "bulk_supported", lambda mapping: False)


@pytest.mark.parametrize("gz", [False, True])
def test_bulk_and_row_paths_store_identical_pairs(cat, tmp_path, monkeypatch, gz):
    path = tmp_path / ("p.jsonl.gz" if gz else "p.jsonl")
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(ROWS)
    else:
        path.write_text(ROWS, encoding="utf-8")
    calls = []
    real = importer.bulk_import_jsonl
    monkeypatch.setattr(importer, "bulk_import_jsonl", lambda *a, **k: calls.append(1) or real(*a, **k))
    bulk = cat.import_file(path, "bulk", id_field="id", embed=False)
    assert calls == [1] and bulk.rows == 4
    _row_by_row(monkeypatch)
    cat.import_file(path, "rows", id_field="id", embed=False)
    assert _records(cat, "bulk") == _records(cat, "rows")
    assert [r[0] for r in _records(cat, "bulk")] == ["a1", "a2", "a3", "a4"]


def test_bulk_and_row_paths_store_identical_multi_field_text(cat, tmp_path, monkeypatch):
    path = tmp_path / "t.jsonl"
    path.write_text('{"_id": "1", "title": "T", "text": "body one"}\n'
                    '{"_id": "2", "title": null, "text": "only body"}\n'
                    '{"_id": "3", "text": "no title at all"}\n'
                    '{"_id": "4", "title": "only title"}\n', encoding="utf-8")
    options = dict(id_field="_id", text_fields=["title", "text"], embed=False)
    cat.import_file(path, "bulk", **options)
    _row_by_row(monkeypatch)
    cat.import_file(path, "rows", **options)
    assert _records(cat, "bulk") == _records(cat, "rows")
    assert [r[2] for r in _records(cat, "bulk")] == ["T body one", "only body", "no title at all", "only title"]


@pytest.mark.parametrize("bad, line, field", [
    ('{"id": "x3", "prompt": "p", "response": 5}', 3, "response"),
    ('{"id": "x3", "prompt": " \\u3000 ", "response": "r"}', 3, "prompt"),
    ('{"id": "x3", "prompt": "p", "response": "r"', 3, None),
    ('["not", "an", "object"]', 3, None),
    ('{"id": "x1", "prompt": "p", "response": "r"}', 3, "id"),
    ('{"id": "x3", "prompt": "p", "response": "r", "score": NaN}', 3, None),
])
def test_a_bad_row_falls_back_and_is_named_with_nothing_stored(cat, tmp_path, bad, line, field):
    good = [f'{{"id": "x{i}", "prompt": "question {i}", "response": "answer {i}"}}' for i in (1, 2)]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(good + [bad]) + "\n", encoding="utf-8")
    with pytest.raises(BadInput) as info:
        cat.import_file(path, "bad", id_field="id", embed=False)
    assert info.value.line == line and info.value.field == field
    assert cat.datasets() == []


def test_lines_the_bulk_path_cannot_judge_are_still_imported_by_the_row_path(cat, tmp_path):
    path = tmp_path / "nan.jsonl"
    path.write_text('{"prompt": "Is NaN a number?", "response": "Not in JSON.", "p": 1, "p": 2}\n', encoding="utf-8")
    assert cat.import_file(path, "nan", embed=False).rows == 1
    # the repeated key is stored once, with the value every reader here takes (the last)
    assert json.loads(_records(cat, "nan")[0][3]) == {"prompt": "Is NaN a number?", "response": "Not in JSON.", "p": 2}


def test_bulk_returns_none_and_leaves_no_rows_on_a_bad_row(cat, tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text('{"prompt": "p", "response": "r"}\n{"prompt": "p2", "response": ""}\n', encoding="utf-8")
    from catalog.record_mapping import FieldMapping

    mapping = FieldMapping(kind="pairs", prompt_field="prompt", response_field="response")
    with cat.transaction():
        ds = cat.create_dataset("b", kind="pairs", origin="real")
        writer = RecordWriter(cat, ds.dataset_id)
        assert bulk_import_jsonl(writer, path, mapping) is None
        assert cat.con.execute("SELECT count(*) FROM records").fetchone()[0] == 0
        assert writer.next_id == writer.first_id


def test_invalid_utf8_is_reported_by_the_row_path(cat, tmp_path):
    path = tmp_path / "u.jsonl"
    path.write_bytes(b'{"prompt": "p", "response": "r"}\n{"prompt": "\xff", "response": "r"}\n')
    with pytest.raises(BadInput):
        cat.import_file(path, "u", embed=False)
    assert cat.datasets() == []
