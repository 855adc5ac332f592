"""Grouping the selected runs by a param: one line per group (mean or median) with a band
(min-max or ±1 std) in the group's colour, aligned on step; missing and NaN points do not
drag the line; a legend entry per group with its size; off again, one line per run."""
import math

import pytest
from PySide6.QtCore import QSettings

import tracker
from app.plots import MetricPlotPanel
from app.plots.curve import RunCurve
from app.plots.group_layer import BandItem
from app.plots.grouping import GroupSpec
from app_fixtures import OFFSCREEN_NOISE

pytestmark = OFFSCREEN_NOISE
NAN = float("nan")


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = MetricPlotPanel(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    yield widget
    widget.shutdown()


def log(name, cfg, points):
    with tracker.start_run(run_name=name) as run:
        tracker.log_params({"cfg": cfg})
        for step, value in points:
            tracker.log_metric("loss", value, step=step)
    return run.info.run_id


@pytest.fixture
def runs():
    ids = {
        "a": log("a", "x", [(0, 1.0), (1, 2.0), (2, 3.0)]),
        "b": log("b", "x", [(0, 3.0), (1, NAN), (2, 5.0), (4, 7.0)]),  # NaN at 1: not a zero
        "c": log("c", "x", [(1, 4.0), (2, 6.0)]),  # no step 0
        "d": log("d", "y", [(0, 10.0), (1, 10.0)]),
    }
    return ids


def loaded_chart(qtbot, panel):
    chart = panel.chart("loss")
    qtbot.waitUntil(lambda: not panel.is_loading() and all(c.drawn is not None for c in chart.runs.values())
                    and len(chart.runs) == 4, timeout=5000)
    return chart


def group_items(chart):
    items = chart.getPlotItem().items
    return ([i for i in items if isinstance(i, RunCurve) and i.isVisible()],
            [i for i in items if isinstance(i, BandItem)])


def test_mean_with_min_max_band_against_hand_computed_numbers(qtbot, panel, runs):
    panel.set_runs(tracker.Client().search_runs())
    chart = loaded_chart(qtbot, panel)
    panel.set_grouping(GroupSpec("param:cfg"))
    qtbot.waitUntil(lambda: not panel.is_loading())
    agg = chart.groups.aggregates["x"]
    assert agg.steps.tolist() == [0, 1, 2, 4]
    # step 0: a 1, b 3 | step 1: a 2, c 4 (b's NaN left out) | step 2: 3, 5, 6 | step 4: b 7
    assert agg.center.tolist() == pytest.approx([2.0, 3.0, 14 / 3, 7.0])
    assert agg.lo.tolist() == [1.0, 2.0, 3.0, 7.0]
    assert agg.hi.tolist() == [3.0, 4.0, 6.0, 7.0]
    assert agg.count.tolist() == [2, 2, 3, 1]
    lines, bands = group_items(chart)
    assert len(lines) == 2 and len(bands) == 2  # one line and one band per group, no run curve shown
    assert all(not c.raw.isVisible() for c in chart.runs.values())
    line_x = sorted(lines, key=lambda c: len(c.xData))[-1]
    assert line_x.xData.tolist() == [0, 1, 2, 4] and line_x.yData.tolist() == pytest.approx([2, 3, 14 / 3, 7])
    assert panel.group_legend.entries == [("x", 3), ("y", 1)]
    assert "cfg=x" in panel.group_legend.text() and "3 runs" in panel.group_legend.text()
    assert panel.legend.isHidden()
    colors = {label: c.name() for label, _, c in chart.groups.entries()}
    pens = {ln.opts["pen"].color().name() for ln in lines}
    assert set(colors.values()) == pens and len(pens) == 2  # each group in its colour
    y = chart.groups.aggregates["y"]
    assert y.center.tolist() == [10.0, 10.0] and y.lo.tolist() == y.hi.tolist() == [10.0, 10.0]


def test_median_and_std_band(qtbot, panel, runs):
    panel.set_runs(tracker.Client().search_runs())
    chart = loaded_chart(qtbot, panel)
    panel.set_grouping(GroupSpec("param:cfg", center="median", band="std"))
    qtbot.waitUntil(lambda: not panel.is_loading())
    agg = chart.groups.aggregates["x"]
    assert agg.center.tolist() == pytest.approx([2.0, 3.0, 5.0, 7.0])
    std2 = math.sqrt(((3 - 14 / 3) ** 2 + (5 - 14 / 3) ** 2 + (6 - 14 / 3) ** 2) / 3)
    assert agg.hi.tolist() == pytest.approx([3.0, 4.0, 5.0 + std2, 7.0])
    assert agg.lo.tolist() == pytest.approx([1.0, 2.0, 5.0 - std2, 7.0])


def test_switching_grouping_off_returns_one_line_per_run(qtbot, panel, runs):
    panel.set_runs(tracker.Client().search_runs())
    chart = loaded_chart(qtbot, panel)
    panel.set_grouping(GroupSpec("param:cfg"))
    qtbot.waitUntil(lambda: len(group_items(chart)[0]) == 2)
    panel.grouping.by.setCurrentIndex(0)  # "No grouping", as the user picks it
    lines, bands = group_items(chart)
    assert bands == [] and len(lines) == 4
    assert {id(c.raw) for c in chart.runs.values()} == {id(ln) for ln in lines}
    assert panel.group_legend.isHidden() and panel.legend.isVisible()


def test_grouping_choice_lists_params_and_persists(qtbot, panel, runs, tmp_path):
    panel.set_runs(tracker.Client().search_runs())
    by = panel.grouping.by
    assert [by.itemText(i) for i in range(by.count())] == ["No grouping", "cfg"]
    by.setCurrentIndex(1)
    again = MetricPlotPanel(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert again.group_spec == GroupSpec("param:cfg")
    again.shutdown()


def test_group_by_tag_with_runs_lacking_it_and_exported_legend(qtbot, panel, tmp_path):
    for name, tags, value in (("t1", {"family": "resnet"}, 1.0), ("t2", {"family": "resnet"}, 3.0),
                              ("t3", {}, 5.0)):
        with tracker.start_run(run_name=name, tags=tags):
            tracker.log_metric("acc", value, step=0)
            tracker.log_metric("acc", value + 1, step=1)
    panel.set_runs(tracker.Client().search_runs())
    by = panel.grouping.by
    assert "tag family" in [by.itemText(i) for i in range(by.count())]
    chart = panel.chart("acc")
    qtbot.waitUntil(lambda: not panel.is_loading() and len(chart.runs) == 3
                    and all(c.drawn is not None for c in chart.runs.values()))
    panel.set_grouping(GroupSpec("tag:family"))
    qtbot.waitUntil(lambda: not panel.is_loading() and len(chart.groups.aggregates) == 2)
    assert chart.groups.aggregates["resnet"].center.tolist() == [2.0, 3.0]
    assert chart.groups.aggregates["(none)"].center.tolist() == [5.0, 6.0]  # runs lacking the tag
    assert panel.group_legend.entries == [("resnet", 2), ("(none)", 1)]
    with chart.export_legend():
        names = [label.text for _, label in chart.legend.items]
    assert names == ["family=resnet (2 runs)", "family=(none) (1 run)"]


def test_crosshair_reads_the_groups_while_grouped(qtbot, panel, runs):
    panel.set_runs(tracker.Client().search_runs())
    chart = loaded_chart(qtbot, panel)
    panel.set_grouping(GroupSpec("param:cfg"))
    qtbot.waitUntil(lambda: not panel.is_loading() and len(chart.groups.aggregates) == 2)
    rows = chart.show_crosshair(2.0, readout_at=chart.rect().center())
    assert rows == [("x", pytest.approx(14 / 3), None)]  # group y has no step 2 (nearest: none past its end)
    text = chart.readout.text()
    assert "step 2" in text and "cfg=x" in text and "mean <b>4.667</b>" in text and "[3 – 6]" in text
    rows = chart.show_crosshair(1.0)
    assert rows == [("x", 3.0, None), ("y", 10.0, None)]
