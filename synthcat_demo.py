"""`synthcat demo`: build a demo catalog from the bundled demo data and tour what synthcat does.

The demo is an application of the library, like the CLI: it uses only the public API
(``catalog.Catalog`` and ``generators``). Its data (the files in ``data/`` of the source tree) ships
inside the installed package ``synthcat_demo_data``, so it runs from any directory.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from catalog import Catalog
from catalog.errors import SynthcatError

DEMO_DIR = "synthcat-demo"
DEMO_MARK = "demo_catalog"
DATA_PACKAGE = "synthcat_demo_data"


def demo_file(name: str) -> Path:
    """A file of the bundled demo data."""
    path = Path(str(resources.files(DATA_PACKAGE) / name))
    if not path.is_file():
        raise SynthcatError(f"demo data missing: {name} (reinstall synthcat)")
    return path


def report_path(target: Path) -> Path:
    """Where the demo's evaluation report goes: beside the demo catalog, never inside it."""
    return target.with_name(f"{target.name}-customers-report.html")


def _prepare(directory: Path, fresh: bool) -> None:
    if not (directory / "catalog.duckdb").exists() or not fresh:
        return
    with Catalog.open(directory, read_only=True) as cat:
        is_demo = cat.get_meta(DEMO_MARK) == "1"
    if not is_demo:
        raise SynthcatError(f"{directory} holds a catalog that is not a demo catalog; "
                            "choose another --catalog for the demo")
    shutil.rmtree(directory)


def _rule(console: Console, title: str) -> None:
    console.rule(Text(title, style="bold"))


def run_demo(directory: str | None, *, fresh: bool = True, console: Console | None = None) -> Path:
    """Build the demo catalog (default ./synthcat-demo) and print a tour; return its directory."""
    console = console or Console(markup=False, emoji=False, highlight=False)
    target = Path(directory or DEMO_DIR)
    _prepare(target, fresh)
    with Catalog.open(target, create=True) as cat:
        if cat.datasets():
            raise SynthcatError(f"{target} already holds datasets; use --fresh or another --catalog")
        with cat.transaction():
            cat.set_meta(DEMO_MARK, "1")
        _rule(console, "1. import")
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
        _rule(console, "catalog")
        overview = Table("name", "kind", "origin", "rows", "removed", "parents")
        for ds in cat.datasets():
            overview.add_row(ds.name, ds.kind, ds.origin, str(ds.row_count), str(ds.removed), ", ".join(ds.parents))
        console.print(overview)
    console.print(f"demo catalog in {target}/ — try: synthcat --catalog {target} show support-seed")
    return target


def search_step(cat: Catalog, console: Console) -> None:
    _rule(console, "search (hybrid: BM25 + vectors)")
    query = "my router keeps restarting itself"
    console.print(f"query: {query!r}")
    for rank, hit in enumerate(cat.search(query, k=3, datasets=["support-seed"], explain=True), start=1):
        kw, vec = hit.explain.get("keyword"), hit.explain.get("vector")
        why = ", ".join(f"{name} #{info['rank']}" for name, info in (("keyword", kw), ("vector", vec)) if info)
        console.print(f"  {rank}. {hit.id} [{why}] {hit.snippet[:110]!r}")
    hits = cat.search("someone took money from my account", k=2, datasets=["support-seed"],
                      field_equals={"category": "fraud"})
    console.print("filtered to category=fraud: " + ", ".join(f"{h.id} {h.text[:60]!r}" for h in hits))


