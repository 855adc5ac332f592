"""Copying one registry into another: ``tracker models migrate --to postgresql://...``.

    result = migrate(Registry(runs, url="sqlite:///runs/registry.db"), Registry(runs, url="postgresql://..."))

Everything is copied as it is: each model (description, tags, deleted or not), every version (stage,
description, tags, source, run, user, timestamps, deleted ones too), aliases, the whole history (who,
when, comments, in order), lineage snapshots and trust records. Registered files go where the target
keeps them (``registry/`` beside its runs folder, or ``$TRACKER_REGISTRY_ARTIFACTS``), checked
against their recorded sha256 on the way; a version whose files already are where the target would
keep them (same runs folder, same storage) is pointed at after the same check, not copied.

Files are copied first, into the target's staging folder; then every row is written in one
transaction on the target, and the copies renamed into place inside it. A failure leaves no row in
the target and removes the files copied for it.

Names: a target that already has a model of the same name (a deleted one too) is refused before
anything is copied, unless ``merge``. Merging appends the source's versions after the target
model's own (source v1, v2 become v4, v5 after a v3), with their stages, tags, lineage, trust and
history (version numbers in it renumbered; the source's "create_model" dropped; a "merge" entry
says where they came from); the target model keeps its aliases (a source alias of the same name
is not copied, and is reported), description and tags, and gets those it lacks from the source.
Stages are kept as they were, so a model can end up with two versions in Production, as MLflow
allows; ``transition_model_version_stage(..., archive_existing_versions=True)`` tidies that.
"""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peewee as pw

from ..integrity import ModelIntegrityError, verify_tree
from . import storage
from .db import DB_FILE, describe, lock_names, locked, notify, write_tx
from .entities import ModelExistsError
from .registry import Registry
from .writes import current_user, now_ms

_VERSION_ACTIONS = ("register", "alias_set", "alias_delete")  # their from/to values are version numbers


@dataclass
class Migration:
    """What ``migrate`` did."""

    models: list[str] = field(default_factory=list)
    versions: int = 0
    copied: int = 0  # versions whose files were copied
    pointed: int = 0  # versions whose files were already in the target's storage
    renumbered: dict[str, dict[int, int]] = field(default_factory=dict)  # merged: source -> target numbers
    skipped_aliases: list[str] = field(default_factory=list)  # "fraud@champion": the target's was kept


@dataclass
class _Version:
    row: dict[str, Any]
    files: dict[str, str]
    source_dir: Path
    tags: list[dict] = field(default_factory=list)
    lineage: str | None = None
    trust: dict | None = None
    staged: Path | None = None  # its files copied into the target's staging folder


def same_database(a: pw.Database, b: pw.Database) -> bool:
    if isinstance(a, pw.SqliteDatabase) and isinstance(b, pw.SqliteDatabase):
        return os.path.realpath(str(a.database)) == os.path.realpath(str(b.database))
    return describe(a) == describe(b)


def migrate(source: Registry, target: Registry, merge: bool = False) -> Migration:
    """Copy every model of ``source`` into ``target`` (see the module's documentation)."""
    if same_database(source.db, target.db):
        raise ValueError(f"the source and the target are the same registry ({describe(target.db)})")
    models, versions, model_tags, aliases, history = _read(source)
    conflicts = _conflicts(target, [m["name"] for m in models], merge)
    if conflicts and not merge:
        raise ModelExistsError(
            f"the target registry {describe(target.db)} already has model(s) named {', '.join(map(repr, conflicts))}; "
            "nothing was copied. Pass --merge (merge=True) to append their versions after the existing ones")
    result = Migration(models=[m["name"] for m in models])
    placed: list[Path] = []
    try:
        for m in models:  # copies first: the transaction below does not wait for the disk
            for v in versions[m["id"]]:
                if not _points(source, target, m, v, conflicts):
                    v.staged = _stage(target, v, m["name"])
        with write_tx(target.db):
            lock_names(target.db)
            if _conflicts(target, result.models, merge) != conflicts:
                raise ModelExistsError("models were created in the target registry meanwhile; nothing was "
                                       "copied, run the migration again")
            taken = {d.lower() for (d,) in target.s.Model.select(target.s.Model.storage_dir).tuples()}
            for m in models:
                _write_model(source, target, m, versions[m["id"]], model_tags[m["id"]], aliases[m["id"]],
                             history[m["id"]], m["name"] in conflicts, taken, placed, result)
                notify(target.db, name=m["name"])
    except BaseException:
        for path in placed:
            storage.remove_tree(path)
        raise
    finally:
        for m in models:
            for v in versions[m["id"]]:
                if v.staged is not None:
                    storage.remove_tree(v.staged)
    return result


