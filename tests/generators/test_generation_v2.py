"""Generation v2 (issue 18): two-step pairs, the adaptive attempt budget, token budgets and cost,
groundedness and judge scores, and how a job that stops short reports itself.

A scripted endpoint (chat_fakes) stands in for the model where a test must control each answer and
each token count; the real local model and a real server run in test_generation_real.py.
"""

from __future__ import annotations

import json

import pytest

from generators.chat import load_chat_model
from generators.text.budget import AttemptBudget, Prices, usage_summary, wilson_upper
from generators.text.grounded import GenerationConfig, GenerationIncomplete, generate_text, resume_generation
from tests.conftest import SUPPORT_PAIRS
from tests.generators.chat_fakes import Reply, completion_body
from tests.generators.test_generation import NOVEL, sample, seeded


def fake_model(endpoint, **kw):
    return load_chat_model("openai:fake", base_url=endpoint.base_url, backoff_base=0.01, backoff_max=0.05,
                           retry_seed=1, timeout=kw.pop("timeout", 5.0), **kw)


def said(key: str, text: str, **tokens) -> Reply:
    return Reply(body=completion_body(json.dumps({key: text}), **tokens))


def gen_rows(cat, name: str) -> list[tuple]:
    return cat.con.execute(
        "SELECT r.record_id, r.fields, r.quality_score, p.strategy, p.calls, p.prompt_tokens, p.completion_tokens, "
        "p.groundedness, p.groundedness_parts, p.judge_status, p.judge_score, p.judge_rationale, p.judge_error "
        "FROM records r JOIN datasets d USING (dataset_id) JOIN generation_provenance p USING (record_id) "
        "WHERE d.name = ? ORDER BY r.record_id", [name]).fetchall()


# ---------------------------------------------------------------------------------- two-step


def test_two_step_writes_the_prompt_then_a_response_grounded_on_records_retrieved_for_it(cat, fake_endpoint):
    seeded(cat)
    fake_endpoint.script = [
        said("prompt", "I forgot the password of my wireless network, how can I set a new one?", prompt_tokens=50,
             completion_tokens=12),
        said("response", "Open 192.168.1.1 in a browser, log in to the router and set a new password under "
                         "Wireless.", prompt_tokens=80, completion_tokens=20),
    ]
    report = generate_text(cat, GenerationConfig(dataset="two", n=1, ground_on=["seed"], k=2, seed=1, task="x",
                                                 strategy="two_step"),
                           model=fake_model(fake_endpoint))
    assert report.accepted == 1 and report.attempts == 1
    first, second = (r["messages"][-1]["content"] for r in fake_endpoint.requests)
    assert '{"prompt": "..."}' in first and "Response:" not in first  # the prompt step sees prompts only
    assert 'The user\'s message: "I forgot the password of my wireless network' in second
    # The response step was grounded on the records nearest the *new* prompt: p2/p5 are about wifi passwords.
    grounded_on = [r[0] for r in cat.con.execute(
        "SELECT s.external_id FROM lineage l JOIN records s ON s.record_id = l.source_record_id "
        "ORDER BY l.rank").fetchall()]
    assert grounded_on[0] in ("p2", "p5") and len(grounded_on) == 2
    assert "192.168.1.1" in second
    (_, fields, quality, strategy, calls, p_tok, c_tok, g, parts, *_judge) = gen_rows(cat, "two")[0]
    assert json.loads(fields)["prompt"].startswith("I forgot the password")
    assert strategy == "two_step" and calls == 2 and (p_tok, c_tok) == (130, 32)
    assert quality == g and 0.7 < g <= 1.0
    assert json.loads(parts)["unsupported_numbers"] == []
    assert report.summary["total_tokens"] == 162 and report.summary["tokens_per_accepted"] == 162


def test_two_step_rejects_an_echoed_or_broken_prompt_before_asking_for_a_response(cat, fake_endpoint):
    seeded(cat)
    anchors = [p["prompt"] for p in SUPPORT_PAIRS]
    fake_endpoint.decide = None
    fake_endpoint.script = [
        said("prompt", anchors[0]),  # may or may not be this attempt's anchor: echoes an example either way
        said("prompt", "My refund is from  online provider, is that right?"),   # an empty slot
        said("prompt", "Can I move my router to the loft without losing speed?"),
        said("response", "You can, but walls and floors weaken wifi: a mesh point on the landing keeps speed up."),
    ]
    report = generate_text(cat, GenerationConfig(dataset="two", n=1, ground_on=["seed"], k=4, seed=3, task="x",
                                                 strategy="two_step"),
                           model=fake_model(fake_endpoint))
    assert report.accepted == 1 and report.attempts == 3
    # p1's prompt word for word: an echo of an example, or at least of a grounding record's prompt.
    assert set(report.rejections) in ({"copied_prompt", "unfilled_slot"}, {"duplicate_prompt", "unfilled_slot"})
    assert sum(report.rejections.values()) == 2
    assert len(fake_endpoint.requests) == 4  # rejected prompts cost no response call


