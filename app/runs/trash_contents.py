"""What the Deleted view shows: the trash's runs as a ``RunTable`` and when each was deleted.

Read on the loading thread (``LoadWorker``), never on the GUI thread: the trash has an index of
its own (``tracker.index.trash_table``), so a re-read reads only the deleted runs that changed,
plus one small record per deleted run for its deletion time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from tracker.index import RunTable
from tracker.index.trash_table import trash_table
from tracker.store import trash

from app.runs.columns import run_id_of


@dataclass(frozen=True)
class TrashContents:
    table: RunTable  # rooted at the runs directory; folders are ".trash/<run id>"
    deleted_ms: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # per row

    @property
    def count(self) -> int:
        return self.table.n

    def run_ids(self) -> list[str]:
        return [run_id_of(self.table, i) for i in range(self.table.n)]

    def same_as(self, other: "TrashContents | None") -> bool:
        """Whether ``other`` lists the same deleted runs, read from the same files, deleted at the same times."""
        if other is None or other.table.n != self.table.n:
            return False
        return (self.table.dirs() == other.table.dirs()
                and bool(np.array_equal(self.table.file_key_array(), other.table.file_key_array()))
                and bool(np.array_equal(self.deleted_ms, other.deleted_ms)))


def empty(root: str | os.PathLike) -> TrashContents:
    return TrashContents(RunTable.empty(os.fspath(root)))


def read_trash(root: str | os.PathLike) -> TrashContents:
    """The deleted runs of the runs directory ``root`` (none when it has no trash or it cannot be read)."""
    try:
        table = trash_table(root)
    except OSError:
        return empty(root)
    times = np.zeros(table.n, dtype=np.int64)
    for i in range(table.n):
        try:
            times[i] = int(trash.deleted_record(root, run_id_of(table, i))["deleted_time"])
        except (OSError, ValueError, KeyError, TypeError):
            times[i] = 0
    return TrashContents(table, times)
