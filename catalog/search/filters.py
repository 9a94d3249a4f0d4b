"""Search filters, turned into one parameterised SQL condition on `records` (aliased r) and `datasets` (d).

Every retriever applies the same condition inside its own query, so a filter never shrinks a
top-k list after the fact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from catalog.errors import BadInput
from catalog.json_values import json_pointer


@dataclass
class SearchFilters:
    datasets: list[str] = field(default_factory=list)
    origin: str | None = None
    kind: str | None = None
    tags: list[str] = field(default_factory=list)
    created_after: datetime | str | None = None
    created_before: datetime | str | None = None
    min_quality: float | None = None
    field_equals: dict[str, str] = field(default_factory=dict)
    include_removed: bool = False

    def sql(self, cat) -> tuple[str, list]:
        """(condition, params) over `records r JOIN datasets d`; checks names against the catalog."""
        parts = ["d.kind <> 'table'"]
        params: list = []
        if not self.include_removed:
            parts.append("r.status = 'active'")
        if self.datasets:
            for name in self.datasets:
                cat.dataset(name)  # UnknownDataset with the known names
            parts.append("d.name IN (SELECT unnest(?))")
            params.append(list(self.datasets))
        if self.origin:
            if self.origin not in ("real", "synthetic"):
                raise BadInput(f"unknown origin '{self.origin}': choose real or synthetic", param="origin")
            parts.append("d.origin = ?")
            params.append(self.origin)
        if self.kind:
            if self.kind not in ("text", "pairs", "conversations"):
                raise BadInput(f"unknown kind '{self.kind}': choose text, pairs or conversations", param="kind")
            parts.append("d.kind = ?")
            params.append(self.kind)
        for tag in self.tags:
            parts.append("list_contains(d.tags, ?)")
            params.append(tag)
        bounds = ((self.created_after, ">=", "created_after"), (self.created_before, "<", "created_before"))
        for bound, op, name in bounds:
            if bound is not None:
                parts.append(f"r.created_at {op} ?")
                params.append(_timestamp(bound, name))
        if self.min_quality is not None:
            parts.append("r.quality_score >= ?")
            params.append(float(self.min_quality))
        for name, value in self.field_equals.items():
            if not name:
                raise BadInput("a field filter needs a field name", param="field_equals")
            parts.append("json_extract_string(r.fields, ?) = ?")
            params += [json_pointer(name), str(value)]
        return " AND ".join(parts), params


def _timestamp(value: datetime | str, param: str) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise BadInput(f"not a date or time: {value!r} (use ISO format, e.g. 2026-11-22 or 2026-11-22T10:00)",
                       param=param) from None
