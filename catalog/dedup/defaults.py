"""Default parameters of the dedup stages (reasoning filled in from the quality benchmark)."""

MINHASH_THRESHOLD = 0.5
MINHASH_NUM_PERM = 128
MINHASH_NGRAM = 3
MINHASH_UNIT = "word"
SEMANTIC_THRESHOLD = 0.9
SEMANTIC_K = 10
