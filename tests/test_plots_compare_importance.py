"""Parameter importance in the compare view: a param that drives the metric ranks above noise,
with the sign of its correlation; computed in a worker over the runs shown, saying how many;
too few runs give a message, not numbers."""
import random

import pytest
from PySide6.QtCore import QSettings

import tracker
from app.plots import CompareView
from app.plots.importance_math import MIN_RUNS, param_importance
from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def view(qtbot, tmp_path):
    widget = CompareView(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.show()
    return widget


def synthetic(n: int) -> None:
    """accuracy rises with depth and falls with dropout; seed and colour are noise."""
    rng = random.Random(3)
    for i in range(n):
        depth, dropout = rng.randint(1, 12), rng.uniform(0, 0.5)
        params = {"depth": depth, "dropout": dropout, "seed": rng.randint(0, 10**6),
                  "colour": rng.choice(["red", "green", "blue"])}
        log_run(f"r{i}", params=params, metrics={"accuracy": 0.5 + 0.03 * depth - 0.2 * dropout
                                                 + rng.gauss(0, 0.005)})


def computed(qtbot, view, metric="accuracy"):
    importance = view.importance
    with qtbot.waitSignal(importance.computed, timeout=60000) as blocker:
        view.show_chart("importance")
        importance.metric.setCurrentIndex(importance.metric.findText(metric))
        if not importance.busy():
            importance.compute()
    return blocker.args[0]


def test_a_param_that_drives_the_metric_ranks_above_noise(qtbot, view):
    synthetic(40)
    view.set_runs(tracker.Client().search_runs())
    result = computed(qtbot, view)
    bars = view.importance.bars()
    ranked = [name for name, _, _ in bars]
    assert ranked[:2] == ["depth", "dropout"]
    assert ranked.index("seed") > 1 and ranked.index("colour") > 1
    importance = dict((name, value) for name, value, _ in bars)
    assert importance["depth"] > 5 * importance["seed"]
    signs = {name: corr for name, _, corr in bars}
    assert signs["depth"] > 0 and signs["dropout"] < 0 and signs["colour"] is None  # categorical: no sign
    assert result.runs == 40 and "From 40 runs" in view.importance.note.text()


def test_too_few_runs_give_a_message_instead_of_numbers(qtbot, view):
    synthetic(MIN_RUNS - 1)
    view.set_runs(tracker.Client().search_runs())
    result = computed(qtbot, view)
    assert result.params == [] and view.importance.bars() == []
    assert f"Needs at least {MIN_RUNS} runs with accuracy" in view.importance.note.text()
    assert f"{MIN_RUNS - 1} have it" in view.importance.note.text()


def test_runs_without_the_metric_are_left_out_and_counted():
    params = [{"x": str(i), "noise": str((i * 7919) % 13)} for i in range(30)]
    target = [float(i) if i % 3 else None for i in range(30)]  # a third have no value
    result = param_importance(params, target, "m")
    assert result.runs == 20
    assert [p.param for p in result.params] == ["x", "noise"]
