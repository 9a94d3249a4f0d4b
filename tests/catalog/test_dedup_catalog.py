"""Dedup over the catalog: stages on crafted cases, scopes, keep policies, audit rows, undo, dry run."""

from __future__ import annotations

import json

import pytest

from catalog.errors import BadInput, DatasetExists, SynthcatError

BASE = ("After the storm our fibre line stopped working, the router shows a red light and restarting it "
        "twice did not help, so please send an engineer as soon as you can.")
TEXTS = [
    BASE,                                                         # 0 original
    "  " + BASE.upper().replace(" the ", "  the ") + "  ",        # 1 exact after normalising
    BASE.replace("as soon as you can", "as soon as possible"),    # 2 near-duplicate (MinHash)
    "My monthly bill shows a charge of 45 pounds for March that I do not recognise at all.",
    "My monthly bill shows a charge of 12 pounds for April that I do not recognise at all.",   # near miss
    "How do I set up parental controls on the new router for my kids' tablets?",
    "What time does the shop on the high street open on Sundays?",
]


def _load(cat, name="support", texts=TEXTS, origin="synthetic", quality=None):
    rows = [{"text": t, **({"q": quality[i]} if quality else {})} for i, t in enumerate(texts)]
    cat.add_records(name, rows, origin=origin, quality_field="q" if quality else None)
    return [r.record_id for r in cat.records(name)]


def _status(cat, ids):
    return [cat.record(i).status for i in ids]


def test_stages_remove_copies_and_keep_near_misses(cat):
    ids = _load(cat)
    report = cat.dedup("support")
    assert report.removed == 2
    assert report.counts["exact"] == 1 and report.counts["minhash"] == 1
    assert _status(cat, ids) == ["active", "removed", "removed", "active", "active", "active", "active"]
    rows = cat.dedup_run(report.run_id).removals
    assert [(r.record_id, r.stage, r.duplicate_of) for r in rows] == [(ids[1], "exact", ids[0]),
                                                                    (ids[2], "minhash", ids[0])]
    assert rows[0].score == 1.0 and 0.5 <= rows[1].score < 1.0
    run = cat.dedup_runs()[0]
    assert run.removed == 2 and run.parameters["keep"] == "first"


def test_dry_run_changes_nothing_and_shows_examples(cat):
    ids = _load(cat)
    report = cat.dedup("support", dry_run=True)
    assert report.removed == 2 and report.run_id is None
    assert report.examples[0].keep.record_id == ids[0]
    assert set(_status(cat, ids)) == {"active"}
    assert cat.dedup_runs() == []


def test_undo_restores_and_refuses_twice(cat, tmp_path):
    ids = _load(cat)
    run_id = cat.dedup("support").run_id
    out = tmp_path / "survivors.jsonl"
    cat.export("support", out)
    assert len(out.read_text().splitlines()) == 5
    assert len(cat.export("support", tmp_path / "all.jsonl", include_removed=True) and
               (tmp_path / "all.jsonl").read_text().splitlines()) == 7
    assert cat.undo_dedup(run_id).to_dict() == {"run_id": run_id, "restored": 2}
    assert set(_status(cat, ids)) == {"active"}
    with pytest.raises(SynthcatError, match="already undone"):
        cat.undo_dedup(run_id)
    with pytest.raises(SynthcatError, match="unknown dedup run 99"):
        cat.undo_dedup(99)


def test_against_a_reference_only_the_checked_dataset_loses(cat):
    ref_ids = _load(cat, "eval-set", [TEXTS[3], TEXTS[6]], origin="real")
    new_ids = _load(cat, "fresh", [TEXTS[3].lower(), TEXTS[5], TEXTS[6]])
    report = cat.dedup("fresh", against=["eval-set"], keep="first")
    assert report.removed == 2 and report.references == 2
    assert _status(cat, ref_ids) == ["active", "active"]
    assert _status(cat, new_ids) == ["removed", "active", "removed"]
    with pytest.raises(BadInput, match="both checked and used as reference"):
        cat.dedup("fresh", against=["fresh"])


def test_across_datasets_and_keep_policies(cat):
    short, long_ = BASE, BASE + " Thanks."
    a = _load(cat, "a", [short], origin="synthetic", quality=[0.2])
    b = _load(cat, "b", [long_], origin="real", quality=[0.9])
    for policy, kept in (("first", a[0]), ("longest", b[0]), ("quality", b[0]), ("real", b[0])):
        report = cat.dedup(["a", "b"], keep=policy, semantic=False)
        assert report.removed == 1, policy
        (removed,) = cat.dedup_run(report.run_id).removals
        assert removed.duplicate_of == kept, policy
        cat.undo_dedup(report.run_id)


def test_into_writes_survivors_with_lineage(cat):
    _load(cat)
    report = cat.dedup("support", into="support-clean")
    assert report.into.to_dict() == {"dataset": "support-clean", "rows": 5}
    ds = cat.dataset("support-clean")
    assert ds.parents == ["support"] and ds.generator == "dedup"
    assert [(s.relation, s.source_dataset, s.links) for s in cat.lineage("support-clean").links] == [
        ("deduplicated_from", "support", 5)]
    copy = next(cat.records("support-clean"))
    (link,) = cat.lineage(copy.record_id).sources
    assert link.relation == "deduplicated_from" and cat.record(link.source_record_id).text == copy.text
    assert cat.index_status()[0].in_sync
    with pytest.raises(DatasetExists):
        cat.dedup("support", into="support-clean")


