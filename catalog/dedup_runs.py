"""Dedup runs over the catalog: decide with the dedup engine, store every decision, mark, undo.

Records are marked ``removed``, never erased; each removal has a row naming the run, stage,
cluster, the kept record it duplicates, the record it matched and the score. ``undo`` restores a
run's records. Search and export skip removed records by default.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import TypedDict

import numpy as np

from catalog.compute_backend import ComputeBackend
from catalog.dedup import defaults
from catalog.dedup.engine import DedupItem, find_duplicates
from catalog.dedup.fields import dedup_texts, find_pair_duplicates, pair_texts, resolve_on
from catalog.dedup.minhash import SketchFn
from catalog.embedding_store import stored_vectors
from catalog.errors import BadInput, SynthcatError, UnknownDataset
from catalog.record_mapping import FieldMapping
from catalog.results import (
    DedupExample,
    DedupRecordRef,
    DedupRemoval,
    DedupReport,
    DedupRun,
    DedupRunDetail,
    SurvivorsCopy,
    UndoResult,
)
from catalog.store import TEXT_KINDS, CatalogStore, validate_dataset_name
from catalog.writer import RecordWriter

EXAMPLE_CLUSTERS = 5


def _resolve_on(cat: CatalogStore, names: Sequence[str], on: str | None) -> str:
    """What the records are compared on (:mod:`catalog.dedup.fields`): the kind's default when
    every dataset holds one kind, the whole text across kinds."""
    kinds = set()
    for name in names:
        ds = cat.dataset(name)
        if ds.kind not in TEXT_KINDS:
            raise BadInput(f"dataset '{name}' is a table; dedup works on text, pairs and conversations",
                           param="datasets")
        kinds.add(ds.kind)
    if len(kinds) > 1:
        if on not in (None, "text"):
            raise BadInput(f"datasets of several kinds ({', '.join(sorted(kinds))}) are compared on their whole "
                           "text: leave `on` out or use text", param="on")
        return "text"
    return resolve_on(kinds.pop(), on)


def _items(cat: CatalogStore, names: Sequence[str], reference: bool, on: str
           ) -> tuple[list[DedupItem], list, list[str | None], list[str]]:
    """The active records of ``names`` as items whose text is what ``on`` selects, their content
    hashes and embedders, and (for ``on="both"``) their responses."""
    items: list[DedupItem] = []
    hashes: list = []
    embedders: list[str | None] = []
    responses: list[str] = []
    for name in names:
        ds = cat.dataset(name)
        mapping = FieldMapping.from_dict(ds.parameters.get("mapping", {"kind": ds.kind}))
        rows = cat.con.execute(
            "SELECT record_id, text, quality_score, content_hash, fields FROM records WHERE dataset_id = ? "
            "AND status = 'active' ORDER BY record_id", [ds.dataset_id]).fetchall()
        ids = [r[0] for r in rows]
        if on == "text":
            texts = [r[1] for r in rows]
        else:
            fields = [json.loads(r[4]) for r in rows]
            if on == "both":
                texts, answers = pair_texts(fields, mapping, ids=ids)
                responses += answers
            else:
                texts = dedup_texts(fields, mapping, on, ids=ids)
        for (record_id, _, quality, chash, _), text in zip(rows, texts):
            items.append(DedupItem(record_id=record_id, text=text, created=float(record_id), quality=quality,
                                   origin=ds.origin, dataset=name, reference=reference))
            hashes.append(chash)
            embedders.append(ds.embedder)
    return items, hashes, embedders, responses


def _vectors(cat: CatalogStore, hashes: list, embedders: list[str | None]) -> tuple[np.ndarray | None, str | None]:
    """Stored vectors in item order, when every item has one from the same embedder."""
    distinct = set(embedders)
    if len(distinct) != 1 or None in distinct:
        return None, None
    embedder_id = distinct.pop()
    vectors = stored_vectors(cat, hashes, embedder_id)
    return (vectors, embedder_id) if vectors is not None else (None, None)


def _check_outputs(cat: CatalogStore, datasets: Sequence[str], *, out: str | None, into: str | None,
                   force: bool, dry_run: bool):
    """Check every output of a dedup run before anything is written; return the checked export target."""
    if out and len(datasets) != 1:
        raise BadInput("exports the survivors of one dataset; use `into` for several", param="out")
    if into:
        validate_dataset_name(into)
        cat.require_new_name(into)
        kinds = {cat.dataset(n).kind for n in datasets}
        if len(kinds) != 1:
            raise BadInput(f"needs datasets of one kind, got {', '.join(sorted(kinds))}", param="into")
    if out and not dry_run:
        from catalog.exporter import check_export_target

        return check_export_target(cat, out, force=force)
    return None


def _known(cat: CatalogStore, names: Sequence[str]) -> None:
    for name in names:
        try:
            cat.dataset(name)
        except UnknownDataset as exc:
            if name in ("runs", "undo"):
                raise UnknownDataset(f"{exc}; to list or undo dedup runs use `synthcat dedup-runs list` or "
                                     "`synthcat dedup-runs undo RUN`") from None
            raise


class _StageOptions(TypedDict):
    """The keyword arguments dedup passes on to find_duplicates / find_pair_duplicates."""

    exact: bool
    minhash: bool
    semantic: bool
    punctuation_blind: bool
    minhash_threshold: float
    num_perm: int
    ngram: int
    semantic_threshold: float
    keep: str
    vectors: np.ndarray | None
    embed: Callable[[list[str]], np.ndarray] | None
    seed: int
    sketch: SketchFn | None


def dedup(cat: CatalogStore, datasets: Sequence[str], *, against: Sequence[str] = (), exact: bool = True,
          minhash: bool = True, semantic: bool = True, punctuation_blind: bool = False,
          minhash_threshold: float = defaults.MINHASH_THRESHOLD, num_perm: int = defaults.MINHASH_NUM_PERM,
          ngram: int = defaults.MINHASH_NGRAM, semantic_threshold: float = defaults.SEMANTIC_THRESHOLD,
          keep: str = "first", dry_run: bool = False, out: str | None = None, into: str | None = None,
          seed: int = 1, force: bool = False, on: str | None = None,
          compute: ComputeBackend | None = None) -> DedupReport:
    """Deduplicate ``datasets`` (within and across them, or against ``against``); return a report.

    Every output (``into``, ``out``) is checked before anything is written, and the removals, the
    survivors' copy and the export are one transaction: a failure leaves the catalog and the files
    as they were. ``compute`` computes MinHash sketches and missing embeddings elsewhere (e.g. on
    Ray); everything it returns goes through the same decisions and the same write.
    """
    if not datasets:
        raise BadInput("name at least one dataset to dedup", param="datasets")
    datasets, against = list(dict.fromkeys(datasets)), list(dict.fromkeys(against))  # each name once
    _known(cat, [*datasets, *against])
    overlap = set(datasets) & set(against)
    if overlap:
        raise BadInput(f"dataset(s) {', '.join(sorted(overlap))} both checked and used as reference",
                       param="against")
    if not (exact or minhash or semantic):
        raise BadInput("every stage is switched off: keep at least one of exact, minhash, semantic")
    target = _check_outputs(cat, datasets, out=out, into=into, force=force, dry_run=dry_run)
    on = _resolve_on(cat, [*datasets, *against], on)
    started = time.perf_counter()
    checked, c_hashes, c_emb, c_resp = _items(cat, datasets, reference=False, on=on)
    refs, r_hashes, r_emb, r_resp = _items(cat, against, reference=True, on=on)
    items = checked + refs
    vectors, embedder_id = (None, None)
    embed = None
    if semantic:
        # stored vectors embed whole records: they serve only when the records are compared whole
        vectors, embedder_id = _vectors(cat, c_hashes + r_hashes, c_emb + r_emb) if on == "text" else (None, None)
        if vectors is None:
            from catalog.embedders import get_embedder

            names = {e for e in c_emb + r_emb if e}
            if len(names) > 1:
                raise BadInput(f"the datasets use different embedders ({', '.join(sorted(names))}); "
                               "the semantic stage needs one", param="semantic")
            embedder = get_embedder(names.pop() if names else None)
            embedder_id = embedder.id
            embed = embedder.embed if compute is None else (lambda texts: compute.embed_texts(embedder, texts))
    options = _StageOptions(exact=exact, minhash=minhash, semantic=semantic, punctuation_blind=punctuation_blind,
                            minhash_threshold=minhash_threshold, num_perm=num_perm, ngram=ngram,
                            semantic_threshold=semantic_threshold, keep=keep, vectors=vectors, embed=embed,
                            seed=seed, sketch=compute.sketch if compute is not None else None)
    result = None
    if items and on == "both":
        result = find_pair_duplicates(items, c_resp + r_resp, **options)
    elif items:
        result = find_duplicates(items, **options)
    params = {"on": on, "exact": exact, "minhash": minhash, "semantic": semantic,
              "punctuation_blind": punctuation_blind, "minhash_threshold": minhash_threshold, "num_perm": num_perm,
              "ngram": ngram, "semantic_threshold": semantic_threshold, "keep": keep, "embedder": embedder_id,
              "seed": seed}
    removals = result.removed if result else []
    report = DedupReport(datasets=list(datasets), against=list(against), checked=len(checked),
                         references=len(refs), removed=len(removals),
                         counts=dict(result.counts) if result else {}, parameters=params, dry_run=dry_run,
                         examples=_examples(cat, result) if result else [])
    if not dry_run and (removals or into or out):
        staged = None
        try:
            with cat.transaction():
                if removals:
                    report.run_id = _store(cat, datasets, against, params, report.counts, removals)
                if into:
                    report.into = _copy_survivors(cat, datasets, into, report.run_id)
                if target is not None:
                    from catalog.exporter import stage_export

                    staged = stage_export(cat, datasets[0], *target)
        except BaseException:
            if staged is not None:
                staged.discard()
            raise
        if staged is not None:
            report.out = staged.commit()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _examples(cat: CatalogStore, result) -> list[DedupExample]:
    clusters = [c for c in result.clusters if c.removed][:EXAMPLE_CLUSTERS]
    ids = [m for c in clusters for m in c.members]
    if not ids:
        return []
    texts = dict(cat.con.execute("SELECT record_id, text FROM records WHERE record_id IN (SELECT unnest(?))",
                                 [ids]).fetchall())
    stage = {r.record_id: (r.stage, round(float(r.score), 4)) for r in result.removed}
    return [DedupExample(cluster=c.cluster, keep=DedupRecordRef(c.keeper, texts.get(c.keeper, "")[:200]),
                         remove=[DedupRecordRef(m, texts.get(m, "")[:200], stage[m][0], stage[m][1])
                                 for m in c.removed]) for c in clusters]


def _store(cat: CatalogStore, datasets, against, params, counts, removals) -> int:
    with cat.transaction():
        run_id = cat.scalar("SELECT coalesce(max(run_id), 0) + 1 FROM dedup_runs")
        cat.con.execute(
            "INSERT INTO dedup_runs (run_id, datasets, against, parameters, counts, removed, created_at, "
            "dataset_ids, against_ids) VALUES (?, ?, ?, ?, ?, ?, now(), ?, ?)",
            [run_id, list(datasets), list(against), json.dumps(params), json.dumps(counts), len(removals),
             [cat.dataset(n).dataset_id for n in datasets], [cat.dataset(n).dataset_id for n in against]])
        import pyarrow as pa

        table = pa.table({
            "record_id": pa.array([int(r.record_id) for r in removals], pa.int64()),
            "stage": pa.array([r.stage for r in removals], pa.string()),
            "cluster": pa.array([int(r.cluster) for r in removals], pa.int32()),
            "duplicate_of": pa.array([int(r.duplicate_of) for r in removals], pa.int64()),
            "matched": pa.array([int(r.matched) for r in removals], pa.int64()),
            "score": pa.array([float(r.score) for r in removals], pa.float64()),
        })
        cat.con.register("_removals", table)
        try:
            cat.con.execute("INSERT INTO dedup_removals SELECT ?, record_id, stage, cluster, duplicate_of, matched, "
                            "score FROM _removals", [run_id])
            cat.con.execute("UPDATE records SET status = 'removed' WHERE record_id IN (SELECT record_id FROM "
                            "_removals)")
        finally:
            cat.con.unregister("_removals")
        cat.set_meta("records_state", f"dedup-{run_id}-{time.time_ns()}")
    return run_id


def undo(cat: CatalogStore, run_id: int) -> UndoResult:
    """Restore the records a dedup run removed."""
    row = cat.con.execute("SELECT undone_at FROM dedup_runs WHERE run_id = ?", [run_id]).fetchone()
    if row is None:
        raise SynthcatError(f"unknown dedup run {run_id} (see: synthcat dedup-runs list)")
    if row[0] is not None:
        raise SynthcatError(f"dedup run {run_id} was already undone at {row[0]}")
    with cat.transaction():
        restored = cat.scalar(  # DuckDB answers an UPDATE with one row: the count it changed
            "UPDATE records SET status = 'active' WHERE status = 'removed' AND record_id IN "
            "(SELECT record_id FROM dedup_removals WHERE run_id = ?)", [run_id])
        # a decontamination run's cleaned copies go when their originals come back
        cat.con.execute("UPDATE records SET status = 'removed' WHERE record_id IN "
                        "(SELECT copy_record_id FROM decontam_cuts WHERE run_id = ?)", [run_id])
        cat.con.execute("UPDATE dedup_runs SET undone_at = now() WHERE run_id = ?", [run_id])
        cat.set_meta("records_state", f"undo-{run_id}-{time.time_ns()}")
    return UndoResult(run_id=run_id, restored=int(restored))


def list_runs(cat: CatalogStore) -> list[DedupRun]:
    rows = cat.con.execute("SELECT run_id, datasets, against, parameters, counts, removed, created_at, undone_at "
                           "FROM dedup_runs ORDER BY run_id").fetchall()
    runs = []
    for r in rows:
        parameters = json.loads(r[3])
        runs.append(DedupRun(run_id=r[0], datasets=list(r[1]), against=list(r[2]), removed=r[5],
                             counts=json.loads(r[4]), parameters=parameters, created_at=str(r[6]),
                             undone_at=str(r[7]) if r[7] else None, kind=parameters.get("kind", "dedup")))
    return runs


def show_run(cat: CatalogStore, run_id: int, *, limit: int = 50) -> DedupRunDetail:
    """One run with its removals: each removed record, its dataset, stage, cluster, the record it
    duplicates and the score (at most ``limit`` removals, in record order)."""
    runs = [r for r in list_runs(cat) if r.run_id == run_id]
    if not runs:
        raise SynthcatError(f"unknown dedup run {run_id} (see: synthcat dedup-runs list)")
    if limit < 1:
        raise BadInput(f"must be at least 1, got {limit}", param="limit")
    rows = cat.con.execute(
        "SELECT x.record_id, r.external_id, d.name, x.stage, x.cluster, x.duplicate_of, x.matched, x.score, r.text "
        "FROM dedup_removals x JOIN records r USING (record_id) JOIN datasets d ON d.dataset_id = r.dataset_id "
        "WHERE x.run_id = ? ORDER BY x.record_id LIMIT ?", [run_id, limit]).fetchall()
    removals = [DedupRemoval(record_id=rid, external_id=ext, dataset=name, stage=stage, cluster=cluster,
                             duplicate_of=dup, matched=matched,
                             score=round(float(score), 4) if score is not None else None, text=text[:200])
                for rid, ext, name, stage, cluster, dup, matched, score, text in rows]
    return DedupRunDetail(**{f: getattr(runs[0], f) for f in DedupRun.__dataclass_fields__}, removals=removals)


def _copy_survivors(cat: CatalogStore, datasets: Sequence[str], into: str, run_id: int | None) -> SurvivorsCopy:
    """Write the surviving records of ``datasets`` as a new dataset with lineage to their sources."""
    sources = [cat.dataset(n) for n in datasets]
    embedders = {d.embedder for d in sources}
    first = sources[0]
    origin = "synthetic" if any(d.origin == "synthetic" for d in sources) else "real"
    with cat.transaction():
        ds = cat.create_dataset(into, kind=first.kind, origin=origin,
                                description=f"survivors of dedup run {run_id}" if run_id else "dedup survivors",
                                generator="dedup", parameters={"mapping": first.parameters.get("mapping", {}),
                                                               "dedup_run": run_id},
                                parents=list(datasets), embedder=first.embedder if len(embedders) == 1 else None)
        survivors = [r[0] for r in cat.con.execute(
            "SELECT record_id FROM records WHERE status = 'active' AND dataset_id IN (SELECT unnest(?))",
            [[d.dataset_id for d in sources]]).fetchall()]
        writer = RecordWriter(cat, ds.dataset_id)
        writer.copy_records(survivors, "deduplicated_from")
        rows = writer.finish(embedder_id=ds.embedder)
    return SurvivorsCopy(dataset=into, rows=rows)
