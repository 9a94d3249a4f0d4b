"""`synthcat demo`: build a demo catalog from the files in data/ and show what synthcat does."""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console
from rich.table import Table

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
        console.rule("[bold]1. import")
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
        console.rule("[bold]catalog")
        overview = Table("name", "kind", "origin", "rows", "removed", "parents")
        for row in cat.list():
            overview.add_row(row["name"], row["kind"], row["origin"], str(row["rows"]), str(row["removed"]),
                             ", ".join(row["parents"]))
        console.print(overview)
    console.print(f"demo catalog in {target}/ — try: synthcat --catalog {target} show support-seed")
    return target


# Functions (catalog, console) run in order after the imports; features add their tour here.
DEMO_STEPS: list = []
