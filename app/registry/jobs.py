"""What the registry panel's workers run: plain functions over ``tracker`` (no Qt here).

Every function takes the tracking directory first and returns plain objects; the panel runs
them on a worker thread (``app.registry.worker``) and gets the result back by signal. Nothing
here creates ``registry.db`` except the writes: viewing a folder never leaves a file behind.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import tracker
from app.runs import access as run_access
from tracker import store
from tracker.entities import Run
from tracker.integrity import tree_digest
from tracker.mlflow_store.client_view import ReadOnlyRegistry
from tracker.model_trust import Trust, needed_trust
from tracker.registry import (
    STAGES, HistoryEntry, Lineage, ModelVersion, RegisteredModel, RegistryNotFoundError, validate_alias,
)
from tracker.registry.lineage import Origin, find_origin
from tracker.registry.location import registry_url
from tracker.registry.notify import connect_params
from tracker.registry.storage import validate_source
from tracker.reproduce import Reproduction, RunSource, reproduce

Progress = Callable[[int, int], None]
DB_FILE = "registry.db"
_used: set[str] = set()  # tracking dirs whose registry this process (thread) opened
_lineages: OrderedDict[tuple, Lineage] = OrderedDict()  # lineage is a snapshot: cache it
_LINEAGE_CACHE = 4000


class DropError(ValueError):
    """A drop that cannot be registered; the message says why, for the user."""


# ------------------------------------------------------------------------------ reading

@dataclass(frozen=True)
class VersionRow:
    version: ModelVersion
    run_name: str | None = None
    digest: str = ""  # the file's sha256, or a digest over every file's path and sha256
    files: int = 0


@dataclass
class RegistryState:
    exists: bool
    token: tuple[int, int] | None = None
    models: list[RegisteredModel] = field(default_factory=list)
    model: str | None = None  # whose versions and history follow (None: no model, or it is gone)
    versions: list[VersionRow] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    next_versions: dict[str, int] = field(default_factory=dict)  # model -> its next registration's number
    notify: dict | None = None  # a PostgreSQL registry's connection parameters, to listen for changes


def registry_exists(tracking_dir: Path) -> bool:
    if run_access.is_read_only(tracking_dir):
        return True  # an open MLflow store: its model registry, read-only
    return bool(registry_url()) or (Path(tracking_dir) / DB_FILE).is_file()  # a database elsewhere, or the file


def client(tracking_dir: Path) -> tracker.Client | ReadOnlyRegistry:
    """tracker's Client for a tracking directory; for an open MLflow store, its registry's reads
    (the same read calls; writing calls are absent, and the panel offers none)."""
    mlflow = run_access.registry_for(tracking_dir)
    if mlflow is not None:
        return mlflow
    _used.add(str(tracking_dir))
    return tracker.Client(tracking_dir)


def notify_params(tracking_dir: Path) -> dict | None:
    """Where to listen for changes: a PostgreSQL registry's connection parameters, else None (poll)."""
    url = registry_url()
    if not url or run_access.is_read_only(tracking_dir):
        return None
    return connect_params(url)


def read_only(tracking_dir: Path) -> str:
    """"MLflow file store, read-only" when the registry belongs to MLflow; "" when the panel may write."""
    return run_access.describe(tracking_dir)


def close_connections() -> None:
    """Close this thread's database connections (peewee keeps one per thread)."""
    for path in list(_used):
        if not registry_exists(Path(path)):
            continue  # deleted meanwhile: opening it now would create it again
        try:
            tracker.Client(path).registry.db.close()
        except Exception:  # noqa: BLE001 - a registry deleted meanwhile: nothing to close
            pass


def changed_token(tracking_dir: Path) -> tuple[int, int] | None:
    """``registry_changed_token()``, or None while there is no registry yet."""
    if not registry_exists(tracking_dir):
        return None
    return client(tracking_dir).registry_changed_token()


