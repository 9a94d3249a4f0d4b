"""Prompt templates for text generation, with and without retrieved examples.

A template is plain text with ``{task}``, ``{kind_description}``, ``{examples}``, ``{anchor}`` and
``{shape}`` placeholders (``str.format`` syntax; write ``{{`` for a literal brace). Its SHA-256 is
stored with every record it produced.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from catalog.errors import BadInput
from catalog.text_files import read_text_file

KIND_DESCRIPTIONS = {
    "pairs": "a user prompt and the assistant's response",
    "text": "a short text",
    "conversations": "a short conversation between a user and an assistant",
}
SHAPES = {
    "pairs": '{"prompt": "...", "response": "..."}',
    "text": '{"text": "..."}',
    "conversations": '{"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}',
}

DEFAULT_TEMPLATE = """You write new training examples. Task: {task}

Existing examples (for style and topic only; never copy them):
{examples}

Write ONE new example: {kind_description}, on the same subject as: "{anchor}" (new wording, do not repeat it)
It must say something different from every example above.
Answer with JSON only, shaped like {shape}"""

UNGROUNDED_TEMPLATE = """You write new training examples. Task: {task}

Write ONE new example: {kind_description}, on the same subject as: "{anchor}" (new wording, do not repeat it)
Answer with JSON only, shaped like {shape}"""

PLACEHOLDERS = ("task", "kind_description", "examples", "anchor", "shape")


def load_template(path: str | Path) -> str:
    """A prompt template from a file, checked for known placeholders."""
    text = read_text_file(path, "template file")
    check_template(text, str(path))
    return text


def load_topics(path: str | Path) -> list[str]:
    """Topics to anchor samples on: one per non-blank line of a text file."""
    topics = [line.strip() for line in read_text_file(path, "topics file").splitlines() if line.strip()]
    if not topics:
        raise BadInput("topics file holds no topics", file=str(path))
    return topics


def check_template(text: str, source: str = "template") -> None:
    try:
        text.format(**{name: "" for name in PLACEHOLDERS})
    except (KeyError, IndexError, ValueError) as exc:
        raise BadInput(f"bad template placeholder {exc}: use {{task}}, {{examples}}, {{anchor}}, "
                       "{kind_description}, {shape} (and {{ }} for literal braces)", file=source) from None


def template_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def format_example(fields: dict, kind: str, number: int) -> str:
    if kind == "pairs":
        return f"Example {number}:\nPrompt: {fields.get('prompt', '')}\nResponse: {fields.get('response', '')}"
    if kind == "conversations":
        turns = "\n".join(f"{m.get('role')}: {m.get('content')}" for m in fields.get("messages", []))
        return f"Example {number}:\n{turns}"
    return f"Example {number}:\n{fields.get('text', '')}"


def build_messages(template: str, *, task: str, kind: str, anchor: str, examples: list[str]) -> list[dict]:
    body = template.format(task=task, kind_description=KIND_DESCRIPTIONS[kind],
                           examples="\n\n".join(examples) if examples else "(none)", anchor=anchor,
                           shape=SHAPES[kind])
    return [{"role": "system", "content": "You are a careful writer of synthetic training data. "
                                          "You reply with JSON only."},
            {"role": "user", "content": body}]
