"""What the app remembers between sessions, through QSettings (tests point it at tmp_path)."""
from __future__ import annotations

import json
import os
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10
# What may notify (Preferences), each on unless turned off.
NOTIFY_EVENTS = {"finished": "A run finishes", "failed": "A run fails", "killed": "A run is killed",
                 "nan": "A metric becomes NaN or infinite"}


class Settings:
    """Typed access to the few values the app keeps; every value read is validated."""

    def __init__(self) -> None:
        self.qsettings = QSettings()

    def get_json(self, key: str, default: Any = None) -> Any:
        raw = self.qsettings.value(key)
        if not isinstance(raw, str):
            return default
        try:
            return json.loads(raw)
        except ValueError:
            return default

    def set_json(self, key: str, value: Any) -> None:
        self.qsettings.setValue(key, json.dumps(value))

    def get_bytes(self, key: str) -> QByteArray | None:
        value = self.qsettings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_bytes(self, key: str, value: QByteArray) -> None:
        self.qsettings.setValue(key, value)

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.qsettings.value(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return default

    def set_bool(self, key: str, value: bool) -> None:
        self.qsettings.setValue(key, bool(value))

    def get_str(self, key: str, default: str = "") -> str:
        value = self.qsettings.value(key)
        return value if isinstance(value, str) else default

    def set_str(self, key: str, value: str) -> None:
        self.qsettings.setValue(key, value)

    # ---- directories --------------------------------------------------------------------

    @property
    def last_directory(self) -> str:
        return self.get_str("directories/last")

    def recent_directories(self) -> list[str]:
        value = self.get_json("directories/recent", [])
        return [str(v) for v in value if isinstance(v, str)][:MAX_RECENT] if isinstance(value, list) else []

    def add_recent_directory(self, path: str | os.PathLike) -> None:
        path = str(path)
        recent = [p for p in self.recent_directories() if p != path]
        self.set_json("directories/recent", [path, *recent][:MAX_RECENT])
        self.set_str("directories/last", path)

    def clear_recent_directories(self) -> None:
        self.set_json("directories/recent", [])

    # ---- notifications ------------------------------------------------------------------

    def notify_on(self, event: str) -> bool:
        """Whether ``event`` (a key of NOTIFY_EVENTS) notifies."""
        return event in NOTIFY_EVENTS and self.get_bool(f"notifications/{event}", True)

    def set_notify_on(self, event: str, on: bool) -> None:
        if event in NOTIFY_EVENTS:
            self.set_bool(f"notifications/{event}", on)

    @property
    def main_metric(self) -> str:
        """The metric a notification gives the value of ("": the run's first metric by name)."""
        return self.get_str("notifications/main_metric").strip()

    def set_main_metric(self, key: str) -> None:
        self.set_str("notifications/main_metric", key.strip())

    def sync(self) -> None:
        self.qsettings.sync()
