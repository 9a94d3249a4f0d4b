"""Evaluation sets from files (JSONL, JSON, CSV/TSV, Parquet), for ``decontaminate --against FILE``.

A benchmark file is read with the importer's streaming readers. The text of a record is the
``text_fields`` joined by newlines (a question and its answer, say); without ``text_fields`` the
first of :data:`TEXT_FIELD_GUESSES` present in the first row is used. A value may be a string,
a number or a list of strings (multiple-choice options, joined by newlines); anything else, or a
missing field, is a :class:`BadInput` naming the file, line and field.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from catalog.dedup.eval_index import EvalSet
from catalog.errors import BadInput
from catalog.readers import detect_format, iter_rows

TEXT_FIELD_GUESSES = ("text", "content", "body", "question", "prompt", "instruction", "input", "query")


def _value_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    return None


def read_eval_file(path: str | Path, *, text_fields: Sequence[str] | None = None, id_field: str | None = None,
                   name: str | None = None, fmt: str | None = None) -> EvalSet:
    """Read one evaluation set from ``path`` (named ``name``, default the file name)."""
    path = Path(path)
    fmt = detect_format(path, fmt)
    texts: list[str] = []
    ids: list = []
    fields = list(text_fields or [])
    for chunk in iter_rows(path, fmt):
        for row in chunk:
            if row.data is None:
                raise BadInput(row.error or "not an object", file=str(path), line=row.line)
            if not fields:
                found = [f for f in TEXT_FIELD_GUESSES if f in row.data]
                if not found:
                    raise BadInput(f"no text field among {', '.join(sorted(row.data)[:12])}: pass --text-field "
                                   "NAME", file=str(path), line=row.line)
                fields = found[:1]
            parts = []
            for f in fields:
                if f not in row.data or row.data[f] is None:
                    raise BadInput("missing text field", file=str(path), line=row.line, field=f)
                text = _value_text(row.data[f])
                if text is None:
                    raise BadInput(f"expected text, got {type(row.data[f]).__name__}", file=str(path),
                                   line=row.line, field=f)
                parts.append(text)
            texts.append("\n".join(parts))
            if id_field is not None:
                value = row.data.get(id_field)
                if value is None or value == "":
                    raise BadInput("missing id", file=str(path), line=row.line, field=id_field)
                ids.append(str(value))
            else:
                ids.append(f"line {row.line}")
    if not texts:
        raise BadInput("no records: nothing to check against", file=str(path))
    if len(set(ids)) != len(ids):
        raise BadInput("ids are not unique", file=str(path), field=id_field)
    return EvalSet(name=name or path.name, texts=texts, ids=ids)
