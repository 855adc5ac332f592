"""Exporting a chart: PNG, SVG, CSV of the data on screen, and the image to the clipboard.

pyqtgraph 0.14's SVGExporter fails on curves (pyqtgraph#3485): the SVG is drawn by
rendering the chart's scene through ``QSvgGenerator`` + ``QPainter`` instead. PNG goes
through pyqtgraph's ``ImageExporter``, which works.

Axes, the title and the legend paint through ``QPicture``s, which record at the default
screen's logical dpi; replayed on a device of another dpi they are scaled by the ratio
(QTBUG-20361). A ``QSvgGenerator`` is 72 dpi unless told otherwise, so at 96 dpi every axis
came out at 75 % of the plot. The generator is given the dpi pictures record at.
"""
from __future__ import annotations

import csv
import io
import os
import re
from datetime import datetime, timezone

import numpy as np
from PySide6.QtCore import QPoint, QRectF, QSize, Slot
from PySide6.QtGui import QImage, QPainter, QPicture
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMenu

from .chart import MetricChart

CSV_COLUMNS = ("run", "run_id", "metric", "step", "wall_time", "relative_s", "value", "smoothed", "hidden")


def chart_image(chart: MetricChart, scale: float = 1.0) -> QImage:
    """The chart (title, axes, legend, curves) as an image, ``scale`` times its size on screen."""
    from pyqtgraph.exporters import ImageExporter  # imported late: it builds parameter trees

    with chart.export_legend():
        exporter = ImageExporter(chart.getPlotItem())
        width = max(1, int(round(chart.getPlotItem().sceneBoundingRect().width() * scale)))
        exporter.parameters()["width"] = width
        return exporter.export(toBytes=True)


def export_png(chart: MetricChart, path: str | os.PathLike, scale: float = 1.0) -> None:
    image = chart_image(chart, scale)
    if not image.save(os.fspath(path), "PNG"):
        raise OSError(f"could not write {path}")


def export_svg(chart: MetricChart, path: str | os.PathLike) -> None:
    """Vector SVG of the chart, rendered from its scene (curves, axes, text)."""
    item = chart.getPlotItem()
    source = item.sceneBoundingRect()
    size = QSize(int(source.width()), int(source.height()))
    generator = QSvgGenerator()
    generator.setFileName(os.fspath(path))
    generator.setSize(size)
    # One dpi for everything painted: the axes' QPictures are replayed without rescaling, and
    # the file's physical size (mm) is the chart's in CSS pixels.
    generator.setResolution(picture_dpi())
    generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
    generator.setTitle(chart.key)
    generator.setDescription(f"{chart.key}: {len(chart.runs)} runs, exported from tracker")
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(f"could not write {path}")
    try:
        with chart.export_legend():
            target = QRectF(0, 0, source.width(), source.height())
            painter.fillRect(target, chart.backgroundBrush())
            chart.scene().render(painter, target, source)
    finally:
        painter.end()
    if not os.path.exists(path):
        raise OSError(f"could not write {path}")


def picture_dpi() -> int:
    """The dpi at which a ``QPicture`` records (and so the axes' pictures were recorded)."""
    return QPicture().logicalDpiX()


def copy_image(chart: MetricChart) -> QImage:
    image = chart_image(chart)
    QApplication.clipboard().setImage(image)
    return image


def export_csv(chart: MetricChart, path: str | os.PathLike, visible_only: bool = True) -> int:
    """The points on screen (full resolution, not the drawn subsample), raw and smoothed.

    Values are written as logged (``nan`` and ``inf`` included), with full precision.

    ``visible_only`` keeps the points within the chart's current x range (a bar chart shows
    all its points). Every run of the
    chart is written, those switched off in the legend too: the last column, ``hidden``, is
    ``true`` for their rows (``false`` for the rest), so a file never silently lacks a run
    and one filter gives exactly what the chart showed. Returns the number of rows written.
    """
    with open(path, "w", newline="", encoding="utf-8") as f:
        return write_csv(chart, f, visible_only)


def csv_text(chart: MetricChart, visible_only: bool = True) -> str:
    """What ``export_csv`` writes, as text (the "Copy data as CSV" action)."""
    out = io.StringIO(newline="")
    write_csv(chart, out, visible_only)
    return out.getvalue()


def write_csv(chart: MetricChart, f, visible_only: bool = True) -> int:
    """The CSV rows of ``export_csv`` into the text stream ``f``; returns the rows written."""
    # A bar chart's x axis holds values, not steps: every bar is on screen.
    lo, hi = chart.visible_x_range() if visible_only and not chart.bar_mode else (-np.inf, np.inf)
    rows = 0
    writer = csv.writer(f)
    writer.writerow(CSV_COLUMNS)
    for curves in chart.runs.values():
        p = curves.drawn
        if p is None:
            continue
        keep = (p.x >= lo) & (p.x <= hi)
        steps = p.steps[keep].tolist()
        stamps = p.timestamps[keep]
        wall = [_iso(t) for t in stamps.tolist()]
        run = curves.name
        relative = ((stamps - curves.start_ms) / 1000.0).tolist()
        values = p.raw[keep].tolist()
        smoothed = p.smoothed_raw[keep].tolist() if p.smoothed_raw is not None else [""] * len(steps)
        hidden = "false" if curves.visible else "true"
        writer.writerows(
            (run, curves.run_id, chart.key, s, w, r, v, m, hidden)
            for s, w, r, v, m in zip(steps, wall, relative, values, smoothed))
        rows += len(steps)
    return rows


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds")


