"""Default parameters of the dedup stages, and why (``benchmarks/dedup_quality.py``).

Measured on the SciFact near-duplicate set the benchmark builds (seed 13: the 5,183 untouched
abstracts plus 2,000 altered copies -- casing, whitespace, punctuation, typos, a dropped or
moved sentence, word substitutions, truncation to 70-90%, or two of these), embeddings from the
bundled all-MiniLM-L6-v2:

* exact stage alone (the plain content-hash baseline): precision 1.0, recall 0.209 -- it catches
  only casing and whitespace copies.
* cascade with MinHash 0.5 (word 3-grams, 128 permutations) and semantic 0.90: F1 0.999,
  1 of 5,183 distinct abstracts wrongly removed (0.02%); with semantic 0.92: F1 0.9992 and no
  abstract wrongly removed; with 0.95: F1 0.9987 (recall drops on substituted copies).
  MinHash removes 1,557 of the copies, the semantic stage the last ~22 (heavy substitutions).

Choices:

* ``MINHASH_THRESHOLD = 0.5`` on **word 3-grams**: 3-grams keep templated near-misses apart
  (same sentence frame, different names and numbers share few 3-grams) while a typo or a
  substituted word only breaks three shingles; 0.5 still accepts a copy missing a sentence or
  truncated to 70%. Candidates are always verified by exact Jaccard, so the threshold is the
  real cut-off, not an LSH approximation.
* ``MINHASH_NUM_PERM = 128``: the Jaccard estimate's standard error is ~0.044 at J = 0.5 and
  verification is exact, so more permutations only buy fewer missed candidates at a linear
  cost; bands/rows come from the threshold (25 x 5 for 0.5).
* ``SEMANTIC_THRESHOLD = 0.92``: the highest F1 on SciFact with no distinct abstract removed;
  0.90 already removed one. On MRPC train (label 1 = paraphrase) 0.92 is the lowest threshold
  with precision >= 0.9 (0.909, recall 0.28; best F1 0.82 sits at 0.60, where precision is
  0.73); on STS-B train+dev (score >= 4) precision at 0.92 is 0.76. Paraphrase is a looser
  relation than duplicate, and a wrongly removed record is lost data, so the default leans to
  precision; lower it for paraphrase-level dedup.
* MinHash alone on SciFact: word 3-grams F1 0.9992/0.9937/0.9645 at 0.4/0.5/0.6, never an
  abstract wrongly removed; on MRPC, Jaccard 0.5 has precision 0.88 (0.9 from 0.55). 0.5 keeps
  short texts safe while the cascade still reaches F1 0.999 (0.4 reaches 1.0 on SciFact).
* ``SEMANTIC_K = 10`` neighbours per query: larger duplicate clusters still join through
  union-find.
"""

MINHASH_THRESHOLD = 0.5
MINHASH_NUM_PERM = 128
MINHASH_NGRAM = 3
MINHASH_UNIT = "word"
SEMANTIC_THRESHOLD = 0.92
SEMANTIC_K = 10

# Decontamination (issue 19; reasoning in catalog/dedup/decontaminate.py and eval_index.py, figures in
# benchmarks/RESULTS.md "Decontamination and pair-aware dedup").
DECONTAM_NGRAM = 13
DECONTAM_MIN_NGRAM = 8
DECONTAM_MIN_WORDS = 10
DECONTAM_MAX_EVAL_FREQUENCY = 10
DECONTAM_CUT_WINDOW = 200
DECONTAM_MAX_PIECES = 10
DECONTAM_MIN_PIECE_CHARS = 200

# Pair dedup (issue 19; catalog/dedup/fields.py, benchmarks/pair_dedup.py): pairs are compared on prompt
# AND response by default; once the prompts are duplicates (thresholds above), the responses only
# need to say the same thing: word-3-gram Jaccard >= 0.3 or cosine >= 0.8.
PAIR_RESPONSE_MINHASH_THRESHOLD = 0.3
PAIR_RESPONSE_SEMANTIC_THRESHOLD = 0.8
