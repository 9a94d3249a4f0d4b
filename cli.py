"""synthcat's command line: parses options, calls the library (``catalog.Catalog``, ``generators``),
renders the result.

No SQL and no model code lives here. Library modules are imported inside the commands so that
`synthcat --help` stays instant. Each command's Python parameter names are the library's parameter
names, so a library error that names a parameter (in backticks) is shown with the command's option.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
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
    rich_markup_mode=None,
)
index_app = typer.Typer(help="Inspect and rebuild the FAISS vector indexes.", no_args_is_help=True)
app.add_typer(index_app, name="index")
generate_app = typer.Typer(help="Generate synthetic data: grounded text, or tables.", no_args_is_help=True)
app.add_typer(generate_app, name="generate")
runs_app = typer.Typer(help="List, inspect and undo dedup and decontamination runs.", no_args_is_help=True)
app.add_typer(runs_app, name="dedup-runs")

# Data is printed as plain text: no console markup, emoji codes or highlighting, so a record holding
# "[/x]", "[bold]" or ":x:" prints exactly as stored. Styling is applied explicitly (style=, Text).
console = Console(soft_wrap=True, markup=False, emoji=False, highlight=False)
err = Console(stderr=True, soft_wrap=True, markup=False, emoji=False, highlight=False)

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


# ------------------------------------------------------------------------------- plumbing

_PARAM = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


def command_flags(fn) -> dict[str, str]:
    """A command function's parameter names mapped to how the user writes them: the longest option
    flag (``--text-field``) or an argument's metavar (``NAME``)."""
    import typing

    from typer.models import ArgumentInfo, OptionInfo

    flags: dict[str, str] = {}
    for name, hint in typing.get_type_hints(fn, include_extras=True).items():
        for info in getattr(hint, "__metadata__", ()):
            if isinstance(info, OptionInfo):
                # with Annotated, typer.Option("--flag") keeps the first declaration as its "default"
                given = [info.default, *(info.param_decls or ())]
                decls = [d for d in given if isinstance(d, str) and d.startswith("--")]
                flags[name] = max(decls, key=len) if decls else "--" + name.replace("_", "-")
            elif isinstance(info, ArgumentInfo):
                flags[name] = info.metavar or name.upper()
    return flags


def cli_message(message: str, flags: dict[str, str]) -> str:
    """A library message with each `parameter` shown as the command's option (``--k``, ``NAME``);
    a parameter the command does not have keeps its Python name."""
    return _PARAM.sub(lambda m: flags.get(m.group(1), m.group(1)), message)


def handles_errors(fn):
    """Turn user errors into one red line and exit code 1 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from catalog.errors import SynthcatError

        try:
            return fn(*args, **kwargs)
        except SynthcatError as exc:
            err.print(f"error: {cli_message(str(exc), command_flags(fn))}", style="red")
            raise typer.Exit(1) from None
        except OSError as exc:  # the environment refused a file operation: not a bug in synthcat
            where = f" {exc.filename}" if exc.filename else ""
            err.print(f"error: cannot access{where}: {exc.strerror or exc}", style="red")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted: nothing from the unfinished step was saved", style="yellow")
            raise typer.Exit(130) from None

    return wrapper


def open_catalog(*, write: bool):
    from catalog import Catalog

    if write:
        return Catalog.open(state.catalog, create=True)
    return Catalog.open(state.catalog, read_only=True)


def catalog_dir() -> Path:
    from catalog.location import resolve_catalog_dir

    return resolve_catalog_dir(state.catalog)


def print_json(data: Any) -> None:
    from catalog.json_values import json_safe
    from catalog.results import jsonable

    text = json.dumps(json_safe(jsonable(data)), indent=2, ensure_ascii=False, default=str, allow_nan=False)
    sys.stdout.write(text + "\n")


def key_values(items: list[str] | None, param: str) -> dict[str, str]:
    from catalog.key_values import key_values as parse

    return parse(items, param=param, example="category=billing")


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

        self._progress = Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
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


def show_rows(rows: list[dict], columns: list[str], *, as_json: bool, empty: str, data: Any = None) -> None:
    """The read commands' output: JSON for scripts, a table for people, a line when there is nothing."""
    if as_json:
        print_json(rows if data is None else data)
    elif not rows:
        console.print(empty)
    else:
        render_table(rows, columns)


def render_table(rows: list[dict], columns: list[str], title: str | None = None) -> None:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[_cell(row.get(c)) for c in columns])
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# --------------------------------------------------------------------------- import / export