class ChartExportActions:
    """The panel's chart menu and exports; expects ``chart(key)``, ``_qsettings`` and
    ``status_message``. Every save dialog goes through ``ask_save_path``."""

    def chart_menu(self, chart: MetricChart) -> QMenu:
        menu = QMenu(self)
        menu.setObjectName("chartMenu")
        menu.addAction("Export as PNG…", lambda: self.export_chart(chart.key, "png"))
        menu.addAction("Export as PNG at 2x…", lambda: self.export_chart(chart.key, "png", scale=2.0))
        menu.addAction("Export as PNG at a width…", lambda: self.export_png_at_width(chart.key))
        menu.addAction("Export as SVG…", lambda: self.export_chart(chart.key, "svg"))
        menu.addAction("Export data as CSV…", lambda: self.export_chart(chart.key, "csv"))
        menu.addAction("Copy image", lambda: self.copy_chart_image(chart.key))
        menu.addAction("Copy data as CSV", lambda: self.copy_chart_csv(chart.key))
        menu.addSeparator()
        menu.addAction("Reset zoom", chart.reset_zoom)
        return menu

    @Slot(QPoint)
    def _on_chart_menu(self, pos: QPoint) -> None:
        chart = self.sender()
        if isinstance(chart, MetricChart):
            self.chart_menu(chart).exec(pos)

    _FILTERS = {"png": "PNG image (*.png)", "svg": "SVG image (*.svg)", "csv": "CSV file (*.csv)"}

    def ask_save_path(self, caption: str, suggested: str, name_filter: str) -> str:
        """The one save dialog (tests replace this method)."""
        path, _ = QFileDialog.getSaveFileName(self, caption, suggested, name_filter)
        return path

    def ask_width(self, key: str, current: int) -> int | None:
        """The one image-width dialog (tests replace it)."""
        width, ok = QInputDialog.getInt(self, f"Export {key}", "Width in pixels (the height follows):",
                                        current, 64, 16384)
        return width if ok else None

    def export_png_at_width(self, key: str, path: str | os.PathLike | None = None) -> str | None:
        width = self.ask_width(key, int(self.chart(key).getPlotItem().sceneBoundingRect().width()))
        if width is None:
            return None
        on_screen = max(1.0, self.chart(key).getPlotItem().sceneBoundingRect().width())
        return self.export_chart(key, "png", path, scale=width / on_screen)

    def copy_chart_csv(self, key: str) -> str:
        """The chart's data on screen, as CSV text, to the clipboard."""
        text = csv_text(self.chart(key))
        QApplication.clipboard().setText(text)
        self.status_message.emit(f"Copied the data of {key} ({text.count(chr(10)) - 1} rows)")
        return text

    def export_chart(self, key: str, fmt: str, path: str | os.PathLike | None = None,
                     scale: float = 1.0) -> str | None:
        """Write chart ``key`` as "png" (``scale`` times its size on screen), "svg" or "csv"
        (asks where when ``path`` is None)."""
        chart = self.chart(key)
        if path is None:
            folder = str(self._qsettings.value("plots/export_dir", os.path.expanduser("~")))
            name = re.sub(r"[^\w.-]+", "_", key).strip("_") or "metric"
            path = self.ask_save_path(f"Export {key}", os.path.join(folder, f"{name}.{fmt}"), self._FILTERS[fmt])
            if not path:
                return None
            self._qsettings.setValue("plots/export_dir", os.path.dirname(path))
        path = os.fspath(path)
        try:
            if fmt == "png":
                export_png(chart, path, scale)
            elif fmt == "svg":
                export_svg(chart, path)
            else:
                export_csv(chart, path)
        except OSError as e:
            self.status_message.emit(f"Could not export {key}: {e}")
            return None
        hidden = [c.name for c in chart.runs.values() if not c.visible and c.drawn is not None]
        note = ""
        if fmt == "csv" and hidden:
            names = ", ".join(hidden[:3]) + (f" and {len(hidden) - 3} more" if len(hidden) > 3 else "")
            note = f" ({names} hidden in the chart: included, marked in the “hidden” column)"
        self.status_message.emit(f"Exported {key} to {path}{note}")
        return path

    def copy_chart_image(self, key: str) -> None:
        copy_image(self.chart(key))
        self.status_message.emit(f"Copied the chart of {key}")
