"""What every screenshot script needs: a headless QApplication whose settings live in a temp dir."""
from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def screenshot_app(settings_dir: Path):
    """A QApplication named like the real app, with QSettings kept out of the user's own."""
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    from app.shell import resources
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(settings_dir))
    QCoreApplication.setOrganizationName("tracker-screenshots")
    QCoreApplication.setApplicationName("Tracker")
    app = QApplication.instance() or QApplication([])
    app.setWindowIcon(resources.app_icon())
    return app
