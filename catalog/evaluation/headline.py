"""The few figures of an evaluation people look at first, picked from its full results in one place
(``synthcat evaluate`` prints them, ``show`` lists them per stored evaluation, ``--json`` carries them)."""

from __future__ import annotations

from typing import Any


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def headline_figures(result: dict) -> dict[str, float | None]:
    """Headline figures of an evaluation result, in display order (tables: quality, utility, privacy;
    texts: diversity, novelty, PII, and generated records' quality, groundedness and judge scores);
    figures the evaluation did not compute are left out."""
    out: dict[str, float | None] = {}
    if result.get("kind") == "table":
        quality = result.get("quality") or {}
        for key in ("overall", "column_shapes", "column_pair_trends"):
            if key in quality:
                out["quality" if key == "overall" else key] = _number(quality[key])
        metrics = (result.get("utility") or {}).get("metrics") or {}
        for split in ("tstr", "trtr"):
            for metric in ("roc_auc", "f1", "r2"):
                value = _number((metrics.get(split) or {}).get(metric))
                if value is not None:
                    out[f"utility_{split}_{metric}"] = value
        privacy = result.get("privacy") or {}
        if privacy.get("exact_copies"):
            out["exact_copies"] = _number(privacy["exact_copies"].get("count"))
        if privacy.get("dcr"):
            out["dcr_median"] = _number(privacy["dcr"].get("median"))
        return out
    diversity = (result.get("diversity") or {}).get("synthetic") or {}
    novelty = result.get("novelty") or {}
    out["distinct_2"] = _number(diversity.get("distinct_2"))
    out["mean_pairwise_cosine"] = _number(diversity.get("mean_pairwise_cosine"))
    out["near_copy_share"] = _number(novelty.get("near_copy_share"))
    out["share_nn_cosine_at_least_threshold"] = _number(novelty.get("share_nn_cosine_at_least_threshold"))
    pii = (result.get("pii") or {}).get("synthetic") or {}
    if "texts_with_pii" in pii:
        out["texts_with_pii"] = _number(pii["texts_with_pii"])
    scores = result.get("quality_scores") or {}
    if scores.get("scored"):
        out["quality_mean"] = _number(scores.get("mean"))
    for part in ("groundedness", "judge"):
        if (scores.get(part) or {}).get("n"):
            out[f"{part}_mean"] = _number(scores[part].get("mean"))
    return out
