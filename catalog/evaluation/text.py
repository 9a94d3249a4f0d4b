"""Evaluation of a synthetic text dataset against real (or grounding) texts.

* **lengths**: characters and words per text, summary statistics and the KS complement of the
  synthetic against the real length distribution;
* **diversity**: distinct-1 / distinct-2 (distinct word n-grams over all n-grams) and the mean
  pairwise cosine similarity of the embeddings. For unit vectors the mean over all pairs is
  ``(|sum v|^2 - n) / (n (n - 1))``, so it is exact in O(n d) and needs no sampling;
* **novelty**: each synthetic text's nearest real text by cosine (chunked, bounded memory), the
  share at or above ``novelty_threshold``, exact copies after normalisation (Unicode NFKC, case
  folding, whitespace collapsed) and near copies (word 3-gram Jaccard >= ``near_threshold`` by
  MinHash LSH, verified exactly; the dedup engine's when installed, datasketch otherwise);
* **PII** found in the synthetic texts (see :mod:`catalog.evaluation.pii`).

Embeddings come in as arrays or through ``embed(list[str]) -> ndarray``; without either, the
cosine figures are ``None`` and say why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from catalog.errors import BadInput
from catalog.evaluation.pii import scan_texts

if TYPE_CHECKING:
    import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")
_CHUNK = 1024

Embed = Callable[[list[str]], "np.ndarray"]
NearDuplicate = Callable[[list[str], list[str]], "np.ndarray"]


def evaluate_texts(real: Sequence[str], synth: Sequence[str], *, embed: Embed | None = None,
                   real_embeddings: np.ndarray | None = None, synth_embeddings: np.ndarray | None = None,
                   near_duplicate: NearDuplicate | None = None, novelty_threshold: float = 0.9,
                   near_threshold: float = 0.8, pii_examples: int = 5, seed: int = 1) -> dict:
    """Compare synthetic texts with real ones; returns a JSON-serialisable dict.

    ``near_duplicate(synth, real)`` may replace the built-in near-copy detector; it returns one
    boolean per synthetic text.
    """
    import numpy as np

    real = _check_texts(real, "real")
    synth = _check_texts(synth, "synthetic")
    result: dict = {"kind": "text", "rows": {"real": len(real), "synthetic": len(synth)}}
    result["lengths"] = _lengths(real, synth)
    result["diversity"] = {"synthetic": _distinct(synth), "real": _distinct(real)}

    r_emb, s_emb, why = _embeddings(real, synth, embed, real_embeddings, synth_embeddings)
    if r_emb is None or s_emb is None:  # _embeddings gives both or neither
        result["diversity"]["synthetic"]["mean_pairwise_cosine"] = None
        result["diversity"]["real"]["mean_pairwise_cosine"] = None
        result["diversity"]["note"] = why
        nn = None
    else:
        result["diversity"]["synthetic"]["mean_pairwise_cosine"] = mean_pairwise_cosine(s_emb)
        result["diversity"]["real"]["mean_pairwise_cosine"] = mean_pairwise_cosine(r_emb)
        nn = nearest_cosine(s_emb, r_emb)

    norm_real = {normalize(t) for t in real}
    exact = np.array([normalize(t) in norm_real for t in synth], dtype=bool)
    near = near_duplicate(list(synth), list(real)) if near_duplicate else \
        _near_copies(list(synth), list(real), near_threshold, seed)
    near = np.asarray(near, dtype=bool)
    if near.shape != (len(synth),):
        raise BadInput(f"near_duplicate returned {near.shape[0] if near.ndim else 'a scalar'} flags "
                       f"for {len(synth)} synthetic texts")
    novelty: dict = {
        "exact_copies": int(exact.sum()), "exact_copy_share": float(exact.mean()),
        "near_copies": int((near | exact).sum()), "near_copy_share": float((near | exact).mean()),
        "near_threshold": near_threshold, "novelty_threshold": novelty_threshold,
        "copy_examples": [synth[i][:200] for i in np.flatnonzero(exact | near)[:pii_examples]],
    }
    if nn is not None:
        novelty["nn_cosine_mean"] = float(nn.mean())
        novelty["nn_cosine_median"] = float(np.median(nn))
        novelty["share_nn_cosine_at_least_threshold"] = float(np.mean(nn >= novelty_threshold))
        novelty["novel_share"] = float(np.mean((nn < novelty_threshold) & ~exact & ~near))
    else:
        novelty["share_nn_cosine_at_least_threshold"] = None
    result["novelty"] = novelty
    result["pii"] = {"synthetic": scan_texts(synth, examples=pii_examples),
                     "real": scan_texts(real, examples=0)}
    return result


def _check_texts(texts: Sequence[str], role: str) -> list[str]:
    if isinstance(texts, str):
        raise BadInput(f"the {role} texts must be a list of strings, not one string")
    out = list(texts)
    if not out:
        raise BadInput(f"no {role} texts to evaluate")
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise BadInput(f"{role} text {i} is {type(t).__name__}, not a string", line=i + 1)
    return out


def normalize(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _lengths(real: list[str], synth: list[str]) -> dict:
    import numpy as np

    from catalog.evaluation.fidelity import ks_complement

    out: dict = {}
    for unit, count in (("chars", len), ("words", lambda t: len(_WORD.findall(t)))):
        r = np.array([count(t) for t in real], dtype=np.float64)
        s = np.array([count(t) for t in synth], dtype=np.float64)
        out[unit] = {
            "real": _stats(r), "synthetic": _stats(s),
            "ks_complement": ks_complement(r, s)[0],
        }
    return out


def _stats(v: np.ndarray) -> dict:
    import numpy as np

    return {"mean": float(v.mean()), "median": float(np.median(v)), "p10": float(np.percentile(v, 10)),
            "p90": float(np.percentile(v, 90)), "min": float(v.min()), "max": float(v.max())}


def _distinct(texts: list[str]) -> dict:
    unigrams: set = set()
    bigrams: set = set()
    n1 = n2 = 0
    for t in texts:
        words = [w.casefold() for w in _WORD.findall(t)]
        unigrams.update(words)
        n1 += len(words)
        pairs = list(zip(words, words[1:]))
        bigrams.update(pairs)
        n2 += len(pairs)
    return {"distinct_1": len(unigrams) / n1 if n1 else None, "distinct_2": len(bigrams) / n2 if n2 else None}


def _embeddings(real: list[str], synth: list[str], embed: Embed | None, r_emb: np.ndarray | None,
                s_emb: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None, str | None]:
    import numpy as np

    if r_emb is None and embed is not None:
        r_emb = embed(real)
    if s_emb is None and embed is not None:
        s_emb = embed(synth)
    if r_emb is None or s_emb is None:
        return None, None, "no embeddings or embedder given: cosine figures not computed"
    r_emb, s_emb = np.asarray(r_emb, dtype=np.float32), np.asarray(s_emb, dtype=np.float32)
    for emb, texts, role in ((r_emb, real, "real"), (s_emb, synth, "synthetic")):
        if emb.ndim != 2 or emb.shape[0] != len(texts):
            raise BadInput(f"{role} embeddings have shape {emb.shape}, expected ({len(texts)}, dim)")
    if r_emb.shape[1] != s_emb.shape[1]:
        raise BadInput(f"real and synthetic embeddings differ in dimension ({r_emb.shape[1]} vs "
                       f"{s_emb.shape[1]}): were they made by the same embedder?")
    return _unit(r_emb), _unit(s_emb), None


def _unit(x: np.ndarray) -> np.ndarray:
    import numpy as np

    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


def mean_pairwise_cosine(unit_vectors: np.ndarray) -> float | None:
    """Mean cosine over all pairs of distinct rows of already-normalised vectors."""
    import numpy as np

    n = len(unit_vectors)
    if n < 2:
        return None
    total = unit_vectors.astype(np.float64).sum(axis=0)
    self_sim = float(np.einsum("ij,ij->", unit_vectors, unit_vectors, dtype=np.float64))
    return float((total @ total - self_sim) / (n * (n - 1)))


def nearest_cosine(query: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Highest cosine of each query row against all reference rows, a chunk of queries at a time."""
    import numpy as np

    out = np.empty(len(query), dtype=np.float64)
    step = max(1, 4_000_000 // max(len(ref), 1))
    step = min(step, _CHUNK * 16)
    for start in range(0, len(query), step):
        out[start:start + step] = (query[start:start + step] @ ref.T).max(axis=1)
    return out


def _near_copies(synth: list[str], real: list[str], threshold: float = 0.8, seed: int = 1) -> np.ndarray:
    """Synthetic texts whose word 3-gram Jaccard with some real text reaches ``threshold``."""
    import numpy as np

    try:
        from catalog.dedup.minhash import minhash_edges
        from catalog.dedup.normalize import normalize_texts
    except ImportError:
        return _near_copies_datasketch(synth, real, threshold, seed)
    texts = normalize_texts(real + synth, punctuation_blind=True)
    is_real = np.zeros(len(texts), dtype=bool)
    is_real[: len(real)] = True
    i, j, _, _ = minhash_edges(texts, threshold=threshold, seed=seed, reference=is_real)
    flags = np.zeros(len(synth), dtype=bool)
    cross = is_real[i] != is_real[j]
    synth_end = np.where(is_real[i[cross]], j[cross], i[cross]) - len(real)
    flags[synth_end] = True
    return flags


def _near_copies_datasketch(synth: list[str], real: list[str], threshold: float, seed: int) -> np.ndarray:
    import numpy as np
    from datasketch import MinHash, MinHashLSH

    def shingles(text: str) -> set[str]:
        words = _WORD.findall(normalize(text))
        if len(words) < 3:
            return {" ".join(words)} if words else set()
        return {" ".join(words[k:k + 3]) for k in range(len(words) - 2)}

    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    real_sets = []
    for k, text in enumerate(real):
        sh = shingles(text)
        real_sets.append(sh)
        if sh:
            m = MinHash(num_perm=128, seed=seed)
            m.update_batch([s.encode() for s in sh])
            lsh.insert(str(k), m)
    flags = np.zeros(len(synth), dtype=bool)
    for k, text in enumerate(synth):
        sh = shingles(text)
        if not sh:
            continue
        m = MinHash(num_perm=128, seed=seed)
        m.update_batch([s.encode() for s in sh])
        for key in lsh.query(m):
            other = real_sets[int(key)]
            if len(sh & other) / len(sh | other) >= threshold:
                flags[k] = True
                break
    return flags
