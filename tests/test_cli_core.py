"""The core CLI: import/export/datasets/show/delete/sql/index, errors as one line, docs on every command."""

from __future__ import annotations

import json

import typer

from tests.conftest import write_jsonl


def _datasets(invoke) -> list:
    result = invoke("datasets", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ten_thousand_lines_with_one_bad_line(invoke, tmp_path):
    rows = [{"id": i, "prompt": f"question {i}", "response": f"answer {i}"} for i in range(10_000)]
    rows[6_123] = {"id": 6_123, "prompt": "question", "response": None}
    path = write_jsonl(tmp_path / "ten-k.jsonl", rows)
    invoke("import", str(tmp_path / "ten-k.jsonl"), "--dataset", "warmup", "--no-embed", "--skip-bad",
           str(tmp_path / "r0.jsonl"))
    before = _datasets(invoke)
    result = invoke("import", str(path), "--dataset", "tenk", "--id-field", "id", "--no-embed")
    assert result.exit_code == 1
    message = result.output.strip()
    assert "Traceback" not in message and len(message.splitlines()) == 1
    assert "line 6124" in message and "field 'response'" in message and "ten-k.jsonl" in message
    assert _datasets(invoke) == before
    rejects = tmp_path / "rejects.jsonl"
    result = invoke("import", str(path), "--dataset", "tenk", "--id-field", "id", "--no-embed",
                    "--skip-bad", str(rejects))
    assert result.exit_code == 0, result.output
    assert "9999" in result.output and "skipped 1 bad rows" in result.output
    assert json.loads(rejects.read_text())["line"] == 6124
    assert [d["row_count"] for d in _datasets(invoke) if d["name"] == "tenk"] == [9_999]


def test_tour_of_read_commands(invoke, pairs_file, tmp_path):
    assert invoke("import", str(pairs_file), "--dataset", "support", "--id-field", "id",
                  "--origin", "synthetic", "--tag", "demo").exit_code == 0
    shown = json.loads(invoke("show", "support", "--json").stdout)
    assert shown["kind"] == "pairs" and shown["origin"] == "synthetic" and shown["tags"] == ["demo"]
    assert shown["status_counts"] == {"active": 5}
    assert "support" in invoke("show", "support").output
    rows = json.loads(invoke("sql", "SELECT count(*) AS n FROM records", "--json").stdout)
    assert rows == [{"n": 5}]
    status = json.loads(invoke("index", "status", "--json").stdout)
    assert status[0]["in_sync"] and status[0]["records_in_index"] == 5
    assert invoke("index", "rebuild").exit_code == 0
    out = tmp_path / "support-export.jsonl"
    assert invoke("export", "support", "--out", str(out)).exit_code == 0
    assert len(out.read_text().splitlines()) == 5
    assert invoke("delete", "support").exit_code == 1  # no terminal to confirm: refuses
    assert invoke("delete", "support", "--yes").exit_code == 0
    assert _datasets(invoke) == []


def test_user_errors_are_one_red_line(invoke, tmp_path, pairs_file):
    missing = invoke("datasets")
    assert missing.exit_code == 1 and "no catalog at" in missing.output
    invoke("import", str(pairs_file), "--dataset", "a", "--no-embed")
    for args, expected in [
        (("show", "nope"), "unknown dataset 'nope'"),
        (("import", str(tmp_path / "absent.jsonl"), "--dataset", "b"), "file not found"),
        (("import", str(pairs_file), "--dataset", "a", "--no-embed"), "already exists"),
        (("import", str(pairs_file), "--dataset", "bad name!"), "invalid dataset name"),
        (("import", str(pairs_file), "--dataset", "c", "--origin", "fake"), "unknown origin"),
        (("sql", "DROP TABLE records"), "SQL error"),
    ]:
        result = invoke(*args)
        assert result.exit_code == 1, args
        assert expected in result.output and "Traceback" not in result.output, result.output


def test_every_command_has_help_text():
    from cli import app

    group = typer.main.get_command(app)
    seen = {"commands": 0, "options": 0}

    def walk(cmd, path: str):
        seen["commands"] += 1
        assert cmd.help or cmd.short_help, f"command '{path}' has no help text"
        for param in cmd.params:
            if param.param_type_name == "option" and param.name != "help":
                seen["options"] += 1
                assert param.help, f"option {param.opts} of '{path}' has no help text"
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(group, "synthcat")
    assert seen["commands"] > 20 and seen["options"] > 80  # the walk really reached every command
