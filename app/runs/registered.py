"""Which runs have a registered model version: the runs table's badge ("fraud v3").

The registry is asked once per refresh for every version's run id (one query, whatever the
number of runs), on a worker thread; a cheap change token is polled meanwhile, so a version
registered by the registry panel or by a script shows its badge within a poll. Viewing a
folder never creates a registry: without ``registry.db`` there is nothing to ask.
"""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.common.worker import Worker

POLL_MS = 2000
_DB_FILE = "registry.db"


def registry_client(root: Path):
    """tracker's registry reads for ``root`` (an MLflow store's, read-only), or None without a
    registry: then the registry's modules (peewee, a PostgreSQL driver) are not even imported."""
    from app.runs import access as run_access  # (imported when used: start-up is measured)
    mlflow = run_access.registry_for(root)
    if mlflow is not None:
        return mlflow
    from tracker.registry.location import registry_url  # (cheap: no database module)
    if not registry_url() and not (root / _DB_FILE).is_file():
        return None
    import tracker
    return tracker.Client(root)


def close_client(client) -> None:
    """Close this thread's database connection (peewee keeps one per thread; a poll every few
    seconds does not need one held open on a folder the user may delete)."""
    db = getattr(getattr(client, "registry", None), "db", None)
    if db is not None and not db.is_closed():
        db.close()


def changed_token(root: Path) -> tuple | None:
    client = registry_client(root)
    if client is None:
        return None
    try:
        return tuple(client.registry_changed_token())
    finally:
        close_client(client)


def registered_runs(root: Path) -> tuple[tuple | None, dict[str, str]]:
    """(change token, run id -> "fraud v3, churn v1") over every live version of every model."""
    client = registry_client(root)
    if client is None:
        return None, {}
    try:
        token = tuple(client.registry_changed_token())
        if hasattr(client, "search_model_versions"):
            versions = client.search_model_versions()  # one read for all of them
        else:  # an MLflow store's registry lists versions model by model
            versions = [v for m in client.search_registered_models() for v in client.list_model_versions(m.name)]
    finally:
        close_client(client)
    labels: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for v in versions:
        if v.run_id:
            labels[v.run_id].append((v.name, int(v.version)))
    return token, {run_id: ", ".join(f"{name} v{number}" for name, number in sorted(found, key=lambda f: (
        f[0].lower(), -f[1]))) for run_id, found in labels.items()}


class RegisteredRuns(QObject):
    """Follows one folder's registry; emits ``changed(dict run id -> label)`` when it moves."""

    changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root: Path | None = None
        self._token: tuple | None = None
        self._job = -1
        self._worker = Worker("registered-runs", self)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def root(self) -> Path | None:
        return self._root

    def follow(self, root: str | os.PathLike | None) -> None:
        """Read the registry of ``root`` now and keep following it (None: stop)."""
        root = Path(root) if root else None
        if root == self._root:
            return
        self._root, self._token = root, None
        self._worker.cancel(self._job)
        self._job = -1
        self.changed.emit({})
        if root is None:
            self._timer.stop()
            return
        self.refresh()
        self._timer.start()

    @Slot()
    def refresh(self) -> None:
        root = self._root
        if root is None:
            return
        self._worker.cancel(self._job)
        self._job = self._worker.submit(registered_runs, root, on_done=lambda found: self._on_read(root, found),
                                        on_error=lambda e: None)  # (no registry to read yet: no badges)

    @Slot()
    def _poll(self) -> None:
        root = self._root
        if root is None or self._worker.is_pending(self._job):
            return
        self._job = self._worker.submit(changed_token, root, on_done=lambda token: self._on_token(root, token),
                                        on_error=lambda e: None)

    def _on_token(self, root: Path, token: tuple | None) -> None:
        if root == self._root and token != self._token:
            self.refresh()

    def _on_read(self, root: Path, found: tuple[tuple | None, dict[str, str]]) -> None:
        if root != self._root:
            return
        self._token, labels = found
        self.changed.emit(labels)
