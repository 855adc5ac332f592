"""The desktop app: a PySide6 window onto a runs directory, reading it through ``tracker``.

``MainWindow(runs_dir)`` is the public constructor (tests, embedding); ``app.main.main``
is the ``tracker-app`` entry point.
"""
from __future__ import annotations

__all__ = ["MainWindow"]


def __getattr__(name: str):
    # Lazy, so importing app.runs_source or app.resources does not build the whole window module.
    if name == "MainWindow":
        from app.main_window import MainWindow
        return MainWindow
    raise AttributeError(f"module 'app' has no attribute {name!r}")
