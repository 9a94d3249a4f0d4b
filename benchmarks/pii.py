"""PII detector benchmark: precision and recall per kind on a generated labelled set, and throughput.

    python benchmarks/pii.py --n 3000 --tune-seed 1 --report-seed 3 --rows 200000 \
        --scifact ../shared/datasets/scifact/corpus.jsonl.gz

Prints one JSON object.

Quality: texts from ``benchmarks/pii_labelled.py``. Settings are compared on ``--tune-seed``; the
chosen (default) detector is then reported on ``--report-seed``, a set it was not tuned on. Span
rules: *strict* counts a prediction as a true positive when its kind and exact character span
equal a labelled one; *overlap* when its kind equals a labelled one and the shared characters are
at least half of the longer of the two spans. Matching is one-to-one. False positives are
attributed to the hard-negative category they overlap, else to ``other`` (filler text or a
different kind's value).

Throughput: records per second of the scan of row dicts (``scan_rows``, ``warn`` mode: find
only) on (a) the ingest benchmark's prompt/response rows (every row has digits, so every row
passes the cheap pre-filter), (b) the same rows with the digits spelled out (pre-filter only),
(c) the labelled texts, (d) SciFact abstracts when given. The baseline in the same run is the
evaluation's previous regex detector, loaded from git (``--legacy-rev``), when git is there.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import subprocess
import sys
import time
import types
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from pii_labelled import generate  # noqa: E402

from catalog.privacy.detect import KINDS, PiiDetector  # noqa: E402
from catalog.privacy.redact import scan_rows  # noqa: E402

_LEGACY_KIND = {"card_number": "card_number", "email": "email", "phone": "phone", "national_id": "national_id",
                "ip_address": "ip_address"}


def match_spans(pred: list[tuple[str, int, int]], truth: list[tuple[str, int, int]], rule: str) -> list[tuple]:
    """One-to-one pairs (pred index, truth index) under ``rule`` ('strict' or 'overlap')."""
    pairs = []
    used: set[int] = set()
    for i, (kind, s, e) in enumerate(pred):
        for j, (tkind, ts, te) in enumerate(truth):
            if j in used or tkind != kind:
                continue
            if rule == "strict":
                ok = (s, e) == (ts, te)
            else:
                ok = min(e, te) - max(s, ts) >= 0.5 * max(e - s, te - ts)
            if ok:
                pairs.append((i, j))
                used.add(j)
                break
    return pairs


def score(items: list[dict], predict) -> dict:
    """Precision / recall / F1 per kind and overall, both span rules; recall per detail; FP sources."""
    tallies = {rule: {k: Counter() for k in KINDS} for rule in ("strict", "overlap")}
    detail_hits: dict[str, Counter] = defaultdict(Counter)
    fp_sources: dict[str, Counter] = defaultdict(Counter)
    missed_examples: dict[str, list[str]] = defaultdict(list)
    fp_examples: dict[str, list[str]] = defaultdict(list)
    masked_chars = total_chars = fully_masked = 0
    for item in items:
        text = item["text"]
        truth = [(s["kind"], s["start"], s["end"]) for s in item["spans"]]
        pred = predict(text)
        for _, ts, te in truth:
            covered = sum(max(0, min(e, te) - max(s, ts)) for _, s, e in pred)
            masked_chars += covered
            total_chars += te - ts
            fully_masked += covered >= te - ts
        for rule in ("strict", "overlap"):
            pairs = match_spans(pred, truth, rule)
            matched_p = {i for i, _ in pairs}
            matched_t = {j for _, j in pairs}
            for i, (kind, s, e) in enumerate(pred):
                if kind not in tallies[rule]:
                    continue
                tallies[rule][kind]["tp" if i in matched_p else "fp"] += 1
                if rule == "overlap" and i not in matched_p:
                    source = next((n["category"] for n in item["negatives"] if s < n["end"] and n["start"] < e),
                                  "other")
                    fp_sources[kind][source] += 1
                    if len(fp_examples[kind]) < 8:
                        fp_examples[kind].append(f"{source}: {text[max(0, s - 15):e + 5]!r}")
            for j, (kind, s, e) in enumerate(truth):
                if j not in matched_t:
                    tallies[rule][kind]["fn"] += 1
                if rule == "overlap":
                    detail = item["spans"][j]["detail"]
                    detail_hits[detail]["found" if j in matched_t else "missed"] += 1
                    if j not in matched_t and len(missed_examples[kind]) < 8:
                        missed_examples[kind].append(f"{detail}: {text[s:e]!r}")
    out: dict = {}
    for rule, per_kind in tallies.items():
        rows = {kind: _prf(c) for kind, c in per_kind.items()}
        rows["overall"] = _prf(sum(per_kind.values(), Counter()))
        out[rule] = rows
    out["masked_any_kind"] = {"char_share": _r(masked_chars / total_chars if total_chars else None),
                              "spans_fully_masked": _r(fully_masked / max(1, sum(len(i["spans"]) for i in items)))}
    out["recall_by_detail"] = {d: round(c["found"] / (c["found"] + c["missed"]), 3)
                               for d, c in sorted(detail_hits.items())}
    out["false_positive_sources"] = {k: dict(c.most_common()) for k, c in fp_sources.items()}
    out["missed_examples"] = dict(missed_examples)
    out["false_positive_examples"] = dict(fp_examples)
    return out


def _prf(c: Counter) -> dict:
    tp, fp, fn = c["tp"], c["fp"], c["fn"]
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f1 = 2 * p * r / (p + r) if p and r else None
    return {"precision": _r(p), "recall": _r(r), "f1": _r(f1), "tp": tp, "fp": fp, "fn": fn}


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def detector_predict(detector: PiiDetector):
    return lambda text: [(m.kind, m.start, m.end) for m in detector.find(text)]


def load_legacy(rev: str):
    """The evaluation's regex detector as it was at ``rev`` (the baseline), or None without git."""
    try:
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:catalog/evaluation/pii.py"],
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("legacy_pii")
    exec(compile(source, f"{rev}:catalog/evaluation/pii.py", "exec"), module.__dict__)  # noqa: S102
    return module


