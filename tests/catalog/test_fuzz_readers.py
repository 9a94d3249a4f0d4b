"""Fuzzed input for every reader (reliability issue, part 5): whatever bytes a file holds, an import
either stores its records or raises one clear SynthcatError, and a failed import changes nothing.

Examples are bounded so the suite stays fast; each test runs a fixed, seeded number of them.
"""

from __future__ import annotations

import io
import itertools
import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.errors import SynthcatError

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_names = itertools.count()

# ------------------------------------------------------------------------------------ strategies

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=20)
keys = st.sampled_from(["text", "prompt", "response", "content", "id", "messages", "title", "x", ""])


def _dump(value) -> str:
    """JSON the way a careless writer makes it: NaN and Infinity written out."""
    return json.dumps(value, allow_nan=True, ensure_ascii=False)


@st.composite
def json_objects(draw) -> str:
    """One JSON object line: usual keys with any values, sometimes a key written twice."""
    items = draw(st.lists(st.tuples(keys, json_values), max_size=5))
    body = ", ".join(f"{json.dumps(k)}: {_dump(v)}" for k, v in items)
    return "{" + body + "}"


@st.composite
def nasty_lines(draw) -> str:
    kind = draw(st.sampled_from(["object", "deep", "nan", "garbage", "array", "huge", "dup"]))
    if kind == "object":
        return draw(json_objects())
    if kind == "deep":
        depth = draw(st.integers(1, 3000))
        return '{"text": "deep", "a": ' + "[" * depth + "]" * depth + "}"
    if kind == "nan":
        return '{"text": "number", "score": ' + draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999"])) + "}"
    if kind == "garbage":
        return draw(st.text(max_size=60))
    if kind == "array":
        return _dump(draw(st.lists(json_values, max_size=3)))
    if kind == "huge":
        return json.dumps({"text": "x" * draw(st.integers(70_000, 300_000))})
    return '{"text": "first", "text": ' + json.dumps(draw(st.text(max_size=10))) + "}"


@st.composite
def jsonl_files(draw) -> bytes:
    lines = draw(st.lists(nasty_lines(), min_size=1, max_size=8))
    data = "\n".join(lines).encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data  # a BOM
    if draw(st.booleans()):
        cut = draw(st.integers(0, max(0, len(data) - 1)))
        data = data[:cut] + draw(st.binary(max_size=12)) + data[cut:]  # bytes that may not be UTF-8
    return data


cells = st.one_of(st.text(max_size=20), st.integers().map(str), st.floats().map(repr),
                  st.sampled_from(["", "NaN", "nan", "inf", "?", '"', '"unterminated', "a,b", "\x00", "\r"]))


@st.composite
def delimited_files(draw, sep: str) -> bytes:
    width = draw(st.integers(1, 4))
    header = draw(st.lists(st.sampled_from(["text", "a", "b", "prompt", "response", "", "text"]),
                           min_size=width, max_size=width))
    rows = draw(st.lists(st.lists(cells, min_size=max(0, width - 1), max_size=width + 1), max_size=8))
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = data.decode("utf-8", "ignore").encode("latin-1", "replace")  # another encoding
    return data


# ------------------------------------------------------------------------------------- checks


def _state(cat) -> list:
    return [(d.name, d.row_count) for d in cat.datasets()]


def _import_either_works_or_says_why(cat, path, **options) -> None:
    before = _state(cat)
    name = f"fuzz-{next(_names)}"
    try:
        result = cat.import_file(path, name, embed=False, pii="off", **options)
    except SynthcatError as exc:
        assert str(exc).strip(), "an error must say something"
        assert "\n" not in str(exc).strip() or "Traceback" not in str(exc)
        assert _state(cat) == before, "a failed import must leave the catalog as it was"
        return
    assert result.rows >= 1
    assert cat.dataset(name).row_count == result.rows
    if result.kind != "table":
        for record in cat.records(name):
            json.dumps(record.fields, allow_nan=False)  # what was stored is valid JSON
            assert record.text.strip()


@FUZZ
@given(data=jsonl_files())
def test_jsonl_files(cat, tmp_path, data):
    path = tmp_path / f"f{next(_names)}.jsonl"
    path.write_bytes(data)
    _import_either_works_or_says_why(cat, path)


@FUZZ
@given(data=jsonl_files())
def test_json_array_files(cat, tmp_path, data):
    text = data.decode("utf-8", "replace").strip().splitlines()
    path = tmp_path / f"f{next(_names)}.json"
    path.write_text("[" + ",".join(text) + "]", encoding="utf-8")
    _import_either_works_or_says_why(cat, path)


@FUZZ
@given(data=delimited_files(","), kind=st.sampled_from([None, "text"]))
def test_csv_files(cat, tmp_path, data, kind):
    path = tmp_path / f"f{next(_names)}.csv"
    path.write_bytes(data)
    _import_either_works_or_says_why(cat, path, kind=kind)


@FUZZ
@given(data=delimited_files("\t"))
def test_tsv_files(cat, tmp_path, data):
    path = tmp_path / f"f{next(_names)}.tsv"
    path.write_bytes(data)
    _import_either_works_or_says_why(cat, path)


@FUZZ
@given(raw=st.binary(max_size=300), suffix=st.sampled_from([".jsonl", ".json", ".csv", ".tsv", ".parquet",
                                                             ".jsonl.gz"]))
def test_random_bytes_under_any_extension(cat, tmp_path, raw, suffix):
    path = tmp_path / f"f{next(_names)}{suffix}"
    path.write_bytes(raw)
    _import_either_works_or_says_why(cat, path)


@FUZZ
@given(rows=st.lists(st.dictionaries(st.sampled_from(["text", "n", "x"]),
                                     st.one_of(st.text(max_size=12), st.floats(), st.integers(-5, 5), st.none()),
                                     min_size=1, max_size=3), min_size=1, max_size=6),
       kind=st.sampled_from([None, "text"]))
def test_parquet_files(cat, tmp_path, rows, kind):
    columns = sorted({k for r in rows for k in r})
    table = pa.table({c: pa.array([_stringish(r.get(c)) for r in rows]) for c in columns})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    path = tmp_path / f"f{next(_names)}.parquet"
    path.write_bytes(buffer.getvalue())
    _import_either_works_or_says_why(cat, path, kind=kind)


def _stringish(value):
    """Parquet columns need one type: keep strings, write other values as text (NaN too)."""
    if value is None or isinstance(value, str):
        return value
    return "nan" if isinstance(value, float) and math.isnan(value) else str(value)


@FUZZ
@given(data=jsonl_files())
def test_the_cli_never_prints_a_traceback(invoke, tmp_path, data):
    path = tmp_path / f"f{next(_names)}.jsonl"
    path.write_bytes(data)
    result = invoke("import", str(path), "--dataset", f"cli-{next(_names)}", "--no-embed", "--pii", "off")
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1
