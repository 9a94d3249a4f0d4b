"""What each page of the web app shows, read through the :class:`~catalog.Catalog` API.

Each function takes an open catalog and returns a dict of typed results; the app renders it as
HTML with a template, or as JSON under ``/api/...`` (each value's ``to_dict()``), so both always show
the same data.
"""

from __future__ import annotations

from typing import Any

from catalog.errors import BadInput, UnknownDataset

MAX_LINKS = 100  # lineage links listed on a record's page


def home(cat) -> dict[str, Any]:
    """Every dataset, with how many dedup runs and evaluations the catalog holds."""
    return {"datasets": cat.datasets(), "dedup_runs": cat.dedup_runs(), "evaluations": cat.evaluations()}


def _field_roles(mapping: dict) -> dict[str, str]:
    roles = {}
    for field_name in mapping.get("text_fields") or []:
        roles[field_name] = "text"
    for key, role in (("prompt_field", "prompt"), ("response_field", "response"), ("messages_field", "messages"),
                      ("id_field", "id"), ("quality_field", "quality")):
        if mapping.get(key):
            roles[mapping[key]] = role
    return roles


def dataset(cat, name: str, *, page: int = 1, size: int = 50, status: str | None = None) -> dict[str, Any]:
    """A dataset: ``show``'s view of it, one page of its records (or table rows), the fields that page
    holds with the role each plays, and the dedup runs that involved it."""
    info = cat.show(name, sample=0)
    ds = info.dataset
    if ds.kind == "table":
        rows = cat.table_page(name, page=page, size=size)
        fields = [{"name": c.name, "type": c.type, "role": ""} for c in rows.columns]
    else:
        rows = cat.records_page(name, page=page, size=size, status=status)
        roles = _field_roles(ds.parameters.get("mapping") or {})
        names = list(dict.fromkeys([*roles, *(key for r in rows.records for key in r.fields)]))
        fields = [{"name": n, "type": "", "role": roles.get(n, "")} for n in names]
    runs = [r for r in cat.dedup_runs() if name in r.datasets or name in r.against
            or r.run_id == ds.parameters.get("dedup_run")]
    return {"info": info, "page": rows, "fields": fields, "dedup_runs": runs, "status": status}


def record(cat, record_id: int) -> dict[str, Any]:
    """A record with the records it was made from (each with its text) and those made from it, and
    the dedup runs that removed it."""
    found = cat.record(record_id)
    lineage = cat.lineage(record_id)
    sources = [{"link": link, "record": cat.record(link.source_record_id)} for link in lineage.sources[:MAX_LINKS]]
    return {"record": found, "lineage": lineage, "sources": sources, "derived": lineage.derived[:MAX_LINKS],
            "removals": cat.record_removals(record_id), "mapping": cat.dataset(found.dataset).parameters.get("mapping")
            or {}}


def dedup_run(cat, run_id: int, *, page: int = 1, size: int = 20) -> dict[str, Any]:
    return {"clusters": cat.dedup_clusters(run_id, page=page, size=size)}


def evaluation(cat, evaluation_id: int) -> dict[str, Any]:
    return {"evaluation": cat.evaluation(evaluation_id)}


def search_options(cat) -> dict[str, Any]:
    """What the search form offers: the text datasets and the tags they carry."""
    texts = [d for d in cat.datasets() if d.kind != "table"]
    return {"text_datasets": [d.name for d in texts], "tags": sorted({t for d in texts for t in d.tags})}


def check_search_filters(cat, settings: dict[str, Any]) -> None:
    """An unknown dataset in a search filter is a bad filter (400), not a missing page (404); so is a
    table, which search never reaches."""
    for name in settings.get("datasets") or ():
        try:
            found = cat.dataset(name)
        except UnknownDataset as exc:
            raise BadInput(str(exc), param="datasets") from None
        if found.kind == "table":
            raise BadInput(f"dataset '{name}' is a table: search covers text, pairs and conversations",
                           param="datasets")

