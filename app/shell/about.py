"""The About box's text: what this is, and the versions a bug report needs."""
from __future__ import annotations

import html
import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion

import tracker


def about_text() -> str:
    from importlib import metadata  # ~30 ms of imports: only when the About box opens

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"
    return (
        "<h3>Tracker</h3><p>A local-first experiment tracker: browse runs logged with "
        "<code>tracker</code>, with no server.</p>"
        f"<table><tr><td>tracker</td><td>{html.escape(tracker.__version__)}</td></tr>"
        f"<tr><td>Qt</td><td>{qVersion()}</td></tr>"
        f"<tr><td>PySide6</td><td>{pyside_version}</td></tr>"
        f"<tr><td>pyqtgraph</td><td>{version('pyqtgraph')}</td></tr>"
        f"<tr><td>Python</td><td>{platform.python_version()}</td></tr></table>"
    )
