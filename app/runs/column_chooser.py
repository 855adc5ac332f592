"""The runs table's column chooser: a search box over checkable keys grouped as Attributes,
Params, Metrics and Tags, each with how many of the shown experiment's runs have it.

It lives in a menu through a ``QWidgetAction`` (the header's right-click menu, View > Columns):
clicks land on the list, not on a menu item, so the menu stays open while several keys are
ticked, and typing goes to the search box. Clicking a key's name ticks it too.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QLabel, QLineEdit, QMenu, QPushButton, QTreeView, QVBoxLayout, QWidget,
    QWidgetAction,
)

from tracker.index import RunTable

from app.runs.column_choice import experiment_rows, key_counts
from app.runs.columns import Column

KEY_ROLE = int(Qt.ItemDataRole.UserRole) + 1
_ATTRIBUTE_TITLES = {"status": "Status"}


@dataclass(frozen=True)
class Choice:
    key: str  # "user", "params.lr", "metrics.acc", "tags.team"
    label: str
    count: int | None  # runs of the shown experiment that have it (None: an attribute)
    shown: bool


def choices(table: RunTable, experiment: str | None, fixed: list[Column], hidden: set[str],
            shown: list[str]) -> list[tuple[str, list[Choice]]]:
    """The chooser's groups for ``experiment``'s runs: the run attributes (every fixed column but
    Name), then the params, metrics and tags its runs have (and any shown), by name."""
    counts = key_counts(table, experiment_rows(table, experiment))
    groups = [("Attributes", [Choice(c.key, c.title or _ATTRIBUTE_TITLES.get(c.key, c.key), None, c.key not in hidden)
                              for c in fixed if c.key != "name"])]
    shown_set = set(shown)
    for kind, title in (("params", "Params"), ("metrics", "Metrics"), ("tags", "Tags")):
        prefix = kind + "."
        have = dict(counts[kind])
        for key in shown:
            if key.startswith(prefix):
                have.setdefault(key[len(prefix):], 0)
        keys = sorted(have, key=lambda k: (k.startswith(("mlflow.", "tracker.")), k.lower()))
        groups.append((title, [Choice(prefix + k, k, have[k], prefix + k in shown_set) for k in keys]))
    return groups


class ColumnChooser(QWidget):
    """Emits ``toggled(key, shown)`` as keys are ticked, ``resetRequested`` for Reset Columns."""

    toggled = Signal(str, bool)
    resetRequested = Signal()

    def __init__(self, title: str, groups: list[tuple[str, list[Choice]]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("columnChooser")
        self.setAccessibleName("Columns")
        heading = QLabel(title, self)
        heading.setObjectName("columnChooserTitle")
        heading.setProperty("muted", True)
        self.search = QLineEdit(self)
        self.search.setObjectName("columnSearch")
        self.search.setAccessibleName("Search columns")
        self.search.setPlaceholderText("Search params, metrics, tags…")
        self.search.setClearButtonEnabled(True)

        self.items = QStandardItemModel(0, 2, self)
        self._fill(groups)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.items)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(0)
        self.tree = QTreeView(self)
        self.tree.setObjectName("columnList")
        self.tree.setAccessibleName("Column keys")
        self.tree.setModel(self.proxy)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, self.tree.header().ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, self.tree.header().ResizeMode.ResizeToContents)
        self.tree.expandAll()
        reset = QPushButton("Reset Columns", self)
        reset.setObjectName("resetColumns")
        reset.setToolTip("Back to this experiment's most common params and metrics")
        reset.setAutoDefault(False)
        hint = QLabel("Kept for this experiment", self)
        hint.setProperty("muted", True)

        bottom = QHBoxLayout()
        bottom.addWidget(hint, 1)
        bottom.addWidget(reset)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        layout.addWidget(heading)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addLayout(bottom)
        self.setMinimumSize(300, 380)
        self.setFocusProxy(self.search)

        self._pressed: tuple[QModelIndex, Qt.CheckState] | None = None
        self.items.itemChanged.connect(self._on_item_changed)
        self.search.textChanged.connect(self._on_search)
        self.search.returnPressed.connect(self._on_search_entered)
        self.tree.pressed.connect(self._on_pressed)
        self.tree.clicked.connect(self._on_clicked)
        reset.clicked.connect(self.resetRequested)

    def _fill(self, groups: list[tuple[str, list[Choice]]]) -> None:
        bold = QFont(self.font())
        bold.setBold(True)
        for title, choices in groups:
            group = QStandardItem(f"{title} ({len(choices)})" if title != "Attributes" else title)
            group.setFont(bold)
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setAccessibleText(title)
            for choice in choices:
                item = QStandardItem(choice.label)
                item.setData(choice.key, KEY_ROLE)
                item.setToolTip(choice.key)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if choice.shown else Qt.CheckState.Unchecked)
                count = QStandardItem("" if choice.count is None else f"{choice.count:,}")
                count.setFlags(Qt.ItemFlag.ItemIsEnabled)
                count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if choice.count is not None:
                    count.setToolTip(f"{choice.count:,} runs have it")
                group.appendRow([item, count])
            self.items.appendRow([group, QStandardItem()])

    # ---- reading and ticking (what a test or a keyboard user does) ---------------------------

    def _key_items(self) -> list[QStandardItem]:
        out = []
        for g in range(self.items.rowCount()):
            group = self.items.item(g, 0)
            out += [group.child(r, 0) for r in range(group.rowCount())]
        return out

    def keys(self) -> list[str]:
        """Every key listed, whatever the search."""
        return [item.data(KEY_ROLE) for item in self._key_items()]

    def visible_keys(self) -> list[str]:
        """The keys the search leaves in view."""
        out = []
        for g in range(self.proxy.rowCount()):
            group = self.proxy.index(g, 0)
            out += [self.proxy.index(r, 0, group).data(KEY_ROLE) for r in range(self.proxy.rowCount(group))]
        return out

    def groups(self) -> dict[str, list[str]]:
        return {self.items.item(g, 0).accessibleText(): [self.items.item(g, 0).child(r, 0).data(KEY_ROLE)
                                                         for r in range(self.items.item(g, 0).rowCount())]
                for g in range(self.items.rowCount())}

    def is_checked(self, key: str) -> bool:
        return any(i.data(KEY_ROLE) == key and i.checkState() == Qt.CheckState.Checked for i in self._key_items())

    def set_checked(self, key: str, shown: bool) -> None:
        for item in self._key_items():
            if item.data(KEY_ROLE) == key:
                item.setCheckState(Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)

    def index_of(self, key: str) -> QModelIndex:
        """The list's index of ``key`` (invalid when the search hides it)."""
        for item in self._key_items():
            if item.data(KEY_ROLE) == key:
                return self.proxy.mapFromSource(item.index())
        return QModelIndex()

    # ---- events ---------------------------------------------------------------------------

    @Slot(QStandardItem)
    def _on_item_changed(self, item: QStandardItem) -> None:
        key = item.data(KEY_ROLE)
        if key:
            self.toggled.emit(key, item.checkState() == Qt.CheckState.Checked)

    @Slot(str)
    def _on_search(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self.tree.expandAll()

    @Slot()
    def _on_search_entered(self) -> None:
        """Enter in the search box goes to the first key it leaves (Space then ticks it)."""
        for g in range(self.proxy.rowCount()):
            group = self.proxy.index(g, 0)
            if self.proxy.rowCount(group):
                self.tree.setFocus()
                self.tree.setCurrentIndex(self.proxy.index(0, 0, group))
                return

    @Slot(QModelIndex)
    def _on_pressed(self, index: QModelIndex) -> None:
        index = index.siblingAtColumn(0)
        self._pressed = (QModelIndex(index), index.data(Qt.ItemDataRole.CheckStateRole))

    @Slot(QModelIndex)
    def _on_clicked(self, index: QModelIndex) -> None:
        # A click on the check box has ticked it already; one on the name (or count) ticks it here.
        index = index.siblingAtColumn(0)
        pressed, self._pressed = self._pressed, None
        if not index.data(KEY_ROLE) or pressed is None or pressed[0] != index:
            return
        if index.data(Qt.ItemDataRole.CheckStateRole) == pressed[1]:
            item = self.items.itemFromIndex(self.proxy.mapToSource(index))
            checked = item.checkState() == Qt.CheckState.Checked
            item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)


def add_to_menu(chooser: ColumnChooser, menu: QMenu) -> QWidgetAction:
    """Put ``chooser`` in ``menu``, about to be shown, with its search box focused once it is."""
    action = QWidgetAction(menu)
    action.setDefaultWidget(chooser)
    menu.addAction(action)
    QTimer.singleShot(0, chooser.search.setFocus)
    return action
