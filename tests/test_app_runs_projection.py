"""The runs table opens on the stored table, then shows what changed on disk: while the app was
closed (after the first paint) and while it is open. The user's selection survives both."""
from __future__ import annotations

import shutil
import threading

import pytest

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, names_shown, open_window

import tracker
from tracker.index import RunIndex
from tracker.writer import RunWriter

pytestmark = OFFSCREEN_NOISE


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def checks(monkeypatch):
    """An event that lets the check of the stored table (``RunIndex.refresh``) go: clear it to hold checks."""
    go = threading.Event()
    go.set()
    real = RunIndex.refresh

    def refresh(self, *args, **kwargs):
        go.wait(15)
        return real(self, *args, **kwargs)
    monkeypatch.setattr(RunIndex, "refresh", refresh)
    yield go
    go.set()


def _current_name(window) -> str | None:
    run = window.runs_view.current_run()
    return None if run is None else run.info.run_name


def _selected_names(window) -> list[str]:
    return sorted(r.info.run_name for r in window.runs_view.selected_runs())


def test_a_selection_made_on_the_stored_table_survives_its_check(qtbot, runs_root, checks):
    ids = {name: log_run(name, params={"i": str(i)}, metrics={"acc": i / 10})
           for i, name in enumerate(["keep", "pick", "changed", "doomed"])}
    window = open_window(qtbot, runs_root, 4)  # writes the index
    window.close()
    # while the app is closed: a run changes, one is deleted, one is added
    writer = RunWriter.resume(runs_root, ids["changed"])
    writer.log_metric("acc", 0.99)
    writer.end()
    shutil.rmtree(runs_root / ids["doomed"])
    added = log_run("added", metrics={"acc": 0.5})

    checks.clear()
    try:
        again = open_window(qtbot, runs_root, 4)  # the stored table, shown before it is checked
        assert sorted(names_shown(again)) == ["changed", "doomed", "keep", "pick"]
        again.runs_view.set_columns(["metrics.acc"])
        model, view = again.runs_model, again.runs_view
        assert view.select_run(ids["pick"])  # the user picks runs at once
        flags = view.table.selectionModel().SelectionFlag
        view.table.selectionModel().select(model.index(model.row_of(ids["keep"]), 0), flags.Select | flags.Rows)
        resets = []
        model.modelReset.connect(lambda: resets.append(1))
    finally:
        checks.set()  # now the check runs and what changed comes in
    qtbot.waitUntil(lambda: sorted(names_shown(again)) == ["added", "changed", "keep", "pick"], timeout=10_000)
    acc = model.column_index("metrics.acc")
    qtbot.waitUntil(lambda: model.index(model.row_of(ids["changed"]), acc).data() == "0.99")
    assert _current_name(again) == "pick"
    assert _selected_names(again) == ["keep", "pick"]
    assert model.get(added).info.run_name == "added"
    assert not resets  # rows moved in place: no reset
    experiments = again.experiments.experiments_model
    assert experiments.index(0).data(257) == 4  # "All runs" counts the checked table


def test_runs_added_changed_and_removed_while_open_keep_the_selection(qtbot, runs_root):
    ids = {name: log_run(name, metrics={"acc": 0.1}) for name in ["a", "c"]}
    writer = RunWriter.create(runs_root, "b", "Default")  # still running while the app is open
    writer.log_metric("acc", 0.1)
    writer.flush()
    ids["b"] = writer.run_id
    window = open_window(qtbot, runs_root, 3)
    window.runs_view.set_columns(["metrics.acc"])
    assert window.runs_view.select_run(ids["b"])
    writer.log_metric("acc", 0.75)
    writer.flush()
    shutil.rmtree(runs_root / ids["a"])
    with tracker.start_run(run_name="d"):
        tracker.log_metric("acc", 0.3)
    acc = window.runs_model.column_index("metrics.acc")
    qtbot.waitUntil(lambda: sorted(names_shown(window)) == ["b", "c", "d"], timeout=15_000)
    qtbot.waitUntil(lambda: window.runs_model.index(window.runs_model.row_of(ids["b"]), acc).data() == "0.75",
                    timeout=15_000)
    assert _current_name(window) == "b" and _selected_names(window) == ["b"]
    assert window.details.run().info.run_name == "b"
    assert window.details.run().data.metrics["acc"] == 0.75  # the details page follows its run
    writer.end()
    qtbot.waitUntil(lambda: window.details.run().info.status == "FINISHED", timeout=15_000)
    assert _current_name(window) == "b"


def test_a_sort_and_a_filter_keep_the_selection(qtbot, runs_root):
    for i in range(30):
        log_run(f"r{i:02d}", params={"kind": "odd" if i % 2 else "even"}, metrics={"acc": (i * 7 % 30) / 30})
    window = open_window(qtbot, runs_root, 30)
    window.runs_view.set_columns(["metrics.acc"])
    target = next(r.info.run_id for r in window.runs_model.runs() if r.info.run_name == "r07")
    assert window.runs_view.select_run(target)
    model = window.runs_model
    window.runs_view.table.sortByColumn(model.column_index("metrics.acc"), window.runs_view.table
                                        .horizontalHeader().sortIndicatorOrder().AscendingOrder)
    assert _current_name(window) == "r07"
    window.runs_view.filter_edit.setText("params.kind LIKE '%d%'")
    qtbot.waitUntil(lambda: len(names_shown(window)) == 15)
    assert _current_name(window) == "r07" and _selected_names(window) == ["r07"]
    shown = [model.index(r, model.column_index("metrics.acc")).data(256) for r in range(model.rowCount())]
    assert shown == sorted(shown)


def test_copy_run_ids_of_the_selected_rows_in_table_order(qtbot, runs_root, monkeypatch):
    ids = [log_run(f"r{i}") for i in range(3)]
    window = open_window(qtbot, runs_root, 3)
    copied = []
    monkeypatch.setattr("app.shell.desktop.copy_text", copied.append)
    view, model = window.runs_view, window.runs_model
    flags = view.table.selectionModel().SelectionFlag
    view.table.selectionModel().clearSelection()
    for run_id in (ids[0], ids[2]):
        view.table.selectionModel().select(model.index(model.row_of(run_id), 0), flags.Select | flags.Rows)
    view.copy_run_ids()
    assert copied == [f"{ids[2]}\n{ids[0]}"]  # newest first, as shown
