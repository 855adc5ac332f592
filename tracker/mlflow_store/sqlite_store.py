"""Reading an MLflow SQLite database (``mlflow.db``) without MLflow, through a read-only connection.

Listing runs reads whole tables once (runs, params, tags, latest_metrics, and one aggregate over
metrics for min/max/count) instead of a query per run. Columns MLflow added over the years are
looked up first, so older databases read too. Rows are untrusted: a run whose row or values do
not make sense is listed as unreadable with the reason.
"""
from __future__ import annotations

import math
import os
import sqlite3
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

from ..entities import MetricSummary, Run, UnreadableRun
from ..registry.entities import ModelVersion, RegisteredModel
from ..store.metricfile import MetricSeries
from . import mapping
from .base import MlflowExperiment, MlflowStoreReader, RunNotInStoreError
from .detect import connect_read_only
from .sqlite_registry import read_models, read_versions

MLFLOW_ARTIFACTS = "mlflow-artifacts:"


class SqliteStoreReader(MlflowStoreReader):
    kind = "sqlite"

    def __init__(self, db: str | os.PathLike, artifact_root: str | os.PathLike | None = None) -> None:
        self.path = Path(db).absolute()
        self.artifact_root = Path(artifact_root).absolute() if artifact_root is not None else None
        self._columns: dict[str, set[str]] = {}
        self._deleted: set[str] = set()
        self._artifact_dirs: dict[str, Path | None] = {}
        self._lenient = False

    # -- connection ---------------------------------------------------------------------------------
    @contextmanager
    def connect(self):
        """A read-only connection holding one read transaction: every query sees the same snapshot."""
        try:
            conn = connect_read_only(self.path, self._lenient)
        except sqlite3.Error as e:
            raise mapping.MlflowStoreError(f"cannot open the MLflow database {self.path}: {e}") from None
        try:
            conn.execute("BEGIN")
            yield conn
        except sqlite3.OperationalError as e:
            if "decode" in str(e) and not self._lenient:
                self._lenient = True  # text that is not UTF-8 somewhere: read it leniently from now on
                raise _Retry() from None
            raise mapping.MlflowStoreError(f"cannot read the MLflow database {self.path}: {e}") from None
        except sqlite3.DatabaseError as e:
            raise mapping.MlflowStoreError(f"the MLflow database {self.path} is damaged: {e}") from None
        finally:
            conn.close()

    def _retrying(self, fn, *args):
        for _ in range(2):
            try:
                return fn(*args)
            except _Retry:
                continue
        raise mapping.MlflowStoreError(f"cannot read the MLflow database {self.path}: text that is not UTF-8")

    def columns(self, conn: sqlite3.Connection, table: str) -> set[str]:
        if table not in self._columns:
            self._columns[table] = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
        return self._columns[table]

    def select(self, conn: sqlite3.Connection, table: str, wanted: list[str]) -> str:
        """``SELECT`` of ``wanted`` columns, NULL for those this database's schema does not have."""
        have = self.columns(conn, table)
        if not have:
            return ""
        return "SELECT " + ", ".join(f'"{c}"' if c in have else "NULL" for c in wanted) + f' FROM "{table}"'

    def default_workspace(self, conn: sqlite3.Connection, table: str) -> str:
        """MLflow 3 keeps workspaces; like MLflow without one set, read the default workspace."""
        return " WHERE workspace = 'default'" if "workspace" in self.columns(conn, table) else ""

    # -- experiments ------------------------------------------------------------------------------
    def _experiments(self, conn: sqlite3.Connection) -> dict[str, MlflowExperiment]:
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        sql = self.select(conn, "experiment_tags", ["experiment_id", "key", "value"])
        for exp_id, key, value in (conn.execute(sql) if sql else ()):
            tags[mapping.text(exp_id)][mapping.text(key)] = mapping.text(value)
        out = {}
        sql = self.select(conn, "experiments", ["experiment_id", "name", "artifact_location", "lifecycle_stage",
                                                "creation_time", "last_update_time"])
        for exp_id, name, location, stage, created, updated in conn.execute(
                sql + self.default_workspace(conn, "experiments")):
            exp_id = mapping.text(exp_id)
            out[exp_id] = MlflowExperiment(
                exp_id, mapping.text(name) or f"experiment {exp_id}", mapping.text(location),
                mapping.text(stage) or mapping.ACTIVE, _ms(created), _ms(updated), tags.get(exp_id, {}))
        return out

    def read_experiments(self, include_deleted: bool = False) -> list[MlflowExperiment]:
        def read() -> dict[str, MlflowExperiment]:
            with self.connect() as conn:
                return self._experiments(conn)
        exps = self._retrying(read).values()
        return sorted((e for e in exps if include_deleted or e.lifecycle_stage != mapping.DELETED),
                      key=lambda e: (e.experiment_id != "0", e.name.lower()))

    # -- runs -------------------------------------------------------------------------------------
    def scan(self, include_deleted: bool = False) -> tuple[list[Run], list[UnreadableRun]]:
        return self._retrying(self._scan, include_deleted, None)

    def _scan(self, include_deleted: bool, only: str | None) -> tuple[list[Run], list[UnreadableRun]]:
        where = " WHERE run_uuid = ?" if only is not None else ""
        args = (only,) if only is not None else ()
        with self.connect() as conn:
            experiments = self._experiments(conn)
            rows = conn.execute(self.select(conn, "runs", [
                "run_uuid", "name", "status", "start_time", "end_time", "lifecycle_stage", "artifact_uri",
                "experiment_id", "user_id"]) + where, args).fetchall()
            problems: dict[str, str] = {}
            params = _key_values(conn.execute(f'SELECT run_uuid, "key", value FROM params{where}', args), problems)
            tags = _key_values(conn.execute(f'SELECT run_uuid, "key", value FROM tags{where}', args), problems)
            summaries = self._summaries(conn, where, args, problems)
        runs: list[Run] = []
        bad: list[UnreadableRun] = []
        for row in rows:
            run_id = mapping.text(row[0])
            try:
                if run_id in problems:
                    raise ValueError(problems[run_id])
                run, deleted = self._run(row, experiments, params.get(run_id, {}), tags.get(run_id, {}),
                                         summaries.get(run_id, {}))
            except (ValueError, TypeError, OverflowError) as e:
                bad.append(mapping.unreadable(run_id, str(self.path), e))
                continue
            if deleted:
                self._deleted.add(run_id)
            else:
                self._deleted.discard(run_id)
            if include_deleted or not deleted:
                runs.append(run)
        return runs, bad

    def _summaries(self, conn, where: str, args: tuple, problems: dict[str, str]) -> dict[str, dict[str, MetricSummary]]:
        """Latest values from ``latest_metrics`` (MLflow keeps it by its own rule), min/max/count
        from one aggregate over ``metrics`` (NaN is stored as is_nan=1 and left out of min/max)."""
        stats: dict[tuple[str, str], tuple] = {}
        for run_id, key, lo, hi, count in conn.execute(
                "SELECT run_uuid, \"key\", MIN(CASE WHEN is_nan THEN NULL ELSE value END), "
                "MAX(CASE WHEN is_nan THEN NULL ELSE value END), COUNT(*) FROM metrics"
                f"{where} GROUP BY run_uuid, \"key\"", args):
            stats[(run_id, key)] = (lo, hi, count)
        out: dict[str, dict[str, MetricSummary]] = defaultdict(dict)
        for run_id, key, value, ts, step, is_nan in conn.execute(
                f'SELECT run_uuid, "key", value, timestamp, step, is_nan FROM latest_metrics{where}', args):
            rid = mapping.text(run_id)
            try:
                lo, hi, count = stats.get((run_id, key), (None, None, 1))
                out[rid][mapping.text(key)] = MetricSummary(
                    mapping.text(key), math.nan if is_nan else float(value),
                    math.nan if lo is None else float(lo), math.nan if hi is None else float(hi), int(count),
                    int(step), _ms(ts))
            except (ValueError, TypeError, OverflowError):
                problems.setdefault(rid, f"metric {mapping.text(key)!r} has a damaged value: {value!r}")
        return out

    def _run(self, row: tuple, experiments: dict[str, MlflowExperiment], params: dict[str, str],
             tags: dict[str, str], summaries: dict[str, MetricSummary]) -> tuple[Run, bool]:
        run_id, name, status, start, end, stage, artifact_uri, exp_id, user_id = row
        run_id = mapping.text(run_id)
        if not run_id:
            raise ValueError("a run without a run_uuid")
        exp = experiments.get(mapping.text(exp_id))
        if exp is None:
            raise ValueError(f"experiment {mapping.text(exp_id)!r} does not exist")
        artifact_uri = mapping.text(artifact_uri)
        artifact_dir = self.artifact_location(artifact_uri)
        self._artifact_dirs[run_id] = artifact_dir
        run_path = artifact_dir.parent if artifact_dir is not None and artifact_dir.name == "artifacts" else None
        run = mapping.build_run(run_id, exp.name, status, start, end, mapping.text(name), mapping.text(user_id),
                                params, tags, summaries, artifact_dir, artifact_uri,
                                str(run_path) if run_path is not None else "")
        deleted = mapping.text(stage) == mapping.DELETED or exp.lifecycle_stage == mapping.DELETED
        return run, deleted

    def artifact_location(self, uri: str) -> Path | None:
        """``mlflow-artifacts:/...`` (a tracking server's proxied artifacts) lives under the
        artifact root; relative locations are relative to it too (default: the database's folder)."""
        root = self.artifact_root
        if uri.startswith(MLFLOW_ARTIFACTS):
            rest = uri[len(MLFLOW_ARTIFACTS):].lstrip("/")
            if "//" in uri[len(MLFLOW_ARTIFACTS):len(MLFLOW_ARTIFACTS) + 2]:
                rest = rest.partition("/")[2]  # mlflow-artifacts://host:port/path
            parts = [p for p in rest.split("/") if p not in ("", ".")]
            if ".." in parts:
                return None
            return (root or self.path.parent / "mlartifacts").joinpath(*parts)
        return mapping.local_path(uri, root or self.path.parent)

    def is_deleted(self, run_id: str) -> bool:
        return run_id in self._deleted

    def get_run(self, run_id: str) -> Run:
        runs, bad = self._retrying(self._scan, True, run_id)
        if runs:
            return runs[0]
        if bad:
            raise ValueError(bad[0].reason)
        raise RunNotInStoreError(f"no run {run_id!r} in the MLflow database {self.path}")

    def artifact_dir(self, run_id: str) -> Path | None:
        if run_id not in self._artifact_dirs:
            self.get_run(run_id)
        return self._artifact_dirs.get(run_id)

    def metric_series(self, run_id: str, key: str, position: int = 0) -> MetricSeries:
        """``position`` is the rowid of the last point read: points come in the order they were logged."""
        import numpy as np

        def read() -> list[tuple]:
            with self.connect() as conn:
                return conn.execute(
                    'SELECT rowid, timestamp, value, step, is_nan FROM metrics '
                    'WHERE run_uuid = ? AND "key" = ? AND rowid > ? ORDER BY rowid',
                    (run_id, key, int(position))).fetchall()
        steps, stamps, values = [], [], []
        last = position
        for rowid, ts, value, step, is_nan in self._retrying(read):
            try:
                point = (int(step), int(ts), math.nan if is_nan else float(value))
            except (ValueError, TypeError, OverflowError):
                break  # a damaged point ends the history, as a torn record does in tracker's files
            steps.append(point[0])
            stamps.append(point[1])
            values.append(point[2])
            last = rowid
        return MetricSeries(np.array(steps, dtype=np.int64), np.array(stamps, dtype=np.int64),
                            np.array(values, dtype=np.float64), last)

    # -- registry ---------------------------------------------------------------------------------
    def model_versions(self, name: str | None = None, include_deleted: bool = False) -> list[ModelVersion]:
        return self._retrying(read_versions, self, name, include_deleted)

    def registered_models(self, include_deleted: bool = False) -> list[RegisteredModel]:
        return self._retrying(read_models, self)

    def logged_model_dir(self, model_id: str) -> Path | None:
        """An MLflow 3 logged model's artifact location (table ``logged_models``)."""
        def read():
            with self.connect() as conn:
                if not self.columns(conn, "logged_models"):
                    return None
                return conn.execute("SELECT artifact_location FROM logged_models WHERE model_id = ?",
                                    (model_id,)).fetchone()
        row = self._retrying(read)
        return self.artifact_location(mapping.text(row[0])) if row else None

    def changed_token(self) -> tuple:
        """Size and mtime of the database and its WAL: every commit changes one of them."""
        token = []
        for suffix in ("", "-wal"):
            try:
                st = os.stat(str(self.path) + suffix)
                token.append((st.st_mtime_ns, st.st_size))
            except OSError:
                token.append(None)
        return tuple(token)


class _Retry(Exception):
    """Read again with lenient text decoding."""


def _key_values(rows, problems: dict[str, str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in rows:
        if not isinstance(key, str) or not key:
            problems.setdefault(mapping.text(run_id), f"a param or tag without a key ({key!r})")
            continue
        out[mapping.text(run_id)][key] = mapping.text(value)
    return out


def _ms(raw: object) -> int:
    try:
        return mapping.as_millis(raw, "timestamp", optional=True) or 0
    except ValueError:
        return 0
