"""A runs folder on a network file system: the app sees that it is one (its mount in
/proc/self/mountinfo), polls it at the configured interval, says so in the status bar, and shows
new runs, growing metrics and removed runs as it does with file events."""
import os
import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QLabel

from app.runs import watch_mode, watcher
from app.shell.preferences import open_preferences
from tracker.writer import RunWriter

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, names_shown

pytestmark = OFFSCREEN_NOISE

WAIT_MS = 15_000
LOCAL_ROOT = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"


def _mount_line(point: str, kind: str, source: str = "fileserver:/export/team") -> str:
    escaped = point.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")
    return f"40 22 0:50 / {escaped} rw,relatime shared:9 - {kind} {source} rw\n"


@pytest.fixture
def mountinfo(tmp_path, monkeypatch):
    """Where the watcher reads the mounts from: a file the test writes."""
    path = tmp_path / "mountinfo"
    path.write_text(LOCAL_ROOT)
    monkeypatch.setattr(watcher, "MOUNTINFO", str(path))
    monkeypatch.delenv("TRACKER_POLLING", raising=False)
    monkeypatch.delenv(watch_mode.ENV, raising=False)
    return path


@pytest.fixture
def network_root(runs_root, mountinfo):
    runs_root.mkdir(parents=True, exist_ok=True)
    mountinfo.write_text(LOCAL_ROOT + _mount_line(os.path.realpath(runs_root), "nfs4"))
    return runs_root


def _window(qtbot, root):
    from app.shell.window import MainWindow
    window = MainWindow(None)
    qtbot.addWidget(window)
    window.source.check_ms = 3_600_000  # no periodic re-check: what appears, polling brought
    window.resize(1024, 700)
    window.show()
    window.open_directory(root)
    qtbot.waitUntil(lambda: not window.progress.isVisible() and bool(window.source.watch_mode), timeout=WAIT_MS)
    return window


def _value(window, name, column):
    """The raw value the runs table shows in ``column`` for run ``name`` (the column chosen once it exists)."""
    model = window.runs_model
    if column not in model.column_keys():
        window.runs_view.set_columns([column])
        if column not in model.column_keys():
            return None
    for row in range(model.rowCount()):
        if model.index(row, model.column_index("name")).data() == name:
            return model.index(row, model.column_index(column)).data(Qt.ItemDataRole.UserRole)
    return None


def test_a_network_folder_is_polled_and_new_growing_and_removed_runs_appear(qtbot, network_root, monkeypatch):
    monkeypatch.setenv(watch_mode.ENV, "0.2")
    window = _window(qtbot, network_root)
    label = window.status.watch_label
    assert window.source.watch_mode.startswith("polling") and "nfs4" in window.source.watch_mode
    assert label.isVisible() and label.text() == "Watching by polling every 0.2 s (network folder)"
    assert "network file system (nfs4)" in label.toolTip() and watch_mode.ENV in label.toolTip()

    writer = RunWriter.create(network_root, "from-another-machine", "Default")
    qtbot.waitUntil(lambda: "from-another-machine" in names_shown(window), timeout=WAIT_MS)
    for loss in (0.5, 0.25, 0.125):
        writer.log_metric("loss", loss)
        writer.flush()
        qtbot.waitUntil(lambda: _value(window, "from-another-machine", "metrics.loss") == loss, timeout=WAIT_MS)
    writer.end()
    qtbot.waitUntil(lambda: window.runs_model.run_at(0).info.status == "FINISHED", timeout=WAIT_MS)

    shutil.rmtree(network_root / writer.run_id)  # deleted on another machine
    qtbot.waitUntil(lambda: "from-another-machine" not in names_shown(window), timeout=WAIT_MS)
    assert label.text() == "Watching by polling every 0.2 s (network folder)"


def test_a_local_folder_is_watched_by_file_events_and_says_nothing(qtbot, runs_root, mountinfo):
    runs_root.mkdir(parents=True, exist_ok=True)
    window = _window(qtbot, runs_root)
    assert window.source.watch_mode == "inotify"
    assert window.status.watch_label.isHidden() and window.status.watch_label.text() == ""


