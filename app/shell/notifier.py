"""Desktop notifications: a run of the open directory finished, failed or was killed, or one of its
metrics became NaN or infinite.

``Notifier`` follows the runs source. The first table the source hands over for a directory is the
baseline, never a notification; after that (the check of a stored table included), a run notifies
when its status becomes FINISHED, FAILED or KILLED, or a metric's last value becomes non-finite, and
it happened while the directory was open: the run's end time (for a killed run, its writer's last
heartbeat) or the metric's time is after the opening. So runs that ended while the app was closed
never notify. Which events notify is chosen in Preferences (``Settings.notify_on``).

Each notification is emitted as ``notified(Notification)`` (what tests observe) and shown through the
system tray where there is one (``QSystemTrayIcon.showMessage``); clicking it emits ``activated(run
id)``, which selects the run.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QSystemTrayIcon

from tracker.entities import RunStatus
from tracker.store import HEARTBEAT_SECONDS, layout

from app.common.formatting import format_number
from app.shell import resources
from app.shell.settings import Settings

if TYPE_CHECKING:
    from tracker.index import RunTable

    from app.shell.window import MainWindow

_ENDED = {RunStatus.FINISHED: "finished", RunStatus.FAILED: "failed", RunStatus.KILLED: "killed"}
SYSTEM_PREFIX = "system/"  # system metrics are never a run's main metric


@dataclass(frozen=True)
class Notification:
    event: str  # "finished", "failed", "killed" or "nan"
    run_id: str
    title: str
    message: str


def _now_ms() -> int:
    return int(time.time() * 1000)


def main_metric(table: RunTable, row: int, preferred: str = "") -> tuple[str, float] | None:
    """The run's main metric and its last value: ``preferred`` when the run has it, else its first
    metric by name (system metrics last)."""
    keys = [key for key, column in table.metrics.items() if column.present[row]]
    if not keys:
        return None
    if preferred and preferred in keys:
        key = preferred
    else:
        key = min(keys, key=lambda k: (k.startswith(SYSTEM_PREFIX), k.lower()))
    return key, float(table.metrics[key]["last"][row])


def _describe(value: float) -> str:
    return format_number(value) if math.isfinite(value) else str(value)


class Notifier(QObject):
    """``watch(source)``; ``notified(Notification)`` and, on a click, ``activated(run_id)``."""

    notified = Signal(object)
    activated = Signal(str)

    def __init__(self, settings: Settings, parent: QObject | None = None, tray: bool | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._status: dict[str, str] = {}  # run id -> the status last seen
        self._bad: set[tuple[str, str]] = set()  # (run id, metric) whose last value is not finite
        self._opened_ms = _now_ms()
        self._root: object = None  # the directory whose runs are known
        self._last: Notification | None = None
        self.history: list[Notification] = []  # this session's notifications, newest last
        self.tray: QSystemTrayIcon | None = None
        if tray if tray is not None else QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(resources.app_icon(), self)
            self.tray.setToolTip("Tracker")
            self.tray.messageClicked.connect(self.activate_last)

    def watch(self, source) -> None:
        """Follow a ``RunsSource``: its first table of each directory is the baseline."""
        source.loaded.connect(self._on_loaded)
        source.runs_changed.connect(self._on_changed)

    # ---- from the source ----------------------------------------------------------------------

    @Slot(object)
    def _on_loaded(self, snapshot) -> None:
        table = snapshot.table
        if snapshot.root != self._root:  # another directory: what it holds now is the baseline
            self._root = snapshot.root
            self._opened_ms = _now_ms()
            self._status.clear()
            self._bad.clear()
            if table is not None and table.n:
                self._remember(table, np.arange(table.n))
        elif table is not None and table.n:  # the same one read again (reloaded, or its folder came back)
            self._compare(table, np.arange(table.n))

    def _remember(self, table: RunTable, rows: np.ndarray) -> None:
        ids = table.text["dir"].values(rows).tolist()
        self._status.update(zip(ids, table.text["status"].values(rows).tolist()))
        for key, column in table.metrics.items():
            last = column["last"][rows]
            for i in np.flatnonzero(column.present[rows] & ~np.isfinite(last)).tolist():
                self._bad.add((ids[i], key))

    @Slot(object)
    def _on_changed(self, update) -> None:
        if update.changed and update.table is not None:
            rows = update.changed_rows()
            if len(rows):
                self._compare(update.table, rows)

    def _compare(self, table: RunTable, rows: np.ndarray) -> None:
        """Notify what changed in ``rows`` since they were last seen.

        Whole arrays first, Python only for the rows that may notify: a first open hands over tens
        of thousands of rows at a time, and a loop over them in Python took 35-110 ms of the GUI
        thread per update at 100,000 runs.
        """
        ids = table.text["dir"].values(rows).tolist()
        status_column = table.text["status"]
        ended_codes = np.array([u in _ENDED for u in status_column.uniques] + [False])
        ended = ended_codes[status_column.codes[rows]]
        before = list(map(self._status.get, ids))
        self._status.update(zip(ids, status_column.values(rows).tolist()))
        was_ended = np.fromiter(map(_ENDED.__contains__, before), dtype=bool, count=len(ids))
        end = table.ints["end_time"][rows]
        no_end = end <= 0  # a killed writer left none: its heartbeat decides (_ended_since_open)
        maybe = ended & ~was_ended & ((end >= self._opened_ms) | no_end)
        for i in np.flatnonzero(maybe).tolist():
            row, status = int(rows[i]), status_column.get(int(rows[i]))
            if self._ended_since_open(table, row, status):
                self._notify_ended(table, row, ids[i], _ENDED[status])
        for key, column in table.metrics.items():
            last = column["last"][rows]
            for i in np.flatnonzero(column.present[rows] & ~np.isfinite(last)).tolist():
                run_id = ids[i]
                if (run_id, key) in self._bad:
                    continue
                self._bad.add((run_id, key))
                row = int(rows[i])
                if int(column["last_timestamp"][row]) >= self._opened_ms:
                    self._notify_nan(table, row, run_id, key, float(last[i]))

    def _ended_since_open(self, table: RunTable, row: int, status: str) -> bool:
        end = int(table.ints["end_time"][row])
        if end > 0:
            return end >= self._opened_ms
        if status != RunStatus.KILLED:
            return False
        # a killed writer left no end time: its last heartbeat (touched every few seconds) says
        # when it was last alive
        try:
            beat = os.stat(os.path.join(table.path(row), layout.HEARTBEAT)).st_mtime
        except OSError:
            return False
        return beat * 1000 >= self._opened_ms - HEARTBEAT_SECONDS * 1000

    # ---- notifying ------------------------------------------------------------------------------

    def _name(self, table: RunTable, row: int, run_id: str) -> str:
        return table.text["run_name"].get(row) or run_id[:8]

    def _notify_ended(self, table: RunTable, row: int, run_id: str, event: str) -> None:
        if not self.settings.notify_on(event):
            return
        name = self._name(table, row, run_id)
        title = {"finished": f"{name} finished", "failed": f"{name} failed",
                 "killed": f"{name} was killed"}[event]
        parts = []
        found = main_metric(table, row, self.settings.main_metric)
        if found is not None:
            parts.append(f"{found[0]} = {_describe(found[1])}")
        error = table.text["error"].get(row) if event == "failed" else None
        if error:
            parts.append(error.strip().splitlines()[-1][:200])
        experiment = table.text["experiment"].get(row)
        if experiment:
            parts.append(f"in {experiment}")
        self.notify(Notification(event, run_id, title, "\n".join(parts)))

    def _notify_nan(self, table: RunTable, row: int, run_id: str, key: str, value: float) -> None:
        if not self.settings.notify_on("nan"):
            return
        name = self._name(table, row, run_id)
        parts = [f"{key} = {_describe(value)}"]
        found = main_metric(table, row, self.settings.main_metric)
        if found is not None and found[0] != key:
            parts.append(f"{found[0]} = {_describe(found[1])}")
        self.notify(Notification("nan", run_id, f"{name}: {key} became {_describe(value)}", "\n".join(parts)))

    def notify(self, note: Notification) -> None:
        self._last = note
        self.history.append(note)
        if self.tray is not None:
            if not self.tray.isVisible():
                self.tray.show()
            icon = (QSystemTrayIcon.MessageIcon.Warning if note.event in ("failed", "killed", "nan")
                    else QSystemTrayIcon.MessageIcon.Information)
            self.tray.showMessage(note.title, note.message, icon, 10_000)
        self.notified.emit(note)

    @Slot()
    def activate_last(self) -> None:
        """The last notification was clicked: show its run."""
        if self._last is not None:
            self.activated.emit(self._last.run_id)


def install_notifier(window: MainWindow) -> Notifier:
    """The window's notifier (``window.notifier``): follows its runs; a click selects the run."""
    notifier = Notifier(window.settings, window)
    notifier.watch(window.source)

    def show(run_id: str) -> None:
        window.showNormal() if window.isMinimized() else window.show()
        window.raise_()
        window.activateWindow()
        window.select_run(run_id)

    notifier.activated.connect(show)
    window.notifier = notifier
    return notifier
