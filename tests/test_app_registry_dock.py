"""The registry panel inside the main window: shown for a directory with a registry, linked to the runs."""
import numpy as np
from sklearn.linear_model import LogisticRegression

import tracker
from app_fixtures import *  # noqa: F403
from app_fixtures import log_run, open_window


def test_registry_dock_follows_the_directory_and_selects_the_producing_run(qtbot, runs_root):
    other = log_run("other")
    with tracker.start_run(run_name="producer") as run:
        tracker.sklearn.log_model(LogisticRegression().fit(np.eye(2), [0, 1]), "clf",
                                  registered_model_name="fraud")
    window = open_window(qtbot, runs_root, 2)
    panel = window.registry_panel
    assert panel.objectName() == "registryPanel"
    qtbot.waitUntil(lambda: window.registry_dock.isVisible())
    qtbot.waitUntil(lambda: panel.selected_model() == "fraud" or panel.select_model("fraud"), timeout=5000)
    assert window.select_run(other) and window.details.run().info.run_id == other
    with qtbot.waitSignal(panel.run_requested):
        panel.run_requested.emit(run.info.run_id)
    qtbot.waitUntil(lambda: window.details.run() is not None and window.details.run().info.run_id == run.info.run_id)
    window.close()


def test_registry_dock_stays_hidden_for_runs_without_a_registry(qtbot, runs_root):
    log_run("plain")
    window = open_window(qtbot, runs_root, 1)
    assert not window.registry_dock.isVisible()
    window.registry_dock.toggleViewAction().trigger()  # View > Model Registry
    assert window.registry_dock.isVisible()
    window.close()
