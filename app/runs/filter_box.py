"""The runs filter box: the line (``runFilter``) that completes keys as they are typed, Escape to
clear it, a help button (``filterHelp``) with the grammar and examples, and under it the syntax
error (``filterError``) or a note naming keys that no shown run has (``filterNote``).

What the filter names (keys, notes, near misses) is worked out in ``filter_keys``, without Qt.
"""
from __future__ import annotations

import html
import weakref
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QPoint, QStringListModel, Qt, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCompleter, QFrame, QHBoxLayout, QLabel, QLineEdit, QToolButton, QVBoxLayout, QWidget,
)

from tracker.index import RunTable

from app.runs.filter_keys import (
    MIN_TOKEN, completion_keys, filter_names, missing_keys_note, nearest_name, parse_row_filter, token_at,
)
from app.runs.rows import RowFilter
from app.shell.errors import override_failed

PLACEHOLDER = "Filter runs: text, or an expression like metrics.accuracy > 0.9 and params.model = 'cnn'"

EXAMPLES = (
    ("metrics.accuracy > 0.9", "a metric above a value"),
    ("params.optimizer = 'adam' and metrics.loss < 0.5", "a param and a metric"),
    ("status = 'FAILED'", "an attribute: status, run_name, run_id, experiment, user, start_time, end_time"),
    ("tags.team IN ('vision', 'nlp')", "one of several values"),
    ("run_name LIKE 'resnet%'", "a pattern: % any text, _ one character; ILIKE ignores case"),
    ("(metrics.val_acc >= 0.8 or params.lr < 0.01) and not status = 'RUNNING'", "OR, NOT, parentheses"),
    ("metrics.`val/loss` < 0.3", "a key with spaces or symbols, in backquotes"),
    ("resnet prod", "plain words: runs whose name or tags contain every word"),
)