@app.command("init")
@handles_errors
def init_cmd(directory: Annotated[Path | None, typer.Argument(help="Where to make it (default: --catalog).")] = None,
             encrypt: Annotated[bool, typer.Option(
                 "--encrypt", help="Encrypt everything on disk with the key in $SYNTHCAT_KEY (or $SYNTHCAT_KEY_FILE).")]
             = False,
             as_json: JsonOpt = False) -> None:
    """Make a new, empty catalog (optionally encrypted at rest)."""
    from catalog import Catalog

    with Catalog.create(directory or catalog_dir(), encrypt=encrypt) as cat:
        made = {"catalog": str(cat.directory), "encrypted": cat.encrypted}
    if as_json:
        print_json(made)
    else:
        console.print(f"made {'an encrypted' if made['encrypted'] else 'a'} catalog at {made['catalog']}"
                      + ("; every command on it needs $SYNTHCAT_KEY" if made["encrypted"] else ""))



@app.command("import")
@handles_errors
def import_cmd(
    path: Annotated[Path, typer.Argument(
        help="JSONL (.jsonl/.jsonl.gz), JSON array, CSV, TSV or Parquet; or a Hugging Face dataset directory.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Name of the new dataset.")],
    origin: Annotated[str | None, typer.Option(
        help="real or synthetic (default real; a directory exported with --format hf keeps its own).")] = None,
    kind: Annotated[str | None, typer.Option(help="text, pairs, conversations or table (default: detect).")]
    = None,
    text_fields: Annotated[list[str] | None, typer.Option(
        "--text-field", help="Field holding the text; repeat to join several with a space.")] = None,
    prompt_field: Annotated[str | None, typer.Option(help="Prompt field of pairs (default: detect).")] = None,
    response_field: Annotated[str | None, typer.Option(help="Response field of pairs (default: detect).")]
    = None,
    messages_field: Annotated[str | None, typer.Option(help="Messages list of conversations.")] = None,
    id_field: Annotated[str | None, typer.Option(help="Field (or column) with the file's own record ids.")] = None,
    quality_field: Annotated[str | None, typer.Option(help="Numeric field to store as quality score.")]
    = None,
    format: Annotated[str | None, typer.Option(
        "--format", help="Override the format the extension implies (hf: a Hugging Face dataset directory).")]
    = None,
    description: Annotated[str | None, typer.Option(help="What the dataset is.")] = None,
    tags: Annotated[list[str] | None, typer.Option("--tag", help="Tag (repeatable).")] = None,
    no_embed: Annotated[bool, typer.Option("--no-embed", help="Do not embed the texts now.")] = False,
    embedder: Annotated[str | None, typer.Option(
        help="sentence-transformers model name or path (default: bundled all-MiniLM-L6-v2).")] = None,
    skip_bad: Annotated[Path | None, typer.Option(
        help="Import the valid rows and write each rejected row with its reason to this file.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the --skip-bad file if it exists.")] = False,
    pii: Annotated[str, typer.Option(
        help="Personal data: warn (record it), redact (placeholders like [EMAIL]), refuse (stop), or off.")]
    = "warn",
    as_json: JsonOpt = False,
) -> None:
    """Import a file as a new dataset (all or nothing, unless --skip-bad)."""
    with open_catalog(write=True) as cat, RichProgress() as progress:
        result = cat.import_file(path, dataset, origin=origin, kind=kind, format=format, text_fields=text_fields,
                                 prompt_field=prompt_field, response_field=response_field,
                                 messages_field=messages_field, id_field=id_field, quality_field=quality_field,
                                 description=description, tags=tags or (), embed=not no_embed, embedder=embedder,
                                 skip_bad=skip_bad, force=force, pii=pii, progress=progress)
    if as_json:
        print_json(result)
        return
    if result.kind == "table":
        console.print(f"imported {result.rows} rows into the typed table '{result.dataset}' ({result.origin}) "
                  f"in {result.seconds:.1f}s")
    else:
        console.print(f"imported {result.rows} {result.kind} records into '{result.dataset}' ({result.origin}) "
                  f"in {result.seconds:.1f}s; embedded {result.embedded} new texts")
    if result.rejected:
        err.print(f"skipped {result.rejected} bad rows (details in {result.rejects_file}):", style="yellow")
        for line in result.first_errors:
            err.print(f"  {line}")
    if result.pii is not None and result.pii.rows_with_pii:
        verb = "redacted" if result.pii.mode == "redact" else "kept"
        advice = "" if result.pii.mode == "redact" else "; --pii redact replaces it, --pii refuse stops the import"
        err.print(f"personal data: {result.pii.describe()} in {result.pii.rows_with_pii} of "
                  f"{result.pii.rows_scanned} rows, {verb}{advice}", style="yellow")


