"""The run page: copy buttons say they copied, the Overview keeps its rows together in a tall
pane, system tags are apart from the user's, and sizes read in one unit style."""
from __future__ import annotations

import shlex

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run

import tracker
from app.common.formatting import format_size
from app.details.copying import COPIED
from app.details.page import RunDetails

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def details(qtbot):
    page = RunDetails()
    qtbot.addWidget(page)
    return page


def shown(page: RunDetails, run_id: str) -> None:
    page.set_run(tracker.get_run(run_id))


def test_copy_buttons_say_copied_then_read_as_before(qtbot, details, monkeypatch):
    copied = []
    monkeypatch.setattr("app.shell.desktop.copy_text", copied.append)
    run_id = log_run("copy me")
    shown(details, run_id)
    details.show()
    for button, expected in ((details.copy_id_button, run_id), (details.copy_path_button, details.run().path)):
        before = button.text()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert copied[-1] == expected
        assert button.text() == COPIED  # seen at once
        qtbot.waitUntil(lambda: button.text() == before, timeout=5000)


def test_overview_rows_stay_together_in_a_tall_pane(qtbot, details):
    shown(details, log_run("tall", params={"lr": 0.1}, fail=True))  # its error box is the tallest row
    details.resize(1600, 400)
    details.show()
    qtbot.waitExposed(details)

    names = ("Status", "Started", "Ended", "Duration", "Source", "Command", "User", "Host", "Run ID", "Path")

    def row_tops() -> list[int]:
        captions = [label for label in details.overview.findChildren(QLabel) if label.text() in names]
        return sorted(label.mapTo(details, label.rect().topLeft()).y() for label in captions if label.isVisible())

    qtbot.waitUntil(lambda: len(row_tops()) >= 5)
    short = row_tops()
    details.resize(1600, 1400)
    scroll = details.findChild(QScrollArea, "overviewScroll")
    qtbot.waitUntil(lambda: scroll.viewport().height() > 1000)
    tall = row_tops()
    assert tall == short  # the same places: a tall pane adds room below the rows, not between them
    line = details.overview.fontMetrics().height()
    started, ended, duration = tall[1:4]  # rows of one line each, below Status and the error
    assert ended - started < 2 * line and duration - ended < 2 * line


def test_system_tags_are_shown_apart_from_the_users(qtbot, details):
    run_id = log_run("tagged", tags={"team": "risk", "mlflow.note.content": "from mlflow"})
    shown(details, run_id)
    mine = [details.tags_model.index(r, 0).data() for r in range(details.tags_model.rowCount())]
    system = [details.system_tags_model.index(r, 0).data() for r in range(details.system_tags_model.rowCount())]
    assert mine == ["team"]
    assert "mlflow.note.content" in system and "tracker.source.name" in system and "team" not in system
    assert details.tabs.tabText(3) == "Tags (1)"
    assert details.system_heading.text() == f"SYSTEM TAGS ({len(system)})"
    overview_tags = details.overview.findChild(QLabel, "overviewTags")
    assert overview_tags is not None and overview_tags.text() == "team: risk"


def test_sizes_read_in_one_binary_unit_style():
    assert [format_size(n) for n in (0, 1, 1023, 1024, 1536, 262_144, 3_250_586, 2 * 1024 ** 3)] == [
        "0 bytes", "1 byte", "1023 bytes", "1.0 KiB", "1.5 KiB", "256 KiB", "3.1 MiB", "2.0 GiB"]
    assert format_size(1024 * 1024 - 1) == "1.0 MiB"  # never "1024 KiB"


def test_the_artifact_tree_shows_sizes_like_the_rest_of_the_app(qtbot, details):
    run_id = log_run("sized", artifacts={"data/big.txt": "x" * 3000})
    shown(details, run_id)
    view = details.artifacts
    path = view.root() / "data" / "big.txt"
    view.tree.expandAll()
    qtbot.waitUntil(lambda: view.shown_index_of(path).isValid(), timeout=5000)
    index = view.shown_index_of(path)
    size = index.siblingAtColumn(1).data()
    assert size == format_size(3000) == "2.9 KiB"


def test_the_overview_gives_the_reproduce_command_with_a_copy_button(qtbot, details, tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").mkdir()  # a repository root is a folder holding .git
    with tracker.start_run(run_name="rerun me") as run:
        tracker.set_tags({"tracker.source.name": str(repo / "train.py"), "tracker.source.type": "SCRIPT",
                          "tracker.source.argv": '["train.py", "--name", "a b"]',
                          "tracker.source.git.commit": "0123456789abcdef", "tracker.source.git.dirty": "false",
                          "tracker.source.git.root": str(repo), "tracker.source.cwd": str(repo),
                          "tracker.python.executable": "/opt/py/bin/python"})
    shown(details, run.info.run_id)
    command = details.overview.findChild(QLabel, "reproduceCommand")
    assert command.text() == (f"cd {shlex.quote(str(repo))} && git checkout 0123456789abcdef"
                              " && /opt/py/bin/python train.py --name 'a b'")
    copied = []
    monkeypatch.setattr("app.shell.desktop.copy_text", copied.append)
    details.show()
    qtbot.mouseClick(details.overview.copy_command_button, Qt.MouseButton.LeftButton)
    assert copied == [command.text()] and details.overview.copy_command_button.text() == COPIED
