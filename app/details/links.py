"""``LinkLabel``: a label of in-app links coloured by the palette's Link role, in every theme.

A QLabel lays its rich text out once, with the link colour of the palette it had then; a theme
switched later (the app starts in the system look) keeps that colour, e.g. the system's
#0000ff on the dark theme's near-black. This label writes the current Link colour into each
anchor and writes it again whenever the palette or style changes.
"""
from __future__ import annotations

import re

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QWidget

from app.shell.errors import override_failed

_ANCHOR = re.compile(r"<a\s", re.IGNORECASE)


class LinkLabel(QLabel):
    """``LinkLabel('<a href="id">name</a> and more')``: ``linkActivated(href)`` on a click or
    Enter, never opening anything itself. ``html`` is trusted markup: escape what goes in it."""

    def __init__(self, html: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._html = ""
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.setOpenExternalLinks(False)
        self.set_html(html)

    def set_html(self, html: str) -> None:
        self._html = html
        self._render()

    def html(self) -> str:
        """The markup as given (``text()`` holds it with the link colour written in)."""
        return self._html

    def link_color(self) -> str:
        return self.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Link).name()

    def _render(self) -> None:
        self.setText(_ANCHOR.sub(f'<a style="color: {self.link_color()}" ', self._html))

    def changeEvent(self, event: QEvent) -> None:
        try:  # total, as every override (errors.override_failed)
            super().changeEvent(event)
            if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
                self._render()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("LinkLabel.changeEvent")
