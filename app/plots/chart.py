"""One chart: one metric key, one curve item (plus a smoothed one) per run, updated in place.

Each curve is a ``RunCurve`` (curve.py): a pyqtgraph ``PlotCurveItem`` given the full
series, which clips to the view and draws min/max per pixel column itself at paint time.
pyqtgraph's ``PlotDataItem`` with the PlotItem's peak downsampling and clip-to-view did
the same work through its per-item data pipeline, 0.6 ms per curve on every repaint.

When every run it shows has one point, the chart is a bar chart instead (bars.py): one
bar per run, names on the left axis, the value axis at the bottom. A run with one point
among runs with many is a marker on its line (curve.py).

The chart follows its data (x and y ranges from bounds computed on the worker) until the
user pans or zooms; pyqtgraph's own auto-range is off: it would ask every curve for its
bounds on each range change, and knows nothing of "ignore outliers".
"""
from __future__ import annotations

import html
import time
from contextlib import contextmanager

import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QToolButton

from app.shell.errors import override_failed
from app.runs.colors import color_for

from .axes import ChartColors, axis_label, ValueAxis, make_bottom_axis
from .bars import CategoryAxis, RunBars
from .curve import RunCurve
from .group_layer import GroupLayer
from .nonfinite import NonFiniteMarks
from .chart_range import RangeMixin
from .readout import CrosshairMixin
from .updates import UpdateQueue
from .series_math import X_STEP, PlotSettings, Prepared

MAX_LEGEND_RUNS = 8  # exported images name up to this many runs in a legend inside the chart
ANTIALIAS_MAX_POINTS = 5_000  # smooth lines for short series; long ones stay on the fast path


class _RunCurves:
    __slots__ = ("run_id", "name", "start_ms", "raw", "smooth", "prepared", "drawn", "style", "visible")

    def __init__(self, run_id: str, name: str, start_ms: int) -> None:
        self.run_id = run_id
        self.name = name
        self.start_ms = start_ms
        self.raw: RunCurve | None = None  # created once (empty, then set_series), on the queue
        self.smooth: RunCurve | None = None  # created the first time smoothing is on
        self.prepared: Prepared | None = None  # the newest data
        self.drawn: Prepared | None = None  # the data the curves hold
        self.style: tuple | None = None  # what _style last applied
        self.visible = True


