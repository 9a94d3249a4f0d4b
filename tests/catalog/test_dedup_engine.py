"""The cascade: stages, union-find across stages, keep policies, scope, errors."""

from __future__ import annotations

import numpy as np
import pytest

from catalog.dedup import DedupItem, find_duplicates
from catalog.errors import BadInput, SynthcatError

BASE = ("the committee met on tuesday to review the budget for the coming year and agreed to "
        "postpone the vote on new hires until the auditors have finished their report")
NEAR = BASE.replace("tuesday", "wednesday")
OTHER = "a recipe for lemon cake with butter sugar flour eggs and the zest of two lemons"


def _unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def _vectors(rows: list[list[float]]) -> np.ndarray:
    return np.stack([_unit(r) for r in rows])


def _by_id(result):
    return {r.record_id: r for r in result.removed}


def test_each_stage_reports_its_own_score():
    items = [DedupItem("a", BASE), DedupItem("b", BASE.upper() + "  "), DedupItem("c", NEAR),
             DedupItem("d", OTHER), DedupItem("e", "lemon cake recipe: butter, sugar, flour, eggs")]
    vecs = _vectors([[1, 0, 0], [1, 0, 0], [0.98, 0.2, 0], [0, 1, 0], [0, 0.95, 0.3]])
    res = find_duplicates(items, vectors=vecs, minhash_threshold=0.5, semantic_threshold=0.9)
    rem = _by_id(res)
    assert set(rem) == {"b", "c", "e"}
    assert (rem["b"].stage, rem["b"].score, rem["b"].matched) == ("exact", 1.0, "a")
    assert rem["c"].stage == "minhash" and 0.5 <= rem["c"].score < 1.0 and rem["c"].matched == "a"
    assert rem["e"].stage == "semantic" and rem["e"].duplicate_of == "d"
    assert rem["e"].score == pytest.approx(float(vecs[3] @ vecs[4]), abs=1e-5)
    assert res.counts == {"exact": 1, "minhash": 1, "semantic": 1}
    assert [set(c.members) for c in res.clusters] == [{"a", "b", "c"}, {"d", "e"}]


def test_stages_can_be_switched_off():
    items = [DedupItem(1, BASE), DedupItem(2, BASE.lower()), DedupItem(3, NEAR)]
    res = find_duplicates(items, exact=False, semantic=False)
    assert res.counts == {"minhash": 2} and res.removed_ids() == {2, 3}
    res = find_duplicates(items, minhash=False, semantic=False)
    assert res.counts == {"exact": 1} and res.removed_ids() == {2}


def test_near_misses_survive_every_stage():
    items = [DedupItem(i, t) for i, t in enumerate([
        "Invoice 48213 for Alice Smith: 3 chairs, total 240 EUR, due 2024-03-01",
        "Invoice 99107 for Bruno Costa: 7 tables, total 910 EUR, due 2024-06-15",
        "Invoice 12555 for Chen Wei: 1 lamp, total 35 EUR, due 2024-01-20",
    ])]
    res = find_duplicates(items, semantic=False, punctuation_blind=True)
    assert res.removed == [] and res.clusters == []


def test_union_find_joins_stages_and_keeper_can_change():
    # exact joins 1-2, minhash joins 2's cluster with 3 which is longest -> 3 kept, 1 and 2 removed
    longer = BASE + " in full"
    items = [DedupItem(1, BASE), DedupItem(2, BASE.title()), DedupItem(3, longer)]
    res = find_duplicates(items, semantic=False, keep="longest")
    rem = _by_id(res)
    assert set(rem) == {1, 2}
    assert all(r.duplicate_of == 3 for r in rem.values())
    assert len(res.clusters) == 1 and res.clusters[0].keeper == 3
    assert {rem[1].stage, rem[2].stage} == {"exact", "minhash"}
    exact_removed = next(r for r in rem.values() if r.stage == "exact")
    assert exact_removed.score == 1.0
    minhash_removed = next(r for r in rem.values() if r.stage == "minhash")
    assert minhash_removed.matched == 3 and minhash_removed.score < 1.0


@pytest.mark.parametrize(("keep", "kept"), [("first", "old"), ("longest", "long"),
                                             ("quality", "good"), ("real", "realrec")])
