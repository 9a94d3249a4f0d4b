"""synthcat's command line: parses options, calls catalog/ or generators/, renders the result.

No SQL and no model code lives here. Library modules are imported inside the commands so that
`synthcat --help` stays instant.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

app = typer.Typer(
    name="synthcat",
    help="A catalog for synthetic training data: import, search, dedup, generate and evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="Inspect and rebuild the FAISS vector indexes.", no_args_is_help=True)
app.add_typer(index_app, name="index")
generate_app = typer.Typer(help="Generate synthetic data: grounded text, or tables.", no_args_is_help=True)
app.add_typer(generate_app, name="generate")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

CatalogOpt = Annotated[
    str | None,
    typer.Option("--catalog", "-C", envvar="SYNTHCAT_CATALOG", show_envvar=True,
                 help="Catalog directory (default ./synthcat-catalog)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


class _State:
    catalog: str | None = None


state = _State()


@app.callback()
def main(catalog: CatalogOpt = None) -> None:
    """synthcat: keep every synthetic and real dataset with its lineage, and use it."""
    state.catalog = catalog
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def handles_errors(fn):
    """Turn user errors into one red line and exit code 1 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from catalog.errors import SynthcatError

        try:
            return fn(*args, **kwargs)
        except SynthcatError as exc:
            err.print(f"error: {exc}", style="red", markup=False, highlight=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted: nothing from the unfinished step was saved", style="yellow",
                      markup=False, highlight=False)
            raise typer.Exit(130) from None

    return wrapper


def open_catalog(*, write: bool):
    from catalog import open_catalog as _open

    if write:
        return _open(state.catalog, create=True)
    return _open(state.catalog, read_only=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


class RichProgress:
    """Implements catalog.progress.Progress with a rich progress bar on terminals."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True,
                                  disable=not err.is_terminal)
        self._task = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, label: str, total: float | None) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(label, total=total)

    def advance(self, amount: float = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)

    def finish(self) -> None:
        if self._task is not None:
            task = self._progress.tasks[-1]
            if task.total is not None:
                self._progress.update(self._task, completed=task.total)

    def set_description(self, text: str) -> None:
        if self._task is not None:
            self._progress.update(self._task, description=text)


def show_rows(rows: list[dict], columns: list[str], *, as_json: bool, empty: str) -> None:
    """The read commands' output: JSON for scripts, a table for people, a line when there is nothing."""
    if as_json:
        print_json(rows)
    elif not rows:
        out.print(empty)
    else:
        render_table(rows, columns)


def render_table(rows: list[dict], columns: list[str], title: str | None = None) -> None:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[_cell(row.get(c)) for c in columns])
    out.print(table)


def _cell_json(value: Any) -> Any:
    return json.dumps(value, default=str) if isinstance(value, dict) else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# --------------------------------------------------------------------------- import / export


