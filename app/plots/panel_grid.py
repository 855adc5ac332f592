"""The charts' grid: one slot per metric key, in collapsible sections by prefix, built lazily.

Charts are created when their slot scrolls into view (a pyqtgraph PlotWidget takes about
20 ms to build; runs can log hundreds of keys), and only then are their series read. A
folded section builds none of its charts.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QByteArray, QMimeData, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QVBoxLayout, QWidget

from app.shell.errors import override_failed

from tracker.entities import Run

from .chart import MetricChart
from .sections import ChartSection, group_keys, key_matcher

CHART_HEIGHT = 250  # the smallest; with few charts they grow to fill the area
MAX_CHART_HEIGHT = 460
MIN_CHART_WIDTH = 360
MAX_COLUMNS = 4
PRELOAD_SCREENS = 1.0  # build charts up to one screen beyond the visible area
PINNED = "\x00pinned"  # the section of pinned charts (no key prefix can be this)
CHART_MIME = "application/x-tracker-chart-key"
ALONE = "\x00maximised"  # the section of a maximised chart, shown alone


class ChartSlot(QFrame):
    """A grid cell: a placeholder of the chart's size until the chart is built; a drag
    handle in its corner, and a drop onto it puts the dragged chart before this one."""

    dropped = Signal(str, str)  # the dragged chart's key, this chart's key

    def __init__(self, key: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.key = key
        self.chart: MetricChart | None = None
        self.setFixedHeight(CHART_HEIGHT)
        self.setMinimumWidth(200)
        self.setAcceptDrops(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel(key, self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setEnabled(False)
        layout.addWidget(self.placeholder)
        self.handle = DragHandle(key, self)
        self.handle.move(4, 4)

    # Every override is total (errors.override_failed): PySide6 segfaults when one raises.

    def dragEnterEvent(self, event) -> None:
        try:
            if event.mimeData().hasFormat(CHART_MIME):
                event.acceptProposedAction()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ChartSlot.dragEnterEvent")

    def dragMoveEvent(self, event) -> None:
        try:
            if event.mimeData().hasFormat(CHART_MIME):
                event.acceptProposedAction()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ChartSlot.dragMoveEvent")

    def dropEvent(self, event) -> None:
        try:
            data = event.mimeData()
            if not data.hasFormat(CHART_MIME):
                return
            key = bytes(data.data(CHART_MIME)).decode("utf-8", "replace")
            event.acceptProposedAction()
            if key != self.key:
                self.dropped.emit(key, self.key)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ChartSlot.dropEvent")


class DragHandle(QLabel):
    """Drag it onto another chart to put this chart before that one."""

    def __init__(self, key: str, parent: QWidget) -> None:
        super().__init__("⠿", parent)
        self.key = key
        self.setObjectName("chartDragHandle")
        self.setToolTip("Drag onto another chart to move this one there")
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setStyleSheet("QLabel#chartDragHandle { color: palette(placeholder-text); padding: 0 3px; }")
        self._press: QPoint | None = None

    def mimeData(self) -> QMimeData:
        data = QMimeData()
        data.setData(CHART_MIME, QByteArray(self.key.encode("utf-8")))
        return data

    def mousePressEvent(self, event) -> None:
        try:
            self._press = event.position().toPoint()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("DragHandle.mousePressEvent")

    def mouseMoveEvent(self, event) -> None:
        try:
            if self._press is None:
                return
            if (event.position().toPoint() - self._press).manhattanLength() < QApplication.startDragDistance():
                return
            self._press = None
            drag = QDrag(self)
            drag.setMimeData(self.mimeData())
            drag.exec(Qt.DropAction.MoveAction)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("DragHandle.mouseMoveEvent")


class ChartGrid:
    """Keys, slots, sections and lazy building for ``MetricPlotPanel``; expects its
    ``_runs``, ``_slots``, ``_sections``, ``layout_state``, ``sections_box`` and the rest
    set up in the panel's constructor."""

    def _all_keys(self) -> set[str]:
        return {key for run in self._runs.values() for key in run.data.metrics}

    def _sync_keys(self) -> None:
        keys = self.keys()
        self.controls.set_x_metrics(keys)
        for key in [k for k in self._slots if k not in keys]:
            slot = self._slots.pop(key)
            if slot.chart is not None:
                self.queue.discard(slot.chart)
            # Hidden, and deleted by Qt later with its parent still set: a parentless widget
            # would be Python's to delete, at whatever moment garbage collection runs.
            slot.hide()
            slot.deleteLater()
            for rid in self._runs:
                self.manager.drop(rid, key)
        for key in keys:
            if key not in self._slots:
                slot = self._slots[key] = ChartSlot(key, self.grid_widget)
                slot.dropped.connect(self.move_chart)
        for slot in self._slots.values():
            if slot.chart is not None:
                self._attach_runs(slot.chart)
        self._relayout(force=True)

    def _sync_names(self, runs: list[Run]) -> None:
        for slot in self._slots.values():
            if slot.chart is not None:
                for run in runs:
                    if run.info.run_id in slot.chart.runs:
                        slot.chart.ensure_run(run.info.run_id, run.info.run_name, run.info.start_time)

    def _attach_runs(self, chart: MetricChart) -> None:
        """Curves for exactly the displayed runs that log this key; load what is missing."""
        for rid in [rid for rid in chart.run_ids() if rid not in self._runs
                    or chart.key not in self._runs[rid].data.metrics]:
            chart.remove_run(rid)
            self.manager.drop(rid, chart.key)
        for rid, run in self._runs.items():
            if chart.key in run.data.metrics:
                chart.ensure_run(rid, run.info.run_name, run.info.start_time)
                chart.set_run_visible(rid, rid not in self._hidden)
                self.manager.want(rid, chart.key)
        self._chart_runs_changed(chart)

    def _chart_runs_changed(self, chart: MetricChart) -> None:
        """Hook: the panel refreshes what depends on the chart's runs (grouping)."""

    @Slot(str, str)
    def move_chart(self, key: str, before: str) -> None:
        """Put chart ``key`` just before chart ``before`` (a drag); kept per experiment."""
        keys = self.layout_state.arrange(self.keys())
        if key not in keys or before not in keys or key == before:
            return
        keys.remove(key)
        keys.insert(keys.index(before), key)
        self.layout_state.order = keys
        self.layout_state.save()
        self._relayout(force=True)

    # -- sections --------------------------------------------------------------------------
    def section_names(self) -> list[str]:
        """The sections shown, top to bottom ("" is the unprefixed one; pinned charts first)."""
        return [name for name, _ in self._arranged]

    def section(self, name: str) -> ChartSection:
        return self._sections[name]

    def _section_widget(self, name: str) -> ChartSection:
        section = self._sections.get(name)
        if section is None:
            title = "Pinned" if name == PINNED else ""
            section = self._sections[name] = ChartSection(name, self.grid_widget, title)
            section.toggled.connect(self._on_section_toggled)
        section.set_collapsed(name in self.layout_state.collapsed and name != ALONE)
        return section

    @Slot(str, bool)
    def _on_section_toggled(self, name: str, collapsed: bool) -> None:
        (self.layout_state.collapsed.add if collapsed else self.layout_state.collapsed.discard)(name)
        self.layout_state.save()
        self._relayout(force=True)

    def _arrange(self, order: list[str]) -> list[tuple[str, list[str]]]:
        pinned = [k for k in self.layout_state.pinned if k in order]
        rest = [k for k in order if k not in set(pinned)]
        sections = group_keys(rest)
        return ([(PINNED, pinned)] if pinned else []) + sections

    # -- layout ------------------------------------------------------------------------------
    def _relayout(self, force: bool = False) -> None:
        viewport = self.scroll.viewport()
        matches, error = key_matcher(self._filter)
        self.filter_error.setText(error)
        self.filter_error.setVisible(bool(error))
        order = [k for k in self.layout_state.arrange(self.keys()) if matches(k)]
        if self._maximised is not None and self._maximised not in self._slots:
            self.restore()
            return
        if self._maximised is not None:
            order = [self._maximised]
            arranged, columns, headers = [(ALONE, order)], 1, False
            height = max(CHART_HEIGHT, viewport.height() - 4)
        else:
            arranged = self._arrange(order)
            order = [k for _, keys in arranged for k in keys]  # as shown: pinned first, by section
            columns = max(1, min(MAX_COLUMNS, max((len(k) for _, k in arranged), default=1),
                                 viewport.width() // MIN_CHART_WIDTH))
            headers = len(arranged) > 1 or (arranged and arranged[0][0] != "")
            rows = sum(math.ceil(len(k) / columns) for n, k in arranged if n not in self.layout_state.collapsed)
            rows = max(1, rows)
            header_space = (30 * len(arranged)) if headers else 0
            fill = (viewport.height() - header_space - 8 * (rows - 1)) // rows
            height = max(CHART_HEIGHT, min(MAX_CHART_HEIGHT, fill))
        state = (columns, order, height, tuple((n, n in self.layout_state.collapsed) for n, _ in arranged))
        if not force and state == self._layout_key:
            return
        self._layout_key = state
        self._columns, self._order, self._row_height, self._arranged = columns, order, height, arranged
        while self.sections_box.count():
            self.sections_box.takeAt(0)
        for section in self._sections.values():
            while section.grid.count():
                section.grid.takeAt(0)
            section.hide()
        shown = set()
        for name, keys in arranged:
            section = self._section_widget(name)
            section.header.setVisible(bool(headers))
            section.set_count(len(keys))
            self.sections_box.addWidget(section)
            section.show()
            for i, key in enumerate(keys):
                slot = self._slots[key]
                if slot.parentWidget() is not section.body:
                    slot.setParent(section.body)
                section.grid.addWidget(slot, i // columns, i % columns)
                shown.add(key)
            for c in range(MAX_COLUMNS):
                section.grid.setColumnStretch(c, 1 if c < columns else 0)
        self.sections_box.addStretch(1)
        for key, slot in self._slots.items():
            slot.setVisible(key in shown)
            slot.setFixedHeight(height)
        self._update_message()
        self._schedule_build()

    def _update_message(self) -> None:
        total = len(self._slots)
        if not self._runs:
            text = "Select runs to plot their metrics."
        elif not total:
            text = "The selected runs have not logged any metrics."
        elif not self._order:
            text = f"No metric matches “{self._filter}”."
        else:
            text = ""
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message if text else self.scroll)
        n = len(self._runs)
        shown = (f"{len(self._order)} of {total} metrics" if self._filter.strip()
                 else f"{total} metric{'s' if total != 1 else ''}")
        runs = f"{n} run{'s' if n != 1 else ''}" if self._selected <= n else f"first {n} of {self._selected:,} runs"
        self.controls.summary.setText(f"{runs} · {shown}" if n else "")

    # -- lazy building -----------------------------------------------------------------------
    @Slot()
    def _schedule_build(self) -> None:
        self._build_timer.start()

    @Slot()
    def _build_visible(self) -> None:
        if not self.isVisible() or not self._order:
            return
        viewport = self.scroll.viewport()
        top = self.scroll.verticalScrollBar().value()
        margin = int(viewport.height() * PRELOAD_SCREENS)
        lo, hi = top - margin, top + viewport.height() + margin
        for key in self._order:
            slot = self._slots[key]
            if slot.chart is not None or not slot.isVisibleTo(self.grid_widget):
                continue  # built, or in a folded section
            y = slot.mapTo(self.grid_widget, QPoint(0, 0)).y()
            if y + slot.height() >= lo and y <= hi:
                self._build(slot)

    def _build(self, slot: ChartSlot) -> MetricChart:
        if slot.chart is not None:
            return slot.chart
        for rid, run in self._runs.items():  # start reading before the chart is built (~30 ms)
            if slot.key in run.data.metrics:
                self.manager.want(rid, slot.key)
        chart = MetricChart(slot.key, slot, self.queue)
        chart.apply_palette(self.palette())
        chart.apply_settings(self.settings_for(slot.key))
        chart.hovered.connect(self._on_chart_hovered)
        chart.hover_left.connect(self._on_chart_left)
        chart.menu_requested.connect(self._on_chart_menu)
        slot.placeholder.hide()
        slot.layout().addWidget(chart)
        slot.handle.raise_()
        slot.chart = chart
        self._chart_built(chart)
        self._attach_runs(chart)
        return chart

    def _chart_built(self, chart: MetricChart) -> None:
        """Hook: the panel sets up what else a new chart needs."""
