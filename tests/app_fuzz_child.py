"""The app's fuzz, run by tests/test_app_fuzz.py in a child pytest process: PySide6 segfaults
when a model override raises, and a crash here must fail one test, not end the whole run.

Not collected on its own (its name does not start with ``test_``).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QAbstractListModel, Qt

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE
from malformed_strategies import runs_dirs, same_number, texts, write_runs

from app.shell import errors
from app.runs.model import RunsTableModel
from app.common.table_model import TableModel
from app.runs.experiments import ExperimentsModel
from tracker.entities import MetricSummary, Run, RunData, RunInfo, UnreadableRun

pytestmark = OFFSCREEN_NOISE

ROLES = [int(r) for r in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.EditRole,
                          Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.TextAlignmentRole,
                          Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ForegroundRole)]
ROLES += [int(Qt.ItemDataRole.UserRole) + n for n in range(4)]
ORDERS = (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder)


def _drive(model) -> None:
    """Every sort, then every cell in every role and every header: what views and delegates ask."""
    columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount()
    for sort_column in range(-1, columns + 1):
        for order in ORDERS:
            model.sort(sort_column, order)
            assert model.rowCount() >= 0
    for row in range(-1, model.rowCount() + 1):
        for column in range(-1, columns + 1):
            for role in ROLES:
                model.index(row, column).data(role)
    for orientation in (Qt.Orientation.Horizontal, Qt.Orientation.Vertical):
        for section in range(-1, columns + 2):
            for role in ROLES:
                model.headerData(section, orientation, role)


@pytest.fixture(autouse=True)
def fresh_failures():
    errors._failed_overrides.clear()
    yield


@settings(max_examples=35, deadline=None, suppress_health_check=list(HealthCheck))
@given(planned=runs_dirs(max_runs=5))
def test_the_window_lists_every_run_of_a_fuzzed_directory_and_survives_every_cell(qtbot, planned):
    from app.shell.window import MainWindow
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        write_runs(root, planned)
        window = MainWindow(root)
        qtbot.addWidget(window)
        window.show()
        model = window.runs_model
        qtbot.waitUntil(lambda: model.total_count() == len(planned) and not window.progress.isVisible(),
                        timeout=15000)
        for plan in planned:
            run = model.get(plan.run_id)
            if plan.kind == "good":
                assert isinstance(run, Run), run
                assert (run.info.run_name, run.info.experiment) == (plan.name, plan.experiment)
                for key, summary in plan.doc["metrics"].items():
                    assert same_number(run.data.metrics[key], summary["last"])
            elif plan.kind == "bad":
                assert isinstance(run, UnreadableRun), (plan.why, run)
        params, metrics = model.available_keys()
        window.runs_view.set_columns([f"params.{k}" for k in params] + [f"metrics.{k}" for k in metrics])
        table = window.runs_view.table
        for column in range(model.columnCount()):  # through the view: Python below the override
            for order in ORDERS:
                table.sortByColumn(column, order)
        _drive(model)
        for plan in planned:  # the details page (and its tables) of every run
            assert window.select_run(plan.run_id)
            qtbot.waitUntil(lambda: window.details.run() is not None, timeout=15000)
            for view_model in window.details.findChildren(TableModel):
                _drive(view_model)
            window.grab()
        _drive(window.experiments.experiments_model)
        for name in [None, *window.experiments.experiments_model.names()]:
            window.experiments.select(name)
            window.grab()
        window.close()
    assert errors._failed_overrides == set()  # valid data never needed the safety net


# Anything JSON holds, with integers a QVariant can carry (a bigger one fails in PySide's
# conversion after the override has returned: the models turn top-level ones into floats,
# and run.json's check keeps them out of everything else).
anything = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 63, 2 ** 63 - 1) | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3), max_leaves=6)
top_level = anything | st.integers(min_value=2 ** 63) | st.integers(max_value=-2 ** 63 - 1)


def _garbage_run(draw, n: int) -> Run:
    """A Run whose fields hold anything at all: what the models would get if a check were missed."""
    value = lambda: draw(top_level)  # noqa: E731
    metrics = {draw(texts): value() for _ in range(draw(st.integers(0, 3)))}
    # nesting needs it hashable: run.json's check says text
    parent = draw(st.none() | texts | st.just(f"{n - 1:032x}"))
    info = RunInfo(f"{n:032x}", value(), value(), value(), draw(st.integers(0, 2 ** 40)), value(), "", parent,
                   value(), value(), value(), value(), value())
    summaries = {k: MetricSummary(k, v, value(), value(), value(), value(), value()) for k, v in metrics.items()}
    return Run(info, RunData({draw(texts): value()}, {draw(texts): value()}, metrics, summaries), f"/x/{n:032x}")


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_models_never_raise_whatever_they_hold(qtbot, data):
    runs = [_garbage_run(data.draw, n) for n in range(data.draw(st.integers(1, 4)))]
    runs.append(UnreadableRun("f" * 32, "/x/" + "f" * 32, data.draw(texts)))
    model = RunsTableModel()
    model.set_runs(runs)
    params, metrics = model.available_keys()
    model.set_extra_columns([f"params.{k}" for k in params] + [f"metrics.{k}" for k in metrics])
    _drive(model)
    assert model.rowCount() == len(runs)
    table = TableModel(["key", "value"])
    table.set_rows([[data.draw(top_level), data.draw(top_level)] for _ in range(3)])
    _drive(table)
    experiments = ExperimentsModel()
    experiments.set_experiments([(data.draw(top_level), data.draw(top_level)) for _ in range(2)],
                                data.draw(top_level))
    _drive(experiments)