def legacy_predict(module):
    """Spans for the legacy detector, which returns (kind, match) only: locate each match in order."""
    def predict(text: str) -> list[tuple[str, int, int]]:
        out = []
        taken: set[int] = set()
        for kind, value in module.find_pii(text):
            pos = text.find(value)
            while pos in taken and pos != -1:
                pos = text.find(value, pos + 1)
            if pos != -1:
                taken.add(pos)
                out.append((_LEGACY_KIND[kind], pos, pos + len(value)))
        return out
    return predict


def ingest_rows(n: int, seed: int, spell_digits: bool = False) -> list[dict]:
    """Rows shaped like ``benchmarks/ingest.py``'s prompt/response pairs."""
    rng = random.Random(seed)
    topics = ["router", "billing", "outage", "wifi", "speed", "installation", "moving", "account"]
    rows = []
    for i in range(n):
        topic = rng.choice(topics)
        row = {"id": f"q{i}", "category": topic,
               "prompt": f"Customer {rng.randint(1, 10**6)} asks about {topic}: case {i} needs help today.",
               "response": f"Thanks for reaching out about {topic}. Step {rng.randint(1, 9)}: restart and wait "
                           f"{rng.randint(1, 120)} seconds, then check the light on port {rng.randint(1, 4)}."}
        if spell_digits:
            row = {k: "".join(ch if not ch.isdigit() else "x" for ch in v) for k, v in row.items()}
        rows.append(row)
    return rows


def throughput(rows: list[dict], detector: PiiDetector, chunk: int = 50_000, repeat: int = 3) -> dict:
    """Best of ``repeat`` passes of ``scan_rows`` over ``rows`` in chunks (records/s, CPU s)."""
    best = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        found = 0
        for i in range(0, len(rows), chunk):
            found += len(scan_rows(rows[i:i + chunk], detector=detector).findings)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if best is None or wall < best[0]:
            best = (wall, cpu, found)
    wall, cpu, found = best
    return {"records": len(rows), "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
            "records_per_s": round(len(rows) / wall), "findings": found}


def legacy_throughput(rows: list[dict], module, repeat: int = 3) -> dict:
    """The baseline: the legacy ``find_pii`` on every string field of every row (flat rows only)."""
    best = None
    for _ in range(repeat):
        wall = time.perf_counter()
        found = 0
        for row in rows:
            for value in row.values():
                if isinstance(value, str):
                    found += len(module.find_pii(value))
        wall = time.perf_counter() - wall
        best = wall if best is None else min(best, wall)
    return {"records": len(rows), "seconds": round(best, 3), "records_per_s": round(len(rows) / best),
            "findings": found}


