"""Fixtures and helpers for the registry panel's tests: import them with

    from registry_panel_fixtures import *  # noqa: F401,F403

``send_drop`` is the one way tests drop things: synthesized ``QDragEnterEvent``, ``QDragMoveEvent``
and ``QDropEvent`` (``QDrag.exec()`` blocks, so tests never start a real drag).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from app_fixtures import OFFSCREEN_NOISE, qt_settings  # qt_settings: autouse, QSettings in tmp_path

import tracker

__all__ = ["qt_settings", "panel", "make_panel", "send_drop", "mime_with", "register_file", "stage_of",
           "version_cells", "wait_for_versions", "wait_idle", "OFFSCREEN_NOISE", "artifact_run", "no_dialogs"]

_ACTIONS = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction | Qt.DropAction.LinkAction


def _event(cls, pos: QPoint, mime: QMimeData):
    """Qt 6.12 prefers a QPointF (the QPoint form warns); 6.11 only takes a QPoint."""
    try:
        return cls(QPointF(pos), _ACTIONS, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    except TypeError:
        return cls(pos, _ACTIONS, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)


def mime_with(items: list) -> QMimeData:
    """``text/uri-list`` data: Paths become local file URLs, strings are taken as URLs."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(i)) if isinstance(i, Path) else QUrl(i) for i in items])
    return mime


def send_drop(widget: QWidget, data: QMimeData | list, pos: QPoint | None = None) -> bool:
    """Drag ``data`` (mime data, or items for ``mime_with``) onto ``widget`` at ``pos`` and drop it.

    The enter goes through ``QApplication.sendEvent`` (which walks up to the first parent that
    accepts drops, as a real drag does); returns whether a drop happened.
    """
    mime = data if isinstance(data, QMimeData) else mime_with(data)
    pos = pos if pos is not None else widget.rect().center()
    enter = _event(QDragEnterEvent, pos, mime)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    move = _event(QDragMoveEvent, pos, mime)
    QApplication.sendEvent(widget, move)
    drop = _event(QDropEvent, pos, mime)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def make_panel(qtbot, root: Path):
    from app.registry import RegistryPanel
    panel = RegistryPanel(root)
    qtbot.addWidget(panel)
    panel.resize(1280, 720)
    return panel


@pytest.fixture
def panel(qtbot, tracking_dir):
    """A registry panel on the test's tracking dir; its workers must be joined at the end."""
    panel = make_panel(qtbot, Path(tracking_dir))
    yield panel
    panel.shutdown()
    assert not any(r.is_running() for r in (panel.reads, panel.writes, panel.files))
    assert not panel.poll_timer.isActive()


@pytest.fixture
def no_dialogs(monkeypatch):
    """Any modal dialog of the panel fails the test."""
    from app.registry.panel import RegistryPanel

    def fail(self, *args, **kwargs):
        raise AssertionError(f"a dialog was opened: {args}")
    monkeypatch.setattr(RegistryPanel, "_ask_promotion", fail)
    monkeypatch.setattr(RegistryPanel, "_ask_registration", fail)


def register_file(tmp_path: Path, name: str, content: str, stage: str | None = None) -> int:
    """Register a small outside file as the next version of ``name`` (through tracker)."""
    path = tmp_path / "files" / f"{name}-{abs(hash(content))}.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    client = tracker.Client()
    mv = client.register_model(path, name)
    if stage:
        client.transition_model_version_stage(name, mv.version, stage)
    return mv.version


def artifact_run(name: str = "train", params: dict | None = None) -> tuple[str, Path]:
    """A finished run holding ``model/weights.bin`` and ``model/config.json``; (run id, model folder)."""
    with tracker.start_run(run_name=name, experiment="exp") as run:
        tracker.log_params(params or {"lr": 0.1})
        tracker.log_metric("accuracy", 0.93)
        tracker.log_text("weights of " + name, "model/weights.bin")
        tracker.log_dict({"layers": 3}, "model/config.json")
    return run.info.run_id, tracker.get_tracking_dir() / run.info.run_id / "artifacts" / "model"


def wait_idle(qtbot, panel, timeout: int = 5000) -> None:
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=timeout)


def wait_for_versions(qtbot, panel, model: str, count: int, timeout: int = 5000) -> None:
    qtbot.waitUntil(lambda: panel.selected_model() == model
                    and panel.ui.versions_model.rowCount() == count, timeout=timeout)


def stage_of(panel, version: int) -> str | None:
    model = panel.ui.versions_model
    row = model.row_of(version)
    return model.version_at(row).current_stage if row >= 0 else None


def version_cells(panel, version: int) -> list[str]:
    """The displayed cells of one version's row."""
    model = panel.ui.versions_model
    row = model.row_of(version)
    return [model.index(row, c).data() for c in range(model.columnCount())]
