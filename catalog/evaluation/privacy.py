"""Privacy of a synthetic table: copied rows and distance to the closest real record (DCR).

* **exact copies**: synthetic rows equal to some real row on every compared column;
* **DCR**: each synthetic row's distance to its nearest real row (Gower-like, in [0, 1], see
  :mod:`catalog.evaluation.neighbours`), summarised by its median, mean, 5th percentile and the
  share at distance 0;
* **random baseline**: the same DCR for rows drawn uniformly from each real column's range or
  categories; ``synthetic median / baseline median`` near 0 means the synthetic rows hug real
  records far more than chance (SDMetrics' DCRBaselineProtection score is ``min(1, ratio)``);
* **overfitting protection** (with a holdout): the share of synthetic rows closer to the training
  data than to the holdout, the training data subsampled to the holdout's size so that 0.5 is
  what a generator that never saw the training rows gets; score ``min(1, 2 * (1 - share))``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from catalog.evaluation._columns import CONTINUOUS, Columns, as_float
from catalog.evaluation.neighbours import Encoded, NeighbourIndex, encode

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

_EXAMPLES = 5


def privacy(real: pd.DataFrame, synth: pd.DataFrame, columns: Columns, holdout: pd.DataFrame | None = None,
            *, seed: int = 0, baseline_rows: int = 10_000, max_rows: int | None = None,
            exact_limit: float = 2.5e7) -> dict:
    """Return exact copies, DCR summary, random baseline and (with ``holdout``) overfitting protection.

    ``max_rows`` caps the synthetic rows measured (a seeded sample); ``exact_limit`` is the number
    of row pairs up to which the nearest neighbour is found by exhaustive search.
    """
    import numpy as np

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    synth = synth.rename(columns=str)
    if max_rows is not None and len(synth) > max_rows:
        synth = synth.iloc[np.sort(rng.choice(len(synth), size=max_rows, replace=False))]
    frames = {"real": real.rename(columns=str), "synthetic": synth,
              "baseline": _random_rows(real.rename(columns=str), columns, min(baseline_rows, len(synth)), rng)}
    if holdout is not None:
        frames["holdout"] = holdout.rename(columns=str)
    enc = encode(frames, columns)

    copies = exact_copies(_raw(frames["synthetic"], columns, enc["synthetic"]),
                          _raw(frames["real"], columns, enc["real"]))
    to_real = NeighbourIndex(enc["real"], exact_limit=exact_limit, seed=seed)
    dcr, nn_idx, method = to_real.query(enc["synthetic"])
    base, _, _ = to_real.query(enc["baseline"])
    copy_rows = np.flatnonzero(copies)
    result: dict = {
        "rows_compared": int(len(synth)),
        "columns": columns.scored,
        "exact_copies": {
            "count": int(copies.sum()),
            "share": float(copies.mean()),
            "examples": [{"synthetic_row": int(synth.index[i]) if _int_index(synth) else int(i),
                          "real_row": int(nn_idx[i])} for i in copy_rows[:_EXAMPLES]],
        },
        "dcr": _summary(dcr) | {"method": method},
        "baseline": {"random_rows": int(len(base)), **{f"random_{k}": v for k, v in _summary(base).items()
                                                        if k in ("median", "mean")}},
    }
    median_synth, median_base = result["dcr"]["median"], result["baseline"]["random_median"]
    ratio = median_synth / median_base if median_base else None
    result["baseline"]["median_ratio"] = ratio
    result["baseline"]["score"] = None if ratio is None else min(1.0, ratio)
    if holdout is not None:
        result["holdout"] = _overfitting(enc, to_real, rng, exact_limit, seed)
    result["seconds"] = time.perf_counter() - started
    return result


def exact_copies(query: Encoded, ref: Encoded) -> np.ndarray:
    """Boolean mask of ``query`` rows that equal some ``ref`` row on every column."""
    import numpy as np
    import pandas as pd

    def hashes(e: Encoded) -> np.ndarray:
        parts = {f"n{j}": e.num[:, j] for j in range(e.num.shape[1])}
        parts |= {f"c{j}": e.cat[:, j] for j in range(e.cat.shape[1])}
        return pd.util.hash_pandas_object(pd.DataFrame(parts), index=False).to_numpy()

    return np.isin(hashes(query), hashes(ref))


def _raw(frame: pd.DataFrame, columns: Columns, enc: Encoded) -> Encoded:
    """The encoded table with unscaled float64 numbers, so that equality is exact equality."""
    import numpy as np

    num_cols = [c for c in columns.scored if columns.types[c] in CONTINUOUS]
    num = np.empty((len(frame), len(num_cols)), dtype=np.float64)
    for j, name in enumerate(num_cols):
        num[:, j] = as_float(frame[name], columns.types[name])
    return Encoded(num, enc.cat)


def _overfitting(enc: dict[str, Encoded], to_real: NeighbourIndex, rng: np.random.Generator,
                 exact_limit: float, seed: int) -> dict:
    import numpy as np

    train, hold, synth = enc["real"], enc["holdout"], enc["synthetic"]
    if len(train) > len(hold):
        keep = np.sort(rng.choice(len(train), size=len(hold), replace=False))
        train = Encoded(train.num[keep], train.cat[keep])
    d_train, _, _ = NeighbourIndex(train, exact_limit=exact_limit, seed=seed).query(synth)
    d_hold, _, _ = NeighbourIndex(hold, exact_limit=exact_limit, seed=seed).query(synth)
    closer = float(np.mean(d_train < d_hold) + 0.5 * np.mean(d_train == d_hold))
    ref, _, _ = to_real.query(hold)
    return {
        "train_rows_used": int(len(train)),
        "holdout_rows": int(len(hold)),
        "share_closer_to_train": closer,
        "score": min(1.0, 2.0 * (1.0 - closer)),
        "holdout_to_train_dcr_median": float(np.median(ref)),
    }


def _random_rows(real: pd.DataFrame, columns: Columns, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Rows drawn uniformly and independently per column from the real range / categories."""
    import numpy as np
    import pandas as pd

    out = {}
    for name in columns.scored:
        kind = columns.types[name]
        if kind in CONTINUOUS:
            values = as_float(real[name], kind)
            values = values[~np.isnan(values)]
            lo, hi = (values.min(), values.max()) if len(values) else (0.0, 0.0)
            out[name] = rng.uniform(lo, hi, size=n)
            if kind == "datetime":
                out[name] = pd.to_datetime(out[name].astype("int64"))
        else:
            labels = pd.unique(real[name].astype(object))
            out[name] = labels[rng.integers(0, len(labels), size=n)]
    return pd.DataFrame(out)


def _summary(d: np.ndarray) -> dict:
    import numpy as np

    if len(d) == 0:
        return {"median": None, "mean": None, "p05": None, "min": None, "zero_share": None}
    return {
        "median": float(np.median(d)),
        "mean": float(np.mean(d)),
        "p05": float(np.percentile(d, 5)),
        "min": float(np.min(d)),
        "zero_share": float(np.mean(d == 0)),
    }


def _int_index(df: pd.DataFrame) -> bool:
    import pandas as pd

    return pd.api.types.is_integer_dtype(df.index.dtype)
