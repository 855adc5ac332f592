"""The compare view: params and metrics table, differing-rows filter, scatter and parallel coordinates."""
import pytest
from PySide6.QtCore import QLoggingCategory, QPointF, QSettings, Qt

import tracker
from app.plots import CompareView
from app.plots.compare_charts import Axis
from app.plots.compare_model import HEADER
from app.runs.colors import palette

QLoggingCategory.setFilterRules("qt.pyside.libpyside.warning=true")
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def log_run(name, params, metrics):
    with tracker.start_run(run_name=name) as run:
        tracker.log_params(params)
        tracker.log_metrics(metrics)
    return run.info.run_id


@pytest.fixture
def runs():
    log_run("a", {"lr": 0.1, "optimizer": "adam", "seed": 1}, {"accuracy": 0.8, "loss": 0.5})
    log_run("b", {"lr": 0.01, "optimizer": "adam", "seed": 1}, {"accuracy": 0.9, "loss": 0.5})
    log_run("c", {"lr": 0.001, "optimizer": "sgd", "seed": 1, "momentum": 0.9}, {"accuracy": 0.7, "loss": 0.5})
    return sorted(tracker.Client().search_runs(), key=lambda r: r.info.run_name)


@pytest.fixture
def view(qtbot, tmp_path):
    widget = CompareView(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    return widget


def visible_keys(view):
    proxy = view.proxy
    # the key (UserRole); section rows have only their title (metric rows show an arrow after the key)
    return [proxy.index(r, 0).data(Qt.ItemDataRole.UserRole) or proxy.index(r, 0).data()
            for r in range(proxy.rowCount())]


def test_table_lists_params_and_metrics_per_run(view, runs):
    view.set_runs(runs)
    model = view.model
    assert model.columnCount() == 4
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in (1, 2, 3)] == ["a", "b", "c"]
    assert visible_keys(view) == ["Parameters", "lr", "momentum", "optimizer", "seed",
                                  "Metrics", "accuracy", "loss"]
    lr = visible_keys(view).index("lr")
    assert [view.proxy.index(lr, c).data() for c in (1, 2, 3)] == ["0.1", "0.01", "0.001"]
    assert view.proxy.index(lr, 3).data(Qt.ItemDataRole.UserRole) == 0.001  # numbers sort as numbers
    momentum = visible_keys(view).index("momentum")
    assert view.proxy.index(momentum, 1).data() == "—"  # a run without the param
    assert model.row(0).kind == HEADER and view.table.columnSpan(0, 0) == 4


def test_hide_rows_where_all_runs_agree(view, runs):
    view.set_runs(runs)
    view.only_differing.setChecked(True)
    # seed and loss are equal everywhere; momentum is missing in two runs, so it differs
    assert visible_keys(view) == ["Parameters", "lr", "momentum", "optimizer", "Metrics", "accuracy"]
    assert view.table.columnSpan(4, 0) == 4  # the "Metrics" section row still spans the table
    assert "2 equal rows hidden" in view.table_note.text()
    view.set_runs(runs[:1])  # one run: nothing to compare, nothing hidden
    assert "seed" in visible_keys(view)
    view.only_differing.setChecked(False)
    view.set_runs(runs)
    assert "seed" in visible_keys(view)


