"""The registry panel's widgets and actions, built once (the behaviour lives in ``panel.py``).

    models (search + list)  |  model header, stage buttons, versions table, history  |  lineage
    ------------------------------------------------------------------------------------------
    message line (hints, results, refusals)                                    progress bar
"""
from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMenu, QProgressBar, QPushButton, QSplitter,
    QStackedWidget, QTableView, QToolButton, QVBoxLayout, QWidget,
)

from tracker.registry import ModelVersion

from app.shell import desktop
from app.registry.delegates import AliasDelegate, DescriptionDelegate, ModelItemDelegate, StageDelegate
from app.registry.dnd import ModelsList
from app.registry.item_models import ModelsListModel, VersionsTableModel
from app.registry.lineage_view import LineageView
from app.shell.settings import Settings
from app.common.table_look import record_table
from app.common.table_model import TableModel

# stage -> (menu text, button text, shortcut)
STAGE_ACTIONS = {
    "Staging": ("Move to &Staging", "Staging", "Ctrl+Shift+S"),
    "Production": ("Promote to &Production…", "Production", "Ctrl+Shift+P"),
    "Archived": ("&Archive", "Archive", "Ctrl+Shift+A"),
    "None": ("Move to &None", "None", "Ctrl+Shift+N"),
}


def _heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("panelHeading")
    return label