def lineage_of(tracking_dir: Path, name: str, version: int, created: int) -> Lineage:
    key = (str(tracking_dir), name, version, created)
    found = _lineages.get(key)
    if found is None:
        found = client(tracking_dir).get_model_lineage(name, version)
        _lineages[key] = found
        while len(_lineages) > _LINEAGE_CACHE:
            _lineages.popitem(last=False)
    return found


def load_state(tracking_dir: Path, model: str | None) -> RegistryState:
    """Every model, and the versions and history of ``model`` (one consistent read)."""
    if not registry_exists(tracking_dir):
        return RegistryState(exists=False)
    c = client(tracking_dir)
    state = RegistryState(exists=True, token=c.registry_changed_token(), models=c.search_registered_models())
    if isinstance(c, tracker.Client):  # (MLflow's registry is only read: nothing gets registered into it)
        state.next_versions = c.registry.next_version_numbers()
        state.notify = connect_params(c.registry.db)
    if model is None or model not in {m.name for m in state.models}:
        return state
    try:
        versions = c.list_model_versions(model)
        state.history = c.get_model_history(model)
    except RegistryNotFoundError:  # deleted between the two reads: the next poll catches up
        return state
    state.model = model
    for v in versions:
        lin = lineage_of(tracking_dir, v.name, v.version, v.creation_timestamp)
        state.versions.append(VersionRow(v, lin.run_name, tree_digest(lin.files) if lin.files else "",
                                         len(lin.files)))
    return state


# ------------------------------------------------------------------------------ lineage

@dataclass(frozen=True)
class LineageInfo:
    lineage: Lineage
    version: ModelVersion | None
    repo_root: str | None  # the repository on this machine, when it is still there
    reproduction: Reproduction  # the command that reruns the producing run, or why there is none

    @property
    def reproduce(self) -> str:
        return self.reproduction.command


def load_lineage(tracking_dir: Path, name: str, version: int) -> LineageInfo:
    c = client(tracking_dir)
    mv = c.get_model_version(name, version)
    lin = c.get_model_lineage(name, version)  # fresh: run_exists may have changed
    found = reproduce(RunSource.of_lineage(lin, tracking_dir))
    return LineageInfo(lin, mv, found.repo_root or None, found)


# ------------------------------------------------------------------------------ writing

def transition(tracking_dir: Path, name: str, version: int, stage: str, archive: bool = False,
               comment: str | None = None) -> ModelVersion:
    return client(tracking_dir).transition_model_version_stage(
        name, version, stage, archive_existing_versions=archive, comment=comment or None)


def parse_aliases(text: str) -> list[str]:
    """``"champion, @candidate  b"`` -> ["champion", "candidate", "b"]; ValueError for a bad one."""
    names = [a.strip().lstrip("@") for a in text.replace(",", " ").split()]
    return list(dict.fromkeys(validate_alias(a) for a in names if a))


def set_aliases(tracking_dir: Path, name: str, version: int, aliases: list[str]) -> ModelVersion:
    """Make ``aliases`` exactly the aliases of this version (moving them from others if needed)."""
    c = client(tracking_dir)
    current = c.get_model_version(name, version).aliases
    for alias in current:
        if alias not in aliases:
            c.delete_registered_model_alias(name, alias)
    for alias in aliases:
        if alias not in current:
            c.set_registered_model_alias(name, alias, version)
    return c.get_model_version(name, version)


def set_description(tracking_dir: Path, name: str, version: int, description: str) -> ModelVersion:
    return client(tracking_dir).update_model_version(name, version, description=description)


# ------------------------------------------------------------------------------ registering

@dataclass(frozen=True)
class DropSource:
    """What a drop (or "Register model...") would register, and where it came from."""

    path: Path  # the one file or folder to register
    files: int
    size: int  # bytes
    run_id: str | None = None
    run_name: str | None = None
    experiment: str | None = None
    found_by: str | None = None  # how the run was found: the registry's run_link ("run", "manifest", "sha256")
    artifact_path: str | None = None
    other_runs: tuple[str, ...] = ()
    suggested_name: str = ""
    run_exists: bool = False
    is_dir: bool = False
    needs: Trust = Trust()  # what loading it would need trusted, for the person registering to decide


