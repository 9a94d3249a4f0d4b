"""Batch search files: queries in (JSONL of ``{"_id" or "id", "text"}``), hits out (one JSON line per query)."""

from __future__ import annotations

import json
import os

from catalog.errors import BadInput
from catalog.text_files import read_text_file


def read_queries(path: str | os.PathLike) -> list[tuple[str, str]]:
    """(query id, text) pairs from a queries file; a bad line is an error naming it."""
    queries = []
    for line_no, line in enumerate(read_text_file(path, "queries file").splitlines(), start=1):
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


def result_lines(queries: list[tuple[str, str]], results: list, *, explain: bool) -> list[str]:
    """One JSON line per query: its id and its hits."""
    return [json.dumps({"query_id": qid, "hits": [
        {"id": h.id, "record_id": h.record_id, "dataset": h.dataset, "score": h.score, "text": h.text,
         **({"explain": h.explain} if explain else {})} for h in hits]}, ensure_ascii=False)
        for (qid, _), hits in zip(queries, results)]
