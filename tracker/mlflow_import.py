"""``tracker import mlflow PATH [--to DIR]``: copy an MLflow store into a tracker runs directory.

Runs keep MLflow's run ids (MLflow's ids are 32 hex characters, which is what tracker names run
directories by), so ``runs:/<id>/...`` links stay valid. Each run is built in a hidden temporary
directory and renamed into place when complete: a run directory is either fully imported or
absent, and running the import again skips the runs that are there. Registered models are
registered again through tracker's registry (copies of their files), with their stages and
aliases; each version records the MLflow version it came from, so a second import skips it.
Nothing in the MLflow store is trusted: imported models carry no trust decision.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING

from . import store
from .config import get_tracking_dir
from .entities import Run
from .store import layout
from .store.rundoc import RunDocument

if TYPE_CHECKING:  # imported when an import runs: `tracker ls` never pays for the reader
    from .mlflow_store import MlflowStoreReader

VERSION_TAG = "mlflow.import.version"  # the MLflow version number an imported version came from
SOURCE_TAG = "mlflow.import.source"  # and its MLflow source URI
STORE_TAG = "mlflow.import.store"  # and the store it was in: two stores may both have "model" version 1


@dataclass
class ImportReport:
    """What an import did; ``problems`` are one-line explanations of what was not imported."""

    imported: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    experiments: list[str] = field(default_factory=list)
    versions: list[tuple[str, int, int]] = field(default_factory=list)  # (model, MLflow version, tracker version)
    versions_already_there: int = 0
    problems: list[str] = field(default_factory=list)


def import_mlflow(source: str | os.PathLike, dest: str | os.PathLike | None = None,
                  artifact_root: str | os.PathLike | None = None) -> ImportReport:
    """Import every (not deleted) experiment, run and registered model of the MLflow store at
    ``source`` into the runs directory ``dest`` (default: the current tracking directory)."""
    from .mlflow_store import open_store
    reader = open_store(source, artifact_root)
    dest = Path(dest).absolute() if dest is not None else get_tracking_dir()
    store_dir = reader.path if reader.kind == "file" else reader.path.parent
    inside = reader.kind == "file" and store_dir.resolve() in dest.resolve().parents
    if dest.resolve() == store_dir.resolve() or inside:
        raise ValueError(f"{dest} is the MLflow store itself (or inside it); import into another directory")
    dest.mkdir(parents=True, exist_ok=True)
    report = ImportReport()
    runs, bad = reader.scan()
    report.unreadable = [f"{u.run_id}: {u.reason}" for u in bad]
    for exp in reader.read_experiments():
        try:
            store.ensure_experiment(dest, exp.name)
            report.experiments.append(exp.name)
        except (ValueError, TypeError, OSError) as e:
            report.problems.append(f"experiment {exp.name!r} was not created: {e}")
    for run in runs:
        _import_run_reporting(reader, run, dest, report)
    _import_registry(reader, dest, report)
    return report


def _import_run_reporting(reader: "MlflowStoreReader", run: Run, dest: Path, report: ImportReport) -> None:
    run_id = run.info.run_id
    if not store.is_run_dir_name(run_id):
        report.problems.append(f"run {run_id!r} was not imported: tracker names runs by 32 lowercase hex "
                               f"characters (MLflow's own ids are); keeping the id keeps links to it valid")
        return
    if (dest / run_id).exists():
        report.already_there.append(run_id)
        return
    try:
        skipped = import_run(reader, run, dest)
    except FileExistsError:
        report.already_there.append(run_id)  # another import put it there first
        return
    except (OSError, ValueError, TypeError) as e:
        report.problems.append(f"run {run_id} was not imported: {e}")
        return
    report.imported.append(run_id)
    report.problems.extend(f"run {run_id}: {what}" for what in skipped)


def import_run(reader: "MlflowStoreReader", run: Run, dest: Path) -> list[str]:
    """Write one run in tracker's format under ``dest/<run id>``; returns what was left out."""
    from .mlflow_store.mapping import summarize
    run_id = run.info.run_id
    tmp = layout.staging_dir(dest, run_id)  # (tracker gc removes one an interrupted import leaves)
    if tmp.exists():
        shutil.rmtree(tmp)  # left by an import that was interrupted
    (tmp / store.ARTIFACTS_DIR).mkdir(parents=True)
    try:
        skipped = _copy_artifacts(reader.artifact_dir(run_id), run.info.artifact_uri, tmp / store.ARTIFACTS_DIR)
        skipped += _copy_logged_models(reader, run_id, tmp / store.ARTIFACTS_DIR)
        doc, summaries = _document(run), {}
        for key in run.data.summaries:
            store.validate_key(key, "metric key")
            series = reader.metric_series(run_id, key)
            if len(series) == 0:
                continue
            with store.open_for_append(store.metric_path(tmp, key)) as f:
                f.write(store.encode_records(series.steps, series.timestamps, series.values))
            s = summarize(key, series.steps.tolist(), series.timestamps.tolist(), series.values.tolist())
            summaries[key] = {"last": s.last, "min": s.min, "max": s.max, "count": s.count,
                              "last_step": s.last_step, "last_timestamp": s.last_timestamp,
                              "max_step": s.max_step, "value_at_max_step": s.value_at_max_step}
        doc.with_summaries(summaries).write(tmp)
        try:
            os.rename(tmp, dest / run_id)  # fails when the target exists: never merges into a run
        except OSError:
            if (dest / run_id).exists():
                raise FileExistsError(run_id) from None
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return skipped


