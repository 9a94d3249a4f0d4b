"""The built-in groundedness score separates grounded responses from invented and contradicting ones
(constructed cases in groundedness_cases.py, the real bundled embedder)."""

from __future__ import annotations

import pytest

from catalog.embedders import get_embedder
from generators.text.groundedness import content_terms, score_groundedness
from tests.generators.groundedness_cases import CASES


def _scores(kind: str, embed) -> list[float]:
    return [score_groundedness(c[kind], c["records"], prompt=c["prompt"], embed=embed).score for c in CASES]


@pytest.mark.slow
def test_every_grounded_response_outscores_every_invented_or_contradicting_one():
    embed = get_embedder().embed
    grounded, copied = _scores("grounded", embed), _scores("copied", embed)
    off, contra = _scores("off_record", embed), _scores("contradicting", embed)
    assert min(grounded) > max(off + contra)
    assert min(copied) == 1.0  # a copy is fully supported: novelty is the novelty check's job
    assert sum(grounded) / 6 - sum(off + contra) / 12 > 0.4


def test_unsupported_numbers_are_listed_and_lower_the_score():
    case = CASES[0]
    result = score_groundedness(case["contradicting"], case["records"], prompt=case["prompt"])
    assert result.unsupported_numbers == ["80"] and result.semantic is None
    assert result.score < result.lexical  # the number penalty applied to the lexical-only score
    assert content_terms("Routers charged £36.00") == ["router", "charg", "36.00"]
