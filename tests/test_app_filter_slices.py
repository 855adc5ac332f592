"""A filter that takes long never holds the GUI thread: it runs a slice at a time from the event
loop, shows "Filtering...", and ends with exactly the rows a one-pass filter selects."""
from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel

from app_fixtures import *  # noqa: F401,F403

import app.runs_model as runs_model
from app.run_rows import Row, RowFilter
from app.runs_model import RUN_ROLE, RunsTableModel
from tracker.filter_compile import ValueColumns
from test_app_runs_model import make_run


def _runs(n: int = 1_000) -> list:
    # Every 7th value ends the way the pattern wants: a slow LIKE (with '_') over long text.
    return [make_run(f"r{i}", start=i, params={"text": "a" * 300 + ("a_b" if i % 7 == 0 else "c")},
                     run_id=f"{i:032x}") for i in range(n)]


def _ids(model: RunsTableModel) -> list[str]:
    return [model.index(r, 0).data(RUN_ROLE).info.run_id for r in range(model.rowCount())]


def test_a_slow_filter_runs_in_slices_and_shows_the_same_rows(qtbot, monkeypatch):
    monkeypatch.setattr(runs_model, "FILTER_SLICE_SECONDS", 0.0)  # every slice yields to the event loop
    model = RunsTableModel()
    runs = _runs()
    model.set_runs(runs)
    before = _ids(model)
    row_filter = RowFilter(None, "params.text LIKE '%a_a_b'")
    model.set_filter(row_filter)
    assert model.is_filtering()
    assert _ids(model) == before  # the previous rows stay until the pass is done
    qtbot.waitUntil(lambda: not model.is_filtering(), timeout=10_000)
    expected = {r.run.info.run_id for r in row_filter.select(ValueColumns([Row(run) for run in runs], "row"))}
    assert set(_ids(model)) == expected and len(expected) == len(range(0, 1_000, 7))


def test_a_new_filter_during_a_slow_pass_replaces_it(qtbot, monkeypatch):
    monkeypatch.setattr(runs_model, "FILTER_SLICE_SECONDS", 0.0)
    model = RunsTableModel()
    model.set_runs(_runs())
    model.set_filter(RowFilter(None, "params.text LIKE '%a_a_b'"))
    assert model.is_filtering()
    model.set_filter(RowFilter(None, "params.text LIKE '%c'"))
    qtbot.waitUntil(lambda: not model.is_filtering(), timeout=10_000)
    assert len(_ids(model)) == 1_000 - len(range(0, 1_000, 7))


def test_the_selection_survives_a_sliced_filter(qtbot, monkeypatch):
    monkeypatch.setattr(runs_model, "FILTER_SLICE_SECONDS", 0.0)
    model = RunsTableModel()
    model.set_runs(_runs())
    selection = QItemSelectionModel(model)
    target = f"{7:032x}"
    row = _ids(model).index(target)
    selection.select(model.index(row, 0), QItemSelectionModel.SelectionFlag.Select)
    model.set_filter(RowFilter(None, "params.text LIKE '%a_a_b'"))
    qtbot.waitUntil(lambda: not model.is_filtering(), timeout=10_000)
    selected = [model.index(i.row(), 0).data(RUN_ROLE).info.run_id for i in selection.selectedIndexes()]
    assert selected == [target]


def test_live_updates_during_a_slow_pass_do_not_restart_it_forever(qtbot, monkeypatch):
    monkeypatch.setattr(runs_model, "FILTER_SLICE_SECONDS", 0.0)
    model = RunsTableModel()
    runs = _runs()
    model.set_runs(runs)
    model.set_filter(RowFilter(None, "params.text LIKE '%a_a_b'"))
    first = model._filtering
    extra = [make_run(f"new{i}", start=10_000 + i, params={"text": "a" * 300 + "a_b"},
                      run_id=f"{10_000 + i:032x}") for i in range(3)]
    for run in extra:  # a writer's flushes arrive while the pass runs
        model.upsert([run])
        assert model._filtering is first  # the same pass goes on
    qtbot.waitUntil(lambda: not model.is_filtering(), timeout=10_000)
    shown = set(_ids(model))
    assert {run.info.run_id for run in extra} <= shown  # the rerun picked up the new runs
    assert len(shown) == len(range(0, 1_000, 7)) + 3
