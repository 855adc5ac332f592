"""One color per run, the same everywhere (runs table swatch, chart curves, compare view).

Runs get the palette's colors in turn, so runs that sit next to each other (a sweep, the
runs of one experiment) never share a color within twelve. A hash of the run id could not
promise that: four runs picked from twelve hash-assigned colors collide 43% of the time.

A run keeps its color for the whole session: the first ``assign`` or ``color_for`` fixes
it. The window calls ``assign`` with every run id in start-time order when it loads a
directory (and again with new runs), which makes the colors a function of the directory:
the same on every start, unless runs that started earlier are deleted or added.
"""
from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

# Twelve hues of medium lightness, each readable on white and on the dark theme's
# #17191c (checked side by side); ordered so that runs in turn, and across the wrap
# from the last to the first, get clearly different hues.
PALETTE = (
    "#4c8bf5",  # blue
    "#f28e2b",  # orange
    "#3fae5a",  # green
    "#e8575a",  # red
    "#a371d6",  # purple
    "#c8a312",  # mustard
    "#1fb5c4",  # cyan
    "#e377c2",  # pink
    "#8ab833",  # lime
    "#6f7fe0",  # indigo
    "#a27b4e",  # brown
    "#2aa198",  # teal
)


_slots: dict[str, int] = {}


def slots_in_turn(run_ids: Iterable[str]) -> dict[str, int]:
    """``{run id: palette slot}`` as a first ``assign`` of these ids gives them: made where the ids
    are (a loading thread), so that ``assign`` on the GUI thread is one dict update."""
    return dict(zip(run_ids, itertools.cycle(range(len(PALETTE)))))


def assign(run_ids: Iterable[str]) -> None:
    """Give runs without a color the next colors in turn (pass them in start-time order, or the
    ``slots_in_turn`` of them)."""
    slots = _slots
    if not slots and isinstance(run_ids, dict):  # ready-made slots (100,000 runs: ~40 ms less here)
        slots.update(run_ids)
        return
    fresh = [run_id for run_id in dict.fromkeys(run_ids) if run_id not in slots]
    # the next slots in turn, set in one C-level pass (10,000 runs are opened on the GUI thread)
    slots.update(zip(fresh, itertools.islice(itertools.cycle(range(len(PALETTE))), len(slots) % len(PALETTE), None)))


def palette_index(run_id: str) -> int:
    """The run's slot in ``PALETTE`` (assigned now if it has none)."""
    slot = _slots.get(run_id)
    if slot is None:
        assign((run_id,))
        slot = _slots[run_id]
    return slot


def reset() -> None:
    """Forget every assignment (a different directory was opened; tests)."""
    _slots.clear()


def color_for(run_id: str) -> QColor:
    """The run's color (a new QColor each call: callers may change its alpha)."""
    return QColor(PALETTE[palette_index(run_id)])


@functools.lru_cache(maxsize=64)
def _swatch(hex_color: str, size: int) -> QIcon:
    icon = QIcon()
    for scale in (1, 2):  # crisp on high-DPI screens
        pixmap = QPixmap(size * scale, size * scale)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = QColor(hex_color)
        painter.setPen(color.darker(130))
        painter.setBrush(color)
        inset = size * 0.2
        painter.drawRoundedRect(QRectF(inset, inset, size - 2 * inset, size - 2 * inset), 2.5, 2.5)
        painter.end()
        # the same pixmap when selected: Qt would otherwise tint it with the highlight color,
        # and the swatch must match the curve exactly
        for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
            icon.addPixmap(pixmap, mode)
    return icon


def swatch_icon(run_id: str, size: int = 16) -> QIcon:
    """A small rounded square in the run's color, for table rows, legends and menus."""
    return _swatch(PALETTE[palette_index(run_id)], size)
