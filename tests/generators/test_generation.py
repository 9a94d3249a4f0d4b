"""Grounded text generation: shape and novelty checks, provenance, faults, kill and resume.

Scripted endpoints (a fake OpenAI-compatible server on 127.0.0.1) are used where a test must control
the exact samples; the bundled local model and a real llama.cpp server run the end-to-end tests.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import pytest

from generators.chat import load_chat_model
from generators.text.grounded import GenerationConfig, generate_text, resume_generation
from tests.conftest import PROJECT_ROOT, SUPPORT_PAIRS
from tests.generators.chat_fakes import Reply, completion_body

NOVEL = [
    ("Do you offer a discount for students living in halls?",
     "Yes: students get 20% off the Essential plan for twelve months with a valid university email."),
    ("Which ports should I open on my router for a game console?",
     "Most consoles need UDP 3074 and TCP 3478-3480; add them under Advanced > Port forwarding."),
    ("Can an engineer visit on a Saturday morning?",
     "Weekend visits are available between 8am and noon for a fee of 25 pounds, booked two days ahead."),
    ("Why does my fibre light blink orange after a storm?",
     "An orange blink means the line lost sync; unplug the box for a minute and call us if it persists."),
    ("How much does a static IP address cost per month?",
     "A static IPv4 address is 5 pounds a month and can be added from the account page at any time."),
    ("Can I pause my contract while travelling for three months?",
     "You can suspend service once a year for up to 90 days for a small holding fee of 3 pounds a month."),
]


def sample(prompt: str, response: str) -> Reply:
    return Reply(body=completion_body(json.dumps({"prompt": prompt, "response": response})))


def seeded(cat):
    rows = [dict(p, category="billing" if p["id"] in ("p3",) else "tech") for p in SUPPORT_PAIRS]
    cat.add_records("seed", rows, origin="real", id_field="id")


def fake_model(endpoint, **kw):
    return load_chat_model("openai:fake", base_url=endpoint.base_url, backoff_base=0.01, backoff_max=0.05,
                           retry_seed=1, timeout=kw.pop("timeout", 5.0), **kw)


def test_copies_bad_shapes_and_failures_are_rejected_and_counted(cat, fake_endpoint):
    seeded(cat)
    p3 = SUPPORT_PAIRS[2]
    fake_endpoint.script = [
        sample(p3["prompt"], p3["response"]),                                   # exact copy
        sample(p3["prompt"].upper() + "  ", p3["response"]),                     # copy after normalising
        sample(p3["prompt"], p3["response"].replace(":", " -").replace("five", "5")),  # near copy
        sample("Tell me about fibre", "  "),                                      # empty response
        Reply(body=completion_body("not json at all")),                          # unparseable, then retried
        Reply(body=completion_body("still not json")),
        Reply(body=completion_body("nope")),
        Reply(body=completion_body("nope")),
        Reply(body=completion_body("nope")),
        sample(*NOVEL[0]),
        sample(*NOVEL[1]),
    ]
    model = fake_model(fake_endpoint, max_retries=4)
    report = generate_text(cat, GenerationConfig(dataset="gen", n=2, ground_on=["seed"], k=3, seed=7,
                                                 task="support replies", strategy="one_call"), model=model)
    assert report.accepted == 2 and report.status == "done"
    assert report.rejections == {"duplicate_exact": 2, "duplicate_near": 1, "empty": 1, "model_bad_response": 1}
    texts = [r[0] for r in cat.con.execute(
        "SELECT text FROM records r JOIN datasets d USING (dataset_id) WHERE d.name = 'gen' ORDER BY record_id"
    ).fetchall()]
    assert texts == [f"{p}\n\n{r}" for p, r in NOVEL[:2]]
    lineage = cat.con.execute("SELECT record_id, rank, score FROM lineage ORDER BY record_id, rank").fetchall()
    assert len(lineage) == 6
    for rid in {row[0] for row in lineage}:
        ranks = [(rank, score) for r, rank, score in lineage if r == rid]
        assert [rank for rank, _ in ranks] == [1, 2, 3]
        assert [s for _, s in ranks] == sorted((s for _, s in ranks), reverse=True)
    prov = cat.con.execute("SELECT backend, model, seed, template_hash FROM generation_provenance").fetchall()
    assert {p[0] for p in prov} == {"openai"} and all(p[3] for p in prov)
    ds = cat.dataset("gen")
    assert ds.origin == "synthetic" and ds.parents == ["seed"] and ds.generator == "llm-grounded"
    shown = cat.show("gen")
    assert shown.generation_jobs[0].rejections["duplicate_exact"] == 2
    assert cat.index_status()[0].in_sync


def test_ground_filter_limits_anchors_and_examples(cat, fake_endpoint):
    seeded(cat)
    fake_endpoint.script = [sample(*NOVEL[2]), sample(*NOVEL[3])]
    report = generate_text(cat, GenerationConfig(dataset="billing-only", n=2, ground_on=["seed"], k=1,
                                                 ground_filter={"category": "billing"}, task="billing",
                                                 strategy="one_call"),
                           model=fake_model(fake_endpoint))
    assert report.accepted == 2
    sources = cat.con.execute(
        "SELECT DISTINCT json_extract_string(s.fields, '$.category') FROM lineage l "
        "JOIN records s ON s.record_id = l.source_record_id "
        "WHERE s.dataset_id = (SELECT dataset_id FROM datasets WHERE name = 'seed')").fetchall()
    assert sources == [("billing",)]
    first_prompt = fake_endpoint.requests[0]["messages"][-1]["content"]
    assert "billed twice" in first_prompt


def test_rate_limits_server_errors_and_hangs_are_retried(cat, fake_endpoint):
    seeded(cat)
    fake_endpoint.script = [
        Reply(status=429, body={"error": {"message": "slow down"}}, headers={"Retry-After": "1"}),
        Reply(status=500, body={"error": {"message": "boom"}}),
        Reply(delay=2.5),
        sample(*NOVEL[4]),
    ]
    model = fake_model(fake_endpoint, timeout=1.0, max_retries=5)
    report = generate_text(cat, GenerationConfig(dataset="flaky", n=1, ground_on=["seed"], k=2, task="x",
                                                 strategy="one_call"),
                           model=model)
    assert report.accepted == 1 and report.rejections == {}
    assert report.usage["retries"] == {"rate_limited": 1, "server_error": 1, "timeout": 1}
    gap = fake_endpoint.times[1] - fake_endpoint.times[0]
    assert gap >= 1.0


def test_concurrent_job_keeps_only_the_needed_requests_in_flight(cat, fake_endpoint):
    seeded(cat)
    replies = iter(NOVEL)
    # Each answer takes 8 s, far longer than planning six requests takes even on a loaded 2-core machine.
    fake_endpoint.decide = lambda active, payload: Reply(delay=8.0, body=completion_body(json.dumps(
        dict(zip(("prompt", "response"), next(replies))))))
    report = generate_text(cat, GenerationConfig(dataset="wide", n=3, ground_on=["seed"], k=1, task="x",
                                                 concurrency=8, strategy="one_call"),
                           model=fake_model(fake_endpoint, timeout=30.0))
    # Before any result the job assumes half its attempts pass: 3 samples -> 6 in flight, not 8.
    assert fake_endpoint.peak_active == 6 and len(fake_endpoint.requests) == 6
    # The first three answers fill the target; the other three are counted, not stored.
    assert report.accepted == 3 and report.attempts == 3 and report.usage["surplus"] == 3
    assert cat.dataset("wide").row_count == 3
    assert cat.show("wide").generation_jobs[0].usage["surplus"] == 3


def test_duplicated_grounding_records_give_one_anchor(cat, fake_endpoint):
    import re

    cat.add_records("seed", [*SUPPORT_PAIRS, dict(SUPPORT_PAIRS[0], id="p1-again")], origin="real", id_field="id")
    fake_endpoint.script = [sample(*pair) for pair in NOVEL[:5]]
    generate_text(cat, GenerationConfig(dataset="spread", n=5, ground_on=["seed"], k=1, task="x", seed=2,
                                         strategy="one_call"),
                  model=fake_model(fake_endpoint))
    anchors = [re.search(r'same subject as: "(.*?)"', r["messages"][-1]["content"]).group(1)
               for r in fake_endpoint.requests]
    distinct = {p["prompt"] for p in SUPPORT_PAIRS}  # p5 repeats p2's prompt; p1 was added twice here
    assert len(distinct) == 4 and set(anchors[:4]) == distinct
    assert anchors[4] == anchors[0]  # five samples from four subjects: the cycle starts again


def test_a_failing_endpoint_exhausts_the_budget_and_resume_finishes(cat, fake_endpoint):
    from catalog.errors import SynthcatError

    seeded(cat)
    fake_endpoint.default = Reply(status=500, body={"error": {"message": "down"}})
    model = fake_model(fake_endpoint, max_retries=1)
    config = GenerationConfig(dataset="down", n=2, ground_on=["seed"], k=1, task="x", max_attempts=2,
                              strategy="one_call")
    with pytest.raises(SynthcatError, match="stopped with 0/2 accepted after 2 attempts"):
        generate_text(cat, config, model=model)
    job_id = cat.dataset("down").parameters["job_id"]
    fake_endpoint.default = Reply()
    fake_endpoint.script = [sample(*NOVEL[0]), sample(*NOVEL[1])]
    report = resume_generation(cat, job_id, model=fake_model(fake_endpoint))
    assert report.accepted == 2 and report.rejections == {"model_server_error": 2}


def test_a_model_slower_than_the_time_limit_stops_the_job_early_and_a_longer_limit_finishes_it(cat, fake_endpoint):
    from catalog.errors import SynthcatError

    seeded(cat)
    fake_endpoint.default = Reply(delay=1.5)  # every answer comes after the 0.4 s limit
    config = GenerationConfig(dataset="slow", n=2, ground_on=["seed"], k=1, task="x", strategy="one_call",
                              request_timeout=0.4)
    with pytest.raises(SynthcatError, match=r"3 attempts in a row ran past the time limit.*raise --timeout"):
        generate_text(cat, config, model=fake_model(fake_endpoint, timeout=0.4, max_retries=1))
    job = cat.show("slow").generation_jobs[0]
    assert job.attempts == 3 and job.rejections == {"model_timeout": 3}  # not the 75 the attempt cap allows
    with pytest.raises(SynthcatError, match="must be a positive number of seconds"):
        resume_generation(cat, job.job_id, request_timeout=0, model=fake_model(fake_endpoint))
    assert cat.show("slow").generation_jobs[0].attempts == 3
    # the same command with a longer limit goes on with the same job (the limit is not a data setting)
    fake_endpoint.default = Reply(delay=0.5)
    fake_endpoint.script = [sample(*NOVEL[0]), sample(*NOVEL[1])]
    slow_ok = fake_model(fake_endpoint, timeout=5.0)
    with pytest.raises(SynthcatError, match="other settings"):  # unlike the limit, max_attempts is a setting
        generate_text(cat, GenerationConfig(**{**config.__dict__, "request_timeout": 5.0, "max_attempts": 1}),
                      model=slow_ok)
    report = generate_text(cat, GenerationConfig(**{**config.__dict__, "request_timeout": 5.0}), model=slow_ok)
    assert report.accepted == 2 and cat.dataset("slow").row_count == 2


@pytest.mark.slow
def test_a_killed_job_resumes_to_exactly_n(catalog_dir, fake_endpoint):
    from catalog import open_catalog

    with open_catalog(catalog_dir, create=True) as cat:
        seeded(cat)
    counter = iter(range(100))
    fake_endpoint.decide = lambda active, payload: Reply(delay=0.4, body=completion_body(json.dumps(
        dict(zip(("prompt", "response"), NOVEL[next(counter) % len(NOVEL)])))))
    code = f"""
        from catalog import open_catalog
        from generators.chat import load_chat_model
        from generators.text.grounded import GenerationConfig, generate_text
        class Tell:
            def start(self, label, total): pass
            def finish(self): pass
            def advance(self, n=1):
                if n: print("accepted", flush=True)
        model = load_chat_model("openai:fake", base_url={fake_endpoint.base_url!r})
        with open_catalog({str(catalog_dir)!r}) as cat:
            generate_text(cat, GenerationConfig(dataset="gen", n=4, ground_on=["seed"], k=2, task="x",
                                                strategy="one_call"),
                          model=model, progress=Tell())
    """
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "accepted", proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with open_catalog(catalog_dir) as cat:
        job_id = cat.dataset("gen").parameters["job_id"]
        done_before = cat.con.execute("SELECT count(*) FROM generation_provenance").fetchone()[0]
        assert 1 <= done_before < 4
        report = resume_generation(cat, job_id, model=fake_model(fake_endpoint))
        assert report.accepted == 4 and report.status == "done"
        rows = cat.con.execute(
            "SELECT count(*), count(DISTINCT content_hash) FROM records WHERE dataset_id = "
            "(SELECT dataset_id FROM datasets WHERE name = 'gen')").fetchone()
        assert rows == (4, 4)
        assert cat.con.execute("SELECT count(*) FROM generation_provenance").fetchone()[0] == 4
        assert cat.dataset("gen").row_count == 4
        from catalog.vector_index import VectorIndex

        assert VectorIndex(cat, "all-MiniLM-L6-v2").load().ntotal == 9


@pytest.mark.slow
def test_local_model_end_to_end(cat):
    seeded(cat)
    report = generate_text(cat, GenerationConfig(dataset="local-gen", n=2, ground_on=["seed"], k=2, seed=3,
                                                 task="customer support for a home internet provider",
                                                 max_tokens=200))
    assert report.accepted == 2
    prov = cat.con.execute("SELECT backend, model FROM generation_provenance").fetchall()
    assert prov == [("local", "local:smollm2-135m-instruct")] * 2
    assert cat.con.execute("SELECT count(*) FROM lineage WHERE relation = 'grounded_on'").fetchone()[0] == 4
    for fields in cat.con.execute("SELECT fields FROM records WHERE dataset_id = "
                                  "(SELECT dataset_id FROM datasets WHERE name = 'local-gen')").fetchall():
        pair = json.loads(fields[0])
        assert pair["prompt"].strip() and pair["response"].strip()


@pytest.mark.slow
def test_openai_backend_against_a_real_llama_server(cat, llama_server):
    seeded(cat)
    model = load_chat_model("openai:smollm2", base_url=llama_server, timeout=120)
    report = generate_text(cat, GenerationConfig(dataset="served", n=1, ground_on=["seed"], k=2, seed=5,
                                                 task="customer support", max_tokens=200), model=model)
    assert report.accepted == 1 and report.usage["completion_tokens"] > 0
    assert cat.con.execute("SELECT backend FROM generation_provenance").fetchone() == ("openai",)


def test_cli_rejects_bad_generation_requests(invoke, pairs_file, tmp_path):
    assert invoke("import", str(pairs_file), "--dataset", "seed").exit_code == 0
    cases = [
        (["--n", "0", "--ground-on", "seed"], "--n: must be at least 1"),
        (["--n", "2", "--ground-on", "nope"], "unknown dataset 'nope'"),
        (["--n", "2"], "give a --task"),
        (["--n", "2", "--ground-on", "seed", "--ground-filter", "novalue"], "--ground-filter: expects KEY=VALUE"),
        (["--n", "2", "--task", "x", "--kind", "poems"], "unknown kind"),
        (["--n", "2", "--task", "x", "--model", "mystery:thing"], "unknown model backend"),
        (["--n", "2", "--task", "x", "--timeout", "0"], "--timeout: must be a positive number of seconds"),
    ]
    for extra, expected in cases:
        result = invoke("generate", "text", "--dataset", "g", *extra)
        assert result.exit_code == 1, (extra, result.output)
        assert expected in result.output and "Traceback" not in result.output, result.output
    assert json.loads(invoke("datasets", "--json").stdout)[0]["name"] == "seed"
    assert len(json.loads(invoke("datasets", "--json").stdout)) == 1
