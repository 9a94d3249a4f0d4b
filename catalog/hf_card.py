"""The ``README.md`` dataset card of a Hugging Face export: YAML front matter and a body written from
the catalog.

The front matter carries what the Hub and ``datasets`` read (license, language, size category, task
category, tags, the ``configs`` that map ``data/train-*`` to the train split) and a ``synthcat``
block with what ``synthcat import DIR`` needs to rebuild the dataset exactly: kind, origin, field
mapping, provenance and how columns are encoded. The body is for people: where the data came from,
how it was made, lineage, dedup runs, evaluation figures, token use, and the file schema.

Each body section is one function of a :class:`CardContext` returning Markdown or ``None`` (nothing
to say), listed in :data:`CARD_SECTIONS`. A new kind of catalog fact gets its section by adding one
function there (as :func:`decontamination_section` did when decontamination runs arrived).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from catalog.errors import BadInput
from catalog.results import DatasetInfo, DedupRun

CARD_FORMAT = 1  # version of the `synthcat` block; a reader refuses a newer one
CARD_FILE = "README.md"
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"))
TASK_CATEGORIES = {"pairs": ["text-generation"], "conversations": ["text-generation"]}
LICENSE_TAG, LANGUAGE_TAG = "license:", "language:"  # dataset tags that carry card metadata


@dataclass
class ColumnSpec:
    """A column of the exported Parquet files: its Arrow type and how a reader turns it back into the
    record's field. ``role`` is ``record_id``, ``external_id`` or ``field``; ``encoding`` is ``typed``
    (the value as is), ``optional`` (typed; null means the record did not have the field) or
    ``json`` (JSON text of the value; null means the record did not have the field)."""

    name: str
    type: str
    role: str = "field"
    encoding: str = "typed"


@dataclass
class CardContext:
    """What the card sections read: the dataset as ``show`` sees it, the dedup runs that touched it,
    the exported files and columns, and the metadata given for the export."""

    info: DatasetInfo
    dedup_runs: list[DedupRun]
    rows: int
    shards: list[str]
    columns: list[ColumnSpec]
    license: str | None = None
    languages: list[str] = field(default_factory=list)
    pii_redaction: dict | None = None  # the export's redaction summary, when it redacted

    @property
    def name(self) -> str:
        return self.info.dataset.name


def size_category(rows: int) -> str:
    for bound, label in SIZE_CATEGORIES:
        if rows < bound:
            return label
    return "n>1B"


def _tag_values(tags: Sequence[str], prefix: str) -> list[str]:
    return [t[len(prefix):] for t in tags if t.startswith(prefix) and len(t) > len(prefix)]


def _plain_tags(tags: Sequence[str]) -> list[str]:
    return [t for t in tags if not t.startswith((LICENSE_TAG, LANGUAGE_TAG))]


def front_matter(ctx: CardContext) -> dict:
    """The card's YAML metadata (Hub fields first, then the ``synthcat`` block)."""
    ds = ctx.info.dataset
    license_ = ctx.license or next(iter(_tag_values(ds.tags, LICENSE_TAG)), None)
    languages = list(dict.fromkeys([*ctx.languages, *_tag_values(ds.tags, LANGUAGE_TAG)]))
    meta: dict[str, Any] = {}
    if license_:
        meta["license"] = license_
    if languages:
        meta["language"] = languages
    meta["pretty_name"] = ds.name
    meta["size_categories"] = [size_category(ctx.rows)]
    if ds.kind in TASK_CATEGORIES:
        meta["task_categories"] = TASK_CATEGORIES[ds.kind]
    meta["tags"] = list(dict.fromkeys([*_plain_tags(ds.tags), "synthcat", ds.origin]))
    meta["configs"] = [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}]
    parameters = {k: v for k, v in ds.parameters.items() if k != "mapping"}
    meta["synthcat"] = {
        "format": CARD_FORMAT, "dataset": ds.name, "kind": ds.kind, "origin": ds.origin, "rows": ctx.rows,
        "description": ds.description, "tags": list(ds.tags), "mapping": ds.parameters.get("mapping"),
        "generator": ds.generator, "model": ds.model, "seed": ds.seed, "parameters": parameters,
        "parents": list(ds.parents), "created_at": str(ds.created_at),
        "columns": [{"name": c.name, "type": c.type, "role": c.role, "encoding": c.encoding} for c in ctx.columns],
    }
    return meta


# --------------------------------------------------------------------------------- sections


