"""``models:/`` URIs, and where a registration's source is.

    models:/<name>/<version>     models:/<name>/<stage>     models:/<name>/latest     models:/<name>@<alias>

Stages are case-insensitive; "latest" is the highest visible version. Names cannot contain "/", so
the first "/" separates name and selector; without one, the last "@" separates name and alias.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from .. import store
from ..config import get_tracking_dir
from .entities import STAGES, AliasNotFoundError, ModelVersionNotFoundError, normalize_stage

if TYPE_CHECKING:
    from .registry import Registry

PREFIX = "models:/"
_USAGE = "models:/<name>/<version>, models:/<name>/<stage>, models:/<name>/latest or models:/<name>@<alias>"


def parse_models_uri(uri: str) -> tuple[str, str, str]:
    """(name, kind, value) with kind one of "version", "stage", "latest", "alias"; ValueError otherwise."""
    if not uri.startswith(PREFIX):
        raise ValueError(f"{uri!r} is not a models:/ URI; use {_USAGE}")
    rest = uri[len(PREFIX):].lstrip("/")
    if "/" in rest:
        name, _, selector = rest.partition("/")
        selector = selector.rstrip("/")
        if not name or not selector or "/" in selector:
            raise ValueError(f"{uri!r}: expected {_USAGE}")
        if selector.isdigit():
            return name, "version", selector
        if selector.lower() == "latest":
            return name, "latest", "latest"
        try:
            return name, "stage", normalize_stage(selector)
        except ValueError:
            raise ValueError(f"{uri!r}: {selector!r} is neither a version number, 'latest', nor a stage "
                             f"({', '.join(STAGES)}, any case)") from None
    if "@" in rest:
        name, _, alias = rest.rpartition("@")
        if name and alias:
            return name, "alias", alias
    raise ValueError(f"{uri!r}: expected {_USAGE}")


_NAME, _VALUE, _NUMBER = "\x00name\x00", "\x00value\x00", -987654321  # placeholders while compiling


def _compile(registry: "Registry", kind: str) -> tuple[str, list]:
    """The SQL for one selector kind, generated once by peewee (so in the database's dialect)."""
    import peewee as pw
    V, M, A, T = registry.s.Version, registry.s.Model, registry.s.Alias, registry.s.Trust
    query = (V.select(V.storage, V.entry, V.files, V.version, T.types, T.pickle).join(M)
             .switch(V).join(T, pw.JOIN.LEFT_OUTER, on=(T.version == V.id))
             .where((M.name == _NAME) & (M.deleted == False) & (V.deleted == False)))  # noqa: E712
    if kind == "version":
        query = query.where(V.version == _NUMBER)
    elif kind == "alias":
        query = query.join(A, on=((A.model == M.id) & (A.version == V.version))).where(A.alias == _VALUE)
    else:
        if kind == "stage":
            query = query.where(V.current_stage == _VALUE)
        query = query.order_by(V.version.desc()).limit(1)
    return query.sql()


def fast_lookup(registry: "Registry", uri: str) -> tuple[str, str, str, int, str | None, bool, str] | None:
    """(storage, entry, files JSON, version, trusted types JSON or None, trust pickle, name) for a URI
    naming a visible version, else None.

    One query with cached SQL: resolving must cost well under 5 ms, and building peewee queries
    costs a few tenths of a millisecond each. On None, ``resolve_row`` explains what is wrong.
    """
    name, kind, value = parse_models_uri(uri)
    cache = registry._sql_cache
    if kind not in cache:
        cache[kind] = _compile(registry, kind)
    sql, params = cache[kind]
    args = [name if p == _NAME else value if p == _VALUE else int(value) if p == _NUMBER else p for p in params]
    row = registry.db.execute_sql(sql, args).fetchone()
    return (*row, name) if row is not None else None


def resolve_row(registry: "Registry", uri: str):
    """The version row a ``models:/`` URI names; errors list the valid choices."""
    name, kind, value = parse_models_uri(uri)
    V, A = registry.s.Version, registry.s.Alias
    model = registry._model_row(name)
    visible = (V.model == model.id) & (V.deleted == False)  # noqa: E712
    if kind == "version":
        return registry._version_row(model, value)
    if kind == "alias":
        alias = A.get_or_none((A.model == model.id) & (A.alias == value))
        if alias is None:
            registry.get_model_version_by_alias(name, value)  # raises, listing the aliases
            raise AliasNotFoundError(value)  # pragma: no cover
        return registry._version_row(model, alias.version)
    where = visible if kind == "latest" else visible & (V.current_stage == value)
    row = V.select().where(where).order_by(V.version.desc()).first()
    if row is None:
        in_use = [f"{stage} (v{number})" for stage, number in
                  V.select(V.current_stage, V.version).where(visible).order_by(V.version.desc()).tuples()]
        seen, summary = set(), []
        for item in in_use:
            if item.split(" ")[0] not in seen:
                seen.add(item.split(" ")[0])
                summary.append(item)
        what = "no versions" if kind == "latest" else f"no version in stage {value}"
        raise ModelVersionNotFoundError(
            f"{uri}: model {name!r} has {what}; latest version per stage: {', '.join(summary) or '(none)'}")
    return row


def local_path(uri: str, tracking_dir: str | os.PathLike | None = None) -> Path:
    """The path a ``runs:/<run_id>/<path>``, ``file://...`` URI or plain path names (not checked to
    exist); ``runs:/`` is looked up in ``tracking_dir`` (default: the current tracking directory)."""
    if uri.startswith("runs:/"):
        root = Path(tracking_dir) if tracking_dir is not None else get_tracking_dir()
        run_id, _, rel = uri[len("runs:/"):].strip("/").partition("/")
        run_path = store.run_dir(root, run_id)
        if not store.is_run_dir_name(run_id) or not run_path.is_dir():
            raise ValueError(f"{uri}: no run {run_id!r} in {root}")
        return store.resolve_inside(run_path / store.ARTIFACTS_DIR, rel, "model path")
    if uri.startswith("file://"):
        return Path(unquote(urlparse(uri).path))
    return Path(uri)


@dataclass
class Source:
    text: str  # what the user passed, as recorded in ModelVersion.source
    path: Path
    run_id: str | None = None
    artifact_path: str | None = None
    link: str | None = None
    snapshot: dict[str, Any] | None = None  # lineage copied from another version, if any
    other_runs: list[str] = field(default_factory=list)


def locate_source(registry: "Registry", model_uri: str | os.PathLike, run_id: str | None) -> Source:
    """The local path of a registration's source, refusing a model folder whose files do not match its
    manifest and a ``run_id`` that names no run. For a ``models:/`` source, the run and lineage of
    that version; for anything else the run is found after the copy (``lineage.find_origin``)."""
    from ..integrity import MANIFEST, ModelIntegrityError, read_manifest, verify_against_manifest
    from .lineage import run_of_path
    text = os.fspath(model_uri) if isinstance(model_uri, os.PathLike) else str(model_uri)
    if text.startswith(PREFIX):
        row = resolve_row(registry, text)
        _, path = registry._version_path(row)
        lin = registry.s.Lineage.get_or_none(registry.s.Lineage.version == row.id)
        data = registry._json(lin.data, dict, "a version's lineage") if lin is not None else {}
        artifact_path, other_runs = data.get("run_artifact_path"), data.get("other_runs", [])
        snapshot = {k: v for k, v in data.items()
                    if k not in ("registered_by", "creation_timestamp", "run_artifact_path", "other_runs")}
        return Source(text, path, row.run_id, artifact_path, "model" if row.run_id else None, snapshot, other_runs)
    path = (local_path(text, registry.tracking_dir) if text.startswith(("runs:/", "file://"))
            else Path(text).expanduser())
    if not path.exists():
        raise FileNotFoundError(f"cannot register {text}: nothing at {path}")
    plain = not text.startswith(("runs:/", "file://"))
    src = Source(str(path.absolute()) if plain else text, path.absolute())  # no relative paths in the record
    if run_id is not None and run_of_path(registry.tracking_dir, path) is None:  # its place would win
        if not store.is_run_dir_name(run_id) or not (registry.tracking_dir / run_id).is_dir():
            raise ValueError(f"no run {run_id!r} in {registry.tracking_dir}")
    if path.is_dir() and (path / MANIFEST).is_file():
        try:
            manifest = read_manifest(path)
        except ValueError as e:  # UnicodeDecodeError too: a file's fault, never the registry's
            raise ValueError(f"refusing to register {text}: its {MANIFEST} is not a manifest ({e})") from None
        try:
            verify_against_manifest(path, manifest)
        except ModelIntegrityError as e:
            raise ModelIntegrityError(f"refusing to register {text}: {e}") from None
    return src
