"""JSON as the catalog stores and prints it: finite numbers only, bounded nesting, one value per key.

* :func:`json_safe` turns NaN and infinities into ``None`` (JSON has no such numbers; printing them
  as ``NaN`` would make output that JSON parsers refuse).
* :func:`canonical_json` is the text stored as a record's fields: the parsed row serialised again,
  so a key repeated in the input keeps the one value the record's text was built from (the last,
  as every reader here takes it), and non-JSON Python values become strings.
* :data:`MAX_NESTING` bounds nesting for every reader, so no parser or serialiser used later on the
  stored JSON hits its recursion limit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import orjson

MAX_NESTING = 100


class NotStorable(ValueError):
    """A value that cannot be stored as a record's JSON fields (the message says why)."""


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats replaced by ``None`` and decimals as floats (lists, tuples and
    dicts walked)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):  # SQL DECIMAL: a JSON number (NaN-free), not a string
        return float(value) if value.is_finite() else None
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    return value


def nesting_depth(value: Any) -> int:
    """How deeply lists and dicts nest in ``value`` (a scalar is 0, ``{}`` is 1); iterative, so any
    depth is measured without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def json_pointer(name: str) -> str:
    """A JSON pointer (RFC 6901) to the top-level key ``name``: works for any characters, where a
    JSONPath such as ``$."..."`` breaks on backslashes and quotes."""
    return "/" + name.replace("~", "~0").replace("/", "~1")


def _default(value: Any) -> str:
    return str(value)


_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def stored_json(row: dict, raw: str | None) -> str:
    """The JSON text to store for ``row``: the file's own line when it says the same thing (each
    top-level key written once, shallow enough), otherwise :func:`canonical_json`. Keeping the line
    keeps the user's formatting and costs nothing; a repeated key must not, or the stored JSON would
    hold a value the record's text was not made from."""
    if raw is not None and raw.count("[") + raw.count("{") <= MAX_NESTING \
            and all(raw.count(f'"{key}"') == 1 for key in row):
        return raw
    return canonical_json(row)


def canonical_json(row: dict) -> str:
    """The stored JSON text of a row; raises :class:`NotStorable` for rows nested too deeply."""
    try:
        text = orjson.dumps(row, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        if "recursion" in str(exc).lower():
            raise NotStorable(f"nested deeper than {MAX_NESTING} levels") from None
        raise NotStorable(f"cannot be stored as JSON: {exc}") from None
    if text.count(b"[") + text.count(b"{") > MAX_NESTING and nesting_depth(row) > MAX_NESTING:
        raise NotStorable(f"nested deeper than {MAX_NESTING} levels")
    return text.decode("utf-8")
