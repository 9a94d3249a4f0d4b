"""Word tokens for n-gram decontamination: the exact-dedup normal form, split into words.

A text becomes a list of word tokens in two steps:

1. **Normal form** (as :mod:`catalog.dedup.normalize`): Unicode NFKC, then ``str.casefold``;
   whitespace only separates tokens, so runs of spaces, tabs and newlines never matter.
2. **Punctuation**, two ways (``punctuation=``):

   * ``"space"`` -- every punctuation *or symbol* character (Unicode categories ``P*`` and
     ``S*``) becomes a word boundary, as in exact dedup's punctuation-blind form:
     ``"state-of-the-art"`` -> ``state of the art``, ``"don't"`` -> ``don t``.
   * ``"delete"`` -- the same characters are deleted, so they glue what surrounds them:
     ``"don't"`` -> ``dont``, ``"3.5"`` -> ``35``, ``"IL-6"`` -> ``il6``.

   A planted copy whose punctuation was *deleted* ("dont", "35") matches the original only
   under ``delete``; one whose punctuation was *replaced by spaces* or other punctuation
   ("don t", "1 -000" for "1,000") only under ``space``. The decontamination engine indexes
   and queries both forms (``"both"``), so either kind of edit still matches, and a match is
   an exact equality of normalised token sequences either way. Symbols count as punctuation
   because the usual "strip punctuation" edits (``re.sub(r"[^\\w\\s]", "", s)``) remove them
   too (``p<0.05``, ``CD4+``, ``$5``).

Whitespace-separated *chunks* of the original text tokenise independently (NFKC, casefold and
the punctuation mapping never reach across whitespace), which lets :func:`token_spans` give each
token its character span in the **original** text: exact for ASCII chunks and for chunks whose
normal form has the chunk's length, otherwise the whole chunk. :func:`batch_tokens` is the fast
path (a whole batch through ``bytes.translate`` and pyarrow's whitespace split, no offsets); the
two agree token for token (``tests/catalog/test_decontaminate.py`` checks it with hypothesis on
Unicode-heavy text).
NUL characters count as whitespace (they separate texts inside a batch).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np

PUNCTUATION_MODES = ("space", "delete")
SEPARATOR = "\x00"
# All 32 printable ASCII non-alphanumerics are Unicode punctuation (P*) or symbols (S*).
_ASCII_SPACE = str.maketrans({c: " " for c in string.punctuation})
_ASCII_DELETE = str.maketrans({c: None for c in string.punctuation})
_ASCII_RUN = re.compile(r"[^!-/:-@\[-`{-~]+")
_ASCII_TOKEN = re.compile(r"[^\s\x00!-/:-@\[-`{-~]+")
_CHUNK = re.compile(r"[^\s\x00]+")
_WORD = re.compile(r"\S+")


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


class _UnicodeTable(dict[int, str | None]):
    """``str.translate`` table for any code point, filled lazily: punctuation/symbol -> ``value``
    (a space, or ``None`` to delete), whitespace -> a plain space, anything else -> itself."""

    def __init__(self, value: str | None) -> None:
        super().__init__()
        self.value = value

    def __missing__(self, cp: int) -> str | None:
        ch = chr(cp)
        out = self.value if _is_punct(ch) else " " if ch.isspace() else ch
        self[cp] = out
        return out


_UNICODE: dict[str, Mapping[int, str | None]] = {"space": _UnicodeTable(" "), "delete": _UnicodeTable(None)}
_ASCII: dict[str, Mapping[int, str | None]] = {"space": _ASCII_SPACE, "delete": _ASCII_DELETE}
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
# In a batch, non-ASCII punctuation first becomes an ASCII one ("'"), so that the bytes stage
# both treats it like ASCII punctuation and still sees where the whitespace-separated words are.
_BATCH_UNICODE = {"space": _UnicodeTable("'"), "delete": _UnicodeTable(None)}
_NON_ASCII_SUB = {mode: (lambda m, t=table: m.group().translate(t)) for mode, table in _BATCH_UNICODE.items()}


def _check_mode(punctuation: str) -> None:
    if punctuation not in PUNCTUATION_MODES:
        raise ValueError(f"punctuation must be one of {PUNCTUATION_MODES}, got {punctuation!r}")


def normal_form(text: str) -> str:
    """NFKC + casefold (``lower`` for ASCII, where the two agree and NFKC changes nothing)."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", text).casefold()


