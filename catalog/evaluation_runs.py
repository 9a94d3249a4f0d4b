"""`synthcat evaluate`: compare a synthetic dataset with real data and keep the results in the catalog.

Datasets are named by catalog name or given as files (CSV/Parquet tables; JSONL texts read through
the importer's field mapping). Tables get fidelity, diagnostics, utility, privacy and bias; text
datasets get lengths, diversity, novelty and a PII scan.
"""

from __future__ import annotations

import json
from pathlib import Path

from catalog.embedding_store import stored_vectors
from catalog.errors import BadInput
from catalog.evaluation.headline import headline_figures
from catalog.json_values import json_safe
from catalog.results import Evaluation, EvaluationSummary
from catalog.store import TEXT_KINDS, CatalogStore
from catalog.tables import read_frame


def _texts(cat: CatalogStore, name: str) -> tuple[list[str], list[str], str | None]:
    ds = cat.dataset(name)
    rows = cat.con.execute("SELECT text, content_hash FROM records WHERE dataset_id = ? AND status = 'active' "
                           "ORDER BY record_id", [ds.dataset_id]).fetchall()
    return [r[0] for r in rows], [r[1] for r in rows], ds.embedder


def _is_text(cat: CatalogStore, source: str) -> bool:
    return cat.has_dataset(source) and cat.dataset(source).kind in TEXT_KINDS


def evaluate(cat: CatalogStore, synthetic: str, real: str, *, holdout: str | None = None, target: str | None = None,
             sensitive: list[str] | None = None, report: str | None = None, na_values: list[str] | None = None,
             seed: int = 0, skip: list[str] | None = None, store: bool = True, force: bool = False) -> Evaluation:
    """Evaluate ``synthetic`` against ``real`` (catalog names or files); store and return the results.

    ``report`` (an HTML file) is checked before the work starts: outside the catalog, and an
    existing file is replaced only with ``force``."""
    sensitive = list(sensitive or [])
    if report:
        from catalog.outputs import check_output

        check_output(report, catalog_dir=cat.directory, force=force, option="report")
    text_s, text_r = _is_text(cat, synthetic), _is_text(cat, real)
    if text_s != text_r:
        raise BadInput(f"cannot compare a {'text' if text_s else 'table'} dataset with a "
                       f"{'text' if text_r else 'table'} one", param="real")
    if text_s:
        if holdout or target or sensitive:
            raise BadInput("`holdout`, `target` and `sensitive` apply to tables, not text datasets")
        from catalog.embedders import get_embedder
        from catalog.evaluation.text import evaluate_texts

        s_texts, s_hashes, s_emb = _texts(cat, synthetic)
        r_texts, r_hashes, r_emb = _texts(cat, real)
        same = s_emb is not None and s_emb == r_emb
        s_vec = stored_vectors(cat, s_hashes, s_emb) if same else None
        r_vec = stored_vectors(cat, r_hashes, r_emb) if same else None
        embed = None if s_vec is not None and r_vec is not None else get_embedder(s_emb or r_emb).embed
        result = evaluate_texts(r_texts, s_texts, embed=embed, real_embeddings=r_vec, synth_embeddings=s_vec,
                                seed=seed)
        result["quality_scores"] = quality_scores(cat, synthetic)
        real_data, synth_data = r_texts, s_texts
    else:
        from catalog.evaluation.tabular import evaluate_tables

        synth_data, _ = read_frame(cat, synthetic, na_values=na_values)
        real_data, _ = read_frame(cat, real, na_values=na_values)
        hold = read_frame(cat, holdout, na_values=na_values)[0] if holdout else None
        result = evaluate_tables(real_data, synth_data, hold, target, sensitive, seed=seed, skip=skip or ())
    datasets = {"synthetic": synthetic, "real": real, "holdout": holdout}
    result["datasets"] = datasets
    evaluation = Evaluation(kind=result["kind"], datasets=datasets, headline=headline_figures(result), results=result)
    if report:
        from catalog.evaluation.report import write_html_report

        write_html_report(result, report, real=real_data, synth=synth_data,
                          title=f"{synthetic} vs {real}")
        evaluation.report = str(Path(report))
    if store and not cat.read_only:
        with cat.transaction():
            eid = cat.scalar("SELECT coalesce(max(evaluation_id), 0) + 1 FROM evaluations")
            ids = [cat.dataset(n).dataset_id if n and cat.has_dataset(n) else None
                   for n in (synthetic, real, holdout)]
            cat.con.execute(
                "INSERT INTO evaluations (evaluation_id, synthetic, real, holdout, target, sensitive, kind, results, "
                "report, created_at, synthetic_id, real_id, holdout_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now(), "
                "?, ?, ?)",
                [eid, synthetic, real, holdout, target, sensitive, result["kind"],
                 json.dumps(json_safe(result), default=str), evaluation.report, *ids])
        evaluation.evaluation_id = eid
    return evaluation


def _distribution(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    import numpy as np

    a = np.asarray(values, dtype=float)
    quantiles = np.quantile(a, [0.1, 0.25, 0.5, 0.75, 0.9])
    return {"n": int(a.size), "mean": round(float(a.mean()), 4), "min": round(float(a.min()), 4),
            **{f"p{q}": round(float(v), 4) for q, v in zip((10, 25, 50, 75, 90), quantiles)},
            "max": round(float(a.max()), 4)}


def quality_scores(cat: CatalogStore, name: str) -> dict:
    """Distribution of a text dataset's quality scores (active records) and, for generated records, of
    the parts they came from: built-in groundedness, LLM-judge scores (1-5) and judge failures."""
    ds = cat.dataset(name)
    rows = cat.con.execute(
        "SELECT r.quality_score, p.groundedness, p.judge_status, p.judge_score FROM records r "
        "LEFT JOIN generation_provenance p USING (record_id) WHERE r.dataset_id = ? AND r.status = 'active'",
        [ds.dataset_id]).fetchall()
    scores = [q for q, *_ in rows if q is not None]
    out = {"records": len(rows), "scored": len(scores), **{k: v for k, v in _distribution(scores).items()
                                                              if k != "n"}}
    grounded = [g for _, g, _, _ in rows if g is not None]
    if grounded:
        out["groundedness"] = _distribution(grounded)
    judged = [j for _, _, status, j in rows if status == "scored" and j is not None]
    failed = sum(1 for _, _, status, _ in rows if status == "failed")
    if judged or failed:
        out["judge"] = {**_distribution(judged), "failed": failed,
                        "counts": {str(score): judged.count(score) for score in (1, 2, 3, 4, 5)}}
    return out


def evaluations_of(cat: CatalogStore, ds) -> list[EvaluationSummary]:
    """Stored evaluations in which dataset ``ds`` took part, with their headline figures (for ``show``)."""
    rows = cat.con.execute(
        "SELECT evaluation_id, synthetic, real, kind, results, report, created_at FROM evaluations "
        "WHERE ? IN (synthetic_id, real_id, holdout_id) ORDER BY evaluation_id", [ds.dataset_id]).fetchall()
    return [EvaluationSummary(evaluation_id=eid, synthetic=syn, real=real, kind=kind,
                              headline=headline_figures(json.loads(results)), report=report, created_at=str(created))
            for eid, syn, real, kind, results, report, created in rows]
