"""The desktop app: a PySide6 window onto a runs directory, reading it through ``tracker``.

``MainWindow(runs_dir)`` is the public constructor (tests, embedding); ``app.main.main``
is the ``tracker-app`` entry point.
"""
from __future__ import annotations

__all__ = ["MainWindow"]


def __getattr__(name: str):
    # Lazy, so importing app.runs.source or app.shell.resources does not build the whole window module.
    if name == "MainWindow":
        from app.shell.window import MainWindow
        return MainWindow
    raise AttributeError(f"module 'app' has no attribute {name!r}")
