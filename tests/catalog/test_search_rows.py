"""Search hits' rows fetched by rowid from an in-memory map, which is a snapshot and must not be trusted."""

from __future__ import annotations

import numpy as np

from catalog.search.rows import RowFetcher

TEXTS = [f"support ticket number {i}: the router light blinks {['red', 'green', 'amber'][i % 3]}" for i in range(30)]


def rows_by_id(cat) -> dict[int, tuple]:
    return {r[0]: r for r in cat.con.execute(
        "SELECT r.record_id, r.external_id, d.name, r.text "
        "FROM records r JOIN datasets d USING (dataset_id)").fetchall()}


def test_fetch_by_rowid_returns_the_asked_records(cat):
    cat.add_records("tickets", [{"id": f"t{i}", "text": t} for i, t in enumerate(TEXTS)], id_field="id", embed=False)
    truth = rows_by_id(cat)
    fetcher = RowFetcher(cat.con)
    wanted = sorted(truth)[::4] + [10_000]  # and one id no record has
    assert fetcher.fetch(wanted) == {i: truth[i] for i in wanted if i in truth}
    assert fetcher.fetch([]) == {}


def test_a_stale_map_is_caught_and_the_rows_found_by_record_id(cat):
    """Records added after the map was read are found; a rowid now holding another record (as after
    DuckDB rewrites row groups) does not hand back the wrong row; deleted records are left out."""
    cat.add_records("tickets", [{"id": f"t{i}", "text": t} for i, t in enumerate(TEXTS)], id_field="id", embed=False)
    fetcher = RowFetcher(cat.con)
    cat.add_records("late", [{"id": "z1", "text": "a satellite dish on the roof"}], id_field="id", embed=False)
    truth = rows_by_id(cat)
    late = max(truth)
    assert late not in fetcher.record_ids
    assert fetcher.fetch([late, 3]) == {late: truth[late], 3: truth[3]}
    # every rowid in the map now points at another record
    fetcher.rowids = np.roll(fetcher.rowids, 1)
    asked = [2, 5, 17]
    assert fetcher.fetch(asked) == {i: truth[i] for i in asked}
    cat.delete("late")
    assert fetcher.fetch([late, 2]) == {2: truth[2]}


def test_searcher_texts_stay_right_after_records_are_added(cat):
    """A searcher (its row map read at the first query) still returns each hit's own text after the
    catalog grows through the same connection, as during a generation job."""
    cat.add_records("tickets", [{"id": f"t{i}", "text": t} for i, t in enumerate(TEXTS)], id_field="id", embed=False)
    searcher = cat.searcher(mode="keyword")
    first = searcher.run(["amber light"], k=3)[0]
    assert first and all("amber" in h.text for h in first)
    cat.add_records("more", [{"id": "m1", "text": "amber amber amber light on the router"}], id_field="id",
                    embed=False)
    truth = {r[1]: r[3] for r in rows_by_id(cat).values()}
    for hit in searcher.run(["amber light", "green light"], k=5)[0]:
        assert hit.text == truth[hit.external_id]
