"""The catalog's schema as ordered, named migrations recorded in the database.

Each migration runs once, inside the caller's transaction, and is recorded in `migrations`.
Append new migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

M001_INITIAL = """
CREATE TABLE meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
);
CREATE TABLE datasets (
    dataset_id INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL UNIQUE,
    kind VARCHAR NOT NULL CHECK (kind IN ('text', 'pairs', 'conversations', 'table')),
    origin VARCHAR NOT NULL CHECK (origin IN ('real', 'synthetic')),
    description VARCHAR,
    tags VARCHAR[],
    generator VARCHAR,
    parameters JSON,
    model VARCHAR,
    seed BIGINT,
    parents VARCHAR[],
    embedder VARCHAR,
    source VARCHAR,
    table_name VARCHAR,
    created_at TIMESTAMP NOT NULL,
    row_count BIGINT NOT NULL DEFAULT 0
);
-- Text-like records: text, prompt/response pairs and conversations.
-- `fields` keeps the record as the user's file had it; `text` is what search and dedup read.
CREATE TABLE records (
    record_id BIGINT NOT NULL,
    dataset_id INTEGER NOT NULL,
    external_id VARCHAR,
    content_hash VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    fields VARCHAR,  -- JSON text of the row as the file had it
    quality_score DOUBLE,
    created_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'active'
);
-- One vector per (embedder, content hash): identical texts are embedded once.
CREATE TABLE embeddings (
    embedder_id VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    vector FLOAT[] NOT NULL
);
CREATE TABLE embedders (
    embedder_id VARCHAR PRIMARY KEY,
    dimension INTEGER NOT NULL,
    normalized BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- Which records grounded or produced a record, with rank and score.
CREATE TABLE lineage (
    record_id BIGINT NOT NULL,
    source_record_id BIGINT NOT NULL,
    relation VARCHAR NOT NULL,
    rank INTEGER,
    score DOUBLE
);
CREATE VIEW record_embeddings AS
    SELECT r.record_id, e.embedder_id, e.vector
    FROM records r
    JOIN datasets d USING (dataset_id)
    JOIN embeddings e ON e.content_hash = r.content_hash AND e.embedder_id = d.embedder;
"""

M002_GENERATION_JOBS = """
-- A text generation job: its parameters, its state, and why samples were rejected.
CREATE TABLE generation_jobs (
    job_id VARCHAR PRIMARY KEY,
    dataset VARCHAR NOT NULL,
    parameters JSON NOT NULL,
    target INTEGER NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    status VARCHAR NOT NULL,
    rejections JSON NOT NULL,
    usage JSON,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Provenance of each accepted generated record.
CREATE TABLE generation_provenance (
    record_id BIGINT NOT NULL,
    job_id VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    backend VARCHAR NOT NULL,
    template_hash VARCHAR NOT NULL,
    temperature DOUBLE,
    seed BIGINT,
    attempts INTEGER NOT NULL,
    anchor VARCHAR
);
"""

M003_DEDUP = """
-- A dedup run: what was checked against what, with which settings, and what it found.
CREATE TABLE dedup_runs (
    run_id INTEGER PRIMARY KEY,
    datasets VARCHAR[] NOT NULL,
    against VARCHAR[] NOT NULL,
    parameters JSON NOT NULL,
    counts JSON NOT NULL,
    removed BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    undone_at TIMESTAMP
);
-- Each record a run removed: the stage, its cluster, the kept record it duplicates, the record it
-- matched directly, and the score of that match.
CREATE TABLE dedup_removals (
    run_id INTEGER NOT NULL,
    record_id BIGINT NOT NULL,
    stage VARCHAR NOT NULL,
    cluster INTEGER NOT NULL,
    duplicate_of BIGINT,
    matched BIGINT,
    score DOUBLE
);
"""

M004_EVALUATIONS = """
-- Which datasets an evaluation compared, with which options, and every score it produced.
CREATE TABLE evaluations (
    evaluation_id INTEGER PRIMARY KEY,
    synthetic VARCHAR NOT NULL,
    real VARCHAR NOT NULL,
    holdout VARCHAR,
    target VARCHAR,
    sensitive VARCHAR[],
    kind VARCHAR NOT NULL,
    results JSON NOT NULL,
    report VARCHAR,
    created_at TIMESTAMP NOT NULL
);
"""

M010_GENERATION_USAGE = """
-- Per generated record: what its calls cost, how it was made (one call or prompt-then-response),
-- its built-in groundedness score with the parts it came from, and an optional LLM judge's verdict.
ALTER TABLE generation_provenance ADD COLUMN strategy VARCHAR;
ALTER TABLE generation_provenance ADD COLUMN calls INTEGER;
ALTER TABLE generation_provenance ADD COLUMN prompt_tokens BIGINT;
ALTER TABLE generation_provenance ADD COLUMN completion_tokens BIGINT;
ALTER TABLE generation_provenance ADD COLUMN groundedness DOUBLE;
ALTER TABLE generation_provenance ADD COLUMN groundedness_parts JSON;
ALTER TABLE generation_provenance ADD COLUMN judge_model VARCHAR;
ALTER TABLE generation_provenance ADD COLUMN judge_status VARCHAR;
ALTER TABLE generation_provenance ADD COLUMN judge_score DOUBLE;
ALTER TABLE generation_provenance ADD COLUMN judge_rationale VARCHAR;
ALTER TABLE generation_provenance ADD COLUMN judge_error VARCHAR;
ALTER TABLE generation_provenance ADD COLUMN judge_prompt_tokens BIGINT;
ALTER TABLE generation_provenance ADD COLUMN judge_completion_tokens BIGINT;
-- Why a job stopped short of its target (attempt budget, token budget, failing endpoint).
ALTER TABLE generation_jobs ADD COLUMN stop_reason VARCHAR;
"""

MIGRATIONS: list[tuple[str, str | Callable[[duckdb.DuckDBPyConnection], None]]] = [
    ("m001_initial", M001_INITIAL),
    ("m002_generation_jobs", M002_GENERATION_JOBS),
    ("m003_dedup", M003_DEDUP),
    ("m004_evaluations", M004_EVALUATIONS),
    ("m010_generation_usage", M010_GENERATION_USAGE),
]


def applied_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'migrations'"
    ).fetchone()[0]
    if not exists:
        return []
    return [row[0] for row in con.execute("SELECT name FROM migrations ORDER BY applied_at, name").fetchall()]


def pending_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    done = set(applied_migrations(con))
    return [name for name, _ in MIGRATIONS if name not in done]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply every pending migration in one transaction; return the names applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
    )
    todo = pending_migrations(con)
    if not todo:
        return []
    steps = dict(MIGRATIONS)
    con.execute("BEGIN TRANSACTION")
    try:
        for name in todo:
            step = steps[name]
            if callable(step):
                step(con)
            else:
                con.execute(step)
            con.execute("INSERT INTO migrations VALUES (?, now())", [name])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return todo
