"""Planted decontamination sets: evaluation sentences pasted into longer texts, and look-alikes.

Given a pool of *evaluation* sentences and a pool of *filler* sentences from other sources, builds
(seeded):

* **eval records**: ``--eval-records`` sentences of at least ``--min-eval-words`` words;
* **planted** texts (positives): 2-6 filler sentences with one evaluation sentence pasted in at a
  random sentence boundary (start, middle, end). Half of the pasted copies are altered by one or
  two edits of case, whitespace or punctuation (:data:`ALTERATIONS`); a few are glued to the
  previous sentence without a space. A share of the evaluation sentences is planted into several
  texts (``--repeat-share``: a generator that leaked one item usually leaks it more than once);
* **negatives**: the same kind of filler text, carrying 1-3 short phrases (3 to
  ``--max-shared-words`` consecutive words) copied from different evaluation sentences -- they
  share only short phrases with the evaluation set and must not be flagged;
* **clean** texts: filler only.

Optionally (``--template-share``), a share of the evaluation records start with one fixed
instruction of 15 words (a benchmark template) and a share of the negatives quote it: they must
not be flagged either, which needs the too-frequent n-gram rule.

Sources are sentence pools read by :func:`read_sentences` (SciFact abstracts, MRPC, STS-B, or any
text/JSONL file, one sentence or document per line). Writes ``eval.jsonl`` (id, text),
``texts.jsonl`` (id, text) and ``truth.json`` (per text: label, and the evaluation id for planted
ones)::

    python benchmarks/make_contamination.py --eval-source scifact:../shared/datasets/scifact/corpus.jsonl.gz \\
        --filler-source mrpc:../shared/datasets/mrpc/msr_paraphrase_train.txt --out /tmp/contam-a --seed 1
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")
TEMPLATE = "Read the following statement carefully and decide whether it is true or false based on evidence:"
ALTERATIONS = ("upper", "lower", "title", "random_case", "double_spaces", "newlines_tabs", "nbsp",
               "strip_punctuation", "punctuation_to_spaces", "swap_punctuation", "extra_commas",
               "curly_quotes", "no_final_period", "hyphens_to_spaces")


@dataclass
class ContaminationSet:
    """A planted set: evaluation records, texts to check, and per text its label
    (``planted`` / ``negative`` / ``clean``) and, for planted texts, the evaluation id."""

    eval_ids: list[str]
    eval_texts: list[str]
    ids: list[str]
    texts: list[str]
    labels: list[str]
    planted_from: dict[str, str] = field(default_factory=dict)
    alterations: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------- sources

def _open(path: str):
    return gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else \
        open(path, encoding="utf-8-sig", newline="")


def read_sentences(spec: str) -> list[str]:
    """Sentences from ``kind:path``: ``scifact`` (corpus abstracts, split into sentences), ``claims``
    (SciFact queries), ``mrpc``, ``stsb`` (a directory: train + dev), ``jsonl[.field]`` (documents,
    split into sentences) or ``text`` (one sentence per line)."""
    kind, _, path = spec.partition(":")
    out: list[str] = []
    if kind == "scifact" or kind.startswith("jsonl"):
        key = "text" if kind == "scifact" or "." not in kind else kind.split(".", 1)[1]
        with _open(path) as fh:
            for line in fh:
                if line.strip():
                    out.extend(SENTENCE_SPLIT.split(str(json.loads(line).get(key, ""))))
    elif kind == "claims":
        with _open(path) as fh:
            out = [json.loads(line)["text"] for line in fh if line.strip()]
    elif kind == "mrpc":
        with _open(path) as fh:
            reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(reader)
            for row in reader:
                out.extend(row[3:5])
    elif kind == "stsb":
        for name in ("sts-train.csv", "sts-dev.csv"):
            with open(Path(path) / name, encoding="utf-8") as fh:
                for line in fh:
                    out.extend(line.rstrip("\n").split("\t")[5:7])
    elif kind == "text":
        with _open(path) as fh:
            out = [line.strip() for line in fh]
    else:
        raise ValueError(f"unknown source kind {kind!r} in {spec!r}")
    seen: set[str] = set()
    unique = []
    for s in (" ".join(s.split()) for s in out):
        if s and s not in seen:
            seen.add(s)
            unique.append(s)
    return unique


# ---------------------------------------------------------------------------- alterations

def alter(sentence: str, kind: str, rng: np.random.Generator) -> str:
    """One case, whitespace or punctuation edit of ``sentence``."""
    words = sentence.split(" ")
    if kind == "upper":
        return sentence.upper()
    if kind == "lower":
        return sentence.lower()
    if kind == "title":
        return sentence.title()
    if kind == "random_case":
        return " ".join(w.upper() if rng.random() < 0.3 else w.lower() for w in words)
    if kind == "double_spaces":
        return " ".join(w + (" " * int(rng.integers(0, 3))) for w in words)
    if kind == "newlines_tabs":
        return "".join(w + str(rng.choice([" ", "\n", "\t", " \n  "])) for w in words).rstrip()
    if kind == "nbsp":
        return "\u00a0".join(words)
    if kind == "strip_punctuation":
        return re.sub(r"[^\w\s]", "", sentence)
    if kind == "punctuation_to_spaces":
        return re.sub(r"[^\w\s]", " ", sentence)
    if kind == "swap_punctuation":
        return sentence.replace(",", ";").replace(".", "!").replace(":", " -")
    if kind == "extra_commas":
        return " ".join(w + ("," if rng.random() < 0.15 else "") for w in words)
    if kind == "curly_quotes":
        return sentence.replace("'", "\u2019").replace('"', "\u201c").replace("-", "\u2013")
    if kind == "no_final_period":
        return sentence.rstrip(".!?")
    if kind == "hyphens_to_spaces":
        return sentence.replace("-", " ")
    raise ValueError(kind)


def _phrase(sentence: str, max_words: int, rng: np.random.Generator) -> str:
    words = sentence.split()
    n = int(rng.integers(3, min(max_words, len(words)) + 1))
    start = int(rng.integers(0, len(words) - n + 1))
    return " ".join(words[start:start + n])


def _words(sentence: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", sentence.lower()).split()


def _without_shared_passages(fillers: list[str], evals: list[str], n: int) -> list[str]:
    grams = {tuple(w[i:i + n]) for w in map(_words, evals) for i in range(len(w) - n + 1)}
    return [f for f in fillers if not any(tuple(w[i:i + n]) in grams
                                          for w in (_words(f),) for i in range(len(w) - n + 1))]


def _host(fillers: list[str], rng: np.random.Generator) -> list[str]:
    k = int(rng.integers(2, 7))
    return [fillers[i] for i in rng.choice(len(fillers), size=k, replace=False)]


# ---------------------------------------------------------------------------- the set

def build_contamination_set(eval_pool: list[str], filler_pool: list[str], *, eval_records: int = 2000,
                            planted: int = 1000, negatives: int = 1000, clean: int = 1000,
                            min_eval_words: int = 13, max_shared_words: int = 8, alter_share: float = 0.5,
                            repeat_share: float = 0.05, template_share: float = 0.0,
                            seed: int = 0) -> ContaminationSet:
    """Build a planted set (see the module docstring). Filler sentences sharing a phrase of more
    than ``max_shared_words`` words with an evaluation sentence (lower-cased words, punctuation
    stripped) are left out, so negatives and clean texts share no long passage by accident."""
    rng = np.random.default_rng(seed)
    long_enough = [s for s in eval_pool if len(_words(s)) >= min_eval_words]
    if len(long_enough) < eval_records:
        raise ValueError(f"only {len(long_enough)} evaluation sentences of {min_eval_words}+ words")
    chosen = [long_enough[i] for i in rng.choice(len(long_enough), size=eval_records, replace=False)]
    chosen_set = set(chosen)
    fillers = _without_shared_passages([s for s in filler_pool if s not in chosen_set and len(s.split()) >= 4],
                                       chosen, max_shared_words + 1)
    fillers = [fillers[i] for i in rng.permutation(len(fillers))]
    eval_texts = list(chosen)
    n_template = int(round(template_share * eval_records))
    for i in range(n_template):
        eval_texts[i] = f"{TEMPLATE} {eval_texts[i]}"
    eval_ids = [f"eval-{i}" for i in range(eval_records)]
    out = ContaminationSet(eval_ids=eval_ids, eval_texts=eval_texts, ids=[], texts=[], labels=[])

    def add(text: str, label: str, source: str | None = None, how: str = "") -> None:
        tid = f"{label}-{sum(1 for x in out.labels if x == label)}"
        out.ids.append(tid)
        out.texts.append(text)
        out.labels.append(label)
        if source is not None:
            out.planted_from[tid] = source
            out.alterations[tid] = how

    sources = rng.choice(eval_records, size=planted, replace=True)
    n_repeat = int(repeat_share * planted)          # each repeated sentence lands in ~12 texts
    repeated = rng.choice(eval_records, size=max(1, n_repeat // 12), replace=False)
    for n in range(planted):
        src = int(repeated[n % len(repeated)]) if n < n_repeat else int(sources[n])
        sentence = chosen[src]          # the planted copy is the sentence, not the template
        how = ""
        if rng.random() < alter_share:
            kinds = rng.choice(len(ALTERATIONS), size=int(rng.integers(1, 3)), replace=False)
            for k in kinds:
                sentence = alter(sentence, ALTERATIONS[k], rng)
            how = "+".join(ALTERATIONS[k] for k in kinds)
        host = _host(fillers, rng)
        at = int(rng.integers(0, len(host) + 1))
        if at > 0 and rng.random() < 0.1:       # pasted without a space after the previous sentence
            host[at - 1] = host[at - 1] + sentence
            how = (how + "+glued").lstrip("+")
        else:
            host.insert(at, sentence)
        add(" ".join(host), "planted", eval_ids[src], how)
    for n in range(negatives):
        host = _host(fillers, rng)
        if n < int(round(template_share * negatives)):
            host.insert(int(rng.integers(0, len(host) + 1)), TEMPLATE)
        for src in rng.choice(eval_records, size=int(rng.integers(1, 4)), replace=False):
            at = int(rng.integers(0, len(host)))
            host[at] = f"{host[at].rstrip('.')} {_phrase(chosen[int(src)], max_shared_words, rng)}."
        add(" ".join(host), "negative")
    for _ in range(clean):
        add(" ".join(_host(fillers, rng)), "clean")
    return out


def score(cs: ContaminationSet, flagged: set) -> dict:
    """Recall on planted texts (overall, altered, per alteration) and false flags on negatives
    and clean texts, for the set of flagged text ids."""
    by_label: dict[str, list[bool]] = {}
    by_alteration: dict[str, list[bool]] = {}
    for tid, label in zip(cs.ids, cs.labels):
        hit = tid in flagged
        by_label.setdefault(label, []).append(hit)
        if label == "planted":
            for how in (cs.alterations[tid] or "unaltered").split("+"):
                by_alteration.setdefault(how, []).append(hit)
    rate = {k: float(np.mean(v)) for k, v in by_label.items()}
    return {"planted": len(by_label.get("planted", [])), "recall": round(rate.get("planted", 0.0), 4),
            "negatives": len(by_label.get("negative", [])),
            "false_flags_negatives": round(rate.get("negative", 0.0), 4),
            "clean": len(by_label.get("clean", [])), "false_flags_clean": round(rate.get("clean", 0.0), 4),
            "recall_by_alteration": {k: round(float(np.mean(v)), 3) for k, v in sorted(by_alteration.items())}}


def write_set(cs: ContaminationSet, out_dir: str) -> None:
    path = Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "eval.jsonl", "w", encoding="utf-8") as fh:
        for i, t in zip(cs.eval_ids, cs.eval_texts):
            fh.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")
    with open(path / "texts.jsonl", "w", encoding="utf-8") as fh:
        for i, t in zip(cs.ids, cs.texts):
            fh.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")
    truth = {i: {"label": lab, **({"eval_id": cs.planted_from[i], "alteration": cs.alterations[i]}
                                  if lab == "planted" else {})} for i, lab in zip(cs.ids, cs.labels)}
    (path / "truth.json").write_text(json.dumps(truth, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-source", required=True, action="append", help="kind:path (repeatable)")
    ap.add_argument("--filler-source", required=True, action="append", help="kind:path (repeatable)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--eval-records", type=int, default=2000)
    ap.add_argument("--planted", type=int, default=1000)
    ap.add_argument("--negatives", type=int, default=1000)
    ap.add_argument("--clean", type=int, default=1000)
    ap.add_argument("--max-shared-words", type=int, default=8)
    ap.add_argument("--template-share", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    eval_pool = [s for spec in args.eval_source for s in read_sentences(spec)]
    filler_pool = [s for spec in args.filler_source for s in read_sentences(spec)]
    cs = build_contamination_set(eval_pool, filler_pool, eval_records=args.eval_records, planted=args.planted,
                                 negatives=args.negatives, clean=args.clean,
                                 max_shared_words=args.max_shared_words, template_share=args.template_share,
                                 seed=args.seed)
    write_set(cs, args.out)
    print(json.dumps({"out": args.out, "eval_records": len(cs.eval_texts), "texts": len(cs.texts)}))


if __name__ == "__main__":
    main()