def dedup_step(cat: Catalog, console: Console) -> None:
    _rule(console, "dedup before training")
    report = cat.dedup("support-seed", into="support-clean")
    stages = ", ".join(f"{k} {v}" for k, v in report.counts.items())
    console.print(f"checked {report.checked} pairs: removed {report.removed} duplicates ({stages}); "
                  f"run {report.run_id} is stored and reversible (synthcat dedup-runs undo {report.run_id})")
    for example in report.examples[:3]:
        console.print(f"  keep   {example.keep.text[:90]!r}")
        for gone in example.remove[:1]:
            console.print(f"  remove {gone.text[:90]!r} ({gone.stage}, {gone.score})")
    truth = json.loads(demo_file("demo_pairs_duplicates.json").read_text())
    planted = truth["exact"] + truth["near"]
    removed = {r.external_id for r in cat.records("support-seed", status="removed")}
    caught = sum(1 for original, copy in planted if copy in removed or original in removed)
    near_misses = sum(1 for a, b in truth["near_misses"] if a in removed or b in removed)
    others = report.removed - caught - near_misses
    console.print(f"pairs are compared on prompt and reply (--on both), so pairs that reuse a canned reply for a "
                  f"different question stay. Of {report.removed} removed: {caught} of the {len(planted)} planted "
                  f"copies (demo_pairs_duplicates.json); {near_misses} of the {len(truth['near_misses'])} near-miss "
                  "pairs, whose prompt and reply differ only in a number or a plan name (no similarity stage tells "
                  f"£29 from £36); {others} other near-identical question(s) — see them with "
                  f"`synthcat dedup-runs show {report.run_id}`, or undo the run if you disagree")
    if report.into is not None:
        console.print(f"survivors written to 'support-clean' ({report.into.rows} pairs, lineage to the source)")


def generation_step(cat: Catalog, console: Console) -> None:
    from generators import GenerationConfig, generate_text

    _rule(console, "grounded generation (bundled SmolLM2-135M, offline)")
    report = generate_text(cat, GenerationConfig(
        dataset="support-generated", n=2, ground_on=["support-clean"], k=3, seed=11, max_tokens=220,
        task="customer support replies for a home-internet provider"))
    console.print(f"accepted {report.accepted} new pairs in {report.seconds:.0f}s "
                  f"(rejected: {report.rejections or 'none'})")
    for record in cat.records("support-generated"):
        console.print(Text.assemble((f"new #{record.record_id}", "bold"), f" {record.text[:160]!r}"))
        for link in cat.lineage(record.record_id).sources:
            source = cat.record(link.source_record_id)
            console.print(f"   grounded on #{link.rank} (hybrid score {link.score:.4f}): {source.text[:90]!r}")


def table_step(cat: Catalog, console: Console) -> None:
    from generators import synthesize_table

    _rule(console, "tabular synthesis (Gaussian copula)")
    frame = cat.table("customers")
    holdout = frame.sample(frac=0.25, random_state=7)
    cat.add_table("customers-train", frame.drop(holdout.index), origin="real", parents=["customers"],
                  description="75% of customers, to fit synthesizers on")
    cat.add_table("customers-holdout", holdout, origin="real", parents=["customers"],
                  description="25% of customers, never shown to a synthesizer")
    result = synthesize_table(cat, "customers-synthetic", source="customers-train", method="copula", n=450, seed=7)
    console.print(f"fitted a Gaussian copula on 'customers-train' in {result.fit_seconds:.1f}s and wrote "
                  f"{result.rows} synthetic rows to 'customers-synthetic'")
    churners = synthesize_table(cat, "customers-churners", source="customers-train", method="copula", n=50, seed=8,
                                conditions={"churned": True})
    console.print(f"conditional sampling: {churners.rows} rows with churned=True in 'customers-churners'")


def evaluation_step(cat: Catalog, console: Console) -> None:
    _rule(console, "evaluation")
    path = report_path(cat.directory)
    result = cat.evaluate("customers-synthetic", "customers-train", holdout="customers-holdout", target="churned",
                          sensitive=["region"], report=path, force=True)
    figures = result.headline
    console.print(f"quality {figures['quality']:.3f} (column shapes {figures['column_shapes']:.3f}, pair trends "
                  f"{figures['column_pair_trends']:.3f})")
    if figures.get("utility_tstr_roc_auc") is not None and figures.get("utility_trtr_roc_auc") is not None:
        console.print(f"utility: ROC AUC trained on synthetic {figures['utility_tstr_roc_auc']:.3f} vs on real "
                      f"{figures['utility_trtr_roc_auc']:.3f} (tested on the holdout)")
    copies = figures.get("exact_copies") or 0
    console.print(f"privacy: {copies:.0f} exact copies of real rows; report written to {path}")


# Functions (catalog, console) run in order after the imports; features add their tour here.
DEMO_STEPS: list = [search_step, dedup_step, generation_step, table_step, evaluation_step]
