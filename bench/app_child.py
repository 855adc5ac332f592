"""The app process that ``bench/bench_app.py`` measures: start as ``tracker-app DIR`` does,
then report timings as one ``RESULT {json}`` line. Kept apart from bench_app.py, with few
imports of its own, so that what is timed is the app's start, not the benchmark's.

    python bench/app_child.py MODE ROOT --expect N [--filter] [--live]   (MODE: window or source)

With an index, the window fills from the stored table and the loading thread then checks it
against the directory: ``checked`` is when that check is done and the first run's page is
shown, ``worst_gui_gap_ms_while_checking`` the longest the GUI thread was unresponsive meanwhile.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from types import SimpleNamespace
from pathlib import Path

TIMEOUT_S = 300  # generous: 100,000 runs read cold on a busy 2-core machine
LIVE_WRITER = """
import sys, time, tracker
from tracker.writer import FLUSHER
with tracker.start_run(run_name=sys.argv[1]) as run:
    tracker.log_metric("loss", 1.0)
    FLUSHER.flush_all()
    print(run.info.run_id, time.time(), flush=True)
    sys.stdin.readline()
    tracker.log_metric("loss", 0.5)
    FLUSHER.flush_all()
    print(time.time(), flush=True)
    sys.stdin.readline()
"""


# ---- the child: one app process ------------------------------------------------------------

def child(args) -> None:
    t_main = time.time()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out: dict = {"mode": args.mode, "t_main": t_main}
    root = Path(args.root)
    expected = args.expect
    loaded: list = []
    window = None

    if args.mode == "window":  # what `tracker-app DIR` does, from its first line
        from app.main import launch, parse_args
        qapp, window = launch(parse_args([str(root)]))
        from PySide6.QtWidgets import QLineEdit, QTableView
        out["t_imported"] = out["t_constructed"] = time.time()
        window.resize(1400, 900)
        table = window.findChild(QTableView, "runsTable")
        edit = window.findChild(QLineEdit, "runFilter")
        source = window.source
        # (what the window holds is measured: keeping the first snapshot here would keep its table,
        # ~100 MB at 100,000 runs, alive after newer ones replace it)
        source.loaded.connect(lambda snapshot: loaded.append(SimpleNamespace(seconds=snapshot.seconds)))
        filled = _filled_when(table.model(), expected, out)
    else:  # RunsSource alone, reading in process
        from PySide6.QtWidgets import QApplication

        from app.runs.source import RunsSource
        out["t_imported"] = time.time()
        qapp = QApplication.instance() or QApplication(sys.argv[:1])
        source = RunsSource()
        source.loaded.connect(loaded.append)
        out["t_constructed"] = time.time()
        source.open(root)
        filled = lambda: bool(loaded)  # noqa: E731
    t_open = time.time()
    worst_gap = _pump_until(qapp, filled, TIMEOUT_S)
    out.setdefault("t_filled", time.time())
    if window is not None:
        table.viewport().repaint()
        out["t_painted"] = time.time()
    out["open_to_filled"] = out["t_filled"] - t_open
    out["open_to_first_rows"] = out.get("t_first_rows", out["t_filled"]) - t_open
    out["construct"] = out["t_constructed"] - out["t_imported"]
    out["worker_load"] = loaded[0].seconds if loaded else float("nan")
    out["worst_gui_gap_ms_while_loading"] = worst_gap * 1000
    out["rows"] = table.model().rowCount() if window is not None else loaded[0].table.n
    worker = source._worker  # the stored table is checked after the fill: wait for the check to end
    checked = lambda: getattr(worker, "index_path", 1) is not None or getattr(worker, "gone", False)  # noqa: E731
    shown = (lambda: window.details.run() is not None) if window is not None else (lambda: True)
    # (and for the first run's page, which the window builds and shows after the fill)
    out["worst_gui_gap_ms_while_checking"] = 1000 * _pump_until(qapp, lambda: checked() and shown(), TIMEOUT_S)
    out["checked"] = time.time() - t_open
    _pump_until(qapp, lambda: bool(source.watch_mode), 30)  # (the app starts watching once the table is filled)
    out["watch_mode"] = source.watch_mode

    if args.filter:
        if window is not None:  # typing starts once the window has finished what follows the fill
            _pump_until(qapp, lambda: window.details.run() is not None, 30)
        out["filter"] = _bench_filter(qapp, window, edit if window else None, table if window else None,
                                      source if window is None else None, loaded[0] if window is None else None)
        if window is not None:
            out["sort"] = _bench_sort(qapp, window, table)
    if args.live:
        out["live"] = _bench_live(qapp, window, source, root)
    out["maxrss_mb"] = _peak_rss_mb()
    if args.filter:  # after the memory figure: the check makes every run as an object
        _check_filter(out["filter"], window.runs_model.table() if window is not None else loaded[0].table)
    if window is not None:
        window.close()
    else:
        source.close()
    print("RESULT " + json.dumps(out), flush=True)


def _peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux, VmHWM: ru_maxrss survives fork and exec, so a
    child started by a big parent (the benchmark, after it has listed the runs) reports the parent's."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _filled_when(model, expected: int, out: dict):
    """A condition for ``_pump_until`` that also notes (in ``out["t_filled"]``) the moment the
    model first holds ``expected`` rows, from its own signals rather than the next timer tick."""
    def check(*_args) -> None:
        if "t_first_rows" not in out and model.rowCount():
            out["t_first_rows"] = time.time()
        if "t_filled" not in out and model.rowCount() == expected:
            out["t_filled"] = time.time()
    for signal in (model.modelReset, model.layoutChanged, model.rowsInserted):
        signal.connect(check)
    return lambda: "t_filled" in out


def _pump_until(app, condition, timeout: float) -> float:
    """Run the event loop until ``condition()`` holds (checked every 5 ms by a timer).

    Returns the longest interval between two timer ticks: how long the GUI thread was
    unresponsive at worst. (A loop that polls processEvents() would make the GUI thread
    take the GIL a thousand times a second and slow the worker thread it waits for.)
    """
    from PySide6.QtCore import QEventLoop, QTimer

    if condition():
        return 0.0
    loop = QEventLoop()
    deadline = time.monotonic() + timeout
    state = {"last": time.monotonic(), "worst": 0.0, "late": False}

    def tick() -> None:
        now = time.monotonic()
        state["worst"] = max(state["worst"], now - state["last"])
        state["last"] = now
        if condition():
            loop.quit()
        elif now > deadline:
            state["late"] = True
            loop.quit()

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    loop.exec()
    timer.stop()
    # The loop ends after the rest of the pass that quit it: timers due then (the window's first
    # run page follows the fill on one) run before it returns, and count as a stall too.
    state["worst"] = max(state["worst"], time.monotonic() - state["last"])
    if state["late"]:
        raise TimeoutError("the condition did not hold in time")
    return state["worst"]


def _bench_filter(app, window, edit, table, source, snapshot) -> dict:
    from tracker import query

    results = {}
    cases = [  # (text typed up to its last character, description)
        ("metrics.accuracy > 0.9", "expression, last keystroke"),
        ("params.optimizer = 'adam' and metrics.loss < 0.2", "compound expression, last keystroke"),
        ("run-0042", "plain text (names and tags), last keystroke"),
        ("run-004", "plain text, a keystroke removing a character"),
    ]
    for text, label in cases:
        if window is None:
            t0 = time.perf_counter()
            n = len(query.select(snapshot.table, text)) if not text.startswith("run-") else sum(
                text in name for name in snapshot.table.text["run_name"].values().tolist())
            results[label] = {"ms": (time.perf_counter() - t0) * 1000, "rows": n, "text": text}
            continue
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        times = []
        for _ in range(5):
            if label.startswith("plain text, a keystroke removing"):
                edit.setText(text + "2")
                _settle(app)
                t0 = time.perf_counter()
                QTest.keyClick(edit, Qt.Key.Key_Backspace)
            else:
                edit.setText(text[:-1])
                _settle(app)
                t0 = time.perf_counter()
                QTest.keyClick(edit, text[-1])
            times.append((_settle_painted(app, table.viewport()) - t0) * 1000)
        rows = table.model().rowCount()
        results[label] = {"ms_median": statistics.median(times), "ms_max": max(times), "ms_all": times, "rows": rows,
                          "text": text}
    if window is not None:
        edit.setText("")
        _settle(app)
    return results


def _check_filter(results: dict, table) -> None:
    """What tracker.filter says of every run, beside what the table showed."""
    from tracker.filter import filter_runs

    runs = [r for r in table.runs() if hasattr(r, "info")]
    for f in results.values():
        f["rows_by_tracker_filter"] = None if f["text"].startswith("run-") else len(filter_runs(runs, f["text"]))


def _bench_sort(app, window, table) -> dict:
    """A click on a metric column's header (each direction, then back to the start time), to a repainted table."""
    from PySide6.QtCore import Qt

    model = window.runs_model
    metric = next(k for k in model.extra_columns() if k.startswith("metrics."))
    results = {}
    for key, order, label in ((metric, Qt.SortOrder.AscendingOrder, f"{metric} ascending"),
                              (metric, Qt.SortOrder.DescendingOrder, f"{metric} descending"),
                              ("name", Qt.SortOrder.AscendingOrder, "name ascending"),
                              ("started", Qt.SortOrder.DescendingOrder, "started descending")):
        times = []
        for _ in range(3):
            table.sortByColumn(model.column_index("started"), Qt.SortOrder.DescendingOrder)
            _settle(app)
            t0 = time.perf_counter()
            table.sortByColumn(model.column_index(key), order)
            times.append((_settle_painted(app, table.viewport()) - t0) * 1000)
        results[label] = {"ms_median": statistics.median(times), "ms_max": max(times)}
    return results


