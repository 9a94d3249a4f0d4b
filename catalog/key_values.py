"""``KEY=VALUE`` option values (filters, conditions, method parameters, class shares), parsed in one
place so every option reads them the same way: the first ``=`` separates, the key is trimmed and
must not be empty, the value is kept as given."""

from __future__ import annotations

import json
from collections.abc import Iterable

from catalog.errors import BadInput


def split_key_value(text: str, *, param: str, example: str) -> tuple[str, str]:
    """``"income=>50K"`` -> ``("income", ">50K")``; ``param`` and ``example`` word the error."""
    if not isinstance(text, str):
        raise BadInput(f"expects KEY=VALUE text such as {example!r}, got {type(text).__name__}", param=param)
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise BadInput(f"expects KEY=VALUE such as {example!r}, got {text!r}", param=param)
    return key.strip(), value


def key_values(items: Iterable[str] | None, *, param: str, example: str) -> dict[str, str]:
    """Several ``KEY=VALUE`` texts as a dict (a repeated key keeps its last value)."""
    return dict(split_key_value(item, param=param, example=example) for item in items or [])


def json_or_text(value: str) -> object:
    """A value read as JSON when it parses (numbers, true/false, null, lists), else the text itself."""
    try:
        return json.loads(value)
    except ValueError:
        return value