def test_a_prompt_that_changes_one_word_of_a_source_prompt_is_a_copy(cat, fake_endpoint):
    # "Can I move my plan to my new flat?" with its last word swapped and its case changed: 6 of its 8
    # word 3-grams are new (Jaccard 0.75, under the 0.8 threshold), but 8 of 9 words match in order.
    seeded(cat)
    fake_endpoint.decide = None
    fake_endpoint.script = [
        said("prompt", "can I move my PLAN to my new house??"),
        said("prompt", "Can I move my router to the loft without losing speed?"),
        said("response", "You can, but walls and floors weaken wifi: a mesh point on the landing keeps speed up."),
    ]
    report = generate_text(cat, GenerationConfig(dataset="two", n=1, ground_on=["seed"], k=4, seed=3, task="x",
                                                 strategy="two_step"),
                           model=fake_model(fake_endpoint))
    assert report.accepted == 1 and report.attempts == 2
    assert report.rejections == {"copied_prompt": 1}


def test_unfilled_slots_in_a_one_call_sample_are_rejected(cat, fake_endpoint):
    seeded(cat)
    fake_endpoint.script = [sample("How is my refund paid?", "It's a credit of 's final bill, paid next month."),
                            sample("Hello [Name], is my order late?", "Orders ship within two days."),
                            sample(*NOVEL[0])]
    report = generate_text(cat, GenerationConfig(dataset="slots", n=1, ground_on=["seed"], k=1, task="x",
                                                 strategy="one_call"), model=fake_model(fake_endpoint))
    assert report.accepted == 1 and report.rejections == {"unfilled_slot": 2}


# ------------------------------------------------------------------------ attempts that adapt


def test_attempt_budget_rules():
    budget = AttemptBudget.for_job(3, None)
    assert budget.cap == 3 * 25 + 25
    assert budget.stop_reason(attempts=11, accepted=0) is None  # too early to judge the rate
    assert budget.stop_reason(attempts=30, accepted=1) is None  # slow, but 2 more fit in the cap
    assert "optimistic" in budget.stop_reason(attempts=60, accepted=0)  # 3 samples at <5% do not fit
    assert "in a row" in budget.stop_reason(attempts=8, accepted=0, consecutive_failures=8)
    assert budget.stop_reason(attempts=2, accepted=0, consecutive_failures=2, consecutive_timeouts=2) is None
    assert "--timeout" in budget.stop_reason(attempts=3, accepted=0, consecutive_failures=3, consecutive_timeouts=3)
    assert "cap" in budget.stop_reason(attempts=100, accepted=2)
    assert budget.stop_reason(attempts=100, accepted=3) is None  # done is not a stop
    assert AttemptBudget.for_job(3, 7).cap == 7
    assert wilson_upper(0, 20) == pytest.approx(0.119, abs=0.002)
    assert 0.45 < wilson_upper(5, 10) < 0.8


def test_a_job_keeps_going_past_the_old_fixed_budget_while_it_still_accepts(cat, fake_endpoint):
    seeded(cat)
    p3 = SUPPORT_PAIRS[2]
    # 22 copies before the first new sample: the old budget (5n+10 = 20) would have stopped at 0/2.
    fake_endpoint.script = [sample(p3["prompt"], p3["response"])] * 22 + [sample(*NOVEL[0]), sample(*NOVEL[1])]
    report = generate_text(cat, GenerationConfig(dataset="slow", n=2, ground_on=["seed"], k=1, task="x",
                                                 strategy="one_call"), model=fake_model(fake_endpoint))
    assert report.status == "done" and report.accepted == 2 and report.attempts == 24
    assert report.rejections == {"duplicate_exact": 22}


