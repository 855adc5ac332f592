"""What the charts' layout remembers per experiment: folded sections, pinned charts, the
order charts were dragged into. Kept as JSON through the app's ``Settings``."""
from __future__ import annotations

from PySide6.QtCore import QSettings

from app.shell.settings import Settings

from .chart_menu import ChartOverride

KEY = "plots/layout/{}"


class ChartLayout:
    """The layout of the experiment(s) shown; ``scope`` changes with the selection."""

    def __init__(self, qsettings: QSettings) -> None:
        self._settings = Settings()
        self._settings.qsettings = qsettings  # the panel's (tests give it a file of their own)
        self.scope = ""
        self.collapsed: set[str] = set()
        self.pinned: list[str] = []
        self.order: list[str] = []  # keys in a dragged order; keys not in it follow, sorted
        self.overrides: dict = {}  # key -> chart_menu.ChartOverride

    def set_scope(self, experiment_ids: list[str]) -> bool:
        """Load the layout of these experiments; True when the scope changed."""
        scope = ",".join(sorted(set(experiment_ids)))
        if scope == self.scope:
            return False
        self.scope = scope
        value = self._settings.get_json(KEY.format(scope), {})
        value = value if isinstance(value, dict) else {}
        self.collapsed = {str(s) for s in _list(value.get("collapsed"))}
        self.pinned = [str(k) for k in _list(value.get("pinned"))]
        self.order = [str(k) for k in _list(value.get("order"))]
        saved = value.get("overrides")
        saved = saved if isinstance(saved, dict) else {}
        self.overrides = {str(k): o for k, o in ((k, ChartOverride.from_json(v)) for k, v in saved.items())
                          if not o.empty}
        return True

    def save(self) -> None:
        if not self.scope:
            return
        self._settings.set_json(KEY.format(self.scope), {
            "collapsed": sorted(self.collapsed), "pinned": self.pinned, "order": self.order,
            "overrides": {k: o.to_json() for k, o in self.overrides.items()}})

    def arrange(self, keys: list[str]) -> list[str]:
        """``keys`` (in natural order) rearranged: dragged order first, the rest as given."""
        if not self.order:
            return list(keys)
        rank = {k: i for i, k in enumerate(self.order)}
        tail = len(rank)
        return [k for _, _, k in sorted((rank.get(k, tail), i, k) for i, k in enumerate(keys))]


def _list(value) -> list:
    return value if isinstance(value, list) else []
