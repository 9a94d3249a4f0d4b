"""Query parameters of the web app, parsed into typed values or refused with a :class:`BadInput`
that names the parameter as the URL spells it.

Library errors name Python parameters in backticks (```field_equals```); :func:`web_message` shows
each as the URL parameter a user typed (``field``), as the CLI shows its flags.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from catalog.errors import BadInput

MAX_ID = 2**63 - 1  # record, run and evaluation ids are BIGINT: a bigger number names nothing
MAX_K = 100
# library parameter -> URL parameter, where they differ
URL_NAMES = {"field_equals": "field", "datasets": "dataset", "tags": "tag", "query": "q", "name": "dataset",
             "target": "id"}
_PARAM = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


def web_message(message: str) -> str:
    """A library message with each `parameter` shown by its URL name, without backticks."""
    return _PARAM.sub(lambda m: f"'{URL_NAMES.get(m.group(1), m.group(1))}'", message)


def path_id(text: str, what: str) -> int | None:
    """A record, run or evaluation id from a URL path; ``None`` when it cannot name one (the app
    answers 404 for ``what``)."""
    if not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


class QueryParams:
    """Typed access to a request's query string (repeated keys kept)."""

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self.items = list(items)

    @classmethod
    def of(cls, query: Mapping | Any) -> QueryParams:
        return cls(query.multi_items() if hasattr(query, "multi_items") else list(query.items()))

    def get(self, name: str) -> str | None:
        values = [v for k, v in self.items if k == name]
        return values[-1].strip() if values and values[-1].strip() else None

    def all(self, name: str) -> list[str]:
        return [v.strip() for k, v in self.items if k == name and v.strip()]

    def integer(self, name: str, default: int, *, low: int = 1, high: int = MAX_ID) -> int:
        text = self.get(name)
        if text is None:
            return default
        if not re.fullmatch(r"[0-9]{1,19}", text) or not low <= int(text) <= high:
            raise BadInput(f"must be a whole number from {low} to {high}, got {text[:40]!r}", param=name)
        return int(text)

    def number(self, name: str) -> float | None:
        text = self.get(name)
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            raise BadInput(f"must be a number, got {text[:40]!r}", param=name) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise BadInput(f"must be a finite number, got {text[:40]!r}", param=name)
        return value

    def flag(self, name: str) -> bool:
        text = (self.get(name) or "").lower()
        if text in ("", "0", "false", "no", "off"):
            return False
        if text in ("1", "true", "yes", "on"):
            return True
        raise BadInput(f"must be 1 or 0, got {text[:40]!r}", param=name)

    def choice(self, name: str, choices: Sequence[str], default: str | None = None) -> str | None:
        text = self.get(name)
        if text is None:
            return default
        if text not in choices:
            raise BadInput(f"must be one of {', '.join(choices)}, got {text[:40]!r}", param=name)
        return text

    def field_filters(self, name: str = "field") -> dict[str, str]:
        """``field=KEY=VALUE`` parameters (repeatable) as a dict."""
        out: dict[str, str] = {}
        for item in self.all(name):
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise BadInput(f"must look like FIELD=VALUE (e.g. category=billing), got {item[:60]!r}", param=name)
            out[key.strip()] = value.strip()
        return out


def search_settings(params: QueryParams) -> tuple[str | None, int, dict[str, Any]]:
    """The query, ``k`` and the :meth:`catalog.Catalog.searcher` settings a search URL asks for."""
    query = params.get("q")
    if query is not None and len(query) > 10_000:
        raise BadInput("is longer than 10,000 characters", param="q")
    k = params.integer("k", 10, high=MAX_K)
    settings: dict[str, Any] = {
        "mode": params.choice("mode", ("hybrid", "keyword", "vector"), "hybrid"),
        "datasets": tuple(params.all("dataset")),
        "origin": params.choice("origin", ("real", "synthetic")),
        "kind": params.choice("kind", ("text", "pairs", "conversations")),
        "tags": tuple(params.all("tag")),
        "field_equals": params.field_filters(),
        "min_quality": params.number("min_quality"),
        "created_after": params.get("created_after"),
        "created_before": params.get("created_before"),
        "include_removed": params.flag("include_removed"),
        "fusion": params.choice("fusion", ("convex", "rrf"), "convex"),
        "alpha": params.number("alpha"),
    }
    alpha = settings["alpha"]
    if alpha is not None and not 0.0 <= alpha <= 1.0:
        raise BadInput(f"must lie in [0, 1], got {alpha}", param="alpha")
    return query, k, settings
