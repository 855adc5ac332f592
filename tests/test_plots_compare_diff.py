"""The compare view's diff table: tags beside params and metrics, rows where runs differ tinted,
only those on request, and each metric's best value starred (lowest for a loss, highest
otherwise; the user flips it and the choice is kept)."""
import pytest
from PySide6.QtCore import QSettings, Qt

import tracker
from app.plots import CompareView
from app.plots.compare_model import BEST_ROLE, MAX, MIN, STAR
from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run

pytestmark = OFFSCREEN_NOISE


def make_view(qtbot, path):
    widget = CompareView(settings=QSettings(str(path), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.show()
    return widget


@pytest.fixture
def runs():
    log_run("a", params={"lr": 0.1, "seed": 1}, metrics={"accuracy": 0.8, "val_loss": 0.5},
            tags={"team": "vision", "owner": "ann"})
    log_run("b", params={"lr": 0.01, "seed": 1}, metrics={"accuracy": 0.9, "val_loss": 0.3},
            tags={"team": "vision", "owner": "bob"})
    log_run("c", params={"lr": 0.001, "seed": 1}, metrics={"accuracy": 0.7, "val_loss": 0.4},
            tags={"team": "vision", "owner": "cy"})
    return sorted(tracker.Client().search_runs(), key=lambda r: r.info.run_name)


def rows(view):
    proxy = view.proxy
    return {proxy.index(r, 0).data(Qt.ItemDataRole.UserRole) or proxy.index(r, 0).data(): r
            for r in range(proxy.rowCount())}


def cells(view, key, role=Qt.ItemDataRole.DisplayRole):
    row = rows(view)[key]
    return [view.proxy.index(row, c).data(role) for c in range(1, view.model.columnCount())]


def test_tags_are_listed_and_differing_rows_tinted(qtbot, tmp_path, runs):
    view = make_view(qtbot, tmp_path / "s.ini")
    view.set_runs(runs)
    keys = list(rows(view))
    assert keys[keys.index("Tags"):] == ["Tags", "owner", "team"]  # system tags (mlflow.*, tracker.*) left out
    assert cells(view, "owner") == ["ann", "bob", "cy"]
    tint = Qt.ItemDataRole.BackgroundRole
    assert all(c is not None for c in cells(view, "owner", tint))  # they differ: tinted
    assert all(c is None for c in cells(view, "team", tint)) and all(c is None for c in cells(view, "seed", tint))
    view.only_differing.setChecked(True)
    assert list(rows(view)) == ["Parameters", "lr", "Metrics", "accuracy", "val_loss", "Tags", "owner"]


def test_the_best_value_of_each_metric_is_starred_and_can_be_flipped(qtbot, tmp_path, runs):
    view = make_view(qtbot, tmp_path / "s.ini")
    view.set_runs(runs)
    assert cells(view, "accuracy", BEST_ROLE) == [False, True, False]  # highest accuracy: b
    assert cells(view, "val_loss", BEST_ROLE) == [False, True, False]  # lowest loss: b
    assert cells(view, "accuracy")[1] == f"{STAR} 0.9" and cells(view, "accuracy")[0] == "0.8"
    assert cells(view, "accuracy", Qt.ItemDataRole.UserRole)[1] == 0.9  # still sorts as a number
    row = rows(view)["val_loss"]
    assert view.proxy.index(row, 0).data().endswith("↓")  # the direction beside the name
    menu = view.diff.direction_menu("val_loss")
    highest = next(a for a in menu.actions() if "highest" in a.text())
    highest.trigger()
    assert cells(view, "val_loss", BEST_ROLE) == [True, False, False]
    assert view.model.direction("val_loss") == MAX and view.proxy.index(row, 0).data().endswith("↑")
    # kept for the next compare view
    again = make_view(qtbot, tmp_path / "s.ini")
    again.set_runs(runs)
    assert again.model.direction("val_loss") == MAX and again.model.direction("accuracy") == MAX
    again.diff.set_direction("accuracy", MIN)
    assert cells(again, "accuracy", BEST_ROLE) == [False, False, True]


def test_no_star_when_there_is_nothing_to_choose(qtbot, tmp_path):
    log_run("a", metrics={"loss": 0.5})
    log_run("b", metrics={"loss": 0.5})
    view = make_view(qtbot, tmp_path / "s.ini")
    view.set_runs(tracker.Client().search_runs())
    assert cells(view, "loss", BEST_ROLE) == [False, False]
    view.set_runs(tracker.Client().search_runs()[:1])
    assert cells(view, "loss", BEST_ROLE) == [False]
