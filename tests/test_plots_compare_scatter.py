"""The compare scatter: runs on one spot stay visible and hovering counts them, clicking a point
selects its run in the window, and the axes' titles always name what is drawn."""
import pytest
from PySide6.QtCore import QSettings, Qt

import tracker
from app.plots import CompareView
from app.plots.compare_charts import ALPHA
from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def view(qtbot, tmp_path):
    widget = CompareView(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.show()
    widget.show_chart("scatter")
    return widget


def test_runs_on_one_spot_stay_visible_and_are_counted(view):
    for name in ("a", "b", "c"):  # a and b: the same params and metric, one spot
        log_run(name, params={"lr": 0.1 if name != "c" else 0.2, "opt": "adam"},
                metrics={"acc": 0.9 if name != "c" else 0.7})
    runs = sorted(tracker.Client().search_runs(), key=lambda r: r.info.run_name)
    view.set_runs(runs)
    view.select_scatter("params.lr", "metrics.acc")
    view.scatter.grab()
    spots = view.scatter.points.points()
    assert len(spots) == 3
    assert all(s.brush().color().alpha() == ALPHA < 255 for s in spots)  # the one below shows through
    a = next(s for s in spots if s.data() == runs[0].info.run_id)
    assert view.scatter.count_at(a.pos().x(), a.pos().y()) == 2
    assert "2 runs here" in view.scatter._tip(a.pos().x(), a.pos().y(), a.data())
    c = next(s for s in spots if s.data() == runs[2].info.run_id)
    assert "runs here" not in view.scatter._tip(c.pos().x(), c.pos().y(), c.data())
    # a categorical x: runs of one category are spread within it, each at its own place every time
    view.select_scatter("params.opt", "metrics.acc")
    xs = [s.pos().x() for s in view.scatter.points.points()]
    assert len(set(xs)) == 3 and all(abs(x) < 0.2 for x in xs)
    view.select_scatter("params.lr", "metrics.acc")
    view.select_scatter("params.opt", "metrics.acc")
    assert [s.pos().x() for s in view.scatter.points.points()] == xs


def test_axis_titles_name_what_is_drawn(view):
    log_run("a", params={"lr": 0.1, "opt": "adam"}, metrics={"acc": 0.9, "loss": 0.3})
    log_run("b", params={"lr": 0.001, "opt": "sgd"}, metrics={"acc": 0.8, "loss": 0.4})
    runs = tracker.Client().search_runs()
    view.set_runs(runs)
    view.select_scatter("params.lr", "metrics.acc")
    assert view.scatter.titles() == ("lr (log)", "acc")
    view.select_scatter("metrics.loss", "metrics.loss")
    assert view.scatter.titles() == ("loss (metric)", "loss")
    view.select_scatter("params.opt", "metrics.acc")
    assert view.scatter.titles() == ("opt", "acc")
    view.set_runs([])  # nothing to draw: no titles of what was drawn before
    assert view.scatter.titles() == ("", "") and view.scatter.points.points().size == 0


def test_clicking_a_point_selects_its_run(qtbot, runs_root):
    ids = [log_run(n, params={"lr": lr}, metrics={"acc": acc})
           for n, lr, acc in (("a", 0.1, 0.5), ("b", 0.01, 0.9), ("c", 0.001, 0.7))]
    window = open_window(qtbot, runs_root)
    window.runs_view.table.selectAll()
    compare = window.compare
    window.lower_tabs.setCurrentWidget(compare)
    compare.show_chart("scatter")
    compare.select_scatter("params.lr", "metrics.acc")
    scatter = compare.scatter
    qtbot.waitUntil(lambda: scatter.isVisible() and scatter.height() > 60)
    scatter.grab()
    spot = next(s for s in scatter.points.points() if s.data() == ids[1])
    pos = scatter.mapFromScene(scatter.points.mapToScene(spot.pos()))
    qtbot.mouseClick(scatter.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: [r.info.run_id for r in window.runs_view.selected_runs()] == [ids[1]])