@app.command("export")
@handles_errors
def export_cmd(
    name: Annotated[str, typer.Argument(help="Dataset to export.")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Output file: .jsonl, .csv or .parquet (a directory for --format hf).")],
    format: Annotated[str | None, typer.Option(
        "--format", help="jsonl, csv, parquet, chat (chat-message JSONL for fine-tuning), or hf (a Hugging Face "
                         "dataset directory: Parquet shards and a README.md card).")] = None,
    include_removed: Annotated[bool, typer.Option(help="Also export records removed by dedup.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the file (and its sidecar), or an earlier hf export, if it exists.")] = False,
    redact_pii: Annotated[bool, typer.Option(
        "--redact-pii", help="Replace personal data with placeholders like [EMAIL] in the exported file.")] = False,
    license: Annotated[str | None, typer.Option(help="hf: the license for the card, e.g. cc-by-4.0.")] = None,
    language: Annotated[list[str] | None, typer.Option(
        "--language", help="hf: a language of the rows for the card, e.g. en (repeatable).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export a dataset, with a FILE.meta.json sidecar (metadata, origin, lineage, hashes), or as a
    Hugging Face dataset directory with --format hf."""
    with open_catalog(write=False) as cat:
        result = cat.export(name, out, format=format, include_removed=include_removed, force=force,
                            redact_pii=redact_pii, license=license, language=language or ())
    if as_json:
        print_json(result)
    elif result.format == "hf":
        console.print(f"wrote {result.rows} rows of '{name}' ({result.origin}) to {result.out}/ as a Hugging Face "
                      f"dataset: {len(result.shards)} Parquet file(s) under data/ and the card README.md")
    else:
        console.print(f"wrote {result.rows} rows of '{name}' ({result.origin}) to {result.out} "
                  f"[{result.format}]; metadata in {result.sidecar}")


# ------------------------------------------------------------------------------ read commands


@app.command("datasets")
@handles_errors
def datasets_cmd(as_json: JsonOpt = False) -> None:
    """List the datasets in the catalog."""
    with open_catalog(write=False) as cat:
        found = cat.datasets()
    rows = [{"name": d.name, "kind": d.kind, "origin": d.origin, "rows": d.row_count, "removed": d.removed,
             "generator": d.generator, "parents": d.parents, "created": str(d.created_at)[:16]} for d in found]
    show_rows(rows, ["name", "kind", "origin", "rows", "removed", "generator", "parents", "created"],
              as_json=as_json, empty="the catalog holds no datasets yet", data=found)


@app.command("show")
@handles_errors
def show_cmd(name: Annotated[str, typer.Argument(help="Dataset name.")],
             sample: Annotated[int, typer.Option(help="Sample rows to show.")] = 3,
             as_json: JsonOpt = False) -> None:
    """Show a dataset: metadata, counts, sample rows, lineage, generation jobs and evaluations."""
    with open_catalog(write=False) as cat:
        info = cat.show(name, sample=sample)
    if as_json:
        print_json(info)
        return
    ds = info.dataset
    header = {"name": ds.name, "kind": ds.kind, "origin": ds.origin, "row_count": ds.row_count,
              "created_at": ds.created_at, "description": ds.description, "tags": ds.tags, "generator": ds.generator,
              "model": ds.model, "seed": ds.seed, "parents": ds.parents, "children": info.children,
              "embedder": ds.embedder, "source": ds.source}
    table = Table(show_header=False, title=f"dataset {name}")
    for key, value in header.items():
        if value not in (None, [], ""):
            table.add_row(key, _cell(value))
    if ds.parameters:
        table.add_row("parameters", json.dumps(ds.parameters, default=str)[:400])
    if info.status_counts:
        table.add_row("records", ", ".join(f"{k}: {v}" for k, v in info.status_counts.items()))
    for link in info.lineage:
        table.add_row("lineage", f"{link.links} {link.relation} links to '{link.source_dataset}'")
    for scan in info.pii_scans:
        table.add_row("personal data", f"{scan.describe()} in {scan.rows_with_pii} of {scan.rows_scanned} rows "
                                       f"({'redacted' if scan.mode == 'redact' else 'kept, ' + scan.mode + 'ed'})")
    console.print(table)
    if info.generation_jobs:
        render_table([j.to_dict() for j in info.generation_jobs],
                     ["job_id", "status", "target", "attempts", "rejections", "tokens", "stop_reason"],
                     title="generation")
    if info.evaluations:
        rows = [{"evaluation_id": e.evaluation_id, "synthetic": e.synthetic, "real": e.real, **e.headline,
                 "report": e.report} for e in info.evaluations]
        columns = list(dict.fromkeys(c for row in rows for c in row))
        render_table(rows, columns, title="evaluations")
    if info.columns:
        render_table([c.to_dict() for c in info.columns], ["name", "type"], title="columns")
    if info.sample:
        console.print("sample", style="bold")
        for row in info.sample:
            console.print(json.dumps(row, ensure_ascii=False, default=str)[:400])


@app.command("delete")
@handles_errors
def delete_cmd(name: Annotated[str, typer.Argument(help="Dataset to delete.")],
               yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
               force: Annotated[bool, typer.Option(
                   "--force", help="Also when other datasets were derived from it (they lose those lineage links).")]
               = False,
               as_json: JsonOpt = False) -> None:
    """Delete a dataset, its records, lineage, vectors and everything that refers to them."""
    with open_catalog(write=True) as cat:
        ds = cat.dataset(name)
        if not yes:
            if not sys.stdin.isatty():
                err.print("refusing to delete without confirmation: pass --yes", style="red")
                raise typer.Exit(1)
            typer.confirm(f"delete dataset '{name}' ({ds.row_count} rows, {ds.origin})?", abort=True)
        result = cat.delete(name, force=force)
    if as_json:
        print_json(result)
        return
    console.print(f"deleted '{name}' ({result.rows} rows)")
    for child in result.children:
        console.print(f"  '{child.dataset}' no longer names it as a parent and lost {child.lineage_links} "
                  "lineage links to its records")


@app.command("sql")
@handles_errors
def sql_cmd(query: Annotated[str, typer.Argument(help="A read-only SQL query; datasets are views by name.")],
            limit: Annotated[int, typer.Option(help="At most this many rows (at least 1).")] = 1000,
            as_json: JsonOpt = False) -> None:
    """Run a read-only SQL query (it can read the catalog and nothing else; each dataset is a view)."""
    with open_catalog(write=False) as cat:
        result = cat.sql(query, limit=limit)
    if as_json:
        print_json(result.as_dicts())
        return
    render_table(result.as_dicts(), result.columns)
    if result.truncated:
        err.print(f"showing the first {limit} rows (raise --limit for more)", style="yellow")


RayOpt = Annotated[str | None, typer.Option(
    "--ray", metavar="ADDRESS|local",
    help="Compute on Ray: local (start one here), auto, HOST:PORT or ray://HOST:PORT. Needs synthcat[ray].")]


@contextlib.contextmanager
def ray_compute(address: str | None):
    """The Ray backend for --ray (connected before the catalog is opened), or None without it."""
    if address is None:
        yield None
        return
    from catalog.ray_compute import RayCompute

    with RayCompute.connect(address) as compute:
        yield compute


@app.command("embed")
@handles_errors
def embed_cmd(name: Annotated[str, typer.Argument(help="Dataset imported with --no-embed.")],
              embedder: Annotated[str | None, typer.Option(help="Model name or path.")] = None,
              ray: RayOpt = None,
              as_json: JsonOpt = False) -> None:
    """Embed a dataset's texts (for datasets imported with --no-embed)."""
    with ray_compute(ray) as compute, open_catalog(write=True) as cat, RichProgress() as progress:
        result = cat.embed(name, embedder=embedder, progress=progress, compute=compute)
    if as_json:
        print_json(result)
    else:
        console.print(f"embedded {result.embedded} new texts of '{name}' with {result.embedder}")


# ------------------------------------------------------------------------------------- index

_INDEX_COLUMNS = ["embedder_id", "records_in_duckdb", "records_in_index", "index_type", "nprobe", "dimension",
                  "in_sync", "problems"]


@index_app.command("status")
@handles_errors
def index_status_cmd(as_json: JsonOpt = False) -> None:
    """Does each FAISS index agree with DuckDB?"""
    with open_catalog(write=False) as cat:
        found = cat.index_status()
    show_rows([s.to_dict() for s in found], _INDEX_COLUMNS, as_json=as_json, empty="no embeddings yet")


@index_app.command("rebuild")
@handles_errors
def index_rebuild_cmd(as_json: JsonOpt = False) -> None:
    """Rebuild every FAISS index from the vectors stored in DuckDB."""
    with open_catalog(write=True) as cat:
        rebuilt = cat.rebuild_indexes()
    if as_json:
        print_json(rebuilt)
    else:
        for status in rebuilt:
            console.print(f"rebuilt {status.embedder_id}: {status.records_in_index} vectors ({status.index_type})")


# ------------------------------------------------------------------------------------ search


def _searcher(cat, settings: dict):
    """A searcher; a keyword index that must be rebuilt first makes the catalog reopen for writing, once."""
    from catalog.search.keyword import KeywordIndexStale

    try:
        return cat, cat.searcher(**settings)
    except KeywordIndexStale:
        cat.close()
        cat = open_catalog(write=True)
        return cat, cat.searcher(**settings)


@app.command("search")
@handles_errors
def search_cmd(
    query: Annotated[str | None, typer.Argument(help="What to look for.")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, keyword (BM25) or vector.")] = "hybrid",
    k: Annotated[int, typer.Option("--k", help="How many results.")] = 10,
    datasets: Annotated[list[str] | None, typer.Option("--dataset", "-d", help="Only these datasets (repeatable).")]
    = None,
    origin: Annotated[str | None, typer.Option(help="Only real or only synthetic records.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only text, pairs or conversations.")] = None,
    tags: Annotated[list[str] | None, typer.Option("--tag", help="Only datasets with this tag (repeatable).")] = None,
    field_equals: Annotated[list[str] | None, typer.Option(
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
    out: Annotated[Path | None, typer.Option("--out", help="Batch mode: write results here.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the --out file if it exists.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Search the catalog by keyword (BM25), meaning (vectors) or both (hybrid)."""
    from catalog.errors import BadInput
    from catalog.outputs import atomic_output, check_output
    from catalog.search.batch import read_queries, result_lines

    if (query is None) == (queries is None):
        raise BadInput("give either a `query` or `queries`")
    if out is not None:
        if queries is None:
            raise BadInput("`out` writes batch results: use it with `queries`")
        out = check_output(out, catalog_dir=catalog_dir(), force=force, protect=[queries])
    batch = read_queries(queries) if queries is not None else [("", query or "")]
    settings = dict(mode=mode, datasets=datasets or (), origin=origin, kind=kind, tags=tags or (),
                    field_equals=key_values(field_equals, "field_equals"), min_quality=min_quality,
                    created_after=created_after, created_before=created_before, include_removed=include_removed,
                    depth=depth, fusion=fusion, alpha=alpha)
    cat = open_catalog(write=False)
    try:
        cat, searcher = _searcher(cat, settings)
        results = searcher.run([text for _, text in batch], k, explain)
    finally:
        cat.close()
    if queries is not None:
        lines = result_lines(batch, results, explain=explain)
        if out is not None:
            with atomic_output(out) as fh:
                fh.write("\n".join(lines) + "\n")
            console.print(f"wrote results of {len(lines)} queries to {out}")
        else:
            sys.stdout.write("\n".join(lines) + "\n")
        return
    hits = results[0]
    if as_json:
        print_json([h.to_dict() for h in hits])
        return
    if not hits:
        console.print("no matching records")
        return
    for rank, hit in enumerate(hits, start=1):
        console.print(f"{rank:>2}. {hit.dataset}/{hit.id}  score {hit.score:.4g}", style="bold")
        line = Text(f"    {hit.snippet.replace(chr(10), ' ')}")
        line.highlight_regex(r"«[^»]*»", style="bold yellow")
        console.print(line)
        if explain:
            parts = [f"{name} #{info['rank']} ({info['score']:.4g})" if info else f"{name} -"
                     for name, info in (("keyword", hit.explain.get("keyword")), ("vector", hit.explain.get("vector")))]
            console.print("    " + ", ".join(parts), style="dim")


# ------------------------------------------------------------------------------------- dedup


@app.command("dedup")
@handles_errors
def dedup_cmd(
    datasets: Annotated[list[str], typer.Argument(help="Dataset(s) to dedup (within and across them).")],
    against: Annotated[list[str] | None, typer.Option(
        "--against", help="Reference dataset: never loses records (repeatable).")] = None,
    no_exact: Annotated[bool, typer.Option("--no-exact", help="Skip the exact stage.")] = False,
    no_minhash: Annotated[bool, typer.Option("--no-minhash", help="Skip the MinHash stage.")] = False,
    no_semantic: Annotated[bool, typer.Option("--no-semantic", help="Skip the semantic stage.")] = False,
    punctuation_blind: Annotated[bool, typer.Option(help="Exact stage ignores punctuation.")] = False,
    minhash_threshold: Annotated[float | None, typer.Option(help="Jaccard threshold (default 0.5).")] = None,
    semantic_threshold: Annotated[float | None, typer.Option(help="Cosine threshold (default 0.92).")] = None,
    keep: Annotated[str, typer.Option(help="Per cluster keep: first, longest, quality or real.")] = "first",
    on: Annotated[str | None, typer.Option(
        help="Compare on: pairs both (default), prompt, response or text; conversations user_turns (default), "
             "first_user or text.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would go; change nothing.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Export the survivors to this file.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the --out file if it exists.")] = False,
    into: Annotated[str | None, typer.Option(help="Write the survivors as a new dataset.")] = None,
    ray: RayOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove duplicates before training: exact, MinHash near-duplicate and semantic, auditable and reversible.

    Runs are listed, shown and undone with `synthcat dedup-runs`.
    """
    from catalog.dedup import defaults

    with ray_compute(ray) as compute, open_catalog(write=not dry_run) as cat:
        report = cat.dedup(
            datasets, against=against or [], exact=not no_exact, minhash=not no_minhash, semantic=not no_semantic,
            punctuation_blind=punctuation_blind,
            minhash_threshold=minhash_threshold if minhash_threshold is not None else defaults.MINHASH_THRESHOLD,
            semantic_threshold=semantic_threshold if semantic_threshold is not None else defaults.SEMANTIC_THRESHOLD,
            keep=keep, dry_run=dry_run, out=out, into=into, force=force, on=on, compute=compute)
    if as_json:
        print_json(report)
        return
    verb = "would remove" if dry_run else "removed"
    stages = ", ".join(f"{k}: {v}" for k, v in report.counts.items())
    console.print(f"checked {report.checked} records"
              + (f" against {report.references} reference records" if report.references else "")
              + f"; {verb} {report.removed} ({stages})"
              + (f" — run {report.run_id} (undo: synthcat dedup-runs undo {report.run_id})" if report.run_id else ""))
    for example in report.examples:
        console.print(Text.assemble((f"cluster {example.cluster}", "bold"),
                                f" keep #{example.keep.record_id}: {example.keep.text[:100]!r}"))
        for gone in example.remove:
            console.print(f"   remove #{gone.record_id} ({gone.stage} {gone.score}): {gone.text[:100]!r}")
    if report.into is not None:
        console.print(f"wrote {report.into.rows} survivors to dataset '{report.into.dataset}'")
    if report.out is not None:
        console.print(f"exported {report.out.rows} survivors to {report.out.out}")


@app.command("decontaminate")
@handles_errors
def decontaminate_cmd(
    dataset: Annotated[str, typer.Argument(help="Dataset to check for evaluation text.")],
    against: Annotated[list[str], typer.Option(
        "--against", help="Evaluation set: a dataset name or a JSONL/CSV/Parquet file (repeatable).")],
    ngram: Annotated[int | None, typer.Option(help="Words per n-gram (default 13).")] = None,
    min_ngram: Annotated[int | None, typer.Option(
        help="Shorter evaluation texts (down to this many words) match whole (default 8).")] = None,
    mode: Annotated[str, typer.Option(help="drop (mark removed), cut (store cleaned copies) or flag.")] = "drop",
    text_fields: Annotated[list[str] | None, typer.Option(
        "--text-field", help="Field(s) of an evaluation file to read (repeatable; default: detect).")] = None,
    id_field: Annotated[str | None, typer.Option(help="Id field of an evaluation file.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what matches; change nothing.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Export the surviving records to this file.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the --out file if it exists.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Find benchmark text inside a dataset (13-gram overlap) and drop, cut or flag those records (reversible)."""
    with open_catalog(write=not dry_run) as cat:
        report = cat.decontaminate(dataset, against, mode=mode, ngram=ngram, min_ngram=min_ngram,
                                   text_fields=text_fields, id_field=id_field, dry_run=dry_run, out=out, force=force)
    if as_json:
        print_json(report)
        return
    done = {"drop": "dropped", "cut": "cut", "flag": "flagged"}[mode]
    console.print(f"checked {report.checked} records of '{dataset}': {report.contaminated} contain evaluation text"
                  + ("" if dry_run else f" ({done}: " + ", ".join(f"{k} {v}" for k, v in report.counts.items() if v)
                     + ")" if report.contaminated else "")
                  + (f" — run {report.run_id} (undo: synthcat dedup-runs undo {report.run_id})"
                     if report.run_id and mode != "flag" else ""))
    render_table([{"eval set": s["name"], "records": s["records"], "indexed": s["indexed_records"],
                   "too short": s["skipped_short"], "records hit": s["records_hit"], "n-grams hit": s["ngrams_hit"]}
                  for s in report.eval_sets],
                 ["eval set", "records", "indexed", "too short", "records hit", "n-grams hit"])
    for example in report.examples:
        console.print(f"  #{example.record_id} {example.field} [{example.action}]: {example.ngram!r} "
                      f"from {example.eval_set}/{example.eval_record}")
    if report.out is not None:
        console.print(f"exported {report.out.rows} surviving records to {report.out.out}")


@runs_app.command("list")
@handles_errors
def dedup_runs_list_cmd(as_json: JsonOpt = False) -> None:
    """List dedup runs: datasets, references, removals per stage, undo state."""
    with open_catalog(write=False) as cat:
        runs = cat.dedup_runs()
    show_rows([r.to_dict() for r in runs],
              ["run_id", "kind", "datasets", "against", "removed", "counts", "created_at", "undone_at"],
              as_json=as_json, empty="no dedup runs yet")


@runs_app.command("show")
@handles_errors
def dedup_runs_show_cmd(run_id: Annotated[int, typer.Argument(help="Run id (see `synthcat dedup-runs list`).")],
                        limit: Annotated[int, typer.Option(help="At most this many removals.")] = 50,
                        as_json: JsonOpt = False) -> None:
    """Show one dedup run: its settings and each removed record with the record it duplicates."""
    with open_catalog(write=False) as cat:
        run = cat.dedup_run(run_id, limit=limit)
    if as_json:
        print_json(run)
        return
    console.print(f"run {run.run_id}: {', '.join(run.datasets)}"
              + (f" against {', '.join(run.against)}" if run.against else "")
              + f"; removed {run.removed} ({', '.join(f'{k}: {v}' for k, v in run.counts.items())})"
              + (f"; undone at {run.undone_at}" if run.undone_at else ""))
    render_table([r.to_dict() for r in run.removals],
                 ["record_id", "external_id", "dataset", "stage", "cluster", "duplicate_of", "score", "text"])


@runs_app.command("undo")
@handles_errors
def dedup_runs_undo_cmd(run_id: Annotated[int, typer.Argument(help="Run id (see `synthcat dedup-runs list`).")],
                        as_json: JsonOpt = False) -> None:
    """Restore the records a dedup run removed."""
    with open_catalog(write=True) as cat:
        result = cat.undo_dedup(run_id)
    if as_json:
        print_json(result)
    else:
        console.print(f"dedup run {result.run_id} undone: {result.restored} records restored")


# ---------------------------------------------------------------------------------- generate


def _report_generation(report, as_json: bool) -> None:
    if as_json:
        print_json(report)
        return
    rejected = sum(report.rejections.values())
    console.print(f"job {report.job_id}: {report.accepted}/{report.target} accepted in '{report.dataset}' "
              f"({report.accepted_this_run} this run, {rejected} rejected, {report.attempts} attempts, "
              f"{report.seconds:.0f}s)", markup=False, highlight=False)
    if report.rejections:
        console.print("rejections: " + ", ".join(f"{k}={v}" for k, v in sorted(report.rejections.items())),
                      markup=False, highlight=False)
    line = _usage_line(report.summary)
    if line:
        console.print(line, markup=False, highlight=False)
    quality = _quality_line(report.quality)
    if quality:
        console.print(quality, markup=False, highlight=False)


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
    cosine_threshold: Annotated[float | None, typer.Option(
        "--novelty-threshold",
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
    request_timeout: Annotated[float, typer.Option(
        "--timeout", help="Seconds one model request may take; 3 in a row past it stop the job (a local model "
                          "on a busy machine may need more).")] = 60.0,
    as_json: JsonOpt = False,
) -> None:
    """Generate text samples with a chat model, grounded on catalog records (RAG) and checked for novelty.

    Running the same command again after an interruption resumes the job.
    """
    from generators import GenerationConfig, generate_text, load_chat_model
    from generators.text.prompting import load_template, load_topics

    config = GenerationConfig(
        dataset=dataset, n=n, kind=kind, task=task, template=load_template(template) if template else None,
        model=model, base_url=base_url, temperature=temperature, seed=seed, ground_on=ground_on or [], k=k,
        ground_filter=key_values(ground_filter, "ground_filter"), topics=load_topics(topics) if topics else [],
        max_attempts=max_attempts, concurrency=concurrency, max_tokens=max_tokens, strategy=strategy,
        judge=judge, judge_base_url=judge_base_url, max_tokens_total=max_tokens_total, price_in=price_in,
        price_out=price_out, request_timeout=request_timeout,
        **({"cosine_threshold": cosine_threshold} if cosine_threshold is not None else {}))
    config.validate()
    chat = load_chat_model(model, threads=threads, parallel=concurrency, timeout=request_timeout) \
        if model.startswith("local") else load_chat_model(model, base_url=base_url, timeout=request_timeout)
    judge_chat = load_chat_model(judge, threads=threads, timeout=request_timeout) \
        if judge and judge.startswith("local") else None
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
    request_timeout: Annotated[float | None, typer.Option(
        "--timeout", help="New time limit in seconds per model request (default: the job's).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Resume an interrupted or stopped generation job until its target is reached."""
    from generators import resume_generation

    with open_catalog(write=True) as cat, RichProgress() as progress:
        _run_generation(lambda: resume_generation(cat, job_id, progress=progress, max_tokens_total=max_tokens_total,
                                                  max_attempts=max_attempts, request_timeout=request_timeout), as_json)


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
    conditions: Annotated[list[str] | None, typer.Option(
        "--condition", help="Fix a column, e.g. income=>50K (repeatable).")] = None,
    balance: Annotated[str | None, typer.Option(
        help="Balance a categorical column: COLUMN or COLUMN:label=share,label=share.")] = None,
    constraints: Annotated[list[str] | None, typer.Option(
        "--constraint", help="e.g. 'start < end', '0 <= age <= 99', 'fixed:city,country' or a filter.")] = None,
    na_values: Annotated[list[str] | None, typer.Option(
        "--na-value", help="Extra string to read as missing in a source file, e.g. '?'.")] = None,
    save_model: Annotated[Path | None, typer.Option(help="Save the fitted model here (JSON + npz).")] = None,
    load_model: Annotated[Path | None, typer.Option(help="Sample from a saved model instead of fitting.")] = None,
    method_options: Annotated[list[str] | None, typer.Option(
        "--param", help="A method parameter KEY=VALUE (repeatable), e.g. condition_column=income for tvae.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a model saved earlier in --save-model.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Synthesize a table (rules spec, copula, GMM, TVAE or CTGAN) into the catalog."""
    from generators import synthesize_table
    from generators.tabular import parse_condition, parse_param, parse_shares

    options = dict(parse_param(p) for p in method_options or [])
    fixed = dict(parse_condition(c) for c in conditions or [])
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
            seed=seed, epochs=epochs, conditions=fixed, balance=balance, balance_shares=shares,
            constraints=constraints, na_values=na_values, method_options=options, progress=on_epoch, force=force)
    if as_json:
        print_json(result)
    else:
        console.print(f"wrote {result.rows} synthetic rows to '{result.dataset}' with {result.method}"
                  + (f" (fitted on '{result.parent}' in {result.fit_seconds:.1f}s)" if result.parent else ""))


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
    na_values: Annotated[list[str] | None, typer.Option(
        "--na-value", help="Extra string to read as missing in files, e.g. '?'.")] = None,
    skip: Annotated[list[str] | None, typer.Option(
        "--skip", help="Leave out a section: quality, diagnostics, utility, privacy, bias.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling and models.")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Replace the --report file if it exists.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Measure fidelity, utility, privacy and bias of synthetic data against real data."""
    with open_catalog(write=True) as cat:
        result = cat.evaluate(synthetic, real, holdout=holdout, target=target, sensitive=sensitive or (),
                              report=report, na_values=na_values, seed=seed, skip=skip or (), force=force)
    if as_json:
        print_json(result)
        return
    table = Table("metric", "value", title=f"{synthetic} vs {real}")
    for name, value in result.headline.items():
        table.add_row(name.replace("_", " "), _cell(value))
    scores = result.results.get("quality_scores") or {}
    if scores.get("scored"):
        table.add_row("quality p10 / median / p90", f"{scores['p10']:.3g} / {scores['p50']:.3g} / {scores['p90']:.3g}")
    judged = scores.get("judge") or {}
    if judged.get("n") or judged.get("failed"):
        table.add_row("judge scores 1-5 (failed)", f"{judged['counts']} ({judged['failed']})")
    console.print(table)
    if result.report:
        console.print(f"report: {result.report}")
    if result.evaluation_id:
        console.print(f"stored as evaluation {result.evaluation_id} (see: synthcat show {synthetic})")


# ------------------------------------------------------------------------------------- serve


@app.command("serve")
@handles_errors
def serve_cmd(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    host: Annotated[str, typer.Option(
        help="Address to listen on. Anything but 127.0.0.1/localhost lets other machines read the catalog.")]
    = "127.0.0.1",
    allow_writes: Annotated[bool, typer.Option(
        "--allow-writes", help="Allow undoing dedup runs from the browser (each POST needs the token).")] = False,
    idle_seconds: Annotated[float, typer.Option(
        help="Let go of the catalog after this many idle seconds, so other commands can write to it (0: hold it).")]
    = 10.0,
) -> None:
    """Browse the catalog in a local web app: datasets, records, lineage, search, dedup runs, evaluations.

    Read-only unless --allow-writes; the write token is $SYNTHCAT_SERVE_TOKEN or a new random one, printed here.
    """
    from catalog.location import resolve_catalog_dir
    from catalog.web.serve import serve

    def announce(plan) -> None:
        console.print(f"serving {resolve_catalog_dir(state.catalog)} at {plan.url} "
                      f"({'writes allowed' if plan.allow_writes else 'read-only'}); Ctrl-C stops")
        if not plan.loopback:
            err.print(f"warning: listening on {host}: anyone who can reach this address can read the catalog",
                      style="yellow")
        if plan.allow_writes:
            source = "from $SYNTHCAT_SERVE_TOKEN" if plan.token_from_env else plan.token
            console.print(f"write token (paste it into an undo form): {source}")

    serve(state.catalog, host=host, port=port, allow_writes=allow_writes, idle_seconds=idle_seconds,
          announce=announce)


# -------------------------------------------------------------------------------------- demo


@app.command("demo")
@handles_errors
def demo_cmd(fresh: Annotated[bool, typer.Option(help="Delete an existing demo catalog first.")] = True) -> None:
    """Build a demo catalog from the bundled demo data and tour what synthcat does with it."""
    from synthcat_demo import run_demo

    run_demo(state.catalog, fresh=fresh, console=console)


if __name__ == "__main__":  # pragma: no cover
    app()
