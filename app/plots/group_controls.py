"""The grouping controls (group by a param or tag, centre, band) and the groups' legend."""
from __future__ import annotations

import html

from PySide6.QtCore import QSettings, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from .grouping import BAND_MINMAX, BAND_NONE, BAND_STD, CENTER_MEAN, CENTER_MEDIAN, NO_GROUP, GroupSpec
from .controls import choice_combo
from .series_math import natural_key

_CENTERS = ((CENTER_MEAN, "Mean"), (CENTER_MEDIAN, "Median"))
_BANDS = ((BAND_MINMAX, "Min–max band"), (BAND_STD, "±1 std band"), (BAND_NONE, "No band"))
_HIDDEN_TAG_PREFIXES = ("tracker.", "mlflow.")  # the system's own tags: not what one groups by


def load_group_spec(qs: QSettings) -> GroupSpec:
    by, center, band = (str(qs.value(f"plots/group_{k}", d) or "") for k, d in
                        (("by", NO_GROUP), ("center", CENTER_MEAN), ("band", BAND_MINMAX)))
    return GroupSpec(by if by.startswith(("param:", "tag:")) else NO_GROUP,
                     center if center in dict(_CENTERS) else CENTER_MEAN,
                     band if band in dict(_BANDS) else BAND_MINMAX)


def save_group_spec(qs: QSettings, spec: GroupSpec) -> None:
    qs.setValue("plots/group_by", spec.by)
    qs.setValue("plots/group_center", spec.center)
    qs.setValue("plots/group_band", spec.band)


def group_choices(runs) -> list[tuple[str, str]]:
    """``(value, text)`` for every param and user tag of ``runs``, params first."""
    params = {k for r in runs for k in r.data.params}
    tags = {k for r in runs for k in r.data.tags if not k.startswith(_HIDDEN_TAG_PREFIXES)}
    return ([(f"param:{k}", k) for k in sorted(params, key=natural_key)]
            + [(f"tag:{k}", f"tag {k}") for k in sorted(tags, key=natural_key)])


class GroupControls(QWidget):
    """Emits ``spec_changed(GroupSpec)``."""

    spec_changed = Signal(object)

    def __init__(self, spec: GroupSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plotGrouping")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        label = QLabel("Group", self)
        self.by = QComboBox(self)
        self.by.setObjectName("plotGroupBy")
        self.by.setAccessibleName("Group runs by")
        self.by.setToolTip("One line per group of runs with the same value of a param or tag")
        label.setBuddy(self.by)
        self.center = self._combo("plotGroupCenter", "Group line", _CENTERS, spec.center)
        self.band = self._combo("plotGroupBand", "Group band", _BANDS, spec.band)
        for w in (label, self.by, self.center, self.band):
            row.addWidget(w)
        self._current = spec.by
        self.set_choices([])
        self.by.currentIndexChanged.connect(self._on_changed)

    def _combo(self, name: str, accessible: str, choices, current: str) -> QComboBox:
        return choice_combo(self, name, accessible, choices, current, self._on_changed)

    def set_choices(self, choices: list[tuple[str, str]]) -> None:
        """The params and tags of the shown runs; a chosen one they lack stays listed."""
        if self._current and self._current not in dict(choices):
            choices = [*choices, (self._current, self._current.partition(":")[2])]
        have = [(self.by.itemData(i), self.by.itemText(i)) for i in range(1, self.by.count())]
        if have == choices and self.by.count():
            return
        self.by.blockSignals(True)
        self.by.clear()
        self.by.addItem("No grouping", NO_GROUP)
        for value, text in choices:
            self.by.addItem(text, value)
        self.by.setCurrentIndex(max(0, self.by.findData(self._current)))
        self.by.blockSignals(False)
        self._sync()

    def spec(self) -> GroupSpec:
        return GroupSpec(self.by.currentData() or NO_GROUP, self.center.currentData(), self.band.currentData())

    def set_spec(self, spec: GroupSpec) -> None:
        """Choose a grouping (tests, restoring); emits ``spec_changed`` once."""
        for w in (self.by, self.center, self.band):
            w.blockSignals(True)
        self._current = spec.by
        if spec.by and self.by.findData(spec.by) < 0:
            self.by.addItem(spec.by.partition(":")[2], spec.by)
        self.by.setCurrentIndex(max(0, self.by.findData(spec.by)))
        self.center.setCurrentIndex(max(0, self.center.findData(spec.center)))
        self.band.setCurrentIndex(max(0, self.band.findData(spec.band)))
        for w in (self.by, self.center, self.band):
            w.blockSignals(False)
        self._on_changed()

    def _sync(self) -> None:
        on = bool(self.by.currentData())
        self.center.setVisible(on)
        self.band.setVisible(on)

    @Slot()
    def _on_changed(self) -> None:
        self._current = self.by.currentData() or NO_GROUP
        self._sync()
        self.spec_changed.emit(self.spec())


class GroupLegend(QLabel):
    """One entry per group: its colour, value and size."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plotGroupLegend")
        self.setAccessibleName("Groups shown in the charts")
        self.setWordWrap(True)
        self.entries: list[tuple[str, int]] = []
        self.hide()

    def set_groups(self, by: str, groups: list[tuple[str, int, QColor]]) -> None:
        self.entries = [(label, size) for label, size, _ in groups]
        name = html.escape(by.partition(":")[2])
        parts = [f"<span style='color:{c.name()}'>■</span> {name}={html.escape(label)} "
                 f"<span style='color:gray'>({size} run{'s' if size != 1 else ''})</span>"
                 for label, size, c in groups]
        self.setText("&nbsp;&nbsp;&nbsp; ".join(parts))
        self.setVisible(bool(groups))