def test_preferences_set_the_interval_and_the_open_folder_takes_it_at_once(qtbot, network_root):
    window = _window(qtbot, network_root)
    label = window.status.watch_label
    assert label.text() == "Watching by polling every 2 s (network folder)"  # the default
    dialog = open_preferences(window)
    spin = dialog.findChild(QDoubleSpinBox, "pollIntervalSpin")
    assert spin.isEnabled() and spin.value() == 2.0
    spin.setValue(7.5)
    dialog.accept()
    assert label.text() == "Watching by polling every 7.5 s (network folder)"
    assert window.source._watching.watcher.poll_interval == 7.5  # the running poller's, not only the next one's
    assert window.settings.get_json(watch_mode.SETTINGS_KEY) == 7.5

    window.close()
    again = _window(qtbot, network_root)  # remembered
    assert again.status.watch_label.text() == "Watching by polling every 7.5 s (network folder)"


def test_the_environment_overrides_preferences_and_the_dialog_says_so(qtbot, network_root, monkeypatch):
    monkeypatch.setenv(watch_mode.ENV, "3")
    window = _window(qtbot, network_root)
    assert window.status.watch_label.text() == "Watching by polling every 3 s (network folder)"
    dialog = open_preferences(window)
    assert not dialog.poll_interval.isEnabled()
    assert "TRACKER_POLL_INTERVAL is set: every 3 s" in dialog.findChild(QLabel, "pollIntervalNote").text()
    dialog.reject()


@pytest.mark.parametrize("kind", ["nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p"])
def test_network_file_systems_are_recognised_from_mountinfo(mountinfo, tmp_path, kind):
    point = tmp_path / "team runs"  # a space: mountinfo writes it as \040
    (point / "deep").mkdir(parents=True)
    mountinfo.write_text(LOCAL_ROOT + _mount_line(str(tmp_path), "ext4", "/dev/sdb1")
                         + _mount_line(os.path.realpath(point), kind))
    assert watcher.filesystem_type(str(point / "deep")) == kind  # the longest mount point holding it
    assert watcher.polling_reason(str(point / "deep")).endswith(f"is on a network file system ({kind})")
    assert watcher.polling_reason(str(tmp_path)) is None  # beside it: local
    mountinfo.write_text(mountinfo.read_text() + _mount_line(os.path.realpath(point), "ext4", "/dev/sdc1"))
    assert watcher.filesystem_type(str(point)) == "ext4"  # mounted over: the last mount on a point wins


def test_polling_intervals_from_the_environment_are_checked(monkeypatch):
    for text, seconds in (("0.5", 0.5), ("2", 2.0), ("0.001", watch_mode.MIN_SECONDS), ("1e9", watch_mode.MAX_SECONDS),
                          ("soon", watch_mode.DEFAULT_SECONDS), ("-1", watch_mode.DEFAULT_SECONDS),
                          ("nan", watch_mode.DEFAULT_SECONDS), ("", watch_mode.DEFAULT_SECONDS)):
        monkeypatch.setenv(watch_mode.ENV, text)
        assert watch_mode.poll_interval() == seconds, text


def test_a_run_whose_writer_on_another_machine_stopped_beating_turns_killed(qtbot, network_root, monkeypatch):
    from test_shared_folder_hosts import _age_heartbeat, _let_die, _start_writer
    monkeypatch.setenv(watch_mode.ENV, "0.2")
    window = _window(qtbot, network_root)
    window.source.check_ms = 200  # (the next open's) re-check of RUNNING runs, where heartbeats are read
    window.open_directory(network_root)
    writer, run_id = _start_writer(network_root, "host-b")
    _let_die(writer)  # its pid is gone here, which says nothing about a writer on host-b

    def status():
        runs = [window.runs_model.run_at(r) for r in range(window.runs_model.rowCount())]
        return next((run.info.status for run in runs if run.info.run_id == run_id), None)

    qtbot.waitUntil(lambda: status() == "RUNNING", timeout=WAIT_MS)
    _age_heartbeat(network_root, run_id, 60)
    qtbot.waitUntil(lambda: status() == "KILLED", timeout=WAIT_MS)
