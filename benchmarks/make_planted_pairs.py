"""Planted prompt/response pair sets, to choose what pair dedup compares (``--on``).

A *base* of distinct pairs (no two with the same normalised prompt) gets planted records (seeded):

* ``exact``: a copy of a base pair -- must go;
* ``near_prompt``: the prompt lightly edited (case, whitespace, punctuation, a typo, a word
  swapped or added), the same response -- must go;
* ``near_prompt_reworded``: the prompt lightly edited and the response reworded (synonyms, a
  dropped or moved sentence) -- must go (the issue: near-identical questions are duplicates);
* ``same_reply``: the response of a base pair under the prompt of a held-out pair (a different
  question never otherwise in the set) -- must stay.

Base pairs stay too, including the *natural* shared-reply groups of the source (the demo's
canned replies to different questions, SciFact claims citing the same abstract).

Sources: ``demo`` -- ``data/demo_pairs.jsonl`` minus its planted copies (its answer key) and
minus repeated prompts; ``scifact`` -- SciFact train claims with a citing abstract, the claim
asked in one of a few phrasings, answered by the first two sentences of the cited abstract.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.dedup_quality import alter  # noqa: E402
from catalog.dedup.normalize import normalize_text  # noqa: E402

PROMPT_EDITS = ("casing", "whitespace", "punctuation", "typos", "substitute", "polite")
RESPONSE_EDITS = ("substitute", "drop_sentence", "reorder")
CLAIM_PHRASINGS = ("Is it true that {c}?", "{c} Is this supported by research?",
                   "Can you check this claim for me: {c}", "What does the evidence say about this: {c}")
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


@dataclass
class PlantedPairs:
    """The set: per record its id, prompt, response, kind (``base`` or a planted kind), the base
    record it was made from (planted) and its shared-reply group (records with one response)."""

    ids: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    source: dict[str, str] = field(default_factory=dict)

    def add(self, rid: str, prompt: str, response: str, kind: str, source: str | None = None) -> None:
        self.ids.append(rid)
        self.prompts.append(prompt)
        self.responses.append(response)
        self.kinds.append(kind)
        if source is not None:
            self.source[rid] = source

    def shared_reply(self) -> set[str]:
        """Ids of records whose normalised response another record with a different prompt has."""
        by_resp: dict[str, list[int]] = {}
        for k, r in enumerate(self.responses):
            by_resp.setdefault(normalize_text(r), []).append(k)
        out = set()
        for ks in by_resp.values():
            if len({normalize_text(self.prompts[k]) for k in ks}) > 1:
                out.update(self.ids[k] for k in ks if self.kinds[k] in ("base", "same_reply"))
        return out


def demo_base(pairs_path: str, truth_path: str) -> list[dict]:
    rows = [json.loads(line) for line in open(pairs_path, encoding="utf-8")]
    truth = json.loads(Path(truth_path).read_text())
    copies = {c for _, c in truth["exact"] + truth["near"]}
    seen: set[str] = set()
    out = []
    for r in rows:
        key = normalize_text(r["prompt"])
        if r["id"] not in copies and key not in seen:
            seen.add(key)
            out.append({"id": r["id"], "prompt": r["prompt"], "response": r["response"]})
    return out


def scifact_base(corpus: str, queries: str, qrels: str, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        docs = {d["_id"]: d["text"] for d in map(json.loads, fh)}
    claims = {q["_id"]: q["text"] for q in map(json.loads, open(queries, encoding="utf-8"))}
    cited: dict[str, str] = {}
    with open(qrels, encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            qid, did, _ = line.rstrip("\n").split("\t")
            cited.setdefault(qid, did)
    out, seen = [], set()
    for qid, did in cited.items():
        claim = claims[qid].rstrip(".")
        prompt = CLAIM_PHRASINGS[int(rng.integers(0, len(CLAIM_PHRASINGS)))].format(c=claim)
        key = normalize_text(prompt)
        if key in seen or did not in docs:
            continue
        seen.add(key)
        out.append({"id": f"claim-{qid}", "prompt": prompt,
                    "response": " ".join(SENTENCE.split(docs[did])[:2])})
    return out


def _edit(text: str, kinds: tuple[str, ...], rng: np.random.Generator, times: int = 1) -> tuple[str, str]:
    """Apply ``times`` edits that change the text (tries other kinds when one changes nothing)."""
    done = []
    for _ in range(times):
        for k in rng.permutation(len(kinds)):
            kind = kinds[k]
            out = (("Hi, " + text[:1].lower() + text[1:] + " Thanks!") if kind == "polite"
                   else alter(text, kind, rng))
            if out != text:
                text = out
                done.append(kind)
                break
    return text, "+".join(done)


def plant(base: list[dict], *, seed: int, share: float = 0.25, held_out: float = 0.15) -> PlantedPairs:
    """Base pairs plus planted records, ``share`` of the base size per planted kind."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(base))
    n_held = int(held_out * len(base))
    held, kept = [base[i] for i in order[:n_held]], [base[i] for i in order[n_held:]]
    out = PlantedPairs()
    for b in kept:
        out.add(b["id"], b["prompt"], b["response"], "base")
    n = max(1, int(share * len(kept)))
    for kind in ("exact", "near_prompt", "near_prompt_reworded"):
        for j, i in enumerate(rng.choice(len(kept), size=n, replace=False).tolist()):
            b = kept[i]
            prompt, response = b["prompt"], b["response"]
            if kind != "exact":
                prompt, _ = _edit(prompt, PROMPT_EDITS, rng, times=int(rng.integers(1, 3)))
            if kind == "near_prompt_reworded":
                response, _ = _edit(response, RESPONSE_EDITS, rng, times=2)
            out.add(f"{kind}-{j}", prompt, response, kind, b["id"])
    for j, (i, h) in enumerate(zip(rng.choice(len(kept), size=min(n, len(held)), replace=False).tolist(),
                                   held)):
        out.add(f"same_reply-{j}", h["prompt"], kept[i]["response"], "same_reply", kept[i]["id"])
    return out


