"""RunsSource over the stored table: shown first, then checked against the folder; partial tables
while many runs are read; the table saved at close and after a while."""
from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from runs_source_fixtures import *  # noqa: F403  (the fixtures: root, cache_home, make_source)
from runs_source_fixtures import WAIT_MS, finished_run, open_and_wait
from tracker import store
from tracker.entities import RunStatus
from tracker.writer import RunWriter

def _resume(root: Path, run_id: str, loss: float) -> None:
    """Change a finished run on disk (a metric logged into it again)."""
    writer = RunWriter.resume(root, run_id)
    writer.log_metric("loss", loss)
    writer.end()


def test_the_stored_table_is_shown_first_then_what_changed_while_closed(qtbot, make_source, root):
    keep, changed, doomed = (finished_run(root, name) for name in ("keep", "changed", "doomed"))
    source, rec = make_source(check_ms=60_000)
    open_and_wait(qtbot, source, rec, root)
    source.close()  # the app closes; meanwhile a run changes, one is deleted and one is added
    _resume(root, changed, 0.25)
    shutil.rmtree(root / doomed)
    added = finished_run(root, "added")

    source.open(root)
    qtbot.waitUntil(lambda: len(rec.loaded) == 2, timeout=WAIT_MS)
    first = rec.loaded[-1]
    assert set(first.table.run_ids()) == {keep, changed, doomed}  # the stored table, as it was
    assert not first.partial
    qtbot.waitUntil(lambda: bool(rec.updates), timeout=WAIT_MS)
    update = rec.updates[-1]
    assert set(update.changed) == {changed, added} and update.removed == [doomed]
    assert set(update.table.run_ids()) == {keep, changed, added}
    assert rec.removed == [doomed]
    assert rec.latest(changed).data.metrics["loss"] == 0.25


def test_nothing_changed_while_closed_sends_no_update(qtbot, make_source, root):
    finished_run(root, "a")
    source, rec = make_source(check_ms=60_000)
    open_and_wait(qtbot, source, rec, root)
    source.close()
    open_and_wait(qtbot, source, rec, root)
    worker = source._worker
    qtbot.waitUntil(lambda: worker.index_path is not None, timeout=WAIT_MS)  # the check is done
    QCoreApplication.processEvents()
    assert rec.updates == []


def test_many_runs_without_an_index_are_shown_while_they_are_read(qtbot, make_source, root, monkeypatch):
    from tracker.index import run_index
    monkeypatch.setattr(run_index, "PARTIAL_FIRST", 10)
    monkeypatch.setattr(run_index, "PARTIAL_SECONDS", 0.0)
    for i in range(60):
        path = root / f"{i:032x}"
        path.mkdir()
        doc = store.new_document(f"{i:032x}", f"r{i}", "Default", 1000 + i)
        doc["info"]["status"] = RunStatus.FINISHED
        store.write_document(path, doc)
    source, rec = make_source(check_ms=60_000)
    first = open_and_wait(qtbot, source, rec, root)
    assert first.partial and 10 <= first.table.n < 60
    qtbot.waitUntil(lambda: bool(rec.updates) and rec.updates[-1].complete, timeout=WAIT_MS)
    assert rec.updates[-1].table.n == 60
    shown = set(first.table.run_ids())
    for update in rec.updates:  # each update names the runs it adds
        assert update.removed == []
        shown |= set(update.changed)
    assert len(shown) == 60 and len(rec.loaded) == 1


def test_live_changes_are_saved_to_the_index_at_close(qtbot, make_source, root):
    from tracker.index import RunIndex
    finished_run(root, "first")
    source, rec = make_source(check_ms=60_000)
    open_and_wait(qtbot, source, rec, root)
    added = finished_run(root, "while-open")
    qtbot.waitUntil(lambda: rec.latest(added) is not None, timeout=WAIT_MS)
    assert added not in RunIndex(root).load().run_ids()  # not saved on every update...
    source.close()
    assert added in RunIndex(root).load().run_ids()  # ...but when the source closes


def test_live_changes_are_saved_after_a_while(qtbot, make_source, root, monkeypatch):
    from app.runs import loading as runs_worker
    from tracker.index import RunIndex
    monkeypatch.setattr(runs_worker, "SAVE_MS", 100)
    finished_run(root, "first")
    source, rec = make_source(check_ms=60_000)
    open_and_wait(qtbot, source, rec, root)
    added = finished_run(root, "while-open")
    qtbot.waitUntil(lambda: added in RunIndex(root).load().run_ids(), timeout=WAIT_MS)