def text_tokens(text: str, punctuation: str = "space") -> list[str]:
    """The tokens of one text (see the module docstring)."""
    _check_mode(punctuation)
    text = text.replace(SEPARATOR, " ")
    table = _ASCII[punctuation] if text.isascii() else _UNICODE[punctuation]
    return normal_form(text).translate(table).split()


def _byte_table(punct_to_space: bool) -> bytes:
    """ASCII part of the pipeline as one ``bytes.translate`` table: A-Z -> a-z, every ASCII
    whitespace character ``str.split`` knows -> space, punctuation -> space if asked."""
    table = bytearray(range(256))
    for c in range(ord("A"), ord("Z") + 1):
        table[c] = c + 32
    for c in b"\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f":
        table[c] = 0x20
    if punct_to_space:
        for c in string.punctuation.encode():
            table[c] = 0x20
    return bytes(table)


_BYTES = {"space": (_byte_table(True), b""), "delete": (_byte_table(False), string.punctuation.encode())}


def batch_tokens(texts: Sequence[str], punctuation: str = "space"):
    """Tokens of all ``texts`` as ``(flat, offsets)``: a pyarrow string array of every token in
    order, and an ``int64`` array with text ``i``'s tokens at ``flat[offsets[i]:offsets[i+1]]``.
    Same tokens as :func:`text_tokens` per text (see :func:`batch_tokens_modes`)."""
    flat, offsets, _ = batch_tokens_modes(texts, (punctuation,))[punctuation]
    return flat, offsets


def batch_tokens_modes(texts: Sequence[str], modes: Sequence[str], *, word_numbers: bool = False
                       ) -> dict[str, tuple]:
    """:func:`batch_tokens` under several punctuation modes, sharing the mode-independent work:
    ``{mode: (flat, offsets, words)}``. With ``word_numbers``, ``words[t]`` numbers the
    whitespace-separated word of the (normalised) text that token ``t`` comes from, counting
    across the batch; under ``space`` several tokens can share a word (``state-of-the-art``).

    The string work runs in C: one ``bytes.translate`` over the whole batch (lower case, ASCII
    whitespace and punctuation) and pyarrow's whitespace split. Python touches non-ASCII texts
    only: NFKC and casefold once, then each run of non-ASCII characters through the Unicode table.
    (Skipping the ``delete`` pass for texts without punctuation inside a word was tried: finding
    them cost more than it saved, since most texts have some -- contractions, numbers, hyphens.)
    """
    import pyarrow as pa

    for mode in modes:
        _check_mode(mode)
    texts = list(texts)
    if not texts:
        empty = (pa.array([], pa.large_string()), np.zeros(1, dtype=np.int64), np.empty(0, np.int64))
        return {mode: empty for mode in modes}
    joined = SEPARATOR.join(texts)
    if joined.count(SEPARATOR) != len(texts) - 1:
        texts = [t.replace(SEPARATOR, " ") for t in texts]
        joined = SEPARATOR.join(texts)
    if joined.isascii():
        encoded = {mode: joined.encode("ascii") for mode in modes}
    else:
        normal = [t if t.isascii() else normal_form(t) for t in texts]
        sub = _NON_ASCII_RUN.sub
        encoded = {mode: SEPARATOR.join(t if t.isascii() else sub(_NON_ASCII_SUB[mode], t) for t in normal)
                   .encode("utf-8") for mode in modes}
    return {mode: _split(encoded.pop(mode), mode, len(texts), word_numbers) for mode in modes}


def _runs(buf: np.ndarray) -> np.ndarray:
    """Start positions of the runs of non-space bytes."""
    inside = buf != 0x20
    starts = inside.copy()
    starts[1:] &= ~inside[:-1]
    return np.flatnonzero(starts)


