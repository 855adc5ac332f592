"""Charts reordered by dragging one onto another (its handle's data dropped on the other's
slot); the order is kept per experiment."""
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

import tracker
from app_fixtures import OFFSCREEN_NOISE
from plots_panel_fixtures import make_panel

pytestmark = OFFSCREEN_NOISE


def event(kind, target, mime):
    """A drag event at the target's centre (QPointF in PySide6 6.12, QPoint in 6.11)."""
    centre = target.rect().center()
    args = (Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    try:
        return kind(QPointF(centre), *args)
    except TypeError:
        return kind(QPoint(centre), *args)


def drop(target, mime):
    """Enter, move and drop, as a drag does (QDrag.exec() blocks: never started in tests)."""
    for kind in (QDragEnterEvent, QDragMoveEvent, QDropEvent):
        QApplication.sendEvent(target, event(kind, target, mime))


def test_drag_a_chart_before_another_and_the_order_persists(qtbot, tmp_path):
    with tracker.start_run(run_name="r"):
        for key in ("alpha", "beta", "gamma", "train/x", "train/y"):
            tracker.log_metric(key, 1.0, step=0)
    panel = make_panel(qtbot, tmp_path / "s.ini")
    panel.set_runs(tracker.Client().search_runs())
    assert panel.visible_keys() == ["alpha", "beta", "gamma", "train/x", "train/y"]
    gamma = panel._slots["gamma"]
    drop(panel._slots["alpha"], gamma.handle.mimeData())
    assert panel.visible_keys() == ["gamma", "alpha", "beta", "train/x", "train/y"]
    drop(panel._slots["train/x"], panel._slots["train/y"].handle.mimeData())
    assert panel.visible_keys() == ["gamma", "alpha", "beta", "train/y", "train/x"]
    panel.shutdown()
    again = make_panel(qtbot, tmp_path / "s.ini")
    again.set_runs(tracker.Client().search_runs())
    assert again.visible_keys() == ["gamma", "alpha", "beta", "train/y", "train/x"]
    again.shutdown()
