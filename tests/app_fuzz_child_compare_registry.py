"""The compare table and the registry panel's models over odd values, run by tests/test_app_fuzz.py
in a child pytest process: PySide6 segfaults when an override raises, and a crash here must fail
one test, not end the whole run.

Objects the library can hand out (text params, float metrics, registry entities with their
declared types) must never need the overrides' safety net; objects holding anything at all
(what a missed check would let through) must only never crash.

Not collected on its own (its name does not start with ``test_``).
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QListView, QTableView

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE
from app_fuzz_child import _drive, top_level
from malformed_strategies import texts

from app.shell import errors
from app.plots.compare_model import CompareTableModel, DifferingRowsProxy
from app.registry.delegates import AliasDelegate, DescriptionDelegate, ModelItemDelegate, StageDelegate
from app.registry.item_models import ModelsListModel, VersionsTableModel, history_row
from app.registry.jobs import VersionRow
from app.common.table_model import TableModel
from tracker.entities import MetricSummary, Run, RunData, RunInfo
from tracker.registry import HistoryEntry, ModelVersion, RegisteredModel
from tracker.registry.entities import STAGES

pytestmark = OFFSCREEN_NOISE

# Text as run.json can carry it (JSON escapes give lone surrogates), numbers spelled as text.
odd_texts = texts | st.sampled_from(["a\ud800b", "\udfff", "x" * 5000, "1e999", "9" * 400, "-0", "nan", "NaN",
                                     "inf", "-inf", "0x1f", "1_000", "\u00a0 3 "])
odd_floats = st.floats() | st.sampled_from([1e308, -1e308, 5e-324, -0.0, float("nan"), float("inf"), float("-inf")])
int64 = st.integers(-2 ** 63, 2 ** 63 - 1)
versions = st.integers(-2 ** 31, 2 ** 31 - 1)  # the edit signal carries a version as a C int
timestamps = int64 | st.integers(0, 253_402_128_000_000)
keys = st.sampled_from(["lr", "layer2", "layer10", "loss"]) | odd_texts  # shared keys: rows that differ or agree


@pytest.fixture(autouse=True)
def fresh_failures():
    errors._failed_overrides.clear()
    yield


def _run(draw, n: int, value, metric) -> Run:
    """A Run as the library makes one, with the values drawn (``value`` for params, ``metric``)."""
    metrics = {draw(keys): draw(metric) for _ in range(draw(st.integers(0, 4)))}
    info = RunInfo(f"{n:032x}", draw(odd_texts), draw(odd_texts), "FINISHED", draw(st.integers(0, 2 ** 40)), None, "")
    summaries = {k: MetricSummary(k, v, v, v, 1, 0, 0) for k, v in metrics.items()}
    params = {draw(keys): draw(value) for _ in range(draw(st.integers(0, 4)))}
    return Run(info, RunData(params, {}, metrics, summaries), f"/x/{n:032x}")


def _version(draw, name, stage, text, number, when) -> VersionRow:
    version = ModelVersion(
        name=draw(name), version=draw(number), current_stage=draw(stage), aliases=draw(st.lists(text, max_size=3)),
        run_id=draw(st.none() | text), description=draw(text), creation_timestamp=draw(when),
        run_link=draw(st.none() | st.sampled_from(["run", "sha256", "manifest", "model"]) | text))
    return VersionRow(version, draw(st.none() | text), draw(text), draw(number))


def _registered(draw, text, number, stage) -> RegisteredModel:
    return RegisteredModel(
        name=draw(text), description=draw(text), aliases=draw(st.dictionaries(text, number, max_size=3)),
        latest_version=draw(st.none() | number), version_count=draw(number),
        stage_versions=draw(st.dictionaries(stage, st.lists(number, max_size=5), max_size=4)))


def _history(draw, text, number, when) -> HistoryEntry:
    action = draw(st.sampled_from(["create_model", "register", "stage", "alias_set", "alias_delete", "description",
                                   "tag_set", "tag_delete", "rename", "delete", "restore", "trust"]) | text)
    return HistoryEntry(draw(number), draw(text), draw(st.none() | number), action, draw(st.none() | text),
                        draw(st.none() | text), draw(text), draw(when), draw(st.none() | text), draw(st.none() | text))


def _show(qtbot, view, model, delegates=()) -> None:
    """``model`` in ``view``, painted: Python (grab) below the overrides, as in the app."""
    view.setModel(model)
    for column, delegate in delegates:
        view.setItemDelegateForColumn(column, delegate(view))
    qtbot.addWidget(view)
    view.resize(640, 300)
    view.show()
    if isinstance(view, QTableView):
        view.resizeColumnsToContents()
    view.grab()


def _edit_every_cell(model: VersionsTableModel, values: list) -> None:
    for row in range(-1, model.rowCount() + 1):
        for column in range(-1, model.columnCount() + 1):
            for value in values:
                model.setData(model.index(row, column), value, Qt.ItemDataRole.EditRole)
                model.setData(model.index(row, column), value, Qt.ItemDataRole.DisplayRole)
    model.setData(QModelIndex(), "x")


def _drive_compare(qtbot, runs: list[Run]) -> None:
    model = CompareTableModel()
    model.set_runs(runs)
    _drive(model)
    proxy = DifferingRowsProxy()
    proxy.setSourceModel(model)
    for only in (True, False, True):
        proxy.set_only_differing(only)
        _drive(proxy)
    for row in range(-1, model.rowCount() + 1):
        for column in range(-1, model.columnCount() + 1):
            model.flags(model.index(row, column))
    _show(qtbot, QTableView(), proxy)


def _drive_registry(qtbot, models: list[RegisteredModel], rows: list[VersionRow], edits: list,
                    history: list[HistoryEntry]) -> None:
    listed = ModelsListModel()
    listed.set_models(models)
    _drive(listed)
    _show(qtbot, QListView(), listed, [(0, ModelItemDelegate)])
    versions = VersionsTableModel()
    versions.set_rows(rows)
    _drive(versions)
    for row in range(-1, versions.rowCount() + 1):
        for column in range(-1, versions.columnCount() + 1):
            versions.flags(versions.index(row, column))
    _show(qtbot, QTableView(), versions, [(VersionsTableModel.STAGE, StageDelegate),
                                          (VersionsTableModel.ALIASES, AliasDelegate),
                                          (VersionsTableModel.DESCRIPTION, DescriptionDelegate)])
    _edit_every_cell(versions, edits)
    _drive(versions)
    table = TableModel(["When", "Version", "What", "By", "Comment"])
    table.set_rows([history_row(e) for e in history])
    _drive(table)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_odd_values_the_library_can_hold_never_need_the_safety_net(qtbot, data):
    draw = data.draw
    runs = [_run(draw, n, odd_texts, odd_floats) for n in range(draw(st.integers(0, 4)))]
    _drive_compare(qtbot, runs)
    stage = st.sampled_from(STAGES) | odd_texts
    number = int64
    models = [_registered(draw, odd_texts, number, stage) for _ in range(draw(st.integers(0, 3)))]
    rows = [_version(draw, odd_texts, stage, odd_texts, versions, timestamps) for _ in range(draw(st.integers(0, 3)))]
    history = [_history(draw, odd_texts, number, timestamps) for _ in range(draw(st.integers(0, 3)))]
    edits = draw(st.lists(st.none() | odd_texts | st.just("champion, candidate") | int64, max_size=3))
    _drive_registry(qtbot, models, rows, edits, history)
    assert errors._failed_overrides == set()  # valid objects never needed the safety net


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_compare_and_registry_models_never_crash_whatever_they_hold(qtbot, data):
    draw = data.draw
    runs = [_run(draw, n, top_level, top_level) for n in range(draw(st.integers(1, 4)))]
    model = CompareTableModel()
    model.set_runs(runs)
    _drive(model)
    _show(qtbot, QTableView(), model)
    anything = top_level
    models = [RegisteredModel(name=draw(anything), description=draw(anything), aliases=draw(anything),
                              latest_version=draw(anything), version_count=draw(anything),
                              stage_versions=draw(anything)) for _ in range(draw(st.integers(1, 3)))]
    # (A version beyond a C int cannot go out with edit_requested: the panel's slot takes an int.)
    version = anything.filter(lambda v: type(v) is not int or -2 ** 31 <= v < 2 ** 31)
    rows = [_version(draw, anything, anything, anything, version, anything) for _ in range(draw(st.integers(1, 3)))]
    history = [_history(draw, anything, anything, anything) for _ in range(draw(st.integers(0, 2)))]
    listed = ModelsListModel()
    listed.set_models(models)
    _drive(listed)
    _show(qtbot, QListView(), listed, [(0, ModelItemDelegate)])
    versions = VersionsTableModel()
    versions.set_rows(rows)
    _drive(versions)
    _show(qtbot, QTableView(), versions, [(VersionsTableModel.STAGE, StageDelegate),
                                          (VersionsTableModel.ALIASES, AliasDelegate)])
    _edit_every_cell(versions, [draw(anything) for _ in range(2)])
    table = TableModel(["When", "Version", "What", "By", "Comment"])
    try:
        table.set_rows([history_row(e) for e in history])
    except Exception:  # noqa: BLE001 - history_row is plain Python, called by the panel (not an override):
        pass  # raising there is no crash
    _drive(table)