@app.command("import")
@handles_errors
def import_cmd(
    file: Annotated[Path, typer.Argument(help="JSONL (.jsonl/.jsonl.gz), JSON array, CSV, TSV or Parquet.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Name of the new dataset.")],
    origin: Annotated[str, typer.Option(help="real or synthetic.")] = "real",
    kind: Annotated[str | None, typer.Option(help="text, pairs, conversations or table (default: detect).")]
    = None,
    text_field: Annotated[list[str] | None, typer.Option(
        "--text-field", help="Field holding the text; repeat to join several with a space.")] = None,
    prompt_field: Annotated[str | None, typer.Option(help="Prompt field of pairs (default: detect).")] = None,
    response_field: Annotated[str | None, typer.Option(help="Response field of pairs (default: detect).")]
    = None,
    messages_field: Annotated[str | None, typer.Option(help="Messages list of conversations.")] = None,
    id_field: Annotated[str | None, typer.Option(help="Field with the file's own record ids.")] = None,
    quality_field: Annotated[str | None, typer.Option(help="Numeric field to store as quality score.")]
    = None,
    fmt: Annotated[str | None, typer.Option("--format", help="Override the format the extension implies.")]
    = None,
    description: Annotated[str | None, typer.Option(help="What the dataset is.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag (repeatable).")] = None,
    no_embed: Annotated[bool, typer.Option("--no-embed", help="Do not embed the texts now.")] = False,
    embedder: Annotated[str | None, typer.Option(
        help="sentence-transformers model name or path (default: bundled all-MiniLM-L6-v2).")] = None,
    skip_bad: Annotated[Path | None, typer.Option(
        help="Import the valid rows and write each rejected row with its reason to this file.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a file as a new dataset (all or nothing, unless --skip-bad)."""
    from catalog.importer import import_file

    options = dict(text_fields=text_field or None, prompt_field=prompt_field, response_field=response_field,
                   messages_field=messages_field, id_field=id_field, quality_field=quality_field,
                   description=description, tags=tag or (), embed=not no_embed, embedder=embedder,
                   skip_bad=skip_bad)
    with open_catalog(write=True) as cat, RichProgress() as progress:
        result = import_file(cat, file, dataset, origin=origin, kind=kind, fmt=fmt, progress=progress, **options)
    if as_json:
        print_json(result.to_dict())
        return
    if result.kind == "table":
        out.print(f"imported {result.rows} rows into the typed table '{result.dataset}' ({result.origin}) "
                  f"in {result.seconds:.1f}s")
    else:
        out.print(f"imported {result.rows} {result.kind} records into '{result.dataset}' ({result.origin}) "
                  f"in {result.seconds:.1f}s; embedded {result.embedded} new texts")
    if result.rejected:
        err.print(f"skipped {result.rejected} bad rows (details in {result.rejects_file}):", style="yellow")
        for line in result.first_errors:
            err.print(f"  {line}", markup=False, highlight=False)


@app.command("export")
@handles_errors
def export_cmd(
    name: Annotated[str, typer.Argument(help="Dataset to export.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Output file: .jsonl, .csv or .parquet.")],
    fmt: Annotated[str | None, typer.Option(
        "--format", help="jsonl, csv, parquet, or chat (chat-message JSONL for fine-tuning).")] = None,
    include_removed: Annotated[bool, typer.Option(help="Also export records removed by dedup.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Export a dataset, with a FILE.meta.json sidecar (metadata, origin, lineage, hashes)."""
    from catalog.exporter import export_dataset

    with open_catalog(write=False) as cat:
        result = export_dataset(cat, name, out_file, fmt=fmt, include_removed=include_removed)
    if as_json:
        print_json(result)
    else:
        out.print(f"wrote {result['rows']} rows of '{name}' ({result['origin']}) to {result['out']} "
                  f"[{result['format']}]; metadata in {result['sidecar']}")


# ------------------------------------------------------------------------------ read commands


@app.command("datasets")
@handles_errors
def datasets_cmd(as_json: JsonOpt = False) -> None:
    """List the datasets in the catalog."""
    from catalog.inspect import list_datasets

    with open_catalog(write=False) as cat:
        rows = list_datasets(cat)
    if not as_json:
        for row in rows:
            row["created"] = row["created_at"][:16]
    show_rows(rows, ["name", "kind", "origin", "rows", "removed", "generator", "parents", "created"],
              as_json=as_json, empty="the catalog holds no datasets yet")


@app.command("show")
@handles_errors
def show_cmd(name: Annotated[str, typer.Argument(help="Dataset name.")],
             sample: Annotated[int, typer.Option(help="Sample rows to show.")] = 3,
             as_json: JsonOpt = False) -> None:
    """Show a dataset: metadata, counts, sample rows and lineage."""
    from catalog.inspect import show_dataset

    with open_catalog(write=False) as cat:
        info = show_dataset(cat, name, sample=sample)
    if as_json:
        print_json(info)
        return
    header = {k: info.get(k) for k in ("name", "kind", "origin", "row_count", "created_at", "description",
                                        "tags", "generator", "model", "seed", "parents", "children",
                                        "embedder", "source")}
    table = Table(show_header=False, title=f"dataset {name}")
    for key, value in header.items():
        if value not in (None, [], ""):
            table.add_row(key, _cell(value))
    params = {k: v for k, v in (info.get("parameters") or {}).items()}
    if params:
        table.add_row("parameters", json.dumps(params, default=str)[:400])
    if info.get("status_counts"):
        table.add_row("records", ", ".join(f"{k}: {v}" for k, v in info["status_counts"].items()))
    for link in info.get("lineage", []):
        table.add_row("lineage", f"{link['links']} {link['relation']} links to '{link['source_dataset']}'")
    out.print(table)
    for key, value in info.items():
        if key.startswith("section:") and value:
            if isinstance(value, list) and all(isinstance(v, dict) for v in value):
                columns = [c for c in value[0] if c not in ("usage", "created_at")]
                render_table([{c: _cell_json(v.get(c)) for c in columns} for v in value], columns, title=key[8:])
            else:
                out.print(f"[bold]{key[8:]}[/bold]")
                out.print_json(data=value, default=str)
    if info.get("columns"):
        render_table(info["columns"], ["name", "type"], title="columns")
    if info.get("sample"):
        out.print("[bold]sample[/bold]")
        for row in info["sample"]:
            out.print(json.dumps(row, ensure_ascii=False, default=str)[:400], markup=False, highlight=False)


@app.command("delete")
@handles_errors
def delete_cmd(name: Annotated[str, typer.Argument(help="Dataset to delete.")],
               yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
               as_json: JsonOpt = False) -> None:
    """Delete a dataset, its records, lineage and vectors."""
    from catalog.inspect import delete_dataset

    with open_catalog(write=True) as cat:
        ds = cat.dataset(name)
        if not yes:
            if not sys.stdin.isatty():
                err.print("refusing to delete without confirmation: pass --yes", style="red")
                raise typer.Exit(1)
            typer.confirm(f"delete dataset '{name}' ({ds.row_count} rows, {ds.origin})?", abort=True)
        result = delete_dataset(cat, name)
    if as_json:
        print_json(result)
    else:
        out.print(f"deleted '{name}' ({result['rows']} rows)")


@app.command("sql")
@handles_errors
def sql_cmd(query: Annotated[str, typer.Argument(help="A read-only SQL query.")],
            limit: Annotated[int | None, typer.Option(help="At most this many rows.")] = 1000,
            as_json: JsonOpt = False) -> None:
    """Run a read-only SQL query against the catalog."""
    from catalog.inspect import run_sql

    with open_catalog(write=False) as cat:
        result = run_sql(cat, query, limit=limit)
    if as_json:
        print_json([dict(zip(result["columns"], row)) for row in result["rows"]])
    else:
        render_table([dict(zip(result["columns"], row)) for row in result["rows"]], result["columns"])


@app.command("embed")
@handles_errors
def embed_cmd(name: Annotated[str, typer.Argument(help="Dataset imported with --no-embed.")],
              embedder: Annotated[str | None, typer.Option(help="Model name or path.")] = None) -> None:
    """Embed a dataset's texts (for datasets imported with --no-embed)."""
    from catalog.embedding_store import embed_dataset

    with open_catalog(write=True) as cat, RichProgress() as progress:
        made = embed_dataset(cat, name, embedder, progress)
    out.print(f"embedded {made} new texts of '{name}'")


# ------------------------------------------------------------------------------------- index


@index_app.command("status")
@handles_errors
def index_status_cmd(as_json: JsonOpt = False) -> None:
    """Does each FAISS index agree with DuckDB?"""
    from catalog.vector_index import index_status

    with open_catalog(write=False) as cat:
        rows = index_status(cat)
    show_rows(rows, ["embedder_id", "records_in_duckdb", "records_in_index", "index_type", "dimension", "in_sync",
                     "problems"], as_json=as_json, empty="no embeddings yet")


@index_app.command("rebuild")
@handles_errors
def index_rebuild_cmd(as_json: JsonOpt = False) -> None:
    """Rebuild every FAISS index from the vectors stored in DuckDB."""
    from catalog.vector_index import rebuild_indexes

    with open_catalog(write=True) as cat:
        rows = rebuild_indexes(cat)
    if as_json:
        print_json(rows)
    else:
        for row in rows:
            out.print(f"rebuilt {row['embedder_id']}: {row['records_in_index']} vectors ({row['index_type']})")


# ------------------------------------------------------------------------------------ search


def _searcher(cat, mode, filters, depth, fusion, alpha):
    from catalog.search.api import Searcher
    from catalog.search.keyword import KeywordIndexStale

    try:
        return cat, Searcher(cat, mode=mode, filters=filters, depth=depth, fusion=fusion, alpha=alpha)
    except KeywordIndexStale:
        cat.close()  # the keyword index must be rebuilt: reopen for writing, once
        cat = open_catalog(write=True)
        return cat, Searcher(cat, mode=mode, filters=filters, depth=depth, fusion=fusion, alpha=alpha)


def _read_queries(path: Path) -> list[tuple[str, str]]:
    from catalog.errors import BadInput

    if not path.exists():
        raise BadInput("queries file not found", file=str(path))
    queries = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise BadInput("malformed JSON", file=str(path), line=line_no) from None
        if not isinstance(row, dict):
            raise BadInput("expected a JSON object", file=str(path), line=line_no)
        qid = row.get("_id", row.get("id"))
        if qid is None:
            raise BadInput("missing query id", file=str(path), line=line_no, field="_id")
        if not isinstance(row.get("text"), str) or not row["text"].strip():
            raise BadInput("missing or empty query text", file=str(path), line=line_no, field="text")
        queries.append((str(qid), row["text"]))
    if not queries:
        raise BadInput("no queries in file", file=str(path))
    return queries


@app.command("search")
@handles_errors
def search_cmd(
    query: Annotated[str | None, typer.Argument(help="What to look for.")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, keyword (BM25) or vector.")] = "hybrid",
    k: Annotated[int, typer.Option("--k", help="How many results.")] = 10,
    dataset: Annotated[list[str] | None, typer.Option("--dataset", "-d", help="Only these datasets (repeatable).")]
    = None,
    origin: Annotated[str | None, typer.Option(help="Only real or only synthetic records.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only text, pairs or conversations.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Only datasets with this tag (repeatable).")] = None,
    field: Annotated[list[str] | None, typer.Option(
        "--field", help="Only records whose field equals a value: FIELD=VALUE (repeatable).")] = None,
    min_quality: Annotated[float | None, typer.Option(help="Only records with at least this quality.")] = None,
    created_after: Annotated[str | None, typer.Option(help="Only records created at or after (ISO date).")] = None,
    created_before: Annotated[str | None, typer.Option(help="Only records created before (ISO date).")] = None,
    include_removed: Annotated[bool, typer.Option(help="Also search records removed by dedup.")] = False,
    fusion: Annotated[str, typer.Option(help="Hybrid fusion: convex (weighted normalised scores) or rrf.")] = "convex",
    alpha: Annotated[float, typer.Option(help="Convex fusion: weight of the vector scores.")] = 0.5,
    depth: Annotated[int, typer.Option(help="Candidates each retriever passes to the fusion.")] = 100,
    explain: Annotated[bool, typer.Option(help="Show each retriever's rank and score.")] = False,
    queries: Annotated[Path | None, typer.Option(
        help="Batch mode: JSONL of {\"_id\" or \"id\", \"text\"}; one JSON line of hits per query.")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Batch mode: write results here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the catalog by keyword (BM25), meaning (vectors) or both (hybrid)."""
    from catalog.errors import BadInput
    from catalog.search import SearchFilters

    if (query is None) == (queries is None):
        raise BadInput("give either a QUERY or --queries FILE")
    filters = SearchFilters(datasets=dataset or [], origin=origin, kind=kind, tags=tag or [],
                            created_after=created_after, created_before=created_before, min_quality=min_quality,
                            field_equals=_key_values(field, "--field"), include_removed=include_removed)
    cat = open_catalog(write=False)
    try:
        cat, searcher = _searcher(cat, mode, filters, depth, fusion, alpha)
        if queries is not None:
            batch = _read_queries(queries)
            results = searcher.run([text for _, text in batch], k, explain)
            lines = [json.dumps({"query_id": qid, "hits": [
                {"id": h.id, "record_id": h.record_id, "dataset": h.dataset, "score": h.score, "text": h.text,
                 **({"explain": h.explain} if explain else {})} for h in hits]}, ensure_ascii=False)
                for (qid, _), hits in zip(batch, results)]
            if out_file:
                out_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
                out.print(f"wrote results of {len(lines)} queries to {out_file}")
            else:
                sys.stdout.write("\n".join(lines) + "\n")
            return
        hits = searcher.run([query], k, explain)[0]
    finally:
        cat.close()
    if as_json:
        print_json([h.to_dict() for h in hits])
        return
    if not hits:
        out.print("no matching records")
        return
    for rank, hit in enumerate(hits, start=1):
        header = f"{rank:>2}. {hit.dataset}/{hit.id}  score {hit.score:.4g}"
        out.print(header, style="bold", markup=False, highlight=False)
        text = hit.snippet.replace("\n", " ")
        line = Text(f"    {text}")
        line.highlight_regex(r"«[^»]*»", style="bold yellow")
        out.print(line)
        if explain:
            parts = [f"{name} #{info['rank']} ({info['score']:.4g})" if info else f"{name} -"
                     for name, info in (("keyword", hit.explain.get("keyword")), ("vector", hit.explain.get("vector")))]
            out.print("    " + ", ".join(parts), style="dim", markup=False, highlight=False)


# ------------------------------------------------------------------------------------- dedup


@app.command("dedup")
@handles_errors
def dedup_cmd(
    names: Annotated[list[str], typer.Argument(
        help="Dataset(s) to dedup; or `undo RUN` to restore a run's records; or `runs` to list runs.")],
    against: Annotated[list[str] | None, typer.Option(
        "--against", help="Reference dataset: never loses records (repeatable).")] = None,
    no_exact: Annotated[bool, typer.Option("--no-exact", help="Skip the exact stage.")] = False,
    no_minhash: Annotated[bool, typer.Option("--no-minhash", help="Skip the MinHash stage.")] = False,
    no_semantic: Annotated[bool, typer.Option("--no-semantic", help="Skip the semantic stage.")] = False,
    punctuation_blind: Annotated[bool, typer.Option(help="Exact stage ignores punctuation.")] = False,
    minhash_threshold: Annotated[float | None, typer.Option(help="Jaccard threshold (default 0.5).")] = None,
    semantic_threshold: Annotated[float | None, typer.Option(help="Cosine threshold (default 0.92).")] = None,
    keep: Annotated[str, typer.Option(help="Per cluster keep: first, longest, quality or real.")] = "first",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would go; change nothing.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Export the survivors to this file.")] = None,
    into: Annotated[str | None, typer.Option(help="Write the survivors as a new dataset.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove duplicates before training: exact, MinHash near-duplicate and semantic, auditable and reversible."""
    from catalog import dedup_runs
    from catalog.dedup import defaults
    from catalog.errors import BadInput

    if names[0] in ("undo", "runs"):
        if names[0] == "runs":
            with open_catalog(write=False) as cat:
                rows = dedup_runs.list_runs(cat)
            show_rows(rows, ["run_id", "datasets", "against", "removed", "counts", "created_at", "undone_at"],
                      as_json=as_json, empty="no dedup runs yet")
            return
        if len(names) != 2 or not names[1].isdigit():
            raise BadInput("usage: synthcat dedup undo RUN_ID")
        with open_catalog(write=True) as cat:
            result = dedup_runs.undo(cat, int(names[1]))
        if as_json:
            print_json(result)
        else:
            out.print(f"dedup run {result['run_id']} undone: {result['restored']} records restored")
        return
    with open_catalog(write=not dry_run) as cat:
        report = dedup_runs.dedup(
            cat, names, against=against or [], exact=not no_exact, minhash=not no_minhash,
            semantic=not no_semantic, punctuation_blind=punctuation_blind,
            minhash_threshold=minhash_threshold if minhash_threshold is not None else defaults.MINHASH_THRESHOLD,
            semantic_threshold=semantic_threshold if semantic_threshold is not None else defaults.SEMANTIC_THRESHOLD,
            keep=keep, dry_run=dry_run, out=str(out_file) if out_file else None, into=into)
    if as_json:
        print_json(report)
        return
    verb = "would remove" if dry_run else "removed"
    stages = ", ".join(f"{k}: {v}" for k, v in report["counts"].items())
    out.print(f"checked {report['checked']} records"
              + (f" against {report['references']} reference records" if report["references"] else "")
              + f"; {verb} {report['removed']} ({stages})"
              + (f" — run {report['run_id']} (undo: synthcat dedup undo {report['run_id']})" if report["run_id"]
                 else ""))
    for example in report["examples"]:
        out.print(f"[bold]cluster {example['cluster']}[/bold] keep #{example['keep']['record_id']}: "
                  f"{example['keep']['text'][:100]!r}", highlight=False)
        for gone in example["remove"]:
            out.print(f"   remove #{gone['record_id']} ({gone['stage']} {gone['score']}): {gone['text'][:100]!r}",
                      markup=False, highlight=False)
    if report.get("into"):
        out.print(f"wrote {report['into']['rows']} survivors to dataset '{report['into']['dataset']}'")
    if report.get("out"):
        out.print(f"exported {report['out']['rows']} survivors to {report['out']['out']}")


# ---------------------------------------------------------------------------------- generate


def _key_values(items: list[str] | None, option: str) -> dict[str, str]:
    from catalog.errors import BadInput

    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"{option} expects FIELD=VALUE, got {item!r}", field=option)
        out[key.strip()] = value.strip()
    return out


def _report_generation(report, as_json: bool) -> None:
    if as_json:
        print_json(report.to_dict())
        return
    rejected = sum(report.rejections.values())
    out.print(f"job {report.job_id}: {report.accepted}/{report.target} accepted in '{report.dataset}' "
              f"({report.accepted_this_run} this run, {rejected} rejected, {report.attempts} attempts, "
              f"{report.seconds:.0f}s)", markup=False, highlight=False)
    if report.rejections:
        out.print("rejections: " + ", ".join(f"{k}={v}" for k, v in sorted(report.rejections.items())),
                  markup=False, highlight=False)
    line = _usage_line(report.summary)
    if line:
        out.print(line, markup=False, highlight=False)
    quality = _quality_line(report.quality)
    if quality:
        out.print(quality, markup=False, highlight=False)


def _usage_line(summary: dict) -> str:
    """'tokens: 12,345 (prompt 10,000, completion 2,345; judge 800), 4,115 per accepted sample, cost $0.0123'."""
    if not summary or not summary.get("total_tokens"):
        return ""
    text = (f"tokens: {summary['total_tokens']:,} (prompt {summary['prompt_tokens']:,}, completion "
            f"{summary['completion_tokens']:,}" + (f"; judge {summary['judge_tokens']:,}" if summary.get(
                "judge_tokens") else "") + ")")
    if summary.get("tokens_per_accepted"):
        text += f", {summary['tokens_per_accepted']:,.0f} per accepted sample"
    if summary.get("cost_usd") is not None:
        text += f", cost ${summary['cost_usd']:.4f}"
    return text


def _quality_line(quality: dict) -> str:
    if not quality or not quality.get("groundedness_scored") and not quality.get("judged") \
            and not quality.get("judge_failed"):
        return ""
    parts = []
    if quality.get("groundedness_scored"):
        parts.append(f"groundedness mean {quality['groundedness_mean']:.2f} (p10 {quality['groundedness_p10']:.2f}, "
                     f"median {quality['groundedness_median']:.2f})")
    if quality.get("judged") or quality.get("judge_failed"):
        mean = f", mean {quality['judge_mean']:.2f}/5" if quality.get("judge_mean") is not None else ""
        parts.append(f"judge scored {quality['judged']}{mean}, failed {quality['judge_failed']}")
    return "quality: " + "; ".join(parts)


def _run_generation(call, as_json: bool) -> None:
    """Run a generation call; a job that stops short prints its summary, then the red error line."""
    from generators.text.grounded import GenerationIncomplete

    try:
        report = call()
    except GenerationIncomplete as exc:
        _report_generation(exc.report, as_json)
        raise
    _report_generation(report, as_json)


@generate_app.command("text")
@handles_errors
def generate_text_cmd(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Name of the new (synthetic) dataset.")],
    n: Annotated[int, typer.Option("--n", help="How many samples to accept.")],
    kind: Annotated[str, typer.Option(help="pairs, text or conversations.")] = "pairs",
    task: Annotated[str | None, typer.Option(help="What to write, in plain words.")] = None,
    template: Annotated[Path | None, typer.Option(
        help="Prompt template file with {task} {examples} {anchor} {kind_description} {shape}.")] = None,
    model: Annotated[str, typer.Option(help="'local' (bundled SmolLM2-135M) or 'openai:MODEL'.")] = "local",
    base_url: Annotated[str | None, typer.Option(
        help="OpenAI-compatible endpoint (else $OPENAI_BASE_URL); key from $OPENAI_API_KEY.")] = None,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 0.8,
    seed: Annotated[int, typer.Option(help="Base seed; attempt i uses seed + i.")] = 0,
    ground_on: Annotated[list[str] | None, typer.Option(
        "--ground-on", help="Dataset whose records ground each sample (repeatable).")] = None,
    k: Annotated[int, typer.Option("--k", help="Examples retrieved per sample.")] = 4,
    ground_filter: Annotated[list[str] | None, typer.Option(
        "--ground-filter", help="Only ground on records with FIELD=VALUE (repeatable).")] = None,
    topics: Annotated[Path | None, typer.Option(help="File with one topic per line to anchor samples.")] = None,
    novelty_threshold: Annotated[float | None, typer.Option(
        help="Reject samples whose cosine to anything in scope is at least this (default 0.92).")] = None,
    max_attempts: Annotated[int | None, typer.Option(
        help="Hard cap on attempts (default: adapts to the acceptance rate, at most 25 per sample + 25).")] = None,
    concurrency: Annotated[int, typer.Option(help="Parallel requests (useful with openai endpoints).")] = 1,
    max_tokens: Annotated[int, typer.Option(help="Token limit per completion.")] = 320,
    threads: Annotated[int | None, typer.Option(help="CPU threads for the local model.")] = None,
    strategy: Annotated[str, typer.Option(
        help="auto (= one_call), one_call (whole sample in one request) or two_step (pairs: prompt, then "
             "a response grounded on the records retrieved for it).")] = "auto",
    judge: Annotated[str | None, typer.Option(
        help="Score each sample 1-5 with an LLM judge: 'local' or 'openai:MODEL'.")] = None,
    judge_base_url: Annotated[str | None, typer.Option(
        help="OpenAI-compatible endpoint of an openai: judge (else $OPENAI_BASE_URL).")] = None,
    max_tokens_total: Annotated[int | None, typer.Option(
        help="Stop the job cleanly once it has used this many tokens (generation + judge); it resumes.")] = None,
    price_in: Annotated[float | None, typer.Option(help="USD per 1M prompt tokens, for the cost summary.")] = None,
    price_out: Annotated[float | None, typer.Option(
        help="USD per 1M completion tokens, for the cost summary.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate text samples with a chat model, grounded on catalog records (RAG) and checked for novelty.

    Running the same command again after an interruption resumes the job.
    """
    from catalog.errors import BadInput
    from generators.chat import load_chat_model
    from generators.text.grounded import GenerationConfig, generate_text
    from generators.text.prompting import load_template

    topic_list: list[str] = []
    if topics is not None:
        if not topics.exists():
            raise BadInput("topics file not found", file=str(topics))
        topic_list = [line.strip() for line in topics.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not topic_list:
            raise BadInput("topics file holds no topics", file=str(topics))
    config = GenerationConfig(
        dataset=dataset, n=n, kind=kind, task=task, template=load_template(template) if template else None,
        model=model, base_url=base_url, temperature=temperature, seed=seed, ground_on=ground_on or [], k=k,
        ground_filter=_key_values(ground_filter, "--ground-filter"), topics=topic_list,
        max_attempts=max_attempts, concurrency=concurrency, max_tokens=max_tokens, strategy=strategy,
        judge=judge, judge_base_url=judge_base_url, max_tokens_total=max_tokens_total, price_in=price_in,
        price_out=price_out, **({"cosine_threshold": novelty_threshold} if novelty_threshold is not None else {}))
    config.validate()
    chat = load_chat_model(model, threads=threads, parallel=concurrency) if model.startswith("local") else \
        load_chat_model(model, base_url=base_url)
    judge_chat = load_chat_model(judge, threads=threads) if judge and judge.startswith("local") else None
    with open_catalog(write=True) as cat, RichProgress() as progress:
        _run_generation(lambda: generate_text(cat, config, model=chat, judge_model=judge_chat, progress=progress),
                        as_json)


@generate_app.command("resume")
@handles_errors
def generate_resume_cmd(
    job_id: Annotated[str, typer.Argument(help="Job id (see `synthcat generate jobs`).")],
    max_tokens_total: Annotated[int | None, typer.Option(
        help="New total token budget for the job (default: a job stopped at its budget gets it again).")] = None,
    max_attempts: Annotated[int | None, typer.Option(
        help="Attempts this resume may make (default: the job's adaptive cap again).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Resume an interrupted or stopped generation job until its target is reached."""
    from generators.text.grounded import resume_generation

    with open_catalog(write=True) as cat, RichProgress() as progress:
        _run_generation(lambda: resume_generation(cat, job_id, progress=progress, max_tokens_total=max_tokens_total,
                                                  max_attempts=max_attempts), as_json)


@generate_app.command("jobs")
@handles_errors
def generate_jobs_cmd(as_json: JsonOpt = False) -> None:
    """List generation jobs with their progress and rejections."""
    from generators.text.jobs import list_jobs

    with open_catalog(write=False) as cat:
        rows = list_jobs(cat)
    if not as_json:
        for row in rows:
            summary, quality = row["summary"], row["quality"]
            row["tokens"] = f"{summary['total_tokens']:,}" if summary.get("total_tokens") else ""
            row["tokens/sample"] = summary.get("tokens_per_accepted")
            row["cost $"] = summary.get("cost_usd")
            row["groundedness"] = quality.get("groundedness_mean")
            row["judge"] = quality.get("judge_mean")
            row["stopped"] = row.get("stop_reason")
    show_rows(rows, ["job_id", "dataset", "status", "accepted", "target", "attempts", "rejections", "tokens",
                     "tokens/sample", "cost $", "groundedness", "judge", "stopped"],
              as_json=as_json, empty="no generation jobs yet")


@generate_app.command("table")
@handles_errors
def generate_table_cmd(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Name of the new synthetic table.")],
    source: Annotated[str | None, typer.Option("--from", help="Real table: a dataset name or a CSV/Parquet file.")]
    = None,
    method: Annotated[str | None, typer.Option(help="copula, gmm, tvae or ctgan.")] = None,
    n: Annotated[int | None, typer.Option("--n", help="Rows to generate (a spec may set its own).")] = None,
    spec: Annotated[Path | None, typer.Option(help="Rules spec (YAML/JSON): no real data needed.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same rows).")] = 0,
    epochs: Annotated[int | None, typer.Option(help="Training epochs for tvae/ctgan.")] = None,
    condition: Annotated[list[str] | None, typer.Option(
        "--condition", help="Fix a column, e.g. income=>50K (repeatable).")] = None,
    balance: Annotated[str | None, typer.Option(
        help="Balance a categorical column: COLUMN or COLUMN:label=share,label=share.")] = None,
    constraint: Annotated[list[str] | None, typer.Option(
        "--constraint", help="e.g. 'start < end', '0 <= age <= 99', 'fixed:city,country' or a filter.")] = None,
    na_value: Annotated[list[str] | None, typer.Option(
        "--na-value", help="Extra string to read as missing in a source file, e.g. '?'.")] = None,
    save_model: Annotated[Path | None, typer.Option(help="Save the fitted model here (JSON + npz).")] = None,
    load_model: Annotated[Path | None, typer.Option(help="Sample from a saved model instead of fitting.")] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="A method parameter KEY=VALUE (repeatable), e.g. condition_column=income for tvae.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Synthesize a table (rules spec, copula, GMM, TVAE or CTGAN) into the catalog."""
    from generators.table_synthesis import synthesize_table
    from generators.tabular import parse_condition, parse_param, parse_shares

    method_options = dict(parse_param(p) for p in param or [])
    conditions = dict(parse_condition(c) for c in condition or [])
    shares = None
    if balance and ":" in balance:
        balance, _, share_text = balance.partition(":")
        shares = parse_shares(share_text)
    with open_catalog(write=True) as cat, RichProgress() as progress:
        def on_epoch(info: dict) -> None:
            if "epoch" in info:
                if info.get("epoch") == 1 or progress._task is None:
                    progress.start(f"training {method}", info.get("epochs"))
                progress.advance(1)
                loss = info.get("loss")
                if loss is not None:
                    progress.set_description(f"training {method} (loss {loss:.3f})")

        result = synthesize_table(
            cat, dataset, n=n, source=source, method=method, spec=str(spec) if spec else None,
            load_model=str(load_model) if load_model else None, save_model=str(save_model) if save_model else None,
            seed=seed, epochs=epochs, conditions=conditions, balance=balance, balance_shares=shares,
            constraints=constraint, na_values=na_value, method_options=method_options, progress=on_epoch)
    if as_json:
        print_json(result)
    else:
        out.print(f"wrote {result['rows']} synthetic rows to '{result['dataset']}' with {result['method']}"
                  + (f" (fitted on '{result['parent']}' in {result['fit_seconds']:.1f}s)" if result["parent"] else ""))


# ---------------------------------------------------------------------------------- evaluate


@app.command("evaluate")
@handles_errors
def evaluate_cmd(
    synthetic: Annotated[str, typer.Argument(help="Synthetic dataset (catalog name or CSV/Parquet file).")],
    real: Annotated[str, typer.Option("--real", help="Real dataset it imitates (name or file).")],
    holdout: Annotated[str | None, typer.Option(help="Real data the generator never saw (utility, privacy).")]
    = None,
    target: Annotated[str | None, typer.Option(help="Column a model predicts (utility, bias).")] = None,
    sensitive: Annotated[list[str] | None, typer.Option(
        "--sensitive", help="Group column for the bias table (repeatable).")] = None,
    report: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report here.")] = None,
    na_value: Annotated[list[str] | None, typer.Option(
        "--na-value", help="Extra string to read as missing in files, e.g. '?'.")] = None,
    skip: Annotated[list[str] | None, typer.Option(
        "--skip", help="Leave out a section: quality, diagnostics, utility, privacy, bias.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling and models.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Measure fidelity, utility, privacy and bias of synthetic data against real data."""
    from catalog.evaluation_runs import evaluate

    with open_catalog(write=True) as cat:
        result = evaluate(cat, synthetic, real, holdout=holdout, target=target, sensitive=sensitive or [],
                          report=str(report) if report else None, na_values=na_value, seed=seed, skip=skip)
    if as_json:
        print_json(result)
        return
    _render_evaluation(result)


def _render_evaluation(result: dict) -> None:
    rows = []
    if result["kind"] == "table":
        quality = result.get("quality") or {}
        rows += [("quality (overall)", quality.get("overall")), ("column shapes", quality.get("column_shapes")),
                 ("column pair trends", quality.get("column_pair_trends"))]
        metrics = (result.get("utility") or {}).get("metrics") or {}
        for key in ("tstr", "trtr"):
            for metric in ("roc_auc", "f1", "r2"):
                if isinstance((metrics.get(key) or {}).get(metric), (int, float)):
                    rows.append((f"utility {key.upper()} {metric}", metrics[key][metric]))
        privacy = result.get("privacy") or {}
        if privacy.get("exact_copies"):
            rows.append(("exact copies of real rows", privacy["exact_copies"].get("count")))
        if privacy.get("dcr"):
            rows.append(("DCR median", privacy["dcr"].get("median")))
    else:
        novelty = result.get("novelty") or {}
        diversity = (result.get("diversity") or {}).get("synthetic") or {}
        rows += [("distinct-2", diversity.get("distinct_2")), ("mean pairwise cosine",
                                                                 diversity.get("mean_pairwise_cosine")),
                 ("near-copy share", novelty.get("near_copy_share")),
                 ("share NN cosine >= 0.9", novelty.get("share_nn_cosine_at_least_threshold"))]
        pii = (result.get("pii") or {}).get("synthetic") or {}
        if "texts_with_pii" in pii:
            rows.append(("texts with PII", pii["texts_with_pii"]))
        scores = result.get("quality_scores") or {}
        if scores.get("scored"):
            rows += [("quality score mean", scores["mean"]),
                     ("quality score p10 / median / p90", f"{scores['p10']:.3g} / {scores['p50']:.3g} / "
                                                         f"{scores['p90']:.3g}")]
        if (scores.get("judge") or {}).get("n") or (scores.get("judge") or {}).get("failed"):
            rows.append(("judge scores 1-5 (failed)", f"{scores['judge']['counts']} ({scores['judge']['failed']})"))
    table = Table("metric", "value", title=f"{result['datasets']['synthetic']} vs {result['datasets']['real']}")
    for name, value in rows:
        table.add_row(name, _cell(value))
    out.print(table)
    if result.get("report"):
        out.print(f"report: {result['report']}")
    if result.get("evaluation_id"):
        out.print(f"stored as evaluation {result['evaluation_id']} (see: synthcat show "
                  f"{result['datasets']['synthetic']})")


# -------------------------------------------------------------------------------------- demo


@app.command("demo")
@handles_errors
def demo_cmd(fresh: Annotated[bool, typer.Option(help="Delete an existing demo catalog first.")] = True) -> None:
    """Build a demo catalog from data/ and tour what synthcat does with it."""
    from catalog.demo import run_demo

    run_demo(state.catalog, fresh=fresh, console=out)


if __name__ == "__main__":  # pragma: no cover
    app()
