"""Write an evaluation result as one self-contained HTML file.

Inline CSS, figures drawn with matplotlib (Agg) and embedded as base64 PNG data URIs, no script
and no external reference, so the file opens offline and can be mailed around as it is.
"""

from __future__ import annotations

import base64
import html
import io
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.errors import BadInput

if TYPE_CHECKING:
    import pandas as pd

_REAL, _SYNTH = "#4C72B0", "#DD8452"
_MAX_COLUMN_PLOTS = 40
_CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:0;background:#f5f6f8;color:#222}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px} h2{font-size:20px;margin:32px 0 8px;border-bottom:2px solid #dde;padding-bottom:4px}
h3{font-size:16px;margin:18px 0 6px} .muted{color:#667;font-size:13px}
.cards{display:flex;gap:16px;flex-wrap:wrap;margin:16px 0}
.card{background:#fff;border-radius:8px;padding:14px 20px;box-shadow:0 1px 3px rgba(0,0,0,.12);min-width:170px}
.card .v{font-size:30px;font-weight:600} .card .k{font-size:13px;color:#556}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:6px 0 12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
th,td{padding:5px 10px;border-bottom:1px solid #e4e6eb;text-align:left} th{background:#eef0f4}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:10px}
.grid figure{margin:0;background:#fff;border-radius:6px;padding:4px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
img{max-width:100%;height:auto;display:block} .good{color:#1a7f37} .bad{color:#b42318} .warn{color:#9a6700}
.note{background:#fff8e1;border-left:4px solid #e0b000;padding:6px 10px;font-size:13px}
"""


def write_html_report(result: dict, path: str | Path, real: object = None, synth: object = None,
                      title: str | None = None) -> Path:
    """Render ``result`` (from ``evaluate_tables`` or ``evaluate_texts``) to ``path``.

    ``real`` / ``synth`` are the compared data (DataFrames for tables, lists of strings for texts);
    with them the report adds per-column (or length) real-vs-synthetic plots.
    """
    if not isinstance(result, dict) or result.get("kind") not in ("table", "text"):
        raise BadInput("write_html_report needs the dict returned by evaluate_tables or evaluate_texts")
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise BadInput("the report's directory does not exist", file=str(path.parent))
    import matplotlib

    matplotlib.use("Agg", force=False)
    body = _table_body(result, real, synth) if result["kind"] == "table" else _text_body(result, real, synth)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    heading = title or ("Synthetic table evaluation" if result["kind"] == "table" else "Synthetic text evaluation")
    doc = (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{_e(heading)}</title>"
           f"<style>{_CSS}</style></head><body><main><h1>{_e(heading)}</h1>"
           f"<div class='muted'>synthcat evaluation report, generated {stamp}</div>{body}</main></body></html>\n")
    from catalog.outputs import atomic_output

    with atomic_output(path) as fh:
        fh.write(doc)
    return path


# ---------------------------------------------------------------- tables

def _table_body(result: dict, real: object, synth: object) -> str:
    q = result.get("quality", {})
    rows = result.get("rows", {})
    out = [f"<p class='muted'>real rows: {rows.get('real')} · synthetic rows: {rows.get('synthetic')}"
           f" · holdout rows: {rows.get('holdout') or '—'} · target: {_e(result.get('target') or '—')}</p>"]
    if "overall" in q:
        out.append("<div class='cards'>" + _card("Overall quality", q.get("overall"), pct=True)
                   + _card("Column shapes", q.get("column_shapes"), pct=True)
                   + _card("Column pair trends", q.get("column_pair_trends"), pct=True)
                   + _privacy_cards(result.get("privacy", {})) + "</div>")
        out.append("<h2>Column shapes</h2>")
        out.append(_img(_bar_scores(q["per_column"])))
        out.append(_per_column_plots(result, real, synth))
        out.append("<h2>Column pair trends</h2>")
        out.append("<p class='muted'>Difference per pair, 1 − pair score: |Δ correlation| / 2 for two numeric "
                   "columns, total variation distance of the joint frequencies otherwise. Pairs marked · do "
                   "not count towards the score (no relationship in the real data, SDMetrics' thresholds).</p>")
        out.append(_img(_pair_heatmap(q)))
    out.append(_diagnostics_html(result.get("diagnostics", {})))
    out.append(_utility_html(result.get("utility", {})))
    out.append(_privacy_html(result.get("privacy", {})))
    out.append(_bias_html(result.get("bias", {})))
    return "".join(out)


def _privacy_cards(p: dict) -> str:
    if "dcr" not in p:
        return ""
    cards = _card("Exact copies", p["exact_copies"]["share"], pct=True, good_high=False)
    cards += _card("Median DCR / random", p["baseline"]["median_ratio"], pct=False)
    return cards


def _per_column_plots(result: dict, real: object, synth: object) -> str:
    import pandas as pd

    if not isinstance(real, pd.DataFrame) or not isinstance(synth, pd.DataFrame):
        return "<p class='note'>Per-column plots need the real and synthetic tables.</p>"
    from catalog.evaluation._columns import CONTINUOUS, SKIPPED, as_float

    types = result.get("column_types", {})
    figs = []
    real_frame, synth_frame = real.rename(columns=str), synth.rename(columns=str)
    names = [c for c in result.get("columns", []) if types.get(c) not in SKIPPED][:_MAX_COLUMN_PLOTS]
    for name in names:
        kind = types[name]
        if kind in CONTINUOUS:
            png = _hist(name, as_float(real_frame[name], kind), as_float(synth_frame[name], kind), kind)
        else:
            png = _bars(name, real_frame[name], synth_frame[name])
        figs.append(f"<figure>{_img(png)}</figure>")
    more = len([c for c in result.get("columns", []) if types.get(c) not in SKIPPED]) - len(names)
    extra = f"<p class='muted'>{more} more columns not plotted.</p>" if more > 0 else ""
    return "<h3>Real vs synthetic, per column</h3><div class='grid'>" + "".join(figs) + "</div>" + extra


def _diagnostics_html(d: dict) -> str:
    if "per_column" not in d:
        return _skipped("Diagnostics", d)
    rows = []
    for name, e in d["per_column"].items():
        adherence = e.get("boundary_adherence", e.get("category_adherence"))
        which = "boundary" if "boundary_adherence" in e else "category" if "category_adherence" in e else "—"
        rows.append([name, e["type"], which, _fmt(adherence, pct=True), _fmt(e["missing_real"], pct=True),
                     _fmt(e["missing_synthetic"], pct=True), ", ".join(map(str, e.get("unseen_categories", [])))])
    summary = (f"<p>Boundary adherence {_fmt(d['boundary_adherence'], pct=True)} · category adherence "
               f"{_fmt(d['category_adherence'], pct=True)}</p>")
    return "<h2>Diagnostics</h2>" + summary + _html_table(
        ["column", "type", "adherence", "score", "missing (real)", "missing (synthetic)", "unseen categories"], rows)


def _utility_html(u: dict) -> str:
    if "metrics" not in u:
        return _skipped("Machine-learning utility", u)
    metrics = [m for m in u["metrics"]["trtr"] if m != "n_train" and m != "error"]
    rows = [[m, _fmt(u["metrics"]["trtr"].get(m)), _fmt(u["metrics"]["tstr"].get(m)), _fmt(u["ratio"].get(m))]
            for m in metrics]
    extra = f" · positive class {_e(u['positive_label'])}" if u.get("positive_label") else ""
    return (f"<h2>Machine-learning utility</h2><p class='muted'>{u['task']} of <b>{_e(u['target'])}</b>"
            f"{extra}; gradient boosting trained on real (TRTR) or synthetic (TSTR) rows, tested on the real "
            f"holdout.</p>" + _html_table(["metric", "TRTR (real)", "TSTR (synthetic)", "TSTR / TRTR"], rows))


def _privacy_html(p: dict) -> str:
    if "dcr" not in p:
        return _skipped("Privacy", p)
    dcr, base = p["dcr"], p["baseline"]
    copies = p["exact_copies"]
    rows = [["synthetic rows compared", p["rows_compared"]],
            ["exact copies of real rows", f"{copies['count']} ({_fmt(copies['share'], pct=True)})"],
            ["DCR median", _fmt(dcr["median"])], ["DCR mean", _fmt(dcr["mean"])],
            ["DCR 5th percentile", _fmt(dcr["p05"])], ["share at distance 0", _fmt(dcr["zero_share"], pct=True)],
            ["random-row DCR median (baseline)", _fmt(base["random_median"])],
            ["median ratio synthetic / random", _fmt(base["median_ratio"])],
            ["nearest-neighbour search", dcr["method"]]]
    if "holdout" in p:
        h = p["holdout"]
        rows += [["share closer to training than to holdout (0.5 ideal)", _fmt(h["share_closer_to_train"])],
                 ["overfitting protection score", _fmt(h["score"])],
                 ["holdout → training DCR median (real-vs-real reference)", _fmt(h["holdout_to_train_dcr_median"])]]
    return ("<h2>Privacy</h2><p class='muted'>DCR: distance to the closest real record, Gower-like mean of "
            "per-column distances in [0, 1].</p>" + _html_table(["measure", "value"], rows))


def _bias_html(b: dict) -> str:
    if "columns" not in b:
        return _skipped("Bias", b)
    parts = ["<h2>Bias</h2>"]
    if b.get("target"):
        what = f"share of <b>{_e(b['positive_label'])}</b>" if b.get("positive_label") else "mean"
        parts.append(f"<p class='muted'>Target rate = {what} in column <b>{_e(b['target'])}</b>; demographic "
                     f"parity difference over groups with at least {b['min_group_rows']} rows.</p>")
    for name, t in b["columns"].items():
        header = ["group", "real rows", "synthetic rows", "real share", "synthetic share", "share diff"]
        has_rate = "demographic_parity_difference" in t
        if has_rate:
            header += ["real target rate", "synthetic target rate"]
        rows = []
        for g in t["groups"]:
            row = [g["group"], g["real_rows"], g["synthetic_rows"], _fmt(g["real_share"], pct=True),
                   _fmt(g["synthetic_share"], pct=True), _signed(g["share_difference"])]
            if has_rate:
                row += [_fmt(g["real_target_rate"]), _fmt(g["synthetic_target_rate"])]
            rows.append(row)
        parts.append(f"<h3>{_e(name)}</h3>" + _html_table(header, rows))
        if has_rate:
            dpd = t["demographic_parity_difference"]
            amp = dpd["amplification"]
            cls = "bad" if amp is not None and amp > 0.05 else "good"
            parts.append(f"<p>Demographic parity difference: real {_fmt(dpd['real'])}, synthetic "
                         f"{_fmt(dpd['synthetic'])}, <span class='{cls}'>amplification {_signed(amp)}</span></p>")
    return "".join(parts)


# ---------------------------------------------------------------- texts

def _text_body(result: dict, real: object, synth: object) -> str:
    rows = result["rows"]
    nov, div = result["novelty"], result["diversity"]
    out = [f"<p class='muted'>real texts: {rows['real']} · synthetic texts: {rows['synthetic']}</p>",
           "<div class='cards'>",
           _card("Word-length KS complement", result["lengths"]["words"]["ks_complement"], pct=True),
           _card("Distinct-2 (synthetic)", div["synthetic"]["distinct_2"], pct=False),
           _card("Exact + near copies", nov["near_copy_share"], pct=True, good_high=False),
           _card("Texts with PII", result["pii"]["synthetic"]["share_with_pii"], pct=True, good_high=False),
           "</div><h2>Lengths</h2>"]
    lrows = []
    for unit in ("chars", "words"):
        e = result["lengths"][unit]
        for role in ("real", "synthetic"):
            s = e[role]
            lrows.append([unit, role, _fmt(s["mean"]), _fmt(s["median"]), _fmt(s["p10"]), _fmt(s["p90"])])
    out.append(_html_table(["unit", "data", "mean", "median", "p10", "p90"], lrows))
    if isinstance(real, list) and isinstance(synth, list):
        import numpy as np

        words = [np.array([len(t.split()) for t in data], dtype=float) for data in (real, synth)]
        out.append(_img(_hist("words per text", words[0], words[1], "numeric")))
    out.append("<h2>Diversity</h2>")
    drows = [[role, _fmt(div[role]["distinct_1"]), _fmt(div[role]["distinct_2"]),
              _fmt(div[role].get("mean_pairwise_cosine"))] for role in ("real", "synthetic")]
    out.append(_html_table(["data", "distinct-1", "distinct-2", "mean pairwise cosine"], drows))
    if div.get("note"):
        out.append(f"<p class='note'>{_e(div['note'])}</p>")
    out.append("<h2>Novelty</h2>")
    nrows = [["exact copies of a real text", f"{nov['exact_copies']} ({_fmt(nov['exact_copy_share'], pct=True)})"],
             [f"exact or near copies (Jaccard ≥ {nov['near_threshold']})",
              f"{nov['near_copies']} ({_fmt(nov['near_copy_share'], pct=True)})"],
             [f"nearest real text cosine ≥ {nov['novelty_threshold']}",
              _fmt(nov.get("share_nn_cosine_at_least_threshold"), pct=True)],
             ["nearest real text cosine, median", _fmt(nov.get("nn_cosine_median"))]]
    out.append(_html_table(["measure", "value"], nrows))
    if nov.get("copy_examples"):
        out.append("<h3>Copied texts (first ones)</h3><ul>" +
                   "".join(f"<li>{_e(t)}</li>" for t in nov["copy_examples"]) + "</ul>")
    out.append("<h2>Personal data scan (synthetic texts)</h2>")
    pii = result["pii"]["synthetic"]
    prows = [[k, v["matches"], v["texts"], _e(", ".join(v["examples"]))] for k, v in pii["by_kind"].items()]
    out.append(_html_table(["kind", "matches", "texts", "examples"], prows, escape=False))
    return "".join(out)


# ---------------------------------------------------------------- figures

def _fig_png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _hist(name: str, real, synth, kind: str) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    r, s = real[~np.isnan(real)], synth[~np.isnan(synth)]
    fig, ax = plt.subplots(figsize=(4, 2.6))
    both = np.concatenate([r, s])
    if len(both):
        lo, hi = np.percentile(both, [0.5, 99.5])
        if hi <= lo:
            lo, hi = both.min() - 0.5, both.max() + 0.5
        integral = bool(np.all(both == np.round(both)))
        if integral and hi - lo <= 60:
            bins = np.arange(np.floor(lo) - 0.5, np.ceil(hi) + 1.5)   # one bar per whole number
        else:
            bins = np.linspace(lo, hi, 31)
        # a list: matplotlib's stubs type bins as a Sequence, which an ndarray is not (the values are the same)
        ax.hist(np.clip(r, lo, hi), bins=bins.tolist(), density=True, alpha=0.55, color=_REAL, label="real")
        ax.hist(np.clip(s, lo, hi), bins=bins.tolist(), density=True, alpha=0.55, color=_SYNTH, label="synthetic")
    if kind == "datetime":
        ax.set_xticks([])
        ax.set_xlabel("time")
    ax.set_title(name, fontsize=10)
    ax.set_yticks([])
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, framealpha=0.7)
    return _fig_png(fig)


def _bars(name: str, real: pd.Series, synth: pd.Series, top: int = 10) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    r = real.astype(object).where(real.notna(), "(missing)").map(str).value_counts(normalize=True)
    s = synth.astype(object).where(synth.notna(), "(missing)").map(str).value_counts(normalize=True)
    labels = list(r.index[:top]) + [v for v in s.index[:top] if v not in r.index[:top]][: max(0, top - len(r))]
    fig, ax = plt.subplots(figsize=(4, 2.6))
    y = np.arange(len(labels))
    ax.barh(y - 0.2, [r.get(v, 0.0) for v in labels], height=0.4, color=_REAL, label="real")
    ax.barh(y + 0.2, [s.get(v, 0.0) for v in labels], height=0.4, color=_SYNTH, label="synthetic")
    ax.set_yticks(y, [v if len(v) <= 18 else v[:17] + "…" for v in labels], fontsize=7)
    ax.invert_yaxis()
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(name + (f" (top {top})" if len(r) > top else ""), fontsize=10)
    ax.legend(fontsize=7, framealpha=0.7)
    return _fig_png(fig)


def _bar_scores(per_column: dict) -> str:
    import matplotlib.pyplot as plt

    items = [(k, v["score"], v["metric"]) for k, v in per_column.items() if v["score"] is not None]
    items.sort(key=lambda t: t[1])
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.26 * len(items) + 0.8)))
    colors = ["#55A868" if m == "KSComplement" else "#8172B2" for _, _, m in items]
    ax.barh([k for k, _, _ in items], [s for _, s, _ in items], color=colors)
    ax.set_xlim(0, 1)
    ax.set_xlabel("score (green: KS complement, purple: TV complement)", fontsize=8)
    ax.tick_params(labelsize=8)
    return _fig_png(fig)


def _pair_heatmap(q: dict) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    names = [c for c in q["per_column"]]
    pos = {c: i for i, c in enumerate(names)}
    n = len(names)
    grid = np.full((n, n), np.nan)
    for entry in q["per_pair"].values():
        a, b = entry["columns"]
        if entry["score"] is not None:
            grid[pos[a], pos[b]] = grid[pos[b], pos[a]] = 1 - entry["score"]
    np.fill_diagonal(grid, 0.0)
    fig, ax = plt.subplots(figsize=(min(11, 2 + 0.5 * n), min(9, 1.5 + 0.45 * n)))
    im = ax.imshow(grid, cmap="Reds", vmin=0, vmax=max(0.2, float(np.nanmax(grid)) if n else 0.2))
    ax.set_xticks(range(n), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    for entry in q["per_pair"].values():
        if not entry.get("counted", True):
            a, b = entry["columns"]
            for i, j in ((pos[a], pos[b]), (pos[b], pos[a])):
                ax.text(j, i, "·", ha="center", va="center", fontsize=8, color="#555")
    fig.colorbar(im, ax=ax, shrink=0.8, label="1 − pair score")
    return _fig_png(fig)


# ---------------------------------------------------------------- helpers

def _img(b64: str) -> str:
    return f"<img alt='figure' src='data:image/png;base64,{b64}'>"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: object, pct: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, (int, float)):
        return f"{100 * value:.1f}%" if pct else f"{value:.4g}" if isinstance(value, float) else str(value)
    return _e(value)


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.3f}"


def _card(label: str, value: float | None, pct: bool, good_high: bool = True) -> str:
    cls = ""
    if value is not None and pct:
        good = value >= 0.8 if good_high else value == 0
        cls = "good" if good else "warn"
    return f"<div class='card'><div class='k'>{_e(label)}</div><div class='v {cls}'>{_fmt(value, pct)}</div></div>"


def _html_table(header: list[str], rows: list[list], escape: bool = True) -> str:
    def cell(v: object) -> str:
        text = _e(v) if escape else str(v)
        num = isinstance(v, (int, float)) or (isinstance(v, str) and v[:1] in "0123456789+-—")
        return f"<td class='n'>{text}</td>" if num else f"<td>{text}</td>"

    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _skipped(title: str, section: dict) -> str:
    reason = section.get("skipped", "not computed") if isinstance(section, dict) else "not computed"
    return f"<h2>{_e(title)}</h2><p class='note'>Skipped: {_e(reason)}.</p>"