def _document(run: Run) -> RunDocument:
    info = run.info
    for key in run.data.params:
        store.validate_key(key, "param key")
    for key in run.data.tags:
        store.validate_key(key, "tag key")
    doc = RunDocument.new(info.run_id, info.run_name, info.experiment, info.start_time,
                          parent_run_id=info.parent_run_id, description=info.description, user=info.user)
    return (doc.with_info(status=info.status, end_time=info.end_time)
            .with_params(dict(run.data.params)).with_tags(dict(run.data.tags)))


def _copy_artifacts(src: Path | None, uri: str, target: Path) -> list[str]:
    """Copy the regular files under ``src``; links and special files are left out (and listed)."""
    if src is None:
        return [f"artifacts at {uri} are not on this machine; not copied"] if uri else []
    if not src.is_dir():
        return []
    skipped = []
    for folder, dirs, names in os.walk(src, followlinks=False):
        rel = Path(folder).relative_to(src)
        for d in list(dirs):
            if os.path.islink(os.path.join(folder, d)):
                dirs.remove(d)
                skipped.append(f"artifact {(rel / d).as_posix()} is a link; not copied")
        for name in names:
            path = os.path.join(folder, name)
            if os.path.islink(path) or not os.path.isfile(path):
                skipped.append(f"artifact {(rel / name).as_posix()} is not a regular file; not copied")
                continue
            out = target / rel / name
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out, follow_symlinks=False)
    return skipped


def _copy_logged_models(reader: "MlflowStoreReader", run_id: str, target: Path) -> list[str]:
    """MLflow 3 keeps ``log_model(name=...)`` outside the run's artifacts: copy each into the
    artifacts under the model's name, where ``runs:/<run id>/<name>`` finds it after import."""
    skipped = []
    for model in reader.logged_models(run_id):
        folder = target / model.name
        if folder.exists():
            skipped.append(f"logged model {model.name!r} ({model.model_id}): the run has an artifact "
                           f"of that name; not copied")
            continue
        if model.artifact_dir is None:
            skipped.append(f"logged model {model.name!r} ({model.model_id}) is not on this machine; not copied")
            continue
        skipped += [f"logged model {model.name!r}: {reason}" for reason in
                    _copy_artifacts(model.artifact_dir, model.model_id, folder)]
    return skipped


# -- registered models ----------------------------------------------------------------------------
def _import_registry(reader: "MlflowStoreReader", dest: Path, report: ImportReport) -> None:
    models = reader.registered_models()
    if not models:
        return
    from .client import Client
    from .registry import ModelNotFoundError, RegistryError
    client = Client(dest)
    versions = reader.model_versions()
    for model in models:
        try:
            try:
                client.get_registered_model(model.name)
            except ModelNotFoundError:
                client.create_registered_model(model.name, model.tags, model.description or None)
            done = _imported_versions(client, model.name, str(reader.path))
        except (RegistryError, ValueError, LookupError) as e:
            report.problems.append(f"registered model {model.name!r} was not imported: {e}")
            continue
        for v in sorted((v for v in versions if v.name == model.name), key=lambda v: v.version):
            if v.version in done:
                report.versions_already_there += 1
                continue
            try:
                done[v.version] = _import_version(client, v, dest, str(reader.path))
                report.versions.append((model.name, v.version, done[v.version]))
            except (RegistryError, ValueError, LookupError, OSError) as e:
                report.problems.append(f"model {model.name!r} version {v.version} was not imported: {e}")
        for alias, number in model.aliases.items():
            if number not in done:
                continue
            try:
                client.set_registered_model_alias(model.name, alias, done[number])
            except (RegistryError, ValueError, LookupError) as e:
                report.problems.append(f"model {model.name!r}: alias {alias!r} was not set: {e}")


