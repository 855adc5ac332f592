"""Charts and compare inside the main window: the selected runs are plotted, colors match the table."""
from PySide6.QtCore import QItemSelectionModel, Qt

import tracker
from app.runs.colors import color_for
from app_fixtures import *  # noqa: F403
from app_fixtures import open_window


def log_curve(name, values, lr):
    with tracker.start_run(run_name=name) as run:
        tracker.log_param("lr", lr)
        for v in values:
            tracker.log_metric("loss", v)
    return run.info.run_id


def test_selecting_runs_plots_them_in_their_table_colors(qtbot, runs_root):
    a = log_curve("a", [3.0, 2.0, 1.0], 0.1)
    b = log_curve("b", [4.0, 3.5], 0.01)
    window = open_window(qtbot, runs_root, 2)
    view, model = window.runs_view, window.runs_model
    selection = view.table.selectionModel()
    for run_id in (a, b):
        index = model.index(model.row_of(run_id), model.column_index("name"))
        selection.select(index, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    window.lower_tabs.setCurrentWidget(window.plots)
    qtbot.waitUntil(lambda: window.plots.keys() == ["loss"] and window.plots.chart("loss") is not None
                    and sorted(window.plots.chart("loss").run_ids()) == sorted([a, b])
                    and all(c.drawn is not None for c in window.plots.chart("loss").runs.values()), timeout=5000)
    curve = window.plots.chart("loss").runs[a].raw
    assert curve.yData.tolist() == [3.0, 2.0, 1.0]
    assert curve.opts["pen"].color().name() == color_for(a).name()
    swatch = model.index(model.row_of(a), model.column_index("name")).data(Qt.ItemDataRole.DecorationRole)
    assert swatch.pixmap(16, 16).toImage().pixelColor(8, 8).name() == color_for(a).name()
    # the compare view got the same selection; clicking a run there selects it in the table
    view.select_run(a)
    qtbot.waitUntil(lambda: [r.info.run_id for r in view.selected_runs()] == [a])
    window.compare.run_clicked.emit(b)
    assert [r.info.run_id for r in view.selected_runs()] == [b]
    window.close()
