"""Charts grouped into collapsible sections by key prefix, and the key filter.

``train/loss`` and ``train/acc`` go in section "train", ``system/cpu`` in "system"; keys
without a ``/`` go in a first, unnamed section; the system metrics come last (they are
about the machine, not the model). The filter takes a regular expression, as TensorBoard's;
plain words keep working (every word must appear in the key), and an invalid expression is
reported and read as plain words.
"""
from __future__ import annotations

import re
from typing import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from .series_math import natural_key

SYSTEM = "system"
_REGEX_CHARS = re.compile(r"[\\^$.|?*+()\[\]{}]")


def section_of(key: str) -> str:
    """The section a key belongs to: its prefix before the first ``/`` ("" for none)."""
    head, sep, _ = key.partition("/")
    return head if sep and head else ""


def section_order(name: str) -> tuple:
    """Unprefixed first, then prefixes in natural order, the system metrics last."""
    return (0 if name == "" else 2 if name == SYSTEM else 1, natural_key(name))


def group_keys(keys: list[str]) -> list[tuple[str, list[str]]]:
    """``[(section, keys in the given order), ...]`` in section order."""
    sections: dict[str, list[str]] = {}
    for key in keys:
        sections.setdefault(section_of(key), []).append(key)
    return sorted(sections.items(), key=lambda item: section_order(item[0]))


def key_matcher(text: str) -> tuple[Callable[[str], bool], str]:
    """``(matches(key), error)``. Text with regex characters is a case-insensitive regular
    expression searched in the key; other text is words that must all appear. An invalid
    expression gives an error message and matches as plain words."""
    text = text.strip()
    words = text.lower().split()

    def by_words(key: str) -> bool:
        lowered = key.lower()
        return all(word in lowered for word in words)

    if not _REGEX_CHARS.search(text):
        return by_words, ""
    try:
        pattern = re.compile(text, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError) as e:
        return by_words, f"Not a valid regular expression ({e}); matching the words instead"
    return (lambda key: pattern.search(key) is not None), ""


class ChartSection(QWidget):
    """A header button that folds the section, over a grid of chart slots."""

    toggled = Signal(str, bool)  # section name, collapsed

    def __init__(self, name: str, parent: QWidget | None = None, title: str = "") -> None:
        super().__init__(parent)
        self.name = name
        self.title = title or name or "Charts"
        self.setObjectName("chartSection")
        self.setAccessibleName(f"Section {self.title}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.header = QToolButton(self)
        self.header.setObjectName("chartSectionHeader")
        self.header.setCheckable(True)
        self.header.setChecked(True)  # checked: expanded
        self.header.setAutoRaise(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.header.setStyleSheet("QToolButton#chartSectionHeader { font-weight: 600; text-align: left; }")
        self.header.toggled.connect(self._on_toggled)
        self.body = QWidget(self)
        self.body.setObjectName("chartSectionBody")
        self.grid = QGridLayout(self.body)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(8)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.header)
        layout.addWidget(self.body)
        self.count = 0
        self._sync_header()

    @property
    def collapsed(self) -> bool:
        return not self.header.isChecked()

    def set_collapsed(self, collapsed: bool) -> None:
        """Fold or unfold without announcing it (restoring a saved layout)."""
        self.header.blockSignals(True)
        self.header.setChecked(not collapsed)
        self.header.blockSignals(False)
        self._sync_header()

    def set_count(self, count: int) -> None:
        self.count = count
        self._sync_header()

    def _sync_header(self) -> None:
        self.body.setVisible(not self.collapsed)
        arrow = Qt.ArrowType.RightArrow if self.collapsed else Qt.ArrowType.DownArrow
        self.header.setArrowType(arrow)
        label = self.title
        self.header.setText(f"{label}  ({self.count})")
        self.header.setToolTip(("Show" if self.collapsed else "Hide") + f" the charts of {label}")

    @Slot(bool)
    def _on_toggled(self, _checked: bool) -> None:
        self._sync_header()
        self.toggled.emit(self.name, self.collapsed)


__all__ = ["ChartSection", "group_keys", "key_matcher", "section_of", "section_order"]
