"""Generation v2 against real models: the bundled SmolLM2-135M in process (xllamacpp) and llama.cpp's
server on 127.0.0.1 (the ``llama_server`` fixture, the same GGUF behind the OpenAI protocol).

The seed sets in data/ were written for these tests, in two domains the demo does not cover (a bicycle
repair shop, a public library), 20 prompt-response pairs each.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generators.chat import load_chat_model
from generators.text.grounded import GenerationConfig, GenerationIncomplete, generate_text, resume_generation

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
SEED_SETS = {"bike": ("bike_shop_pairs.jsonl", "a bicycle repair shop answering customers"),
             "library": ("library_pairs.jsonl", "a public library answering members' questions")}


def _provenance(cat, name: str) -> list[tuple]:
    return cat.con.execute(
        "SELECT p.prompt_tokens, p.completion_tokens, p.calls, p.groundedness, r.quality_score, p.judge_status, "
        "p.judge_error, p.judge_prompt_tokens FROM records r JOIN datasets d USING (dataset_id) "
        "JOIN generation_provenance p USING (record_id) WHERE d.name = ? ORDER BY r.record_id", [name]).fetchall()


@pytest.mark.parametrize("domain", sorted(SEED_SETS))
def test_generate_n3_on_an_unseen_seed_set_delivers_3_with_the_bundled_model(invoke, domain):
    """The issue's first-run experience: 20 pairs the project has never seen, `--n 3`, the bundled model."""
    path, _task = SEED_SETS[domain]
    assert invoke("import", str(DATA / path), "--dataset", "seeds", "--id-field", "id").exit_code == 0
    result = invoke("generate", "text", "--dataset", "gen", "--ground-on", "seeds", "--n", "3", "--kind", "pairs",
                    "--seed", "7", "--threads", "1")
    assert result.exit_code == 0, result.output
    assert "3/3 accepted in 'gen'" in result.output and "tokens:" in result.output
    shown = json.loads(invoke("show", "gen", "--json").stdout)
    assert shown["row_count"] == 3
    exported = invoke("sql", "SELECT count(*) FROM records r JOIN generation_provenance p USING (record_id) "
                             "WHERE r.quality_score IS NOT NULL AND p.prompt_tokens > 0", "--json")
    assert "3" in exported.stdout


def test_tokens_and_budget_stop_with_the_local_model(cat):
    cat.import_file(DATA / "library_pairs.jsonl", "seeds", origin="real", id_field="id")
    model = load_chat_model("local", threads=1, timeout=300)
    config = GenerationConfig(dataset="lib", n=3, ground_on=["seeds"], k=3, seed=5, max_tokens=200,
                              task=SEED_SETS["library"][1], max_tokens_total=1200)
    with pytest.raises(GenerationIncomplete, match="token budget") as info:
        generate_text(cat, config, model=model)
    stopped = info.value.report
    assert stopped.status == "budget" and stopped.accepted < 3
    used = stopped.summary["total_tokens"]
    # Stopped before the next request once 1,200 tokens were spent: over by at most one request's tokens.
    assert 1200 <= used < 1200 + 1200
    rows = _provenance(cat, "lib")
    assert all(p > 0 and c > 0 for p, c, *_ in rows)
    assert sum(p + c for p, c, *_ in rows) <= used
    done = resume_generation(cat, stopped.job_id, model=model, max_tokens_total=60_000)
    assert done.status == "done" and done.accepted == 3
    rows = _provenance(cat, "lib")
    assert len(rows) == 3 and all(calls in (1, 2) and g is not None and q == g for _, _, calls, g, q, *_ in rows)
    # Job usage counts every call of both runs (the model object is shared: counted once); the records
    # hold only the calls that made them.
    assert done.usage["prompt_tokens"] == model.usage.snapshot()["prompt_tokens"]
    assert done.summary["total_tokens"] > used >= sum(p + c for p, c, *_ in rows[:stopped.accepted])


def test_tokens_budget_and_a_garbage_judge_against_a_real_server(cat, llama_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cat.import_file(DATA / "bike_shop_pairs.jsonl", "seeds", origin="real", id_field="id")
    served = load_chat_model("openai:smollm2", base_url=llama_server, timeout=300)
    # A judge allowed 6 tokens cannot finish its JSON: every verdict is garbage, a per-record failure.
    judge = load_chat_model("openai:smollm2", base_url=llama_server, timeout=300, max_retries=1,
                            backoff_base=0.05)
    config = GenerationConfig(dataset="bike", n=2, ground_on=["seeds"], k=3, seed=9, max_tokens=200,
                              task=SEED_SETS["bike"][1], judge="openai:smollm2", judge_base_url=llama_server,
                              judge_max_tokens=6, max_tokens_total=900)
    with pytest.raises(GenerationIncomplete, match="token budget") as info:
        generate_text(cat, config, model=served, judge_model=judge)
    stopped = info.value.report
    assert stopped.status == "budget" and stopped.summary["total_tokens"] >= 900
    report = resume_generation(cat, stopped.job_id, model=served, judge_model=judge, max_tokens_total=80_000)
    assert report.status == "done" and report.accepted == 2
    rows = _provenance(cat, "bike")
    for prompt_tokens, completion_tokens, _calls, grounded, quality, status, error, judge_tokens in rows:
        assert prompt_tokens > 0 and completion_tokens > 0 and judge_tokens > 0
        assert status == "failed" and error.startswith("bad_response")
        assert quality == grounded  # no judge score: the quality is the groundedness
    assert report.usage["judge"]["completion_tokens"] > 0 and report.summary["judge_tokens"] > 0
    assert report.quality["judge_failed"] == 2
    assert report.usage["prompt_tokens"] + report.usage["completion_tokens"] + report.summary["judge_tokens"] \
        == report.summary["total_tokens"]


def test_a_working_judge_against_a_real_server_stores_score_and_rationale(cat, llama_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cat.import_file(DATA / "library_pairs.jsonl", "seeds", origin="real", id_field="id")
    served = load_chat_model("openai:smollm2", base_url=llama_server, timeout=300)
    report = generate_text(cat, GenerationConfig(dataset="lib", n=1, ground_on=["seeds"], k=3, seed=2,
                                                 max_tokens=200, task=SEED_SETS["library"][1],
                                                 judge="openai:smollm2", judge_base_url=llama_server),
                           model=served)
    assert report.accepted == 1
    status, score, rationale = cat.con.execute(
        "SELECT judge_status, judge_score, judge_rationale FROM generation_provenance").fetchone()
    # The schema-constrained server answers valid JSON; a 135M judge's opinion is not checked here.
    assert status == "scored" and 1 <= score <= 5 and rationale.strip()