def score(pp: PlantedPairs, result) -> dict:
    """Precision / recall of a dedup result on the planted set, over the keep-or-remove decision
    per record: a planted copy (``exact``, ``near_prompt``, ``near_prompt_reworded``) must be
    removed, every other record must stay. ``strict_recall`` also asks that the record a removed
    copy is said to duplicate be its source (or another copy of it), not some other record its
    source was merged with."""
    kind = dict(zip(pp.ids, pp.kinds))
    root = {rid: pp.source.get(rid, rid) if kind[rid] != "same_reply" else rid for rid in pp.ids}
    must_go = {rid for rid in pp.ids if kind[rid] in ("exact", "near_prompt", "near_prompt_reworded")}
    shared = pp.shared_reply()
    removed = {r.record_id for r in result.removed}
    strict = {r.record_id for r in result.removed
              if r.record_id in must_go and root[r.duplicate_of] == root[r.record_id]}
    caught, wrong = removed & must_go, removed - must_go
    precision = len(caught) / len(removed) if removed else 1.0
    recall = len(caught) / len(must_go) if must_go else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    by_kind = {k: round(float(np.mean([rid in caught for rid in pp.ids if kind[rid] == k])), 3)
               for k in ("exact", "near_prompt", "near_prompt_reworded")}
    return {"removed": len(removed), "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "strict_recall": round(len(strict) / len(must_go), 4) if must_go else 1.0,
            "recall_by_kind": by_kind, "must_stay": len(pp.ids) - len(must_go), "must_stay_removed": len(wrong),
            "shared_reply_records": len(shared), "shared_reply_removed": len(wrong & shared),
            "planted_same_reply_removed": sum(1 for rid in wrong if kind[rid] == "same_reply"),
            "base_removed": sum(1 for rid in wrong if kind[rid] == "base")}