class FilterEdit(QLineEdit):
    """The filter line: Escape clears it; while the completer's list is open, the keys that
    choose from it are left to the completer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.completer_popup: QWidget | None = None

    def event(self, event: QEvent) -> bool:
        try:  # Tab would move the focus before keyPressEvent: with the list open, it completes
            if (event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)
                    and self.completer_popup is not None and self.completer_popup.isVisible()):
                event.ignore()
                return True
            return super().event(event)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("FilterEdit.event")
            return False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        try:
            popup = self.completer_popup
            if popup is not None and popup.isVisible() and event.key() in (
                    Qt.Key.Key_Enter, Qt.Key.Key_Return, Qt.Key.Key_Escape, Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
                event.ignore()
                return
            if event.key() == Qt.Key.Key_Escape and event.modifiers() == Qt.KeyboardModifier.NoModifier:
                if self.text():
                    self.clear()
                    event.accept()
                else:
                    event.ignore()  # nothing to clear: let a dialog or the window have it
                return
            super().keyPressEvent(event)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("FilterEdit.keyPressEvent")


class FilterBox(QWidget):
    """The filter line and its help button, in a row; ``messages`` (the error and the note) is a
    widget of its own, for the host to place under the row."""

    def __init__(self, model: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model  # a RunsTableModel: its table gives the keys
        # Tables are remembered weakly: a table is ~100 MB at 100,000 runs, and one kept here
        # after newer ones came stayed in memory as long as the user did not type again.
        self._keys_table: weakref.ref[RunTable] | None = None
        self._names_of: tuple[weakref.ref[RunTable], list[str]] | None = None  # (table, filter_names of it)
        self._checked: tuple[weakref.ref[RunTable], Any] | None = None  # (table, filter) the note was made for
        self._row_filter: RowFilter | None = None  # the filter in force, while it is not an error
        self._inserting = False

        self.edit = FilterEdit(self)
        self.edit.setObjectName("runFilter")
        self.edit.setAccessibleName("Filter runs")
        self.edit.setAccessibleDescription(
            "Plain text matches run names and tags; an expression uses the tracker filter grammar. "
            "Keys complete as they are typed; Escape clears the filter")
        self.edit.setPlaceholderText(PLACEHOLDER)
        self.edit.setClearButtonEnabled(True)

        self.help_button = QToolButton(self)
        self.help_button.setObjectName("filterHelp")
        self.help_button.setText("?")
        self.help_button.setAccessibleName("Filter help")
        self.help_button.setToolTip("Filter syntax and examples")
        self.help_button.clicked.connect(self.show_help)
        self._help: QFrame | None = None

        self.completer = QCompleter(QStringListModel(self), self)
        self.completer.setWidget(self.edit)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setMaxVisibleItems(12)
        self.completer.popup().setObjectName("filterCompletions")
        self.completer.popup().setAccessibleName("Filter key completions")
        self.edit.completer_popup = self.completer.popup()
        self.completer.activated[str].connect(self._insert_completion)
        self.edit.textEdited.connect(self._on_text_edited)

        self.messages = QWidget(parent)
        self.messages.setObjectName("filterMessages")
        self.error_label = QLabel(self.messages)
        self.error_label.setObjectName("filterError")
        self.error_label.setAccessibleName("Filter error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.note_label = QLabel(self.messages)
        self.note_label.setObjectName("filterNote")
        self.note_label.setAccessibleName("Filter note")
        self.note_label.setProperty("muted", True)
        self.note_label.setContentsMargins(2, 1, 2, 1)  # lined up with the error (common.qss pads it so)
        self.note_label.setWordWrap(True)
        self.note_label.setTextFormat(Qt.TextFormat.PlainText)
        self.note_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note_label.hide()
        column = QVBoxLayout(self.messages)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.error_label)
        column.addWidget(self.note_label)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.edit, 1)
        row.addWidget(self.help_button)
        self.setFocusProxy(self.edit)

        model.countsChanged.connect(self._on_model_changed)
        model.modelReset.connect(self._on_model_changed)

    # ---- what the filter did -----------------------------------------------------------

    def parse(self, experiment: str | None) -> RowFilter:
        """The box's text as a filter on ``experiment`` (``parse_row_filter``); FilterSyntaxError when bad."""
        return parse_row_filter(experiment, self.edit.text(), self._names())

    def _names(self) -> list[str]:
        table = self.model.table()
        if self._names_of is None or self._names_of[0]() is not table:  # a newer table: keys may have appeared
            self._names_of = (weakref.ref(table), filter_names(table))
        return self._names_of[1]

    def show_result(self, row_filter: RowFilter, error: Exception | None = None) -> None:
        """The filter in force, and the syntax error of the text when it is not that filter's."""
        invalid = error is not None
        if invalid:
            problem = getattr(error, "problem", str(error))
            near = nearest_name(error, self._names())
            self.error_label.setText(f"Position {getattr(error, 'position', 0)}: {problem}"
                                     + (f" — did you mean {near}?" if near else ""))
            self.error_label.setToolTip(str(error))
        self.error_label.setVisible(invalid)
        if bool(self.edit.property("invalid")) != invalid:
            self.edit.setProperty("invalid", invalid)
            self.edit.style().unpolish(self.edit)
            self.edit.style().polish(self.edit)
        self._row_filter = None if invalid else row_filter
        self._update_note()

    def error_text(self) -> str:
        return self.error_label.text() if self.error_label.isVisibleTo(self.messages) else ""

    def note_text(self) -> str:
        return self.note_label.text() if self.note_label.isVisibleTo(self.messages) else ""

    @Slot()
    def _on_model_changed(self) -> None:  # runs arrived or changed: keys may have appeared
        self._update_note()

    def _update_note(self) -> None:
        row_filter, table = self._row_filter, self.model.table()
        if row_filter is None or row_filter.expression is None:
            self._checked = None
            self.note_label.hide()
            return
        if self._checked is not None and self._checked[0]() is table and self._checked[1] is row_filter:
            return
        self._checked = (weakref.ref(table), row_filter)
        note = missing_keys_note(row_filter, table)
        self.note_label.setText(note)
        self.note_label.setVisible(bool(note))

    # ---- completing keys ---------------------------------------------------------------

    @Slot(str)
    def _on_text_edited(self, text: str) -> None:
        start, token = token_at(text, self.edit.cursorPosition())
        popup = self.completer.popup()
        if len(token) < MIN_TOKEN or self._inserting:
            popup.hide()
            return
        table = self.model.table()
        if self._keys_table is None or self._keys_table() is not table:  # a newer table: keys may have appeared
            self._keys_table = weakref.ref(table)
            self.completer.model().setStringList(completion_keys(table))
        self.completer.setCompletionPrefix(token)
        count = self.completer.completionCount()
        if count == 0 or (count == 1 and self.completer.currentCompletion().lower() == token.lower()):
            popup.hide()
            return
        # Enter or Tab takes the first key only where a key is surely meant (a prefix typed, or
        # more of an expression before it): a first word may be plain text to search for.
        keyish = "." in token or bool(text[:start].strip())
        popup.setCurrentIndex(self.completer.completionModel().index(0, 0) if keyish else QModelIndex())
        rect = self.edit.cursorRect()
        rect.moveLeft(self.edit.cursorRect().left() - self.edit.fontMetrics().horizontalAdvance(token))
        rect.setWidth(max(320, popup.sizeHintForColumn(0) + popup.verticalScrollBar().sizeHint().width() + 12))
        self.completer.complete(rect)

    @Slot(str)
    def _insert_completion(self, key: str) -> None:
        text, cursor = self.edit.text(), self.edit.cursorPosition()
        start, _ = token_at(text, cursor)
        end = cursor
        while end < len(text) and (text[end].isalnum() or text[end] in "_-/."):
            end += 1  # the rest of the word under the cursor goes too
        self._inserting = True  # an edit, so Ctrl+Z takes it back, but not one to complete again
        try:
            self.edit.setSelection(start, end - start)
            self.edit.insert(key)
        finally:
            self._inserting = False

    # ---- help --------------------------------------------------------------------------

    @Slot()
    def show_help(self) -> None:
        """The grammar with examples, in a popup under the button; an example clicked is used."""
        if self._help is None:
            self._help = _help_popup(self)
        popup = self._help
        popup.adjustSize()
        below = self.help_button.mapToGlobal(QPoint(self.help_button.width(), self.help_button.height() + 2))
        screen = self.screen().availableGeometry()
        x = max(screen.left(), min(below.x() - popup.width(), screen.right() - popup.width()))
        popup.move(x, below.y())
        popup.show()
        popup.findChild(QLabel, "filterHelpText").setFocus()  # Tab walks the examples, Enter uses one

    @Slot(str)
    def _use_example(self, link: str) -> None:
        if self._help is not None:
            self._help.hide()
        index = int(link.rpartition(":")[2]) if link.startswith("example:") else -1
        if 0 <= index < len(EXAMPLES):
            self.edit.setText(EXAMPLES[index][0])
            self.edit.setFocus()


