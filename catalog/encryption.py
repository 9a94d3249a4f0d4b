"""Encryption at rest: a catalog made with ``encrypt=True`` keeps nothing readable on disk.

* The DuckDB file (and its write-ahead log and temporary files) uses DuckDB's own database
  encryption, whose cipher comes from the httpfs extension's OpenSSL: the extension ships in the
  ``duckdb-extension-httpfs`` package and is loaded by path, so nothing is downloaded.
* Every other file the catalog writes for itself (the FAISS indexes under ``vectors/``) is sealed
  with AES-256-GCM (``cryptography``), under a key derived from the user's key by HKDF-SHA256 with a
  random salt kept in ``synthcat.json``.

The key comes from ``SYNTHCAT_KEY``, or from the file ``SYNTHCAT_KEY_FILE`` names (or the ``key``
argument in Python). It is never stored, printed or logged; ``synthcat.json`` holds only the fact
that the catalog is encrypted and the salt. Without the right key a catalog does not open at all.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import duckdb

from catalog.errors import MissingDependency, SynthcatError

MARKER = "synthcat.json"
KEY_VARIABLE = "SYNTHCAT_KEY"
KEY_FILE_VARIABLE = "SYNTHCAT_KEY_FILE"
MIN_KEY_LENGTH = 16
_MAGIC = b"SYNTHCAT-AESGCM1"  # sealed files start with this, then a 12-byte nonce


class EncryptionError(SynthcatError):
    """A missing, wrong or unusable key (the message never shows the key)."""


def marker(directory: Path) -> dict | None:
    """The catalog's marker (``None``: a plain catalog made before markers, or no catalog)."""
    path = directory / MARKER
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SynthcatError(f"{path} is damaged: it should say whether the catalog is encrypted") from None


def write_marker(directory: Path, *, encrypted: bool) -> dict:
    data = {"format": 1, "encrypted": encrypted}
    if encrypted:
        data["salt"] = secrets.token_hex(16)
    (directory / MARKER).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return data


def user_key(key: str | bytes | None = None) -> str:
    """The key: ``key`` if given, else ``SYNTHCAT_KEY``, else the contents of ``SYNTHCAT_KEY_FILE``."""
    if key is None:
        key = os.environ.get(KEY_VARIABLE) or None
    if key is None and os.environ.get(KEY_FILE_VARIABLE):
        path = Path(os.environ[KEY_FILE_VARIABLE])
        try:
            key = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise EncryptionError(f"cannot read the key file {path} ({KEY_FILE_VARIABLE}): "
                                  f"{getattr(exc, 'strerror', None) or exc.__class__.__name__}") from None
    if key is None or key == "":
        raise EncryptionError(f"this catalog is encrypted: set {KEY_VARIABLE} to its key, or {KEY_FILE_VARIABLE} "
                              "to a file holding it")
    if isinstance(key, bytes):
        key = key.decode("utf-8")
    if len(key) < MIN_KEY_LENGTH:
        raise EncryptionError(f"the key is too short: use at least {MIN_KEY_LENGTH} characters (for example "
                              "python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return key


def httpfs_path() -> Path:
    try:
        import duckdb_extension_httpfs
    except ImportError:
        raise MissingDependency("encrypted catalogs need DuckDB's httpfs extension: "
                                f"pip install duckdb-extension-httpfs=={duckdb.__version__}") from None
    root = Path(duckdb_extension_httpfs.__file__).parent / "extensions"
    exact = root / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    found = [exact] if exact.exists() else sorted(root.glob("*/httpfs.duckdb_extension"))
    if not found:
        raise MissingDependency(f"the httpfs extension for DuckDB {duckdb.__version__} is missing: "
                                f"pip install duckdb-extension-httpfs=={duckdb.__version__}")
    return found[-1]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def attach_encrypted(con: duckdb.DuckDBPyConnection, db_path: Path, key: str, *, alias: str,
                     read_only: bool) -> None:
    """Attach the encrypted database at ``db_path`` to ``con`` as ``alias``; a wrong key is an
    :class:`EncryptionError` (the key never appears in a message)."""
    con.execute(f"LOAD {_literal(str(httpfs_path()))}")
    con.execute("SET temp_file_encryption = true")
    options = f"ENCRYPTION_KEY {_literal(key)}" + (", READ_ONLY" if read_only else "")
    try:
        con.execute(f"ATTACH {_literal(str(db_path))} AS {alias} ({options})")
    except duckdb.InvalidInputException as exc:
        if "encryption key" in str(exc).lower():
            raise EncryptionError(f"wrong key for the encrypted catalog {db_path.parent} "
                                  f"({KEY_VARIABLE} / {KEY_FILE_VARIABLE})") from None
        raise


class Sealer:
    """AES-256-GCM for the catalog's own files, keyed from the user's key and the catalog's salt."""

    def __init__(self, key: str, salt: str) -> None:
        try:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            from cryptography.hazmat.primitives.kdf.hkdf import HKDF
        except ImportError:
            raise MissingDependency("encrypted catalogs need cryptography: pip install cryptography") from None
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=bytes.fromhex(salt),
                       info=b"synthcat catalog files").derive(key.encode("utf-8"))
        self._aead = AESGCM(derived)

    def seal(self, data: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return _MAGIC + nonce + self._aead.encrypt(nonce, data, _MAGIC)

    def open(self, data: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 12 + 16:
            raise SynthcatError("a catalog file is not sealed with this catalog's key (damaged or foreign)")
        nonce = data[len(_MAGIC):len(_MAGIC) + 12]
        try:
            return self._aead.decrypt(nonce, data[len(_MAGIC) + 12:], _MAGIC)
        except InvalidTag:
            raise SynthcatError("a catalog file failed its integrity check (damaged, or sealed with another key)") \
                from None
