"""The shapes a generated sample may take, the JSON schema asked of the model, and validation."""

from __future__ import annotations

import re
from dataclasses import dataclass

KIND_SCHEMAS: dict[str, dict] = {
    "pairs": {
        "type": "object",
        "properties": {"prompt": {"type": "string"}, "response": {"type": "string"}},
        "required": ["prompt", "response"],
    },
    "text": {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    },
    "conversations": {
        "type": "object",
        "properties": {"messages": {"type": "array", "items": {
            "type": "object",
            "properties": {"role": {"type": "string", "enum": ["user", "assistant"]},
                           "content": {"type": "string"}},
            "required": ["role", "content"]}}},
        "required": ["messages"],
    },
}

MAPPINGS: dict[str, dict] = {
    "pairs": {"kind": "pairs", "prompt_field": "prompt", "response_field": "response"},
    "text": {"kind": "text", "text_fields": ["text"]},
    "conversations": {"kind": "conversations", "messages_field": "messages"},
}


@dataclass(frozen=True)
class Bounds:
    """Length bounds (characters) for each text part of a sample."""

    min_chars: int = 8
    max_chars: int = 4000


class SampleRejected(Exception):
    """A generated sample failed validation; ``reason`` names the rule it broke."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


# Signs of a template whose slots were never filled: "from  online provider" (an empty slot between
# two words), "of 's final bill" (a possessive with no owner), "the ." (a determiner with no noun),
# and placeholder markers such as [Name], {customer}, <PRODUCT>, XXX or ___. Any model leaves these
# when it imitates templated text; none belongs in training data.
_DEFECTS = (
    ("empty slot", re.compile(r"[a-z]  +[a-z]")),
    ("possessive with no owner", re.compile(r"(?:^|[\s(])'s\b")),
    ("determiner with no noun", re.compile(r"(?<![\w'-])(?:the|a|an|your|my|our|their)\s*[,.;:!?)]")),
    ("placeholder", re.compile(r"\[[A-Za-z][\w .-]{0,30}\]|\{[A-Za-z_][\w .-]{0,30}\}|<[A-Z][A-Z_ ]{1,30}>"
                               r"|\bX{3,}\b|_{3,}|\binsert (?:name|date|amount|number)\b", re.IGNORECASE)),
)


def find_defect(text: str) -> str | None:
    """The first sign of an unfilled template slot in ``text``, as ``"kind: 'context'"``; None if clean."""
    for kind, pattern in _DEFECTS:
        found = pattern.search(text)
        if found:
            start, end = max(0, found.start() - 12), min(len(text), found.end() + 12)
            return f"{kind}: {text[start:end]!r}"
    return None


def checked_part(value: object, name: str, bounds: Bounds) -> str:
    """``value`` stripped, or SampleRejected: empty, too short, too long, or with an unfilled slot."""
    if not isinstance(value, str) or not value.strip():
        raise SampleRejected("empty", f"{name} is empty")
    value = value.strip()
    if len(value) < bounds.min_chars:
        raise SampleRejected("too_short", f"{name} has {len(value)} characters (< {bounds.min_chars})")
    if len(value) > bounds.max_chars:
        raise SampleRejected("too_long", f"{name} has {len(value)} characters (> {bounds.max_chars})")
    defect = find_defect(value)
    if defect:
        raise SampleRejected("unfilled_slot", f"{name}: {defect}")
    return value


def validate_sample(parsed: object, kind: str, bounds: Bounds) -> tuple[dict, str]:
    """Check a parsed model output; return (fields to store, searchable text)."""
    if not isinstance(parsed, dict):
        raise SampleRejected("wrong_shape", "the model did not return a JSON object")
    if kind == "pairs":
        prompt = checked_part(parsed.get("prompt"), "prompt", bounds)
        response = checked_part(parsed.get("response"), "response", bounds)
        if prompt.casefold() == response.casefold():
            raise SampleRejected("wrong_shape", "prompt and response are the same")
        return {"prompt": prompt, "response": response}, f"{prompt}\n\n{response}"
    if kind == "text":
        text = checked_part(parsed.get("text"), "text", bounds)
        return {"text": text}, text
    if kind == "conversations":
        messages = parsed.get("messages")
        if not isinstance(messages, list) or len(messages) < 2:
            raise SampleRejected("wrong_shape", "a conversation needs at least two messages")
        clean = []
        for i, msg in enumerate(messages):
            if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant", "system"):
                raise SampleRejected("wrong_shape", f"message {i} has no valid role")
            clean.append({"role": msg["role"], "content": checked_part(msg.get("content"), f"message {i}", bounds)})
        if not any(m["role"] == "assistant" for m in clean):
            raise SampleRejected("wrong_shape", "no assistant turn")
        return {"messages": clean}, "\n".join(f"{m['role']}: {m['content']}" for m in clean)
    raise SampleRejected("wrong_shape", f"unknown kind {kind}")
