"""Text generation: prompts, sample parsing, novelty checks, and retrieval-grounded generation jobs."""
