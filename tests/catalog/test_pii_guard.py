"""The PII guard on imports (warn, redact, refuse, off) and on exports (redact_pii)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from catalog.privacy import PiiFound
from tests.conftest import write_jsonl

EMAIL = "jane.doe@example.com"
PHONE = "+44 20 7946 0958"
CARD = "4111 1111 1111 1111"
ROWS = [
    {"id": "1", "prompt": f"My email is {EMAIL}, please call {PHONE}", "response": "Thanks, we will call you."},
    {"id": "2", "prompt": "Is my router broken?", "response": "Restart it and check the lights."},
    {"id": "3", "prompt": f"Refund to card {CARD} please", "response": "Refund issued to the card ending 1111."},
]


def _findings(cat) -> list[tuple]:
    """(kind, field, action, record id) of every stored finding (the guard's own table)."""
    return cat.con.execute("SELECT kind, field, action, record_id FROM pii_findings ORDER BY record_id, start_char"
                           ).fetchall()


def _no_raw_value_stored(cat) -> None:
    for table in ("pii_findings", "pii_scans"):
        dump = json.dumps(cat.con.execute(f"SELECT * FROM {table}").fetchall(), default=str)
        assert EMAIL not in dump and "7946" not in dump and "4111" not in dump


@pytest.mark.parametrize("bulk", [True, False])
def test_warn_keeps_the_data_and_records_what_it_found(cat, tmp_path, monkeypatch, bulk):
    if not bulk:
        from catalog import importer

        monkeypatch.setattr(importer, "bulk_supported", lambda mapping: False)
    result = cat.import_file(write_jsonl(tmp_path / "p.jsonl", ROWS), "w", id_field="id", embed=False)
    assert result.pii.mode == "warn" and result.pii.rows_with_pii == 2 and result.pii.rows_scanned == 3
    assert result.pii.counts["email"] == 1 and result.pii.counts["phone"] == 1 and result.pii.counts["card_number"] == 1
    assert EMAIL in next(cat.records("w")).text
    ids = [r.record_id for r in cat.records("w")]
    assert _findings(cat) == [("email", "/prompt", "warned", ids[0]), ("phone", "/prompt", "warned", ids[0]),
                              ("card_number", "/prompt", "warned", ids[2])]
    _no_raw_value_stored(cat)


def test_redact_rewrites_fields_text_hash_and_vectors(cat, tmp_path):
    result = cat.import_file(write_jsonl(tmp_path / "p.jsonl", ROWS), "r", id_field="id", pii="redact")
    assert result.pii.rows_with_pii == 2
    first, _, third = list(cat.records("r"))
    assert first.fields["prompt"] == "My email is [EMAIL], please call [PHONE]"
    assert first.text == "My email is [EMAIL], please call [PHONE]\n\nThanks, we will call you."
    assert third.fields["prompt"] == "Refund to card [CARD] please"
    from catalog.writer import content_hash

    assert first.content_hash == content_hash(first.text)
    assert cat.index_status()[0].in_sync
    # vectors were made from the redacted text: the record's own text finds it first
    assert cat.search(first.text, mode="vector", k=1)[0].record_id == first.record_id
    assert cat.search("jane.doe example", mode="keyword", k=3) == []
    starts = cat.con.execute("SELECT placeholder_start FROM pii_findings ORDER BY record_id, start_char").fetchall()
    assert starts == [(12,), (33,), (15,)]  # "[EMAIL]" at 12 and "[PHONE]" at 33 in the first prompt
    _no_raw_value_stored(cat)


def test_refuse_stops_the_import_and_changes_nothing(cat, tmp_path):
    before = cat.datasets()
    with pytest.raises(PiiFound) as info:
        cat.import_file(write_jsonl(tmp_path / "p.jsonl", ROWS), "f", pii="refuse", embed=False)
    message = str(info.value)
    assert "record 1 of the file" in message and "field 'prompt'" in message and "email" in message
    assert EMAIL not in message
    assert cat.datasets() == before
    assert cat.con.execute("SELECT count(*) FROM pii_scans").fetchone()[0] == 0


def test_off_skips_the_scan(cat, tmp_path):
    result = cat.import_file(write_jsonl(tmp_path / "p.jsonl", ROWS), "o", pii="off", embed=False)
    assert result.pii is None and _findings(cat) == []


def test_tables_are_guarded_in_their_text_columns(cat, tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"name": ["Jane", "Bob"], "email": [EMAIL, "none"], "age": [31, 45]}).to_csv(path, index=False)
    with pytest.raises(PiiFound, match="row 1 of the table"):
        cat.import_file(path, "t", pii="refuse")
    result = cat.import_file(path, "t", pii="redact")
    assert result.pii.rows_with_pii == 1
    assert cat.table("t").to_dict("list") == {"name": ["Jane", "Bob"], "email": ["[EMAIL]", "none"], "age": [31, 45]}
    assert cat.con.execute("SELECT row_number, field, kind FROM pii_findings").fetchall() == [(1, "/email", "email")]


def test_cli_says_what_it_found(invoke, tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", ROWS)
    warned = invoke("import", str(path), "--dataset", "w", "--no-embed")
    assert warned.exit_code == 0 and "1 email, 1 phone number, 1 card number in 2 of 3 rows, kept" in warned.output
    refused = invoke("import", str(path), "--dataset", "f", "--no-embed", "--pii", "refuse")
    assert refused.exit_code == 1 and "--pii redact" in refused.output and EMAIL not in refused.output
    bad = invoke("import", str(path), "--dataset", "x", "--pii", "maybe")
    assert bad.exit_code == 1 and "--pii: unknown PII mode 'maybe'" in bad.output


def test_export_can_redact_what_the_catalog_holds(cat, tmp_path):
    cat.import_file(write_jsonl(tmp_path / "p.jsonl", ROWS), "w", id_field="id", embed=False)
    out = tmp_path / "w.jsonl"
    cat.export("w", out, redact_pii=True)
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert exported[0]["prompt"] == "My email is [EMAIL], please call [PHONE]" and exported[1] == ROWS[1]
    meta = json.loads((tmp_path / "w.jsonl.meta.json").read_text())
    assert meta["pii"]["redacted"] and meta["pii"]["rows_with_pii"] == 2 and meta["pii"]["counts"]["card_number"] == 1
    assert EMAIL in next(cat.records("w")).text  # the catalog keeps what it holds
    chat = tmp_path / "chat.jsonl"
    cat.export("w", chat, format="chat", redact_pii=True)
    assert EMAIL not in chat.read_text() and "[EMAIL]" in chat.read_text()
    cat.add_table("people", pd.DataFrame({"email": [EMAIL, "x"], "n": [1, 2]}))
    cat.export("people", tmp_path / "people.csv", redact_pii=True)
    assert pd.read_csv(tmp_path / "people.csv")["email"].tolist() == ["[EMAIL]", "x"]
