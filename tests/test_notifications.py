"""Desktop notifications through the window's notifier (``window.notifier``): a run of the open
directory that finishes, fails or is killed, or whose metric becomes NaN, notifies with its name and
its main metric's value; clicking selects it. Nothing for the start-up load, nothing for runs that
ended while the app was closed, and Preferences choose which events notify."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

import tracker
from tracker.entities import RunStatus

pytestmark = OFFSCREEN_NOISE


def events(window) -> list[tuple[str, str]]:
    return [(n.event, n.run_id) for n in window.notifier.history]


def shown_status(window, run_id: str) -> str | None:
    run = window.runs_model.get(run_id)
    return getattr(getattr(run, "info", None), "status", None)


def test_a_run_failing_while_the_app_is_open_notifies_and_a_click_selects_it(qtbot, runs_root):
    other = log_run("earlier", metrics={"loss": 0.9})
    window = open_window(qtbot, runs_root)
    with pytest.raises(RuntimeError):
        with tracker.start_run(run_name="diverging", capture_output=False) as run:
            run_id = run.info.run_id
            tracker.log_metric("loss", 0.25)
            tracker.log_metric("accuracy", 0.5)
            qtbot.waitUntil(lambda: shown_status(window, run_id) == RunStatus.RUNNING, timeout=10000)
            raise RuntimeError("CUDA out of memory")
    with qtbot.waitSignal(window.notifier.notified, timeout=10000) as blocker:
        pass
    note = blocker.args[0]
    assert (note.event, note.run_id) == ("failed", run_id)
    assert "diverging" in note.title and "accuracy = 0.5" in note.message  # (its first metric by name)
    assert "CUDA out of memory" in note.message
    assert events(window) == [("failed", run_id)]

    window.select_run(other)
    window.notifier.activate_last()  # what clicking the message does
    assert window.details.run().info.run_id == run_id


def test_nothing_for_the_start_up_load_nor_for_runs_that_ended_while_the_app_was_closed(qtbot, runs_root):
    log_run("done before", metrics={"loss": 0.1})
    log_run("failed before", fail=True)
    log_run("nan before", metrics={"loss": float("nan")})
    run = tracker.start_run(run_name="ends while closed", capture_output=False)
    window = open_window(qtbot, runs_root)
    qtbot.waitUntil(lambda: shown_status(window, run.info.run_id) == RunStatus.RUNNING, timeout=10000)
    window.close()  # (its table is stored: the run reads RUNNING there)
    tracker.end_run()

    window = open_window(qtbot, runs_root)
    qtbot.waitUntil(lambda: shown_status(window, run.info.run_id) == RunStatus.FINISHED, timeout=10000)
    late = log_run("after opening", metrics={"loss": 0.2})  # a check that the notifier is listening
    qtbot.waitUntil(lambda: events(window) == [("finished", late)], timeout=10000)


def test_a_metric_becoming_nan_notifies_once(qtbot, runs_root):
    window = open_window(qtbot, runs_root)
    tracker.set_tracking_dir(runs_root)
    with tracker.start_run(run_name="unstable", capture_output=False) as run:
        tracker.log_metric("loss", 1.5)
        qtbot.waitUntil(lambda: shown_status(window, run.info.run_id) == RunStatus.RUNNING, timeout=10000)
        tracker.log_metric("loss", float("inf"))
        qtbot.waitUntil(lambda: ("nan", run.info.run_id) in events(window), timeout=10000)
        note = window.notifier.history[-1]
        assert note.title == "unstable: loss became inf" and "loss = inf" in note.message
        tracker.log_metric("loss", float("nan"))  # still not finite: no second notification
    qtbot.waitUntil(lambda: ("finished", run.info.run_id) in events(window), timeout=10000)
    assert events(window) == [("nan", run.info.run_id), ("finished", run.info.run_id)]
    assert "loss = nan" in window.notifier.history[-1].message.lower()


KILLED_SCRIPT = """
import sys, time
import tracker
tracker.set_tracking_dir(sys.argv[1])
tracker.start_run(run_name="doomed", capture_output=False)
tracker.log_metric("loss", 0.75)
print("started", flush=True)
time.sleep(120)
"""


def test_a_killed_run_notifies(qtbot, runs_root):
    window = open_window(qtbot, runs_root)
    child = subprocess.Popen([sys.executable, "-c", KILLED_SCRIPT, str(runs_root)], stdout=subprocess.PIPE,
                             env={**os.environ, "TRACKER_CAPTURE_OUTPUT": "0"})
    try:
        assert child.stdout.readline().strip() == b"started"
        qtbot.waitUntil(lambda: window.runs_model.total_count() == 1, timeout=10000)
        run_id = window.runs_model.run_id_at(0)
        qtbot.waitUntil(lambda: shown_status(window, run_id) == RunStatus.RUNNING, timeout=10000)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        qtbot.waitUntil(lambda: ("killed", run_id) in events(window), timeout=15000)
        note = window.notifier.history[-1]
        assert note.title == "doomed was killed" and "loss = 0.75" in note.message
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)


def test_preferences_choose_which_events_notify(qtbot, runs_root):
    window = open_window(qtbot, runs_root)
    window.preferences_action.trigger()
    dialog = window.preferences_dialog
    assert dialog.isVisible() and all(check.isChecked() for check in dialog.checks.values())
    dialog.checks["finished"].setChecked(False)
    dialog.main_metric.setText("val_loss")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert not window.settings.notify_on("finished") and window.settings.notify_on("failed")
    assert window.settings.main_metric == "val_loss"

    quiet = log_run("finished quietly", metrics={"val_loss": 0.3})
    loud = log_run("failed loudly", metrics={"accuracy": 0.1, "val_loss": 0.7}, fail=True)
    qtbot.waitUntil(lambda: ("failed", loud) in events(window), timeout=10000)
    assert shown_status(window, quiet) == RunStatus.FINISHED
    assert events(window) == [("failed", loud)]
    assert "val_loss = 0.7" in window.notifier.history[-1].message  # the chosen main metric