def test_keep_policies(keep, kept):
    items = [
        DedupItem("new", BASE + " x", created=50, quality=0.2),
        DedupItem("old", BASE, created=10, quality=0.1),
        DedupItem("long", BASE + " with a longer tail", created=30, quality=0.3),
        DedupItem("good", BASE + " y", created=40, quality=0.9),
        DedupItem("realrec", BASE + " z", created=20, quality=None, origin="real"),
        DedupItem("noscore", BASE + " w", created=5, quality=None),
    ]
    if keep == "first":
        items = items[:-1]   # "noscore" is the oldest; keep it out so "old" is oldest
    res = find_duplicates(items, semantic=False, keep=keep, minhash_threshold=0.5)
    survivors = {i.record_id for i in items} - res.removed_ids()
    assert survivors == {kept}
    assert all(r.duplicate_of == kept for r in res.removed)


def test_references_are_never_removed_whatever_the_policy():
    items = [DedupItem("check-old", BASE, created=1, quality=1.0, origin="real"),
             DedupItem("ref-new", BASE.upper(), created=9, quality=0.0, reference=True),
             DedupItem("ref-copy", BASE + "!", created=8, reference=True),
             DedupItem("check-other", OTHER, created=2)]
    for keep in ("first", "longest", "quality", "real"):
        res = find_duplicates(items, semantic=False, keep=keep)
        assert res.removed_ids() == {"check-old"}
        assert res.removed[0].duplicate_of in {"ref-new", "ref-copy"}
        assert res.checked == 2 and res.references == 2


def test_duplicates_among_references_only_are_ignored():
    items = [DedupItem("r1", BASE, reference=True), DedupItem("r2", BASE, reference=True),
             DedupItem("c1", OTHER)]
    res = find_duplicates(items, vectors=_vectors([[1, 0], [1, 0], [0, 1]]))
    assert res.removed == [] and res.clusters == []


def test_across_datasets():
    items = [DedupItem(1, BASE, dataset="A"), DedupItem(2, OTHER, dataset="A"),
             DedupItem(3, NEAR, dataset="B"), DedupItem(4, OTHER.upper(), dataset="B"),
             DedupItem(5, "something only B has to say about trains", dataset="B")]
    res = find_duplicates(items, semantic=False)
    assert res.removed_ids() == {3, 4}
    assert {r.record_id: r.duplicate_of for r in res.removed} == {3: 1, 4: 2}


def test_embed_called_only_for_survivors():
    seen: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        seen.append(list(texts))
        return np.stack([_unit([1.0, 0.1 * k]) for k in range(len(texts))])

    items = [DedupItem(1, BASE), DedupItem(2, BASE.upper()), DedupItem(3, OTHER)]
    res = find_duplicates(items, embed=embed, semantic_threshold=0.99)
    assert seen == [[BASE, OTHER]]
    assert res.counts == {"exact": 1, "minhash": 0, "semantic": 1}
    assert _by_id(res)[3].duplicate_of == 1


def test_reproducible_with_seed():
    rng = np.random.default_rng(11)
    words = [f"w{k}" for k in range(40)]
    texts = [" ".join(rng.choice(words, size=15)) for _ in range(300)]
    texts += [t + " tail" for t in texts[:60]]
    items = [DedupItem(i, t) for i, t in enumerate(texts)]
    a = find_duplicates(items, semantic=False, seed=3, minhash_threshold=0.6)
    b = find_duplicates(items, semantic=False, seed=3, minhash_threshold=0.6)
    assert a.to_dict()["removals"] == b.to_dict()["removals"]
    assert a.removed_ids() >= set(range(300, 360))


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"keep": "newest"}, "keep"),
    ({"minhash_threshold": 1.5}, "minhash_threshold"),
    ({"semantic_threshold": 0}, "semantic_threshold"),
    ({"ngram": 0}, "ngram"),
    ({"ngram_unit": "byte"}, "ngram_unit"),
    ({"vectors": np.zeros((5, 3))}, "vectors"),
    ({}, "vectors"),
])
def test_bad_arguments(kwargs, param):
    items = [DedupItem(1, BASE), DedupItem(2, OTHER)]
    with pytest.raises(BadInput) as err:
        find_duplicates(items, **kwargs)
    assert err.value.param == param


def test_bad_items():
    with pytest.raises(BadInput, match="appears twice"):
        find_duplicates([DedupItem(1, "a"), DedupItem(1, "b")], semantic=False)
    with pytest.raises(SynthcatError, match="text must be a string"):
        find_duplicates([DedupItem(1, None)], semantic=False)  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="origin"):
        find_duplicates([DedupItem(1, "a", origin="fake")], semantic=False)


def test_empty_and_blank_inputs():
    assert find_duplicates([], semantic=False).removed == []
    res = find_duplicates([DedupItem(1, ""), DedupItem(2, "   "), DedupItem(3, "")], semantic=False)
    assert res.removed == []
