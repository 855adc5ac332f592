"""Every registry write: registration, stages, aliases, tags, descriptions, renames, deletions.

Each runs in one ``write_tx`` (``BEGIN IMMEDIATE`` on SQLite) and records a history row in the
same transaction, so the audit log and ``registry_changed_token`` never miss a change (and, on
PostgreSQL, sends the model's name on ``NOTIFY_CHANNEL``). On PostgreSQL each write first locks the
model's row (``_model_row(..., lock=True)``) and takes ``lock_names`` before creating or renaming a
model, so concurrent writers queue as they do on SQLite: see ``db.py``.
"""
from __future__ import annotations

import functools
import getpass
import json
import os
import time
from pathlib import Path
from typing import Any

import peewee as pw

from ..model_trust import Trust
from . import storage
from .db import insert, lock_names, locked, notify, write_tx
from .entities import (
    STAGE_ARCHIVED, STAGE_NONE, STAGE_PRODUCTION, STAGE_STAGING, ModelExistsError, ModelVersion, RegisteredModel,
    normalize_stage, validate_alias, validate_name, validate_tag_key,
)


def now_ms() -> int:
    return int(time.time() * 1000)


@functools.lru_cache(maxsize=1)
def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - KeyError/OSError when the uid has no passwd entry (containers)
        return os.environ.get("USER") or "unknown"


def current_user() -> str:
    """Who is recorded in the history: ``$TRACKER_USER``, else the login name."""
    return os.environ.get("TRACKER_USER") or _login_name()


