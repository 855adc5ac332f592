"""The run page's Output tab: the console log as a terminal showed it (colours, carriage-return
progress bars), following a running run, and finding text in it."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

import tracker
from app.details import ansi
from tracker.output_capture import output_log_path

pytestmark = OFFSCREEN_NOISE

BLOCK = "\u2588"  # tqdm's full block
LOG = ("\x1b[1mStarting\x1b[0m on \x1b[31mcuda:0\x1b[0m\n"
       f"\rEpoch 0:   0%|          | 0/10\rEpoch 0:  50%|{BLOCK * 5}     | 5/10"
       f"\rEpoch 0: 100%|{BLOCK * 10}| 10/10\n"
       "\x1b[32mval_acc=0.91\x1b[0m done\r\n").encode()


def output_tab(window, run_id):
    window.select_run(run_id)
    details = window.details
    details.tabs.setCurrentWidget(details.output)
    return details.output


def format_at(view, text: str):
    cursor = view.text.document().find(text)
    assert not cursor.isNull(), text
    probe = QTextCursor(view.text.document())
    probe.setPosition(cursor.selectionStart() + 1)
    return probe.charFormat()


def test_colours_and_progress_bars_show_as_a_terminal_shows_them(qtbot, runs_root):
    run_id = log_run("printed")
    log = output_log_path(tracker.get_run(run_id).path)
    log.write_bytes(LOG)
    window = open_window(qtbot, runs_root)
    view = output_tab(window, run_id)
    expected = "Starting on cuda:0\nEpoch 0: 100%|██████████| 10/10\nval_acc=0.91 done\n"
    qtbot.waitUntil(lambda: view.plain_text() == expected, timeout=5000)
    dark = view.text.palette().base().color().lightness() < 128
    assert format_at(view, "cuda:0").foreground().color().name() == ansi.rgb(1, dark)
    assert format_at(view, "val_acc").foreground().color().name() == ansi.rgb(2, dark)
    assert format_at(view, "Starting").fontWeight() >= 700
    assert format_at(view, "done").foreground().style() == Qt.BrushStyle.NoBrush  # plain: the palette's text


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_each_theme_gets_the_16_colours_readable_on_its_page():
    from app.shell import theme
    for name, dark in (("light", False), ("dark", True)):
        page = theme.palette(name).base().color().name()
        for colour in range(16):
            high, low = sorted((_luminance(ansi.rgb(colour, dark)), _luminance(page)), reverse=True)
            assert (high + 0.05) / (low + 0.05) >= 4.5, (name, colour)
    assert ansi.rgb(None, True) is None and ansi.rgb((1, 2, 3), False) == "#010203"
    assert ansi.rgb(208, True) == "#ff8700"  # the 256-colour cube


def test_the_tab_follows_a_running_run_and_redraws_its_progress_bar(qtbot, runs_root):
    with tracker.start_run(run_name="live", capture_output=False) as run:
        log = output_log_path(tracker.get_run(run.info.run_id).path)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_bytes(b"epoch 1\n")
        window = open_window(qtbot, runs_root)
        view = output_tab(window, run.info.run_id)
        qtbot.waitUntil(lambda: view.plain_text() == "epoch 1\n", timeout=5000)
        with open(log, "ab") as f:
            f.write(b"epoch 2\n\r 10%|#         |")
        qtbot.waitUntil(lambda: view.plain_text() == "epoch 1\nepoch 2\n 10%|#         |", timeout=1000)
        with open(log, "ab") as f:
            f.write(b"\r 60%|######    |")
        qtbot.waitUntil(lambda: view.plain_text() == "epoch 1\nepoch 2\n 60%|######    |", timeout=1000)
        with open(log, "ab") as f:
            f.write(b"\r100%|##########|\nepoch 3\n")
        qtbot.waitUntil(lambda: view.plain_text() == "epoch 1\nepoch 2\n100%|##########|\nepoch 3\n", timeout=1000)
        assert view.text.document().blockCount() == 5  # (the last: the line being written, empty)


def test_find_with_ctrl_f_next_and_previous(qtbot, runs_root):
    run_id = log_run("searched")
    log = output_log_path(tracker.get_run(run_id).path)
    log.write_text("".join(f"step {i} loss {1 / (i + 1):.3f}\n" for i in range(50)) + "warning: lr too high\n")
    window = open_window(qtbot, runs_root)
    view = output_tab(window, run_id)
    qtbot.waitUntil(lambda: "warning" in view.plain_text() and not view.is_loading(), timeout=5000)
    view.text.setFocus()
    qtbot.keyClick(view.text, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.find_edit.hasFocus() or window.focusWidget() is view.find_edit
    qtbot.keyClicks(view.find_edit, "warning")
    assert view.text.textCursor().selectedText() == "warning"
    assert view.text.textCursor().blockNumber() == 50

    view.find_edit.clear()
    qtbot.keyClicks(view.find_edit, "loss 0.5")  # step 1 only
    first = view.text.textCursor().blockNumber()
    assert first == 1
    view.find_edit.setText("step 4")
    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    at = view.text.textCursor().blockNumber()
    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)  # step 40..49 follow step 4
    assert view.text.textCursor().blockNumber() > at
    qtbot.mouseClick(view.previous_button, Qt.MouseButton.LeftButton)
    assert view.text.textCursor().blockNumber() == at
    view.find_edit.setText("no such text")
    assert not view.find_next()
    assert view.find_status.text() == "Not found"


def test_a_run_without_a_log_says_so(qtbot, runs_root):
    run_id = log_run("quiet")
    window = open_window(qtbot, runs_root)
    view = output_tab(window, run_id)
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.empty, timeout=5000)
    assert "No console output" in view.empty.text()
