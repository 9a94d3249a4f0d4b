"""Decontamination over the catalog: find evaluation (benchmark) text inside a dataset's records,
then drop the records, store cleaned copies, or only flag them -- stored and reversible like a
dedup run.

The engine (:mod:`catalog.dedup.decontaminate`) works on each text part of a record separately
(a text field, a prompt, a response, each message of a conversation), so a match's span and a cut
stay inside one field. A record is contaminated when any of its parts is.

* ``drop`` (the default) marks contaminated records removed: a ``dedup_runs`` row whose
  parameters say ``kind: decontaminate``, and a ``dedup_removals`` row per record (stage
  ``decontaminate``, cluster = the evaluation set's number, ``duplicate_of`` = the matched
  evaluation record when it is a catalog record, score = distinct n-grams matched), so
  ``synthcat dedup-runs undo`` restores them.
* ``cut`` stores a cleaned copy of each contaminated record in the same dataset (the matched spans
  and 200 characters around them removed, GPT-3 style; lineage ``decontaminated_from``) and marks
  the original removed (stage ``decontaminate-cut``); a record a cut would leave in more than 10
  pieces, or with no piece of 200 characters, is dropped instead. Undo restores the originals and
  removes the copies (``decontam_cuts``).
* ``flag`` changes no record.

Every match is stored in ``decontam_matches``: the record, the field, the evaluation set and
record, the n-gram, its character span and how many distinct n-grams the span covers.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from catalog.dedup import defaults
from catalog.dedup.decontaminate import MODES, ContaminatedRecord, decontaminate
from catalog.dedup.eval_files import read_eval_file
from catalog.dedup.eval_index import EvalSet
from catalog.errors import BadInput
from catalog.record_mapping import FieldMapping, row_text
from catalog.results import DecontaminationExample, DecontaminationReport
from catalog.store import TEXT_KINDS, CatalogStore


def _parts(fields: dict, mapping: FieldMapping) -> list[tuple[tuple, str]]:
    """The text parts of a record: (path into its fields, text)."""
    if mapping.kind == "pairs":
        names = [mapping.prompt_field, mapping.response_field]
    elif mapping.kind == "text":
        names = list(mapping.text_fields)
    else:
        out = []
        for i, msg in enumerate(fields.get(mapping.messages_field) or []):
            if isinstance(msg, dict):
                key = "content" if "content" in msg else "value"
                if isinstance(msg.get(key), str):
                    out.append(((mapping.messages_field, i, key), msg[key]))
        return out
    return [((name,), fields[name]) for name in names if isinstance(fields.get(name), str)]


def _set_path(fields: dict, path: tuple, value: str) -> dict:
    """A copy of ``fields`` with the value at ``path`` replaced."""
    out = json.loads(json.dumps(fields))
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return out


def _eval_sets(cat: CatalogStore, dataset: str, against: Sequence[str], text_fields: Sequence[str] | None,
               id_field: str | None) -> tuple[list[EvalSet], dict[str, str]]:
    """The evaluation sets (catalog datasets by name first, else files), and each one's origin."""
    sets, origins = [], {}
    for entry in dict.fromkeys(against):
        if entry == dataset:
            raise BadInput(f"'{entry}' is the dataset being checked: an evaluation set must be another one",
                           param="against")
        if cat.has_dataset(entry):
            ds = cat.dataset(entry)
            if ds.kind not in TEXT_KINDS:
                raise BadInput(f"'{entry}' is a table: give a text dataset or a file (with `text_fields`)",
                               param="against")
            rows = cat.con.execute("SELECT record_id, text FROM records WHERE dataset_id = ? AND status = 'active' "
                                   "ORDER BY record_id", [ds.dataset_id]).fetchall()
            sets.append(EvalSet(entry, [r[1] for r in rows], [r[0] for r in rows]))
            origins[entry] = "dataset"
        elif Path(entry).is_file():
            sets.append(read_eval_file(entry, text_fields=text_fields, id_field=id_field))
            origins[sets[-1].name] = "file"
        else:
            raise BadInput(f"'{entry}' is neither a dataset of the catalog nor a file", param="against")
    return sets, origins


