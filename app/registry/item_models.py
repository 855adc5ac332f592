"""Thin Qt adapters over the registry's plain objects: the models list, versions table and history.

Display text for ``DisplayRole``, the raw value for ``UserRole`` (sorting uses it). Edits of the
aliases and description cells never touch the disk here: ``setData`` checks the value, shows it
at once and emits ``edit_requested``; the panel writes it through a worker and reloads.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractListModel, QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from tracker.registry import HistoryEntry, ModelVersion, RegisteredModel
from tracker.registry.entities import STAGE_ARCHIVED

from app.shell.errors import override_failed, variant_safe
from app.common.formatting import format_time
from app.registry.jobs import VersionRow, parse_aliases

MODEL_ROLE = int(Qt.ItemDataRole.UserRole) + 1  # the RegisteredModel / ModelVersion of the row
STAGE_ORDER = {"Production": 0, "Staging": 1, "None": 2, "Archived": 3}
WARNING_MARK = "\u26a0 "  # before an alias that points at an archived version
_Index = QModelIndex | QPersistentModelIndex


def stage_summary(model: RegisteredModel) -> list[tuple[str, str]]:
    """[(stage, "v3"), ...] for Production then Staging: what the list shows beside a name."""
    out = []
    for stage in ("Production", "Staging"):
        numbers = model.stage_versions.get(stage, [])
        if numbers:
            out.append((stage, ", ".join(f"v{n}" for n in numbers[:3]) + (" …" if len(numbers) > 3 else "")))
    return out


def alias_warnings(aliases: dict[str, int]) -> str:
    """One line per alias left on an archived version ({alias: version}), "" when there is none."""
    return "\n".join(f"alias '{a}' points to an archived version (v{n})" for a, n in sorted(aliases.items()))


def model_alias_warnings(model: RegisteredModel | None) -> str:
    return alias_warnings(model.archived_aliases()) if model is not None else ""


def model_subtitle(model: RegisteredModel | None, count: int) -> str:
    """"3 versions  ·  @champion → v2  ·  <description>" under the model's name; an alias on an
    archived version is marked ⚠ (``model_alias_warnings`` says why, for a tooltip)."""
    bits = [f"{count} version{'s' if count != 1 else ''}"]
    if model is not None and model.aliases:
        stale = model.archived_aliases()
        bits.append("  ".join(f"{WARNING_MARK if a in stale else ''}@{a} → v{n}"
                              for a, n in sorted(model.aliases.items())))
    if model is not None and model.description:
        bits.append(model.description)
    return "  ·  ".join(bits)


def archived(v: ModelVersion) -> bool:
    """Whether ``v``'s aliases are flagged: they point at a version that was archived."""
    return v.current_stage == STAGE_ARCHIVED and bool(v.aliases)


def version_alias_warnings(v: ModelVersion) -> str:
    return alias_warnings({a: v.version for a in v.aliases}) if v.current_stage == STAGE_ARCHIVED else ""


