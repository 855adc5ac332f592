"""The process's one background thread that saves every open run's buffered points."""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .writer import RunWriter

FLUSH_SECONDS = 0.1  # points: from the start of one flush to the start of the next
SUMMARY_SECONDS = 0.5  # summaries in run.json


class Flusher:
    """The process's single background thread that flushes every open writer."""

    def __init__(self) -> None:
        self._writers: set["RunWriter"] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, writer: "RunWriter") -> None:
        with self._lock:
            self._writers.add(writer)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="tracker-flusher", daemon=True)
                self._thread.start()

    def remove(self, writer: "RunWriter") -> None:
        with self._lock:
            self._writers.discard(writer)

    def flush_all(self, summaries: bool = True) -> None:
        """Flush every writer; a writer's failure is kept for its next API call, never raised here."""
        with self._lock:
            writers = list(self._writers)
        for writer in writers:
            try:
                writer.flush(summaries)
            except Exception as e:  # noqa: BLE001 - nothing may stop the flusher; the run reports it
                writer.keep_failure(e)

    def _loop(self) -> None:
        due = time.monotonic()
        while True:
            # Flushes start every FLUSH_SECONDS however long one takes, so a point waits
            # at most one interval plus one flush before it is in the file.
            due = max(due + FLUSH_SECONDS, time.monotonic())
            self._wake.wait(due - time.monotonic())
            self._wake.clear()
            self.flush_all(summaries=False)

    def reset_after_fork(self) -> None:
        # Locks another thread held at the fork stay locked forever in the child: start afresh.
        self._writers = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None


FLUSHER = Flusher()
