"""The registry panel's workers: ``app.common.worker.Worker`` threads that close their database
connections as they end.

    runner = TaskRunner("registry-reads", owner)  # stopped when owner is destroyed, or at exit
    runner.submit(jobs.load_state, root, "fraud", on_done=self._on_state, on_error=self._on_error)
    runner.stop()  # runs what is queued (a stage change the user just made still happens), joins

Jobs run one at a time, in order, on one thread; callbacks run in the GUI thread. A job asked
for with ``on_progress`` gets a ``progress(done, total)`` keyword argument to call from its thread.
"""
from __future__ import annotations

from PySide6.QtCore import QObject

from app.common.worker import Worker
from app.registry import jobs


class TaskRunner(Worker):
    """One worker thread for registry calls; peewee keeps a connection per thread, closed at the end."""

    def __init__(self, name: str, owner: QObject | None = None) -> None:
        super().__init__(name, owner, finish=jobs.close_connections)