def decontaminate_dataset(cat: CatalogStore, dataset: str, against: Sequence[str], *, mode: str = "drop",
                          ngram: int = defaults.DECONTAM_NGRAM, min_ngram: int = defaults.DECONTAM_MIN_NGRAM,
                          text_fields: Sequence[str] | None = None, id_field: str | None = None,
                          dry_run: bool = False, out: str | None = None, force: bool = False,
                          examples: int = 5) -> DecontaminationReport:
    """Check dataset ``dataset`` against evaluation sets (catalog datasets or files); see the module
    docstring for what each ``mode`` does. Every output is checked before anything is written."""
    started = time.perf_counter()
    if mode not in MODES:
        raise BadInput(f"must be one of {', '.join(MODES)}, got {mode!r}", param="mode")
    if not against:
        raise BadInput("name at least one evaluation set (a dataset or a file)", param="against")
    ds = cat.dataset(dataset)
    if ds.kind not in TEXT_KINDS:
        raise BadInput(f"dataset '{dataset}' is a table; decontamination works on text records", param="dataset")
    target = None
    if out and not dry_run:
        from catalog.exporter import check_export_target

        target = check_export_target(cat, out, force=force)
    eval_sets, origins = _eval_sets(cat, dataset, against, text_fields, id_field)
    mapping = FieldMapping.from_dict(ds.parameters.get("mapping", {"kind": ds.kind}))
    rows = cat.con.execute("SELECT record_id, fields FROM records WHERE dataset_id = ? AND status = 'active' "
                           "ORDER BY record_id", [ds.dataset_id]).fetchall()
    records = {rid: json.loads(fields) for rid, fields in rows}
    texts, ids = [], []
    for rid, fields in records.items():
        for path, text in _parts(fields, mapping):
            texts.append(text)
            ids.append((rid, path))
    result = decontaminate(texts, eval_sets, ids=ids, mode=mode, ngram=ngram, min_ngram=min_ngram)
    by_record: dict[int, list[ContaminatedRecord]] = defaultdict(list)
    for part in result.contaminated:
        by_record[part.record_id[0]].append(part)
    actions = {rid: _record_action(parts, mode) for rid, parts in by_record.items()}
    report = DecontaminationReport(
        dataset=dataset, against=list(dict.fromkeys(against)), checked=len(records), contaminated=len(by_record),
        counts={m: sum(1 for a in actions.values() if a == m) for m in MODES},
        eval_sets=[{**vars(r), "source": origins.get(r.name, "file")} for r in result.eval_sets],
        parameters={**result.params, "kind": "decontaminate", "parts_checked": len(texts)},
        dry_run=dry_run, examples=_examples(by_record, actions, examples))
    if not dry_run and (by_record or target is not None):
        report.run_id, report.out = _store(cat, ds, mapping, records, by_record, actions, report, eval_sets,
                                           origins, target)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _record_action(parts: list[ContaminatedRecord], mode: str) -> str:
    if mode == "cut" and any(p.action == "drop" for p in parts):
        return "drop"  # a part the cut would leave in pieces (or empty): the record goes whole
    return mode


def _examples(by_record: dict, actions: dict, limit: int) -> list[DecontaminationExample]:
    out = []
    for rid in sorted(by_record)[:limit]:
        first = by_record[rid][0].matches[0]
        field = ".".join(map(str, by_record[rid][0].record_id[1]))
        out.append(DecontaminationExample(record_id=rid, action=actions[rid], field=field, eval_set=first.eval_set,
                                          eval_record=str(first.eval_record), ngram=first.ngram, start=first.start,
                                          end=first.end))
    return out


