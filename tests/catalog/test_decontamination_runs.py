"""decontaminate over the catalog: drop / cut / flag, stored, reversible, files as evaluation sets."""

from __future__ import annotations

import json

import pytest

from catalog.errors import BadInput
from tests.conftest import write_jsonl

BENCH = ["Which of the following best describes the role of mitochondria in the production of cellular energy",
         "A train leaves the station at nine in the morning travelling at sixty miles per hour towards the coast"]
FILLER = ("Customer support replies should be short, friendly and specific about the next step the customer "
          "can take, and they should never promise what the engineers cannot deliver on the day. ")


def _synthetic(n: int = 12) -> list[dict]:
    rows = []
    for i in range(n):
        planted = f" For example: {BENCH[i % 2]}. " if i % 4 == 0 else f" Record {i} holds no benchmark text. "
        # enough text either side for a cut to keep pieces of 200 characters or more
        response = FILLER * 3 + planted + FILLER * 3
        rows.append({"id": f"r{i}", "prompt": f"Question {i} about routers", "response": response})
    return rows


@pytest.fixture
def loaded(cat, tmp_path):
    cat.import_file(write_jsonl(tmp_path / "syn.jsonl", _synthetic()), "syn", id_field="id", embed=False)
    cat.add_records("bench", [{"id": f"q{i}", "text": t} for i, t in enumerate(BENCH)], id_field="id", embed=False)
    return cat


def _matches(cat) -> list[tuple]:
    return cat.con.execute("SELECT record_id, field, eval_set, start_char < end_char, action FROM decontam_matches "
                           "ORDER BY record_id").fetchall()


def test_drop_marks_records_removed_and_undo_restores_them(loaded):
    ids = {r.external_id: r.record_id for r in loaded.records("syn")}
    report = loaded.decontaminate("syn", "bench")
    assert (report.checked, report.contaminated, report.counts) == (12, 3, {"drop": 3, "cut": 0, "flag": 0})
    assert report.eval_sets[0]["records_hit"] == 3 and report.eval_sets[0]["source"] == "dataset"
    gone = {r.external_id for r in loaded.records("syn", status="removed")}
    assert gone == {"r0", "r4", "r8"}
    assert _matches(loaded) == [(ids[k], "response", "bench", True, "drop") for k in ("r0", "r4", "r8")]
    (run,) = loaded.dedup_runs()
    assert run.kind == "decontaminate" and run.removed == 3
    removals = loaded.dedup_run(run.run_id).removals
    bench_ids = {r.record_id for r in loaded.records("bench")}
    assert {r.stage for r in removals} == {"decontaminate"} and {r.duplicate_of for r in removals} <= bench_ids
    assert loaded.undo_dedup(run.run_id).restored == 3
    assert loaded.show("syn").status_counts == {"active": 12}


def test_cut_stores_cleaned_copies_and_undo_swaps_them_back(loaded):
    report = loaded.decontaminate("syn", ["bench"], mode="cut")
    assert report.counts == {"drop": 0, "cut": 3, "flag": 0}
    copies = [r for r in loaded.records("syn") if r.record_id > 12]
    assert len(copies) == 3
    for copy in copies:
        assert not any(b.lower()[:40] in copy.text.lower() for b in BENCH)
        assert copy.fields["prompt"].startswith("Question") and copy.fields["id"].startswith("r")
        (link,) = loaded.lineage(copy.record_id).sources
        assert link.relation == "decontaminated_from" and loaded.record(link.source_record_id).status == "removed"
    assert loaded.dataset("syn").row_count == 15
    loaded.undo_dedup(report.run_id)
    assert {r.status for r in loaded.records("syn", include_removed=True) if r.record_id > 12} == {"removed"}
    assert len(list(loaded.records("syn"))) == 12


def test_flag_changes_no_record_and_dry_run_stores_nothing(loaded):
    dry = loaded.decontaminate("syn", "bench", dry_run=True)
    assert dry.contaminated == 3 and dry.run_id is None and _matches(loaded) == []
    flagged = loaded.decontaminate("syn", "bench", mode="flag")
    assert flagged.counts["flag"] == 3 and loaded.show("syn").status_counts == {"active": 12}
    assert [m[-1] for m in _matches(loaded)] == ["flag"] * 3


def test_files_as_evaluation_sets_and_survivors_exported(loaded, tmp_path):
    path = write_jsonl(tmp_path / "eval.jsonl", [{"qid": "a", "question": BENCH[0]},
                                                 {"qid": "b", "question": BENCH[1]}])
    out = tmp_path / "clean.jsonl"
    report = loaded.decontaminate("syn", str(path), text_fields=["question"], id_field="qid", out=out)
    assert report.eval_sets[0]["source"] == "file" and report.out.rows == 9
    assert {json.loads(line)["id"] for line in out.read_text().splitlines()} == {f"r{i}" for i in range(12)} - {
        "r0", "r4", "r8"}
    assert {e.eval_record for e in report.examples} <= {"a", "b"}


def test_bad_requests_change_nothing(loaded, tmp_path):
    before = loaded.show("syn").status_counts
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    missing_field = write_jsonl(tmp_path / "m.jsonl", [{"other": "x"}])
    for against, kwargs, message in (("syn", {}, "is the dataset being checked"),
                                     ("nope", {}, "neither a dataset"),
                                     (str(empty), {}, "empty"),
                                     (str(missing_field), {"text_fields": ["question"]}, "missing text field"),
                                     ("bench", {"mode": "burn"}, "must be one of")):
        with pytest.raises(BadInput, match=message):
            loaded.decontaminate("syn", against, **kwargs)
    loaded.add_records("empty-eval", [{"text": "x"}], embed=False)
    with pytest.raises(BadInput):
        loaded.decontaminate("syn", [])
    assert loaded.show("syn").status_counts == before and loaded.dedup_runs() == []


def test_the_cli_reports_per_evaluation_set(invoke, tmp_path):
    assert invoke("import", str(write_jsonl(tmp_path / "s.jsonl", _synthetic())), "--dataset", "syn",
                  "--no-embed").exit_code == 0
    path = write_jsonl(tmp_path / "eval.jsonl", [{"question": b} for b in BENCH])
    result = invoke("decontaminate", "syn", "--against", str(path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["contaminated"] == 3 and data["eval_sets"][0]["ngrams_hit"] > 0 and data["run_id"] == 1
    table = invoke("decontaminate", "syn", "--against", str(path), "--dry-run")
    assert "records hit" in table.output
    bad = invoke("decontaminate", "syn", "--against", str(path), "--mode", "burn")
    assert bad.exit_code == 1 and bad.output.startswith("error: --mode")
