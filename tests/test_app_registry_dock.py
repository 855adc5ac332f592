"""The registry panel inside the main window: a tab there from the first start, linked to the runs."""
import numpy as np
from sklearn.linear_model import LogisticRegression

import tracker
from app_fixtures import *  # noqa: F403
from app_fixtures import log_run, open_window


def test_registry_tab_follows_the_directory_and_selects_the_producing_run(qtbot, runs_root):
    other = log_run("other")
    with tracker.start_run(run_name="producer") as run:
        tracker.sklearn.log_model(LogisticRegression().fit(np.eye(2), [0, 1]), "clf",
                                  registered_model_name="fraud")
    window = open_window(qtbot, runs_root, 2)
    window.show_registry_action.trigger()  # View > Model Registry
    panel = window.registry_panel
    assert panel.objectName() == "registryPanel"
    qtbot.waitUntil(lambda: panel.isVisible())
    qtbot.waitUntil(lambda: panel.selected_model() == "fraud" or panel.select_model("fraud"), timeout=5000)
    assert window.select_run(other) and window.details.run().info.run_id == other
    with qtbot.waitSignal(panel.run_requested):
        panel.run_requested.emit(run.info.run_id)
    qtbot.waitUntil(lambda: window.details.run() is not None and window.details.run().info.run_id == run.info.run_id)
    assert window.lower_tabs.currentWidget() is window.details  # the run's page is shown
    window.close()


def test_registry_tab_is_listed_on_first_start_and_ctrl_3_brings_it_forward_or_hides_it(qtbot, runs_root):
    log_run("plain")
    window = open_window(qtbot, runs_root, 1)
    tabs = window.lower_tabs
    assert tabs.tabText(3) == "Registry" and tabs.isTabVisible(3) and tabs.currentIndex() == 0
    assert not window.registry_link.built  # listed, built when first shown
    window.show_registry_action.trigger()  # Ctrl+3: listed but behind, so it comes forward
    assert tabs.currentWidget() is window.registry_panel and tabs.isTabVisible(3)
    window.show_registry_action.trigger()  # Ctrl+3 again, in front: it goes
    assert not tabs.isTabVisible(3) and not window.show_registry_action.isChecked()
    window.close()
    again = open_window(qtbot, runs_root, 1)  # remembered
    assert not again.lower_tabs.isTabVisible(3)
    again.show_registry_action.trigger()
    assert again.lower_tabs.currentIndex() == 3
    again.close()