class MetricChart(RangeMixin, CrosshairMixin, pg.PlotWidget):
    """The chart of one metric key. The panel owns data and settings; this draws them."""

    hovered = Signal(float)  # x under the mouse, in data units
    hover_left = Signal()
    menu_requested = Signal(QPoint)  # global position for the chart's menu

    def __init__(self, key: str, parent=None, queue: UpdateQueue | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName("metricChart")
        self.setAccessibleName(f"Chart of {key}")
        self.settings = PlotSettings()
        self.runs: dict[str, _RunCurves] = {}
        self._queue = queue
        self._pending: dict[str, None] = {}  # run ids whose curves need creating or new data
        self.follow = True  # ranges follow the data until the user pans or zooms
        self.bar_mode = False  # every run shown has one point: bars, not lines
        self.bars = RunBars()
        self.groups = GroupLayer(self)  # one line and band per group instead of the runs' curves
        self._range: tuple | None = None
        self.y_range: tuple[float, float] | None = None  # set for this chart (its "..." menu)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.vb.setMenuEnabled(False)
        item.vb.disableAutoRange()
        item.vb.sigRangeChangedManually.connect(self._on_manual_range)
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.12)
        item.setAxisItems({"bottom": make_bottom_axis(X_STEP), "left": ValueAxis("left")})
        # On screen the panel's legend names the runs; exports get this one (export_legend).
        self.legend = pg.LegendItem(offset=(-6, 6), labelTextSize="8pt", verSpacing=-6)
        self.legend.setParentItem(item.vb)
        self.legend.setVisible(False)
        self._vline = pg.InfiniteLine(angle=90, movable=False)
        self._vline.setVisible(False)
        item.addItem(self._vline, ignoreBounds=True)
        self._markers = pg.ScatterPlotItem(size=7, pxMode=True)
        self._markers.setZValue(10)
        item.addItem(self._markers, ignoreBounds=True)
        self.nonfinite = NonFiniteMarks()  # NaN and infinities, at the view's edges
        item.addItem(self.nonfinite, ignoreBounds=True)
        self.nonfinite.attach(item.vb)
        self.readout = QLabel(self)
        self.readout.setObjectName("chartReadout")
        self.readout.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.hide()
        self.menu_button = QToolButton(self)
        self.menu_button.setObjectName("chartMenuButton")
        self.menu_button.setText("⋯")
        self.menu_button.setAutoRaise(True)
        self.menu_button.setToolTip("Export and zoom")
        self.menu_button.setAccessibleName(f"{key} chart menu")
        self.menu_button.clicked.connect(self._on_menu_button)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.apply_palette(self.palette())

    # -- runs and data -----------------------------------------------------------------
    def run_ids(self) -> list[str]:
        return list(self.runs)

    def ensure_run(self, run_id: str, name: str, start_ms: int = 0) -> None:
        """The run gets a curve (created on the update queue, then only updated)."""
        curves = self.runs.get(run_id)
        if curves is None:
            self.runs[run_id] = _RunCurves(run_id, name, start_ms)
            self._mark(run_id)
            return
        curves.start_ms = start_ms
        curves.name = name

    def remove_run(self, run_id: str) -> None:
        curves = self.runs.pop(run_id, None)
        if curves is None:
            return
        item = self.getPlotItem()
        for curve in (curves.raw, curves.smooth):
            if curve is not None:
                item.removeItem(curve)
        self._mark(run_id)

    def set_series(self, run_id: str, prepared: Prepared) -> None:
        curves = self.runs.get(run_id)
        if curves is not None:
            curves.prepared = prepared
            self._mark(run_id)

    def _mark(self, run_id: str) -> None:
        self._pending[run_id] = None
        if self._queue is None:
            self.apply_pending()
            return
        if len(self._pending) > 1 and self.updatesEnabled():
            # A batch (a selection, a settings change): paint once when it is all in, not
            # after every slice (a 100-curve repaint costs more than a slice).
            self.setUpdatesEnabled(False)
        self._queue.add(self)

    @property
    def settled(self) -> bool:
        """No curve work waiting on the update queue."""
        return not self._pending

    def apply_pending(self, deadline: float | None = None) -> bool:
        """Create curves and hand them new data, until ``deadline``; True when all done."""
        while self._pending:
            if deadline is not None and time.perf_counter() > deadline:
                return False
            run_id = next(iter(self._pending))
            del self._pending[run_id]
            curves = self.runs.get(run_id)
            if curves is not None:
                self._draw(curves)
        self._update_mode()
        self.groups.refresh()
        self.update_range()
        self.nonfinite.refresh(self.runs.values())
        if not self.updatesEnabled():
            self.setUpdatesEnabled(True)
        return True

    def _draw(self, curves: _RunCurves) -> None:
        if curves.raw is None:
            curves.raw = self._new_curve(z=1, visible=self._shows_curves(curves))
        p = curves.prepared
        if p is not None and p is not curves.drawn:
            curves.drawn = p
            antialias = len(p) <= ANTIALIAS_MAX_POINTS
            curves.raw.opts["antialias"] = antialias
            curves.raw.set_series(p.x, p.y_draw, p.connect, gaps=p.y)
            if p.smoothed_draw is not None and len(p) > 1:  # one point: its marker, unsmoothed
                if curves.smooth is None:
                    curves.smooth = self._new_curve(z=2, visible=self._shows_curves(curves))
                curves.smooth.opts["antialias"] = antialias
                curves.smooth.set_series(p.x, p.smoothed_draw, p.smoothed_connect, gaps=p.smoothed)
            elif curves.smooth is not None and curves.smooth.xData is not None:
                curves.smooth.clear_series()
        self._style(curves)

    def _new_curve(self, z: int, visible: bool) -> RunCurve:
        curve = RunCurve()
        curve.setZValue(z)
        curve.setVisible(visible)
        self.getPlotItem().addItem(curve)
        return curve

    def _shows_curves(self, curves: _RunCurves) -> bool:
        return curves.visible and not self.bar_mode and not self.groups.active

    # -- bars or lines -----------------------------------------------------------------------
    def _update_mode(self) -> None:
        """Bars when every run with data has exactly one point; lines otherwise."""
        loaded = [c.drawn for c in self.runs.values() if c.drawn is not None and len(c.drawn)]
        bar = bool(loaded) and all(len(p) == 1 for p in loaded)
        if bar != self.bar_mode:
            self.bar_mode = bar
            item = self.getPlotItem()
            for part in (self.bars.item, self.bars.labels):
                if bar:
                    item.addItem(part, ignoreBounds=part is self.bars.labels)
                else:
                    item.removeItem(part)
            for curves in self.runs.values():
                for curve in (curves.raw, curves.smooth):
                    if curve is not None:
                        curve.setVisible(self._shows_curves(curves))
            self.hide_crosshair()
            self._set_axes()
            self.follow = True
        if bar:
            shown = [(c.run_id, c.name, c.drawn) for c in self.runs.values()
                     if c.visible and c.drawn is not None and len(c.drawn)]
            names = self.bars.set_runs(shown, self.settings.log_y)
            self.getPlotItem().getAxis("left").set_names(names)

    def _set_axes(self) -> None:
        """Lines: values on the left, steps or time at the bottom. Bars: run names on the
        left, values at the bottom."""
        item = self.getPlotItem()
        if self.bar_mode:
            value = ValueAxis("bottom")
            item.setAxisItems({"left": CategoryAxis(), "bottom": value})
        else:
            value = ValueAxis("left")
            item.setAxisItems({"left": value, "bottom": make_bottom_axis(self.settings.x_axis)})
        value.setLogMode(self.settings.log_y)
        item.updateGrid()  # new axes draw no grid until told
        if self.bar_mode:
            item.getAxis("left").setGrid(False)  # a line through every bar would only add noise
        self._color_axes()

    def apply_settings(self, settings: PlotSettings) -> None:
        """Axis, log scale and styles; the data itself comes back through ``set_series``."""
        old = self.settings
        self.settings = settings
        item = self.getPlotItem()
        if old.x_axis != settings.x_axis:
            if not self.bar_mode:
                item.setAxisItems({"bottom": make_bottom_axis(settings.x_axis)})
                item.updateGrid()
                self._color_axes()
            self.follow = True
        if old.log_y != settings.log_y:
            item.setLogMode(False, settings.log_y)
            if self.bar_mode:  # pyqtgraph's log modes follow x and y; the values are along x here
                item.getAxis("bottom").setLogMode(settings.log_y)
                item.getAxis("left").setLogMode(False)
            self.follow = True
        if old.ignore_outliers != settings.ignore_outliers:
            self.follow = True
        for curves in self.runs.values():
            self._style(curves)
        self.groups.refresh()

    # -- looks -------------------------------------------------------------------------------
    def _style(self, curves: _RunCurves) -> None:
        """Pens and symbols, set only when they change (each set re-runs pyqtgraph's updateItems)."""
        if curves.raw is None:
            return
        p = curves.drawn
        smoothed = p is not None and p.smoothed is not None and len(p) > 1
        few = p is not None and len(p) <= ANTIALIAS_MAX_POINTS
        style = (smoothed, few, self.settings.show_points, self._colors.dark, curves.smooth is not None)
        if style == curves.style:
            return
        curves.style = style
        color = color_for(curves.run_id)
        width = 1.5 if few else 1  # wide pens are slow on long series (DESIGN.md: 3 px, 552 ms)
        raw_color = QColor(color)
        if smoothed:
            raw_color.setAlpha(80 if self._colors.dark else 70)
        curves.raw.setPen(pg.mkPen(raw_color, width=1 if smoothed else width))
        if curves.smooth is not None:
            curves.smooth.setPen(pg.mkPen(color, width=width))
        curves.raw.set_points((raw_color if smoothed else color) if self.settings.show_points else None)

    @contextmanager
    def export_legend(self):
        """While exporting: a legend inside the chart naming its visible runs (up to 8)."""
        if self.groups.active:  # grouped: the groups, each with its size
            by = self.groups.spec.by.partition(":")[2]
            shown = [(c, f"{by}={label} ({n} run{'s' if n != 1 else ''})") for label, n, c in self.groups.entries()]
        else:
            shown = [(color_for(c.run_id), c.name) for c in self.runs.values() if c.visible and c.drawn is not None]
        if self.bar_mode or not 0 < len(shown) <= MAX_LEGEND_RUNS:  # bars: names on the axis
            yield
            return
        self.legend.setLabelTextColor(self._colors.text)
        for color, name in shown:
            self.legend.addItem(pg.PlotDataItem(pen=pg.mkPen(color, width=2)), html.escape(name))
        self.legend.setVisible(True)
        try:
            yield
        finally:
            self.legend.clear()
            self.legend.setVisible(False)

    def set_run_visible(self, run_id: str, visible: bool) -> None:
        """Hide or show a run's curves (the panel's legend chips)."""
        curves = self.runs.get(run_id)
        if curves is None or curves.visible == visible:
            return
        curves.visible = visible
        for curve in (curves.raw, curves.smooth):
            if curve is not None:
                curve.setVisible(self._shows_curves(curves))
        if self.bar_mode:
            self._update_mode()
        self.groups.refresh()
        self.nonfinite.refresh(self.runs.values())
        self.hide_crosshair()  # its readout would still list the run (a keyboard toggle)
        self.update_range()

    def apply_palette(self, pal: QPalette) -> None:
        self._colors = c = ChartColors.from_palette(pal)
        self.setBackground(c.background)
        self.getPlotItem().setTitle(html.escape(self.key), color=c.text.name(), size="10pt")
        self._color_axes()
        self.legend.setLabelTextColor(c.text)
        self.bars.labels.text_color = c.text
        self.bars.labels.update()
        legend_bg = QColor(c.background)
        legend_bg.setAlpha(215)
        self.legend.setBrush(legend_bg)
        self.legend.setPen(pg.mkPen(c.faint))
        line = QColor(c.text)
        line.setAlpha(110)
        self._vline.setPen(pg.mkPen(line, width=1, style=Qt.PenStyle.DashLine))
        self._marker_pen = pg.mkPen(c.background, width=1.5)  # one object: the symbol atlas keys on it
        bg, fg = c.background, c.text
        self.readout.setStyleSheet(
            f"QLabel#chartReadout {{ background: rgba({bg.red()},{bg.green()},{bg.blue()},235); "
            f"color: {fg.name()}; border: 1px solid rgba({fg.red()},{fg.green()},{fg.blue()},60); "
            "border-radius: 4px; padding: 4px 6px; }")
        for curves in self.runs.values():
            self._style(curves)
        self.groups.refresh()

    def _color_axes(self) -> None:
        c = self._colors
        item = self.getPlotItem()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(c.axis))
            axis.setTextPen(pg.mkPen(c.text))
        if self.bar_mode:
            item.getAxis("bottom").showLabel(False)  # values: the title names the metric
        else:
            item.getAxis("bottom").setLabel(axis_label(self.settings.x_axis), color=c.axis.name())

    def resizeEvent(self, event) -> None:
        try:  # total, as every override (errors.override_failed)
            super().resizeEvent(event)
            button = self.__dict__.get("menu_button")  # resizeEvent runs inside PlotWidget.__init__
            if button is not None:
                size = button.sizeHint()
                button.setGeometry(self.width() - size.width() - 4, 2, size.width(), size.height())
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("MetricChart.resizeEvent")

    # -- menu ----------------------------------------------------------------------------
    @Slot()
    def _on_menu_button(self) -> None:
        self.menu_requested.emit(self.menu_button.mapToGlobal(QPoint(0, self.menu_button.height())))

    @Slot(object)
    def _on_mouse_clicked(self, event) -> None:
        if event.button() == Qt.MouseButton.RightButton and not event.isAccepted():
            event.accept()
            self.menu_requested.emit(event.screenPos().toPoint())
