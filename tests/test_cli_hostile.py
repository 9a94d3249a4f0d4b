"""Regression tests for the defects an adversarial pass over the CLI found (reliability issue, part 0).

Each test reproduces one reported defect: data loss or writes from "read-only" commands, tracebacks
for user errors, wrong results. A user error is one line on stderr, exit code 1, no traceback, and
the catalog left exactly as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, SUPPORT_PAIRS, write_jsonl


def fails(result, *fragments: str) -> str:
    """Assert a clean user error (exit 1, one line, no traceback) that mentions every fragment."""
    text = result.output
    assert result.exit_code == 1, (result.exit_code, text, result.exception)
    assert "Traceback" not in text and not isinstance(result.exception, (RecursionError, TypeError)), text
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, text
    for fragment in fragments:
        assert fragment in text, (fragment, text)
    return text


def ok(result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def snapshot(invoke) -> list:
    return json.loads(ok(invoke("datasets", "--json")))


@pytest.fixture
def seeded(invoke, pairs_file):
    ok(invoke("import", str(pairs_file), "--dataset", "seed", "--id-field", "id", "--no-embed"))
    return invoke


# ----------------------------------------------------------------- sql cannot reach the file system


@pytest.mark.parametrize("query", [
    "COPY (SELECT 1) TO '{cat}/catalog.duckdb' (FORMAT csv)",
    "EXPORT DATABASE '{tmp}/exported'",
    "ATTACH '{tmp}/other.duckdb' AS o (READ_ONLY false)",
    "SELECT * FROM read_text('{tmp}/secret.txt')",
    "SELECT * FROM glob('{tmp}/*')",
    "SELECT * FROM read_csv('{tmp}/secret.txt')",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
])
def test_sql_cannot_touch_files_or_the_network(seeded, catalog_dir, tmp_path, query):
    (tmp_path / "secret.txt").write_text("top secret\n")
    before = snapshot(seeded)
    q = query.format(cat=catalog_dir, tmp=tmp_path)
    text = fails(seeded("sql", q), "error:")
    assert "top secret" not in text
    assert snapshot(seeded) == before
    assert not (tmp_path / "exported").exists() and not (tmp_path / "other.duckdb").exists()


def test_sql_attach_then_create_writes_nothing(seeded, tmp_path):
    fails(seeded("sql", f"ATTACH '{tmp_path}/x.duckdb' AS o; CREATE TABLE o.t AS SELECT 1"))
    assert not (tmp_path / "x.duckdb").exists()


def test_sql_is_read_only_inside_the_catalog_too(seeded):
    before = snapshot(seeded)
    fails(seeded("sql", "DELETE FROM records"))
    fails(seeded("sql", "DROP TABLE datasets"))
    assert snapshot(seeded) == before


def test_sql_limits_timezones_and_non_finite_numbers(seeded):
    fails(seeded("sql", "SELECT 1", "--limit", "-1"), "--limit")
    fails(seeded("sql", "SELECT 1", "--limit", "0"), "--limit")
    rows = json.loads(ok(seeded("sql", "SELECT * FROM range(10) t(i)", "--limit", "3", "--json")))
    assert [r["i"] for r in rows] == [0, 1, 2]
    assert json.loads(ok(seeded("sql", "SELECT now() AS t", "--json")))[0]["t"]
    rows = json.loads(ok(seeded("sql", "SELECT 'nan'::DOUBLE AS a, 'inf'::DOUBLE AS b, 1.5 AS c", "--json")))
    assert rows == [{"a": None, "b": None, "c": 1.5}]


# ---------------------------------------------------------------------- writes outside the catalog


def test_export_refuses_the_catalog_directory_and_existing_files(seeded, catalog_dir, tmp_path):
    before = snapshot(seeded)
    fails(seeded("export", "seed", "--out", str(catalog_dir / "catalog.duckdb"), "--format", "jsonl"),
          "inside the catalog")
    fails(seeded("export", "seed", "--out", str(catalog_dir / "vectors" / "x.jsonl")), "inside the catalog")
    assert snapshot(seeded) == before
    target = tmp_path / "keep.jsonl"
    target.write_text("precious\n")
    fails(seeded("export", "seed", "--out", str(target)), "already exists", "--force")
    assert target.read_text() == "precious\n"
    ok(seeded("export", "seed", "--out", str(target), "--force"))
    assert len(target.read_text().splitlines()) == len(SUPPORT_PAIRS)


def test_export_sidecar_is_not_overwritten_silently(seeded, tmp_path):
    target = tmp_path / "x.jsonl"
    (tmp_path / "x.jsonl.meta.json").write_text("mine")
    fails(seeded("export", "seed", "--out", str(target)), "x.jsonl.meta.json", "already exists")
    assert not target.exists() and (tmp_path / "x.jsonl.meta.json").read_text() == "mine"


@pytest.mark.parametrize("where, reason", [
    ("dir", "is a directory"),
    ("missing", "does not exist"),
    ("proc", "cannot write"),
])
def test_export_to_bad_places_is_a_clean_error_and_leaves_no_temp_file(seeded, tmp_path, where, reason):
    out = {"dir": tmp_path, "missing": tmp_path / "missing" / "x.jsonl",
           "proc": Path("/proc/synthcat-test.jsonl")}[where]
    listing = sorted(os.listdir(tmp_path))
    fails(seeded("export", "seed", "--out", str(out), "--format", "jsonl"), reason)
    assert sorted(os.listdir(tmp_path)) == listing


def test_skip_bad_cannot_overwrite_the_input_and_keeps_raw_lines(invoke, tmp_path):
    rows = [json.dumps(p) for p in SUPPORT_PAIRS[:3]] + ['{"prompt": "half', '{"prompt": "no reply"}']
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    original = source.read_bytes()
    fails(invoke("import", str(source), "--dataset", "x", "--no-embed", "--skip-bad", str(source)),
          "same file")
    alias = tmp_path / "sub" / ".." / "in.jsonl"
    (tmp_path / "sub").mkdir()
    fails(invoke("import", str(source), "--dataset", "x", "--no-embed", "--skip-bad", str(alias)), "same file")
    assert source.read_bytes() == original
    rejects = tmp_path / "rejects.jsonl"
    ok(invoke("import", str(source), "--dataset", "x", "--no-embed", "--skip-bad", str(rejects)))
    entries = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert entries[0]["line"] == 4 and entries[0]["raw"] == '{"prompt": "half'
    assert entries[1]["line"] == 5 and entries[1]["row"] == {"prompt": "no reply"}
    fails(invoke("import", str(source), "--dataset", "y", "--no-embed", "--skip-bad", str(rejects)),
          "already exists", "--force")


def test_skip_bad_into_a_missing_directory_or_the_catalog(invoke, pairs_file, tmp_path, catalog_dir):
    fails(invoke("import", str(pairs_file), "--dataset", "x", "--no-embed", "--skip-bad",
                 str(tmp_path / "nowhere" / "r.jsonl")), "does not exist")
    ok(invoke("import", str(pairs_file), "--dataset", "first", "--no-embed"))
    fails(invoke("import", str(pairs_file), "--dataset", "x", "--no-embed", "--skip-bad",
                 str(catalog_dir / "catalog.duckdb")), "inside the catalog")
    assert [d["name"] for d in snapshot(invoke)] == ["first"]


def test_dedup_checks_every_output_before_the_first_write(invoke, tmp_path):
    rows = [dict(p, id=f"{p['id']}-{n}") for n in range(2) for p in SUPPORT_PAIRS]
    path = write_jsonl(tmp_path / "dups.jsonl", rows)
    ok(invoke("import", str(path), "--dataset", "dups", "--id-field", "id"))
    for extra, reason in ((["--into", "bad name"], "invalid dataset name"),
                          (["--out", str(tmp_path / "missing" / "x.jsonl")], "does not exist")):
        fails(invoke("dedup", "dups", *extra), reason)
        assert json.loads(ok(invoke("dedup-runs", "list", "--json"))) == []
        shown = json.loads(ok(invoke("show", "dups", "--json")))
        assert shown["status_counts"] == {"active": len(rows)}


def test_dedup_into_with_mixed_kinds_is_refused_before_removing_anything(invoke, tmp_path, pairs_file):
    ok(invoke("import", str(pairs_file), "--dataset", "pairs"))
    texts = write_jsonl(tmp_path / "t.jsonl", [{"text": "How do I change my wifi password?"}] * 2)
    ok(invoke("import", str(texts), "--dataset", "texts"))
    fails(invoke("dedup", "pairs", "texts", "--into", "both"), "one kind")
    assert json.loads(ok(invoke("dedup-runs", "list", "--json"))) == []


def test_datasets_named_like_the_old_admin_verbs_can_be_deduplicated(invoke, pairs_file):
    for name in ("runs", "undo"):
        ok(invoke("import", str(pairs_file), "--dataset", name, "--no-embed"))
        out = json.loads(ok(invoke("dedup", name, "--no-semantic", "--json")))
        assert out["removed"] == 1 and out["datasets"] == [name]
    runs = json.loads(ok(invoke("dedup-runs", "list", "--json")))
    assert [r["datasets"] for r in runs] == [["runs"], ["undo"]]
    assert "1 records restored" in ok(invoke("dedup-runs", "undo", str(runs[0]["run_id"])))


# ------------------------------------------------------------------------- data printed as text


def test_data_is_printed_as_plain_text(seeded, tmp_path):
    assert "[/x]" in ok(seeded("sql", "SELECT '[/x]' AS a"))
    text = ok(seeded("sql", "SELECT '[bold]hi :x:' AS a"))
    assert "[bold]hi :x:" in text
    rows = [{"text": f"[/x] odd [bold]markup[/bold] :x: number {i % 2}"} for i in range(4)]
    path = write_jsonl(tmp_path / "markup.jsonl", rows)
    ok(seeded("import", str(path), "--dataset", "markup", "--description", "[/oops] :x:"))
    shown = ok(seeded("show", "markup"))
    assert "[/oops] :x:" in shown and "[/x] odd [bold]markup[/bold]" in shown
    assert "[/x]" in ok(seeded("search", "odd markup", "--mode", "keyword"))
    assert "[/x] odd" in ok(seeded("dedup", "markup", "--dry-run"))
    assert "[/x] odd" in ok(seeded("dedup", "markup"))


# ------------------------------------------------------------------------ tracebacks for bad input


def test_deeply_nested_json_is_a_clean_error_on_every_reader(invoke, tmp_path):
    deep = "[" * 10_000 + "]" * 10_000
    jsonl = tmp_path / "deep.jsonl"
    jsonl.write_text('{"text": "hello", "a": ' + deep + "}\n")
    fails(invoke("import", str(jsonl), "--dataset", "d1", "--no-embed"), "line 1", "nested")
    array = tmp_path / "deep.json"
    array.write_text("[" + deep + "]")
    fails(invoke("import", str(array), "--dataset", "d2", "--no-embed"), "deep.json")
    array2 = tmp_path / "deep2.json"
    array2.write_text('[{"text": "fine"}, {"text": "x", "a": ' + deep + "}]")
    fails(invoke("import", str(array2), "--dataset", "d3", "--no-embed"), "deep2.json")
    assert snapshot(invoke) == []


def test_bulk_and_row_paths_agree_on_deep_nesting(invoke, tmp_path):
    deep = '{"text": "deep", "a": ' + "[" * 300 + "]" * 300 + "}"
    ok_rows = [json.dumps({"text": f"row {i}"}) for i in range(3)]
    alone = write_jsonl(tmp_path / "alone.jsonl", ok_rows + [deep])
    mixed = write_jsonl(tmp_path / "mixed.jsonl", ok_rows + [deep, '{"text": 5}'])
    first = fails(invoke("import", str(alone), "--dataset", "a", "--no-embed"), "line 4")
    second = fails(invoke("import", str(mixed), "--dataset", "b", "--no-embed"), "line 4")
    assert first.split("line 4", 1)[1] == second.split("line 4", 1)[1]
    moderate = '{"text": "moderate", "a": ' + "[" * 50 + "]" * 50 + "}"
    ok(invoke("import", str(write_jsonl(tmp_path / "m.jsonl", [moderate])), "--dataset", "m", "--no-embed"))


def test_catalog_option_naming_a_file_or_an_unwritable_place(invoke, runner, pairs_file, tmp_path):
    from cli import app

    a_file = tmp_path / "plain.txt"
    a_file.write_text("not a catalog")
    for target, reason in ((a_file, "not a directory"), (Path("/proc/synthcat-cat"), "cannot create")):
        result = runner.invoke(app, ["--catalog", str(target), "import", str(pairs_file), "--dataset", "x"])
        fails(result, reason)
    assert a_file.read_text() == "not a catalog"


def test_field_filters_take_any_field_name(seeded, tmp_path):
    rows = [{"text": "billing question one", "cat\\": "billing"}, {"text": "billing question two", "cat": "x"}]
    ok(seeded("import", str(write_jsonl(tmp_path / "odd.jsonl", rows)), "--dataset", "odd", "--no-embed"))
    hits = json.loads(ok(seeded("search", "billing", "--mode", "keyword", "--field", "cat\\=billing", "--json")))
    assert [h["text"] for h in hits] == ["billing question one"]
    for name in ('a"b', "x.y", "$", "[0]", "weird key/with~slash"):
        ok(seeded("search", "billing", "--mode", "keyword", "--field", f"{name}=1", "--json"))


# ----------------------------------------------------------------------------- tables from files


def _ragged(tmp_path) -> Path:
    lines = ["a,b,c"] + [f"{i},{i * 2},x{i}" for i in range(15)]
    lines.insert(6, "7,8,9,10")
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_ragged_csv_row_is_an_error_naming_its_line(invoke, tmp_path):
    fails(invoke("import", str(_ragged(tmp_path)), "--dataset", "ragged"), "ragged.csv", "line 7")
    assert snapshot(invoke) == []


def test_table_imports_honour_skip_bad_and_id_field(invoke, tmp_path):
    rejects = tmp_path / "rejects.jsonl"
    ok(invoke("import", str(_ragged(tmp_path)), "--dataset", "ragged", "--skip-bad", str(rejects)))
    assert [d["row_count"] for d in snapshot(invoke)] == [15]
    entry = json.loads(rejects.read_text().splitlines()[0])
    assert entry["line"] == 7 and entry["raw"] == "7,8,9,10"
    table = tmp_path / "t.csv"
    table.write_text("key,v\nk1,1\nk2,2\nk1,3\n")
    fails(invoke("import", str(table), "--dataset", "t", "--id-field", "key"), "duplicate", "k1")
    fails(invoke("import", str(table), "--dataset", "t", "--id-field", "nope"), "nope")
    table.write_text("key,v\nk1,1\nk2,2\n")
    ok(invoke("import", str(table), "--dataset", "t", "--id-field", "key"))


def test_semicolon_csv_still_imports_as_columns(invoke, tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("a;b;c\n1;2;3\n4;5;6\n")
    ok(invoke("import", str(path), "--dataset", "semi"))
    shown = json.loads(ok(invoke("show", "semi", "--json")))
    assert [c["name"] for c in shown["columns"]] == ["a", "b", "c"]


# ------------------------------------------------------------------------------ JSON edge cases


def test_nan_in_a_json_array_is_refused_with_its_element(invoke, tmp_path):
    path = tmp_path / "nan.json"
    path.write_text('[{"text": "fine", "score": 1.0}, {"text": "bad", "score": NaN}]')
    fails(invoke("import", str(path), "--dataset", "n", "--no-embed"), "nan.json")
    assert snapshot(invoke) == []


def test_exports_are_valid_json_and_re_import(invoke, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,y\n1.5,a\nnan,b\ninf,c\n")
    ok(invoke("import", str(path), "--dataset", "t"))
    out = tmp_path / "t.jsonl"
    ok(invoke("export", "t", "--out", str(out)))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert "NaN" not in out.read_text() and "Infinity" not in out.read_text()
    assert rows[0]["x"] == 1.5 and rows[1]["x"] is None
    ok(invoke("import", str(out), "--dataset", "t2", "--kind", "table"))


def test_duplicate_keys_store_the_value_the_text_was_made_from(invoke, tmp_path):
    path = tmp_path / "dup-keys.jsonl"
    path.write_text('{"text": "zebra one", "text": "zebra two", "tag": "a", "tag": "b"}\n'
                    '{"text": "another record", "tag": "b"}\n')
    ok(invoke("import", str(path), "--dataset", "dk", "--no-embed"))
    shown = json.loads(ok(invoke("show", "dk", "--json")))
    assert shown["sample"][0]["text"] == "zebra two"
    hits = json.loads(ok(invoke("search", "zebra", "--mode", "keyword", "--field", "tag=b", "--json")))
    assert [h["text"] for h in hits] == ["zebra two"]
    assert json.loads(ok(invoke("search", "zebra", "--mode", "keyword", "--field", "tag=a", "--json"))) == []


# ---------------------------------------------------------------------------- names and deletion


def test_dataset_names_with_newlines_or_control_characters_are_refused(invoke, pairs_file):
    for name in ("trailing\n", "tab\tname", "line\nbreak"):
        fails(invoke("import", str(pairs_file), "--dataset", name, "--no-embed"), "invalid dataset name")
    assert snapshot(invoke) == []


def test_deleting_a_parent_says_what_its_children_lose(invoke, tmp_path):
    rows = [dict(p, id=f"{p['id']}-{n}") for n in range(2) for p in SUPPORT_PAIRS]
    path = write_jsonl(tmp_path / "dups.jsonl", rows)
    ok(invoke("import", str(path), "--dataset", "parent", "--id-field", "id", "--no-embed"))
    ok(invoke("dedup", "parent", "--no-semantic", "--into", "child"))
    fails(invoke("delete", "parent", "--yes"), "child", "--force")
    assert [d["name"] for d in snapshot(invoke)] == ["parent", "child"]
    text = ok(invoke("delete", "parent", "--yes", "--force"))
    assert "child" in text and "lineage" in text
    shown = json.loads(ok(invoke("show", "child", "--json")))
    assert shown["parents"] == [] and shown.get("lineage", []) == []


# ----------------------------------------------------------------------------------- messages


def test_a_file_with_only_bad_lines_names_the_first_one(invoke, tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", ["not json", '{"text": ', "[1]"])
    fails(invoke("import", str(path), "--dataset", "b", "--no-embed"), "line 1", "malformed JSON", "3")
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("text,x\n,1\n,2\n")
    fails(invoke("import", str(csv_path), "--dataset", "c", "--kind", "text", "--no-embed"), "line 2", "empty")


def test_an_unreachable_endpoint_says_so_and_leaves_nothing(invoke, pairs_file):
    from tests.generators.chat_fakes import free_port

    ok(invoke("import", str(pairs_file), "--dataset", "seed"))
    before = snapshot(invoke)
    url = f"http://127.0.0.1:{free_port()}/v1"
    text = fails(invoke("generate", "text", "--dataset", "gen", "--n", "2", "--ground-on", "seed",
                        "--model", "openai:some-model", "--base-url", url), url)
    assert "novelty" not in text
    assert snapshot(invoke) == before


@pytest.mark.slow
def test_a_reader_holding_the_catalog_is_not_called_a_writer(invoke, pairs_file, catalog_dir):
    ok(invoke("import", str(pairs_file), "--dataset", "seed", "--no-embed"))
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from catalog import open_catalog
        with open_catalog({str(catalog_dir)!r}, read_only=True):
            print("holding", flush=True)
            time.sleep(60)
    """)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        text = fails(invoke("import", str(pairs_file), "--dataset", "x", "--no-embed"), "catalog in use")
        assert "is writing" not in text and "reading or writing" in text
    finally:
        holder.kill()
        holder.wait()