def test_bad_requests(cat):
    _load(cat)
    cat.add_table("tbl", __import__("pandas").DataFrame({"x": [1]}))
    with pytest.raises(BadInput, match="is a table"):
        cat.dedup("tbl")
    with pytest.raises(BadInput, match="every stage is switched off"):
        cat.dedup("support", exact=False, minhash=False, semantic=False)
    with pytest.raises(BadInput, match="keep policy"):
        cat.dedup("support", keep="random")


def test_cli_dedup_undo_and_runs(invoke, tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps({"text": t}) for t in TEXTS) + "\n")
    assert invoke("import", str(path), "--dataset", "support").exit_code == 0
    dry = invoke("dedup", "support", "--dry-run")
    assert dry.exit_code == 0 and "would remove 2" in dry.output
    result = json.loads(invoke("dedup", "support", "--json").stdout)
    assert result["removed"] == 2 and result["run_id"] == 1
    runs = json.loads(invoke("dedup-runs", "list", "--json").stdout)
    assert runs[0]["removed"] == 2
    shown = json.loads(invoke("dedup-runs", "show", "1", "--json").stdout)
    kept = shown["removals"][0]["duplicate_of"]
    assert [(r["stage"], r["duplicate_of"]) for r in shown["removals"]] == [("exact", kept), ("minhash", kept)]
    assert "2 records restored" in invoke("dedup-runs", "undo", "1").output
    bad = invoke("dedup-runs", "undo", "x")
    assert bad.exit_code == 2 and "valid integer" in bad.output
    missing = invoke("dedup", "runs")
    assert missing.exit_code == 1 and "synthcat dedup-runs list" in missing.output


def test_demo_seed_set_planted_copies_all_go(cat):
    from tests.conftest import PROJECT_ROOT

    data = PROJECT_ROOT / "data"
    cat.import_file(data / "demo_pairs.jsonl", "seed", id_field="id")
    truth = json.loads((data / "demo_pairs_duplicates.json").read_text())
    run = cat.dedup("seed")
    removed = {r.external_id for r in cat.dedup_run(run.run_id, limit=1000).removals}
    for original, copy in truth["exact"] + truth["near"]:
        assert copy in removed or original in removed, (original, copy)
    # The planted near-misses differ only in a plan name and price (word 3-gram Jaccard ~0.75):
    # lexical and embedding stages cannot tell them from copies, so they are not asserted here.


SHARED_REPLY = "Thanks for flagging this. The second payment was a collection error and we have reversed it."


def test_pairs_are_compared_on_prompt_and_reply_by_default(cat):
    rows = [{"prompt": "I was charged twice for my broadband this month.", "response": SHARED_REPLY},
            {"prompt": "Why are there two direct debits from you on my statement?", "response": SHARED_REPLY},
            {"prompt": "i was charged twice for my broadband this month!!", "response": SHARED_REPLY},
            {"prompt": "I was charged twice for my broadband this month.", "response": "Please send a screenshot."}]
    cat.add_records("pairs", rows, embed=False)
    ids = [r.record_id for r in cat.records("pairs")]
    default = cat.dedup("pairs", semantic=False, dry_run=True)
    assert default.parameters["on"] == "both"
    # the near-copy goes; another question with the same canned reply stays; the same question with
    # a different answer stays too
    assert [r.record_id for e in default.examples for r in e.remove] == [ids[2]]
    whole = cat.dedup("pairs", semantic=False, dry_run=True, on="text")
    assert {r.record_id for e in whole.examples for r in e.remove} >= {ids[2]}
    by_prompt = cat.dedup("pairs", semantic=False, dry_run=True, on="prompt")
    assert {r.record_id for e in by_prompt.examples for r in e.remove} == {ids[2], ids[3]}
    run = cat.dedup("pairs", semantic=False)
    assert cat.dedup_runs()[-1].parameters["on"] == "both" and run.removed == 1


def test_conversations_default_to_their_user_turns_and_kinds_do_not_mix(cat):
    def convo(user, reply):
        return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]}

    cat.add_records("chats", [convo("How do I reset my router to factory settings?", "Hold the pin for 10 s."),
                              convo("How do I reset my router to factory settings?", "Use the app's reset."),
                              convo("Is there an outage in Leeds today?", "Hold the pin for 10 s.")], embed=False)
    report = cat.dedup("chats", semantic=False, dry_run=True)
    assert report.parameters["on"] == "user_turns" and report.removed == 1
    cat.add_records("notes", [{"text": "How do I reset my router to factory settings?"}], embed=False)
    with pytest.raises(BadInput, match="several kinds"):
        cat.dedup(["chats", "notes"], on="first_user")
    assert cat.dedup(["chats", "notes"], semantic=False, dry_run=True).parameters["on"] == "text"
    with pytest.raises(BadInput, match="does not fit pairs"):
        cat.add_records("p", [{"prompt": "a question here", "response": "an answer here"}], embed=False)
        cat.dedup("p", on="user_turns")