def _imported_versions(client, name: str, store_path: str) -> dict[int, int]:
    """MLflow version -> tracker version, for the versions an earlier import of this store registered."""
    out = {}
    for mv in client.list_model_versions(name, include_deleted=True):
        tag = mv.tags.get(VERSION_TAG, "")
        if tag.isdigit() and mv.tags.get(STORE_TAG) == store_path:
            out[int(tag)] = mv.version
    return out


def _import_version(client, v, dest: Path, store_path: str) -> int:
    if not v.storage_path or not os.path.exists(v.storage_path):
        raise FileNotFoundError(f"its files ({v.source}) are not on this machine")
    path = Path(v.storage_path)
    run_id = v.run_id if v.run_id and store.is_run_dir_name(v.run_id) and (dest / v.run_id).is_dir() else None
    if run_id is not None and v.source.startswith("runs:/"):
        # the run's copy in dest: the version then links to the imported run, as a tracker registration does
        rel = v.source[len("runs:/"):].lstrip("/").partition("/")[2]
        imported = store.resolve_inside(dest / run_id / store.ARTIFACTS_DIR, rel or None)
        if imported.exists():
            path = imported
    tags = {**v.tags, VERSION_TAG: str(v.version), SOURCE_TAG: v.source, STORE_TAG: store_path}
    mv = client.create_model_version(v.name, path, run_id=run_id, tags=tags, description=v.description or None)
    if v.current_stage != "None":
        client.transition_model_version_stage(v.name, mv.version, v.current_stage,
                                              comment=f"MLflow version {v.version} was in {v.current_stage}")
    return mv.version


# -- command line ------------------------------------------------------------------------------------
def add_import_parser(sub) -> None:
    """``tracker import mlflow PATH [--to DIR] [--artifact-root DIR]``."""
    imp = sub.add_parser("import", help="import runs and models from another tracker")
    kinds = imp.add_subparsers(dest="source_kind", required=True)
    ml = kinds.add_parser("mlflow", help="import an MLflow store (an mlruns directory or an MLflow SQLite database)")
    ml.add_argument("path", help="mlruns directory, mlflow.db, or sqlite:///path/to/mlflow.db")
    ml.add_argument("--to", default=None, help="runs directory to import into (default: $TRACKER_DIR or ./runs)")
    ml.add_argument("--artifact-root", default=None,
                    help="where a SQLite store's artifacts are (default: beside the database)")
    ml.set_defaults(func=cmd_import_mlflow)


def cmd_import_mlflow(args: argparse.Namespace) -> int:
    from .mlflow_store import MlflowStoreError
    try:
        report = import_mlflow(args.path, args.to, args.artifact_root)
    except (MlflowStoreError, ValueError) as e:
        print(f"tracker: error: {e}", file=sys.stderr)
        return 2
    dest = Path(args.to).absolute() if args.to else get_tracking_dir()
    print(f"Imported {len(report.imported)} run(s) into {dest}"
          + (f"; {len(report.already_there)} already there" if report.already_there else ""))
    if report.versions or report.versions_already_there:
        renumbered = [f"{m} v{a} -> v{b}" for m, a, b in report.versions if a != b]
        print(f"Registered {len(report.versions)} model version(s)"
              + (f"; {report.versions_already_there} already there" if report.versions_already_there else "")
              + (f" (numbered anew: {', '.join(renumbered)})" if renumbered else ""))
    for line in report.unreadable:
        print(f"warning: unreadable MLflow run {line}", file=sys.stderr)
    for line in report.problems:
        print(f"warning: {line}", file=sys.stderr)
    return 1 if report.problems or report.unreadable else 0
