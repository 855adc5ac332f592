"""Reading an MLflow file store (``mlruns/``) without MLflow.

    mlruns/<experiment id>/meta.yaml                 the experiment (deleted ones move to .trash/)
    mlruns/<experiment id>/<run id>/meta.yaml        the run's info
        params/<key>  tags/<key>                     one file per key holding the value
        metrics/<key>                                lines "timestamp value step", in logged order
        artifacts/                                   the default artifact location
    mlruns/models/<name>/...                         the model registry (see file_registry.py)
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..entities import MetricSummary, Run, UnreadableRun
from ..index.table import RunTable
from ..registry.entities import ModelVersion, RegisteredModel
from ..store.metricfile import MetricSeries
from . import file_cache, file_registry, files, mapping
from .base import LoggedModel, MlflowExperiment, MlflowStoreReader, RunNotInStoreError, safe_model_name
from .listing import RunListing, RunsOnDemand, TableOfRuns
from .metric_lines import parse_metric_lines, series_from_lines

TRASH = ".trash"
MODELS = "models"  # at the root: the registry; inside an experiment: MLflow 3's logged models
_NOT_RUNS = {MODELS, "traces", "datasets", "tags"}


class FileStoreReader(MlflowStoreReader):
    kind = "file"

    def __init__(self, root: str | os.PathLike, cache: str | os.PathLike | None | bool = True) -> None:
        """``cache``: where ``list_runs`` keeps what it read for the next process (default: the
        user's cache directory, ``file_cache.cache_path``); False: only in this reader."""
        self.path = Path(root).absolute()
        self._cache_file = (file_cache.cache_path(self.path) if cache is True
                            else None if cache is False or cache is None else Path(cache))
        # the last listing's runs (every one, deleted ones too) and their entries by run id
        self._listed: tuple[RunTable, dict[str, file_cache.Entry]] | None = None
        self._listing_lock = threading.Lock()
        self._unsettled: tuple | None = None  # what the last listing read, to be keyed (``_settle``)
        self._experiments: dict[str, MlflowExperiment] | None = None
        self._run_dirs: dict[str, tuple[str, str]] = {}  # run id -> (experiment id, run directory)
        self._artifact_dirs: dict[str, str | None] = {}
        self._deleted: set[str] = set()
        # metric file -> (its identity when read, its summary): a listing again (the app's, when
        # runs come or go) reads only the metric files that changed; the others cost one lstat
        self._metric_summaries: dict[str, tuple[tuple[int, ...], MetricSummary | None]] = {}

    # -- experiments ----------------------------------------------------------------------------
    def _experiment_dirs(self, include_deleted: bool) -> list[tuple[str, str, bool]]:
        """(experiment id, directory, deleted) for every experiment directory."""
        found = [(name, path, False) for name, path in files.subdirs(self.path)
                 if name not in (MODELS, TRASH) and not name.startswith(".")]
        if include_deleted:
            found += [(name, path, True) for name, path in files.subdirs(self.path / TRASH)]
        return found

    def _load_experiments(self) -> dict[str, MlflowExperiment]:
        out: dict[str, MlflowExperiment] = {}
        for exp_id, path, in_trash in self._experiment_dirs(True):
            try:
                meta = files.read_meta(os.path.join(path, "meta.yaml"))
            except (OSError, ValueError):
                if not in_trash and os.path.exists(os.path.join(path, "meta.yaml")):
                    # a damaged experiment still shows its runs, under its id
                    out[exp_id] = MlflowExperiment(exp_id, f"experiment {exp_id}")
                continue
            try:
                tags = files.read_key_values(os.path.join(path, "tags"))
            except (OSError, ValueError):
                tags = {}
            stage = mapping.DELETED if in_trash else mapping.text(meta.get("lifecycle_stage") or mapping.ACTIVE)
            out[exp_id] = MlflowExperiment(
                experiment_id=exp_id, name=mapping.text(meta.get("name")) or f"experiment {exp_id}",
                artifact_location=mapping.text(meta.get("artifact_location")), lifecycle_stage=stage,
                creation_time=_int_or_zero(meta.get("creation_time")),
                last_update_time=_int_or_zero(meta.get("last_update_time")), tags=tags)
        self._experiments = out
        return out

    def read_experiments(self, include_deleted: bool = False) -> list[MlflowExperiment]:
        exps = self._load_experiments().values()
        return sorted((e for e in exps if include_deleted or e.lifecycle_stage != mapping.DELETED),
                      key=lambda e: (e.experiment_id != "0", e.name.lower()))

    # -- runs -------------------------------------------------------------------------------------
    def scan(self, include_deleted: bool = False) -> tuple[list[Run], list[UnreadableRun]]:
        """See ``MlflowStoreReader.scan``: each run's meta.yaml, params, tags and metric files read once
        (metric files unchanged since this reader's last listing are not read again)."""
        experiments = self._load_experiments()
        known, self._metric_summaries = self._metric_summaries, {}
        runs: list[Run] = []
        bad: list[UnreadableRun] = []
        for exp_id, exp_path, in_trash in self._experiment_dirs(include_deleted):
            exp = experiments.get(exp_id)
            if exp is None:
                continue  # no meta.yaml: not an experiment directory
            for name, path in files.subdirs(exp_path):
                if name in _NOT_RUNS or name.startswith("."):
                    continue
                result = self._read_run(exp, name, path, known)
                if result is None:
                    continue
                self._run_dirs[name] = (exp_id, path)
                if isinstance(result, UnreadableRun):
                    bad.append(result)
                elif include_deleted or name not in self._deleted:
                    runs.append(result)
        return runs, bad

    def list_runs(self, include_deleted: bool = False, run_ids: Iterable[str] | None = None,
                  keys_later: bool = False) -> RunListing:
        """See ``MlflowStoreReader.list_runs``. Only the runs whose files changed since the last
        listing (this reader's, or the one an earlier process kept in the cache file) are read;
        each of the others costs an ``lstat`` per file. ``run_ids``: check only these known runs
        (for polling running runs; runs added elsewhere are not looked for). ``keys_later``: the
        runs read are stat'd, and the cache file written, by ``settle()`` (or the next listing),
        so that a first listing's table can be shown sooner."""
        with self._listing_lock:
            self._settle()
            listing = self._list(include_deleted, None if run_ids is None else set(run_ids))
            if not keys_later:
                self._settle()
            return listing

    def stored_listing(self, include_deleted: bool = False) -> RunListing | None:
        """The runs as the cache file holds them, not checked against the store (None: no usable
        file, or this reader has listed already): to show at once, then ``list_runs`` to check."""
        with self._listing_lock:
            if self._listed is not None or self._cache_file is None:
                return None
            loaded = file_cache.load(self._cache_file, str(self.path))
            if loaded is None:
                return None
            self._listed = loaded
            self._deleted = {rid for rid, entry in loaded[1].items() if entry.deleted}
            visible = self._visible(include_deleted)
            return RunListing(visible, RunsOnDemand(visible, self._made_run))

    def _visible(self, include_deleted: bool) -> RunTable:
        table, entries = self._listed
        if include_deleted or not self._deleted:
            return table
        return table.take([i for i, d in enumerate(table.dirs()) if not entries[d].deleted])

    def settle(self) -> None:
        """Stat the runs the last ``list_runs(keys_later=True)`` read, and write the cache file."""
        with self._listing_lock:
            self._settle()

    def _list(self, include_deleted: bool, only: set[str] | None) -> RunListing:
        started = time.time_ns()
        experiments = self._load_experiments()
        loaded = self._listed
        damaged_file = False
        if loaded is None and self._cache_file is not None:
            loaded = file_cache.load(self._cache_file, str(self.path))
            damaged_file = loaded is None and os.path.lexists(self._cache_file)
        table, entries = loaded if loaded is not None else (RunTable.empty(str(self.path)), {})
        fresh = TableOfRuns(self.path)
        found: dict[str, file_cache.Entry] = {} if only is None else dict(entries)
        read: list[tuple[str, str, list[str], bytes]] = []
        for exp, where, name, path in self._run_places(experiments, entries, only):
            in_trash = where != exp.experiment_id
            signature = file_cache.experiment_signature(exp.experiment_id, exp.name, exp.lifecycle_stage, where)
            old = entries.get(name)
            if old is not None and old.where == where and old.key is not None \
                    and file_cache.digest(path, old.names, signature) == old.key:
                found[name] = old
                self._run_dirs[name] = (exp.experiment_id, path)
                continue
            names, listed = file_cache.run_files(path)
            result = self._read_run(exp, name, path, listed=listed)
            if result is None:
                found.pop(name, None)
                continue
            self._run_dirs[name] = (exp.experiment_id, path)
            fresh.add(result)
            read.append((name, path, names, signature))
            deleted = in_trash or (isinstance(result, Run) and result.info.lifecycle_stage == mapping.DELETED)
            found[name] = file_cache.Entry(where, tuple(names), None, deleted)  # its key: _settle
        removed = [rid for rid in entries if rid not in found]
        if read or removed:
            table = table.patched(fresh.build(), removed)
        self._listed = (table, found)
        self._deleted = {rid for rid, entry in found.items() if entry.deleted}
        self._unsettled = (started, read, entries, bool(removed or damaged_file))
        visible = self._visible(include_deleted)
        return RunListing(visible, RunsOnDemand(visible, self._made_run), [r[0] for r in read], removed)

    def _settle(self) -> None:
        """Key each run the last listing read by its files' stat now: a file changed since the
        listing started has a newer ctime, so the run gets no key and is read again next time.
        Then the cache file, when what it would hold changed."""
        if self._unsettled is None:
            return
        (started, read, before, dirty), self._unsettled = self._unsettled, None
        entries = self._listed[1]
        racy_after = started - file_cache.RACY_NS
        for name, path, names, signature in read:
            entry = entries.get(name)
            if entry is not None:
                entry = entries[name] = entry._replace(key=file_cache.digest(path, names, signature, racy_after))
                # a run read again with the same entry (one changed too recently to keep a key) changes nothing stored
                dirty = dirty or entry != before.get(name)
        if dirty and self._cache_file is not None:
            file_cache.save(self._cache_file, self._listed[0], entries)

    def _run_places(self, experiments: dict[str, MlflowExperiment], entries: dict[str, file_cache.Entry],
                    only: set[str] | None) -> Iterator[tuple[MlflowExperiment, str, str, str]]:
        """(experiment, its folder relative to the store, run id, run folder) of every run folder,
        active experiments first (a run id found twice is listed once); of the runs in ``only``."""
        if only is not None:
            for name in sorted(only):
                entry, place = entries.get(name), self._run_dirs.get(name)
                exp = experiments.get(place[0]) if place is not None else None
                if entry is not None and exp is not None and os.path.isdir(place[1]):
                    yield exp, entry.where, name, place[1]
            return
        seen: set[str] = set()
        for exp_id, exp_path, in_trash in self._experiment_dirs(True):
            exp = experiments.get(exp_id)
            if exp is None:
                continue  # no meta.yaml: not an experiment directory
            where = f"{TRASH}/{exp_id}" if in_trash else exp_id
            for name, path in files.subdirs(exp_path):
                if name in _NOT_RUNS or name.startswith(".") or name in seen:
                    continue
                seen.add(name)
                yield exp, where, name, path

    def _made_run(self, run_id: str) -> Run | UnreadableRun | None:
        """A listed run as an object, read now (``RunListing.runs``)."""
        place = self._run_dirs.get(run_id)
        path = place[1] if place is not None else os.path.join(str(self.path), run_id)
        listed = self._listed
        i = listed[0].position(run_id) if listed is not None else None
        reason = listed[0].text["reason"].get(i) if i is not None else None
        if reason is not None:
            return UnreadableRun(run_id, path, reason)
        try:
            return self.get_run(run_id)
        except RunNotInStoreError:
            return None
        except (OSError, ValueError) as e:
            return mapping.unreadable(run_id, path, e)

    def _read_run(self, exp: MlflowExperiment, name: str, path: str, known: dict | None = None,
                  listed: dict[str, list[tuple[str, str]]] | None = None) -> Run | UnreadableRun | None:
        """``listed``: the run's params, tags and metrics files when already found (by family)."""
        meta_path = os.path.join(path, "meta.yaml")
        try:
            meta = files.read_meta(meta_path)
        except FileNotFoundError:
            # a directory named like a run id without its meta.yaml is a damaged run; others are not runs
            return mapping.unreadable(name, path, ValueError("meta.yaml is missing")) if _looks_like_run(name) else None
        except (OSError, ValueError) as e:
            return mapping.unreadable(name, path, e)
        try:
            return self._run_from_meta(exp, name, path, meta, self._metric_summaries if known is None else known,
                                       listed)
        except (OSError, ValueError, TypeError, UnicodeDecodeError) as e:
            return mapping.unreadable(name, path, e)

    def _run_from_meta(self, exp: MlflowExperiment, name: str, path: str, meta: dict, known: dict,
                       listed: dict[str, list[tuple[str, str]]] | None = None) -> Run:
        run_id = mapping.text(meta.get("run_id") or meta.get("run_uuid"))
        if run_id != name:
            raise ValueError(f"meta.yaml names run {run_id!r}, but its directory is {name!r}")
        if listed is None:
            listed = {family: files.key_files(os.path.join(path, family)) for family in ("params", "tags", "metrics")}
        params = files.read_values(listed["params"])
        tags = files.read_values(listed["tags"])
        summaries = {}
        for key, metric_path in listed["metrics"]:
            summary = self._metric_summary(key, metric_path, known)
            if summary is not None:
                summaries[key] = summary
        artifact_uri = mapping.text(meta.get("artifact_uri"))
        artifact_dir = self._artifact_dir(artifact_uri, path)
        stage = mapping.text(meta.get("lifecycle_stage") or mapping.ACTIVE)
        deleted = stage == mapping.DELETED or exp.lifecycle_stage == mapping.DELETED
        run = mapping.build_run(
            run_id, exp.name, meta.get("status"), meta.get("start_time"), meta.get("end_time"),
            mapping.text(meta.get("run_name")), mapping.text(meta.get("user_id")), params, tags, summaries,
            artifact_dir, artifact_uri, path, exp.experiment_id, mapping.DELETED if deleted else mapping.ACTIVE)
        self._artifact_dirs[run_id] = artifact_dir
        if deleted:
            self._deleted.add(run_id)
        else:
            self._deleted.discard(run_id)
        return run

    def _metric_summary(self, key: str, path: str, known: dict) -> MetricSummary | None:
        """A metric file's summary (None when it holds no point); ValueError when it is damaged."""
        found = known.get(path)
        if found is not None:
            try:
                same = files.identity(os.lstat(path)) == found[0]
            except OSError:
                same = False
            if same:
                self._metric_summaries[path] = found
                return found[1]
        data, identity = files.read_identified(path)
        steps, stamps, values, _ = parse_metric_lines(data, strict=True, key=key)
        summary = mapping.summarize(key, steps, stamps, values) if values else None
        self._metric_summaries[path] = (identity, summary)
        return summary

    def is_deleted(self, run_id: str) -> bool:
        """Whether a run read by ``scan`` or ``get_run`` is deleted (or its experiment is)."""
        return run_id in self._deleted

    def _artifact_dir(self, artifact_uri: str, run_path: str) -> str | None:
        """The run's own ``artifacts`` folder when MLflow recorded its default layout
        (``.../<experiment id>/<run id>/artifacts``: the recorded path is where the store was when
        the run was logged, and stores get moved and copied); else the recorded location."""
        own = run_path + os.sep + "artifacts"
        head, run_id = os.path.split(run_path)
        if not artifact_uri or (artifact_uri.startswith(("file:", "/"))
                                and artifact_uri.endswith(f"/{os.path.basename(head)}/{run_id}/artifacts")):
            return own  # the default layout (checked on the text: 10,000 runs, no Path objects)
        recorded = mapping.local_path(artifact_uri, self.path)
        if recorded is None:
            return None
        if not recorded.exists() and os.path.isdir(own):
            return own
        return str(recorded)

    def _locate(self, run_id: str) -> tuple[str, str]:
        found = self._run_dirs.get(run_id)
        if found is None:
            if files.key_path(str(self.path), run_id) is None or "/" in run_id:
                raise RunNotInStoreError(f"no run {run_id!r} in the MLflow store {self.path}")
            for exp_id, exp_path, _ in self._experiment_dirs(True):
                candidate = os.path.join(exp_path, run_id)
                if os.path.isfile(os.path.join(candidate, "meta.yaml")):
                    found = self._run_dirs[run_id] = (exp_id, candidate)
                    break
            else:
                raise RunNotInStoreError(f"no run {run_id!r} in the MLflow store {self.path}")
        return found

    def get_run(self, run_id: str) -> Run:
        exp_id, path = self._locate(run_id)
        exps = self._experiments if self._experiments is not None else self._load_experiments()
        exp = exps.get(exp_id) or MlflowExperiment(exp_id, f"experiment {exp_id}")
        result = self._read_run(exp, run_id, path)
        if not isinstance(result, Run):
            raise ValueError(result.reason if result is not None else f"run {run_id} has no meta.yaml")
        return result

    def metric_series(self, run_id: str, key: str, position: int = 0) -> MetricSeries:
        _, path = self._locate(run_id)
        metric_path = files.key_path(os.path.join(path, "metrics"), key)
        if metric_path is None:
            raise ValueError(f"metric key {key!r} is not a valid MLflow metric name")
        try:
            data = _read_from(metric_path, position)
        except FileNotFoundError:
            data = b""
        return series_from_lines(data, position)

    def artifact_dir(self, run_id: str) -> Path | None:
        if run_id not in self._artifact_dirs:
            self.get_run(run_id)
        found = self._artifact_dirs.get(run_id)
        return Path(found) if found is not None else None

    # -- registry ---------------------------------------------------------------------------------
    def model_versions(self, name: str | None = None, include_deleted: bool = False) -> list[ModelVersion]:
        return file_registry.read_versions(self, name, include_deleted)

    def registered_models(self, include_deleted: bool = False) -> list[RegisteredModel]:
        return file_registry.read_models(self, include_deleted)

    def logged_model_dir(self, model_id: str) -> Path | None:
        """An MLflow 3 logged model's artifacts: ``<experiment>/models/<model id>/artifacts``."""
        if files.key_path(str(self.path), model_id) is None or "/" in model_id:
            return None
        for _, exp_path, _ in self._experiment_dirs(True):
            folder = os.path.join(exp_path, MODELS, model_id)
            if os.path.isdir(folder):
                try:
                    meta = files.read_meta(os.path.join(folder, "meta.yaml"))
                except (OSError, ValueError):
                    meta = {}
                return self._model_artifacts(folder, meta)
        return None

    def _model_artifacts(self, folder: str, meta: dict) -> Path:
        recorded = mapping.local_path(mapping.text(meta.get("artifact_location")), self.path)
        own = Path(folder) / "artifacts"
        if recorded is None or recorded.parts[-4:] == own.parts[-4:] or not recorded.exists():
            return own  # MLflow's default layout, wherever the store is now
        return recorded

    def logged_models(self, run_id: str) -> list[LoggedModel]:
        _, run_path = self._locate(run_id)
        found = []
        for model_id, folder in files.subdirs(os.path.join(os.path.dirname(run_path), MODELS)):
            try:
                meta = files.read_meta(os.path.join(folder, "meta.yaml"))
            except (OSError, ValueError):
                continue  # a damaged logged model is left out; the run's own artifacts still show
            name = mapping.text(meta.get("name"))
            if (mapping.text(meta.get("source_run_id")) != run_id or not safe_model_name(name)
                    or mapping.text(meta.get("lifecycle_stage") or mapping.ACTIVE) == mapping.DELETED):
                continue
            found.append((_int_or_zero(meta.get("creation_timestamp")), model_id,
                          LoggedModel(name, model_id, self._model_artifacts(folder, meta))))
        return [model for _, _, model in sorted(found, key=lambda f: f[:2])]

    def changed_token(self) -> tuple:
        """Changes when an experiment gets or loses a run: its directory's mtime, and its link count
        (a new subdirectory adds one even within the file system's timestamp granularity)."""
        token = []
        for name, path, _ in self._experiment_dirs(False):
            try:
                st = os.stat(path)
                token.append((name, st.st_mtime_ns, st.st_nlink))
            except OSError:
                token.append((name, None, None))
        return tuple(token)


def _looks_like_run(name: str) -> bool:
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


def _int_or_zero(raw: object) -> int:
    try:
        return mapping.as_millis(raw, "time", optional=True) or 0
    except ValueError:
        return 0


def _read_from(path: str, position: int) -> bytes:
    return files.read_bytes(path, offset=position)
