"""How a row of the user's file becomes a catalog record: its kind, searchable text, id and score.

The mapping (which fields hold the text, the prompt and response, the messages, the id) is decided
once from the options and the first row, stored with the dataset, and reused by export.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from catalog.errors import BadInput

PAIR_NAMES = (
    ("prompt", "response"),
    ("instruction", "output"),
    ("question", "answer"),
    ("prompt", "completion"),
    ("instruction", "response"),
    ("input", "output"),
    ("query", "response"),
)
MESSAGE_NAMES = ("messages", "conversation", "conversations")
TEXT_NAMES = ("text", "content", "body")
ROLES = ("system", "user", "assistant", "tool", "human", "gpt", "bot", "function")


class FieldError(Exception):
    """A row-level problem; the importer adds file and line."""

    def __init__(self, field_name: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


@dataclass
class FieldMapping:
    kind: str
    text_fields: list[str] = field(default_factory=list)
    prompt_field: str | None = None
    response_field: str | None = None
    messages_field: str | None = None
    id_field: str | None = None
    quality_field: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, [])}

    @classmethod
    def from_dict(cls, data: dict) -> FieldMapping:
        keys = {"kind", "text_fields", "prompt_field", "response_field", "messages_field", "id_field",
                "quality_field"}
        return cls(**{k: v for k, v in data.items() if k in keys})

    def pair_fields(self) -> tuple[str, str]:
        """The prompt and response field names of a ``pairs`` mapping (:func:`infer_mapping` sets both)."""
        if not (self.prompt_field and self.response_field):
            raise ValueError(f"a {self.kind!r} mapping without prompt and response fields: {self.to_dict()}")
        return self.prompt_field, self.response_field

    def messages_field_name(self) -> str:
        """The messages field name of a ``conversations`` mapping (:func:`infer_mapping` sets it)."""
        if not self.messages_field:
            raise ValueError(f"a {self.kind!r} mapping without a messages field: {self.to_dict()}")
        return self.messages_field


def infer_mapping(first: dict, *, kind: str | None, text_fields: list[str] | None,
                  prompt_field: str | None, response_field: str | None, messages_field: str | None,
                  id_field: str | None, quality_field: str | None, source: str) -> FieldMapping:
    """Decide the record kind and fields from the options and the first row."""
    keys = set(first)
    if kind is None:
        if text_fields:
            kind = "text"
        elif prompt_field or response_field:
            kind = "pairs"
        elif messages_field or any(isinstance(first.get(n), list) for n in MESSAGE_NAMES):
            kind = "conversations"
        elif any(p in keys and r in keys for p, r in PAIR_NAMES):
            kind = "pairs"
        elif any(n in keys for n in TEXT_NAMES):
            kind = "text"
        else:
            raise BadInput(
                f"cannot tell what the records are (fields: {', '.join(sorted(keys)[:12])}): pass "
                "`text_fields`, `prompt_field`/`response_field`, or `kind`", file=source, line=1)
    mapping = FieldMapping(kind=kind, id_field=id_field, quality_field=quality_field)
    if kind == "text":
        if not text_fields:
            found = [n for n in TEXT_NAMES if n in keys]
            if not found:
                raise BadInput("no text field: name it with `text_fields`", file=source, line=1)
            text_fields = found[:1]
        mapping.text_fields = list(text_fields)
    elif kind == "pairs":
        if not (prompt_field and response_field):
            for p, r in PAIR_NAMES:
                if p in keys and r in keys:
                    prompt_field, response_field = prompt_field or p, response_field or r
                    break
        if not (prompt_field and response_field):
            raise BadInput("cannot find the prompt and response fields: name them with `prompt_field` and "
                           "`response_field`", file=source, line=1)
        mapping.prompt_field, mapping.response_field = prompt_field, response_field
    elif kind == "conversations":
        if not messages_field:
            messages_field = next((n for n in MESSAGE_NAMES if n in keys), None)
        if not messages_field:
            raise BadInput("no messages field: name it with `messages_field`", file=source, line=1)
        mapping.messages_field = messages_field
    else:
        raise BadInput(f"kind '{kind}' cannot be read from rows as text records", file=source)
    return mapping


def _string_field(row: dict, name: str, *, required: bool = True) -> str:
    if name not in row or row[name] is None:
        if required:
            raise FieldError(name, "missing field")
        return ""
    value = row[name]
    if not isinstance(value, str):
        raise FieldError(name, f"expected a string, got {type(value).__name__}")
    return value


def messages_text(messages: object, field_name: str) -> str:
    if not isinstance(messages, list) or not messages:
        raise FieldError(field_name, "expected a non-empty list of {role, content} messages")
    parts = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise FieldError(f"{field_name}[{i}]", "expected an object with role and content")
        role = msg.get("role", msg.get("from"))
        content = msg.get("content", msg.get("value"))
        if not isinstance(role, str) or not role:
            raise FieldError(f"{field_name}[{i}].role", "missing or not a string")
        if not isinstance(content, str):
            raise FieldError(f"{field_name}[{i}].content", "missing or not a string")
        parts.append(f"{role}: {content}")
    return "\n".join(parts)


def row_text(row: dict, mapping: FieldMapping) -> str:
    """The searchable text of ``row``; raises :class:`FieldError` naming the bad field."""
    if mapping.kind == "text":
        if len(mapping.text_fields) == 1:
            text = _string_field(row, mapping.text_fields[0])
        else:
            present = [n for n in mapping.text_fields if row.get(n) is not None]
            if not present:
                raise FieldError(mapping.text_fields[0], "missing field")
            text = " ".join(_string_field(row, n) for n in present)
        if not text.strip():
            raise FieldError(mapping.text_fields[0], "empty text")
        return text
    if mapping.kind == "pairs":
        prompt_field, response_field = mapping.pair_fields()
        prompt = _string_field(row, prompt_field)
        response = _string_field(row, response_field)
        if not prompt.strip():
            raise FieldError(prompt_field, "empty prompt")
        if not response.strip():
            raise FieldError(response_field, "empty response")
        return f"{prompt}\n\n{response}"
    messages_field = mapping.messages_field_name()
    return messages_text(row.get(messages_field), messages_field)


def row_external_id(row: dict, mapping: FieldMapping) -> str | None:
    if not mapping.id_field:
        return None
    value = row.get(mapping.id_field)
    if value is None or value == "":
        raise FieldError(mapping.id_field, "missing id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FieldError(mapping.id_field, f"expected a string or integer id, got {type(value).__name__}")
    return str(value)


def row_quality(row: dict, mapping: FieldMapping) -> float | None:
    if not mapping.quality_field:
        return None
    value = row.get(mapping.quality_field)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise FieldError(mapping.quality_field, f"expected a number, got {value!r}") from None


def pair_of(fields: dict, mapping: FieldMapping) -> tuple[str, str]:
    return str(fields.get(mapping.prompt_field, "")), str(fields.get(mapping.response_field, ""))


def chat_messages(fields: dict, mapping: FieldMapping) -> list[dict]:
    """The record as chat messages (the fine-tuning layout)."""
    if mapping.kind == "pairs":
        prompt, response = pair_of(fields, mapping)
        return [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
    if mapping.kind == "conversations":
        out = []
        for msg in fields.get(mapping.messages_field) or []:
            role = msg.get("role", msg.get("from"))
            role = {"human": "user", "gpt": "assistant", "bot": "assistant"}.get(role, role)
            out.append({"role": role, "content": msg.get("content", msg.get("value"))})
        return out
    raise BadInput(f"format chat needs pairs or conversations, not {mapping.kind}", param="format")


def text_extractor(mapping: FieldMapping):
    """A function row -> text that is fast on valid rows and raises the precise FieldError otherwise."""
    if mapping.kind == "pairs":
        pf, rf = mapping.prompt_field, mapping.response_field

        def pair_text(row: dict) -> str:
            p, r = row.get(pf), row.get(rf)
            if type(p) is str and type(r) is str and p.strip() and r.strip():
                return p + "\n\n" + r
            return row_text(row, mapping)

        return pair_text
    if mapping.kind == "text" and len(mapping.text_fields) == 1:
        tf = mapping.text_fields[0]

        def single_text(row: dict) -> str:
            t = row.get(tf)
            if type(t) is str and t.strip():
                return t
            return row_text(row, mapping)

        return single_text
    return lambda row: row_text(row, mapping)
