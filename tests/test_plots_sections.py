"""Charts grouped into collapsible sections by key prefix; folded sections persist per
experiment; the key filter takes a regular expression and says when it is not one."""
import pytest

import tracker
from app_fixtures import OFFSCREEN_NOISE
from plots_panel_fixtures import make_panel

pytestmark = OFFSCREEN_NOISE

KEYS = ["loss", "train/loss", "train/acc", "val/acc", "system/cpu", "layer10/w", "layer2/w"]


def log(name, experiment="Default"):
    with tracker.start_run(run_name=name, experiment=experiment) as run:
        for key in KEYS:
            tracker.log_metric(key, 1.0, step=0)
            tracker.log_metric(key, 2.0, step=1)
    return run.info.run_id


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = make_panel(qtbot, tmp_path / "s.ini")
    yield widget
    widget.shutdown()


def test_sections_by_prefix_in_natural_order_system_last(qtbot, panel):
    log("a")
    panel.set_runs(tracker.Client().search_runs())
    assert panel.section_names() == ["", "layer2", "layer10", "train", "val", "system"]
    assert panel.section("train").header.text().startswith("train")
    assert panel.section("train").header.isVisibleTo(panel)
    chart = panel.chart("train/acc")
    assert chart.parentWidget().parentWidget() is panel.section("train").body


def test_collapsed_section_persists_per_experiment(qtbot, tmp_path):
    log("a", "exp-one")
    log("b", "exp-two")
    runs = {r.info.run_name: r for r in tracker.Client().search_runs()}
    assert runs["a"].info.experiment_id != runs["b"].info.experiment_id
    first = make_panel(qtbot, tmp_path / "s.ini")
    first.set_runs([runs["a"]])
    first.section("train").header.click()  # fold
    assert first.section("train").collapsed
    assert not first.section("train").body.isVisibleTo(first)
    qtbot.waitUntil(lambda: "val/acc" in first.charts())
    assert "train/loss" not in first.charts()  # a folded section builds no chart
    first.set_runs([runs["b"]])  # another experiment: its own layout
    assert not first.section("train").collapsed
    first.shutdown()

    second = make_panel(qtbot, tmp_path / "s.ini")  # a new session
    second.set_runs([runs["a"]])
    assert second.section("train").collapsed and not second.section("val").collapsed
    second.section("train").header.click()
    assert not second.section("train").collapsed
    second.shutdown()


def test_key_filter_accepts_a_regular_expression(qtbot, panel):
    log("a")
    panel.set_runs(tracker.Client().search_runs())
    panel.set_key_filter(r"^(train|val)/acc$")
    assert panel.visible_keys() == ["train/acc", "val/acc"]
    assert panel.filter_error.isHidden()
    panel.set_key_filter("train loss")  # plain words still work
    assert panel.visible_keys() == ["train/loss"]
    panel.set_key_filter("train/(")  # invalid: says so, matches as words
    assert panel.filter_error.isVisibleTo(panel)
    assert "regular expression" in panel.filter_error.text()
    assert panel.visible_keys() == []
    panel.set_key_filter("")
    assert len(panel.visible_keys()) == len(KEYS) and panel.filter_error.isHidden()