def _one_source(paths: list[Path]) -> Path:
    """The single file or folder several dropped paths stand for, or DropError."""
    if not paths:
        raise DropError("Nothing to register: the drop held no files")
    unique = list(dict.fromkeys(Path(os.path.abspath(p)) for p in paths))
    # A folder dropped with some of its own contents is just the folder.
    outer = [p for p in unique if not any(o != p and o in p.parents for o in unique)]
    if len(outer) == 1:
        return outer[0]
    parents = {p.parent for p in outer}
    if len(parents) == 1:
        folder = parents.pop()
        try:
            everything = {folder / e for e in os.listdir(folder) if not e.startswith(".")}
        except OSError:
            everything = set()
        if everything and everything == set(outer):  # every entry of one folder: that folder
            return folder
        raise DropError(f"{len(outer)} items from {folder.name or folder} are not one model: drop a single "
                        "file or the folder that holds the model's files")
    names = ", ".join(p.name for p in outer[:3]) + (", ..." if len(outer) > 3 else "")
    raise DropError(f"Several unrelated files ({names}) from different folders: drop one model file "
                    "or folder at a time")


def _files(path: Path) -> list[tuple[Path, str]]:
    """What registering ``path`` would copy (the registry's own rule and refusals), or DropError."""
    if not path.exists():
        raise DropError(f"{path} does not exist (it may have been moved or deleted)")
    try:
        return validate_source(path, path.name)
    except (OSError, ValueError) as e:
        raise DropError(str(e)) from None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def inspect_paths(tracking_dir: Path, paths: list[Path]) -> DropSource:
    """Check a drop and find the run it came from, by the registry's rules (``find_origin``: its
    path in a run's artifacts, a tracker model folder's manifest, else its content). Nothing here
    opens or creates the registry database."""
    path = _one_source([Path(p) for p in paths])
    files = _files(path)
    origin = find_origin(tracking_dir, path, files) if tracking_dir.is_dir() else Origin()
    run_id = origin.run_id
    run = store.read_run(store.run_dir(tracking_dir, run_id)) if run_id else None
    run_name = run.info.run_name if isinstance(run, Run) else None
    stem = path.stem if path.is_file() else path.name
    if stem.lower() in ("model", "artifacts", "models", "") and run_name:
        stem = run_name
    return DropSource(path, len(files), sum(_size(p) for p, _ in files), run_id, run_name,
                      run.info.experiment if isinstance(run, Run) else None, origin.link, origin.artifact_path,
                      origin.other_runs, stem.replace("/", "-").strip() or "model", isinstance(run, Run),
                      path.is_dir(), needed_trust(path))


def register(tracking_dir: Path, source: DropSource, name: str, description: str = "", stage: str = "None",
             archive: bool = True, progress: Progress | None = None, trust: Trust = Trust()) -> ModelVersion:
    """Register ``source`` as the next version of ``name``, then move it to ``stage``.

    ``Registry.register_model`` copies (and hashes) every file before numbering the version and
    reports the bytes copied through ``progress``; about 200 of its reports are passed on.
    """
    c = client(tracking_dir)
    mv = c.register_model(source.path, name, description=description or None, trusted=trust.types,
                          trust_pickle=trust.pickle, progress=_thinned(progress) if progress else None)
    if stage and stage != STAGES[0]:
        mv = c.transition_model_version_stage(name, mv.version, stage,
                                              archive_existing_versions=archive and stage in STAGES[1:3])
    return mv


def _thinned(progress: Progress, steps: int = 200) -> Progress:
    """``progress`` called at the start, the end, and when ``done`` has moved by 1/``steps`` of the total:
    each call crosses into the GUI thread, and a copy reports every MiB."""
    last = -1

    def report(done: int, total: int) -> None:
        nonlocal last
        if last < 0 or done >= total or done - last >= total / steps:
            last = done
            progress(done, total)
    return report