def _muted(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setProperty("muted", True)
    label.setWordWrap(True)
    return label


def _table(view: QTableView, name: str, accessible: str) -> QTableView:
    view.setObjectName(name)
    view.setAccessibleName(accessible)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    return record_table(view, row_padding=12)


class PanelUi:
    """Creates every widget of ``panel`` and lays them out; attributes are the widgets."""

    def __init__(self, panel: QWidget) -> None:
        self.models_model = ModelsListModel(panel)
        self.models_proxy = QSortFilterProxyModel(panel)
        self.models_proxy.setSourceModel(self.models_model)
        self.models_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.models_proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.models_proxy.sort(0)
        self.search = QLineEdit(panel)
        self.search.setObjectName("registrySearch")
        self.search.setAccessibleName("Search registered models")
        self.search.setPlaceholderText("Search models")
        self.search.setClearButtonEnabled(True)
        self.models = ModelsList(panel)
        self.models.setObjectName("registryModels")
        self.models.setAccessibleName("Registered models")
        self.models.setModel(self.models_proxy)
        self.models.setItemDelegate(ModelItemDelegate(self.models))
        self.models.setUniformItemSizes(True)
        self.models.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.no_models = _muted("No registered models yet.\n\nDrag a model file or folder here, from the "
                                "file manager or a run's artifacts, to register it.")
        self.no_models.setObjectName("registryEmpty")
        self.no_models.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_models.setMargin(16)
        self.models_stack = QStackedWidget(panel)
        self.models_stack.addWidget(self.models)
        self.models_stack.addWidget(self.no_models)
        left = QWidget(panel)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 4, 0)
        left_layout.setSpacing(6)
        left_layout.addWidget(_heading("Registered models"))
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.models_stack, 1)

        self.title = QLabel(panel)
        self.title.setObjectName("registryModelTitle")
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setWeight(QFont.Weight.DemiBold)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = _muted()
        self.stage_actions: dict[str, QAction] = {}
        self.stage_buttons: dict[str, QToolButton] = {}
        bar = QHBoxLayout()
        bar.setSpacing(4)
        move_to = _muted("Move to")
        move_to.setWordWrap(False)
        bar.addWidget(move_to)
        for stage, (text, short, keys) in STAGE_ACTIONS.items():
            action = QAction(text, panel)
            action.setIconText(short)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(f"{text.replace('&', '').rstrip('…')} ({QKeySequence(keys).toString()})")
            action.setData(stage)
            panel.addAction(action)
            button = QToolButton(panel)
            button.setDefaultAction(action)
            button.setObjectName(f"stageButton{stage}")
            button.setAccessibleName(text.replace("&", "").rstrip("…"))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setAutoRaise(False)
            bar.addWidget(button)
            self.stage_actions[stage], self.stage_buttons[stage] = action, button
        bar.addStretch(1)
        # a push button draws its menu arrow beside the text (a tool button's overlapped it)
        self.register_button = QPushButton("Register", panel)
        self.register_button.setObjectName("registerButton")
        self.register_button.setAccessibleName("Register a model file or folder")
        self.register_menu = QMenu(self.register_button)
        self.register_file_action = self.register_menu.addAction("Model &File…")
        self.register_folder_action = self.register_menu.addAction("Model F&older…")
        self.register_button.setMenu(self.register_menu)
        bar.addWidget(self.register_button)

        self.versions_model = VersionsTableModel(panel)
        self.versions_proxy = QSortFilterProxyModel(panel)
        self.versions_proxy.setSourceModel(self.versions_model)
        self.versions_proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.versions = _table(QTableView(panel), "registryVersions", "Model versions")
        self.versions.setModel(self.versions_proxy)
        self.versions.setSortingEnabled(True)
        self.versions.sortByColumn(VersionsTableModel.VERSION, Qt.SortOrder.DescendingOrder)
        self.versions.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                      | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.versions.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.versions.setItemDelegateForColumn(VersionsTableModel.STAGE, StageDelegate(self.versions))
        self.versions.setItemDelegateForColumn(VersionsTableModel.ALIASES, AliasDelegate(self.versions))
        self.versions.setItemDelegateForColumn(VersionsTableModel.DESCRIPTION, DescriptionDelegate(self.versions))
        header = self.versions.horizontalHeader()
        header.setMinimumSectionSize(48)
        for column, width in enumerate((62, 100, 120, 122, 100, 100)):
            header.resizeSection(column, width)
        self.history_model = TableModel(["When", "Version", "Change", "By", "Comment"], panel, sortable=False)
        self.history = _table(QTableView(panel), "registryHistory", "Model history")
        self.history.setModel(self.history_model)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((136, 60, 250, 80)):
            self.history.horizontalHeader().resizeSection(column, width)

        versions_box = QWidget(panel)
        versions_layout = QVBoxLayout(versions_box)
        versions_layout.setContentsMargins(0, 0, 0, 0)
        versions_layout.setSpacing(6)
        versions_layout.addWidget(self.title)
        versions_layout.addWidget(self.subtitle)
        versions_layout.addLayout(bar)
        versions_layout.addWidget(self.versions, 1)
        history_box = QWidget(panel)
        history_layout = QVBoxLayout(history_box)
        history_layout.setContentsMargins(0, 6, 0, 0)
        history_layout.setSpacing(6)
        history_layout.addWidget(_heading("History"))
        self.no_history = _muted("MLflow records no history of stage changes")  # shown for MLflow's registry
        self.no_history.setObjectName("registryNoHistory")
        self.no_history.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.no_history.hide()
        history_layout.addWidget(self.no_history)
        history_layout.addWidget(self.history, 1)
        self.middle = QSplitter(Qt.Orientation.Vertical, panel)
        self.middle.setChildrenCollapsible(False)
        self.middle.addWidget(versions_box)
        self.middle.addWidget(history_box)
        self.middle.setSizes([440, 160])  # in a short pane the versions keep most of the height
        self.middle.setStretchFactor(0, 3)
        self.middle.setStretchFactor(1, 1)
        self.no_model = _muted("Select a registered model to see its versions")
        self.no_model.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.middle_stack = QStackedWidget(panel)
        self.middle_stack.addWidget(self.no_model)
        self.middle_stack.addWidget(self.middle)

        self.lineage = LineageView(panel)
        right = QWidget(panel)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 0, 0, 0)
        right_layout.setSpacing(6)
        right_layout.addWidget(_heading("Lineage"))
        right_layout.addWidget(self.lineage, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, panel)
        self.splitter.setObjectName("registrySplitter")
        self.splitter.setChildrenCollapsible(False)
        for widget in (left, self.middle_stack, right):
            self.splitter.addWidget(widget)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([220, 600, 380])  # the versions table gets the most room

        self.message = QLabel(panel)
        self.message.setObjectName("registryMessage")
        self.message.setAccessibleName("Registry status")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar(panel)
        self.progress.setObjectName("registryProgress")
        self.progress.setAccessibleName("Registration progress")
        self.progress.setMaximumWidth(200)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress.hide()
        status = QHBoxLayout()
        status.setContentsMargins(2, 0, 2, 0)
        status.addWidget(self.message, 1)
        status.addWidget(self.progress)
        self.read_only_label = QLabel(panel)  # names a registry the app only reads (MLflow's)
        self.read_only_label.setObjectName("registryReadOnly")
        self.read_only_label.setAccessibleName("Registry is read-only")
        self.read_only_label.setProperty("muted", True)
        self.read_only_label.hide()
        self.read_only = ""
        self._edit_triggers = self.versions.editTriggers()
        self._tooltips = {a: a.toolTip() for a in (*self.stage_actions.values(), self.register_button)}
        self._empty_text = self.no_models.text()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(8, 8, 8, 6)
        layout.setSpacing(6)
        layout.addWidget(self.read_only_label)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(status)

    def set_read_only(self, panel: QWidget, reason: str) -> None:
        """``reason`` (e.g. "MLflow file store, read-only") turns off every action that writes:
        registering (menu and drops), stage changes, alias and description edits. "" turns them on."""
        self.read_only = reason
        tip = f"{reason}: the registry belongs to MLflow and the app does not change it" if reason else ""
        self.read_only_label.setText(f"{reason}: models, versions, stages and aliases are shown as MLflow "
                                     "recorded them" if reason else "")
        self.read_only_label.setVisible(bool(reason))
        self.register_button.setEnabled(not reason)
        for widget, default in self._tooltips.items():
            widget.setToolTip(tip or default)
        for action in (self.register_file_action, self.register_folder_action):
            action.setEnabled(not reason)
        panel.setAcceptDrops(not reason)
        self.models.setAcceptDrops(not reason)
        self.versions.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers if reason else self._edit_triggers)
        self.no_models.setText("No registered models in this MLflow store." if reason else self._empty_text)
        self.no_history.setVisible(bool(reason))
        self.history.setVisible(not reason)

    def restore_layout(self, settings: Settings) -> None:
        """Splitter sizes and the versions table's columns, as the user left them."""
        for key, widget in self._layout_parts():
            if (state := settings.get_bytes(f"registry/{key}")) is not None:
                widget.restoreState(state)

    def save_layout(self, settings: Settings) -> None:
        for key, widget in self._layout_parts():
            settings.set_bytes(f"registry/{key}", widget.saveState())

    def _layout_parts(self):
        return (("splitter", self.splitter), ("middleSplitter", self.middle),
                ("versionsHeader", self.versions.horizontalHeader()))

    def version_menu(self, panel, mv: ModelVersion | None) -> QMenu:
        """The versions table's context menu: stages, edits, copy URI, show run, reproduce."""
        menu = QMenu(panel)
        for action in self.stage_actions.values():
            menu.addAction(action)
        menu.addSeparator()
        index = self.versions.currentIndex()
        for column, text in ((VersionsTableModel.ALIASES, "Edit &Aliases"),
                             (VersionsTableModel.DESCRIPTION, "Edit &Description")):
            target = index.siblingAtColumn(column)
            edit = menu.addAction(text, lambda t=target: self.versions.edit(t))
            edit.setEnabled(index.isValid() and not self.read_only)
        menu.addSeparator()
        uri = menu.addAction("Copy &URI", lambda: desktop.copy_text(mv.uri) if mv else None)
        uri.setEnabled(mv is not None)
        run = menu.addAction("Show Producing &Run", lambda: panel.run_requested.emit(mv.run_id) if mv else None)
        run.setEnabled(mv is not None and bool(mv.run_id))
        reproduce = menu.addAction("Copy Reproduce &Command", self.lineage.copy_reproduce_command)
        info = self.lineage.info
        reproduce.setEnabled(info is not None and mv is not None and info.lineage.version == mv.version
                             and bool(info.reproduce))
        return menu
