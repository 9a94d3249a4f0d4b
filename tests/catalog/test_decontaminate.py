"""N-gram decontamination engine: tokens and offsets, matching, modes, frequency rules, bad input."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.dedup.decontaminate import cut_text, decontaminate
from catalog.dedup.eval_files import read_eval_file
from catalog.dedup.eval_index import EvalSet, build_eval_index
from catalog.dedup.word_tokens import batch_tokens_modes, text_tokens, token_spans
from catalog.errors import BadInput
from tests.conftest import SHARED_DATASETS, write_jsonl

Q1 = "Which enzyme converts angiotensin one into angiotensin two in the lungs of healthy adult mammals?"
Q2 = "The committee postponed its final vote on the harbour expansion until the spring session next year."
Q3 = "Patients who received the booster dose showed a markedly lower rate of hospital admission overall."
FILLER = ("Here is some context that has nothing to do with any benchmark at all. "
          "We talk about gardening, weather and the price of bread in small towns. ")


def bench(*texts: str, name: str = "bench") -> EvalSet:
    return EvalSet(name, list(texts), [f"q{i + 1}" for i in range(len(texts))])


# ---------------------------------------------------------------- tokens


UNICODE_BITS = ["a", "B", "7", " ", "  ", "\t", "\n", ".", ",", "-", "'", "(", ")", "$", "<", "\u00a0", "\u3000",
                "\u2019", "\u201c", "\u2013", "\ufb01", "\uff21", "\u00df", "\u00c9", "e\u0301", "\u00a8", "\u00bd",
                "\u2026", "\u03a3", "\u0130", "\x00", "\x01", "\u2028", "\u0085", "\ufeff", "\u216b"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(UNICODE_BITS), max_size=30).map("".join), min_size=1, max_size=5))
def test_batch_tokenizer_agrees_with_the_span_tokenizer(texts):
    batched = batch_tokens_modes(texts, ("space", "delete"), word_numbers=True)
    for mode in ("space", "delete"):
        flat, offsets, words = batched[mode]
        flat = flat.to_pylist()
        assert len(words) == len(flat)
        for i, text in enumerate(texts):
            expected = text_tokens(text, mode)
            assert flat[offsets[i]:offsets[i + 1]] == expected
            tokens, starts, ends = token_spans(text, mode)
            assert tokens == expected
            assert all(0 <= a < b <= len(text) for a, b in zip(starts, ends))


def test_tokens_fold_case_width_and_punctuation_and_spans_point_into_the_original():
    text = "The  STATE-of-the-art, p<0.05; don't \ufb01x \uff21BC!"
    assert text_tokens(text, "space") == ["the", "state", "of", "the", "art", "p", "0", "05", "don", "t",
                                          "fix", "abc"]
    assert text_tokens(text, "delete") == ["the", "stateoftheart", "p005", "dont", "fix", "abc"]
    tokens, starts, ends = token_spans(text, "space")
    assert [text[a:b] for a, b in zip(starts, ends)][:5] == ["The", "STATE", "of", "the", "art"]
    assert text[starts[-2]:ends[-2]] == "\ufb01x"          # NFKC changed the length: whole chunk


# ---------------------------------------------------------------- matching


def test_a_pasted_question_is_found_with_its_span_record_and_ngram():
    text = FILLER + "Q: " + Q1.upper().replace(" ", "  ") + " A: the lungs. " + FILLER
    res = decontaminate([text, FILLER], [bench(Q1, Q2)], mode="flag")
    assert [c.record_id for c in res.contaminated] == [0]
    (match,) = res.contaminated[0].matches
    assert match.eval_set == "bench" and match.eval_record == "q1"
    assert text[match.start:match.end].rstrip("?") == Q1.upper().replace(" ", "  ").rstrip("?")
    assert match.ngram == "which enzyme converts angiotensin one into angiotensin two in the lungs of healthy"
    assert match.ngrams == len(text_tokens(Q1)) - 13 + 1        # every distinct 13-gram of the question
    report = res.eval_sets[0]
    assert (report.records_hit, report.eval_records_hit, report.ngrams_hit) == (1, 1, match.ngrams)


def test_both_punctuation_modes_are_needed_for_deleted_and_spaced_punctuation():
    q = "The council's plan costs 1,000 pounds and doesn't include the new state-of-the-art library building."
    deleted = FILLER + q.replace("'", "").replace(",", "").replace("-", "") + FILLER
    spaced = FILLER + q.replace("'", " ").replace(",", " -").replace("-", " ") + FILLER
    found = {p: {c.record_id for c in decontaminate([deleted, spaced], [bench(q)], punctuation=p,
                                                   mode="flag").contaminated}
             for p in ("space", "delete", "both")}
    assert found == {"space": {1}, "delete": {0}, "both": {0, 1}}


def test_one_long_hyphenated_word_is_not_thirteen_words():
    chem = "1-(5-chloro-6-(trifluoromethoxy)-1h-benzoimidazol-2-yl)-1h-pyrazole-4-carboxylic"
    assert len(text_tokens(chem, "space")) >= 13
    ev = bench(f"Binding assays used {chem} acid as the reference ligand in every experimental run reported.")
    text = f"Our lab synthesised {chem} last week for an unrelated project on soil bacteria."
    assert decontaminate([text], [ev], mode="flag").contaminated == []
    assert len(decontaminate([text], [ev], mode="flag", min_words=1).contaminated) == 1


def test_short_eval_records_match_whole_and_too_short_ones_are_skipped():
    ten = "the quarterly report was delayed by the auditors again"        # 9 words
    seven = "we never saw that bird again"                                  # 6 words
    res = decontaminate([f"News: {ten}, sadly.", f"{seven} in the garden."], [bench(ten, seven, Q1)], mode="flag")
    assert [c.record_id for c in res.contaminated] == [0]
    assert res.contaminated[0].matches[0].ngram == ten
    assert res.eval_sets[0].skipped_short == 1 and res.eval_sets[0].indexed_records == 2
    assert 9 in res.params["ngram_lengths_indexed"]
    assert decontaminate([f"News: {ten}."], [bench(ten, Q1)], mode="flag", min_ngram=10).contaminated == []


def test_a_thirteen_word_record_glued_to_the_text_before_it_still_matches():
    q = "Carriers of the alcohol aldehyde dehydrogenase deficiency mutation drink less than others do."
    assert len(text_tokens(q)) == 13
    glued = f"Two men were taken to the hospital{q} The end."
    res = decontaminate([glued], [bench(q, Q1)], mode="flag")
    assert len(res.contaminated) == 1 and res.contaminated[0].matches[0].ngrams == 1    # 12 of 13 words
    assert 12 in res.params["ngram_lengths_indexed"]


def test_template_ngrams_held_by_many_eval_records_are_ignored():
    template = "Read the following statement carefully and decide whether it is true or false based on evidence:"
    questions = [f"{template} {q}" for q in (Q1, Q2, Q3)] + \
        [f"{template} The {w} in the valley grew taller than ever recorded before this season." for w in
         ("trees", "grasses", "flowers", "weeds", "vines", "shrubs", "ferns", "reeds", "mosses")]
    ev = EvalSet("tf", questions)
    borrowed = f"{template} The weather in Lisbon is mild in winter and dry in summer months."
    pasted = f"Some preamble. {Q2} Some more text."
    res = decontaminate([borrowed, pasted], [ev], mode="flag")
    assert [c.record_id for c in res.contaminated] == [1]
    assert res.eval_sets[0].frequent_ngrams_ignored > 0
    off = decontaminate([borrowed, pasted], [ev], mode="flag", max_eval_frequency=None)
    assert [c.record_id for c in off.contaminated] == [0, 1]


def test_dataset_side_cap_excuses_a_leak_repeated_in_many_records():
    texts = [f"Record {i}: {Q3} End of record {i}." for i in range(12)] + [f"Record {Q1}"]
    assert len(decontaminate(texts, [bench(Q1, Q3)], mode="flag").contaminated) == 13
    capped = decontaminate(texts, [bench(Q1, Q3)], mode="flag", max_dataset_frequency=10)
    assert [c.record_id for c in capped.contaminated] == [12]


def test_several_eval_sets_are_reported_separately():
    res = decontaminate([Q1, f"x {Q2} y", f"{Q1} and {Q3}", FILLER], [bench(Q1, Q2, name="a"), bench(Q3, name="b")],
                        ids=["r1", "r2", "r3", "r4"], mode="flag")
    assert [c.record_id for c in res.contaminated] == ["r1", "r2", "r3"]
    by_name = {r.name: r for r in res.eval_sets}
    assert (by_name["a"].records_hit, by_name["a"].eval_records_hit) == (3, 2)
    assert (by_name["b"].records_hit, by_name["b"].eval_records_hit) == (1, 1)
    assert {m.eval_set for m in res.contaminated[2].matches} == {"a", "b"}


# ---------------------------------------------------------------- modes


def test_drop_and_flag_modes():
    texts = [FILLER + Q1, FILLER]
    dropped = decontaminate(texts, [bench(Q1)], ids=["a", "b"])
    assert dropped.removed_ids() == {"a"} and dropped.counts["drop"] == 1
    flagged = decontaminate(texts, [bench(Q1)], ids=["a", "b"], mode="flag")
    assert flagged.removed_ids() == set() and flagged.counts["flag"] == 1
    json.dumps(dropped.to_dict())


def test_cut_removes_the_span_widened_to_whole_words_and_keeps_the_rest():
    before, after = "A" * 5 + " " + "alpha " * 100, " omega" * 100
    text = before + Q1 + after
    res = decontaminate([text], [bench(Q1)], mode="cut")
    (rec,) = res.contaminated
    assert rec.action == "cut" and rec.cut_text is not None
    assert "angiotensin" not in rec.cut_text
    assert rec.cut_text == "\n".join(text[a:b].strip() for a, b in rec.kept_spans)
    match = rec.matches[0]
    (first, second) = rec.kept_spans
    assert first[1] <= match.start - 200 and second[0] >= match.end + 200
    assert text[first[1] - 1].isspace() or first[1] == 0       # cut at a word boundary
    assert res.removed_ids() == set()


def test_cut_becomes_drop_when_split_too_often_or_too_little_is_left():
    spans = [(i * 100, i * 100 + 10) for i in range(1, 13)]
    text = " ".join(["word"] * 300)
    cleaned, kept, reason = cut_text(text, spans, window=5, max_pieces=10, min_piece_chars=1)
    assert cleaned is None and "more than 10" in reason
    cleaned, kept, reason = cut_text(text, spans[:2], window=5, max_pieces=10, min_piece_chars=1)
    assert cleaned is not None and len(kept) == 3
    short = decontaminate([f"Intro. {Q1} Outro."], [bench(Q1)], mode="cut")
    assert short.contaminated[0].action == "drop" and "no piece" in short.contaminated[0].reason
    assert short.removed_ids() == {0}


# ---------------------------------------------------------------- bad input


def test_bad_input_raises_before_any_work():
    with pytest.raises(BadInput, match="empty"):
        decontaminate([Q1], [EvalSet("empty", [])])
    with pytest.raises(BadInput, match="at least one evaluation set"):
        decontaminate([Q1], [])
    with pytest.raises(BadInput, match="is the dataset being checked"):
        decontaminate([Q1, Q2], [EvalSet("self", [Q1, Q2])])
    with pytest.raises(BadInput, match="min_ngram"):
        decontaminate([Q1], [bench("too short to ever match")])
    with pytest.raises(BadInput, match="must be a string"):
        decontaminate([Q1, None], [bench(Q2)])
    with pytest.raises(BadInput, match="mode"):
        decontaminate([Q1], [bench(Q2)], mode="erase")
    with pytest.raises(BadInput, match="min_ngram"):
        decontaminate([Q1], [bench(Q2)], ngram=8, min_ngram=9)
    with pytest.raises(BadInput, match="given twice"):
        decontaminate([Q1], [bench(Q2), bench(Q3)])
    with pytest.raises(BadInput, match="not unique"):
        decontaminate([Q1, Q2], [bench(Q3)], ids=["x", "x"])


def test_eval_files_in_three_formats_and_their_errors(tmp_path):
    rows = [{"id": "a", "question": Q1, "choices": ["yes", "no"]}, {"id": "b", "question": Q2, "choices": ["x"]}]
    jl = write_jsonl(tmp_path / "bench.jsonl", rows)
    es = read_eval_file(jl, id_field="id")
    assert es.texts == [Q1, Q2] and list(es.ids) == ["a", "b"] and es.name == "bench.jsonl"
    both = read_eval_file(jl, text_fields=["question", "choices"])
    assert both.texts[0] == f"{Q1}\nyes\nno" and both.ids[0] == "line 1"
    import pandas as pd

    pd.DataFrame({"text": [Q1, Q3]}).to_csv(tmp_path / "b.csv", index=False)
    pd.DataFrame({"text": [Q1, Q3]}).to_parquet(tmp_path / "b.parquet")
    assert read_eval_file(tmp_path / "b.csv").texts == read_eval_file(tmp_path / "b.parquet").texts == [Q1, Q3]
    with pytest.raises(BadInput, match="line 2.*field 'question'.*missing"):
        read_eval_file(write_jsonl(tmp_path / "gap.jsonl", [{"question": Q1}, {"other": 1}]))
    with pytest.raises(BadInput, match="no text field"):
        read_eval_file(write_jsonl(tmp_path / "none.jsonl", [{"other": 1}]))
    with pytest.raises(BadInput, match="field 'answer'"):
        read_eval_file(jl, text_fields=["answer"])
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(BadInput, match="empty"):
        read_eval_file(tmp_path / "empty.jsonl")


def test_an_index_can_be_reused_for_several_datasets():
    index = build_eval_index([bench(Q1, Q2)], ngram=13, min_ngram=8)
    a = decontaminate([Q1], [], index=index, mode="flag")
    b = decontaminate([FILLER, Q2], [], index=index, mode="flag")
    assert [c.record_id for c in a.contaminated] == [0] and [c.record_id for c in b.contaminated] == [1]


# ---------------------------------------------------------------- planted sets


@pytest.mark.slow
def test_planted_set_recall_and_false_flags():
    from benchmarks.make_contamination import build_contamination_set, read_sentences, score

    sci = read_sentences(f"scifact:{SHARED_DATASETS / 'scifact' / 'corpus.jsonl.gz'}")
    mrpc = read_sentences(f"mrpc:{SHARED_DATASETS / 'mrpc' / 'msr_paraphrase_train.txt'}")
    random.Random(0).shuffle(sci)
    cs = build_contamination_set(sci[:8000], mrpc, eval_records=600, planted=400, negatives=400, clean=200,
                                 template_share=0.05, seed=7)
    res = decontaminate(cs.texts, [EvalSet("eval", cs.eval_texts, cs.eval_ids)], ids=cs.ids, mode="flag")
    sc = score(cs, {c.record_id for c in res.contaminated})
    # measured on this set: recall 1.0, no false flags (benchmarks/RESULTS.md has the full-size sets)
    assert sc["recall"] >= 0.97
    assert sc["false_flags_negatives"] <= 0.01 and sc["false_flags_clean"] == 0.0
