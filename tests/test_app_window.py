"""The main window on real runs directories written with the fluent API."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QMessageBox

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, names_shown, open_window, write_unreadable

import tracker
from app.shell.window import MainWindow

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def no_dialogs(monkeypatch):
    """Any modal message box fails the test."""
    def fail(*args, **kwargs):
        raise AssertionError(f"a dialog was opened: {args[1:3]}")
    for name in ("critical", "warning", "information", "question", "about"):
        monkeypatch.setattr(QMessageBox, name, fail)
    monkeypatch.setattr(QMessageBox, "exec", fail)


@pytest.fixture
def three_runs(runs_root):
    log_run("small", "exp-a", params={"depth": "9"}, metrics={"acc": 0.91})
    log_run("big", "exp-a", params={"depth": "10"}, metrics={"acc": 0.71}, tags={"stage": "prod"})
    log_run("other", "exp-b", params={"depth": "100"}, metrics={"acc": 0.95})
    return runs_root


def test_window_shows_the_runs_of_a_directory(qtbot, three_runs):
    window = open_window(qtbot, three_runs, 3)
    assert sorted(names_shown(window)) == ["big", "other", "small"]
    assert window.pages.currentWidget() is window.browser
    tabs = window.details.tabs  # (the Artifacts tab is built when first shown)
    tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i).startswith("Artifacts")))
    for name in ("experimentList", "runsTable", "runFilter", "runDetails", "artifactTree"):
        widget = window.findChild(object, name)
        assert widget is not None, name
        assert widget.accessibleName(), name
    assert window.runs_view.count_label.text() == "3 runs"
    assert window.details.run() is not None  # the newest run is selected and shown


def test_experiment_selection_filters_the_table(qtbot, three_runs):
    window = open_window(qtbot, three_runs, 3)
    model = window.experiments.experiments_model
    shown = [(model.index(r).data(), model.index(r).data(Qt.ItemDataRole.UserRole + 1))
             for r in range(model.rowCount())]
    assert shown[0] == ("All runs", 3)
    assert ("exp-a", 2) in shown and ("exp-b", 1) in shown
    window.experiments.select("exp-b")
    qtbot.waitUntil(lambda: names_shown(window) == ["other"])
    assert window.runs_view.count_label.text() == "1 of 3 runs"
    window.experiments.select(None)
    qtbot.waitUntil(lambda: len(names_shown(window)) == 3)


def test_sorting_numeric_param_and_metric_columns(qtbot, three_runs):
    window = open_window(qtbot, three_runs, 3)
    window.runs_view.set_columns(["params.depth", "metrics.acc"])
    model = window.runs_model
    header = window.runs_view.table.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=header.rect().center() * 0 + _section_center(header, model.column_index("params.depth")))
    order = names_shown(window)
    assert order in (["small", "big", "other"], ["other", "big", "small"])  # 9 < 10 < 100
    window.runs_view.table.sortByColumn(model.column_index("metrics.acc"), Qt.SortOrder.DescendingOrder)
    assert names_shown(window) == ["other", "small", "big"]


def _section_center(header, section):
    from PySide6.QtCore import QPoint
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    return QPoint(x, header.height() // 2)


def test_grammar_and_plain_text_filters(qtbot, three_runs, no_dialogs):
    window = open_window(qtbot, three_runs, 3)
    box = window.findChild(object, "runFilter")
    qtbot.keyClicks(box, "metrics.acc > 0.9")
    qtbot.waitUntil(lambda: sorted(names_shown(window)) == ["other", "small"])
    box.setText("params.depth = 10")
    qtbot.waitUntil(lambda: names_shown(window) == ["big"])
    box.setText("prod")  # plain text: names and tags
    qtbot.waitUntil(lambda: names_shown(window) == ["big"])
    box.setText("SMA")
    qtbot.waitUntil(lambda: names_shown(window) == ["small"])
    assert window.runs_view.filter_error() == ""


def test_bad_expression_shows_inline_error_and_no_dialog(qtbot, three_runs, no_dialogs):
    window = open_window(qtbot, three_runs, 3)
    box = window.runs_view.filter_edit
    box.setText("metrics.acc > 0.9")
    qtbot.waitUntil(lambda: len(names_shown(window)) == 2)
    box.setText("metrics.acc >")
    qtbot.waitUntil(lambda: window.runs_view.filter_error() != "")
    assert "Position 13" in window.runs_view.filter_error()
    assert box.property("invalid") is True
    assert len(names_shown(window)) == 2  # the last good filter stays applied
    box.setText("metrics.acc > 0.5")
    qtbot.waitUntil(lambda: window.runs_view.filter_error() == "")
    assert box.property("invalid") is False


def test_unreadable_run_is_listed_with_a_warning_and_its_reason(qtbot, three_runs):
    write_unreadable(three_runs, "e" * 32)
    window = open_window(qtbot, three_runs, 4)
    assert "e" * 32 in names_shown(window)
    assert window.runs_view.select_run("e" * 32)
    details = window.details
    qtbot.waitUntil(lambda: details.title.text() == "Unreadable run")
    texts = [w.text() for w in details.overview.findChildren(type(details.title))]
    assert any("damaged" in t for t in texts)
    assert not details.tabs.isTabEnabled(1)
    assert "could not be read" in window.statusBar().currentMessage()


def test_nested_run_shows_under_its_parent(qtbot, runs_root):
    log_run("first", "exp")
    with tracker.start_run(run_name="parent", experiment="exp"):
        with tracker.start_run(run_name="child", experiment="exp", nested=True):
            pass
    log_run("last", "exp")
    window = open_window(qtbot, runs_root, 4)
    shown = names_shown(window)
    assert shown[shown.index("\u25be parent") + 1] == "\u21b3 child"
    child_id = next(r.info.run_id for r in window.runs_model.runs() if r.info.run_name == "child")
    window.runs_view.select_run(child_id)
    link = [w for w in window.details.overview.findChildren(type(window.details.title)) if "href" in w.text()]
    assert link and "parent" in link[0].text()


def test_columns_and_geometry_persist_across_windows(qtbot, three_runs):
    window = open_window(qtbot, three_runs, 3)
    window.runs_view.set_columns(["params.depth"])
    window.runs_view.toggle_column("user", False)
    window.resize(QSize(760, 540))
    window.splitter.setSizes([300, 444])
    window.close()
    again = open_window(qtbot, three_runs, 3)
    assert again.runs_model.extra_columns() == ["params.depth"]
    assert again.runs_view.table.isColumnHidden(again.runs_model.column_index("user"))
    assert again.size() == QSize(760, 540)
    assert again.splitter.sizes()[0] == 300
    assert again.settings.recent_directories()[0] == str(three_runs)


def test_welcome_page_without_a_directory_and_for_an_empty_one(qtbot, tmp_path):
    window = open_window(qtbot, None)
    assert window.pages.currentWidget() is window.welcome
    assert "import tracker" in window.welcome.code.toPlainText()
    empty = tmp_path / "empty"
    empty.mkdir()
    window.open_directory(empty)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.welcome)
    assert "No runs" in window.welcome.title.text()
    assert window.welcome.demo_button.accessibleName()


def test_create_demo_runs_from_the_welcome_page(qtbot, tmp_path, monkeypatch):
    import tracker.demo

    def fake_demo(root, progress=None):
        tracker.set_tracking_dir(root)
        log_run("demo-run", "demo")
    monkeypatch.setattr(tracker.demo, "write_demo_runs", fake_demo)
    empty = tmp_path / "empty"
    empty.mkdir()
    window = open_window(qtbot, empty, 0)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.welcome)
    qtbot.mouseClick(window.welcome.demo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: names_shown(window) == ["demo-run"], timeout=10000)
    assert window.pages.currentWidget() is window.browser


def test_export_csv_writes_the_visible_rows_and_columns(qtbot, three_runs, tmp_path, monkeypatch):
    window = open_window(qtbot, three_runs, 3)
    window.runs_view.set_columns(["params.depth", "metrics.acc"])
    window.runs_view.toggle_column("commit", False)
    window.runs_view.filter_edit.setText("metrics.acc > 0.8")
    qtbot.waitUntil(lambda: len(names_shown(window)) == 2)
    target = tmp_path / "out.csv"
    monkeypatch.setattr(MainWindow, "_ask_save_path", lambda self, *a: str(target))
    window.export_action.trigger()
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["name"] for r in rows] == names_shown(window)
    assert set(rows[0]) == {"run_id", "status", "name", "experiment", "started", "duration_s", "user",
                            "params.depth", "metrics.acc"}
    by_name = {r["name"]: r for r in rows}
    assert by_name["small"]["params.depth"] == "9"
    assert float(by_name["other"]["metrics.acc"]) == 0.95
    assert by_name["small"]["status"] == "FINISHED"
    assert len(by_name["small"]["run_id"]) == 32


def test_artifact_preview_of_json_and_csv(qtbot, runs_root):
    log_run("with-files", artifacts={"config.json": {"layers": [1, 2], "act": "relu"},
                                     "data/table.csv": "a,b\n1,2\n3,4\n"})
    window = open_window(qtbot, runs_root, 1)
    artifacts = window.details.artifacts
    window.details.tabs.setCurrentWidget(artifacts)
    root = artifacts.root()
    assert root is not None and root.name == "artifacts"
    qtbot.waitUntil(lambda: artifacts.index_of(root / "config.json").isValid())
    assert artifacts.select(root / "config.json")
    qtbot.waitUntil(lambda: artifacts.current_preview_kind() == "text")
    assert '"layers": [\n    1,' in artifacts.text_view.toPlainText()
    qtbot.waitUntil(lambda: artifacts.index_of(root / "data" / "table.csv").isValid())
    artifacts.select(root / "data" / "table.csv")
    qtbot.waitUntil(lambda: artifacts.current_preview_kind() == "table")
    model = artifacts.table_model
    assert model.headerData(0, Qt.Orientation.Horizontal) == "a"
    assert model.rows() == [["1", "2"], ["3", "4"]]


def test_artifact_context_menu_copies_and_reveals(qtbot, runs_root, monkeypatch):
    log_run("with-files", artifacts={"notes.txt": "hello"})
    window = open_window(qtbot, runs_root, 1)
    opened, copied = [], []
    monkeypatch.setattr("app.shell.desktop.open_url", lambda url: opened.append(url.toLocalFile()) or True)
    monkeypatch.setattr("app.shell.desktop.copy_text", copied.append)
    path = str(window.details.artifacts.root() / "notes.txt")
    menu = window.details.artifacts.context_menu(path)
    actions = {a.text(): a for a in menu.actions()}
    actions["Copy Path"].trigger()
    actions["Reveal in File Manager"].trigger()
    assert copied == [path]
    assert opened == [str(Path(path).parent)]


def test_copy_run_id_and_view_saved_diff(qtbot, runs_root, monkeypatch):
    with tracker.start_run(run_name="dirty") as run:
        tracker.log_text("diff --git a/x b/x\n+added line\n", "tracker/git_diff.patch")
        tracker.set_tags({"tracker.source.git.commit": "0123456789abcdef", "tracker.source.git.branch": "main",
                          "tracker.source.git.dirty": "true",
                          "tracker.source.git.diff": "tracker/git_diff.patch"})
    window = open_window(qtbot, runs_root, 1)
    copied = []
    monkeypatch.setattr("app.shell.desktop.copy_text", copied.append)
    window.runs_view.select_run(run.info.run_id)
    qtbot.mouseClick(window.details.copy_id_button, Qt.MouseButton.LeftButton)
    assert copied == [run.info.run_id]
    button = window.details.findChild(object, "viewDiffButton")
    assert button is not None and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    diff = window.details.diff_window
    qtbot.waitUntil(lambda: diff is not None and diff.isVisible())
    assert "+added line" in diff.text.toPlainText()
    assert not diff.isModal()
    diff.close()


def test_failed_run_shows_its_error(qtbot, runs_root):
    run_id = log_run("crashed", fail=True)
    window = open_window(qtbot, runs_root, 1)
    window.runs_view.select_run(run_id)
    error = window.details.findChild(object, "errorText")
    assert error is not None and "boom" in error.toPlainText()


def test_live_updates_add_runs_and_keep_the_selection(qtbot, three_runs):
    from app.runs.source import RunsUpdate
    from tracker.index import RunIndex
    window = open_window(qtbot, three_runs, 3)
    selected = window.runs_model.run_at(1).info.run_id
    window.runs_view.select_run(selected)
    new_id = log_run("newest", "exp-c")
    table = RunIndex(three_runs).patch(window.runs_model.table(), [new_id])  # what the source's worker sends
    window.source.runs_changed.emit(RunsUpdate(table, [new_id]))
    assert names_shown(window)[0] == "newest"
    assert window.runs_view.current_run().info.run_id == selected
    names = [window.experiments.experiments_model.index(r).data()
             for r in range(window.experiments.experiments_model.rowCount())]
    assert "exp-c" in names
    without = table.patched(type(table).empty(table.root), [new_id])
    window.source.runs_changed.emit(RunsUpdate(without, [], [new_id]))
    window.source.runs_removed.emit([new_id])
    assert "newest" not in names_shown(window)
    assert window.runs_view.current_run().info.run_id == selected


def test_about_lists_versions(qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    window = open_window(qtbot, None)
    window._show_about()
    for name in ("tracker", "Qt", "PySide6", "pyqtgraph", "Python"):
        assert name in shown[0]


def test_open_directory_uses_the_dialog_method(qtbot, three_runs, monkeypatch):
    monkeypatch.setattr(MainWindow, "_ask_directory", lambda self, start: str(three_runs))
    window = open_window(qtbot, None)
    window.open_action.trigger()
    qtbot.waitUntil(lambda: window.runs_model.total_count() == 3)
    assert window.runs_dir == three_runs


def test_missing_directory_gives_a_status_message(qtbot, tmp_path):
    window = open_window(qtbot, None)
    window.open_directory(tmp_path / "nope")
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.welcome)
    assert "nope" in window.statusBar().currentMessage()


def test_every_interactive_control_has_an_accessible_name(qtbot, runs_root):
    from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox,
                                   QComboBox, QHeaderView, QLineEdit, QPlainTextEdit, QTabWidget)
    log_run("failed-one", fail=True, artifacts={"a.txt": "x"})
    window = open_window(qtbot, runs_root, 1)
    kinds = (QAbstractButton, QLineEdit, QAbstractItemView, QPlainTextEdit, QTabWidget, QComboBox,
             QAbstractSpinBox, QAbstractSlider)
    missing = []
    from PySide6.QtWidgets import QWidget
    for widget in (w for w in window.findChildren(QWidget) if isinstance(w, kinds)):
        grandparent = widget.parent().parent()
        if (isinstance(widget, QHeaderView) or widget.parent().inherits("QLineEdit")
                or widget.parent().inherits("QAbstractSpinBox") or widget.inherits("QScrollBar")
                or isinstance(grandparent, QComboBox) or widget.objectName().startswith("qt_")):
            continue  # Qt's own parts: a header, a clear button, a combo's popup list, a scroll bar
        if isinstance(widget, QAbstractButton) and widget.text():
            continue  # a button's text is its accessible name
        if not widget.accessibleName():
            missing.append(f"{type(widget).__name__} {widget.objectName()!r}")
    assert not missing


def test_ten_thousand_runs_filter_and_sort(qtbot):
    import uuid

    from tracker.entities import Run, RunData, RunInfo
    runs = []
    for i in range(10_000):
        run_id = uuid.uuid4().hex
        info = RunInfo(run_id, f"run-{i}", f"exp-{i % 7}", "FINISHED", 1_700_000_000_000 + i, None, "")
        data = RunData({"depth": str(i % 13), "opt": "adam"}, {"team": f"t{i % 3}"},
                       {"acc": (i % 101) / 100})
        runs.append(Run(info, data, f"/nowhere/{run_id}"))
    from app.runs.model import RunsTableModel
    from app.runs.view import RunsView
    model = RunsTableModel()
    view = RunsView(model)
    qtbot.addWidget(view)
    view.show()
    model.set_runs(runs)
    view.set_columns(["params.depth", "metrics.acc"])
    # (Speed is bench/bench_app.py's to measure; a long pass goes on from the event loop.)
    view.filter_edit.setText("metrics.acc > 0.5 and params.depth = 3")
    view.apply_filter()
    qtbot.waitUntil(lambda: not model.is_filtering())
    assert model.visible_count() == sum(1 for i in range(10_000) if (i % 101) / 100 > 0.5 and i % 13 == 3)
    view.table.sortByColumn(model.column_index("metrics.acc"), Qt.SortOrder.DescendingOrder)
    view.filter_edit.setText("t1")
    view.apply_filter()
    qtbot.waitUntil(lambda: not model.is_filtering())
    assert model.visible_count() == sum(1 for i in range(10_000) if i % 3 == 1)
    column = model.column_index("metrics.acc")
    shown = [model.index(r, column).data(Qt.ItemDataRole.UserRole) for r in range(model.rowCount())]
    assert shown == sorted(shown, reverse=True)


def test_parent_link_selects_the_parent_even_when_filtered_out(qtbot, runs_root):
    with tracker.start_run(run_name="parent", experiment="exp") as parent:
        with tracker.start_run(run_name="child", experiment="exp", nested=True) as child:
            pass
    window = open_window(qtbot, runs_root, 2)
    window.runs_view.filter_edit.setText("child")
    qtbot.waitUntil(lambda: names_shown(window) == ["child"])
    window.runs_view.select_run(child.info.run_id)
    window.details.runRequested.emit(parent.info.run_id)  # what clicking the link does
    assert window.details.run().info.run_id == parent.info.run_id
    assert window.runs_view.filter_edit.text() == ""


def test_view_menu_hides_panels_and_remembers(qtbot, three_runs):
    window = open_window(qtbot, three_runs, 3)
    window.show_experiments_action.setChecked(False)
    window.show_details_action.setChecked(False)
    assert not window.experiments_panel.isVisible() and not window.details.isVisible()
    window.close()
    again = open_window(qtbot, three_runs, 3)
    assert not again.show_experiments_action.isChecked()
    assert not again.experiments_panel.isVisible()
    again.show_experiments_action.setChecked(True)
    assert again.experiments_panel.isVisible()


def test_open_recent_and_theme_choice(qtbot, three_runs, tmp_path, qapp):
    from app.shell import theme
    other = tmp_path / "other"
    other.mkdir()
    window = open_window(qtbot, other, 0)
    window.open_directory(three_runs)
    qtbot.waitUntil(lambda: window.runs_model.total_count() == 3)
    window._fill_recent_menu()
    entries = [a.text() for a in window.recent_menu.actions() if a.text()]
    assert entries[:2] == [str(three_runs), str(other)]
    next(a for a in window.recent_menu.actions() if a.text() == str(other)).trigger()
    qtbot.waitUntil(lambda: window.runs_dir == other)
    try:
        dark = next(a for a in window.theme_actions.actions() if a.data() == "dark")
        dark.trigger()
        assert theme.is_dark() and window.settings.get_str("appearance/theme") == "dark"
    finally:
        theme.apply_theme(qapp, "system")
        qapp.setStyleSheet("")


def test_the_details_page_is_built_when_the_first_run_is_shown(qtbot, runs_root):
    from app.details.page import RunDetails
    details = RunDetails()
    qtbot.addWidget(details)
    details.set_run(None)
    assert not details.built and "tabs" not in details.__dict__  # start-up pays nothing for it
    assert details.stack.currentWidget() is details.placeholder
    details.set_run(tracker.get_run(log_run("shown")))
    assert details.built and details.tabs.count() == 6 and details.title.text() == "shown"
    assert details.stack.currentWidget() is not details.placeholder

    explicit = RunDetails()
    qtbot.addWidget(explicit)
    explicit.build()  # what a caller does to reach a part before any run is shown
    explicit.build()  # once
    assert explicit.built and explicit.tabs.tabText(4) == "Artifacts"
    with pytest.raises(AttributeError):
        RunDetails().tabs  # noqa: B018 (no part exists before the page is built)


def test_after_loading_the_newest_run_is_shown_in_the_details(qtbot, runs_root):
    log_run("older")
    log_run("newest", params={"lr": "0.1"})
    window = open_window(qtbot, runs_root, 2)
    qtbot.waitUntil(lambda: window.details.built and window.details.run() is not None)
    assert window.details.run().info.run_name == "newest"
    assert window.details.title.text() == "newest"
    assert window.details.params_model.rowCount() == 1

