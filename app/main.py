"""``tracker-app [DIR]``: open the desktop app on DIR, or on the directory used last."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from app.shell.window import MainWindow

APP_NAME = "Tracker"
ORGANIZATION = "tracker"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tracker-app", description="Browse runs logged with tracker.")
    parser.add_argument("directory", nargs="?", help="the runs directory, or an MLflow store (an mlruns folder or "
                        "an MLflow SQLite database, opened read-only); default: the one used last")
    parser.add_argument("--theme", choices=("system", "light", "dark"), help="override the saved theme")
    return parser.parse_args(argv)


def configure_application() -> None:
    """Names that QSettings and the desktop use; call before creating the QApplication."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QGuiApplication
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APP_NAME)
    QGuiApplication.setDesktopFileName("tracker")


def _reachable_dir(path: str) -> bool:
    """A folder, or a file (an MLflow database), that can be looked at."""
    try:
        p = Path(path)
        return p.is_dir() or p.is_file()
    except (OSError, ValueError):  # (EACCES on a parent, a NUL in a hand-edited setting)
        return False


def launch(args: argparse.Namespace) -> tuple["QApplication", "MainWindow"]:
    """Create the application and show the window on ``args.directory`` (or the one used last)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Before any Qt module: once PySide6 is imported, it reads the source of every module imported
    # after it (looking for `from __feature__ import`), and numpy and the index are ~150 modules.
    import tracker.index
    import tracker.query  # noqa: F401
    configure_application()
    from app.shell.settings import Settings
    settings = Settings()
    directory: str | None = args.directory
    if directory is None and settings.last_directory and _reachable_dir(settings.last_directory):
        directory = settings.last_directory

    from PySide6.QtWidgets import QApplication

    from app.shell import errors, resources, theme
    from app.shell.window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "tracker-app"])
    app.setWindowIcon(resources.app_icon())
    theme.apply_theme(app, args.theme or settings.get_str("appearance/theme", "system"))
    errors.install(app)
    window = MainWindow(directory)
    window.show()
    return app, window


# The [app] extra of the `tracker` distribution; `pip install tracker` alone is the library.
REQUIRED_MODULES = ("PySide6", "pyqtgraph", "watchdog")


def missing_modules() -> list[str]:
    """The modules of the [app] extra that cannot be imported here (looked up, not imported)."""
    import importlib.util
    missing = []
    for name in REQUIRED_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def main(argv: list[str] | None = None) -> int:
    """Run the app. ``argv`` is the arguments after the program name (default: sys.argv[1:])."""
    missing = missing_modules()
    if missing:
        print(f"tracker-app: the desktop app needs {', '.join(missing)}, from the [app] extra: "
              "pip install 'tracker[app]'", file=sys.stderr)
        return 1
    app, _window = launch(parse_args(argv))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