def _read(source: Registry):
    """Every row of the source, by model id (one transaction, so one consistent state)."""
    s = source.s
    with source.db.atomic():
        models = list(s.Model.select().order_by(s.Model.id).dicts())
        versions: dict[int, list[_Version]] = defaultdict(list)
        by_id: dict[int, _Version] = {}
        for row in s.Version.select().order_by(s.Version.model, s.Version.version).dicts():
            files = source._json(row["files"], dict, "a version's file list")
            v = _Version(row, files, storage.version_path(source.tracking_dir, row["storage"]))
            versions[row["model"]].append(v)
            by_id[row["id"]] = v
        for row in s.VersionTag.select().order_by(s.VersionTag.id).dicts():
            by_id[row["version"]].tags.append(row)
        for row in s.Lineage.select().dicts():
            by_id[row["version"]].lineage = row["data"]
        for row in s.Trust.select().dicts():
            by_id[row["version"]].trust = row
        model_tags: dict[int, list[dict]] = defaultdict(list)
        for row in s.ModelTag.select().order_by(s.ModelTag.id).dicts():
            model_tags[row["model"]].append(row)
        aliases: dict[int, list[dict]] = defaultdict(list)
        for row in s.Alias.select().order_by(s.Alias.id).dicts():
            aliases[row["model"]].append(row)
        history: dict[int, list[dict]] = defaultdict(list)
        for row in s.History.select().order_by(s.History.id).dicts():
            history[row["model"]].append(row)
    return models, versions, model_tags, aliases, history


def _conflicts(target: Registry, names: list[str], merge: bool) -> list[str]:
    M = target.s.Model
    found = sorted(n for (n,) in M.select(M.name).where(M.name.in_(names)).tuples()) if names else []
    if merge:
        deleted = [n for (n,) in M.select(M.name).where(M.name.in_(found) & (M.deleted == True)).tuples()]  # noqa: E712
        if deleted:
            raise ModelExistsError(f"cannot merge into deleted model(s) {', '.join(map(repr, deleted))} of the "
                                   "target registry: restore them there first")
    return found


def _points(source: Registry, target: Registry, model: dict, v: _Version, conflicts: list[str]) -> bool:
    """Whether the target would keep this version exactly where its files already are."""
    if model["name"] in conflicts:
        return False  # merged: renumbered, so elsewhere
    where = storage.registry_root(target.tracking_dir) / model["storage_dir"] / str(v.row["version"])
    return os.path.realpath(where) == os.path.realpath(v.source_dir)


def _stage(target: Registry, v: _Version, name: str) -> Path:
    what = f"model {name!r} version {v.row['version']}"
    files = [(v.source_dir / rel, rel) for rel in sorted(v.files)]
    try:
        tmp, digests = storage.stage_copy(target.tracking_dir, files)
    except FileNotFoundError as e:
        raise ModelIntegrityError(f"{what}: a registered file is missing ({e})") from None
    changed = sorted(rel for rel in v.files if digests.get(rel) != v.files[rel])
    if changed:
        storage.remove_tree(tmp)
        raise ModelIntegrityError(f"{what}: {', '.join(changed)} changed since it was registered (sha256 "
                                  "differs); nothing was copied")
    return tmp


def _storage_dir(target: Registry, model: dict, taken: set[str]) -> str:
    """The source's directory name when the target can have it (so files already there are found), else
    a free one by the registry's rule (``writes._new_model``)."""
    root = storage.registry_root(target.tracking_dir)
    wanted = model["storage_dir"]
    if wanted.lower() not in taken:
        return wanted
    base, candidate, n = storage.storage_dir_name(model["name"]), storage.storage_dir_name(model["name"]), 1
    while candidate.lower() in taken or (root / candidate).exists():
        n += 1
        candidate = f"{base}~{n}"
    return candidate


