"""Built-in groundedness: how much of a generated response the records that grounded it support.

No model call, so every generated record gets it. Two cheap views of "support", averaged:

- **lexical**: the share of the response's content words found in the grounding records or in the
  sample's own prompt. Content words are runs of letters of 3+ characters that are not English
  stop words, compared after a light suffix stemming (``routers`` = ``router``, ``charged`` =
  ``charge``), plus every number as written (``£36.00``, ``5GHz`` -> ``36.00``, ``5``). An invented
  fact (a price, a colour, a plan the records never name) is a word no record holds.
- **semantic**: for each sentence of the response, its best cosine (with the catalog's embedder)
  to a sentence of the grounding records, mapped linearly from ``[SEMANTIC_FLOOR, SEMANTIC_CEIL]``
  to ``[0, 1]``; the mean over sentences. A paraphrase of a record's sentence scores near 1, a
  sentence on another subject near 0, whatever words it shares.

``score = (lexical + semantic) / 2 * (1 - NUMBER_PENALTY * share of the response's numbers that
neither the records nor the prompt hold)``, in ``[0, 1]``. A number is where an invented fact does
most harm (a price, a limit, a duration) and where the other two parts are blind: a sentence with
"£80" instead of "£25" is as similar to its source as the original. The unsupported numbers and
words are listed in the parts, for a reader to check. The score says nothing about novelty (a
verbatim copy is fully "supported"; the novelty check rejects those), about contradictions that
use the records' own words ("never" for "always"), nor about whether the response answers the
prompt: that is the judge's job.
The constants were chosen on the constructed grounded / copied / off-subject / contradicting
examples of ``tests/generators/test_groundedness.py``; figures in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

SEMANTIC_FLOOR = 0.35
SEMANTIC_CEIL = 0.80
NUMBER_PENALTY = 0.5
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_SUFFIXES = ("ingly", "edly", "ing", "ies", "ied", "ed", "es", "ly", "s")
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before being below
between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
few for from further get gets got had hadn't has hasn't have haven't having he her here hers herself him
himself his how i if in into is isn't it it's its itself just let's me more most much must my myself no nor
not now of off on once only or other ought our ours ourselves out over own please same she should shouldn't
so some such than that that's the their theirs them themselves then there there's these they this those
through to too under until up very was wasn't we were weren't what when where which while who whom why will
with won't would wouldn't you your yours yourself yourselves yes ok okay sure thanks thank hello hi dear
one two able may might need needs like well still even ever really already again
take takes took taken make makes made come comes came mean means plus cost costs give gives keep want know
see use used usually around
""".split())

Embed = Callable[[list[str]], np.ndarray]


def stem(word: str) -> str:
    """A crude English stem: strip one common suffix when at least 3 letters stay."""
    word = word.casefold()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def content_terms(text: str) -> list[str]:
    """Stemmed content words and numbers of ``text``, in order (repeats kept)."""
    words = [stem(w) for w in _WORD.findall(text) if w.casefold() not in STOP_WORDS]
    return words + [n.replace(",", "") for n in _NUMBER.findall(text)]


def sentences(text: str) -> list[str]:
    """Sentences of ``text`` (split after . ! ? and at line breaks), those with a letter only."""
    return [s.strip() for s in _SENTENCE.split(text) if s and any(c.isalpha() for c in s)]


@dataclass(frozen=True)
class Groundedness:
    """The score and the parts it came from (stored with the record's provenance)."""

    score: float
    lexical: float
    semantic: float | None
    content_terms: int
    unsupported: list[str] = field(default_factory=list)
    unsupported_numbers: list[str] = field(default_factory=list)
    sentences: int = 0

    def parts(self) -> dict:
        return {"lexical": round(self.lexical, 4),
                "semantic": None if self.semantic is None else round(self.semantic, 4),
                "content_terms": self.content_terms, "unsupported": self.unsupported[:12],
                "unsupported_numbers": self.unsupported_numbers[:12], "sentences": self.sentences}


def score_groundedness(response: str, grounding: Sequence[str], *, prompt: str = "",
                       embed: Embed | None = None) -> Groundedness:
    """Support of ``response`` by the ``grounding`` texts (and the sample's ``prompt``).

    With ``embed`` (texts -> unit vectors) the score averages the lexical and semantic parts;
    without it, it is the lexical part alone. A response with no content word at all scores its
    semantic part (or 0 without one).
    """
    support = set()
    for text in [*grounding, prompt]:
        support.update(content_terms(text))
    terms = content_terms(response)
    missing = [t for t in terms if t not in support]
    lexical = 1.0 - len(missing) / len(terms) if terms else 0.0
    numbers = [n.replace(",", "") for n in _NUMBER.findall(response)]
    bad_numbers = sorted({n for n in numbers if n not in support})
    semantic = None
    said = sentences(response)
    if embed is not None and said and grounding:
        sources = [s for text in grounding for s in sentences(text)] or list(grounding)
        vectors = embed(said + sources)
        sims = vectors[: len(said)] @ vectors[len(said):].T
        best = sims.max(axis=1)
        semantic = float(np.clip((best - SEMANTIC_FLOOR) / (SEMANTIC_CEIL - SEMANTIC_FLOOR), 0.0, 1.0).mean())
    elif embed is not None:
        semantic = 0.0
    if semantic is None:
        score = lexical
    elif terms:
        score = (lexical + semantic) / 2
    else:
        score = semantic
    if numbers:
        score *= 1 - NUMBER_PENALTY * sum(n not in support for n in numbers) / len(numbers)
    return Groundedness(score=round(float(score), 4), lexical=lexical, semantic=semantic, content_terms=len(terms),
                        unsupported=sorted(set(missing)), unsupported_numbers=bad_numbers, sentences=len(said))
