"""The one place that knows where the app's files live: icons, the .desktop entry, stylesheets.

The files are kept in the repository's top-level ``resources/`` folder. A checkout or an
editable install finds them beside the ``app`` package; a regular install gets them as
data files under ``<prefix>/share/tracker/resources``.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

__all__ = ["resources_dir", "path", "read_text", "icon", "app_icon", "status_icon"]

_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "resources",  # checkout, editable install
    Path(sys.prefix) / "share" / "tracker" / "resources",  # pip install (data files)
)


@functools.lru_cache(maxsize=None)
def resources_dir() -> Path:
    for candidate in _CANDIDATES:
        if (candidate / "tracker.svg").is_file():
            return candidate
    raise FileNotFoundError("the app's resources folder is missing; looked in "
                            + ", ".join(str(c) for c in _CANDIDATES))


def path(name: str) -> Path:
    """The path of a resource file, e.g. ``path("icons/warning.svg")``."""
    return resources_dir() / name


def read_text(name: str) -> str:
    try:
        return path(name).read_text(encoding="utf-8")
    except OSError:
        return ""  # a missing stylesheet only costs looks


@functools.lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """An icon from ``resources/icons/<name>.svg`` (an empty icon when missing)."""
    file = path(f"icons/{name}.svg")
    if not file.is_file():
        return QIcon()
    result = QIcon()
    for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
        result.addFile(str(file), QSize(), mode)  # colored icons keep their colors when selected
    return result


@functools.lru_cache(maxsize=None)
def app_icon() -> QIcon:
    return QIcon(str(path("tracker.svg")))


_STATUS_ICONS = {
    "RUNNING": "status-running", "FINISHED": "status-finished", "FAILED": "status-failed",
    "KILLED": "status-killed", "UNREADABLE": "warning",
}


def status_icon(status: str) -> QIcon:
    """The icon for a run status (RUNNING, FINISHED, FAILED, KILLED) or UNREADABLE."""
    return icon(_STATUS_ICONS.get(status, "warning"))
