"""How the registry panel lays out its parts for the room it has: ``PanelLayout``.

    wide:     models | versions above history | lineage
    compact:  models | versions above [History | Lineage] tabs

Three columns need the models' names, the versions table's columns (its description at its
floor) and a lineage pane wide enough for its values (``three_columns_width``). In a narrower
panel the lineage is a tab beside the history; widened again, it is the third column again.

Each mode keeps its own splitter sizes. Sizes the user set (dragged, or restored from the
settings) are kept and saved; until then they follow the content: the models list takes the
width its names need, the versions table the height of its rows (up to ``VERSION_ROWS``) and
the history below it the rest, at least ``HISTORY_ROWS`` rows when the pane has them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QSplitter, QWidget

from app.registry.delegates import ModelItemDelegate
from app.registry.item_models import MODEL_ROLE
from app.shell.errors import override_failed
from app.shell.settings import Settings

if TYPE_CHECKING:
    from app.registry.panel_ui import PanelUi

KEYS = {False: ("splitter", "middleSplitter"), True: ("splitterCompact", "middleSplitterCompact")}
LINEAGE_CHARS = 46  # "Finished, started 2026-11-29 11:38, took 5.4 s" beside its caption
LINEAGE_MIN_CHARS = 34
HISTORY_ROWS = 3
VERSION_ROWS = 8
MODELS_MIN_CHARS, MODELS_MAX_CHARS = 18, 40


class PanelLayout(QObject):
    """``arrange()`` picks the mode for the panel's width and fits what the user has not set; it
    runs when the panel is resized or shown and when its models or versions change."""

    mode_changed = Signal(bool)  # compact

    def __init__(self, ui: "PanelUi", panel: QWidget) -> None:
        super().__init__(panel)
        self.ui, self.panel = ui, panel
        self.compact = False
        self._states: dict[str, QByteArray] = {}  # key -> sizes the user set in a mode not shown now
        self._manual: set[str] = set()  # keys whose sizes the user set
        self._applied: dict[str, list[int]] = {}  # key -> the sizes last fitted to the content
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.arrange)
        ui.splitter.splitterMoved.connect(self._on_splitter_moved)
        ui.middle.splitterMoved.connect(self._on_middle_moved)
        for model in (ui.models_model, ui.versions_model):
            for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.dataChanged):
                signal.connect(self.schedule)
        ui.middle_stack.currentChanged.connect(self.schedule)
        ui.versions_fit.fitted.connect(self.schedule)  # its sideways scroll bar may have come or gone
        ui.middle.installEventFilter(self)  # its height changes without the panel's (an area shown below)
        panel.installEventFilter(self)
        em = ui.versions.fontMetrics().averageCharWidth()
        ui.lineage_box.setMinimumWidth(em * LINEAGE_MIN_CHARS)
        ui.models_box.setMinimumWidth(em * MODELS_MIN_CHARS)
        self._fit_horizontal(1200)

    # ---- what the parts need ------------------------------------------------------------------

    def models_width(self, stage_names: bool) -> int:
        """The models column's width for the names listed (and their stage pills, with the
        stages' names or their version numbers alone)."""
        ui = self.ui
        em = ui.models.fontMetrics().averageCharWidth()
        rows = [ui.models_proxy.index(r, 0).data(MODEL_ROLE) for r in range(ui.models_proxy.rowCount())]
        font = ui.models.font()
        content = max((ModelItemDelegate.row_width(font, m, stage_names) for m in rows if m is not None),
                      default=em * 26)
        scroll = ui.models.verticalScrollBar()
        chrome = 2 * ui.models.frameWidth() + (scroll.sizeHint().width() if scroll.isVisible() else 0)
        margins = ui.models_box.layout().contentsMargins()
        chrome += margins.left() + margins.right()
        return max(em * MODELS_MIN_CHARS, min(em * MODELS_MAX_CHARS, content + chrome))

    def lineage_width(self) -> int:
        return self.ui.versions.fontMetrics().averageCharWidth() * LINEAGE_CHARS

    def middle_width(self) -> int:
        """The versions column's width with every column whole but the description."""
        ui = self.ui
        scroll = ui.versions.verticalScrollBar()
        table = ui.versions_fit.needed_width(floored=ui.versions_fit.shrink_order[:1])
        table += scroll.sizeHint().width() if scroll.isVisible() else 0
        return max(table, ui.top_row.minimumSize().width())

    def three_columns_width(self) -> int:
        """The panel's width below which the lineage moves into a tab."""
        ui = self.ui
        margins = self.panel.layout().contentsMargins()
        return (margins.left() + margins.right() + 2 * ui.splitter.handleWidth() + self.models_width(True)
                + self.middle_width() + self.lineage_width())

    # ---- arranging ----------------------------------------------------------------------------

    @Slot()
    def arrange(self) -> None:
        width = self.panel.width()
        if not self.panel.isVisible() or width <= 0:
            return
        compact = width < self.three_columns_width()
        if compact != self.compact:
            self.set_compact(compact)
        h_key, m_key = KEYS[self.compact]
        if h_key not in self._manual:
            self._fit_horizontal(self.ui.splitter.width())
        if m_key not in self._manual and self.ui.middle.isVisible():
            self._fit_vertical()

    def set_compact(self, compact: bool) -> None:
        """Move the lineage into a tab beside the history (``True``) or back into its column."""
        ui = self.ui
        for key, splitter in zip(KEYS[self.compact], (ui.splitter, ui.middle)):
            if key in self._manual:
                self._states[key] = splitter.saveState()
        current = ui.detail_tabs.currentWidget()
        if compact:
            ui.detail_tabs.addTab(ui.lineage_box, "Lineage")  # takes it out of the splitter
            ui.detail_tabs.setCurrentWidget(current)
        else:
            ui.detail_tabs.removeTab(ui.detail_tabs.indexOf(ui.lineage_box))
            ui.splitter.addWidget(ui.lineage_box)
            ui.lineage_box.show()
        for heading in (ui.lineage_heading, ui.history_heading):
            heading.setVisible(not compact)
        ui.lineage.set_two_columns(compact)  # a tab under the versions is wide and short
        for i, stretch in enumerate((0, 1, 0)[:ui.splitter.count()]):
            ui.splitter.setStretchFactor(i, stretch)
        self.compact = compact
        for key, splitter in zip(KEYS[compact], (ui.splitter, ui.middle)):
            self._manual.discard(key)
            state = self._states.get(key)
            if state is not None and splitter.restoreState(state):
                self._manual.add(key)
        self.mode_changed.emit(compact)

    def _fit_horizontal(self, total: int) -> None:
        ui = self.ui
        handles = (ui.splitter.count() - 1) * ui.splitter.handleWidth()
        models = self.models_width(not self.compact)
        if self.compact:
            sizes = [models, max(1, total - handles - models)]
        else:
            lineage = max(self.lineage_width(), int(total * 0.28))
            sizes = [models, max(1, total - handles - models - lineage), lineage]
        self._apply(KEYS[self.compact][0], ui.splitter, sizes)

    def _fit_vertical(self) -> None:
        ui = self.ui
        total = ui.middle.height() - ui.middle.handleWidth()
        row = ui.versions.verticalHeader().defaultSectionSize()
        top_chrome = _chrome(ui.versions_box, ui.versions) + _table_chrome(ui.versions)
        bottom_chrome = _table_chrome(ui.history) + _chrome(ui.history_box, ui.history)
        bar = ui.detail_tabs.tabBar()
        if bar.isVisibleTo(ui.detail_tabs) or ui.detail_tabs.count() > 1:
            bottom_chrome += bar.sizeHint().height()
        bottom_chrome += 2 * ui.detail_tabs.style().pixelMetric(ui.detail_tabs.style().PixelMetric.PM_DefaultFrameWidth)
        rows = min(max(ui.versions_proxy.rowCount(), 1), VERSION_ROWS)
        top = top_chrome + rows * row
        bottom = bottom_chrome + HISTORY_ROWS * row
        if top + bottom > total:  # a short pane: the history keeps its rows, the versions scroll
            top = max(top_chrome + row, total - bottom)
        self._apply(KEYS[self.compact][1], ui.middle, [top, max(1, total - top)])

    def _apply(self, key: str, splitter: QSplitter, sizes: list[int]) -> None:
        splitter.setSizes(sizes)
        self._applied[key] = splitter.sizes()

    # ---- remembering --------------------------------------------------------------------------

    def restore(self, settings: Settings) -> None:
        """Sizes saved for each mode; the wide mode's are applied now (the panel starts wide).
        The versions table's sort comes back too (its widths are fitted again)."""
        if (state := settings.get_bytes("registry/versionsHeader")) is not None:
            self.ui.versions.horizontalHeader().restoreState(state)
            self.ui.versions_fit.schedule()
        for key in (*KEYS[False], *KEYS[True]):
            if (state := settings.get_bytes(f"registry/{key}")) is not None:
                self._states[key] = state
        for key, splitter in zip(KEYS[self.compact], (self.ui.splitter, self.ui.middle)):
            state = self._states.get(key)
            if state is not None and splitter.restoreState(state):
                self._manual.add(key)

    def save(self, settings: Settings) -> None:
        ui = self.ui
        for key, splitter in zip(KEYS[self.compact], (ui.splitter, ui.middle)):
            if key in self._manual or splitter.sizes() != self._applied.get(key):
                self._states[key] = splitter.saveState()
        for key, state in self._states.items():
            settings.set_bytes(f"registry/{key}", state)
        settings.set_bytes("registry/versionsHeader", ui.versions.horizontalHeader().saveState())

    @Slot()
    def schedule(self) -> None:
        """Arrange once the events being handled are done (rows arrive in bursts)."""
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        try:
            kind = event.type()
            if watched is self.panel and kind == QEvent.Type.Resize:
                self.arrange()  # now: the panel is painted in the layout for its width
            elif kind == QEvent.Type.Show or (kind == QEvent.Type.Resize and watched is self.ui.middle):
                self.schedule()  # (the first resize comes before the panel is visible)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("PanelLayout.eventFilter")
        return False

    @Slot(int, int)
    def _on_splitter_moved(self, pos: int, index: int) -> None:
        self._manual.add(KEYS[self.compact][0])

    @Slot(int, int)
    def _on_middle_moved(self, pos: int, index: int) -> None:
        self._manual.add(KEYS[self.compact][1])


def _chrome(box: QWidget, table: QWidget) -> int:
    """The height ``box``'s layout gives everything but ``table``: the widgets above and below
    it, the spacing between them and the margins."""
    layout = box.layout()
    shown = [layout.itemAt(i) for i in range(layout.count())]
    shown = [item for item in shown if item.widget() is None or not item.widget().isHidden()]
    others = [item for item in shown if item.widget() is not table]
    margins = layout.contentsMargins()
    return (sum(item.sizeHint().height() for item in others) + layout.spacing() * (len(shown) - 1)
            + margins.top() + margins.bottom())


def _table_chrome(table) -> int:
    """A table's header, frame and sideways scroll bar: its height besides its rows."""
    header = table.horizontalHeader()
    sideways = header.length() > table.viewport().width()  # (the scroll bar itself shows a moment later)
    return (max(header.height(), header.sizeHint().height()) + 2 * table.frameWidth()
            + (table.horizontalScrollBar().sizeHint().height() if sideways else 0))