def _store(cat: CatalogStore, ds, mapping: FieldMapping, records: dict[int, dict], by_record: dict,
           actions: dict, report: DecontaminationReport, eval_sets: list[EvalSet], origins: dict,
           target) -> tuple[int | None, Any]:
    """One transaction: the run, its removals, every match, the cleaned copies, the export."""
    from catalog.embedders import get_embedder
    from catalog.embedding_store import embed_missing
    from catalog.writer import RecordWriter

    set_number = {s.name: k for k, s in enumerate(eval_sets)}
    staged = None
    try:
        with cat.transaction():
            run_id = None
            if by_record:
                run_id = int(cat.con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM dedup_runs").fetchone()[0])
                removed = [rid for rid, a in actions.items() if a in ("drop", "cut")]
                cat.con.execute(
                    "INSERT INTO dedup_runs (run_id, datasets, against, parameters, counts, removed, created_at, "
                    "dataset_ids, against_ids) VALUES (?, ?, ?, ?, ?, ?, now(), ?, ?)",
                    [run_id, [ds.name], report.against,
                     json.dumps({**report.parameters, "eval_sets": report.eval_sets}, default=str),
                     json.dumps(report.counts), len(removed), [ds.dataset_id],
                     [cat.dataset(n).dataset_id for n in report.against if cat.has_dataset(n)]])
                _store_matches(cat, run_id, by_record, actions, set_number, origins)
                if removed:
                    cat.con.execute("UPDATE records SET status = 'removed' WHERE record_id IN (SELECT unnest(?))",
                                    [removed])
                copies = {rid: _cleaned(records[rid], by_record[rid]) for rid, a in actions.items() if a == "cut"}
                if copies:
                    writer = RecordWriter(cat, ds.dataset_id)
                    for rid, fields in copies.items():
                        (copy_id,) = writer.add([row_text(fields, mapping)], [json.dumps(fields, ensure_ascii=False)])
                        writer.add_lineage([(copy_id, rid, "decontaminated_from", None, None)])
                        cat.con.execute("INSERT INTO decontam_cuts VALUES (?, ?, ?)", [run_id, rid, copy_id])
                    if ds.embedder:
                        embed_missing(cat, ds.dataset_id, get_embedder(ds.embedder), writer=writer)
                    writer.finish(embedder_id=ds.embedder)
                cat.set_meta("records_state", f"decontaminate-{run_id}-{time.time_ns()}")
            if target is not None:
                from catalog.exporter import stage_export

                staged = stage_export(cat, ds.name, *target)
    except BaseException:
        if staged is not None:
            staged.discard()
        raise
    return run_id, staged.commit() if staged is not None else None


def _store_matches(cat: CatalogStore, run_id: int, by_record: dict, actions: dict, set_number: dict,
                   origins: dict) -> None:
    rows, removals = [], []
    for rid, parts in by_record.items():
        action = actions[rid]
        for part in parts:
            field = ".".join(map(str, part.record_id[1]))
            for m in part.matches:
                rows.append((run_id, rid, field, m.eval_set, str(m.eval_record), m.ngram, m.start, m.end, m.ngrams,
                             m.eval_frequency, action))
        if action in ("drop", "cut"):
            first = parts[0].matches[0]
            from_catalog = origins.get(first.eval_set) == "dataset"
            removals.append((run_id, rid, "decontaminate" if action == "drop" else "decontaminate-cut",
                             set_number[first.eval_set], int(first.eval_record) if from_catalog else None, None,
                             float(sum(m.ngrams for p in parts for m in p.matches))))
    cat.con.executemany("INSERT INTO decontam_matches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    if removals:
        cat.con.executemany("INSERT INTO dedup_removals VALUES (?, ?, ?, ?, ?, ?, ?)", removals)


def _cleaned(fields: dict, parts: list[ContaminatedRecord]) -> dict:
    for part in parts:
        fields = _set_path(fields, part.record_id[1], part.cut_text or "")
    return fields
