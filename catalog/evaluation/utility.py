"""Machine-learning utility: train on synthetic, test on real (TSTR) versus train on real (TRTR).

Two gradient-boosting models (scikit-learn's HistGradientBoosting) with the same settings and
seed are fitted, one on the real training table and one on the synthetic table, and both are
scored on the real holdout. Classification (categorical or boolean target) reports ROC AUC and
F1; regression (numeric target) reports R². The ratio TSTR / TRTR says how much of the real
data's usefulness the synthetic data keeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from catalog.errors import BadInput
from catalog.evaluation._columns import CONTINUOUS, DISCRETE, Columns, as_float, codes

_SMALL_FIT = 20_000

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def utility(real: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame, target: str,
            columns: Columns, *, seed: int = 0, max_iter: int = 100) -> dict:
    """Return ``{"task", "target", "metrics": {"trtr": {...}, "tstr": {...}}, "ratio": {...}}``."""
    import numpy as np

    if target not in columns.names:
        raise BadInput("the target column is not in both the real and the synthetic table", field=target)
    kind = columns.types[target]
    if kind not in CONTINUOUS and kind not in DISCRETE:
        raise BadInput(f"the target column has type {kind}; utility needs a numeric, categorical "
                       "or boolean target", field=target)
    missing = [c for c in columns.names if c not in {str(x) for x in holdout.columns}]
    if missing:
        raise BadInput("the holdout table lacks a column the real and synthetic tables share",
                       field=missing[0])
    holdout = holdout.rename(columns=str)
    features = [c for c in columns.scored if c != target]
    if not features:
        raise BadInput("no feature columns left besides the target", field=target)
    task = "regression" if kind in CONTINUOUS else "classification"

    frames = {"real": real.rename(columns=str), "synthetic": synth.rename(columns=str), "holdout": holdout}
    x = _encode_features(frames, features, columns)
    if task == "classification":
        y, labels = _encode_labels(frames, target)
        positive = _positive_label(y["real"], labels)
        keep = {k: y[k] >= 0 for k in y}
        if not keep["holdout"].any():
            raise BadInput("the holdout has no labelled rows", field=target)
        result: dict[str, Any] = {"task": task, "target": target, "labels": [str(v) for v in labels],
                  "positive_label": None if positive is None else str(labels[positive]), "metrics": {}}
        for name, train in (("trtr", "real"), ("tstr", "synthetic")):
            result["metrics"][name] = _classify(
                x[train][keep[train]], y[train][keep[train]], x["holdout"][keep["holdout"]],
                y["holdout"][keep["holdout"]], len(labels), positive, seed, max_iter,
                [columns.types[c] in DISCRETE for c in features])
    else:
        y = {k: as_float(frames[k][target], kind) for k in frames}
        result = {"task": task, "target": target, "metrics": {}}
        for name, train in (("trtr", "real"), ("tstr", "synthetic")):
            ok_train, ok_test = ~np.isnan(y[train]), ~np.isnan(y["holdout"])
            result["metrics"][name] = _regress(
                x[train][ok_train], y[train][ok_train], x["holdout"][ok_test], y["holdout"][ok_test],
                seed, max_iter, [columns.types[c] in DISCRETE for c in features])
    result["ratio"] = {
        metric: (tstr / trtr if tstr is not None and trtr not in (None, 0) else None)
        for metric, trtr in result["metrics"]["trtr"].items()
        if metric != "n_train"
        for tstr in [result["metrics"]["tstr"].get(metric)]
    }
    result["features"] = features
    return result


def _encode_features(frames: dict[str, pd.DataFrame], features: list[str],
                     columns: Columns) -> dict[str, np.ndarray]:
    """Numbers as floats, labels as integer codes shared by all three tables (missing → NaN)."""
    import numpy as np
    import pandas as pd

    out = {k: np.empty((len(df), len(features)), dtype=np.float64) for k, df in frames.items()}
    for j, name in enumerate(features):
        kind = columns.types[name]
        if kind in CONTINUOUS:
            for k, df in frames.items():
                out[k][:, j] = as_float(df[name], kind)
        else:
            joint = pd.concat([df[name].astype(object) for df in frames.values()], ignore_index=True)
            c, uniques = pd.factorize(joint, use_na_sentinel=True)
            c = c.astype(np.float64)
            c[c < 0] = np.nan
            if len(uniques) > 250:  # HistGradientBoosting's limit for categorical features
                c = np.where(c >= 250, 249, c)
            start = 0
            for k, df in frames.items():
                out[k][:, j] = c[start:start + len(df)]
                start += len(df)
    return out


def _encode_labels(frames: dict[str, pd.DataFrame], target: str) -> tuple[dict[str, np.ndarray], list]:
    import numpy as np

    r, s, labels = codes(frames["real"][target], frames["synthetic"][target], keep_missing=False)
    h_all, _, labels_h = codes(frames["holdout"][target], frames["real"][target], keep_missing=False)
    # map holdout codes onto the real/synthetic label list; labels unseen there become new classes
    index = {v: i for i, v in enumerate(labels)}
    for v in labels_h:
        if v not in index:
            index[v] = len(labels)
            labels.append(v)
    mapping = np.array([index[v] for v in labels_h] + [-1], dtype=np.int64)
    h = mapping[h_all]
    return {"real": r, "synthetic": s, "holdout": h}, labels


def _positive_label(y_real: np.ndarray, labels: list) -> int | None:
    """For a two-class target, the rarer real class (True for booleans); None for multi-class."""
    import numpy as np

    if len(labels) != 2:
        return None
    for i, v in enumerate(labels):
        if v is True or (isinstance(v, np.bool_) and bool(v)):
            return i
    counts = np.bincount(y_real[y_real >= 0], minlength=2)
    return int(np.argmin(counts))


def _classify(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
              n_labels: int, positive: int | None, seed: int, max_iter: int,
              categorical: list[bool]) -> dict:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import f1_score, roc_auc_score

    present = np.unique(y_train)
    if len(present) < 2:
        return {"roc_auc": None, "f1": None, "accuracy": None, "n_train": int(len(y_train)),
                "error": "the training data holds a single class"}
    x_train, x_test, categorical = _usable(x_train, x_test, categorical)
    model = HistGradientBoostingClassifier(max_iter=max_iter, random_state=seed,
                                           categorical_features=np.array(categorical, dtype=bool))
    with _threads(len(y_train)):
        model.fit(x_train, y_train)
        raw = model.predict_proba(x_test)
    proba = np.zeros((len(x_test), n_labels))
    proba[:, model.classes_] = raw
    pred = model.classes_[np.argmax(raw, axis=1)]
    accuracy = float(np.mean(pred == y_test))
    if positive is not None:
        auc = float(roc_auc_score(y_test == positive, proba[:, positive])) \
            if len(np.unique(y_test == positive)) == 2 else None
        f1 = float(f1_score(y_test == positive, pred == positive))
    else:
        seen = np.unique(y_test)
        p = proba[:, seen]
        p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
        auc = float(roc_auc_score(y_test, p, multi_class="ovr", average="macro", labels=seen)) \
            if len(seen) > 2 else None
        f1 = float(f1_score(y_test, pred, average="macro"))
    return {"roc_auc": auc, "f1": f1, "accuracy": accuracy, "n_train": int(len(y_train))}


def _regress(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
             seed: int, max_iter: int, categorical: list[bool]) -> dict:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.metrics import r2_score

    if len(y_train) < 2 or len(y_test) < 2:
        return {"r2": None, "n_train": int(len(y_train)), "error": "too few rows with a target value"}
    x_train, x_test, categorical = _usable(x_train, x_test, categorical)
    model = HistGradientBoostingRegressor(max_iter=max_iter, random_state=seed,
                                          categorical_features=np.array(categorical, dtype=bool))
    with _threads(len(y_train)):
        model.fit(x_train, y_train)
        pred = model.predict(x_test)
    return {"r2": float(r2_score(y_test, pred)), "n_train": int(len(y_train))}


def _usable(x_train: np.ndarray, x_test: np.ndarray,
            categorical: list[bool]) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """Drop feature columns with no value at all in the training rows (the model cannot split on them)."""
    import numpy as np

    keep = ~np.all(np.isnan(x_train), axis=0)
    if not keep.any():
        # nothing to learn from: one constant feature, so the model predicts the base rate
        return np.zeros_like(x_train[:, :1]), np.zeros_like(x_test[:, :1]), [False]
    return x_train[:, keep], x_test[:, keep], [c for c, k in zip(categorical, keep) if k]


def _threads(n_rows: int):
    """One OpenMP thread for small fits: on a busy machine the threads mostly wait for each other."""
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1) if n_rows < _SMALL_FIT else nullcontext()
