"""The edits this process makes to runs (renames, deletions, restores), told to every window.

A finished run's folder is not watched (only the root and the runs still being written are), so
the window that edits a run asks its ``RunsSource`` to re-read it at once (``RunsSource.reread``);
through this hub, every other source of this process showing the same directory does the same.
Other processes' edits are found by the loader's periodic check (``LoadWorker._edited``).
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class EditsHub(QObject):
    edited = Signal(str, list)  # runs directory (absolute), run ids edited there


_hub: EditsHub | None = None


def hub() -> EditsHub:
    """The process's hub (made on first use, in the GUI thread)."""
    global _hub
    if _hub is None:
        _hub = EditsHub()
    return _hub
