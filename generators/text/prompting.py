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

# The two-step strategy for pairs: first a new user prompt on the anchor's subject (checked for
# novelty on its own, so an echo of the anchor costs one short call), then records retrieved for
# *that* prompt ground the response, so the response draws on the records that fit the question
# asked instead of on the anchor the question came from.
PROMPT_STEP_TEMPLATE = """You write new training examples. Task: {task}

Messages users have already sent (do not repeat any of them):
{examples}

Write ONE new message that a user could send about this subject: "{anchor}"
Ask about a different detail or situation than the messages above, in your own words, as the user would write it.
Answer with JSON only, shaped like {{"prompt": "..."}}"""

RESPONSE_STEP_TEMPLATE = """You write the assistant's reply in a training example. Task: {task}

Reference records (facts you may use; do not copy their wording):
{examples}

The user's message: "{prompt}"

Write the assistant's reply to this message. Use only the facts from the reference records that fit it; \
if they do not cover the question, say what you can and offer a next step. Never invent prices, numbers or names.
Answer with JSON only, shaped like {{"response": "..."}}"""

PROMPT_STEP_SCHEMA = {"type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]}
RESPONSE_STEP_SCHEMA = {"type": "object", "properties": {"response": {"type": "string"}}, "required": ["response"]}


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


def format_prompt_example(prompt: str, number: int) -> str:
    return f"{number}. {prompt}"


def build_step_messages(template: str, *, task: str, examples: list[str], anchor: str = "",
                        prompt: str = "") -> list[dict]:
    """Messages for one step of the two-step strategy (``PROMPT_STEP_TEMPLATE`` or ``RESPONSE_STEP_TEMPLATE``)."""
    body = template.format(task=task, examples="\n\n".join(examples) if examples else "(none)", anchor=anchor,
                           prompt=prompt)
    return [{"role": "system", "content": "You are a careful writer of synthetic training data. "
                                          "You reply with JSON only."},
            {"role": "user", "content": body}]


def build_messages(template: str, *, task: str, kind: str, anchor: str, examples: list[str]) -> list[dict]:
    body = template.format(task=task, kind_description=KIND_DESCRIPTIONS[kind],
                           examples="\n\n".join(examples) if examples else "(none)", anchor=anchor,
                           shape=SHAPES[kind])
    return [{"role": "system", "content": "You are a careful writer of synthetic training data. "
                                          "You reply with JSON only."},
            {"role": "user", "content": body}]
