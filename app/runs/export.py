"""Export the runs table as CSV: the rows and columns it shows, raw values rather than text."""
from __future__ import annotations

import csv
import os
from typing import Sequence

from app.runs.columns import Column, run_id_of
from app.runs.rows import TableRows

_NAMES = {"duration": "duration_s"}  # seconds, not the "4m 05s" the cell shows


def write_runs_csv(path: str | os.PathLike, rows: TableRows, columns: Sequence[Column]) -> int:
    """Write ``run_id`` then ``columns`` (keys as headers: ``params.lr``, ``metrics.acc``)."""
    table = rows.table
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["run_id"] + [_NAMES.get(c.key, c.key) for c in columns])
        for i in rows:
            values = [(c.export or c.value)(table, i) for c in columns]
            writer.writerow([run_id_of(table, i)] + ["" if v is None else v for v in values])
    return len(rows)