def quality(args: argparse.Namespace, legacy, report: list[dict]) -> dict:
    tune = generate(args.n, args.tune_seed)
    settings = {
        "default (phonenumbers possible, 9 regions)": PiiDetector(),
        "phonenumbers valid, 9 regions": PiiDetector(phone_check="valid"),
        "phonenumbers possible, US only": PiiDetector(phone_regions=("US",)),
        "phone shape only (no phonenumbers)": PiiDetector(phone_check="shape"),
    }
    result: dict = {
        "labelled_set": {"texts_per_seed": args.n, "tune_seed": args.tune_seed, "report_seed": args.report_seed,
                         "positives_tune": sum(len(i["spans"]) for i in tune),
                         "positives_report": sum(len(i["spans"]) for i in report),
                         "hard_negatives_report": sum(len(i["negatives"]) for i in report)},
        "tuning": {},
    }
    for name, det in settings.items():
        s = score(tune, detector_predict(det))
        result["tuning"][name] = {"overlap": s["overlap"], "strict_overall": s["strict"]["overall"],
                                  "masked_any_kind": s["masked_any_kind"]}
        if args.examples and name.startswith("default"):
            result["tuning"][name].update({k: s[k] for k in ("missed_examples", "false_positive_examples",
                                                               "false_positive_sources", "recall_by_detail")})
    if legacy is not None:
        s = score(tune, legacy_predict(legacy))
        result["tuning"][f"legacy regex detector ({args.legacy_rev})"] = {
            "overlap": s["overlap"], "strict_overall": s["strict"]["overall"]}
    held_out = score(report, detector_predict(PiiDetector()))
    held_out.pop("missed_examples")
    held_out.pop("false_positive_examples")
    result["report_seed_default_detector"] = held_out
    s = score(report, detector_predict(PiiDetector(phone_check="shape")))
    result["report_seed_phone_shape_only"] = {"phone": s["overlap"]["phone"], "overall": s["overlap"]["overall"]}
    if legacy is not None:
        s = score(report, legacy_predict(legacy))
        result["report_seed_legacy"] = {"overlap_overall": s["overlap"]["overall"],
                                        "strict_overall": s["strict"]["overall"]}
    return result


def throughputs(args: argparse.Namespace, legacy, report: list[dict]) -> dict:
    det = PiiDetector()
    det.find("warm-up +1 415 555 0132")
    pairs = ingest_rows(args.rows, 7)
    spelled = ingest_rows(args.rows, 7, spell_digits=True)
    labelled_rows = [{"text": i["text"]} for i in (report * (1 + args.rows // (10 * len(report))))][
        : max(len(report), args.rows // 10)]
    tp: dict = {
        "ingest_pairs": throughput(pairs, det),
        "ingest_pairs_no_digits": throughput(spelled, det),
        "labelled_texts": throughput(labelled_rows, det),
    }
    if args.scifact:
        with gzip.open(args.scifact, "rt", encoding="utf-8") as fh:
            docs = [json.loads(line) for line in fh]
        sci_rows = [{"title": d["title"], "text": d["text"]} for d in docs]
        tp["scifact_abstracts"] = throughput(sci_rows, det, repeat=1)
        tp["scifact_abstracts"]["mean_chars"] = round(sum(len(d["text"]) for d in docs) / len(docs))
    if legacy is not None:
        tp["legacy_ingest_pairs"] = legacy_throughput(pairs, legacy)
        tp["ratio_new_over_legacy_ingest_pairs"] = round(
            tp["ingest_pairs"]["records_per_s"] / tp["legacy_ingest_pairs"]["records_per_s"], 2)
        tp["legacy_labelled_texts"] = legacy_throughput(labelled_rows, legacy)
        tp["ratio_new_over_legacy_labelled"] = round(
            tp["labelled_texts"]["records_per_s"] / tp["legacy_labelled_texts"]["records_per_s"], 2)
    return tp


def main() -> None:
    parser = argparse.ArgumentParser(description="PII detector precision/recall and throughput")
    parser.add_argument("--n", type=int, default=3000, help="labelled texts per seed")
    parser.add_argument("--tune-seed", type=int, default=1)
    parser.add_argument("--report-seed", type=int, default=3)
    parser.add_argument("--rows", type=int, default=200_000, help="rows for the throughput runs")
    parser.add_argument("--scifact", type=Path, help="SciFact corpus.jsonl.gz for a long-text throughput run")
    parser.add_argument("--legacy-rev", default="baefc42", help="git revision holding the previous detector")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-quality", action="store_true", help="throughput only (for the timed, locked run)")
    parser.add_argument("--examples", action="store_true",
                        help="include missed / false-positive examples of the tuning seed")
    args = parser.parse_args()

    legacy = load_legacy(args.legacy_rev)
    report = generate(args.n, args.report_seed)
    result: dict = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}}
    if not args.skip_quality:
        result.update(quality(args, legacy, report))
    if not args.skip_throughput:
        result["throughput"] = throughputs(args, legacy, report)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
