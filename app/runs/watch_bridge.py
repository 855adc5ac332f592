"""How file events reach Qt: ``WatchBridge`` and the kinds of event it carries.

Apart from ``app/runs/watcher.py`` (which imports watchdog), so the window can be built and the
runs shown before watchdog is imported: the loading thread imports it when it starts watching.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

# What the watcher reports, as (generation, kind, name):
ROOT = "root"  # an entry of the root named like a run appeared or vanished: name is the run id
RUN = "run"  # a watched run's run.json was replaced or written: name is the run id
EXPERIMENTS = "experiments"  # experiments/ changed
GONE = "gone"  # the root itself was deleted or moved away
TRASH = "trash"  # the trash (deleted runs) changed, or appeared
EDITED = "edited"  # another process changed a run nobody watches (it touched the root's edits note)


class WatchBridge(QObject):
    """Carries watchdog's events into the thread this object lives in (create it in the GUI thread)."""

    event = Signal(object)  # (generation, kind, name)
