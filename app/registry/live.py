"""How the registry panel hears of changes made by scripts, other windows and other machines.

    watch = ChangeWatch(panel, poll_ms=500)
    watch.changed.connect(panel.refresh)
    watch.loaded(state)   # after each load: its change token, and whether the registry is PostgreSQL
    watch.stop()          # at shutdown: the timer and the listening thread

SQLite (and an MLflow store): a timer asks ``registry_changed_token()`` on the panel's reads worker
and ``changed`` is emitted when it moves. PostgreSQL: a thread follows the registry's LISTEN/NOTIFY
channel (``tracker.registry.notify.follow``), nothing is asked of the database until a change is
announced, and the timer is stopped. When the server goes away the thread reconnects on its own
(the panel says so meanwhile) and a reload follows the reconnection.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.registry import jobs

if TYPE_CHECKING:
    from app.registry.panel import RegistryPanel

log = logging.getLogger(__name__)
LOST = "Live updates from the registry's server stopped ({}); reconnecting…"
READ_FAILED = "Cannot read the registry"  # the panel's message for a failed read, replaced once back


class ChangeWatch(QObject):
    """Emits ``changed`` when the panel should reload."""

    changed = Signal()
    _heard = Signal(object)  # emitted on the listening thread, received on the GUI thread
    _state = Signal(bool, str)

    def __init__(self, panel: "RegistryPanel", poll_ms: int) -> None:
        super().__init__(panel)
        self.panel = panel
        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self._poll)
        self.timer.start()
        self._token: tuple | None = None
        self._job = -1
        self._params: dict[str, Any] | None = None  # what the thread listens to
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._lost = ""  # the message shown while reconnecting
        self._heard.connect(self._on_heard)
        self._state.connect(self._on_state)
        self._use(jobs.notify_params(panel.tracking_dir()))  # before any load: the server may be down

    def _use(self, params: dict[str, Any] | None) -> None:
        """Listen to ``params`` (a PostgreSQL registry), or poll (None)."""
        if params != self._params:
            self._stop_listening()
            if params is not None:
                self._listen(params)
        if self._thread is None and not self.timer.isActive():
            self.timer.start()

    def listening(self) -> bool:
        return self._thread is not None

    def reset(self) -> None:
        """Another tracking directory (an MLflow store's registry is polled)."""
        self._token, self._job = None, -1
        self._use(jobs.notify_params(self.panel.tracking_dir()))

    def loaded(self, state: jobs.RegistryState) -> None:
        """Remember what a load saw; listen when its registry is PostgreSQL, poll otherwise."""
        self._token = state.token
        self._use(state.notify)

    def stop(self) -> None:
        self.timer.stop()
        self._stop_listening()

    # ---- SQLite: the change token -----------------------------------------------------------

    @Slot()
    def _poll(self) -> None:
        reads = self.panel.reads
        if reads.is_pending(self._job) or self.panel.is_loading():
            return
        gen = self.panel.generation()
        self._job = reads.submit(jobs.changed_token, self.panel.tracking_dir(),
                                 on_done=lambda t: self._on_token(gen, t),
                                 on_error=lambda e: self.panel.read_failed(gen, e))

    def _on_token(self, gen: int, token: tuple | None) -> None:
        if gen == self.panel.generation() and token != self._token:
            self.changed.emit()

    # ---- PostgreSQL: LISTEN/NOTIFY --------------------------------------------------------------

    def _listen(self, params: dict[str, Any]) -> None:
        from tracker.registry import notify
        self.timer.stop()
        self._params, self._stop = params, threading.Event()
        self._thread = threading.Thread(
            target=notify.follow, args=(params, self._heard.emit, self._stop),
            kwargs={"on_state": self._state.emit}, name="registry-listen", daemon=True)
        self._thread.start()

    def _stop_listening(self) -> None:
        thread, stop = self._thread, self._stop
        self._thread = self._stop = self._params = None
        if thread is not None and stop is not None:
            stop.set()
            thread.join(timeout=2.0)  # a wait ends within half a second, a connection attempt too
            if thread.is_alive():
                log.warning("the registry's listening thread did not stop in time")
        self._lost = ""

    @Slot(object)
    def _on_heard(self, names: list) -> None:
        if self._thread is not None:
            self.changed.emit()

    @Slot(bool, str)
    def _on_state(self, connected: bool, detail: str) -> None:
        if self._thread is None:
            return
        message = self.panel.ui.message.text()
        if not connected:
            self._lost = LOST.format(detail)
            self.panel.show_message(self._lost, error=True, announce=message != self._lost)
        elif self._lost:
            if message == self._lost or message.startswith(READ_FAILED):
                self.panel.show_message("Live updates from the registry's server are back", announce=False)
            self._lost = ""