class WriteOps:
    """Mixed into ``Registry``; relies on its ``s``, ``db``, ``tracking_dir`` and row lookups."""

    # -- helpers -----------------------------------------------------------------------------
    def _record(self, model_id: int, action: str, version: int | None = None, key: str | None = None,
                from_value: Any = None, to_value: Any = None, comment: str | None = None,
                timestamp: int | None = None) -> None:
        insert(self.s.History, model=model_id, version=version, action=action, key=key,
               from_value=None if from_value is None else str(from_value),
               to_value=None if to_value is None else str(to_value), user=current_user(),
               timestamp=timestamp or now_ms(), comment=comment)
        notify(self.db, model_id)

    def _touch(self, model_id: int, ts: int, version_id: int | None = None) -> None:
        M, V = self.s.Model, self.s.Version
        M.update(last_updated_timestamp=ts).where(M.id == model_id).execute()
        if version_id is not None:
            V.update(last_updated_timestamp=ts).where(V.id == version_id).execute()

    def _new_model(self, name: str, description: str, ts: int):
        """Inside ``write_tx``, after ``lock_names`` and finding the name free."""
        M = self.s.Model
        base = storage.storage_dir_name(name)
        taken = {d.lower() for (d,) in M.select(M.storage_dir).tuples()}
        root = storage.registry_root(self.tracking_dir)
        candidate, n = base, 1
        # Case-insensitive file systems (macOS, Windows): "Model" and "model" need two directories.
        while candidate.lower() in taken or (root / candidate).exists():
            n += 1
            candidate = f"{base}~{n}"
        row = M.create(name=name, storage_dir=candidate, description=description,
                       creation_timestamp=ts, last_updated_timestamp=ts)
        self._record(row.id, "create_model", to_value=name, timestamp=ts)
        return row

    # -- models ----------------------------------------------------------------------------------
    def create_registered_model(self, name: str, tags: dict[str, Any] | None = None,
                                description: str | None = None) -> RegisteredModel:
        name = validate_name(name)
        tags = {validate_tag_key(k): str(v) for k, v in (tags or {}).items()}
        M = self.s.Model
        with write_tx(self.db):
            lock_names(self.db)
            existing = M.get_or_none(M.name == name)
            if existing is not None:
                state = "a deleted model (restore it with restore_registered_model)" if existing.deleted else "a model"
                raise ModelExistsError(f"{name!r} is already the name of {state}")
            ts = now_ms()
            row = self._new_model(name, description or "", ts)
            for key, value in tags.items():
                self.s.ModelTag.create(model=row.id, key=key, value=value)
        return self.get_registered_model(name)

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        with write_tx(self.db):
            row = self._model_row(name, lock=True)
            if (description or "") != row.description:
                ts = now_ms()
                self.s.Model.update(description=description or "", last_updated_timestamp=ts) \
                    .where(self.s.Model.id == row.id).execute()
                self._record(row.id, "description", from_value=row.description, to_value=description or "",
                             timestamp=ts)
        return self.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename; versions, aliases and history follow. Files stay in their directory."""
        new_name = validate_name(new_name, "new model name")
        M = self.s.Model
        with write_tx(self.db):
            lock_names(self.db)  # before the row lock, as register_model takes them
            row = self._model_row(name, lock=True)
            if new_name != name:
                if M.get_or_none(M.name == new_name) is not None:
                    raise ModelExistsError(f"cannot rename {name!r} to {new_name!r}: that name is taken")
                ts = now_ms()
                M.update(name=new_name, last_updated_timestamp=ts).where(M.id == row.id).execute()
                self._record(row.id, "rename", from_value=name, to_value=new_name, timestamp=ts)
                notify(self.db, name=name)  # listeners showing the old name learn it is gone
        return self.get_registered_model(new_name)

    def delete_registered_model(self, name: str) -> None:
        """Soft delete: the model and its versions are hidden (and keep their name and files)."""
        self._set_model_deleted(name, True)

    def restore_registered_model(self, name: str) -> RegisteredModel:
        self._set_model_deleted(name, False)
        return self.get_registered_model(name)

    def _set_model_deleted(self, name: str, deleted: bool) -> None:
        M = self.s.Model
        with write_tx(self.db):
            row = self._model_row(name, include_deleted=True, lock=True)
            if row.deleted == deleted:
                if deleted:
                    self._model_row(name)  # raises "was deleted"
                return
            ts = now_ms()
            M.update(deleted=deleted, last_updated_timestamp=ts).where(M.id == row.id).execute()
            self._record(row.id, "delete" if deleted else "restore", timestamp=ts)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self._set_tag(self.s.ModelTag, "model", name, None, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._set_tag(self.s.ModelTag, "model", name, None, key, None)

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        self._set_tag(self.s.VersionTag, "version", name, version, key, value)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        self._set_tag(self.s.VersionTag, "version", name, version, key, None)

    def _set_tag(self, table, owner_field: str, name: str, version, key: str, value: Any) -> None:
        key = validate_tag_key(key)
        with write_tx(self.db):
            model = self._model_row(name, lock=True)
            row = self._version_row(model, version) if version is not None else None
            owner = row.id if row is not None else model.id
            field = getattr(table, owner_field)
            old = table.get_or_none((field == owner) & (table.key == key))
            if value is None:
                if old is None:
                    return
                old.delete_instance()
            elif old is None:
                table.create(**{owner_field: owner, "key": key, "value": str(value)})
            elif old.value == str(value):
                return
            else:
                table.update(value=str(value)).where(table.id == old.id).execute()
            ts = now_ms()
            self._touch(model.id, ts, owner if row is not None else None)
            self._record(model.id, "tag_delete" if value is None else "tag_set",
                         version=row.version if row is not None else None, key=key,
                         from_value=old.value if old is not None else None, to_value=value, timestamp=ts)

    # -- versions --------------------------------------------------------------------------------
    def update_model_version(self, name: str, version: int | str, description: str | None = None) -> ModelVersion:
        with write_tx(self.db):
            row = self._version_row(self._model_row(name, lock=True), version)
            if description is not None and description != row.description:
                ts = now_ms()
                self.s.Version.update(description=description, last_updated_timestamp=ts) \
                    .where(self.s.Version.id == row.id).execute()
                self._record(row.model_id, "description", version=row.version, from_value=row.description,
                             to_value=description, timestamp=ts)
        return self.get_model_version(name, version)

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Soft delete: hidden from listings and URIs, restorable; aliases pointing at it are removed."""
        A, V = self.s.Alias, self.s.Version
        with write_tx(self.db):
            model = self._model_row(name, lock=True)
            row = self._version_row(model, version)
            ts = now_ms()
            for alias in A.select().where((A.model == model.id) & (A.version == row.version)):
                alias.delete_instance()
                self._record(model.id, "alias_delete", version=row.version, key=alias.alias,
                             from_value=row.version, comment="version deleted", timestamp=ts)
            V.update(deleted=True, last_updated_timestamp=ts).where(V.id == row.id).execute()
            self._touch(model.id, ts)
            self._record(model.id, "delete", version=row.version, from_value=row.current_stage, timestamp=ts)

    def restore_model_version(self, name: str, version: int | str) -> ModelVersion:
        V = self.s.Version
        with write_tx(self.db):
            model = self._model_row(name, lock=True)
            row = self._version_row(model, version, include_deleted=True)
            if row.deleted:
                ts = now_ms()
                V.update(deleted=False, last_updated_timestamp=ts).where(V.id == row.id).execute()
                self._touch(model.id, ts)
                self._record(model.id, "restore", version=row.version, to_value=row.current_stage, timestamp=ts)
        return self.get_model_version(name, version)

    def transition_model_version_stage(self, name: str, version: int | str, stage: str,
                                       archive_existing_versions: bool = False,
                                       comment: str | None = None) -> ModelVersion:
        """Move a version to ``stage`` (None/Staging/Production/Archived, any case). With
        ``archive_existing_versions``, the other versions in that stage go to Archived in the
        same transaction (only for Staging and Production, as MLflow)."""
        stage = normalize_stage(stage)
        if archive_existing_versions and stage not in (STAGE_STAGING, STAGE_PRODUCTION):
            raise ValueError(f"archive_existing_versions is only allowed when moving to "
                             f"{STAGE_STAGING} or {STAGE_PRODUCTION}, not {stage}")
        V = self.s.Version
        with write_tx(self.db):
            model = self._model_row(name, lock=True)
            row = self._version_row(model, version)
            ts = now_ms()
            if row.current_stage != stage:
                V.update(current_stage=stage, last_updated_timestamp=ts).where(V.id == row.id).execute()
                self._record(model.id, "stage", version=row.version, from_value=row.current_stage,
                             to_value=stage, comment=comment, timestamp=ts)
            if archive_existing_versions:
                others = V.select().where((V.model == model.id) & (V.current_stage == stage)
                                          & (V.deleted == False) & (V.id != row.id))  # noqa: E712
                for other in others.order_by(V.version):
                    V.update(current_stage=STAGE_ARCHIVED, last_updated_timestamp=ts).where(V.id == other.id).execute()
                    self._record(model.id, "stage", version=other.version, from_value=stage,
                                 to_value=STAGE_ARCHIVED, timestamp=ts,
                                 comment=f"archived: version {row.version} moved to {stage}")
            self._touch(model.id, ts)
        return self.get_model_version(name, version)

    # -- aliases -----------------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at ``version`` (moving it from another version if needed)."""
        alias = validate_alias(alias)
        A = self.s.Alias
        with write_tx(self.db):
            model = self._model_row(name, lock=True)
            row = self._version_row(model, version)
            old = A.get_or_none((A.model == model.id) & (A.alias == alias))
            if old is not None and old.version == row.version:
                return
            ts = now_ms()
            if old is None:
                A.create(model=model.id, alias=alias, version=row.version)
            else:
                A.update(version=row.version).where(A.id == old.id).execute()
            self._touch(model.id, ts)
            self._record(model.id, "alias_set", version=row.version, key=alias,
                         from_value=old.version if old is not None else None, to_value=row.version, timestamp=ts)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        A = self.s.Alias
        with write_tx(self.db):
            model = self._model_row(name, lock=True)
            old = A.get_or_none((A.model == model.id) & (A.alias == alias))
            if old is None:
                self.get_model_version_by_alias(name, alias)  # raises, listing the aliases
            old.delete_instance()
            ts = now_ms()
            self._touch(model.id, ts)
            self._record(model.id, "alias_delete", version=old.version, key=alias, from_value=old.version,
                         timestamp=ts)

    # -- registration ------------------------------------------------------------------------------
    def register_model(self, model_uri: str | os.PathLike, name: str, tags: dict[str, Any] | None = None,
                       description: str | None = None, run_id: str | None = None, trusted: Any = None,
                       trust_pickle: bool = False, progress: storage.Progress | None = None) -> ModelVersion:
        """Copy ``model_uri`` into the registry as the next version of ``name`` (created if needed).

        ``model_uri``: ``runs:/<run_id>/<path>``, ``models:/...``, ``file://...`` or a path to a file
        or directory. Nothing is numbered until the copy is complete: a missing source, an empty
        file or directory, or a failed copy raise and use up no version number.

        ``trusted`` (skops type names) and ``trust_pickle`` record the caller's decision about this
        version's model file; ``load_model("models:/name/N")`` honours it, and nothing in the files.

        ``progress(done_bytes, total_bytes)`` is called from this thread while the files are copied
        (``storage.stage_copy``): ``done`` only grows and the last call has ``done == total``. An
        exception it raises abandons the registration before anything is numbered.
        """
        from .lineage import find_origin, lookup_by_content, run_snapshot
        from .uri import locate_source
        name = validate_name(name)
        tags = {validate_tag_key(k): str(v) for k, v in (tags or {}).items()}
        trust = Trust.of(trusted, trust_pickle)
        M, V = self.s.Model, self.s.Version
        src = locate_source(self, model_uri, run_id)
        files = storage.validate_source(src.path, src.text)
        tmp, digests = storage.stage_copy(self.tracking_dir, files, progress)
        placed: Path | None = None
        try:
            if src.snapshot is None:  # not a copy of another version: which run produced it?
                origin = find_origin(self.tracking_dir, src.path, files, digests, run_id)
                src.run_id, src.artifact_path, src.link, src.other_runs = \
                    origin.run_id, origin.artifact_path, origin.link, list(origin.other_runs)
            elif src.run_id is None:  # a copy of a version that had no run: its content may have one now
                match, others = lookup_by_content(self.tracking_dir, files, digests)
                if match is not None:
                    src.run_id, src.artifact_path, src.link, src.other_runs = \
                        match.run_id, match.artifact_path, "sha256", others
            snapshot = src.snapshot if src.snapshot is not None else (
                run_snapshot(self.tracking_dir, src.run_id) if src.run_id else {})
            entry = src.path.name if src.path.is_file() else ""
            user, ts = current_user(), now_ms()
            with write_tx(self.db):
                # The model's row stays locked to the commit: the next number is this transaction's.
                def find():  # a new query each time (peewee caches a query's rows)
                    return locked(M.select(M.id, M.deleted, M.storage_dir).where(M.name == name)).tuples().first()
                found = find()
                if found is None:  # a new model, unless another process is creating it right now
                    lock_names(self.db)
                    found = find()
                if found is None:
                    model = self._new_model(name, "", ts)
                    model_id, storage_dir = model.id, model.storage_dir
                elif found[1]:
                    self._model_row(name)  # raises: the name belongs to a deleted model
                else:
                    model_id, _, storage_dir = found
                number = (V.select(pw.fn.MAX(V.version)).where(V.model == model_id).scalar() or 0) + 1
                version_dir = storage.registry_root(self.tracking_dir) / storage_dir / str(number)
                if version_dir.exists():  # left by a crash between rename and commit: no row owns it
                    storage.remove_tree(version_dir)
                storage.place(tmp, version_dir)
                placed = version_dir
                version_id = insert(
                    V, model=model_id, version=number, current_stage=STAGE_NONE, description=description or "",
                    source=src.text, run_id=src.run_id, experiment=snapshot.get("experiment"), run_link=src.link,
                    storage=storage.stored_path(self.tracking_dir, version_dir), entry=entry,
                    files=json.dumps(digests), user=user, creation_timestamp=ts, last_updated_timestamp=ts)
                for key, value in tags.items():
                    insert(self.s.VersionTag, version=version_id, key=key, value=value)
                lineage = {"run_artifact_path": src.artifact_path, "other_runs": src.other_runs,
                           "registered_by": user, "creation_timestamp": ts, **snapshot}
                insert(self.s.Lineage, version=version_id, data=json.dumps(lineage, default=str))
                self._touch(model_id, ts)
                self._record(model_id, "register", version=number, from_value=src.text, to_value=number,
                             comment=f"run {src.run_id}" if src.run_id else "no known run", timestamp=ts)
                if trust:
                    insert(self.s.Trust, version=version_id, types=json.dumps(list(trust.types)),
                           pickle=int(trust.pickle))
                    self._record(model_id, "trust", version=number, to_value=trust.describe(), timestamp=ts)
        except BaseException:
            if placed is not None:
                storage.remove_tree(placed)
            raise
        finally:
            storage.remove_tree(tmp)
        return ModelVersion(
            name=name, version=number, aliases=[], run_id=src.run_id, source=src.text,
            description=description or "", creation_timestamp=ts, last_updated_timestamp=ts, tags=tags,
            user=user, experiment=snapshot.get("experiment"), run_link=src.link,
            storage_path=str(version_dir / entry) if entry else str(version_dir),
            trusted_types=list(trust.types), trust_pickle=trust.pickle)
