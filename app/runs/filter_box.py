"""The runs filter box: the line (``runFilter``) that completes keys as they are typed, Escape to
clear it, a help button (``filterHelp``) with the grammar and examples, and under it the syntax
error (``filterError``) or a note naming keys that no shown run has (``filterNote``).

The grammar is ``tracker.filter``'s; this only reads it (``parse_row_filter`` adds one rule of
the box's own: a prefix typed alone, such as ``metrics.``, is an expression being started).
"""
from __future__ import annotations

import difflib
import html
import re
from typing import Any, Iterable

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QStringListModel, Qt, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCompleter, QFrame, QHBoxLayout, QLabel, QLineEdit, QToolButton, QVBoxLayout, QWidget,
)

from tracker.filter import FilterSyntaxError, is_filter_expression, parse_filter
from tracker.filter_ast import ATTRIBUTES, BoolOp, Compare, Not
from tracker.index import RunTable

from app.runs.rows import RowFilter
from app.shell.errors import override_failed

PLACEHOLDER = "Filter runs: text, or an expression like metrics.accuracy > 0.9 and params.model = 'cnn'"
PREFIXES = {"metric": "metrics.", "param": "params.", "tag": "tags."}
MIN_TOKEN = 2  # characters typed before keys are offered (one letter matches nearly every key)
_KEYWORDS = {"and", "or", "not", "like", "ilike", "in"}
_COMPARISON = re.compile(r"[=<>]")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")

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


def parse_row_filter(experiment: str | None, text: str, names: list[str] | None = None) -> RowFilter:
    """``RowFilter(experiment, text)``, except for two kinds of text that are expressions gone
    wrong rather than words to search for; they raise the parser's error, so the last good filter
    stays: text that one more key character makes an expression (``metrics.``, ``(tags.``: a
    key being typed), and, given ``names`` (the keys and attributes a filter can name), text
    with a comparison whose key is a near miss of one (``metrcs.acc > 0.9``, ``stauts = 'FAILED'``)."""
    if not is_filter_expression(text):
        if is_filter_expression(text + "x"):
            parse_filter(text)  # raises FilterSyntaxError ("expected a key after 'metrics.'")
        if names and _COMPARISON.search(_QUOTED.sub("", text)):
            try:
                parse_filter(text)
            except FilterSyntaxError as e:
                if nearest_name(e, names):
                    raise
    return RowFilter(experiment, text)


def quoted_key(prefix: str, key: str) -> str:
    """``prefix`` + ``key`` as the grammar reads it: backquoted when the key has characters a bare
    key cannot hold (keys are letters, digits and ``_-/.``)."""
    if key and all(c.isalnum() or c in "_-/." for c in key) and not key.endswith("."):
        return prefix + key
    if "`" not in key:
        return f"{prefix}`{key}`"
    return prefix + '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fields(node: Any) -> Iterable[tuple[str, str]]:
    """The (kind, key) of every metric, param and tag the expression compares."""
    if isinstance(node, BoolOp):
        for child in node.children:
            yield from _fields(child)
    elif isinstance(node, Not):
        yield from _fields(node.child)
    elif isinstance(node, Compare) and node.field.kind in PREFIXES:
        yield node.field.kind, node.field.key


def _columns(table: RunTable, kind: str) -> dict:
    return {"metric": table.metrics, "param": table.params, "tag": table.tags}[kind]


def _has(column: Any, rows: np.ndarray) -> bool:
    present = column.present if isinstance(column.present, np.ndarray) else column.present()
    return bool(present[rows].any())