def _settle(app) -> None:
    for _ in range(10):  # a zero-interval timer fires on the next pass, and what it starts on the next
        app.processEvents()


def _settle_painted(app, viewport, passes: int = 10) -> float:
    """What follows an input, its repaints included: the events it caused are handled, the
    follow-ups too (a table whose rows changed lays itself out on a zero-interval timer, and a
    scroll bar shown or hidden then resizes and repaints it again). Returns the moment the last
    pass that painted ``viewport`` ended (painted now if none did): the screen is final then."""
    from PySide6.QtCore import QEvent, QObject

    class PaintSeen(QObject):
        seen = False

        def eventFilter(self, obj, event) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.seen = True
            return False

    watch = PaintSeen()
    viewport.installEventFilter(watch)
    last = None
    try:
        for _ in range(passes):  # a pass with nothing to do returns at once
            watch.seen = False
            app.processEvents()
            if watch.seen:
                last = time.perf_counter()
    finally:
        viewport.removeEventFilter(watch)
    if last is None:
        viewport.repaint()
        last = time.perf_counter()
    return last


def _bench_live(app, window, source, root: Path, repeats: int = 5) -> dict:
    seen: dict[str, object] = {}
    source.runs_changed.connect(lambda update: seen.update((getattr(r, "info", r).run_id, r) for r in update.runs()))

    def value(run_id: str):
        run = window.runs_model.get(run_id) if window is not None else seen.get(run_id)
        return getattr(getattr(run, "data", None), "metrics", {}).get("loss")

    new_run, new_value = [], []
    env = {**os.environ, "TRACKER_DIR": str(root)}
    for i in range(repeats):
        proc = subprocess.Popen([sys.executable, "-c", LIVE_WRITER, f"bench-live-{i}"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=env)
        line = _readline(app, proc)
        run_id, t_flush = line.split()
        _pump_until(app, lambda: value(run_id) == 1.0, 30)
        new_run.append(time.time() - float(t_flush))
        proc.stdin.write("\n")
        proc.stdin.flush()
        t_flush = float(_readline(app, proc))
        _pump_until(app, lambda: value(run_id) == 0.5, 30)
        new_value.append(time.time() - float(t_flush))
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(timeout=30)
        proc.stdin.close()
        proc.stdout.close()
    return {"new_run_ms": [round(x * 1000) for x in new_run], "new_value_ms": [round(x * 1000) for x in new_value]}


def _readline(app, proc) -> str:
    """Read a line from the writer while keeping the event loop running."""
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    reader.start()
    _pump_until(app, lambda: not reader.is_alive(), 60)
    if not box or not box[0]:
        raise RuntimeError("the writer process ended early")
    return box[0].strip()


def main() -> None:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("window", "source"))
    parser.add_argument("root")
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--filter", action="store_true")
    parser.add_argument("--live", action="store_true")
    child(parser.parse_args())


if __name__ == "__main__":
    main()
