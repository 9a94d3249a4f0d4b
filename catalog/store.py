"""The catalog's core: one directory holding `catalog.duckdb` and a `vectors/` cache of FAISS indexes.

:class:`CatalogStore` opens the database, runs transactions and reads and writes dataset rows; the
modules of this package (import, export, search, dedup, ...) work on it. The public class is
:class:`catalog.api.Catalog`, which adds the verbs.

DuckDB is the source of truth. One process writes at a time (DuckDB's file lock); a second writer
gets :class:`CatalogInUse`. Writes run in one transaction, so a failed or killed import leaves the
catalog exactly as it was.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from catalog import schema
from catalog.errors import CatalogInUse, CatalogNotFound, DatasetExists, SynthcatError, UnknownDataset
from catalog.location import DB_FILE, VECTORS_DIR, resolve_catalog_dir

if TYPE_CHECKING:
    from typing_extensions import Self

    from catalog.encryption import Sealer

KINDS = ("text", "pairs", "conversations", "table")
ORIGINS = ("real", "synthetic")
TEXT_KINDS = ("text", "pairs", "conversations")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")


@dataclass
class Dataset:
    """A dataset row as the API returns it."""

    dataset_id: int
    name: str
    kind: str
    origin: str
    row_count: int
    created_at: Any
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    generator: str | None = None
    parameters: dict = field(default_factory=dict)
    model: str | None = None
    seed: int | None = None
    parents: list[str] = field(default_factory=list)
    embedder: str | None = None
    source: str | None = None
    table_name: str | None = None
    removed: int = 0  # records marked removed (dedup, decontamination)

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        out["created_at"] = str(self.created_at)
        return out


_DATASET_COLUMNS = (
    "dataset_id, name, kind, origin, row_count, created_at, description, tags, generator, "
    "parameters, model, seed, parents, embedder, source, table_name, "
    "(SELECT count(*) FROM records r WHERE r.dataset_id = datasets.dataset_id AND r.status <> 'active')"
)


def _dataset_from_row(row: Sequence) -> Dataset:
    (dataset_id, name, kind, origin, row_count, created_at, description, tags, generator, parameters,
     model, seed, parents, embedder, source, table_name, removed) = row
    return Dataset(
        dataset_id=dataset_id, name=name, kind=kind, origin=origin, row_count=row_count,
        created_at=created_at, description=description, tags=list(tags or []), generator=generator,
        parameters=json.loads(parameters) if parameters else {}, model=model, seed=seed,
        parents=list(parents or []), embedder=embedder, source=source, table_name=table_name,
        removed=int(removed or 0),
    )


def validate_dataset_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise SynthcatError(
            f"invalid dataset name {name!r}: use letters, digits, '_', '-' or '.', starting with a "
            "letter or digit (at most 128 characters)"
        )
    return name


def _connect(db_path: Path, read_only: bool, key: str | None) -> duckdb.DuckDBPyConnection:
    """A connection to the catalog's database: the file itself, or (``key`` given) an in-memory
    DuckDB with the encrypted file attached as ``catalog`` and made the default."""
    from catalog.encryption import EncryptionError, attach_encrypted

    try:
        if key is None:
            return duckdb.connect(str(db_path), read_only=read_only)
        con = duckdb.connect(":memory:")
        try:
            attach_encrypted(con, db_path, key, alias="catalog", read_only=read_only)
            con.execute("USE catalog")
        except BaseException:
            con.close()
            raise
        return con
    except duckdb.CatalogException as exc:
        if "encrypted" in str(exc).lower():
            raise EncryptionError(f"the catalog {db_path.parent} is encrypted but says it is not (its synthcat.json "
                                  "is missing or was replaced): restore synthcat.json") from None
        raise SynthcatError(f"cannot open catalog {db_path.parent}: {exc}") from None
    except duckdb.IOException as exc:
        msg = str(exc)
        if "lock" in msg.lower():
            holder = re.search(r"PID (\d+)", msg)
            who = f" (process {holder.group(1)})" if holder else ""
            if read_only:  # readers share a catalog, so the holder is writing
                detail = f"another process{who} is writing to {db_path.parent}; try again when it has finished"
            else:
                detail = (f"another process{who} has {db_path.parent} open (reading or writing), and a command "
                          "that writes needs the catalog to itself; try again when it has finished")
            raise CatalogInUse(f"catalog in use: {detail}") from None
        raise SynthcatError(f"cannot open catalog {db_path.parent}: {msg}") from None


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise SynthcatError(f"cannot create the catalog directory {path}: a file is in the way, not a directory") \
            from None
    except OSError as exc:
        raise SynthcatError(f"cannot create the catalog directory {path}: {exc.strerror or exc}") from None


class CatalogStore:
    """An open catalog's database and directory (the public class is :class:`catalog.api.Catalog`)."""

    def __init__(self, directory: Path, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self.directory = directory
        self.con = con
        self.read_only = read_only
        self._in_transaction = False
        self._after_commit: list = []
        self.sealer: Sealer | None = None  # seals the catalog's own files when it is encrypted
        self._key: str | None = None  # in memory only: the sandbox for SQL attaches the file again

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, directory: str | os.PathLike | None = None, *, create: bool = False, read_only: bool = False,
             encrypt: bool = False, key: str | None = None) -> Self:
        """Open the catalog at ``directory`` (resolved like the CLI's ``--catalog``).

        ``create=True`` makes a missing catalog (``encrypt=True``: an encrypted one); otherwise a
        missing one raises CatalogNotFound. An encrypted catalog needs its key: ``key``, else
        ``SYNTHCAT_KEY``, else the file ``SYNTHCAT_KEY_FILE`` names (see :mod:`catalog.encryption`).
        """
        from catalog.encryption import EncryptionError, Sealer, marker, user_key, write_marker

        path = resolve_catalog_dir(directory)
        db_path = path / DB_FILE
        if path.exists() and not path.is_dir():
            raise CatalogNotFound(f"{path} is a file, not a directory: a catalog is a directory "
                                  "(point --catalog / SYNTHCAT_CATALOG at a directory)")
        if db_path.exists() and not db_path.is_file():
            raise SynthcatError(f"{db_path} is not a file: this directory does not hold a catalog")
        if not db_path.exists():
            if not create:
                raise CatalogNotFound(
                    f"no catalog at {path}: import something first (synthcat import ...), "
                    "run `synthcat demo`, or point --catalog / SYNTHCAT_CATALOG at an existing one"
                )
            if read_only:
                raise CatalogNotFound(f"no catalog at {path}")
            key = user_key(key) if encrypt else None  # no key, no catalog: check before making anything
            _make_dir(path)
            write_marker(path, encrypted=encrypt)
        found = marker(path) or {"encrypted": False}
        if encrypt and not found.get("encrypted"):
            raise EncryptionError(f"the catalog at {path} exists and is not encrypted: encrypt a new one and "
                                  "import into it")
        sealer = None
        if found.get("encrypted"):
            key = user_key(key)
            sealer = Sealer(key, found["salt"])
        else:
            key = None
        if not read_only:
            _make_dir(path / VECTORS_DIR)
        con = _connect(db_path, read_only, key)
        con.execute("SET enable_progress_bar = false")
        cat = cls(path, con, read_only)
        cat.sealer = sealer
        cat._key = key
        if read_only:
            if schema.pending_migrations(con):
                con.close()
                raise SynthcatError(
                    f"catalog at {path} needs a schema upgrade: run any writing command once "
                    "(e.g. `synthcat index rebuild`)"
                )
        else:
            schema.migrate(con)
        return cat

    @property
    def encrypted(self) -> bool:
        """Whether the catalog is encrypted at rest."""
        return self.sealer is not None

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def vectors_dir(self) -> Path:
        return self.directory / VECTORS_DIR

    # ------------------------------------------------------------- transactions
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing write. Callbacks registered with :meth:`after_commit` run on success."""
        self._require_writable()
        if self._in_transaction:
            yield self.con
            return
        self.con.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield self.con
            self.con.execute("COMMIT")
        except BaseException:
            self._after_commit.clear()
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise
        finally:
            self._in_transaction = False
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def after_commit(self, callback) -> None:
        """Run ``callback`` once the current transaction commits (e.g. refresh a FAISS file)."""
        if self._in_transaction:
            self._after_commit.append(callback)
        else:
            callback()

    def _require_writable(self) -> None:
        if self.read_only:
            raise SynthcatError("this catalog was opened read-only")

    # ------------------------------------------------------------------- meta
    def get_meta(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def touch_vectors(self, embedder_id: str) -> str:
        """Record that the vector set of ``embedder_id`` changed (inside the write transaction)."""
        token = uuid.uuid4().hex
        self.set_meta(f"vector_state:{embedder_id}", token)
        return token

    # --------------------------------------------------------------- datasets
    def datasets(self, *, kind: str | None = None, origin: str | None = None) -> list[Dataset]:
        sql = f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE 1=1"
        params: list = []
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        if origin:
            sql += " AND origin = ?"
            params.append(origin)
        rows = self.con.execute(sql + " ORDER BY dataset_id", params).fetchall()
        return [_dataset_from_row(r) for r in rows]

    def dataset(self, name: str) -> Dataset:
        row = self.con.execute(f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE name = ?", [name]).fetchone()
        if row is None:
            known = [r[0] for r in self.con.execute("SELECT name FROM datasets ORDER BY name").fetchall()]
            hint = f" (known: {', '.join(known[:10])}{'...' if len(known) > 10 else ''})" if known else \
                " (the catalog holds no datasets yet)"
            raise UnknownDataset(f"unknown dataset '{name}'{hint}")
        return _dataset_from_row(row)

    def has_dataset(self, name: str) -> bool:
        return self.con.execute("SELECT count(*) FROM datasets WHERE name = ?", [name]).fetchone()[0] > 0

    def require_new_name(self, name: str) -> None:
        """Raise :class:`DatasetExists` (with what to do about it) if ``name`` is taken."""
        if self.has_dataset(name):
            raise DatasetExists(
                f"dataset '{name}' already exists: choose another name or delete it first "
                f"(synthcat delete {name})"
            )

    def create_dataset(self, name: str, *, kind: str, origin: str, description: str | None = None,
                       tags: Sequence[str] = (), generator: str | None = None,
                       parameters: dict | None = None, model: str | None = None,
                       seed: int | None = None, parents: Sequence[str] = (),
                       embedder: str | None = None, source: str | None = None) -> Dataset:
        """Insert a dataset row (inside the caller's transaction). Raises if the name is taken."""
        self._require_writable()
        validate_dataset_name(name)
        if kind not in KINDS:
            raise SynthcatError(f"unknown kind '{kind}': choose one of {', '.join(KINDS)}")
        if origin not in ORIGINS:
            raise SynthcatError(f"unknown origin '{origin}': choose 'real' or 'synthetic'")
        self.require_new_name(name)
        for parent in parents:
            self.dataset(parent)
        dataset_id = self._next_id("dataset_id", "datasets", "next_dataset_id")
        table_name = f"table_{dataset_id}" if kind == "table" else None
        self.con.execute(
            "INSERT INTO datasets (dataset_id, name, kind, origin, description, tags, generator, parameters, "
            "model, seed, parents, embedder, source, table_name, created_at, row_count) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), 0)",
            [dataset_id, name, kind, origin, description, list(tags), generator,
             json.dumps(parameters or {}, default=str), model, seed, list(parents), embedder, source,
             table_name],
        )
        return self.dataset(name)

    def update_dataset(self, name: str, **values: Any) -> None:
        allowed = {"row_count", "embedder", "parameters", "description", "tags"}
        bad = set(values) - allowed
        if bad:
            raise ValueError(f"cannot update {bad}")
        for column, value in values.items():
            if column == "parameters":
                value = json.dumps(value, default=str)
            self.con.execute(f"UPDATE datasets SET {column} = ? WHERE name = ?", [value, name])

    def next_record_id(self) -> int:
        return self._next_id("record_id", "records", "next_record_id")

    def _next_id(self, column: str, table: str, floor_key: str) -> int:
        """One past the highest id in use, and never below an id handed out before a delete."""
        highest = self.con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchone()[0]
        return max(int(highest), int(self.get_meta(floor_key) or 0))

    def resolve_datasets(self, names: Sequence[str]) -> list[Dataset]:
        return [self.dataset(n) for n in names]
