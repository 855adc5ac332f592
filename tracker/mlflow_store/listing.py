"""An MLflow store's runs as a ``RunTable`` (the columns the runs table reads), with each run as
an object made only when somebody asks for it (``RunListing.runs``).

Both readers list this way (``MlflowStoreReader.list_runs``); the file store keeps what it read
between listings and between processes (``file_cache``), so it reads again only the runs whose
files changed.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from ..entities import Run, UnreadableRun
from ..index.columns import TextColumn
from ..index.table import RunTable, TableBuilder

UNREADABLE = "UNREADABLE"

AnyRun = Run | UnreadableRun
FileKey = tuple[int, int, int]


def run_id_of(run: AnyRun) -> str:
    return run.run_id if isinstance(run, UnreadableRun) else run.info.run_id


class TableOfRuns:
    """Collects runs read from a store (one row each, under its run id), then ``build()``s a table
    whose status is the run's own: an MLflow run has no writer whose liveness could change it."""

    def __init__(self, root: str | os.PathLike) -> None:
        self._builder = TableBuilder(os.fspath(root))
        self._statuses: list[str] = []

    def add(self, run: AnyRun, key: FileKey | None = None) -> None:
        if isinstance(run, UnreadableRun):
            self._builder.add_unreadable(run.run_id, key, run.reason)
            self._statuses.append(UNREADABLE)
        else:
            self._builder.add_run(run.info.run_id, key, run)
            self._statuses.append(run.info.status)

    def build(self) -> RunTable:
        table = self._builder.build()  # not handed to anyone yet: its status column can still be replaced
        table.text["status"] = TextColumn.from_values(self._statuses)
        return table


def table_of(root: str | os.PathLike, runs: Iterable[AnyRun]) -> RunTable:
    builder = TableOfRuns(root)
    for run in runs:
        builder.add(run)
    return builder.build()


class RunsOnDemand(Mapping):
    """``{run id: Run or UnreadableRun}`` over a listing's table: a run is made (by ``make``, e.g.
    the reader's ``get_run``) the first time it is asked for, then kept. Iterating or ``len`` uses
    the table only. Safe to use from another thread than the reader's (one run made at a time).
    ``on_made``: called with each run when it is made (the app routes reads of its path)."""

    def __init__(self, table: RunTable, make: Callable[[str], AnyRun | None]) -> None:
        self._table = table
        self._make = make
        self._made: dict[str, AnyRun] = {}
        self._lock = threading.Lock()
        self.on_made: Callable[[AnyRun], None] | None = None

    def __getitem__(self, run_id: str) -> AnyRun:
        found = self._made.get(run_id)
        if found is not None:
            return found
        if self._table.position(run_id) is None:
            raise KeyError(run_id)
        with self._lock:
            found = self._made.get(run_id)
            if found is None:
                found = self._make(run_id)
                if found is None:
                    raise KeyError(run_id)
                if self.on_made is not None:
                    self.on_made(found)
                self._made[run_id] = found
        return found

    def __contains__(self, run_id: object) -> bool:
        return isinstance(run_id, str) and self._table.position(run_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._table.dirs())

    def __len__(self) -> int:
        return self._table.n

    def __bool__(self) -> bool:
        return self._table.n > 0


@dataclass
class RunListing:
    """What ``list_runs`` found: ``table`` (one row per run id, statuses as stored; deleted runs
    only when asked for), ``runs`` (each row's run, made on first use), and ``read``: the run ids
    whose files were read this time (the others were known and unchanged)."""

    table: RunTable
    runs: Mapping[str, AnyRun]
    read: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # known to the last listing, gone now
