"""What the main window shows and turns off for a store it only reads (an MLflow store), and
File > Open MLflow Database. The window calls ``show`` on every open; ``run_access`` knows the store."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QWidget

from app.runs import access as run_access

if TYPE_CHECKING:
    from app.shell.window import MainWindow


def show(window: MainWindow, path: Path) -> None:
    """Name an MLflow store in the title and the status bar, and turn off what would write into it."""
    read_only = run_access.describe(path)
    window.store_label.setText(read_only)
    window.store_label.setToolTip(f"{path} belongs to MLflow: the app shows it and never changes it"
                                  if read_only else "")
    window.store_label.setVisible(bool(read_only))
    if read_only:
        window.setWindowTitle(f"{path.name or path} ({read_only}) — Tracker")
    window.demo_action.setEnabled(not read_only)
    window.demo_action.setToolTip(f"{read_only}: demo runs cannot be written into it" if read_only else "")


def choose_mlflow_database(window: MainWindow) -> None:
    """Open an MLflow SQLite database (``mlflow.db``); an ``mlruns`` folder opens as a directory."""
    start = str(window.runs_dir.parent if window.runs_dir else Path.cwd())
    path = ask_database(window, start)
    if path:
        window.open_directory(path)


def ask_database(parent: QWidget, start: str) -> str:
    """The file dialog (one function, so tests can replace it)."""
    return QFileDialog.getOpenFileName(parent, "Open MLflow Database", start,
                                       "MLflow databases (*.db *.sqlite *.sqlite3);;All files (*)")[0]
