"""Where runs go: ``set_tracking_dir``, else ``$TRACKER_DIR``, else ``./runs``."""
from __future__ import annotations

import os
from pathlib import Path

_tracking_dir: Path | None = None


def set_tracking_dir(path: str | os.PathLike | None) -> None:
    """Point logging and reading at ``path``; ``None`` goes back to ``$TRACKER_DIR`` or ``./runs``."""
    global _tracking_dir
    _tracking_dir = Path(path).expanduser().absolute() if path is not None else None


def get_tracking_dir() -> Path:
    if _tracking_dir is not None:
        return _tracking_dir
    return Path(os.environ.get("TRACKER_DIR") or "runs").expanduser().absolute()
