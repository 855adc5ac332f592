"""``Run`` objects made from rows of a ``RunTable``: what a search returns and a panel shows.

Made column by column: each column is read once for all the rows asked for. When the rows have
most keys of a family, as in a sweep, a row's dict is made from the columns' values zipped
(``dict(zip(keys, values))`` in C when the row has every key); otherwise each column's values go
to the rows that have it. Making 1,000 runs of 20 params, 3 tags and 10 metrics takes ~15 ms
here, a third of a search returning them; 10,000 ``MetricSummary`` objects are half of that.
"""
from __future__ import annotations

import os
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np

from ..entities import MetricSummary, Run, RunData, RunInfo, UnreadableRun
from ..store import layout
from .columns import METRIC_FLOATS, METRIC_INTS, NO_INT, MetricColumn, TextColumn

if TYPE_CHECKING:
    from .table import RunTable

DENSE = 0.5  # the share of (row, key) pairs present from which rows are made by zipping whole columns
_TRASH_PREFIX = layout.TRASH_DIR + "/"  # folders of deleted runs, in a table that shows them (index.trash_table)


def make_runs(table: "RunTable", rows: np.ndarray, text_fields: tuple[str, ...]) -> list[Run | UnreadableRun]:
    """The runs of ``rows`` (int64 indices of ``table``), in that order."""
    if not len(rows):
        return []
    text = {f: table.text[f].values(rows).tolist() for f in text_fields}
    starts, ends, pids = (table.ints[f][rows].tolist() for f in ("start_time", "end_time", "pid"))
    params, tags = row_dicts(table.params, rows), row_dicts(table.tags, rows)
    metrics, summaries = row_metrics(table.metrics, rows)
    folders, reasons = text["dir"], text["reason"]
    uris = artifact_uris(table, folders)
    prefix = os.path.join(table.root, "")  # plain concatenation below: a join per run is measurable
    trashed = os.path.basename(os.path.normpath(table.root)) == layout.TRASH_DIR
    out: list[Run | UnreadableRun] = []
    columns = zip(folders, reasons, uris, starts, ends, pids, params, tags, metrics, summaries,
                  *(text[f] for f in ("run_id", "run_name", "experiment", "status", "parent_run_id", "description",
                                      "user", "host", "error", "experiment_id")))
    for (folder, reason, uri, start, end, pid, params_, tags_, metrics_, summaries_, run_id, run_name, experiment,
         status, parent, description, user, host, error, experiment_id) in columns:
        path = prefix + folder
        if reason is not None:
            out.append(UnreadableRun(folder, path, reason))
            continue
        info = RunInfo(
            run_id=run_id, run_name=run_name, experiment=experiment, status=status, start_time=start,
            end_time=None if end == NO_INT else end, artifact_uri=uri, parent_run_id=parent,
            description=description or "", user=user or "", host=host or "", pid=None if pid == NO_INT else pid,
            error=error, experiment_id=experiment_id or "",
            lifecycle_stage="deleted" if trashed or folder.startswith(_TRASH_PREFIX) else "active")
        out.append(Run(info, RunData(params=params_, tags=tags_, metrics=metrics_, summaries=summaries_), path))
    return out


def artifact_uris(table: "RunTable", folders: list[str]) -> list[str]:
    """Each folder's artifacts URI as ``store.read_run`` gives it: a linked artifacts folder is its target."""
    root_uri = table.root_uri()
    linked = layout.linked_artifacts(table.root, folders)
    if not any(linked):
        return [f"{root_uri}/{folder}/{layout.ARTIFACTS_DIR}" for folder in folders]
    from pathlib import Path
    return [Path(table.root, folder, layout.ARTIFACTS_DIR).resolve().as_uri() if link
            else f"{root_uri}/{folder}/{layout.ARTIFACTS_DIR}" for folder, link in zip(folders, linked)]


def _dense(present: int, rows: int, keys: int) -> bool:
    return present >= DENSE * rows * keys


def row_dicts(columns: dict[str, TextColumn], rows: np.ndarray) -> list[dict[str, str]]:
    """Each row's ``{key: value}`` of the keys it has, in the columns' order."""
    m = len(rows)
    if not columns:
        return [{} for _ in range(m)]
    keys = list(columns)
    codes = [column.codes[rows] for column in columns.values()]
    present = sum(int(np.count_nonzero(c >= 0)) for c in codes)
    if _dense(present, m, len(keys)):
        values = [column.objects()[c].tolist() for column, c in zip(columns.values(), codes)]
        if present == m * len(keys):
            return [dict(zip(keys, row)) for row in zip(*values)]
        return [{k: v for k, v in zip(keys, row) if v is not None} for row in zip(*values)]
    out: list[dict[str, str]] = [{} for _ in range(m)]
    for key, column, c in zip(keys, columns.values(), codes):
        at = np.flatnonzero(c >= 0)
        uniques = column.uniques
        for n, code in zip(at.tolist(), c[at].tolist()):
            out[n][key] = uniques[code]
    return out


def row_metrics(columns: dict[str, MetricColumn], rows: np.ndarray
                ) -> tuple[list[dict[str, float]], list[dict[str, MetricSummary]]]:
    """Each row's ``{key: value at the highest step}`` and ``{key: MetricSummary}``, in the columns' order."""
    m = len(rows)
    if not columns:
        return [{} for _ in range(m)], [{} for _ in range(m)]
    keys = list(columns)
    present = [column.present[rows] for column in columns.values()]
    count = sum(int(np.count_nonzero(p)) for p in present)
    if count == m * len(keys):  # every row has every metric: whole columns, zipped
        values, summaries = [], []
        for key, column in columns.items():
            fields = [column.arrays[name][rows].tolist() for name in METRIC_FLOATS + METRIC_INTS]
            last, low, high, value, n, last_step, last_ts, max_step = fields
            values.append(value)
            summaries.append(map(MetricSummary, repeat(key), last, low, high, n, last_step, last_ts, max_step,
                                 value))
        return ([dict(zip(keys, row)) for row in zip(*values)],
                [dict(zip(keys, row)) for row in zip(*summaries)])
    out_values: list[dict[str, float]] = [{} for _ in range(m)]
    out_summaries: list[dict[str, MetricSummary]] = [{} for _ in range(m)]
    for (key, column), mine in zip(columns.items(), present):
        at = np.flatnonzero(mine)
        if not len(at):
            continue
        picked = rows[at]
        fields = [column.arrays[name][picked].tolist() for name in METRIC_FLOATS + METRIC_INTS]
        for n, (last, low, high, value, k, last_step, last_ts, max_step) in zip(at.tolist(), zip(*fields)):
            out_summaries[n][key] = MetricSummary(key, last, low, high, k, last_step, last_ts, max_step, value)
            out_values[n][key] = value
    return out_values, out_summaries
