"""Robust JSON out of model text: find the first balanced value, mend common slips, check the shape.

Small models wrap JSON in code fences, add prose before or after it, use single quotes, Python
literals or trailing commas. :func:`extract_json` tolerates those; anything else is a
``bad_response`` :class:`~generators.chat.types.ChatError`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from generators.chat.types import ChatError

_OPENERS = {"{": "}", "[": "]"}
_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_BARE_WORD = re.compile(r"[A-Za-z_]+")


def _balanced_end(text: str, start: int) -> int | None:
    """Index one past the bracket that closes ``text[start]``, skipping quoted strings; None if open."""
    stack = [_OPENERS[text[start]]]
    quote: str | None = None
    i = start + 1
    while i < len(text):
        ch = text[i]
        if quote is not None:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in _OPENERS:
            stack.append(_OPENERS[ch])
        elif ch in "}]":
            if ch != stack[-1]:
                return None
            stack.pop()
            if not stack:
                return i + 1
        i += 1
    return None


def _mend(candidate: str) -> str:
    """Rewrite single-quoted strings as JSON strings, Python literals as JSON ones, drop trailing commas."""
    out: list[str] = []
    i = 0
    n = len(candidate)
    while i < n:
        ch = candidate[i]
        if ch == '"':
            j = i + 1
            while j < n and candidate[j] != '"':
                j += 2 if candidate[j] == "\\" else 1
            out.append(candidate[i:j + 1])
            i = j + 1
        elif ch == "'":
            j = i + 1
            chars: list[str] = []
            while j < n and candidate[j] != "'":
                if candidate[j] == "\\" and j + 1 < n:
                    nxt = candidate[j + 1]
                    chars.append("'" if nxt == "'" else "\\" + nxt)
                    j += 2
                    continue
                chars.append('\\"' if candidate[j] == '"' else candidate[j])
                j += 1
            out.append('"' + "".join(chars) + '"')
            i = j + 1
        else:
            word = _BARE_WORD.match(candidate, i)
            if word:
                out.append(_PY_LITERALS.get(word.group(), word.group()))
                i = word.end()
            else:
                out.append(ch)
                i += 1
    return _TRAILING_COMMA.sub(r"\1", "".join(out))


def _parse(candidate: str) -> Any:
    try:
        return json.loads(candidate)
    except ValueError:
        pass
    try:
        return json.loads(_mend(candidate))
    except ValueError:
        return None


def extract_json(text: str, *, expect: type | None = None) -> dict[str, Any] | list[Any]:
    """The first balanced JSON object or array in ``text`` (optionally only of type ``expect``).

    Tries the whole text first, then every ``{``/``[`` in order, mending single quotes, Python
    literals and trailing commas. Raises :class:`ChatError` (reason ``bad_response``) when none parses.
    """
    if not isinstance(text, str):
        raise ChatError("bad_response", f"expected text, got {type(text).__name__}")
    stripped = text.strip()
    whole = _parse(stripped) if stripped[:1] in _OPENERS else None
    if isinstance(whole, (dict, list)) and (expect is None or isinstance(whole, expect)):
        return whole
    for start, ch in enumerate(text):
        if ch not in _OPENERS:
            continue
        end = _balanced_end(text, start)
        if end is None:
            continue
        value = _parse(text[start:end])
        if isinstance(value, (dict, list)) and (expect is None or isinstance(value, expect)):
            return value
    shown = text if len(text) <= 80 else text[:77] + "..."
    kind = "object" if expect is dict else "array" if expect is list else "object or array"
    raise ChatError("bad_response", f"no JSON {kind} found in model output {shown!r}")


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def schema_problems(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema`` (a JSON-Schema subset: type, required, properties, items,
    enum, minLength, maxLength, minItems, maxItems). An empty list means it conforms."""
    problems: list[str] = []
    expected = schema.get("type")
    if expected is not None:
        names = [expected] if isinstance(expected, str) else list(expected)
        allowed = tuple(t for name in names for t in _TYPES.get(name, (object,)))
        is_bool = isinstance(value, bool)
        if not isinstance(value, allowed) or (is_bool and bool not in allowed):
            return [f"{path}: expected {'/'.join(names)}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} is not one of {schema['enum']!r}")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        problems.append(f"{path}: shorter than {schema['minLength']} characters")
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        problems.append(f"{path}: longer than {schema['maxLength']} characters")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                problems.append(f"{path}: missing required field '{key}'")
        for key, sub in schema.get("properties", {}).items():
            if key in value and isinstance(sub, dict):
                problems.extend(schema_problems(value[key], sub, f"{path}.{key}"))
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            problems.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(f"{path}: more than {schema['maxItems']} items")
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                problems.extend(schema_problems(item, items, f"{path}[{i}]"))
    return problems


def parse_structured(text: str, schema: dict[str, Any]) -> dict[str, Any] | list[Any]:
    """Extract JSON from ``text`` and check it against ``schema``; ``bad_response`` ChatError if not."""
    declared = schema.get("type")
    expect = {"object": dict, "array": list}.get(declared) if isinstance(declared, str) else None
    value = extract_json(text, expect=expect)
    problems = schema_problems(value, schema)
    if problems:
        raise ChatError("bad_response", "model JSON does not match the schema: " + "; ".join(problems[:5]))
    return value
