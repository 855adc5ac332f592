"""``Registry``: one registry (a database plus ``<tracking dir>/registry/``), read side and lookups.

Writes live in ``writes.WriteOps``; ``Registry`` combines both. ``Registry.open(tracking_dir)`` returns
a per-process cached instance (a new one after ``fork``); ``Registry(tracking_dir)`` a fresh one.
"""
from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict, defaultdict
from pathlib import Path
from typing import Any

import peewee as pw

from ..config import get_tracking_dir
from ..integrity import sha256_file, verify_tree
from ..model_trust import Trust
from . import storage
from .db import build_schema, damaged, describe, ensure_schema, is_postgres, json_column, locked, open_database, \
    reporting_damage
from .location import registry_url
from .entities import (
    STAGES, AliasNotFoundError, HistoryEntry, Lineage, ModelNotFoundError, ModelVersion,
    ModelVersionNotFoundError, RegisteredModel, normalize_stage, parse_version, validate_name,
)
from .search import parse_filter, parse_order_by, sort_objects
from .storage import listed_path, version_path
from .writes import WriteOps

_VERSION_ORDER = {"name", "version", "creation_timestamp", "last_updated_timestamp", "current_stage"}
_MODEL_ORDER = {"name", "creation_timestamp", "last_updated_timestamp"}
_STAGE_SET = frozenset(STAGES)
_CACHE_SIZE = 8
_cache: OrderedDict[tuple, "Registry"] = OrderedDict()
_cache_lock = threading.Lock()


def choices(items: list, limit: int = 20) -> str:
    items = [str(i) for i in items]
    if not items:
        return "(none)"
    more = f", ... ({len(items)} in all)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


