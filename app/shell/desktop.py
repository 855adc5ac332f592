"""Small hand-offs to the desktop: the clipboard and the file manager (tests replace these)."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication


def copy_text(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


def open_url(url: QUrl) -> bool:
    return QDesktopServices.openUrl(url)


def reveal(path: str | os.PathLike) -> bool:
    """Show ``path`` in the file manager: a folder opens itself, a file opens its folder."""
    target = Path(path)
    folder = target if target.is_dir() else target.parent
    return open_url(QUrl.fromLocalFile(str(folder)))