def missing_keys_note(row_filter: RowFilter, table: RunTable) -> str:
    """What to say about the keys ``row_filter`` compares that no run shown (the experiment's
    runs, before the expression) has, with the nearest key they do have; "" when all are there."""
    ast = row_filter.expression.ast if row_filter.expression is not None else None
    wanted = list(dict.fromkeys(_fields(ast)))
    if not wanted:
        return ""
    rows = RowFilter(row_filter.experiment).select(table)
    missing = [(kind, key) for kind, key in wanted
               if (column := _columns(table, kind).get(key)) is None or not _has(column, rows)]
    if not missing:
        return ""
    known = {quoted_key(prefix, key): key for kind, prefix in PREFIXES.items()
             for key, column in _columns(table, kind).items() if _has(column, rows)}
    where = "no run" if row_filter.experiment is None else f"no run in {row_filter.experiment}"
    notes = []
    for kind, key in missing:
        name = quoted_key(PREFIXES[kind], key)
        same_key = [k for k, bare in known.items() if bare == key]  # metrics.lr when lr is a param
        near = same_key or difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        notes.append(f"{where} has {name}" + (f" — did you mean {near[0]}?" if near else ""))
    return "; ".join(notes)


def completion_keys(table: RunTable) -> list[str]:
    """Every key a filter can name: the table's params, metrics and tags, and the attributes."""
    keys = [quoted_key(prefix, key) for kind, prefix in PREFIXES.items()
            for key in sorted(_columns(table, kind), key=str.lower)]
    return keys + [f"attributes.{name}" for name in sorted(ATTRIBUTES)]


def filter_names(table: RunTable) -> list[str]:
    """The keys (``metrics.acc``...) and attributes (``attributes.status`` and ``status``) a filter can name."""
    return completion_keys(table) + sorted(ATTRIBUTES)


def nearest_name(error: Exception, names: list[str]) -> str:
    """Of ``names``, the one nearest to a misspelt key the parser stopped at (``metrcs.acc``,
    ``stauts``), or ""."""
    text, start = getattr(error, "text", ""), getattr(error, "position", -1)
    end = start
    while 0 <= end < len(text) and (text[end].isalnum() or text[end] in "_-/."):
        end += 1
    word = text[start:end] if start >= 0 else ""
    if len(word) < MIN_TOKEN or word.lower() in _KEYWORDS:
        return ""
    near = difflib.get_close_matches(word, names, n=1, cutoff=0.75)
    return near[0] if near and near[0] != word else ""


def token_at(text: str, cursor: int) -> tuple[int, str]:
    """(start, text) of the key being typed before ``cursor``; "" inside a quoted string."""
    quote = None
    for c in text[:cursor]:  # escapes inside strings cannot close them, so a plain scan will do
        if quote is None and c in "'\"`":
            quote = c
        elif c == quote:
            quote = None
    if quote is not None:
        return cursor, ""
    start = cursor
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_-/."):
        start -= 1
    return start, text[start:cursor]


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
        self._keys_table: RunTable | None = None
        self._names_of: tuple[RunTable, list[str]] | None = None  # (table, filter_names of it)
        self._checked: tuple[Any, Any] | None = None  # (table, filter) the note was made for
        self._row_filter: RowFilter | None = None  # the filter in force, while it is not an error

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
        if self._names_of is None or self._names_of[0] is not table:  # a newer table: keys may have appeared
            self._names_of = (table, filter_names(table))
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
        if self._checked is not None and self._checked[0] is table and self._checked[1] is row_filter:
            return
        self._checked = (table, row_filter)
        note = missing_keys_note(row_filter, table)
        self.note_label.setText(note)
        self.note_label.setVisible(bool(note))

    # ---- completing keys ---------------------------------------------------------------

    @Slot(str)
    def _on_text_edited(self, text: str) -> None:
        start, token = token_at(text, self.edit.cursorPosition())
        popup = self.completer.popup()
        if len(token) < MIN_TOKEN:
            popup.hide()
            return
        table = self.model.table()
        if table is not self._keys_table:  # a newer table: keys may have appeared since
            self._keys_table = table
            self.completer.model().setStringList(completion_keys(table))
        self.completer.setCompletionPrefix(token)
        count = self.completer.completionCount()
        if count == 0 or (count == 1 and self.completer.currentCompletion().lower() == token.lower()):
            popup.hide()
            return
        popup.setCurrentIndex(self.completer.completionModel().index(0, 0))
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
        self.edit.setText(text[:start] + key + text[end:])
        self.edit.setCursorPosition(start + len(key))

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