def _write_model(source: Registry, target: Registry, m: dict, versions: list[_Version], tags: list[dict],
                 aliases: list[dict], history: list[dict], merging: bool, taken: set[str], placed: list[Path],
                 result: Migration) -> None:
    T = target.s
    if merging:
        row = locked(T.Model.select().where(T.Model.name == m["name"])).get()
        model_id, storage_dir = row.id, row.storage_dir
        top = T.Version.select(pw.fn.MAX(T.Version.version)).where(T.Version.model == model_id).scalar() or 0
        numbers = {v.row["version"]: top + i for i, v in enumerate(versions, 1)}
        have = {t.key for t in T.ModelTag.select().where(T.ModelTag.model == model_id)}
        for t in tags:
            if t["key"] not in have:
                T.ModelTag.insert(model=model_id, key=t["key"], value=t["value"]).execute()
        if not row.description and m["description"]:
            T.Model.update(description=m["description"]).where(T.Model.id == model_id).execute()
        result.renumbered[m["name"]] = numbers
    else:
        storage_dir = _storage_dir(target, m, taken)
        model_id = T.Model.insert(**{**{k: v for k, v in m.items() if k != "id"}, "storage_dir": storage_dir}).execute()
        for t in tags:
            T.ModelTag.insert(model=model_id, key=t["key"], value=t["value"]).execute()
        numbers = {v.row["version"]: v.row["version"] for v in versions}
    taken.add(storage_dir.lower())
    root = storage.registry_root(target.tracking_dir)
    for v in versions:
        number = numbers[v.row["version"]]
        version_dir = root / storage_dir / str(number)
        if v.staged is None and os.path.realpath(version_dir) == os.path.realpath(v.source_dir):
            verify_tree(v.source_dir, v.files, f"model {m['name']!r} version {number}", complete=True)
            result.pointed += 1
        else:
            if v.staged is None:  # the target changed since the copies were planned
                v.staged = _stage(target, v, m["name"])
            if version_dir.exists():  # left by a crash between rename and commit: no row owns it
                storage.remove_tree(version_dir)
            storage.place(v.staged, version_dir)
            v.staged = None
            placed.append(version_dir)
            result.copied += 1
        fields = {k: val for k, val in v.row.items() if k not in ("id", "model")}
        fields.update(model=model_id, version=number, storage=storage.stored_path(target.tracking_dir, version_dir))
        vid = T.Version.insert(**fields).execute()
        for t in v.tags:
            T.VersionTag.insert(version=vid, key=t["key"], value=t["value"]).execute()
        if v.lineage is not None:
            T.Lineage.insert(version=vid, data=v.lineage).execute()
        if v.trust is not None:
            T.Trust.insert(version=vid, types=v.trust["types"], pickle=v.trust["pickle"]).execute()
        result.versions += 1
    kept = {a.alias for a in T.Alias.select().where(T.Alias.model == model_id)} if merging else set()
    for a in aliases:
        if a["alias"] in kept:
            result.skipped_aliases.append(f"{m['name']}@{a['alias']}")
        else:
            T.Alias.insert(model=model_id, alias=a["alias"], version=numbers.get(a["version"], a["version"])).execute()
    _write_history(target, model_id, history, numbers, merging, describe(source.db))


def _write_history(target: Registry, model_id: int, history: list[dict], numbers: dict[int, int],
                   merging: bool, origin: str) -> None:
    H = target.s.History

    def renumber(value: Any) -> Any:
        return str(numbers.get(int(value), value)) if isinstance(value, str) and value.isdigit() else value

    for h in history:
        if merging and h["action"] == "create_model":
            continue
        fields = {k: v for k, v in h.items() if k not in ("id", "model")}
        fields["model"] = model_id
        if h["version"] is not None:
            fields["version"] = numbers.get(h["version"], h["version"])
        if merging and h["action"] in _VERSION_ACTIONS:
            fields["to_value"] = renumber(h["to_value"])
            if h["action"] != "register":  # its from_value is the source path
                fields["from_value"] = renumber(h["from_value"])
        H.insert(**fields).execute()
    if merging and numbers:
        moved = ", ".join(f"v{a} as v{b}" for a, b in numbers.items())
        H.insert(model=model_id, version=None, action="merge", from_value=origin, to_value=None,
                 user=current_user(), timestamp=now_ms(), comment=f"copied {moved}").execute()


def source_registry(tracking_dir: Path, origin: str | None) -> Registry:
    """The registry to migrate from: ``origin`` (a database URL, or a runs folder whose ``registry.db``
    is read), else the SQLite registry beside ``tracking_dir``. Never creates one."""
    folder = Path(tracking_dir)
    if origin and "://" in origin and not origin.startswith("file:"):
        return Registry(folder, url=origin)
    if origin:
        folder = Path(origin[len("file://"):] if origin.startswith("file://") else origin).expanduser().absolute()
    db_file = folder / DB_FILE
    if not db_file.is_file():
        raise FileNotFoundError(f"no registry to migrate: {db_file} does not exist")
    return Registry(folder, url=f"sqlite:///{db_file}")


def describe_result(result: Migration) -> list[str]:
    """Lines for the command's output."""
    lines = [f"{len(result.models)} model(s), {result.versions} version(s): files copied for {result.copied}, "
             f"already in place for {result.pointed}"]
    for name, numbers in result.renumbered.items():
        lines.append(f"{name}: " + ", ".join(f"v{a} -> v{b}" for a, b in numbers.items()))
    for alias in result.skipped_aliases:
        lines.append(f"{alias}: the target's alias was kept (the source's was not copied)")
    return lines