def test_a_job_that_cannot_finish_keeps_its_samples_reports_and_resumes(cat, fake_endpoint):
    seeded(cat)
    p3 = SUPPORT_PAIRS[2]
    fake_endpoint.script = [sample(*NOVEL[0])]
    fake_endpoint.default = sample(p3["prompt"], p3["response"])  # only copies after the first sample
    config = GenerationConfig(dataset="stuck", n=3, ground_on=["seed"], k=1, task="x", strategy="one_call",
                              attempts_per_sample=4)
    with pytest.raises(GenerationIncomplete) as info:
        generate_text(cat, config, model=fake_model(fake_endpoint))
    report = info.value.report
    assert report.status == "exhausted" and report.accepted == 1 and report.rejections["duplicate_exact"] >= 12
    assert "1/3 accepted" in str(info.value) and "synthcat generate resume" in str(info.value)
    assert report.summary["total_tokens"] == 10 * report.attempts  # every call's tokens, rejected ones too
    assert cat.dataset("stuck").row_count == 1
    fake_endpoint.script = [sample(*NOVEL[1]), sample(*NOVEL[2])]
    done = resume_generation(cat, report.job_id, model=fake_model(fake_endpoint))
    assert done.status == "done" and done.accepted == 3 and done.accepted_this_run == 2


# ------------------------------------------------------------------------------ token budget


def test_token_budget_stops_cleanly_and_resume_raises_it(cat, fake_endpoint):
    seeded(cat)
    fake_endpoint.script = [sample(*pair) for pair in NOVEL]  # 7 + 3 tokens per call
    config = GenerationConfig(dataset="budget", n=5, ground_on=["seed"], k=1, task="x", strategy="one_call",
                              max_tokens_total=25, price_in=2.0, price_out=8.0)
    with pytest.raises(GenerationIncomplete, match="token budget reached") as info:
        generate_text(cat, config, model=fake_model(fake_endpoint))
    report = info.value.report
    assert report.status == "budget" and report.accepted == 3 and len(fake_endpoint.requests) == 3
    assert report.summary["total_tokens"] == 30
    assert report.summary["cost_usd"] == pytest.approx((21 * 2.0 + 9 * 8.0) / 1e6)
    jobs = cat.con.execute("SELECT status, stop_reason FROM generation_jobs").fetchall()
    assert jobs == [("budget", "token budget reached (25 tokens)")]
    done = resume_generation(cat, report.job_id, model=fake_model(fake_endpoint), max_tokens_total=100)
    assert done.status == "done" and done.accepted == 5 and done.summary["total_tokens"] == 50
    assert done.usage["limits"]["token_budget"] == 100


def test_prices_and_summary():
    assert Prices().cost(1000, 1000) is None
    summary = usage_summary({"prompt_tokens": 1_000_000, "completion_tokens": 500_000,
                             "judge": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}},
                            Prices(0.15, 0.60), accepted=10)
    assert summary["total_tokens"] == 1_500_120 and summary["judge_tokens"] == 120
    assert summary["cost_usd"] == pytest.approx(0.15 * 1.0001 + 0.60 * 0.50002)
    assert summary["tokens_per_accepted"] == 150012.0
    with pytest.raises(Exception, match="price"):
        Prices(-1.0, None)


# ------------------------------------------------------------------------------------ judge


def _judge_aware(endpoint, judge_replies: list[Reply], samples: list[tuple[str, str]]):
    """Generation requests get the next sample, judge requests (the grader's system prompt) the next verdict."""
    samples = list(samples)

    def decide(active: int, payload: dict) -> Reply:
        if "grader" in payload["messages"][0]["content"]:
            return judge_replies.pop(0)
        return sample(*samples.pop(0))

    endpoint.decide = decide


def test_judge_scores_each_record_and_garbage_is_a_per_record_failure(cat, fake_endpoint):
    seeded(cat)
    garbage = Reply(body=completion_body("I think it is quite good!!", prompt_tokens=40, completion_tokens=6))
    _judge_aware(fake_endpoint, [
        Reply(body=completion_body(json.dumps({"rationale": "Answers the question with facts from record 1.",
                                               "score": 4}), prompt_tokens=40, completion_tokens=15)),
        garbage, garbage, garbage,  # the second record's judge answers garbage on every try
    ], NOVEL[:2])
    judge = load_chat_model("openai:judge", base_url=fake_endpoint.base_url, backoff_base=0.01, retry_seed=1,
                            max_retries=2, timeout=5)
    report = generate_text(cat, GenerationConfig(dataset="judged", n=2, ground_on=["seed"], k=2, task="x",
                                                 strategy="one_call", judge="openai:judge"),
                           model=fake_model(fake_endpoint), judge_model=judge)
    assert report.status == "done" and report.accepted == 2
    first, second = gen_rows(cat, "judged")
    assert first[9:12] == ("scored", 4.0, "Answers the question with facts from record 1.")
    assert first[2] == pytest.approx((first[7] + 0.75) / 2, abs=1e-4)  # quality = mean(groundedness, judge)
    assert second[9] == "failed" and second[12].startswith("bad_response") and second[10] is None
    assert second[2] == pytest.approx(second[7])  # no judge score: the quality is the groundedness
    assert report.usage["judge"]["prompt_tokens"] == 40 * 4 and report.usage["judge"]["completion_tokens"] == 33
    assert report.summary["judge_tokens"] == 40 * 4 + 33
    assert report.quality["judged"] == 1 and report.quality["judge_failed"] == 1


