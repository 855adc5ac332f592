"""The registry panel's widgets and actions, built once (the behaviour lives in ``panel.py``).

    models (search + list)  |  model name, stage buttons, versions table, history  |  lineage
    ------------------------------------------------------------------------------------------
    message line (hints, results, refusals)                                    progress bar

In a panel too narrow for three columns the lineage is a tab beside the history
(``panel_layout.PanelLayout``).
"""
from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QLabel, QLineEdit, QMenu, QProgressBar, QPushButton, QSplitter,
    QStackedWidget, QTableView, QTabWidget, QToolButton, QVBoxLayout, QWidget,
)

from tracker.registry import ModelVersion

from app.shell import desktop
from app.registry.column_fit import ColumnFit
from app.registry.delegates import (
    AliasDelegate, DescriptionDelegate, ElidingDelegate, ModelItemDelegate, StageDelegate,
)
from app.registry.dnd import ModelsList
from app.registry.elided import ElidedLabel
from app.registry.item_models import ModelsListModel, VersionsTableModel
from app.registry.lineage_view import LineageView
from app.registry.panel_layout import PanelLayout
from app.registry.serving_area import ServingArea
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
        self.models.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)  # Serve a stage or alias
        self.no_models = _muted("No registered models yet.\n\nDrag a model file or folder here, from the "
                                "file manager or a run's artifacts, to register it.")
        self.no_models.setObjectName("registryEmpty")
        self.no_models.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_models.setMargin(16)
        self.models_stack = QStackedWidget(panel)
        self.models_stack.addWidget(self.models)
        self.models_stack.addWidget(self.no_models)
        left = self.models_box = QWidget(panel)
        left.setObjectName("registryModelsBox")
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 4, 0)
        left_layout.setSpacing(6)
        left_layout.addWidget(_heading("Models"))
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.models_stack, 1)

        # one line: the name gets what the stage buttons beside it leave
        self.title = ElidedLabel("", panel)
        self.title.setObjectName("registryModelTitle")
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setWeight(QFont.Weight.DemiBold)
        self.title.setFont(font)
        self.title.setMinimumWidth(self.title.fontMetrics().averageCharWidth() * 8)
        self.subtitle = ElidedLabel("", panel)
        self.subtitle.setObjectName("registryModelSubtitle")
        self.subtitle.setProperty("muted", True)
        self.stage_actions: dict[str, QAction] = {}
        self.stage_buttons: dict[str, QToolButton] = {}
        bar = self.top_row = QHBoxLayout()
        bar.setSpacing(4)
        bar.addWidget(self.title, 1)
        bar.addSpacing(8)
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
        bar.addSpacing(8)
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
        self.versions.setItemDelegate(ElidingDelegate(self.versions))
        self.versions.setModel(self.versions_proxy)
        self.versions.setSortingEnabled(True)
        self.versions.sortByColumn(VersionsTableModel.VERSION, Qt.SortOrder.DescendingOrder)
        self.versions.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                      | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.versions.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.versions.setItemDelegateForColumn(VersionsTableModel.STAGE, StageDelegate(self.versions))
        self.versions.setItemDelegateForColumn(VersionsTableModel.ALIASES, AliasDelegate(self.versions))
        self.versions.setItemDelegateForColumn(VersionsTableModel.DESCRIPTION, DescriptionDelegate(self.versions))
        self.versions.horizontalHeader().setMinimumSectionSize(24)
        v = VersionsTableModel
        # the description gives way first, then the digest, the run and the aliases (cut with
        # "…", whole on hover); the version, stage and time are never cut
        self.versions_fit = ColumnFit(self.versions, {v.DESCRIPTION: 10, v.SHA: 6, v.RUN: 6, v.ALIASES: 6},
                                      (v.DESCRIPTION, v.SHA, v.RUN, v.ALIASES))
        self.history_model = TableModel(["When", "Version", "Change", "By", "Comment"], panel, sortable=False)
        self.history = _table(QTableView(panel), "registryHistory", "Model history")
        self.history.setItemDelegate(ElidingDelegate(self.history))
        self.history.setModel(self.history_model)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_fit = ColumnFit(self.history, {2: 16, 3: 5, 4: 8}, (4, 2, 3), caps={2: 36})

        versions_box = self.versions_box = QWidget(panel)
        versions_layout = QVBoxLayout(versions_box)
        versions_layout.setContentsMargins(0, 0, 0, 0)
        versions_layout.setSpacing(4)
        versions_layout.addLayout(bar)
        versions_layout.addWidget(self.subtitle)
        versions_layout.addWidget(self.versions, 1)
        history_box = self.history_box = QWidget(panel)
        history_box.setObjectName("registryHistoryPage")
        history_layout = QVBoxLayout(history_box)
        history_layout.setContentsMargins(0, 4, 0, 0)
        history_layout.setSpacing(4)
        self.history_heading = _heading("History")
        history_layout.addWidget(self.history_heading)
        self.no_history = _muted("MLflow records no history of stage changes")  # shown for MLflow's registry
        self.no_history.setObjectName("registryNoHistory")
        self.no_history.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.no_history.hide()
        history_layout.addWidget(self.no_history)
        history_layout.addWidget(self.history, 1)
        # History alone (its tab bar hidden) beside a lineage column; History | Lineage without one
        self.detail_tabs = QTabWidget(panel)
        self.detail_tabs.setObjectName("registryDetailTabs")
        self.detail_tabs.setAccessibleName("History and lineage")
        self.detail_tabs.setDocumentMode(True)
        self.detail_tabs.setTabBarAutoHide(True)
        self.detail_tabs.addTab(history_box, "History")
        self.middle = QSplitter(Qt.Orientation.Vertical, panel)
        self.middle.setObjectName("registryMiddleSplitter")
        self.middle.setChildrenCollapsible(False)
        self.middle.addWidget(versions_box)
        self.middle.addWidget(self.detail_tabs)
        self.middle.setSizes([240, 200])
        self.middle.setStretchFactor(0, 0)
        self.middle.setStretchFactor(1, 1)
        self.no_model = _muted("Select a registered model to see its versions")
        self.no_model.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.middle_stack = QStackedWidget(panel)
        self.middle_stack.addWidget(self.no_model)
        self.middle_stack.addWidget(self.middle)

        self.lineage = LineageView(panel)
        right = self.lineage_box = QWidget(panel)
        right.setObjectName("registryLineagePage")
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 0, 0, 0)
        right_layout.setSpacing(6)
        self.lineage_heading = _heading("Lineage")
        right_layout.addWidget(self.lineage_heading)
        right_layout.addWidget(self.lineage, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, panel)
        self.splitter.setObjectName("registrySplitter")
        self.splitter.setChildrenCollapsible(False)
        for widget in (left, self.middle_stack, right):
            self.splitter.addWidget(widget)
        self.splitter.setStretchFactor(1, 1)

        self.message = ElidedLabel("", panel)  # a long message (a server's error) never widens the window
        self.message.setObjectName("registryMessage")
        self.message.setAccessibleName("Registry status")
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
        layout.setContentsMargins(8, 6, 8, 4)
        layout.setSpacing(4)
        layout.addWidget(self.read_only_label)
        self.serving = ServingArea(panel)  # hidden until a model is served
        self.outer = QSplitter(Qt.Orientation.Vertical, panel)
        self.outer.setObjectName("registryOuterSplitter")
        self.outer.setChildrenCollapsible(False)
        self.outer.addWidget(self.splitter)
        self.outer.addWidget(self.serving)
        self.outer.setStretchFactor(0, 1)
        layout.addWidget(self.outer, 1)
        layout.addLayout(status)
        self.panel_layout = PanelLayout(self, panel)

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
        """Splitter sizes of each layout (three columns, or the lineage in a tab) as the user left them."""
        self.panel_layout.restore(settings)

    def save_layout(self, settings: Settings) -> None:
        self.panel_layout.save(settings)

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
        prefer = {VersionsTableModel.STAGE: "stage", VersionsTableModel.ALIASES: "alias"}.get(index.column(), "version")
        serve = menu.addAction("S&erve…", lambda: panel.serve_version(mv, prefer))
        serve.setEnabled(mv is not None)
        uri = menu.addAction("Copy &URI", lambda: desktop.copy_text(mv.uri) if mv else None)
        uri.setEnabled(mv is not None)
        run = menu.addAction("Show Producing &Run", lambda: panel.run_requested.emit(mv.run_id) if mv else None)
        run.setEnabled(mv is not None and bool(mv.run_id))
        reproduce = menu.addAction("Copy Reproduce &Command", self.lineage.copy_reproduce_command)
        info = self.lineage.info
        reproduce.setEnabled(info is not None and mv is not None and info.lineage.version == mv.version
                             and bool(info.reproduce))
        return menu