def _code(value: Any) -> str:
    return "```json\n" + json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n```"


def _cell(value: Any) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else ("" if value is None else str(value))
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_section(ctx: CardContext) -> str:
    ds = ctx.info.dataset
    origin = "**synthetic** (generated, not collected)" if ds.origin == "synthetic" else "**real** (collected)"
    parts = [f"# {ds.name}"]
    if ds.description:
        parts.append(ds.description)
    parts.append(_table(["", ""], [["origin", origin], ["kind", ds.kind], ["rows", ctx.rows],
                                   ["created", str(ds.created_at)[:19]]]))
    parts.append("Exported from a synthcat catalog.")
    return "\n\n".join(parts)


def provenance_section(ctx: CardContext) -> str | None:
    ds = ctx.info.dataset
    rows = [[k, v] for k, v in (("generator", ds.generator), ("model", ds.model), ("seed", ds.seed),
                                ("embedder", ds.embedder), ("source", ds.source))
            if v not in (None, "") and not str(v).startswith("<")]  # "<records>": rows given in memory
    parameters = {k: v for k, v in ds.parameters.items() if k != "mapping"}
    if not rows and not parameters and not ctx.info.generation_jobs:
        return None
    parts = ["## How it was made"]
    if rows:
        parts.append(_table(["", ""], rows))
    if parameters:
        parts.append("Parameters:\n\n" + _code(parameters))
    if ctx.info.generation_jobs:
        parts.append("Generation jobs:\n\n" + _table(
            ["job", "status", "target", "attempts", "rejections"],
            [[j.job_id, j.status, j.target, j.attempts, ", ".join(f"{k}: {v}" for k, v in sorted(j.rejections.items()))]
             for j in ctx.info.generation_jobs]))
    return "\n\n".join(parts)


def lineage_section(ctx: CardContext) -> str | None:
    ds = ctx.info.dataset
    grounding = [link for link in ctx.info.lineage if link.relation == "grounded_on"]
    other = [link for link in ctx.info.lineage if link.relation != "grounded_on"]
    if not ds.parents and not ctx.info.lineage:
        return None
    parts = ["## Lineage"]
    if ds.parents:
        parts.append("Parent datasets: " + ", ".join(f"`{p}`" for p in ds.parents) + ".")
    if grounding:
        parts.append("Grounding datasets (records retrieved to ground each generated record):\n\n" + _table(
            ["dataset", "grounding links"], [[f"`{g.source_dataset}`", g.links] for g in grounding]))
    if other:
        parts.append("Other record-level lineage:\n\n" + _table(
            ["relation", "source dataset", "links"], [[o.relation, f"`{o.source_dataset}`", o.links] for o in other]))
    return "\n\n".join(parts)


def _kind(run: DedupRun) -> str:
    return getattr(run, "kind", "dedup")


def dedup_section(ctx: CardContext) -> str | None:
    runs = [r for r in ctx.dedup_runs if _kind(r) == "dedup"]
    if not runs:
        return None
    ds = ctx.info.dataset
    made_by = ds.parameters.get("dedup_run")
    rows = []
    for run in runs:
        if run.run_id == made_by:
            role = "this dataset holds its survivors"
        elif ds.name in run.datasets:
            role = "checked this dataset"
        else:
            role = "used this dataset as reference"
        stages = ", ".join(f"{k}: {v}" for k, v in run.counts.items()) or "none"
        settings = ", ".join(f"{k} {run.parameters[k]}" for k in ("minhash_threshold", "semantic_threshold", "keep")
                             if k in run.parameters)
        rows.append([run.run_id, role, ", ".join(run.datasets), ", ".join(run.against) or "-", run.removed, stages,
                     settings, "undone" if run.undone_at else "applied"])
    return "## Deduplication\n\n" + _table(
        ["run", "role", "datasets", "against", "removed", "removed per stage", "settings", "state"], rows)


def decontamination_section(ctx: CardContext) -> str | None:
    """Decontamination runs over this dataset: which evaluation sets it was checked against, how,
    and what was dropped, cut or flagged."""
    runs = [r for r in ctx.dedup_runs if _kind(r) == "decontaminate"]
    if not runs:
        return None
    rows = []
    for run in runs:
        settings = ", ".join(f"{k} {run.parameters[k]}" for k in ("mode", "ngram", "min_ngram") if k in run.parameters)
        rows.append([run.run_id, ", ".join(run.against) or "-", run.removed,
                     ", ".join(f"{k}: {v}" for k, v in run.counts.items()) or "none", settings,
                     "undone" if run.undone_at else "applied"])
    return ("## Decontamination\n\nRecords holding text of these evaluation sets were checked for:\n\n"
            + _table(["run", "evaluation sets", "records affected", "actions", "settings", "state"], rows))


def pii_section(ctx: CardContext) -> str | None:
    summary = ctx.pii_redaction
    if not summary:
        return None
    counts = {k: v for k, v in (summary.get("counts") or {}).items() if v}
    found = ", ".join(f"{k}: {v}" for k, v in counts.items()) or "none found"
    return (f"## Personal data\n\nPersonal data was replaced with typed placeholders such as `[EMAIL]` on export: "
            f"{summary.get('rows_with_pii', 0)} of {summary.get('rows_scanned', 0)} rows had some ({found}). "
            "The catalog keeps the original values.")


def evaluation_section(ctx: CardContext) -> str | None:
    if not ctx.info.evaluations:
        return None
    parts = ["## Evaluation"]
    for ev in ctx.info.evaluations:
        figures = [[k.replace("_", " "), v] for k, v in ev.headline.items() if v is not None]
        parts.append(f"Evaluation {ev.evaluation_id}: `{ev.synthetic}` (synthetic) against `{ev.real}` (real), "
                     f"{ev.created_at[:19]}.\n\n" + (_table(["figure", "value"], figures) if figures else
                                                     "No headline figures."))
    return "\n\n".join(parts)


_TOKEN_KEYS = ("calls", "prompt_tokens", "completion_tokens", "total_tokens")
_COST_KEYS = ("cost", "cost_usd")


def usage_section(ctx: CardContext) -> str | None:
    """Token (and, when a backend recorded it, cost) totals over the dataset's generation jobs."""
    totals: dict[str, float] = {}
    for job in ctx.info.generation_jobs:
        for key in (*_TOKEN_KEYS, *_COST_KEYS):
            value = job.usage.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    if not totals:
        return None
    return "## Tokens and cost\n\nTotals over the generation jobs that wrote this dataset:\n\n" + _table(
        ["", "total"], [[k.replace("_", " "), v] for k, v in totals.items()])


def schema_section(ctx: CardContext) -> str:
    ds = ctx.info.dataset
    encodings = {"typed": "the value", "optional": "the value; null when the record had no such field",
                 "json": "JSON text of the value; null when the record had no such field"}
    roles = {"record_id": "the record's id in the exporting catalog",
             "external_id": "the record's id in the file it was imported from (null if it had none)"}
    rows = [[f"`{c.name}`", c.type, roles.get(c.role) or encodings[c.encoding]] for c in ctx.columns]
    parts = ["## Files and columns",
             f"{len(ctx.shards)} Parquet file(s) under `data/` ({', '.join(ctx.shards)}), one split, `train`."]
    if ds.kind != "table":
        mapping = ds.parameters.get("mapping") or {}
        roles_text = ", ".join(f"{k.replace('_', ' ')} `{v}`" for k, v in mapping.items() if k != "kind")
        parts.append(f"Each row is one {ds.kind} record with the fields it was imported with"
                     + (f" ({roles_text})" if roles_text else "") + ", plus the catalog's ids.")
    parts.append(_table(["column", "type", "holds"], rows))
    return "\n\n".join(parts)


def loading_section(ctx: CardContext) -> str:
    return ("## Loading\n\n```python\nfrom datasets import load_dataset\n\n"
            'rows = load_dataset("parquet", data_dir="PATH/TO/THIS/DIRECTORY", split="train")\n```\n\n'
            "Back into a synthcat catalog (kind, origin, fields and ids as exported):\n\n"
            f"```bash\nsynthcat import PATH/TO/THIS/DIRECTORY --dataset {ctx.name}\n```")


