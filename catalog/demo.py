"""`synthcat demo`: build a demo catalog from the files in data/ and show what synthcat does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from catalog.errors import SynthcatError
from catalog.store import open_catalog

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEMO_DIR = "synthcat-demo"
DEMO_MARK = "demo_catalog"


def demo_file(name: str) -> Path:
    path = DATA_DIR / name
    if not path.exists():
        raise SynthcatError(f"demo data missing: {path} (run from a checkout of synthcat)")
    return path


def _prepare(directory: Path, fresh: bool) -> None:
    if not (directory / "catalog.duckdb").exists() or not fresh:
        return
    with open_catalog(directory, read_only=True) as cat:
        is_demo = cat.get_meta(DEMO_MARK) == "1"
    if not is_demo:
        raise SynthcatError(f"{directory} holds a catalog that is not a demo catalog; "
                            "choose another --catalog for the demo")
    shutil.rmtree(directory)


def run_demo(directory: str | None, *, fresh: bool = True, console: Console | None = None) -> Path:
    """Build the demo catalog (default ./synthcat-demo) and print a tour; return its directory."""
    console = console or Console()
    target = Path(directory or DEMO_DIR)
    _prepare(target, fresh)
    with open_catalog(target, create=True) as cat:
        if cat.datasets():
            raise SynthcatError(f"{target} already holds datasets; use --fresh or another --catalog")
        with cat.transaction():
            cat.set_meta(DEMO_MARK, "1")
        console.rule(Text("1. import", style="bold"))
        pairs = cat.import_file(demo_file("demo_pairs.jsonl"), "support-seed", origin="real", id_field="id",
                                description="Customer-support prompt/response pairs (demo seed set)",
                                tags=["demo", "support"])
        console.print(f"imported {pairs.rows} {pairs.kind} into 'support-seed' and embedded "
                      f"{pairs.embedded} distinct texts with the bundled all-MiniLM-L6-v2")
        table = cat.import_file(demo_file("demo_customers.csv"), "customers", origin="real",
                                description="Demo customer table", tags=["demo"])
        console.print(f"imported {table.rows} rows into the typed table 'customers'")
        for step in DEMO_STEPS:
            step(cat, console)
        console.rule(Text("catalog", style="bold"))
        overview = Table("name", "kind", "origin", "rows", "removed", "parents")
        for row in cat.list():
            overview.add_row(row["name"], row["kind"], row["origin"], str(row["rows"]), str(row["removed"]),
                             ", ".join(row["parents"]))
        console.print(overview)
    console.print(f"demo catalog in {target}/ — try: synthcat --catalog {target} show support-seed")
    return target


def dedup_step(cat, console: Console) -> None:
    from catalog.dedup_runs import dedup

    console.rule(Text("dedup before training", style="bold"))
    report = dedup(cat, ["support-seed"], into="support-clean")
    stages = ", ".join(f"{k} {v}" for k, v in report["counts"].items())
    console.print(f"checked {report['checked']} pairs: removed {report['removed']} duplicates ({stages}); "
                  f"run {report['run_id']} is stored and reversible (synthcat dedup-runs undo {report['run_id']})")
    for example in report["examples"][:3]:
        console.print(f"  keep   {example['keep']['text'][:90]!r}", markup=False, highlight=False)
        for gone in example["remove"][:1]:
            console.print(f"  remove {gone['text'][:90]!r} ({gone['stage']}, {gone['score']})",
                          markup=False, highlight=False)
    truth = json.loads(demo_file("demo_pairs_duplicates.json").read_text())
    planted = truth["exact"] + truth["near"]
    removed = {r[0] for r in cat.con.execute(
        "SELECT r.external_id FROM dedup_removals x JOIN records r USING (record_id) WHERE x.run_id = ?",
        [report["run_id"]]).fetchall()}
    caught = sum(1 for original, copy in planted if copy in removed or original in removed)
    console.print(f"the seed set has {len(planted)} planted copies (data/demo_pairs_duplicates.json): {caught} "
                  f"caught; the other {report['removed'] - caught} removals share most of their text with another pair "
                  "(templated replies, prompts that differ only in a plan or price) — inspect them in the "
                  "dedup_removals table, or undo the run if you disagree")
    console.print(f"survivors written to 'support-clean' ({report['into']['rows']} pairs, lineage to the source)")


def generation_step(cat, console: Console) -> None:
    from generators.text.grounded import GenerationConfig, generate_text

    console.rule(Text("grounded generation (bundled SmolLM2-135M, offline)", style="bold"))
    report = generate_text(cat, GenerationConfig(
        dataset="support-generated", n=2, ground_on=["support-clean"], k=3, seed=11, max_tokens=220,
        task="customer support replies for a home-internet provider"))
    console.print(f"accepted {report.accepted} new pairs in {report.seconds:.0f}s "
                  f"(rejected: {report.rejections or 'none'})")
    rows = cat.con.execute(
        "SELECT r.record_id, r.text, l.rank, l.score, s.text FROM records r "
        "JOIN datasets d ON d.dataset_id = r.dataset_id JOIN lineage l ON l.record_id = r.record_id "
        "JOIN records s ON s.record_id = l.source_record_id WHERE d.name = 'support-generated' "
        "ORDER BY r.record_id, l.rank").fetchall()
    shown = None
    for record_id, text, rank, score, source in rows:
        if record_id != shown:
            console.print(Text.assemble((f"new #{record_id}", "bold"), f" {text[:160]!r}"))
            shown = record_id
        console.print(f"   grounded on #{rank} (hybrid score {score:.4f}): {source[:90]!r}", markup=False,
                      highlight=False)


def search_step(cat, console: Console) -> None:
    from catalog.search import search

    console.rule(Text("search (hybrid: BM25 + vectors)", style="bold"))
    query = "my router keeps restarting itself"
    console.print(f"query: {query!r}")
    for rank, hit in enumerate(search(cat, query, k=3, datasets=["support-seed"], explain=True), start=1):
        kw, vec = hit.explain.get("keyword"), hit.explain.get("vector")
        why = ", ".join(f"{name} #{info['rank']}" for name, info in (("keyword", kw), ("vector", vec)) if info)
        console.print(f"  {rank}. {hit.id} [{why}] {hit.snippet[:110]!r}", markup=False, highlight=False)
    hits = search(cat, "someone took money from my account", k=2, datasets=["support-seed"],
                  field_equals={"category": "fraud"})
    console.print("filtered to category=fraud: " + ", ".join(f"{h.id} {h.text[:60]!r}" for h in hits),
                  markup=False, highlight=False)


def table_step(cat, console: Console) -> None:
    from catalog.tables import create_table_from_frame
    from generators.table_synthesis import synthesize_table

    console.rule(Text("tabular synthesis (Gaussian copula)", style="bold"))
    frame = cat.read_table("customers")
    holdout = frame.sample(frac=0.25, random_state=7)
    with cat.transaction():
        create_table_from_frame(cat, "customers-train", frame.drop(holdout.index), origin="real", parents=["customers"],
                                description="75% of customers, to fit synthesizers on")
        create_table_from_frame(cat, "customers-holdout", holdout, origin="real", parents=["customers"],
                                description="25% of customers, never shown to a synthesizer")
    result = synthesize_table(cat, "customers-synthetic", source="customers-train", method="copula", n=450, seed=7)
    console.print(f"fitted a Gaussian copula on 'customers-train' in {result['fit_seconds']:.1f}s and wrote "
                  f"{result['rows']} synthetic rows to 'customers-synthetic'")
    churners = synthesize_table(cat, "customers-churners", source="customers-train", method="copula", n=50, seed=8,
                                conditions={"churned": True})
    console.print(f"conditional sampling: {churners['rows']} rows with churned=True in 'customers-churners'")


def evaluation_step(cat, console: Console) -> None:
    from catalog.evaluation_runs import evaluate

    console.rule(Text("evaluation", style="bold"))
    report_path = cat.directory / "customers-report.html"
    result = evaluate(cat, "customers-synthetic", "customers-train", holdout="customers-holdout", target="churned",
                      sensitive=["region"], report=str(report_path))
    quality = result["quality"]
    metrics = (result.get("utility") or {}).get("metrics") or {}
    console.print(f"quality {quality['overall']:.3f} (column shapes {quality['column_shapes']:.3f}, pair trends "
                  f"{quality['column_pair_trends']:.3f})")
    if metrics:
        console.print(f"utility: ROC AUC trained on synthetic {metrics['tstr']['roc_auc']:.3f} vs on real "
                      f"{metrics['trtr']['roc_auc']:.3f} (tested on the holdout)")
    copies = (result.get("privacy") or {}).get("exact_copies") or {}
    console.print(f"privacy: {copies.get('count', 0)} exact copies of real rows; report written to {report_path}")


# Functions (catalog, console) run in order after the imports; features add their tour here.
DEMO_STEPS: list = [search_step, dedup_step, generation_step, table_step, evaluation_step]