def test_only_differing_persists(qtbot, tmp_path, runs):
    path = str(tmp_path / "persist.ini")
    first = CompareView(settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.only_differing.setChecked(True)
    second = CompareView(settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second.only_differing.isChecked() and second.proxy.only_differing


def test_scatter_one_point_per_run_and_click_selects(qtbot, view, runs):
    view.set_runs(runs)
    view.show_chart("scatter")
    view.select_scatter("params.lr", "metrics.accuracy")
    spots = view.scatter.points.points()
    assert len(spots) == 3
    by_run = {s.data(): (s.pos().x(), s.pos().y()) for s in spots}
    a = runs[0].info.run_id
    assert by_run[a] == pytest.approx((-1.0, 0.8))  # lr spans three decades: log10 axis
    assert {s.brush().color().name() for s in spots} <= set(palette())

    spot = next(s for s in spots if s.data() == a)
    view.scatter.grab()  # lay out and auto-range before mapping data to pixels
    scene_pos = view.scatter.points.mapToScene(spot.pos())
    widget_pos = view.scatter.mapFromScene(scene_pos)
    with qtbot.waitSignal(view.run_clicked, timeout=2000) as blocker:
        qtbot.mouseClick(view.scatter.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos)
    assert blocker.args == [a]


def test_scatter_axis_is_not_rescaled_after_a_theme_change(qtbot, view, runs):
    from app.shell.theme import palette
    view.set_runs(runs)
    view.select_scatter("params.lr", "metrics.accuracy")
    view.setPalette(palette("dark"))  # the theme changing: the charts restyle
    left = view.scatter.getPlotItem().getAxis("left")
    assert left.autoSIPrefixScale == 1.0 and left.labelUnitPrefix == ""


def test_scatter_categorical_param_and_missing_values(view, runs):
    view.set_runs(runs)
    view.select_scatter("params.optimizer", "metrics.loss")
    xs = sorted(s.pos().x() for s in view.scatter.points.points())
    assert [round(x) for x in xs] == [0, 0, 1]  # adam, adam, sgd (spread a little within the category)
    view.select_scatter("params.momentum", "metrics.loss")
    assert len(view.scatter.points.points()) == 1
    assert "2 runs without both values" in view.scatter_note.text()


def test_parallel_coordinates_one_line_per_run(qtbot, view, runs):
    view.set_runs(runs)
    assert view.parallel_params() == ["lr", "momentum", "optimizer"]  # the differing params
    view.set_parallel_params(["lr", "optimizer"])
    view.parallel_metric.setCurrentIndex(view.parallel_metric.findData("metrics.accuracy"))
    assert view.parallel.run_ids == [r.info.run_id for r in runs]
    b = runs[1].info.run_id  # lr 0.01 (middle of log range), adam, 0.9 (max)
    x, y = view.parallel.polyline(b)
    assert x == [0, 1, 2] and y == pytest.approx([0.5, 0.0, 1.0])
    view.parallel.grab()  # lay out before mapping data to pixels
    vb = view.parallel.getPlotItem().vb
    widget_pos = view.parallel.mapFromScene(vb.mapViewToScene(QPointF(0.5, 0.25)))  # on b's line only
    with qtbot.waitSignal(view.run_clicked) as blocker:
        qtbot.mouseClick(view.parallel.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos)
    assert blocker.args == [b]


def test_axis_kinds():
    assert Axis(["1", "2", None]).categorical is False
    assert Axis(["adam", "sgd"]).categories == ["adam", "sgd"]
    log = Axis(["0.1", "0.001"])
    assert log.log and log.normalized().tolist() == [1.0, 0.0]
    assert not Axis(["1", "10"]).log  # a factor of 10 stays linear
    assert Axis(["3", "3"]).normalized().tolist() == [0.5, 0.5]


def test_values_near_the_float_limit_plot_without_an_infinite_range(qtbot, view):
    # A span of 3.4e308 overflows to inf: such an axis lists the values as categories instead.
    huge = {"a": 1.7e308, "b": -1.7e308, "c": 1.0}
    for name, value in huge.items():
        log_run(name, {"scale": value}, {"loss": value})
    runs = sorted(tracker.Client().search_runs(), key=lambda r: r.info.run_name)
    errors = []
    import sys
    hook, sys.excepthook = sys.excepthook, lambda *exc: errors.append(exc)
    try:
        view.set_runs(runs)
        view.select_scatter("params.scale", "metrics.loss")
        view.grab()  # pyqtgraph ranges the view when it is first painted
        view.grab()
    finally:
        sys.excepthook = hook
    assert errors == []
    assert len(view.scatter.points.points()) == 3
    assert Axis([1.7e308, -1.7e308, 1.0]).categorical