def test_judge_out_of_range_score_is_a_failure(cat, fake_endpoint):
    seeded(cat)
    _judge_aware(fake_endpoint, [Reply(body=completion_body(json.dumps({"rationale": "great", "score": 9})))] * 5,
                 NOVEL[:1])
    judge = load_chat_model("openai:judge", base_url=fake_endpoint.base_url, backoff_base=0.01, max_retries=0)
    generate_text(cat, GenerationConfig(dataset="j", n=1, ground_on=["seed"], k=1, task="x", strategy="one_call",
                                        judge="openai:judge"), model=fake_model(fake_endpoint), judge_model=judge)
    row = gen_rows(cat, "j")[0]
    assert row[9] == "failed" and "is not one of" in row[12] and row[2] == pytest.approx(row[7])


# ----------------------------------------------------------------------------- CLI, export, evaluate


def test_cli_summary_jobs_export_and_evaluate_show_tokens_and_quality(invoke, catalog_dir, pairs_file, tmp_path,
                                                                       fake_endpoint):
    assert invoke("import", str(pairs_file), "--dataset", "seed").exit_code == 0
    fake_endpoint.script = [sample(*NOVEL[0]), sample(*NOVEL[1])]
    result = invoke("generate", "text", "--dataset", "g", "--n", "2", "--ground-on", "seed", "--k", "2",
                    "--task", "x", "--strategy", "one_call", "--model", "openai:fake", "--base-url",
                    fake_endpoint.base_url, "--price-in", "1", "--price-out", "2")
    assert result.exit_code == 0, result.output
    assert "tokens: 20 (prompt 14, completion 6), 10 per accepted sample, cost $0.0000" in result.output
    assert "quality: groundedness mean" in result.output
    jobs = json.loads(invoke("generate", "jobs", "--json").stdout)
    assert jobs[0]["summary"]["total_tokens"] == 20 and jobs[0]["summary"]["cost_usd"] == pytest.approx(2.6e-5)
    assert jobs[0]["quality"]["groundedness_scored"] == 2
    shown = json.loads(invoke("show", "g", "--json").stdout)
    assert shown["generation_jobs"][0]["tokens"] == 20
    out = tmp_path / "g.jsonl"
    assert invoke("export", "g", "--out", str(out)).exit_code == 0
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(isinstance(row["quality"], float) and 0 <= row["quality"] <= 1 for row in exported)
    assert {row["prompt"] for row in exported} == {NOVEL[0][0], NOVEL[1][0]}
    evaluation = json.loads(invoke("evaluate", "g", "--real", "seed", "--json").stdout)
    assert evaluation["quality_scores"]["scored"] == 2 and 0 <= evaluation["quality_scores"]["mean"] <= 1
    assert evaluation["quality_scores"]["groundedness"]["n"] == 2
    shown_eval = invoke("evaluate", "g", "--real", "seed", "--force").stdout
    assert "quality mean" in shown_eval and "quality p10 / median / p90" in shown_eval


def test_cli_job_that_stops_short_prints_its_summary_and_exits_1(invoke, pairs_file, fake_endpoint):
    assert invoke("import", str(pairs_file), "--dataset", "seed").exit_code == 0
    fake_endpoint.script = [sample(*NOVEL[0])]
    fake_endpoint.default = Reply(status=500, body={"error": {"message": "down"}})
    result = invoke("generate", "text", "--dataset", "g", "--n", "2", "--ground-on", "seed", "--k", "1",
                    "--task", "x", "--strategy", "one_call", "--model", "openai:fake", "--base-url",
                    fake_endpoint.base_url, "--max-attempts", "3")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "1/2 accepted in 'g'" in result.output and "rejections: model_server_error=2" in result.output
    assert "error: job gen-" in result.output and "the 1 accepted samples are kept" in result.output
    job_id = json.loads(invoke("generate", "jobs", "--json").stdout)[0]["job_id"]
    fake_endpoint.script = [sample(*NOVEL[1])]
    resumed = invoke("generate", "resume", job_id)
    assert resumed.exit_code == 0 and "2/2 accepted" in resumed.output
