"""Reading an MLflow SQLite database (``mlflow.db``) without MLflow, through a read-only connection.

Listing runs reads whole tables once (runs, params, tags, latest_metrics, and one aggregate over
metrics for every run's min/max/count) instead of a query per run. Columns MLflow added over the
years are looked up first, so older databases read too. Rows are untrusted: a run whose row or values do
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
from .base import LoggedModel, MlflowExperiment, MlflowStoreReader, RunNotInStoreError, safe_model_name
from .detect import connect_read_only
from .sqlite_registry import read_models, read_versions

MLFLOW_ARTIFACTS = "mlflow-artifacts:"
_NO_POINTS = (None, None, None, None, 1)  # a latest value whose history is missing: min and max unknown


class SqliteStoreReader(MlflowStoreReader):
    kind = "sqlite"

    def __init__(self, db: str | os.PathLike, artifact_root: str | os.PathLike | None = None) -> None:
        self.path = Path(db).absolute()
        self.artifact_root = Path(artifact_root).absolute() if artifact_root is not None else None
        self._columns: dict[str, set[str]] = {}
        self._deleted: set[str] = set()
        self._artifact_dirs: dict[str, str | None] = {}
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

    def _other_workspaces(self, conn: sqlite3.Connection) -> set[str]:
        """Ids of experiments in workspaces other than the default: their runs are not listed."""
        if "workspace" not in self.columns(conn, "experiments"):
            return set()
        return {mapping.text(i) for (i,) in conn.execute(
            "SELECT experiment_id FROM experiments WHERE workspace != 'default'")}

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
            other_workspaces = self._other_workspaces(conn)
            rows = [row for row in conn.execute(self.select(conn, "runs", [
                "run_uuid", "name", "status", "start_time", "end_time", "lifecycle_stage", "artifact_uri",
                "experiment_id", "user_id"]) + where, args) if mapping.text(row[7]) not in other_workspaces]
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

    def _summaries(self, conn, where: str, args: tuple,
                   problems: dict[str, str]) -> dict[str, dict[str, MetricSummary]]:
        """Every run's metric summaries in two queries: the latest values from ``latest_metrics``
        (MLflow keeps it by its own rule: the value at the highest step), and min, max and count
        aggregated over ``metrics`` by (run, key), which MLflow's index on them serves in order."""
        stats = {}
        for row in conn.execute(
                'SELECT run_uuid, "key", MIN(CASE WHEN is_nan THEN NULL ELSE value END), '
                f'MAX(CASE WHEN is_nan THEN NULL ELSE value END), COUNT(*) FROM metrics{where} '
                'GROUP BY run_uuid, "key"', args):
            run_id, key = row[0], row[1]
            if type(run_id) is not str or type(key) is not str:
                run_id, key = mapping.text(run_id), mapping.text(key)
            stats[(run_id, key)] = row
        out: dict[str, dict[str, MetricSummary]] = defaultdict(dict)
        for run_id, key, value, ts, step, is_nan in conn.execute(
                f'SELECT run_uuid, "key", value, timestamp, step, is_nan FROM latest_metrics{where}', args):
            if type(run_id) is not str or type(key) is not str:
                run_id, key = mapping.text(run_id), mapping.text(key)
            try:
                value, step = math.nan if is_nan else float(value), int(step)
            except (ValueError, TypeError, OverflowError):
                problems.setdefault(run_id, f"metric {key!r} has a damaged value: {value!r}")
                continue
            _, _, lo, hi, count = stats.get((run_id, key), _NO_POINTS)
            if type(lo) is not float or type(hi) is not float or type(count) is not int:
                lo, hi, count = _float(lo), _float(hi), _int(count)  # NULL (no points or all NaN), or damaged
            out[run_id][key] = MetricSummary(key, value, lo, hi, count, step, ts if type(ts) is int else _ms(ts),
                                             step, value)
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
        run_path = os.path.dirname(artifact_dir) if artifact_dir is not None \
            and os.path.basename(artifact_dir) == "artifacts" else None
        deleted = mapping.text(stage) == mapping.DELETED or exp.lifecycle_stage == mapping.DELETED
        run = mapping.build_run(run_id, exp.name, status, start, end, mapping.text(name), mapping.text(user_id),
                                params, tags, summaries, artifact_dir, artifact_uri, run_path or "", exp.experiment_id,
                                mapping.DELETED if deleted else mapping.ACTIVE)
        return run, deleted

    def artifact_location(self, uri: str) -> str | None:
        """The local directory of an artifact location: ``mlflow-artifacts:/...`` (a tracking
        server's proxied artifacts) lives under the artifact root, and relative locations are
        relative to it too (default: the database's folder). None when it is not local."""
        root = str(self.artifact_root or self.path.parent)
        if uri.startswith(MLFLOW_ARTIFACTS):
            rest = uri[len(MLFLOW_ARTIFACTS):]
            if rest.startswith("//"):
                rest = rest[2:].partition("/")[2]  # mlflow-artifacts://host:port/path
            parts = [p for p in rest.split("/") if p not in ("", ".")]
            if ".." in parts:
                return None
            base = str(self.artifact_root) if self.artifact_root else os.path.join(root, "mlartifacts")
            return os.path.join(base, *parts)
        if uri.startswith("/") and "\\" not in uri and "/." not in uri and "//" not in uri:
            return uri  # an absolute path, as MLflow records by default: the common case, fast
        found = mapping.local_path(uri, Path(root))
        return str(found) if found is not None else None

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
        found = self._artifact_dirs.get(run_id)
        return Path(found) if found is not None else None

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
        found = self.artifact_location(mapping.text(row[0])) if row else None
        return Path(found) if found is not None else None

    def logged_models(self, run_id: str) -> list[LoggedModel]:
        def read() -> list[tuple]:
            with self.connect() as conn:
                have = self.columns(conn, "logged_models")
                if not {"model_id", "name", "artifact_location", "source_run_id"} <= have:
                    return []
                stage = " AND (lifecycle_stage IS NULL OR lifecycle_stage != 'deleted')" \
                    if "lifecycle_stage" in have else ""
                order = "creation_timestamp_ms, " if "creation_timestamp_ms" in have else ""
                return conn.execute(
                    f"SELECT model_id, name, artifact_location FROM logged_models WHERE source_run_id = ?"
                    f"{stage} ORDER BY {order}model_id", (run_id,)).fetchall()
        out = []
        for model_id, name, location in self._retrying(read):
            name = mapping.text(name)
            if safe_model_name(name):
                found = self.artifact_location(mapping.text(location))
                out.append(LoggedModel(name, mapping.text(model_id), Path(found) if found is not None else None))
        return out

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
        if type(key) is not str or not key:
            problems.setdefault(mapping.text(run_id), f"a param or tag without a key ({key!r})")
            continue
        out[run_id if type(run_id) is str else mapping.text(run_id)][key] = \
            value if type(value) is str else mapping.text(value)
    return out


def _float(raw: object) -> float:
    try:
        return math.nan if raw is None else float(raw)
    except (ValueError, TypeError, OverflowError):
        return math.nan


def _int(raw: object) -> int:
    try:
        return int(raw)
    except (ValueError, TypeError, OverflowError):
        return 0


def _ms(raw: object) -> int:
    try:
        return mapping.as_millis(raw, "timestamp", optional=True) or 0
    except ValueError:
        return 0
