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

def m005_dataset_ids(con: duckdb.DuckDBPyConnection) -> None:
    """Evaluations and dedup runs refer to datasets by id, not only by name, so a later dataset that
    takes a deleted one's name never inherits its evaluations or runs. Existing rows are filled in
    from the names where those datasets still exist."""
    con.execute("ALTER TABLE evaluations ADD COLUMN synthetic_id INTEGER")
    con.execute("ALTER TABLE evaluations ADD COLUMN real_id INTEGER")
    con.execute("ALTER TABLE evaluations ADD COLUMN holdout_id INTEGER")
    for column in ("synthetic", "real", "holdout"):
        con.execute(f"UPDATE evaluations e SET {column}_id = d.dataset_id FROM datasets d WHERE d.name = e.{column}")
    con.execute("ALTER TABLE dedup_runs ADD COLUMN dataset_ids INTEGER[]")
    con.execute("ALTER TABLE dedup_runs ADD COLUMN against_ids INTEGER[]")
    ids = dict(con.execute("SELECT name, dataset_id FROM datasets").fetchall())
    for run_id, names, against in con.execute("SELECT run_id, datasets, against FROM dedup_runs").fetchall():
        con.execute("UPDATE dedup_runs SET dataset_ids = ?, against_ids = ? WHERE run_id = ?",
                    [[ids[n] for n in names if n in ids], [ids[n] for n in against if n in ids], run_id])


M006_PII = """
-- A PII scan of an import (or export): what was scanned under which mode, and what it found.
CREATE TABLE pii_scans (
    scan_id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL,
    operation VARCHAR NOT NULL,
    mode VARCHAR NOT NULL,
    rows_scanned BIGINT NOT NULL,
    rows_with_pii BIGINT NOT NULL,
    counts JSON NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- Each finding: the record (text datasets) or table row, the field as a JSON pointer, the kind, its
-- span in the original value, where the placeholder starts when redacted, and a keyed hash of the
-- value (never the value).
CREATE TABLE pii_findings (
    scan_id INTEGER NOT NULL,
    record_id BIGINT,
    row_number BIGINT,
    field VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    detail VARCHAR NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    placeholder_start INTEGER,
    value_hash VARCHAR NOT NULL,
    confidence DOUBLE NOT NULL,
    action VARCHAR NOT NULL
);
"""

M007_DECONTAMINATION = """
-- Every match a decontamination run found: the record and field, the evaluation set and record,
-- the first matching n-gram, the character span in the field, the distinct n-grams it covers, how
-- many evaluation records hold the n-gram, and what was done with the record.
CREATE TABLE decontam_matches (
    run_id INTEGER NOT NULL,
    record_id BIGINT NOT NULL,
    field VARCHAR NOT NULL,
    eval_set VARCHAR,  -- NULL once an evaluation dataset is deleted
    eval_record VARCHAR,
    ngram VARCHAR NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    ngrams INTEGER NOT NULL,
    eval_frequency INTEGER NOT NULL,
    action VARCHAR NOT NULL
);
-- The cleaned copy a cut stored for a record (undo removes the copy and restores the record).
CREATE TABLE decontam_cuts (
    run_id INTEGER NOT NULL,
    record_id BIGINT NOT NULL,
    copy_record_id BIGINT NOT NULL
);
"""

MIGRATIONS: list[tuple[str, str | Callable[[duckdb.DuckDBPyConnection], None]]] = [
    ("m001_initial", M001_INITIAL),
    ("m002_generation_jobs", M002_GENERATION_JOBS),
    ("m003_dedup", M003_DEDUP),
    ("m004_evaluations", M004_EVALUATIONS),
    ("m005_dataset_ids", m005_dataset_ids),
    ("m006_pii", M006_PII),
    ("m007_decontamination", M007_DECONTAMINATION),
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
