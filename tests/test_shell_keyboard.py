"""Keyboard use of the main window: Tab moves between regions and never walks the runs table's
cells, arrows move within the table, shortcuts open Run, Charts and Compare, and the focused
widget shows a focus ring in both themes."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

from app.shell import theme

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def window(qtbot, runs_root):
    for i in range(30):  # more rows than a Tab walk through the cells could leave
        log_run(f"run-{i:02}", params={"lr": str(i)}, metrics={"loss": 1.0 / (i + 1)})
    win = open_window(qtbot, runs_root, 30)
    win.resize(1024, 700)
    win.activateWindow()
    qtbot.waitUntil(lambda: win.isActiveWindow())
    qtbot.waitUntil(lambda: win.runs_view.current_run() is not None)
    yield win
    win.close()


def _focused():
    return QApplication.focusWidget()


def _press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(_focused(), key, modifier)


def _inside(widget, container) -> bool:
    return widget is container or container.isAncestorOf(widget)


def _selected_ids(window) -> list[str]:
    return [r.info.run_id for r in window.runs_view.selected_runs()]


def test_tab_from_the_filter_box_reaches_the_charts_controls_and_shift_tab_comes_back(qtbot, window):
    model = window.runs_model
    window.select_run(model.run_id_at(4))
    chosen = _selected_ids(window)
    window.page_actions[1].trigger()  # View > Charts (Alt+2)
    assert window.lower_tabs.currentWidget() is window.plots
    window.runs_view.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
    visited = [_focused()]
    while not _inside(_focused(), window.plots.controls):
        _press(qtbot, Qt.Key.Key_Tab)
        visited.append(_focused())
        assert _selected_ids(window) == chosen  # Tab never changes the selected run
        assert len(visited) <= 6, [w.objectName() or type(w).__name__ for w in visited]
    table = window.runs_view.table
    assert visited.count(table) == 1  # one press into the table, one out of it
    assert visited[visited.index(table) + 1] is window.lower_tabs.tabBar()
    assert _focused() is window.plots.controls.key_filter
    while _focused() is not window.runs_view.filter_edit:
        _press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
        assert _selected_ids(window) == chosen
        assert len(visited) <= 12
        visited.append(_focused())
    _press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert _inside(_focused(), window.experiments_panel)  # the region before the filter box


def test_tab_leaves_the_runs_table_at_once_and_arrows_move_within_it(qtbot, window):
    table = window.runs_view.table
    table.setFocus(Qt.FocusReason.MouseFocusReason)
    first = _selected_ids(window)
    _press(qtbot, Qt.Key.Key_Down)
    assert _focused() is table and _selected_ids(window) != first  # arrows move the current run
    moved = _selected_ids(window)
    _press(qtbot, Qt.Key.Key_Tab)
    assert _focused() is window.lower_tabs.tabBar() and _selected_ids(window) == moved
    _press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert _focused() is table and _selected_ids(window) == moved


def test_tab_wraps_through_every_region_and_into_the_registry(qtbot, window):
    window.show_registry_action.trigger()  # Ctrl+3: the registry tab in front
    qtbot.waitUntil(lambda: window.registry_panel.isVisible())
    window.experiments.setFocus(Qt.FocusReason.ShortcutFocusReason)
    regions = [window.experiments_panel, window.runs_view.filter_edit, window.runs_view.table,
               window.lower_tabs.tabBar(), window.registry_panel]
    reached = set()
    for _ in range(60):
        _press(qtbot, Qt.Key.Key_Tab)
        reached |= {i for i, region in enumerate(regions) if _inside(_focused(), region)}
        if _inside(_focused(), window.experiments_panel) and len(reached) == len(regions):
            break
    assert reached == set(range(len(regions)))
    assert _inside(_focused(), window.experiments_panel)  # wrapped round


def test_shortcuts_open_run_charts_and_compare_and_the_menus_say_so(qtbot, window):
    texts = {a.text().replace("&", ""): a.shortcut().toString() for a in window.view_menu.actions()}
    assert texts["Run"] == "Alt+1" and texts["Charts"] == "Alt+2" and texts["Compare"] == "Alt+3"
    assert texts["Model Registry"] == "Ctrl+3"
    tabs = window.lower_tabs
    window.runs_view.table.setFocus()
    for key, page in ((Qt.Key.Key_2, 1), (Qt.Key.Key_3, 2), (Qt.Key.Key_1, 0)):
        qtbot.keyClick(_focused(), key, Qt.KeyboardModifier.AltModifier)
        assert tabs.currentIndex() == page
    assert "Alt+2" in tabs.tabToolTip(1) and QKeySequence("Ctrl+3").toString() in tabs.tabToolTip(3)
    window.show_details_action.setChecked(False)  # a tab's shortcut shows the lower panel again
    qtbot.keyClick(_focused(), Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    assert tabs.isVisible() and tabs.currentIndex() == 2


@pytest.mark.parametrize("name", ["light", "dark"])
def test_the_focused_region_shows_a_ring_in_the_highlight_color(qtbot, qapp, window, name):
    theme.apply_theme(qapp, name)
    try:
        ring_color = window.palette().color(QPalette.ColorRole.Highlight)
        for widget in (window.experiments, window.runs_view.filter_edit, window.runs_view.table,
                       window.lower_tabs.tabBar()):
            widget.setFocus(Qt.FocusReason.TabFocusReason)
            qtbot.waitUntil(lambda w=widget: window.keyboard.ring.target is w)
            image = window.grab().toImage()
            rect = window.keyboard.ring.ring_rect()
            assert rect.width() > 10 and rect.height() > 10
            edges = [rect.topLeft(), rect.bottomRight(), rect.center().__class__(rect.left(), rect.center().y()),
                     rect.center().__class__(rect.center().x(), rect.bottom())]
            for point in edges:
                assert image.pixelColor(point).name() == ring_color.name(), (widget.objectName(), point)
    finally:
        theme.apply_theme(qapp, "system")
        qapp.setStyleSheet("")


def test_a_dialog_of_the_window_shows_the_ring_too(qtbot, window):
    from PySide6.QtWidgets import QDialog, QLineEdit, QPushButton, QVBoxLayout

    dialog = QDialog(window)
    edit, button = QLineEdit(dialog), QPushButton("OK", dialog)
    layout = QVBoxLayout(dialog)
    layout.addWidget(edit)
    layout.addWidget(button)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.isActiveWindow())
    button.setFocus(Qt.FocusReason.TabFocusReason)

    def ringed() -> bool:
        ring = dialog.findChild(QWidget, "focusRing")
        return ring is not None and ring.target is button and ring.isVisible()

    qtbot.waitUntil(ringed)
    assert not window.keyboard.ring.isVisible()  # one ring at a time
    dialog.close()


def test_keys_go_to_the_runs_table_when_the_window_opens(qtbot, window):
    assert _focused() is window.runs_view.table
    before = _selected_ids(window)
    _press(qtbot, Qt.Key.Key_Down)
    assert _selected_ids(window) != before