class ModelsListModel(QAbstractListModel):
    """Registered models by name; ``MODEL_ROLE`` gives the ``RegisteredModel``."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._models: list[RegisteredModel] = []
        self.next_versions: dict[str, int] = {}  # model -> the number its next registration gets

    # Every override is total (errors.override_failed): PySide6 segfaults when one raises.

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self._models)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ModelsListModel.rowCount")
            return 0

    def data(self, index: _Index, role: int = 0) -> Any:
        try:
            return variant_safe(self._data(index, role))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ModelsListModel.data")
            return None

    def _data(self, index: _Index, role: int) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._models):
            return None
        m = self._models[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return m.name
        if role == MODEL_ROLE:
            return m
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [m.name, f"{m.version_count} version{'s' if m.version_count != 1 else ''}"
                     + (f", latest v{m.latest_version}" if m.latest_version else "")]
            lines += [f"{stage}: {text}" for stage, text in stage_summary(m)]
            if warnings := model_alias_warnings(m):
                lines.append(WARNING_MARK + warnings.replace("\n", "\n" + WARNING_MARK))
            if m.description:
                lines.append(m.description)
            return "\n".join(lines)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            stages = "; ".join(f"{s} {t}" for s, t in stage_summary(m))
            return f"{m.name}, latest version {m.latest_version or 'none'}" + (f", {stages}" if stages else "")
        if role == Qt.ItemDataRole.UserRole:
            return m.name.lower()
        return None

    def set_models(self, models: list[RegisteredModel], next_versions: dict[str, int] | None = None) -> None:
        self.next_versions = dict(next_versions or {})
        if [m.name for m in models] == [m.name for m in self._models]:
            self._models = list(models)
            if models:
                self.dataChanged.emit(self.index(0), self.index(len(models) - 1))
            return
        self.beginResetModel()
        self._models = list(models)
        self.endResetModel()

    def names(self) -> list[str]:
        return [m.name for m in self._models]

    def row_of(self, name: str | None) -> int:
        for i, m in enumerate(self._models):
            if m.name == name:
                return i
        return -1

    def get(self, name: str) -> RegisteredModel | None:
        row = self.row_of(name)
        return self._models[row] if row >= 0 else None


class VersionsTableModel(QAbstractTableModel):
    """One model's versions, newest first. Aliases and description cells are editable."""

    COLUMNS = ("Version", "Stage", "Aliases", "Created", "Run", "sha256", "Description")
    VERSION, STAGE, ALIASES, CREATED, RUN, SHA, DESCRIPTION = range(7)
    edit_requested = Signal(str, int, str, object)  # model name, version, "aliases"/"description", value
    edit_rejected = Signal(str)  # why an edit was refused (a bad alias)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[VersionRow] = []

    # Every override is total (errors.override_failed): PySide6 segfaults when one raises.

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self._rows)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("VersionsTableModel.rowCount")
            return 0

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self.COLUMNS)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("VersionsTableModel.columnCount")
            return 0

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        try:
            if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                    and 0 <= section < len(self.COLUMNS)):
                return self.COLUMNS[section]
            return None
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("VersionsTableModel.headerData")
            return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        try:
            flags = super().flags(index)
            if index.isValid() and index.column() in (self.ALIASES, self.DESCRIPTION):
                flags |= Qt.ItemFlag.ItemIsEditable
            return flags
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("VersionsTableModel.flags")
            return Qt.ItemFlag.NoItemFlags

    def data(self, index: _Index, role: int = 0) -> Any:
        try:
            return variant_safe(self._data(index, role))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("VersionsTableModel.data")
            return None

    def _data(self, index: _Index, role: int) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        v, col = row.version, index.column()
        if role == MODEL_ROLE:
            return v
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == Qt.ItemDataRole.EditRole:
            if col == self.ALIASES:
                return ", ".join(v.aliases)
            if col == self.DESCRIPTION:
                return v.description
            return self._display(row, col)
        if role == Qt.ItemDataRole.UserRole:
            return (v.version, STAGE_ORDER.get(v.current_stage, 9), ",".join(v.aliases), v.creation_timestamp,
                    (row.run_name or "").lower(), row.digest, v.description.lower())[col]
        if role == Qt.ItemDataRole.AccessibleTextRole and col == self.ALIASES:
            return "  ".join(f"@{a}" for a in v.aliases) + (f". {version_alias_warnings(v)}" if archived(v) else "")
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.SHA and row.digest:
                what = "sha256" if row.files == 1 else f"digest of {row.files} files (path + sha256 of each)"
                return f"{what}: {row.digest}"
            if col == self.RUN and v.run_id:
                how = {"sha256": "found by content hash", "manifest": "named by the model's manifest",
                       "model": "copied from another version"}.get(v.run_link or "", "")
                return f"run {v.run_id}" + (f" ({how})" if how else "")
            if col == self.ALIASES:
                warnings = version_alias_warnings(v)
                return (warnings + "\n\n" if warnings else "") + "Double-click to edit: aliases separated by commas"
            if col == self.DESCRIPTION:
                return v.description or "Double-click to add a description"
            return None
        return None

    def _display(self, row: VersionRow, col: int) -> str:
        v = row.version
        if col == self.VERSION:
            return f"v{v.version}"
        if col == self.STAGE:
            return v.current_stage
        if col == self.ALIASES:
            return "  ".join(f"@{a}" for a in v.aliases)
        if col == self.CREATED:
            return format_time(v.creation_timestamp)
        if col == self.RUN:
            return row.run_name or (v.run_id[:8] if v.run_id else "—")
        if col == self.SHA:
            return row.digest[:12]
        return v.description

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        try:
            return self._set_data(index, value, role)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("VersionsTableModel.setData")
            return False

    def _set_data(self, index: _Index, value: Any, role: int) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or not 0 <= index.row() < len(self._rows):
            return False
        row, col = self._rows[index.row()], index.column()
        v = row.version
        text = "" if value is None else str(value)
        if col == self.ALIASES:
            try:
                aliases = parse_aliases(text)
            except ValueError as e:
                self.edit_rejected.emit(str(e))
                return False
            if aliases == v.aliases:
                return False
            new = replace(v, aliases=aliases)
            self.edit_requested.emit(v.name, v.version, "aliases", aliases)
        elif col == self.DESCRIPTION:
            text = text.strip()
            if text == v.description:
                return False
            new = replace(v, description=text)
            self.edit_requested.emit(v.name, v.version, "description", text)
        else:
            return False
        self._rows[index.row()] = VersionRow(new, row.run_name, row.digest, row.files)  # shown until the reload
        self.dataChanged.emit(index, index)
        return True

    def set_rows(self, rows: list[VersionRow]) -> None:
        if [r.version.version for r in rows] == [r.version.version for r in self._rows]:
            self._rows = list(rows)
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(self.COLUMNS) - 1))
            return
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def version_at(self, row: int) -> ModelVersion | None:
        return self._rows[row].version if 0 <= row < len(self._rows) else None

    def row_of(self, version: int) -> int:
        for i, r in enumerate(self._rows):
            if r.version.version == version:
                return i
        return -1

    def versions(self) -> list[ModelVersion]:
        return [r.version for r in self._rows]