CARD_SECTIONS: list[Callable[[CardContext], str | None]] = [
    summary_section, provenance_section, lineage_section, dedup_section, decontamination_section,
    evaluation_section, usage_section, pii_section, schema_section, loading_section,
]


def render_card(ctx: CardContext) -> str:
    """The whole card: YAML front matter, then each section that has something to say."""
    meta = yaml.safe_dump(front_matter(ctx), sort_keys=False, allow_unicode=True, default_flow_style=False)
    body = "\n\n".join(text for section in CARD_SECTIONS if (text := section(ctx)))
    return f"---\n{meta}---\n\n{body}\n"


# ---------------------------------------------------------------------------------- reading


def read_card(directory: Path) -> dict:
    """The front matter of ``directory/README.md`` (empty when there is no card or no front matter);
    a ``synthcat`` block newer than this version understands is refused."""
    path = directory / CARD_FILE
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read the dataset card: {exc}", file=str(path)) from None
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        raise BadInput("the YAML front matter has no closing '---' line", file=str(path))
    try:
        meta = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError as exc:
        raise BadInput(f"the YAML front matter does not parse: {str(exc).splitlines()[0]}", file=str(path)) from None
    if not isinstance(meta, dict):
        raise BadInput("the YAML front matter is not a mapping", file=str(path))
    block = meta.get("synthcat")
    if block is not None:
        if not isinstance(block, dict):
            raise BadInput("the `synthcat` block of the card is not a mapping", file=str(path))
        if not isinstance(block.get("format"), int) or block["format"] > CARD_FORMAT:
            raise BadInput(f"the card's synthcat block has format {block.get('format')!r}; this synthcat reads "
                           f"format {CARD_FORMAT} (upgrade synthcat)", file=str(path))
    return meta