def _help_popup(box: FilterBox) -> QFrame:
    popup = QFrame(box, Qt.WindowType.Popup)
    popup.setObjectName("filterHelpPopup")
    popup.setAccessibleName("Filter help")
    popup.setFrameShape(QFrame.Shape.StyledPanel)
    label = QLabel(popup)
    label.setObjectName("filterHelpText")
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setFixedWidth(520)
    label.setText(help_html())
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    label.linkActivated.connect(box._use_example)
    layout = QVBoxLayout(popup)
    layout.setContentsMargins(14, 10, 14, 12)
    layout.addWidget(label)
    return popup


def help_html() -> str:
    """The grammar, in short, with examples that link to using them."""
    rows = "".join(
        f"<tr><td style='padding:2px 12px 2px 0'><a href='example:{i}'><code>{html.escape(text)}</code></a></td>"
        f"<td style='padding:2px 0'>{html.escape(what)}</td></tr>" for i, (text, what) in enumerate(EXAMPLES))
    return (
        "<p style='margin-top:0'><b>Filter runs</b> by plain words, or by an expression over "
        "<code>metrics.</code>, <code>params.</code>, <code>tags.</code> and the attributes "
        "(<code>status</code>, <code>run_name</code>, <code>user</code>...). Keys complete as you type; "
        "Escape clears the filter.</p>"
        "<p>Compare with <code>= != &gt; &gt;= &lt; &lt;=</code>, <code>LIKE</code> / <code>ILIKE</code>, "
        "<code>IN (...)</code>, <code>NOT IN</code>, <code>NOT LIKE</code>; combine with <code>AND</code>, "
        "<code>OR</code>, <code>NOT</code> and parentheses. Strings take single quotes; numbers none.</p>"
        "<p>A run without the key never matches a comparison (<code>metrics.x != 1</code> skips it), "
        "but <code>NOT</code> is plain negation. Params compare as numbers when they are numbers.</p>"
        f"<p style='margin-bottom:2px'><b>Examples</b> (click one to use it)</p><table>{rows}</table>"
    )
