"""A run's description on the Overview (``descriptionPanel``): Markdown, rendered, and editable.

The description is MLflow's ``mlflow.note.content`` tag. It is rendered as Markdown in a text
browser that opens links in the desktop's browser and loads no images (a description is text
anyone with write access to the folder could have written: nothing is fetched because of it).
Edit turns it into a plain-text editor; Save writes the tag through the library (``RunEdits``).
A live update of the same run keeps an edit in progress.
"""
from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QUrl, Qt, Slot
from PySide6.QtGui import QFontDatabase, QTextDocument
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QTextBrowser, QVBoxLayout, QWidget,
)

from tracker.entities import Run, UnreadableRun

from app.details.run_edits import NOTE_TAG, RunEdits, editable
from app.shell import desktop
from app.shell.errors import override_failed

MAX_HEIGHT = 320  # a longer description scrolls inside its box
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]*)[^)]*\)")


def without_images(markdown: str) -> str:
    """Markdown images become links to them (named by their alt text): nothing is loaded to show them."""
    return _IMAGE.sub(lambda m: f"[image: {m.group(1) or 'untitled'}]({m.group(2)})", markdown)
_EXTERNAL = ("http", "https", "mailto")


class MarkdownView(QTextBrowser):
    """Markdown shown as its document's height, links handed to the desktop, images never loaded."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("descriptionView")
        self.setAccessibleName("Description")
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.viewport().setAutoFillBackground(False)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.anchorClicked.connect(self._on_link)
        self._markdown = ""

    def set_markdown(self, text: str) -> None:
        self._markdown = text
        self.document().setMarkdown(without_images(text), QTextDocument.MarkdownFeature.MarkdownDialectGitHub)
        self._fit()

    def markdown(self) -> str:
        return self._markdown

    def _fit(self) -> None:
        doc = self.document()
        doc.setTextWidth(max(50, self.viewport().width()))
        height = int(doc.size().height()) + 2 * self.frameWidth() + 2
        self.setFixedHeight(max(24, min(height, MAX_HEIGHT)))

    @Slot(QUrl)
    def _on_link(self, url: QUrl) -> None:
        if url.scheme().lower() in _EXTERNAL:  # (a relative or file: link opens nothing)
            desktop.open_url(url)

    def loadResource(self, kind: int, name: QUrl) -> object:
        try:  # no image or style sheet is loaded, local or remote
            return None
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("MarkdownView.loadResource")
            return None

    def resizeEvent(self, event) -> None:
        try:
            super().resizeEvent(event)
            if event.size().width() != event.oldSize().width():
                self._fit()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("MarkdownView.resizeEvent")

    def changeEvent(self, event: QEvent) -> None:
        try:
            super().changeEvent(event)
            if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
                self.set_markdown(self._markdown)  # links take the new theme's colour
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("MarkdownView.changeEvent")


class DescriptionPanel(QWidget):
    """``show_run(run)``; Edit, then Save or Cancel."""

    def __init__(self, edits: RunEdits, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("descriptionPanel")
        self._edits = edits
        self._run: Run | None = None
        heading = QLabel("DESCRIPTION", self)
        heading.setObjectName("panelHeading")
        self.edit_button = QPushButton("Edit", self)
        self.edit_button.setObjectName("editDescriptionButton")
        self.edit_button.setAccessibleName("Edit description")
        self.edit_button.setToolTip("Write this run's description (Markdown)")
        self.edit_button.clicked.connect(self.start_editing)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.edit_button)

        self.view = MarkdownView(self)
        self.empty = QLabel("No description. Edit to write one: Markdown, shown here.", self)
        self.empty.setObjectName("noDescription")
        self.empty.setProperty("muted", True)
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("descriptionEditor")
        self.editor.setAccessibleName("Description (Markdown)")
        self.editor.setPlaceholderText("What this run tried, what came of it… (Markdown)")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setFixedHeight(160)
        self.save_button = QPushButton("Save", self)
        self.save_button.setObjectName("saveDescriptionButton")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("cancelDescriptionButton")
        self.cancel_button.clicked.connect(self.cancel)
        edit_page = QWidget(self)
        edit_layout = QVBoxLayout(edit_page)
        edit_layout.setContentsMargins(0, 0, 0, 0)
        edit_layout.addWidget(self.editor)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        edit_layout.addLayout(buttons)
        self._edit_page = edit_page
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.setSpacing(2)
        layout.addLayout(top)
        for page in (self.view, self.empty, edit_page):  # one shown at a time, each its own height
            layout.addWidget(page)
        self._page: QWidget = self.empty
        self._set_page(self.empty)
        self._shown_text = ""

    def show_run(self, run: Run | UnreadableRun | None) -> None:
        same = isinstance(run, Run) and self._run is not None and run.info.run_id == self._run.info.run_id
        self._run = run if isinstance(run, Run) else None
        self.setVisible(self._run is not None)
        if self._run is None:
            return
        self.edit_button.setEnabled(editable(run))
        self._shown_text = run.info.description or run.data.tags.get(NOTE_TAG, "")
        if self.is_editing() and same:
            return  # a live update: the edit in progress stays
        self._show_text()

    def _show_text(self) -> None:
        self.view.set_markdown(self._shown_text)
        self._set_page(self.view if self._shown_text.strip() else self.empty)
        self.edit_button.show()

    def _set_page(self, page: QWidget) -> None:
        self._page = page
        for widget in (self.view, self.empty, self._edit_page):
            widget.setVisible(widget is page)

    def is_editing(self) -> bool:
        return self._page is self._edit_page

    @Slot()
    def start_editing(self) -> None:
        if self._run is None or not editable(self._run):
            return
        self.editor.setPlainText(self._shown_text)
        self._set_page(self._edit_page)
        self.edit_button.hide()
        self.editor.setFocus()

    @Slot()
    def save(self) -> None:
        run = self._run
        if run is None or not self.is_editing():
            return
        text = self.editor.toPlainText()
        if text.strip():
            self._edits.set_tag(run, NOTE_TAG, text)
        elif NOTE_TAG in run.data.tags:
            self._edits.delete_tag(run, NOTE_TAG)
        self._shown_text = text if text.strip() else ""  # shown now; the file's change confirms it
        self._show_text()

    @Slot()
    def cancel(self) -> None:
        self._show_text()
