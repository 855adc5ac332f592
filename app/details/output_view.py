"""The run page's Output tab (``outputView``): the run's console log as a terminal showed it.

The log is read and converted on a worker thread (``app/details/output_log.py``); the text is
inserted a slice per pass of the event loop, so a big log never holds the GUI thread. A big log
shows its tail first (Earlier pages back). While the run is RUNNING and the tab is shown, the log
is polled every ``POLL_MS`` and new lines appear at the bottom (the view follows the end when
it was at the end). The last line, still being written, is redrawn in place: a ``\\r`` progress
bar updates like a terminal's. Ctrl+F (in the tab) finds; Enter/F3 next, Shift+Enter/Shift+F3
previous.
"""
from __future__ import annotations

import time
from collections import deque

from PySide6.QtCore import QEvent, Qt, QTimer, Slot
from PySide6.QtGui import (
    QColor, QFont, QFontDatabase, QPalette, QTextCharFormat, QTextCursor,
)
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QStackedWidget, QVBoxLayout, QWidget,
)

from tracker.entities import Run, UnreadableRun

from app.common.formatting import format_size
from app.common.worker import Worker
from app.details import ansi, output_log
from app.details.find_bar import FindBar
from app.details.output_log import Chunk, Follow
from app.shell.errors import override_failed

POLL_MS = 300  # a running run's new lines show within this (plus a read)
SLICE_SECONDS = 0.012  # GUI time per pass spent inserting text
SLICE_CHARS = 64 * 1024
MAX_LINES = 200_000  # the view drops its oldest lines beyond this while following


class _Queued:
    """Text with style spans waiting to be inserted, taken a slice at a time."""

    def __init__(self, text: str, spans: list[int], styles: list[ansi.Style]) -> None:
        self.text, self.spans, self.styles = text, spans, styles
        self.rewind()

    def rewind(self) -> None:
        self.at = 0  # characters of text taken
        self.index = 0  # the span being taken
        self.into = 0  # characters of that span taken

    def done(self) -> bool:
        return self.index >= len(self.spans)

    def take(self, most: int) -> list[tuple[str, ansi.Style]]:
        """Up to ``most`` characters (at least one span's start), as (text, style) pieces."""
        out: list[tuple[str, ansi.Style]] = []
        spans = self.spans
        while most > 0 and self.index < len(spans):
            length, sid = spans[self.index], spans[self.index + 1]
            n = min(length - self.into, most)
            out.append((self.text[self.at:self.at + n], self.styles[sid] if sid < len(self.styles) else ansi.PLAIN))
            self.at += n
            self.into += n
            most -= n
            if self.into >= length:
                self.index += 2
                self.into = 0
        return out