def _split(encoded: bytes, mode: str, n_texts: int, word_numbers: bool) -> tuple:
    """Tokens of NUL-separated, Unicode-normalised UTF-8 texts (see :func:`batch_tokens_modes`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table, delete = _BYTES[mode]
    buf = bytearray(encoded.translate(table, delete))
    data = np.frombuffer(buf, dtype=np.uint8)
    seps = np.flatnonzero(data == 0)    # text boundaries; become spaces, so never part of a token
    data[seps] = 0x20
    offsets = np.concatenate([[0], seps, [len(buf)]]).astype(np.int64)
    arr = pa.LargeStringArray.from_buffers(n_texts, pa.py_buffer(offsets), pa.py_buffer(buf))
    split = pc.ascii_split_whitespace(arr)     # only ASCII whitespace is left
    flat = split.flatten()
    offsets = np.asarray(split.offsets, dtype=np.int64)
    nonempty = pc.binary_length(flat).to_numpy() > 0    # arrow keeps "" at the edges
    if not nonempty.all():
        kept = np.zeros(len(nonempty) + 1, dtype=np.int64)
        np.cumsum(nonempty, out=kept[1:])
        offsets = kept[offsets - offsets[0]]
        flat = flat.filter(pa.array(nonempty))
    words = None
    if word_numbers:
        if mode == "delete":        # every token is a whole word
            words = np.arange(len(flat), dtype=np.int64)
        else:                       # the same bytes with punctuation kept mark where words start
            whole = np.frombuffer(bytearray(encoded.translate(_BYTES["delete"][0])), dtype=np.uint8).copy()
            whole[seps] = 0x20
            words = np.searchsorted(_runs(whole), _runs(data), side="right") - 1
            if len(words) != len(flat):
                raise AssertionError(f"{len(words)} token starts for {len(flat)} tokens")
    return flat, offsets, words


def token_spans(text: str, punctuation: str = "space") -> tuple[list[str], list[int], list[int]]:
    """Tokens of ``text`` (equal to :func:`text_tokens`) with their ``[start, end)`` character
    spans in ``text`` itself, for reporting and cutting matches."""
    _check_mode(punctuation)
    if text.isascii():          # one regex pass over the lower-cased text (same offsets)
        low = text.lower()
        if punctuation == "space":
            runs = _ASCII_TOKEN.findall(low)
            spans = [m.span() for m in _ASCII_TOKEN.finditer(low)]
            return runs, [a for a, _ in spans], [b for _, b in spans]
        chunks = [(m.group().translate(_ASCII_DELETE), m.start(), m.end()) for m in _CHUNK.finditer(low)]
        chunks = [c for c in chunks if c[0]]
        return [c[0] for c in chunks], [c[1] for c in chunks], [c[2] for c in chunks]
    if unicodedata.is_normalized("NFKC", text) and len(folded := text.casefold()) == len(text):
        # NFKC changes nothing and casefold maps one character to one: offsets carry over as is
        if punctuation == "space":
            spaced = folded.translate(_UNICODE["space"])
            found = [(m.group(), m.start(), m.end()) for m in _CHUNK.finditer(spaced)]
            return [f[0] for f in found], [f[1] for f in found], [f[2] for f in found]
        chunks = [(m.group().translate(_UNICODE["delete"]), m.start(), m.end()) for m in _CHUNK.finditer(folded)]
        chunks = [c for c in chunks if c[0]]
        return [c[0] for c in chunks], [c[1] for c in chunks], [c[2] for c in chunks]
    tokens: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for chunk in _CHUNK.finditer(text):
        c0, piece = chunk.start(), chunk.group()
        if piece.isascii():
            low = piece.lower()
            if punctuation == "delete":
                tok = low.translate(_ASCII_DELETE)
                if tok:
                    tokens.append(tok)
                    starts.append(c0)
                    ends.append(chunk.end())
            else:
                for run in _ASCII_RUN.finditer(low):
                    tokens.append(run.group())
                    starts.append(c0 + run.start())
                    ends.append(c0 + run.end())
            continue
        normal = normal_form(piece).translate(_UNICODE[punctuation])
        if len(normal) == len(piece):       # one character in, one out: spans map through
            for run in _WORD.finditer(normal):
                tokens.append(run.group())
                starts.append(c0 + run.start())
                ends.append(c0 + run.end())
        else:
            for tok in normal.split():
                tokens.append(tok)
                starts.append(c0)
                ends.append(chunk.end())
    return tokens, starts, ends
