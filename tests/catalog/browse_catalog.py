"""A small catalog with one of everything the browser and the dataset card show, built through the
public API: real pairs, texts and conversations, a typed table, synthetic pairs grounded on the real
ones (a real generation job against a scripted endpoint, so lineage, provenance and token use are
the generator's own), a dedup run with its survivors copied, and a stored text evaluation.

The endpoint is scripted because the test must control what the "model" writes (novel samples that
pass the novelty checks); everything else is real: DuckDB, FAISS, the bundled embedder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from catalog import Catalog
from tests.conftest import SUPPORT_PAIRS
from tests.generators.chat_fakes import FakeEndpoint, Reply, completion_body

NOVEL = [
    ("Do you offer a discount for students living in halls?",
     "Yes: students get 20% off the Essential plan for twelve months with a valid university email."),
    ("Which ports should I open on my router for a game console?",
     "Most consoles need UDP 3074 and TCP 3478-3480; add them under Advanced > Port forwarding."),
]
TEXTS = [
    {"id": "n1", "text": "Fibre outages in the north were fixed by replacing a damaged cabinet.", "lang": "en"},
    {"id": "n2", "text": "Router firmware 4.2 stops the nightly reboot loop on older models.", "lang": "en"},
    {"id": "n3", "text": "Billing disputes are answered within five working days.", "lang": "en"},
]
CONVERSATIONS = [
    {"id": "c1", "messages": [{"role": "user", "content": "My wifi is slow upstairs."},
                              {"role": "assistant", "content": "A mesh point on the landing usually fixes that."}]},
    {"id": "c2", "messages": [{"role": "user", "content": "Can I keep my number when I switch?"},
                              {"role": "assistant", "content": "Yes, we port it for free within two days."}]},
]


def customers() -> pd.DataFrame:
    return pd.DataFrame({
        "customer": ["a1", "a2", "a3", "a4"],
        "age": pd.array([31, 45, None, 27], dtype="Int64"),
        "monthly": [29.5, 45.0, 19.99, 60.25],
        "churned": [False, True, False, True],
        "since": pd.to_datetime(["2021-03-01", "2019-11-15", "2023-01-09", "2020-06-30"]).date,
    })


def build(directory: Path) -> dict:
    """Build the catalog in ``directory``; return facts the tests check against (names and ids)."""
    rows = [dict(p, category="billing" if p["id"] == "p3" else "tech") for p in SUPPORT_PAIRS]
    endpoint = FakeEndpoint()
    try:
        with Catalog.open(directory, create=True) as cat:
            cat.add_records("seed", rows, origin="real", id_field="id", description="support pairs",
                            tags=["support", "license:cc-by-4.0"])
            cat.add_records("notes", TEXTS, origin="real", id_field="id", tags=["notes"])
            cat.add_records("chats", CONVERSATIONS, origin="real", id_field="id")
            cat.add_table("customers", customers(), origin="real", description="customer table")
            from generators import GenerationConfig, generate_text
            from generators.chat import load_chat_model

            endpoint.script = [Reply(body=completion_body(json.dumps({"prompt": p, "response": r}),
                                                          prompt_tokens=120, completion_tokens=40))
                               for p, r in NOVEL]
            model = load_chat_model("openai:fake", base_url=endpoint.base_url, backoff_base=0.01, backoff_max=0.05,
                                    retry_seed=1, timeout=5.0)
            generate_text(cat, GenerationConfig(dataset="gen", n=2, ground_on=["seed"], k=2, seed=7,
                                                task="support replies"), model=model)
            report = cat.dedup("seed", into="seed-clean")
            evaluation = cat.evaluate("gen", "seed")
            generated = [r.record_id for r in cat.records("gen")]
            removed = [r.record_id for r in cat.records("seed", status="removed")]
            grounding = [link.source_record_id for link in cat.lineage(generated[0]).sources]
            cat.search("router", k=1)  # leaves the keyword index current, as any search does
    finally:
        endpoint.close()
    return {"run_id": report.run_id, "evaluation_id": evaluation.evaluation_id, "generated": generated,
            "removed": removed, "grounding": grounding}