class OutputView(QWidget):
    """``set_run(run)``; reads lazily: only while the tab is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outputView")
        self.setAccessibleName("Console output")
        self._run_path: str | None = None
        self._run_id: str | None = None
        self._running = False
        self._stale = False  # the shown run changed while the tab was hidden
        self._follow: Follow | None = None
        self._following = True  # the window is the log's end (not an earlier page)
        self._job = -1
        self._generation = 0
        self._size = 0
        self._queue: deque[_Queued] = deque()
        self._next_pending = _Queued("", [], [])
        self._pending_shown = False
        self._formats: dict[ansi.Style, QTextCharFormat] = {}
        self._worker = Worker("output-log", self)

        self.text = QPlainTextEdit(self)
        self.find_bar = FindBar(self.text, "output", self)
        self.find_bar.edit.setPlaceholderText("Find in output (Ctrl+F)")
        self.find_bar.edit.setAccessibleName("Find in output")
        # (the names tests and callers use)
        self.find_edit, self.find_status = self.find_bar.edit, self.find_bar.status
        self.next_button, self.previous_button = self.find_bar.next_button, self.find_bar.previous_button
        self.find_bar.notFound.connect(self._search_earlier)
        self._find_after_load = ""  # found in an earlier part of the log: find it once that part is shown
        self.find_next, self.find_previous, self.start_find = (self.find_bar.find_next, self.find_bar.find_previous,
                                                               self.find_bar.start)
        self.info = QLabel(self)
        self.info.setObjectName("outputInfo")
        self.info.setProperty("muted", True)
        self.earlier_button = QPushButton("Earlier", self)
        self.earlier_button.setObjectName("outputEarlier")
        self.earlier_button.setToolTip("Show the part of the log before this one")
        self.earlier_button.clicked.connect(self.show_earlier)
        self.latest_button = QPushButton("Latest", self)
        self.latest_button.setObjectName("outputLatest")
        self.latest_button.setToolTip("Show the end of the log and follow it")
        self.latest_button.clicked.connect(self.show_latest)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 4, 0, 0)
        bar.setSpacing(4)
        bar.addWidget(self.find_bar, 1)
        for widget in (self.info, self.earlier_button, self.latest_button):
            bar.addWidget(widget)

        self.text.setObjectName("outputText")
        self.text.setAccessibleName("Output")
        self.text.setReadOnly(True)
        self.text.setUndoRedoEnabled(False)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setMaximumBlockCount(MAX_LINES)
        self.empty = QLabel("No console output: the run printed nothing, or was started with capture_output=False",
                            self)
        self.empty.setObjectName("outputEmpty")
        self.empty.setProperty("muted", True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.text)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(POLL_MS)
        self._poll_timer.timeout.connect(self._poll)
        self._insert_timer = QTimer(self)
        self._insert_timer.setInterval(0)
        self._insert_timer.timeout.connect(self._insert_some)
        self._update_bar()

    # ---- the shown run ----------------------------------------------------------------------

    def set_run(self, run: Run | UnreadableRun | None) -> None:
        """Show ``run``'s log; the same run again (a live update) keeps what is shown."""
        path = run.path if isinstance(run, Run) else None
        run_id = run.info.run_id if isinstance(run, Run) else None
        self._running = isinstance(run, Run) and run.info.status == "RUNNING"
        if run_id is not None and run_id == self._run_id and path == self._run_path:
            if self.isVisible() and self._following:
                self._poll()  # the run changed: it may have printed, or ended
            self._update_timer()
            return
        self._run_id, self._run_path = run_id, path
        self._find_after_load = ""
        self._clear()
        self._stale = True
        if self.isVisible():
            self.load()
        self._update_timer()

    def load(self, start: int | None = None, end: int | None = None) -> None:
        """Read the log's window [start, end) (default: its tail, then follow it)."""
        self._stale = False
        self._clear()
        self._following = end is None
        if self._run_path is None:
            self._show_empty(True)
            return
        generation = self._generation
        self._job = self._worker.submit(output_log.open_window, self._run_path, start, end,
                                        on_done=lambda result: self._on_window(generation, result),
                                        on_error=lambda e: self._on_failed(generation, e))
        self._update_bar()

    def is_loading(self) -> bool:
        """Whether a read is under way or text is still to be inserted."""
        return self._worker.is_pending(self._job) or bool(self._queue) or self._insert_timer.isActive()

    def plain_text(self) -> str:
        return self.text.toPlainText()

    def follow_position(self) -> int:
        """The byte of the log read up to (0 before the first read)."""
        return self._follow.position if self._follow is not None else 0

    # ---- reading ------------------------------------------------------------------------------

    def _clear(self) -> None:
        self._generation += 1
        self._worker.cancel(self._job)
        self._follow = None
        self._queue.clear()
        self._next_pending = _Queued("", [], [])
        self._pending_shown = False
        self._insert_timer.stop()
        self.text.clear()
        self._size = 0

    def _on_window(self, generation: int, result: tuple[Follow, Chunk]) -> None:
        if generation != self._generation:
            return
        self._follow, chunk = result
        self._show_empty(not chunk.exists)
        self._take(chunk)
        self._update_timer()

    def _on_failed(self, generation: int, error: Exception) -> None:
        if generation == self._generation:
            self.info.setText(f"Cannot read the log: {getattr(error, 'strerror', None) or error}")

    @Slot()
    def _poll(self) -> None:
        if self._follow is None or not self._following or self._worker.is_pending(self._job):
            return  # (a run with no log yet is polled too: its log appears with its first byte)
        generation, follow = self._generation, self._follow
        self._job = self._worker.submit(output_log.poll, follow,
                                        on_done=lambda chunk: self._on_poll(generation, chunk),
                                        on_error=lambda e: self._on_failed(generation, e))

    def _on_poll(self, generation: int, chunk: Chunk) -> None:
        if generation != self._generation:
            return
        if chunk.reset:
            self.load()
            return
        if chunk.exists and self.stack.currentWidget() is self.empty:
            self._show_empty(False)
        pending = self._next_pending
        if chunk.text or chunk.pending != (pending.text, pending.spans):
            self._take(chunk)
        else:
            self._size = max(self._size, chunk.size)
            self._update_bar()

    def _take(self, chunk: Chunk) -> None:
        self._size = chunk.size
        if chunk.text:
            self._queue.append(_Queued(chunk.text, chunk.spans, chunk.styles))
        self._next_pending = _Queued(*chunk.pending, chunk.styles)
        self._insert_timer.start()
        self._update_bar()

    # ---- inserting, a slice per pass -------------------------------------------------------

    @Slot()
    def _insert_some(self) -> None:
        bar = self.text.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2 or not self._pending_shown
        started = time.perf_counter()
        cursor = QTextCursor(self.text.document())
        cursor.beginEditBlock()
        try:
            cursor.movePosition(QTextCursor.MoveOperation.End)
            if self._pending_shown:  # the last line is redrawn from what the terminal holds now
                cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock, QTextCursor.MoveMode.KeepAnchor)
                cursor.removeSelectedText()
                self._pending_shown = False
            inserted = 0
            while self._queue and inserted < SLICE_CHARS and time.perf_counter() - started < SLICE_SECONDS:
                queued = self._queue[0]
                for text, style in queued.take(min(4096, SLICE_CHARS - inserted)):  # (time checked per 4 K)
                    cursor.insertText(text, self._format(style))
                    inserted += len(text)
                if queued.done():
                    self._queue.popleft()
            if not self._queue:
                pending = self._next_pending
                for text, style in pending.take(len(pending.text)):
                    cursor.insertText(text, self._format(style))
                pending.rewind()  # (drawn again, whole, when the line changes)
                self._pending_shown = True
                self._insert_timer.stop()
        finally:
            cursor.endEditBlock()
        if self._find_after_load and not self._insert_timer.isActive():  # the part with the match is in
            text, self._find_after_load = self._find_after_load, ""
            self.find_bar.find_from_start()
            return
        if at_end and self._following:
            bar.setValue(bar.maximum())

    def _format(self, style: ansi.Style) -> QTextCharFormat:
        found = self._formats.get(style)
        if found is not None:
            return found
        fmt = QTextCharFormat()
        if style != ansi.PLAIN:
            fg_, bg_, bold, italic, underline, inverse, dim = style
            palette = self.text.palette()
            dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
            fg, bg = ansi.rgb(fg_, dark), ansi.rgb(bg_, dark)
            if inverse:
                fg, bg = (bg or palette.color(QPalette.ColorRole.Base).name(),
                          fg or palette.color(QPalette.ColorRole.Text).name())
            if dim and fg is None:
                fg = palette.color(QPalette.ColorRole.PlaceholderText).name()
            if fg is not None:
                fmt.setForeground(QColor(fg))
            if bg is not None:
                fmt.setBackground(QColor(bg))
            if bold:
                fmt.setFontWeight(QFont.Weight.Bold)
            fmt.setFontItalic(italic)
            fmt.setFontUnderline(underline)
        self._formats[style] = fmt
        return fmt

    # ---- paging ---------------------------------------------------------------------------------

    @Slot()
    def show_earlier(self) -> None:
        if self._follow is not None and self._follow.start > 0:
            end = self._follow.start
            self.load(max(0, end - output_log.TAIL_BYTES), end)

    @Slot(str)
    def _search_earlier(self, text: str) -> None:
        """Not in the part shown: look for it before (a big log's earlier pages), on the worker."""
        follow = self._follow
        if follow is None or follow.start <= 0 or self._run_path is None or self._worker.is_pending(self._job):
            return
        self.find_status.setText("Searching the whole log…")
        generation = self._generation
        self._job = self._worker.submit(output_log.find_before, self._run_path, text, follow.start,
                                        on_done=lambda at: self._on_found_earlier(generation, text, at),
                                        on_error=lambda e: self._on_failed(generation, e))

    def _on_found_earlier(self, generation: int, text: str, at: int | None) -> None:
        if generation != self._generation:
            return
        if at is None:
            self.find_status.setText("Not found in the whole log")
            return
        start = max(0, at - output_log.TAIL_BYTES // 2)
        self.load(start, min(max(self._size, at + len(text)), start + output_log.TAIL_BYTES))
        self._find_after_load = text

    @Slot()
    def show_latest(self) -> None:
        self.load()

    def _update_bar(self) -> None:
        follow = self._follow
        start = follow.start if follow is not None else 0
        shown = (follow.position - start) if follow is not None else 0
        if follow is None or (start == 0 and self._following):
            self.info.setText(format_size(self._size) if self._size else "")
        elif self._following:
            self.info.setText(f"Showing the last {format_size(shown)} of {format_size(self._size)}")
        else:
            self.info.setText(f"Showing {format_size(shown)} from byte {start:,} of {format_size(self._size)}")
        self.earlier_button.setVisible(follow is not None and start > 0)
        self.latest_button.setVisible(not self._following)

    def _show_empty(self, empty: bool) -> None:
        self.stack.setCurrentWidget(self.empty if empty else self.text)

    def _update_timer(self) -> None:
        if self.isVisible() and self._running and self._following:
            if not self._poll_timer.isActive():
                self._poll_timer.start()
        else:
            self._poll_timer.stop()

    # ---- Qt overrides (total: they never raise) -------------------------------------------------

    def showEvent(self, event) -> None:
        try:
            super().showEvent(event)
            if self._stale:
                self.load()
            elif self._following and self._follow is not None:
                self._poll()
            self._update_timer()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("OutputView.showEvent")

    def hideEvent(self, event) -> None:
        try:
            super().hideEvent(event)
            self._poll_timer.stop()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("OutputView.hideEvent")

    def changeEvent(self, event: QEvent) -> None:
        try:
            super().changeEvent(event)
            if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange) and self._formats:
                self._formats.clear()  # colours for the new theme: the log is drawn again with them
                if self._run_path is not None and self._following:
                    self._stale = not self.isVisible()
                    if self.isVisible():
                        self.load()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("OutputView.changeEvent")
