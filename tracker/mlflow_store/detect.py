"""Is a path an MLflow store, and which kind? Cheap enough to ask of every path the user opens."""
from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from ..store import layout
from . import files

_SQLITE_MAGIC = b"SQLite format 3\x00"
_MLFLOW_TABLES = {"experiments", "runs", "metrics", "params", "tags"}


def detect(path: str | os.PathLike) -> str | None:
    """``"file"`` for an MLflow file store (``mlruns/``), ``"sqlite"`` for an MLflow SQLite
    database, None for anything else (a tracker runs directory included). Never raises."""
    text = os.fspath(path)
    try:
        if text.startswith("sqlite:"):
            return "sqlite" if _is_mlflow_sqlite(sqlite_path(text)) else None
        if text.startswith("file:"):
            text = unquote(urlparse(text).path)
        p = Path(text).expanduser()
        st = os.stat(p)
        if stat.S_ISDIR(st.st_mode):
            return "file" if _is_file_store(p) else None
        if stat.S_ISREG(st.st_mode):
            return "sqlite" if _is_mlflow_sqlite(p) else None
    except (OSError, ValueError):
        return None
    return None


def sqlite_path(path: str | os.PathLike) -> Path:
    """The database file of ``sqlite:///relative.db``, ``sqlite:////abs.db`` or a plain path."""
    text = os.fspath(path)
    if text.startswith("sqlite:"):
        rest = text[len("sqlite:"):]
        if not rest.startswith("///"):
            raise ValueError(f"{text!r}: expected sqlite:///<path>")
        return Path(unquote(rest[3:].split("?")[0])).expanduser()
    return Path(text).expanduser()


def _is_file_store(root: Path) -> bool:
    """A directory with at least one experiment folder: ``<integer id>/meta.yaml`` naming an experiment."""
    if os.path.isfile(os.path.join(root, "0", "meta.yaml")):
        candidates = [os.path.join(root, "0")]  # MLflow's Default experiment: no need to list the folder
        if _any_experiment(candidates):
            return True
    if os.path.exists(os.path.join(root, layout.INDEX_NAME)):
        return False  # tracker's own runs folder (listing 10,000 runs' names to find no experiment is a stall)
    try:
        with os.scandir(root) as it:
            # MLflow's experiment ids are integers: a tracker runs directory costs no reads
            candidates = [entry.path for entry in it if entry.name.isdigit()]
    except OSError:
        return False
    return _any_experiment(candidates)


def _any_experiment(candidates: list[str]) -> bool:
    for path in candidates:
        if not os.path.isdir(path) or os.path.islink(path):
            continue
        meta = os.path.join(path, "meta.yaml")
        try:
            doc = files.read_meta(meta)
        except (OSError, ValueError):
            continue
        if "experiment_id" in doc and "name" in doc:
            return True
    return False


def _is_mlflow_sqlite(db: Path) -> bool:
    try:
        with open(db, "rb") as f:
            if f.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
                return False
        conn = connect_read_only(db)
    except (OSError, sqlite3.Error):
        return False
    try:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return _MLFLOW_TABLES <= names


def connect_read_only(db: Path, lenient_text: bool = False) -> sqlite3.Connection:
    """A read-only connection (``mode=ro``): nothing this process does can change the database.

    With ``lenient_text``, text that is not UTF-8 reads with U+FFFD in place of the bad bytes
    instead of failing the whole query (slower: a Python call per value).
    """
    uri = "file:" + quote(str(Path(db).absolute())) + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=5.0, check_same_thread=False)
    if lenient_text:
        conn.text_factory = _lenient
    return conn


def _lenient(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")
