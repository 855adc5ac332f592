"""The application shell: entry point, themes, resources, the global error handler."""
from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtWidgets import QApplication

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run

from app.shell import errors

from app.shell import resources

from app.shell import theme

pytestmark = OFFSCREEN_NOISE


def test_resources_are_found_and_load():
    for name in ("tracker.svg", "tracker.desktop", "common.qss", "light.qss", "dark.qss"):
        assert resources.path(name).is_file(), name
    assert not resources.app_icon().isNull()
    for status in ("RUNNING", "FINISHED", "FAILED", "KILLED", "UNREADABLE"):
        assert not resources.status_icon(status).pixmap(16, 16).isNull(), status
    desktop = resources.read_text("tracker.desktop")
    assert "Exec=tracker-app" in desktop and "Icon=tracker" in desktop


def test_themes_switch_palette_and_style(qapp):
    try:
        assert theme.apply_theme(qapp, "dark") == "dark"
        assert theme.is_dark()
        assert "filterError" in qapp.styleSheet()
        assert theme.apply_theme(qapp, "light") == "light"
        assert not theme.is_dark()
        assert theme.apply_theme(qapp, "bogus") == "system"
    finally:
        theme.apply_theme(qapp, "system")
        qapp.setStyleSheet("")


def test_main_opens_the_given_directory(qtbot, runs_root, monkeypatch):
    log_run("only")
    windows = []
    monkeypatch.setattr(QApplication, "exec", lambda self: windows.append(QApplication.topLevelWidgets()) or 0)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    from app.main import main
    earlier = set(QApplication.topLevelWidgets())  # windows of earlier tests may await deleteLater
    try:
        assert main([str(runs_root), "--theme", "light"]) == 0
    finally:
        theme.apply_theme(QApplication.instance(), "system")
        QApplication.instance().setStyleSheet("")
    window = next(w for w in windows[0] if w.objectName() == "mainWindow" and w not in earlier)
    qtbot.addWidget(window)
    assert window.runs_dir == runs_root
    qtbot.waitUntil(lambda: window.runs_model.total_count() == 1)


def test_uncaught_errors_show_a_non_modal_window(qtbot, qapp, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    reporter = errors.install(qapp)
    try:
        raise ValueError("kaput")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: reporter.box is not None and reporter.box.isVisible())
    box = reporter.box
    assert "kaput" in box.informativeText()
    assert not box.isModal()
    worker = threading.Thread(target=lambda: 1 / 0)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: "more error" in box.informativeText())
    box.close()


@pytest.mark.parametrize("name", ["light", "dark"])
def test_window_renders_in_both_themes(qtbot, qapp, runs_root, name):
    from app_fixtures import open_window
    log_run("pretty", params={"lr": "0.1"}, metrics={"acc": 0.9})
    theme.apply_theme(qapp, name)
    try:
        window = open_window(qtbot, runs_root, 1)
        image = window.grab().toImage()
        assert not image.isNull() and image.width() > 100
    finally:
        theme.apply_theme(qapp, "system")
        qapp.setStyleSheet("")