_ACTIONS = {
    "create_model": "Model created", "register": "Registered", "stage": "Stage", "alias_set": "Alias set",
    "alias_delete": "Alias removed", "description": "Description", "tag_set": "Tag set",
    "tag_delete": "Tag removed", "rename": "Renamed", "delete": "Deleted", "restore": "Restored",
}


def history_row(e: HistoryEntry) -> list[Any]:
    """[when, version, what happened, by, comment] for the history table."""
    what = _ACTIONS.get(e.action, e.action)
    if e.action == "stage":
        what = f"{e.from_value} → {e.to_value}"
    elif e.action == "alias_set":
        what = f"@{e.key} → v{e.to_value}" + (f" (was v{e.from_value})" if e.from_value else "")
    elif e.action == "alias_delete":
        what = f"@{e.key} removed"
    elif e.action == "register":
        what = f"Registered from {e.from_value}"
    elif e.action == "description":
        what = f"Description: {e.to_value!r}" if e.to_value else "Description cleared"
    elif e.action in ("tag_set", "tag_delete"):
        what = f"{what}: {e.key}" + (f" = {e.to_value}" if e.to_value is not None else "")
    elif e.action == "rename":
        what = f"Renamed {e.from_value} → {e.to_value}"
    elif e.action == "trust":
        what = f"Trusted on load: {e.to_value}"
    elif e.action == "merge":
        what = f"Versions merged from {e.from_value}"
    return [format_time(e.timestamp, seconds=True), f"v{e.version}" if e.version else "", what, e.user,
            e.comment or ""]