class Registry(WriteOps):
    """The model registry of one tracking directory (or of ``$TRACKER_REGISTRY_URL``)."""

    def __init__(self, tracking_dir: str | os.PathLike | None = None, url: str | None = None) -> None:
        self.tracking_dir = Path(tracking_dir).absolute() if tracking_dir is not None else get_tracking_dir()
        self.db = open_database(self.tracking_dir, url)
        self.s = build_schema(self.db)
        self._sql_cache: dict[str, tuple[str, list]] = {}
        try:
            with reporting_damage(self.db):
                ensure_schema(self.db, self.s)
        except BaseException:
            self.close()
            raise
        storage.clean_stale_copies(self.tracking_dir)

    @classmethod
    def open(cls, tracking_dir: str | os.PathLike | None = None, url: str | None = None) -> "Registry":
        """A cached registry for ``tracking_dir`` (default: the current tracking directory), in the
        database ``url`` (default: ``tracker.get_registry_uri()``'s)."""
        path = Path(tracking_dir).absolute() if tracking_dir is not None else get_tracking_dir()
        url = url or registry_url()
        key = (str(path), url or "", os.getpid())
        with _cache_lock:
            registry = _cache.get(key)
            if registry is not None and registry._file_is_gone():
                del _cache[key]  # the tracking directory was wiped: start again from scratch
                registry.close()
                registry = None
            if registry is not None:
                _cache.move_to_end(key)
                return registry
        registry = cls(path, url)
        with _cache_lock:
            _cache[key] = registry
            while len(_cache) > _CACHE_SIZE:
                (_, _, pid), old = _cache.popitem(last=False)
                if pid == os.getpid():
                    old.close()
        return registry

    def _file_is_gone(self) -> bool:
        return isinstance(self.db, pw.SqliteDatabase) and self.db.database != ":memory:" \
            and not os.path.exists(self.db.database)

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    def _drop_lost_connection(self) -> None:
        """After a PostgreSQL server restart or a dropped network link, this thread's connection is
        dead and peewee would keep handing it out: close it, so the next call connects again."""
        if not is_postgres(self.db) or self.db.is_closed() or self.db.is_connection_usable():
            return
        try:
            self.db.close()
        except Exception:  # noqa: BLE001 - closing a dead connection may fail too; forget it either way
            self.db._state.reset()

    def _json(self, text: Any, expected: type, what: str) -> Any:
        return json_column(text, expected, what, describe(self.db))

    def _check_version(self, name: Any, number: Any, stage: Any, *timestamps: Any) -> None:
        """Values every version row has unless the file was damaged (SQLite keeps no checksums)."""
        if type(name) is not str or type(number) is not int or number < 1 or stage not in _STAGE_SET \
                or any(type(t) is not int for t in timestamps):
            raise damaged(describe(self.db), f"a version row holds {name!r} v{number!r} in stage {stage!r}")

    def __repr__(self) -> str:
        return f"<Registry {describe(self.db)}>"

    # -- row lookups (raise with the valid choices) ------------------------------------------
    def _model_row(self, name: str, include_deleted: bool = False, lock: bool = False):
        """The model's row; with ``lock`` (inside ``write_tx``), locked until the transaction ends, so
        writes to one model queue one behind the other on PostgreSQL as on SQLite."""
        M = self.s.Model
        query = M.select().where(M.name == validate_name(name))
        row = (locked(query) if lock else query).get_or_none()
        if row is not None and (include_deleted or not row.deleted):
            return row
        names = [n for (n,) in M.select(M.name).where(M.deleted == False).order_by(M.name).tuples()]  # noqa: E712
        hint = " (it was deleted; restore it with restore_registered_model)" if row is not None else ""
        raise ModelNotFoundError(f"no registered model {name!r}{hint}; registered models: {choices(names)}")

    def _version_row(self, model, version: Any, include_deleted: bool = False):
        V = self.s.Version
        number = parse_version(version)
        row = V.get_or_none((V.model == model.id) & (V.version == number))
        if row is not None and (include_deleted or not row.deleted):
            return row
        numbers = [n for (n,) in V.select(V.version).where((V.model == model.id) & (V.deleted == False))  # noqa: E712
                   .order_by(V.version).tuples()]
        hint = " (it was deleted; restore it with restore_model_version)" if row is not None else ""
        raise ModelVersionNotFoundError(
            f"model {model.name!r} has no version {number}{hint}; versions: {choices(numbers)}")

    # -- building plain objects ----------------------------------------------------------------
    def _rows(self, query) -> list[tuple]:
        """Raw rows in the query's column order: peewee's per-value conversion costs ~10 ms per 1,000 rows."""
        return self.db.execute(query).fetchall()

    def _versions(self, where) -> list[ModelVersion]:
        """Versions matching ``where``, by name, newest version first."""
        V, M, VT, A, T = self.s.Version, self.s.Model, self.s.VersionTag, self.s.Alias, self.s.Trust
        rows = self._rows(V.select(V.id, V.model, M.name, V.version, V.current_stage, V.description, V.source,
                                   V.run_id, V.experiment, V.run_link, V.storage, V.entry, V.user,
                                   V.creation_timestamp, V.last_updated_timestamp, V.deleted, T.types, T.pickle)
                          .join(M).switch(V).join(T, pw.JOIN.LEFT_OUTER, on=(T.version == V.id))
                          .where(where).order_by(M.name, V.version.desc()))
        if not rows:
            return []
        for r in rows:
            self._check_version(r[2], r[3], r[4], r[13], r[14])
        tags: dict[int, dict[str, str]] = defaultdict(dict)
        for vid, key, value in self._rows(VT.select(VT.version, VT.key, VT.value).join(V).join(M).where(where)):
            tags[vid][key] = value
        model_ids = {r[1] for r in rows}
        query = A.select(A.model, A.version, A.alias).order_by(A.alias)
        if len(model_ids) <= 200:
            query = query.where(A.model.in_(model_ids))
        aliases: dict[tuple[int, int], list[str]] = defaultdict(list)
        for mid, number, alias in self._rows(query):
            aliases[(mid, number)].append(alias)
        root = str(self.tracking_dir)
        return [ModelVersion(
            name=name, version=number, current_stage=stage, aliases=aliases.get((mid, number), []),
            run_id=run_id, source=source, description=description, creation_timestamp=created,
            last_updated_timestamp=updated, tags=tags.get(vid, {}), user=user, experiment=experiment,
            run_link=run_link, storage_path=listed_path(root, storage, entry), deleted=bool(deleted),
            trusted_types=self._json(types, list, "a version's trusted types") if types else [],
            trust_pickle=bool(pickle),
        ) for (vid, mid, name, number, stage, description, source, run_id, experiment, run_link, storage, entry,
               user, created, updated, deleted, types, pickle) in rows]

    def _models(self, where) -> list[RegisteredModel]:
        M, V, MT, A = self.s.Model, self.s.Version, self.s.ModelTag, self.s.Alias
        rows = list(M.select().where(where).dicts())
        if not rows:
            return []
        tags: dict[int, dict[str, str]] = defaultdict(dict)
        for mid, key, value in self._rows(MT.select(MT.model, MT.key, MT.value).join(M).where(where)):
            tags[mid][key] = value
        aliases: dict[int, dict[str, int]] = defaultdict(dict)
        for mid, alias, number in self._rows(A.select(A.model, A.alias, A.version).join(M).where(where)
                                             .order_by(A.alias)):
            aliases[mid][alias] = number
        per_model: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
        for vid, mid, number, stage in self._rows(V.select(V.id, V.model, V.version, V.current_stage).join(M)
                                                  .where(where & (V.deleted == False))):  # noqa: E712
            self._check_version("", number, stage)
            per_model[mid].append((number, stage, vid))
        names = {r["id"]: r["name"] for r in rows}
        latest_ids: set[int] = set()
        stage_versions: dict[int, dict[str, list[int]]] = {}
        for mid, versions in per_model.items():
            versions.sort(reverse=True)
            by_stage: dict[str, list[int]] = {}
            for number, stage, vid in versions:
                if stage not in by_stage:
                    latest_ids.add(vid)
                by_stage.setdefault(stage, []).append(number)
            stage_versions[mid] = {s: by_stage[s] for s in STAGES if s in by_stage}
        latest: dict[str, list[ModelVersion]] = defaultdict(list)
        if latest_ids:
            if len(latest_ids) <= 500:
                found = self._versions(V.id.in_(latest_ids))
            else:  # too many to list in SQL: read the visible versions and keep the latest per stage
                wanted = {(names[mid], numbers[0]) for mid, by_stage in stage_versions.items()
                          for numbers in by_stage.values()}
                visible = self._versions(where & (V.deleted == False))  # noqa: E712
                found = [v for v in visible if (v.name, v.version) in wanted]
            order = {st: i for i, st in enumerate(STAGES)}
            for v in sorted(found, key=lambda v: order[v.current_stage]):
                latest[v.name].append(v)
        return [RegisteredModel(
            name=r["name"], creation_timestamp=r["creation_timestamp"],
            last_updated_timestamp=r["last_updated_timestamp"], description=r["description"],
            tags=tags.get(r["id"], {}), aliases=aliases.get(r["id"], {}), latest_versions=latest.get(r["name"], []),
            latest_version=per_model[r["id"]][0][0] if per_model.get(r["id"]) else None,
            version_count=len(per_model.get(r["id"], [])), stage_versions=stage_versions.get(r["id"], {}),
            deleted=bool(r["deleted"]),
        ) for r in rows]

    # -- reads -----------------------------------------------------------------------------------
    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._models(self.s.Model.id == self._model_row(name).id)[0]

    def search_registered_models(self, filter_string: str | None = None, max_results: int | None = None,
                                 order_by: list[str] | str | None = None,
                                 include_deleted: bool = False) -> list[RegisteredModel]:
        """Models matching ``filter_string`` (the runs' grammar over the fields in ``search.py``), by
        name unless ``order_by`` says otherwise."""
        M = self.s.Model
        found = parse_filter(filter_string, "model")
        keys = parse_order_by(order_by, _MODEL_ORDER) or [("name", False)]
        where = M.id.is_null(False) if include_deleted else (M.deleted == False)  # noqa: E712
        where = self._narrow(where, found, M.name)
        models = [m for m in self._models(where) if found.matches(m)]
        return sort_objects(models, keys)[:max_results]

    def search_model_versions(self, filter_string: str | None = None, max_results: int | None = None,
                              order_by: list[str] | str | None = None,
                              include_deleted: bool = False) -> list[ModelVersion]:
        """Versions matching ``filter_string`` (e.g. ``"name='m' OR tags.team='ml'"``), by name then newest first."""
        M, V = self.s.Model, self.s.Version
        found = parse_filter(filter_string, "version")
        keys = parse_order_by(order_by, _VERSION_ORDER)  # default: the SQL order, name then newest first
        where = M.id.is_null(False) if include_deleted else ((M.deleted == False) & (V.deleted == False))  # noqa: E712
        where = self._narrow(where, found, M.name)
        versions = self._versions(where)
        if found.ast is not None:
            versions = [v for v in versions if found.matches(v)]
        return sort_objects(versions, keys)[:max_results] if keys else versions[:max_results]

    @staticmethod
    def _narrow(where, found, name_field):
        """Ask the database only for the names the filter requires (it is still applied to each record)."""
        names = found.names() if found.ast is not None else None
        return where if names is None else where & name_field.in_(list(names))

    def list_model_versions(self, name: str, include_deleted: bool = False) -> list[ModelVersion]:
        """Every version of one model, newest first."""
        V = self.s.Version
        model = self._model_row(name, include_deleted)
        where = V.model == model.id if include_deleted else (V.model == model.id) & (V.deleted == False)  # noqa: E712
        return self._versions(where)

    def get_model_version(self, name: str, version: int | str, include_deleted: bool = False) -> ModelVersion:
        row = self._version_row(self._model_row(name, include_deleted), version, include_deleted)
        return self._versions(self.s.Version.id == row.id)[0]

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        """For each stage (all, or ``stages``), the highest version in it (MLflow's get_latest_versions)."""
        wanted = {normalize_stage(s) for s in stages} if stages else set(STAGES)
        return [v for v in self.get_registered_model(name).latest_versions if v.current_stage in wanted]

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        model = self._model_row(name)
        A = self.s.Alias
        row = A.get_or_none((A.model == model.id) & (A.alias == alias))
        if row is None:
            known = [f"{a}->v{n}" for a, n in A.select(A.alias, A.version).where(A.model == model.id)
                     .order_by(A.alias).tuples()]
            raise AliasNotFoundError(f"model {name!r} has no alias {alias!r}; aliases: {choices(known)}")
        return self.get_model_version(name, row.version)

    def get_model_history(self, name: str, version: int | str | None = None) -> list[HistoryEntry]:
        """The audit log of a model (deleted ones too), oldest first; only one version's when given."""
        H = self.s.History
        model = self._model_row(name, include_deleted=True)
        where = H.model == model.id
        if version is not None:
            where &= H.version == parse_version(version)
        return [HistoryEntry(id=r.id, name=model.name, version=r.version, action=r.action,
                             from_value=r.from_value, to_value=r.to_value, user=r.user, timestamp=r.timestamp,
                             comment=r.comment, key=r.key)
                for r in H.select().where(where).order_by(H.id)]

    def get_model_lineage(self, name: str, version: int | str) -> Lineage:
        row = self._version_row(self._model_row(name, True), version, True)
        L = self.s.Lineage
        lin = L.get_or_none(L.version == row.id)
        data: dict[str, Any] = self._json(lin.data, dict, "a version's lineage") if lin is not None else {}
        fields = set(Lineage.__dataclass_fields__)
        extra = {k: v for k, v in data.items() if k in fields and k not in ("name", "version", "run_exists")}
        run_exists = bool(row.run_id) and (self.tracking_dir / row.run_id).is_dir()
        extra.setdefault("files", self._json(row.files, dict, "a version's file list"))
        return Lineage(name=row.model.name, version=row.version, source=row.source, run_id=row.run_id,
                       run_link=row.run_link, run_exists=run_exists,
                       **{k: v for k, v in extra.items() if k not in ("source", "run_id", "run_link")})

    def next_version_numbers(self) -> dict[str, int]:
        """The number the next registration of each model would get, deleted models included
        (deleted versions keep their numbers, so this can be above ``latest_version + 1``)."""
        M, V = self.s.Model, self.s.Version
        query = M.select(M.name, pw.fn.MAX(V.version)).join(V, pw.JOIN.LEFT_OUTER).group_by(M.id)
        return {name: (top or 0) + 1 for name, top in self._rows(query)}

    def registry_changed_token(self) -> tuple[int, int]:
        """A value that changes whenever anything in the registry changes (any process).

        Every write records a history row in the same transaction, so ``(max history id, row
        count)`` moves with each commit; one indexed query (tens of microseconds), fine to poll
        every second. Equal tokens mean nothing changed. A file watcher can also watch
        ``registry.db-wal`` (SQLite in WAL mode), which is written on every commit; on PostgreSQL,
        LISTEN on ``db.NOTIFY_CHANNEL`` hears every commit without polling.
        """
        H = self.s.History
        top, count = H.select(pw.fn.MAX(H.id), pw.fn.COUNT(H.id)).scalar(as_tuple=True)
        return (top or 0, count or 0)

    # -- files -----------------------------------------------------------------------------------
    def _version_path(self, row) -> tuple[Path, Path]:
        """(version directory, what the version resolves to: the file or that directory)."""
        version_dir = version_path(self.tracking_dir, row.storage)
        return version_dir, (version_dir / row.entry if row.entry else version_dir)

    def verify_model_version(self, name: str, version: int | str) -> None:
        """Raise ModelIntegrityError if a registered file is missing, changed or was added."""
        row = self._version_row(self._model_row(name), version)
        version_dir, _ = self._version_path(row)
        verify_tree(version_dir, self._json(row.files, dict, "a version's file list"),
                    f"model {name!r} version {row.version}", complete=True)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        return self.get_model_version(name, version).storage_path

    def resolve_models_uri(self, uri: str, verify: bool = True) -> Path:
        """The registered file or directory ``uri`` names; with ``verify``, every file's sha256 is checked."""
        return self.locate_models_uri(uri, verify)[0]

    def locate_models_uri(self, uri: str, verify: bool = True) -> tuple[Path, Trust]:
        """``resolve_models_uri`` and the trust recorded when that version was registered (one read)."""
        from .uri import fast_lookup, resolve_row
        found = fast_lookup(self, uri)
        if found is None:
            row = resolve_row(self, uri)  # raises, listing the valid choices
            trust = self.s.Trust.get_or_none(self.s.Trust.version == row.id)
            found = (row.storage, row.entry, row.files, row.version, trust.types if trust else None,
                     trust.pickle if trust else False, row.model.name)
        rel, entry, files, number, types, pickle, name = found
        version_dir = version_path(self.tracking_dir, rel)
        if verify:
            verify_tree(version_dir, self._json(files, dict, "a version's file list"),
                        f"{uri} (model {name!r} version {number})", complete=True)
        recorded = Trust(tuple(self._json(types, list, "a version's trusted types")) if types else (), bool(pickle))
        return (version_dir / entry if entry else version_dir), recorded

    def find_runs_by_file(self, path: str | os.PathLike):
        """Runs whose artifacts hold a file with the same content as ``path`` (oldest run first)."""
        from .lineage import find_artifacts
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is not a file")
        return find_artifacts(self.tracking_dir, sha256_file(path), path.stat().st_size)


def _reporting_damage(method):
    @functools.wraps(method)
    def wrapper(self: Registry, *args: Any, **kwargs: Any) -> Any:
        try:
            with reporting_damage(self.db):
                return method(self, *args, **kwargs)
        except (pw.OperationalError, pw.InterfaceError):
            self._drop_lost_connection()
            raise
    return wrapper


# Any public call can be the first to touch a damaged page: each reports it the same way.
for _name in dir(Registry):
    if not _name.startswith("_") and _name not in ("open", "close") and callable(getattr(Registry, _name)):
        setattr(Registry, _name, _reporting_damage(getattr(Registry, _name)))
